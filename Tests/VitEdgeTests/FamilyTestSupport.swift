import XCTest
@testable import VitEdge

/// What the tests of the hierarchical families (Swin, PVT v2) and the full-size checks share:
/// the sample digits, logits of images through a model's own preprocessing, and the
/// threads-give-the-same-bits check.
enum FamilyTestSupport {
    static func digits() throws -> [Image] {
        try FileIO.list(repoFile("models/samples")).filter { $0.hasSuffix(".pgm") }.prefix(4).map { try Image.load(path: repoFile("models/samples/" + $0)) }
    }

    static func logits(_ file: VitqFile, _ choice: Kernels.Choice, _ images: [Image]) throws -> [Float] {
        try logits(try VisionTransformer(file: file, kernels: try Kernels.select(choice)), images)
    }

    /// The images through the model's preprocessing and forward pass, their logits in a row.
    static func logits(_ model: VisionTransformer, _ images: [Image]) throws -> [Float] {
        let session = try InferenceSession(model: model, batchSize: images.count)
        for (i, image) in images.enumerated() { try session.setInput(image, at: i) }
        session.forward()
        return (0..<images.count).flatMap { Array(session.logits($0)) }
    }

    /// A batch of 16 random inputs on 1, 2 and 3 threads: the same logits, bit for bit.
    static func checkThreadsGiveTheSameBits(_ model: VisionTransformer, file: StaticString = #filePath, line: UInt = #line) throws {
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            let s = try InferenceSession(model: model, batchSize: 16, threads: threads)
            var rng = Random(seed: 40)
            let input = rng.floats(s.input.count, scale: 2)
            for i in 0..<input.count { s.input[i] = input[i] }
            s.forward()
            results.append((0..<16).flatMap { Array(s.logits($0)) })
        }
        XCTAssertEqual(results[0], results[1], "2 threads", file: file, line: line)
        XCTAssertEqual(results[0], results[2], "3 threads", file: file, line: line)
    }
}
