import CSPNG
import CTurboJPEG

/// JPEG and PNG through the libraries the ecosystem uses, with the pixels Pillow gives:
/// - JPEG: libjpeg-turbo's TurboJPEG API with its defaults (accurate integer IDCT, fancy
///   chroma upsampling), which are Pillow's; grayscale stays one channel (Pillow's "L"),
///   colour is RGB. CMYK/YCCK JPEGs are refused. Warnings (a truncated or corrupt file) are
///   errors, as in Pillow without LOAD_TRUNCATED_IMAGES. TurboJPEG reports errors by return
///   code: libjpeg's error exit never unwinds through Swift.
/// - PNG: libspng. Gray (1–8 bits) and gray+alpha give one channel, everything else RGB
///   (alpha dropped, palette expanded), as Pillow's convert("L") / convert("RGB"); 16-bit
///   gray is clipped to 255 as Pillow's "I;16" → "L" conversion does, 16-bit colour takes
///   the high byte (Pillow's "RGB;16B").
/// EXIF orientation is not applied (neither Pillow's open nor timm's transforms apply it).
/// The pixel budget is checked from the header before anything is allocated.
enum JPEGPNG {
    /// The first bytes of a file, for a message: "bytes 255 216 0 ..." or "3 bytes (truncated)".
    static func describe(_ b: UnsafeRawBufferPointer) -> String {
        let shown = "bytes " + b.prefix(8).map(String.init).joined(separator: " ")
        return b.count < 8 ? "only \(b.count) byte\(b.count == 1 ? "" : "s") (\(shown)): a truncated file" : shown
    }

