import XCTest
@testable import VitEdge

/// The C++ routes of Pillow's 8-bit passes (AVX-512, AVX2, NEON, scalar: the table
/// `vk_u8_resample_configs`) against the Swift reference (`Resample.resample8` with no
/// route), sample for sample: random sizes, scales (up, down, extreme shrinks that chunk
/// the taps or compute them per row), crops with padding, every filter, 1 to 4 channels.
/// Each source row is its own allocation of exactly its bytes, so a vector load past the
/// row (row_end) reads past an allocation: `make sanitize` catches it.
final class ResampleRouteTests: XCTestCase {
    func testEveryRouteEqualsTheSwiftReference() {
        let routes = Resample.Route8.runnable
        XCTAssertEqual(routes.last?.name, "scalar", "the scalar C++ route runs everywhere")
        XCTAssertEqual(routes.first, Resample.Route8.best, "the best route is the first this CPU runs")
        var rng = SystemRandomNumberGenerator()
        var compared = 0
        for trial in 0..<(emulated ? 60 : 240) {
            let c = 1 + trial % 4
            let shrink = trial % 5 == 0
            let inW = shrink ? Int.random(in: 100...3000, using: &rng) : Int.random(in: 1...90, using: &rng)
            let inH = Int.random(in: 1...60, using: &rng)
            let outFull = (Int.random(in: 1...(shrink ? 12 : 100), using: &rng), Int.random(in: 1...70, using: &rng))
            let crop = (Int.random(in: 1...max(1, outFull.0 + 4), using: &rng), Int.random(in: 1...max(1, outFull.1 + 4), using: &rng))
            let from = ((outFull.0 - crop.0) / 2, (outFull.1 - crop.1) / 2)  // negative: padding
            let filter = Resample.Filter.allCases[trial % Resample.Filter.allCases.count]
            let maxTaps = [Resample.maxTapsPerChunk, 7, 40][trial % 3]
            let rows: [UnsafeMutablePointer<UInt8>] = (0..<inH).map { _ in
                let p = UnsafeMutablePointer<UInt8>.allocate(capacity: inW * c)
                for i in 0..<(inW * c) { p[i] = UInt8.random(in: 0...255, using: &rng) }
                return p
            }
            defer { rows.forEach { $0.deallocate() } }
            let h = Resample.Axis.pillow(inSize: inW, outSize: outFull.0, filter: filter, from: from.0, count: crop.0, maxTaps: maxTaps)
            let v = Resample.Axis.pillow(inSize: inH, outSize: outFull.1, filter: filter, from: from.1, count: crop.1, maxTaps: maxTaps)
            func run(_ route: Resample.Route8?) -> [UInt8] {
                var out = [UInt8](repeating: 0xAB, count: crop.0 * crop.1 * c)
                var scratch = Resample.Scratch<UInt8, Int32>()
                out.withUnsafeMutableBufferPointer { o in
                    Resample.resample8(channels: c, horizontal: h, vertical: v, scratch: &scratch, route: route,
                                       row: { r, _ in UnsafePointer(rows[r]) }, into: o.baseAddress!)
                }
                return out
            }
            let reference = run(nil)
            for route in routes {
                XCTAssertEqual(run(route), reference,
                               "\(route.name), trial \(trial): \(inW)x\(inH)x\(c) -> \(outFull) crop \(crop) from \(from) \(filter), \(maxTaps) taps per chunk")
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 0)
    }

    /// A tiny RGB model of this input size with ImageNet's mean and std (only its
    /// preprocessing is used).
    func rgbModel(height: Int, width: Int) -> ViTConfig {
        var c = ViTConfig(imageHeight: height, imageWidth: width, channels: 3, patchSize: 1, dim: 8, depth: 1, heads: 1,
                          mlpDim: 8, numClasses: 2)
        c.mean = [0.485, 0.456, 0.406]
        c.std = [0.229, 0.224, 0.225]
        return c
    }

    /// Whole preprocessing (row conversions, both passes, normalisation) through each route
    /// and through the reference: the same model input, float for float, for every pixel layout.
    func testPreprocessorRoutesGiveTheReferenceInput() throws {
        var c = rgbModel(height: 24, width: 20)
        var rng = SystemRandomNumberGenerator()
        for format in ImageView.Format.allCases where !format.isFloat {
            for filter in [Resample.Filter.bicubic, .bilinear, .lanczos] {
                c.preprocessing = Preprocessing.timm(height: 24, width: 20, cropPct: 0.875, interpolation: filter)!
                let (w, h) = (Int.random(in: 21...97, using: &rng), Int.random(in: 25...61, using: &rng))
                let bytes = (0..<ImageView.byteCount(format, width: w, height: h)!).map { _ in UInt8.random(in: 0...255, using: &rng) }
                func input(_ route: Resample.Route8?) throws -> [Float] {
                    var out = [Float](repeating: .nan, count: 3 * 24 * 20)
                    let p = try Preprocessor(config: c, width: w, height: h, format: format, resampling: route)
                    bytes.withUnsafeBytes { b in
                        out.withUnsafeMutableBufferPointer { o in
                            p.apply(ImageView(format: format, width: w, height: h, data: b.baseAddress!), into: o.baseAddress!)
                        }
                    }
                    return out
                }
                let reference = try input(nil)
                for route in Resample.Route8.runnable {
                    XCTAssertEqual(try input(route), reference, "\(route.name), \(format) \(w)x\(h), \(filter)")
                }
            }
        }
    }
    /// A large image's rows split across a pool's threads (each part resampling the source
    /// rows its outputs read, with its own buffers) give the one-thread input float for
    /// float: every 8-bit pixel layout, a gray source to an RGB model, pools of 2 and 3
    /// threads (parts of unequal size), cuts anywhere in the taps; the same preprocessor
    /// reused across pools. Small images stay on the calling thread.
    func testRowsSplitAcrossAPoolGiveTheOneThreadInput() throws {
        var c = rgbModel(height: 61, width: 40)
        var rng = SystemRandomNumberGenerator()
        let pools = [ThreadPool(threads: 2), ThreadPool(threads: 3)]
        var split = 0
        for format in ImageView.Format.allCases where !format.isFloat {
            for filter in emulated ? [.bicubic] : [Resample.Filter.bicubic, .bilinear, .lanczos] {
                c.preprocessing = Preprocessing.timm(height: 61, width: 40, cropPct: 0.875, interpolation: filter)!
                let (w, h) = (2 * Int.random(in: 200...420, using: &rng), 2 * Int.random(in: 170...330, using: &rng))
                var state = UInt64.random(in: 1...UInt64.max, using: &rng)
                let bytes = (0..<ImageView.byteCount(format, width: w, height: h)!).map { _ in
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    return UInt8(truncatingIfNeeded: state >> 24)
                }
                let p = try Preprocessor(config: c, width: w, height: h, format: format)
                func input(_ pool: ThreadPool?) -> [Float] {
                    var out = [Float](repeating: .nan, count: 3 * 61 * 40)
                    bytes.withUnsafeBytes { b in
                        out.withUnsafeMutableBufferPointer { o in
                            p.apply(ImageView(format: format, width: w, height: h, data: b.baseAddress!), into: o.baseAddress!, pool: pool)
                        }
                    }
                    return out
                }
                let one = input(nil)
                XCTAssertFalse(one.contains { $0.isNaN })
                for pool in pools {
                    XCTAssertEqual(input(pool), one, "\(pool.threads) threads, \(format) \(w)x\(h), \(filter)")
                    XCTAssertEqual(p.rowSplit.count, pool.threads, "a \(w)x\(h) image is split")
                    split += 1
                }
            }
        }
        XCTAssertGreaterThan(split, 0)
        // A small image runs on the calling thread whatever the pool.
        let small = try Preprocessor(config: c, width: 200, height: 150, format: .rgb8)
        XCTAssertFalse(small.splitRows(workers: 4))
    }
}
