/// Running a model at another input size: the learned position embeddings of the
/// patch grid are resampled bicubically (as DINO and timm do), prefix rows untouched.
public enum PositionEmbedding {
    /// PyTorch's bicubic convolution kernel (A = -0.75), `interpolate(mode="bicubic",
    /// align_corners=False)` without antialiasing.
    static func cubicWeights(_ t: Float) -> (Float, Float, Float, Float) {
        let a: Float = -0.75
        func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return (far(t + 1), near(t), near(1 - t), far(2 - t))
    }

    /// Resamples a grid [gh, gw, dim] to [nh, nw, dim]: rows first along x, then y.
    public static func resample(_ grid: [Float], gridHeight gh: Int, gridWidth gw: Int, dim: Int,
                                toHeight nh: Int, toWidth nw: Int) -> [Float] {
        func taps(_ n: Int, _ inSize: Int) -> [(idx: [Int], w: (Float, Float, Float, Float))] {
            let scale = Float(inSize) / Float(n)
            return (0..<n).map { o in
                let src = (Float(o) + 0.5) * scale - 0.5
                let x0 = Int(src.rounded(.down))
                let w = cubicWeights(src - Float(x0))
                return ((-1...2).map { min(max(x0 + $0, 0), inSize - 1) }, w)
            }
        }
        let tx = taps(nw, gw), ty = taps(nh, gh)
        // Along x: [gh, nw, dim]
        var mid = [Float](repeating: 0, count: gh * nw * dim)
        for y in 0..<gh { for x in 0..<nw {
            let (i, w) = tx[x]
            for d in 0..<dim {
                let g = { (k: Int) in grid[(y * gw + i[k]) * dim + d] }
                mid[(y * nw + x) * dim + d] = g(0) * w.0 + g(1) * w.1 + g(2) * w.2 + g(3) * w.3
            }
        } }
        // Along y: [nh, nw, dim]
        var out = [Float](repeating: 0, count: nh * nw * dim)
        for y in 0..<nh {
            let (i, w) = ty[y]
            for x in 0..<nw { for d in 0..<dim {
                let g = { (k: Int) in mid[(i[k] * nw + x) * dim + d] }
                out[(y * nw + x) * dim + d] = g(0) * w.0 + g(1) * w.1 + g(2) * w.2 + g(3) * w.3
            } }
        }
        return out
    }
}

extension VisionTransformer {
    /// The same model for another input size (a multiple of the patch size): the
    /// position embeddings are resampled once, here; plan sessions on the result.
    public func resized(imageHeight h: Int, imageWidth w: Int) throws -> VisionTransformer {
        let c = config
        if h == c.imageHeight && w == c.imageWidth { return self }
        var n = c
        n.imageHeight = h
        n.imageWidth = w
        do { try n.validate(source: "--image-size \(h)x\(w)") } catch let VitError.badModel(_, expected, found, _) {
            throw VitError.invalidArgument("--image-size \(h)x\(w): expected \(expected), found \(found)")
        }
        let prefix = c.positionEmbeddingIncludesPrefix ? c.prefixTokens : 0
        let grid = Array(UnsafeBufferPointer(start: weights.positions + prefix * c.dim, count: c.numPatches * c.dim))
        let resampled = PositionEmbedding.resample(grid, gridHeight: c.gridHeight, gridWidth: c.gridWidth, dim: c.dim,
                                                   toHeight: n.gridHeight, toWidth: n.gridWidth)
        let storage = AlignedBuffer(bytes: (prefix * c.dim + resampled.count) * 4)
        let p = storage.floats(at: 0)
        p.update(from: weights.positions, count: prefix * c.dim)
        (p + prefix * c.dim).update(from: resampled, count: resampled.count)
        var wts = weights
        wts.positions = UnsafePointer(p)
        return VisionTransformer(resizedFrom: self, config: n, weights: wts, positions: storage)
    }
}
