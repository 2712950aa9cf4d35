/// vit-pytorch `T2TViT`: `to_patch_embedding` is a Sequential of, per soft split, an
/// (identity or) image re-layout, `nn.Unfold`, a re-layout and a one-block `Transformer`
/// (none after the last split), then the patch Linear; the rest is vit-pytorch's ViT
/// (`transformer.layers.N`, `transformer.norm`, `cls_token`, `pos_embedding`, `mlp_head`).
/// The splits' kernels and strides are constructor arguments, not tensors: from the
/// config's `t2t_layers`, else vit-pytorch's default ((7, 4), (3, 2), (3, 2)), checked
/// against the widths the stem's tensors have.
extension Converter {
    static func isT2T(_ st: Safetensors) -> Bool {
        st.entries.contains { $0.name.hasPrefix("to_patch_embedding.") && $0.name.contains(".layers.0.0.to_qkv.") }
    }

    static func mapT2T(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions) throws -> ViTConfig {
        var layers = T2TLayer.vitPytorchDefault
        if let t = j?["t2t_layers"] {
            guard let pairs = t.array?.map({ $0.array?.compactMap { $0.int } }), !pairs.isEmpty,
                  pairs.allSatisfy({ $0?.count == 2 }) else {
                throw bad(src, "config t2t_layers as [[kernel, stride], ...]", String(t.serialized().prefix(80)))
            }
            layers = pairs.map { T2TLayer(kernel: $0![0], stride: $0![1]) }
            src.note("t2t layers", "\(layers.map { [$0.kernel, $0.stride] })", "config t2t_layers")
        } else {
            src.note("t2t layers", "[[7, 4], [3, 2], [3, 2]]", "vit-pytorch default (pass --config with t2t_layers if trained otherwise)")
        }
        guard (1...4).contains(layers.count), layers.allSatisfy({ (1...15).contains($0.kernel) && (1...15).contains($0.stride) }) else {
            throw bad(src, "1 to 4 soft splits of kernel and stride in 1...15", "\(layers.map { [$0.kernel, $0.stride] })")
        }
        let stems = layers.count - 1
        // The stem's Sequential: stage i's Transformer at 4i + 3, the patch Linear at 4·count.
        let linear = "to_patch_embedding.\(4 * layers.count)"
        guard let pw = src.shape(linear + ".weight"), pw.count == 2 else {
            throw bad(src, "\(linear).weight, the patch Linear after \(layers.count) soft splits", "none", "pass --config with t2t_layers")
        }
        let (dim, patchDim) = (pw[0], pw[1])
        let k2 = layers.reduce(1) { $0 * $1.kernel * $1.kernel }
        guard patchDim % k2 == 0, [1, 3].contains(patchDim / k2) else {
            throw bad(src, "a patch width of 1 or 3 channels × \(k2) (the splits' kernels)", "\(patchDim)", "pass --config with t2t_layers")
        }
        let channels = patchDim / k2
        var width = channels
        for i in 0..<stems {
            width *= layers[i].kernel * layers[i].kernel
            let p = "to_patch_embedding.\(4 * i + 3)."
            guard src.shape(p + "layers.0.0.to_qkv.weight") == [3 * width, width], !src.has(p + "layers.1.0.norm.weight") else {
                throw bad(src, "\(p)layers.0.0.to_qkv.weight of shape [\(3 * width), \(width)] (one block, one head as wide as the tokens)",
                          "\(src.shape(p + "layers.0.0.to_qkv.weight") ?? [])")
            }
        }
        guard let qkv = src.shape("transformer.layers.0.0.to_qkv.weight"), let fc1 = src.shape("transformer.layers.0.1.net.1.weight") else {
            throw bad(src, "transformer.layers.0 (attention and feed-forward)", "none")
        }
        let depth = src.count(prefix: "transformer.layers.", suffix: ".0.norm.weight")
        let inner = qkv[0] / 3
        let heads = o.heads ?? intValue(j, ["heads"]) ?? intValue(j, ["dim_head"]).flatMap { $0 > 0 && inner % $0 == 0 ? inner / $0 : nil }
        guard let heads, heads > 0, inner % heads == 0 else {
            throw bad(src, "the number of heads dividing \(inner)", "no config naming them", "pass --heads N, or --config with heads")
        }
        src.note("heads", "\(heads)", o.heads != nil ? "--heads" : "config")
        let configured = try imageSize(j?["image_size"], key: "image_size", src).map { (size: $0, key: "image_size") }
        guard let (h, w) = (o.imageHeight.flatMap { h in o.imageWidth.map { (h, $0) } }) ?? configured?.size else {
            throw bad(src, "the image size (several sizes give the same grid of soft splits)", "none", "pass --image-size or --config with image_size")
        }
        src.note("image size", "\(h)x\(w)", o.imageHeight != nil ? "--image-size" : "config image_size")
        var c = ViTConfig(imageHeight: h, imageWidth: w, channels: channels, patchSize: 1, dim: dim, depth: depth, heads: heads,
                          headDim: inner / heads, mlpDim: fc1[0], numClasses: src.shape("mlp_head.weight")?[0] ?? 0)
        c.architecture = .t2t
        c.t2tLayers = layers
        c.patchEmbedding = .linear
        c.qkvBias = false
        c.attentionProjection = src.has("transformer.layers.0.0.to_out.0.weight")
        c.eps = 1e-5
        c.finalNorm = src.has("transformer.norm.weight")
        c.pool = (o.pool ?? (j?["pool"]?.string == "mean" ? .meanAllTokens : .classToken)) == .classToken ? .classToken : .meanAllTokens
        src.note("pool", c.pool.rawValue, o.pool != nil ? "--pool" : j?["pool"] != nil ? "config pool" : "vit-pytorch default (cls)")
        guard src.shape("pos_embedding")?.reduce(1, *) == (c.numPatches + 1) * dim else {
            throw VitError.badTensor(name: "pos_embedding", expected: "\(c.numPatches + 1) rows for \(h)x\(w) images",
                                     found: "\(src.shape("pos_embedding") ?? [])", hint: "pass --image-size as trained")
        }
        try c.validate(source: src.path)

        for i in 0..<stems {
            let p = "to_patch_embedding.\(4 * i + 3)."
            try putVitPytorchLayer(&src, from: p + "layers.0", to: "t2t.\(i).blocks.0.", qkvBias: false, projection: false)
            try src.put("t2t.\(i).norm.weight", from: p + "norm.weight")
            try src.put("t2t.\(i).norm.bias", from: p + "norm.bias")
        }
        try src.put("patch_embed.weight", from: linear + ".weight")
        try src.put("patch_embed.bias", from: linear + ".bias")
        try src.put("cls_token", from: "cls_token", shape: [dim])
        try src.put("pos_embed", from: "pos_embedding", shape: [c.numPatches + 1, dim])
        for i in 0..<depth {
            try putVitPytorchLayer(&src, from: "transformer.layers.\(i)", to: "blocks.\(i).", qkvBias: false,
                                   projection: c.attentionProjection)
        }
        if c.finalNorm {
            try src.put("norm.weight", from: "transformer.norm.weight")
            try src.put("norm.bias", from: "transformer.norm.bias")
        }
        if c.numClasses > 0 {
            try src.put("head.weight", from: "mlp_head.weight")
            try src.put("head.bias", from: "mlp_head.bias")
        }
        src.note("eps", "1e-05", "vit-pytorch (nn.LayerNorm's default)")
        src.note("mean", "\(c.mean)", "default 0.5 (vit-pytorch has no preprocessing): pass --mean as trained")
        src.note("std", "\(c.std)", "default 0.5 (vit-pytorch has no preprocessing): pass --std as trained")
        return c
    }
}
