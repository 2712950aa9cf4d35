/// Checkpoint → .vitq: detects the naming family (timm, Hugging Face, vit-pytorch)
/// from the tensor names, maps every tensor to the canonical names of
/// `ModelWeights.expectedTensors`, and derives the config from the shapes, the
/// checkpoint's config.json and the command-line options (which win).

package enum ModelFamily: String, Sendable {
    case timm
    case huggingFace = "huggingface"
    case vitPytorch = "vit-pytorch"
    /// OpenAI's CLIP names, as open_clip loads them (`visual.conv1`, `visual.proj`).
    case openAI = "openai"
}

/// Options a user gives on the command line; each overrides the config file.
package struct ConvertOptions: Sendable {
    package var heads: Int?
    package var pool: ViTConfig.Pooling?
    package var eps: Float?
    package var mean: [Float]?
    package var std: [Float]?
    package var labels: [String]?
    package var imageHeight: Int?
    package var imageWidth: Int?
    package var gelu: ViTConfig.GELU?
    package var channels: Int?
    /// A Hugging Face preprocessor_config.json (its resize, crop, mean and std).
    package var preprocessorConfig: JSON?
    /// timm-style preprocessing: shorter side to ⌊size / crop_pct⌋, centre crop (Pillow).
    package var cropPct: Double?
    package var interpolation: Resample.Filter?
    package var resampler: Preprocessing.Resampler?
    package var positionResampling: PositionResampling?
    /// A zero-shot head (text embeddings, and the file they came from).
    package var zeroShot: (head: ZeroShotHead, origin: String)?

    package init() {}
}

/// Where one value of a converted config came from, so that nothing is guessed
/// silently: the checkpoint's tensors, its config.json, a known architecture, a
/// command-line option, or a default (the family's documented one or vit-edge's).
package struct Origin: Sendable, Equatable {
    package var field: String
    package var value: String
    package var source: String
}

package struct Conversion {
    package var family: ModelFamily
    package var config: ViTConfig
    package var tensors: [VitqWriter.Tensor]
    /// Checkpoint tensors deliberately not used, with the reason (never silent).
    package var ignoredTensors: [(name: String, reason: String)]
    /// The same as "name (reason)" lines.
    package var ignored: [String] { ignoredTensors.map { "\($0.name) (\($0.reason))" } }
    /// Where each setting that the tensors alone do not fix came from.
    package var origins: [Origin] = []

    package func vitqBytes() -> [UInt8] {
        var w = VitqWriter(config: config)
        for t in tensors { w.add(t) }
        return w.serialize()
    }
}

