/// PVT v2's block (timm `pvt_v2.Block`):
///   x = x + proj(attention(q(n), kv(LayerNorm(sr(n)))))      n = norm1(x), sr: k×k/k conv
///   x = x + fc2(gelu(dwconv3×3(fc1(norm2(x)))))
/// The linear variant (`pvt_v2_b2_li`) pools n to 7×7 instead, then a 1×1 sr, LayerNorm and
/// GELU; its MLP has a ReLU before the depthwise convolution.
/// Queries are every token; keys and values come from the grid reduced k times on each
/// side (no reduction when k = 1: keys from n itself), so attention is T × T/k² —
/// `Kernels.crossAttention`. The reduction convolution is an im2col (k×k/k: non-overlapping
/// windows, like patches) and a Linear over k²·D, so int8 covers it with the other Linears.
struct PVTBlock: EncoderBlock {
    var norm1: LayerNorm
    /// [D, D]
    var q: Linear
    /// [2·D, D]: K then V
    var kv: Linear
    /// [D, k·k·D] in (ky, kx, c) order, with bias, and its LayerNorm; nil without reduction
    var sr: Linear?
    var srNorm: LayerNorm?
    /// [D, D]
    var proj: Linear
    var norm2: LayerNorm
    /// [H, D]
    var fc1: Linear
    /// [9, H] tap-major, and [H]
    var dwWeight: UnsafePointer<Float>, dwBias: UnsafePointer<Float>
    /// [D, H]
    var fc2: Linear

    struct Activations {
        /// [B·T, D]
        var norm1: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>
        /// [B·M, k·k·D] the reduction's windows, [B·M, D] its output (M = T / k²)
        var columns: UnsafeMutablePointer<Float>, reduced: UnsafeMutablePointer<Float>
        /// [B·M, 2·D]
        var kv: UnsafeMutablePointer<Float>
        var scratch: AttentionScratch
        /// [B·T, D]
        var attention: UnsafeMutablePointer<Float>, norm2: UnsafeMutablePointer<Float>
        /// [B·T, H] fc1's output, then the depthwise convolution's
        var hidden: UnsafeMutablePointer<Float>, mixed: UnsafeMutablePointer<Float>
        var quant: QuantScratch?
    }

    /// Keys per image: the pooled or reduced grid's tokens (every token without either).
    static func keys(_ s: EncoderShape) -> Int {
        s.pooledKeys > 0 ? s.pooledKeys * s.pooledKeys : s.reduction > 1 ? (s.gridHeight / s.reduction) * (s.gridWidth / s.reduction) : s.tokens
    }

    /// The linear variant's pooled grid side (timm's `AdaptiveAvgPool2d(7)`).
    static let pooledSide = 7

    /// The reduction's input width per key: k·k·D for a k×k/k convolution, D for the linear
    /// variant's 1×1 (0 without either).
    static func reductionInputs(_ s: EncoderShape) -> Int {
        s.pooledKeys > 0 ? s.dim : s.reduction > 1 ? s.reduction * s.reduction * s.dim : 0
    }

