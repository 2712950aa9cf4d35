/// The hybrid's ResNet, before the patches: timm's `ResNetV2` as the ViT paper's
/// hybrids build it (`preact=False`, `stem_type='same'`, `StdConv2dSame(eps=1e-8)`,
/// GroupNorm(32) instead of BatchNorm):
///
///   stem:        7×7/2 conv → GroupNorm + ReLU → 3×3/2 max-pool (TF "same" padding)
///   stage s:     bottlenecks; the first has a strided 1×1 conv + GroupNorm shortcut
///   bottleneck:  1×1 conv → GN + ReLU → 3×3 conv (stride) → GN + ReLU → 1×1 conv → GN
///                → ReLU(x + shortcut)
///
/// Feature maps are NHWC ([B·H·W, C]): a convolution is then a Linear over pixels
/// (1×1, stride 1: in place; otherwise over an im2col copy), on the same fp32 and int8
/// GEMMs as every other layer. Weight standardisation is folded into the weights at
/// conversion, and conv weights are stored (out, ky, kx, in) to match im2col's rows.
package struct Backbone: Equatable, Sendable {
    package var stemChannels: Int
    /// Bottleneck blocks per stage; empty for a stem-only backbone (timm's R+Ti).
    package var depths: [Int]
    /// Output channels of each stage (timm: 256, 512, 1024, 2048).
    package var channels: [Int]
    /// Bottleneck width of each stage (timm: a quarter of `channels`).
    package var midChannels: [Int]
    /// GroupNorm groups and epsilon (timm: 32, 1e-5).
    package var groups = 32
    package var eps: Float = 1e-5

    package init(stemChannels: Int, depths: [Int], channels: [Int], midChannels: [Int]) {
        self.stemChannels = stemChannels
        self.depths = depths
        self.channels = channels
        self.midChannels = midChannels
    }

    package var outChannels: Int { channels.last ?? stemChannels }
    /// Stride of stage `i`: 1 for the first, 2 for the others (timm ResNetV2).
    func stageStride(_ i: Int) -> Int { i == 0 ? 1 : 2 }
    /// Output size of a "same"-padded convolution or pool: ⌈n / stride⌉.
    static func same(_ n: Int, _ stride: Int) -> Int { (n + stride - 1) / stride }
    /// TF "same" padding before the first row/column (timm `pad_same`: the odd pixel goes after).
    static func padBefore(_ n: Int, kernel: Int, stride: Int) -> Int {
        max((same(n, stride) - 1) * stride + kernel - n, 0) / 2
    }

    /// Feature-map size for an input of size `n` (height or width).
    package func outputSize(_ n: Int) -> Int {
        var x = Backbone.same(Backbone.same(n, 2), 2)
        for i in depths.indices { x = Backbone.same(x, stageStride(i)) }
        return x
    }

    /// The total stride (input pixels per feature-map pixel).
    package var stride: Int { 4 << max(depths.count - 1, 0) }

    func problem() -> String? {
        let bound = 1 << 16
        guard (1...bound).contains(stemChannels), (1...64).contains(groups), eps.isFinite, eps > 0 else {
            return "stem channels in 1...\(bound), 1...64 groups and a positive epsilon"
        }
        guard depths.count == channels.count, depths.count == midChannels.count, depths.count <= 8 else {
            return "one depth, width and bottleneck width per stage (at most 8 stages)"
        }
        guard depths.allSatisfy({ (1...64).contains($0) }),
              (channels + midChannels).allSatisfy({ (1...bound).contains($0) }) else {
            return "1...64 blocks per stage and widths in 1...\(bound)"
        }
        guard ([stemChannels] + channels + midChannels).allSatisfy({ $0 % groups == 0 }) else {
            return "every width divisible by the \(groups) GroupNorm groups"
        }
        return nil
    }

    package var summary: String {
        depths.isEmpty ? "stem \(stemChannels)" : "stem \(stemChannels), stages \(depths) of widths \(channels) (bottleneck \(midChannels))"
    }

    /// One convolution of the backbone and its geometry for an input of height × width.
    package struct Convolution: Sendable {
        package var name: String
        package var kernel: Int, stride: Int, inChannels: Int, outChannels: Int
        /// Its input and output sizes.
        package var inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
    }

    /// Every convolution in program order, with its sizes for `height` × `width` images.
    package func convolutions(inChannels: Int, height: Int = 0, width: Int = 0) -> [Convolution] {
        var (h, w) = (height, width)
        func conv(_ name: String, _ k: Int, _ s: Int, _ cin: Int, _ cout: Int) -> Convolution {
            Convolution(name: name, kernel: k, stride: s, inChannels: cin, outChannels: cout, inHeight: h, inWidth: w,
                        outHeight: Backbone.same(h, s), outWidth: Backbone.same(w, s))
        }
        var out = [conv("patch_embed.backbone.stem.conv", 7, 2, inChannels, stemChannels)]
        (h, w) = (Backbone.same(Backbone.same(h, 2), 2), Backbone.same(Backbone.same(w, 2), 2))  // conv, then pool
        var cin = stemChannels
        for s in depths.indices {
            for b in 0..<depths[s] {
                let p = "patch_embed.backbone.stages.\(s).blocks.\(b)."
                let stride = b == 0 ? stageStride(s) : 1
                if b == 0 { out.append(conv(p + "downsample.conv", 1, stride, cin, channels[s])) }
                out += [conv(p + "conv1", 1, 1, cin, midChannels[s]), conv(p + "conv2", 3, stride, midChannels[s], midChannels[s])]
                (h, w) = (Backbone.same(h, stride), Backbone.same(w, stride))
                out.append(conv(p + "conv3", 1, 1, midChannels[s], channels[s]))
                cin = channels[s]
            }
        }
        return out
    }

    /// The GroupNorm after a convolution: `stem.conv` → `stem.norm`, `conv2` → `norm2`.
    static func normName(of conv: String) -> String {
        conv.replacingSuffix(".conv", with: ".norm").replacingSuffix("conv1", with: "norm1")
            .replacingSuffix("conv2", with: "norm2").replacingSuffix("conv3", with: "norm3")
    }

    func parameterCount(inChannels: Int) -> Int {
        convolutions(inChannels: inChannels).reduce(0) { $0 + $1.kernel * $1.kernel * $1.inChannels * $1.outChannels + 2 * $1.outChannels }
    }

    func toJSON() -> JSON {
        func ints(_ a: [Int]) -> JSON { .array(a.map { .number(Double($0)) }) }
        return .object([("stem_channels", .number(Double(stemChannels))), ("depths", ints(depths)), ("channels", ints(channels)),
                        ("mid_channels", ints(midChannels)), ("groups", .number(Double(groups))), ("eps", .number(Double(eps)))])
    }

    static func fromJSON(_ j: JSON) -> Backbone? {
        func ints(_ k: String) -> [Int]? {
            guard let a = j[k]?.array, a.count <= 8 else { return nil }
            let v = a.compactMap { $0.int }
            return v.count == a.count ? v : nil
        }
        guard let stem = j["stem_channels"]?.int, let d = ints("depths"), let c = ints("channels"), let m = ints("mid_channels"),
              let g = j["groups"]?.int, let e = j["eps"]?.double else { return nil }
        var b = Backbone(stemChannels: stem, depths: d, channels: c, midChannels: m)
        b.groups = g
        b.eps = Float(e)
        return b.problem() == nil ? b : nil
    }
}

