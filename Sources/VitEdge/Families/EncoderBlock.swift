/// A kind of encoder block, as the shared machinery sees it: the loader asks it for its
/// tensors and binds its weights, the quantizer walks its Linear layers, the planner has it
/// declare its buffers (the steps come from running it, see `StepTrace`) and the forward
/// pass runs it. A new kind is a folder under `Families/` holding a type that conforms,
/// plus its line in `ViTConfig.Architecture.block` (an exhaustive switch).
///
/// A block knows the model only through its `EncoderShape` (tokens, width, heads, ...)
/// and a name prefix: the encoder of a plain ViT is one shape and `blocks.N.`, while a
/// stem or a stage of a hierarchical model hands its own blocks its own shape and names.
protocol EncoderBlock {
    /// The block's intermediates: views into the planned arena.
    associatedtype Activations

    /// The block's tensors (full names: `prefix` + `norm1.weight`, ...) and their shapes, in file order.
    static func tensors(_ s: EncoderShape, prefix: String) -> [(String, [Int])]
    /// The block's weights, bound from the file's tensors (names as `tensors` lists them).
    init(_ s: EncoderShape, prefix: String, _ t: TensorBinder)
    /// Calls `body` with each Linear layer and its name within the block (`attn.qkv`), in
    /// file order; the layer may be changed in place (quantization, packing).
    mutating func forEachLinear(_ body: (String, inout Linear) -> Void)
    /// Rows, inputs and outputs of each Linear layer for a batch of `b` images (the int8
    /// scratch every quantized layer shares is sized for the largest).
    static func linearShapes(_ s: EncoderShape, batch b: Int) -> [LinearShape]
    /// Declares the block's buffers (`prefix` + `norm1`, ...). `capture`: keep its attention maps.
    static func declare(_ p: inout ProgramLayout, _ s: EncoderShape, _ k: Kernels, prefix: String, batch b: Int,
                        capture: Bool, workers: Int) throws
    /// Views of the block's buffers.
    static func activations(_ v: BufferViews, _ s: EncoderShape, _ k: Kernels, prefix: String, capture: Bool, workers: Int,
                            quant: QuantScratch?) -> Activations
    /// Runs the block on the residual stream `tokens` [B·T, D]; `observe` sees each Linear
    /// layer's input by its name within the block.
    func run(_ s: EncoderShape, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: Activations,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?)
    /// [B, heads, T, T] attention probabilities kept by a session that captures them, or nil.
    static func attentionProbabilities(_ a: Activations) -> UnsafeMutablePointer<Float>?
    /// Why the block has no int8 attention (`quantize --int8-attention`), or nil when it has.
    static var noInt8Attention: String? { get }
}

extension EncoderBlock {
    static func attentionProbabilities(_ a: Activations) -> UnsafeMutablePointer<Float>? { nil }

    /// This block's weights with its planned views: what the forward pass calls.
    func bound(_ v: BufferViews, _ l: EncoderLayer, _ k: Kernels, capture: Bool, workers: Int,
               quant: QuantScratch?) -> any BoundEncoderBlock {
        BoundBlock(weights: self, shape: l.shape,
                   a: Self.activations(v, l.shape, k, prefix: l.prefix, capture: capture, workers: workers, quant: quant),
                   prefix: l.prefix, outputCount: l.outTokens * l.outDim)
    }
}

/// What a block needs of the model: the shape of the token stream it works on and the
/// hyper-parameters of its layers. `ViTConfig.encoderShape` is the main encoder's.
struct EncoderShape {
    /// The architecture whose kind of block this is (MLP-Mixer and ResMLP differ in names).
    var architecture: ViTConfig.Architecture
    /// Tokens per image T and width D of the residual stream [B·T, D].
    var tokens: Int, dim: Int
    var heads: Int, headDim: Int
    var mlpDim: Int
    /// The MLP-Mixer's token MLP width (0 elsewhere).
    var tokenMlpDim: Int
    var qkvBias: Bool, attentionProjection: Bool
    /// Per-channel layer scale at run time (what the converter could not fold).
    var layerScale: Bool
    var gelu: ViTConfig.GELU
    /// The blocks' LayerNorm epsilon.
    var eps: Float
    /// QKᵀ and PV in int8 (`quantize --int8-attention`).
    var int8Attention: Bool
    /// The grid the tokens lie on (rows × columns, no prefix tokens): what windowed
    /// attention and patch merging rearrange (0 where no block asks).
    var gridHeight = 0, gridWidth = 0
    /// Attention inside windows of windowHeight × windowWidth tokens, the grid first rolled
    /// back by the shifts (rows, columns; Swin); 0: attention over every token.
    var windowHeight = 0, windowWidth = 0, shiftHeight = 0, shiftWidth = 0
    /// Keys and values from the grid reduced by a k×k/k convolution (PVT's spatial-reduction
    /// attention); 0 or 1: from every token.
    var reduction = 0
    /// Keys and values from the grid average-pooled to P×P (PVT v2's linear variant,
    /// `AdaptiveAvgPool2d(7)`); 0: not pooled.
    var pooledKeys = 0
    /// The width a layer that changes it writes (PVT's downsampling); 0 elsewhere.
    var outDim = 0

