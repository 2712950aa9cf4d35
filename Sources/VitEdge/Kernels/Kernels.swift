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
    /// Output columns per panel of the packed fp32 weights (the table row's nr): a Linear
    /// layer is split across threads at panel boundaries.
    var f32NR = 16
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
    /// The same packing of W [n][k] given as Wᵀ [k][n] (int8 attention's V).
    var qs8PackKNFn: (@convention(c) (UnsafePointer<Int8>?, Int, Int, Int, Int, UnsafeMutableRawPointer?) -> Void)? = nil
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
    /// The same per column, into row-major int8 (int8 attention's V per channel).
    var qs8QuantizeColumns: vk_qs8_quantize_fn = vk_qs8_quantize_columns__xsimd
    /// Row and element-wise kernels (used when `vectorized`).
    var rowOpsName = "xsimd \(String(cString: vk_xsimd_arch_name()))"
    var layerNormFn: vk_f32_layernorm_fn = vk_f32_layernorm__xsimd
    var geluErfFn: vk_f32_map_fn = vk_f32_gelu_erf__xsimd
    var geluTanhFn: vk_f32_map_fn = vk_f32_gelu_tanh__xsimd
    var geluQuickFn: vk_f32_map_fn = vk_f32_gelu_quick__xsimd
    var softmaxFn: vk_f32_softmax_fn = vk_f32_softmax__xsimd
    var dwconv3x3Fn: vk_f32_dwconv3x3_fn = vk_f32_dwconv3x3__xsimd
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
        f32NR = c.nr
        rowOpsName = String(cString: c.rowops_name)
        if rowOpsName == "xsimd" { rowOpsName += " \(String(cString: vk_xsimd_arch_name()))" }
        (layerNormFn, geluErfFn, geluTanhFn, geluQuickFn, softmaxFn) = (c.layernorm, c.gelu_erf, c.gelu_tanh, c.gelu_quick, c.softmax)
        dwconv3x3Fn = c.dwconv3x3
        (qs8QuantizeSigned, qs8QuantizeColumns) = (c.quantize_signed, c.quantize_columns)
        let allowed = f & c.int8_features
        let int8 = Int8Route(config: vk_qs8_gemm_config_for(allowed, 127))
        (int8Name, qs8Gemm, int8OffsetInput, int8KR) = (int8.name, int8.gemm, int8.offsetInput, int8.kr)
        (qs8PackFn, qs8PackedBytesFn, qs8PackKNFn) = (int8.config.pointee.pack, int8.config.pointee.packed_bytes, int8.config.pointee.pack_kn)
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
            swift.f32NR = SwiftSIMDGemm.nr
            return swift
        case .avx2: return try level("avx2", "avx2", "AVX2+FMA")
        case .avx512: return try level("avx512f", "avx512", "AVX-512F")
        }
    }
}
