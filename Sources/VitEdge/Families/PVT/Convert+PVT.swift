/// timm `PyramidVisionTransformerV2` checkpoints (`pvt_v2_b0` ... `pvt_v2_b5`):
/// `patch_embed.proj` (7×7/4) + `patch_embed.norm`, `stages.S.downsample.proj` (3×3/2) +
/// `.norm` for S ≥ 1, `stages.S.blocks.J` (`attn.q`, `attn.kv`, `attn.sr` + `attn.norm`
/// where the stage reduces, `attn.proj`, `mlp.fc1`, `mlp.dwconv`, `mlp.fc2`),
/// `stages.S.norm`, `head`. Convolution kernels are laid out (ky, kx, c) as im2col reads
/// NHWC maps; the depthwise kernels tap-major [9, H]; each stage's closing norm becomes the
/// next stage's `downsample.norm_in` and the last one the model's `norm`.
extension Converter {
    static func isTimmPVT(_ st: Safetensors) -> Bool {
        st.entry("patch_embed.proj.weight") != nil && st.entry("stages.0.blocks.0.attn.kv.weight") != nil
    }

    /// [out, in, k, k] → [out, k·k·in] in (ky, kx, c) order.
    static func kernelYXC(_ v: [Float], out: Int, in cin: Int, k: Int) -> [Float] {
        var r = v
        for o in 0..<out { for c in 0..<cin { for y in 0..<k { for x in 0..<k {
            r[o * k * k * cin + (y * k + x) * cin + c] = v[((o * cin + c) * k + y) * k + x]
        } } } }
        return r
    }

