/// Where the model looks: class-token attention of one block and attention rollout
/// across blocks, on the patch grid, upsampled to the image.
///
/// The query is the class token (row 0); a model without a class token (mean
/// pooling) uses the mean of every token's attention row instead.
package enum AttentionMaps {
    /// Class-token attention of one captured block for image `i`: the mean over heads,
    /// then each head, each over the patch grid (gridHeight × gridWidth, row-major).
    package static func classToken(_ s: InferenceSession, block: Int, image i: Int) -> (mean: [Float], heads: [[Float]])? {
        let c = s.model.config
        guard let a = s.attention(block: block, image: i) else { return nil }
        let t = c.tokens
        var heads: [[Float]] = []
        for h in 0..<c.heads {
            let m = UnsafeBufferPointer(rebasing: a[(h * t * t)..<((h + 1) * t * t)])
            heads.append(queryRow(m, c))
        }
        var mean = [Float](repeating: 0, count: c.numPatches)
        for hm in heads { for p in 0..<c.numPatches { mean[p] += hm[p] / Float(c.heads) } }
        return (mean, heads)
    }

    /// Attention rollout (Abnar & Zuidema 2020) over every block: each block's
    /// head-averaged attention plus the identity for the residual, rows renormalized,
    /// multiplied from the first block to the last. Needs all blocks captured.
    package static func rollout(_ s: InferenceSession, image i: Int) -> [Float]? {
        let c = s.model.config
        let t = c.tokens
        var r = [Float](repeating: 0, count: t * t)
        for k in 0..<t { r[k * t + k] = 1 }
        for b in 0..<c.depth {
            guard let a = s.attention(block: b, image: i) else { return nil }
            var m = [Float](repeating: 0, count: t * t)
            for h in 0..<c.heads { for k in 0..<(t * t) { m[k] += a[h * t * t + k] / Float(c.heads) } }
            for row in 0..<t {
                var sum: Float = 0
                for col in 0..<t {
                    m[row * t + col] = 0.5 * m[row * t + col] + (row == col ? 0.5 : 0)
                    sum += m[row * t + col]
                }
                for col in 0..<t { m[row * t + col] /= sum }
            }
            // r = m · r
            var next = [Float](repeating: 0, count: t * t)
            for row in 0..<t { for k in 0..<t {
                let v = m[row * t + k]
                if v == 0 { continue }
                for col in 0..<t { next[row * t + col] += v * r[k * t + col] }
            } }
            r = next
        }
        return r.withUnsafeBufferPointer { queryRow($0, c) }
    }

    /// The query's attention over the patch tokens.
    static func queryRow(_ m: UnsafeBufferPointer<Float>, _ c: ViTConfig) -> [Float] {
        let t = c.tokens, first = c.prefixTokens
        var out = [Float](repeating: 0, count: c.numPatches)
        if c.classToken {
            for p in 0..<c.numPatches { out[p] = m[first + p] }
        } else {
            for row in 0..<t { for p in 0..<c.numPatches { out[p] += m[row * t + first + p] / Float(t) } }
        }
        return out
    }

    /// Bilinear upsampling (half-pixel centres) of a grid map to width × height.
    package static func upsample(_ grid: [Float], gridWidth gw: Int, gridHeight gh: Int, width: Int, height: Int) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        grid.withUnsafeBufferPointer { g in
            out.withUnsafeMutableBufferPointer { o in
                Resample.applyFloat(g.baseAddress!, rowStride: gw, channels: 1,
                                    horizontal: Resample.pytorch(inSize: gw, outSize: width, cubic: false),
                                    vertical: Resample.pytorch(inSize: gh, outSize: height, cubic: false),
                                    into: o.baseAddress!)
            }
        }
        return out
    }

    /// Scales a map to [0, 1] (a constant map becomes all zeros).
    package static func normalized(_ m: [Float]) -> [Float] {
        guard let lo = m.min(), let hi = m.max(), hi > lo else { return m.map { _ in 0 } }
        return m.map { ($0 - lo) / (hi - lo) }
    }
}
