/// What timm's hierarchical models (Swin, PVT v2) share at conversion: the image size
/// (options, config, or timm's default 224), ImageNet's mean and std unless the config
/// says otherwise, no class token or positions, a LayerNorm after the patch embedding,
/// average pooling, nn.GELU, timm's eval transform, the classes and their labels.
extension Converter {
    /// `className`: timm's class, for notes and messages; `head`: the classifier's weight
    /// name in the checkpoint.
    static func timmPyramidConfig(_ src: inout TensorSource, _ j: JSON?, _ o: ConvertOptions, className: String,
                                  architecture: ViTConfig.Architecture, channels: Int, patch: Int, dim: Int, depth: Int,
                                  heads: Int, mlpDim: Int, head: String) throws -> ViTConfig {
        let args = j?["model_args"], pcfg = j?["pretrained_cfg"]
        let configured = try configuredImageSize(src, [(pcfg?["input_size"], "pretrained_cfg.input_size"),
                                                       (args?["img_size"], "model_args.img_size"), (j?["img_size"], "img_size")])
        let (h, w): (Int, Int)
        if o.imageHeight != nil || configured != nil {
            (h, w) = try resolveImageSize(&src, o, configured, patches: 0, patch: patch)
        } else {
            (h, w) = (224, 224)
            src.note("image size", "224x224", "timm default (\(className) img_size): pass --image-size if trained otherwise")
        }
        if let ch = o.channels, ch != channels { throw bad(src, "--channels \(ch)", "\(channels) in the patch embedding") }
        let imagenet: ([Float], [Float]) = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        var c = ViTConfig(imageHeight: h, imageWidth: w, channels: channels, patchSize: patch, dim: dim, depth: depth,
                          heads: heads, headDim: dim / max(1, heads), mlpDim: mlpDim, numClasses: 0,
                          mean: floats(pcfg?["mean"]) ?? (channels == 3 ? imagenet.0 : nil),
                          std: floats(pcfg?["std"]) ?? (channels == 3 ? imagenet.1 : nil))
        c.architecture = architecture
        c.classToken = false
        c.positionEmbeddingIncludesPrefix = false
        c.patchNormAfter = true
        c.pool = .meanPatches
        switch args?["act_layer"]?.string {
        case nil: src.note("gelu", "exact", "timm default (nn.GELU)")
        case "gelu": src.note("gelu", "exact", "config.json model_args.act_layer")
        case let other?: if o.gelu == nil { throw bad(src, "act_layer gelu", other, "this activation is not supported") }
        }
        if let g = j?["global_pool"]?.string ?? args?["global_pool"]?.string, g != "avg" {
            throw bad(src, "global_pool 'avg'", "'\(g)'", "\(architecture.withArticle) without average pooling is not supported")
        }
        if let p = o.pool, p != .meanPatches { throw bad(src, "mean pooling for \(architecture.withArticle)", "--pool \(p.rawValue)") }
        src.note("pool", "mean", "timm \(className) (global_pool 'avg')")
        try timmPreprocessing(&c, &src, pcfg, meanDefault: "timm's \(className) default (ImageNet)", stdDefault: "timm's \(className) default (ImageNet)")
        if let hw = src.shape(head), hw.count == 2, hw[0] > 0 { c.numClasses = hw[0] }
        c.labels = (j?["label_names"]?.array?.compactMap { $0.string }) ?? []
        if !c.labels.isEmpty { src.note("labels", "\(c.labels.count)", "config.json label_names") }
        return c
    }
}
