/// T2T-ViT's tokens-to-token stem (vit-pytorch `T2TViT`, Yuan et al. 2021): instead of
/// cutting the image into patches, soft splits — `nn.Unfold` with kernel k, stride s and
/// padding s/2, so neighbouring windows overlap — each followed (but the last) by a
/// one-block, one-head transformer on the unfolded tokens and its LayerNorm; the tokens are
/// then laid back out as an image for the next split. The last split's windows are the
/// patches the ViT's patch embedding (a Linear) reads:
///   image [C, H, W] → unfold → tokens₀ [N₀, C·k₀²] → block, norm → unfold → tokens₁ ... → patches
/// The stem's blocks are the ViT's `TransformerBlock`, handed the stem's own shape (width
/// C·k², one head of that width, MLP of that width, no output projection, no qkv bias).

/// One soft split: `nn.Unfold(kernel, stride, padding: stride / 2)`.
package struct T2TLayer: Equatable, Sendable {
    package var kernel: Int
    package var stride: Int
    package init(kernel: Int, stride: Int) { (self.kernel, self.stride) = (kernel, stride) }

    var padding: Int { stride / 2 }
    /// The output size of this split on an input of n (PyTorch's unfold arithmetic).
    func output(_ n: Int) -> Int { (n + 2 * padding - kernel) / stride + 1 }
    /// The grid after every split.
    static func grid<S: Sequence<T2TLayer>>(_ n: Int, _ layers: S) -> Int { layers.reduce(n) { $1.output($0) } }
    /// vit-pytorch's default `t2t_layers`.
    static let vitPytorchDefault = [T2TLayer(kernel: 7, stride: 4), T2TLayer(kernel: 3, stride: 2), T2TLayer(kernel: 3, stride: 2)]
}

extension ViTConfig {
    /// Stage i of the stem (every split but the last): its tokens per image, its width and
    /// the grid the tokens lie on.
    func t2tStage(_ i: Int) -> (tokens: Int, dim: Int, side: Int) {
        let side = T2TLayer.grid(imageHeight, t2tLayers[...i])
        let dim = t2tLayers[...i].reduce(channels) { $0 * $1.kernel * $1.kernel }
        return (side * side, dim, side)
    }

    /// The shape the stem's block of stage i runs at (vit-pytorch's `Transformer(dim = d,
    /// heads = 1, depth = 1, dim_head = d, mlp_dim = d)`, whose attention has no output
    /// projection when one head is as wide as the tokens).
    func t2tShape(_ i: Int) -> EncoderShape {
        let s = t2tStage(i)
        return EncoderShape(architecture: .vit, tokens: s.tokens, dim: s.dim, heads: 1, headDim: s.dim, mlpDim: s.dim,
                            tokenMlpDim: 0, qkvBias: false, attentionProjection: false, layerScale: false,
                            gelu: .erf, eps: eps, int8Attention: false)
    }

    /// "3/2, 3/2, 3/2 (grids 14, 7, 4; widths 9, 81, 729)": each split's kernel/stride, for `info`.
    package var t2tDescription: String {
        let grids = t2tLayers.indices.map { T2TLayer.grid(imageHeight, t2tLayers[...$0]) }
        let widths = t2tLayers.indices.map { t2tLayers[...$0].reduce(channels) { $0 * $1.kernel * $1.kernel } }
        return t2tLayers.map { "\($0.kernel)/\($0.stride)" }.joined(separator: ", ")
            + " (grids \(grids.map(String.init).joined(separator: ", ")); widths \(widths.map(String.init).joined(separator: ", ")))"
    }

    /// The stem's own relations (called by `validate`).
    func validateT2T(source: String) throws {
        func bad(_ expected: String, _ found: String) -> VitError { .badModel(path: source, expected: expected, found: found, hint: "") }
        switch architecture {
        case .t2t: break
        case .vit, .hybrid, .mixer, .resmlp, .deepvit, .swin, .pvt:
            guard t2tLayers.isEmpty else { throw bad("t2t_layers only in a T2T-ViT", architecture.rawValue) }
            return
        }
        guard (1...4).contains(t2tLayers.count),
              t2tLayers.allSatisfy({ (1...15).contains($0.kernel) && (1...15).contains($0.stride) }) else {
            throw bad("1 to 4 soft splits of kernel and stride in 1...15", "\(t2tLayers.map { [$0.kernel, $0.stride] })")
        }
        guard imageHeight == imageWidth, imageHeight <= 4096 else {
            throw bad("a square input up to 4096 (vit-pytorch lays the tokens back out as a square)", "\(imageHeight)x\(imageWidth)")
        }
        var n = imageHeight, d = channels
        for l in t2tLayers {
            n = l.output(n)
            d *= l.kernel * l.kernel
            guard n >= 1, d <= 1 << 16 else { throw bad("every soft split to leave a grid and a width up to 65536", "grid \(n), width \(d)") }
        }
        guard patchEmbedding == .linear, backbone == nil, !patchNormBefore, !patchNormAfter else {
            throw bad("a T2T stem's Linear patch embedding (no patch norms, no backbone)", "\(patchEmbedding.rawValue)")
        }
    }
}

// MARK: - Weights

/// The stem's weights: for every split but the last, its block and the transformer's norm.
/// Its blocks stay fp32 (the main blocks are the quantized layers).
struct T2TStemWeights: PatchStem {
    var blocks: [TransformerBlock]
    var norms: [LayerNorm]

    static func tensors(_ c: ViTConfig) -> [(String, [Int])] {
        (0..<(c.t2tLayers.count - 1)).flatMap { i -> [(String, [Int])] in
            let d = c.t2tStage(i).dim
            return TransformerBlock.tensors(c.t2tShape(i), prefix: "t2t.\(i).blocks.0.")
                + [("t2t.\(i).norm.weight", [d]), ("t2t.\(i).norm.bias", [d])]
        }
    }

