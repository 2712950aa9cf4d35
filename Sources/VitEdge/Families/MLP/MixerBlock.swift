/// One block of an MLP model on the residual stream `tokens` [B·N, D]:
///   MLP-Mixer: x = x + mlp_tokens(norm1(x)ᵀ)ᵀ          x = x + mlp_channels(norm2(x))
///   ResMLP:    x = x + ls1 · linear_tokens(aff1(x)ᵀ)ᵀ   x = x + ls2 · mlp_channels(aff2(x))
/// Token mixing is a Linear over the token axis: the normed tokens are written
/// transposed, [B·D, N], so each channel of each image is one row of N tokens and the
/// token layers run on the same GEMMs (fp32 or int8) as every other Linear, their
/// bias per token being the layer's bias. The result is added back transposed.
struct MixerBlock: EncoderBlock {
    /// LayerNorm (Mixer) or affine (ResMLP)
    var norm1: ChannelNorm
    /// Mixer: the token MLP's fc1 [tokenMlpDim, T]; ResMLP: `linear_tokens` [T, T]
    var tokens1: Linear
    /// Mixer: the token MLP's fc2 [T, tokenMlpDim]; ResMLP: nil
    var tokens2: Linear?
    /// [dim] layer scale of the token branch (ResMLP), or nil
    var ls1: UnsafePointer<Float>?
    var norm2: ChannelNorm
    /// [mlpDim, dim]
    var fc1: Linear
    /// [dim, mlpDim]
    var fc2: Linear
    /// [dim] layer scale of the channel branch (ResMLP), or nil
    var ls2: UnsafePointer<Float>?

    /// The checkpoint names of the token-mixing layers.
    var tokenLayerNames: [String] { tokens2 == nil ? ["linear_tokens"] : ["mlp_tokens.fc1", "mlp_tokens.fc2"] }

    func run(_ s: EncoderShape, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: MixerBlockActivations,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)? = nil) {
        let n = s.tokens, d = s.dim
        let rows = batch * n          // token rows: the channel MLP's
        let channelRows = batch * d   // channel rows: the token mixer's
        func seen(_ layer: StaticString, _ x: UnsafeMutablePointer<Float>, _ count: Int) {
            if let observe { observe("\(layer)", UnsafeBufferPointer(start: x, count: count)) }
        }

        // Token-mixing branch.
        switch norm1 {
        case .affine(let aff):
            affineTransposed(aff, k, batch: batch, tokens: n, dim: d, x: tokens, y: a.transposed)
        case .layerNorm:
            norm1.apply(k, rows: rows, x: tokens, ldx: d, y: a.norm1, ldy: d)
            transposeTokens(k, batch: batch, tokens: n, dim: d, x: a.norm1, y: a.transposed)
        }
        seen(tokens2 == nil ? "linear_tokens" : "mlp_tokens.fc1", a.transposed, channelRows * n)
        if let second = tokens2 {
            let hidden = tokens1.outFeatures
            k.linear(tokens1, rows: channelRows, x: a.transposed, ldx: n, y: a.tokenHidden, ldy: hidden, scratch: a.quant)
            k.gelu(a.tokenHidden, count: channelRows * hidden, form: s.gelu)
            seen("mlp_tokens.fc2", a.tokenHidden, channelRows * hidden)
            k.linear(second, rows: channelRows, x: a.tokenHidden, ldx: hidden, y: a.mixed, ldy: n, scratch: a.quant)
        } else {
            k.linear(tokens1, rows: channelRows, x: a.transposed, ldx: n, y: a.mixed, ldy: n, scratch: a.quant)
        }
        addTransposed(k, tokens, a.mixed, ls1, batch: batch, tokens: n, dim: d)

        // Channel MLP branch.
        norm2.apply(k, rows: rows, x: tokens, ldx: d, y: a.norm2, ldy: d)
        seen("mlp_channels.fc1", a.norm2, rows * d)
        k.linear(fc1, rows: rows, x: a.norm2, ldx: d, y: a.hidden, ldy: s.mlpDim, scratch: a.quant)
        k.gelu(a.hidden, count: rows * s.mlpDim, form: s.gelu)
        seen("mlp_channels.fc2", a.hidden, rows * s.mlpDim)
        if let gamma = ls2 {
            k.linear(fc2, rows: rows, x: a.hidden, ldx: s.mlpDim, y: a.mlpOut, ldy: d, scratch: a.quant)
            addScaled(k, tokens, a.mlpOut, gamma, rows: rows, dim: d)
        } else {
            k.linear(fc2, rows: rows, x: a.hidden, ldx: s.mlpDim, y: tokens, ldy: d, accumulate: true, scratch: a.quant)
        }
    }
}

