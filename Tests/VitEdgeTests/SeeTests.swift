import XCTest
@testable import VitEdge

/// Attention maps, embeddings, position-embedding interpolation and streamed input.
final class SeeTests: XCTestCase {
    func samples() throws -> [(String, Image)] {
        try FileIO.list(repoFile("models/samples")).filter { $0.hasSuffix(".pgm") }.map { ($0, try Image.load(path: repoFile("models/samples/" + $0))) }
    }

    /// On MNIST digits the class token looks at the strokes: the mean map value on
    /// stroke pixels (> 0.5) is higher than on the background, for both the last
    /// block and the rollout, on every sample digit.
    func testAttentionConcentratesOnStrokes() throws {
        let model = try VisionTransformer(path: repoFile("models/mnist-vit.vitq"))
        let c = model.config
        let session = try InferenceSession(model: model, batchSize: 1, captureAttention: Array(0..<c.depth))
        var report: [String] = []
        for (name, image) in try samples() {
            try Preprocess.apply(image, config: c, into: session.input.baseAddress!)
            session.forward()
            let last = AttentionMaps.classToken(session, block: c.depth - 1, image: 0)!
            XCTAssertEqual(last.heads.count, c.heads)
            for (kind, grid) in [("last", last.mean), ("rollout", AttentionMaps.rollout(session, image: 0)!)] {
                XCTAssertEqual(grid.count, c.numPatches)
                XCTAssertGreaterThan(grid.max()! - grid.min()!, 1e-3, "\(name) \(kind): the map is uniform")
                let heat = AttentionMaps.upsample(grid, gridWidth: c.gridWidth, gridHeight: c.gridHeight, width: 28, height: 28)
                var on = (0.0, 0), off = (0.0, 0)
                for (i, v) in image.samples.enumerated() {
                    if v > 0.5 { on.0 += Double(heat[i]); on.1 += 1 } else { off.0 += Double(heat[i]); off.1 += 1 }
                }
                let ratio = (on.0 / Double(on.1)) / (off.0 / Double(off.1))
                report.append("\(name.prefix(10)) \(kind) \(Double(Int(ratio * 100)) / 100)")
                // Measured: last block 1.8-3.2x, rollout 1.18-1.36x (the residual spreads it).
                XCTAssertGreaterThan(ratio, kind == "last" ? 1.5 : 1.1, "\(name) \(kind): stroke/background attention ratio \(ratio)")
            }
            // Rows of the captured attention are probability distributions.
            let a = session.attention(block: 0, image: 0)!
            var sum: Float = 0
            for j in 0..<c.tokens { sum += a[j] }
            XCTAssertEqual(sum, 1, accuracy: 1e-5)
        }
        print("stroke/background attention: " + report.joined(separator: ", "))
    }

    func testCaptureAddsPlannedMemoryOnlyWhenAsked() throws {
        let model = try VisionTransformer(path: repoFile("models/mnist-vit.vitq"))
        let plain = try InferenceSession(model: model, batchSize: 1)
        let captured = try InferenceSession(model: model, batchSize: 1, captureAttention: [5])
        XCTAssertNil(plain.attention(block: 5, image: 0))
        XCTAssertGreaterThan(captured.arenaBytes, plain.arenaBytes)
        XCTAssertThrowsError(try InferenceSession(model: model, batchSize: 1, captureAttention: [6]))
    }

    func testPNGAndNPYWriters() {
        let png = ImageWriter.png(rgb: [255, 0, 0, 0, 255, 0], width: 2, height: 1)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(Array(png.suffix(8)), Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82])
        // Written by libspng, compressed, read back identical.
        let rgb = (0..<(64 * 48 * 3)).map { UInt8(truncatingIfNeeded: ($0 / 3 % 64) * 4) }
        let big = ImageWriter.png(rgb: rgb, width: 64, height: 48)
        XCTAssertLessThan(big.count, rgb.count / 4)
        let back = try! Image.decode(big, path: "written.png")
        XCTAssertEqual(back.pixels, .bytes(rgb))
        let npy = NPY.float32([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(Array(npy.prefix(6)), [0x93] + Array("NUMPY".utf8))
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        XCTAssertTrue(String(decoding: npy[10..<(10 + headerLength)], as: UTF8.self).contains("'shape': (2, 3)"))
        XCTAssertEqual(npy.count, 10 + headerLength + 24)
    }

    /// Bicubic resampling of the shipped model's position embeddings against
    /// PyTorch's `F.interpolate(mode="bicubic", align_corners=False)` (fixture; Hugging
    /// Face's convention, chosen here over the model's own timm one), up (7x7 → 10x10)
    /// and down (7x7 → 5x5). PreprocessTests covers timm's and DINO's.
    func testPositionEmbeddingInterpolationMatchesPyTorch() throws {
        let golden = try loadTensors(fixture("mnist-golden.safetensors"))
        let model = try VisionTransformer(path: repoFile("models/mnist-vit.vitq")).withPositionResampling(.huggingface)
        let c = model.config
        for (size, key) in [(40, "pos_embed_10x10"), (20, "pos_embed_5x5")] {
            let resized = try model.resized(imageHeight: size, imageWidth: size)
            XCTAssertEqual(resized.config.numPatches, (size / 4) * (size / 4))
            let want = golden[key]!.values
            let got = UnsafeBufferPointer(start: resized.weights.positions, count: resized.config.positionRows * c.dim)
            XCTAssertEqual(got.count, want.count)
            let tol = 16 * Float.ulpOfOne * max(maxAbs(want), 1)
            XCTAssertLessThanOrEqual(maxAbsDiff(got, want), tol, key)
            // And the resized model runs, planned for its size.
            let session = try InferenceSession(model: resized, batchSize: 1)
            try Preprocess.apply(try samples()[0].1, config: resized.config, into: session.input.baseAddress!)
            session.forward()
            XCTAssertTrue(session.logits(0).allSatisfy { $0.isFinite })
        }
        XCTAssertThrowsError(try model.resized(imageHeight: 30, imageWidth: 30))  // not a multiple of 4
    }
}
