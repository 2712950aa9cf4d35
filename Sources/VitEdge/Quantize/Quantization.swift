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
@_spi(Internals) public enum QuantizationScheme {
    @_spi(Internals) public static let qmax: Float = 127

    /// Per-output-channel symmetric weight quantization of W [n, k] into ±qmax (127, or
    /// 63 for 7-bit weights). NaN weights become −qmax rather than trapping.
    @_spi(Internals) public static func quantizeWeights(_ w: UnsafePointer<Float>, n: Int, k: Int,
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
    @_spi(Internals) public static func quantizeRows(rows: Int, k: Int, x: UnsafePointer<Float>, ldx: Int,
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
    @_spi(Internals) public static func quantizeRowsStatic(rows: Int, k: Int, x: UnsafePointer<Float>, ldx: Int, s: Float,
                                          q: UnsafeMutablePointer<Int8>, ldq: Int, scale: UnsafeMutablePointer<Float>) {
        let inv = 1 / s
        for r in 0..<rows {
            scale[r] = s
            for i in 0..<k { q[r * ldq + i] = QuantizationScheme.quantize(x[r * ldx + i], inv) }
            for i in k..<ldq { q[r * ldq + i] = 0 }
        }
    }

    /// C[m][n] = Σ_k A[m][k] · W[n][k] in int32 (W unpacked, [n][k]).
    @_spi(Internals) public static func qs8Gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Int8>, lda: Int,
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
    @_spi(Internals) public static func dequantize(m: Int, n: Int, c: UnsafePointer<Int32>, ldc: Int, aScale: UnsafePointer<Float>,
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
