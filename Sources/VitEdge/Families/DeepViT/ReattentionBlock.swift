import _VitKernels

/// DeepViT's block (vit-pytorch `DeepViT`, Zhou et al. 2021): a pre-norm ViT block whose
/// attention maps are re-mixed across heads before they meet V —
///   A  = softmax(Q Kᵀ / √d)                     per head, [heads, T, T]
///   A' = LayerNorm_heads(Σₕ A[h] · Θ[h, g])      a learnt [heads, heads] mix, then a
///                                               LayerNorm over the head axis at each (i, j)
///   out = A'[g] V[g]                             per head, then `to_out` as a ViT's proj
/// Everything else (norms, qkv, proj, MLP, residuals) is `TransformerBlock`'s.
struct ReattentionBlock: EncoderBlock {
    var base: TransformerBlock
    /// [heads, heads] Θ: row h holds head h's weight in each mixed map g
    var mix: UnsafePointer<Float>
    /// LayerNorm over the heads (γ, β of `heads`; nn.LayerNorm's ε 1e-5)
    var norm: LayerNorm

    func run(_ s: EncoderShape, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: TransformerBlockActivations,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) {
        base.run(s, k, batch: batch, tokens: tokens, a: a, observe: observe) {
            k.reattention(batch: batch, tokens: s.tokens, heads: s.heads, headDim: s.headDim, qkv: a.qkv, out: a.attention,
                          mix: mix, norm: norm, scratch: a.scratch, capture: a.attentionProbabilities)
        }
    }

    static func tensors(_ s: EncoderShape, prefix: String) -> [(String, [Int])] {
        let p = prefix + "attn."
        return TransformerBlock.tensors(s, prefix: prefix)
            + [(p + "reattn.weight", [s.heads, s.heads]), (p + "reattn_norm.weight", [s.heads]), (p + "reattn_norm.bias", [s.heads])]
    }

    init(_ s: EncoderShape, prefix: String, _ t: TensorBinder) {
        let p = prefix + "attn."
        base = TransformerBlock(s, prefix: prefix, t)
        mix = t.float(p + "reattn.weight")
        norm = LayerNorm(gamma: t.float(p + "reattn_norm.weight"), beta: t.float(p + "reattn_norm.bias"), count: s.heads, eps: 1e-5)
    }

    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) { base.forEachLinear(body) }

    static func linearShapes(_ s: EncoderShape, batch b: Int) -> [LinearShape] { TransformerBlock.linearShapes(s, batch: b) }

    static func declare(_ p: inout ProgramLayout, _ s: EncoderShape, _ k: Kernels, prefix: String, batch b: Int,
                        capture: Bool, workers: Int) throws {
        try TransformerBlock.declare(&p, s, prefix: prefix, batch: b, capture: capture, workers: workers,
                                     scratch: k.reattentionScratchFloats(tokens: s.tokens, heads: s.heads, headDim: s.headDim), int8Bytes: 0)
    }

    static func activations(_ v: BufferViews, _ s: EncoderShape, _ k: Kernels, prefix: String, capture: Bool, workers: Int,
                            quant: QuantScratch?) -> TransformerBlockActivations {
        TransformerBlock.activations(v, s, prefix: prefix, capture: capture, workers: workers, quant: quant,
                                     scratch: k.reattentionScratchFloats(tokens: s.tokens, heads: s.heads, headDim: s.headDim), int8Bytes: 0)
    }

    static func attentionProbabilities(_ a: TransformerBlockActivations) -> UnsafeMutablePointer<Float>? { a.attentionProbabilities }
    static var noInt8Attention: String? { "mixes its heads' fp32 attention maps (re-attention), which has no int8 form" }
}

// MARK: - The re-attention core: reference and the GEMM route

