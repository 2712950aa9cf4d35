/// How an image becomes the model's input: the model's own eval transform, recorded
/// at convert time in the .vitq header and shown by `info`.
///
/// resize (as `resize` says) → centre crop to the input size (when the resize made it
/// larger) → samples / 255 → (x − mean) / std, channels converted first as Pillow's
/// `convert("L")` / `convert("RGB")` do. With the `pillow` resampler this is timm's
/// `transforms_imagenet_eval` and Hugging Face's PIL image processors, pixel for pixel.
@_spi(Internals) public struct Preprocessing: Equatable, Sendable {
    @_spi(Internals) public enum Resize: Equatable, Sendable {
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

    @_spi(Internals) public enum Resampler: String, Sendable, CaseIterable {
        /// Pillow's `Image.resize`: antialiased, 8-bit images resampled in Pillow's fixed
        /// point (what timm and Hugging Face feed their models).
        case pillow
        /// PyTorch's `interpolate(align_corners=False)` on floats, no antialiasing
        /// (bilinear or bicubic): vit-edge's behaviour before preprocessing was recorded.
        case pytorch
    }

    /// Where a centre crop starts when the margin is odd.
    @_spi(Internals) public enum CropRounding: String, Sendable, CaseIterable {
        /// round(margin / 2), half to even (torchvision's `CenterCrop`, timm)
        case torchvision
        /// ⌊margin / 2⌋ (Hugging Face's `center_crop`)
        case huggingface
    }

    @_spi(Internals) public var resize: Resize = .toInput
    @_spi(Internals) public var interpolation: Resample.Filter = .bilinear
    @_spi(Internals) public var resampler: Resampler = .pytorch
    @_spi(Internals) public var crop: CropRounding = .torchvision
    /// timm's crop_pct and crop_mode when `resize` was derived from them (so that the
    /// model run at another input size resizes as timm would for that size).
    @_spi(Internals) public var cropPct: Double? = nil
    @_spi(Internals) public var cropMode: String? = nil

    @_spi(Internals) public init(resize: Resize = .toInput, interpolation: Resample.Filter = .bilinear,
                resampler: Resampler = .pytorch, crop: CropRounding = .torchvision) {
        self.resize = resize
        self.interpolation = interpolation
        self.resampler = resampler
        self.crop = crop
    }

    /// vit-edge's behaviour for models that bring no preprocessing: bilinear (PyTorch,
    /// no antialiasing) straight to the input size.
    @_spi(Internals) public static let plain = Preprocessing()

