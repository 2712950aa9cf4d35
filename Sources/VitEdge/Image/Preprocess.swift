import _VitKernels

/// How an image becomes the model's input: the model's own eval transform, recorded
/// at convert time in the .vitq header and shown by `info`.
///
/// resize (as `resize` says) → centre crop to the input size (when the resize made it
/// larger) → samples / 255 → (x − mean) / std, channels converted first as Pillow's
/// `convert("L")` / `convert("RGB")` do. With the `pillow` resampler this is timm's
/// `transforms_imagenet_eval` and Hugging Face's PIL image processors, pixel for pixel.
package struct Preprocessing: Equatable, Sendable {
    package enum Resize: Equatable, Sendable {
        /// Straight to the input size, aspect ratio not kept (timm `crop_mode="squash"`
        /// with crop_pct 1; Hugging Face `size: {height, width}`; vit-edge's default).
        case toInput
        /// To exactly height × width, then a centre crop (timm `squash`, HF `size` + `crop_size`).
        case size(height: Int, width: Int)
        /// The shorter side to n, the other to ⌊n · long / short⌋ (torchvision's
        /// `Resize(n)`, timm's `center` mode for square inputs, HF `shortest_edge`), then a centre crop.
        case shorterSide(Int)
        /// Keeping the aspect ratio, the side that needs least scaling to height × width
        /// (timm's `ResizeKeepRatio`, its `center` mode for non-square inputs), then a centre crop.
        case keepRatio(height: Int, width: Int)
    }

    package enum Resampler: String, Sendable, CaseIterable {
        /// Pillow's `Image.resize`: antialiased, 8-bit images resampled in Pillow's fixed
        /// point (what timm and Hugging Face feed their models).
        case pillow
        /// PyTorch's `interpolate(align_corners=False)` on floats, no antialiasing
        /// (bilinear or bicubic): vit-edge's behaviour before preprocessing was recorded.
        case pytorch
    }

    /// Where a centre crop starts when the margin is odd.
    package enum CropRounding: String, Sendable, CaseIterable {
        /// round(margin / 2), half to even (torchvision's `CenterCrop`, timm)
        case torchvision
        /// ⌊margin / 2⌋ (Hugging Face's `center_crop`)
        case huggingface
    }

    package var resize: Resize = .toInput
    package var interpolation: Resample.Filter = .bilinear
    package var resampler: Resampler = .pytorch
    package var crop: CropRounding = .torchvision
    /// timm's crop_pct and crop_mode when `resize` was derived from them (so that the
    /// model run at another input size resizes as timm would for that size).
    package var cropPct: Double? = nil
    package var cropMode: String? = nil

    package init(resize: Resize = .toInput, interpolation: Resample.Filter = .bilinear,
                resampler: Resampler = .pytorch, crop: CropRounding = .torchvision) {
        self.resize = resize
        self.interpolation = interpolation
        self.resampler = resampler
        self.crop = crop
    }

    /// vit-edge's behaviour for models that bring no preprocessing: bilinear (PyTorch,
    /// no antialiasing) straight to the input size.
    package static let plain = Preprocessing()

    /// timm's eval transform for `pretrained_cfg` values: crop_pct, crop_mode ("center"
    /// or "squash"), interpolation; `size` is the model's input (height, width).
    package static func timm(height: Int, width: Int, cropPct: Double, cropMode: String = "center",
                            interpolation: Resample.Filter) -> Preprocessing? {
        guard cropPctProblem(cropPct, height: height, width: width) == nil else { return nil }
        let sh = Int((Double(height) / cropPct).rounded(.down)), sw = Int((Double(width) / cropPct).rounded(.down))
        var p = Preprocessing(interpolation: interpolation, resampler: .pillow, crop: .torchvision)
        p.cropPct = cropPct
        p.cropMode = cropMode
        switch cropMode {
        case "center": p.resize = sh == sw ? .shorterSide(sh) : .keepRatio(height: sh, width: sw)
        case "squash": p.resize = sh == height && sw == width ? .toInput : .size(height: sh, width: sw)
        default: return nil
        }
        return p
    }

    /// What is wrong with a crop_pct for an input of height × width, or nil: the one check
    /// every source of it passes through (`convert --crop-pct`, timm's pretrained_cfg, a
    /// .vitq header, another input size), before any arithmetic on it. timm resizes to
    /// ⌊size / crop_pct⌋ first: that must stay within 65536 pixels.
    package static func cropPctProblem(_ pct: Double, height: Int, width: Int) -> String? {
        let side = Double(max(height, width, 1))
        let least = (side / 65536 * 1e6).rounded(.up) / 1e6
        guard pct.isFinite, pct >= least, pct <= 1 else {
            return "crop_pct in [\(least), 1] (timm resizes to size / crop_pct, at most 65536 pixels, before the crop)"
        }
        return nil
    }

    /// The same preprocessing for the model run at another input size: timm's recomputed
    /// from crop_pct, fixed sizes scaled by the same factor as the input.
    package func forInput(height nh: Int, width nw: Int, from old: (height: Int, width: Int)) -> Preprocessing {
        if let pct = cropPct, let mode = cropMode, var p = Preprocessing.timm(height: nh, width: nw, cropPct: pct, cropMode: mode, interpolation: interpolation) {
            p.resampler = resampler
            p.crop = crop
            return p
        }
        var p = self
        func sh(_ v: Int) -> Int { max(1, (v * nh + old.height / 2) / old.height) }
        func sw(_ v: Int) -> Int { max(1, (v * nw + old.width / 2) / old.width) }
        switch resize {
        case .toInput: break
        case .size(let h, let w): p.resize = .size(height: sh(h), width: sw(w))
        case .keepRatio(let h, let w): p.resize = .keepRatio(height: sh(h), width: sw(w))
        case .shorterSide(let n): p.resize = .shorterSide(min(nh, nw) == max(nh, nw) ? sh(n) : min(sh(n), sw(n)))
        }
        return p
    }

    /// The size an image of width × height is resized to, before the crop to `input`.
    package func resizedSize(width w: Int, height h: Int, input: (height: Int, width: Int)) -> (width: Int, height: Int) {
        switch resize {
        case .toInput:
            return (input.width, input.height)
        case .size(let rh, let rw):
            return (rw, rh)
        case .shorterSide(let n):
            // torchvision: int(n * long / short) in floating point.
            let (short, long) = w <= h ? (w, h) : (h, w)
            let other = Int(Double(n) * Double(long) / Double(short))
            if short == n { return (w, h) }
            return w <= h ? (n, other) : (other, n)
        case .keepRatio(let th, let tw):
            let ratio = min(Double(h) / Double(th), Double(w) / Double(tw))
            func round(_ v: Double) -> Int { Int(v.rounded(.toNearestOrEven)) }
            return (round(Double(w) / ratio), round(Double(h) / ratio))
        }
    }

    /// The first resized row/column the centre crop of `crop` samples keeps out of
    /// `size` (negative: the crop is larger and is padded with zeros).
    package func cropStart(size: Int, crop n: Int) -> Int {
        let margin = size - n
        switch crop {
        case .torchvision:
            if margin < 0 { return -((-margin) / 2) }  // torchvision pads left/top with ⌊·/2⌋
            return Int((Double(margin) / 2).rounded(.toNearestOrEven))
        case .huggingface:
            return margin >= 0 ? margin / 2 : -((-margin + 1) / 2)
        }
    }

    /// One line for `info` and `convert`.
    package var summary: String {
        let how = resampler == .pillow ? "\(interpolation.rawValue) (Pillow, antialiased)"
                                       : "\(interpolation.rawValue) (PyTorch interpolate, no antialias)"
        let timm = cropPct.map { " (timm crop_pct \($0), crop_mode \(cropMode ?? "center"))" } ?? ""
        return describe(how) + timm
    }

    func describe(_ how: String) -> String {
        switch resize {
        case .toInput: return "resize to the input size, \(how)"
        case .size(let h, let w): return "resize to \(h)x\(w), \(how), centre crop (\(crop.rawValue))"
        case .shorterSide(let n): return "resize the shorter side to \(n), \(how), centre crop (\(crop.rawValue))"
        case .keepRatio(let h, let w): return "resize keeping the aspect ratio to cover \(h)x\(w), \(how), centre crop (\(crop.rawValue))"
        }
    }

    /// What is wrong with this spec for a model input of height × width, or nil: sizes in
    /// range, and timm's crop_pct and crop_mode (when recorded) agreeing with the resize.
    func problem(input: (height: Int, width: Int)) -> String? {
        if resampler == .pytorch && interpolation != .bilinear && interpolation != .bicubic {
            return "the pytorch resampler with bilinear or bicubic"
        }
        if let pct = cropPct {
            if let p = Preprocessing.cropPctProblem(pct, height: input.height, width: input.width) { return p }
            let mode = cropMode ?? "center"
            guard let derived = Preprocessing.timm(height: input.height, width: input.width, cropPct: pct, cropMode: mode,
                                                   interpolation: interpolation) else { return "crop_mode center or squash" }
            guard derived.resize == resize else {
                return "a resize that follows from crop_pct \(pct) and crop_mode \(mode) (\(derived.describe("")))"
            }
        } else if cropMode != nil {
            return "crop_mode only with crop_pct"
        }
        switch resize {
        case .toInput: return nil
        case .size(let h, let w), .keepRatio(let h, let w):
            return h > 0 && w > 0 && h <= 1 << 16 && w <= 1 << 16 ? nil : "a resize size in 1...65536"
        case .shorterSide(let n):
            return n > 0 && n <= 1 << 16 ? nil : "a shorter side in 1...65536"
        }
    }
}

