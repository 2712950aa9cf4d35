#if canImport(Glibc)
import Glibc
#endif

/// The int8 form of a Linear layer (see `QuantizationScheme`).
struct Int8Weights {
    /// [outFeatures, inFeatures]
    var weight: UnsafePointer<Int8>
    /// [outFeatures] per-output-channel scales
    var scale: UnsafePointer<Float>
    /// The per-tensor activation scale (static quantization), or nil (dynamic).
    var inputScale: Float?
    /// The weight in the int8 GEMM panel layout, when the kernel set packs.
    var packed: UnsafeRawPointer?
    /// Every weight is within ±63 (a 7-bit file) and the kernel set has a faster kernel
    /// for such layers (`Kernels.qs8Narrow`): decided when packing.
    var narrow = false
}

/// A Linear layer: views into the weight block. PyTorch layout, weight [out, in].
struct Linear {
    /// [outFeatures, inFeatures] fp32, or nil when the layer is int8
    var weight: UnsafePointer<Float>?
    /// [outFeatures], or nil
    var bias: UnsafePointer<Float>?
    var outFeatures: Int
    var inFeatures: Int
    /// The weight in the GEMM panel layout, when the kernel set packs.
    var packed: UnsafePointer<Float>?
    /// The int8 weights, when the layer is quantized.
    var int8: Int8Weights? = nil
}

/// LayerNorm parameters: γ and β of `count` features.
struct LayerNorm {
    /// [count]
    var gamma: UnsafePointer<Float>
    /// [count]
    var beta: UnsafePointer<Float>
    var count: Int
    var eps: Float
}

/// A per-channel normalization: LayerNorm (ViT, MLP-Mixer) or ResMLP's affine
/// `x·α + β` (no statistics: the same γ/β fields hold α and β).
enum ChannelNorm {
    case layerNorm(LayerNorm)
    case affine(LayerNorm)

    /// y = norm(x) over `rows` rows of `count` features; y may be x.
    func apply(_ k: Kernels, rows: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
        switch self {
        case .layerNorm(let ln): k.layerNorm(ln, rows: rows, x: x, ldx: ldx, y: y, ldy: ldy)
        case .affine(let a): VitEdge.affine(a, k, rows: rows, x: x, ldx: ldx, y: y, ldy: ldy)
        }
    }
}

/// Every weight of the model, one value per block; all views into the file's payload.
struct ModelWeights {
    /// LayerNorm over each flattened patch [patchDim] (vit-pytorch), or nil
    var patchNormBefore: LayerNorm?
    /// What makes the patches from the image: nothing but cutting (`ImagePatches`), the
    /// hybrid's ResNet, T2T-ViT's soft splits and their blocks (`PatchStem`)
    var stem: any PatchStem
    /// [dim, channels·patch·patch], the convolution kernel flattened (c, y, x); for
    /// the hybrid (y, x, c), as its NHWC feature map is cut
    var patch: Linear
    /// LayerNorm over each patch embedding [dim] (vit-pytorch), or nil
    var patchNormAfter: LayerNorm?
    /// [dim], or nil
    var classToken: UnsafePointer<Float>?
    /// [dim], or nil
    var distillationToken: UnsafePointer<Float>?
    /// CLIP's LayerNorm after the positions (`norm_pre`), or nil
    var preNorm: LayerNorm?
    /// [projectionDim, dim] without bias: CLIP's projection after pooling, or nil
    var projection: Linear?
    /// [registerTokens, dim], or nil
    var registers: UnsafePointer<Float>?
    /// [positionRows, dim], or nil (the MLP models have none)
    var positions: UnsafePointer<Float>?
    /// The encoder's layers (blocks, and a hierarchical model's patch merging), each of its
    /// family's kind (`Families/`), and their tensors' name prefixes (`blocks.3.`).
    var blocks: [any EncoderBlock]
    var blockPrefixes: [String]
    var norm: ChannelNorm?
    /// SigLIP's attention-pooling head, or nil
    var attentionPool: AttentionPoolWeights? = nil
    var poolNorm: LayerNorm?
    /// [preLogitsDim, dim], or nil
    var preLogits: Linear?
    /// [numClasses, featureDim], or nil for a model without a head
    var head: Linear?
    /// [numClasses, featureDim], DeiT's distillation head, or nil
    var headDistillation: Linear?
    /// 8 or 7 (every int8 weight within ±63) for a quantized model, nil for fp32.
    var int8WeightBits: Int? = nil

