import XCTest
import MallocCounter
@testable import VitEdge

/// Preprocessing costs what its output and the rows it reads cost, whatever the source's
/// aspect ratio: a 4-megapixel row or column shrunk or stretched to a 28×28 input, through
/// every resize mode, filter and resampler, stays within a few MiB of heap (plus, for a
/// row to convert, the converted row) and a few seconds at most; taps made in chunks or
/// computed as they are used give the same samples as taps made at once.
final class PreprocessBoundsTests: XCTestCase {
    func config(_ resize: Preprocessing.Resize, filter: Resample.Filter, resampler: Preprocessing.Resampler,
                channels: Int = 3) -> ViTConfig {
        var c = ViTConfig(imageHeight: 28, imageWidth: 28, channels: channels, patchSize: 4, dim: 8, depth: 1, heads: 1,
                          mlpDim: 8, numClasses: 2)
        c.preprocessing = Preprocessing(resize: resize, interpolation: filter, resampler: resampler)
        return c
    }

    func testExtremeAspectRatiosCostWhatTheOutputCosts() throws {
        guard malloc_counter_peak_bytes() >= 0 else { throw XCTSkip("heap counting is not available in this build") }
        let long = emulated ? 1 << 16 : 1 << 19
        let gray = [UInt8](repeating: 90, count: long)
        let floats = [Float](repeating: 0.4, count: long)
        var out = [Float](repeating: 0, count: 3 * 28 * 28)
        let resizes: [Preprocessing.Resize] = [.toInput, .shorterSide(32), .keepRatio(height: 32, width: 32), .size(height: 32, width: 40)]
        var cases = 0
        for resize in resizes {
            for (filter, resampler) in [(Resample.Filter.bicubic, Preprocessing.Resampler.pillow),
                                        (resize == .toInput ? .lanczos : .nearest, .pillow), (.bilinear, .pytorch)] {
                for (w, h) in [(long, 1), (1, long)] {
                    for float in [false, true] {
                        let c = config(resize, filter: filter, resampler: resampler)
                        // A tall column costs what the output costs; a long row also one
                        // converted row (floats for the pytorch resampler: 4 bytes a pixel).
                        let bound = (4 << 20) + (w > 1 ? 4 * w : 0)
                        let start = Clock.now()
                        malloc_counter_reset_peak()
                        let before = malloc_counter_live_bytes()
                        func withData(_ body: (UnsafeRawPointer) throws -> Void) throws {
                            if float { try floats.withUnsafeBytes { try body($0.baseAddress!) } } else { try gray.withUnsafeBytes { try body($0.baseAddress!) } }
                        }
                        try withData { data in
                            let view = ImageView(format: float ? .grayFloat : .gray8, width: w, height: h, data: data)
                            let p = try Preprocessor(config: c, width: w, height: h, format: view.format)
                            XCTAssertLessThan(p.scratchBytes, bound, "\(resize) \(filter) \(w)x\(h)")
                            out.withUnsafeMutableBufferPointer { p.apply(view, into: $0.baseAddress!) }
                        }
                        let taken = malloc_counter_peak_bytes() - before
                        XCTAssertLessThan(taken, bound, "\(resize) \(filter) \(resampler) \(w)x\(h) float \(float): \(taken) bytes")
                        XCTAssertLessThan(Clock.now() - start, 5, "\(resize) \(filter) \(w)x\(h): work follows the input once")
                        XCTAssertTrue(out.allSatisfy { $0.isFinite })
                        cases += 1
                    }
                }
            }
        }
        XCTAssertEqual(cases, 48)
    }

    /// The passes in chunks of a few taps equal the passes with all taps at once, 8-bit
    /// and float, over random sizes, filters, crops (padding included) and channels.
    func testChunkedTapsGiveTheSameSamples() {
        var rng = SystemRandomNumberGenerator()
        for trial in 0..<60 {
            let c = [1, 3, 4][trial % 3]
            let inW = Int.random(in: 1...70, using: &rng), inH = Int.random(in: 1...50, using: &rng)
            let outFull = (Int.random(in: 1...90, using: &rng), Int.random(in: 1...90, using: &rng))
            let crop = (Int.random(in: 1...40, using: &rng), Int.random(in: 1...40, using: &rng))
            let from = ((outFull.0 - crop.0) / 2, (outFull.1 - crop.1) / 2)  // negative: padding
            let filter = Resample.Filter.allCases[trial % Resample.Filter.allCases.count]
            let pixels = (0..<(inW * inH * c)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            func run(_ maxTaps: Int, pytorch: Bool) -> ([UInt8], [Float]) {
                func axis(_ inSize: Int, _ outSize: Int, _ from: Int, _ n: Int) -> Resample.Axis {
                    pytorch ? .pytorch(inSize: inSize, outSize: outSize, cubic: trial % 2 == 0, from: from, count: n, maxTaps: maxTaps)
                            : .pillow(inSize: inSize, outSize: outSize, filter: filter, from: from, count: n, maxTaps: maxTaps)
                }
                let h = axis(inW, outFull.0, from.0, crop.0), v = axis(inH, outFull.1, from.1, crop.1)
                var bytes = [UInt8](repeating: 0, count: crop.0 * crop.1 * c)
                var floats = [Float](repeating: 0, count: crop.0 * crop.1 * c)
                var s8 = Resample.Scratch<UInt8, Int32>(), sf = Resample.Scratch<Float, Float>()
                let asFloat = pixels.map { Float($0) / 255 }
                pixels.withUnsafeBufferPointer { px in
                    bytes.withUnsafeMutableBufferPointer { o in
                        Resample.resample8(channels: c, horizontal: h, vertical: v, scratch: &s8,
                                           row: { r, _ in px.baseAddress! + r * inW * c }, into: o.baseAddress!)
                    }
                }
                asFloat.withUnsafeBufferPointer { px in
                    floats.withUnsafeMutableBufferPointer { o in
                        Resample.resampleFloat(channels: c, horizontal: h, vertical: v, scratch: &sf,
                                               row: { r, _ in px.baseAddress! + r * inW * c }, into: o.baseAddress!)
                    }
                }
                return (bytes, floats)
            }
            for pytorch in [false, true] {
                let whole = run(Resample.maxTapsPerChunk, pytorch: pytorch)
                let chunked = run(7, pytorch: pytorch)
                let context = "trial \(trial): \(inW)x\(inH)x\(c) -> \(outFull) crop \(crop) from \(from) \(pytorch ? "pytorch" : "\(filter)")"
                XCTAssertEqual(whole.0, chunked.0, context)
                XCTAssertEqual(whole.1, chunked.1, context)
            }
        }
    }

    func testTheBudgetCoversPreprocessing() throws {
        // A model input of 4096x4096 cannot be prepared within 16 MiB: one line, not an abort.
        var c = config(.toInput, filter: .bicubic, resampler: .pillow)
        c.imageHeight = 4096
        c.imageWidth = 4096
        XCTAssertThrowsError(try Preprocessor(config: c, width: 640, height: 480, format: .rgb8, limits: ResourceLimits(budget: 16 << 20))) { e in
            XCTAssertTrue("\(e)".contains("preprocessing of a 640x480 image") && "\(e)".contains("exceeds the limit"), "\(e)")
        }
        // A source over the pixel budget is refused before anything is made for it.
        XCTAssertThrowsError(try Preprocessor(config: c, width: 1 << 20, height: 64, format: .gray8, limits: ResourceLimits(budget: 64 << 20))) { e in
            XCTAssertTrue("\(e)".contains("exceeds the limit of"), "\(e)")
        }
    }
}
