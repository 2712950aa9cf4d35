/// One model planned for a batch of images: the arena every intermediate tensor lives in,
/// allocated once. Give it images, run, read the results; nothing is allocated while it
/// runs. A session is used by one thread at a time; open one session per thread (they
/// may share a `Model`).
///
/// The order of calls: `setImage` / `setPixels` for each image of the batch, `run`, then
/// read. Results stay readable until the next `setImage`, `setPixels` or `run`, which
/// reuse their memory: a read after that throws `invalidState` rather than return
/// another image's numbers.
public final class Session {
    /// What a session computes for each image.
    public enum Output: Sendable {
        /// The head's outputs (the mean of both heads for DeiT), one per class.
        case logits
        /// Softmax of the logits (a sigmoid per class for a SigLIP zero-shot head).
        case probabilities
        /// What the head reads: the pooled representation after pre-logits.
        case embedding
        /// Every token after the final norm, [tokens, width] row-major: the prefix tokens
        /// (`Model.Info.prefixTokens`: class, distillation, registers), then the patches
        /// row by row. DINOv2's patch features for dense use; Hugging Face's `last_hidden_state`.
        case tokens
    }

    /// A class and how probable the model finds it.
    public struct Classification: Sendable, Equatable {
        /// The class number (the head's output index).
        public let index: Int
        /// The model's label for the class, or its number.
        public let label: String
        /// The probability in [0, 1] (softmax; a sigmoid per class for a SigLIP zero-shot head).
        public let probability: Float
    }

    /// The model this session runs (kept alive by the session).
    public let model: Model
    /// Images per run.
    public let batchSize: Int
    /// Threads each run uses.
    public let threads: Int
    /// Blocks whose attention maps are kept (see `attention(block:image:)`).
    public let attentionBlocks: [Int]

    let session: InferenceSession
    var preprocessor: Preprocessor?
    var given: [Bool]
    var resultsValid = false
    /// Images in the last run (the results there are to read).
    var lastCount = 0

    /// Plans the session. `attentionBlocks`: blocks whose attention probabilities are
    /// kept for reading after each run (each adds a [heads, tokens, tokens] map per image).
    public init(model: Model, batchSize: Int = 1, threads: Int = 1, attentionBlocks: [Int] = []) throws(VitError) {
        self.model = model
        session = try VitError.catching {
            try InferenceSession(model: model.vit, batchSize: batchSize, captureAttention: attentionBlocks,
                                 threads: threads, limits: model.limits)
        }
        self.batchSize = batchSize
        self.threads = session.threads
        self.attentionBlocks = session.capturedBlocks
        given = Array(repeating: false, count: batchSize)
    }

    // MARK: Images in

    /// Gives image `index` of the batch from decoded pixels (resized, cropped and
    /// normalized as the model's preprocessing says).
    public func setImage(_ image: Image, at index: Int = 0) throws(VitError) {
        try VitError.catching { try image.withView { try setPixels($0, at: index) } }
    }

    /// Gives image `index` of the batch from a JPEG, PNG, PGM or PPM file.
    public func setImage(path: String, at index: Int = 0) throws(VitError) {
        try checkIndex(index)
        let image = try VitError.catching { try Image.load(path: path, limits: model.limits) }
        try setImage(image, at: index)
    }

    /// Gives image `index` of the batch from a JPEG, PNG, PGM or PPM file held in memory.
    public func setImage(encoded bytes: [UInt8], at index: Int = 0) throws(VitError) {
        try checkIndex(index)
        let image = try VitError.catching { try Image.decode(bytes, path: "image \(index)", limits: model.limits) }
        try setImage(image, at: index)
    }

    /// Gives image `index` of the batch from pixels in memory (a camera frame, a decoder's
    /// output). The view is read during the call only. Its size, row stride and pixel
    /// count are checked; the memory itself must hold what the view describes.
    public func setPixels(_ view: ImageView, at index: Int = 0) throws(VitError) {
        try checkIndex(index)
        guard view.width > 0, view.height > 0, view.width <= 1 << 16, view.height <= 1 << 16 else {
            throw .invalidArgument("image size must be 1...65536 on each side, got \(view.width)x\(view.height)")
        }
        let minimum = ImageView.minimumRowBytes(view.format, width: view.width)
        guard view.rowBytes >= minimum, view.rowBytes <= 1 << 30 else {
            throw .invalidArgument("\(view.format.rawValue) rows of \(view.width) pixels take at least \(minimum) bytes, got a row stride of \(view.rowBytes)")
        }
        guard !view.format.isFloat || view.rowBytes % 4 == 0 else {
            throw .invalidArgument("float pixel rows must start 4-byte aligned: a row stride of \(view.rowBytes) bytes is not a multiple of 4")
        }
        if view.format.isFloat {
            // Float samples are used as given: NaN or infinity would become every output.
            let perRow = view.width * view.format.channels
            for y in 0..<view.height {
                let row = UnsafeBufferPointer(start: (view.data + y * view.rowBytes).assumingMemoryBound(to: Float.self), count: perRow)
                guard ModelWeights.allFinite(row) else {
                    throw .invalidArgument("image \(index): float pixels must be finite (values in [0, 1]); row \(y) holds NaN or infinity")
                }
            }
        }
        let pixels = view.width * view.height
        guard pixels <= model.limits.maxImagePixels else {
            throw .tooManyPixels(path: "image \(index)", width: view.width, height: view.height, limit: model.limits.maxImagePixels)
        }
        // One Preprocessor per source size and format, kept while frames keep them.
        if preprocessor?.serves(view) != true {
            preprocessor = try VitError.catching {
                try Preprocessor(config: model.vit.config, width: view.width, height: view.height, format: view.format,
                                 limits: model.limits, name: "image \(index)", resampling: model.vit.kernels.resampling)
            }
        }
        let input = session.input
        let plane = input.count / batchSize
        preprocessor!.apply(view, into: input.baseAddress! + index * plane, pool: session.pool)
        given[index] = true
        resultsValid = false
    }