    func run(_ s: EncoderShape, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: Activations,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) {
        let rows = batch * s.tokens, d = s.dim, m = PVTBlock.keys(s)
        func seen(_ l: String, _ x: UnsafeMutablePointer<Float>, _ count: Int) { observe?(l, UnsafeBufferPointer(start: x, count: count)) }
        // Attention branch: queries from every token, keys and values from the reduced map.
        k.layerNorm(norm1, rows: rows, x: tokens, ldx: d, y: a.norm1, ldy: d)
        seen("attn.q", a.norm1, rows * d)
        k.linear(q, rows: rows, x: a.norm1, ldx: d, y: a.q, ldy: d, scratch: a.quant)
        var source = a.norm1
        if let sr, let srNorm {
            let inputs = PVTBlock.reductionInputs(s)
            if s.pooledKeys > 0 {
                // The linear variant: the grid averaged to P×P, then a 1×1 convolution.
                adaptiveAveragePool(k, batch: batch, height: s.gridHeight, width: s.gridWidth, channels: d, side: s.pooledKeys,
                                    x: a.norm1, y: a.columns)
            } else {
                let r = s.reduction
                im2col(k, batch: batch, height: s.gridHeight, width: s.gridWidth, channels: d, kernel: r, stride: r,
                       x: a.norm1, nchw: false, columns: a.columns, padding: 0)
            }
            seen("attn.sr", a.columns, batch * m * inputs)
            k.linear(sr, rows: batch * m, x: a.columns, ldx: inputs, y: a.reduced, ldy: d, scratch: a.quant)
            k.layerNorm(srNorm, rows: batch * m, x: a.reduced, ldx: d, y: a.reduced, ldy: d)
            if s.pooledKeys > 0 { k.gelu(a.reduced, count: batch * m * d, form: s.gelu) }
            source = a.reduced
        }
        seen("attn.kv", source, batch * m * d)
        k.linear(kv, rows: batch * m, x: source, ldx: d, y: a.kv, ldy: 2 * d, scratch: a.quant)
        k.crossAttention(batch: batch, queries: s.tokens, keys: m, heads: s.heads, headDim: s.headDim, q: a.q, ldq: d,
                         kv: a.kv, out: a.attention, scratch: a.scratch)
        seen("attn.proj", a.attention, rows * d)
        k.linear(proj, rows: rows, x: a.attention, ldx: d, y: tokens, ldy: d, accumulate: true, scratch: a.quant)
        // Mix-FFN: fc1, the depthwise 3×3 convolution on the grid and GELU, fc2.
        k.layerNorm(norm2, rows: rows, x: tokens, ldx: d, y: a.norm2, ldy: d)
        seen("mlp.fc1", a.norm2, rows * d)
        k.linear(fc1, rows: rows, x: a.norm2, ldx: d, y: a.hidden, ldy: s.mlpDim, scratch: a.quant)
        if s.pooledKeys > 0 { relu(k, a.hidden, count: rows * s.mlpDim) }  // the linear variant's extra ReLU
        depthwiseConv3x3(k, batch: batch, height: s.gridHeight, width: s.gridWidth, channels: s.mlpDim, x: a.hidden,
                         weight: dwWeight, bias: dwBias, y: a.mixed, gelu: s.gelu)
        seen("mlp.fc2", a.mixed, rows * s.mlpDim)
        k.linear(fc2, rows: rows, x: a.mixed, ldx: s.mlpDim, y: tokens, ldy: d, accumulate: true, scratch: a.quant)
    }

    static func tensors(_ s: EncoderShape, prefix p: String) -> [(String, [Int])] {
        let (d, h, r) = (s.dim, s.mlpDim, s.reduction)
        var t: [(String, [Int])] = [(p + "norm1.weight", [d]), (p + "norm1.bias", [d]), (p + "attn.q.weight", [d, d])]
        if s.qkvBias { t.append((p + "attn.q.bias", [d])) }
        t.append((p + "attn.kv.weight", [2 * d, d]))
        if s.qkvBias { t.append((p + "attn.kv.bias", [2 * d])) }
        if reductionInputs(s) > 0 {
            t += [(p + "attn.sr.weight", [d, reductionInputs(s)]), (p + "attn.sr.bias", [d]), (p + "attn.norm.weight", [d]), (p + "attn.norm.bias", [d])]
        }
        t += [(p + "attn.proj.weight", [d, d]), (p + "attn.proj.bias", [d]), (p + "norm2.weight", [d]), (p + "norm2.bias", [d]),
              (p + "mlp.fc1.weight", [h, d]), (p + "mlp.fc1.bias", [h]), (p + "mlp.dwconv.weight", [9, h]), (p + "mlp.dwconv.bias", [h]),
              (p + "mlp.fc2.weight", [d, h]), (p + "mlp.fc2.bias", [d])]
        return t
    }

