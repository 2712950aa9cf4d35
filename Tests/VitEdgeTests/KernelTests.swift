import XCTest
import _VitKernels
@testable import VitEdge

/// Every optimized kernel against the scalar reference, over awkward shapes:
/// K below/at/above the tile and the 256- and 1024-wide K slices, odd N, one row, many rows.
final class KernelTests: XCTestCase {
    /// The kernel sets this CPU can run (always at least xsimd).
    var routes: [Kernels] {
        Kernels.Choice.allCases.filter { $0 != .reference && $0 != .auto }.compactMap { try? Kernels.select($0) }
    }

    /// Each kernel set is offered exactly when the CPU has its instructions, refused with
    /// one line otherwise, and `auto` is the widest one offered.
    func testRoutesSelected() throws {
        XCTAssertTrue(try Kernels.select(.reference).isReference)
        let f = Set(Kernels.cpuFeatures)
        let auto = try Kernels.select(.auto)
        XCTAssertEqual(auto.gemmName, Kernels.forFeatures(vk_cpu_features()).gemmName)
        #if arch(x86_64)
        let offered: [(Kernels.Choice, Bool)] = [(.xsimd, true), (.swift, true), (.avx2, f.isSuperset(of: ["avx2", "fma"])),
                                                 (.avx512, f.contains("avx512f"))]
        for (choice, runs) in offered {
            if runs {
                XCTAssertNoThrow(try Kernels.select(choice), "\(choice)")
            } else {
                XCTAssertThrowsError(try Kernels.select(choice), "\(choice)") { e in
                    XCTAssertTrue("\(e)".contains("this CPU runs"), "\(e)")
                }
            }
        }
        let widest = f.contains("avx512f") ? "avx512" : f.isSuperset(of: ["avx2", "fma"]) ? "avx2" : "xsimd"
        XCTAssertTrue(auto.gemmName.contains(widest), "auto picked \(auto.gemmName) on a CPU with \(f.sorted())")
        #else
        XCTAssertTrue(f.contains("neon"), "every ARM64 CPU has NEON")
        XCTAssertThrowsError(try Kernels.select(.avx2))
        #endif
        print("kernel routes on this CPU: \(routes.map(\.gemmName)), features \(Kernels.cpuFeatures)")
    }

    /// The int8 route is a pure function of the CPU's feature bits: what each core users
    /// have gets, asked with literal feature sets (ARM64's are checked by the conformance
    /// program under qemu, where that table is compiled).
    func testInt8RouteForKnownCores() {
        func route(_ bits: Int...) -> String { Kernels.int8Route(forFeatures: UInt32(bits.reduce(0, |))).name }
        #if arch(x86_64)
        let zen3 = [VK_CPU_X86_SSE41, VK_CPU_X86_AVX2, VK_CPU_X86_FMA]
        let zen4 = zen3 + [VK_CPU_X86_AVX512F, VK_CPU_X86_AVX512BW, VK_CPU_X86_AVX512VNNI]
        XCTAssertEqual(Kernels.int8Route(forFeatures: UInt32(zen3.reduce(0, |))).name, "vk_qs8_gemm_4x16__avx2")
        XCTAssertEqual(Kernels.int8Route(forFeatures: UInt32(zen4.reduce(0, |))).name, "vk_qs8_gemm_8x32__avx512vnni")
        XCTAssertEqual(route(VK_CPU_X86_SSE41), "vk_qs8_gemm_4x16__sse41")
        XCTAssertEqual(Kernels.int8Route(forFeatures: UInt32(zen3.reduce(0, |)), maxWeight: 63).name, "vk_qs8_gemm_4x16__avx2_w7")
        XCTAssertEqual(Kernels.int8Route(forFeatures: UInt32((zen3 + [VK_CPU_X86_AVXVNNI]).reduce(0, |))).name, "vk_qs8_gemm_6x16__avxvnni")
        #elseif arch(arm64)
        XCTAssertEqual(route(VK_CPU_ARM_NEON), "vk_qs8_gemm_2x8c16__neon")
        XCTAssertEqual(route(VK_CPU_ARM_NEON, VK_CPU_ARM_DOTPROD), "vk_qs8_gemm_4x16__neondot")
        #endif
        XCTAssertEqual(route(), "vk_qs8_gemm_4x16__scalar")
        // Every route the CPU can run is in the table, and the selected one is the first.
        XCTAssertEqual(Kernels.int8Routes.first { $0.config.pointee.max_weight == 127 }?.name,
                       Kernels.int8Route(forFeatures: vk_cpu_features()).name)
    }

