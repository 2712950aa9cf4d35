/// CLIP image towers: Hugging Face `CLIPVisionModel(WithProjection)` (and the vision half
/// of a whole `CLIPModel`: `vision_model.*`, `visual_projection`), and OpenAI's own names
/// as open_clip loads them (`visual.conv1`, `visual.class_embedding`,
/// `visual.transformer.resblocks.N.attn.in_proj_weight`, `visual.ln_post`, `visual.proj`).
/// Both are a pre-norm ViT (`ln_pre` after the positions), patch embedding without bias,
/// quick GELU (OpenAI) and a projection into the joint space after the pooled class token.
extension Converter {
    /// CLIP's normalisation (CLIPImageProcessor's and open_clip's OPENAI_DATASET_MEAN/STD).
    static let clipMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    static let clipStd: [Float] = [0.26862954, 0.26130258, 0.27577711]

    /// True for the tensors of a Hugging Face CLIP vision tower.
    static func isHuggingFaceCLIP(_ st: Safetensors) -> Bool {
        st.entries.contains { $0.name.hasSuffix("embeddings.patch_embedding.weight") && $0.name.contains("vision_model") }
            || st.entry("embeddings.class_embedding") != nil
    }

    /// True for OpenAI's / open_clip's visual tower (`visual.conv1`, or the tower alone).
    static func isOpenAICLIP(_ st: Safetensors) -> Bool {
        (st.entry("visual.conv1.weight") != nil && st.entry("visual.class_embedding") != nil)
            || (st.entry("conv1.weight") != nil && st.entry("class_embedding") != nil)
    }

    static func mapHuggingFaceCLIP(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions) throws -> ViTConfig {
        let root = src.has("vision_model.embeddings.class_embedding") ? "vision_model." : ""
        // A whole CLIPModel's config.json holds the tower's settings under vision_config.
        let vj = j?["vision_config"] ?? j
        let e = root + "embeddings."
        guard let pw = src.shape(e + "patch_embedding.weight"), pw.count == 4, pw[2] == pw[3] else {
            throw bad(src, "\(e)patch_embedding.weight of shape [D, C, P, P]", "\(src.shape(e + "patch_embedding.weight") ?? [])")
        }
        let (dim, channels, patch) = (pw[0], pw[1], pw[2])
        let layer = root + "encoder.layers."
        let depth = src.count(prefix: layer, suffix: ".layer_norm1.weight")
        guard depth > 0 else { throw bad(src, "\(layer)0 ... \(layer)N", "no layers") }
        guard let fc1 = src.shape(layer + "0.mlp.fc1.weight"), fc1.count == 2 else { throw bad(src, "\(layer)0.mlp.fc1.weight", "none") }
        let heads = o.heads ?? intValue(vj, ["num_attention_heads"])
        guard let heads, heads > 0, dim % heads == 0 else {
            throw bad(src, "num_attention_heads dividing \(dim)", heads.map(String.init) ?? "nothing", "pass --config config.json or --heads N")
        }
        src.note("heads", "\(heads)", o.heads != nil ? "--heads" : "config.json num_attention_heads")
        let (h, w, rows) = try clipImageSize(&src, o, positions: e + "position_embedding.weight", config: vj?["image_size"], key: "image_size", patch: patch)
        var c = ViTConfig(imageHeight: h, imageWidth: w, channels: channels, patchSize: patch, dim: dim, depth: depth,
                          heads: heads, mlpDim: fc1[0], numClasses: 0, mean: channels == 3 ? clipMean : nil, std: channels == 3 ? clipStd : nil)
        c.architecture = .vit
        c.preNorm = true
        try huggingFaceEpsAndGELU(&c, &src, vj, o, configClass: "CLIPVisionConfig", eps: 1e-5, act: "quick_gelu")
        c.pool = .classToken
        src.note("pool", "cls", "transformers CLIP (pooler_output: the class token after post_layernorm)")
        noteCLIPNormalization(&src, c)
        c.positionResampling = .huggingface
        src.note("position resampling", "huggingface", "transformers CLIP (interpolate_pos_encoding: bicubic to size)")
        if let p = src.shape("visual_projection.weight"), p.count == 2, p[1] == dim {
            c.projectionDim = p[0]
            src.note("projection", "\(p[0])", "checkpoint: visual_projection (image_embeds)")
        }

        try src.put("patch_embed.weight", from: e + "patch_embedding.weight", shape: [dim, channels * patch * patch])
        src.out["patch_embed.bias"] = .init(shape: [dim], values: [Float](repeating: 0, count: dim), source: "CLIP's patch embedding has no bias")
        try src.put("cls_token", from: e + "class_embedding", shape: [dim])
        try src.put("pos_embed", from: e + "position_embedding.weight", shape: [rows, dim])
        src.ignore(e + "position_ids", because: "a buffer of indices 0...N")
        try src.put("norm_pre.weight", from: root + "pre_layrnorm.weight")
        try src.put("norm_pre.bias", from: root + "pre_layrnorm.bias")
        try putHuggingFaceEncoderLayers(&src, layer, depth: depth)
        // post_layernorm normalises the pooled class token; the final norm over every
        // token gives the class token the same values.
        try src.put("norm.weight", from: root + "post_layernorm.weight")
        try src.put("norm.bias", from: root + "post_layernorm.bias")
        if c.projectionDim > 0 { try src.put("proj.weight", from: "visual_projection.weight") }
        ignoreTextTower(&src, prefixes: ["text_model."], names: ["text_projection.weight", "logit_scale"])
        return c
    }

