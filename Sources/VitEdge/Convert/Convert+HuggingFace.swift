/// Hugging Face `ViTForImageClassification` / `ViTModel` (and DeiT) naming: the
/// classic layout of published checkpoints (`encoder.layer.N.attention.attention.query`)
/// and the transformers 5.x layout (`layers.N.attention.q_proj`, `mlp.fc1`); and
/// `Dinov2Model` / `Dinov2WithRegistersModel` (`encoder.layer.N.norm1`, `layer_scale1`,
/// `embeddings.register_tokens`).
extension Converter {
    static func mapHuggingFace(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions) throws -> ViTConfig {
        let names = src.st.entries.map { $0.name }
        let projection = names.first { $0.hasSuffix("embeddings.patch_embeddings.projection.weight") }!
        let root = String(projection.dropLast("embeddings.patch_embeddings.projection.weight".count))  // "vit." or ""
        guard let pw = src.shape(projection), pw.count == 4, pw[2] == pw[3] else {
            throw bad(src, "\(projection) of shape [D, C, P, P]", "\(src.shape(projection) ?? [])")
        }
        let (dim, channels, patch) = (pw[0], pw[1], pw[2])
        // DINOv2 keeps the classic attention names but names its norms norm1/norm2, its
        // MLP mlp.fc1/fc2, and scales each branch (layer_scale1/2.lambda1).
        let dinov2 = src.has(root + "encoder.layer.0.norm1.weight")
        let classic = dinov2 || src.has(root + "encoder.layer.0.layernorm_before.weight")
        let layer = classic ? root + "encoder.layer." : root + "layers."
        let norm1 = dinov2 ? ".norm1" : ".layernorm_before", norm2 = dinov2 ? ".norm2" : ".layernorm_after"
        let depth = src.count(prefix: layer, suffix: norm1 + ".weight")
        guard depth > 0 else { throw bad(src, "\(layer)0 ... \(layer)N", "no layers") }
        // Attention: the classic names, or transformers 5.x's (also inside encoder.layer for DINOv2).
        let classicAttention = src.has(layer + "0.attention.attention.query.weight")
        let q = classicAttention ? ".attention.attention.query" : ".attention.q_proj"
        let k = classicAttention ? ".attention.attention.key" : ".attention.k_proj"
        let v = classicAttention ? ".attention.attention.value" : ".attention.v_proj"
        let out = classicAttention ? ".attention.output.dense" : ".attention.o_proj"
        let fc1 = classic && !dinov2 ? ".intermediate.dense" : ".mlp.fc1"
        let fc2 = classic && !dinov2 ? ".output.dense" : ".mlp.fc2"
        if dinov2 && src.has(layer + "0.mlp.weights_in.weight") {
            throw bad(src, "a DINOv2 with a GELU MLP (mlp.fc1, mlp.fc2)", "a SwiGLU MLP (mlp.weights_in)",
                      "the SwiGLU feed-forward of the giant DINOv2 models is not supported yet")
        }
        guard let qs = src.shape(layer + "0" + q + ".weight"), let fs = src.shape(layer + "0" + fc1 + ".weight") else {
            throw bad(src, "\(layer)0\(q).weight and \(layer)0\(fc1).weight", "none")
        }
        let inner = qs[0]
        let heads = o.heads ?? intValue(j, ["num_attention_heads"])
        guard let heads, heads > 0, inner % heads == 0 else {
            throw bad(src, "num_attention_heads dividing \(inner)", heads.map(String.init) ?? "nothing",
                      "pass --config config.json or --heads N")
        }
        src.note("heads", "\(heads)", o.heads != nil ? "--heads" : "config.json num_attention_heads")
        let dist = src.has(root + "embeddings.distillation_token")
        let prefix = 1 + (dist ? 1 : 0)
        // Registers come after the class token and have no position row.
        let registers = src.shape(root + "embeddings.register_tokens").map { $0.count == 3 ? $0[1] : $0[0] } ?? 0
        guard let pos = src.shape(root + "embeddings.position_embeddings") else { throw bad(src, "position_embeddings", "none") }
        let rows = pos.count == 3 ? pos[1] : pos[0]
        let configured = try imageSize(j?["image_size"], key: "image_size", src).map { (size: $0, key: "image_size") }
        let (h, w) = try resolveImageSize(&src, o, configured, patches: rows - prefix, patch: patch)
        guard rows == (h / patch) * (w / patch) + prefix else {
            throw VitError.badTensor(name: root + "embeddings.position_embeddings",
                                     expected: "\((h / patch) * (w / patch) + prefix) rows for \(h)x\(w) images",
                                     found: "\(rows)", hint: "pass --image-size")
        }
        var c = ViTConfig(imageHeight: h, imageWidth: w, channels: channels, patchSize: patch, dim: dim, depth: depth,
                          heads: heads, headDim: inner / heads, mlpDim: fs[0], numClasses: 0)
        c.distillationToken = dist
        c.registerTokens = registers
        if registers > 0 {
            // The class token's position row is folded into the token (the same single add
            // the model does), so the position rows are the patches' alone.
            c.positionEmbeddingIncludesPrefix = false
            src.note("registers", "\(registers)", "checkpoint: embeddings.register_tokens (Dinov2WithRegisters)")
        }
        c.qkvBias = src.has(layer + "0" + q + ".bias")
        if let e = j?["layer_norm_eps"]?.double {
            c.eps = Float(e)
            src.note("eps", "\(c.eps)", "config.json layer_norm_eps")
        } else {
            c.eps = 1e-12
            src.note("eps", "1e-12", "transformers default (ViTConfig.layer_norm_eps)")
        }
        c.gelu = gelu(fromHiddenAct: j?["hidden_act"]?.string) ?? .erf
        if let act = j?["hidden_act"]?.string, gelu(fromHiddenAct: act) == nil, o.gelu == nil {
            throw bad(src, "hidden_act gelu or a tanh GELU", act)
        }
        src.note("gelu", c.gelu.rawValue, j?["hidden_act"] != nil ? "config.json hidden_act" : "transformers default (hidden_act 'gelu')")
        // Dinov2ForImageClassification's classifier reads the class token beside the mean
        // of the patch tokens (2·D wide).
        let dinov2Classifier = dinov2 && src.has("classifier.weight")
        c.pool = o.pool ?? (dinov2Classifier ? .classAndMeanPatches : .classToken)
        src.note("pool", c.pool.rawValue, o.pool != nil ? "--pool"
                 : dinov2Classifier ? "transformers Dinov2ForImageClassification (the class token beside the mean of the patch tokens)"
                 : dinov2 ? "transformers Dinov2 (pooler_output: the class token after the final norm)" : "transformers ViT (the class token)")
        src.note("mean", "\(c.mean)", "default 0.5 (ViTImageProcessor's image_mean): pass --mean if trained otherwise")
        src.note("std", "\(c.std)", "default 0.5 (ViTImageProcessor's image_std): pass --std if trained otherwise")
        src.note("preprocess", c.preprocessing.summary, "vit-edge default (pass --preprocessor preprocessor_config.json for the model's own)")
        if registers > 0 {
            c.positionResampling = .timm
            src.note("position resampling", "timm", "transformers Dinov2WithRegisters (interpolate_pos_encoding: bicubic to size, antialiased)")
        } else {
            c.positionResampling = .huggingface
            src.note("position resampling", "huggingface", "transformers (interpolate_pos_encoding: bicubic to size)")
        }
        if let pl = src.shape(root + "pooler.dense.weight") { c.preLogitsDim = pl[0] }
        let headName = dist ? "cls_classifier" : "classifier"
        if let hw = src.shape(headName + ".weight"), hw.count == 2, hw[0] > 0 { c.numClasses = hw[0] }
        c.labels = labels(fromId2Label: j?["id2label"]) ?? []
        if c.labels.count != c.numClasses { c.labels = [] }
        if !c.labels.isEmpty { src.note("labels", "\(c.labels.count)", "config.json id2label") }

        try src.put("patch_embed.weight", from: projection, shape: [dim, channels * patch * patch])
        try src.put("patch_embed.bias", from: root + "embeddings.patch_embeddings.projection.bias")
        if registers > 0 {
            let pos = try src.take(root + "embeddings.position_embeddings").values
            try src.putTransformed("cls_token", from: root + "embeddings.cls_token", shape: [dim]) { cls in
                zip(cls, pos[0..<dim]).map { $0 + $1 }
            }
            try src.put("reg_token", from: root + "embeddings.register_tokens", shape: [registers, dim])
            src.out["pos_embed"] = .init(shape: [rows - 1, dim], values: Array(pos[dim...]), source: root + "embeddings.position_embeddings")
        } else {
            try src.put("cls_token", from: root + "embeddings.cls_token", shape: [dim])
            try src.put("pos_embed", from: root + "embeddings.position_embeddings", shape: [rows, dim])
        }
        if dist { try src.put("dist_token", from: root + "embeddings.distillation_token", shape: [dim]) }
        src.ignore(root + "embeddings.mask_token", because: "used only for masked image modeling")
        for i in 0..<depth {
            let p = "\(layer)\(i)", b = "blocks.\(i)."
            try src.put(b + "norm1.weight", from: p + norm1 + ".weight")
            try src.put(b + "norm1.bias", from: p + norm1 + ".bias")
            try src.putStacked(b + "attn.qkv.weight", from: [p + q + ".weight", p + k + ".weight", p + v + ".weight"])
            if c.qkvBias { try src.putStacked(b + "attn.qkv.bias", from: [p + q + ".bias", p + k + ".bias", p + v + ".bias"]) }
            // DINOv2's layer scale is folded into the projection it scales.
            let scale1 = dinov2 ? p + ".layer_scale1.lambda1" : nil, scale2 = dinov2 ? p + ".layer_scale2.lambda1" : nil
            try src.putLinear(b + "attn.proj", from: p + out, scaledBy: scale1)
            try src.put(b + "norm2.weight", from: p + norm2 + ".weight")
            try src.put(b + "norm2.bias", from: p + norm2 + ".bias")
            try src.put(b + "mlp.fc1.weight", from: p + fc1 + ".weight")
            try src.put(b + "mlp.fc1.bias", from: p + fc1 + ".bias")
            try src.putLinear(b + "mlp.fc2", from: p + fc2, scaledBy: scale2)
        }
        try src.put("norm.weight", from: root + "layernorm.weight")
        try src.put("norm.bias", from: root + "layernorm.bias")
        if c.preLogitsDim > 0 {
            try src.put("pre_logits.weight", from: root + "pooler.dense.weight")
            try src.put("pre_logits.bias", from: root + "pooler.dense.bias")
        }
        if c.numClasses > 0 {
            try src.put("head.weight", from: headName + ".weight")
            try src.put("head.bias", from: headName + ".bias")
            if dist {
                try src.put("head_dist.weight", from: "distillation_classifier.weight")
                try src.put("head_dist.bias", from: "distillation_classifier.bias")
            }
        }
        return c
    }
}