    init(_ c: ViTConfig, _ t: TensorBinder) {
        let stages = 0..<(c.t2tLayers.count - 1)
        blocks = stages.map { TransformerBlock(c.t2tShape($0), prefix: "t2t.\($0).blocks.0.", t) }
        norms = stages.map { t.layerNorm("t2t.\($0).norm", c.t2tStage($0).dim) }
    }

    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) {
        for i in blocks.indices { blocks[i].forEachLinear { name, l in body("t2t.\(i).blocks.0." + name, &l) } }
    }

    static func linearShapes(_ c: ViTConfig, batch: Int) -> [LinearShape] { [] }

    static func declare(_ p: inout ProgramLayout, _ c: ViTConfig, _ k: Kernels, batch: Int, workers: Int) throws {
        try declareT2TStem(&p, c, k, batch: batch, workers: workers)
    }

    func bound(_ v: BufferViews, _ layout: ForwardLayout, quant: QuantScratch?) -> any BoundPatchStem {
        T2TPatches(config: layout.config, weights: self, a: layout.t2tActivations(v))
    }
}

/// The soft splits with their blocks between them; the last split's windows are the patches.
struct T2TPatches: BoundPatchStem {
    let config: ViTConfig
    let weights: T2TStemWeights
    let a: T2TActivations

    func run(_ k: Kernels, batch: Int, image: UnsafePointer<Float>, patches: UnsafeMutablePointer<Float>,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) {
        t2tStem(config, weights, k, batch: batch, image: image, a: a, patches: patches)
    }
}

// MARK: - Buffers and the forward pass

struct T2TActivations {
    /// Each stage's block shape, derived once when the session is planned
    var shapes: [EncoderShape]
    /// [B·Nᵢ, dᵢ] each stage's tokens (every split but the last)
    var tokens: [UnsafeMutablePointer<Float>]
    var blocks: [TransformerBlockActivations]
}

/// The stem's buffers (their steps come from running `t2tStem`, see `StepTrace`).
func declareT2TStem(_ p: inout ProgramLayout, _ c: ViTConfig, _ k: Kernels, batch b: Int, workers: Int) throws {
    for i in 0..<(c.t2tLayers.count - 1) {
        let s = c.t2tStage(i)
        try p.buffer("t2t.\(i).tokens", b * s.tokens * s.dim)
        try TransformerBlock.declare(&p, c.t2tShape(i), k, prefix: "t2t.\(i).blocks.0.", batch: b, capture: false, workers: workers)
    }
}

extension ForwardLayout {
    func t2tActivations(_ v: BufferViews) -> T2TActivations {
        let stages = 0..<(config.t2tLayers.count - 1)
        return T2TActivations(
            shapes: stages.map { config.t2tShape($0) },
            tokens: stages.map { v.floats("t2t.\($0).tokens") },
            blocks: stages.map { TransformerBlock.activations(v, config.t2tShape($0), kernels, prefix: "t2t.\($0).blocks.0.",
                                                             capture: false, workers: workers, quant: nil) })
    }
}

/// Image [B, C, H, W] → patches [B·N, patchDim] through the soft splits and the stem's blocks.
func t2tStem(_ c: ViTConfig, _ w: T2TStemWeights, _ k: Kernels, batch b: Int, image: UnsafePointer<Float>,
             a: T2TActivations, patches: UnsafeMutablePointer<Float>) {
    var x = image, side = c.imageHeight, channels = c.channels, nhwc = false
    for (i, layer) in c.t2tLayers.enumerated() {
        let last = i == c.t2tLayers.count - 1
        let out = last ? patches : a.tokens[i]
        unfold(k, batch: b, channels: channels, height: side, width: side, nhwc: nhwc, layer: layer, x: x, y: out)
        if last { return }
        let s = a.shapes[i]
        w.blocks[i].run(s, k, batch: b, tokens: out, a: a.blocks[i], observe: nil)
        k.layerNorm(w.norms[i], rows: b * s.tokens, x: out, ldx: s.dim, y: out, ldy: s.dim)
        // The tokens laid back out as an image: NHWC, the features its channels.
        (x, side, channels, nhwc) = (UnsafePointer(out), layer.output(side), s.dim, true)
    }
}

/// `nn.Unfold` followed by vit-pytorch's `Rearrange('b c n -> b n c')`: for each output
/// position (row-major), its window's values in PyTorch's order (channel, then kernel row,
/// then kernel column), zeros where the window falls into the padding. `x` is [B, C, H, W]
/// (the image) or [B, H, W, C] (tokens laid out as an image, `nhwc`).
func unfold(_ k: Kernels, batch: Int, channels: Int, height h: Int, width w: Int, nhwc: Bool, layer: T2TLayer,
            x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    if k.plans(x, y) { return }
    let kk = layer.kernel, s = layer.stride, pad = layer.padding
    let (ho, wo) = (layer.output(h), layer.output(w))
    let width = channels * kk * kk
    for b in 0..<batch {
        for oy in 0..<ho {
            for ox in 0..<wo {
                let row = y + ((b * ho + oy) * wo + ox) * width
                for ch in 0..<channels {
                    for ky in 0..<kk {
                        let iy = oy * s - pad + ky
                        for kx in 0..<kk {
                            let ix = ox * s - pad + kx
                            let inside = iy >= 0 && iy < h && ix >= 0 && ix < w
                            row[(ch * kk + ky) * kk + kx] = !inside ? 0
                                : nhwc ? x[((b * h + iy) * w + ix) * channels + ch] : x[((b * channels + ch) * h + iy) * w + ix]
                        }
                    }
                }
            }
        }
    }
}