// MARK: - Weights

/// A convolution as a Linear layer over im2col rows: weight [out, k·k·in], (ky, kx, c) order.
struct Conv2D {
    var linear: Linear
    var kernel: Int
    var stride: Int
    var inChannels: Int
    var outChannels: Int { linear.outFeatures }
}

/// GroupNorm parameters γ, β over `channels` in `groups`.
struct GroupNormWeights {
    var gamma: UnsafePointer<Float>
    var beta: UnsafePointer<Float>
    var channels: Int
    var groups: Int
    var eps: Float
}

struct BottleneckWeights {
    /// The strided 1×1 conv + GN shortcut of a stage's first block, or nil (identity)
    var downsample: Conv2D?
    var downsampleNorm: GroupNormWeights?
    var conv1: Conv2D
    var norm1: GroupNormWeights
    var conv2: Conv2D
    var norm2: GroupNormWeights
    var conv3: Conv2D
    var norm3: GroupNormWeights
}

struct BackboneWeights {
    var stem: Conv2D
    var stemNorm: GroupNormWeights
    var stages: [[BottleneckWeights]]

    /// Canonical tensors of a backbone (conv weights [out, k·k·in], standardised).
    static func expectedTensors(_ b: Backbone, inChannels: Int) -> [(String, [Int])] {
        var t: [(String, [Int])] = []
        for conv in b.convolutions(inChannels: inChannels) {
            let norm = Backbone.normName(of: conv.name)
            t += [(conv.name + ".weight", [conv.outChannels, conv.kernel * conv.kernel * conv.inChannels]),
                  (norm + ".weight", [conv.outChannels]), (norm + ".bias", [conv.outChannels])]
        }
        return t
    }

