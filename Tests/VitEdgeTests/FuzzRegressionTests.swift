import XCTest
import MallocCounter
@testable import VitEdge
import VitEdgeTestSupport

/// Every input a fuzzer or an attacker trial found that crashed, hung, exhausted memory or
/// gave a wrong answer (Fixtures/crashes/, named by target and symptom), replayed through
/// the same entry points, each with the outcome it must have now (expected.json): the
/// error it is refused with, or the result it gives within its memory.
final class FuzzRegressionTests: XCTestCase {
    func testCrashInputsGiveTheirExpectedOutcome() throws {
        let dir = fixture("crashes")
        let expected = try JSON.parse(try FileIO.read(dir + "/expected.json"))
        let files = try FileIO.list(dir).filter { $0 != "expected.json" }
        XCTAssertEqual(Set(files), Set(expected.object?.map(\.0) ?? []), "every file has its expected outcome, and no outcome lacks its file")
        for name in files {
            guard let e = expected[name] else { continue }
            let bytes = try FileIO.read(dir + "/" + name)
            let outcome = Result<String, Error> { try replay(name, bytes, checkpoint: e["checkpoint"]?.string) }
            switch (outcome, e["error"]?.string, e["ok"]?.string) {
            case (.failure(let error), let fragment?, nil):
                XCTAssertTrue("\(error)".contains(fragment), "\(name): '\(error)' lacks '\(fragment)'")
                XCTAssertFalse("\(error)".contains("\n"), "\(name): one line")
            case (.success(let result), nil, let fragment?):
                XCTAssertTrue(result.contains(fragment), "\(name): '\(result)' lacks '\(fragment)'")
            case (let got, _, _):
                XCTFail("\(name): expected \(e.serialized()), got \(got)")
            }
        }
    }

    /// The entry point each kind of file went through when it was found.
    func replay(_ name: String, _ bytes: [UInt8], checkpoint: String?) throws -> String {
        if name.hasPrefix("idx-") {
            let idx = try bytes.withUnsafeBytes { try IDXReader(ByteInput(name: name, memory: $0), path: name) }
            var n = 0
            while try idx.next() != nil { n += 1 }
            return "\(n) items"
        } else if name.hasPrefix("vitq-") {
            var b = bytes
            FuzzSupport.fixHeaderCRC(&b)
            _ = try VisionTransformer(file: try VitqFile.parse(b, path: name), kernels: .reference)
            return "loaded"
        } else if name.hasPrefix("header-") {
            // The header over the real model's weights.
            let model = try FileIO.read(repoFile("models/mnist-vit.vitq"))
            guard let file = FuzzSupport.replacingHeader(of: model, with: try JSON.parse(bytes)) else { throw VitError.invalidArgument("no header") }
            _ = try VisionTransformer(file: try VitqFile.parse(file, path: name), kernels: .reference)
            return "loaded"
        } else if name.hasPrefix("config-") {
            let st = try Safetensors(path: repoFile(checkpoint ?? "Fuzz/Corpus/safetensors/tiny-timm.safetensors"))
            let c = try Converter.convert(st, configJSON: try JSON.parse(bytes), options: ConvertOptions())
            _ = try VitqFile.parse(c.vitqBytes(), path: name)
            return "converted"
        } else if name.hasPrefix("image-") {
            // Decoded, then preprocessed for the MNIST model (timm's shorter-side resize):
            // the heap the preprocessing takes is bounded by its output.
            let image = try Image.decode(bytes, path: name)
            let model = try VisionTransformer(path: repoFile("models/mnist-vit.vitq"), kernels: .reference)
            var input = [Float](repeating: 0, count: 28 * 28)
            malloc_counter_reset_peak()
            let before = malloc_counter_live_bytes()
            try input.withUnsafeMutableBufferPointer { try Preprocess.apply(image, config: model.config, into: $0.baseAddress!, name: name) }
            let taken = malloc_counter_peak_bytes() - before
            if before >= 0 { XCTAssertLessThan(taken, 8 << 20, "\(name): preprocessing took \(taken) bytes") }
            XCTAssertTrue(input.allSatisfy { $0.isFinite })
            return "\(image.width)x\(image.height) preprocessed"
        }
        throw VitError.invalidArgument("\(name): unknown crash file prefix")
    }
}