    static func mapOpenAICLIP(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions) throws -> ViTConfig {
        let v = src.has("visual.conv1.weight") ? "visual." : ""
        // open_clip's model config (ViT-B-32.json): {"embed_dim", "quick_gelu", "vision_cfg": {...}}.
        let vj = j?["vision_cfg"]
        guard let pw = src.shape(v + "conv1.weight"), pw.count == 4, pw[2] == pw[3] else {
            throw bad(src, "\(v)conv1.weight of shape [D, C, P, P]", "\(src.shape(v + "conv1.weight") ?? [])")
        }
        let (dim, channels, patch) = (pw[0], pw[1], pw[2])
        let layer = v + "transformer.resblocks."
        let depth = src.count(prefix: layer, suffix: ".ln_1.weight")
        guard depth > 0 else { throw bad(src, "\(layer)0 ... \(layer)N", "no blocks") }
        for unsupported in ["attn_pool.query", "\(v)attn_pool.query", "\(layer)0.ls_1.gamma", "\(layer)0.attn.ln_inner.weight"] where src.has(unsupported) {
            throw bad(src, "OpenAI's CLIP tower", "'\(unsupported)'", "open_clip's attentional pooling, layer scale and scaled attention are not supported")
        }
        guard let fc = src.shape(layer + "0.mlp.c_fc.weight"), fc.count == 2 else { throw bad(src, "\(layer)0.mlp.c_fc.weight", "none") }
        let heads: Int
        let headWidth = vj?["head_width"]?.int ?? 64
        if let h = o.heads {
            heads = h
            src.note("heads", "\(h)", "--heads")
        } else if dim % headWidth == 0 {
            heads = dim / headWidth
            src.note("heads", "\(heads)", vj?["head_width"] != nil ? "config.json vision_cfg.head_width" : "OpenAI CLIP / open_clip default (head width 64)")
        } else {
            throw bad(src, "the number of attention heads", "width \(dim), not a multiple of open_clip's head width \(headWidth)", "pass --heads N")
        }
        guard heads > 0, dim % heads == 0 else { throw bad(src, "a number of heads dividing \(dim)", "\(heads)", "pass --heads N") }
        let (h, w, rows) = try clipImageSize(&src, o, positions: v + "positional_embedding", config: vj?["image_size"], key: "vision_cfg.image_size", patch: patch)
        var c = ViTConfig(imageHeight: h, imageWidth: w, channels: channels, patchSize: patch, dim: dim, depth: depth,
                          heads: heads, mlpDim: fc[0], numClasses: 0, mean: channels == 3 ? clipMean : nil, std: channels == 3 ? clipStd : nil)
        c.preNorm = true
        c.eps = 1e-5
        src.note("eps", "1e-05", "OpenAI CLIP / open_clip (nn.LayerNorm)")
        // OpenAI trained with QuickGELU; open_clip's own models say quick_gelu in their config.
        if let q = j?["quick_gelu"]?.bool {
            c.gelu = q ? .quick : .erf
            src.note("gelu", c.gelu.rawValue, "config.json quick_gelu")
        } else if vj != nil {
            // An open_clip model config without quick_gelu: nn.GELU (ViT-B-32.json; the
            // -quickgelu configs say true).
            c.gelu = .erf
            src.note("gelu", "exact", "open_clip model config (no quick_gelu: nn.GELU)")
        } else {
            c.gelu = .quick
            src.note("gelu", "quick", "OpenAI CLIP (QuickGELU; open_clip models trained with nn.GELU: pass --gelu exact)")
        }
        c.pool = .classToken
        src.note("pool", "cls", "OpenAI CLIP (the class token after ln_post)")
        noteCLIPNormalization(&src, c)
        c.positionResampling = .timm
        src.note("position resampling", "timm", "open_clip (resize_pos_embed: bicubic, antialiased)")
        if let p = src.shape(v + "proj"), p.count == 2, p[0] == dim {
            c.projectionDim = p[1]
            src.note("projection", "\(p[1])", "checkpoint: \(v)proj")
        }

        try src.put("patch_embed.weight", from: v + "conv1.weight", shape: [dim, channels * patch * patch])
        src.out["patch_embed.bias"] = .init(shape: [dim], values: [Float](repeating: 0, count: dim), source: "CLIP's conv1 has no bias")
        try src.put("cls_token", from: v + "class_embedding", shape: [dim])
        try src.put("pos_embed", from: v + "positional_embedding", shape: [rows, dim])
        try src.put("norm_pre.weight", from: v + "ln_pre.weight")
        try src.put("norm_pre.bias", from: v + "ln_pre.bias")
        for i in 0..<depth {
            let p = "\(layer)\(i).", b = "blocks.\(i)."
            try src.put(b + "attn.qkv.weight", from: p + "attn.in_proj_weight")
            try src.put(b + "attn.qkv.bias", from: p + "attn.in_proj_bias")
            try putCLIPBlock(&src, p, b, norms: ("ln_1", "ln_2"), out: "attn.out_proj", mlp: ("mlp.c_fc", "mlp.c_proj"))
        }
        try src.put("norm.weight", from: v + "ln_post.weight")
        try src.put("norm.bias", from: v + "ln_post.bias")
        if c.projectionDim > 0 {
            // x @ proj with proj [D, P]: the Linear weight is its transpose [P, D].
            let (d, pd) = (dim, c.projectionDim)
            try src.putTransformed("proj.weight", from: v + "proj", shape: [pd, d]) { m in
                var t = [Float](repeating: 0, count: m.count)
                for i in 0..<d { for k in 0..<pd { t[k * d + i] = m[i * pd + k] } }
                return t
            }
        }
        if !v.isEmpty {
            // A whole CLIP checkpoint: everything outside visual. is the text tower.
            for name in src.unused where !name.hasPrefix("visual.") {
                src.ignore(name, because: "CLIP's text tower, which an image model does not need")
            }
        }
        return c
    }

