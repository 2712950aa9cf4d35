/// Swin Transformer (Liu et al. 2021; timm `SwinTransformer`): a ViT made hierarchical.
/// The patches are 4×4 (a LayerNorm after their embedding, no class token, no positions);
/// then stages, each halving the grid and doubling the width, of blocks whose attention
/// stays inside windows of W×W tokens, every second block's windows shifted by W/2 so that
/// information crosses window borders; a relative position bias per head is added to the
/// logits. Between stages, patch merging: each 2×2 group of tokens concatenated (4·D),
/// LayerNorm, a Linear to 2·D. The head: LayerNorm, the mean of the last stage's tokens,
/// the classifier.
///   patches [B·H·W, 48] → tokens [B·H·W, D] → stage 0 → merge → [B·H/2·W/2, 2D] → stage 1 → ...
/// The encoder is these layers (`ViTConfig.swinLayers`): `SwinBlock` and `PatchMerging`,
/// each handed its stage's shape; the shared parts (patch embedding, head) read
/// `tokens`/`dim` for the first stage and `outputTokens`/`outputDim` for the last.

/// One stage: its number of blocks and of attention heads (timm `depths`, `num_heads`).
package struct SwinStage: Equatable, Sendable {
    package var depth: Int
    package var heads: Int
    package init(depth: Int, heads: Int) { (self.depth, self.heads) = (depth, heads) }
}

extension ViTConfig {
    /// The grid, width, window and shift of stage i (timm's `_calc_window_shift`: a window
    /// no larger than the grid, and no shift when one window covers a side).
    func swinStage(_ i: Int) -> (gridHeight: Int, gridWidth: Int, dim: Int, windowHeight: Int, windowWidth: Int,
                                 shiftHeight: Int, shiftWidth: Int) {
        let (gh, gw) = (gridHeight >> i, gridWidth >> i)
        let (wh, ww) = (min(gh, window), min(gw, window))
        return (gh, gw, dim << i, wh, ww, gh <= window ? 0 : window / 2, gw <= window ? 0 : window / 2)
    }

    /// Swin's encoder: per stage, patch merging (but the first) then its blocks, every
    /// odd block's windows shifted. Names as timm's: `layers.S.downsample.`, `layers.S.blocks.J.`.
    var swinLayers: [EncoderLayer] {
        var layers: [EncoderLayer] = []
        for (i, stage) in swinStages.enumerated() {
            let s = swinStage(i)
            let tokens = s.gridHeight * s.gridWidth
            var shape = EncoderShape(architecture: .swin, tokens: tokens, dim: s.dim, heads: stage.heads,
                                     headDim: s.dim / stage.heads, mlpDim: mlpDim << i, tokenMlpDim: 0, qkvBias: qkvBias,
                                     attentionProjection: true, layerScale: false, gelu: gelu, eps: eps, int8Attention: int8Attention)
            (shape.gridHeight, shape.gridWidth) = (s.gridHeight, s.gridWidth)
            if i > 0 {
                let p = swinStage(i - 1)
                var merge = shape
                (merge.tokens, merge.dim, merge.gridHeight, merge.gridWidth) = (p.gridHeight * p.gridWidth, p.dim, p.gridHeight, p.gridWidth)
                layers.append(EncoderLayer(kind: PatchMerging.self, shape: merge, prefix: "layers.\(i).downsample.",
                                           outTokens: tokens, outDim: s.dim))
            }
            for j in 0..<stage.depth {
                var block = shape
                (block.windowHeight, block.windowWidth) = (s.windowHeight, s.windowWidth)
                if j % 2 == 1 { (block.shiftHeight, block.shiftWidth) = (s.shiftHeight, s.shiftWidth) }
                layers.append(EncoderLayer(kind: SwinBlock.self, shape: block, prefix: "layers.\(i).blocks.\(j).",
                                           outTokens: tokens, outDim: s.dim))
            }
        }
        return layers
    }

    /// The blocks laid out for another input size `n`: each shifted block's mask made for
    /// its new grid. The relative position tables stay as gathered, so every block's window
    /// must stay the same (a grid smaller than the window shrinks it: timm then resamples
    /// the tables, which vit-edge does not do).
    func swinRegrid(_ blocks: [any EncoderBlock], to n: ViTConfig) throws -> [any EncoderBlock] {
        let (old, new) = (encoderLayers, n.encoderLayers)
        for (a, b) in zip(old, new) where (a.shape.windowHeight, a.shape.windowWidth) != (b.shape.windowHeight, b.shape.windowWidth) {
            throw VitError.invalidSetting(.imageSize, value: "\(n.imageHeight)x\(n.imageWidth)",
                                          expected: "a size where every stage keeps its \(a.shape.windowHeight)x\(a.shape.windowWidth) windows (\(b.prefix)would have \(b.shape.windowHeight)x\(b.shape.windowWidth): its relative position table would need resampling, which vit-edge does not do)")
        }
        return zip(blocks, new).map { block, layer in (block as? SwinBlock)?.regridded(layer.shape) ?? block }
    }

