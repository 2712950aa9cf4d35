import XCTest
@testable import VitEdge

/// The byte orders cameras and OpenCV hand over (BGR24: OpenCV, Picamera2's "RGB888";
/// RGBX32 / BGRX32: Picamera2's "XBGR8888" / "XRGB8888"), with padded rows, preprocess to
/// exactly what the same picture as RGB24 gives: each row is reordered to RGB before the
/// resampler reads it, as converting the whole image first (cv2.cvtColor, Pillow) would.
final class PixelLayoutTests: XCTestCase {
    /// `rgb` [h, w, 3] rewritten in `format` with `pad` bytes after each row; the ignored
    /// byte of the X formats holds a pattern that must not leak into the result.
    func relaid(_ rgb: [UInt8], width w: Int, height h: Int, as format: ImageView.Format, pad: Int) -> (bytes: [UInt8], rowBytes: Int) {
        let bpp = format == .bgr8 ? 3 : 4, swap = format != .rgbx8
        let row = w * bpp + pad
        var out = [UInt8](repeating: 0xEE, count: row * h)
        for y in 0..<h {
            for x in 0..<w {
                let p = (y * w + x) * 3, q = y * row + x * bpp
                out[q] = rgb[p + (swap ? 2 : 0)]
                out[q + 1] = rgb[p + 1]
                out[q + 2] = rgb[p + (swap ? 0 : 2)]
                if bpp == 4 { out[q + 3] = UInt8(truncatingIfNeeded: x &* 31 &+ y) }
            }
        }
        return (out, row)
    }

    func testByteOrdersGiveWhatRGBGives() throws {
        let photo = try Image.decode(FileIO.read(fixture("preprocess/images/cat-landscape.jpg")), path: "cat")
        XCTAssertEqual(photo.channels, 3)
        guard case .bytes(let rgb) = photo.pixels else { return XCTFail("a JPEG decodes to bytes") }
        let w = photo.width, h = photo.height
        var configs: [(String, ViTConfig)] = []
        for (name, channels, p) in [
            ("timm bicubic 0.875, RGB", 3, Preprocessing.timm(height: 32, width: 32, cropPct: 0.875, interpolation: .bicubic)!),
            ("timm bilinear 1.0, gray model (RGB → L)", 1, Preprocessing.timm(height: 24, width: 40, cropPct: 1.0, interpolation: .bilinear)!),
            ("plain (pytorch resampler, floats)", 3, Preprocessing.plain),
        ] {
            var c = ViTConfig(imageHeight: 32, imageWidth: 32, channels: channels, patchSize: 4, dim: 8, depth: 1, heads: 1,
                              mlpDim: 8, numClasses: 2)
            if channels == 1 { c.imageHeight = 24; c.imageWidth = 40 }
            c.preprocessing = p
            configs.append((name, c))
        }
        for (name, c) in configs {
            let n = c.channels * c.imageHeight * c.imageWidth
            var want = [Float](repeating: 0, count: n)
            let fromRGB = try Preprocessor(config: c, width: w, height: h, format: .rgb8)
            rgb.withUnsafeBytes { b in fromRGB.apply(ImageView(format: .rgb8, width: w, height: h, data: b.baseAddress!), into: &want) }
            for format in [ImageView.Format.bgr8, .rgbx8, .bgrx8] {
                for pad in [0, 13] {
                    let (bytes, row) = relaid(rgb, width: w, height: h, as: format, pad: pad)
                    var got = [Float](repeating: .nan, count: n)
                    let p = try Preprocessor(config: c, width: w, height: h, format: format)
                    bytes.withUnsafeBytes { b in
                        p.apply(ImageView(format: format, width: w, height: h, data: b.baseAddress!, rowBytes: row), into: &got)
                    }
                    XCTAssertEqual(got, want, "\(name): \(format.rawValue), \(pad) bytes of padding")
                }
            }
        }
    }

    /// A session fed each layout runs to the RGB result (the path the C API and `run --raw`
    /// take), and the sizes a layout needs are what the C API checks.
    func testSessionsTakeEveryLayout() throws {
        XCTAssertEqual(ImageView.byteCount(.bgr8, width: 5, height: 2), 30)
        XCTAssertEqual(ImageView.byteCount(.rgbx8, width: 5, height: 2), 40)
        XCTAssertEqual(ImageView.byteCount(.bgrx8, width: 5, height: 2), 40)
        XCTAssertEqual(try StreamFormat.parseRaw("bgrx32:64x48"), .raw(.bgrx8, width: 64, height: 48))
        let model = try Model(path: repoFile("models/mnist-vit.vitq"))
        let session = try Session(model: model, batchSize: 4)
        let w = 45, h = 33
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w where abs(x - y) < 4 || abs(x - 40 + y) < 3 { rgb[(y * w + x) * 3 + 1] = 250 } }
        // (The typed-throws call is kept out of the rethrowing closure: Swift 6.3.1's IRGen
        // crashes on that reabstraction thunk.)
        func set(_ bytes: [UInt8], _ format: ImageView.Format, rowBytes: Int?, at i: Int) throws {
            var failure: (any Error)?
            bytes.withUnsafeBytes { b in
                do { try session.setPixels(ImageView(format: format, width: w, height: h, data: b.baseAddress!, rowBytes: rowBytes), at: i) }
                catch { failure = error }
            }
            if let failure { throw failure }
        }
        try set(rgb, .rgb8, rowBytes: nil, at: 0)
        for (i, format) in [ImageView.Format.bgr8, .rgbx8, .bgrx8].enumerated() {
            let (bytes, row) = relaid(rgb, width: w, height: h, as: format, pad: 7)
            try set(bytes, format, rowBytes: row, at: i + 1)
        }
        try session.run()
        var logits: [[Float]] = []
        for i in 0..<4 { logits.append(try session.logits(image: i)) }
        for i in 1..<4 { XCTAssertEqual(logits[i], logits[0], "image \(i)") }
    }
}