extension ViTConfig {
    /// Whether a model with config `o` is given the same input tensor for any image: the
    /// same size, channels, normalisation and resize (an int8 file of the same model).
    package func samePreprocessing(as o: ViTConfig) -> Bool {
        channels == o.channels && imageHeight == o.imageHeight && imageWidth == o.imageWidth && mean == o.mean && std == o.std
            && preprocessing == o.preprocessing
    }
}

/// The preprocessing of one model compiled for one source size and format: taps made
/// once, buffers kept, so a stream of same-sized frames allocates nothing after the first.
/// `apply` writes the model input [C, H, W] straight into the session's input buffer.
///
/// The work and memory follow the output and the rows it reads, whatever the source's
/// aspect ratio: taps are made for the crop only (in chunks when an extreme scale makes
/// them many), and the source is read, converted and resampled one row at a time
/// (`Resample.resample8`), so a camera frame in YUV never becomes a full-size RGB copy.
package final class Preprocessor {
    package let width: Int
    package let height: Int
    package let format: ImageView.Format
    let config: ViTConfig
    let horizontal: Resample.Axis
    let vertical: Resample.Axis
    /// Channels resampled: the model's, or 1 when a gray source feeds an RGB model
    /// (resampled once, then replicated, as Pillow's convert("RGB") of gray would give).
    let channels: Int
    /// Whether the 8-bit fixed-point passes run (8-bit sources, Pillow's resampler).
    let useBytes: Bool
    /// What one thread converts and resamples with: one converted source row (YUV → RGB,
    /// RGB → L, bytes → floats), a second for YUV → RGB → L, the passes' buffers.
    final class Part {
        var rowBytes: [UInt8] = []
        var rowRGB: [UInt8] = []
        var rowFloats: [Float] = []
        var scratch8 = Resample.Scratch<UInt8, Int32>()
        var scratchFloat = Resample.Scratch<Float, Float>()
    }
    /// Part 0 is the calling thread's; a pool's workers get one each (worker i: part i).
    var parts: [Part] = [Part()]
    /// The output rows cut into as many parts as the pool has threads, each with its slice
    /// of the vertical axis (made when a pool first asks, kept while its size is the same).
    var rowSplit: [(rows: Range<Int>, axis: Resample.Axis)] = []
    /// The memory budget the preprocessing of one image stays within (all parts together).
    let budget: Int
    var result: [UInt8] = []
    var resultFloat: [Float] = []
    /// The 8-bit passes' route (nil: the scalar Swift reference).
    package let resampling: Resample.Route8?
    /// (v / 255 − mean) / std of every byte value v, per model channel: the last step of
    /// the 8-bit path as a table lookup (the same Float operations, made once).
    let normalized: [Float]

    /// Bytes the passes may allocate for one image of this size at most: what the
    /// budget (`ResourceLimits`) is checked against before any of it is.
    package let scratchBytes: Int

    /// Plans the preprocessing of `width` × `height` images in `format`; throws when the
    /// size is outside `limits` (a frame too large for the memory budget).
    package init(config c: ViTConfig, width: Int, height: Int, format: ImageView.Format,
                                 limits: ResourceLimits = .current, name: String = "image",
                                 resampling: Resample.Route8? = .best) throws {
        guard width > 0 && height > 0, let pixels = checkedProduct([width, height]), pixels <= limits.maxImagePixels else {
            throw VitError.tooManyPixels(path: name, width: width, height: height, limit: limits.maxImagePixels)
        }
        self.config = c
        self.width = width
        self.height = height
        self.format = format
        self.resampling = resampling
        normalized = (0..<c.channels).flatMap { mc in (0..<256).map { v in (Float(v) / 255 - c.mean[mc]) / c.std[mc] } }
        let p = c.preprocessing
        let (rw, rh) = p.resizedSize(width: width, height: height, input: (c.imageHeight, c.imageWidth))
        func axis(_ inSize: Int, _ outSize: Int, _ crop: Int) -> Resample.Axis {
            let from = p.cropStart(size: outSize, crop: crop)
            return p.resampler == .pillow
                ? .pillow(inSize: inSize, outSize: outSize, filter: p.interpolation, from: from, count: crop)
                : .pytorch(inSize: inSize, outSize: outSize, cubic: p.interpolation == .bicubic, from: from, count: crop)
        }
        horizontal = axis(width, rw, c.imageWidth)
        vertical = axis(height, rh, c.imageHeight)
        channels = format.channels == 1 ? 1 : c.channels
        useBytes = !format.isFloat && p.resampler == .pillow
        // Taps, one converted row (two for YUV → L), the intermediate row and the sums of
        // one chunk of the output, the output itself.
        let plane = c.imageHeight * c.imageWidth
        // One converted row: bytes (YUV → RGB, RGB → L) or floats, and the RGB row YUV
        // passes through on its way to gray or floats.
        let direct = useBytes ? !format.rowsViaRGB && format.channels == channels : format.isFloat && format.channels == channels
        let rgbRow = format.rowsViaRGB && (channels == 1 || !useBytes) ? 3 * width : 0
        let convertedRow = direct ? 0 : width * channels * (useBytes ? 1 : 4)
        // A SIMD route's horizontal taps, packed for its vector width (one chunk), and the
        // windows as Int32: not when the taps are Pillow's windows (the Swift loop runs).
        var packedBytes = 0
        if let route = resampling, useBytes, !horizontal.identity, horizontal.width <= horizontal.maxTaps {
            let chunk = min(horizontal.outputs, horizontal.chunk)
            packedBytes = chunk * (vk_u8_resample_packed_stride(route.lanes, channels, horizontal.width) + 2) * 4
        }
        scratchBytes = horizontal.tapBytes + vertical.tapBytes + rgbRow + convertedRow + packedBytes
            + plane * channels * (useBytes ? 1 + 4 + 1 : 4 + 4)
        budget = limits.maxArenaBytes
        guard scratchBytes <= limits.maxArenaBytes else {
            throw VitError.tooLarge(what: "\(name): preprocessing of a \(width)x\(height) image", bytes: scratchBytes,
                                    limit: limits.maxArenaBytes, hint: "VIT_EDGE_MAX_MB raises the limit")
        }
    }

    /// Whether `view` is of this preprocessor's source size and format (a stream keeps one
    /// preprocessor while its frames are).
    package func serves(_ view: ImageView) -> Bool {
        view.width == width && view.height == height && view.format == format
    }

    /// Writes the model input for `image` (of this preprocessor's size and format) at `out`.
    /// With a `pool`, a large 8-bit image's output rows are split across its threads, each
    /// resampling the source rows its outputs read (a few rows at each cut twice): the
    /// same samples as on one thread, in a fraction of the time. The pool must be idle.
    package func apply(_ image: ImageView, into out: UnsafeMutablePointer<Float>, pool: ThreadPool? = nil) {
        precondition(image.width == width && image.height == height && image.format == format,
                     "a Preprocessor serves one source size and format")
        let c = config
        let plane = c.imageHeight * c.imageWidth
        let ch = channels
        if useBytes {
            if result.count < plane * ch { result = [UInt8](repeating: 0, count: plane * ch) }
            var r = result
            result = []
            r.withUnsafeMutableBufferPointer { res in
            normalized.withUnsafeBufferPointer { table in
                if let pool, splitRows(workers: pool.threads) {
                    var job = PreprocessJob(preprocessor: Unmanaged.passUnretained(self), view: image, result: res.baseAddress!,
                                            table: table.baseAddress!, out: out)
                    withUnsafeMutablePointer(to: &job) { vk_pool_run(pool.pool, preprocessTask, $0, rowSplit.count) }
                } else {
                    resample8(image, vertical: vertical, part: parts[0], into: res.baseAddress!)
                    normalize(res.baseAddress!, table: table.baseAddress!, rows: 0..<c.imageHeight, into: out)
                }
            } }
            result = r
            return
        }
        // Float path: samples in [0, 1] (16-bit sources; the pytorch resampler).
        if resultFloat.count < plane * ch { resultFloat = [Float](repeating: 0, count: plane * ch) }
        var r = resultFloat
        resultFloat = []
        r.withUnsafeMutableBufferPointer { res in
            resampleFloat(image, into: res.baseAddress!)
            for mc in 0..<c.channels {
                let from = ch == 1 ? 0 : mc
                let m = c.mean[mc], s = c.std[mc]
                let dst = out + mc * plane
                for i in 0..<plane { dst[i] = (res[i * ch + from] - m) / s }
            }
        }
        resultFloat = r
    }

    /// Output rows `rows` of the resampled bytes [H, W, channels] as the model input [C, H, W]:
    /// (v / 255 − mean) / std by table.
    func normalize(_ res: UnsafePointer<UInt8>, table: UnsafePointer<Float>, rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let c = config, ch = channels
        let plane = c.imageHeight * c.imageWidth
        for mc in 0..<c.channels {
            let from = ch == 1 ? 0 : mc
            let lut = table + mc * 256
            let dst = out + mc * plane
            for i in (rows.lowerBound * c.imageWidth)..<(rows.upperBound * c.imageWidth) { dst[i] = lut[Int(res[i * ch + from])] }
        }
    }

    /// Pillow's resize and crop of the 8-bit source, in `channels` channels, into `out`
    /// [H, W, channels] (the outputs of `v`, this preprocessor's vertical axis or a slice of
    /// it): each source row converted as Pillow's `convert` would the whole image (RGB → L;
    /// YUV frames → RGB first), only the columns the taps read.
    func resample8(_ image: ImageView, vertical v: Resample.Axis, part: Part, into out: UnsafeMutablePointer<UInt8>) {
        let ch = channels, f = format
        let src = image.data.assumingMemoryBound(to: UInt8.self)
        let direct = !f.rowsViaRGB && f.channels == ch
        if !direct {
            if part.rowBytes.count < width * ch { part.rowBytes = [UInt8](repeating: 0, count: width * ch) }
            if f.rowsViaRGB && ch == 1 && part.rowRGB.count < 3 * width { part.rowRGB = [UInt8](repeating: 0, count: 3 * width) }
        }
        var buffer = part.rowBytes, rgb = part.rowRGB
        part.rowBytes = []; part.rowRGB = []
        buffer.withUnsafeMutableBufferPointer { b in
        rgb.withUnsafeMutableBufferPointer { t in
            Resample.resample8(channels: ch, horizontal: horizontal, vertical: v, scratch: &part.scratch8, route: resampling, row: { r, cols in
                if direct { return UnsafePointer(src + r * image.rowBytes) }
                let dst = b.baseAddress!
                if f.rowsViaRGB {
                    let rgbRow = ch == 1 ? t.baseAddress! : dst
                    ColorConversion.rowToRGB(image, row: r, columns: cols, into: rgbRow, route: resampling)
                    if ch == 1 { ColorConversion.rgbToL(UnsafePointer(rgbRow), count: cols.count, into: dst) }
                } else {
                    ColorConversion.rgbToL(src + r * image.rowBytes + 3 * cols.lowerBound, count: cols.count, into: dst)
                }
                return UnsafePointer(dst) - cols.lowerBound * ch
            }, into: out)
        } }
        part.rowBytes = buffer; part.rowRGB = rgb
    }

    /// The same in Float (16-bit sources as decoded; 8-bit ones / 255 for the pytorch resampler).
    func resampleFloat(_ image: ImageView, into out: UnsafeMutablePointer<Float>) {
        let ch = channels, f = format, part = parts[0]
        let direct = f.isFloat && f.channels == ch
        if !direct {
            if part.rowFloats.count < width * ch { part.rowFloats = [Float](repeating: 0, count: width * ch) }
            if f.rowsViaRGB && part.rowRGB.count < 3 * width { part.rowRGB = [UInt8](repeating: 0, count: 3 * width) }
        }
        var buffer = part.rowFloats, rgb = part.rowRGB
        part.rowFloats = []; part.rowRGB = []
        buffer.withUnsafeMutableBufferPointer { b in
        rgb.withUnsafeMutableBufferPointer { t in
            Resample.resampleFloat(channels: ch, horizontal: horizontal, vertical: vertical, scratch: &part.scratchFloat, row: { r, cols in
                let line = image.data + r * image.rowBytes
                if direct { return line.assumingMemoryBound(to: Float.self) }
                let dst = b.baseAddress!
                if f.rowsViaRGB {
                    ColorConversion.rowToRGB(image, row: r, columns: cols, into: t.baseAddress!)
                    ColorConversion.floats(UnsafeRawPointer(t.baseAddress!), format: .rgb8, count: cols.count, channels: ch, into: dst)
                } else {
                    ColorConversion.floats(line + cols.lowerBound * f.bytesPerPixel, format: f, count: cols.count, channels: ch, into: dst)
                }
                return UnsafePointer(dst) - cols.lowerBound * ch
            }, into: out)
        } }
        part.rowFloats = buffer; part.rowRGB = rgb
    }
}

/// Preprocessing one image at a time (files, tests): a `Preprocessor` made per call.
/// Streams of same-sized frames keep a `Preprocessor` instead.
package enum Preprocess {
    /// Writes one image as the model input [C, H, W] at `out`.
    package static func apply(_ image: Image, config c: ViTConfig, into out: UnsafeMutablePointer<Float>,
                                              limits: ResourceLimits = .current, name: String = "image",
                                              resampling: Resample.Route8? = .best, pool: ThreadPool? = nil) throws {
        try image.withView { view in
            try Preprocessor(config: c, width: view.width, height: view.height, format: view.format, limits: limits, name: name,
                             resampling: resampling)
                .apply(view, into: out, pool: pool)
        }
    }
}
