import XCTest
@testable import VitEdge

final class MemoryPlannerTests: XCTestCase {
    func b(_ name: String, _ bytes: Int, _ first: Int, _ last: Int) -> BufferRequest {
        BufferRequest(name: name, bytes: bytes, firstUse: first, lastUse: last)
    }

    func testThreeBuffersInSequenceShareMemory() {
        // a lives 0-1, b lives 1-2, c lives 2-3: a and c never meet, so they share.
        let buffers = [b("a", 10, 0, 1), b("b", 20, 1, 2), b("c", 10, 2, 3)]
        let plan = GreedyMemoryPlanner().plan(buffers, alignment: 1)
        XCTAssertEqual(plan.arenaBytes, 30)
        XCTAssertEqual(plan.offsets, [20, 0, 20])
        XCTAssertNil(plan.firstConflict(buffers))
        XCTAssertEqual(LinearMemoryPlanner().plan(buffers, alignment: 1).arenaBytes, 40)
    }

    func testBuffersAliveTogetherNeverOverlap() {
        let buffers = [b("a", 10, 0, 5), b("b", 10, 0, 5), b("c", 10, 0, 5)]
        let plan = GreedyMemoryPlanner().plan(buffers, alignment: 1)
        XCTAssertEqual(plan.arenaBytes, 30)
        XCTAssertNil(plan.firstConflict(buffers))
    }

    func testBestFitFillsTheGap() {
        // big (0-9) and tail (0-9) leave no gap; small ones reuse one slot in turn.
        let buffers = [b("big", 100, 0, 9), b("x", 40, 0, 2), b("y", 40, 3, 5), b("z", 40, 6, 9)]
        let plan = GreedyMemoryPlanner().plan(buffers, alignment: 1)
        XCTAssertEqual(plan.arenaBytes, 140)
        XCTAssertEqual(plan.offsets[1], plan.offsets[2])
        XCTAssertEqual(plan.offsets[2], plan.offsets[3])
    }

    func testAlignmentRoundsSizesAndOffsets() {
        let buffers = [b("a", 1, 0, 0), b("b", 1, 0, 0)]
        let plan = GreedyMemoryPlanner().plan(buffers, alignment: 64)
        XCTAssertEqual(plan.arenaBytes, 128)
        XCTAssertTrue(plan.offsets.allSatisfy { $0 % 64 == 0 })
    }

    func testZeroSizedBuffersAreHarmless() {
        let buffers = [b("empty", 0, 0, 3), b("a", 8, 1, 2)]
        let plan = GreedyMemoryPlanner().plan(buffers, alignment: 1)
        XCTAssertEqual(plan.arenaBytes, 8)
        XCTAssertNil(plan.firstConflict(buffers))
    }

    func testRandomProgramsHaveNoConflictsAndBeatTheLinearPlan() {
        var rng = Random(seed: 9)
        for _ in 0..<200 {
            let n = Int(rng.next() % 30) + 1
            let buffers = (0..<n).map { i -> BufferRequest in
                let first = Int(rng.next() % 20)
                return b("t\(i)", Int(rng.next() % 1000) + 1, first, first + Int(rng.next() % 6))
            }
            let greedy = GreedyMemoryPlanner().plan(buffers, alignment: 16)
            XCTAssertNil(greedy.firstConflict(buffers))
            XCTAssertLessThanOrEqual(greedy.arenaBytes, LinearMemoryPlanner().plan(buffers, alignment: 16).arenaBytes)
            // Never below the largest set of buffers alive at one step.
            let peak = (0..<26).map { s in buffers.filter { $0.firstUse <= s && s <= $0.lastUse }.reduce(0) { $0 + alignUp($1.bytes, 16) } }.max()!
            XCTAssertGreaterThanOrEqual(greedy.arenaBytes, peak)
        }
    }