    /// The image size from the options, the config or the position grid (one row for the
    /// class token), and the grid checked against it: (height, width, position rows).
    static func clipImageSize(_ src: inout TensorSource, _ o: ConvertOptions, positions name: String, config: JSON?, key: String,
                              patch: Int) throws -> (Int, Int, Int) {
        guard let pos = src.shape(name) else { throw bad(src, name, "none") }
        let rows = pos.count == 3 ? pos[1] : pos[0]
        let configured = try imageSize(config, key: key, src).map { (size: $0, key: key) }
        let (h, w) = try resolveImageSize(&src, o, configured, patches: rows - 1, patch: patch)
        guard rows == (h / patch) * (w / patch) + 1 else {
            throw VitError.badTensor(name: name, expected: "\((h / patch) * (w / patch) + 1) rows for \(h)x\(w) images",
                                     found: "\(rows)", hint: "pass --image-size")
        }
        return (h, w, rows)
    }

    /// `layer_norm_eps` and `hidden_act` of a transformers vision config (CLIP's, SigLIP's),
    /// or the config class's defaults, each noted with where it came from.
    static func huggingFaceEpsAndGELU(_ c: inout ViTConfig, _ src: inout TensorSource, _ vj: JSON?, _ o: ConvertOptions,
                                      configClass: String, eps: Float, act defaultAct: String) throws {
        c.eps = Float(vj?["layer_norm_eps"]?.double ?? Double(eps))
        src.note("eps", "\(c.eps)", vj?["layer_norm_eps"] != nil ? "config.json layer_norm_eps" : "transformers default (\(configClass).layer_norm_eps)")
        let act = vj?["hidden_act"]?.string ?? defaultAct
        if let g = gelu(fromHiddenAct: act) {
            c.gelu = g
            src.note("gelu", g.rawValue, vj?["hidden_act"] != nil ? "config.json hidden_act" : "transformers default (\(configClass).hidden_act '\(defaultAct)')")
        } else if o.gelu == nil {
            throw bad(src, "hidden_act quick_gelu or a GELU", act)
        }
    }

