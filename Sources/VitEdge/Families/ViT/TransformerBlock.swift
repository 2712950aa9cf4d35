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

    func run(_ s: EncoderShape, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: TransformerBlockActivations,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)? = nil) {
        run(s, k, batch: batch, tokens: tokens, a: a, observe: observe) {
            k.attention(batch: batch, tokens: s.tokens, heads: s.heads, headDim: s.headDim,
                        qkv: a.qkv, out: a.attention, scratch: a.scratch, capture: a.attentionProbabilities)
        }
    }

    /// The block with its attention core (`a.qkv` → `a.attention`) given: blocks that
    /// differ only there (DeepViT's re-attention) run the rest as a ViT's.
    func run(_ s: EncoderShape, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: TransformerBlockActivations,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?, attention core: () -> Void) {
        let rows = batch * s.tokens
        let d = s.dim
        func seen(_ l: String, _ x: UnsafeMutablePointer<Float>, _ width: Int) {
            observe?(l, UnsafeBufferPointer(start: x, count: rows * width))
        }

        // Attention branch.
        k.layerNorm(norm1, rows: rows, x: tokens, ldx: d, y: a.norm1, ldy: d)
        seen("attn.qkv", a.norm1, d)
        k.linear(qkv, rows: rows, x: a.norm1, ldx: d, y: a.qkv, ldy: 3 * s.innerDim, scratch: a.quant)
        core()
        seen("attn.proj", a.attention, s.innerDim)
        if let proj {
            if let gamma = ls1 {
                k.linear(proj, rows: rows, x: a.attention, ldx: s.innerDim, y: a.projected, ldy: d, scratch: a.quant)
                addScaled(k, tokens, a.projected, gamma, rows: rows, dim: d)
            } else {
                k.linear(proj, rows: rows, x: a.attention, ldx: s.innerDim, y: tokens, ldy: d, accumulate: true, scratch: a.quant)
            }
        } else {
            addScaled(k, tokens, a.attention, ls1, rows: rows, dim: d)
        }

        // MLP branch.
        mlpBranch(s, k, batch: batch, tokens: tokens, a: a, observe: observe)
    }

    /// x = x + fc2(gelu(fc1(norm2(x)))) (× γ): the MLP half of the block, which Swin's
    /// windowed blocks share.
    func mlpBranch(_ s: EncoderShape, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: TransformerBlockActivations,
                   observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) {
        let rows = batch * s.tokens
        let d = s.dim
        k.layerNorm(norm2, rows: rows, x: tokens, ldx: d, y: a.norm2, ldy: d)
        observe?("mlp.fc1", UnsafeBufferPointer(start: a.norm2, count: rows * d))
        k.linear(fc1, rows: rows, x: a.norm2, ldx: d, y: a.hidden, ldy: s.mlpDim, scratch: a.quant)
        k.gelu(a.hidden, count: rows * s.mlpDim, form: s.gelu)
        observe?("mlp.fc2", UnsafeBufferPointer(start: a.hidden, count: rows * s.mlpDim))
        if let gamma = ls2 {
            k.linear(fc2, rows: rows, x: a.hidden, ldx: s.mlpDim, y: a.mlpOut, ldy: d, scratch: a.quant)
            addScaled(k, tokens, a.mlpOut, gamma, rows: rows, dim: d)
        } else {
            k.linear(fc2, rows: rows, x: a.hidden, ldx: s.mlpDim, y: tokens, ldy: d, accumulate: true, scratch: a.quant)
        }
    }
}

// MARK: - Tensors, weights and Linear layers

extension TransformerBlock {
    static func tensors(_ s: EncoderShape, prefix: String) -> [(String, [Int])] {
        let p = prefix
        var t: [(String, [Int])] = [(p + "norm1.weight", [s.dim]), (p + "norm1.bias", [s.dim]),
                                    (p + "attn.qkv.weight", [3 * s.innerDim, s.dim])]
        if s.qkvBias { t.append((p + "attn.qkv.bias", [3 * s.innerDim])) }
        if s.attentionProjection { t += [(p + "attn.proj.weight", [s.dim, s.innerDim]), (p + "attn.proj.bias", [s.dim])] }
        if s.layerScale { t.append((p + "ls1.gamma", [s.dim])) }
        t += [(p + "norm2.weight", [s.dim]), (p + "norm2.bias", [s.dim]),
              (p + "mlp.fc1.weight", [s.mlpDim, s.dim]), (p + "mlp.fc1.bias", [s.mlpDim]),
              (p + "mlp.fc2.weight", [s.dim, s.mlpDim]), (p + "mlp.fc2.bias", [s.dim])]
        if s.layerScale { t.append((p + "ls2.gamma", [s.dim])) }
        return t
    }

