/// How a model's position embeddings are resampled when it runs at another input size
/// (prefix rows untouched): the three conventions of the code that trains ViTs.
package enum PositionResampling: String, Sendable, CaseIterable {
    /// timm's `resample_abs_pos_embed`: `interpolate(size=new grid, mode="bicubic",
    /// antialias=True)`: Pillow's cubic (A = −0.5), support widened when shrinking.
    case timm
    /// DINO's `interpolate_pos_encoding`: `interpolate(scale_factor=(n + 0.1) / √N,
    /// mode="bicubic")`, no antialias (A = −0.75), the scale applied as given.
    case dino
    /// Hugging Face's `interpolate_pos_encoding`: `interpolate(size=new grid,
    /// mode="bicubic", align_corners=False)`, no antialias.
    case huggingface
}

package enum PositionEmbedding {
    /// Resamples a grid [gh, gw, dim] to [nh, nw, dim] by `convention`.
    package static func resample(_ grid: [Float], gridHeight gh: Int, gridWidth gw: Int, dim: Int,
                                toHeight nh: Int, toWidth nw: Int, convention: PositionResampling = .huggingface) -> [Float] {
        func taps(_ n: Int, _ g: Int) -> Resample.Taps {
            switch convention {
            case .timm: return Resample.pillow(inSize: g, outSize: n, filter: .bicubic)
            case .huggingface: return Resample.pytorch(inSize: g, outSize: n, cubic: true)
            case .dino:
                // scale_factor = (n + 0.1) / g; PyTorch maps outputs back by 1 / scale_factor.
                let factor = (Double(n) + 0.1) / Double(g)
                return Resample.pytorch(inSize: g, outSize: n, cubic: true, scale: 1 / factor)
            }
        }
        var out = [Float](repeating: 0, count: nh * nw * dim)
        grid.withUnsafeBufferPointer { g in
            out.withUnsafeMutableBufferPointer { o in
                Resample.applyFloat(g.baseAddress!, rowStride: gw * dim, channels: dim, horizontal: taps(nw, gw),
                                    vertical: taps(nh, gh), into: o.baseAddress!)
            }
        }
        return out
    }
}

extension VisionTransformer {
    /// The same model with another position-resampling convention (for `resized`).
    package func withPositionResampling(_ r: PositionResampling) -> VisionTransformer {
        var c = config
        c.positionResampling = r
        return VisionTransformer(resizedFrom: self, config: c, weights: weights, positions: resampledPositions)
    }

    /// The same model for another input size (a multiple of the patch size): the
    /// position embeddings are resampled once, here; plan sessions on the result.
    package func resized(imageHeight h: Int, imageWidth w: Int) throws -> VisionTransformer {
        let c = config
        if h == c.imageHeight && w == c.imageWidth { return self }
        switch c.architecture {
        case .swin, .pvt:
            // No positions to resample: the new shapes (and Swin's masks, laid out for the grid).
            var n = c
            (n.imageHeight, n.imageWidth) = (h, w)
            n.preprocessing = c.preprocessing.forInput(height: h, width: w, from: (c.imageHeight, c.imageWidth))
            do { try n.validate(source: "image size") } catch let VitError.badModel(_, expected, found, _) {
                throw VitError.invalidSetting(.imageSize, value: "\(h)x\(w)", expected: "\(expected) (found \(found))")
            }
            var w = weights
            if case .swin = c.architecture { w.blocks = try c.swinRegrid(w.blocks, to: n) }
            return VisionTransformer(resizedFrom: self, config: n, weights: w, positions: nil)
        case .vit, .hybrid, .deepvit, .t2t, .mixer, .resmlp: break
        }
        guard c.architecture.tokenMixing == .attention, let positions = weights.positions else {
            throw VitError.invalidSetting(.imageSize, value: "\(h)x\(w)", expected: "\(c.imageHeight)x\(c.imageWidth): \(c.architecture.withArticle) runs only at the size it was trained at (its token-mixing layers are as wide as its \(c.numPatches) patches)")
        }
        var n = c
        n.imageHeight = h
        n.imageWidth = w
        n.preprocessing = c.preprocessing.forInput(height: h, width: w, from: (c.imageHeight, c.imageWidth))
        do { try n.validate(source: "image size") } catch let VitError.badModel(_, expected, found, _) {
            throw VitError.invalidSetting(.imageSize, value: "\(h)x\(w)", expected: "\(expected) (found \(found))")
        }
        let prefix = c.positionEmbeddingIncludesPrefix ? c.prefixTokens : 0
        let grid = Array(UnsafeBufferPointer(start: positions + prefix * c.dim, count: c.numPatches * c.dim))
        let resampled = PositionEmbedding.resample(grid, gridHeight: c.gridHeight, gridWidth: c.gridWidth, dim: c.dim,
                                                   toHeight: n.gridHeight, toWidth: n.gridWidth, convention: c.positionResampling)
        let storage = AlignedBuffer(bytes: (prefix * c.dim + resampled.count) * 4)
        let p = storage.floats(at: 0)
        p.update(from: positions, count: prefix * c.dim)
        (p + prefix * c.dim).update(from: resampled, count: resampled.count)
        var wts = weights
        wts.positions = UnsafePointer(p)
        return VisionTransformer(resizedFrom: self, config: n, weights: wts, positions: storage)
    }
}