extension Reference {
    /// Re-attention, one query row at a time: every head's softmaxed scores [heads, T],
    /// mixed by Θ, LayerNorm over the heads at each key, then each mixed map times V.
    /// `scores` holds 2·heads·T floats. `capture`: [B, heads, T, T] of the re-attended maps.
    static func reattention(batch: Int, tokens: Int, heads: Int, headDim: Int, qkv: UnsafePointer<Float>,
                            out: UnsafeMutablePointer<Float>, mix: UnsafePointer<Float>, norm: LayerNorm,
                            scores: UnsafeMutablePointer<Float>, capture: UnsafeMutablePointer<Float>? = nil) {
        let inner = heads * headDim, ld = 3 * inner
        let scale = 1 / Float(headDim).squareRoot()
        let a = scores, m = scores + heads * tokens  // [heads, T] each
        for b in 0..<batch {
            let base = qkv + b * tokens * ld
            for i in 0..<tokens {
                for h in 0..<heads {
                    let q = base + i * ld + h * headDim, k = base + inner + h * headDim
                    for j in 0..<tokens {
                        var s: Float = 0
                        for d in 0..<headDim { s += q[d] * k[j * ld + d] }
                        a[h * tokens + j] = s
                    }
                    softmax(rows: 1, n: tokens, x: a + h * tokens, ld: tokens, scale: scale)
                }
                for j in 0..<tokens {
                    for g in 0..<heads {
                        var s: Float = 0
                        for h in 0..<heads { s += a[h * tokens + j] * mix[h * heads + g] }
                        m[g * tokens + j] = s
                    }
                    var mean: Float = 0
                    for g in 0..<heads { mean += m[g * tokens + j] }
                    mean /= Float(heads)
                    var variance: Float = 0
                    for g in 0..<heads { let d = m[g * tokens + j] - mean; variance += d * d }
                    variance /= Float(heads)
                    let rstd = 1 / (variance + norm.eps).squareRoot()
                    for g in 0..<heads { m[g * tokens + j] = (m[g * tokens + j] - mean) * rstd * norm.gamma[g] + norm.beta[g] }
                }
                for g in 0..<heads {
                    if let capture { (capture + ((b * heads + g) * tokens + i) * tokens).update(from: m + g * tokens, count: tokens) }
                    let v = base + 2 * inner + g * headDim
                    for d in 0..<headDim {
                        var s: Float = 0
                        for j in 0..<tokens { s += m[g * tokens + j] * v[j * ld + d] }
                        out[(b * tokens + i) * inner + g * headDim + d] = s
                    }
                }
            }
        }
    }
}

extension Kernels {
    /// Scratch per worker: the reference's 2·heads·T; the GEMM route's scores and mixed
    /// maps for one block of query rows of every head (2·heads·rows·T) and every head's K
    /// packed once per image.
    func reattentionScratchFloats(tokens: Int, heads: Int, headDim: Int) -> (scores: Int, packedK: Int) {
        guard gemm != nil else { return (2 * heads * tokens, 0) }
        return (2 * heads * Kernels.attentionBlockRows(tokens: tokens) * tokens, heads * Kernels.packedCount(n: tokens, k: headDim))
    }

    /// DeepViT's re-attention (see `Reference.reattention`). The GEMM route runs, per image
    /// and block of query rows, QKᵀ and softmax per head on the fp32 microkernels, the mix
    /// and the LayerNorm over heads eight keys at a time, then PV per head reading V in place.
    /// With a pool, tasks are (image, range of query rows), each in its worker's scratch.
    func reattention(batch: Int, tokens: Int, heads: Int, headDim: Int, qkv: UnsafePointer<Float>,
                     out: UnsafeMutablePointer<Float>, mix: UnsafePointer<Float>, norm: LayerNorm,
                     scratch: AttentionScratch, capture: UnsafeMutablePointer<Float>?) {
        if plans(qkv, out, scratch.scores, gemm != nil ? scratch.packedK : nil, capture) { return }
        guard gemm != nil, gemmKN != nil else {
            return Reference.reattention(batch: batch, tokens: tokens, heads: heads, headDim: headDim, qkv: qkv, out: out,
                                         mix: mix, norm: norm, scores: scratch.scores, capture: capture)
        }
        let work = batch * heads * tokens * tokens * headDim
        if let pool, threads > 1, work >= ParallelThreshold.gemmMACs, scratch.workers >= threads {
            // Each task packs its image's K itself (a copy, small beside the products).
            let chunks = max(1, min(tokens / 32, (2 * threads + batch - 1) / batch))
            var job = ReattentionJob(kernels: self, tokens: tokens, heads: heads, headDim: headDim, qkv: qkv, out: out,
                                     mix: mix, norm: norm, scratch: scratch, capture: capture,
                                     chunks: chunks, rowsPerChunk: (tokens + chunks - 1) / chunks)
            withUnsafeMutablePointer(to: &job) { vk_pool_run(pool, reattentionTask, $0, batch * chunks) }
            return
        }
        for b in 0..<batch {
            reattentionRows(b: b, rows: 0..<tokens, tokens: tokens, heads: heads, headDim: headDim, qkv: qkv, out: out,
                            mix: mix, norm: norm, scratch: scratch, capture: capture)
        }
    }