    /// Canonical tensor names and shapes of a config, in file order. The converter
    /// writes exactly these; the loader requires exactly these.
    static func expectedTensors(_ c: ViTConfig) -> [(String, [Int])] {
        switch c.architecture.tokenMixing {
        case .weights: return expectedMixerTensors(c)
        case .attention: break
        }
        var t: [(String, [Int])] = []
        t += c.patchStem.tensors(c)
        if c.patchNormBefore { t += [("patch_embed.norm_pre.weight", [c.patchDim]), ("patch_embed.norm_pre.bias", [c.patchDim])] }
        t += [("patch_embed.weight", [c.dim, c.patchDim]), ("patch_embed.bias", [c.dim])]
        if c.patchNormAfter { t += [("patch_embed.norm_post.weight", [c.dim]), ("patch_embed.norm_post.bias", [c.dim])] }
        if c.classToken { t.append(("cls_token", [c.dim])) }
        if c.distillationToken { t.append(("dist_token", [c.dim])) }
        if c.registerTokens > 0 { t.append(("reg_token", [c.registerTokens, c.dim])) }
        if c.hasPositionEmbedding { t.append(("pos_embed", [c.positionRows, c.dim])) }
        if c.preNorm { t += [("norm_pre.weight", [c.dim]), ("norm_pre.bias", [c.dim])] }
        for l in c.encoderLayers { t += l.kind.tensors(l.shape, prefix: l.prefix) }
        if c.finalNorm { t += [("norm.weight", [c.outputDim]), ("norm.bias", [c.outputDim])] }
        if c.pool == .attentionPool { t += AttentionPoolShape(c).tensors }
        if c.poolNorm { t += [("fc_norm.weight", [c.dim]), ("fc_norm.bias", [c.dim])] }
        if c.preLogitsDim > 0 { t += [("pre_logits.weight", [c.preLogitsDim, c.dim]), ("pre_logits.bias", [c.preLogitsDim])] }
        if c.projectionDim > 0 { t.append(("proj.weight", [c.projectionDim, c.dim])) }
        if c.numClasses > 0 {
            t += [("head.weight", [c.numClasses, c.featureDim]), ("head.bias", [c.numClasses])]
            if c.distillationToken {
                t += [("head_dist.weight", [c.numClasses, c.featureDim]), ("head_dist.bias", [c.numClasses])]
            }
        }
        return t
    }

    /// MLP-Mixer and ResMLP, in timm's names (`stem.proj` becomes `patch_embed`, as for
    /// the ViT). ResMLP's affine norms keep timm's `alpha` and `beta`.
    static func expectedMixerTensors(_ c: ViTConfig) -> [(String, [Int])] {
        let d = c.dim
        let norm = c.architecture == .resmlp ? ["alpha", "beta"] : ["weight", "bias"]
        var t: [(String, [Int])] = [("patch_embed.weight", [d, c.patchDim]), ("patch_embed.bias", [d])]
        for l in c.encoderLayers { t += l.kind.tensors(l.shape, prefix: l.prefix) }
        t += norm.map { ("norm." + $0, [d]) }
        if c.numClasses > 0 { t += [("head.weight", [c.numClasses, d]), ("head.bias", [c.numClasses])] }
        return t
    }

    /// Whether every value is finite: x · 0 is 0 for finite x and NaN otherwise, summed
    /// eight lanes at a time (a pass at memory speed).
    static func allFinite(_ v: UnsafeBufferPointer<Float>) -> Bool {
        typealias V = SIMD8<Float>
        guard let base = v.baseAddress else { return true }
        var acc = V()
        var i = 0
        while i + 8 <= v.count {
            acc += UnsafeRawPointer(base + i).loadUnaligned(as: V.self) * 0
            i += 8
        }
        var tail: Float = 0
        while i < v.count { tail += v[i] * 0; i += 1 }
        return acc == V() && tail == 0
    }