    /// The encoder layers of a transformers CLIP or SigLIP tower (`<layer>N.self_attn.q_proj`,
    /// `layer_norm1`, `mlp.fc1`, ...): q, k and v stacked into qkv, the rest as in `putCLIPBlock`.
    static func putHuggingFaceEncoderLayers(_ src: inout TensorSource, _ layer: String, depth: Int) throws {
        for i in 0..<depth {
            let p = "\(layer)\(i).", b = "blocks.\(i)."
            for part in ["weight", "bias"] {
                try src.putStacked(b + "attn.qkv." + part, from: ["q", "k", "v"].map { p + "self_attn.\($0)_proj." + part })
            }
            try putCLIPBlock(&src, p, b, norms: ("layer_norm1", "layer_norm2"), out: "self_attn.out_proj", mlp: ("mlp.fc1", "mlp.fc2"))
        }
    }

    /// One residual block's norms, output projection and MLP, whose names alone differ
    /// between Hugging Face and OpenAI (the caller maps qkv, whose layout differs too).
    static func putCLIPBlock(_ src: inout TensorSource, _ p: String, _ b: String, norms: (String, String), out: String,
                             mlp: (String, String)) throws {
        for part in ["weight", "bias"] {
            try src.put(b + "norm1." + part, from: p + norms.0 + "." + part)
            try src.put(b + "norm2." + part, from: p + norms.1 + "." + part)
        }
        try src.putLinear(b + "attn.proj", from: p + out, scaledBy: nil)
        try src.putLinear(b + "mlp.fc1", from: p + mlp.0, scaledBy: nil)
        try src.putLinear(b + "mlp.fc2", from: p + mlp.1, scaledBy: nil)
    }

    static func noteCLIPNormalization(_ src: inout TensorSource, _ c: ViTConfig) {
        if c.channels == 3 {
            src.note("mean", "\(c.mean)", "CLIP's (OPENAI_DATASET_MEAN; CLIPImageProcessor's image_mean)")
            src.note("std", "\(c.std)", "CLIP's (OPENAI_DATASET_STD; CLIPImageProcessor's image_std)")
        }
        src.note("preprocess", c.preprocessing.summary,
                 "vit-edge default (pass --preprocessor preprocessor_config.json, or --crop-pct 1 --interpolation bicubic, for CLIP's resize and crop)")
    }

    /// The text tower of a whole CLIP checkpoint, set aside with the reason.
    static func ignoreTextTower(_ src: inout TensorSource, prefixes: [String], names: [String]) {
        for name in src.unused where prefixes.contains(where: { name.hasPrefix($0) }) || names.contains(name) {
            src.ignore(name, because: "CLIP's text tower, which an image model does not need")
        }
    }
}