    /// Query rows `rows` of image `b` on the GEMM route, in one worker's scratch.
    func reattentionRows(b: Int, rows: Range<Int>, tokens: Int, heads: Int, headDim: Int, qkv: UnsafePointer<Float>,
                         out: UnsafeMutablePointer<Float>, mix: UnsafePointer<Float>, norm: LayerNorm,
                         scratch: AttentionScratch, capture: UnsafeMutablePointer<Float>?) {
        let gemm = self.gemm!, gemmKN = self.gemmKN!
        let inner = heads * headDim, ld = 3 * inner
        let scale = 1 / Float(headDim).squareRoot()
        let packedStride = Kernels.packedCount(n: tokens, k: headDim)
        let limit = Kernels.attentionBlockRows(tokens: tokens)
        let plane = limit * tokens  // one head's block of maps
        let a = scratch.scores, m = scratch.scores + heads * plane
        let base = qkv + b * tokens * ld
        for h in 0..<heads { vk_f32_pack_nk(base + inner + h * headDim, ld, tokens, headDim, scratch.packedK + h * packedStride) }
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let n = min(limit, rows.upperBound - r0)
            for h in 0..<heads {
                gemm(n, tokens, headDim, base + r0 * ld + h * headDim, ld, scratch.packedK + h * packedStride, nil,
                     a + h * plane, tokens, 0)
                softmaxFn(n, tokens, a + h * plane, tokens, scale)
            }
            mixAndNormalize(heads: heads, count: n * tokens, a: a, m: m, plane: plane, mix: mix, norm: norm)
            for g in 0..<heads {
                if let capture {
                    (capture + ((b * heads + g) * tokens + r0) * tokens).update(from: m + g * plane, count: n * tokens)
                }
                gemmKN(n, headDim, tokens, m + g * plane, tokens, base + 2 * inner + g * headDim, ld, nil,
                       out + (b * tokens + r0) * inner + g * headDim, inner, 0)
            }
            r0 += n
        }
    }

    /// m[g][e] = LayerNorm over g of Σₕ a[h][e]·Θ[h][g], for `count` entries e of each head's
    /// plane, eight at a time (the reference's operations in the reference's order per lane).
    func mixAndNormalize(heads: Int, count: Int, a: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                                 plane: Int, mix: UnsafePointer<Float>, norm: LayerNorm) {
        typealias V = SIMD8<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
        let n = Float(heads)
        var e = 0
        while e + 8 <= count {
            var mean = V()
            for g in 0..<heads {
                var s = V()
                for h in 0..<heads { s += load(a + h * plane + e) * V(repeating: mix[h * heads + g]) }
                store(s, m + g * plane + e)
                mean += s
            }
            mean /= V(repeating: n)
            var variance = V()
            for g in 0..<heads { let d = load(m + g * plane + e) - mean; variance += d * d }
            variance /= V(repeating: n)
            let rstd = V(repeating: 1) / (variance + V(repeating: norm.eps)).squareRoot()
            for g in 0..<heads {
                store((load(m + g * plane + e) - mean) * rstd * V(repeating: norm.gamma[g]) + V(repeating: norm.beta[g]), m + g * plane + e)
            }
            e += 8
        }
        while e < count {
            var mean: Float = 0
            for g in 0..<heads {
                var s: Float = 0
                for h in 0..<heads { s += a[h * plane + e] * mix[h * heads + g] }
                m[g * plane + e] = s
                mean += s
            }
            mean /= n
            var variance: Float = 0
            for g in 0..<heads { let d = m[g * plane + e] - mean; variance += d * d }
            variance /= n
            let rstd = 1 / (variance + norm.eps).squareRoot()
            for g in 0..<heads { m[g * plane + e] = (m[g * plane + e] - mean) * rstd * norm.gamma[g] + norm.beta[g] }
            e += 1
        }
    }
}

struct ReattentionJob {
    var kernels: Kernels
    var tokens: Int, heads: Int, headDim: Int
    var qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>
    var mix: UnsafePointer<Float>, norm: LayerNorm
    var scratch: AttentionScratch
    var capture: UnsafeMutablePointer<Float>?
    var chunks: Int, rowsPerChunk: Int
}

let reattentionTask: vk_task_fn = { context, task, worker in
    let j = context!.assumingMemoryBound(to: ReattentionJob.self).pointee
    let b = task / j.chunks, r0 = (task % j.chunks) * j.rowsPerChunk
    guard r0 < j.tokens else { return }
    j.kernels.reattentionRows(b: b, rows: r0..<min(j.tokens, r0 + j.rowsPerChunk), tokens: j.tokens, heads: j.heads,
                              headDim: j.headDim, qkv: j.qkv, out: j.out, mix: j.mix, norm: j.norm,
                              scratch: j.scratch.worker(Int(worker)), capture: j.capture)
}
