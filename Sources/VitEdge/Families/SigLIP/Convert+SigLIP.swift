/// SigLIP (and fixed-resolution SigLIP 2) image towers: Hugging Face `SiglipVisionModel`
/// (and the vision half of a whole `SiglipModel`: `vision_model.*`; transformers 5.x's
/// own SiglipVisionModel drops that prefix). A ViT with no class token, a patch bias,
/// tanh GELU, `post_layernorm` over every token and the MAP head (`head.probe`,
/// `nn.MultiheadAttention`, `head.layernorm`, `head.mlp`) whose output is `pooler_output`.
/// timm's `vit_*_siglip_*` (`attn_pool`) goes through the timm mapping and
/// `putAttentionPool` here.
extension Converter {
    /// True for the tensors of a Hugging Face SigLIP vision tower: a CLIP-style patch
    /// embedding with no class embedding beside it.
    static func isHuggingFaceSigLIP(_ st: Safetensors) -> Bool {
        for root in ["vision_model.", ""] where st.entry(root + "embeddings.patch_embedding.weight") != nil {
            return st.entry(root + "embeddings.class_embedding") == nil
        }
        return false
    }

    static func mapHuggingFaceSigLIP(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions) throws -> ViTConfig {
        let root = src.has("vision_model.embeddings.patch_embedding.weight") ? "vision_model." : ""
        let vj = j?["vision_config"] ?? j
        let e = root + "embeddings."
        guard let pw = src.shape(e + "patch_embedding.weight"), pw.count == 4, pw[2] == pw[3] else {
            let found = src.shape(e + "patch_embedding.weight") ?? []
            throw bad(src, "\(e)patch_embedding.weight of shape [D, C, P, P] (a convolution)", "\(found)",
                      found.count == 2 ? "a SigLIP 2 NaFlex tower (Siglip2VisionModel, a Linear patch embedding) is not supported: use a fixed-resolution SigLIP 2 checkpoint (google/siglip2-*-patch16-224 ... -512, a SiglipModel)" : "")
        }
        let (dim, channels, patch) = (pw[0], pw[1], pw[2])
        let layer = root + "encoder.layers."
        let depth = src.count(prefix: layer, suffix: ".layer_norm1.weight")
        guard depth > 0 else { throw bad(src, "\(layer)0 ... \(layer)N", "no layers") }
        guard let fc1 = src.shape(layer + "0.mlp.fc1.weight"), fc1.count == 2 else { throw bad(src, "\(layer)0.mlp.fc1.weight", "none") }
        guard src.has(root + "head.probe") else {
            throw bad(src, "SigLIP's attention-pooling head (\(root)head.probe)", "none (vision_use_head false)",
                      "a SigLIP tower without its head has no pooled embedding: not supported yet")
        }
        let heads = o.heads ?? intValue(vj, ["num_attention_heads"])
        guard let heads, heads > 0, dim % heads == 0 else {
            throw bad(src, "num_attention_heads dividing \(dim)", heads.map(String.init) ?? "nothing", "pass --config config.json or --heads N")
        }
        src.note("heads", "\(heads)", o.heads != nil ? "--heads" : "config.json num_attention_heads")
        guard let pos = src.shape(e + "position_embedding.weight"), pos.count == 2 else {
            throw bad(src, "\(e)position_embedding.weight [patches, D]", "\(src.shape(e + "position_embedding.weight") ?? [])")
        }
        let configured = try imageSize(vj?["image_size"], key: "image_size", src).map { (size: $0, key: "image_size") }
        let (h, w) = try resolveImageSize(&src, o, configured, patches: pos[0], patch: patch)
        guard pos[0] == (h / patch) * (w / patch) else {
            throw VitError.badTensor(name: e + "position_embedding.weight", expected: "\((h / patch) * (w / patch)) rows for \(h)x\(w) images",
                                     found: "\(pos[0])", hint: "pass --image-size")
        }
        var c = ViTConfig(imageHeight: h, imageWidth: w, channels: channels, patchSize: patch, dim: dim, depth: depth,
                          heads: heads, mlpDim: fc1[0], numClasses: 0,
                          mean: [Float](repeating: 0.5, count: channels), std: [Float](repeating: 0.5, count: channels))
        c.architecture = .vit
        c.classToken = false
        try huggingFaceEpsAndGELU(&c, &src, vj, o, configClass: "SiglipVisionConfig", eps: 1e-6, act: "gelu_pytorch_tanh")
        c.pool = .attentionPool
        src.note("pool", "map", "transformers SigLIP (pooler_output: the attention-pooling head)")
        if channels == 3 {
            src.note("mean", "\(c.mean)", "SigLIP's (SiglipImageProcessor's image_mean)")
            src.note("std", "\(c.std)", "SigLIP's (SiglipImageProcessor's image_std)")
        }
        src.note("preprocess", c.preprocessing.summary,
                 "vit-edge default (pass --preprocessor preprocessor_config.json for SigLIP's resize)")
        c.positionResampling = .huggingface
        src.note("position resampling", "huggingface", "transformers SigLIP (interpolate_pos_encoding: bicubic to size)")

        try src.put("patch_embed.weight", from: e + "patch_embedding.weight", shape: [dim, channels * patch * patch])
        try src.put("patch_embed.bias", from: e + "patch_embedding.bias")
        try src.put("pos_embed", from: e + "position_embedding.weight")
        src.ignore(e + "position_ids", because: "a buffer of indices 0...N")
        try putHuggingFaceEncoderLayers(&src, layer, depth: depth)
        try src.put("norm.weight", from: root + "post_layernorm.weight")
        try src.put("norm.bias", from: root + "post_layernorm.bias")
        let hd = root + "head."
        try putAttentionPool(&src, c, probe: hd + "probe", projections: .stacked(hd + "attention.in_proj"),
                             out: hd + "attention.out_proj", norm: hd + "layernorm", mlp: (hd + "mlp.fc1", hd + "mlp.fc2"))
        for name in src.unused where name.hasPrefix("text_model.") || ["logit_scale", "logit_bias"].contains(name) {
            src.ignore(name, because: "SigLIP's text tower, which an image model does not need")
        }
        return c
    }

