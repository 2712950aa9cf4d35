/// Views into the arena: every intermediate tensor of one forward pass. Shapes use
/// B = batch, T = tokens per image, N = patches per image, D = width.
struct Activations {
    /// [B, C, H, W] the preprocessed input
    var image: UnsafeMutablePointer<Float>
    /// What makes the patches, with its weights and intermediates (`PatchStem`)
    var stem: any BoundPatchStem
    /// [B·N, C·P·P] flattened patches
    var patches: UnsafeMutablePointer<Float>
    /// [B·T, D] the residual stream
    var tokens: UnsafeMutablePointer<Float>
    /// The encoder blocks, each with its weights and its intermediates (`Families/`).
    var blocks: [any BoundEncoderBlock]
    /// [B·T, D] after the final norm
    var normed: UnsafeMutablePointer<Float>
    /// SigLIP's attention-pooling head's intermediates, or nil
    var attentionPool: AttentionPoolActivations?
    /// [B, D] pooled representation (class token, mean or attention pooling)
    var pooled: UnsafeMutablePointer<Float>
    /// [B, F] what the head reads (pre-logits output, or `pooled`)
    var features: UnsafeMutablePointer<Float>
    /// [B, F] the features L2-normalised, what a zero-shot head reads (or `features`)
    var normalizedFeatures: UnsafeMutablePointer<Float>
    /// [B, classes]
    var logits: UnsafeMutablePointer<Float>
    /// [B, classes] DeiT's distillation-head logits
    var logitsDistillation: UnsafeMutablePointer<Float>
    /// [B, classes]
    var probabilities: UnsafeMutablePointer<Float>
}