    init(_ s: EncoderShape, prefix: String, _ t: TensorBinder) {
        let p = prefix
        self.init(norm1: t.layerNorm(p + "norm1", s.dim, eps: s.eps),
                  qkv: t.linear(p + "attn.qkv", out: 3 * s.innerDim, in: s.dim, bias: s.qkvBias),
                  proj: s.attentionProjection ? t.linear(p + "attn.proj", out: s.dim, in: s.innerDim) : nil,
                  ls1: s.layerScale ? t.float(p + "ls1.gamma") : nil,
                  norm2: t.layerNorm(p + "norm2", s.dim, eps: s.eps),
                  fc1: t.linear(p + "mlp.fc1", out: s.mlpDim, in: s.dim),
                  fc2: t.linear(p + "mlp.fc2", out: s.dim, in: s.mlpDim),
                  ls2: s.layerScale ? t.float(p + "ls2.gamma") : nil)
    }

    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) {
        body("attn.qkv", &qkv)
        if var l = proj { body("attn.proj", &l); proj = l }
        body("mlp.fc1", &fc1)
        body("mlp.fc2", &fc2)
    }

    static func linearShapes(_ s: EncoderShape, batch b: Int) -> [LinearShape] {
        let rows = b * s.tokens
        return [LinearShape(rows, s.dim, 3 * s.innerDim), LinearShape(rows, s.innerDim, s.dim),
                LinearShape(rows, s.dim, s.mlpDim), LinearShape(rows, s.mlpDim, s.dim)]
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
    static func declare(_ p: inout ProgramLayout, _ s: EncoderShape, _ k: Kernels, prefix: String, batch b: Int,
                        capture: Bool, workers: Int) throws {
        try declare(&p, s, prefix: prefix, batch: b, capture: capture, workers: workers,
                    scratch: k.attentionScratchFloats(tokens: s.tokens, headDim: s.headDim, int8: s.int8Attention),
                    int8Bytes: s.int8Attention ? Int8AttentionLayout(tokens: s.tokens, headDim: s.headDim).bytes : 0)
    }

    /// The buffers with the attention core's scratch per worker given (floats; int8 in bytes).
    static func declare(_ p: inout ProgramLayout, _ s: EncoderShape, prefix: String, batch b: Int, capture: Bool, workers: Int,
                        scratch: (scores: Int, packedK: Int), int8Bytes: Int) throws {
        let rows = b * s.tokens
        let int8Floats = int8Bytes / 4
        let n = prefix
        try p.buffer(n + "norm1", rows * s.dim)
        try p.buffer(n + "qkv", rows * 3 * s.innerDim)
        // One set of attention scratch per worker thread.
        try p.buffer(n + "scores", scratch.scores * workers)
        try p.buffer(n + "packed_k", scratch.packedK * workers)
        // int8 attention (opt-in): one Int8AttentionLayout per worker, in floats.
        try p.buffer(n + "attention_int8", int8Floats * workers)
        try p.buffer(n + "attention", rows * s.innerDim)
        // A layer scale the converter could not fold needs the branch's output apart.
        try p.buffer(n + "projected", s.layerScale ? rows * s.dim : 0)
        try p.buffer(n + "norm2", rows * s.dim)
        try p.buffer(n + "hidden", rows * s.mlpDim)
        try p.buffer(n + "mlp_out", s.layerScale ? rows * s.dim : 0)
        if capture { try p.buffer(n + "attention_probabilities", b * s.heads * s.tokens * s.tokens) }
    }

    static func activations(_ v: BufferViews, _ s: EncoderShape, _ k: Kernels, prefix: String, capture: Bool, workers: Int,
                            quant: QuantScratch?) -> TransformerBlockActivations {
        activations(v, s, prefix: prefix, capture: capture, workers: workers, quant: quant,
                    scratch: k.attentionScratchFloats(tokens: s.tokens, headDim: s.headDim, int8: s.int8Attention),
                    int8Bytes: s.int8Attention ? Int8AttentionLayout(tokens: s.tokens, headDim: s.headDim).bytes : 0)
    }

    static func activations(_ v: BufferViews, _ s: EncoderShape, prefix: String, capture: Bool, workers: Int, quant: QuantScratch?,
                            scratch scratchFloats: (scores: Int, packedK: Int), int8Bytes: Int) -> TransformerBlockActivations {
        let p = prefix
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
