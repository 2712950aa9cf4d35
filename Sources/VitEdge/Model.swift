/// A loaded Vision Transformer: its config, its weights (views into the one
/// decompressed payload block) and the kernel set chosen for this CPU.
package final class VisionTransformer: @unchecked Sendable {
    package let config: ViTConfig
    package let file: VitqFile
    package let kernels: Kernels
    /// Where the model came from (its path), for messages.
    package let source: String
    var weights: ModelWeights
    /// Linear weights re-laid in GEMM panels (nil on the reference path).
    let packedWeights: AlignedBuffer?
    /// Seconds spent decompressing, validating and packing.
    package private(set) var loadSeconds: Double = 0
    /// Position embeddings resampled for another input size (see `resized`).
    let resampledPositions: AlignedBuffer?

    /// `releaseUnpacked`: hand the pages of each Linear weight back to the system as soon
    /// as it is packed (see `ModelWeights.pack`), so a packed model holds its weights
    /// once, not twice, even at its peak during loading. Only for a model that owns its
    /// `VitqFile`: other readers of the file would see zeros there.
    package init(file: VitqFile, kernels: Kernels, source: String = "model", releaseUnpacked: Bool = false) throws {
        self.config = file.config
        self.file = file
        self.kernels = kernels
        self.source = source
        var w = try ModelWeights(file: file, source: source)
        if kernels.isReference {
            packedWeights = nil
        } else {
            let (buffer, released) = w.pack(fp32: kernels.gemm != nil, int8: kernels.qs8Gemm != nil, kernels: kernels,
                                            release: releaseUnpacked && file.payload.mapping != nil)
            packedWeights = buffer
            releasedBytes = released
        }
        weights = w
        resampledPositions = nil
    }

    /// A model sharing `base`'s weights and packing, with its own config and positions.
    init(resizedFrom base: VisionTransformer, config: ViTConfig, weights: ModelWeights, positions: AlignedBuffer?) {
        self.config = config
        self.file = base.file
        self.kernels = base.kernels
        self.source = base.source
        self.weights = weights
        self.packedWeights = base.packedWeights
        self.releasedBytes = base.releasedBytes
        self.resampledPositions = positions
        self.loadSeconds = base.loadSeconds
    }

    /// Loads, validates and prepares a .vitq file. The file is this model's alone, so
    /// each Linear weight is handed back to the system once packed (`releaseUnpacked`).
    package convenience init(path: String, kernels: Kernels? = nil, limits: ResourceLimits = .current) throws {
        let start = Clock.now()
        let file = try VitqFile.load(path: path, limits: limits)
        try self.init(file: file, kernels: kernels ?? Kernels.select(.auto), source: path, releaseUnpacked: true)
        loadSeconds = Clock.now() - start
    }

    /// Bytes of unpacked weights returned to the system after packing.
    package private(set) var releasedBytes = 0

    /// How an int8 model was quantized and the GEMM its layers run on here, in one line
    /// (nil for an fp32 model): `info`, `eval` and `bench` say it.
    package var quantizationSummary: (description: String, kernel: String)? {
        let c = config
        guard let mode = c.activationQuantization, let bits = weights.int8WeightBits else { return nil }
        var copy = weights
        var layers: [Linear] = []
        let quantizable = Set(ModelWeights.quantizableLayers(c))
        copy.forEachLinear { name, l in if quantizable.contains(name) { layers.append(l) } }
        let int8 = layers.filter { $0.int8 != nil }
        let narrow = !int8.isEmpty && int8.allSatisfy { $0.int8!.narrow }
        let kernel = kernels.isReference ? "reference (scalar Swift)" : narrow ? (kernels.qs8Narrow?.name ?? kernels.int8Name) : kernels.int8Name
        let acts = mode == .dynamic ? "dynamic (per token, at run time)" : "static (per tensor, calibrated)"
        let text = "\(int8.count) of \(layers.count) quantizable layers (weights per output channel, \(bits)-bit); activations \(acts); attention \(c.int8Attention ? "int8 (QKᵀ and PV)" : "fp32")"
        return (text, kernel)
    }

    /// Bytes of the decompressed weights.
    package var weightBytes: Int { file.payload.bytes }
    /// Bytes of the packed copies of the Linear weights.
    package var packedBytes: Int { packedWeights?.bytes ?? 0 }
}

/// A monotonic clock in seconds (no Foundation).
package enum Clock {
    package static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
