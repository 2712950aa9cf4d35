import _VitKernels

/// A persistent pool of threads (created once per session; `run` allocates nothing).
package final class ThreadPool: @unchecked Sendable {
    let pool: OpaquePointer
    package let threads: Int

    package init(threads: Int) {
        self.threads = max(1, threads)
        pool = vk_pool_create(self.threads)
    }

    deinit { vk_pool_destroy(pool) }

    /// The number of cores this process may run on.
    package static var cores: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Work below these sizes runs on the calling thread. With the spinning pool a
/// dispatch costs about a microsecond, so the MNIST model's layers (50×64×128 and up)
/// are worth splitting: 2 threads take it from 0.29 to 0.20 ms (fp32) on this machine.
enum ParallelThreshold {
    static let gemmMACs = 1 << 17
    static let elements = 1 << 13
}

// MARK: jobs (plain structs passed to the C pool by pointer: no allocation)

struct F32LinearJob {
    var gemm: vk_f32_gemm_fn
    var rows: Int, n: Int, k: Int
    var x: UnsafePointer<Float>, ldx: Int
    var packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?
    var y: UnsafeMutablePointer<Float>, ldy: Int
    var accumulate: Int32
    var columnsPerTask: Int
}

let f32LinearTask: vk_task_fn = { context, task, _ in
    let j = context!.assumingMemoryBound(to: F32LinearJob.self).pointee
    let n0 = task * j.columnsPerTask
    let n = min(j.columnsPerTask, j.n - n0)
    j.gemm(j.rows, n, j.k, j.x, j.ldx, j.packed + n0 * j.k, j.bias.map { $0 + n0 }, j.y + n0, j.ldy, j.accumulate)
}

struct QS8LinearJob {
    var kernels: Kernels
    var gemm: vk_qs8_gemm_fn
    /// The layer runs on the 7-bit-weight kernel (its own input form).
    var narrow: Bool
    var rows: Int, n: Int, k: Int
    var x: UnsafePointer<Float>, ldx: Int, inputScale: Float?
    var q: UnsafeMutablePointer<Int8>, ldq: Int
    var packed: UnsafeRawPointer
    var aScale: UnsafeMutablePointer<Float>, wScale: UnsafePointer<Float>, bias: UnsafePointer<Float>?
    var y: UnsafeMutablePointer<Float>, ldy: Int
    var accumulate: Int32
    var rowsPerTask: Int
}

let qs8LinearTask: vk_task_fn = { context, task, _ in
    let j = context!.assumingMemoryBound(to: QS8LinearJob.self).pointee
    let r0 = task * j.rowsPerTask
    let r = min(j.rowsPerTask, j.rows - r0)
    let q = j.q + r0 * j.ldq, scales = j.aScale + r0
    j.kernels.quantizeRows(r, k: j.k, x: j.x + r0 * j.ldx, ldx: j.ldx, inputScale: j.inputScale, q: q, ldq: j.ldq, scales: scales,
                           narrow: j.narrow)
    j.gemm(r, j.n, j.k, q, j.ldq, j.packed, scales, j.wScale, j.bias, j.y + r0 * j.ldy, j.ldy, j.accumulate)
}

struct AttentionJob {
    var kernels: Kernels
    var batch: Int
    var x: AttentionInputs
    var heads: Int, headDim: Int
    var out: UnsafeMutablePointer<Float>
    var scratch: AttentionScratch
    var capture: UnsafeMutablePointer<Float>?
    var bias: AttentionBias?
    var chunks: Int, rowsPerChunk: Int
}

let attentionTask: vk_task_fn = { context, task, worker in
    let j = context!.assumingMemoryBound(to: AttentionJob.self).pointee
    let pair = task / j.chunks, r0 = (task % j.chunks) * j.rowsPerChunk
    guard r0 < j.x.queries else { return }
    j.kernels.attentionHead(b: pair / j.heads, h: pair % j.heads, rows: r0..<min(j.x.queries, r0 + j.rowsPerChunk),
                            x: j.x, heads: j.heads, headDim: j.headDim, out: j.out,
                            scratch: j.scratch.worker(Int(worker)), capture: j.capture, bias: j.bias)
}

struct LayerNormJob {
    var kernels: Kernels
    var ln: LayerNorm
    var x: UnsafePointer<Float>, ldx: Int
    var y: UnsafeMutablePointer<Float>, ldy: Int
    var rows: Int, rowsPerTask: Int
}

let layerNormTask: vk_task_fn = { context, task, _ in
    let j = context!.assumingMemoryBound(to: LayerNormJob.self).pointee
    let r0 = task * j.rowsPerTask
    let r = min(j.rowsPerTask, j.rows - r0)
    j.kernels.layerNormFn(r, j.ln.count, j.x + r0 * j.ldx, j.ldx, j.ln.gamma, j.ln.beta, j.ln.eps, j.y + r0 * j.ldy, j.ldy)
}

struct GeluJob {
    var fn: vk_f32_map_fn
    var x: UnsafeMutablePointer<Float>, count: Int, perTask: Int
}

let geluTask: vk_task_fn = { context, task, _ in
    let j = context!.assumingMemoryBound(to: GeluJob.self).pointee
    let i0 = task * j.perTask
    let n = min(j.perTask, j.count - i0)
    j.fn(j.x + i0, n)
}