/// A model planned for one batch size: the arena and the views into it. Plan once,
/// run many times; `forward` allocates nothing.
package final class InferenceSession: @unchecked Sendable {
    package let model: VisionTransformer
    package let batchSize: Int
    /// Every intermediate buffer with its lifetime, in program order.
    package let buffers: [BufferRequest]
    package let plan: MemoryPlan
    /// What the buffers would take without sharing (the linear planner's arena).
    package let naiveBytes: Int
    let arena: AlignedBuffer
    let act: Activations

    /// Blocks whose attention probabilities the session keeps (see `attention(block:image:)`).
    package let capturedBlocks: [Int]

    /// Plans the arena. `captureAttention` lists blocks whose attention probabilities
    /// are kept (each adds a planned [B, heads, T, T] buffer); by default none.
    /// Threads the forward pass uses (the pool's size).
    package let threads: Int
    let pool: ThreadPool?
    /// The model's kernel set, bound to this session's pool.
    let kernels: Kernels

    package init(model: VisionTransformer, batchSize: Int, captureAttention: [Int] = [], threads: Int = 1,
                limits: ResourceLimits = .current) throws {
        guard threads >= 1 && threads <= 256 else {
            throw VitError.invalidSetting(.threads, value: "\(threads)", expected: "1...256")
        }
        self.threads = model.kernels.isReference ? 1 : threads
        pool = self.threads > 1 ? ThreadPool(threads: self.threads) : nil
        var k = model.kernels
        k.pool = pool?.pool
        k.threads = self.threads
        kernels = k
        guard batchSize >= 1 && batchSize <= 1 << 16 else {
            throw VitError.invalidSetting(.batchSize, value: "\(batchSize)", expected: "1...65536")
        }
        self.model = model
        self.batchSize = batchSize
        if !captureAttention.isEmpty && model.config.architecture.tokenMixing == .weights {
            throw VitError.invalidSetting(.attentionBlocks, value: "\(captureAttention)",
                                          expected: "none: \(model.config.architecture.withArticle) has no attention to capture (its blocks mix tokens with weights)")
        }
        switch model.config.architecture {
        case .swin where !captureAttention.isEmpty:
            throw VitError.invalidSetting(.attentionBlocks, value: "\(captureAttention)",
                                          expected: "none: a Swin transformer's attention is per window (maps of its windows' tokens, not of the image), which vit-edge does not capture")
        case .pvt where !captureAttention.isEmpty:
            throw VitError.invalidSetting(.attentionBlocks, value: "\(captureAttention)",
                                          expected: "none: a PVT v2 attends to a reduced map (its maps are not token to token), which vit-edge does not capture")
        case .vit, .hybrid, .deepvit, .t2t, .mixer, .resmlp, .swin, .pvt: break
        }
        for b in captureAttention where b < 0 || b >= model.config.depth {
            throw VitError.invalidSetting(.attentionBlocks, value: "\(b)", expected: "blocks of the model, 0...\(model.config.depth - 1)")
        }
        capturedBlocks = Array(Set(captureAttention)).sorted()
        let layout = try ForwardLayout(model: model, kernels: kernels, batch: batchSize, captureAttention: capturedBlocks,
                                       workers: self.threads)
        buffers = layout.requests
        plan = GreedyMemoryPlanner().plan(buffers, alignment: AlignedBuffer.alignment)
        naiveBytes = LinearMemoryPlanner().plan(buffers, alignment: AlignedBuffer.alignment).arenaBytes
        guard plan.arenaBytes <= limits.maxArenaBytes else {
            throw VitError.tooLarge(what: "activation arena for batch \(batchSize)", bytes: plan.arenaBytes,
                                    limit: limits.maxArenaBytes, hint: "use a smaller batch")
        }
        arena = AlignedBuffer(bytes: plan.arenaBytes)
        act = layout.activations(BufferViews(base: arena.base, offsets: plan.offsets, index: layout.index))
    }

    package var arenaBytes: Int { plan.arenaBytes }

    /// The input tensor [batchSize, C, H, W], filled by `Preprocess` or the caller.
    package var input: UnsafeMutableBufferPointer<Float> {
        let c = model.config
        return UnsafeMutableBufferPointer(start: act.image, count: batchSize * c.channels * c.imageHeight * c.imageWidth)
    }

    /// Where image `i` of the batch starts in `input` ([C, H, W] floats); traps on an index
    /// outside the batch rather than write past it.
    package func inputSlot(_ i: Int) -> UnsafeMutablePointer<Float> {
        precondition(i >= 0 && i < batchSize, "image \(i) outside a batch of \(batchSize)")
        let c = model.config
        return act.image + i * c.channels * c.imageHeight * c.imageWidth
    }

    /// Preprocesses `image` as the model says into image `i` of the batch (a large image's rows
    /// split across the session's threads); throws when the image is too large to preprocess
    /// within `limits` (`name` is the image's, for the message).
    package func setInput(_ image: Image, at i: Int, name: String = "image", limits: ResourceLimits = .current) throws {
        try Preprocess.apply(image, config: model.config, into: inputSlot(i), limits: limits, name: name,
                             resampling: model.kernels.resampling, pool: pool)
    }

    /// Preprocesses a view with a `Preprocessor` made for this model into image `i`.
    package func setInput(_ view: ImageView, at i: Int, using preprocessor: Preprocessor) {
        precondition(preprocessor.config == model.config, "a Preprocessor made for another model")
        preprocessor.apply(view, into: inputSlot(i), pool: pool)
    }

    /// Logits of image `i` after `forward` (the mean of both heads for DeiT).
    package func logits(_ i: Int) -> UnsafeBufferPointer<Float> {
        let n = model.config.numClasses
        return UnsafeBufferPointer(start: act.logits + i * n, count: n)
    }

    /// Class probabilities of image `i` after `forward`.
    package func probabilities(_ i: Int) -> UnsafeBufferPointer<Float> {
        let n = model.config.numClasses
        return UnsafeBufferPointer(start: act.probabilities + i * n, count: n)
    }

    /// Attention probabilities [heads, T, T] of image `i` in a captured block, after `forward`.
    package func attention(block: Int, image i: Int) -> UnsafeBufferPointer<Float>? {
        guard act.blocks.indices.contains(block), let p = act.blocks[block].attentionProbabilities else { return nil }
        let c = model.config
        let n = c.heads * c.tokens * c.tokens
        return UnsafeBufferPointer(start: p + i * n, count: n)
    }

    /// Throws when image `i`'s results after `forward` are not all finite (NaN or ±∞ in the
    /// logits, or in the features of a model without a head): the weights or the
    /// preprocessing took the numbers past float32's range, and a printed answer would be
    /// a wrong one. Inputs are checked before they get here (finite pixels, mean and std
    /// in range), so what is left is the model.
    package func checkFinite(image i: Int, name: String) throws {
        let c = model.config
        let out = c.numClasses > 0 ? logits(i) : features(i)
        guard out.contains(where: { !$0.isFinite }) else { return }
        throw VitError.badModel(path: model.source, expected: "finite outputs",
                                found: "NaN or infinite values in the \(c.numClasses > 0 ? "logits" : "features") of \(name)",
                                hint: "its weights or its preprocessing (mean \(c.mean), std \(c.std)) take the activations past float32's range")
    }

    /// Image `i`'s final tokens [T, D] after `forward`: every token (class, distillation and
    /// register tokens first, then the patches in row-major order) after the final norm, as
    /// timm's `forward_features` and Hugging Face's DINOv2 / SigLIP `last_hidden_state`.
    package func tokens(_ i: Int) -> UnsafeBufferPointer<Float> {
        let c = model.config
        let n = c.outputTokens * c.outputDim
        return UnsafeBufferPointer(start: (c.finalNorm ? act.normed : act.tokens) + i * n, count: n)
    }

    /// The pooled representation the head reads (after pre-logits), image `i`.
    package func features(_ i: Int) -> UnsafeBufferPointer<Float> {
        let n = model.config.featureDim
        return UnsafeBufferPointer(start: act.features + i * n, count: n)
    }
}