    /// "2/3, 2/6, 6/12, 2/24 (window 7; grids 56, 28, 14, 7; widths 96, 192, 384, 768)", for `info`.
    package var swinDescription: String {
        let stages = swinStages.indices.map { swinStage($0) }
        return swinStages.map { "\($0.depth)/\($0.heads)" }.joined(separator: ", ")
            + " (window \(window); grids \(stages.map { $0.gridHeight == $0.gridWidth ? "\($0.gridHeight)" : "\($0.gridHeight)x\($0.gridWidth)" }.joined(separator: ", "))"
            + "; widths \(stages.map { String($0.dim) }.joined(separator: ", ")))"
    }

    /// Swin's own relations (called by `validate`): stage sizes, and grids that patch
    /// merging halves and windows tile exactly (timm pads otherwise; vit-edge refuses).
    func validateSwin(source: String) throws {
        func bad(_ expected: String, _ found: String) -> VitError { .badModel(path: source, expected: expected, found: found, hint: "") }
        switch architecture {
        case .swin: break
        case .vit, .hybrid, .mixer, .resmlp, .deepvit, .t2t, .pvt:
            guard swinStages.isEmpty && window == 0 else { throw bad("swin_stages and window only in a Swin transformer", architecture.rawValue) }
            return
        }
        guard (1...8).contains(swinStages.count), swinStages.allSatisfy({ (1...64).contains($0.depth) && (1...256).contains($0.heads) }) else {
            throw bad("1 to 8 Swin stages of 1...64 blocks and 1...256 heads", "\(swinStages.map { [$0.depth, $0.heads] })")
        }
        guard (1...32).contains(window) else { throw bad("a window in 1...32", "\(window)") }
        guard depth == swinStages.reduce(0, { $0 + $1.depth }), heads == swinStages[0].heads,
              dim % heads == 0, headDim == dim / heads, dim << (swinStages.count - 1) <= 1 << 16 else {
            throw bad("depth, heads and head size of the stages (\(swinStages.reduce(0) { $0 + $1.depth }) blocks, \(swinStages[0].heads) heads of width/heads)",
                      "depth \(depth), heads \(heads), head size \(headDim)")
        }
        guard imageHeight % patchSize == 0 && imageWidth % patchSize == 0 else {
            throw bad("image size divisible by the patch size \(patchSize)", "\(imageHeight)x\(imageWidth)")
        }
        for i in swinStages.indices {
            let s = swinStage(i)
            guard s.dim % swinStages[i].heads == 0 else { throw bad("stage \(i)'s width \(s.dim) divisible by its \(swinStages[i].heads) heads", "not") }
            guard s.gridHeight >= 1, s.gridWidth >= 1, s.gridHeight % s.windowHeight == 0, s.gridWidth % s.windowWidth == 0,
                  i == swinStages.count - 1 || (s.gridHeight % 2 == 0 && s.gridWidth % 2 == 0) else {
                let unit = patchSize * window << (swinStages.count - 1)
                throw bad("a patch grid that every stage halves evenly and its \(window)x\(window) windows tile (images a multiple of \(unit), or the size the model was made for)",
                          "stage \(i)'s grid \(s.gridHeight)x\(s.gridWidth) from \(imageHeight)x\(imageWidth) images")
            }
        }
        // The bias gathered per block [heads, N, N] and the shifted blocks' masks [windows, N, N]
        // are made at load: bounded here, before anything is allocated (Swin-L at 384: 90 MB).
        let tableBytes = swinStages.indices.reduce(0) { total, i in
            let s = swinStage(i), n = s.windowHeight * s.windowWidth
            let shifted = s.shiftHeight > 0 || s.shiftWidth > 0 ? swinStages[i].depth / 2 : 0
            return total + 4 * n * n * (swinStages[i].depth * swinStages[i].heads + shifted * (s.gridHeight * s.gridWidth / n))
        }
        guard tableBytes <= 1 << 28 else {
            throw bad("at most 256 MiB of relative position biases and shift masks, gathered at load", "\(tableBytes) bytes")
        }
        guard !classToken && !distillationToken && registerTokens == 0 && pool == .meanPatches && patchEmbedding == .convolution
                && patchNormAfter && !patchNormBefore && !preNorm && finalNorm && !poolNorm && preLogitsDim == 0 && projectionDim == 0
                && backbone == nil && !layerScale && attentionProjection else {
            throw bad("a Swin transformer's layout: patch norm, no class token or positions, final norm, mean pooling",
                      "class token \(classToken), pool \(pool.rawValue), patch norm \(patchNormAfter), final norm \(finalNorm)")
        }
    }
}