/// One MLP block's intermediates.
struct MixerBlockActivations {
    /// [B·N, D] norm1 output (MLP-Mixer; ResMLP's affine writes `transposed` directly)
    var norm1: UnsafeMutablePointer<Float>
    /// [B·D, N] the normed tokens, one row per channel of each image
    var transposed: UnsafeMutablePointer<Float>
    /// [B·D, tokenMlpDim] the token MLP's hidden layer (MLP-Mixer)
    var tokenHidden: UnsafeMutablePointer<Float>
    /// [B·D, N] the token mixer's output
    var mixed: UnsafeMutablePointer<Float>
    /// [B·N, D]
    var norm2: UnsafeMutablePointer<Float>
    /// [B·N, mlpDim]
    var hidden: UnsafeMutablePointer<Float>
    /// [B·N, D] fc2 output before layer scale (ResMLP)
    var mlpOut: UnsafeMutablePointer<Float>
    var quant: QuantScratch?
}

// MARK: - Tensors, weights, Linear layers and buffers (steps: from running `run`)

extension MixerBlock {
    /// timm's names; ResMLP's affine norms keep timm's `alpha` and `beta`.
    static func tensors(_ s: EncoderShape, prefix: String) -> [(String, [Int])] {
        let d = s.dim, n = s.tokens
        let norm = s.architecture == .resmlp ? ["alpha", "beta"] : ["weight", "bias"]
        let p = prefix
        var t: [(String, [Int])] = norm.map { (p + "norm1." + $0, [d]) }
        if s.architecture == .mixer {
            t += [(p + "mlp_tokens.fc1.weight", [s.tokenMlpDim, n]), (p + "mlp_tokens.fc1.bias", [s.tokenMlpDim]),
                  (p + "mlp_tokens.fc2.weight", [n, s.tokenMlpDim]), (p + "mlp_tokens.fc2.bias", [n])]
        } else {
            t += [(p + "linear_tokens.weight", [n, n]), (p + "linear_tokens.bias", [n]), (p + "ls1", [d])]
        }
        t += norm.map { (p + "norm2." + $0, [d]) }
        t += [(p + "mlp_channels.fc1.weight", [s.mlpDim, d]), (p + "mlp_channels.fc1.bias", [s.mlpDim]),
              (p + "mlp_channels.fc2.weight", [d, s.mlpDim]), (p + "mlp_channels.fc2.bias", [d])]
        if s.layerScale { t.append((p + "ls2", [d])) }
        return t
    }

    /// LayerNorm (MLP-Mixer) or ResMLP's affine (`alpha`, `beta`) over the channels.
    static func channelNorm(_ s: EncoderShape, _ prefix: String, _ t: TensorBinder) -> ChannelNorm {
        s.architecture == .resmlp
            ? .affine(LayerNorm(gamma: t.float(prefix + ".alpha"), beta: t.float(prefix + ".beta"), count: s.dim, eps: 0))
            : .layerNorm(t.layerNorm(prefix, s.dim, eps: s.eps))
    }

    init(_ s: EncoderShape, prefix: String, _ t: TensorBinder) {
        let p = prefix, n = s.tokens
        let mixer = s.architecture == .mixer
        self.init(norm1: MixerBlock.channelNorm(s, p + "norm1", t),
                  tokens1: mixer ? t.linear(p + "mlp_tokens.fc1", out: s.tokenMlpDim, in: n) : t.linear(p + "linear_tokens", out: n, in: n),
                  tokens2: mixer ? t.linear(p + "mlp_tokens.fc2", out: n, in: s.tokenMlpDim) : nil,
                  ls1: s.layerScale ? t.float(p + "ls1") : nil,
                  norm2: MixerBlock.channelNorm(s, p + "norm2", t),
                  fc1: t.linear(p + "mlp_channels.fc1", out: s.mlpDim, in: s.dim),
                  fc2: t.linear(p + "mlp_channels.fc2", out: s.dim, in: s.mlpDim),
                  ls2: s.layerScale ? t.float(p + "ls2") : nil)
    }

    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) {
        let names = tokenLayerNames
        body(names[0], &tokens1)
        if var l = tokens2 { body(names[1], &l); tokens2 = l }
        body("mlp_channels.fc1", &fc1)
        body("mlp_channels.fc2", &fc2)
    }

    /// The channel MLP's rows are B·T tokens; the token mixers run on the transposed tokens,
    /// B·D rows.
    static func linearShapes(_ s: EncoderShape, batch b: Int) -> [LinearShape] {
        let rows = b * s.tokens
        var l = [LinearShape(rows, s.dim, s.mlpDim), LinearShape(rows, s.mlpDim, s.dim)]
        switch s.architecture {
        case .mixer: l += [LinearShape(b * s.dim, s.tokens, s.tokenMlpDim), LinearShape(b * s.dim, s.tokenMlpDim, s.tokens)]
        case .resmlp: l += [LinearShape(b * s.dim, s.tokens, s.tokens)]
        case .vit, .hybrid, .deepvit, .t2t, .swin, .pvt: preconditionFailure("\(s.architecture.displayName) has attention blocks")
        }
        return l
    }

    static func declare(_ p: inout ProgramLayout, _ s: EncoderShape, _ k: Kernels, prefix: String, batch b: Int,
                        capture: Bool, workers: Int) throws {
        let rows = b * s.tokens, channelRows = b * s.dim
        let mixer = s.architecture == .mixer
        let n = prefix
        try p.buffer(n + "norm1", mixer ? rows * s.dim : 0)
        try p.buffer(n + "transposed", channelRows * s.tokens)
        try p.buffer(n + "token_hidden", mixer ? channelRows * s.tokenMlpDim : 0)
        try p.buffer(n + "mixed", channelRows * s.tokens)
        try p.buffer(n + "norm2", rows * s.dim)
        try p.buffer(n + "hidden", rows * s.mlpDim)
        try p.buffer(n + "mlp_out", s.layerScale ? rows * s.dim : 0)
    }

    static var noInt8Attention: String? { "has no attention (its blocks mix tokens with Linear layers)" }

    static func activations(_ v: BufferViews, _ s: EncoderShape, _ k: Kernels, prefix: String, capture: Bool, workers: Int,
                            quant: QuantScratch?) -> MixerBlockActivations {
        let p = prefix
        return MixerBlockActivations(norm1: v.floats(p + "norm1"), transposed: v.floats(p + "transposed"),
                                     tokenHidden: v.floats(p + "token_hidden"), mixed: v.floats(p + "mixed"),
                                     norm2: v.floats(p + "norm2"), hidden: v.floats(p + "hidden"), mlpOut: v.floats(p + "mlp_out"),
                                     quant: quant)
    }
}

