/// Accuracy of a model over a labeled set, optionally against a second model.
package struct EvaluationResult: Sendable {
    /// Images evaluated.
    package var images = 0
    /// Images of a folder that could not be read or preprocessed (each reported as it came).
    package var skipped = 0
    package var correct = 0
    package var perClassTotal: [Int]
    package var perClassCorrect: [Int]
    /// confusion[truth][predicted]
    package var confusion: [[Int]]
    package var predictions: [Int] = []
    package var seconds = 0.0
    // With a second model:
    package var agreement: Double?
    package var maxAbsLogitDiff: Double?
    package var meanAbsLogitDiff: Double?
    package var otherAccuracy: Double?

    package var accuracy: Double { images > 0 ? Double(correct) / Double(images) : 0 }
    package var perClassAccuracy: [Double] {
        zip(perClassCorrect, perClassTotal).map { $1 > 0 ? Double($0) / Double($1) : 0 }
    }
    package var imagesPerSecond: Double { seconds > 0 ? Double(images) / seconds : 0 }
}

package enum Evaluator {
    /// Runs `model` (and `other`, when given) over the set in batches, reading the
    /// images as it goes (the first `limit` of them). With two threads or more and a
    /// folder of photos, one thread decodes and preprocesses the next batch
    /// (`InputPipeline`) while the others run the forward pass: the same results.
    package static func run(_ model: VisionTransformer, on data: LabeledImageSource, limit: Int? = nil,
                           batchSize: Int = 16, other: VisionTransformer? = nil, threads: Int = 1,
                           skipped: ((Error) -> Void)? = nil,
                           progress: ((Int, Int) -> Void)? = nil) throws -> EvaluationResult {
        let c = model.config
        guard c.numClasses > 0 else { throw VitError.invalidArgument("the model has no classification head to evaluate") }
        if let o = other {
            guard o.config.numClasses == c.numClasses else {
                throw VitError.invalidArgument("--compare: the models have \(c.numClasses) and \(o.config.numClasses) classes")
            }
        }
        let n = min(limit ?? data.count, data.count)
        guard n > 0 else { throw VitError.invalidArgument("no images to evaluate") }
        let pipelined = threads >= 2 && data.isFolder
        let forwardThreads = pipelined ? threads - 1 : threads
        let session = try InferenceSession(model: model, batchSize: batchSize, threads: forwardThreads)
        let otherSession = try other.map { try InferenceSession(model: $0, batchSize: batchSize, threads: forwardThreads) }
        let inputCount = c.channels * c.imageHeight * c.imageWidth
        // The compared model takes the same input tensor when it preprocesses alike (an int8
        // file of the same model); otherwise its own preprocessing of the image.
        let sameInput = other.map { c.samePreprocessing(as: $0.config) && $0.kernels.resampling == model.kernels.resampling } ?? true
        typealias Prepared = (name: String, label: Int, image: Image?)
        var pipeline: InputPipeline<Prepared>? = nil
        if pipelined {
            var preprocessor: Preprocessor? = nil
            var read = 0
            let resampling = model.kernels.resampling
            let p = InputPipeline<Prepared>(inputCount: inputCount, depth: batchSize) { buffer in
                guard read < n else { return nil }
                read += 1
                guard let item = try data.next() else { throw VitError.badDataset(path: "images", expected: "\(n) images", found: "\(read - 1)") }
                guard item.label >= 0 && item.label < c.numClasses else {
                    throw VitError.badDataset(path: item.name, expected: "a label in 0..<\(c.numClasses)", found: "\(item.label)")
                }
                try item.image.withView { view in
                    if preprocessor?.serves(view) != true {
                        preprocessor = try Preprocessor(config: c, width: view.width, height: view.height, format: view.format,
                                                        name: item.name, resampling: resampling)
                    }
                    preprocessor!.apply(view, into: buffer)
                }
                return (item.name, item.label, sameInput ? nil : item.image)
            }
            if p.start() { pipeline = p }
        }
        defer { pipeline?.stop() }
        var r = EvaluationResult(perClassTotal: .init(repeating: 0, count: c.numClasses),
                                 perClassCorrect: .init(repeating: 0, count: c.numClasses),
                                 confusion: .init(repeating: .init(repeating: 0, count: c.numClasses), count: c.numClasses))
        var agree = 0, otherCorrect = 0
        var maxDiff = 0.0, sumDiff = 0.0
        var otherSeconds = 0.0
        let start = Clock.now()
        var i = 0  // images read (evaluated or skipped)
        var truths = [Int](repeating: 0, count: batchSize)
        while i < n {
            // Fill a batch. In a folder, an image that cannot be read or preprocessed is
            // handed to `skipped` and the rest go on; an IDX file's errors end the run.
            var b = 0
            // Pipelined: wait for one image, then take what is ready (a batch is what is
            // prepared when the forward pass is free; see `InputPipeline.takeIfReady`).
            while let p = pipeline, b < batchSize && i < n {
                guard let item = b == 0 ? p.take() : p.takeIfReady() else {
                    if b == 0 { i = n }  // ended (the producer gives exactly n)
                    break
                }
                i += 1
                do {
                    let m = try item.result.get()
                    session.inputSlot(b).update(from: item.buffer!, count: inputCount)
                    p.recycle(item)
                    if let os = otherSession {
                        let t0 = Clock.now()
                        if let image = m.image { try os.setInput(image, at: b, name: m.name) } else { os.inputSlot(b).update(from: session.inputSlot(b), count: inputCount) }
                        otherSeconds += Clock.now() - t0
                    }
                    truths[b] = m.label
                    b += 1
                } catch {
                    p.recycle(item)
                    guard let skipped else { throw error }
                    skipped(error)
                    r.skipped += 1
                }
            }
            while pipeline == nil && b < batchSize && i < n {
                let item: (name: String, image: Image, label: Int)
                do {
                    guard let next = try data.next() else { throw VitError.badDataset(path: "images", expected: "\(n) images", found: "\(i)") }
                    item = next
                    guard item.label >= 0 && item.label < c.numClasses else {
                        throw VitError.badDataset(path: item.name, expected: "a label in 0..<\(c.numClasses)", found: "\(item.label)")
                    }
                    try session.setInput(item.image, at: b, name: item.name)
                    if let os = otherSession {
                        let t0 = Clock.now()
                        try os.setInput(item.image, at: b, name: item.name)
                        otherSeconds += Clock.now() - t0
                    }
                } catch {
                    i += 1
                    guard data.isFolder, let skipped else { throw error }
                    skipped(error)
                    r.skipped += 1
                    continue
                }
                truths[b] = item.label
                b += 1
                i += 1
            }
            if b == 0 { progress?(i, n); continue }
            session.forward(count: b)
            if let os = otherSession {
                let t0 = Clock.now()
                os.forward(count: b)
                otherSeconds += Clock.now() - t0
            }
            for j in 0..<b {
                try session.checkFinite(image: j, name: "an image of the set")
                try otherSession?.checkFinite(image: j, name: "an image of the set")
                let logits = session.logits(j)
                let pred = argmax(logits)
                let truth = truths[j]
                r.predictions.append(pred)
                r.perClassTotal[truth] += 1
                r.confusion[truth][pred] += 1
                if pred == truth { r.correct += 1; r.perClassCorrect[truth] += 1 }
                if let os = otherSession {
                    let ol = os.logits(j)
                    let op = argmax(ol)
                    if op == pred { agree += 1 }
                    if op == truth { otherCorrect += 1 }
                    for k in 0..<logits.count {
                        let d = Double(abs(logits[k] - ol[k]))
                        maxDiff = max(maxDiff, d)
                        sumDiff += d
                    }
                }
            }
            r.images += b
            progress?(i, n)
        }
        guard r.images > 0 else {
            throw VitError.badDataset(path: "images", expected: "at least one image that can be read", found: "\(r.skipped) skipped")
        }
        r.seconds = Clock.now() - start - otherSeconds
        if other != nil {
            r.agreement = Double(agree) / Double(r.images)
            r.otherAccuracy = Double(otherCorrect) / Double(r.images)
            r.maxAbsLogitDiff = maxDiff
            r.meanAbsLogitDiff = sumDiff / Double(r.images * c.numClasses)
        }
        return r
    }

    package static func argmax(_ v: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in v.indices where v[i] > v[best] { best = i }
        return best
    }
}