    /// Binds every tensor of the file, checking names, dtypes and shapes against
    /// the config. A missing, extra or mis-shaped tensor is an error naming it.
    init(file: VitqFile, source: String) throws {
        let c = file.config
        let expected = ModelWeights.expectedTensors(c)
        var expectedNames = Set(expected.map { $0.0 })
        // An int8 Linear weight brings its scales: `<name>_scale` [out] and, with static
        // activations, `<layer>.input_scale` [1].
        var int8Layers = Set<String>()
        for (name, shape) in expected where ModelWeights.isQuantizable(name) && file.info(name)?.dtype == .i8 {
            guard c.activationQuantization != nil else {
                throw VitError.badTensor(name: name, expected: "dtype f32 in a model without quantization settings",
                                         found: "dtype i8", hint: "\(source) does not match its own config")
            }
            let layer = String(name.dropLast(".weight".count))
            int8Layers.insert(layer)
            var extra = [(name + "_scale", [shape[0]])]
            if c.activationQuantization == .static { extra.append((layer + ".input_scale", [1])) }
            for (e, eshape) in extra {
                guard let t = file.info(e), t.dtype == .f32, t.shape == eshape else {
                    throw VitError.badTensor(name: e, expected: "f32 shape \(eshape)",
                                             found: file.info(e).map { "\($0.dtype.rawValue) shape \($0.shape)" } ?? "no tensor",
                                             hint: "an int8 weight needs its scales")
                }
                expectedNames.insert(e)
            }
        }
        for t in file.tensors where !expectedNames.contains(t.name) {
            throw VitError.badTensor(name: t.name, expected: "no such tensor in this configuration", found: "shape \(t.shape)",
                                     hint: "\(source) does not match its own config")
        }
        for (name, shape) in expected {
            guard let t = file.info(name) else {
                throw VitError.badTensor(name: name, expected: "shape \(shape)", found: "no tensor",
                                         hint: "\(source) does not match its own config")
            }
            guard t.dtype == .f32 || (t.dtype == .i8 && int8Layers.contains(String(name.dropLast(".weight".count)))) else {
                throw VitError.badTensor(name: name, expected: "dtype f32", found: "dtype \(t.dtype.rawValue)",
                                         hint: "only the Linear weights of the blocks and the attention-pooling head, and the backbone's convolutions, may be int8")
            }
            guard t.shape == shape else {
                throw VitError.badTensor(name: name, expected: "shape \(shape)", found: "shape \(t.shape)",
                                         hint: "\(source) does not match its own config")
            }
        }
        // The int8 weights' precision: 7 bits when every one is within ±63 (`quantize
        // --weight-bits 7`), read before packing may hand the pages back.
        let int8Tensors = file.tensors.filter { $0.dtype == .i8 }
        if !int8Tensors.isEmpty {
            int8WeightBits = int8Tensors.allSatisfy { t in
                !UnsafeBufferPointer(start: (file.payload.base + t.offset).assumingMemoryBound(to: Int8.self), count: t.byteCount)
                    .contains { $0 < -63 || $0 > 63 }
            } ? 7 : 8
        }
        // Every float of the file finite and every quantization scale positive: the forward
        // pass does not throw, so what it reads is checked here, once.
        for t in file.tensors where t.dtype == .f32 {
            let v = UnsafeBufferPointer(start: file.floats(t.name)!, count: t.byteCount / 4)
            guard ModelWeights.allFinite(v) else {
                let i = v.firstIndex { !$0.isFinite }!
                throw VitError.badTensor(name: t.name, expected: "finite values", found: "\(v[i]) at index \(i)",
                                         hint: "\(source) holds NaN or infinity: re-export the checkpoint")
            }
            if t.name.hasSuffix("weight_scale") || t.name.hasSuffix("input_scale"), let i = v.firstIndex(where: { !($0 > 0) }) {
                throw VitError.badTensor(name: t.name, expected: "positive quantization scales", found: "\(v[i]) at index \(i)",
                                         hint: "\(source) is damaged: quantize the fp32 model again")
            }
        }
        let t = TensorBinder(config: c, file: file, int8Layers: int8Layers)
        let f = t.float
        func ln(_ prefix: String, _ n: Int) -> LayerNorm { t.layerNorm(prefix, n) }
        func linear(_ prefix: String, out: Int, in k: Int, bias: Bool = true) -> Linear { t.linear(prefix, out: out, in: k, bias: bias) }
        stem = c.patchStem.init(c, t)
        patchNormBefore = c.patchNormBefore ? ln("patch_embed.norm_pre", c.patchDim) : nil
        patch = linear("patch_embed", out: c.dim, in: c.patchDim)
        patchNormAfter = c.patchNormAfter ? t.layerNorm("patch_embed.norm_post", c.dim, eps: c.patchNormEps) : nil
        classToken = c.classToken ? f("cls_token") : nil
        distillationToken = c.distillationToken ? f("dist_token") : nil
        registers = c.registerTokens > 0 ? f("reg_token") : nil
        let layers = c.encoderLayers
        blocks = layers.map { $0.kind.init($0.shape, prefix: $0.prefix, t) }
        blockPrefixes = layers.map(\.prefix)
        switch c.architecture.tokenMixing {
        case .attention: break
        case .weights:
            positions = nil
            norm = MixerBlock.channelNorm(c.encoderShape, "norm", t)
            poolNorm = nil
            preLogits = nil
            head = c.numClasses > 0 ? linear("head", out: c.numClasses, in: c.dim) : nil
            headDistillation = nil
            return
        }
        positions = c.hasPositionEmbedding ? f("pos_embed") : nil
        preNorm = c.preNorm ? ln("norm_pre", c.dim) : nil
        norm = c.finalNorm ? .layerNorm(ln("norm", c.outputDim)) : nil
        attentionPool = c.pool == .attentionPool ? AttentionPoolWeights(c, t) : nil
        poolNorm = c.poolNorm ? ln("fc_norm", c.dim) : nil
        preLogits = c.preLogitsDim > 0 ? linear("pre_logits", out: c.preLogitsDim, in: c.dim) : nil
        projection = c.projectionDim > 0 ? linear("proj", out: c.projectionDim, in: c.dim, bias: false) : nil
        head = c.numClasses > 0 ? linear("head", out: c.numClasses, in: c.featureDim) : nil
        headDistillation = c.numClasses > 0 && c.distillationToken ? linear("head_dist", out: c.numClasses, in: c.featureDim) : nil
    }