package enum Converter {
    package static func convert(_ st: Safetensors, configJSON: JSON?, options: ConvertOptions) throws -> Conversion {
        var src = TensorSource(st)
        let family = try detectFamily(st)
        var c: ViTConfig
        switch family {
        case .timm:
            c = isMLPModel(st) ? try mapTimmMLP(&src, configJSON, options)
                : isTimmSwin(st) ? try mapTimmSwin(&src, configJSON, options)
                : isTimmPVT(st) ? try mapTimmPVT(&src, configJSON, options) : try mapTimm(&src, configJSON, options)
        case .huggingFace:
            c = isHuggingFaceSigLIP(st) ? try mapHuggingFaceSigLIP(&src, configJSON, options)
                : isHuggingFaceCLIP(st) ? try mapHuggingFaceCLIP(&src, configJSON, options) : try mapHuggingFace(&src, configJSON, options)
        case .openAI: c = try mapOpenAICLIP(&src, configJSON, options)
        case .vitPytorch: c = isT2T(st) ? try mapT2T(&src, configJSON, options) : try mapVitPytorch(&src, configJSON, options)
        }
        // Options that apply to every family.
        if let e = options.eps { c.eps = e; src.note("eps", "\(e)", "--eps") }
        if let g = options.gelu { c.gelu = g; src.note("gelu", g.rawValue, "--gelu") }
        if let m = options.mean { c.mean = m.count == 1 ? [Float](repeating: m[0], count: c.channels) : m; src.note("mean", "\(c.mean)", "--mean") }
        if let s = options.std { c.std = s.count == 1 ? [Float](repeating: s[0], count: c.channels) : s; src.note("std", "\(c.std)", "--std") }
        if let hf = options.preprocessorConfig {
            let (p, mean, std) = try Preprocessing.fromHuggingFace(hf, input: (c.imageHeight, c.imageWidth), source: "preprocessor config")
            c.preprocessing = p
            src.note("preprocess", p.summary, "--preprocessor (preprocessor_config.json)")
            func perChannel(_ v: [Float]) -> [Float] { v.count == 1 ? [Float](repeating: v[0], count: c.channels) : v }
            if let mean, options.mean == nil { c.mean = perChannel(mean); src.note("mean", "\(c.mean)", "preprocessor_config.json image_mean") }
            if let std, options.std == nil { c.std = perChannel(std); src.note("std", "\(c.std)", "preprocessor_config.json image_std") }
        }
        if let pct = options.cropPct {
            if let problem = Preprocessing.cropPctProblem(pct, height: c.imageHeight, width: c.imageWidth) {
                throw VitError.invalidArgument("--crop-pct \(pct): expected \(problem)")
            }
            let p = Preprocessing.timm(height: c.imageHeight, width: c.imageWidth, cropPct: pct,
                                       interpolation: options.interpolation ?? .bicubic)!
            c.preprocessing = p
            src.note("preprocess", p.summary, "--crop-pct")
        }
        if let i = options.interpolation, c.preprocessing.interpolation != i {
            c.preprocessing.interpolation = i
            src.note("preprocess", c.preprocessing.summary, "--interpolation")
        }
        if let r = options.resampler, c.preprocessing.resampler != r {
            c.preprocessing.resampler = r
            src.note("preprocess", c.preprocessing.summary, "--resampler")
        }
        if let r = options.positionResampling { c.positionResampling = r; src.note("position resampling", r.rawValue, "--position-resampling") }
        if let z = options.zeroShot { try applyZeroShot(z.head, to: &c, &src, origin: z.origin) }
        if let l = options.labels { c.labels = l; src.note("labels", "\(l.count)", "--labels") }
        if c.labels.isEmpty && c.numClasses > 0 {
            c.labels = (0..<c.numClasses).map { String($0) }
            src.note("labels", "0...\(c.numClasses - 1)", "default: class indices (no label names given; --labels FILE)")
        }
        do { try c.validate(source: st.path) } catch let VitError.badModel(_, expected, found, _) {
            throw VitError.badCheckpoint(path: st.path, expected: expected, found: found,
                                         hint: "set the value with a command-line option (see `vit-edge convert --help`)")
        }
        let unused = src.unused.filter { !src.ignored.keys.contains($0) }
        if !unused.isEmpty {
            throw VitError.badCheckpoint(path: st.path, expected: "only tensors of a \(family.rawValue) \(c.architecture.displayName)",
                                         found: "unknown tensors \(unused.prefix(5).joined(separator: ", "))\(unused.count > 5 ? " and \(unused.count - 5) more" : "")",
                                         hint: "this architecture variant is not supported")
        }
        // Emit in canonical order, checking each shape against the derived config.
        var tensors: [VitqWriter.Tensor] = []
        for (name, shape) in ModelWeights.expectedTensors(c) {
            guard let t = src.out[name] else {
                throw VitError.badTensor(name: name, expected: "shape \(shape)", found: "no tensor",
                                         hint: "the checkpoint lacks a tensor its configuration needs")
            }
            guard t.shape == shape else {
                throw VitError.badTensor(name: name, expected: "shape \(shape)", found: "shape \(t.shape) (from \(t.source))",
                                         hint: "check --heads, --image-size and the config file")
            }
            tensors.append(VitqWriter.Tensor(name: name, shape: shape, floats: t.values))
        }
        // One line per field: the last word on it (an option overrides the config).
        var origins: [Origin] = []
        for o in src.origins {
            if let i = origins.firstIndex(where: { $0.field == o.field }) { origins[i] = o } else { origins.append(o) }
        }
        return Conversion(family: family, config: c, tensors: tensors,
                          ignoredTensors: src.ignored.sorted { $0.key < $1.key }.map { (name: $0.key, reason: $0.value) },
                          origins: origins)
    }

    package static func detectFamily(_ st: Safetensors) throws -> ModelFamily {
        let names = st.entries.map { $0.name }
        if names.contains(where: { $0.hasSuffix("embeddings.patch_embeddings.projection.weight") }) || isHuggingFaceCLIP(st)
            || isHuggingFaceSigLIP(st) { return .huggingFace }
        if isOpenAICLIP(st) { return .openAI }
        if names.contains("patch_embed.proj.weight") || names.contains("stem.proj.weight") { return .timm }
        if names.contains(where: { $0.hasPrefix("to_patch_embedding.") }) { return .vitPytorch }
        throw VitError.badCheckpoint(path: st.path, expected: "a timm, Hugging Face or vit-pytorch ViT, a CLIP or SigLIP image tower, or a timm MLP-Mixer or ResMLP",
                                     found: "tensors \(names.prefix(4).joined(separator: ", "))",
                                     hint: "vit-edge recognises patch_embed.proj (timm), stem.proj (timm MlpMixer), embeddings.patch_embeddings (Hugging Face), vision_model.embeddings.patch_embedding (Hugging Face CLIP, SigLIP), visual.conv1 (OpenAI CLIP), to_patch_embedding (vit-pytorch)")
    }

    // MARK: helpers

    static func bad(_ st: TensorSource, _ expected: String, _ found: String, _ hint: String = "") -> VitError {
        .badCheckpoint(path: st.path, expected: expected, found: found, hint: hint)
    }

    /// A whole number from the config, within ±2^30 (so products of a few cannot overflow).
    static func intValue(_ j: JSON?, _ keys: [String]) -> Int? {
        for k in keys { if let v = j?[k]?.int, abs(v) <= 1 << 30 { return v } }
        return nil
    }

    /// An image size from a config value (n, [h, w] or timm's [c, h, w]), nil when the
    /// key is absent; a value that is present but not a size in 1...65536 is an error
    /// (never ignored in favour of a guess).
    static func imageSize(_ j: JSON?, key: String, _ src: TensorSource) throws -> (Int, Int)? {
        guard let v = j, !v.isNull else { return nil }
        func ok(_ h: Int?, _ w: Int?) -> (Int, Int)? {
            guard let h, let w, (1...65536).contains(h), (1...65536).contains(w) else { return nil }
            return (h, w)
        }
        var size: (Int, Int)? = nil
        if let n = v.int { size = ok(n, n) }
        if let a = v.array, a.count == 2 { size = ok(a[0].int, a[1].int) }
        if let a = v.array, a.count == 3 { size = ok(a[1].int, a[2].int) }  // timm input_size [C, H, W]
        guard let size else {
            throw bad(src, "\(key) as a size in 1...65536 (n, [h, w] or [c, h, w])", String(v.serialized().prefix(40)),
                      "fix the config or pass --image-size")
        }
        return size
    }

    /// The image size a config gives, from the first of `keys` present; every key that is
    /// present must be a valid size (never ignored in favour of another), and they must agree.
    static func configuredImageSize(_ src: TensorSource, _ keys: [(JSON?, String)]) throws -> (size: (Int, Int), key: String)? {
        var found: (size: (Int, Int), key: String)? = nil
        for (value, key) in keys {
            guard let size = try imageSize(value, key: key, src) else { continue }
            if let f = found {
                guard f.size == size else {
                    throw bad(src, "\(f.key) and \(key) to agree", "\(f.size.0)x\(f.size.1) and \(size.0)x\(size.1)",
                              "fix the config or pass --image-size")
                }
            } else {
                found = (size, key)
            }
        }
        return found
    }

    static func floats(_ j: JSON?) -> [Float]? {
        guard let a = j?.array else { return nil }
        let v = a.compactMap { $0.double.map(Float.init) }
        return v.count == a.count && !v.isEmpty ? v : nil
    }

    static func squareRoot(_ n: Int) -> Int? {
        guard n > 0 else { return nil }
        var r = Int(Double(n).squareRoot())
        while r * r > n { r -= 1 }
        while (r + 1) * (r + 1) <= n { r += 1 }
        return r * r == n ? r : nil
    }

    /// The image size: options, then config, then a square grid from the patch count.
    static func resolveImageSize(_ src: inout TensorSource, _ o: ConvertOptions, _ fromConfig: (size: (Int, Int), key: String)?,
                                 patches: Int, patch: Int) throws -> (Int, Int) {
        if let h = o.imageHeight, let w = o.imageWidth {
            src.note("image size", "\(h)x\(w)", "--image-size")
            return (h, w)
        }
        if let s = fromConfig {
            src.note("image size", "\(s.size.0)x\(s.size.1)", "config.json \(s.key)")
            return s.size
        }
        guard let g = squareRoot(patches) else {
            throw bad(src, "a square patch grid, or the image size", "\(patches) patches", "pass --image-size HxW")
        }
        src.note("image size", "\(g * patch)x\(g * patch)", "checkpoint: a square grid of \(patches) position embeddings")
        return (g * patch, g * patch)
    }

    static func labels(fromId2Label j: JSON?) -> [String]? {
        guard let pairs = j?.object, !pairs.isEmpty else { return nil }
        var out = [String?](repeating: nil, count: pairs.count)
        for (k, v) in pairs {
            guard let i = Int(k), i >= 0, i < pairs.count, let s = v.string else { return nil }
            out[i] = s
        }
        return out.allSatisfy { $0 != nil } ? out.map { $0! } : nil
    }

    static func gelu(fromHiddenAct s: String?) -> ViTConfig.GELU? {
        switch s {
        case "gelu", "gelu_python": return .erf
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_accurate": return .tanh
        case "quick_gelu": return .quick
        default: return nil
        }
    }
}