    init(_ s: EncoderShape, prefix p: String, _ t: TensorBinder) {
        let (d, h, inputs) = (s.dim, s.mlpDim, PVTBlock.reductionInputs(s))
        norm1 = t.layerNorm(p + "norm1", d, eps: s.eps)
        q = t.linear(p + "attn.q", out: d, in: d, bias: s.qkvBias)
        kv = t.linear(p + "attn.kv", out: 2 * d, in: d, bias: s.qkvBias)
        sr = inputs > 0 ? t.linear(p + "attn.sr", out: d, in: inputs) : nil
        srNorm = inputs > 0 ? t.layerNorm(p + "attn.norm", d, eps: PVTBlock.convolutionNormEps) : nil
        proj = t.linear(p + "attn.proj", out: d, in: d)
        norm2 = t.layerNorm(p + "norm2", d, eps: s.eps)
        fc1 = t.linear(p + "mlp.fc1", out: h, in: d)
        (dwWeight, dwBias) = (t.float(p + "mlp.dwconv.weight"), t.float(p + "mlp.dwconv.bias"))
        fc2 = t.linear(p + "mlp.fc2", out: d, in: h)
    }

    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) {
        body("attn.q", &q)
        body("attn.kv", &kv)
        if var l = sr { body("attn.sr", &l); sr = l }
        body("attn.proj", &proj)
        body("mlp.fc1", &fc1)
        body("mlp.fc2", &fc2)
    }

    static func linearShapes(_ s: EncoderShape, batch b: Int) -> [LinearShape] {
        let rows = b * s.tokens, m = b * keys(s), d = s.dim
        let reduction = reductionInputs(s) > 0 ? [LinearShape(m, reductionInputs(s), d)] : []
        return [LinearShape(rows, d, d), LinearShape(m, d, 2 * d)] + reduction
            + [LinearShape(rows, d, d), LinearShape(rows, d, s.mlpDim), LinearShape(rows, s.mlpDim, d)]
    }

    static func declare(_ p: inout ProgramLayout, _ s: EncoderShape, _ k: Kernels, prefix n: String, batch b: Int,
                        capture: Bool, workers: Int) throws {
        let rows = b * s.tokens, m = b * keys(s), (d, inputs) = (s.dim, reductionInputs(s))
        let scratch = k.attentionScratchFloats(tokens: keys(s), headDim: s.headDim, int8: false)
        try p.buffer(n + "norm1", rows * d)
        try p.buffer(n + "q", rows * d)
        try p.buffer(n + "columns", m * inputs)
        try p.buffer(n + "reduced", inputs > 0 ? m * d : 0)
        try p.buffer(n + "kv", m * 2 * d)
        try p.buffer(n + "scores", scratch.scores * workers)
        try p.buffer(n + "packed_k", scratch.packedK * workers)
        try p.buffer(n + "attention", rows * d)
        try p.buffer(n + "norm2", rows * d)
        try p.buffer(n + "hidden", rows * s.mlpDim)
        try p.buffer(n + "mixed", rows * s.mlpDim)
    }

    static func activations(_ v: BufferViews, _ s: EncoderShape, _ k: Kernels, prefix n: String, capture: Bool, workers: Int,
                            quant: QuantScratch?) -> Activations {
        let scratch = k.attentionScratchFloats(tokens: keys(s), headDim: s.headDim, int8: false)
        return Activations(norm1: v.floats(n + "norm1"), q: v.floats(n + "q"), columns: v.floats(n + "columns"),
                           reduced: v.floats(n + "reduced"), kv: v.floats(n + "kv"),
                           scratch: AttentionScratch(scores: v.floats(n + "scores"), packedK: v.floats(n + "packed_k"), workers: workers,
                                                     strideScores: scratch.scores, strideK: scratch.packedK),
                           attention: v.floats(n + "attention"), norm2: v.floats(n + "norm2"), hidden: v.floats(n + "hidden"),
                           mixed: v.floats(n + "mixed"), quant: quant)
    }

    /// timm builds the norms after PVT's convolutions (patch embeddings, the reduction) as
    /// `nn.LayerNorm` (ε 1e-5) and the blocks' and stages' as its own LayerNorm (ε 1e-6, the
    /// config's `eps`).
    static let convolutionNormEps: Float = 1e-5

    static var noInt8Attention: String? { "reads its keys from a reduced map (spatial-reduction attention), which has no int8 form here" }
}