    static func isJPEG(_ b: UnsafeRawBufferPointer) -> Bool { b.count >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF }
    static func isPNG(_ b: UnsafeRawBufferPointer) -> Bool {
        b.count >= 8 && Array(b[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    }

    static func decodeJPEG(_ data: UnsafeRawBufferPointer, path: String, limits: ResourceLimits,
                           scaling: JPEGScaling? = nil, transposed: Bool = false) throws -> Image {
        var out: [UInt8] = []
        let (w, h, channels) = try decodeJPEG(data, into: &out, path: path, limits: limits, scaling: scaling, transposed: transposed)
        return Image(width: w, height: h, channels: channels, bytes: out)
    }

    /// Decodes into `out` (resized only when the image needs more room: a stream of
    /// same-sized frames decodes into the same buffer).
    /// `scaling`: decode at 1/2, 1/4 or 1/8 size when it allows (`JPEGScaling`);
    /// `transposed`: the picture will be turned by 90° after decoding (EXIF orientation
    /// 5–8), so the scaling compares its width with the target's height.
    static func decodeJPEG(_ data: UnsafeRawBufferPointer, into out: inout [UInt8], path: String,
                           limits: ResourceLimits, handle given: tjhandle? = nil, scaling: JPEGScaling? = nil,
                           transposed: Bool = false) throws -> (width: Int, height: Int, channels: Int) {
        func bad(_ expected: String, _ found: String) -> VitError { .badImage(path: path, expected: expected, found: found) }
        guard data.count > 0 else { throw bad("a JPEG", "0 bytes") }
        guard let handle = given ?? tjInitDecompress() else { throw bad("a JPEG decoder", "none could be created") }
        defer { if given == nil { tjDestroy(handle) } }
        // libjpeg-turbo's words differ between versions (2.1 says "premature end", 3.x may
        // say "could not determine subsampling level" for the same cut file): a file without
        // its end-of-image marker is said to be truncated in our words too.
        let ended = data.count >= 2 && data[data.count - 2] == 0xFF && data[data.count - 1] == 0xD9
        func message() -> String {
            let m = String(cString: tjGetErrorStr2(handle))
            return ended ? m : "\(m) (\(data.count) bytes ending without an end-of-image marker: a truncated file?)"
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let base = data.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard tjDecompressHeader3(handle, base, UInt(data.count), &width, &height, &subsampling, &colorspace) == 0 else {
            throw bad("a valid JPEG header", message())
        }
        guard width > 0, height > 0 else {
            throw bad("a JPEG with a frame header (its size)", "none in \(data.count) bytes: a truncated or damaged file")
        }
        guard let pixels = checkedProduct([Int(width), Int(height)]), pixels <= limits.maxImagePixels else {
            throw VitError.tooManyPixels(path: path, width: Int(width), height: Int(height), limit: limits.maxImagePixels)
        }
        let gray = colorspace == Int32(TJCS_GRAY.rawValue)
        guard gray || colorspace == Int32(TJCS_YCbCr.rawValue) || colorspace == Int32(TJCS_RGB.rawValue) else {
            throw bad("a grayscale or colour (YCbCr/RGB) JPEG", colorspace == Int32(TJCS_CMYK.rawValue) ? "CMYK" : "YCCK (Adobe CMYK)")
        }
        let channels = gray ? 1 : 3
        // DCT-domain scaling: libjpeg-turbo's scaled IDCT makes the smaller picture directly
        // (TJSCALED: ⌈size / d⌉), as Pillow's draft mode asks libjpeg to.
        let d = scaling?.denominator(width: Int(width), height: Int(height), transposed: transposed) ?? 1
        let (sw, sh) = ((Int(width) + d - 1) / d, (Int(height) + d - 1) / d)
        let count = sw * sh * channels
        // Untouched until decoded into: a small file that claims a large image and then
        // fails costs little memory.
        if out.count != count {
            out = [UInt8](unsafeUninitializedCapacity: count) { _, n in n = count }
        }
        let flags = Int32(TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)
        let status = out.withUnsafeMutableBufferPointer {
            tjDecompress2(handle, base, UInt(data.count), $0.baseAddress, Int32(sw), 0, Int32(sh),
                          gray ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue), flags)
        }
        guard status == 0 else { throw bad("a complete, valid JPEG", message()) }
        return (sw, sh, channels)
    }

    static func decodePNG(_ data: UnsafeRawBufferPointer, path: String, limits: ResourceLimits) throws -> Image {
        func bad(_ expected: String, _ found: String) -> VitError { .badImage(path: path, expected: expected, found: found) }
        func failed(_ r: Int32) -> String { String(cString: spng_strerror(r)) }
        guard let ctx = spng_ctx_new(0) else { throw bad("a PNG decoder", "none could be created") }
        defer { spng_ctx_free(ctx) }
        // libspng sees the pixel chunks only (`PNGChunks`); its limits are a second line.
        spng_set_chunk_limits(ctx, 16 << 20, 64 << 20)
        var r = spng_set_png_buffer(ctx, data.baseAddress, data.count)
        guard r == 0 else { throw bad("a PNG", failed(r)) }
        var ihdr = spng_ihdr()
        r = spng_get_ihdr(ctx, &ihdr)
        guard r == 0 else { throw bad("a valid PNG header", failed(r)) }
        let width = Int(ihdr.width), height = Int(ihdr.height)
        guard let pixels = checkedProduct([width, height]), pixels <= limits.maxImagePixels else {
            throw VitError.tooManyPixels(path: path, width: width, height: height, limit: limits.maxImagePixels)
        }
        let grayType = ihdr.color_type == UInt8(SPNG_COLOR_TYPE_GRAYSCALE.rawValue)
        let grayAlpha = ihdr.color_type == UInt8(SPNG_COLOR_TYPE_GRAYSCALE_ALPHA.rawValue)
        let format: spng_format
        if grayType && ihdr.bit_depth <= 8 {
            format = SPNG_FMT_G8
        } else if grayType {
            format = SPNG_FMT_PNG  // 16-bit samples, clipped below as Pillow does
        } else {
            format = SPNG_FMT_RGB8  // gray+alpha is taken from its R channel below
        }
        var size = 0
        r = spng_decoded_image_size(ctx, Int32(format.rawValue), &size)
        guard r == 0 else { throw bad("a decodable PNG", failed(r)) }
        var out = [UInt8](unsafeUninitializedCapacity: size) { _, n in n = size }
        r = out.withUnsafeMutableBytes { spng_decode_image(ctx, $0.baseAddress, size, Int32(format.rawValue), 0) }
        guard r == 0 else { throw bad("a complete, valid PNG", failed(r)) }
        if grayType && ihdr.bit_depth == 16 {
            // Host-endian 16-bit samples → min(v, 255) (Pillow's I;16 → L).
            let clipped = out.withUnsafeBytes { raw -> [UInt8] in
                (0..<pixels).map { UInt8(min(Int(raw.load(fromByteOffset: 2 * $0, as: UInt16.self)), 255)) }
            }
            return Image(width: width, height: height, channels: 1, bytes: clipped)
        }
        if grayType { return Image(width: width, height: height, channels: 1, bytes: out) }
        if grayAlpha {
            let g = (0..<pixels).map { out[3 * $0] }
            return Image(width: width, height: height, channels: 1, bytes: g)
        }
        return Image(width: width, height: height, channels: 3, bytes: out)
    }
}

extension Image {
    /// Decodes an image held in memory: PGM/PPM, JPEG or PNG, told apart by their first bytes.
    /// `exifOrientation`: turn JPEG/PNG images upright by their EXIF orientation (as
    /// Pillow's `ImageOps.exif_transpose`; off by default, as Pillow's `open` and timm).
    public static func decode(_ bytes: [UInt8], path: String = "image", exifOrientation: Bool = false) throws -> Image {
        try decode(bytes, path: path, limits: .current, exifOrientation: exifOrientation)
    }

    /// Decodes an image held in memory within `limits`.
    public static func decode(_ bytes: [UInt8], path: String = "image", limits: ResourceLimits,
                              exifOrientation: Bool = false) throws -> Image {
        try decode(bytes, path: path, limits: limits, exifOrientation: exifOrientation, jpegScaling: nil)
    }

    /// The same, a JPEG decoded at 1/2, 1/4 or 1/8 of its size when `jpegScaling` allows.
    package static func decode(_ bytes: [UInt8], path: String = "image", limits: ResourceLimits,
                                               exifOrientation: Bool = false, jpegScaling: JPEGScaling?) throws -> Image {
        try bytes.withUnsafeBytes { raw in
            func starts(_ prefix: [UInt8]) -> Bool { raw.count >= prefix.count && Array(raw.prefix(prefix.count)) == prefix }
            // Told apart by their first byte; a damaged signature is named as such.
            if starts([0xFF]) {
                guard JPEGPNG.isJPEG(raw) else {
                    throw VitError.badImage(path: path, expected: "a JPEG (its first bytes FF D8 FF)", found: JPEGPNG.describe(raw))
                }
                let o = exifOrientation ? EXIF.orientation(jpeg: raw) : nil
                let image = try JPEGPNG.decodeJPEG(raw, path: path, limits: limits, scaling: jpegScaling,
                                                   transposed: (o ?? 1) >= 5)
                guard let o else { return image }
                return EXIF.transposed(image, orientation: o)
            }
            if starts([0x89]) {
                guard JPEGPNG.isPNG(raw) else {
                    throw VitError.badImage(path: path, expected: "a PNG (its signature 137 80 78 71 13 10 26 10)", found: JPEGPNG.describe(raw))
                }
                let chunks = try PNGChunks(raw, path: path)
                let image = try chunks.pixelChunks.map { bytes in
                    try bytes.withUnsafeBytes { try JPEGPNG.decodePNG($0, path: path, limits: limits) }
                } ?? JPEGPNG.decodePNG(raw, path: path, limits: limits)
                guard exifOrientation, let e = chunks.exif,
                      let o = EXIF.orientation(tiff: UnsafeRawBufferPointer(rebasing: raw[e])) else { return image }
                return EXIF.transposed(image, orientation: o)
            }
            return try decodePNM(ByteInput(name: path, memory: raw), path: path, limits: limits)
        }
    }
}

/// Decoding a JPEG straight to 1/2, 1/4 or 1/8 of its size in the DCT domain
/// (libjpeg-turbo's scaled IDCT: what Pillow's `Image.draft` asks libjpeg for), when the
/// model's resize shrinks the picture at least that much anyway: the largest d of 8, 4, 2
/// with ⌊width / target width⌋ ≥ d and ⌊height / target height⌋ ≥ d, the target being the
/// size the model's preprocessing resizes this picture to (Pillow's draft rule). The
/// pixels are not those of a full decode followed by the resize (the fidelity is measured
/// in docs/BENCHMARKS.md), so it is an option, off by default (`--jpeg-scale auto`).
package struct JPEGScaling: Sendable {
    /// The size a picture of width × height is resized to.
    let target: @Sendable (_ width: Int, _ height: Int) -> (width: Int, height: Int)

    /// For a model: the size its preprocessing resizes to, before the centre crop.
    package init(config c: ViTConfig) {
        let p = c.preprocessing, input = (c.imageHeight, c.imageWidth)
        target = { w, h in p.resizedSize(width: w, height: h, input: input) }
    }

    /// The scale denominator for a picture of width × height (1: full size).
    /// `transposed`: turned by 90° after decoding (the target is of the turned picture).
    package func denominator(width: Int, height: Int, transposed: Bool = false) -> Int {
        let t = transposed ? target(height, width) : target(width, height)
        let (tw, th) = transposed ? (t.height, t.width) : (t.width, t.height)
        guard tw > 0, th > 0 else { return 1 }
        let most = min(width / tw, height / th)
        return [8, 4, 2].first { most >= $0 } ?? 1
    }
}

/// A JPEG decoder kept for a stream of frames: one libjpeg-turbo handle and one output
/// buffer, reused, so frames of the same size decode without allocating after the first.
package final class JPEGDecoder {
    let handle: tjhandle?
    /// The last frame's pixels: width · height · channels bytes, RGB or gray.
    package private(set) var pixels: [UInt8] = []

    package init() { handle = tjInitDecompress() }
    deinit { if let handle { tjDestroy(handle) } }

    /// Decodes one JPEG into `pixels` (at 1/2, 1/4 or 1/8 size when `scaling` allows).
    package func decode(_ data: UnsafeRawBufferPointer, path: String,
                       limits: ResourceLimits = .current, scaling: JPEGScaling? = nil) throws -> (width: Int, height: Int, channels: Int) {
        guard JPEGPNG.isJPEG(data) else {
            throw VitError.badImage(path: path, expected: "a JPEG (FF D8 FF)", found: "bytes " + data.prefix(3).map(String.init).joined(separator: " "))
        }
        guard let handle else { throw VitError.badImage(path: path, expected: "a JPEG decoder", found: "none could be created") }
        return try JPEGPNG.decodeJPEG(data, into: &pixels, path: path, limits: limits, handle: handle, scaling: scaling)
    }
}