    /// timm's eval transform for `pretrained_cfg` values: crop_pct, crop_mode ("center"
    /// or "squash"), interpolation; `size` is the model's input (height, width).
    @_spi(Internals) public static func timm(height: Int, width: Int, cropPct: Double, cropMode: String = "center",
                            interpolation: Resample.Filter) -> Preprocessing? {
        guard cropPct > 0, cropPct <= 1 else { return nil }
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

    /// The same preprocessing for the model run at another input size: timm's recomputed
    /// from crop_pct, fixed sizes scaled by the same factor as the input.
    @_spi(Internals) public func forInput(height nh: Int, width nw: Int, from old: (height: Int, width: Int)) -> Preprocessing {
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
    @_spi(Internals) public func resizedSize(width w: Int, height h: Int, input: (height: Int, width: Int)) -> (width: Int, height: Int) {
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
    @_spi(Internals) public func cropStart(size: Int, crop n: Int) -> Int {
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
    @_spi(Internals) public var summary: String {
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

    /// What is wrong with this spec, or nil.
    func problem() -> String? {
        if resampler == .pytorch && interpolation != .bilinear && interpolation != .bicubic {
            return "the pytorch resampler with bilinear or bicubic"
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

/// The preprocessing of one model compiled for one source size and format: taps made
/// once, buffers kept, so a stream of same-sized frames allocates nothing after the first.
/// `apply` writes the model input [C, H, W] straight into the session's input buffer.
@_spi(Internals) public final class Preprocessor {
    @_spi(Internals) public let width: Int
    @_spi(Internals) public let height: Int
    @_spi(Internals) public let format: ImageView.Format
    let config: ViTConfig
    let horizontal: Resample.Taps
    let vertical: Resample.Taps
    /// Channels resampled: the model's, or 1 when a gray source feeds an RGB model
    /// (resampled once, then replicated, as Pillow's convert("RGB") of gray would give).
    let channels: Int
    var converted: [UInt8] = []
    var convertedFloat: [Float] = []
    var scratch = Resample.Scratch8()
    var tempFloat: [Float] = []
    var result: [UInt8] = []
    var resultFloat: [Float] = []

    @_spi(Internals) public init(config c: ViTConfig, width: Int, height: Int, format: ImageView.Format) {
        self.config = c
        self.width = width
        self.height = height
        self.format = format
        let p = c.preprocessing
        let (rw, rh) = p.resizedSize(width: width, height: height, input: (c.imageHeight, c.imageWidth))
        func taps(_ inSize: Int, _ outSize: Int, _ crop: Int) -> Resample.Taps {
            let full = p.resampler == .pillow
                ? Resample.pillow(inSize: inSize, outSize: outSize, filter: p.interpolation)
                : Resample.pytorch(inSize: inSize, outSize: outSize, cubic: p.interpolation == .bicubic)
            return full.cropped(from: p.cropStart(size: outSize, crop: crop), count: crop)
        }
        horizontal = taps(width, rw, c.imageWidth)
        vertical = taps(height, rh, c.imageHeight)
        channels = format.channels == 1 ? 1 : c.channels
    }

    /// Writes the model input for `image` (of this preprocessor's size and format) at `out`.
    @_spi(Internals) public func apply(_ image: ImageView, into out: UnsafeMutablePointer<Float>) {
        precondition(image.width == width && image.height == height && image.format == format,
                     "a Preprocessor serves one source size and format")
        let c = config
        let plane = c.imageHeight * c.imageWidth
        let useBytes = !format.isFloat && c.preprocessing.resampler == .pillow
        if useBytes {
            // 8-bit source in the channels to resample (Pillow converts before resizing).
            let src = image.data.assumingMemoryBound(to: UInt8.self)
            if format.isYUV || (format == .rgb8 && channels == 1) {
                let n = width * height * (format.isYUV ? 3 : 1)
                if converted.count < n { converted = [UInt8](repeating: 0, count: n) }
                var buffer = converted
                converted = []
                buffer.withUnsafeMutableBufferPointer { buf in
                    let b = buf.baseAddress!
                    if format.isYUV { ColorConversion.yuvToRGB(image, into: b) }
                    if channels == 1 {
                        ColorConversion.rgbToL(format.isYUV ? UnsafePointer(b) : src, rowBytes: format.isYUV ? 3 * width : image.rowBytes,
                                               width: width, height: height, into: b)
                    }
                    resample8(UnsafePointer(b), rowBytes: width * channels, into: out)
                }
                converted = buffer
            } else {
                resample8(src, rowBytes: image.rowBytes, into: out)
            }
            return
        }
        // Float path: samples in [0, 1] (16-bit sources; the pytorch resampler).
        let n = width * height * channels
        if convertedFloat.count < n { convertedFloat = [Float](repeating: 0, count: n) }
        convertedFloat.withUnsafeMutableBufferPointer { buf in
            ColorConversion.floats(image, channels: channels, into: buf.baseAddress!)
        }
        if resultFloat.count < plane * channels { resultFloat = [Float](repeating: 0, count: plane * channels) }
        let (h, v, ch) = (horizontal, vertical, channels)
        convertedFloat.withUnsafeBufferPointer { src in
            resultFloat.withUnsafeMutableBufferPointer { r in
                Resample.applyFloat(src.baseAddress!, rowStride: width * ch, channels: ch, horizontal: h, vertical: v,
                                    temp: &tempFloat, into: r.baseAddress!)
            }
        }
        resultFloat.withUnsafeBufferPointer { r in
            for mc in 0..<c.channels {
                let from = ch == 1 ? 0 : mc
                let m = c.mean[mc], s = c.std[mc]
                let dst = out + mc * plane
                for i in 0..<plane { dst[i] = (r[i * ch + from] - m) / s }
            }
        }
    }
}

extension Preprocessor {
    /// Pillow's resize and crop of 8-bit samples in `channels` channels, then / 255 and
    /// normalized into the [C, H, W] input (a gray result feeds every channel).
    func resample8(_ src: UnsafePointer<UInt8>, rowBytes: Int, into out: UnsafeMutablePointer<Float>) {
        let c = config
        let plane = c.imageHeight * c.imageWidth
        let ch = channels
        if result.count < plane * ch { result = [UInt8](repeating: 0, count: plane * ch) }
        let (h, v) = (horizontal, vertical)
        var r = result
        result = []
        r.withUnsafeMutableBufferPointer { r in
            Resample.apply8(src, rowBytes: rowBytes, channels: ch, horizontal: h, vertical: v, scratch: &scratch, into: r.baseAddress!)
            for mc in 0..<c.channels {
                let from = ch == 1 ? 0 : mc
                let m = c.mean[mc], s = c.std[mc]
                let dst = out + mc * plane
                for i in 0..<plane { dst[i] = (Float(r[i * ch + from]) / 255 - m) / s }
            }
        }
        result = r
    }
}

/// Colour conversions, as the libraries users compare with do them.
enum ColorConversion {
    /// Pillow's RGB → L: (R·19595 + G·38470 + B·7471 + 2^15) >> 16 (ITU-R 601-2 luma).
    static func rgbToL(_ src: UnsafePointer<UInt8>, rowBytes: Int, width: Int, height: Int, into out: UnsafeMutablePointer<UInt8>) {
        for y in 0..<height {
            let row = src + y * rowBytes
            for x in 0..<width {
                let r = UInt32(row[3 * x]), g = UInt32(row[3 * x + 1]), b = UInt32(row[3 * x + 2])
                out[y * width + x] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
            }
        }
    }

    /// YUV 4:2:0 (I420 or NV12) → RGB, ITU-R BT.601 limited range (Y 16–235, chroma
    /// 16–240: what the Pi camera stack and webcams emit), chroma taken from the 2×2
    /// block each pixel lies in (no chroma interpolation, as ffmpeg's default swscale
    /// path), fixed point with 16 fractional bits, rounded and clipped.
    static func yuvToRGB(_ view: ImageView, into out: UnsafeMutablePointer<UInt8>) {
        let w = view.width, h = view.height
        let y0 = view.data.assumingMemoryBound(to: UInt8.self)
        let cw = (w + 1) / 2, chh = (h + 1) / 2
        let chroma = y0 + view.rowBytes * h
        for y in 0..<h {
            let yrow = y0 + y * view.rowBytes
            for x in 0..<w {
                let u: Int32, v: Int32
                if view.format == .i420 {
                    u = Int32(chroma[(y / 2) * cw + x / 2])
                    v = Int32(chroma[cw * chh + (y / 2) * cw + x / 2])
                } else {
                    u = Int32(chroma[(y / 2) * 2 * cw + 2 * (x / 2)])
                    v = Int32(chroma[(y / 2) * 2 * cw + 2 * (x / 2) + 1])
                }
                // 255/219 · (Y − 16); 255/224 · 1.402 (V − 128); ...
                let c = (Int32(yrow[x]) - 16) * 76309, d = u - 128, e = v - 128
                let r = (c + 104597 * e + 32768) >> 16
                let g = (c - 25675 * d - 53279 * e + 32768) >> 16
                let b = (c + 132201 * d + 32768) >> 16
                let o = out + 3 * (y * w + x)
                o[0] = UInt8(clamping: r)
                o[1] = UInt8(clamping: g)
                o[2] = UInt8(clamping: b)
            }
        }
    }

    /// Any view → floats in [0, 1] with `channels` channels (1: luma, BT.601 weights;
    /// 3: RGB; a gray source stays 1 when `channels` is 1 or resampled once and replicated).
    static func floats(_ view: ImageView, channels: Int, into out: UnsafeMutablePointer<Float>) {
        let w = view.width, h = view.height
        var rgb: [UInt8] = []
        var src = view
        if view.format.isYUV {
            rgb = [UInt8](repeating: 0, count: 3 * w * h)
            rgb.withUnsafeMutableBufferPointer { yuvToRGB(view, into: $0.baseAddress!) }
        }
        rgb.withUnsafeBytes { raw in
            if view.format.isYUV { src = ImageView(format: .rgb8, width: w, height: h, data: raw.baseAddress!) }
            for y in 0..<h {
                let row = src.data + y * src.rowBytes
                for x in 0..<w {
                    var r: Float, g: Float, b: Float
                    switch src.format {
                    case .gray8: r = Float(row.load(fromByteOffset: x, as: UInt8.self)) / 255; g = r; b = r
                    case .grayFloat: r = row.load(fromByteOffset: 4 * x, as: Float.self); g = r; b = r
                    case .rgb8:
                        r = Float(row.load(fromByteOffset: 3 * x, as: UInt8.self)) / 255
                        g = Float(row.load(fromByteOffset: 3 * x + 1, as: UInt8.self)) / 255
                        b = Float(row.load(fromByteOffset: 3 * x + 2, as: UInt8.self)) / 255
                    case .rgbFloat:
                        r = row.load(fromByteOffset: 12 * x, as: Float.self)
                        g = row.load(fromByteOffset: 12 * x + 4, as: Float.self)
                        b = row.load(fromByteOffset: 12 * x + 8, as: Float.self)
                    case .i420, .nv12: fatalError("converted above")
                    }
                    let o = out + (y * w + x) * channels
                    if channels == 1 {
                        o[0] = src.format.channels == 1 ? r : 0.299 * r + 0.587 * g + 0.114 * b
                    } else {
                        o[0] = r; o[1] = g; o[2] = b
                    }
                }
            }
        }
    }
}

/// Preprocessing one image at a time (files, tests): a `Preprocessor` made per call.
/// Streams of same-sized frames keep a `Preprocessor` instead.
@_spi(Internals) public enum Preprocess {
    /// Writes one image as the model input [C, H, W] at `out`.
    @_spi(Internals) public static func apply(_ image: Image, config c: ViTConfig, into out: UnsafeMutablePointer<Float>) {
        image.withView { view in
            Preprocessor(config: c, width: view.width, height: view.height, format: view.format).apply(view, into: out)
        }
    }
}