    /// Where an attention-pooling head keeps its query, key and value projections.
    enum PoolProjections {
        /// `nn.MultiheadAttention`'s `<prefix>_weight` [3D, D] and `<prefix>_bias`: q, k, v rows.
        case stacked(String)
        /// timm's `AttentionPoolLatent`: `q` [D, D] and `kv` [2D, D] (k rows, then v rows).
        case split(q: String, kv: String)
    }

    /// Maps an attention-pooling head to `attn_pool.*`, folding the constant probe into
    /// the keys (see AttentionPool.swift): `key_query` [heads, D] holds, per head,
    /// W_k,ₕᵀ (W_q,ₕ·probe + b_q,ₕ) / √(D/heads), computed in double precision.
    static func putAttentionPool(_ src: inout TensorSource, _ c: ViTConfig, probe: String, projections: PoolProjections,
                                 out: String, norm: String, mlp: (String, String)) throws {
        let d = c.dim, heads = c.heads, hd = d / heads
        let p = try src.take(probe)
        guard p.values.count == d else {
            throw VitError.badTensor(name: probe, expected: "one query of \(d) values ([1, 1, \(d)])", found: "shape \(p.shape)",
                                     hint: "several latent queries are not supported")
        }
        // [rows, D] weights and [rows] biases of q, k and v.
        var wq: [Float], bq: [Float], wk: [Float], bk: [Float], wv: [Float], bv: [Float]
        func rows(_ t: (shape: [Int], values: [Float]), _ name: String, _ n: Int, columns: Int?) throws -> [Float] {
            guard t.values.count == n * (columns ?? 1), columns == nil ? t.shape == [n] : t.shape == [n, columns!] else {
                throw VitError.badTensor(name: name, expected: "shape \(columns.map { [n, $0] } ?? [n])", found: "shape \(t.shape)",
                                         hint: "check --heads and the checkpoint")
            }
            return t.values
        }
        switch projections {
        case .stacked(let prefix):
            let w = try rows(try src.take(prefix + "_weight"), prefix + "_weight", 3 * d, columns: d)
            let b = try rows(try src.take(prefix + "_bias"), prefix + "_bias", 3 * d, columns: nil)
            (wq, wk, wv) = (Array(w[0..<(d * d)]), Array(w[(d * d)..<(2 * d * d)]), Array(w[(2 * d * d)...]))
            (bq, bk, bv) = (Array(b[0..<d]), Array(b[d..<(2 * d)]), Array(b[(2 * d)...]))
        case .split(let q, let kv):
            wq = try rows(try src.take(q + ".weight"), q + ".weight", d, columns: d)
            bq = try rows(try src.take(q + ".bias"), q + ".bias", d, columns: nil)
            let w = try rows(try src.take(kv + ".weight"), kv + ".weight", 2 * d, columns: d)
            let b = try rows(try src.take(kv + ".bias"), kv + ".bias", 2 * d, columns: nil)
            (wk, wv) = (Array(w[0..<(d * d)]), Array(w[(d * d)...]))
            (bk, bv) = (Array(b[0..<d]), Array(b[d...]))
        }
        _ = bk  // q·b_k is the same for every token: softmax ignores it
        var query = [Double](repeating: 0, count: d)
        for j in 0..<d {
            var s = Double(bq[j])
            for i in 0..<d { s += Double(wq[j * d + i]) * Double(p.values[i]) }
            query[j] = s
        }
        let scale = 1 / Double(hd).squareRoot()
        var keyQuery = [Float](repeating: 0, count: heads * d)
        for h in 0..<heads {
            for i in 0..<d {
                var s = 0.0
                for j in (h * hd)..<((h + 1) * hd) { s += query[j] * Double(wk[j * d + i]) }
                keyQuery[h * d + i] = Float(s * scale)
            }
        }
        let what = "\(probe) and the query and key projections, folded"
        src.out["attn_pool.key_query.weight"] = .init(shape: [heads, d], values: keyQuery, source: what)
        src.out["attn_pool.value.weight"] = .init(shape: [d, d], values: wv, source: "the value rows of the pooling attention")
        src.out["attn_pool.value.bias"] = .init(shape: [d], values: bv, source: "the value rows of the pooling attention")
        try src.putLinear("attn_pool.proj", from: out, scaledBy: nil)
        try src.put("attn_pool.norm.weight", from: norm + ".weight")
        try src.put("attn_pool.norm.bias", from: norm + ".bias")
        try src.putLinear("attn_pool.mlp.fc1", from: mlp.0, scaledBy: nil)
        try src.putLinear("attn_pool.mlp.fc2", from: mlp.1, scaledBy: nil)
    }
}
