#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Post-training quantization of a .vitq model (the scheme: `QuantizationScheme`).
package enum CalibrationMethod: String, CaseIterable, Sendable {
    /// The largest |x| seen.
    case minmax
    /// A high percentile of |x| (99.99 by default), ignoring rare outliers.
    case percentile
    /// The clipping value that minimizes the squared quantization error.
    case mse
}

package struct QuantizeOptions: Sendable {
    package var activations: ViTConfig.ActivationQuantization = .dynamic
    package var method: CalibrationMethod = .percentile
    package var percentile: Double = 99.99
    /// Calibration images used (at most).
    package var samples: Int = 256
    /// Layers kept in fp32: full names (`blocks.3.mlp.fc2`), a layer kind in every
    /// block (`mlp.fc2`), or a whole block (`blocks.3`).
    package var keepFP32: [String] = []
    /// Weight precision: 8 (int8 in ±127) or 7 (int8 values in ±63). Seven-bit weights
    /// cost precision but let the AVX2 route multiply without its sign trick
    /// (`vpmaddubsw` cannot saturate: 255·63·2 < 32767).
    package var weightBits: Int = 8
    /// Attention's QKᵀ and PV in int8 as well (`ViTConfig.int8Attention`).
    package var int8Attention = false

    package init() {}
}

package struct LayerReport: Sendable {
    package var name: String
    package var kept: Bool
    /// SQNR of the int8 weights against fp32, dB.
    package var weightSQNR: Double
    /// SQNR of the layer's int8 output against fp32 on calibration inputs, dB.
    package var outputSQNR: Double?
    /// The static activation scale.
    package var inputScale: Float?
}

package struct QuantizeResult {
    package var bytes: [UInt8]
    package var config: ViTConfig
    package var layers: [LayerReport]
    package var calibrationImages: Int
}

