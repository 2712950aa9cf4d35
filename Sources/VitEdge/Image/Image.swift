/// A decoded image, row-major [H, W, channels] interleaved: 8-bit samples as decoded
/// (JPEG, PNG, 8-bit PGM/PPM, IDX: what Pillow holds, so preprocessing can match it
/// exactly) or floats in [0, 1] (16-bit or odd-maxval PGM/PPM, maps).
public struct Image: Sendable {
    /// The samples: 8-bit as decoded, or floats in [0, 1].
    public enum Pixels: Sendable, Equatable {
        case bytes([UInt8])
        case floats([Float])
    }

    /// Pixels per row.
    public var width: Int
    /// Rows.
    public var height: Int
    /// 1 (gray) or 3 (RGB)
    public var channels: Int
    /// Row-major [height, width, channels], channels interleaved.
    public var pixels: Pixels

    /// An image of float samples in [0, 1], [height, width, channels] interleaved.
    public init(width: Int, height: Int, channels: Int, samples: [Float]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = .floats(samples)
    }

    /// An image of 8-bit samples, [height, width, channels] interleaved.
    public init(width: Int, height: Int, channels: Int, bytes: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = .bytes(bytes)
    }

    /// The samples as floats in [0, 1] (v / 255 for 8-bit images, as torchvision's ToTensor).
    public var samples: [Float] {
        switch pixels {
        case .bytes(let b): return b.map { Float($0) / 255 }
        case .floats(let f): return f
        }
    }

    /// A borrowed view of the pixels for the duration of `body`.
    public func withView<R>(_ body: (ImageView) throws -> R) rethrows -> R {
        switch pixels {
        case .bytes(let b):
            return try b.withUnsafeBytes {
                try body(ImageView(format: channels == 1 ? .gray8 : .rgb8, width: width, height: height, data: $0.baseAddress!))
            }
        case .floats(let f):
            return try f.withUnsafeBytes {
                try body(ImageView(format: channels == 1 ? .grayFloat : .rgbFloat, width: width, height: height, data: $0.baseAddress!))
            }
        }
    }

    /// Reads an image file: PGM (P2, P5) or PPM (P3, P6), 8 or 16 bits per sample, JPEG or
    /// PNG (see `JPEGPNG`), told apart by their first bytes.
    /// `exifOrientation`: see `decode`.
    /// Checked against the default `ResourceLimits` before anything is allocated (the
    /// overload below takes others).
    public static func load(path: String, exifOrientation: Bool = false) throws -> Image {
        try load(path: path, limits: .current, exifOrientation: exifOrientation)
    }

    /// Reads an image file within `limits`.
    public static func load(path: String, limits: ResourceLimits, exifOrientation: Bool = false) throws -> Image {
        try load(path: path, limits: limits, exifOrientation: exifOrientation, jpegScaling: nil)
    }

    /// The same, a JPEG decoded at 1/2, 1/4 or 1/8 of its size when `jpegScaling` allows.
    package static func load(path: String, limits: ResourceLimits, exifOrientation: Bool = false,
                                             jpegScaling: JPEGScaling?) throws -> Image {
        let input = try FileIO.input(path, limit: limits.maxFileBytes)
        guard let first = try input.peek(), first == 0xFF || first == 0x89 else {
            if let first = try input.peek(), first != UInt8(ascii: "P") {
                // Not one of the formats read here (GIF, BMP, WebP, ...): say which are.
                var head = [UInt8](repeating: 0, count: 4)
                let n = try head.withUnsafeMutableBytes { try input.read(into: $0) }
                throw VitError.badImage(path: path, expected: "a JPEG, PNG, PGM or PPM image",
                                        found: "bytes " + head.prefix(n).map(String.init).joined(separator: " ")
                                            + (head.starts(with: Array("GIF8".utf8)) ? " (GIF)" : head.starts(with: [0x42, 0x4D]) ? " (BMP)"
                                               : head.starts(with: Array("RIFF".utf8)) ? " (RIFF: WebP?)" : ""))
            }
            return try decodePNM(input, path: path, limits: limits)
        }
        // JPEG and PNG are decoded from the whole file (a regular file of known size).
        var bytes = [UInt8](repeating: 0, count: input.size ?? 0)
        let got = try bytes.withUnsafeMutableBytes { try input.read(into: $0) }
        guard got == bytes.count else { throw VitError.io(path: path, reason: "read \(got) of \(bytes.count) bytes") }
        return try decode(bytes, path: path, limits: limits, exifOrientation: exifOrientation, jpegScaling: jpegScaling)
    }

    /// Decodes one PNM image starting at `start`; returns it and the offset just
    /// past it (so a stream of concatenated images can be read one by one).
    package static func decodePNM(_ bytes: [UInt8], from start: Int = 0, path: String,
                                 limits: ResourceLimits = .current) throws -> (image: Image, end: Int) {
        try bytes.withUnsafeBytes { raw in
            let input = ByteInput(name: path, memory: UnsafeRawBufferPointer(rebasing: raw[min(start, raw.count)...]))
            let image = try decodePNM(input, path: path, limits: limits)
            return (image, min(start, raw.count) + input.offset)
        }
    }

