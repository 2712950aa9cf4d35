import _VitKernels

/// The kernel set, chosen once from the CPU's features. Model code calls these
/// operations and never branches on the architecture itself.
package struct Kernels: @unchecked Sendable, CustomStringConvertible {
    /// Which kernel set (the public `Model.KernelChoice`).
    package typealias Choice = Model.KernelChoice

    /// fp32 GEMM route.
    package var gemmName: String
    var gemm: vk_f32_gemm_fn?
    /// The same route reading B[k][n] in place (attention's V).
    var gemmKN: vk_f32_gemm_kn_fn?
    /// True when element-wise and row kernels use the xsimd shim.
    let vectorized: Bool
    /// int8 GEMM route.
    package var int8Name: String = "reference (scalar Swift)"
    var qs8Gemm: vk_qs8_gemm_fn? = nil
    /// The int8 route takes activations + 128 as uint8 (see `int8Routes`).
    var int8OffsetInput = false
    /// The int8 route's k-group: activation rows are padded to a multiple of it.
    var int8KR = 4
    /// The int8 route's packer and packed size (its panel layout is its own).
    var qs8PackFn: (@convention(c) (UnsafePointer<Int8>?, Int, Int, UnsafeMutableRawPointer?) -> Void)? = nil
    var qs8PackedBytesFn: (@convention(c) (Int, Int) -> Int)? = nil
    /// A faster kernel for layers whose weights are within ±63 (7-bit files), with the
    /// same packed layout, and the quantizers of its input form; nil where there is none.
    var qs8Narrow: (name: String, gemm: vk_qs8_gemm_fn, quantize: vk_qs8_quantize_fn,
                    quantizeStatic: vk_qs8_quantize_static_fn)? = nil
    /// The session's thread pool (nil: one thread). Set by `InferenceSession`.
    var pool: OpaquePointer? = nil
    var threads: Int = 1
    var qs8Quantize: vk_qs8_quantize_fn = vk_qs8_quantize_rows__xsimd
    var qs8QuantizeStatic: vk_qs8_quantize_static_fn = vk_qs8_quantize_rows_static__xsimd
    /// Signed int8 rows whatever the route's input form (int8 attention's K and V).
    var qs8QuantizeSigned: vk_qs8_quantize_fn = vk_qs8_quantize_rows__xsimd
    /// Row and element-wise kernels (used when `vectorized`).
    var rowOpsName = "xsimd \(String(cString: vk_xsimd_arch_name()))"
    var layerNormFn: vk_f32_layernorm_fn = vk_f32_layernorm__xsimd
    var geluErfFn: vk_f32_map_fn = vk_f32_gelu_erf__xsimd
    var geluTanhFn: vk_f32_map_fn = vk_f32_gelu_tanh__xsimd
    var geluQuickFn: vk_f32_map_fn = vk_f32_gelu_quick__xsimd
    var softmaxFn: vk_f32_softmax_fn = vk_f32_softmax__xsimd
    /// The peak loops that measure this set's fp32 and int8 instructions (`CorePeak`),
    /// from the two route tables.
    package var peakRoute: (f32: Int32, int8: Int32) = (Int32(VK_PEAK_XSIMD), Int32(VK_PEAK_XSIMD))
    /// The 8-bit image route (resampling, YUV rows) beside this set: what the instructions
    /// its int8 routes may use allow
    /// (`avx2` on an AVX-512 CPU resamples as a Zen 3 does); nil for the reference set,
    /// whose preprocessing is the scalar Swift reference.
    package var resampling: Resample.Route8? = nil
    /// Set only while a session is planned: every operation records the buffers it
    /// touches instead of computing (see `StepTrace` and `plans`).
    var trace: StepTrace? = nil

    init(gemmName: String, gemm: vk_f32_gemm_fn?, gemmKN: vk_f32_gemm_kn_fn? = nil, vectorized: Bool) {
        self.gemmName = gemmName
        self.gemm = gemm
        self.gemmKN = gemmKN
        self.vectorized = vectorized
    }

    /// The kernel set of one row of the fp32 table (`vk_f32_config`,
    /// Sources/VitKernels/f32_config.cpp) on a CPU with features `f`: the int8 route is the
    /// int8 table's best among the features the level lets it use, and layers with 7-bit
    /// weights get the best route for those when it shares the general route's packing.
    init(level: UnsafePointer<vk_f32_config>, features f: UInt32) {
        let c = level.pointee
        self.init(gemmName: String(cString: c.gemm_name), gemm: c.gemm, gemmKN: c.gemm_kn, vectorized: true)
        rowOpsName = String(cString: c.rowops_name)
        if rowOpsName == "xsimd" { rowOpsName += " \(String(cString: vk_xsimd_arch_name()))" }
        (layerNormFn, geluErfFn, geluTanhFn, geluQuickFn, softmaxFn) = (c.layernorm, c.gelu_erf, c.gelu_tanh, c.gelu_quick, c.softmax)
        qs8QuantizeSigned = c.quantize_signed
        let allowed = f & c.int8_features
        let int8 = Int8Route(config: vk_qs8_gemm_config_for(allowed, 127))
        (int8Name, qs8Gemm, int8OffsetInput, int8KR) = (int8.name, int8.gemm, int8.offsetInput, int8.kr)
        (qs8PackFn, qs8PackedBytesFn) = (int8.config.pointee.pack, int8.config.pointee.packed_bytes)
        (qs8Quantize, qs8QuantizeStatic) = (int8.config.pointee.quantize, int8.config.pointee.quantize_static)
        peakRoute = (Int32(c.peak), Int32(int8.config.pointee.peak))
        resampling = Resample.Route8(config: vk_u8_resample_config_for(f & c.int8_features))
        let narrow = vk_qs8_gemm_config_for(allowed, 63)!
        if narrow != int8.config, narrow.pointee.kr == int8.kr,
           unsafeBitCast(narrow.pointee.pack, to: UnsafeRawPointer.self) == unsafeBitCast(int8.config.pointee.pack, to: UnsafeRawPointer.self) {
            qs8Narrow = (String(cString: narrow.pointee.name), narrow.pointee.gemm, narrow.pointee.quantize, narrow.pointee.quantize_static)
        }
    }

    package static let reference = Kernels(gemmName: "reference (scalar Swift)", gemm: nil, vectorized: false)

    /// One row of the int8 route table (`vk_qs8_gemm_config`, Sources/VitKernels/qs8_gemm_config.cpp).
    package struct Int8Route: @unchecked Sendable {
        let config: UnsafePointer<vk_qs8_gemm_config>
        package var name: String { String(cString: config.pointee.name) }
        var gemm: vk_qs8_gemm_fn { config.pointee.gemm }
        /// The route takes activations + 128 as uint8 (VNNI's dpbusd).
        package var offsetInput: Bool { config.pointee.offset_input != 0 }
        /// Activation rows are padded to a multiple of kr.
        package var kr: Int { config.pointee.kr }
        package var requiredFeatures: UInt32 { config.pointee.requires }

        func packedBytes(n: Int, k: Int) -> Int { config.pointee.packed_bytes(n, k) }
        func pack(_ w: UnsafePointer<Int8>, n: Int, k: Int, into packed: UnsafeMutableRawPointer) { config.pointee.pack(w, n, k, packed) }
    }

    /// Every int8 route compiled for this architecture, best first (the C table).
    package static var allInt8Routes: [Int8Route] {
        var table: UnsafePointer<vk_qs8_gemm_config>? = nil
        let n = vk_qs8_gemm_configs(&table)
        return (0..<n).map { Int8Route(config: table! + $0) }
    }

    /// Every int8 GEMM route this CPU can execute, best first.
    package static var int8Routes: [Int8Route] {
        let f = vk_cpu_features()
        return allInt8Routes.filter { $0.requiredFeatures & f == $0.requiredFeatures }
    }

    /// The int8 route a CPU with these features gets (a pure function of the bits: ask
    /// what a Cortex-A72 or a Zen 3 gets with a literal feature set).
    package static func int8Route(forFeatures f: UInt32, maxWeight: Int32 = 127) -> Int8Route {
        Int8Route(config: vk_qs8_gemm_config_for(f, maxWeight))
    }

    package var isReference: Bool { gemm == nil }

    package var description: String {
        isReference ? "reference (scalar Swift)"
            : "fp32 GEMM \(gemmName); int8 GEMM \(int8Name)\(qs8Narrow.map { " (7-bit weights: \($0.name))" } ?? ""); LayerNorm/GELU/softmax \(rowOpsName)"
    }

    /// CPU features this process sees, by name.
    package static var cpuFeatures: [String] {
        let f = vk_cpu_features()
        let names: [(Int, String)] = [
            (VK_CPU_X86_SSE41, "sse4.1"), (VK_CPU_X86_AVX2, "avx2"),
            (VK_CPU_X86_FMA, "fma"), (VK_CPU_X86_AVX512F, "avx512f"),
            (VK_CPU_X86_AVX512BW, "avx512bw"), (VK_CPU_X86_AVX512VNNI, "avx512vnni"),
            (VK_CPU_X86_AVXVNNI, "avxvnni"), (VK_CPU_ARM_NEON, "neon"),
            (VK_CPU_ARM_DOTPROD, "dotprod"),
        ]
        return names.filter { f & UInt32($0.0) != 0 }.map { $0.1 }
    }

    /// Every fp32 level compiled for this architecture, best first (the C table).
    package static var allLevels: [UnsafePointer<vk_f32_config>] {
        var table: UnsafePointer<vk_f32_config>? = nil
        let n = vk_f32_configs(&table)
        return (0..<n).map { table! + $0 }
    }

    /// The kernel set `auto` picks on a CPU with these features: a pure function of the
    /// bits, so a test can ask what a Cortex-A72 or a Zen 3 gets with a literal set.
    package static func forFeatures(_ f: UInt32) -> Kernels {
        Kernels(level: vk_f32_config_for(f), features: f)
    }

    /// The kernel set for a choice, or an error when this CPU lacks the instructions.
    package static func select(_ choice: Choice = .auto) throws -> Kernels {
        let f = vk_cpu_features()
        func level(_ name: String, _ flag: String, _ needs: String) throws -> Kernels {
            guard let c = allLevels.first(where: { String(cString: $0.pointee.level) == name }),
                  c.pointee.requires & f == c.pointee.requires else {
                throw VitError.invalidSetting(.kernels, value: flag, expected: "a kernel set this CPU runs: it has no \(needs) (it has: \(cpuFeatures.joined(separator: " ")))")
            }
            return Kernels(level: c, features: f)
        }
        switch choice {
        case .reference: return .reference
        case .auto: return forFeatures(f)
        case .xsimd: return try level("xsimd", "xsimd", "xsimd baseline")
        case .swift:
            var swift = try level("xsimd", "swift", "xsimd baseline")
            swift.gemmName = "SwiftSIMDGemm 6x16 (SIMD16<Float>, baseline target)"
            swift.gemm = SwiftSIMDGemm.function
            return swift
        case .avx2: return try level("avx2", "avx2", "AVX2+FMA")
        case .avx512: return try level("avx512f", "avx512", "AVX-512F")
        }
    }

    // MARK: operations

    /// Planning: when this kernel set carries a trace, records one step touching the
    /// buffers these pointers fall in and returns true, and the operation returns without
    /// computing. Every operation of the forward pass that reads or writes activations
    /// starts with `if k.plans(...) { return }` naming its operands, so the memory plan
    /// follows from the code that runs. Otherwise one test of a nil reference.
    @inline(__always)
    func plans(_ a: UnsafeRawPointer?, _ b: UnsafeRawPointer? = nil, _ c: UnsafeRawPointer? = nil,
               _ d: UnsafeRawPointer? = nil, _ e: UnsafeRawPointer? = nil, _ f: UnsafeRawPointer? = nil,
               _ g: UnsafeRawPointer? = nil) -> Bool {
        guard let trace else { return false }
        trace.record([a, b, c, d, e, f, g])
        return true
    }

    /// y[rows][out] = (accumulate ? y : 0) + x[rows][in] · Wᵀ + b
    @inline(__always)
    func linear(_ w: Linear, rows: Int, x: UnsafePointer<Float>, ldx: Int,
                y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool = false, scratch: QuantScratch? = nil) {
        let int8 = w.int8 != nil ? scratch : nil
        if plans(x, y, int8?.q, int8?.scales, int8?.acc) { return }
        if let q = w.int8, let scratch {
            linearInt8(w, q, rows: rows, x: x, ldx: ldx, y: y, ldy: ldy, accumulate: accumulate, scratch: scratch)
        } else if let gemm, let packed = w.packed {
            let panels = (w.outFeatures + 15) / 16
            if let pool, threads > 1, panels > 1, rows * w.outFeatures * w.inFeatures >= ParallelThreshold.gemmMACs {
                let perTask = (panels + threads - 1) / threads * 16
                var job = F32LinearJob(gemm: gemm, rows: rows, n: w.outFeatures, k: w.inFeatures, x: x, ldx: ldx,
                                       packed: packed, bias: w.bias, y: y, ldy: ldy, accumulate: accumulate ? 1 : 0,
                                       columnsPerTask: perTask)
                withUnsafeMutablePointer(to: &job) { vk_pool_run(pool, f32LinearTask, $0, (w.outFeatures + perTask - 1) / perTask) }
            } else {
                gemm(rows, w.outFeatures, w.inFeatures, x, ldx, packed, w.bias, y, ldy, accumulate ? 1 : 0)
            }
        } else {
            Reference.gemm(m: rows, n: w.outFeatures, k: w.inFeatures, a: x, lda: ldx, w: w.weight!,
                           ldw: w.inFeatures, bias: w.bias, c: y, ldc: ldy, accumulate: accumulate)
        }
    }

    /// The int8 route of `linear`: quantize the input rows, then the int8 GEMM whose
    /// epilogue dequantizes, adds the bias (and the residual) into y. The reference
    /// route goes through an int32 buffer and `Reference.dequantize`.
    func linearInt8(_ w: Linear, _ q: Int8Weights, rows: Int, x: UnsafePointer<Float>, ldx: Int,
                    y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool, scratch s: QuantScratch) {
        let k = w.inFeatures, n = w.outFeatures
        let kp = qs8PaddedK(k)
        if var g = qs8Gemm, let packed = q.packed {
            if q.narrow, let narrow = qs8Narrow { g = narrow.gemm }
            if let pool, threads > 1, rows >= 16, rows * n * k >= ParallelThreshold.gemmMACs {
                // Split rows: each task quantizes its own rows and multiplies them by all
                // the weights (one dispatch; the packed weights are shared read-only).
                let perTask = ((rows + threads - 1) / threads + 7) / 8 * 8
                var job = QS8LinearJob(kernels: self, gemm: g, narrow: q.narrow, rows: rows, n: n, k: k, x: x, ldx: ldx, inputScale: q.inputScale,
                                       q: s.q, ldq: kp, packed: packed, aScale: s.scales, wScale: q.scale, bias: w.bias,
                                       y: y, ldy: ldy, accumulate: accumulate ? 1 : 0, rowsPerTask: perTask)
                withUnsafeMutablePointer(to: &job) { vk_pool_run(pool, qs8LinearTask, $0, (rows + perTask - 1) / perTask) }
            } else {
                quantizeRows(rows, k: k, x: x, ldx: ldx, inputScale: q.inputScale, q: s.q, ldq: kp, scales: s.scales, narrow: q.narrow)
                g(rows, n, k, s.q, kp, packed, s.scales, q.scale, w.bias, y, ldy, accumulate ? 1 : 0)
            }
        } else {
            if let a = q.inputScale {
                Reference.quantizeRowsStatic(rows: rows, k: k, x: x, ldx: ldx, s: a, q: s.q, ldq: kp, scale: s.scales)
            } else {
                Reference.quantizeRows(rows: rows, k: k, x: x, ldx: ldx, q: s.q, ldq: kp, scale: s.scales)
            }
            Reference.qs8Gemm(m: rows, n: n, k: k, a: s.q, lda: kp, w: q.weight, c: s.acc, ldc: n)
            Reference.dequantize(m: rows, n: n, c: s.acc, ldc: n, aScale: s.scales, wScale: q.scale, bias: w.bias,
                                 y: y, ldy: ldy, accumulate: accumulate)
        }
    }

    /// Quantizes activation rows into the form this kernel set's int8 GEMM reads.
    @inline(__always)
    func quantizeRows(_ rows: Int, k: Int, x: UnsafePointer<Float>, ldx: Int, inputScale: Float?,
                      q: UnsafeMutablePointer<Int8>, ldq: Int, scales: UnsafeMutablePointer<Float>, narrow: Bool = false) {
        if narrow, let nq = qs8Narrow {
            if let a = inputScale { nq.quantizeStatic(rows, k, x, ldx, a, q, ldq, scales) } else { nq.quantize(rows, k, x, ldx, q, ldq, scales) }
        } else if let a = inputScale {
            qs8QuantizeStatic(rows, k, x, ldx, a, q, ldq, scales)
        } else {
            qs8Quantize(rows, k, x, ldx, q, ldq, scales)
        }
    }

    /// Activation row length for k inputs on this set's int8 route (the reference: 4).
    func qs8PaddedK(_ k: Int) -> Int { alignUp(k, int8KR) }
    /// Padding of the reference int8 route (and of the quantizer's own checks).
    static func qs8PaddedK(_ k: Int) -> Int { vk_qs8_padded_k(k) }
    /// Bytes of a packed [n, k] int8 weight for this set's route.
    func qs8PackedBytes(n: Int, k: Int) -> Int { qs8PackedBytesFn.map { $0(n, k) } ?? 0 }
    func qs8Pack(_ w: UnsafePointer<Int8>, n: Int, k: Int, into packed: UnsafeMutableRawPointer) { qs8PackFn?(w, n, k, packed) }

    @inline(__always)
    func layerNorm(_ ln: LayerNorm, rows: Int, x: UnsafePointer<Float>, ldx: Int,
                   y: UnsafeMutablePointer<Float>, ldy: Int) {
        if plans(x, y) { return }
        if vectorized, let pool, threads > 1, rows > 1, rows * ln.count >= ParallelThreshold.elements {
            let perTask = (rows + threads - 1) / threads
            var job = LayerNormJob(kernels: self, ln: ln, x: x, ldx: ldx, y: y, ldy: ldy, rows: rows, rowsPerTask: perTask)
            withUnsafeMutablePointer(to: &job) { vk_pool_run(pool, layerNormTask, $0, (rows + perTask - 1) / perTask) }
        } else if vectorized {
            layerNormFn(rows, ln.count, x, ldx, ln.gamma, ln.beta, ln.eps, y, ldy)
        } else {
            Reference.layerNorm(rows: rows, n: ln.count, x: x, ldx: ldx, gamma: ln.gamma, beta: ln.beta,
                                eps: ln.eps, y: y, ldy: ldy)
        }
    }

    @inline(__always)
    func gelu(_ x: UnsafeMutablePointer<Float>, count: Int, form: ViTConfig.GELU) {
        if plans(x) { return }
        let fn: vk_f32_map_fn
        switch form {
        case .erf: fn = geluErfFn
        case .tanh: fn = geluTanhFn
        case .quick: fn = geluQuickFn
        }
        if vectorized, let pool, threads > 1, count >= ParallelThreshold.elements {
            let perTask = ((count + threads - 1) / threads + 15) / 16 * 16
            var job = GeluJob(fn: fn, x: x, count: count, perTask: perTask)
            withUnsafeMutablePointer(to: &job) { vk_pool_run(pool, geluTask, $0, (count + perTask - 1) / perTask) }
        } else if vectorized {
            fn(x, count)
        } else {
            Reference.gelu(x, count: count, form: form)
        }
    }

    @inline(__always)
    func softmax(rows: Int, n: Int, x: UnsafeMutablePointer<Float>, ld: Int, scale: Float) {
        if plans(x) { return }
        if vectorized {
            softmaxFn(rows, n, x, ld, scale)
        } else {
            Reference.softmax(rows: rows, n: n, x: x, ld: ld, scale: scale)
        }
    }

    /// Multi-head attention core (see `Reference.attention` for the layout). The
    /// optimized route packs each head's K and V into the GEMM panel layout in
    /// planned scratch, so QKᵀ and PV run on the same microkernels as the Linear layers.
    /// With `scratch.int8` set, QKᵀ and PV run in int8 (`Reference.attentionInt8`).
    func attention(batch: Int, tokens: Int, heads: Int, headDim: Int,
                   qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, scratch: AttentionScratch,
                   capture: UnsafeMutablePointer<Float>? = nil) {
        // K packed into GEMM panels only on the fp32 optimized route (`attentionScratchFloats`).
        if plans(qkv, out, scratch.scores, gemm != nil && scratch.int8 == nil ? scratch.packedK : nil, scratch.int8, capture) { return }
        guard gemm != nil, scratch.int8 == nil || qs8Gemm != nil else {
            if let s8 = scratch.int8 {
                Reference.attentionInt8(batch: batch, tokens: tokens, heads: heads, headDim: headDim, qkv: qkv, out: out,
                                        scores: scratch.scores, scratch: s8, capture: capture)
            } else {
                Reference.attention(batch: batch, tokens: tokens, heads: heads, headDim: headDim,
                                    qkv: qkv, out: out, scores: scratch.scores, capture: capture)
            }
            return
        }
        let work = batch * heads * tokens * tokens * headDim
        if let pool, threads > 1, work >= ParallelThreshold.gemmMACs, scratch.workers >= threads {
            // Tasks are (image, head, block of query rows): with fewer heads than twice
            // the threads (ViT-Ti has 3), heads alone would leave threads idle. Each
            // task packs its head's K and V itself (a copy, small beside the products).
            let pairs = batch * heads
            let chunks = max(1, min(tokens / 32, (2 * threads + pairs - 1) / pairs))
            var job = AttentionJob(kernels: self, batch: batch, tokens: tokens, heads: heads, headDim: headDim,
                                   qkv: qkv, out: out, scratch: scratch, capture: capture,
                                   chunks: chunks, rowsPerChunk: (tokens + chunks - 1) / chunks)
            withUnsafeMutablePointer(to: &job) { vk_pool_run(pool, attentionTask, $0, pairs * chunks) }
            return
        }
        for b in 0..<batch {
            for h in 0..<heads {
                attentionHead(b: b, h: h, rows: 0..<tokens, tokens: tokens, heads: heads, headDim: headDim, qkv: qkv,
                              out: out, scratch: scratch, capture: capture)
            }
        }
    }

    /// Query rows `rows` of one (image, head) of the optimized attention route, in one
    /// worker's scratch. K is packed once into GEMM panels; then, for blocks of at most
    /// `attentionBlockRows` query rows, S = Q Kᵀ, softmax(S · scale) and O = S V run
    /// back to back, so a block's scores (≤ 48 × tokens floats) stay in cache. V is read
    /// in place by the GEMM (row stride 3·inner): no transposed copy.
    func attentionHead(b: Int, h: Int, rows: Range<Int>, tokens: Int, heads: Int, headDim: Int,
                       qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, scratch: AttentionScratch,
                       capture: UnsafeMutablePointer<Float>?) {
        if scratch.int8 != nil {
            return attentionHeadInt8(b: b, h: h, rows: rows, tokens: tokens, heads: heads, headDim: headDim, qkv: qkv,
                                     out: out, scratch: scratch, capture: capture)
        }
        let gemm = self.gemm!, gemmKN = self.gemmKN!
        let inner = heads * headDim
        let ld = 3 * inner
        let scale = 1 / Float(headDim).squareRoot()
        let base = qkv + b * tokens * ld
        let k = base + inner + h * headDim
        let v = base + 2 * inner + h * headDim
        vk_f32_pack_nk(k, ld, tokens, headDim, scratch.packedK)
        let limit = Kernels.attentionBlockRows(tokens: tokens)
        let blocks = (rows.count + limit - 1) / limit
        let size = (rows.count + blocks - 1) / blocks
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let m = min(size, rows.upperBound - r0)
            gemm(m, tokens, headDim, base + r0 * ld + h * headDim, ld, scratch.packedK, nil, scratch.scores, tokens, 0)
            softmaxFn(m, tokens, scratch.scores, tokens, scale)
            if let capture {
                (capture + ((b * heads + h) * tokens + r0) * tokens).update(from: scratch.scores, count: m * tokens)
            }
            gemmKN(m, headDim, tokens, scratch.scores, tokens, v, ld, nil, out + (b * tokens + r0) * inner + h * headDim, inner, 0)
            r0 += m
        }
    }

    /// The int8 form of `attentionHead`: K and Vᵀ quantized (signed, per row) and packed for
    /// this set's int8 route, then per block of query rows: Q quantized in the route's input
    /// form, S = Q Kᵀ on the int8 GEMM, softmax in fp32, P quantized, O = P V on the int8 GEMM.
    /// The same quantities as `Reference.attentionInt8` (which differs only by the softmax's
    /// last bits, and so now and then by one step of a quantized probability).
    func attentionHeadInt8(b: Int, h: Int, rows: Range<Int>, tokens: Int, heads: Int, headDim: Int,
                           qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, scratch: AttentionScratch,
                           capture: UnsafeMutablePointer<Float>?) {
        let g = qs8Gemm!, s = scratch.int8!
        let l = Int8AttentionLayout(tokens: tokens, headDim: headDim)
        let inner = heads * headDim, ld = 3 * inner
        let scale = 1 / Float(headDim).squareRoot()
        let kD = qs8PaddedK(headDim), kT = qs8PaddedK(tokens)
        func i8(_ o: Int) -> UnsafeMutablePointer<Int8> { (s + o).assumingMemoryBound(to: Int8.self) }
        func f32(_ o: Int) -> UnsafeMutablePointer<Float> { (s + o).assumingMemoryBound(to: Float.self) }
        let base = qkv + b * tokens * ld
        let k = base + inner + h * headDim, v = base + 2 * inner + h * headDim
        // K and V are the "weights": signed int8 whatever the route's input form.
        qs8QuantizeSigned(tokens, headDim, k, ld, i8(l.kq), kD, f32(l.sk))
        qs8Pack(i8(l.kq), n: tokens, k: kD, into: s + l.packedK)
        transpose(rows: tokens, cols: headDim, v, ld: ld, into: f32(l.vt))
        qs8QuantizeSigned(headDim, tokens, f32(l.vt), tokens, i8(l.vq), kT, f32(l.sv))
        qs8Pack(i8(l.vq), n: headDim, k: kT, into: s + l.packedV)
        let limit = l.blockRows
        let blocks = (rows.count + limit - 1) / limit
        let size = (rows.count + blocks - 1) / blocks
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let m = min(size, rows.upperBound - r0)
            qs8Quantize(m, headDim, base + r0 * ld + h * headDim, ld, i8(l.qq), kD, f32(l.sq))
            g(m, tokens, kD, i8(l.qq), kD, s + l.packedK, f32(l.sq), f32(l.sk), nil, scratch.scores, tokens, 0)
            softmaxFn(m, tokens, scratch.scores, tokens, scale)
            if let capture {
                (capture + ((b * heads + h) * tokens + r0) * tokens).update(from: scratch.scores, count: m * tokens)
            }
            qs8Quantize(m, tokens, scratch.scores, tokens, i8(l.pq), kT, f32(l.sp))
            g(m, headDim, kT, i8(l.pq), kT, s + l.packedV, f32(l.sp), f32(l.sv), nil,
              out + (b * tokens + r0) * inner + h * headDim, inner, 0)
            r0 += m
        }
    }

    /// y[c][r] = x[r · ld + c] in 8×8 tiles (each tile's rows read once while in cache).
    func transpose(rows: Int, cols: Int, _ x: UnsafePointer<Float>, ld: Int, into y: UnsafeMutablePointer<Float>) {
        if plans(x, y) { return }
        for r0 in stride(from: 0, to: rows, by: 8) {
            for c0 in stride(from: 0, to: cols, by: 8) {
                for r in r0..<min(r0 + 8, rows) {
                    for c in c0..<min(c0 + 8, cols) { y[c * rows + r] = x[r * ld + c] }
                }
            }
        }
    }

    /// Query rows per block of the attention route (whole heads for short sequences).
    static func attentionBlockRows(tokens: Int) -> Int { tokens <= 96 ? max(1, tokens) : 48 }

    /// Floats of scratch the attention routes need per worker: one block of scores
    /// (the reference computes one row at a time) and one head's packed K.
    static func attentionScratchFloats(tokens: Int, headDim: Int) -> (scores: Int, packedK: Int) {
        (attentionBlockRows(tokens: tokens) * tokens, vk_f32_packed_count(tokens, headDim))
    }

    /// What this set's attention uses of that: packed K only on the fp32 optimized route
    /// (int8 attention has its own `Int8AttentionLayout`).
    func attentionScratchFloats(tokens: Int, headDim: Int, int8: Bool) -> (scores: Int, packedK: Int) {
        let s = Kernels.attentionScratchFloats(tokens: tokens, headDim: headDim)
        return (s.scores, gemm != nil && !int8 ? s.packedK : 0)
    }

    static func packedCount(n: Int, k: Int) -> Int { vk_f32_packed_count(n, k) }

    static func pack(_ w: UnsafePointer<Float>, n: Int, k: Int, into packed: UnsafeMutablePointer<Float>) {
        vk_f32_pack_nk(w, k, n, k, packed)
    }
}

/// Views of the planned scratch an int8 Linear layer works in.
struct QuantScratch {
    /// [rows, padded in] quantized input rows
    var q: UnsafeMutablePointer<Int8>
    /// [rows] activation scales
    var scales: UnsafeMutablePointer<Float>
    /// [rows, out] int32 sums
    var acc: UnsafeMutablePointer<Int32>
}

/// Views of the planned scratch the attention core works in: one set per worker
/// thread, each set `stride*` floats after the previous.
struct AttentionScratch {
    /// [block rows, tokens] (see `Kernels.attentionScratchFloats`)
    var scores: UnsafeMutablePointer<Float>
    /// One head's K in GEMM panels: packedCount(tokens, headDim)
    var packedK: UnsafeMutablePointer<Float>
    var workers = 1
    var strideScores = 0, strideK = 0
    /// int8 attention's scratch (`Int8AttentionLayout`), nil for fp32 attention.
    var int8: UnsafeMutableRawPointer? = nil
    var strideInt8 = 0

    func worker(_ w: Int) -> AttentionScratch {
        AttentionScratch(scores: scores + w * strideScores, packedK: packedK + w * strideK, workers: 1,
                         int8: int8.map { $0 + w * strideInt8 })
    }
}
