import XCTest
@testable import VitEdge

final class ImageTests: XCTestCase {
    func decode(_ s: String) throws -> Image { try Image.decodePNM(Array(s.utf8), path: "x").image }
    func decode(_ b: [UInt8]) throws -> Image { try Image.decodePNM(b, path: "x").image }

    func expectBad(_ b: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decode(b), file: file, line: line) { e in
            XCTAssertTrue("\(e)".contains(fragment), "'\(e)' lacks '\(fragment)'", file: file, line: line)
        }
    }

    func testPlainAndBinaryFormats() throws {
        let p2 = try decode("P2\n# a comment\n2 2\n255\n0 255\n51 102\n")
        XCTAssertEqual(p2.samples, [0, 1, 51 / Float(255), 102 / Float(255)])
        let p5 = try decode(Array("P5 2 1 255\n".utf8) + [0, 255])
        XCTAssertEqual(p5.samples, [0, 1])
        let p5w = try decode(Array("P5 1 1 65535\n".utf8) + [0xFF, 0xFF])
        XCTAssertEqual(p5w.samples, [1])
        let p3 = try decode("P3 1 1 15 15 0 3")
        XCTAssertEqual(p3.channels, 3)
        XCTAssertEqual(p3.samples, [1, 0, 3 / Float(15)])
        let p6 = try decode(Array("P6 1 1 255\n".utf8) + [255, 0, 0])
        XCTAssertEqual(p6.samples, [1, 0, 0])
    }

    func testBadImages() {
        expectBad([], "header")
        expectBad(Array("P7 1 1 255\n".utf8), "P2, P3, P5 or P6")
        expectBad(Array("P5 0 1 255\n".utf8), "non-zero width")
        expectBad(Array("P5 2 2 255\n".utf8) + [1, 2, 3], "4 bytes of pixel data")
        expectBad(Array("P5 2 2 0\n".utf8) + [1, 2, 3, 4], "maxval")
        expectBad(Array("P5 2 2 70000\n".utf8), "maxval")
        expectBad(Array("P5 x 2 255\n".utf8), "width")
        expectBad(Array("P5 2".utf8), "height")
        expectBad(Array("P2 2 1 9 3 10".utf8), "at most maxval")
        expectBad(Array("P5 99999999999 9 255\n".utf8), "2^30")
        expectBad(Array("P5 100000 100000 255\n".utf8), "exceeds the limit")
    }

    func testConcatenatedStream() throws {
        let one = Array("P5 1 1 255\n".utf8) + [7]
        let stream = one + one
        let first = try Image.decodePNM(stream, path: "-")
        let second = try Image.decodePNM(stream, from: first.end, path: "-")
        XCTAssertEqual(second.end, stream.count)
    }

    func testPreprocessConvertsChannelsResizesAndNormalizes() throws {
        var c = ViTConfig(imageHeight: 2, imageWidth: 2, channels: 3, patchSize: 1, dim: 4, depth: 1, heads: 1,
                          mlpDim: 4, numClasses: 2, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
        let gray = Image(width: 2, height: 2, channels: 1, samples: [0, 1, 0.5, 0.25])
        var out = [Float](repeating: 0, count: 16)
        try out.withUnsafeMutableBufferPointer { try Preprocess.apply(gray, config: c, into: $0.baseAddress!) }
        XCTAssertEqual(Array(out[0..<4]), [-1, 1, 0, -0.5])
        XCTAssertEqual(Array(out[4..<8]), Array(out[0..<4]))
        XCTAssertEqual(Array(out[8..<12]), Array(out[0..<4]))
        // RGB to gray with BT.601 weights.
        c.channels = 1
        c.mean = [0]
        c.std = [1]
        let rgb = Image(width: 1, height: 1, channels: 3, samples: [1, 0, 0])
        c.imageHeight = 1
        c.imageWidth = 1
        try out.withUnsafeMutableBufferPointer { try Preprocess.apply(rgb, config: c, into: $0.baseAddress!) }
        XCTAssertEqual(out[0], 0.299, accuracy: 1e-6)
        // Bilinear 2x2 -> 4x4 with half-pixel centres (PyTorch align_corners=False).
        c.imageHeight = 4
        c.imageWidth = 4
        let im = Image(width: 2, height: 2, channels: 1, samples: [0, 1, 0, 1])
        try out.withUnsafeMutableBufferPointer { try Preprocess.apply(im, config: c, into: $0.baseAddress!) }
        XCTAssertEqual(Array(out[0..<4]), [0, 0.25, 0.75, 1])
    }
}
