import _VitKernels

/// GEMM throughput at the shapes of real ViT models, against the core's measured
/// peak: what `vit-edge bench-gemm` and the Benchmarks/ package report.
/// Measurement only; tests never assert on its numbers.
package struct GemmShape: Sendable, CustomStringConvertible {
    package let model: String, layer: String
    /// rows (tokens) × inputs × outputs
    package let m: Int, k: Int, n: Int
    package var description: String { "\(model) \(layer) \(m)×\(k)×\(n)" }
    /// Multiply-adds × 2.
    package var operations: Double { 2 * Double(m) * Double(k) * Double(n) }

    /// The Linear layers of one encoder block at batch 1 (tokens including the class token).
    package static func vit(_ model: String, tokens: Int, dim: Int, mlp: Int) -> [GemmShape] {
        [GemmShape(model: model, layer: "qkv", m: tokens, k: dim, n: 3 * dim),
         GemmShape(model: model, layer: "proj", m: tokens, k: dim, n: dim),
         GemmShape(model: model, layer: "fc1", m: tokens, k: dim, n: mlp),
         GemmShape(model: model, layer: "fc2", m: tokens, k: mlp, n: dim)]
    }

    /// The shipped MNIST model and ViT-Ti/S/B-16 at 224×224.
    package static let families: [(name: String, shapes: [GemmShape])] = [
        ("mnist", vit("MNIST ViT", tokens: 50, dim: 64, mlp: 128)),
        ("ti", vit("ViT-Ti/16", tokens: 197, dim: 192, mlp: 768)),
        ("s", vit("ViT-S/16", tokens: 197, dim: 384, mlp: 1536)),
        ("b", vit("ViT-B/16", tokens: 197, dim: 768, mlp: 3072)),
    ]
}