    /// The AVX-VNNI kernel set end to end. No CPU or emulator here has AVX-VNNI, so on an
    /// AVX-512 VNNI host the Alder Lake-N set runs with its int8 GEMM's EVEX twin (the same
    /// source). Every int8 route is exact, so with the same fp32 level the whole int8 model
    /// must give the Zen 3 set's logits bit for bit, although the int8 kernel, its input
    /// form (+128), quantizer and tile differ — with int8 attention too.
    func testAvxVnniKernelSetRunsTheInt8Model() throws {
        #if arch(x86_64)
        let f = vk_cpu_features()
        let zen3 = UInt32(VK_CPU_X86_SSE41 | VK_CPU_X86_AVX2 | VK_CPU_X86_FMA)
        guard f & zen3 == zen3, f & UInt32(VK_CPU_X86_AVX512VNNI) != 0 else {
            throw XCTSkip("the AVX-VNNI kernel's twin needs AVX-512 VNNI (and VL, which every such CPU has)")
        }
        var adln = Kernels.forFeatures(zen3 | UInt32(VK_CPU_X86_AVXVNNI))
        XCTAssertEqual(adln.int8Name, "vk_qs8_gemm_6x16__avxvnni")
        adln.qs8Gemm = vk_qs8_gemm_6x16__avxvnni_evex_twin
        let z3 = Kernels.forFeatures(zen3)
        let file = try VitqFile.load(path: repoFile("models/mnist-vit-int8.vitq"))
        var options = QuantizeOptions()
        options.int8Attention = true
        let fp32 = try VitqFile.load(path: repoFile("models/mnist-vit.vitq"))
        let attention = try VitqFile.parse(try Quantizer.quantize(fp32, source: "mnist-vit", calibration: nil, options: options).bytes,
                                           path: "mnist-vit-int8-attention")
        for (name, f) in [("int8", file), ("int8 attention", attention)] {
            var logits: [[Float]] = []
            for kernels in [z3, adln] {
                let session = try InferenceSession(model: try VisionTransformer(file: f, kernels: kernels), batchSize: 3)
                for i in 0..<session.input.count { session.input[i] = Float((i * 7919) % 255) / 255 - 0.4 }
                session.forward()
                logits.append((0..<3).flatMap { Array(session.logits($0)) })
            }
            XCTAssertEqual(logits[0], logits[1], "\(name): the AVX-VNNI set differs from the Zen 3 set")
            XCTAssertFalse(logits[0].allSatisfy { $0 == 0 })
        }
        #endif
    }

    /// The whole kernel set `auto` picks is a pure function of the feature bits (the fp32
    /// table, then the int8 table within the level's features): literal feature sets of
    /// the cores users have. ARM64's are also checked by the conformance program under qemu.
    func testKernelSetForKnownCores() {
        func bits(_ b: [Int]) -> UInt32 { UInt32(b.reduce(0, |)) }
        func same<T>(_ a: T, _ b: T) -> Bool { unsafeBitCast(a, to: UnsafeRawPointer.self) == unsafeBitCast(b, to: UnsafeRawPointer.self) }
        #if arch(x86_64)
        let zen3 = [VK_CPU_X86_SSE41, VK_CPU_X86_AVX2, VK_CPU_X86_FMA]
        let skylakeX = zen3 + [VK_CPU_X86_AVX512F, VK_CPU_X86_AVX512BW]
        let zen4 = skylakeX + [VK_CPU_X86_AVX512VNNI]
        let z3 = Kernels.forFeatures(bits(zen3))
        XCTAssertEqual(z3.gemmName, "vk_f32_gemm_6x16__avx2_fma")
        XCTAssertEqual(z3.rowOpsName, "avx2 fma")
        XCTAssertEqual(z3.int8Name, "vk_qs8_gemm_4x16__avx2")
        XCTAssertTrue(same(z3.qs8Quantize, vk_qs8_quantize_rows__avx2 as vk_qs8_quantize_fn))
        XCTAssertEqual(z3.qs8Narrow?.name, "vk_qs8_gemm_4x16__avx2_w7")
        XCTAssertTrue(same(z3.qs8Narrow!.quantize, vk_qs8_quantize_rows_u8__avx2 as vk_qs8_quantize_fn))
        XCTAssertEqual(z3.peakRoute.f32, Int32(VK_PEAK_AVX2))
        XCTAssertEqual(z3.peakRoute.int8, Int32(VK_PEAK_AVX2))
        let z4 = Kernels.forFeatures(bits(zen4))
        XCTAssertEqual(z4.gemmName, "vk_f32_gemm_12x16__avx512f")
        XCTAssertEqual(z4.int8Name, "vk_qs8_gemm_8x32__avx512vnni")
        XCTAssertTrue(z4.int8OffsetInput)
        XCTAssertTrue(same(z4.qs8Quantize, vk_qs8_quantize_rows_u8__avx512f as vk_qs8_quantize_fn))
        XCTAssertNil(z4.qs8Narrow, "VNNI needs no 7-bit kernel")
        XCTAssertEqual(z4.peakRoute.int8, Int32(VK_PEAK_AVX512))
        // AVX-512 without VNNI (Skylake-X): AVX-512 fp32, the AVX2 int8 kernels.
        let sx = Kernels.forFeatures(bits(skylakeX))
        XCTAssertEqual(sx.gemmName, "vk_f32_gemm_12x16__avx512f")
        XCTAssertEqual(sx.int8Name, "vk_qs8_gemm_4x16__avx2")
        XCTAssertEqual(sx.qs8Narrow?.name, "vk_qs8_gemm_4x16__avx2_w7")
        // AVX2 without FMA does not exist in practice; SSE4.1 only: the xsimd baseline.
        let old = Kernels.forFeatures(bits([VK_CPU_X86_SSE41]))
        XCTAssertEqual(old.gemmName, "vk_f32_gemm_4x16__xsimd")
        XCTAssertEqual(old.int8Name, "vk_qs8_gemm_4x16__sse41")
        // AVX-VNNI without AVX-512 (Alder Lake-N such as the N100, later Intel client
        // cores): AVX2 fp32 and row kernels, vpdpbusd int8 on activations + 128, and no
        // 7-bit kernel (vpdpbusd cannot saturate).
        let adln = Kernels.forFeatures(bits(zen3 + [VK_CPU_X86_AVXVNNI]))
        XCTAssertEqual(adln.gemmName, "vk_f32_gemm_6x16__avx2_fma")
        XCTAssertEqual(adln.int8Name, "vk_qs8_gemm_6x16__avxvnni")
        XCTAssertTrue(adln.int8OffsetInput)
        XCTAssertTrue(same(adln.qs8Quantize, vk_qs8_quantize_rows_u8__avx2 as vk_qs8_quantize_fn))
        XCTAssertNil(adln.qs8Narrow)
        XCTAssertEqual(adln.peakRoute.int8, Int32(VK_PEAK_AVXVNNI))
        // --kernels avx2 on this machine is what a Zen 3 gets (an Intel client core if
        // this CPU has AVX-VNNI), whatever else it has beyond it.
        if let avx2 = try? Kernels.select(.avx2) {
            let want = vk_cpu_features() & UInt32(VK_CPU_X86_AVXVNNI) != 0 ? adln : z3
            XCTAssertEqual(avx2.gemmName, want.gemmName)
            XCTAssertEqual(avx2.int8Name, want.int8Name)
            XCTAssertEqual(avx2.qs8Narrow?.name, want.qs8Narrow?.name)
        }
        #elseif arch(arm64)
        let a72 = Kernels.forFeatures(bits([VK_CPU_ARM_NEON]))
        XCTAssertEqual(a72.gemmName, "vk_f32_gemm_4x16__xsimd")
        XCTAssertEqual(a72.int8Name, "vk_qs8_gemm_2x8c16__neon")
        XCTAssertEqual(a72.int8KR, 16)
        XCTAssertNil(a72.qs8Narrow)
        let a76 = Kernels.forFeatures(bits([VK_CPU_ARM_NEON, VK_CPU_ARM_DOTPROD]))
        XCTAssertEqual(a76.gemmName, "vk_f32_gemm_4x16__xsimd")
        XCTAssertEqual(a76.int8Name, "vk_qs8_gemm_4x16__neondot")
        XCTAssertEqual(a76.peakRoute.int8, Int32(VK_PEAK_NEONDOT))
        #endif
        // No features at all: the baseline level and the scalar int8 kernel.
        XCTAssertEqual(Kernels.forFeatures(0).gemmName, "vk_f32_gemm_4x16__xsimd")
        XCTAssertEqual(Kernels.forFeatures(0).int8Name, "vk_qs8_gemm_4x16__scalar")
        // auto on this CPU is the pure function of its own features.
        let auto = try! Kernels.select(.auto)
        XCTAssertEqual(auto.description, Kernels.forFeatures(vk_cpu_features()).description)
    }

