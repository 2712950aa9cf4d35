/// One pre-norm encoder block on the residual stream `tokens` [B·T, D]:
///   x = x + proj(attention(norm1(x)))
///   x = x + fc2(gelu(fc1(norm2(x))))
/// (with per-channel layer scale on each branch when the model has it).
func encoderBlock(_ c: ViTConfig, _ w: BlockWeights, _ k: Kernels, batch: Int,
                  tokens: UnsafeMutablePointer<Float>, a: BlockActivations,
                  observe: ((String, UnsafeBufferPointer<Float>) -> Void)? = nil) {
    let rows = batch * c.tokens
    let d = c.dim
    func seen(_ l: String, _ x: UnsafeMutablePointer<Float>, _ width: Int) {
        observe?(l, UnsafeBufferPointer(start: x, count: rows * width))
    }

    // Attention branch.
    k.layerNorm(w.norm1, rows: rows, x: tokens, ldx: d, y: a.norm1, ldy: d)
    seen("attn.qkv", a.norm1, d)
    k.linear(w.qkv, rows: rows, x: a.norm1, ldx: d, y: a.qkv, ldy: 3 * c.innerDim, scratch: a.quant)
    k.attention(batch: batch, tokens: c.tokens, heads: c.heads, headDim: c.headDim,
                qkv: a.qkv, out: a.attention, scratch: a.scratch, capture: a.attentionProbabilities)
    seen("attn.proj", a.attention, c.innerDim)
    if let proj = w.proj {
        if let gamma = w.ls1 {
            k.linear(proj, rows: rows, x: a.attention, ldx: c.innerDim, y: a.projected, ldy: d, scratch: a.quant)
            addScaled(k, tokens, a.projected, gamma, rows: rows, dim: d)
        } else {
            k.linear(proj, rows: rows, x: a.attention, ldx: c.innerDim, y: tokens, ldy: d, accumulate: true, scratch: a.quant)
        }
    } else {
        addScaled(k, tokens, a.attention, w.ls1, rows: rows, dim: d)
    }

    // MLP branch.
    k.layerNorm(w.norm2, rows: rows, x: tokens, ldx: d, y: a.norm2, ldy: d)
    seen("mlp.fc1", a.norm2, d)
    k.linear(w.fc1, rows: rows, x: a.norm2, ldx: d, y: a.hidden, ldy: c.mlpDim, scratch: a.quant)
    k.gelu(a.hidden, count: rows * c.mlpDim, form: c.gelu)
    seen("mlp.fc2", a.hidden, c.mlpDim)
    if let gamma = w.ls2 {
        k.linear(w.fc2, rows: rows, x: a.hidden, ldx: c.mlpDim, y: a.mlpOut, ldy: d, scratch: a.quant)
        addScaled(k, tokens, a.mlpOut, gamma, rows: rows, dim: d)
    } else {
        k.linear(w.fc2, rows: rows, x: a.hidden, ldx: c.mlpDim, y: tokens, ldy: d, accumulate: true, scratch: a.quant)
    }
}

/// x[r][i] += γ[i] · y[r][i] (γ = 1 when nil): the residual add with layer scale.
/// Eight lanes at a time; the same multiply-then-add per element as a scalar loop.
func addScaled(_ k: Kernels, _ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>?,
               rows: Int, dim: Int) {
    if k.plans(x, y) { return }
    typealias V = SIMD8<Float>
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    for r in 0..<rows {
        let xr = x + r * dim, yr = y + r * dim
        var i = 0
        if let g = gamma {
            while i + 8 <= dim {
                UnsafeMutableRawPointer(xr + i).storeBytes(of: load(xr + i) + load(g + i) * load(yr + i), as: V.self)
                i += 8
            }
            while i < dim { xr[i] += g[i] * yr[i]; i += 1 }
        } else {
            while i + 8 <= dim {
                UnsafeMutableRawPointer(xr + i).storeBytes(of: load(xr + i) + load(yr + i), as: V.self)
                i += 8
            }
            while i < dim { xr[i] += yr[i]; i += 1 }
        }
    }
}