/// Where each planned buffer is: a base address (the arena, or the reserved range a
/// `StepTrace` hands out) and each buffer's offset from it.
struct BufferViews {
    let base: UnsafeMutableRawPointer
    let offsets: [Int]
    let index: [String: Int]

    func raw(_ name: String) -> UnsafeMutableRawPointer { base + offsets[index[name]!] }
    func floats(_ name: String) -> UnsafeMutablePointer<Float> { raw(name).assumingMemoryBound(to: Float.self) }
}

/// The program's buffers and their lifetimes: the input, the patches, the residual stream,
/// the blocks of the model's architecture, then the head. Each part declares its buffers;
/// the steps that use them come from running `forwardPass` once on a tracing kernel set
/// (`StepTrace`), so the plan cannot drift from the code that runs.
struct ForwardLayout {
    let config: ViTConfig
    let batch: Int
    private(set) var requests: [BufferRequest]
    let index: [String: Int]
    let captured: [Int]
    let workers: Int
    /// The kernel set the session runs (its routes decide some scratch sizes).
    let kernels: Kernels
    /// The model's weights (the blocks are bound to their views).
    let weights: ModelWeights
    /// The encoder's layers (`ViTConfig.encoderLayers`), derived once.
    let layers: [EncoderLayer]
    /// The traced program: for each step, the buffers it touched (indices into `requests`).
    private(set) var steps: [[Int]] = []

