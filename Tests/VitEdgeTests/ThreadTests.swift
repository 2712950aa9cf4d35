import XCTest
@testable import VitEdge

/// The thread pool splits fp32 GEMM columns, int8 GEMM rows (quantized inside each
/// task), attention by head and block of query rows, and rows of LayerNorm/GELU;
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

    /// `body` with the kernel set `one` bound to a pool of each of these sizes.
    func onPools(of sizes: [Int], _ one: Kernels, _ body: (Kernels, Int) -> Void) {
        for threads in sizes {
            let pool = ThreadPool(threads: threads)
            var k = one
            k.pool = pool.pool
            k.threads = threads
            body(k, threads)
            withExtendedLifetime(pool) {}
        }
    }

    /// ViT-Ti's attention (3 heads on 2-3 threads) is split into blocks of query rows;
    /// outputs and captured probabilities must not change.
    func testAttentionSplitByQueryRowsIsBitIdentical() throws {
        let (tokens, heads, headDim) = (197, 3, 64)
        var rng = Random(seed: 22)
        let qkv = rng.floats(tokens * 3 * heads * headDim, scale: 2)
        let one = try Kernels.select()
        let sizes = Kernels.attentionScratchFloats(tokens: tokens, headDim: headDim)
        func run(_ k: Kernels, workers: Int) -> (out: [Float], probs: [Float]) {
            var out = [Float](repeating: 0, count: tokens * heads * headDim)
            var probs = [Float](repeating: 0, count: heads * tokens * tokens)
            var scores = [Float](repeating: 0, count: sizes.scores * workers)
            var pk = [Float](repeating: 0, count: sizes.packedK * workers)
            qkv.withUnsafeBufferPointer { q in scores.withUnsafeMutableBufferPointer { sp in pk.withUnsafeMutableBufferPointer { kp in
                probs.withUnsafeMutableBufferPointer { pp in out.withUnsafeMutableBufferPointer { op in
                    let scratch = AttentionScratch(scores: sp.baseAddress!, packedK: kp.baseAddress!,
                                                   workers: workers, strideScores: sizes.scores, strideK: sizes.packedK)
                    k.attention(batch: 1, tokens: tokens, heads: heads, headDim: headDim, qkv: q.baseAddress!, out: op.baseAddress!,
                                scratch: scratch, capture: pp.baseAddress!)
                } }
            } } }
            return (out, probs)
        }
        let want = run(one, workers: 1)
        onPools(of: [2, 3], one) { k, threads in
            let got = run(k, workers: threads)
            XCTAssertEqual(got.out, want.out, "\(threads) threads")
            XCTAssertEqual(got.probs, want.probs, "\(threads) threads")
        }
    }

    /// DeepViT's re-attention at ViT-Ti's shape (2 images) split across 2 and 3 threads by
    /// (image, query rows): outputs and captured maps must not change.
    func testReattentionSplitAcrossThreadsIsBitIdentical() throws {
        let (batch, tokens, heads, headDim) = (2, 197, 3, 64)
        var rng = Random(seed: 23)
        let qkv = rng.floats(batch * tokens * 3 * heads * headDim, scale: 2)
        let mix = rng.floats(heads * heads, scale: 1), gamma = rng.floats(heads, scale: 1), beta = rng.floats(heads, scale: 1)
        let one = try Kernels.select()
        let sizes = one.reattentionScratchFloats(tokens: tokens, heads: heads, headDim: headDim)
        func run(_ k: Kernels, workers: Int) -> (out: [Float], maps: [Float]) {
            var out = [Float](repeating: 0, count: batch * tokens * heads * headDim)
            var maps = [Float](repeating: 0, count: batch * heads * tokens * tokens)
            var scores = [Float](repeating: 0, count: sizes.scores * workers)
            var pk = [Float](repeating: 0, count: sizes.packedK * workers)
            gamma.withUnsafeBufferPointer { g in beta.withUnsafeBufferPointer { bt in mix.withUnsafeBufferPointer { m in
                qkv.withUnsafeBufferPointer { q in scores.withUnsafeMutableBufferPointer { sp in pk.withUnsafeMutableBufferPointer { kp in
                    maps.withUnsafeMutableBufferPointer { mp in out.withUnsafeMutableBufferPointer { op in
                        let scratch = AttentionScratch(scores: sp.baseAddress!, packedK: kp.baseAddress!,
                                                       workers: workers, strideScores: sizes.scores, strideK: sizes.packedK)
                        k.reattention(batch: batch, tokens: tokens, heads: heads, headDim: headDim, qkv: q.baseAddress!,
                                      out: op.baseAddress!, mix: m.baseAddress!,
                                      norm: LayerNorm(gamma: g.baseAddress!, beta: bt.baseAddress!, count: heads, eps: 1e-5),
                                      scratch: scratch, capture: mp.baseAddress!)
                    } }
                } } }
            } } }
            return (out, maps)
        }
        let want = run(one, workers: 1)
        onPools(of: [2, 3], one) { k, threads in
            let got = run(k, workers: threads)
            XCTAssertEqual(got.out, want.out, "\(threads) threads")
            XCTAssertEqual(got.maps, want.maps, "\(threads) threads")
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

import _VitKernels

/// Adds 1 to counts[task] for every task through the pool (atomic per slot is not
/// needed: each task index is handed out exactly once per run).
func vk_pool_run_for_test(_ pool: ThreadPool, _ counts: UnsafeMutablePointer<Int32>, _ n: Int) {
    vk_pool_run(pool.pool, { context, task, _ in
        context!.assumingMemoryBound(to: Int32.self)[task] += 1
    }, counts, n)
}
