/// The forward pass, top to bottom, as in the paper:
/// image → patches → tokens → encoder blocks → head → probabilities.
/// No SIMD, no architecture checks and no allocation here: the kernels were
/// chosen at load and every buffer was planned in the arena.
extension InferenceSession {
    /// A named point in the forward pass, for golden tests and debugging.
    package enum Stage: Sendable {
        case patchEmbedding    // tokens after patch embedding, prefix tokens, positions (and CLIP's pre-norm) [B·T, D]
        case block(Int)        // tokens after encoder block i [B·T, D]
        case finalNorm         // tokens after the final LayerNorm [B·T, D]
        case pooled            // pooled representation [B, D] ([B, 2·D] for cls_mean)
        case logits            // [B, classes]
        case linearInput(String)  // the input of a block's Linear layer, by name (`blocks.3.mlp.fc1`) [rows, in]
    }
    package typealias Tap = (Stage, UnsafeBufferPointer<Float>) -> Void

    /// Runs the model on the first `count` images of `input`. Results: `logits(i)`,
    /// `probabilities(i)`, `features(i)`. `tap`, when given, sees each stage's output.
    package func forward(count: Int? = nil, tap: Tap? = nil) {
        forwardPass(model, kernels, act, batch: min(count ?? batchSize, batchSize), tap: tap)
    }
}

/// The whole model on `b` images of `x.image`, every intermediate in `x` (views into the
/// planned arena). Planning runs this same function with a tracing kernel set (`StepTrace`),
/// so the order of these calls is the program the memory plan follows.
func forwardPass(_ model: VisionTransformer, _ k: Kernels, _ x: Activations, batch b: Int, tap: InferenceSession.Tap? = nil) {
    let c = model.config
    let w = model.weights
    let rows = b * c.tokens

    // 1. Image → patches: P×P patches, flattened; or cut from the hybrid's ResNet feature
    //    map; or T2T's soft splits with their blocks between them (`PatchStem`).
    x.stem.run(k, batch: b, image: x.image, patches: x.patches, observe: tap.map { t in { layer, v in t(.linearInput(layer), v) } })
    // 2. Patches → tokens: the patch embedding writes rows prefix..T of each image.
    embedPatches(c, w, k, batch: b, patches: x.patches, tokens: x.tokens)
    // 3. Class / distillation / register tokens in front, position embedding added
    //    (ViT), then CLIP's LayerNorm over the tokens.
    addPrefixTokensAndPositions(c, w, k, batch: b, tokens: x.tokens)
    if let ln = w.preNorm { k.layerNorm(ln, rows: rows, x: x.tokens, ldx: c.dim, y: x.tokens, ldy: c.dim) }
    tap?(.patchEmbedding, UnsafeBufferPointer(start: x.tokens, count: rows * c.dim))
    // 4. The encoder: N pre-norm blocks on the residual stream, of the architecture's
    //    kind: attention + MLP (ViT), or token mixing + channel MLP (Mixer, ResMLP).
    //    A hierarchical model's layers change the tokens and the width between its stages.
    for (i, block) in x.blocks.enumerated() {
        let observe = tap.map { t in { (layer: String, v: UnsafeBufferPointer<Float>) in t(.linearInput(block.prefix + layer), v) } }
        block.run(k, batch: b, tokens: x.tokens, observe: observe)
        tap?(.block(i), UnsafeBufferPointer(start: x.tokens, count: b * block.outputCount))
    }
    // 5. Head: final norm, pooling, pre-logits or projection, classifier(s).
    let final = finalNorm(c, w, k, batch: b, tokens: x.tokens, normed: x.normed)
    if c.finalNorm { tap?(.finalNorm, UnsafeBufferPointer(start: final, count: b * c.outputTokens * c.outputDim)) }
    poolTokens(c, w, k, batch: b, tokens: final, pooled: x.pooled, attentionPool: x.attentionPool,
               observe: tap.map { t in { layer, v in t(.linearInput(layer), v) } })
    tap?(.pooled, UnsafeBufferPointer(start: x.pooled, count: b * c.pooledDim))
    guard c.numClasses > 0 else {
        preLogits(c, w, k, batch: b, pooled: x.pooled, features: x.features)
        return
    }
    classify(c, w, k, batch: b, tokens: final, pooled: x.pooled, features: x.features, normalizedFeatures: x.normalizedFeatures,
             logits: x.logits, logitsDistillation: x.logitsDistillation)
    tap?(.logits, UnsafeBufferPointer(start: x.logits, count: b * c.numClasses))
    // 6. Probabilities: softmax over the classes (a sigmoid per class for SigLIP's labels).
    classProbabilities(k, c.probabilities, batch: b, classes: c.numClasses, logits: x.logits, probabilities: x.probabilities)
}