    var innerDim: Int { heads * headDim }
}

/// One layer of the encoder as the model runs it: its kind, the shape of the stream it
/// reads, its tensors' name prefix and the stream it leaves. A plain encoder is `depth`
/// blocks of one shape (`blocks.N.`); a hierarchical one changes tokens and width between
/// stages (Swin's patch merging is a layer too).
struct EncoderLayer {
    var kind: any EncoderBlock.Type
    var shape: EncoderShape
    var prefix: String
    /// Tokens per image and width after the layer.
    var outTokens: Int, outDim: Int
}

extension ViTConfig {
    /// The encoder's layers in order: `depth` blocks of `encoderShape` named `blocks.N.`,
    /// or a hierarchical family's stages (`swinLayers`).
    var encoderLayers: [EncoderLayer] {
        switch architecture {
        case .swin: return swinLayers
        case .pvt: return pvtLayers
        case .vit, .mixer, .resmlp, .hybrid, .deepvit, .t2t:
            return (0..<depth).map { EncoderLayer(kind: architecture.block, shape: encoderShape, prefix: "blocks.\($0).", outTokens: tokens, outDim: dim) }
        }
    }

    /// The shape of the encoder's blocks (every block of the models that convert today).
    var encoderShape: EncoderShape {
        EncoderShape(architecture: architecture, tokens: tokens, dim: dim, heads: heads, headDim: headDim, mlpDim: mlpDim,
                     tokenMlpDim: tokenMlpDim, qkvBias: qkvBias, attentionProjection: attentionProjection,
                     layerScale: layerScale, gelu: gelu, eps: eps, int8Attention: int8Attention)
    }
}

/// One Linear layer's GEMM: rows × inFeatures by inFeatures → outFeatures.
struct LinearShape {
    var rows: Int, inFeatures: Int, outFeatures: Int
    init(_ rows: Int, _ inFeatures: Int, _ outFeatures: Int) { (self.rows, self.inFeatures, self.outFeatures) = (rows, inFeatures, outFeatures) }
}

/// A block's weights and its views, ready to run (what `Activations.blocks` holds).
protocol BoundEncoderBlock {
    /// Its tensors' name prefix (`blocks.3.`), for taps.
    var prefix: String { get }
    /// Floats per image of the stream after it (tokens × width).
    var outputCount: Int { get }
    func run(_ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?)
    var attentionProbabilities: UnsafeMutablePointer<Float>? { get }
}

struct BoundBlock<B: EncoderBlock>: BoundEncoderBlock {
    let weights: B
    let shape: EncoderShape
    let a: B.Activations
    let prefix: String
    let outputCount: Int

    func run(_ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) {
        weights.run(shape, k, batch: batch, tokens: tokens, a: a, observe: observe)
    }
    var attentionProbabilities: UnsafeMutablePointer<Float>? { B.attentionProbabilities(a) }
}

/// Views of a file's tensors for binding weights (the loader checked every name, shape and
/// dtype before any block binds).
struct TensorBinder {
    let config: ViTConfig
    let file: VitqFile
    /// Layers whose weight is int8 in the file.
    let int8Layers: Set<String>

    func float(_ name: String) -> UnsafePointer<Float> { UnsafePointer(file.floats(name)!) }

    func layerNorm(_ prefix: String, _ n: Int, eps: Float? = nil) -> LayerNorm {
        LayerNorm(gamma: float(prefix + ".weight"), beta: float(prefix + ".bias"), count: n, eps: eps ?? config.eps)
    }

    /// `prefix.weight` [out, in] (fp32, or int8 with its scales) and `prefix.bias`.
    func linear(_ prefix: String, out: Int, in k: Int, bias: Bool = true) -> Linear {
        let b = bias ? float(prefix + ".bias") : nil
        guard int8Layers.contains(prefix), let t = file.info(prefix + ".weight") else {
            return Linear(weight: float(prefix + ".weight"), bias: b, outFeatures: out, inFeatures: k)
        }
        let q = Int8Weights(weight: UnsafePointer((file.payload.base + t.offset).assumingMemoryBound(to: Int8.self)),
                            scale: float(prefix + ".weight_scale"),
                            inputScale: config.activationQuantization == .static ? float(prefix + ".input_scale").pointee : nil)
        return Linear(weight: nil, bias: b, outFeatures: out, inFeatures: k, int8: q)
    }
}

extension ViTConfig.Architecture {
    /// The kind of encoder block each architecture stacks: the line a new kind adds.
    var block: any EncoderBlock.Type {
        switch self {
        case .vit, .hybrid, .t2t: return TransformerBlock.self
        case .mixer, .resmlp: return MixerBlock.self
        case .deepvit: return ReattentionBlock.self
        case .swin: return SwinBlock.self
        case .pvt: return PVTBlock.self
        }
    }
}