    func testForwardPlanOfAViTSharesAcrossBlocks() throws {
        let c = ViTConfig(imageHeight: 224, imageWidth: 224, channels: 3, patchSize: 16, dim: 192, depth: 12,
                          heads: 3, mlpDim: 768, numClasses: 1000)
        var rng = Random(seed: 4)
        var file = VitqWriter(config: c)
        for (name, shape) in ModelWeights.expectedTensors(c) {
            file.add(.init(name: name, shape: shape, floats: rng.floats(shape.reduce(1, *), scale: 0.05)))
        }
        let model = try VisionTransformer(file: try VitqFile.parse(file.serialize(), path: "vit-ti.vitq"), kernels: .reference)
        let layout = try ForwardLayout(model: model, kernels: model.kernels, batch: 1)
        let greedy = GreedyMemoryPlanner().plan(layout.requests, alignment: 64)
        let naive = LinearMemoryPlanner().plan(layout.requests, alignment: 64)
        XCTAssertNil(greedy.firstConflict(layout.requests))
        // 12 blocks of intermediates collapse to about one block's worth.
        XCTAssertLessThan(greedy.arenaBytes * 8, naive.arenaBytes)
        print("ViT-Ti/16 batch 1: arena \(greedy.arenaBytes) bytes, naive \(naive.arenaBytes) bytes")
    }

    /// The plan's steps are the forward pass's own operations, traced: for a one-block ViT on
    /// the reference kernels, each operation in the order `forwardPass` and `encoderBlock`
    /// call them, with the buffers handed to it (inputs first). A change to the forward pass
    /// changes this list, and with it the plan; nothing else has to be kept in step.
    func testStepsAreTracedFromTheForwardPass() throws {
        let c = ViTConfig(imageHeight: 8, imageWidth: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2,
                          mlpDim: 16, numClasses: 3, mean: [0.5], std: [0.25])
        var rng = Random(seed: 5)
        var file = VitqWriter(config: c)
        for (name, shape) in ModelWeights.expectedTensors(c) {
            file.add(.init(name: name, shape: shape, floats: rng.floats(shape.reduce(1, *), scale: 0.5)))
        }
        let model = try VisionTransformer(file: try VitqFile.parse(file.serialize(), path: "tiny.vitq"), kernels: .reference)
        let layout = try ForwardLayout(model: model, kernels: .reference, batch: 1)
        let names = layout.steps.map { $0.map { layout.requests[$0].name } }
        XCTAssertEqual(names, [
            ["image", "patches"],                          // extractPatches
            ["patches", "tokens"],                         // patch embedding (Linear)
            ["tokens"],                                    // class token + positions
            ["tokens", "blocks.0.norm1"],                  // norm1
            ["blocks.0.norm1", "blocks.0.qkv"],            // qkv
            ["blocks.0.qkv", "blocks.0.attention", "blocks.0.scores"],  // attention (the reference packs no K)
            ["blocks.0.attention", "tokens"],              // proj, added to the residual
            ["tokens", "blocks.0.norm2"],                  // norm2
            ["blocks.0.norm2", "blocks.0.hidden"],         // fc1
            ["blocks.0.hidden"],                           // GELU
            ["blocks.0.hidden", "tokens"],                 // fc2, added to the residual
            ["tokens", "normed"],                          // final norm
            ["normed", "pooled"],                          // class-token pooling
            ["pooled", "logits"],                          // head
            ["logits", "probabilities"],                   // softmax
        ])
        // Lifetimes follow: the input from the first step, outputs to the last.
        let r = Dictionary(uniqueKeysWithValues: layout.requests.map { ($0.name, $0) })
        XCTAssertEqual(r["image"].map { [$0.firstUse, $0.lastUse] }, [0, 0])
        XCTAssertEqual(r["blocks.0.qkv"].map { [$0.firstUse, $0.lastUse] }, [4, 5])
        XCTAssertEqual(r["normed"].map { [$0.firstUse, $0.lastUse] }, [11, 14])  // the final tokens are an output
        XCTAssertEqual(r["blocks.0.packed_k"]?.bytes, 0)
    }
}
