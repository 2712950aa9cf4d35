/// timm `SwinTransformer` (v1) checkpoints: `patch_embed.proj` + `patch_embed.norm`,
/// `layers.S.downsample` (PatchMerging at the start of stages 1...), `layers.S.blocks.J`
/// (`attn.relative_position_bias_table`, `attn.qkv`, `attn.proj`, `mlp.fc1/fc2`), `norm`,
/// `head.fc`. Microsoft's original checkpoints merge at the end of a stage (`layers.0.downsample`
/// is timm's `layers.1.downsample`) and call the classifier `head`: both are read, as timm's
/// `checkpoint_filter_fn` remaps them. The tables' non-persistent companions
/// (`relative_position_index`, `attn_mask`), when a checkpoint holds them, are recomputed.
extension Converter {
    static func isTimmSwin(_ st: Safetensors) -> Bool {
        st.entry("patch_embed.proj.weight") != nil && st.entry("layers.0.blocks.0.attn.relative_position_bias_table") != nil
    }

    static func mapTimmSwin(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions) throws -> ViTConfig {
        let args = j?["model_args"]
        let original = src.has("layers.0.downsample.reduction.weight")
        /// The checkpoint's name for a timm name.
        func ckpt(_ name: String) -> String {
            guard original else { return name }
            if name.hasPrefix("head.fc.") { return name.replacingPrefix("head.fc.", with: "head.") }
            let parts = name.split(separator: ".", maxSplits: 3).map(String.init)
            if parts.count == 4, parts[0] == "layers", parts[2] == "downsample", let s = Int(parts[1]) {
                return "layers.\(s - 1).downsample.\(parts[3])"
            }
            return name
        }
        guard let pw = src.shape("patch_embed.proj.weight"), pw.count == 4, pw[2] == pw[3] else {
            throw bad(src, "patch_embed.proj.weight of shape [D, C, P, P]", "\(src.shape("patch_embed.proj.weight") ?? [])")
        }
        let (dim, channels, patch) = (pw[0], pw[1], pw[2])
        guard src.has("patch_embed.norm.weight") else { throw bad(src, "patch_embed.norm (Swin's patch LayerNorm)", "none") }
        // Stages: their blocks, and their heads from each relative position table [rows, heads].
        var stages: [SwinStage] = []
        while src.has("layers.\(stages.count).blocks.0.norm1.weight") {
            let s = stages.count
            let depth = src.count(prefix: "layers.\(s).blocks.", suffix: ".norm1.weight")
            guard let t = src.shape("layers.\(s).blocks.0.attn.relative_position_bias_table"), t.count == 2, (1...256).contains(t[1]) else {
                throw bad(src, "layers.\(s).blocks.0.attn.relative_position_bias_table [rows, heads]", "none")
            }
            stages.append(SwinStage(depth: depth, heads: t[1]))
        }
        guard !stages.isEmpty else { throw bad(src, "layers.0.blocks.0 ... (Swin stages)", "none") }
        for s in 1..<max(1, stages.count) where !src.has(ckpt("layers.\(s).downsample.reduction.weight")) {
            throw bad(src, "patch merging before stage \(s) (\(ckpt("layers.\(s).downsample.reduction.weight")))", "none")
        }
        if src.has("absolute_pos_embed") || src.has("layers.0.blocks.0.attn.logit_scale") {
            throw bad(src, "a Swin (v1) transformer", src.has("absolute_pos_embed") ? "'absolute_pos_embed'" : "'attn.logit_scale' (Swin v2)",
                      "absolute positions and Swin v2's cosine attention are not supported")
        }
        // The window: model_args, or the first stage's table ((2w − 1)² rows).
        let window: Int
        if let w = intValue(args, ["window_size"]) {
            guard (1...32).contains(w) else { throw bad(src, "model_args.window_size in 1...32", "\(w)") }
            window = w
            src.note("window", "\(w)", "config.json model_args.window_size")
        } else {
            let rows = src.shape("layers.0.blocks.0.attn.relative_position_bias_table")![0]
            guard let side = squareRoot(rows), side % 2 == 1 else {
                throw bad(src, "a square relative position table ((2w − 1)² rows)", "\(rows) rows", "pass model_args.window_size in config.json")
            }
            window = (side + 1) / 2
            src.note("window", "\(window)", "checkpoint: layers.0's relative position table (\(rows) rows)")
        }
        guard let fc1 = src.shape("layers.0.blocks.0.mlp.fc1.weight"), fc1.count == 2 else {
            throw bad(src, "layers.0.blocks.0.mlp.fc1.weight [hidden, D]", "none")
        }
        if let heads = o.heads, heads != stages[0].heads { throw bad(src, "--heads \(stages[0].heads) (the first stage's table)", "\(heads)") }
        var c = try timmPyramidConfig(&src, j, o, className: "SwinTransformer", architecture: .swin, channels: channels, patch: patch,
                                      dim: dim, depth: stages.reduce(0) { $0 + $1.depth }, heads: stages[0].heads, mlpDim: fc1[0],
                                      head: ckpt("head.fc.weight"))
        c.swinStages = stages
        c.window = window
        c.qkvBias = src.has("layers.0.blocks.0.attn.qkv.bias")
        c.eps = 1e-5
        src.note("architecture", "Swin transformer", "checkpoint: layers.S.blocks (relative position tables)\(original ? ", Microsoft's names" : "")")
        src.note("stages", stages.map { "\($0.depth)/\($0.heads)" }.joined(separator: ", "), "checkpoint: blocks per stage, heads from each table")
        src.note("eps", "1e-05", "timm SwinTransformer (nn.LayerNorm)")

        // Tensors, in timm's names (the patch norm as `patch_embed.norm_post`, the head as `head`).
        try src.put("patch_embed.weight", from: "patch_embed.proj.weight", shape: [dim, channels * patch * patch])
        try src.put("patch_embed.bias", from: "patch_embed.proj.bias")
        try src.put("patch_embed.norm_post.weight", from: "patch_embed.norm.weight")
        try src.put("patch_embed.norm_post.bias", from: "patch_embed.norm.bias")
        for l in c.encoderLayers {
            for (name, _) in l.kind.tensors(l.shape, prefix: l.prefix) where src.has(ckpt(name)) {
                try src.put(name, from: ckpt(name))
            }
        }
        for name in src.st.entries.map(\.name) where name.hasSuffix("relative_position_index") || name.hasSuffix("attn_mask") {
            src.ignore(name, because: "recomputed from the window and the grid (a non-persistent buffer in timm)")
        }
        try src.put("norm.weight", from: "norm.weight")
        try src.put("norm.bias", from: "norm.bias")
        if c.numClasses > 0 {
            try src.put("head.weight", from: ckpt("head.fc.weight"))
            try src.put("head.bias", from: ckpt("head.fc.bias"))
        } else if src.has(ckpt("head.fc.weight")) {
            src.ignore(ckpt("head.fc.weight"), because: "zero classes: features out")
            if src.has(ckpt("head.fc.bias")) { src.ignore(ckpt("head.fc.bias"), because: "zero classes: features out") }
        }
        return c
    }
}
