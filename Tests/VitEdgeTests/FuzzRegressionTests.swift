import XCTest
@_spi(Internals) @testable import VitEdge

/// Every input a fuzzer found that crashed, hung or exhausted memory, replayed
/// through the same entry points (Fixtures/crashes/, named by target and symptom).
final class FuzzRegressionTests: XCTestCase {
    func testCrashInputsAreRejectedCleanly() throws {
        let dir = fixture("crashes")
        let files = try FileIO.list(dir)
        XCTAssertFalse(files.isEmpty)
        for name in files {
            let bytes = try FileIO.read(dir + "/" + name)
            if name.hasPrefix("idx-") {
                // Must fail at parse time, or yield a bounded set of images.
                try bytes.withUnsafeBytes { raw in
                    if let idx = try? IDXReader(ByteInput(name: name, memory: raw), path: name) {
                        while (try? idx.next()) ?? nil != nil {}
                    }
                }
            } else if name.hasPrefix("vitq-") {
                var b = bytes
                FuzzSupport.fixHeaderCRC(&b)
                if let f = try? VitqFile.parse(b, path: name) { _ = try? VisionTransformer(file: f, kernels: .reference) }
            } else if name.hasPrefix("image-") {
                _ = try? Image.decodePNM(bytes, path: name)
            } else if name.hasPrefix("safetensors-") {
                if let st = try? Safetensors(bytes: bytes, path: name) { _ = try? Converter.convert(st, configJSON: nil, options: ConvertOptions()) }
            } else if name.hasPrefix("config-") {
                // The same checkpoints FuzzConfigJSON converts beside the config.
                for p in ["Fuzz/Corpus/safetensors/tiny-timm.safetensors", "Tests/VitEdgeTests/Fixtures/parity/vit-pytorch-mean/model.safetensors",
                          "Tests/VitEdgeTests/Fixtures/parity/hf-vit-new-names/model.safetensors"] {
                    if let j = try? JSON.parse(bytes), let st = try? Safetensors(path: repoFile(p)) {
                        _ = try? Converter.convert(st, configJSON: j, options: ConvertOptions())
                    }
                }
            } else if name.hasPrefix("header-") {
                if let b = FuzzSupport.vitqFile(headerJSON: bytes), let f = try? VitqFile.parse(b, path: name) {
                    _ = try? VisionTransformer(file: f, kernels: .reference)
                }
            } else {
                XCTFail("\(name): unknown crash file prefix")
            }
        }
        // Found by FuzzConfigJSON: a vit-pytorch config with "channels": 0 divided by zero.
        let st = try Safetensors(path: fixture("parity/vit-pytorch-mean/model.safetensors"))
        let config = try JSON.parse(try FileIO.read(dir + "/config-vit-pytorch-zero-channels.json"))
        XCTAssertThrowsError(try Converter.convert(st, configJSON: config, options: ConvertOptions())) {
            XCTAssertTrue("\($0)".contains("1 or 3 channels"), "\($0)")
        }
        // The first one found: an IDX with a zero dimension declared 2^27 empty images.
        XCTAssertThrowsError(try IDXReader(path: dir + "/idx-zero-width-oom.idx")) {
            XCTAssertTrue("\($0)".contains("at least 1"), "\($0)")
        }
    }
}