    /// The layers the int8 scheme covers: in the blocks, attention and MLP (ViT), token
    /// mixing and channel MLP (MLP-Mixer, ResMLP); the hybrid backbone's convolutions; the
    /// attention-pooling head's value, output projection and MLP.
    static let quantizableLayerKinds = ["conv", "conv1", "conv2", "conv3", "attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2", "mlp_tokens.fc1", "mlp_tokens.fc2",
                                        "linear_tokens", "mlp_channels.fc1", "mlp_channels.fc2", "downsample.reduction",
                                        "attn.q", "attn.kv", "attn.sr", "downsample.proj"]

    /// True for the Linear weights the int8 scheme covers.
    static func isQuantizable(_ name: String) -> Bool {
        if name.hasPrefix("attn_pool."), name.hasSuffix(".weight") {
            return AttentionPoolWeights.quantizableLayers.contains(String(name.dropLast(".weight".count)))
        }
        return (name.hasPrefix("blocks.") || name.hasPrefix("layers.") || name.hasPrefix("stages.") || name.hasPrefix("patch_embed.backbone."))
            && quantizableLayerKinds.contains { name.hasSuffix("." + $0 + ".weight") }
    }

    /// The layers (`blocks.3.mlp.fc1`) a config's int8 scheme covers, in file order.
    static func quantizableLayers(_ c: ViTConfig) -> [String] {
        expectedTensors(c).map { $0.0 }.filter(isQuantizable).map { String($0.dropLast(".weight".count)) }
    }

