/// timm `VisionTransformer` and DeiT (`VisionTransformerDistilled`) naming.
extension Converter {
    static func mapTimm(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions) throws -> ViTConfig {
        let args = j?["model_args"]
        let pcfg = j?["pretrained_cfg"]
        guard let pw = src.shape("patch_embed.proj.weight"), pw.count == 4 else {
            throw bad(src, "patch_embed.proj.weight of shape [D, C, P, P]", "\(src.shape("patch_embed.proj.weight") ?? [])")
        }
        let (dim, channels, patch) = (pw[0], pw[1], pw[2])
        guard pw[2] == pw[3] else { throw bad(src, "square patches", "\(pw[2])x\(pw[3])") }
        for unsupported in ["reg_token", "blocks.0.attn.q_norm.weight", "blocks.0.attn.q_bias", "attn_pool.latent"] where src.has(unsupported) {
            throw bad(src, "a plain ViT", "'\(unsupported)'", "register tokens, QK-norm, BEiT biases and attention pooling are not supported")
        }
        let depth = src.count(prefix: "blocks.", suffix: ".norm1.weight")
        guard depth > 0 else { throw bad(src, "blocks.0 ... blocks.N", "no blocks") }
        guard let qkv = src.shape("blocks.0.attn.qkv.weight"), qkv.count == 2, qkv[0] % 3 == 0 else {
            throw bad(src, "blocks.0.attn.qkv.weight [3·inner, D]", "\(src.shape("blocks.0.attn.qkv.weight") ?? [])")
        }
        let inner = qkv[0] / 3
        guard let fc1 = src.shape("blocks.0.mlp.fc1.weight"), fc1.count == 2 else {
            throw bad(src, "blocks.0.mlp.fc1.weight", "none", "gated (SwiGLU) MLPs are not supported")
        }
        let heads = o.heads ?? intValue(args, ["num_heads"]) ?? intValue(j, ["num_heads"])
            ?? timmHeads(j?["architecture"]?.string, dim: dim)
        guard let heads, heads > 0, inner % heads == 0 else {
            throw bad(src, "the number of heads dividing \(inner)", heads.map(String.init) ?? "nothing",
                      "pass --heads N or a timm config.json with model_args.num_heads")
        }
        let cls = src.has("cls_token"), dist = src.has("dist_token")
        let prefix = (cls ? 1 : 0) + (dist ? 1 : 0)
        guard let pos = src.shape("pos_embed") else { throw bad(src, "pos_embed", "none") }
        let rows = pos.count == 3 ? pos[1] : pos[0]
        // Image size: options, config, or the position embedding's grid.
        let configured = imageSize(pcfg?["input_size"]) ?? imageSize(args?["img_size"]) ?? imageSize(j?["img_size"])
        let guessPatches = squareRoot(rows - prefix) != nil ? rows - prefix : rows
        let (h, w) = try resolveImageSize(src, o, configured, patches: guessPatches, patch: patch)
        let n = (h / patch) * (w / patch)
        guard rows == n + prefix || rows == n else {
            throw VitError.badTensor(name: "pos_embed", expected: "\(n + prefix) or \(n) rows for \(h)x\(w) images",
                                     found: "\(rows) rows", hint: "pass the training image size with --image-size")
        }
        var c = ViTConfig(imageHeight: h, imageWidth: w, channels: channels, patchSize: patch, dim: dim, depth: depth,
                          heads: heads, headDim: inner / heads, mlpDim: fc1[0], numClasses: 0,
                          mean: floats(pcfg?["mean"]), std: floats(pcfg?["std"]))
        c.classToken = cls
        c.distillationToken = dist
        c.positionEmbeddingIncludesPrefix = rows == n + prefix
        c.qkvBias = src.has("blocks.0.attn.qkv.bias")
        c.attentionProjection = src.has("blocks.0.attn.proj.weight")
        c.layerScale = src.has("blocks.0.ls1.gamma")
        c.eps = 1e-6
        c.finalNorm = src.has("norm.weight")
        c.poolNorm = src.has("fc_norm.weight")
        let globalPool = j?["global_pool"]?.string ?? args?["global_pool"]?.string
        c.pool = o.pool ?? (globalPool == "avg" ? .meanPatches : globalPool == "token" ? .classToken
                            : (c.poolNorm || !cls) ? .meanPatches : .classToken)
        if o.pool == .meanAllTokens { c.pool = .meanAllTokens }
        if let pl = src.shape("pre_logits.fc.weight") { c.preLogitsDim = pl[0] }
        if let hw = src.shape("head.weight"), hw.count == 2, hw[0] > 0 { c.numClasses = hw[0] }
        c.labels = (j?["label_names"]?.array?.compactMap { $0.string }) ?? []
        if let ch = o.channels, ch != channels { throw bad(src, "--channels \(ch)", "\(channels) in the patch embedding") }

        // Tensors.
        try src.put("patch_embed.weight", from: "patch_embed.proj.weight", shape: [dim, channels * patch * patch])
        try src.put("patch_embed.bias", from: "patch_embed.proj.bias")
        if cls { try src.put("cls_token", from: "cls_token", shape: [dim]) }
        if dist { try src.put("dist_token", from: "dist_token", shape: [dim]) }
        try src.put("pos_embed", from: "pos_embed", shape: [rows, dim])
        for i in 0..<depth {
            let p = "blocks.\(i)."
            for name in ["norm1.weight", "norm1.bias", "attn.qkv.weight", "norm2.weight", "norm2.bias",
                         "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"] {
                try src.put(p + name, from: p + name)
            }
            if c.qkvBias { try src.put(p + "attn.qkv.bias", from: p + "attn.qkv.bias") }
            if c.attentionProjection {
                try src.put(p + "attn.proj.weight", from: p + "attn.proj.weight")
                try src.put(p + "attn.proj.bias", from: p + "attn.proj.bias")
            }
            if c.layerScale {
                try src.put(p + "ls1.gamma", from: p + "ls1.gamma")
                try src.put(p + "ls2.gamma", from: p + "ls2.gamma")
            }
        }
        for name in ["norm.weight", "norm.bias", "fc_norm.weight", "fc_norm.bias"] where src.has(name) {
            try src.put(name, from: name)
        }
        if c.preLogitsDim > 0 {
            try src.put("pre_logits.weight", from: "pre_logits.fc.weight")
            try src.put("pre_logits.bias", from: "pre_logits.fc.bias")
        }
        if c.numClasses > 0 {
            try src.put("head.weight", from: "head.weight")
            try src.put("head.bias", from: "head.bias")
            if dist {
                try src.put("head_dist.weight", from: "head_dist.weight")
                try src.put("head_dist.bias", from: "head_dist.bias")
            }
        } else {
            src.ignore("head.weight", because: "zero classes: features out")
            src.ignore("head.bias", because: "zero classes: features out")
        }
        return c
    }

    /// timm's standard widths → heads, when no config names them.
    static func timmHeads(_ architecture: String?, dim: Int) -> Int? {
        let byWidth = [192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16]
        guard let a = architecture, a.hasPrefix("vit_") || a.hasPrefix("deit") else { return nil }
        return byWidth[dim]
    }
}
