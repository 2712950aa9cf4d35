/// A zero-shot classifier for a CLIP or SigLIP image tower: text embeddings of a list of labels,
/// made on the PC by the model's own text tower (tools/clip_text_embeddings.py), folded
/// into a head at conversion. On the board `run` then scores an image against each
/// label as CLIP's `logits_per_image` does — scale · cos(image, text) (+ bias) — with
/// no text model there.
package struct ZeroShotHead: Sendable {
    /// [classes, width], each row L2-normalised here.
    package var embeddings: [Float]
    package var classes: Int
    package var width: Int
    /// CLIP's `logit_scale.exp()`.
    package var scale: Float
    /// Added to every logit (SigLIP's `logit_bias`; 0 for CLIP).
    package var bias: Float
    package var labels: [String]
    /// Softmax over the labels (CLIP) or a sigmoid per label (SigLIP).
    package var probabilities: ViTConfig.ProbabilityFunction = .softmax

    /// Reads the text-embeddings file: a safetensors file with `text_embeds` [N, P],
    /// `logit_scale` [1] (already exponentiated), optionally `logit_bias` [1], and the
    /// labels as a JSON list of strings in its metadata (`labels`). Everything is
    /// checked before anything is built.
    package static func read(_ st: Safetensors) throws -> ZeroShotHead {
        func bad(_ expected: String, _ found: String) -> VitError {
            .badCheckpoint(path: st.path, expected: expected, found: found,
                           hint: "write it with tools/clip_text_embeddings.py (see docs/FORMAT.md, zero-shot heads)")
        }
        guard let e = st.entry("text_embeds") else { throw bad("a tensor text_embeds [labels, width]", "none") }
        guard e.shape.count == 2, e.shape[0] >= 1, e.shape[0] <= 1 << 16, e.shape[1] >= 1, e.shape[1] <= 1 << 16 else {
            throw bad("text_embeds of shape [labels, width] (1...65536 each)", "shape \(e.shape)")
        }
        func scalar(_ name: String) throws -> Float? {
            guard let s = st.entry(name) else { return nil }
            guard s.shape.reduce(1, *) == 1 else { throw bad("\(name) as one number", "shape \(s.shape)") }
            let v = st.floats(s)[0]
            guard v.isFinite else { throw bad("a finite \(name)", "\(v)") }
            return v
        }
        guard let scale = try scalar("logit_scale") else { throw bad("a tensor logit_scale (CLIP's logit_scale.exp())", "none") }
        guard scale > 0 && scale <= 1e4 else { throw bad("logit_scale in (0, 10000] (the exponentiated scale)", "\(scale)") }
        let bias = try scalar("logit_bias") ?? 0
        guard abs(bias) <= 1e4 else { throw bad("logit_bias within ±10000", "\(bias)") }
        guard let text = st.metadata.first(where: { $0.0 == "labels" })?.1 else { throw bad("the labels in the metadata ('labels')", "none") }
        guard let list = (try? JSON.parse(Array(text.utf8)))?.array, list.count == e.shape[0] else {
            throw bad("metadata 'labels' as a JSON list of \(e.shape[0]) strings", String(text.prefix(40)))
        }
        let labels = list.compactMap { $0.string }
        guard labels.count == list.count else { throw bad("labels as strings", String(text.prefix(40))) }
        let (n, p) = (e.shape[0], e.shape[1])
        var rows = st.floats(e)
        for r in 0..<n {
            var s: Float = 0
            for i in 0..<p { s += rows[r * p + i] * rows[r * p + i] }
            guard s.isFinite && s > 0 else { throw bad("finite, non-zero text embeddings", "label '\(labels[r])'") }
            let inv = 1 / s.squareRoot()
            for i in 0..<p { rows[r * p + i] *= inv }
        }
        var probabilities = ViTConfig.ProbabilityFunction.softmax
        if let form = st.metadata.first(where: { $0.0 == "probabilities" })?.1 {
            guard let f = ViTConfig.ProbabilityFunction(rawValue: form) else { throw bad("metadata 'probabilities' softmax or sigmoid", String(form.prefix(40))) }
            probabilities = f
        }
        return ZeroShotHead(embeddings: rows, classes: n, width: p, scale: scale, bias: bias, labels: labels, probabilities: probabilities)
    }
}

extension Converter {
    /// Makes the zero-shot head the model's classifier: head.weight = scale · text
    /// embeddings, head.bias = bias, features normalised before it.
    static func applyZeroShot(_ z: ZeroShotHead, to c: inout ViTConfig, _ src: inout TensorSource, origin: String) throws {
        guard c.numClasses == 0 else {
            throw VitError.invalidArgument("--text-embeddings: the model already has a \(c.numClasses)-class head; convert an image tower without one")
        }
        guard z.width == c.featureDim else {
            throw VitError.invalidArgument("--text-embeddings: \(origin) holds \(z.width)-wide text embeddings; the model's embeddings are \(c.featureDim) wide (\(c.projectionDim > 0 ? "its projection" : "no projection: is this the image tower of the same CLIP or SigLIP?"))")
        }
        c.numClasses = z.classes
        c.labels = z.labels
        c.normalizeFeatures = true
        c.probabilities = z.probabilities
        src.out["head.weight"] = .init(shape: [z.classes, z.width], values: z.embeddings.map { $0 * z.scale }, source: origin)
        src.out["head.bias"] = .init(shape: [z.classes], values: [Float](repeating: z.bias, count: z.classes), source: origin)
        src.note("zero-shot", "\(z.classes) labels", "\(origin) (scale \(z.scale)\(z.bias != 0 ? ", bias \(z.bias)" : ""), \(z.probabilities == .sigmoid ? "a sigmoid per label (SigLIP)" : "softmax over the labels"))")
    }
}
