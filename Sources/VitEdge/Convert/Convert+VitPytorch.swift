/// lucidrains vit-pytorch `ViT`: the current layout (class token only for `cls`
/// pooling, 2-D `pos_embedding`, patch LayerNorms, `transformer.norm`) and the older
/// layout of the tutorials (PreNorm wrappers `.fn.`, 3-D `pos_embedding`, class
/// token always present, `mlp_head` = LayerNorm + Linear); and `DeepViT`, the current
/// layout with re-attention (`reattn_weights`, `reattn_norm`).
extension Converter {
    static func mapVitPytorch(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions) throws -> ViTConfig {
        // Patch embedding: a Sequential whose 2-D weight is the Linear and whose
        // 1-D weights before/after it are LayerNorms.
        var linearIndex: Int? = nil
        var norms: [Int] = []
        for i in 0..<8 {
            guard let s = src.shape("to_patch_embedding.\(i).weight") else { continue }
            if s.count == 2 { linearIndex = i } else if s.count == 1 { norms.append(i) }
        }
        guard let li = linearIndex, let lw = src.shape("to_patch_embedding.\(li).weight") else {
            throw bad(src, "to_patch_embedding.N.weight, a Linear [dim, patch_dim]", "none")
        }
        let (dim, patchDim) = (lw[0], lw[1])
        let normBefore = norms.contains { $0 < li }, normAfter = norms.contains { $0 > li }
        let channels = o.channels ?? intValue(j, ["channels"])
            ?? (patchDim % 3 == 0 && squareRoot(patchDim / 3) != nil ? 3 : 1)
        src.note("channels", "\(channels)", o.channels != nil ? "--channels" : intValue(j, ["channels"]) != nil ? "config channels"
                 : "checkpoint: patch_dim \(patchDim) = \(channels) × P² (only one way)")
        guard channels == 1 || channels == 3 else {
            throw bad(src, "1 or 3 channels", "\(channels)", "pass --channels 1 or 3")
        }
        guard patchDim % channels == 0, let patch = squareRoot(patchDim / channels) else {
            throw bad(src, "patch_dim = channels × P × P", "\(patchDim) with \(channels) channels", "pass --channels")
        }
        let old = src.has("transformer.layers.0.0.fn.to_qkv.weight")
        let attn = old ? ".0.fn." : ".0."
        let depth = src.count(prefix: "transformer.layers.", suffix: ".0.norm.weight")
        guard depth > 0, let qkv = src.shape("transformer.layers.0\(attn)to_qkv.weight") else {
            throw bad(src, "transformer.layers.0.0.to_qkv.weight", "none")
        }
        let inner = qkv[0] / 3
        // Heads: --heads, the config's `heads`, or its `dim_head` (inner = heads × dim_head).
        var heads: Int? = nil
        if let h = o.heads {
            heads = h
            src.note("heads", "\(h)", "--heads")
        } else if let h = intValue(j, ["heads"]) {
            heads = h
            src.note("heads", "\(h)", "config heads")
        } else if let d = intValue(j, ["dim_head"]), d > 0, inner % d == 0 {
            heads = inner / d
            src.note("heads", "\(inner / d)", "config dim_head (\(inner) / \(d))")
        }
        guard let heads, heads > 0, inner % heads == 0 else {
            throw bad(src, "the number of heads dividing \(inner)", heads.map(String.init) ?? "no config naming them",
                      "pass --heads N, or --config with vit-pytorch's keyword arguments (heads, dim_head)")
        }
        let ffNorm = old ? "transformer.layers.0.1.norm.weight" : "transformer.layers.0.1.net.0.weight"
        let fc1Name = old ? ".1.fn.net.0" : ".1.net.1"
        guard src.has(ffNorm), let fc1 = src.shape("transformer.layers.0\(fc1Name).weight") else {
            throw bad(src, "a FeedForward at transformer.layers.0.1", "none")
        }
        let clsCount = src.shape("cls_token").map { $0.reduce(1, *) / dim } ?? 0
        guard clsCount <= 1 else { throw bad(src, "at most one class token", "\(clsCount)") }
        guard let pos = src.shape("pos_embedding") else { throw bad(src, "pos_embedding", "none") }
        let rows = pos.count == 3 ? pos[1] : pos[0]
        let configured = try imageSize(j?["image_size"], key: "image_size", src).map { (size: $0, key: "image_size") }
        let (h, w) = try resolveImageSize(&src, o, configured, patches: rows - clsCount, patch: patch)
        let n = (h / patch) * (w / patch)
        guard rows == n + clsCount else {
            throw VitError.badTensor(name: "pos_embedding", expected: "\(n + clsCount) rows for \(h)x\(w) images",
                                     found: "\(rows)", hint: "pass --image-size")
        }
        let hasHead = src.has("mlp_head.weight") || src.has("mlp_head.1.weight")
        let headShape = src.shape("mlp_head.weight") ?? src.shape("mlp_head.1.weight")
        var c = ViTConfig(imageHeight: h, imageWidth: w, channels: channels, patchSize: patch, dim: dim, depth: depth,
                          heads: heads, headDim: inner / heads, mlpDim: fc1[0],
                          numClasses: hasHead ? (headShape?[0] ?? 0) : 0)
        c.patchEmbedding = .linear
        // DeepViT: the same layout with re-attention (Families/DeepViT/).
        if src.has("transformer.layers.0\(attn)reattn_weights") {
            c.architecture = .deepvit
            src.note("architecture", "deepvit", "checkpoint: reattn_weights (vit-pytorch DeepViT)")
        }
        c.patchNormBefore = normBefore
        c.patchNormAfter = normAfter
        c.classToken = clsCount == 1
        c.qkvBias = src.has("transformer.layers.0\(attn)to_qkv.bias")
        c.attentionProjection = src.has("transformer.layers.0\(attn)to_out.0.weight")
        c.eps = 1e-5
        src.note("eps", "1e-05", "vit-pytorch (nn.LayerNorm's default)")
        src.note("gelu", "exact", "vit-pytorch (nn.GELU)")
        c.finalNorm = src.has("transformer.norm.weight")
        c.poolNorm = src.has("mlp_head.0.weight")
        // vit-pytorch's 'mean' averages every token, the class token included.
        let pool: ViTConfig.Pooling
        if let p = o.pool {
            pool = p
            src.note("pool", p.rawValue, "--pool")
        } else if let p = j?["pool"]?.string {
            guard p == "mean" || p == "cls" else { throw bad(src, "pool 'cls' or 'mean'", "'\(p)'") }
            pool = p == "mean" ? .meanAllTokens : .classToken
            src.note("pool", pool.rawValue, "config pool '\(p)'")
        } else if !c.classToken {
            pool = .meanAllTokens
            src.note("pool", "mean_all", "checkpoint: no class token (vit-pytorch's 'mean')")
        } else {
            pool = .classToken
            src.note("pool", "cls", old ? "vit-pytorch default (pool 'cls'; the older layout keeps a class token either way: pass --pool mean_all for 'mean')"
                                         : "checkpoint: a class token (vit-pytorch keeps one only for 'cls')")
        }
        c.pool = pool == .meanPatches && c.classToken ? .meanAllTokens : pool
        if !c.classToken && c.pool == .meanPatches { c.pool = .meanAllTokens }
        src.note("mean", "\(c.mean)", "default 0.5 (vit-pytorch has no preprocessing): pass --mean as trained")
        src.note("preprocess", c.preprocessing.summary, "vit-edge default (vit-pytorch has no preprocessing: --crop-pct, --interpolation)")
        src.note("position resampling", c.positionResampling.rawValue, "vit-edge default (vit-pytorch does not resample: --position-resampling)")
        src.note("std", "\(c.std)", "default 0.5 (vit-pytorch has no preprocessing): pass --std as trained")

        // The patch Linear sees (p1 p2 c); the engine extracts (c p1 p2): permute
        // the columns (and the patch LayerNorm) once, here.
        func permuted(_ v: [Float], rows: Int) -> [Float] {
            var out = v
            for r in 0..<rows {
                for ch in 0..<channels {
                    for y in 0..<patch {
                        for x in 0..<patch {
                            out[r * patchDim + ch * patch * patch + y * patch + x] = v[r * patchDim + (y * patch + x) * channels + ch]
                        }
                    }
                }
            }
            return out
        }
        if normBefore, let i = norms.first(where: { $0 < li }) {
            for (suffix, canon) in [("weight", "patch_embed.norm_pre.weight"), ("bias", "patch_embed.norm_pre.bias")] {
                let t = try src.take("to_patch_embedding.\(i).\(suffix)")
                src.out[canon] = TensorSource.Out(shape: [patchDim], values: permuted(t.values, rows: 1), source: "to_patch_embedding.\(i).\(suffix)")
            }
        }
        let pwt = try src.take("to_patch_embedding.\(li).weight")
        src.out["patch_embed.weight"] = TensorSource.Out(shape: [dim, patchDim], values: permuted(pwt.values, rows: dim),
                                                        source: "to_patch_embedding.\(li).weight")
        try src.put("patch_embed.bias", from: "to_patch_embedding.\(li).bias")
        if normAfter, let i = norms.first(where: { $0 > li }) {
            try src.put("patch_embed.norm_post.weight", from: "to_patch_embedding.\(i).weight")
            try src.put("patch_embed.norm_post.bias", from: "to_patch_embedding.\(i).bias")
        }
        if c.classToken { try src.put("cls_token", from: "cls_token", shape: [dim]) } else { src.ignore("cls_token", because: "zero rows: no class token") }
        try src.put("pos_embed", from: "pos_embedding", shape: [rows, dim])
        for i in 0..<depth {
            let p = "transformer.layers.\(i)", b = "blocks.\(i)."
            try putVitPytorchLayer(&src, from: p, to: b, old: old, qkvBias: c.qkvBias, projection: c.attentionProjection)
            if c.architecture == .deepvit {
                try src.put(b + "attn.reattn.weight", from: p + attn + "reattn_weights", shape: [heads, heads])
                try src.put(b + "attn.reattn_norm.weight", from: p + attn + "reattn_norm.1.weight", shape: [heads])
                try src.put(b + "attn.reattn_norm.bias", from: p + attn + "reattn_norm.1.bias", shape: [heads])
            }
        }
        if c.finalNorm {
            try src.put("norm.weight", from: "transformer.norm.weight")
            try src.put("norm.bias", from: "transformer.norm.bias")
        }
        if c.poolNorm {
            try src.put("fc_norm.weight", from: "mlp_head.0.weight")
            try src.put("fc_norm.bias", from: "mlp_head.0.bias")
        }
        if c.numClasses > 0 {
            let hn = src.has("mlp_head.weight") ? "mlp_head" : "mlp_head.1"
            try src.put("head.weight", from: hn + ".weight")
            try src.put("head.bias", from: hn + ".bias")
        }
        return c
    }

