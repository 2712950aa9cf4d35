/// Tokens: class, distillation and register tokens in front of the patch tokens, then
/// the learned position embedding. `tokens` is [B·T, D] with T = prefix + N.
func addPrefixTokensAndPositions(_ c: ViTConfig, _ w: ModelWeights, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>) {
    if k.plans(tokens) { return }
    let d = c.dim
    for b in 0..<batch {
        let image = tokens + b * c.tokens * d
        var row = 0
        if let cls = w.classToken { (image + row * d).update(from: cls, count: d); row += 1 }
        if let dist = w.distillationToken { (image + row * d).update(from: dist, count: d); row += 1 }
        if let reg = w.registers { (image + row * d).update(from: reg, count: c.registerTokens * d); row += c.registerTokens }
        // Position rows cover every token, or only the patches (timm no_embed_class,
        // current vit-pytorch without a class token).
        let first = c.positionEmbeddingIncludesPrefix ? 0 : c.prefixTokens
        guard let positions = w.positions else { continue }
        let start = image + first * d
        for i in 0..<(c.positionRows * d) { start[i] += positions[i] }
    }
}