    // MARK: Run

    /// Runs the model on images `0..<count` of the batch (all of them by default), each
    /// given since the last run. Does not allocate.
    public func run(count: Int? = nil) throws(VitError) {
        let n = count ?? batchSize
        guard n >= 1 && n <= batchSize else {
            throw .invalidArgument("count must be 1...\(batchSize) (the session's batch size), got \(n)")
        }
        if let missing = given.prefix(n).firstIndex(of: false) {
            throw .invalidState("image \(missing) was not given since the last run: set every image of the batch before running")
        }
        session.forward(count: n)
        for i in 0..<n { given[i] = false }
        for i in 0..<n { try VitError.catching { try session.checkFinite(image: i, name: "image \(i)") } }
        resultsValid = true
        lastCount = n
    }

    // MARK: Results out

    /// Floats per image in `output` (classes, or the embedding size).
    public func count(of output: Output) -> Int {
        switch output {
        case .logits, .probabilities: return model.info.classes
        case .embedding: return model.info.embeddingSize
        case .tokens: return model.info.tokens * model.info.width
        }
    }

    /// Calls `body` with image `image`'s `output`, borrowed from the session's arena:
    /// the buffer is valid during `body` only.
    public func withOutput<R>(_ output: Output, image: Int = 0,
                              _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        try body(try buffer(output, image))
    }

    /// Image `image`'s logits, one per class.
    public func logits(image: Int = 0) throws(VitError) -> [Float] { try copy(.logits, image) }
    /// Image `image`'s class probabilities.
    public func probabilities(image: Int = 0) throws(VitError) -> [Float] { try copy(.probabilities, image) }
    /// Image `image`'s embedding (`Model.Info.embeddingSize` floats).
    public func embedding(image: Int = 0) throws(VitError) -> [Float] { try copy(.embedding, image) }
    /// Image `image`'s final tokens, [tokens, width] row-major (see `Output.tokens`).
    public func tokens(image: Int = 0) throws(VitError) -> [Float] { try copy(.tokens, image) }

    /// The `k` most probable classes of image `image`, most probable first (ties: the
    /// lower index first). Fewer when the model has fewer classes.
    public func top(_ k: Int, image: Int = 0) throws(VitError) -> [Classification] {
        try checkResults(image)
        guard k >= 0 else { throw .invalidArgument("k must not be negative, got \(k)") }
        return topK(session.probabilities(image), k).map {
            Classification(index: $0.index, label: model.label($0.index), probability: $0.probability)
        }
    }

    /// Image `image`'s attention probabilities in `block`, [heads, tokens, tokens]
    /// row-major (query rows, key columns), or nil when the block was not among
    /// `attentionBlocks`.
    public func attention(block: Int, image: Int = 0) throws(VitError) -> [Float]? {
        try checkResults(image)
        return session.attention(block: block, image: image).map(Array.init)
    }

    func copy(_ output: Output, _ image: Int) throws(VitError) -> [Float] { Array(try buffer(output, image)) }

    /// Image `image`'s `output` in the arena, once the results are known to be readable.
    func buffer(_ output: Output, _ image: Int) throws(VitError) -> UnsafeBufferPointer<Float> {
        try checkResults(image)
        switch output {
        case .logits: return session.logits(image)
        case .probabilities: return session.probabilities(image)
        case .embedding: return session.features(image)
        case .tokens: return session.tokens(image)
        }
    }

    func checkIndex(_ index: Int) throws(VitError) {
        guard index >= 0 && index < batchSize else {
            throw .invalidArgument("image index must be 0...\(batchSize - 1) (the session's batch size is \(batchSize)), got \(index)")
        }
    }

    func checkResults(_ image: Int) throws(VitError) {
        guard resultsValid else {
            throw .invalidState("no results to read: run the session first (an image given after a run replaces its results)")
        }
        guard image >= 0 && image < lastCount else {
            throw .invalidArgument("image must be 0...\(lastCount - 1) (the images of the last run), got \(image)")
        }
    }
}
