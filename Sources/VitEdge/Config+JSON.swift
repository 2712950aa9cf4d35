// MARK: - JSON form (the .vitq header's "config" object)

extension ViTConfig {
    func toJSON() -> JSON {
        func n(_ v: Int) -> JSON { .number(Double(v)) }
        func f(_ v: Float) -> JSON { .number(Double(v)) }
        var pairs: [(String, JSON)] = [
            ("architecture", .string(architecture.rawValue)),
            ("backbone", backbone?.toJSON() ?? .null),
            ("image_height", n(imageHeight)), ("image_width", n(imageWidth)),
            ("channels", n(channels)), ("patch_size", n(patchSize)),
            ("patch_embedding", .string(patchEmbedding.rawValue)),
            ("patch_norm_before", .bool(patchNormBefore)), ("patch_norm_after", .bool(patchNormAfter)),
            ("class_token", .bool(classToken)), ("distillation_token", .bool(distillationToken)),
            ("position_embedding_includes_prefix", .bool(positionEmbeddingIncludesPrefix)),
            ("dim", n(dim)), ("depth", n(depth)), ("heads", n(heads)), ("head_dim", n(headDim)),
            ("mlp_dim", n(mlpDim)), ("token_mlp_dim", n(tokenMlpDim)), ("qkv_bias", .bool(qkvBias)),
            ("attention_projection", .bool(attentionProjection)), ("layer_scale", .bool(layerScale)),
            ("gelu", .string(gelu.rawValue)), ("eps", f(eps)),
            ("final_norm", .bool(finalNorm)), ("pool_norm", .bool(poolNorm)),
            ("pool", .string(pool.rawValue)), ("pre_logits_dim", n(preLogitsDim)),
            ("num_classes", n(numClasses)),
            ("mean", .array(mean.map(f))), ("std", .array(std.map(f))),
            ("preprocess", preprocessing.toJSON()),
            ("position_resampling", .string(positionResampling.rawValue)),
            ("labels", .array(labels.map { .string($0) })),
        ]
        // Written only when the model has them: every other file stays byte for byte as before.
        if registerTokens > 0 {
            let at = pairs.firstIndex { $0.0 == "position_embedding_includes_prefix" }! + 1
            pairs.insert(("register_tokens", n(registerTokens)), at: at)
        }
        if preNorm {
            let at = pairs.firstIndex { $0.0 == "position_embedding_includes_prefix" }! + 1
            pairs.insert(("pre_norm", .bool(true)), at: at)
        }
        if !t2tLayers.isEmpty {
            let at = pairs.firstIndex { $0.0 == "patch_norm_after" }! + 1
            pairs.insert(("t2t_layers", .array(t2tLayers.map { .array([n($0.kernel), n($0.stride)]) })), at: at)
        }
        if !swinStages.isEmpty {
            let at = pairs.firstIndex { $0.0 == "mlp_dim" }! + 1
            pairs.insert(contentsOf: [("swin_stages", .array(swinStages.map { .array([n($0.depth), n($0.heads)]) })), ("window", n(window))], at: at)
        }
        if !pvtStages.isEmpty {
            let at = pairs.firstIndex { $0.0 == "mlp_dim" }! + 1
            pairs.insert(contentsOf: [("pvt_stages", .array(pvtStages.map { .array([n($0.depth), n($0.heads), n($0.dim), n($0.mlpDim), n($0.reduction)]) })),
                                      ("patch_kernel", n(patchKernel))] + (pvtLinear ? [("pvt_linear", .bool(true))] : []), at: at)
        }
        if projectionDim > 0 {
            let at = pairs.firstIndex { $0.0 == "pre_logits_dim" }! + 1
            pairs.insert(("projection_dim", n(projectionDim)), at: at)
        }
        if normalizeFeatures {
            let at = pairs.firstIndex { $0.0 == "num_classes" }!
            pairs.insert(("normalize_features", .bool(true)), at: at)
        }
        if probabilities != .softmax {
            let at = pairs.firstIndex { $0.0 == "num_classes" }! + 1
            pairs.insert(("probabilities", .string(probabilities.rawValue)), at: at)
        }
        if let a = activationQuantization {
            pairs.append(("quantization", JSON.object([("activations", .string(a.rawValue))] + (int8Attention ? [("attention", .string("int8"))] : []))))
        }
        return .object(pairs)
    }