package enum Quantizer {
    package static func quantize(_ file: VitqFile, source: String, calibration: [Image]?,
                                options o: QuantizeOptions) throws -> QuantizeResult {
        let c = file.config
        guard o.weightBits == 8 || o.weightBits == 7 else {
            throw VitError.invalidArgument("--weight-bits must be 8 or 7, got \(o.weightBits)")
        }
        guard c.activationQuantization == nil, !file.tensors.contains(where: { $0.dtype == .i8 }) else {
            throw VitError.invalidArgument("\(source) is already quantized (\(c.activationQuantization?.rawValue ?? "int8") activations); quantize the fp32 model instead")
        }
        let images = Array((calibration ?? []).prefix(max(o.samples, 0)))
        if calibration != nil && images.isEmpty {
            throw VitError.invalidArgument("the calibration set holds no images (or --samples is 0)")
        }
        if o.activations == .static && images.isEmpty {
            throw VitError.invalidArgument("static activation scales need calibration images: pass --calibration PATH")
        }
        // Calibration images go through the model's own preprocessing (resize, crop,
        // gray to RGB), as `run` and `eval` images do: any size and format is fine.
        // Which layers stay fp32.
        let layers = ModelWeights.quantizableLayers(c)
        for k in o.keepFP32 where !layers.contains(where: { $0 == k || $0.hasSuffix("." + k) || $0.hasPrefix(k + ".") }) {
            let example = layers.first.map { String($0.split(separator: ".", maxSplits: 2).last ?? "") } ?? "mlp.fc2"
            throw VitError.invalidArgument("--keep-fp32 \(k): no such layer (e.g. blocks.0.\(example), \(example), blocks.3)")
        }
        let kept = Set(layers.filter { l in o.keepFP32.contains { l == $0 || l.hasSuffix("." + $0) || l.hasPrefix($0 + ".") } })

        let fp32 = try VisionTransformer(file: file, kernels: try Kernels.select(.auto), source: source)
        // Pass 1: activation statistics for static scales.
        var scales: [String: Float] = [:]
        if o.activations == .static {
            var stats: [String: ActivationStats] = [:]
            try run(fp32, images) { name, x in stats[name, default: ActivationStats()].add(x) }
            for l in layers where !kept.contains(l) {
                guard let s = stats[l] else { continue }
                scales[l] = s.scale(method: o.method, percentile: o.percentile)
            }
        }
        // The quantized file.
        var q = c
        q.activationQuantization = o.activations
        if o.int8Attention {
            if let why = c.architecture.block.noInt8Attention {
                throw VitError.invalidArgument("--int8-attention: \(c.architecture.withArticle) \(why): quantize without it")
            }
            q.int8Attention = true
        }
        var writer = VitqWriter(config: q)
        var reports: [LayerReport] = []
        for (name, shape) in ModelWeights.expectedTensors(c) {
            let layer = String(name.dropLast(".weight".count))
            let w = file.floats(name)!
            guard ModelWeights.isQuantizable(name), !kept.contains(layer) else {
                writer.add(.init(name: name, shape: shape, floats: Array(UnsafeBufferPointer(start: w, count: shape.reduce(1, *)))))
                if ModelWeights.isQuantizable(name) { reports.append(LayerReport(name: layer, kept: true, weightSQNR: .infinity)) }
                continue
            }
            let (qw, ws) = QuantizationScheme.quantizeWeights(w, n: shape[0], k: shape[1],
                                                              qmax: o.weightBits == 7 ? 63 : QuantizationScheme.qmax)
            writer.add(.init(name: name, dtype: .i8, shape: shape, bytes: qw.map { UInt8(bitPattern: $0) }))
            writer.add(.init(name: name + "_scale", shape: [shape[0]], floats: ws))
            if o.activations == .static { writer.add(.init(name: layer + ".input_scale", shape: [1], floats: [scales[layer] ?? 1])) }
            var signal = 0.0, noise = 0.0
            for i in 0..<(shape[0] * shape[1]) {
                let v = Double(w[i]), d = v - Double(Float(qw[i]) * ws[i / shape[1]])
                signal += v * v
                noise += d * d
            }
            reports.append(LayerReport(name: layer, kept: false, weightSQNR: sqnr(signal, noise),
                                       inputScale: o.activations == .static ? scales[layer] : nil))
        }
        let bytes = writer.serialize()
        // Pass 2: each layer's output error on calibration inputs, int8 against fp32.
        if !images.isEmpty {
            let int8 = try VisionTransformer(file: try VitqFile.parse(bytes, path: source), kernels: try Kernels.select(.auto))
            var energy: [String: (Double, Double)] = [:]
            try run(fp32, Array(images.prefix(64))) { name, x in
                guard let (w32, w8) = linears(name, fp32, int8), w8.int8 != nil else { return }
                let rows = x.count / w32.inFeatures
                var y32 = [Float](repeating: 0, count: rows * w32.outFeatures), y8 = y32
                var qin = [Int8](repeating: 0, count: rows * int8.kernels.qs8PaddedK(w32.inFeatures))
                var sc = [Float](repeating: 0, count: rows), acc = [Int32](repeating: 0, count: rows * w32.outFeatures)
                qin.withUnsafeMutableBufferPointer { qp in sc.withUnsafeMutableBufferPointer { sp in acc.withUnsafeMutableBufferPointer { ap in
                    let s = QuantScratch(q: qp.baseAddress!, scales: sp.baseAddress!, acc: ap.baseAddress!)
                    y32.withUnsafeMutableBufferPointer { fp32.kernels.linear(w32, rows: rows, x: x.baseAddress!, ldx: w32.inFeatures, y: $0.baseAddress!, ldy: w32.outFeatures) }
                    y8.withUnsafeMutableBufferPointer { int8.kernels.linear(w8, rows: rows, x: x.baseAddress!, ldx: w32.inFeatures, y: $0.baseAddress!, ldy: w32.outFeatures, scratch: s) }
                } } }
                var e = energy[name] ?? (0, 0)
                for i in y32.indices {
                    e.0 += Double(y32[i]) * Double(y32[i])
                    e.1 += Double(y32[i] - y8[i]) * Double(y32[i] - y8[i])
                }
                energy[name] = e
            }
            for i in reports.indices { if let e = energy[reports[i].name] { reports[i].outputSQNR = sqnr(e.0, e.1) } }
        }
        return QuantizeResult(bytes: bytes, config: q, layers: reports, calibrationImages: images.count)
    }

    static func sqnr(_ signal: Double, _ noise: Double) -> Double {
        noise == 0 ? .infinity : 10 * log10(signal / noise)
    }

    /// Runs the fp32 model over images, handing each block Linear input to `observe`.
    static func run(_ model: VisionTransformer, _ images: [Image],
                    observe: (String, UnsafeBufferPointer<Float>) -> Void) throws {
        let batch = 16
        let session = try InferenceSession(model: model, batchSize: batch)
        var i = 0
        while i < images.count {
            let b = min(batch, images.count - i)
            for j in 0..<b { try session.setInput(images[i + j], at: j, name: "calibration image \(i + j)") }
            withoutActuallyEscaping(observe) { obs in
                session.forward(count: b) { stage, values in
                    if case let .linearInput(layer) = stage { obs(layer, values) }
                }
            }
            i += b
        }
    }

    static func linears(_ name: String, _ a: VisionTransformer, _ b: VisionTransformer) -> (Linear, Linear)? {
        guard let x = a.weights.linear(named: name), let y = b.weights.linear(named: name) else { return nil }
        return (x, y)
    }
}

/// Running statistics of |x| at one layer input: the maximum and a deterministic
/// sample (every stride-th value) for percentiles and the MSE search.
struct ActivationStats {
    var maxAbs: Float = 0
    var sample: [Float] = []
    var seen = 0
    static let stride = 7
    static let cap = 1 << 20

    mutating func add(_ x: UnsafeBufferPointer<Float>) {
        for v in x {
            let a = abs(v)
            maxAbs = max(maxAbs, a)
            if seen % ActivationStats.stride == 0 && sample.count < ActivationStats.cap { sample.append(a) }
            seen += 1
        }
    }

    func scale(method: CalibrationMethod, percentile: Double) -> Float {
        guard maxAbs > 0 else { return 1 }
        switch method {
        case .minmax:
            return maxAbs / QuantizationScheme.qmax
        case .percentile:
            let sorted = sample.sorted()
            let idx = min(sorted.count - 1, Int((Double(sorted.count - 1) * percentile / 100).rounded()))
            return max(sorted[idx], maxAbs * 1e-3) / QuantizationScheme.qmax
        case .mse:
            let values = Array(sample.prefix(1 << 18))
            var best = (clip: maxAbs, err: Double.infinity)
            for step in 10...100 {
                let clip = maxAbs * Float(step) / 100
                let s = clip / QuantizationScheme.qmax
                var err = 0.0
                for v in values {
                    let q = min((v / s).rounded(.toNearestOrEven), QuantizationScheme.qmax) * s
                    err += Double(v - q) * Double(v - q)
                }
                if err < best.err { best = (clip, err) }
            }
            return best.clip / QuantizationScheme.qmax
        }
    }
}
