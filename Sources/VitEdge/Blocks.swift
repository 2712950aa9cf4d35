/// One pre-norm encoder block on the residual stream `tokens` [B·T, D]:
///   x = x + proj(attention(norm1(x)))
///   x = x + fc2(gelu(fc1(norm2(x))))
/// (with per-channel layer scale on each branch when the model has it).
func encoderBlock(_ c: ViTConfig, _ w: BlockWeights, _ k: Kernels, batch: Int,
                  tokens: UnsafeMutablePointer<Float>, a: BlockActivations,
                  observe: ((LinearLayer, UnsafeBufferPointer<Float>) -> Void)? = nil) {
    let rows = batch * c.tokens
    let d = c.dim
    func seen(_ l: LinearLayer, _ x: UnsafeMutablePointer<Float>, _ width: Int) {
        observe?(l, UnsafeBufferPointer(start: x, count: rows * width))
    }

    // Attention branch.
    k.layerNorm(w.norm1, rows: rows, x: tokens, ldx: d, y: a.norm1, ldy: d)
    seen(.qkv, a.norm1, d)
    k.linear(w.qkv, rows: rows, x: a.norm1, ldx: d, y: a.qkv, ldy: 3 * c.innerDim, scratch: a.quant)
    k.attention(batch: batch, tokens: c.tokens, heads: c.heads, headDim: c.headDim,
                qkv: a.qkv, out: a.attention, scratch: a.scratch, capture: a.attentionProbabilities)
    seen(.proj, a.attention, c.innerDim)
    if let proj = w.proj {
        if let gamma = w.ls1 {
            k.linear(proj, rows: rows, x: a.attention, ldx: c.innerDim, y: a.projected, ldy: d, scratch: a.quant)
            addScaled(tokens, a.projected, gamma, rows: rows, dim: d)
        } else {
            k.linear(proj, rows: rows, x: a.attention, ldx: c.innerDim, y: tokens, ldy: d, accumulate: true, scratch: a.quant)
        }
    } else {
        addScaled(tokens, a.attention, w.ls1, rows: rows, dim: d)
    }

    // MLP branch.
    k.layerNorm(w.norm2, rows: rows, x: tokens, ldx: d, y: a.norm2, ldy: d)
    seen(.fc1, a.norm2, d)
    k.linear(w.fc1, rows: rows, x: a.norm2, ldx: d, y: a.hidden, ldy: c.mlpDim, scratch: a.quant)
    k.gelu(a.hidden, count: rows * c.mlpDim, form: c.gelu)
    seen(.fc2, a.hidden, c.mlpDim)
    if let gamma = w.ls2 {
        k.linear(w.fc2, rows: rows, x: a.hidden, ldx: c.mlpDim, y: a.mlpOut, ldy: d, scratch: a.quant)
        addScaled(tokens, a.mlpOut, gamma, rows: rows, dim: d)
    } else {
        k.linear(w.fc2, rows: rows, x: a.hidden, ldx: c.mlpDim, y: tokens, ldy: d, accumulate: true, scratch: a.quant)
    }
}

/// x[r][i] += γ[i] · y[r][i] (γ = 1 when nil): the residual add with layer scale.
/// Eight lanes at a time; the same multiply-then-add per element as a scalar loop.
func addScaled(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>?,
               rows: Int, dim: Int) {
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

/// The Linear layers of a block, as the quantizer and calibration name them.
public enum LinearLayer: String, CaseIterable, Sendable {
    case qkv = "attn.qkv"
    case proj = "attn.proj"
    case fc1 = "mlp.fc1"
    case fc2 = "mlp.fc2"
}