/// PVT v2's step between stages (timm `OverlapPatchEmbed(3, 2)` at the start of stages
/// 1...): the previous stage's closing LayerNorm (`norm_in`, timm's `stages.S−1.norm`), a
/// 3×3/2 convolution with padding 1 over the grid (im2col and a Linear over 9·D), and
/// its LayerNorm: [B·H·W, D] → [B·⌈H/2⌉·⌈W/2⌉, D'] back into the residual stream.
struct PVTDownsample: EncoderBlock {
    var normIn: LayerNorm
    /// [D', 9·D] in (ky, kx, c) order, with bias
    var proj: Linear
    var norm: LayerNorm

    struct Activations { var columns: UnsafeMutablePointer<Float>; var quant: QuantScratch? }

    static func outputTokens(_ s: EncoderShape) -> Int {
        convolutionOutput(s.gridHeight, kernel: 3, stride: 2, padding: 1) * convolutionOutput(s.gridWidth, kernel: 3, stride: 2, padding: 1)
    }

    func run(_ s: EncoderShape, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: Activations,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) {
        let (d, o) = (s.dim, s.outDim)
        let rows = batch * PVTDownsample.outputTokens(s)
        k.layerNorm(normIn, rows: batch * s.tokens, x: tokens, ldx: d, y: tokens, ldy: d)
        im2col(k, batch: batch, height: s.gridHeight, width: s.gridWidth, channels: d, kernel: 3, stride: 2, x: tokens, nchw: false,
               columns: a.columns, padding: 1)
        observe?("proj", UnsafeBufferPointer(start: a.columns, count: rows * 9 * d))
        k.linear(proj, rows: rows, x: a.columns, ldx: 9 * d, y: tokens, ldy: o, scratch: a.quant)
        k.layerNorm(norm, rows: rows, x: tokens, ldx: o, y: tokens, ldy: o)
    }

    static func tensors(_ s: EncoderShape, prefix p: String) -> [(String, [Int])] {
        [(p + "norm_in.weight", [s.dim]), (p + "norm_in.bias", [s.dim]), (p + "proj.weight", [s.outDim, 9 * s.dim]),
         (p + "proj.bias", [s.outDim]), (p + "norm.weight", [s.outDim]), (p + "norm.bias", [s.outDim])]
    }

    init(_ s: EncoderShape, prefix p: String, _ t: TensorBinder) {
        normIn = t.layerNorm(p + "norm_in", s.dim, eps: s.eps)
        proj = t.linear(p + "proj", out: s.outDim, in: 9 * s.dim)
        norm = t.layerNorm(p + "norm", s.outDim, eps: PVTBlock.convolutionNormEps)
    }

    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) { body("proj", &proj) }

    static func linearShapes(_ s: EncoderShape, batch b: Int) -> [LinearShape] { [LinearShape(b * outputTokens(s), 9 * s.dim, s.outDim)] }

    static func declare(_ p: inout ProgramLayout, _ s: EncoderShape, _ k: Kernels, prefix: String, batch b: Int,
                        capture: Bool, workers: Int) throws {
        try p.buffer(prefix + "columns", b * outputTokens(s) * 9 * s.dim)
    }

    static func activations(_ v: BufferViews, _ s: EncoderShape, _ k: Kernels, prefix: String, capture: Bool, workers: Int,
                            quant: QuantScratch?) -> Activations {
        Activations(columns: v.floats(prefix + "columns"), quant: quant)
    }

    static var noInt8Attention: String? { nil }
}
