/// Views into the arena: every intermediate tensor of one forward pass. Shapes use
/// B = batch, T = tokens per image, N = patches per image, D = width.
struct Activations {
    /// [B, C, H, W] the preprocessed input
    var image: UnsafeMutablePointer<Float>
    /// [B·N, C·P·P] flattened patches
    var patches: UnsafeMutablePointer<Float>
    /// [B·T, D] the residual stream
    var tokens: UnsafeMutablePointer<Float>
    var blocks: [BlockActivations]
    /// [B·T, D] after the final LayerNorm
    var normed: UnsafeMutablePointer<Float>
    /// [B, D] pooled representation (class token or mean)
    var pooled: UnsafeMutablePointer<Float>
    /// [B, F] what the head reads (pre-logits output, or `pooled`)
    var features: UnsafeMutablePointer<Float>
    /// [B, classes]
    var logits: UnsafeMutablePointer<Float>
    /// [B, classes] DeiT's distillation-head logits
    var logitsDistillation: UnsafeMutablePointer<Float>
    /// [B, classes]
    var probabilities: UnsafeMutablePointer<Float>
}

/// One block's intermediates. The planner lets consecutive blocks share memory.
struct BlockActivations {
    /// [B·T, D]
    var norm1: UnsafeMutablePointer<Float>
    /// [B·T, 3·inner]
    var qkv: UnsafeMutablePointer<Float>
    /// attention scratch: scores [T, T] and one head's packed K and V
    var scratch: AttentionScratch
    /// [B·T, inner]
    var attention: UnsafeMutablePointer<Float>
    /// [B·T, D] projection output before layer scale (only with layer scale)
    var projected: UnsafeMutablePointer<Float>
    /// [B·T, D]
    var norm2: UnsafeMutablePointer<Float>
    /// [B·T, mlpDim]
    var hidden: UnsafeMutablePointer<Float>
    /// [B·T, D] fc2 output before layer scale (only with layer scale)
    var mlpOut: UnsafeMutablePointer<Float>
    /// int8 scratch shared by the block's quantized Linear layers (nil for fp32 models)
    var quant: QuantScratch?
    /// [B, heads, T, T] attention probabilities, planned only when the session captures them
    var attentionProbabilities: UnsafeMutablePointer<Float>?
}

/// A model planned for one batch size: the arena and the views into it. Plan once,
/// run many times; `forward` allocates nothing.
public final class InferenceSession: @unchecked Sendable {
    public let model: VisionTransformer
    public let batchSize: Int
    /// Every intermediate buffer with its lifetime, in program order.
    public let buffers: [BufferRequest]
    public let plan: MemoryPlan
    /// What the buffers would take without sharing (the linear planner's arena).
    public let naiveBytes: Int
    let arena: AlignedBuffer
    let act: Activations

    /// Blocks whose attention probabilities the session keeps (see `attention(block:image:)`).
    public let capturedBlocks: [Int]

    /// Plans the arena. `captureAttention` lists blocks whose attention probabilities
    /// are kept (each adds a planned [B, heads, T, T] buffer); by default none.
    /// Threads the forward pass uses (the pool's size).
    public let threads: Int
    let pool: ThreadPool?
    /// The model's kernel set, bound to this session's pool.
    let kernels: Kernels

