/// timm's `MlpMixer` class, which holds both MLP models of the family tree:
/// MLP-Mixer (`MixerBlock`: LayerNorm, `mlp_tokens`, `mlp_channels`) and ResMLP
/// (`ResBlock`: `Affine` norms, `linear_tokens`, `ls1`/`ls2`), recognised from the
/// tensors. Facebook's ResMLP checkpoints use other names, which timm's
/// `checkpoint_filter_fn` remaps (`patch_embed.` → `stem.`, `attn.` → `linear_tokens.`,
/// `mlp.` → `mlp_channels.`, `gamma_` → `ls`): both are read.
extension Converter {
    /// True when the tensors are an MLP model (timm or Facebook names), not a ViT.
    static func isMLPModel(_ st: Safetensors) -> Bool {
        st.entry("stem.proj.weight") != nil
            || (st.entry("patch_embed.proj.weight") != nil && st.entry("blocks.0.norm1.alpha") != nil && st.entry("blocks.0.attn.weight") != nil)
    }

    static func mapTimmMLP(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions) throws -> ViTConfig {
        let args = j?["model_args"]
        let pcfg = j?["pretrained_cfg"]
        // Facebook's names, when the checkpoint has them: one mapping for every lookup.
        let facebook = !src.has("stem.proj.weight")
        func ckpt(_ timm: String) -> String {
            guard facebook else { return timm }
            return timm.replacingPrefix("stem.", with: "patch_embed.")
                .replacing(".linear_tokens.", with: ".attn.").replacing(".mlp_channels.", with: ".mlp.")
                .replacingSuffix(".ls1", with: ".gamma_1").replacingSuffix(".ls2", with: ".gamma_2")
        }
        guard let pw = src.shape(ckpt("stem.proj.weight")), pw.count == 4, pw[2] == pw[3] else {
            throw bad(src, "stem.proj.weight of shape [D, C, P, P]", "\(src.shape(ckpt("stem.proj.weight")) ?? [])")
        }
        let (dim, channels, patch) = (pw[0], pw[1], pw[2])
        for (tensor, what) in [("stem.norm.weight", "a stem norm (stem_norm=True)"),
                               ("blocks.0.mlp_channels.gate.proj.weight", "gMLP's spatial gating unit"),
                               ("blocks.0.mlp_channels.norm.weight", "a norm inside the MLP")] where src.has(ckpt(tensor)) {
            throw bad(src, "an MLP-Mixer or ResMLP", "'\(ckpt(tensor))'", "\(what) is not supported")
        }
        let architecture: ViTConfig.Architecture
        let tokens: Int
        var tokenHidden = 0
        if let t = src.shape("blocks.0.mlp_tokens.fc1.weight"), t.count == 2 {
            architecture = .mixer
            (tokenHidden, tokens) = (t[0], t[1])
        } else if let t = src.shape(ckpt("blocks.0.linear_tokens.weight")), t.count == 2, t[0] == t[1] {
            architecture = .resmlp
            tokens = t[0]
        } else {
            throw bad(src, "blocks.0.mlp_tokens (MLP-Mixer) or blocks.0.linear_tokens (ResMLP)", "neither",
                      "this MLP model is not supported")
        }
        let normKey = architecture == .resmlp ? ".norm1.alpha" : ".norm1.weight"
        let depth = src.count(prefix: "blocks.", suffix: normKey)
        guard depth > 0 else { throw bad(src, "blocks.0 ... blocks.N", "no blocks") }
        guard let fc1 = src.shape(ckpt("blocks.0.mlp_channels.fc1.weight")), fc1.count == 2 else {
            throw bad(src, "blocks.0.mlp_channels.fc1.weight [hidden, D]", "\(src.shape(ckpt("blocks.0.mlp_channels.fc1.weight")) ?? [])")
        }
        // Image size: options, config, or a square grid of the token mixer's width.
        let configured = try configuredImageSize(src, [(pcfg?["input_size"], "pretrained_cfg.input_size"),
                                                       (args?["img_size"], "model_args.img_size"), (j?["img_size"], "img_size")])
        let (h, w) = try resolveImageSize(&src, o, configured, patches: tokens, patch: patch)
        guard (h / patch) * (w / patch) == tokens else {
            throw VitError.badTensor(name: architecture == .mixer ? "blocks.0.mlp_tokens.fc1.weight" : ckpt("blocks.0.linear_tokens.weight"),
                                     expected: "\((h / patch) * (w / patch)) tokens for \(h)x\(w) images with \(patch)x\(patch) patches",
                                     found: "\(tokens) tokens", hint: "an MLP model runs at its training size only: pass that size with --image-size")
        }
        if o.heads != nil { throw bad(src, "no --heads for \(architecture.withArticle)", "--heads", "an MLP model has no attention") }
        if let p = o.pool, p != .meanPatches { throw bad(src, "mean pooling for \(architecture.withArticle)", "--pool \(p.rawValue)") }
        if let ch = o.channels, ch != channels { throw bad(src, "--channels \(ch)", "\(channels) in the stem") }
        var c = ViTConfig(imageHeight: h, imageWidth: w, channels: channels, patchSize: patch, dim: dim, depth: depth,
                          heads: 0, headDim: 0, mlpDim: fc1[0], numClasses: 0,
                          mean: floats(pcfg?["mean"]), std: floats(pcfg?["std"]))
        c.architecture = architecture
        c.tokenMlpDim = tokenHidden
        c.classToken = false
        c.pool = .meanPatches
        c.layerScale = architecture == .resmlp
        c.eps = 1e-6
        src.note("architecture", architecture.displayName, "checkpoint: \(architecture == .mixer ? "mlp_tokens" : "linear_tokens and affine norms") (timm MlpMixer\(facebook ? ", Facebook names" : ""))")
        if architecture == .mixer { src.note("eps", "1e-06", "timm default (MlpMixer's LayerNorm)") }
        switch args?["act_layer"]?.string {
        case nil: src.note("gelu", "exact", "timm default (nn.GELU)")
        case "gelu": src.note("gelu", "exact", "config.json model_args.act_layer")
        case "gelu_tanh":
            c.gelu = .tanh
            src.note("gelu", "tanh", "config.json model_args.act_layer")
        case let other?:
            if o.gelu == nil { throw bad(src, "act_layer gelu or gelu_tanh", other, "this activation is not supported") }
        }
        if let g = j?["global_pool"]?.string ?? args?["global_pool"]?.string, g != "avg" {
            throw bad(src, "global_pool 'avg'", "'\(g)'", "an MLP model without pooling is not supported")
        }
        src.note("pool", "mean", "timm MlpMixer (global_pool 'avg')")
        try timmPreprocessing(&c, &src, pcfg, meanDefault: "default 0.5 (timm's for Mixer; ResMLP uses 0.485,0.456,0.406)",
                              stdDefault: "default 0.5 (timm's for Mixer; ResMLP uses 0.229,0.224,0.225)")
        if let hw = src.shape("head.weight"), hw.count == 2, hw[0] > 0 { c.numClasses = hw[0] }
        c.labels = (j?["label_names"]?.array?.compactMap { $0.string }) ?? []
        if !c.labels.isEmpty { src.note("labels", "\(c.labels.count)", "config.json label_names") }

        // Tensors, in vit-edge's names (timm's, with `stem.proj` as `patch_embed`).
        try src.put("patch_embed.weight", from: ckpt("stem.proj.weight"), shape: [dim, channels * patch * patch])
        try src.put("patch_embed.bias", from: ckpt("stem.proj.bias"))
        let norm = architecture == .resmlp ? ["alpha", "beta"] : ["weight", "bias"]
        var names: [String] = []
        for i in 0..<depth {
            let p = "blocks.\(i)."
            names += norm.map { p + "norm1." + $0 } + norm.map { p + "norm2." + $0 }
            names += ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"].map { p + "mlp_channels." + $0 }
            if architecture == .mixer {
                names += ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"].map { p + "mlp_tokens." + $0 }
            } else {
                names += [p + "linear_tokens.weight", p + "linear_tokens.bias", p + "ls1", p + "ls2"]
            }
        }
        names += norm.map { "norm." + $0 }
        for name in names {
            // Affine α, β are [1, 1, D] in timm and [D] in Facebook's checkpoints.
            let flat = name.hasSuffix(".alpha") || name.hasSuffix(".beta")
            try src.put(name, from: ckpt(name), shape: flat ? [dim] : nil)
        }
        if c.numClasses > 0 {
            try src.put("head.weight", from: "head.weight")
            try src.put("head.bias", from: "head.bias")
        } else {
            src.ignore("head.weight", because: "zero classes: features out")
            src.ignore("head.bias", because: "zero classes: features out")
        }
        return c
    }
}

