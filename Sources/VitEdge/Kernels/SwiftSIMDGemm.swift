import _VitKernels

/// fp32 GEMM written in Swift's SIMD types over the same packed panels as the C++
/// kernels (16 columns per panel, K in slices of 256): a 6x16 register tile of
/// `SIMD16<Float>` accumulators. Swift has no per-function target attribute, so this
/// compiles for the package's baseline (SSE2 on x86-64: multiply and add, no FMA;
/// NEON on ARM64: fused multiply-add), where the C++ kernels pick AVX2/AVX-512 at run
/// time. `vit-edge bench-gemm --kernels swift` measures it beside them; `auto`
/// keeps whichever route is faster on the CPU (on x86-64 the C++ ones).
enum SwiftSIMDGemm {
    static let kc = 256
    static let nr = 16

    /// Same contract as `vk_f32_gemm_fn`.
    static let function: vk_f32_gemm_fn = { m, n, k, a, lda, packed, bias, c, ldc, accumulate in
        SwiftSIMDGemm.gemm(m: m, n: n, k: k, a: a!, lda: lda, packed: packed!, bias: bias, c: c!, ldc: ldc,
                           accumulate: accumulate != 0)
    }

    static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                     bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        let panels = (n + nr - 1) / nr
        var k0 = 0
        repeat {
            let kcur = min(kc, k - k0)
            let loadC = k0 > 0 || accumulate
            for p in 0..<panels {
                let n0 = p * nr
                let cols = min(nr, n - n0)
                let panel = packed + (p * k + k0) * nr
                let b = (k0 == 0) ? bias.map { $0 + n0 } : nil
                var m0 = 0
                while m0 + 6 <= m {
                    tile6(kc: kcur, a: a + m0 * lda + k0, lda: lda, panel: panel, c: c + m0 * ldc + n0, ldc: ldc,
                          cols: cols, bias: b, loadC: loadC)
                    m0 += 6
                }
                while m0 < m {
                    tile1(kc: kcur, a: a + m0 * lda + k0, panel: panel, c: c + m0 * ldc + n0, cols: cols, bias: b,
                          loadC: loadC)
                    m0 += 1
                }
            }
            k0 += kcur
        } while k0 < k
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ cols: Int) -> SIMD16<Float> {
        if cols == 16 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
        var v = SIMD16<Float>(repeating: 0)
        for j in 0..<cols { v[j] = p[j] }
        return v
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ cols: Int) {
        if cols == 16 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self); return }
        for j in 0..<cols { p[j] = v[j] }
    }

    @inline(__always)
    static func start(_ c: UnsafeMutablePointer<Float>, _ cols: Int, _ b: SIMD16<Float>, _ loadC: Bool) -> SIMD16<Float> {
        loadC ? load(c, cols) + b : b
    }

    static func tile6(kc: Int, a: UnsafePointer<Float>, lda: Int, panel: UnsafePointer<Float>,
                      c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, bias: UnsafePointer<Float>?, loadC: Bool) {
        let b = bias.map { load($0, cols) } ?? SIMD16<Float>(repeating: 0)
        var c0 = start(c, cols, b, loadC), c1 = start(c + ldc, cols, b, loadC), c2 = start(c + 2 * ldc, cols, b, loadC)
        var c3 = start(c + 3 * ldc, cols, b, loadC), c4 = start(c + 4 * ldc, cols, b, loadC), c5 = start(c + 5 * ldc, cols, b, loadC)
        let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda
        for p in 0..<kc {
            let w = UnsafeRawPointer(panel + p * 16).loadUnaligned(as: SIMD16<Float>.self)
            c0 += SIMD16(repeating: a0[p]) * w
            c1 += SIMD16(repeating: a1[p]) * w
            c2 += SIMD16(repeating: a2[p]) * w
            c3 += SIMD16(repeating: a3[p]) * w
            c4 += SIMD16(repeating: a4[p]) * w
            c5 += SIMD16(repeating: a5[p]) * w
        }
        store(c0, c, cols); store(c1, c + ldc, cols); store(c2, c + 2 * ldc, cols)
        store(c3, c + 3 * ldc, cols); store(c4, c + 4 * ldc, cols); store(c5, c + 5 * ldc, cols)
    }

    static func tile1(kc: Int, a: UnsafePointer<Float>, panel: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                      cols: Int, bias: UnsafePointer<Float>?, loadC: Bool) {
        let b = bias.map { load($0, cols) } ?? SIMD16<Float>(repeating: 0)
        var c0 = start(c, cols, b, loadC)
        for p in 0..<kc {
            c0 += SIMD16(repeating: a[p]) * UnsafeRawPointer(panel + p * 16).loadUnaligned(as: SIMD16<Float>.self)
        }
        store(c0, c, cols)
    }
}