    init(_ b: Backbone, inChannels: Int, float f: (String) -> UnsafePointer<Float>,
         linear: (String, Int, Int) -> Linear) {
        var convs: [String: Conv2D] = [:]
        var norms: [String: GroupNormWeights] = [:]
        for c in b.convolutions(inChannels: inChannels) {
            convs[c.name] = Conv2D(linear: linear(c.name, c.outChannels, c.kernel * c.kernel * c.inChannels),
                                   kernel: c.kernel, stride: c.stride, inChannels: c.inChannels)
            let norm = Backbone.normName(of: c.name)
            norms[c.name] = GroupNormWeights(gamma: f(norm + ".weight"), beta: f(norm + ".bias"), channels: c.outChannels,
                                             groups: b.groups, eps: b.eps)
        }
        let stemName = "patch_embed.backbone.stem.conv"
        stem = convs[stemName]!
        stemNorm = norms[stemName]!
        stages = b.depths.indices.map { s in
            (0..<b.depths[s]).map { i in
                let p = "patch_embed.backbone.stages.\(s).blocks.\(i)."
                return BottleneckWeights(downsample: convs[p + "downsample.conv"], downsampleNorm: norms[p + "downsample.conv"],
                                         conv1: convs[p + "conv1"]!, norm1: norms[p + "conv1"]!,
                                         conv2: convs[p + "conv2"]!, norm2: norms[p + "conv2"]!,
                                         conv3: convs[p + "conv3"]!, norm3: norms[p + "conv3"]!)
            }
        }
    }

    /// Every convolution's Linear with its name, in program order (for packing).
    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) {
        body("patch_embed.backbone.stem.conv", &stem.linear)
        for s in stages.indices {
            for i in stages[s].indices {
                let p = "patch_embed.backbone.stages.\(s).blocks.\(i)."
                if var d = stages[s][i].downsample { body(p + "downsample.conv", &d.linear); stages[s][i].downsample = d }
                body(p + "conv1", &stages[s][i].conv1.linear)
                body(p + "conv2", &stages[s][i].conv2.linear)
                body(p + "conv3", &stages[s][i].conv3.linear)
            }
        }
    }
}

// MARK: - Forward

/// The backbone's intermediates (NHWC).
struct BackboneActivations {
    /// im2col rows, shared by every convolution that needs them (sized for the largest)
    var columns: UnsafeMutablePointer<Float>
    /// [5·C] one GroupNorm's per-channel Double sums, then its mean, scale and shift
    var normScratch: UnsafeMutablePointer<Float>
    /// [B·H·W, C] the image, NHWC
    var image: UnsafeMutablePointer<Float>
    /// [B·H/2·W/2, stem] the stem convolution's output
    var stem: UnsafeMutablePointer<Float>
    /// [B·H/4·W/4, stem] after the max-pool
    var pooled: UnsafeMutablePointer<Float>
    var blocks: [[BottleneckActivations]]
    var quant: QuantScratch?
    /// The feature map the patches are cut from.
    var output: UnsafeMutablePointer<Float>
}

struct BottleneckActivations {
    /// the shortcut (downsample output), or nil: the block's input
    var shortcut: UnsafeMutablePointer<Float>?
    var t1: UnsafeMutablePointer<Float>
    var t2: UnsafeMutablePointer<Float>
    /// conv3's output, then the block's output
    var out: UnsafeMutablePointer<Float>
}