    static func fromJSON(_ j: JSON, source: String) throws -> ViTConfig {
        func fail(_ key: String, _ expected: String) -> VitError {
            .badModel(path: source, expected: "config field '\(key)' as \(expected)",
                      found: j[key].map { String($0.serialized().prefix(40)) } ?? "nothing",
                      hint: "the header was not written by vit-edge or is damaged")
        }
        func int(_ k: String) throws -> Int { guard let v = j[k]?.int else { throw fail(k, "an integer") }; return v }
        func bool(_ k: String) throws -> Bool { guard let v = j[k]?.bool else { throw fail(k, "true or false") }; return v }
        func float(_ k: String) throws -> Float { guard let v = j[k]?.double else { throw fail(k, "a number") }; return Float(v) }
        func floats(_ k: String) throws -> [Float] {
            guard let a = j[k]?.array, a.count <= 4 else { throw fail(k, "a list of numbers") }
            return try a.map { guard let d = $0.double else { throw fail(k, "a list of numbers") }; return Float(d) }
        }
        func oneOf<E: RawRepresentable>(_ k: String, _: E.Type) throws -> E where E.RawValue == String {
            guard let s = j[k]?.string, let e = E(rawValue: s) else { throw fail(k, "a known option") }
            return e
        }
        var c = ViTConfig(imageHeight: try int("image_height"), imageWidth: try int("image_width"),
                          channels: try int("channels"), patchSize: try int("patch_size"),
                          dim: try int("dim"), depth: try int("depth"), heads: try int("heads"),
                          headDim: try int("head_dim"), mlpDim: try int("mlp_dim"),
                          numClasses: try int("num_classes"), mean: try floats("mean"), std: try floats("std"))
        // Files written before the MLP models were added hold a ViT and say nothing.
        if j["architecture"] != nil { c.architecture = try oneOf("architecture", Architecture.self) }
        if j["token_mlp_dim"] != nil { c.tokenMlpDim = try int("token_mlp_dim") }
        if let b = j["backbone"], !b.isNull {
            guard let parsed = Backbone.fromJSON(b) else { throw fail("backbone", "a backbone object (see docs/FORMAT.md)") }
            c.backbone = parsed
        }
        c.patchEmbedding = try oneOf("patch_embedding", PatchEmbedding.self)
        c.patchNormBefore = try bool("patch_norm_before")
        c.patchNormAfter = try bool("patch_norm_after")
        if let t = j["t2t_layers"] {
            guard let layers = t.array?.map({ $0.array?.compactMap { $0.int } }), !layers.isEmpty,
                  layers.allSatisfy({ $0?.count == 2 }) else {
                throw fail("t2t_layers", "a list of [kernel, stride] pairs")
            }
            c.t2tLayers = layers.map { T2TLayer(kernel: $0![0], stride: $0![1]) }
        }
        if let t = j["swin_stages"] {
            guard let stages = t.array?.map({ $0.array?.compactMap { $0.int } }), !stages.isEmpty,
                  stages.allSatisfy({ $0?.count == 2 }) else {
                throw fail("swin_stages", "a list of [depth, heads] pairs")
            }
            c.swinStages = stages.map { SwinStage(depth: $0![0], heads: $0![1]) }
            c.window = try int("window")
        }
        if let t = j["pvt_stages"] {
            guard let stages = t.array?.map({ $0.array?.compactMap { $0.int } }), !stages.isEmpty,
                  stages.allSatisfy({ $0?.count == 5 }) else {
                throw fail("pvt_stages", "a list of [depth, heads, width, MLP width, reduction]")
            }
            c.pvtStages = stages.map { PVTStage(depth: $0![0], heads: $0![1], dim: $0![2], mlpDim: $0![3], reduction: $0![4]) }
            c.patchKernel = try int("patch_kernel")
            if j["pvt_linear"] != nil { c.pvtLinear = try bool("pvt_linear") }
        }
        c.classToken = try bool("class_token")
        c.distillationToken = try bool("distillation_token")
        c.positionEmbeddingIncludesPrefix = try bool("position_embedding_includes_prefix")
        // Written only when the model has them (files before DINOv2 have none).
        if j["register_tokens"] != nil { c.registerTokens = try int("register_tokens") }
        c.qkvBias = try bool("qkv_bias")
        c.attentionProjection = try bool("attention_projection")
        c.layerScale = try bool("layer_scale")
        c.gelu = try oneOf("gelu", GELU.self)
        c.eps = try float("eps")
        c.finalNorm = try bool("final_norm")
        c.poolNorm = try bool("pool_norm")
        c.pool = try oneOf("pool", Pooling.self)
        c.preLogitsDim = try int("pre_logits_dim")
        if j["pre_norm"] != nil { c.preNorm = try bool("pre_norm") }
        if j["projection_dim"] != nil { c.projectionDim = try int("projection_dim") }
        if j["normalize_features"] != nil { c.normalizeFeatures = try bool("normalize_features") }
        if j["probabilities"] != nil { c.probabilities = try oneOf("probabilities", ProbabilityFunction.self) }
        // Files written before preprocessing was recorded say "resize": "bilinear" (plain).
        if let r = j["resize"]?.string, r != "bilinear" { throw fail("resize", "\"bilinear\"") }
        if let p = j["preprocess"] {
            guard let parsed = Preprocessing.fromJSON(p) else { throw fail("preprocess", "a preprocessing object (see docs/FORMAT.md)") }
            c.preprocessing = parsed
        }
        if j["position_resampling"] != nil { c.positionResampling = try oneOf("position_resampling", PositionResampling.self) }
        guard let labels = j["labels"]?.array else { throw fail("labels", "a list of strings") }
        c.labels = try labels.map { guard let s = $0.string else { throw fail("labels", "a list of strings") }; return s }
        if let q = j["quantization"] {
            guard let a = q["activations"]?.string, let mode = ActivationQuantization(rawValue: a) else {
                throw fail("quantization", "{\"activations\": \"dynamic\" or \"static\"}")
            }
            c.activationQuantization = mode
            if let a = q["attention"] {
                guard let s = a.string, s == "int8" || s == "fp32" else { throw fail("quantization.attention", "\"int8\" or \"fp32\"") }
                guard s == "fp32" || c.architecture.tokenMixing == .attention else {
                    throw fail("quantization.attention", "\"fp32\" (a \(c.architecture.rawValue) model has no attention)")
                }
                c.int8Attention = s == "int8"
            }
        }
        try c.validate(source: source)
        return c
    }
}

