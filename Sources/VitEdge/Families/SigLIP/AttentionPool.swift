/// Multihead attention pooling (SigLIP's MAP head; timm `global_pool='map'`): one learnt
/// query (the probe) attends over the patch tokens; the result goes through the output
/// projection, then a LayerNorm and an MLP on a residual. Its output is what Hugging Face
/// calls `pooler_output` and timm the pre-logits.
///
/// The probe is a constant, so the converter folds it away: its query q = W_q·probe + b_q
/// meets each token x only through qₕ·(W_k,ₕ x + b_k,ₕ) / √d, so per head the score is
/// x·uₕ with uₕ = W_k,ₕᵀ qₕ / √d (`key_query` [heads, D]; qₕ·b_k,ₕ is the same for every
/// token and softmax ignores it). And since each head's probabilities sum to one, its
/// output Σₜ pₜ (W_v,ₕ xₜ + b_v,ₕ) is W_v,ₕ (Σₜ pₜ xₜ) + b_v,ₕ: the value projection runs on
/// one pooled vector per head, not on every token. The whole head costs O(T·D·heads + D²)
/// per image instead of a key and value projection of every token (2·T·D²).

/// The tensors of an attention-pooling head, from a config (`attn_pool.*` in a .vitq).
struct AttentionPoolShape {
    let heads: Int, dim: Int, mlpDim: Int

    init(_ c: ViTConfig) { (heads, dim, mlpDim) = (c.heads, c.dim, c.mlpDim) }

    var tensors: [(String, [Int])] {
        let (d, m) = (dim, mlpDim)
        return [("attn_pool.key_query.weight", [heads, d]),
                ("attn_pool.value.weight", [d, d]), ("attn_pool.value.bias", [d]),
                ("attn_pool.proj.weight", [d, d]), ("attn_pool.proj.bias", [d]),
                ("attn_pool.norm.weight", [d]), ("attn_pool.norm.bias", [d]),
                ("attn_pool.mlp.fc1.weight", [m, d]), ("attn_pool.mlp.fc1.bias", [m]),
                ("attn_pool.mlp.fc2.weight", [d, m]), ("attn_pool.mlp.fc2.bias", [d])]
    }

    var parameterCount: Int { tensors.reduce(0) { $0 + $1.1.reduce(1, *) } }
}

struct AttentionPoolWeights {
    /// [heads, D]: each head's folded query against the tokens (no bias)
    var keyQuery: Linear
    /// [D, D] the value projection, applied to each head's pooled tokens
    var value: Linear
    /// [D, D] the attention's output projection
    var proj: Linear
    var norm: LayerNorm
    /// [mlpDim, D]
    var fc1: Linear
    /// [D, mlpDim]
    var fc2: Linear

    /// The layers `quantize` makes int8. `key_query` stays fp32: [heads, D] against every
    /// token, it is a sliver of the head's work, and int8 would add a pass quantizing every token.
    static let quantizableLayers = ["attn_pool.value", "attn_pool.proj", "attn_pool.mlp.fc1", "attn_pool.mlp.fc2"]

    /// Each quantizable layer's rows, inputs and outputs for a batch of b (int8 scratch).
    static func linearShapes(_ c: ViTConfig, batch b: Int) -> [LinearShape] {
        [LinearShape(b * c.heads, c.dim, c.dim), LinearShape(b, c.dim, c.dim), LinearShape(b, c.dim, c.mlpDim), LinearShape(b, c.mlpDim, c.dim)]
    }

    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) {
        body("attn_pool.key_query", &keyQuery)
        body("attn_pool.value", &value)
        body("attn_pool.proj", &proj)
        body("attn_pool.mlp.fc1", &fc1)
        body("attn_pool.mlp.fc2", &fc2)
    }
}

extension AttentionPoolWeights {
    init(_ c: ViTConfig, _ t: TensorBinder) {
        self.init(keyQuery: t.linear("attn_pool.key_query", out: c.heads, in: c.dim, bias: false),
                  value: t.linear("attn_pool.value", out: c.dim, in: c.dim), proj: t.linear("attn_pool.proj", out: c.dim, in: c.dim),
                  norm: t.layerNorm("attn_pool.norm", c.dim),
                  fc1: t.linear("attn_pool.mlp.fc1", out: c.mlpDim, in: c.dim), fc2: t.linear("attn_pool.mlp.fc2", out: c.dim, in: c.mlpDim))
    }
}

/// The head's intermediates for a batch of B images of T tokens (P of them pooled).
struct AttentionPoolActivations {
    /// [B·P, heads] each token's score per head
    var scores: UnsafeMutablePointer<Float>
    /// [B, heads, P] the scores softmaxed over the tokens
    var probabilities: UnsafeMutablePointer<Float>
    /// [B·heads, D] each head's probability-weighted sum of the tokens
    var mixed: UnsafeMutablePointer<Float>
    /// [B·heads, D] the value projection of each head's sum (head h keeps its own slice)
    var values: UnsafeMutablePointer<Float>
    /// [B, D] the heads' slices side by side: the attention's output before `proj`
    var attended: UnsafeMutablePointer<Float>
    /// [B, D] LayerNorm of the projected output
    var normed: UnsafeMutablePointer<Float>
    /// [B, mlpDim]
    var hidden: UnsafeMutablePointer<Float>
    var quant: QuantScratch?
}

