#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The scalar reference of every operation: plain loops written for clarity,
/// always compiled, slow on purpose. Optimized kernels are tested against these,
/// and `--kernels reference` runs the whole model on them.
package enum Reference {
    /// C[m][n] = (accumulate ? C : 0) + A[m][k] · W[n][k]ᵀ + bias[n]
    package static func gemm(m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int,
                            w: UnsafePointer<Float>, ldw: Int,
                            bias: UnsafePointer<Float>?,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k { sum += a[i * lda + p] * w[j * ldw + p] }
                if let bias { sum += bias[j] }
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum
            }
        }
    }

    /// LayerNorm of each row: (x − mean) / √(var + eps) · γ + β. May run in place.
    /// The mean is summed in Double: a row of equal values (a blank patch under
    /// vit-pytorch's patch LayerNorm) then has a mean equal to them and normalises to β,
    /// as in PyTorch, instead of amplifying a float sum's rounding by 1/√eps.
    package static func layerNorm(rows: Int, n: Int, x: UnsafePointer<Float>, ldx: Int,
                                 gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float,
                                 y: UnsafeMutablePointer<Float>, ldy: Int) {
        for r in 0..<rows {
            var sum: Double = 0
            for i in 0..<n { sum += Double(x[r * ldx + i]) }
            let mean = Float(sum / Double(n))
            var variance: Float = 0
            for i in 0..<n {
                let d = x[r * ldx + i] - mean
                variance += d * d
            }
            variance /= Float(n)
            let rstd = 1 / (variance + eps).squareRoot()
            for i in 0..<n { y[r * ldy + i] = (x[r * ldx + i] - mean) * rstd * gamma[i] + beta[i] }
        }
    }

    /// GELU in place: exact 0.5·x·(1 + erf(x/√2)), the tanh approximation, or CLIP's
    /// quick x·sigmoid(1.702·x).
    package static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int, form: ViTConfig.GELU) {
        for i in 0..<count {
            let v = x[i]
            switch form {
            case .erf: x[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752))
            case .tanh: x[i] = 0.5 * v * (1 + tanhf(0.79788456080286536 * (v + 0.044715 * v * v * v)))
            case .quick: x[i] = v / (1 + expf(-1.702 * v))
            }
        }
    }

    /// Softmax of each row of scale·x, in place.
    package static func softmax(rows: Int, n: Int, x: UnsafeMutablePointer<Float>, ld: Int, scale: Float) {
        for r in 0..<rows {
            let row = x + r * ld
            var mx = -Float.infinity
            for i in 0..<n { mx = max(mx, row[i] * scale) }
            var sum: Float = 0
            for i in 0..<n {
                row[i] = expf(row[i] * scale - mx)
                sum += row[i]
            }
            for i in 0..<n { row[i] /= sum }
        }
    }

    /// Multi-head self-attention core for `batch` images of `tokens` tokens:
    /// qkv is [batch·tokens, 3·heads·headDim] (q, k, v blocks, each head-major),
    /// out is [batch·tokens, heads·headDim]; scores is scratch of tokens² floats;
    /// capture, when given, receives the probabilities [batch, heads, tokens, tokens];
    /// bias, when given, is added to the scaled logits before softmax (Swin's windows).
    package static func attention(batch: Int, tokens: Int, heads: Int, headDim: Int,
                                 qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                                 scores: UnsafeMutablePointer<Float>, capture: UnsafeMutablePointer<Float>? = nil,
                                 bias: AttentionBias? = nil) {
        attention(batch: batch, x: .selfAttention(qkv, tokens: tokens, inner: heads * headDim), heads: heads, headDim: headDim,
                  out: out, scores: scores, capture: capture, bias: bias)
    }

    /// The same with Q, K and V where `x` says (queries and keys may differ in number:
    /// PVT's reduced keys); scores holds `x.keys` floats.
    package static func attention(batch: Int, x: AttentionInputs, heads: Int, headDim: Int, out: UnsafeMutablePointer<Float>,
                                 scores: UnsafeMutablePointer<Float>, capture: UnsafeMutablePointer<Float>? = nil,
                                 bias: AttentionBias? = nil) {
        let inner = heads * headDim
        let (tq, tk) = (x.queries, x.keys)
        let scale = 1 / Float(headDim).squareRoot()
        for b in 0..<batch {
            for h in 0..<heads {
                let q = x.q + b * tq * x.ldq + h * headDim
                let k = x.k + b * tk * x.ldkv + h * headDim
                let v = x.v + b * tk * x.ldkv + h * headDim
                // One query row at a time: scores, softmax, then the weighted sum of V.
                for i in 0..<tq {
                    for j in 0..<tk {
                        var s: Float = 0
                        for d in 0..<headDim { s += q[i * x.ldq + d] * k[j * x.ldkv + d] }
                        scores[j] = s
                    }
                    bias?.add(b: b, h: h, r0: i, rows: 1, tokens: tk, scores: scores, ld: tk, scale: scale)
                    softmax(rows: 1, n: tk, x: scores, ld: tk, scale: bias == nil ? scale : 1)
                    if let capture { (capture + ((b * heads + h) * tq + i) * tk).update(from: scores, count: tk) }
                    for d in 0..<headDim {
                        var s: Float = 0
                        for j in 0..<tk { s += scores[j] * v[j * x.ldkv + d] }
                        out[(b * tq + i) * inner + h * headDim + d] = s
                    }
                }
            }
        }
    }

    /// Depthwise 3×3 convolution with bias, padding 1, NHWC, weights tap-major [9, C] (see
    /// `depthwiseConv3x3`): one output value at a time, bias first, then the taps row by row.
    package static func depthwiseConv3x3(batch: Int, height h: Int, width w: Int, channels c: Int, x: UnsafePointer<Float>,
                                         weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        for b in 0..<batch {
            for oy in 0..<h {
                for ox in 0..<w {
                    for ch in 0..<c {
                        var acc = bias[ch]
                        for ky in 0..<3 {
                            let iy = oy + ky - 1
                            guard iy >= 0 && iy < h else { continue }
                            for kx in 0..<3 {
                                let ix = ox + kx - 1
                                guard ix >= 0 && ix < w else { continue }
                                acc += weight[(ky * 3 + kx) * c + ch] * x[((b * h + iy) * w + ix) * c + ch]
                            }
                        }
                        y[((b * h + oy) * w + ox) * c + ch] = acc
                    }
                }
            }
        }
    }
}