/// One block's intermediates. The planner lets consecutive blocks share memory.
struct BlockActivations {
    /// [B·T, D]
    var norm1: UnsafeMutablePointer<Float>
    /// [B·T, 3·inner]
    var qkv: UnsafeMutablePointer<Float>
    /// attention scratch: scores [T, T] and one head's packed K and V
    var scratch: AttentionScratch
    /// [B·T, inner]
    var attention: UnsafeMutablePointer<Float>
    /// [B·T, D] projection output before layer scale (only with layer scale)
    var projected: UnsafeMutablePointer<Float>
    /// [B·T, D]
    var norm2: UnsafeMutablePointer<Float>
    /// [B·T, mlpDim]
    var hidden: UnsafeMutablePointer<Float>
    /// [B·T, D] fc2 output before layer scale (only with layer scale)
    var mlpOut: UnsafeMutablePointer<Float>
    /// int8 scratch shared by the block's quantized Linear layers (nil for fp32 models)
    var quant: QuantScratch?
    /// [B, heads, T, T] attention probabilities, planned only when the session captures them
    var attentionProbabilities: UnsafeMutablePointer<Float>?
}

/// The blocks' buffers (their steps come from running `encoderBlock`, see `StepTrace`).
func declareTransformerBlocks(_ p: inout ProgramLayout, _ c: ViTConfig, _ k: Kernels, batch b: Int, captured: [Int], workers: Int) throws {
    let rows = b * c.tokens
    let scratch = k.attentionScratchFloats(tokens: c.tokens, headDim: c.headDim, int8: c.int8Attention)
    let int8Floats = c.int8Attention ? Int8AttentionLayout(tokens: c.tokens, headDim: c.headDim).bytes / 4 : 0
    // A layer scale the converter could not fold needs the branch's output apart.
    let unfolded = c.layerScale
    for i in 0..<c.depth {
        let n = "blocks.\(i)."
        try p.buffer(n + "norm1", rows * c.dim)
        try p.buffer(n + "qkv", rows * 3 * c.innerDim)
        // One set of attention scratch per worker thread.
        try p.buffer(n + "scores", scratch.scores * workers)
        try p.buffer(n + "packed_k", scratch.packedK * workers)
        // int8 attention (opt-in): one Int8AttentionLayout per worker, in floats.
        try p.buffer(n + "attention_int8", int8Floats * workers)
        try p.buffer(n + "attention", rows * c.innerDim)
        try p.buffer(n + "projected", unfolded ? rows * c.dim : 0)
        try p.buffer(n + "norm2", rows * c.dim)
        try p.buffer(n + "hidden", rows * c.mlpDim)
        try p.buffer(n + "mlp_out", unfolded ? rows * c.dim : 0)
        if captured.contains(i) { try p.buffer(n + "attention_probabilities", b * c.heads * c.tokens * c.tokens) }
    }
}

extension ForwardLayout {
    func transformerActivations(_ v: BufferViews, quant: QuantScratch?) -> [BlockActivations] {
        let scratchFloats = kernels.attentionScratchFloats(tokens: config.tokens, headDim: config.headDim, int8: config.int8Attention)
        let int8Bytes = config.int8Attention ? Int8AttentionLayout(tokens: config.tokens, headDim: config.headDim).bytes : 0
        return (0..<config.depth).map { i -> BlockActivations in
            let p = "blocks.\(i)."
            return BlockActivations(
                norm1: v.floats(p + "norm1"), qkv: v.floats(p + "qkv"),
                scratch: AttentionScratch(scores: v.floats(p + "scores"), packedK: v.floats(p + "packed_k"),
                                          workers: workers, strideScores: scratchFloats.scores,
                                          strideK: scratchFloats.packedK,
                                          int8: config.int8Attention ? v.raw(p + "attention_int8") : nil,
                                          strideInt8: int8Bytes),
                attention: v.floats(p + "attention"), projected: v.floats(p + "projected"), norm2: v.floats(p + "norm2"),
                hidden: v.floats(p + "hidden"), mlpOut: v.floats(p + "mlp_out"), quant: quant,
                attentionProbabilities: captured.contains(i) ? v.floats(p + "attention_probabilities") : nil)
        }
    }
}