extension Converter {
    /// Where mean and std came from (pretrained_cfg or the family's default, said in
    /// `meanDefault`/`stdDefault`), and timm's eval transform from pretrained_cfg.
    static func timmPreprocessing(_ c: inout ViTConfig, _ src: inout TensorSource, _ pcfg: JSON?,
                                  meanDefault: String, stdDefault: String) throws {
        src.note("mean", "\(c.mean)", pcfg?["mean"] != nil ? "config.json pretrained_cfg.mean" : meanDefault + ": pass --mean if trained otherwise")
        src.note("std", "\(c.std)", pcfg?["std"] != nil ? "config.json pretrained_cfg.std" : stdDefault + ": pass --std if trained otherwise")
        if let pcfg {
            c.preprocessing = try Preprocessing.fromTimm(pcfg, input: (c.imageHeight, c.imageWidth), source: src.st.path)
            src.note("preprocess", c.preprocessing.summary, "config.json pretrained_cfg (timm's eval transform)")
        } else {
            src.note("preprocess", c.preprocessing.summary, "vit-edge default (no pretrained_cfg: pass --crop-pct for timm's eval transform)")
        }
    }
}

extension String {
    package func replacingPrefix(_ p: String, with r: String) -> String { hasPrefix(p) ? r + dropFirst(p.count) : self }
    package func replacingSuffix(_ s: String, with r: String) -> String { hasSuffix(s) ? dropLast(s.count) + r : self }
}