    /// One layer of a vit-pytorch `Transformer` (`<from>.0` attention, `<from>.1` feed-forward;
    /// `old`: the tutorials' PreNorm `.fn.` layout) under the block names `<to>norm1.weight`, ...
    /// ViT, DeepViT and T2T-ViT (its stem's layers too) all map their layers through here.
    static func putVitPytorchLayer(_ src: inout TensorSource, from p: String, to b: String, old: Bool = false,
                                   qkvBias: Bool, projection: Bool) throws {
        let attn = old ? ".0.fn." : ".0.", ffn = old ? ".1.norm" : ".1.net.0"
        let fc1 = old ? ".1.fn.net.0" : ".1.net.1", fc2 = old ? ".1.fn.net.3" : ".1.net.4"
        try src.put(b + "norm1.weight", from: p + ".0.norm.weight")
        try src.put(b + "norm1.bias", from: p + ".0.norm.bias")
        try src.put(b + "attn.qkv.weight", from: p + attn + "to_qkv.weight")
        if qkvBias { try src.put(b + "attn.qkv.bias", from: p + attn + "to_qkv.bias") }
        if projection {
            try src.put(b + "attn.proj.weight", from: p + attn + "to_out.0.weight")
            try src.put(b + "attn.proj.bias", from: p + attn + "to_out.0.bias")
        }
        try src.put(b + "norm2.weight", from: p + ffn + ".weight")
        try src.put(b + "norm2.bias", from: p + ffn + ".bias")
        try src.put(b + "mlp.fc1.weight", from: p + fc1 + ".weight")
        try src.put(b + "mlp.fc1.bias", from: p + fc1 + ".bias")
        try src.put(b + "mlp.fc2.weight", from: p + fc2 + ".weight")
        try src.put(b + "mlp.fc2.bias", from: p + fc2 + ".bias")
    }
}
