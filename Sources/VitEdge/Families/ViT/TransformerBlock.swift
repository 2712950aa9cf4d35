/// One pre-norm encoder block of a ViT (and of the hybrid, DeiT, DINOv2, CLIP, SigLIP):
///   x = x + proj(attention(norm1(x)))
///   x = x + fc2(gelu(fc1(norm2(x))))
/// (with per-channel layer scale on each branch when the converter could not fold it).
struct TransformerBlock: EncoderBlock {
    var norm1: LayerNorm
    /// [3·inner, dim]: q, k, v stacked
    var qkv: Linear
    /// [dim, inner], or nil when attention has no output projection
    var proj: Linear?
    /// [dim] layer scale after attention, or nil
    var ls1: UnsafePointer<Float>?
    var norm2: LayerNorm
    /// [mlpDim, dim]
    var fc1: Linear
    /// [dim, mlpDim]
    var fc2: Linear
    /// [dim] layer scale after the MLP, or nil
    var ls2: UnsafePointer<Float>?

    func run(_ c: ViTConfig, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: TransformerBlockActivations,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)? = nil) {
        run(c, k, batch: batch, tokens: tokens, a: a, observe: observe) {
            k.attention(batch: batch, tokens: c.tokens, heads: c.heads, headDim: c.headDim,
                        qkv: a.qkv, out: a.attention, scratch: a.scratch, capture: a.attentionProbabilities)
        }
    }

    /// The block with its attention core (`a.qkv` → `a.attention`) given: blocks that
    /// differ only there (DeepViT's re-attention) run the rest as a ViT's.
    func run(_ c: ViTConfig, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: TransformerBlockActivations,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?, attention core: () -> Void) {
        let rows = batch * c.tokens
        let d = c.dim
        func seen(_ l: String, _ x: UnsafeMutablePointer<Float>, _ width: Int) {
            observe?(l, UnsafeBufferPointer(start: x, count: rows * width))
        }

        // Attention branch.
        k.layerNorm(norm1, rows: rows, x: tokens, ldx: d, y: a.norm1, ldy: d)
        seen("attn.qkv", a.norm1, d)
        k.linear(qkv, rows: rows, x: a.norm1, ldx: d, y: a.qkv, ldy: 3 * c.innerDim, scratch: a.quant)
        core()
        seen("attn.proj", a.attention, c.innerDim)
        if let proj {
            if let gamma = ls1 {
                k.linear(proj, rows: rows, x: a.attention, ldx: c.innerDim, y: a.projected, ldy: d, scratch: a.quant)
                addScaled(k, tokens, a.projected, gamma, rows: rows, dim: d)
            } else {
                k.linear(proj, rows: rows, x: a.attention, ldx: c.innerDim, y: tokens, ldy: d, accumulate: true, scratch: a.quant)
            }
        } else {
            addScaled(k, tokens, a.attention, ls1, rows: rows, dim: d)
        }

        // MLP branch.
        k.layerNorm(norm2, rows: rows, x: tokens, ldx: d, y: a.norm2, ldy: d)
        seen("mlp.fc1", a.norm2, d)
        k.linear(fc1, rows: rows, x: a.norm2, ldx: d, y: a.hidden, ldy: c.mlpDim, scratch: a.quant)
        k.gelu(a.hidden, count: rows * c.mlpDim, form: c.gelu)
        seen("mlp.fc2", a.hidden, c.mlpDim)
        if let gamma = ls2 {
            k.linear(fc2, rows: rows, x: a.hidden, ldx: c.mlpDim, y: a.mlpOut, ldy: d, scratch: a.quant)
            addScaled(k, tokens, a.mlpOut, gamma, rows: rows, dim: d)
        } else {
            k.linear(fc2, rows: rows, x: a.hidden, ldx: c.mlpDim, y: tokens, ldy: d, accumulate: true, scratch: a.quant)
        }
    }
}

// MARK: - Tensors, weights and Linear layers

extension TransformerBlock {
    static func tensors(_ c: ViTConfig, block i: Int) -> [(String, [Int])] {
        let p = "blocks.\(i)."
        var t: [(String, [Int])] = [(p + "norm1.weight", [c.dim]), (p + "norm1.bias", [c.dim]),
                                    (p + "attn.qkv.weight", [3 * c.innerDim, c.dim])]
        if c.qkvBias { t.append((p + "attn.qkv.bias", [3 * c.innerDim])) }
        if c.attentionProjection { t += [(p + "attn.proj.weight", [c.dim, c.innerDim]), (p + "attn.proj.bias", [c.dim])] }
        if c.layerScale { t.append((p + "ls1.gamma", [c.dim])) }
        t += [(p + "norm2.weight", [c.dim]), (p + "norm2.bias", [c.dim]),
              (p + "mlp.fc1.weight", [c.mlpDim, c.dim]), (p + "mlp.fc1.bias", [c.mlpDim]),
              (p + "mlp.fc2.weight", [c.dim, c.mlpDim]), (p + "mlp.fc2.bias", [c.dim])]
        if c.layerScale { t.append((p + "ls2.gamma", [c.dim])) }
        return t
    }