    init(model: VisionTransformer, kernels k: Kernels, batch b: Int, captureAttention: [Int] = [], workers: Int = 1) throws {
        let c = model.config
        captured = captureAttention
        self.workers = workers
        self.kernels = k
        weights = model.weights
        config = c
        batch = b
        let rows = b * c.tokens
        layers = c.encoderLayers
        var p = ProgramLayout()
        try p.buffer("image", b * c.channels * c.imageHeight * c.imageWidth)
        try p.buffer("patches", b * c.numPatches * c.patchDim)
        // The residual stream, as large as its widest stage (the first, in every pyramid here).
        try p.buffer("tokens", layers.reduce(rows * c.dim) { max($0, b * $1.outTokens * $1.outDim) })
        // One set of int8 scratch shared by every quantized Linear of the blocks (each
        // uses it within its own step), sized for the largest. The reference int8 route
        // needs a [rows, out] int32 buffer; the optimized ones dequantize inside the GEMM.
        var q = (input: 0, scales: 0, acc: 0)
        if c.activationQuantization != nil {
            for l in ForwardLayout.blockLinears(c, batch: b) {
                q.input = max(q.input, l.rows * alignUp(l.inFeatures, k.int8KR))
                q.scales = max(q.scales, l.rows)
                q.acc = max(q.acc, k.qs8Gemm == nil ? l.rows * l.outFeatures : 0)
            }
        }
        try p.buffer("int8.input", q.input, elementSize: 1)
        try p.buffer("int8.scales", q.scales)
        try p.buffer("int8.acc", q.acc)
        try c.patchStem.declare(&p, c, k, batch: b, workers: workers)   // 1. the patch stem's own buffers
        for (i, l) in layers.enumerated() {                      // 4. the encoder
            try l.kind.declare(&p, l.shape, k, prefix: l.prefix, batch: b, capture: captureAttention.contains(i), workers: workers)
        }
        try p.buffer("normed", c.finalNorm ? b * c.outputTokens * c.outputDim : 0)   // 5. the head
        if c.pool == .attentionPool { try declareAttentionPool(&p, c, batch: b) }
        try p.buffer("pooled", b * c.pooledDim)
        try p.buffer("features", c.hasFeatureLayer ? b * c.featureDim : 0)  // else the head reads `pooled`
        try p.buffer("features_normalized", c.normalizeFeatures ? b * c.featureDim : 0)
        try p.buffer("logits", b * c.numClasses)
        try p.buffer("logits_dist", c.distillationToken ? b * c.numClasses : 0)
        try p.buffer("probabilities", b * c.numClasses)
        p.input("image")  // the caller writes it before the pass
        // Read after the pass: the head's outputs, the final tokens (`tokens(_:)`: after the
        // pooling only the head's small buffers are live, so keeping them costs next to
        // nothing) and captured attention maps.
        p.output("pooled", "features", "logits", "logits_dist", "probabilities", c.finalNorm ? "normed" : "tokens")
        for i in captureAttention { p.output(layers[i].prefix + "attention_probabilities") }
        index = p.index
        requests = p.requests

        // The steps: the forward pass itself, on a kernel set that records what each
        // operation touches instead of computing, at addresses that cannot be read.
        let trace = StepTrace(p.requests)
        var tracing = k
        (tracing.trace, tracing.pool, tracing.threads) = (trace, nil, 1)
        forwardPass(model, tracing, activations(BufferViews(base: trace.base, offsets: trace.offsets, index: index)), batch: b)
        steps = trace.steps
        for step in steps { p.step(step) }
        requests = p.finished()
    }

    /// Every Linear layer inside the blocks (and the backbone and the attention-pooling
    /// head), with the rows it multiplies.
    static func blockLinears(_ c: ViTConfig, batch b: Int) -> [LinearShape] {
        var l = c.encoderLayers.flatMap { $0.kind.linearShapes($0.shape, batch: b) }
        l += c.patchStem.linearShapes(c, batch: b)
        if c.pool == .attentionPool { l += AttentionPoolWeights.linearShapes(c, batch: b) }
        return l
    }

    /// The views of every buffer at `v` (the planned arena, or a trace's addresses).
    func activations(_ v: BufferViews) -> Activations {
        let quant: QuantScratch? = config.activationQuantization == nil ? nil : QuantScratch(
            q: v.raw("int8.input").assumingMemoryBound(to: Int8.self),
            scales: v.floats("int8.scales"),
            acc: v.raw("int8.acc").assumingMemoryBound(to: Int32.self))
        let blocks = weights.blocks.enumerated().map { i, w in
            w.bound(v, layers[i], kernels, capture: captured.contains(i), workers: workers, quant: quant)
        }
        let pooled = v.floats("pooled")
        let features = config.hasFeatureLayer ? v.floats("features") : pooled
        return Activations(image: v.floats("image"), stem: weights.stem.bound(v, self, quant: quant),
                           patches: v.floats("patches"), tokens: v.floats("tokens"), blocks: blocks,
                           normed: v.floats("normed"), attentionPool: attentionPoolActivations(v, quant: quant),
                           pooled: pooled,
                           features: features,
                           normalizedFeatures: config.normalizeFeatures ? v.floats("features_normalized") : features,
                           logits: v.floats("logits"), logitsDistillation: v.floats("logits_dist"),
                           probabilities: v.floats("probabilities"))
    }
}