    public init(model: VisionTransformer, batchSize: Int, captureAttention: [Int] = [], threads: Int = 1,
                limits: ResourceLimits = .current) throws {
        guard threads >= 1 && threads <= 256 else {
            throw VitError.invalidArgument("threads must be 1...256, got \(threads)")
        }
        self.threads = model.kernels.isReference ? 1 : threads
        pool = self.threads > 1 ? ThreadPool(threads: self.threads) : nil
        var k = model.kernels
        k.pool = pool?.pool
        k.threads = self.threads
        kernels = k
        guard batchSize >= 1 && batchSize <= 1 << 16 else {
            throw VitError.invalidArgument("batch size must be 1...65536, got \(batchSize)")
        }
        self.model = model
        self.batchSize = batchSize
        for b in captureAttention where b < 0 || b >= model.config.depth {
            throw VitError.invalidArgument("block \(b) does not exist: the model has blocks 0...\(model.config.depth - 1)")
        }
        capturedBlocks = Array(Set(captureAttention)).sorted()
        let layout = try ForwardLayout(config: model.config, batch: batchSize, captureAttention: capturedBlocks,
                                       workers: self.threads, int32Accumulators: model.kernels.qs8Gemm == nil,
                                       int8KR: model.kernels.int8KR)
        buffers = layout.requests
        plan = GreedyMemoryPlanner().plan(buffers, alignment: AlignedBuffer.alignment)
        naiveBytes = LinearMemoryPlanner().plan(buffers, alignment: AlignedBuffer.alignment).arenaBytes
        guard plan.arenaBytes <= limits.maxArenaBytes else {
            throw VitError.tooLarge(what: "activation arena for batch \(batchSize)", bytes: plan.arenaBytes,
                                    limit: limits.maxArenaBytes, hint: "use a smaller batch")
        }
        arena = AlignedBuffer(bytes: plan.arenaBytes)
        act = layout.activations(arena: arena, plan: plan)
    }

    public var arenaBytes: Int { plan.arenaBytes }

    /// The input tensor [batchSize, C, H, W], filled by `Preprocess` or the caller.
    public var input: UnsafeMutableBufferPointer<Float> {
        let c = model.config
        return UnsafeMutableBufferPointer(start: act.image, count: batchSize * c.channels * c.imageHeight * c.imageWidth)
    }

    /// Logits of image `i` after `forward` (the mean of both heads for DeiT).
    public func logits(_ i: Int) -> UnsafeBufferPointer<Float> {
        let n = model.config.numClasses
        return UnsafeBufferPointer(start: act.logits + i * n, count: n)
    }

    /// Class probabilities of image `i` after `forward`.
    public func probabilities(_ i: Int) -> UnsafeBufferPointer<Float> {
        let n = model.config.numClasses
        return UnsafeBufferPointer(start: act.probabilities + i * n, count: n)
    }

    /// Attention probabilities [heads, T, T] of image `i` in a captured block, after `forward`.
    public func attention(block: Int, image i: Int) -> UnsafeBufferPointer<Float>? {
        guard let p = act.blocks[block].attentionProbabilities else { return nil }
        let c = model.config
        let n = c.heads * c.tokens * c.tokens
        return UnsafeBufferPointer(start: p + i * n, count: n)
    }

    /// The pooled representation the head reads (after pre-logits), image `i`.
    public func features(_ i: Int) -> UnsafeBufferPointer<Float> {
        let n = model.config.featureDim
        return UnsafeBufferPointer(start: act.features + i * n, count: n)
    }
}

/// The program's buffers and lifetimes for a config and batch size. Steps follow
/// the forward pass: preprocess, patches, embed, 7 per block, then the head.
struct ForwardLayout {
    let config: ViTConfig
    let batch: Int
    var requests: [BufferRequest] = []
    var index: [String: Int] = [:]

    let captured: [Int]

    let workers: Int

