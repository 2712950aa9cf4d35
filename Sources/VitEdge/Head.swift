#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Head: final LayerNorm, pooling, optional pre-logits or projection, classifier.

/// The final norm (LayerNorm, or ResMLP's affine) over every token; returns the tokens the pooling reads.
func finalNorm(_ c: ViTConfig, _ w: ModelWeights, _ k: Kernels, batch: Int,
               tokens: UnsafeMutablePointer<Float>, normed: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
    guard let norm = w.norm else { return tokens }
    norm.apply(k, rows: batch * c.outputTokens, x: tokens, ldx: c.outputDim, y: normed, ldy: c.outputDim)
    return normed
}

/// Pooling to one vector per image [B, D]: the class token, the mean of the patch
/// tokens (timm), the mean of all tokens (vit-pytorch), both class token and mean
/// ([B, 2·D], DINOv2's classifier), or attention pooling (SigLIP, Families/SigLIP/AttentionPool.swift);
/// then the pooled norm.
func poolTokens(_ c: ViTConfig, _ w: ModelWeights, _ k: Kernels, batch: Int,
                tokens: UnsafePointer<Float>, pooled: UnsafeMutablePointer<Float>, attentionPool a: AttentionPoolActivations?,
                observe: ((String, UnsafeBufferPointer<Float>) -> Void)? = nil) {
    let d = c.outputDim
    if c.pool == .attentionPool, let pool = w.attentionPool, let a {
        attentionPool(c, pool, k, batch: batch, tokens: tokens, a: a, pooled: pooled, observe: observe)
    } else {
        poolByToken(c, k, batch: batch, tokens: tokens, pooled: pooled)
    }
    if let ln = w.poolNorm {
        k.layerNorm(ln, rows: batch, x: pooled, ldx: d, y: pooled, ldy: d)
    }
}

/// The class token or a mean of tokens, per image.
private func poolByToken(_ c: ViTConfig, _ k: Kernels, batch: Int, tokens: UnsafePointer<Float>, pooled: UnsafeMutablePointer<Float>) {
    if k.plans(tokens, pooled) { return }
    let d = c.outputDim, t = c.outputTokens
    for b in 0..<batch {
        let image = tokens + b * t * d
        let out = pooled + b * c.pooledDim
        switch c.pool {
        case .classToken:
            out.update(from: image, count: d)
        case .classAndMeanPatches:
            // [class token, mean of the patch tokens] (registers excluded), as
            // Dinov2ForImageClassification concatenates them.
            out.update(from: image, count: d)
            let mean = out + d
            for i in 0..<d { mean[i] = 0 }
            for r in c.prefixTokens..<t {
                for i in 0..<d { mean[i] += image[r * d + i] }
            }
            for i in 0..<d { mean[i] /= Float(t - c.prefixTokens) }
        case .meanPatches, .meanAllTokens:
            let first = c.pool == .meanPatches ? c.prefixTokens : 0
            let n = t - first
            for i in 0..<d { out[i] = 0 }
            for r in first..<t {
                for i in 0..<d { out[i] += image[r * d + i] }
            }
            for i in 0..<d { out[i] /= Float(n) }
        case .attentionPool:
            preconditionFailure("attention pooling has its own weights (attentionPool)")
        }
    }
}

/// Pre-logits: Linear + tanh into `features` [B, F] when the model has it; or CLIP's
/// projection into the joint image-text space (Linear, no bias).
func preLogits(_ c: ViTConfig, _ w: ModelWeights, _ k: Kernels, batch: Int,
               pooled: UnsafePointer<Float>, features: UnsafeMutablePointer<Float>) {
    if let proj = w.projection {
        k.linear(proj, rows: batch, x: pooled, ldx: c.pooledDim, y: features, ldy: c.projectionDim)
        return
    }
    guard let pre = w.preLogits else { return }
    k.linear(pre, rows: batch, x: pooled, ldx: c.pooledDim, y: features, ldy: c.preLogitsDim)
    tanhInPlace(k, features, count: batch * c.preLogitsDim)
}

/// x = tanh(x), element by element.
private func tanhInPlace(_ k: Kernels, _ x: UnsafeMutablePointer<Float>, count: Int) {
    if k.plans(x) { return }
    for i in 0..<count { x[i] = tanhf(x[i]) }
}

/// Classifier: logits [B, classes]. For DeiT, the class-token head and the
/// distillation-token head are averaged, as DeiT does at inference.
func classify(_ c: ViTConfig, _ w: ModelWeights, _ k: Kernels, batch: Int,
              tokens: UnsafePointer<Float>, pooled: UnsafePointer<Float>, features: UnsafeMutablePointer<Float>,
              normalizedFeatures: UnsafeMutablePointer<Float>,
              logits: UnsafeMutablePointer<Float>, logitsDistillation: UnsafeMutablePointer<Float>) {
    guard let head = w.head else { return }
    preLogits(c, w, k, batch: batch, pooled: pooled, features: features)
    var f = c.hasFeatureLayer ? UnsafePointer(features) : pooled
    if c.normalizeFeatures {
        // A zero-shot head: x / ‖x‖, as CLIP's logits_per_image (the scale is in the head).
        l2Normalize(k, rows: batch, n: c.featureDim, x: f, y: normalizedFeatures)
        f = UnsafePointer(normalizedFeatures)
    }
    k.linear(head, rows: batch, x: f, ldx: c.featureDim, y: logits, ldy: c.numClasses)
    if let dist = w.headDistillation {
        // DeiT reads the distillation token's final state (row 1 of each image)
        // through its own head: a strided view, no copy.
        k.linear(dist, rows: batch, x: tokens + c.dim, ldx: c.tokens * c.dim, y: logitsDistillation, ldy: c.numClasses)
        average(k, logits, logitsDistillation, count: batch * c.numClasses)
    }
}

/// y[r] = x[r] / max(‖x[r]‖, 1e-12) for each of `rows` rows of n.
private func l2Normalize(_ k: Kernels, rows: Int, n: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    if k.plans(x, y) { return }
    for b in 0..<rows {
        var s: Float = 0
        for i in 0..<n { s += x[b * n + i] * x[b * n + i] }
        let inv = 1 / max(s.squareRoot(), 1e-12)
        for i in 0..<n { y[b * n + i] = x[b * n + i] * inv }
    }
}

/// x = (x + y) / 2, element by element (DeiT's two heads).
private func average(_ k: Kernels, _ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
    if k.plans(x, y) { return }
    for i in 0..<count { x[i] = 0.5 * (x[i] + y[i]) }
}
