#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The int8 scheme, in one place (docs/QUANTIZATION.md).
///
/// - Weights of the attention and MLP Linear layers: int8 in [-127, 127], symmetric,
///   one scale per output channel: s_w[n] = max_k |W[n][k]| / 127,
///   q = clamp(round_half_away(W / s_w[n]), -127, 127). The quantizer that writes
///   files is this reference code, so files are byte-identical everywhere.
/// - Activations entering those layers: int8 in [-127, 127], symmetric, no zero point;
///   dynamic: one scale per row (token) computed at run time, s_a = max|x| / 127,
///   q = clamp(rint(x · (127 / max|x|)), -127, 127) (1 for an all-zero row);
///   static: one scale per tensor from calibration, q = clamp(rint(x · (1 / s_a)), ...).
/// - Products accumulate exactly in int32 (|sum| ≤ K · 127², K < 133,000).
/// - Requantization to float: y = float(acc) · (s_a · s_w[n]) + bias[n], evaluated in
///   that order without FMA contraction; then the fp32 residual add.
/// - LayerNorm, softmax, GELU, attention scores and residuals stay fp32.
package enum QuantizationScheme {
    package static let qmax: Float = 127

    /// Per-output-channel symmetric weight quantization of W [n, k] into ±qmax (127, or
    /// 63 for 7-bit weights). NaN weights become −qmax rather than trapping.
    package static func quantizeWeights(_ w: UnsafePointer<Float>, n: Int, k: Int,
                                       qmax: Float = QuantizationScheme.qmax) -> (q: [Int8], scales: [Float]) {
        var q = [Int8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 1, count: n)
        for row in 0..<n {
            var m: Float = 0
            for i in 0..<k { m = max(m, abs(w[row * k + i])) }
            let s: Float = m > 0 && m.isFinite ? m / qmax : 1
            scales[row] = s
            for i in 0..<k {
                let v = (w[row * k + i] / s).rounded(.toNearestOrAwayFromZero)
                q[row * k + i] = Int8(v >= -qmax ? (v <= qmax ? v : qmax) : -qmax)
            }
        }
        return (q, scales)
    }

    /// Rounds and clamps one activation: rint(x · inv), clamped to ±127. NaN (from a
    /// model whose weights hold NaN) becomes −127, as the SIMD routes' max(v, −127)
    /// gives, instead of trapping in the Int8 conversion.
    @inline(__always)
    static func quantize(_ x: Float, _ inv: Float) -> Int8 {
        let r = (x * inv).rounded(.toNearestOrEven)
        return Int8(r >= -qmax ? (r <= qmax ? r : qmax) : -qmax)
    }
}

extension Reference {
    /// Dynamic per-row quantization (see `QuantizationScheme`); rows padded to `ldq`.
    package static func quantizeRows(rows: Int, k: Int, x: UnsafePointer<Float>, ldx: Int,
                                    q: UnsafeMutablePointer<Int8>, ldq: Int, scale: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            var m: Float = 0
            for i in 0..<k { m = max(m, abs(x[r * ldx + i])) }
            let inv: Float = m == 0 ? 0 : QuantizationScheme.qmax / m
            scale[r] = m == 0 ? 1 : m / QuantizationScheme.qmax
            for i in 0..<k { q[r * ldq + i] = QuantizationScheme.quantize(x[r * ldx + i], inv) }
            for i in k..<ldq { q[r * ldq + i] = 0 }
        }
    }

    /// Static quantization with one per-tensor scale.
    package static func quantizeRowsStatic(rows: Int, k: Int, x: UnsafePointer<Float>, ldx: Int, s: Float,
                                          q: UnsafeMutablePointer<Int8>, ldq: Int, scale: UnsafeMutablePointer<Float>) {
        let inv = 1 / s
        for r in 0..<rows {
            scale[r] = s
            for i in 0..<k { q[r * ldq + i] = QuantizationScheme.quantize(x[r * ldx + i], inv) }
            for i in k..<ldq { q[r * ldq + i] = 0 }
        }
    }

    /// C[m][n] = Σ_k A[m][k] · W[n][k] in int32 (W unpacked, [n][k]).
    package static func qs8Gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Int8>, lda: Int,
                               w: UnsafePointer<Int8>, c: UnsafeMutablePointer<Int32>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var s: Int32 = 0
                for p in 0..<k { s += Int32(a[i * lda + p]) * Int32(w[j * k + p]) }
                c[i * ldc + j] = s
            }
        }
    }

    /// y = (accumulate ? y : 0) + (float(c) · (s_a[m] · s_w[n]) + bias[n]).
    package static func dequantize(m: Int, n: Int, c: UnsafePointer<Int32>, ldc: Int, aScale: UnsafePointer<Float>,
                                  wScale: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                  y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        for r in 0..<m {
            for j in 0..<n {
                var v = Float(c[r * ldc + j]) * (aScale[r] * wScale[j])
                if let bias { v = v + bias[j] }
                y[r * ldy + j] = accumulate ? y[r * ldy + j] + v : v
            }
        }
    }
}

