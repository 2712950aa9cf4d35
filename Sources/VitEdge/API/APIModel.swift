/// A loaded model: a `.vitq` file validated, decompressed and packed for this CPU's
/// kernels. Immutable once loaded, so one `Model` can serve many `Session`s on many
/// threads at once.
///
/// ```swift
/// let model = try Model(path: "models/mnist-vit-int8.vitq")
/// let session = try Session(model: model)
/// try session.setImage(path: "photo.jpg")
/// try session.run()
/// print(try session.top(3))
/// ```
public final class Model: Sendable {
    /// Which kernels run the model.
    public enum KernelChoice: String, CaseIterable, Sendable {
        /// The fastest set this CPU supports.
        case auto
        /// The scalar reference everywhere (slow; for checking the others).
        case reference
        /// xsimd's baseline (SSE2 on x86-64, NEON on ARM64).
        case xsimd
        /// AVX2 + FMA (x86-64).
        case avx2
        /// AVX-512 (x86-64).
        case avx512
        /// The fp32 GEMM in Swift SIMD types, xsimd for the rest.
        case swift
    }

    /// How to load a model.
    public struct Options: Sendable {
        /// The kernels (`auto` by default); a set this CPU lacks is an `invalidArgument` error.
        public var kernels: KernelChoice
        /// Run at another input size than the model's own (height, width; multiples of
        /// the patch size): position embeddings are resampled as the model's family does.
        /// Not for MLP-Mixer and ResMLP, whose token mixers are as wide as their patches.
        public var imageSize: (height: Int, width: Int)?
        /// Bounds on file, weight, image and arena sizes, checked before allocating.
        public var limits: ResourceLimits

        /// Options with the defaults: the fastest kernels, the model's own size, `ResourceLimits.default`.
        public init(kernels: KernelChoice = .auto, imageSize: (height: Int, width: Int)? = nil,
                    limits: ResourceLimits = .default) {
            self.kernels = kernels
            self.imageSize = imageSize
            self.limits = limits
        }
    }

    /// What a model is: its family, its input and its outputs.
    public struct Info: Sendable, Equatable {
        /// `vit`, `hybrid` (ResNet stem + ViT), `mixer` (MLP-Mixer) or `resmlp`.
        public let architecture: String
        /// The input height the model runs at (images of any size are resized to it).
        public let imageHeight: Int
        /// The input width the model runs at.
        public let imageWidth: Int
        /// 1 (gray) or 3 (RGB).
        public let channels: Int
        /// Classes of the head; 0 for a model that outputs embeddings only.
        public let classes: Int
        /// The class names recorded at conversion (empty if none: classes are numbered).
        public let labels: [String]
        /// Floats in an image's embedding (what the head reads).
        public let embeddingSize: Int
        /// Encoder blocks.
        public let blocks: Int
        /// Attention heads per block (0 for MLP-Mixer and ResMLP).
        public let attentionHeads: Int
        /// Tokens per image the encoder ends with (class token included), the side of an
        /// attention map; a hierarchical model's (Swin, PVT v2) last stage's.
        public let tokens: Int
        /// The tokens before the patches: class, distillation and register tokens.
        public let prefixTokens: Int
        /// Floats per token (the encoder's width; a hierarchical model's last stage's).
        public let width: Int
        /// The patch grid's rows and columns (the patch tokens' layout, row-major), of the
        /// tokens the encoder ends with.
        public let patchRows: Int, patchColumns: Int
        /// True when the blocks' Linear layers are int8.
        public let int8: Bool
        /// The kernels chosen, in words (fp32 GEMM, int8 GEMM, row operations).
        public let kernels: String
    }

    let vit: VisionTransformer
    /// The bounds this model was loaded with; its sessions check images and arenas against them.
    public let limits: ResourceLimits
    /// What the model is.
    public let info: Info

    /// Loads a `.vitq` file. Throws `VitError` (`io`, `badModel`, `tooLarge`,
    /// `invalidArgument`) with one line saying what was expected and what was found.
    public convenience init(path: String, options: Options = Options()) throws(VitError) {
        let vit = try VitError.catching {
            let kernels = try Kernels.select(options.kernels)
            return try VisionTransformer(path: path, kernels: kernels, limits: options.limits)
        }
        try self.init(vit, options)
    }

    /// Loads a `.vitq` file held in memory (`name` is what error messages call it).
    public convenience init(bytes: [UInt8], name: String = "model", options: Options = Options()) throws(VitError) {
        let vit = try VitError.catching {
            let kernels = try Kernels.select(options.kernels)
            let file = try VitqFile.parse(bytes, path: name, limits: options.limits)
            return try VisionTransformer(file: file, kernels: kernels, source: name)
        }
        try self.init(vit, options)
    }

    private init(_ loaded: VisionTransformer, _ options: Options) throws(VitError) {
        var vit = loaded
        if let size = options.imageSize {
            guard size.height > 0, size.width > 0, size.height <= 1 << 16, size.width <= 1 << 16 else {
                throw .invalidSetting(.imageSize, value: "\(size.height)x\(size.width)", expected: "1...65536 on each side")
            }
            vit = try VitError.catching { try loaded.resized(imageHeight: size.height, imageWidth: size.width) }
        }
        self.vit = vit
        limits = options.limits
        let c = vit.config
        info = Info(architecture: c.architecture.rawValue, imageHeight: c.imageHeight, imageWidth: c.imageWidth,
                    channels: c.channels, classes: c.numClasses, labels: c.labels, embeddingSize: c.featureDim,
                    blocks: c.depth, attentionHeads: c.architecture.tokenMixing == .attention ? c.heads : 0,
                    tokens: c.outputTokens, prefixTokens: c.prefixTokens, width: c.outputDim,
                    patchRows: c.outputGrid.height, patchColumns: c.outputGrid.width,
                    int8: c.activationQuantization != nil, kernels: vit.kernels.description)
    }

    /// The name of class `index`: its label, or its number when the model has none.
    public func label(_ index: Int) -> String {
        index >= 0 && index < info.labels.count ? info.labels[index] : String(index)
    }
}

extension VitError {
    /// Runs `body`, passing a `VitError` through and naming any other error (none is
    /// expected: the engine throws `VitError`s) as an invalid argument.
    static func catching<T>(_ body: () throws -> T) throws(VitError) -> T {
        do { return try body() } catch let e as VitError { throw e } catch { throw .invalidArgument(String(describing: error)) }
    }
}
