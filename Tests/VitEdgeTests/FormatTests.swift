import XCTest
@testable import VitEdge

/// The .vitq reader: round trip, determinism, and every way a file can be bad.
final class FormatTests: XCTestCase {
    // Stream payloads from disk in odd, tiny pieces: every LZ4 block and the frame's
    // checksum then straddle reads.
    override func setUp() { VitqFile.streamChunkBytes = 97 }
    override func tearDown() { VitqFile.streamChunkBytes = 1 << 20 }

    func testStreamingTheShippedModelsMatchesParsing() throws {
        for path in ["models/mnist-vit.vitq", "models/mnist-vit-int8.vitq"] {
            let streamed = try VitqFile.load(path: repoFile(path))
            let parsed = try VitqFile.parse(try FileIO.read(repoFile(path)), path: path)
            XCTAssertEqual(streamed.payload.bytes, parsed.payload.bytes, path)
            XCTAssertEqual(memcmp(streamed.payload.base, parsed.payload.base, parsed.payload.bytes), 0, path)
            XCTAssertEqual(streamed.tensors.map(\.name), parsed.tensors.map(\.name))
        }
    }

    func tinyConfig() -> ViTConfig {
        var c = ViTConfig(imageHeight: 8, imageWidth: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2,
                          mlpDim: 16, numClasses: 3, mean: [0.5], std: [0.25])
        c.labels = ["a", "b", "c"]
        return c
    }

    func tinyModel(_ c: ViTConfig, seed: UInt64 = 1) -> VitqWriter {
        var rng = Random(seed: seed)
        var w = VitqWriter(config: c)
        for (name, shape) in ModelWeights.expectedTensors(c) {
            w.add(.init(name: name, shape: shape, floats: rng.floats(shape.reduce(1, *), scale: 0.5)))
        }
        return w
    }

    /// The bytes are refused with `fragment` in the message, both in memory (`parse`) and
    /// from disk (`load`, which streams the payload), and with the same message.
    func expectBadModel(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        let path = "/tmp/vit-edge-format-test-\(getpid()).vitq"
        var messages: [String] = []
        for fromDisk in [false, true] {
            do {
                let f: VitqFile
                if fromDisk {
                    try FileIO.write(path, bytes)
                    defer { unlink(path) }
                    f = try VitqFile.load(path: path)
                } else {
                    f = try VitqFile.parse(bytes, path: path)
                }
                _ = try VisionTransformer(file: f, kernels: .reference, source: path)
                XCTFail("accepted a bad file (expected: \(fragment), from disk: \(fromDisk))", file: file, line: line)
            } catch let e as VitError {
                XCTAssertTrue(e.description.contains(fragment), "message '\(e.description)' lacks '\(fragment)'", file: file, line: line)
                messages.append(e.description)
            } catch {
                XCTFail("unexpected error \(error)", file: file, line: line)
            }
        }
        if messages.count == 2 { XCTAssertEqual(messages[0], messages[1], "parse and load disagree", file: file, line: line) }
    }

    func testRoundTripIsExactAndDeterministic() throws {
        let c = tinyConfig()
        let bytes = tinyModel(c).serialize()
        XCTAssertEqual(bytes, tinyModel(c).serialize())
        // Streamed from disk (1 MiB reads) and parsed in memory: the same weights.
        let path = "/tmp/vit-edge-format-roundtrip-\(getpid()).vitq"
        try FileIO.write(path, bytes)
        defer { unlink(path) }
        let streamed = try VitqFile.load(path: path)
        let f = try VitqFile.parse(bytes, path: "m.vitq")
        XCTAssertEqual(streamed.payload.bytes, f.payload.bytes)
        XCTAssertEqual(memcmp(streamed.payload.base, f.payload.base, f.payload.bytes), 0)
        XCTAssertEqual(f.config, c)
        var rng = Random(seed: 1)
        for (name, shape) in ModelWeights.expectedTensors(c) {
            let expected = rng.floats(shape.reduce(1, *), scale: 0.5)
            let p = try XCTUnwrap(f.floats(name))
            XCTAssertEqual(Array(UnsafeBufferPointer(start: p, count: expected.count)), expected, name)
            XCTAssertEqual(f.info(name)!.offset % 16, 0)
        }
    }

