/// timm `VisionTransformer` and DeiT (`VisionTransformerDistilled`) naming, register
/// tokens (`reg_token`: `vit_*_reg4_dinov2`, `*_reg4_gap_*`) included; and the original
/// DINOv2 hub checkpoints (`dinov2_vits14_reg4_pretrain.pth` as safetensors: timm's names
/// plus `register_tokens` and `mask_token`, the class token's position row kept).
extension Converter {
    static func mapTimm(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions) throws -> ViTConfig {
        let args = j?["model_args"]
        let pcfg = j?["pretrained_cfg"]
        guard let pw = src.shape("patch_embed.proj.weight"), pw.count == 4 else {
            throw bad(src, "patch_embed.proj.weight of shape [D, C, P, P]", "\(src.shape("patch_embed.proj.weight") ?? [])")
        }
        let (dim, patchChannels, patch) = (pw[0], pw[1], pw[2])
        guard pw[2] == pw[3] else { throw bad(src, "square patches", "\(pw[2])x\(pw[3])") }
        // The hybrid: a ResNet before the patch projection, whose input is its feature map.
        let backbone = try timmBackbone(&src, j)
        let channels = backbone?.inChannels ?? patchChannels
        if let b = backbone?.backbone, b.outChannels != patchChannels {
            throw bad(src, "patch_embed.proj reading the backbone's \(b.outChannels) channels", "\(patchChannels)")
        }
        let stride = backbone?.backbone.stride ?? 1
        for unsupported in ["blocks.0.attn.q_norm.weight", "blocks.0.attn.q_bias", "attn_pool.q_norm.weight", "attn_pool.pos_embed"] where src.has(unsupported) {
            throw bad(src, "a plain ViT", "'\(unsupported)'", "QK-norm, BEiT biases and attention pooling with positions are not supported")
        }
        let depth = src.count(prefix: "blocks.", suffix: ".norm1.weight")
        guard depth > 0 else { throw bad(src, "blocks.0 ... blocks.N", "no blocks") }
        guard let qkv = src.shape("blocks.0.attn.qkv.weight"), qkv.count == 2, qkv[0] % 3 == 0 else {
            throw bad(src, "blocks.0.attn.qkv.weight [3·inner, D]", "\(src.shape("blocks.0.attn.qkv.weight") ?? [])")
        }
        let inner = qkv[0] / 3
        if src.has("blocks.0.mlp.fc1_g.weight") || src.has("blocks.0.mlp.w12.weight") {
            throw bad(src, "a GELU MLP (mlp.fc1, mlp.fc2)", "a gated (SwiGLU) MLP",
                      "the SwiGLU feed-forward (timm SwiGLUPacked / GluMlp, DINOv2 giant) is not supported yet")
        }
        guard let fc1 = src.shape("blocks.0.mlp.fc1.weight"), fc1.count == 2 else {
            throw bad(src, "blocks.0.mlp.fc1.weight", "none", "gated (SwiGLU) MLPs are not supported")
        }
        let heads = try timmHeads(&src, j, o, dim: dim, inner: inner)
        let cls = src.has("cls_token"), dist = src.has("dist_token")
        // The original DINOv2 names its registers `register_tokens` and keeps `mask_token`.
        let original = src.has("register_tokens") || src.has("mask_token")
        let registerName = original ? "register_tokens" : "reg_token"
        let registers = src.shape(registerName).map { $0.count == 3 ? $0[1] : $0[0] } ?? 0
        let prefix = (cls ? 1 : 0) + (dist ? 1 : 0) + registers
        guard let pos = src.shape("pos_embed") else { throw bad(src, "pos_embed", "none") }
        let rows = pos.count == 3 ? pos[1] : pos[0]
        // Image size: options, config, or the position embedding's grid.
        let configured = try configuredImageSize(src, [(pcfg?["input_size"], "pretrained_cfg.input_size"),
                                                       (args?["img_size"], "model_args.img_size"), (j?["img_size"], "img_size")])
        let guessPatches = squareRoot(rows - prefix) != nil ? rows - prefix : rows
        let (h, w) = try resolveImageSize(&src, o, configured, patches: guessPatches, patch: patch * stride)
        let (fh, fw) = (backbone?.backbone.outputSize(h) ?? h, backbone?.backbone.outputSize(w) ?? w)
        let n = (fh / patch) * (fw / patch)
        // Position rows: every prefix token's, none, or (original DINOv2 with registers) the class token's only.
        let clsRowOnly = registers > 0 && cls && rows == n + 1
        guard rows == n + prefix || rows == n || clsRowOnly else {
            throw VitError.badTensor(name: "pos_embed", expected: "\(n + prefix) or \(n) rows for \(h)x\(w) images",
                                     found: "\(rows) rows", hint: "pass the training image size with --image-size")
        }
        var c = ViTConfig(imageHeight: h, imageWidth: w, channels: channels, patchSize: patch, dim: dim, depth: depth,
                          heads: heads, headDim: inner / heads, mlpDim: fc1[0], numClasses: 0,
                          mean: floats(pcfg?["mean"]), std: floats(pcfg?["std"]))
        if let b = backbone {
            c.architecture = .hybrid
            c.backbone = b.backbone
            src.note("architecture", "ResNet+ViT hybrid", "checkpoint: patch_embed.backbone (timm HybridEmbed: \(b.backbone.summary))")
            src.note("backbone norm", "GroupNorm 32 groups, eps 1e-05", "timm default (ResNetV2's GroupNormAct)")
            src.note("weight std", "eps 1e-08", "timm's hybrid ResNet (StdConv2dSame(eps=1e-8)), folded into the weights")
        }
        c.classToken = cls
        c.distillationToken = dist
        c.registerTokens = registers
        // With registers the prefix rows (when timm has them: no_embed_class=False) are
        // folded into their tokens, so the position rows are the patches' alone.
        c.positionEmbeddingIncludesPrefix = registers == 0 && rows == n + prefix
        if registers > 0 { src.note("registers", "\(registers)", "checkpoint: \(registerName)") }
        src.ignore("mask_token", because: "used only for masked-image training (iBOT)")
        c.qkvBias = src.has("blocks.0.attn.qkv.bias")
        c.attentionProjection = src.has("blocks.0.attn.proj.weight")
        // Layer scale (ls1/ls2.gamma: DeiT III, DINOv2) is folded into attn.proj and mlp.fc2.
        let layerScale = src.has("blocks.0.ls1.gamma")
        if layerScale && !c.attentionProjection { throw bad(src, "attn.proj for ls1 to scale", "layer scale without attn.proj") }
        // CLIP towers in timm (vit_*_clip_*): a LayerNorm after the positions (norm_pre),
        // nn.LayerNorm's eps, no patch bias; the quickgelu variants use QuickGELU.
        c.preNorm = src.has("norm_pre.weight")
        let architecture = String((j?["architecture"]?.string ?? "").split(separator: ".").first ?? "")
        if c.preNorm || architecture.contains("_clip_") {
            c.eps = 1e-5
            src.note("eps", "1e-05", "timm CLIP models (nn.LayerNorm)")
        } else {
            c.eps = 1e-6
            src.note("eps", "1e-06", "timm default (VisionTransformer's LayerNorm)")
        }
        // timm's act_layer: nn.GELU unless model_args (or a *_quickgelu_* architecture) names another.
        switch args?["act_layer"]?.string {
        case nil where architecture.contains("quickgelu"):
            c.gelu = .quick
            src.note("gelu", "quick", "timm architecture \(architecture) (act_layer quick_gelu)")
        case nil:
            src.note("gelu", "exact", "timm default (nn.GELU)")
        case "gelu":
            src.note("gelu", "exact", "config.json model_args.act_layer")
        case "gelu_tanh":
            c.gelu = .tanh
            src.note("gelu", "tanh", "config.json model_args.act_layer")
        case "quick_gelu":
            c.gelu = .quick
            src.note("gelu", "quick", "config.json model_args.act_layer")
        case let other?:
            if o.gelu == nil { throw bad(src, "act_layer gelu, gelu_tanh or quick_gelu", other, "this activation is not supported") }
        }
        c.finalNorm = src.has("norm.weight")
        c.poolNorm = src.has("fc_norm.weight")
        let globalPool = j?["global_pool"]?.string ?? args?["global_pool"]?.string
        if let o = o.pool {
            c.pool = o
            src.note("pool", o.rawValue, "--pool")
        } else if let g = globalPool {
            switch g {
            case "avg": c.pool = .meanPatches
            case "token": c.pool = .classToken
            case "map": c.pool = .attentionPool
            default: throw bad(src, "global_pool 'token', 'avg' or 'map'", "'\(g)'", "this pooling is not supported")
            }
            src.note("pool", c.pool.rawValue, j?["global_pool"] != nil ? "config.json global_pool" : "config.json model_args.global_pool")
        } else if src.has("attn_pool.latent") {
            c.pool = .attentionPool
            src.note("pool", "map", "checkpoint: attn_pool (timm global_pool 'map', SigLIP)")
        } else if c.poolNorm || !cls {
            c.pool = .meanPatches
            src.note("pool", "mean", c.poolNorm ? "checkpoint: fc_norm (timm uses it with global_pool 'avg')" : "checkpoint: no class token")
        } else {
            c.pool = .classToken
            src.note("pool", "cls", "timm default (global_pool 'token')")
        }
        if let pm = pcfg?["mean"] {
            guard floats(pm) != nil else { throw bad(src, "pretrained_cfg.mean as numbers", String(pm.serialized().prefix(40))) }
            src.note("mean", "\(c.mean)", "config.json pretrained_cfg.mean")
        } else {
            src.note("mean", "\(c.mean)", "default 0.5 (timm's for ViT; DeiT uses 0.485,0.456,0.406): pass --mean if trained otherwise")
        }
        if let ps = pcfg?["std"] {
            guard floats(ps) != nil else { throw bad(src, "pretrained_cfg.std as numbers", String(ps.serialized().prefix(40))) }
            src.note("std", "\(c.std)", "config.json pretrained_cfg.std")
        } else {
            src.note("std", "\(c.std)", "default 0.5 (timm's for ViT; DeiT uses 0.229,0.224,0.225): pass --std if trained otherwise")
        }
        if let pcfg {
            c.preprocessing = try Preprocessing.fromTimm(pcfg, input: (h, w), source: src.st.path)
            src.note("preprocess", c.preprocessing.summary, "config.json pretrained_cfg (timm's eval transform)")
        } else {
            src.note("preprocess", c.preprocessing.summary, "vit-edge default (no pretrained_cfg: pass --crop-pct for timm's eval transform)")
        }
        if original {
            c.positionResampling = .dino
            src.note("position resampling", "dino", "DINOv2 hub model (interpolate_pos_encoding: scale_factor (n + 0.1)/√N, bicubic, no antialias)")
        } else {
            c.positionResampling = .timm
            src.note("position resampling", "timm", "timm (resample_abs_pos_embed: bicubic, antialiased)")
        }
        if let pl = src.shape("pre_logits.fc.weight") { c.preLogitsDim = pl[0] }
        if let hw = src.shape("head.weight"), hw.count == 2, hw[0] > 0 { c.numClasses = hw[0] }
        c.labels = (j?["label_names"]?.array?.compactMap { $0.string }) ?? []
        if !c.labels.isEmpty { src.note("labels", "\(c.labels.count)", "config.json label_names") }
        if let ch = o.channels, ch != channels { throw bad(src, "--channels \(ch)", "\(channels) in the patch embedding") }

        // Tensors.
        if let b = backbone {
            // The projection reads NHWC patches: its kernel becomes (y, x, c).
            try src.putTransformed("patch_embed.weight", from: "patch_embed.proj.weight", shape: [dim, patch * patch * patchChannels]) { v in
                var out = v
                for o in 0..<dim { for ch in 0..<patchChannels { for y in 0..<patch { for x in 0..<patch {
                    out[((o * patch + y) * patch + x) * patchChannels + ch] = v[((o * patchChannels + ch) * patch + y) * patch + x]
                } } } }
                return out
            }
            try putTimmBackbone(&src, b)
        } else {
            try src.put("patch_embed.weight", from: "patch_embed.proj.weight", shape: [dim, channels * patch * patch])
        }
        if src.has("patch_embed.proj.bias") {
            try src.put("patch_embed.bias", from: "patch_embed.proj.bias")
        } else {
            src.out["patch_embed.bias"] = .init(shape: [dim], values: [Float](repeating: 0, count: dim), source: "no patch bias (timm CLIP)")
        }
        if registers > 0 {
            // Prefix position rows (cls, then registers) added to their tokens here: the
            // same single add timm does in _pos_embed.
            let pos = try src.take("pos_embed").values
            let prefixRows = rows - n  // 0, 1 (the class token's: original DINOv2) or every prefix token's
            func withPositions(_ token: [Float], from row: Int, rows count: Int) -> [Float] {
                row + count > prefixRows ? token : token.enumerated().map { $0.element + pos[row * dim + $0.offset] }
            }
            if cls { try src.putTransformed("cls_token", from: "cls_token", shape: [dim]) { withPositions($0, from: 0, rows: 1) } }
            try src.putTransformed("reg_token", from: registerName, shape: [registers, dim]) {
                withPositions($0, from: cls ? 1 : 0, rows: registers)
            }
            src.out["pos_embed"] = .init(shape: [n, dim], values: Array(pos[(prefixRows * dim)...]), source: "pos_embed")
        } else {
            if cls { try src.put("cls_token", from: "cls_token", shape: [dim]) }
            try src.put("pos_embed", from: "pos_embed", shape: [rows, dim])
        }
        if dist { try src.put("dist_token", from: "dist_token", shape: [dim]) }
        for i in 0..<depth {
            let p = "blocks.\(i)."
            for name in ["norm1.weight", "norm1.bias", "attn.qkv.weight", "norm2.weight", "norm2.bias",
                         "mlp.fc1.weight", "mlp.fc1.bias"] {
                try src.put(p + name, from: p + name)
            }
            if c.qkvBias { try src.put(p + "attn.qkv.bias", from: p + "attn.qkv.bias") }
            if c.attentionProjection { try src.putLinear(p + "attn.proj", from: p + "attn.proj", scaledBy: layerScale ? p + "ls1.gamma" : nil) }
            try src.putLinear(p + "mlp.fc2", from: p + "mlp.fc2", scaledBy: layerScale ? p + "ls2.gamma" : nil)
        }
        for name in ["norm_pre.weight", "norm_pre.bias", "norm.weight", "norm.bias", "fc_norm.weight", "fc_norm.bias"] where src.has(name) {
            try src.put(name, from: name)
        }
        if c.pool == .attentionPool {
            try putAttentionPool(&src, c, probe: "attn_pool.latent", projections: .split(q: "attn_pool.q", kv: "attn_pool.kv"),
                                 out: "attn_pool.proj", norm: "attn_pool.norm", mlp: ("attn_pool.mlp.fc1", "attn_pool.mlp.fc2"))
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

    /// timm's hybrid backbone (`patch_embed.backbone`): a stem alone (`conv`, `norm`, as
    /// in R+Ti) or a ResNetV2 (`stem.conv`, `stem.norm`, `stages.S.blocks.B.*`). The
    /// structure comes from the tensors; nil when the model has no backbone.
    static func timmBackbone(_ src: inout TensorSource, _ j: JSON?) throws
        -> (backbone: Backbone, inChannels: Int, names: [String: String])? {
        let stemOnly = src.has("patch_embed.backbone.conv.weight")
        guard stemOnly || src.has("patch_embed.backbone.stem.conv.weight") else { return nil }
        let prefix = "patch_embed.backbone."
        let stemName = prefix + (stemOnly ? "conv" : "stem.conv")
        guard let stem = src.shape(stemName + ".weight"), stem.count == 4, stem[2] == 7, stem[3] == 7 else {
            throw bad(src, "\(stemName).weight of shape [C, in, 7, 7] (the 'same' stem)", "\(src.shape(stemName + ".weight") ?? [])",
                      "only timm's hybrid stem (7x7/2 conv, GroupNorm, 3x3/2 max-pool) is supported")
        }
        var depths: [Int] = [], widths: [Int] = [], mids: [Int] = []
        var names = ["patch_embed.backbone.stem.conv": stemName,
                     "patch_embed.backbone.stem.norm": prefix + (stemOnly ? "norm" : "stem.norm")]
        var s = 0
        while src.has("\(prefix)stages.\(s).blocks.0.conv1.weight") {
            let depth = src.count(prefix: "\(prefix)stages.\(s).blocks.", suffix: ".conv1.weight")
            guard let c1 = src.shape("\(prefix)stages.\(s).blocks.0.conv1.weight"), c1.count == 4,
                  let c3 = src.shape("\(prefix)stages.\(s).blocks.0.conv3.weight"), c3.count == 4 else {
                throw bad(src, "bottleneck blocks (conv1, conv2, conv3) in stage \(s)", "other tensors")
            }
            guard src.has("\(prefix)stages.\(s).blocks.0.downsample.conv.weight") else {
                throw bad(src, "a downsample shortcut in the first block of stage \(s)", "none")
            }
            depths.append(depth)
            mids.append(c1[0])
            widths.append(c3[0])
            for b in 0..<depth {
                let p = "\(prefix)stages.\(s).blocks.\(b)."
                for n in ["conv1", "norm1", "conv2", "norm2", "conv3", "norm3"] + (b == 0 ? ["downsample.conv", "downsample.norm"] : []) {
                    names[p + n] = p + n
                }
            }
            s += 1
        }
        // (A stem-only backbone's own norm is `norm`; a full ResNetV2's final `norm` is pre-activation's.)
        for unsupported in (stemOnly ? [] : ["\(prefix)norm.weight"]) + ["\(prefix)stem.conv2.weight", "\(prefix)stages.0.blocks.0.preact.weight"]
            where src.has(unsupported) {
            throw bad(src, "timm's hybrid ResNetV2 (preact=False, 'same' stem)", "'\(unsupported)'",
                      "pre-activation and deep-stem ResNets are not supported")
        }
        let b = Backbone(stemChannels: stem[0], depths: depths, channels: widths, midChannels: mids)
        if let problem = b.problem() { throw bad(src, "a ResNet backbone with \(problem)", b.summary) }
        return (b, stem[1], names)
    }

    /// The backbone's tensors: convolution weights standardised (timm `StdConv2dSame`,
    /// ε = 1e-8) and laid out [out, ky, kx, in]; GroupNorm γ and β as they are.
    static func putTimmBackbone(_ src: inout TensorSource, _ b: (backbone: Backbone, inChannels: Int, names: [String: String])) throws {
        for conv in b.backbone.convolutions(inChannels: b.inChannels) {
            let from = b.names[conv.name]! + ".weight"
            let shape = src.shape(from) ?? []
            guard shape == [conv.outChannels, conv.inChannels, conv.kernel, conv.kernel] else {
                throw VitError.badTensor(name: from, expected: "shape \([conv.outChannels, conv.inChannels, conv.kernel, conv.kernel])",
                                         found: "shape \(shape)", hint: "the backbone's stages do not fit together")
            }
            try src.putTransformed(conv.name + ".weight", from: from, shape: [conv.outChannels, conv.kernel * conv.kernel * conv.inChannels]) {
                standardizedConvWeight($0, out: conv.outChannels, in: conv.inChannels, kernel: conv.kernel, eps: 1e-8)
            }
            let norm = Backbone.normName(of: conv.name)
            let normFrom = b.names[norm]!
            try src.put(norm + ".weight", from: normFrom + ".weight")
            try src.put(norm + ".bias", from: normFrom + ".bias")
        }
    }

    /// Heads: from --heads, config.json's `model_args.num_heads` (or `num_heads`), or the
    /// named timm architecture when its width is the checkpoint's; otherwise an error that
    /// names the flag. Never guessed from the width alone.
    static func timmHeads(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions, dim: Int, inner: Int) throws -> Int {
        func check(_ h: Int, _ source: String) throws -> Int {
            guard h > 0, inner % h == 0 else {
                throw bad(src, "a number of heads dividing the attention width \(inner)", "\(h) (\(source))", "pass --heads N")
            }
            src.note("heads", "\(h)", source)
            return h
        }
        if let h = o.heads { return try check(h, "--heads") }
        if let h = j?["model_args"]?["num_heads"] {
            guard let v = h.int else { throw bad(src, "model_args.num_heads as a whole number", h.serialized()) }
            return try check(v, "config.json model_args.num_heads")
        }
        if let h = intValue(j, ["num_heads"]) { return try check(h, "config.json num_heads") }
        guard let named = j?["architecture"]?.string else {
            throw bad(src, "the number of attention heads", "no config naming them",
                      "pass --heads N, or --config with a timm config.json (model_args.num_heads or a known architecture)")
        }
        // Hub configs name "vit_base_patch16_224.augreg_in21k": the tag after the dot is the weights.
        let architecture = String(named.split(separator: ".", maxSplits: 1).first ?? "")
        guard let known = timmArchitectures[architecture] else {
            throw bad(src, "the number of attention heads", "architecture '\(named)', which vit-edge does not know",
                      "pass --heads N")
        }
        guard known.width == dim else {
            throw bad(src, "width \(known.width) for timm's \(architecture)", "width \(dim) in the checkpoint",
                      "the model was built with other arguments: pass --heads N")
        }
        return try check(known.heads, "timm architecture \(architecture)")
    }
}