/// The checkpoint's tensors, with a record of which were used, and the canonical
/// tensors produced from them.
struct TensorSource {
    struct Out { var shape: [Int]; var values: [Float]; var source: String }
    let st: Safetensors
    var used = Set<String>()
    var ignored: [String: String] = [:]
    var out: [String: Out] = [:]
    var origins: [Origin] = []

    /// Records where a setting came from (see `Origin`).
    mutating func note(_ field: String, _ value: String, _ source: String) {
        origins.append(Origin(field: field, value: value, source: source))
    }

    init(_ st: Safetensors) { self.st = st }

    var path: String { st.path }
    var unused: [String] { st.entries.map { $0.name }.filter { !used.contains($0) } }

    func has(_ name: String) -> Bool { st.entry(name) != nil }
    func shape(_ name: String) -> [Int]? { st.entry(name)?.shape }

    /// Takes a tensor, or throws naming it.
    mutating func take(_ name: String) throws -> (shape: [Int], values: [Float]) {
        guard let e = st.entry(name) else {
            throw VitError.badTensor(name: name, expected: "a tensor", found: "none in \(st.path)",
                                     hint: "the checkpoint is incomplete or of another architecture")
        }
        used.insert(name)
        return (e.shape, st.floats(e))
    }

    mutating func ignore(_ name: String, because why: String) {
        if has(name) { used.insert(name); ignored[name] = why }
    }