    func testEmptyAndTruncated() {
        let bytes = tinyModel(tinyConfig()).serialize()
        expectBadModel([], "the file is empty")
        expectBadModel(Array(bytes.prefix(10)), "truncated")
        expectBadModel(Array(bytes.prefix(200)), "truncated")
        expectBadModel(Array(bytes.dropLast(7)), "truncated")
        expectBadModel(bytes + [0, 0, 0], "extra bytes")
    }

    func testWrongMagicAndVersion() {
        var bytes = tinyModel(tinyConfig()).serialize()
        var wrong = bytes
        wrong[0] = UInt8(ascii: "X")
        expectBadModel(wrong, "magic")
        bytes[4] = 9
        expectBadModel(bytes, "newer than this vit-edge")
    }

    func testHeaderChecksum() {
        var bytes = tinyModel(tinyConfig()).serialize()
        bytes[20] ^= 0x01
        expectBadModel(bytes, "header checksum")
    }

    func testPayloadChecksum() {
        var bytes = tinyModel(tinyConfig()).serialize()
        bytes[bytes.count - 20] ^= 0x55  // inside the compressed payload
        expectBadModel(bytes, "LZ4")
    }

    /// Rewrites the header JSON (fixing the CRC and the payload offset) to forge a file.
    func forge(_ edit: (inout String) -> Void) -> [UInt8] {
        let bytes = tinyModel(tinyConfig()).serialize()
        let hlen = Int(VitqFile.readU32(bytes, 8))
        var header = String(decoding: try! LZ4.decompressFrame(Array(bytes[16..<(16 + hlen)]), limit: 1 << 20), as: UTF8.self)
        edit(&header)
        let payload = Array(bytes[alignUp(16 + hlen, 8)...])
        let h = Array(header.utf8).withUnsafeBytes { LZ4.compressFrame($0) }
        var out = Array(bytes[0..<8])
        for v in [UInt32(h.count), CRC32.checksum(h)] { out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        out += h
        out += [UInt8](repeating: 0, count: alignUp(out.count, 8) - out.count)
        return out + payload
    }

    func testOffsetsOutOfBounds() {
        expectBadModel(forge { $0 = $0.replacingFirst("\"offset\":0", with: "\"offset\":99999936") }, "offset")
        expectBadModel(forge { $0 = $0.replacingFirst("\"offset\":0", with: "\"offset\":3") }, "-byte-aligned")
    }

    func testAbsurdDimensions() {
        expectBadModel(forge { $0 = $0.replacingFirst("\"shape\":[8,16]", with: "\"shape\":[1099511627776,1099511627776]") }, "fits")
        expectBadModel(forge { $0 = $0.replacingFirst("\"offset\":0}", with: "\"offset\":0,\"bytes\":1099511627776}") }, "found 1099511627776")
        expectBadModel(forge { $0 = $0.replacingFirst("\"payload\":{\"bytes\":", with: "\"payload\":{\"bytes\":1099511627776,\"y\":") }, "exceeds the limit")
        expectBadModel(forge { $0 = $0.replacingFirst("\"dim\":8", with: "\"dim\":1099511627776") }, "width")
    }

    func testConfigTensorMismatch() {
        expectBadModel(forge { $0 = $0.replacingFirst("\"mlp_dim\":16", with: "\"mlp_dim\":32") }, "blocks.0.mlp.fc1.weight")
        expectBadModel(forge { $0 = $0.replacingFirst("\"name\":\"cls_token\"", with: "\"name\":\"mystery\"") }, "mystery")
    }

    func testBadConfigValues() {
        expectBadModel(forge { $0 = $0.replacingFirst("\"patch_size\":4", with: "\"patch_size\":3") }, "divisible")
        expectBadModel(forge { $0 = $0.replacingFirst("\"pool\":\"cls\"", with: "\"pool\":\"max\"") }, "pool")
        expectBadModel(forge { $0 = $0.replacingFirst("\"std\":[0.25]", with: "\"std\":[0]") }, "std")
    }

    /// Every float a header holds is range-checked at load, before any arithmetic on it:
    /// a crop_pct that would trap, a mean or std that would make every logit NaN, a
    /// resize that contradicts its own crop_pct, NaN weights.
    func testFloatFieldsOutOfRangeAreRefused() {
        let timm = #""preprocess":{"resize":"shorter","shorter":9,"interpolation":"bicubic","resampler":"pillow","crop":"torchvision","crop_pct":0.875,"crop_mode":"center"}"#
        // The forged header's config is the tiny model's: 8x8 input (crop_pct 0.875 → 9).
        func withPreprocess(_ p: String) -> [UInt8] {
            forge { h in
                let start = h.range(of: "\"preprocess\":{")!
                let end = h[start.upperBound...].firstIndex(of: "}")!
                h.replaceSubrange(start.lowerBound...end, with: p)
            }
        }
        expectBadModel(withPreprocess(timm.replacingOccurrences(of: "0.875", with: "1e-20")), "crop_pct in")
        expectBadModel(withPreprocess(timm.replacingOccurrences(of: "\"crop_mode\":\"center\"", with: "\"crop_mode\":\"squash\"")), "follows from crop_pct")
        expectBadModel(forge { $0 = $0.replacingFirst("\"std\":[0.25]", with: "\"std\":[1e-45]") }, "std in")
        expectBadModel(forge { $0 = $0.replacingFirst("\"mean\":[0.5]", with: "\"mean\":[3e38]") }, "mean within")
        expectBadModel(forge { $0 = $0.replacingFirst("\"mean\":[0.5]", with: "\"mean\":[NaN]") }, "mean within")
        expectBadModel(forge { $0 = $0.replacingFirst("\"eps\":9.999999974752427e-07", with: "\"eps\":1e+30") }, "epsilon")
        // The consistent one loads.
        XCTAssertNoThrow(try VitqFile.parse(withPreprocess(timm), path: "ok"))
        // NaN in a weight: the tensor named at load.
        var c = tinyConfig()
        c.eps = 1e-6
        var w = tinyModel(c)
        if let i = w.tensors.firstIndex(where: { $0.name == "blocks.0.mlp.fc1.weight" }) {
            w.tensors[i].bytes.replaceSubrange(8..<12, with: [0x00, 0x00, 0xC0, 0x7F])  // NaN
        }
        XCTAssertThrowsError(try VisionTransformer(file: try VitqFile.parse(w.serialize(), path: "nan.vitq"), kernels: .reference)) { e in
            XCTAssertTrue("\(e)".contains("blocks.0.mlp.fc1.weight") && "\(e)".contains("finite"), "\(e)")
        }
        XCTAssertEqual(JSON.format(.nan), "null")
        XCTAssertEqual(JSON.format(-.infinity), "null")
    }

    func testNotJSONHeader() {
        expectBadModel(forge { $0 = "{\"config\":" }, "JSON")
        var raw = tinyModel(tinyConfig()).serialize()
        raw[16] ^= 0xFF  // the header frame's magic, with a matching CRC
        let hlen = Int(VitqFile.readU32(raw, 8))
        let crc = CRC32.checksum(raw[16..<(16 + hlen)])
        for i in 0..<4 { raw[12 + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        expectBadModel(raw, "LZ4-compressed JSON header")
        expectBadModel(forge { $0 = String(repeating: "[", count: 10000) }, "JSON")
    }

    func testLoadFromDiskErrors() {
        XCTAssertThrowsError(try VitqFile.load(path: "/nonexistent/model.vitq")) { e in
            XCTAssertTrue("\(e)".contains("No such file"), "\(e)")
        }
        XCTAssertThrowsError(try VitqFile.load(path: "/tmp")) { e in XCTAssertTrue("\(e)".contains("directory"), "\(e)") }
        var limits = ResourceLimits()
        limits.maxModelBytes = 100
        let bytes = tinyModel(tinyConfig()).serialize()
        XCTAssertThrowsError(try VitqFile.parse(bytes, path: "m", limits: limits)) { e in
            XCTAssertTrue("\(e)".contains("exceeds the limit"), "\(e)")
        }
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = range(of: target) else { XCTFail("'\(target)' not in header"); return self }
        return replacingCharacters(in: r, with: replacement)
    }
}