    static func mapTimmPVT(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions) throws -> ViTConfig {
        let args = j?["model_args"]
        guard let pw = src.shape("patch_embed.proj.weight"), pw.count == 4, pw[2] == pw[3], (2...15).contains(pw[2]) else {
            throw bad(src, "patch_embed.proj.weight of shape [D, C, k, k]", "\(src.shape("patch_embed.proj.weight") ?? [])")
        }
        let (dim, channels, kernel) = (pw[0], pw[1], pw[2])
        let stride = intValue(args, ["patch_size"]) ?? 4
        // Heads are not in the tensors: model_args, or the pvt_v2_b* variants' (1, 2, 5, 8).
        let architecture = String((j?["architecture"]?.string ?? "").split(separator: ".").first ?? "")
        var heads = (args?["num_heads"]?.array ?? []).compactMap { $0.int }
        // The linear variant (pvt_v2_b2_li): a 1×1 `attn.sr` in every block, keys pooled to 7×7.
        let linear = src.shape("stages.0.blocks.0.attn.sr.weight").map { $0.count == 4 && $0[2] == 1 && $0[3] == 1 } ?? false
        if linear != (architecture.hasSuffix("_li") || args?["linear"]?.bool == true), !architecture.isEmpty || args?["linear"] != nil {
            throw bad(src, "the tensors and the config to agree on the linear variant",
                      linear ? "a 1x1 attn.sr (linear) but a config without linear" : "a k x k attn.sr but a config saying linear")
        }
        var stages: [PVTStage] = []
        while src.has("stages.\(stages.count).blocks.0.norm1.weight") {
            let s = stages.count, p = "stages.\(s).blocks.0."
            let depth = src.count(prefix: "stages.\(s).blocks.", suffix: ".norm1.weight")
            guard let q = src.shape(p + "attn.q.weight"), q.count == 2, let fc1 = src.shape(p + "mlp.fc1.weight"), fc1.count == 2 else {
                throw bad(src, "\(p)attn.q and \(p)mlp.fc1", "none")
            }
            var reduction = 1
            if let sr = src.shape(p + "attn.sr.weight") {
                guard sr.count == 4, sr[2] == sr[3], (sr[2] > 1) != linear else {
                    throw bad(src, "\(p)attn.sr.weight [D, D, k, k] with \(linear ? "k = 1 (the linear variant)" : "k > 1")", "\(sr)")
                }
                reduction = linear ? 1 : sr[2]
            } else if linear {
                throw bad(src, "\(p)attn.sr (the linear variant has one in every block)", "none")
            }
            stages.append(PVTStage(depth: depth, heads: 0, dim: q[0], mlpDim: fc1[0], reduction: reduction))
        }
        guard !stages.isEmpty else { throw bad(src, "stages.0.blocks.0 ... (PVT v2 stages)", "none") }
        if heads.isEmpty, architecture.hasPrefix("pvt_v2_b"), stages.count == 4 {
            heads = [1, 2, 5, 8]
            src.note("heads", "1, 2, 5, 8", "timm \(architecture) (num_heads of every pvt_v2_b* variant)")
        } else if !heads.isEmpty {
            src.note("heads", heads.map(String.init).joined(separator: ", "), "config.json model_args.num_heads")
        }
        guard heads.count == stages.count else {
            throw bad(src, "\(stages.count) heads counts (model_args.num_heads)", "\(heads)", "pass config.json with model_args.num_heads")
        }
        for i in stages.indices { stages[i].heads = heads[i] }
        if o.heads != nil { throw bad(src, "no --heads for a PVT v2 (model_args.num_heads gives each stage's)", "--heads") }
        var c = try timmPyramidConfig(&src, j, o, className: "PyramidVisionTransformerV2", architecture: .pvt, channels: channels,
                                      patch: stride, dim: dim, depth: stages.reduce(0) { $0 + $1.depth }, heads: stages[0].heads,
                                      mlpDim: stages[0].mlpDim, head: "head.weight")
        c.pvtStages = stages
        c.patchKernel = kernel
        c.pvtLinear = linear
        if linear { src.note("keys", "pooled to 7x7, 1x1 reduction, GELU; ReLU in the MLP", "checkpoint: 1x1 attn.sr (timm linear=True, pvt_v2_b2_li)") }
        c.qkvBias = src.has("stages.0.blocks.0.attn.q.bias")
        c.eps = 1e-6
        src.note("architecture", "PVT v2", "checkpoint: stages.S.blocks (attn.q, attn.kv, mlp.dwconv)")
        src.note("patch", "\(kernel)x\(kernel)/\(stride), padding \(kernel / 2)", "checkpoint: patch_embed.proj; stride \(args?["patch_size"] != nil ? "config.json model_args.patch_size" : "timm default 4")")
        src.note("eps", "1e-06", "timm PVT v2 (timm LayerNorm in the blocks and stages; nn.LayerNorm's 1e-05 after the convolutions)")

        // Tensors. Convolutions as im2col reads them; the depthwise kernels tap-major.
        try src.putTransformed("patch_embed.weight", from: "patch_embed.proj.weight", shape: [dim, kernel * kernel * channels]) {
            kernelYXC($0, out: dim, in: channels, k: kernel)
        }
        try src.put("patch_embed.bias", from: "patch_embed.proj.bias")
        try src.put("patch_embed.norm_post.weight", from: "patch_embed.norm.weight")
        try src.put("patch_embed.norm_post.bias", from: "patch_embed.norm.bias")
        for (i, stage) in stages.enumerated() {
            let d = stage.dim
            if i > 0 {
                let p = "stages.\(i).downsample.", prev = stages[i - 1].dim
                try src.putTransformed(p + "proj.weight", from: p + "proj.weight", shape: [d, 9 * prev]) { kernelYXC($0, out: d, in: prev, k: 3) }
                for n in ["proj.bias", "norm.weight", "norm.bias"] { try src.put(p + n, from: p + n) }
                try src.put(p + "norm_in.weight", from: "stages.\(i - 1).norm.weight")
                try src.put(p + "norm_in.bias", from: "stages.\(i - 1).norm.bias")
            }
            for b in 0..<stage.depth {
                let p = "stages.\(i).blocks.\(b)."
                for n in ["norm1.weight", "norm1.bias", "attn.q.weight", "attn.kv.weight", "attn.proj.weight", "attn.proj.bias",
                          "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.dwconv.bias", "mlp.fc2.weight", "mlp.fc2.bias"]
                    + (c.qkvBias ? ["attn.q.bias", "attn.kv.bias"] : []) {
                    try src.put(p + n, from: p + n)
                }
                let r = stage.reduction
                if r > 1 || linear {
                    try src.putTransformed(p + "attn.sr.weight", from: p + "attn.sr.weight", shape: [d, r * r * d]) { kernelYXC($0, out: d, in: d, k: r) }
                    for n in ["attn.sr.bias", "attn.norm.weight", "attn.norm.bias"] { try src.put(p + n, from: p + n) }
                }
                let hidden = stage.mlpDim
                try src.putTransformed(p + "mlp.dwconv.weight", from: p + "mlp.dwconv.weight", shape: [9, hidden]) { v in
                    guard v.count == 9 * hidden else { return v }
                    var r = v
                    for ch in 0..<hidden { for t in 0..<9 { r[t * hidden + ch] = v[ch * 9 + t] } }
                    return r
                }
            }
        }
        let last = stages.count - 1
        try src.put("norm.weight", from: "stages.\(last).norm.weight")
        try src.put("norm.bias", from: "stages.\(last).norm.bias")
        if c.numClasses > 0 {
            try src.put("head.weight", from: "head.weight")
            try src.put("head.bias", from: "head.bias")
        }
        return c
    }
}