    func testGemmMatchesReference() throws {
        var rng = Random(seed: 1)
        let ms = [1, 2, 5, 6, 7, 12, 13, 50]
        let ns = [1, 3, 15, 16, 17, 33, 64]
        let ks = [1, 3, 16, 17, 64, 255, 256, 257, 300, 1024, 1025]
        for route in routes {
            var checked = 0
            for m in ms { for n in ns { for k in ks where (m * n * k) % 3 == 0 || m == 1 || k == 257 {
                for (useBias, accumulate) in [(true, false), (false, true)] {
                    let a = rng.floats(m * (k + 2))  // lda = k + 2 (strided rows)
                    let w = rng.floats(n * k)
                    let bias = rng.floats(n)
                    let c0 = rng.floats(m * (n + 1))  // ldc = n + 1
                    var expected = c0, got = c0
                    var packed = [Float](repeating: .nan, count: Kernels.packedCount(n: n, k: k))
                    w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { Kernels.pack(wp.baseAddress!, n: n, k: k, into: $0.baseAddress!) } }
                    a.withUnsafeBufferPointer { ap in w.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                        expected.withUnsafeMutableBufferPointer { cp in
                            Reference.gemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k + 2, w: wp.baseAddress!, ldw: k,
                                           bias: useBias ? bp.baseAddress! : nil, c: cp.baseAddress!, ldc: n + 1, accumulate: accumulate)
                        }
                        got.withUnsafeMutableBufferPointer { cp in packed.withUnsafeBufferPointer { pp in
                            route.gemm!(m, n, k, ap.baseAddress!, k + 2, pp.baseAddress!, useBias ? bp.baseAddress! : nil,
                                        cp.baseAddress!, n + 1, accumulate ? 1 : 0)
                        } }
                    } } }
                    for i in 0..<m {
                        for j in 0..<(n + 1) {
                            let idx = i * (n + 1) + j
                            if j == n { XCTAssertEqual(got[idx], c0[idx], "\(route.gemmName) wrote past column n"); continue }
                            var mag = abs(useBias ? bias[j] : 0) + abs(accumulate ? c0[idx] : 0)
                            for p in 0..<k { mag += abs(a[i * (k + 2) + p] * w[j * k + p]) }
                            let tol = dotTolerance(k: k + 2, magnitude: mag)
                            if abs(got[idx] - expected[idx]) > tol {
                                XCTFail("\(route.gemmName) m=\(m) n=\(n) k=\(k) bias=\(useBias) acc=\(accumulate) [\(i),\(j)]: \(got[idx]) vs \(expected[idx]) (tol \(tol))")
                                return
                            }
                        }
                    }
                    checked += 1
                }
            } } }
            XCTAssertGreaterThan(checked, 100)
        }
    }

    /// The GEMM reading B[k][n] in place (row stride ldb > n), as attention reads V.
    func testGemmReadingBInPlaceMatchesReference() throws {
        var rng = Random(seed: 4)
        for route in routes {
            for (m, n, k) in [(1, 1, 1), (5, 7, 3), (13, 16, 50), (50, 16, 50), (12, 17, 257), (197, 64, 197), (3, 33, 300), (5, 20, 1100)] {
                let ldb = n + 5, lda = k + 1
                let a = rng.floats(m * lda), bkn = rng.floats(k * ldb), bias = rng.floats(n)
                var wnk = [Float](repeating: 0, count: n * k)  // the same B as W[n][k] for the reference
                for kk in 0..<k { for j in 0..<n { wnk[j * k + kk] = bkn[kk * ldb + j] } }
                var expected = [Float](repeating: 0, count: m * n), got = expected
                a.withUnsafeBufferPointer { ap in wnk.withUnsafeBufferPointer { wp in bkn.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { bi in
                    expected.withUnsafeMutableBufferPointer {
                        Reference.gemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, w: wp.baseAddress!, ldw: k, bias: bi.baseAddress!,
                                       c: $0.baseAddress!, ldc: n, accumulate: false)
                    }
                    got.withUnsafeMutableBufferPointer {
                        route.gemmKN!(m, n, k, ap.baseAddress!, lda, bp.baseAddress!, ldb, bi.baseAddress!, $0.baseAddress!, n, 0)
                    }
                } } } }
                for i in 0..<m { for j in 0..<n {
                    var mag = abs(bias[j])
                    for p in 0..<k { mag += abs(a[i * lda + p] * bkn[p * ldb + j]) }
                    XCTAssertEqual(got[i * n + j], expected[i * n + j], accuracy: dotTolerance(k: k + 1, magnitude: mag),
                                   "\(route.gemmName) kn m=\(m) n=\(n) k=\(k) [\(i),\(j)]")
                } }
            }
        }
    }

    func testLayerNormGeluSoftmaxMatchReference() throws {
        var rng = Random(seed: 2)
        for fast in routes {
        for n in [1, 3, 4, 7, 15, 16, 17, 33, 64, 197] {
            let rows = 3
            let x = rng.floats(rows * n, scale: 4).enumerated().map { $0.element + Float($0.offset % 5) }
            let gamma = rng.floats(n), beta = rng.floats(n)
            var ref = [Float](repeating: 0, count: rows * n), got = ref
            gamma.withUnsafeBufferPointer { g in beta.withUnsafeBufferPointer { b in
                let ln = LayerNorm(gamma: g.baseAddress!, beta: b.baseAddress!, count: n, eps: 1e-6)
                x.withUnsafeBufferPointer { xp in
                    ref.withUnsafeMutableBufferPointer { Kernels.reference.layerNorm(ln, rows: rows, x: xp.baseAddress!, ldx: n, y: $0.baseAddress!, ldy: n) }
                    got.withUnsafeMutableBufferPointer { fast.layerNorm(ln, rows: rows, x: xp.baseAddress!, ldx: n, y: $0.baseAddress!, ldy: n) }
                }
            } }
            // Normalized values are O(1)·|γ| + |β|: a few ulps of 4 per element of the row sums.
            let tol = dotTolerance(k: 2 * n, magnitude: 8) * 4
            for i in 0..<(rows * n) { XCTAssertEqual(got[i], ref[i], accuracy: tol, "\(fast.rowOpsName) layernorm n=\(n) i=\(i)") }

            for form in ViTConfig.GELU.allCases {
                var r = x, g = x
                r.withUnsafeMutableBufferPointer { Kernels.reference.gelu($0.baseAddress!, count: $0.count, form: form) }
                g.withUnsafeMutableBufferPointer { fast.gelu($0.baseAddress!, count: $0.count, form: form) }
                for i in r.indices { XCTAssertEqual(g[i], r[i], accuracy: 4 * Float.ulpOfOne * max(1, abs(x[i])), "\(fast.rowOpsName) gelu \(form) x=\(x[i])") }
            }
            var r = x, g = x
            r.withUnsafeMutableBufferPointer { Kernels.reference.softmax(rows: rows, n: n, x: $0.baseAddress!, ld: n, scale: 0.37) }
            g.withUnsafeMutableBufferPointer { fast.softmax(rows: rows, n: n, x: $0.baseAddress!, ld: n, scale: 0.37) }
            for i in r.indices { XCTAssertEqual(g[i], r[i], accuracy: Float(n + 4) * Float.ulpOfOne * max(r[i], 1e-6) + 1e-7, "\(fast.rowOpsName) softmax n=\(n)") }
        }
        }
    }

    /// GELU over a dense sweep of the range that matters (the tails saturate):
    /// every route within 4 ulp of max(1, |x|). GELU is x·Φ(x): an approximation of Φ
    /// (the AVX-512 route's rational erf, ~2 ulp) errs in proportion to |x|, and 1e-6
    /// on a GELU output is far below what the golden tests resolve.
    func testGeluSweepMatchesReference() throws {
        let x = (0..<40_001).map { Float($0 - 20_000) / 2_000 }  // -10 ... 10, step 0.0005
        for fast in routes {
            for form in ViTConfig.GELU.allCases {
                var r = x, g = x
                r.withUnsafeMutableBufferPointer { Kernels.reference.gelu($0.baseAddress!, count: $0.count, form: form) }
                g.withUnsafeMutableBufferPointer { fast.gelu($0.baseAddress!, count: $0.count, form: form) }
                var worst: Float = 0
                for i in r.indices { worst = max(worst, abs(g[i] - r[i]) / max(1, abs(x[i]))) }
                print("gelu \(form) \(fast.rowOpsName): worst \(worst / Float.ulpOfOne) ulp of max(1, |x|)")
                XCTAssertLessThanOrEqual(worst, 4 * Float.ulpOfOne, "\(fast.rowOpsName) gelu \(form)")
            }
        }
    }

    func testAttentionMatchesReference() throws {
        var rng = Random(seed: 3)
        for route in routes {
            for (batch, tokens, heads, headDim) in [(1, 1, 1, 1), (2, 5, 3, 7), (1, 50, 4, 16), (2, 17, 2, 33), (1, 197, 3, 64), (1, 300, 1, 20)] {
                let inner = heads * headDim
                let qkv = rng.floats(batch * tokens * 3 * inner, scale: 2)
                let s = Kernels.attentionScratchFloats(tokens: tokens, headDim: headDim)
                var scores = [Float](repeating: 0, count: s.scores), pk = [Float](repeating: 0, count: s.packedK)
                var ref = [Float](repeating: 0, count: batch * tokens * inner), got = ref
                qkv.withUnsafeBufferPointer { q in scores.withUnsafeMutableBufferPointer { sp in pk.withUnsafeMutableBufferPointer { kp in
                    let scratch = AttentionScratch(scores: sp.baseAddress!, packedK: kp.baseAddress!)
                    ref.withUnsafeMutableBufferPointer { Kernels.reference.attention(batch: batch, tokens: tokens, heads: heads, headDim: headDim, qkv: q.baseAddress!, out: $0.baseAddress!, scratch: scratch) }
                    got.withUnsafeMutableBufferPointer { route.attention(batch: batch, tokens: tokens, heads: heads, headDim: headDim, qkv: q.baseAddress!, out: $0.baseAddress!, scratch: scratch) }
                } } }
                // Outputs are convex combinations of V (|v| ≤ 2); scores carry a dot
                // product of headDim terms of size ≤ 4 each through exp.
                let tol = dotTolerance(k: tokens + headDim, magnitude: 2) + 2 * dotTolerance(k: headDim, magnitude: 4 * Float(headDim)) * 2
                let diff = got.withUnsafeBufferPointer { maxAbsDiff($0, ref) }
                XCTAssertLessThanOrEqual(diff, tol, "\(route.gemmName) attention b=\(batch) t=\(tokens) h=\(heads) d=\(headDim)")
            }
        }
    }

    /// DeepViT's re-attention on every route against `Reference.reattention`, outputs and
    /// captured maps, over awkward shapes (one head: the LayerNorm over heads gives β; token
    /// counts across the 48-row blocks). The tolerance follows the error through each stage:
    /// the probabilities' (QKᵀ's dot products through exp), the mix's sum over heads, the
    /// LayerNorm's amplification by its largest 1/σ (computed here in Double from the same
    /// inputs), then PV's sum over tokens.
    func testReattentionMatchesReference() throws {
        var rng = Random(seed: 8)
        for route in routes {
            for (batch, tokens, heads, headDim) in [(1, 1, 1, 1), (2, 5, 3, 7), (1, 50, 4, 16), (2, 17, 2, 33), (1, 100, 6, 20)] {
                let inner = heads * headDim
                let qkv = rng.floats(batch * tokens * 3 * inner, scale: 2)
                let mix = rng.floats(heads * heads, scale: 1)
                let gamma = rng.floats(heads, scale: 0.5).map { $0 + 1 }, beta = rng.floats(heads, scale: 0.5)
                let ref = try reattention(.reference, batch, tokens, heads, headDim, qkv, mix, gamma, beta)
                let got = try reattention(route, batch, tokens, heads, headDim, qkv, mix, gamma, beta)
                // 1/σ of the mixed maps at every (image, head, query, key), in Double.
                var rstdMax = 0.0
                let ld = 3 * inner, scale = 1 / Double(headDim).squareRoot()
                for b in 0..<batch {
                    for i in 0..<tokens {
                        var p = [[Double]](repeating: [Double](repeating: 0, count: tokens), count: heads)
                        for h in 0..<heads {
                            for j in 0..<tokens {
                                var s = 0.0
                                for d in 0..<headDim { s += Double(qkv[(b * tokens + i) * ld + h * headDim + d]) * Double(qkv[(b * tokens + j) * ld + inner + h * headDim + d]) }
                                p[h][j] = s * scale
                            }
                            let mx = p[h].max()!, e = p[h].map { exp($0 - mx) }, z = e.reduce(0, +)
                            p[h] = e.map { $0 / z }
                        }
                        for j in 0..<tokens {
                            let m = (0..<heads).map { g in (0..<heads).reduce(0.0) { $0 + p[$1][j] * Double(mix[$1 * heads + g]) } }
                            let mean = m.reduce(0, +) / Double(heads)
                            let variance = m.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(heads)
                            rstdMax = max(rstdMax, 1 / (variance + 1e-5).squareRoot())
                        }
                    }
                }
                let maxMix = mix.map(abs).max()!, maxGamma = gamma.map(abs).max()!
                let probability = 2 * dotTolerance(k: headDim, magnitude: 4 * Float(headDim)) + dotTolerance(k: tokens, magnitude: 1)
                let mixed = Float(heads) * probability * maxMix + dotTolerance(k: heads, magnitude: Float(heads) * maxMix)
                let map = 4 * mixed * Float(rstdMax) * maxGamma
                let mapMagnitude = ref.maps.map(abs).max()!
                let out = dotTolerance(k: tokens, magnitude: Float(tokens) * mapMagnitude * 2) + Float(tokens) * map * 2
                let shape = "\(route.gemmName) b=\(batch) t=\(tokens) h=\(heads) d=\(headDim)"
                XCTAssertLessThanOrEqual(maxAbsDiff(got.maps, ref.maps), map + dotTolerance(k: heads, magnitude: mapMagnitude), "maps " + shape)
                XCTAssertLessThanOrEqual(maxAbsDiff(got.out, ref.out), out, "out " + shape)
            }
        }
    }

    /// One re-attention call on a route with planned-size scratch: (out, captured maps).
    func reattention(_ k: Kernels, _ batch: Int, _ tokens: Int, _ heads: Int, _ headDim: Int, _ qkv: [Float], _ mix: [Float],
                     _ gamma: [Float], _ beta: [Float]) throws -> (out: [Float], maps: [Float]) {
        let s = k.reattentionScratchFloats(tokens: tokens, heads: heads, headDim: headDim)
        var scores = [Float](repeating: .nan, count: s.scores), packed = [Float](repeating: .nan, count: max(s.packedK, 1))
        var out = [Float](repeating: .nan, count: batch * tokens * heads * headDim)
        var maps = [Float](repeating: .nan, count: batch * heads * tokens * tokens)
        gamma.withUnsafeBufferPointer { g in beta.withUnsafeBufferPointer { bt in mix.withUnsafeBufferPointer { m in
            qkv.withUnsafeBufferPointer { q in scores.withUnsafeMutableBufferPointer { sp in packed.withUnsafeMutableBufferPointer { pk in
                out.withUnsafeMutableBufferPointer { o in maps.withUnsafeMutableBufferPointer { c in
                    let norm = LayerNorm(gamma: g.baseAddress!, beta: bt.baseAddress!, count: heads, eps: 1e-5)
                    k.reattention(batch: batch, tokens: tokens, heads: heads, headDim: headDim, qkv: q.baseAddress!, out: o.baseAddress!,
                                  mix: m.baseAddress!, norm: norm, scratch: AttentionScratch(scores: sp.baseAddress!, packedK: pk.baseAddress!),
                                  capture: c.baseAddress!)
                } }
            } } }
        } } }
        return (out, maps)
    }

    /// int8 attention on every route against `Reference.attentionInt8`, over awkward shapes
    /// (head sizes off the k-group, token counts across the 48-row blocks). The int8 products
    /// are exact; the routes' softmax differs from the reference's in the last bits, which
    /// can move a quantized probability by one step (1/127 of its row's largest), changing
    /// an output by at most that step times max |V|: a handful of such steps is allowed.
    func testInt8AttentionMatchesReference() throws {
        var rng = Random(seed: 5)
        for route in routes where route.qs8Gemm != nil {
            for (batch, tokens, heads, headDim) in [(1, 1, 1, 1), (2, 5, 3, 7), (1, 50, 4, 16), (2, 17, 2, 33), (1, 197, 3, 64), (1, 100, 1, 20)] {
                let inner = heads * headDim
                let qkv = rng.floats(batch * tokens * 3 * inner, scale: 2)
                let s = Kernels.attentionScratchFloats(tokens: tokens, headDim: headDim)
                let bytes = Int8AttentionLayout(tokens: tokens, headDim: headDim).bytes
                var scores = [Float](repeating: 0, count: s.scores), pk = [Float](repeating: 0, count: s.packedK)
                let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
                defer { raw.deallocate() }
                var ref = [Float](repeating: 0, count: batch * tokens * inner), got = ref
                qkv.withUnsafeBufferPointer { q in scores.withUnsafeMutableBufferPointer { sp in pk.withUnsafeMutableBufferPointer { kp in
                    let scratch = AttentionScratch(scores: sp.baseAddress!, packedK: kp.baseAddress!, int8: raw)
                    ref.withUnsafeMutableBufferPointer { Kernels.reference.attention(batch: batch, tokens: tokens, heads: heads, headDim: headDim, qkv: q.baseAddress!, out: $0.baseAddress!, scratch: scratch) }
                    got.withUnsafeMutableBufferPointer { route.attention(batch: batch, tokens: tokens, heads: heads, headDim: headDim, qkv: q.baseAddress!, out: $0.baseAddress!, scratch: scratch) }
                } } }
                let diff = got.withUnsafeBufferPointer { maxAbsDiff($0, ref) }
                let mean = zip(got, ref).map { abs($0 - $1) }.reduce(0, +) / Float(got.count)
                XCTAssertLessThanOrEqual(diff, 4 * 2 / 127, "\(route.int8Name) int8 attention b=\(batch) t=\(tokens) h=\(heads) d=\(headDim)")
                XCTAssertLessThanOrEqual(mean, 2 / 127 / 8, "\(route.int8Name) int8 attention mean b=\(batch) t=\(tokens) d=\(headDim)")
                // And it is attention: close to the fp32 result (int8 noise, not a bug's size).
                var fp = ref
                qkv.withUnsafeBufferPointer { q in scores.withUnsafeMutableBufferPointer { sp in pk.withUnsafeMutableBufferPointer { kp in
                    fp.withUnsafeMutableBufferPointer { Kernels.reference.attention(batch: batch, tokens: tokens, heads: heads, headDim: headDim, qkv: q.baseAddress!, out: $0.baseAddress!, scratch: AttentionScratch(scores: sp.baseAddress!, packedK: kp.baseAddress!)) }
                } } }
                XCTAssertLessThanOrEqual(fp.withUnsafeBufferPointer { maxAbsDiff($0, ref) }, 0.25, "int8 attention far from fp32 at t=\(tokens) d=\(headDim)")
            }
        }
    }

    /// Swin's windowed attention: the windows are the batch, and a bias [heads, N, N] plus a
    /// mask per window position [windows, N, N] (0 or −100) are added to the scaled logits,
    /// on every route against the reference, fp32 and int8 (the same bounds as the plain
    /// tests above: the bias adds no rounding of its own, every route adds it the same way).
    /// Shapes: one token; Swin-T's 7×7 windows; 12×12 windows (144 tokens: the query rows
    /// run in blocks, so the bias rows are offset); windows that do not divide the batch of
    /// one image. And the bias is used: without it the result moves.
    /// int8 attention's V: quantized per channel straight from its rows and packed from
    /// token-major bytes, equal byte for byte to quantizing the rows of Vᵀ and packing
    /// those — on every fp32 level's column quantizer and every int8 route's packer
    /// (packers are plain C: each route's runs here, the c16 one under qemu).
    func testColumnQuantizationAndTransposedPackingMatchTheTranspose() throws {
        var rng = Random(seed: 31)
        for (tokens, channels, ld) in [(1, 1, 1), (5, 7, 9), (17, 16, 48), (50, 16, 192), (197, 64, 576), (33, 65, 70), (100, 130, 130)] {
            var v = rng.floats(tokens * ld, scale: 3)
            for t in 0..<tokens { v[t * ld] = 0 }  // an all-zero channel
            if channels > 1 { v[(tokens / 2) * ld + 1] = 1e30 }
            // The definition: Vᵀ's rows quantized by the reference.
            var vt = [Float](repeating: 0, count: channels * tokens)
            for c in 0..<channels { for t in 0..<tokens { vt[c * tokens + t] = v[t * ld + c] } }
            for level in Kernels.allLevels {
                let name = String(cString: level.pointee.level)
                var want = [Int8](repeating: 0, count: channels * tokens), wantScale = [Float](repeating: 0, count: channels)
                Reference.quantizeRows(rows: channels, k: tokens, x: vt, ldx: tokens, q: &want, ldq: tokens, scale: &wantScale)
                var got = [Int8](repeating: 99, count: tokens * channels), gotScale = [Float](repeating: 0, count: channels)
                level.pointee.quantize_columns(tokens, channels, v, ld, &got, channels, &gotScale)
                XCTAssertEqual(gotScale, wantScale, "\(name) scales t=\(tokens) c=\(channels)")
                for c in 0..<channels { for t in 0..<tokens where got[t * channels + c] != want[c * tokens + t] {
                    XCTFail("\(name) q[\(t)][\(c)] t=\(tokens) c=\(channels)"); break
                } }
                // Packed as [channels, tokens padded] weights, from either side.
                for route in Kernels.allInt8Routes {
                    let kp = alignUp(tokens, route.kr)
                    var rows = [Int8](repeating: 0, count: channels * kp)
                    for c in 0..<channels { for t in 0..<tokens { rows[c * kp + t] = want[c * tokens + t] } }
                    let bytes = route.packedBytes(n: channels, k: kp)
                    var a = [UInt8](repeating: 1, count: bytes), b = [UInt8](repeating: 2, count: bytes)
                    a.withUnsafeMutableBytes { route.pack(rows, n: channels, k: kp, into: $0.baseAddress!) }
                    b.withUnsafeMutableBytes { route.config.pointee.pack_kn(got, channels, channels, tokens, kp, $0.baseAddress!) }
                    XCTAssertTrue(a == b, "\(route.name) pack_kn t=\(tokens) c=\(channels)")
                }
            }
        }
    }

    func testWindowedAttentionWithBiasMatchesReference() throws {
        var rng = Random(seed: 12)
        for (batch, windows, tokens, heads, headDim) in [(1, 1, 1, 1, 1), (8, 4, 49, 3, 32), (2, 2, 144, 2, 16), (6, 3, 16, 4, 8)] {
            let inner = heads * headDim
            let qkv = rng.floats(batch * tokens * 3 * inner, scale: 2)
            let bias = rng.floats(heads * tokens * tokens, scale: 2)
            let mask = (0..<(windows * tokens * tokens)).map { _ in rng.floats(1, scale: 1)[0] > 0.3 ? Float(-100) : 0 }
            func run(_ k: Kernels, int8: Bool, withBias: Bool = true) -> [Float] {
                let s = Kernels.attentionScratchFloats(tokens: tokens, headDim: headDim)
                var scores = [Float](repeating: 0, count: s.scores), pk = [Float](repeating: 0, count: s.packedK)
                let raw = UnsafeMutableRawPointer.allocate(byteCount: Int8AttentionLayout(tokens: tokens, headDim: headDim).bytes, alignment: 64)
                defer { raw.deallocate() }
                var out = [Float](repeating: 0, count: batch * tokens * inner)
                qkv.withUnsafeBufferPointer { q in bias.withUnsafeBufferPointer { b in mask.withUnsafeBufferPointer { m in
                    scores.withUnsafeMutableBufferPointer { sp in pk.withUnsafeMutableBufferPointer { kp in out.withUnsafeMutableBufferPointer { o in
                        k.attention(batch: batch, tokens: tokens, heads: heads, headDim: headDim, qkv: q.baseAddress!, out: o.baseAddress!,
                                    scratch: AttentionScratch(scores: sp.baseAddress!, packedK: kp.baseAddress!, int8: int8 ? raw : nil),
                                    bias: withBias ? AttentionBias(bias: b.baseAddress!, mask: m.baseAddress!, windows: windows) : nil)
                    } } }
                } } }
                return out
            }
            let ref = run(.reference, int8: false), refInt8 = run(.reference, int8: true)
            if tokens > 1 { XCTAssertGreaterThan(maxAbsDiff(ref, run(.reference, int8: false, withBias: false)), 0.1, "the bias changes nothing at t=\(tokens)") }
            for route in routes {
                let tol = dotTolerance(k: tokens + headDim, magnitude: 2) + 2 * dotTolerance(k: headDim, magnitude: 4 * Float(headDim)) * 2
                XCTAssertLessThanOrEqual(maxAbsDiff(run(route, int8: false), ref), tol, "\(route.gemmName) windowed attention t=\(tokens) h=\(heads)")
                guard route.qs8Gemm != nil else { continue }
                XCTAssertLessThanOrEqual(maxAbsDiff(run(route, int8: true), refInt8), 4 * 2 / 127, "\(route.int8Name) int8 windowed attention t=\(tokens)")
            }
            XCTAssertLessThanOrEqual(maxAbsDiff(refInt8, ref), 0.25, "int8 windowed attention far from fp32 at t=\(tokens)")
        }
    }

    /// PVT's attention: queries over fewer keys (the reduced map), Q and KV in separate
    /// buffers with their own row strides, on every route against the reference; shapes
    /// with one key, keys across the GEMM's panel width, queries across the 48-row blocks.
    func testCrossAttentionMatchesReference() throws {
        var rng = Random(seed: 13)
        for (batch, queries, keys, heads, headDim) in [(1, 1, 1, 1, 1), (2, 81, 4, 1, 16), (1, 100, 49, 5, 8), (3, 17, 33, 2, 20)] {
            let inner = heads * headDim, ldq = inner + 3
            let q = rng.floats(batch * queries * ldq, scale: 2), kv = rng.floats(batch * keys * 2 * inner, scale: 2)
            func run(_ k: Kernels) -> [Float] {
                let s = Kernels.attentionScratchFloats(tokens: keys, headDim: headDim)
                var scores = [Float](repeating: 0, count: s.scores), pk = [Float](repeating: 0, count: s.packedK)
                var out = [Float](repeating: 0, count: batch * queries * inner)
                q.withUnsafeBufferPointer { qp in kv.withUnsafeBufferPointer { kp in scores.withUnsafeMutableBufferPointer { sp in
                    pk.withUnsafeMutableBufferPointer { pkp in out.withUnsafeMutableBufferPointer { o in
                        k.crossAttention(batch: batch, queries: queries, keys: keys, heads: heads, headDim: headDim, q: qp.baseAddress!, ldq: ldq,
                                         kv: kp.baseAddress!, out: o.baseAddress!, scratch: AttentionScratch(scores: sp.baseAddress!, packedK: pkp.baseAddress!))
                    } }
                } } }
                return out
            }
            let ref = run(.reference)
            for route in routes {
                let tol = dotTolerance(k: keys + headDim, magnitude: 2) + 2 * dotTolerance(k: headDim, magnitude: 4 * Float(headDim)) * 2
                XCTAssertLessThanOrEqual(maxAbsDiff(run(route), ref), tol, "\(route.gemmName) cross attention q=\(queries) k=\(keys) h=\(heads)")
            }
        }
    }

    /// PVT's depthwise 3×3 convolution (NHWC, padding 1, bias, then GELU) on every route
    /// against the reference: the taps in the same order, the routes' fused multiply-adds
    /// and GELU apart (a sum of ten terms whose magnitudes add to at most 1 + 9·1·2 = 19: the
    /// dot-product tolerance, then GELU's slope ≤ 1.13).
    /// Channel counts around the 8- and 16-lane steps, grids of one pixel and odd sizes.
    func testDepthwiseConvolutionMatchesReference() throws {
        var rng = Random(seed: 14)
        for (batch, h, w, c) in [(1, 1, 1, 1), (2, 5, 3, 8), (1, 9, 9, 13), (2, 4, 7, 40), (1, 2, 1, 17), (1, 3, 6, 35)] {
            let x = rng.floats(batch * h * w * c, scale: 2), weight = rng.floats(9 * c, scale: 1), bias = rng.floats(c, scale: 1)
            func run(_ k: Kernels) -> [Float] {
                var y = [Float](repeating: 0, count: x.count)
                x.withUnsafeBufferPointer { xp in weight.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { depthwiseConv3x3(k, batch: batch, height: h, width: w, channels: c, x: xp.baseAddress!,
                                                                         weight: wp.baseAddress!, bias: bp.baseAddress!, y: $0.baseAddress!, gelu: .erf) }
                } } }
                return y
            }
            let ref = run(.reference)
            // Against a direct sum in Double, then each route against the reference.
            var direct = [Float](repeating: 0, count: x.count)
            for b in 0..<batch { for oy in 0..<h { for ox in 0..<w { for ch in 0..<c {
                var s = Double(bias[ch])
                for ky in 0..<3 { for kx in 0..<3 where (0..<h).contains(oy + ky - 1) && (0..<w).contains(ox + kx - 1) {
                    s += Double(weight[(ky * 3 + kx) * c + ch]) * Double(x[((b * h + oy + ky - 1) * w + ox + kx - 1) * c + ch])
                } }
                direct[((b * h + oy) * w + ox) * c + ch] = Float(0.5 * s * (1 + erf(s / 2.0.squareRoot())))
            } } } }
            XCTAssertLessThanOrEqual(maxAbsDiff(ref, direct), dotTolerance(k: 10, magnitude: 19) + 1e-5, "reference at \(h)x\(w)x\(c)")
            for route in routes {
                XCTAssertLessThanOrEqual(maxAbsDiff(run(route), ref), 1.13 * dotTolerance(k: 10, magnitude: 19) + 1e-5,
                                         "\(route.gemmName) depthwise \(h)x\(w)x\(c)")
            }
        }
    }
}