    /// Calls `body` with every Linear layer and its name (`patch_embed`, `blocks.0.attn.qkv`,
    /// `head`), in file order; the layer may be changed in place.
    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) {
        stem.forEachLinear(body)
        body("patch_embed", &patch)
        for i in blocks.indices {
            let p = blockPrefixes[i]
            blocks[i].forEachLinear { name, l in body(p + name, &l) }
        }
        if var a = attentionPool { a.forEachLinear(body); attentionPool = a }
        if var l = preLogits { body("pre_logits", &l); preLogits = l }
        if var l = projection { body("proj", &l); projection = l }
        if var l = head { body("head", &l); head = l }
        if var l = headDistillation { body("head_dist", &l); headDistillation = l }
    }

    /// The Linear layer of that name, or nil.
    func linear(named name: String) -> Linear? {
        var copy = self, found: Linear? = nil
        copy.forEachLinear { n, l in if n == name { found = l } }
        return found
    }

    /// True when any Linear layer is int8.
    var hasInt8: Bool {
        var copy = self, any = false
        copy.forEachLinear { _, l in any = any || l.int8 != nil }
        return any
    }

    /// Packs every Linear weight into one aligned block for the GEMM microkernels:
    /// fp32 layers when the kernel set has an fp32 GEMM, int8 layers when it has an int8 GEMM.
    /// `release`: right after packing a layer, return the whole pages of its unpacked
    /// weight to the system (`madvise(MADV_DONTNEED)`: the mapped payload then reads as
    /// zeros there) and forget the fp32 pointer, so the reference GEMM can never read
    /// them. Returns the block and the bytes released.
    mutating func pack(fp32: Bool, int8: Bool, kernels: Kernels, release: Bool = false) -> (AlignedBuffer, released: Int) {
        var offsets: [Int] = []
        var total = 0
        forEachLinear { _, l in
            offsets.append(total)
            let bytes = l.int8 != nil ? (int8 ? kernels.qs8PackedBytes(n: l.outFeatures, k: l.inFeatures) : 0)
                : (fp32 ? Kernels.packedCount(n: l.outFeatures, k: l.inFeatures) * 4 : 0)
            total = alignUp(total + bytes, AlignedBuffer.alignment)
        }
        let buffer = AlignedBuffer(bytes: total)
        var next = 0
        var released = 0
        #if os(Linux)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        #endif
        func drop(_ p: UnsafeRawPointer, _ bytes: Int) {
            #if os(Linux)
            let start = alignUp(Int(bitPattern: p), page), end = (Int(bitPattern: p) + bytes) / page * page
            if release, end > start, madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) == 0 {
                released += end - start
            }
            #endif
        }
        func packed(_ l: Linear) -> Linear {
            var l = l
            let offset = offsets[next]
            next += 1
            if var q = l.int8 {
                guard int8 else { return l }
                kernels.qs8Pack(q.weight, n: l.outFeatures, k: l.inFeatures, into: buffer.base + offset)
                q.packed = UnsafeRawPointer(buffer.base + offset)
                if kernels.qs8Narrow != nil {
                    let count = l.outFeatures * l.inFeatures
                    q.narrow = !UnsafeBufferPointer(start: q.weight, count: count).contains { $0 < -63 || $0 > 63 }
                }
                l.int8 = q
                drop(UnsafeRawPointer(q.weight), l.outFeatures * l.inFeatures)
            } else if let w = l.weight, fp32 {
                let dst = buffer.floats(at: offset)
                Kernels.pack(w, n: l.outFeatures, k: l.inFeatures, into: dst)
                l.packed = UnsafePointer(dst)
                if release {
                    drop(UnsafeRawPointer(w), l.outFeatures * l.inFeatures * 4)
                    l.weight = nil
                }
            }
            return l
        }
        forEachLinear { _, l in l = packed(l) }
        return (buffer, released)
    }
}
