import XCTest
@testable import VitEdge

/// JPEG (libjpeg-turbo) and PNG (libspng) decoding against Pillow's pixels for the same
/// files (Fixtures/images, made by tools/make_image_fixtures.py), and hostile files.
final class JPEGPNGTests: XCTestCase {
    let dir = fixture("images")

    /// Every kind of JPEG and PNG decodes to exactly Pillow's 8-bit pixels (Pillow's
    /// convert("RGB"), or "L" for grayscale; gray+alpha 16-bit, which Pillow opens as RGBA,
    /// is compared after replicating the gray).
    func testPixelsEqualPillows() throws {
        let files = try FileIO.list(dir).filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") }
        XCTAssertGreaterThanOrEqual(files.count, 20)
        for name in files {
            let got = try Image.load(path: dir + "/" + name)
            let expectedName = try FileIO.list(dir).first { $0.hasPrefix(name + ".expected.") }!
            let want = try Image.load(path: dir + "/" + expectedName)
            XCTAssertEqual(got.width, want.width, name)
            XCTAssertEqual(got.height, want.height, name)
            var g = got.samples
            if got.channels == 1 && want.channels == 3 { g = g.flatMap { [$0, $0, $0] } }
            XCTAssertEqual(g.count, want.samples.count, name)
            let differing = zip(g, want.samples).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "\(name): \(differing) samples differ from Pillow's")
        }
    }

    /// A file of another format says which formats are read.
    func testOtherFormatsAreNamed() throws {
        let path = NSTemporaryDirectory() + "/vit-edge-gif-\(getpid()).gif"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileIO.write(path, Array("GIF89a".utf8) + [1, 0, 1, 0])
        XCTAssertThrowsError(try Image.load(path: path)) { e in
            XCTAssertTrue("\(e)".contains("expected a JPEG, PNG, PGM or PPM image, found bytes 71 73 70 56 (GIF)"), "\(e)")
        }
    }

    func testHostileFilesAreOneLineErrors() throws {
        let jpeg = try FileIO.read(dir + "/jpeg-420.jpg"), png = try FileIO.read(dir + "/png-rgb8.png")
        func expectBad(_ bytes: [UInt8], _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try Image.decode(bytes, path: "x"), line: line) { e in
                XCTAssertTrue("\(e)".contains(fragment), "'\(e)' lacks '\(fragment)'", line: line)
                XCTAssertFalse("\(e)".contains("\n"), line: line)
            }
        }
        // Truncated anywhere: an error, never a partial image.
        for cut in [10, 200, jpeg.count / 2, jpeg.count - 2] { expectBad(Array(jpeg.prefix(cut)), "JPEG") }
        for cut in [20, 60, png.count / 2, png.count - 20] { expectBad(Array(png.prefix(cut)), "PNG") }
        // (A file cut inside its final IEND chunk still holds the whole image: decoded, as Pillow does.)
        // A flipped byte in the compressed data (JPEG: corrupt Huffman data; PNG: CRC error).
        var j = jpeg
        for i in stride(from: j.count / 2, to: j.count / 2 + 40, by: 1) { j[i] = 0xFF &- j[i] }
        expectBad(j, "JPEG")
        var p = png
        p[p.count / 2] ^= 0x55
        expectBad(p, "PNG")
        // Headers that claim a huge image: refused from the header, before any allocation.
        var huge = png
        huge.replaceSubrange(16..<24, with: [0, 0, 0xC3, 0x50, 0, 0, 0xC3, 0x50])  // 50000 x 50000
        let crc = CRC32.checksum(huge[12..<29])
        huge.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        expectBad(huge, "50000x50000 pixels exceeds the limit")
        var bigJPEG = jpeg
        if let sof = (0..<(bigJPEG.count - 9)).first(where: { bigJPEG[$0] == 0xFF && bigJPEG[$0 + 1] == 0xC0 }) {
            bigJPEG.replaceSubrange((sof + 5)..<(sof + 9), with: [0xC3, 0x50, 0xC3, 0x50])
            expectBad(bigJPEG, "50000x50000 pixels exceeds the limit")
        } else {
            XCTFail("no SOF0 marker in the fixture")
        }
        // Signatures damaged or cut short are named as what they began as.
        expectBad([0xFF, 0xD8, 0xFF], "truncated")
        expectBad([0xFF, 0xD8, 0x00] + [UInt8](repeating: 7, count: 40), "a JPEG (its first bytes FF D8 FF)")
        expectBad([0x89, 0x50, 0x4E, 0x58, 0x0D, 0x0A, 0x1A, 0x0A] + Array(png[8...]), "a PNG (its signature")
        // The last IDAT's CRC is checked too (Pillow skips it; a damaged file is an error here).
        let iend = png.count - 12
        var lastCRC = png
        lastCRC[iend - 1] ^= 0xFF
        expectBad(lastCRC, "PNG chunk IDAT")
    }

    /// Metadata never stops a PNG that Pillow opens: 200,000 text chunks (3 MB), as
    /// ancillary chunks reach libspng only if they make the pixels.
    func testPNGWithManyTextChunksDecodesAsInPillow() throws {
        let png = try FileIO.read(dir + "/png-rgb8.png")
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            let crc = CRC32.checksum(body)
            return [UInt8(data.count >> 24), UInt8(data.count >> 16 & 0xFF), UInt8(data.count >> 8 & 0xFF), UInt8(data.count & 0xFF)]
                + body + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        }
        var text: [UInt8] = []
        for i in 0..<200_000 { text += chunk("tEXt", Array("k\0v\(i)".utf8)) }
        let many = Array(png[0..<33]) + text + Array(png[33...])
        XCTAssertGreaterThan(many.count, 3_000_000)
        let got = try Image.decode(many, path: "many-text.png")
        XCTAssertEqual(got.pixels, try Image.decode(png, path: "plain.png").pixels)
    }
}
