/// The hyper-parameters of one model of the ViT family tree, the derived sizes, and
/// the preprocessing it expects. Stored whole in the .vitq header.
package struct ViTConfig: Equatable, Sendable {
    /// Which model of the family tree: what the encoder blocks are. Patches, tokens
    /// and the head are shared; `Families/` holds a folder per kind of block (`EncoderBlock`).
    package enum Architecture: String, Sendable, CaseIterable {
        /// Vision Transformer (and DeiT): attention + MLP blocks, class token, positions.
        case vit
        /// MLP-Mixer: LayerNorm → token-mixing MLP, LayerNorm → channel MLP; mean pooling.
        case mixer
        /// ResMLP: affine norm → one Linear over tokens, affine → channel MLP, each
        /// branch with layer scale; mean pooling.
        case resmlp
        /// The ViT paper's hybrid: a ResNet (v2 layout, GroupNorm, weight-standardised
        /// convolutions) whose feature map is cut into the patches of a ViT.
        case hybrid
        /// DeepViT (vit-pytorch): a ViT whose attention maps are mixed across heads by a
        /// learnt [heads, heads] matrix and a LayerNorm over the heads before they meet V.
        case deepvit
        /// T2T-ViT (vit-pytorch `T2TViT`): the patches come from soft splits (overlapping
        /// unfolds) with a one-head transformer between them (`Families/T2T/`), then a ViT.
        case t2t
        /// Swin Transformer (timm `SwinTransformer`): stages of attention inside shifted
        /// windows with a relative position bias, patch merging between them (`Families/Swin/`).
        case swin
        /// PVT v2 (timm `PyramidVisionTransformerV2`): overlapping patch embeddings,
        /// spatial-reduction attention and a depthwise convolution in the MLP, four stages
        /// (`Families/PVT/`).
        case pvt

        /// How an architecture's blocks mix information across tokens. Code shared by
        /// several architectures asks this (or switches on the architecture), never
        /// compares with one case, so a new architecture is a compile error at every
        /// place that must decide about it.
        package enum TokenMixing: Sendable {
            /// Attention: any number of tokens (positions resampled at other sizes), maps to capture.
            case attention
            /// Linear layers over the token axis (MLP-Mixer, ResMLP): the token count is fixed.
            case weights
        }

        package var tokenMixing: TokenMixing {
            switch self {
            case .vit, .hybrid, .deepvit, .t2t, .swin, .pvt: return .attention
            case .mixer, .resmlp: return .weights
            }
        }
        /// "a ViT", "an MLP-Mixer", "a ResMLP", for messages.
        package var withArticle: String {
            switch self {
            case .mixer: return "an " + displayName
            case .vit, .resmlp, .hybrid, .deepvit, .t2t, .swin, .pvt: return "a " + displayName
            }
        }
        package var displayName: String {
            switch self {
            case .vit: return "ViT"; case .mixer: return "MLP-Mixer"; case .resmlp: return "ResMLP"
            case .hybrid: return "ResNet+ViT hybrid"
            case .deepvit: return "DeepViT"
            case .t2t: return "T2T-ViT"
            case .swin: return "Swin transformer"
            case .pvt: return "PVT v2"
            }
        }
    }

    /// How pixels become patch vectors become tokens.
    package enum PatchEmbedding: String, Sendable {
        /// A strided convolution (timm, Hugging Face, DeiT).
        case convolution
        /// A Linear layer over flattened patches, optionally with LayerNorm before
        /// and after (vit-pytorch). The converter reorders vit-pytorch's `(p1 p2 c)`
        /// patch layout into the convolution's `(c p1 p2)`, so one patch extractor serves both.
        case linear
    }

    package enum Pooling: String, Sendable {
        /// The class token's final state (timm `token`, Hugging Face).
        case classToken = "cls"
        /// The mean of the patch tokens, prefix tokens excluded (timm `avg`).
        case meanPatches = "mean"
        /// The mean of every token, class token included (vit-pytorch `mean`).
        case meanAllTokens = "mean_all"
        /// The class token beside the mean of the patch tokens, 2·D wide: Hugging Face's
        /// `Dinov2ForImageClassification` (and its with-registers twin).
        case classAndMeanPatches = "cls_mean"
        /// Multihead attention pooling (SigLIP's MAP head; timm `map`): a learnt probe
        /// attends over the patch tokens, then LayerNorm and an MLP on a residual.
        case attentionPool = "map"
    }

    package enum ProbabilityFunction: String, Sendable {
        case softmax
        case sigmoid
    }

    /// How activations entering int8 Linear layers are quantized (nil: an fp32 model).
    package enum ActivationQuantization: String, Sendable {
        /// One scale per row (token), computed at run time.
        case dynamic
        /// One scale per tensor, from calibration, stored in the file.
        case `static`
    }

    package enum GELU: String, Sendable, CaseIterable {
        case erf = "exact"
        case tanh
        /// x · sigmoid(1.702·x): OpenAI CLIP's `quick_gelu`.
        case quick
    }

    package var architecture: Architecture = .vit
    /// The hybrid's ResNet (nil for every other architecture).
    package var backbone: Backbone? = nil
    // Input
    package var imageHeight: Int
    package var imageWidth: Int
    package var channels: Int
    package var patchSize: Int
    // Patch embedding
    package var patchEmbedding: PatchEmbedding = .convolution
    package var patchNormBefore = false
    package var patchNormAfter = false
    // Tokens
    package var classToken = true
    package var distillationToken = false
    /// Register tokens (DINOv2 with registers, timm `reg_tokens`): learned tokens after the
    /// class and distillation tokens, with no position; attention reads them, pooling
    /// skips them.
    package var registerTokens = 0
    /// Whether the position embedding has rows for the class/distillation tokens (never
    /// with register tokens: the converter folds the class token's row into the token).
    package var positionEmbeddingIncludesPrefix = true
    /// LayerNorm over the tokens after the positions, before the first block (CLIP's
    /// `ln_pre`, timm `norm_pre`); tensors `norm_pre.weight`/`.bias`.
    package var preNorm = false
    // Encoder
    package var dim: Int
    package var depth: Int
    package var heads: Int
    package var headDim: Int
    package var mlpDim: Int
    /// Hidden width of MLP-Mixer's token-mixing MLP (0 for other architectures).
    package var tokenMlpDim = 0
    package var qkvBias = true
    /// False when the attention has no output projection (vit-pytorch with one head
    /// whose size equals the width: `to_out` is Identity).
    package var attentionProjection = true
    package var layerScale = false
    package var gelu: GELU = .erf
    package var eps: Float = 1e-6
    // Head
    package var finalNorm = true
    /// LayerNorm after pooling (timm `fc_norm`; vit-pytorch's older `mlp_head` LayerNorm).
    package var poolNorm = false
    package var pool: Pooling = .classToken
    /// Width of the pre-logits layer (Linear + tanh); 0 when absent.
    package var preLogitsDim = 0
    /// Width of the projection into a joint image-text space (CLIP's `visual_projection`
    /// / `proj`: Linear without bias after pooling, tensor `proj.weight`); 0 when absent.
    package var projectionDim = 0
    /// The features are L2-normalised before the head (a CLIP zero-shot head: cosine
    /// similarity to text embeddings, times the logit scale); `embed` still writes them as they are.
    package var normalizeFeatures = false
    /// How logits become probabilities: softmax over the classes, or each class on its own
    /// (sigmoid: SigLIP's zero-shot heads, trained with a sigmoid loss).
    package var probabilities: ProbabilityFunction = .softmax
    /// Number of classes; 0 for a model without a head (features out).
    package var numClasses: Int
    // Preprocessing
    package var mean: [Float]
    package var std: [Float]
    /// Resize and crop before `mean`/`std` (the model's own eval transform).
    package var preprocessing: Preprocessing = .plain
    /// T2T-ViT's soft splits, in order (empty for every other architecture).
    package var t2tLayers: [T2TLayer] = []
    /// A Swin transformer's stages (empty for every other architecture): `dim`, `heads` and
    /// `mlpDim` are the first stage's, `depth` the blocks of all.
    package var swinStages: [SwinStage] = []
    /// Swin's attention window, W×W tokens (0 for every other architecture).
    package var window = 0
    /// A PVT v2's stages (empty for every other architecture): `dim`, `heads` and `mlpDim`
    /// are the first stage's, `depth` the blocks of all.
    package var pvtStages: [PVTStage] = []
    /// PVT v2's linear variant (`pvt_v2_b2_li`): keys and values from the grid average-pooled
    /// to 7×7, a 1×1 convolution, LayerNorm and GELU; a ReLU before the depthwise convolution.
    package var pvtLinear = false
    /// The first patch embedding's kernel when it overlaps (PVT v2: 7, stride `patchSize`,
    /// padding kernel/2); 0: P×P patches.
    package var patchKernel = 0
    /// How position embeddings are resampled when the model runs at another input size.
    package var positionResampling: PositionResampling = .huggingface
    package var labels: [String] = []
    // Quantization
    package var activationQuantization: ActivationQuantization? = nil
    /// Attention's QKᵀ and PV in int8 too (opt-in, `quantize --int8-attention`): Q, K and the
    /// probabilities quantized per row, V per channel, all at run time; softmax stays fp32.
    package var int8Attention = false

    package init(imageHeight: Int, imageWidth: Int, channels: Int, patchSize: Int,
                dim: Int, depth: Int, heads: Int, headDim: Int? = nil, mlpDim: Int,
                numClasses: Int, mean: [Float]? = nil, std: [Float]? = nil) {
        self.imageHeight = imageHeight
        self.imageWidth = imageWidth
        self.channels = channels
        self.patchSize = patchSize
        self.dim = dim
        self.depth = depth
        self.heads = heads
        self.headDim = headDim ?? (heads > 0 ? dim / heads : 0)
        self.mlpDim = mlpDim
        self.numClasses = numClasses
        self.mean = mean ?? [Float](repeating: 0.5, count: max(channels, 1))
        self.std = std ?? [Float](repeating: 0.5, count: max(channels, 1))
    }

    // MARK: derived sizes

    /// What the patches are cut from: the image, or the hybrid backbone's feature map
    /// (NHWC, `featureChannels` per pixel).
    package var featureHeight: Int { backbone?.outputSize(imageHeight) ?? imageHeight }
    package var featureWidth: Int { backbone?.outputSize(imageWidth) ?? imageWidth }
    package var featureChannels: Int { backbone?.outChannels ?? channels }
    package var gridHeight: Int {
        !t2tLayers.isEmpty ? T2TLayer.grid(imageHeight, t2tLayers)
            : patchKernel > 0 ? convolutionOutput(imageHeight, kernel: patchKernel, stride: patchSize, padding: patchKernel / 2) : featureHeight / patchSize
    }
    package var gridWidth: Int {
        !t2tLayers.isEmpty ? T2TLayer.grid(imageWidth, t2tLayers)
            : patchKernel > 0 ? convolutionOutput(imageWidth, kernel: patchKernel, stride: patchSize, padding: patchKernel / 2) : featureWidth / patchSize
    }
    package var numPatches: Int { gridHeight * gridWidth }
    package var prefixTokens: Int { (classToken ? 1 : 0) + (distillationToken ? 1 : 0) + registerTokens }
    /// Tokens per image in the encoder: prefix tokens + patches.
    package var tokens: Int { prefixTokens + numPatches }
    /// Rows of the position embedding.
    package var positionRows: Int { positionEmbeddingIncludesPrefix ? tokens : numPatches }
    /// Width of attention: heads × head size (may differ from `dim` in vit-pytorch).
    package var innerDim: Int { heads * headDim }
    /// Length of one flattened patch: channels × patch × patch (of the feature map for
    /// the hybrid).
    package var patchDim: Int {
        !t2tLayers.isEmpty ? t2tLayers.reduce(channels) { $0 * $1.kernel * $1.kernel }
            : patchKernel > 0 ? channels * patchKernel * patchKernel : featureChannels * patchSize * patchSize
    }
    /// Tokens per image and width of the stream the head reads: the encoder's (`tokens`,
    /// `dim`), or a hierarchical model's last stage.
    package var outputTokens: Int { prefixTokens + outputGrid.height * outputGrid.width }
    /// The grid the head's tokens lie on (after the prefix tokens, row-major).
    package var outputGrid: (height: Int, width: Int) {
        if !pvtStages.isEmpty { return pvtGrid(pvtStages.count - 1) }
        return swinStages.isEmpty ? (gridHeight, gridWidth) : (gridHeight >> (swinStages.count - 1), gridWidth >> (swinStages.count - 1))
    }
    package var outputDim: Int { pvtStages.last?.dim ?? (swinStages.isEmpty ? dim : dim << (swinStages.count - 1)) }
    /// The patch embedding's LayerNorm epsilon: the model's, but PVT v2's `nn.LayerNorm`
    /// default (1e-5) where its blocks use timm's LayerNorm (1e-6).
    package var patchNormEps: Float {
        switch architecture {
        case .pvt: return PVTBlock.convolutionNormEps
        case .vit, .mixer, .resmlp, .hybrid, .deepvit, .t2t, .swin: return eps
        }
    }
    /// Whether the tokens get a learnt position embedding (`pos_embed`): not in the MLP
    /// models (their token mixing knows positions) nor in Swin (a bias inside attention).
    package var hasPositionEmbedding: Bool {
        switch architecture {
        case .vit, .hybrid, .deepvit, .t2t: return true
        case .mixer, .resmlp, .swin, .pvt: return false
        }
    }
    /// Width of the pooled vector: D, or 2·D for the class token beside the patches' mean.
    package var pooledDim: Int { pool == .classAndMeanPatches ? 2 * outputDim : outputDim }
    /// Width of the vector the head reads.
    package var featureDim: Int { projectionDim > 0 ? projectionDim : preLogitsDim > 0 ? preLogitsDim : pooledDim }
    /// Whether the features are a layer's own output (pre-logits or projection) rather
    /// than the pooled vector itself.
    package var hasFeatureLayer: Bool { preLogitsDim > 0 || projectionDim > 0 }

    /// The ranges of the normalization every model records (pixels in [0, 1]).
    static let meanBound: Float = 1e4
    static let stdRange: ClosedRange<Float> = 1e-4...1e4

    /// Checks every relation the forward pass relies on.
    package func validate(source: String = "config") throws {
        func bad(_ expected: String, _ found: String) -> VitError {
            .badModel(path: source, expected: expected, found: found, hint: "")
        }
        let bound = 1 << 20
        // First: every size below derives the grid from the soft splits when there are some.
        try validateT2T(source: source)
        var sizes = [("image height", imageHeight), ("image width", imageWidth), ("channels", channels),
                     ("patch size", patchSize), ("width", dim), ("depth", depth), ("MLP width", mlpDim)]
        switch architecture {
        case .vit, .hybrid, .deepvit, .t2t, .swin, .pvt: sizes += [("heads", heads), ("head size", headDim)]
        case .mixer: sizes.append(("token MLP width", tokenMlpDim))
        case .resmlp: break
        }
        for (name, v) in sizes {
            guard v >= 1 && v <= bound else { throw bad("\(name) in 1...\(bound)", "\(v)") }
        }
        try validateSwin(source: source)
        try validatePVT(source: source)
        switch architecture.tokenMixing {
        case .weights:
            guard heads == 0 && headDim == 0 && !classToken && !distillationToken && pool == .meanPatches
                    && preLogitsDim == 0 && !poolNorm && patchEmbedding == .convolution && !patchNormBefore && !patchNormAfter
                    && finalNorm && attentionProjection && qkvBias else {
                throw bad("a plain \(architecture.displayName): no heads, no class token, mean pooling, a final norm",
                          "heads \(heads), class token \(classToken), pool \(pool.rawValue), final norm \(finalNorm)")
            }
            // ResMLP's branches carry layer scale; MLP-Mixer's do not.
            let scaled: Bool
            switch architecture {
            case .resmlp: scaled = true
            case .mixer, .vit, .hybrid, .deepvit, .t2t, .swin, .pvt: scaled = false
            }
            guard layerScale == scaled else {
                throw bad("layer scale \(scaled ? "on" : "off") in \(architecture.withArticle)", "\(layerScale)")
            }
            guard numPatches <= 1 << 14 else { throw bad("at most 16384 tokens in a token-mixing model", "\(numPatches)") }
        case .attention:
            guard tokenMlpDim == 0 else { throw bad("no token MLP in a ViT", "width \(tokenMlpDim)") }
        }
        guard numClasses >= 0 && numClasses <= bound else { throw bad("classes in 0...\(bound)", "\(numClasses)") }
        guard preLogitsDim >= 0 && preLogitsDim <= bound else { throw bad("pre-logits width in 0...\(bound)", "\(preLogitsDim)") }
        guard projectionDim >= 0 && projectionDim <= bound else { throw bad("projection width in 0...\(bound)", "\(projectionDim)") }
        if projectionDim > 0 || preNorm {
            guard architecture.tokenMixing == .attention else { throw bad("a pre-norm and a projection only with attention", architecture.rawValue) }
        }
        guard probabilities == .softmax || numClasses > 0 else { throw bad("sigmoid probabilities only with a head", "no classes") }
        guard !normalizeFeatures || (numClasses > 0 && !distillationToken) else {
            throw bad("normalised features only before a head (and no distillation head)", "\(numClasses) classes")
        }
        guard projectionDim == 0 || (preLogitsDim == 0 && !distillationToken) else {
            throw bad("a projection without pre-logits or a distillation token", "pre-logits \(preLogitsDim), distillation \(distillationToken)")
        }
        guard channels == 1 || channels == 3 else { throw bad("1 or 3 input channels", "\(channels)") }
        let needsBackbone: Bool
        switch architecture {
        case .hybrid: needsBackbone = true
        case .vit, .mixer, .resmlp, .deepvit, .t2t, .swin, .pvt: needsBackbone = false
        }
        if int8Attention, let why = architecture.block.noInt8Attention {
            throw bad("fp32 attention: \(architecture.withArticle) \(why)", "int8 attention")
        }
        if let backbone {
            guard needsBackbone else { throw bad("a backbone only in a hybrid", architecture.rawValue) }
            if let problem = backbone.problem() { throw bad("a ResNet backbone with \(problem)", backbone.summary) }
            // Its maps scale with the image's area times their width: bound the area as images are.
            guard imageHeight * imageWidth <= 1 << 26 else { throw bad("at most 2^26 input pixels for a hybrid", "\(imageHeight)x\(imageWidth)") }
            guard featureHeight % patchSize == 0 && featureWidth % patchSize == 0 else {
                throw bad("a feature map divisible by the patch size \(patchSize)",
                          "\(featureHeight)x\(featureWidth) from \(imageHeight)x\(imageWidth) images")
            }
        } else {
            guard !needsBackbone else { throw bad("a backbone in a hybrid", "none") }
            guard imageHeight % patchSize == 0 && imageWidth % patchSize == 0 else {
                throw bad("image size divisible by the patch size \(patchSize)", "\(imageHeight)x\(imageWidth)")
            }
        }
        guard numPatches <= 1 << 16 else { throw bad("at most 65536 patches", "\(numPatches)") }
        guard registerTokens >= 0 && registerTokens <= 256 else { throw bad("0...256 register tokens", "\(registerTokens)") }
        if registerTokens > 0 {
            guard architecture.tokenMixing == .attention else { throw bad("register tokens only with attention", "\(registerTokens)") }
            guard !positionEmbeddingIncludesPrefix else {
                throw bad("position rows for the patches only with register tokens", "rows for the prefix tokens too")
            }
        }
        guard attentionProjection || innerDim == dim else {
            throw bad("an output projection when heads × head size (\(innerDim)) differs from the width", "none")
        }
        guard pool != .meanPatches || numPatches > 0 else { throw bad("patches to average", "none") }
        guard pool != .classToken || classToken else { throw bad("a class token for class-token pooling", "none") }
        if pool == .classAndMeanPatches {
            guard classToken && numPatches > 0 && !distillationToken && preLogitsDim == 0 && projectionDim == 0 && !poolNorm else {
                throw bad("a class token and patches, and no distillation token, pre-logits, projection or pooled norm, for cls_mean pooling",
                          "class token \(classToken), distillation \(distillationToken), pre-logits \(preLogitsDim), projection \(projectionDim)")
            }
        }
        if pool == .attentionPool {
            guard architecture.tokenMixing == .attention && innerDim == dim && numPatches > 0 && !distillationToken else {
                throw bad("attention pooling in a ViT whose heads span its width (heads × head size = width), with no distillation token",
                          "\(architecture.rawValue), heads × head size \(innerDim), width \(dim)")
            }
        }
        guard !distillationToken || (pool == .classToken && preLogitsDim == 0) else {
            throw bad("class-token pooling and no pre-logits with a distillation token (DeiT)", "pool \(pool.rawValue), pre-logits \(preLogitsDim)")
        }
        guard mean.count == channels && std.count == channels else {
            throw bad("\(channels) mean and std values", "\(mean.count) and \(std.count)")
        }
        // One range for every source (convert's options, config files, the header): pixels
        // in [0, 1] become (x - mean) / std, so these bounds keep every input finite.
        guard mean.allSatisfy({ $0.isFinite && abs($0) <= ViTConfig.meanBound }),
              std.allSatisfy({ $0.isFinite && $0 >= ViTConfig.stdRange.lowerBound && $0 <= ViTConfig.stdRange.upperBound }) else {
            throw bad("mean within ±\(ViTConfig.meanBound) and std in \(ViTConfig.stdRange.lowerBound)...\(ViTConfig.stdRange.upperBound) (for pixels in [0, 1])",
                      "mean \(mean), std \(std)")
        }
        if let problem = preprocessing.problem(input: (imageHeight, imageWidth)) {
            throw bad("preprocessing with \(problem)", preprocessing.summary)
        }
        guard eps.isFinite && eps >= 0 && eps <= 1 else { throw bad("a LayerNorm epsilon in [0, 1]", "\(eps)") }
        guard labels.isEmpty || labels.count == numClasses else {
            throw bad("\(numClasses) class labels", "\(labels.count)")
        }
    }

    /// Number of parameters the tensors of this config hold.
    package var parameterCount: Int {
        ModelWeights.expectedTensors(self).reduce(0) { $0 + $1.1.reduce(1, *) }
    }
}