// MARK: - The token-axis row operations (plain loops: O(N·D), beside GEMMs of O(N·D·H))

/// Tile edge of the transposes: a 16×16 tile of floats reads and writes whole cache lines.
private let tile = 16

/// y[b][d][t] = x[b][t][d]: each image's [N, D] tokens as [D, N].
func transposeTokens(_ k: Kernels, batch: Int, tokens n: Int, dim d: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    if k.plans(x, y) { return }
    for b in 0..<batch {
        let xi = x + b * n * d, yi = y + b * n * d
        for t0 in stride(from: 0, to: n, by: tile) {
            for d0 in stride(from: 0, to: d, by: tile) {
                for t in t0..<min(t0 + tile, n) {
                    for j in d0..<min(d0 + tile, d) { yi[j * n + t] = xi[t * d + j] }
                }
            }
        }
    }
}

/// ResMLP's affine norm written transposed: y[b][d][t] = x[b][t][d]·α[d] + β[d]
/// (one multiply and one add, as `torch.addcmul(β, α, x)`).
func affineTransposed(_ a: LayerNorm, _ k: Kernels, batch: Int, tokens n: Int, dim d: Int,
                      x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    if k.plans(x, y) { return }
    for b in 0..<batch {
        let xi = x + b * n * d, yi = y + b * n * d
        for t0 in stride(from: 0, to: n, by: tile) {
            for d0 in stride(from: 0, to: d, by: tile) {
                for t in t0..<min(t0 + tile, n) {
                    for j in d0..<min(d0 + tile, d) { yi[j * n + t] = a.beta[j] + a.gamma[j] * xi[t * d + j] }
                }
            }
        }
    }
}

/// ResMLP's affine norm: y[r][i] = x[r][i]·α[i] + β[i]; y may be x.
func affine(_ a: LayerNorm, _ k: Kernels, rows: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
    if k.plans(x, y) { return }
    for r in 0..<rows {
        let xr = x + r * ldx, yr = y + r * ldy
        for i in 0..<a.count { yr[i] = a.beta[i] + a.gamma[i] * xr[i] }
    }
}

/// x[b][t][d] += γ[d] · y[b][d][t] (γ = 1 when nil): the token mixer's output added
/// back to the residual stream, transposed.
func addTransposed(_ k: Kernels, _ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>?,
                   batch: Int, tokens n: Int, dim d: Int) {
    if k.plans(x, y) { return }
    for b in 0..<batch {
        let xi = x + b * n * d, yi = y + b * n * d
        for t0 in stride(from: 0, to: n, by: tile) {
            for d0 in stride(from: 0, to: d, by: tile) {
                for t in t0..<min(t0 + tile, n) {
                    if let g = gamma {
                        for j in d0..<min(d0 + tile, d) { xi[t * d + j] += g[j] * yi[j * n + t] }
                    } else {
                        for j in d0..<min(d0 + tile, d) { xi[t * d + j] += yi[j * n + t] }
                    }
                }
            }
        }
    }
}
