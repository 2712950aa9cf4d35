import XCTest
@testable import VitEdge

/// PVT v2 beyond fp32 parity (ParityTests): another input size, int8, threads, the plan,
/// and what it refuses.
final class PVTTests: XCTestCase {
    static func fp32() throws -> VitqFile { try VitqFile.parse(try ParityTests.convert("timm-pvt-v2").vitqBytes(), path: "timm-pvt-v2") }

    /// At the digits' own 28×28 (grids 7, 4, 2, 1 instead of 9, 5, 3, 2): PVT has no
    /// positions, so `resized` only changes the shapes; timm's logits at that size, every route.
    func testOtherInputSizeMatchesTimm() throws {
        let expected = try loadTensors(fixture("parity/timm-pvt-v2/expected.safetensors"))
        let want = expected["logits_28"]!.values
        let images = try FamilyTestSupport.digits()
        for choice in Kernels.Choice.allCases {
            guard let kernels = try? Kernels.select(choice) else { continue }
            let model = try VisionTransformer(file: try Self.fp32(), kernels: kernels).resized(imageHeight: 28, imageWidth: 28)
            let got = try FamilyTestSupport.logits(model, images)
            let relative = maxAbsDiff(got, want) / maxAbs(want)
            XCTAssertLessThanOrEqual(relative, 1e-4, "\(choice)")
        }
    }

    /// Every Linear quantized (q, kv, the reductions, proj, MLP and the downsampling
    /// convolutions), dynamic and static: logits within a few per cent of fp32's largest;
    /// the optimized int8 route close to the int8 reference. int8 attention is refused.
    func testInt8PVTStaysCloseToFP32() throws {
        let file = try Self.fp32(), images = try FamilyTestSupport.digits()
        let want = try FamilyTestSupport.logits(file, .reference, images)
        let layers = ModelWeights.quantizableLayers(file.config)
        XCTAssertTrue(layers.contains("stages.0.blocks.0.attn.sr") && layers.contains("stages.3.downsample.proj"), "\(layers)")
        XCTAssertEqual(layers.count, 5 * 5 + 3 + 3, "q, kv, proj, fc1, fc2 of 5 blocks, the reductions of the 3 blocks in stages 0 and 1, 3 downsamplings")
        for activations in [ViTConfig.ActivationQuantization.dynamic, .static] {
            var o = QuantizeOptions()
            o.activations = activations
            let q = try Quantizer.quantize(file, source: "timm-pvt-v2", calibration: images, options: o)
            XCTAssertTrue(q.layers.allSatisfy { !$0.kept })
            let int8 = try VitqFile.parse(q.bytes, path: "pvt-int8")
            let ref = try FamilyTestSupport.logits(int8, .reference, images), got = try FamilyTestSupport.logits(int8, .auto, images)
            let drift = maxAbsDiff(ref, want) / maxAbs(want)
            print("PVT v2 int8 \(activations.rawValue): logits within \(drift) of fp32 (relative)")
            XCTAssertLessThanOrEqual(drift, 0.05, "\(activations)")
            XCTAssertLessThanOrEqual(maxAbsDiff(got, ref) / maxAbs(want), 0.02, "auto against the int8 reference")
        }
        var o = QuantizeOptions()
        o.int8Attention = true
        XCTAssertThrowsError(try Quantizer.quantize(file, source: "pvt", calibration: nil, options: o)) { e in
            XCTAssertTrue("\(e)".contains("reduced map"), "\(e)")
        }
    }

    /// Threads split the reduced attention by (image, head, query rows) and the Linear layers
    /// as for a ViT: 1, 2 and 3 threads give the same bits.
    func testThreadedPVTIsBitIdentical() throws {
        try FamilyTestSupport.checkThreadsGiveTheSameBits(try VisionTransformer(file: try Self.fp32(), kernels: try Kernels.select(.auto)))
    }

    /// The plan: each stage's buffers at its size; the reduced keys; the head on the last stage.
    func testPlanFollowsTheStages() throws {
        let model = try VisionTransformer(file: try Self.fp32(), kernels: try Kernels.select(.auto))
        let session = try InferenceSession(model: model, batchSize: 2)
        let sizes = Dictionary(uniqueKeysWithValues: session.buffers.map { ($0.name, $0.bytes) })
        XCTAssertEqual(sizes["patches"], 2 * 81 * 147 * 4, "9x9 windows of 7x7x3")
        XCTAssertEqual(sizes["stages.0.blocks.0.kv"], 2 * 4 * 2 * 16 * 4, "stage 0's keys: 9x9 reduced by 4 to 2x2")
        XCTAssertEqual(sizes["stages.1.downsample.columns"], 2 * 25 * 9 * 16 * 4, "5x5 windows of 3x3x16")
        XCTAssertEqual(sizes["normed"], 2 * 4 * 64 * 4)
        XCTAssertLessThan(session.arenaBytes, session.naiveBytes)
        XCTAssertThrowsError(try InferenceSession(model: model, batchSize: 1, captureAttention: [0])) { e in
            XCTAssertTrue("\(e)".contains("reduced map"), "\(e)")
        }
    }

}