extension Preprocessing {
    package func toJSON() -> JSON {
        var fields: [(String, JSON)]
        switch resize {
        case .toInput: fields = [("resize", .string("input"))]
        case .size(let h, let w): fields = [("resize", .string("size")), ("height", .number(Double(h))), ("width", .number(Double(w)))]
        case .shorterSide(let n): fields = [("resize", .string("shorter")), ("shorter", .number(Double(n)))]
        case .keepRatio(let h, let w): fields = [("resize", .string("keep_ratio")), ("height", .number(Double(h))), ("width", .number(Double(w)))]
        }
        fields += [("interpolation", .string(interpolation.rawValue)), ("resampler", .string(resampler.rawValue)),
                   ("crop", .string(crop.rawValue))]
        if let cropPct { fields.append(("crop_pct", .number(cropPct))) }
        if let cropMode { fields.append(("crop_mode", .string(cropMode))) }
        return .object(fields)
    }

    static func fromJSON(_ j: JSON) -> Preprocessing? {
        guard let interpolation = j["interpolation"]?.string.flatMap(Resample.Filter.init(rawValue:)),
              let resampler = j["resampler"]?.string.flatMap(Resampler.init(rawValue:)),
              let crop = j["crop"]?.string.flatMap(CropRounding.init(rawValue:)) else { return nil }
        var p = Preprocessing(interpolation: interpolation, resampler: resampler, crop: crop)
        func size(_ k: String) -> Int? { j[k]?.int.flatMap { $0 > 0 && $0 <= 1 << 16 ? $0 : nil } }
        switch j["resize"]?.string {
        case "input": p.resize = .toInput
        case "size": guard let h = size("height"), let w = size("width") else { return nil }; p.resize = .size(height: h, width: w)
        case "shorter": guard let n = size("shorter") else { return nil }; p.resize = .shorterSide(n)
        case "keep_ratio": guard let h = size("height"), let w = size("width") else { return nil }; p.resize = .keepRatio(height: h, width: w)
        default: return nil
        }
        if let pct = j["crop_pct"] {
            guard let v = pct.double, v > 0, v <= 1 else { return nil }
            p.cropPct = v
        }
        if let mode = j["crop_mode"] {
            guard let m = mode.string, m == "center" || m == "squash" else { return nil }
            p.cropMode = m
        }
        return p
    }
}