/// One shape's operands, packed as the model loader packs weights, with random values.
package final class GemmBenchmark {
    package let shape: GemmShape
    package let kernels: Kernels
    let storage: [AlignedBuffer]
    let a: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>
    let packed: UnsafeMutablePointer<Float>
    let q: UnsafeMutablePointer<Int8>, qPacked: UnsafeMutableRawPointer
    /// The int8 weights [n, k] (±127) before packing.
    let qWeights: UnsafePointer<Int8>
    let aScale: UnsafeMutablePointer<Float>, wScale: UnsafeMutablePointer<Float>
    let kp: Int

    package init(_ shape: GemmShape, kernels: Kernels) {
        self.shape = shape
        self.kernels = kernels
        let (m, k, n) = (shape.m, shape.k, shape.n)
        kp = kernels.qs8PaddedK(k)
        var buffers: [AlignedBuffer] = []
        func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
            buffers.append(AlignedBuffer(bytes: count * 4))
            return buffers.last!.floats(at: 0)
        }
        func bytes(_ count: Int) -> UnsafeMutableRawPointer {
            buffers.append(AlignedBuffer(bytes: count))
            return buffers.last!.base
        }
        var seed: UInt32 = 12345
        func next() -> Float {
            seed = seed &* 1_664_525 &+ 1_013_904_223
            return Float(Int(seed >> 8) % 2001 - 1000) / 1000
        }
        a = floats(m * k)
        for i in 0..<(m * k) { a[i] = next() }
        bias = floats(n)
        for i in 0..<n { bias[i] = next() }
        c = floats(m * n)
        let w = floats(n * k)
        for i in 0..<(n * k) { w[i] = next() }
        packed = floats(Kernels.packedCount(n: n, k: k))
        Kernels.pack(w, n: n, k: k, into: packed)
        q = bytes(m * kp).assumingMemoryBound(to: Int8.self)
        aScale = floats(m)
        if kernels.qs8Gemm != nil {
            kernels.quantizeRows(m, k: k, x: a, ldx: k, inputScale: nil, q: q, ldq: kp, scales: aScale)
        }
        let qw = bytes(n * k).assumingMemoryBound(to: Int8.self)
        for i in 0..<(n * k) { qw[i] = Int8(clamping: Int((w[i] * 127).rounded())) }
        qWeights = UnsafePointer(qw)
        qPacked = bytes(max(kernels.qs8PackedBytes(n: n, k: k), 1))
        kernels.qs8Pack(qw, n: n, k: k, into: qPacked)
        wScale = floats(n)
        for i in 0..<n { wScale[i] = 1.0 / 127 }
        storage = buffers
    }

    /// One fp32 GEMM with bias (the kernel set's route; the reference when it has none).
    package func f32() {
        let (m, k, n) = (shape.m, shape.k, shape.n)
        if let gemm = kernels.gemm {
            gemm(m, n, k, a, k, packed, bias, c, n, 0)
        }
    }

    /// One int8 GEMM with its fused dequantizing epilogue (inputs already quantized).
    package func int8() {
        let (m, k, n) = (shape.m, shape.k, shape.n)
        if let g = kernels.qs8Gemm {
            g(m, n, k, q, kp, qPacked, aScale, wScale, bias, c, n, 0)
        }
    }

    /// One int8 GEMM on the kernel set's 7-bit-weight kernel (nil when it has none): the
    /// same weights scaled to ±63, activations in that kernel's input form. The closure
    /// keeps its buffers.
    package func int8SevenBit() -> (() -> Void)? {
        guard let narrow = kernels.qs8Narrow else { return nil }
        let (m, k, n) = (shape.m, shape.k, shape.n)
        let w7 = AlignedBuffer(bytes: n * k)
        let qw = w7.base.assumingMemoryBound(to: Int8.self)
        for i in 0..<(n * k) { qw[i] = Int8((Float(qWeights[i]) * 63 / 127).rounded()) }
        let packed7 = AlignedBuffer(bytes: max(kernels.qs8PackedBytes(n: n, k: k), 1))
        kernels.qs8Pack(qw, n: n, k: k, into: packed7.base)
        let input = AlignedBuffer(bytes: m * kp)
        let q7 = input.base.assumingMemoryBound(to: Int8.self)
        narrow.quantize(m, k, a, k, q7, kp, aScale)
        let (aS, wS, b, y, ld) = (aScale, wScale, bias, c, kp)
        return { withExtendedLifetime((packed7, input)) { narrow.gemm(m, n, k, q7, ld, packed7.base, aS, wS, b, y, n, 0) } }
    }

    /// Operations per second of `body` (median of `rounds` timings of enough calls
    /// to last about `seconds` / `rounds` each).
    package static func rate(operations: Double, seconds: Double = 0.3, rounds: Int = 5, _ body: () -> Void) -> Double {
        body()
        var calls = 1
        while true {
            let t0 = Clock.now()
            for _ in 0..<calls { body() }
            let dt = Clock.now() - t0
            if dt >= seconds / Double(rounds) / 4 || calls >= 1 << 24 { break }
            calls *= 2
        }
        calls *= 4
        var rates: [Double] = []
        for _ in 0..<rounds {
            let t0 = Clock.now()
            for _ in 0..<calls { body() }
            rates.append(operations * Double(calls) / (Clock.now() - t0))
        }
        return rates.sorted()[rounds / 2]
    }
}

/// The core's measured peak (see `vk_peak_f32_fma`): the best of 5 timings, for the
/// instructions of a kernel set's routes (`Kernels.peakRoute`; default: this CPU's best).
package enum CorePeak {
    /// (operations per second, instruction measured)
    package static func f32(seconds: Double = 0.3, route: Int32 = Int32(VK_PEAK_BEST)) -> (rate: Double, isa: String) {
        measure(seconds) { vk_peak_f32_fma($0, route, $1) }
    }

    /// (operations per second, instruction measured); rate 0 where there is no int8 dot route.
    package static func int8(seconds: Double = 0.3, route: Int32 = Int32(VK_PEAK_BEST)) -> (rate: Double, isa: String) {
        measure(seconds) { vk_peak_qs8_dot($0, route, $1) }
    }

    static func measure(_ seconds: Double, _ run: (Int, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Double) -> (rate: Double, isa: String) {
        var name: UnsafePointer<CChar>? = nil
        var iterations = 1 << 12
        var rates: [Double] = []
        while rates.count < 5 {
            let t0 = Clock.now()
            let ops = run(iterations, &name)
            let dt = Clock.now() - t0
            if ops == 0 { return (0, name.map { String(cString: $0) } ?? "none") }
            if dt < seconds / 5 { iterations *= 2; continue }
            rates.append(ops / dt)
        }
        // A peak is the best the core did: noise on a shared host only lowers a rate.
        return (rates.max()!, name.map { String(cString: $0) } ?? "?")
    }
}