/// Image [B, C, H, W] → feature map [B·h·w, C'] (returned: `a.output`).
func resnetBackbone(_ c: ViTConfig, _ w: BackboneWeights, _ k: Kernels, batch: Int, image: UnsafePointer<Float>,
                    a: BackboneActivations, observe: ((String, UnsafeBufferPointer<Float>) -> Void)? = nil) {
    guard let bb = c.backbone else { return }
    // Stem: the image as NHWC, 7×7/2 conv, GroupNorm + ReLU, 3×3/2 max-pool.
    var (h, wd) = (c.imageHeight, c.imageWidth)
    nchwToNHWC(k, batch: batch, channels: c.channels, height: h, width: wd, x: image, y: a.image)
    convolve(w.stem, k, batch: batch, height: h, width: wd, x: a.image, nchw: false, columns: a.columns, y: a.stem,
             quant: a.quant, name: "patch_embed.backbone.stem.conv", observe: observe)
    (h, wd) = (Backbone.same(h, 2), Backbone.same(wd, 2))
    groupNorm(w.stemNorm, k, batch: batch, pixels: h * wd, x: a.stem, relu: true, scratch: a.normScratch)
    maxPool3x3s2Same(k, batch: batch, height: h, width: wd, channels: bb.stemChannels, x: a.stem, y: a.pooled)
    (h, wd) = (Backbone.same(h, 2), Backbone.same(wd, 2))
    var x = UnsafePointer(a.pooled)
    for s in w.stages.indices {
        for i in w.stages[s].indices {
            let blk = w.stages[s][i], t = a.blocks[s][i]
            // Layer names are built only for an observer (no allocation in a plain forward).
            func name(_ layer: String) -> String { "patch_embed.backbone.stages.\(s).blocks.\(i)." + layer }
            let stride = blk.conv2.stride
            let (ho, wo) = (Backbone.same(h, stride), Backbone.same(wd, stride))
            var shortcut = x
            if let ds = blk.downsample, let dn = blk.downsampleNorm, let sc = t.shortcut {
                convolve(ds, k, batch: batch, height: h, width: wd, x: x, nchw: false, columns: a.columns, y: sc,
                         quant: a.quant, name: name("downsample.conv"), observe: observe)
                groupNorm(dn, k, batch: batch, pixels: ho * wo, x: sc, relu: false, scratch: a.normScratch)
                shortcut = UnsafePointer(sc)
            }
            convolve(blk.conv1, k, batch: batch, height: h, width: wd, x: x, nchw: false, columns: a.columns, y: t.t1,
                     quant: a.quant, name: name("conv1"), observe: observe)
            groupNorm(blk.norm1, k, batch: batch, pixels: h * wd, x: t.t1, relu: true, scratch: a.normScratch)
            convolve(blk.conv2, k, batch: batch, height: h, width: wd, x: t.t1, nchw: false, columns: a.columns, y: t.t2,
                     quant: a.quant, name: name("conv2"), observe: observe)
            groupNorm(blk.norm2, k, batch: batch, pixels: ho * wo, x: t.t2, relu: true, scratch: a.normScratch)
            convolve(blk.conv3, k, batch: batch, height: ho, width: wo, x: t.t2, nchw: false, columns: a.columns, y: t.out,
                     quant: a.quant, name: name("conv3"), observe: observe)
            groupNorm(blk.norm3, k, batch: batch, pixels: ho * wo, x: t.out, relu: false, scratch: a.normScratch)
            addReLU(k, t.out, shortcut, count: batch * ho * wo * blk.conv3.outChannels)
            x = UnsafePointer(t.out)
            (h, wd) = (ho, wo)
        }
    }
}

/// One convolution with TF "same" padding: y [B·Ho·Wo, out]. A 1×1 stride-1
/// convolution of an NHWC map is the Linear itself; any other goes through im2col.
func convolve(_ conv: Conv2D, _ k: Kernels, batch: Int, height h: Int, width w: Int, x: UnsafePointer<Float>, nchw: Bool,
              columns: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, quant: QuantScratch?,
              name: @autoclosure () -> String, observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) {
    let (ho, wo) = (Backbone.same(h, conv.stride), Backbone.same(w, conv.stride))
    let rows = batch * ho * wo, depth = conv.kernel * conv.kernel * conv.inChannels
    var input = x
    if conv.kernel != 1 || conv.stride != 1 || nchw {
        im2col(k, batch: batch, height: h, width: w, channels: conv.inChannels, kernel: conv.kernel, stride: conv.stride,
               x: x, nchw: nchw, columns: columns)
        input = UnsafePointer(columns)
    }
    if let observe { observe(name(), UnsafeBufferPointer(start: input, count: rows * depth)) }
    k.linear(conv.linear, rows: rows, x: input, ldx: depth, y: y, ldy: conv.outChannels, scratch: quant)
}

// MARK: - The hybrid's patch stem: the ResNet, then patches cut from its feature map

extension BackboneWeights: PatchStem {
    static func tensors(_ c: ViTConfig) -> [(String, [Int])] { expectedTensors(c.backbone!, inChannels: c.channels) }

    /// Each convolution's rows are its output pixels.
    static func linearShapes(_ c: ViTConfig, batch b: Int) -> [LinearShape] {
        c.backbone!.convolutions(inChannels: c.channels, height: c.imageHeight, width: c.imageWidth).map {
            LinearShape(b * $0.outHeight * $0.outWidth, $0.kernel * $0.kernel * $0.inChannels, $0.outChannels)
        }
    }