    init(_ c: ViTConfig, block i: Int, _ t: TensorBinder) {
        let p = "blocks.\(i)."
        self.init(norm1: t.layerNorm(p + "norm1", c.dim),
                  qkv: t.linear(p + "attn.qkv", out: 3 * c.innerDim, in: c.dim, bias: c.qkvBias),
                  proj: c.attentionProjection ? t.linear(p + "attn.proj", out: c.dim, in: c.innerDim) : nil,
                  ls1: c.layerScale ? t.float(p + "ls1.gamma") : nil,
                  norm2: t.layerNorm(p + "norm2", c.dim),
                  fc1: t.linear(p + "mlp.fc1", out: c.mlpDim, in: c.dim),
                  fc2: t.linear(p + "mlp.fc2", out: c.dim, in: c.mlpDim),
                  ls2: c.layerScale ? t.float(p + "ls2.gamma") : nil)
    }

    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) {
        body("attn.qkv", &qkv)
        if var l = proj { body("attn.proj", &l); proj = l }
        body("mlp.fc1", &fc1)
        body("mlp.fc2", &fc2)
    }

    static func linearShapes(_ c: ViTConfig, batch b: Int) -> [LinearShape] {
        let rows = b * c.tokens
        return [LinearShape(rows, c.dim, 3 * c.innerDim), LinearShape(rows, c.innerDim, c.dim),
                LinearShape(rows, c.dim, c.mlpDim), LinearShape(rows, c.mlpDim, c.dim)]
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
struct TransformerBlockActivations {
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

// MARK: - Buffers (their steps come from running `run`, see `StepTrace`)

extension TransformerBlock {
    static func declare(_ p: inout ProgramLayout, _ c: ViTConfig, _ k: Kernels, block i: Int, batch b: Int,
                        capture: Bool, workers: Int) throws {
        try declare(&p, c, block: i, batch: b, capture: capture, workers: workers,
                    scratch: k.attentionScratchFloats(tokens: c.tokens, headDim: c.headDim, int8: c.int8Attention),
                    int8Bytes: c.int8Attention ? Int8AttentionLayout(tokens: c.tokens, headDim: c.headDim).bytes : 0)
    }

    /// The buffers with the attention core's scratch per worker given (floats; int8 in bytes).
    static func declare(_ p: inout ProgramLayout, _ c: ViTConfig, block i: Int, batch b: Int, capture: Bool, workers: Int,
                        scratch: (scores: Int, packedK: Int), int8Bytes: Int) throws {
        let rows = b * c.tokens
        let int8Floats = int8Bytes / 4
        let n = "blocks.\(i)."
        try p.buffer(n + "norm1", rows * c.dim)
        try p.buffer(n + "qkv", rows * 3 * c.innerDim)
        // One set of attention scratch per worker thread.
        try p.buffer(n + "scores", scratch.scores * workers)
        try p.buffer(n + "packed_k", scratch.packedK * workers)
        // int8 attention (opt-in): one Int8AttentionLayout per worker, in floats.
        try p.buffer(n + "attention_int8", int8Floats * workers)
        try p.buffer(n + "attention", rows * c.innerDim)
        // A layer scale the converter could not fold needs the branch's output apart.
        try p.buffer(n + "projected", c.layerScale ? rows * c.dim : 0)
        try p.buffer(n + "norm2", rows * c.dim)
        try p.buffer(n + "hidden", rows * c.mlpDim)
        try p.buffer(n + "mlp_out", c.layerScale ? rows * c.dim : 0)
        if capture { try p.buffer(n + "attention_probabilities", b * c.heads * c.tokens * c.tokens) }
    }

    static func activations(_ v: BufferViews, _ c: ViTConfig, _ k: Kernels, block i: Int, capture: Bool, workers: Int,
                            quant: QuantScratch?) -> TransformerBlockActivations {
        activations(v, c, block: i, capture: capture, workers: workers, quant: quant,
                    scratch: k.attentionScratchFloats(tokens: c.tokens, headDim: c.headDim, int8: c.int8Attention),
                    int8Bytes: c.int8Attention ? Int8AttentionLayout(tokens: c.tokens, headDim: c.headDim).bytes : 0)
    }

    static func activations(_ v: BufferViews, _ c: ViTConfig, block i: Int, capture: Bool, workers: Int, quant: QuantScratch?,
                            scratch scratchFloats: (scores: Int, packedK: Int), int8Bytes: Int) -> TransformerBlockActivations {
        let p = "blocks.\(i)."
        return TransformerBlockActivations(
            norm1: v.floats(p + "norm1"), qkv: v.floats(p + "qkv"),
            scratch: AttentionScratch(scores: v.floats(p + "scores"), packedK: v.floats(p + "packed_k"),
                                      workers: workers, strideScores: scratchFloats.scores,
                                      strideK: scratchFloats.packedK,
                                      int8: int8Bytes > 0 ? v.raw(p + "attention_int8") : nil,
                                      strideInt8: int8Bytes),
            attention: v.floats(p + "attention"), projected: v.floats(p + "projected"), norm2: v.floats(p + "norm2"),
            hidden: v.floats(p + "hidden"), mlpOut: v.floats(p + "mlp_out"), quant: quant,
            attentionProbabilities: capture ? v.floats(p + "attention_probabilities") : nil)
    }

    static func attentionProbabilities(_ a: TransformerBlockActivations) -> UnsafeMutablePointer<Float>? { a.attentionProbabilities }
    static var noInt8Attention: String? { nil }
}