/// Pools each image's patch tokens (prefix tokens excluded, as timm does) into `pooled`
/// [B, D]. `observe` sees each Linear layer's input, by name (for calibration).
func attentionPool(_ c: ViTConfig, _ w: AttentionPoolWeights, _ k: Kernels, batch b: Int,
                   tokens: UnsafePointer<Float>, a: AttentionPoolActivations, pooled: UnsafeMutablePointer<Float>,
                   observe: ((String, UnsafeBufferPointer<Float>) -> Void)? = nil) {
    let (d, h, first) = (c.dim, c.heads, c.prefixTokens)
    let n = c.tokens - first
    // 1. Scores: every pooled token against each head's folded query.
    for i in 0..<b {
        let x = tokens + (i * c.tokens + first) * d
        observe?("attn_pool.key_query", UnsafeBufferPointer(start: x, count: n * d))
        k.linear(w.keyQuery, rows: n, x: x, ldx: d, y: a.scores + i * n * h, ldy: h, scratch: a.quant)
        // 2. Softmax over the tokens, per head.
        k.transpose(rows: n, cols: h, a.scores + i * n * h, ld: h, into: a.probabilities + i * h * n)
    }
    k.softmax(rows: b * h, n: n, x: a.probabilities, ld: n, scale: 1)
    // 3. Each head's weighted sum of the tokens.
    weightedSums(k, batch: b, heads: h, tokens: n, dim: d, x: tokens + first * d, ldImage: c.tokens * d,
                 probabilities: a.probabilities, out: a.mixed)
    // 4. The value projection of each head's sum; head h keeps its own hd outputs.
    observe?("attn_pool.value", UnsafeBufferPointer(start: a.mixed, count: b * h * d))
    k.linear(w.value, rows: b * h, x: a.mixed, ldx: d, y: a.values, ldy: d, scratch: a.quant)
    headSlices(k, batch: b, heads: h, dim: d, values: a.values, out: a.attended)
    // 5. Output projection, then x + MLP(LayerNorm(x)).
    observe?("attn_pool.proj", UnsafeBufferPointer(start: a.attended, count: b * d))
    k.linear(w.proj, rows: b, x: a.attended, ldx: d, y: pooled, ldy: d, scratch: a.quant)
    k.layerNorm(w.norm, rows: b, x: pooled, ldx: d, y: a.normed, ldy: d)
    observe?("attn_pool.mlp.fc1", UnsafeBufferPointer(start: a.normed, count: b * d))
    k.linear(w.fc1, rows: b, x: a.normed, ldx: d, y: a.hidden, ldy: c.mlpDim, scratch: a.quant)
    k.gelu(a.hidden, count: b * c.mlpDim, form: c.gelu)
    observe?("attn_pool.mlp.fc2", UnsafeBufferPointer(start: a.hidden, count: b * c.mlpDim))
    k.linear(w.fc2, rows: b, x: a.hidden, ldx: c.mlpDim, y: pooled, ldy: d, accumulate: true, scratch: a.quant)
}

/// out[b·H + h] = Σₜ p[b, h, t] · x[b][t]: each head's probability-weighted sum of an
/// image's n token rows (image b's rows start at x + b · ldImage).
private func weightedSums(_ k: Kernels, batch: Int, heads h: Int, tokens n: Int, dim d: Int, x: UnsafePointer<Float>,
                          ldImage: Int, probabilities: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
    if k.plans(x, probabilities, out) { return }
    for i in 0..<batch {
        let image = x + i * ldImage
        for head in 0..<h {
            let p = probabilities + (i * h + head) * n
            let o = out + (i * h + head) * d
            o.update(repeating: 0, count: d)
            for t in 0..<n {
                let pt = p[t], row = image + t * d
                for j in 0..<d { o[j] += pt * row[j] }
            }
        }
    }
}

/// out[b][h·hd ..< (h+1)·hd] = values[b·H + h][the same slice]: each head keeps its own
/// outputs of the value projection of its sum.
private func headSlices(_ k: Kernels, batch: Int, heads h: Int, dim d: Int, values: UnsafePointer<Float>,
                        out: UnsafeMutablePointer<Float>) {
    if k.plans(values, out) { return }
    let hd = d / h
    for i in 0..<batch {
        for head in 0..<h {
            (out + i * d + head * hd).update(from: values + (i * h + head) * d + head * hd, count: hd)
        }
    }
}

/// The head's buffers (their steps come from running `attentionPool`, see `StepTrace`).
func declareAttentionPool(_ p: inout ProgramLayout, _ c: ViTConfig, batch b: Int) throws {
    let n = c.tokens - c.prefixTokens
    try p.buffer("attn_pool.scores", b * n * c.heads)
    try p.buffer("attn_pool.probabilities", b * c.heads * n)
    try p.buffer("attn_pool.mixed", b * c.heads * c.dim)
    try p.buffer("attn_pool.values", b * c.heads * c.dim)
    try p.buffer("attn_pool.attended", b * c.dim)
    try p.buffer("attn_pool.normed", b * c.dim)
    try p.buffer("attn_pool.hidden", b * c.mlpDim)
}

extension ForwardLayout {
    func attentionPoolActivations(_ v: BufferViews, quant: QuantScratch?) -> AttentionPoolActivations? {
        guard config.pool == .attentionPool else { return nil }
        return AttentionPoolActivations(scores: v.floats("attn_pool.scores"), probabilities: v.floats("attn_pool.probabilities"),
                                        mixed: v.floats("attn_pool.mixed"), values: v.floats("attn_pool.values"),
                                        attended: v.floats("attn_pool.attended"), normed: v.floats("attn_pool.normed"),
                                        hidden: v.floats("attn_pool.hidden"), quant: quant)
    }
}