    /// Decodes one PNM image from `input`, whose remaining size is checked against the
    /// header before the samples are allocated.
    static func decodePNM(_ input: ByteInput, path: String, limits: ResourceLimits) throws -> Image {
        let h = try PNM.readHeader(input, path: path, limits: limits)
        if h.maxval == 255 {
            var bytes = [UInt8](unsafeUninitializedCapacity: h.samples) { _, n in n = h.samples }
            try bytes.withUnsafeMutableBufferPointer { try PNM.readBytes(input, h, into: $0.baseAddress!, path: path) }
            return Image(width: h.width, height: h.height, channels: h.channels, bytes: bytes)
        }
        var samples = [Float](unsafeUninitializedCapacity: h.samples) { _, n in n = h.samples }
        try samples.withUnsafeMutableBufferPointer { try PNM.readSamples(input, h, into: $0.baseAddress!, path: path) }
        return Image(width: h.width, height: h.height, channels: h.channels, samples: samples)
    }
}

/// A borrowed view of pixels in one of the layouts decoders and cameras give. The
/// memory belongs to the caller and must stay valid while the view is used.
public struct ImageView {
    /// The pixel layouts a view can describe (the raw value is the CLI's name for it).
    public enum Format: String, Sendable, CaseIterable {
        /// 8-bit gray, one byte per pixel
        case gray8
        /// 8-bit RGB, three bytes per pixel
        case rgb8 = "rgb24"
        /// Planar Y, then U and V at half width and height (rounded up): yuv420p / I420,
        /// what `rpicam-vid --codec yuv420` and `ffmpeg -pix_fmt yuv420p` write
        case i420 = "yuv420p"
        /// Y, then interleaved U, V at half width and height (rounded up)
        case nv12
        /// Float gray in [0, 1]
        case grayFloat = "grayf32"
        /// Float RGB in [0, 1]
        case rgbFloat = "rgbf32"
        /// 8-bit B, G, R, three bytes per pixel: OpenCV's default order, Picamera2's "RGB888"
        case bgr8 = "bgr24"
        /// 8-bit R, G, B and one byte ignored: Picamera2's "XBGR8888" ([R, G, B, 255] in memory), RGBA
        case rgbx8 = "rgbx32"
        /// 8-bit B, G, R and one byte ignored: Picamera2's "XRGB8888" ([B, G, R, 255] in memory), BGRA
        case bgrx8 = "bgrx32"

        /// 1 for gray, 3 for the colour formats.
        public var channels: Int { self == .gray8 || self == .grayFloat ? 1 : 3 }
        var isFloat: Bool { self == .grayFloat || self == .rgbFloat }
        var isYUV: Bool { self == .i420 || self == .nv12 }
        /// Rows that reach the resampler as RGB, converted one at a time: YUV frames and
        /// the byte orders other than RGB (exactly what converting the whole image first gives).
        var rowsViaRGB: Bool { isYUV || self == .bgr8 || self == .rgbx8 || self == .bgrx8 }
        /// Bytes of one pixel (of the Y plane for the YUV formats).
        var bytesPerPixel: Int { ImageView.minimumRowBytes(self, width: 1) }
    }

    /// The layout of the pixels.
    public var format: Format
    /// Pixels per row.
    public var width: Int
    /// Rows (of the Y plane for the YUV formats).
    public var height: Int
    /// The first byte of the first row; the caller keeps it valid while the view is used.
    public var data: UnsafeRawPointer
    /// Bytes from one row to the next (of the Y plane for the YUV formats, whose chroma
    /// planes follow it tightly packed).
    public var rowBytes: Int

    /// A view of `data`; `rowBytes` nil means rows packed without padding.
    public init(format: Format, width: Int, height: Int, data: UnsafeRawPointer, rowBytes: Int? = nil) {
        self.format = format
        self.width = width
        self.height = height
        self.data = data
        self.rowBytes = rowBytes ?? Self.minimumRowBytes(format, width: width)
    }

    static func minimumRowBytes(_ f: Format, width: Int) -> Int {
        switch f {
        case .gray8, .i420, .nv12: return width
        case .rgb8, .bgr8: return 3 * width
        case .rgbx8, .bgrx8: return 4 * width
        case .grayFloat: return 4 * width
        case .rgbFloat: return 12 * width
        }
    }

    /// The bytes one tightly packed frame of this format and size takes (nil if it overflows).
    public static func byteCount(_ f: Format, width: Int, height: Int) -> Int? {
        guard width > 0, height > 0, let luma = checkedProduct([minimumRowBytes(f, width: width), height]) else { return nil }
        guard f.isYUV else { return luma }
        let chroma = 2 * ((width + 1) / 2) * ((height + 1) / 2)
        let (sum, overflow) = luma.addingReportingOverflow(chroma)
        return overflow ? nil : sum
    }
}