    static func declare(_ p: inout ProgramLayout, _ c: ViTConfig, _ k: Kernels, batch: Int, workers: Int) throws {
        try declareBackbone(&p, c, k, batch: batch)
    }

    init(_ c: ViTConfig, _ t: TensorBinder) {
        self.init(c.backbone!, inChannels: c.channels, float: t.float) { t.linear($0, out: $1, in: $2, bias: false) }
    }

    func bound(_ v: BufferViews, _ layout: ForwardLayout, quant: QuantScratch?) -> any BoundPatchStem {
        HybridPatches(config: layout.config, weights: self, a: layout.backboneActivations(v, quant: quant))
    }
}

/// The ResNet over the image, then its feature map cut into patches.
struct HybridPatches: BoundPatchStem {
    let config: ViTConfig
    let weights: BackboneWeights
    let a: BackboneActivations

    func run(_ k: Kernels, batch: Int, image: UnsafePointer<Float>, patches: UnsafeMutablePointer<Float>,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) {
        resnetBackbone(config, weights, k, batch: batch, image: image, a: a, observe: observe)
        extractPatches(config, k, batch: batch, featureMap: a.output, patches: patches)
    }
}

/// The backbone's buffers (their steps come from running `resnetBackbone`, see `StepTrace`).
func declareBackbone(_ p: inout ProgramLayout, _ c: ViTConfig, _ k: Kernels, batch b: Int) throws {
    guard let bb = c.backbone else { return }
    let convs = bb.convolutions(inChannels: c.channels, height: c.imageHeight, width: c.imageWidth)
    let widest = convs.map { $0.outChannels }.max()!
    // The im2col copy, for every convolution that is not a 1×1 stride-1 one on a map.
    let columns = convs.filter { $0.kernel != 1 || $0.stride != 1 || $0.name.hasSuffix("stem.conv") }
        .map { b * $0.outHeight * $0.outWidth * $0.kernel * $0.kernel * $0.inChannels }.max()!
    try p.buffer("backbone.columns", columns)
    // GroupNorm's per-channel sums (the reference sums per group and needs none).
    try p.buffer("backbone.norm_scratch", k.vectorized ? 5 * widest : 0)
    let (h1, w1) = (convs[0].outHeight, convs[0].outWidth)
    let (h2, w2) = (Backbone.same(h1, 2), Backbone.same(w1, 2))
    try p.buffer("backbone.image", b * c.imageHeight * c.imageWidth * c.channels)
    try p.buffer("backbone.stem", b * h1 * w1 * bb.stemChannels)
    try p.buffer("backbone.pooled", b * h2 * w2 * bb.stemChannels)
    for s in bb.depths.indices {
        for i in 0..<bb.depths[s] {
            let n = "backbone.\(s).\(i)."
            let conv2 = convs.first { $0.name == "patch_embed.backbone.stages.\(s).blocks.\(i).conv2" }!
            let (hi, wi, ho, wo) = (conv2.inHeight, conv2.inWidth, conv2.outHeight, conv2.outWidth)
            if i == 0 { try p.buffer(n + "shortcut", b * ho * wo * bb.channels[s]) }
            try p.buffer(n + "t1", b * hi * wi * bb.midChannels[s])
            try p.buffer(n + "t2", b * ho * wo * bb.midChannels[s])
            try p.buffer(n + "out", b * ho * wo * bb.channels[s])
        }
    }
}

extension ForwardLayout {
    func backboneActivations(_ v: BufferViews, quant: QuantScratch?) -> BackboneActivations {
        let bb = config.backbone!
        let blocks = bb.depths.indices.map { s in
            (0..<bb.depths[s]).map { i in
                let n = "backbone.\(s).\(i)."
                return BottleneckActivations(shortcut: i == 0 ? v.floats(n + "shortcut") : nil, t1: v.floats(n + "t1"),
                                             t2: v.floats(n + "t2"), out: v.floats(n + "out"))
            }
        }
        let output = blocks.last?.last?.out ?? v.floats("backbone.pooled")
        return BackboneActivations(columns: v.floats("backbone.columns"), normScratch: v.floats("backbone.norm_scratch"),
                                   image: v.floats("backbone.image"), stem: v.floats("backbone.stem"),
                                   pooled: v.floats("backbone.pooled"), blocks: blocks, quant: quant, output: output)
    }
}
