/// PVT v2 (Wang et al. 2022; timm `PyramidVisionTransformerV2`): a pyramid of four
/// stages whose tokens come from overlapping strided convolutions (7×7/4 on the image, 3×3/2
/// between stages, each with a LayerNorm), whose attention reads keys and values from a
/// spatially reduced map (a k×k/k convolution and a LayerNorm: "spatial-reduction
/// attention", k = `sr`, none in the last stage), and whose MLP has a depthwise 3×3
/// convolution between its Linear layers (Mix-FFN). Each stage ends with a LayerNorm; the
/// head averages the last stage's tokens.
///   image → patches (7×7/4, padding 3) → tokens [B·H/4·W/4, D₀] → stage 0 → norm →
///   downsample (3×3/2) → [B·H/8·W/8, D₁] → stage 1 → ... → norm → mean → head
/// The first patch embedding is the shared one with an overlapping kernel
/// (`ViTConfig.patchKernel`); each later stage starts with `PVTDownsample` (the previous
/// stage's norm, the convolution, its norm) and the last stage's norm is the model's final
/// norm. The layers are `PVTDownsample` and `PVTBlock`, each handed its stage's shape.

/// One stage: blocks, heads, width, MLP width and the spatial reduction of its attention.
package struct PVTStage: Equatable, Sendable {
    package var depth: Int, heads: Int, dim: Int, mlpDim: Int, reduction: Int
    package init(depth: Int, heads: Int, dim: Int, mlpDim: Int, reduction: Int) {
        (self.depth, self.heads, self.dim, self.mlpDim, self.reduction) = (depth, heads, dim, mlpDim, reduction)
    }
}

extension ViTConfig {
    /// Stage i's grid: the patch grid, halved (3×3/2, padding 1) once per later stage.
    func pvtGrid(_ i: Int) -> (height: Int, width: Int) {
        var (h, w) = (gridHeight, gridWidth)
        for _ in 0..<i { (h, w) = (convolutionOutput(h, kernel: 3, stride: 2, padding: 1), convolutionOutput(w, kernel: 3, stride: 2, padding: 1)) }
        return (h, w)
    }

    /// PVT's encoder: per stage, the downsampling (but the first) then its blocks. Names as
    /// timm's: `stages.S.downsample.`, `stages.S.blocks.J.`.
    var pvtLayers: [EncoderLayer] {
        var layers: [EncoderLayer] = []
        for (i, stage) in pvtStages.enumerated() {
            let g = pvtGrid(i)
            var shape = EncoderShape(architecture: .pvt, tokens: g.height * g.width, dim: stage.dim, heads: stage.heads,
                                     headDim: stage.dim / max(1, stage.heads), mlpDim: stage.mlpDim, tokenMlpDim: 0, qkvBias: qkvBias,
                                     attentionProjection: true, layerScale: false, gelu: gelu, eps: eps, int8Attention: false)
            (shape.gridHeight, shape.gridWidth) = (g.height, g.width)
            if i > 0 {
                let p = pvtGrid(i - 1)
                var down = shape
                // The layer reads the previous stage's stream and writes this one's.
                (down.tokens, down.dim, down.gridHeight, down.gridWidth, down.outDim) = (p.height * p.width, pvtStages[i - 1].dim, p.height, p.width, stage.dim)
                layers.append(EncoderLayer(kind: PVTDownsample.self, shape: down, prefix: "stages.\(i).downsample.",
                                           outTokens: g.height * g.width, outDim: stage.dim))
            }
            for j in 0..<stage.depth {
                var block = shape
                block.reduction = stage.reduction
                block.pooledKeys = pvtLinear ? PVTBlock.pooledSide : 0
                layers.append(EncoderLayer(kind: PVTBlock.self, shape: block, prefix: "stages.\(i).blocks.\(j).",
                                           outTokens: g.height * g.width, outDim: stage.dim))
            }
        }
        return layers
    }

    /// "2/1/64/sr8, 2/2/128/sr4, 2/5/320/sr2, 2/8/512 (grids 56, 28, 14, 7)", for `info`.
    package var pvtDescription: String {
        pvtStages.map { "\($0.depth)/\($0.heads)/\($0.dim)\($0.reduction > 1 ? "/sr\($0.reduction)" : "")" }.joined(separator: ", ")
            + (pvtLinear ? " (linear: keys pooled to 7x7)" : "")
            + " (blocks/heads/width/reduction; grids \(pvtStages.indices.map { String(pvtGrid($0).height) }.joined(separator: ", ")); MLPs \(pvtStages.map { String($0.mlpDim) }.joined(separator: ", ")))"
    }

    /// PVT's own relations (called by `validate`).
    func validatePVT(source: String) throws {
        func bad(_ expected: String, _ found: String) -> VitError { .badModel(path: source, expected: expected, found: found, hint: "") }
        switch architecture {
        case .pvt: break
        case .vit, .hybrid, .mixer, .resmlp, .deepvit, .t2t, .swin:
            guard pvtStages.isEmpty && patchKernel == 0 && !pvtLinear else { throw bad("pvt_stages and patch_kernel only in a PVT v2", architecture.rawValue) }
            return
        }
        guard (1...8).contains(pvtStages.count),
              pvtStages.allSatisfy({ (1...64).contains($0.depth) && (1...256).contains($0.heads) && (1...(1 << 14)).contains($0.dim)
                  && (1...(1 << 16)).contains($0.mlpDim) && (1...32).contains($0.reduction) && $0.dim % $0.heads == 0 }) else {
            throw bad("1 to 8 PVT stages of 1...64 blocks, 1...256 heads dividing a width up to 16384, MLP up to 65536, reduction 1...32",
                      "\(pvtStages.map { [$0.depth, $0.heads, $0.dim, $0.mlpDim, $0.reduction] })")
        }
        guard !pvtLinear || pvtStages.allSatisfy({ $0.reduction == 1 }) else {
            throw bad("no convolutional reduction in PVT v2's linear variant (its keys are pooled)", "\(pvtStages.map(\.reduction))")
        }
        guard (2...15).contains(patchKernel), patchKernel > patchSize else {
            throw bad("an overlapping patch kernel in 2...15, larger than the stride \(patchSize)", "\(patchKernel)")
        }
        guard dim == pvtStages[0].dim, heads == pvtStages[0].heads, headDim == dim / heads, mlpDim == pvtStages[0].mlpDim,
              depth == pvtStages.reduce(0, { $0 + $1.depth }) else {
            throw bad("dim, heads, MLP of the first stage and the blocks of all as depth", "dim \(dim), heads \(heads), depth \(depth)")
        }
        for i in pvtStages.indices {
            let g = pvtGrid(i), r = pvtStages[i].reduction
            guard g.height >= r && g.width >= r else {
                throw bad("stage \(i)'s grid at least its reduction \(r)", "\(g.height)x\(g.width) from \(imageHeight)x\(imageWidth) images")
            }
        }
        guard !classToken && !distillationToken && registerTokens == 0 && pool == .meanPatches && patchEmbedding == .convolution
                && patchNormAfter && !patchNormBefore && !preNorm && finalNorm && !poolNorm && preLogitsDim == 0 && projectionDim == 0
                && backbone == nil && !layerScale && !int8Attention else {
            throw bad("a PVT v2's layout: patch norm, no class token or positions, final norm, mean pooling, fp32 attention",
                      "class token \(classToken), pool \(pool.rawValue), patch norm \(patchNormAfter), int8 attention \(int8Attention)")
        }
    }
}