    /// `int32Accumulators`: plan the [rows, out] int32 buffer the reference int8 route
    /// needs (the optimized routes dequantize inside the GEMM and need none).
    /// `int8KR`: the int8 route's k-group, to which quantized activation rows are padded.
    init(config c: ViTConfig, batch b: Int, captureAttention: [Int] = [], workers: Int = 1,
         int32Accumulators: Bool = true, int8KR: Int = 4) throws {
        captured = captureAttention
        self.workers = workers
        config = c
        batch = b
        let rows = b * c.tokens
        let blockSteps = 7
        let head = 3 + c.depth * blockSteps
        let last = head + 4
        let scratch = Kernels.attentionScratchFloats(tokens: c.tokens, headDim: c.headDim)
        func add(_ name: String, _ floats: Int, _ first: Int, _ lastUse: Int, elementSize: Int = 4) throws {
            guard let bytes = floats.multipliedReportingOverflow(by: elementSize).overflow ? nil : floats * elementSize else {
                throw VitError.invalidArgument("buffer \(name) overflows")
            }
            index[name] = requests.count
            requests.append(BufferRequest(name: name, bytes: bytes, firstUse: first, lastUse: lastUse))
        }
        try add("image", b * c.channels * c.imageHeight * c.imageWidth, 0, 1)
        try add("patches", b * c.numPatches * c.patchDim, 1, 2)
        try add("tokens", rows * c.dim, 2, last)
        for i in 0..<c.depth {
            let s = 3 + i * blockSteps
            let p = "blocks.\(i)."
            try add(p + "norm1", rows * c.dim, s, s + 1)
            try add(p + "qkv", rows * 3 * c.innerDim, s + 1, s + 2)
            // One set of attention scratch per worker thread.
            try add(p + "scores", scratch.scores * workers, s + 2, s + 2)
            try add(p + "packed_k", scratch.packedK * workers, s + 2, s + 2)
            try add(p + "attention", rows * c.innerDim, s + 2, s + 3)
            try add(p + "projected", c.layerScale ? rows * c.dim : 0, s + 3, s + 3)
            try add(p + "norm2", rows * c.dim, s + 4, s + 5)
            try add(p + "hidden", rows * c.mlpDim, s + 5, s + 6)
            try add(p + "mlp_out", c.layerScale ? rows * c.dim : 0, s + 6, s + 6)
            if captureAttention.contains(i) {
                // Kept to the end of the pass so the caller can read it.
                try add(p + "attention_probabilities", b * c.heads * c.tokens * c.tokens, s + 2, last)
            }
        }
        // The distillation head reads the normed tokens again at head + 3.
        if c.activationQuantization != nil {
            // One set of int8 scratch for every quantized Linear (each uses it within one step).
            let maxIn = [c.dim, c.innerDim, c.mlpDim].map { alignUp($0, int8KR) }.max()!
            let maxOut = max(3 * c.innerDim, c.dim, c.mlpDim)
            try add("int8.input", rows * maxIn, 3, head - 1, elementSize: 1)
            try add("int8.scales", rows, 3, head - 1)
            try add("int8.acc", int32Accumulators ? rows * maxOut : 0, 3, head - 1)
        }
        try add("normed", c.finalNorm ? rows * c.dim : 0, head, head + 3)
        try add("pooled", b * c.dim, head + 1, last)
        try add("features", c.preLogitsDim > 0 ? b * c.preLogitsDim : 0, head + 2, last)
        try add("logits", b * c.numClasses, head + 3, last)
        try add("logits_dist", c.distillationToken ? b * c.numClasses : 0, head + 3, last)
        try add("probabilities", b * c.numClasses, last, last)
    }

    func activations(arena: AlignedBuffer, plan: MemoryPlan) -> Activations {
        func v(_ name: String) -> UnsafeMutablePointer<Float> { arena.floats(at: plan.offsets[index[name]!]) }
        let quant: QuantScratch? = config.activationQuantization == nil ? nil : QuantScratch(
            q: (arena.base + plan.offsets[index["int8.input"]!]).assumingMemoryBound(to: Int8.self),
            scales: v("int8.scales"),
            acc: (arena.base + plan.offsets[index["int8.acc"]!]).assumingMemoryBound(to: Int32.self))
        let scratchFloats = Kernels.attentionScratchFloats(tokens: config.tokens, headDim: config.headDim)
        let blocks = (0..<config.depth).map { i -> BlockActivations in
            let p = "blocks.\(i)."
            return BlockActivations(
                norm1: v(p + "norm1"), qkv: v(p + "qkv"),
                scratch: AttentionScratch(scores: v(p + "scores"), packedK: v(p + "packed_k"),
                                          workers: workers, strideScores: scratchFloats.scores,
                                          strideK: scratchFloats.packedK),
                attention: v(p + "attention"), projected: v(p + "projected"), norm2: v(p + "norm2"),
                hidden: v(p + "hidden"), mlpOut: v(p + "mlp_out"), quant: quant,
                attentionProbabilities: captured.contains(i) ? v(p + "attention_probabilities") : nil)
        }
        let pooled = v("pooled")
        return Activations(image: v("image"), patches: v("patches"), tokens: v("tokens"), blocks: blocks,
                           normed: v("normed"), pooled: pooled,
                           features: config.preLogitsDim > 0 ? v("features") : pooled,
                           logits: v("logits"), logitsDistillation: v("logits_dist"),
                           probabilities: v("probabilities"))
    }
}
