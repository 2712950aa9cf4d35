/// Step 1 of the forward pass, images [B, C, H, W] → patches [B·N, patchDim], as a family
/// makes them: cut straight from the image (ViT, DeiT, DINOv2, CLIP, SigLIP, Swin; PVT's
/// overlapping kernel: `ImagePatches`), from a ResNet's feature map (the hybrid,
/// `Families/Hybrid`), or through T2T-ViT's soft splits and their blocks (`Families/T2T`).
/// A family that makes its patches its own way is a type conforming to `PatchStem` in its
/// folder and one line in `ViTConfig.patchStem`; the forward pass, the loader, the planner
/// and the quantizer go through this protocol only.
protocol PatchStem {
    /// Its tensors (names, shapes), in file order; they come before the patch embedding's.
    static func tensors(_ c: ViTConfig) -> [(String, [Int])]
    /// Its Linear layers (convolutions as GEMMs over im2col rows) with the rows each
    /// multiplies: the int8 scratch is sized for them when they are quantized.
    static func linearShapes(_ c: ViTConfig, batch: Int) -> [LinearShape]
    /// Its buffers (their steps come from running it, see `StepTrace`).
    static func declare(_ p: inout ProgramLayout, _ c: ViTConfig, _ k: Kernels, batch: Int, workers: Int) throws
    /// Its weights, bound from the file.
    init(_ c: ViTConfig, _ t: TensorBinder)
    /// Every Linear layer with its full name, in file order; changed in place.
    mutating func forEachLinear(_ body: (String, inout Linear) -> Void)
    /// The weights with their buffers in `v`, ready to run.
    func bound(_ v: BufferViews, _ layout: ForwardLayout, quant: QuantScratch?) -> any BoundPatchStem
}

/// A patch stem's weights and its views (what `Activations.stem` holds).
protocol BoundPatchStem {
    /// Writes the patches of `batch` images; `observe` sees the input of each of its
    /// Linear layers by name (calibration).
    func run(_ k: Kernels, batch: Int, image: UnsafePointer<Float>, patches: UnsafeMutablePointer<Float>,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?)
}

extension ViTConfig {
    /// How this model makes its patches: one line per family that makes them its own way.
    var patchStem: any PatchStem.Type {
        if backbone != nil { return BackboneWeights.self }
        if !t2tLayers.isEmpty { return T2TStemWeights.self }
        return ImagePatches.self
    }
}

/// Patches cut straight from the image (`extractPatches`): no weights, no buffers.
struct ImagePatches: PatchStem, BoundPatchStem {
    let config: ViTConfig

    static func tensors(_ c: ViTConfig) -> [(String, [Int])] { [] }
    static func linearShapes(_ c: ViTConfig, batch: Int) -> [LinearShape] { [] }
    static func declare(_ p: inout ProgramLayout, _ c: ViTConfig, _ k: Kernels, batch: Int, workers: Int) throws {}
    init(_ c: ViTConfig, _ t: TensorBinder) { config = c }
    init(config: ViTConfig) { self.config = config }
    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) {}
    /// Bound with the session's config: a model run at another size cuts another grid.
    func bound(_ v: BufferViews, _ layout: ForwardLayout, quant: QuantScratch?) -> any BoundPatchStem {
        ImagePatches(config: layout.config)
    }

    func run(_ k: Kernels, batch: Int, image: UnsafePointer<Float>, patches: UnsafeMutablePointer<Float>,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) {
        extractPatches(config, k, batch: batch, image: image, patches: patches)
    }
}
