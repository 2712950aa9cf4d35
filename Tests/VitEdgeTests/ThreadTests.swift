import XCTest
@testable import VitEdge

/// The thread pool splits GEMM columns, attention heads and rows of LayerNorm/GELU;
/// every output element is computed by the same code in the same order, so results
/// must be bit-identical to one thread.
final class ThreadTests: XCTestCase {
    func testThreadedForwardIsBitIdentical() throws {
        for path in ["models/mnist-vit.vitq", "models/mnist-vit-int8.vitq"] {
            let model = try VisionTransformer(path: repoFile(path))
            let one = try InferenceSession(model: model, batchSize: 16, captureAttention: [5])
            let two = try InferenceSession(model: model, batchSize: 16, captureAttention: [5], threads: 2)
            let three = try InferenceSession(model: model, batchSize: 16, captureAttention: [5], threads: 3)
            XCTAssertEqual(two.threads, 2)
            var rng = Random(seed: 21)
            let input = rng.floats(one.input.count, scale: 2)
            for s in [one, two, three] {
                for i in 0..<input.count { s.input[i] = input[i] }
                s.forward()
                s.forward()  // twice: the pool is reused, not recreated
            }
            for i in 0..<16 {
                XCTAssertEqual(Array(one.logits(i)), Array(two.logits(i)), "\(path) image \(i), 2 threads")
                XCTAssertEqual(Array(one.logits(i)), Array(three.logits(i)), "\(path) image \(i), 3 threads")
            }
            XCTAssertEqual(Array(one.attention(block: 5, image: 7)!), Array(two.attention(block: 5, image: 7)!))
        }
    }

    func testPoolRunsEveryTaskOnce() {
        let pool = ThreadPool(threads: 4)
        var counts = [Int32](repeating: 0, count: 1000)
        counts.withUnsafeMutableBufferPointer { c in
            for _ in 0..<50 {
                vk_pool_run_for_test(pool, c.baseAddress!, c.count)
            }
        }
        XCTAssertTrue(counts.allSatisfy { $0 == 50 })
    }
}

import VitKernels

/// Adds 1 to counts[task] for every task through the pool (atomic per slot is not
/// needed: each task index is handed out exactly once per run).
func vk_pool_run_for_test(_ pool: ThreadPool, _ counts: UnsafeMutablePointer<Int32>, _ n: Int) {
    vk_pool_run(pool.pool, { context, task, _ in
        context!.assumingMemoryBound(to: Int32.self)[task] += 1
    }, counts, n)
}