    /// Maps a checkpoint tensor to a canonical name, reshaped.
    mutating func put(_ canonical: String, from name: String, shape: [Int]? = nil) throws {
        let t = try take(name)
        let s = shape ?? t.shape
        guard s.reduce(1, *) == t.values.count else {
            throw VitError.badTensor(name: name, expected: "\(s.reduce(1, *)) elements for \(s)", found: "shape \(t.shape)", hint: "")
        }
        out[canonical] = Out(shape: s, values: t.values, source: name)
    }

    /// Maps a checkpoint tensor to a canonical name through a transformation of its values.
    mutating func putTransformed(_ canonical: String, from name: String, shape: [Int], _ transform: ([Float]) -> [Float]) throws {
        let t = try take(name)
        guard shape.reduce(1, *) == t.values.count else {
            throw VitError.badTensor(name: name, expected: "\(shape.reduce(1, *)) elements for \(shape)", found: "shape \(t.shape)", hint: "")
        }
        out[canonical] = Out(shape: shape, values: transform(t.values), source: name)
    }

    /// Maps a Linear layer's weight and bias; with `scale` (a LayerScale γ [out] applied to
    /// the layer's output), folds it in: W'[o, :] = γ[o]·W[o, :], b'[o] = γ[o]·b[o], so the
    /// residual add that follows needs no multiply.
    mutating func putLinear(_ canonical: String, from name: String, scaledBy scale: String?) throws {
        guard let scale else {
            try put(canonical + ".weight", from: name + ".weight")
            try put(canonical + ".bias", from: name + ".bias")
            return
        }
        let g = try take(scale).values
        let w = try take(name + ".weight"), b = try take(name + ".bias")
        guard w.shape.count == 2, w.shape[0] == g.count, b.values.count == g.count else {
            throw VitError.badTensor(name: scale, expected: "\(w.shape.first ?? 0) values, one per output of \(name)",
                                     found: "\(g.count)", hint: "")
        }
        let k = w.shape[1]
        var wv = w.values
        for o in 0..<g.count { for i in 0..<k { wv[o * k + i] *= g[o] } }
        out[canonical + ".weight"] = Out(shape: w.shape, values: wv, source: "\(name).weight × \(scale)")
        out[canonical + ".bias"] = Out(shape: b.shape, values: zip(b.values, g).map { $0 * $1 }, source: "\(name).bias × \(scale)")
    }

    /// Stacks q, k and v Linear weights (or biases) into one qkv tensor.
    mutating func putStacked(_ canonical: String, from names: [String]) throws {
        var values: [Float] = []
        var rows = 0
        var cols: [Int] = []
        for n in names {
            let t = try take(n)
            values += t.values
            rows += t.shape.first ?? 0
            if cols.isEmpty { cols = Array(t.shape.dropFirst()) } else if cols != Array(t.shape.dropFirst()) {
                throw VitError.badTensor(name: n, expected: "shape [_, \(cols)]", found: "\(t.shape)", hint: "q, k and v must match")
            }
        }
        out[canonical] = Out(shape: [rows] + cols, values: values, source: names.joined(separator: "+"))
    }

    func count(prefix: String, suffix: String) -> Int {
        var n = 0
        while has("\(prefix)\(n)\(suffix)") { n += 1 }
        return n
    }
}