/// The scratch of int8 attention for one worker, in bytes (see `Reference.attentionInt8`):
/// K and Vᵀ quantized and packed once per head, Q and probability rows per block of
/// query rows, and their scales. Sized for every int8 route of the table (k padded to 16,
/// the largest k-group; packed size the largest of the routes'), so one plan serves any.
struct Int8AttentionLayout {
    let tokens: Int, headDim: Int, blockRows: Int
    /// Row lengths of quantized Q/K rows (k = headDim) and of P/Vᵀ rows (k = tokens).
    let kD: Int, kT: Int
    let kq: Int, vt: Int, vq: Int, qq: Int, pq: Int, sk: Int, sv: Int, sq: Int, sp: Int, acc: Int, packedK: Int, packedV: Int
    let bytes: Int

    init(tokens: Int, headDim: Int) {
        self.tokens = tokens
        self.headDim = headDim
        blockRows = Kernels.attentionBlockRows(tokens: tokens)
        kD = alignUp(headDim, 16)
        kT = alignUp(tokens, 16)
        let routes = Kernels.allInt8Routes
        func packed(n: Int, k: Int) -> Int { routes.map { $0.packedBytes(n: n, k: k) }.max() ?? 0 }
        var at = 0
        func take(_ n: Int) -> Int { defer { at = alignUp(at + n, 64) }; return at }
        kq = take(tokens * kD)
        vt = take(headDim * tokens * 4)
        vq = take(headDim * kT)
        qq = take(blockRows * kD)
        pq = take(blockRows * kT)
        sk = take(tokens * 4)
        sv = take(headDim * 4)
        sq = take(blockRows * 4)
        sp = take(blockRows * 4)
        acc = take(max(tokens, headDim) * blockRows * 4)
        packedK = take(packed(n: tokens, k: kD))
        packedV = take(packed(n: headDim, k: kT))
        bytes = at
    }
}

extension Reference {
    /// Attention with QKᵀ and PV in int8 (`ViTConfig.int8Attention`), one query row at a
    /// time. Per (image, head): K rows (tokens) quantized per row and Vᵀ rows (channels)
    /// per row, i.e. V per channel; each query row and each row of probabilities per row;
    /// S = float(Σ q·k) · (s_q · s_k), softmax(S · scale) in fp32, O = float(Σ p·v) · (s_p · s_v).
    /// `scratch` holds `Int8AttentionLayout(tokens:headDim:).bytes`.
    package static func attentionInt8(batch: Int, tokens: Int, heads: Int, headDim: Int,
                                                    qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                                                    scores: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer,
                                                    capture: UnsafeMutablePointer<Float>? = nil, bias: AttentionBias? = nil) {
        let inner = heads * headDim, ld = 3 * inner
        let scale = 1 / Float(headDim).squareRoot()
        let l = Int8AttentionLayout(tokens: tokens, headDim: headDim)
        let kD = Kernels.qs8PaddedK(headDim), kT = Kernels.qs8PaddedK(tokens)
        func i8(_ o: Int) -> UnsafeMutablePointer<Int8> { (scratch + o).assumingMemoryBound(to: Int8.self) }
        func f32(_ o: Int) -> UnsafeMutablePointer<Float> { (scratch + o).assumingMemoryBound(to: Float.self) }
        let acc = (scratch + l.acc).assumingMemoryBound(to: Int32.self)
        for b in 0..<batch {
            let base = qkv + b * tokens * ld
            for h in 0..<heads {
                let q = base + h * headDim, k = base + inner + h * headDim, v = base + 2 * inner + h * headDim
                quantizeRows(rows: tokens, k: headDim, x: k, ldx: ld, q: i8(l.kq), ldq: kD, scale: f32(l.sk))
                for d in 0..<headDim { for j in 0..<tokens { f32(l.vt)[d * tokens + j] = v[j * ld + d] } }
                quantizeRows(rows: headDim, k: tokens, x: f32(l.vt), ldx: tokens, q: i8(l.vq), ldq: kT, scale: f32(l.sv))
                for i in 0..<tokens {
                    quantizeRows(rows: 1, k: headDim, x: q + i * ld, ldx: ld, q: i8(l.qq), ldq: kD, scale: f32(l.sq))
                    qs8Gemm(m: 1, n: tokens, k: kD, a: i8(l.qq), lda: kD, w: i8(l.kq), c: acc, ldc: tokens)
                    dequantize(m: 1, n: tokens, c: acc, ldc: tokens, aScale: f32(l.sq), wScale: f32(l.sk), bias: nil,
                               y: scores, ldy: tokens, accumulate: false)
                    bias?.add(b: b, h: h, r0: i, rows: 1, tokens: tokens, scores: scores, ld: tokens, scale: scale)
                    softmax(rows: 1, n: tokens, x: scores, ld: tokens, scale: bias == nil ? scale : 1)
                    if let capture { (capture + ((b * heads + h) * tokens + i) * tokens).update(from: scores, count: tokens) }
                    quantizeRows(rows: 1, k: tokens, x: scores, ldx: tokens, q: i8(l.pq), ldq: kT, scale: f32(l.sp))
                    qs8Gemm(m: 1, n: headDim, k: kT, a: i8(l.pq), lda: kT, w: i8(l.vq), c: acc, ldc: headDim)
                    dequantize(m: 1, n: headDim, c: acc, ldc: headDim, aScale: f32(l.sp), wScale: f32(l.sv), bias: nil,
                               y: out + (b * tokens + i) * inner + h * headDim, ldy: inner, accumulate: false)
                }
            }
        }
    }
}
