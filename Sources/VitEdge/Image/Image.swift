/// A decoded image: samples in [0, 1], interleaved, row-major [H, W, channels].
public struct Image: Sendable {
    public var width: Int
    public var height: Int
    /// 1 (gray) or 3 (RGB)
    public var channels: Int
    /// [height · width · channels]
    public var samples: [Float]

    public init(width: Int, height: Int, channels: Int, samples: [Float]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
    }

    /// Reads an image file: PGM (P2, P5) or PPM (P3, P6), 8 or 16 bits per sample, JPEG or
    /// PNG (see `JPEGPNG`), told apart by their first bytes.
    public static func load(path: String, limits: ResourceLimits = .current) throws -> Image {
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
        return try decode(bytes, path: path, limits: limits)
    }

    /// Decodes one PNM image starting at `start`; returns it and the offset just
    /// past it (so a stream of concatenated images can be read one by one).
    public static func decodePNM(_ bytes: [UInt8], from start: Int = 0, path: String,
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
        var samples = [Float](unsafeUninitializedCapacity: h.samples) { _, n in n = h.samples }
        try samples.withUnsafeMutableBufferPointer { try PNM.readSamples(input, h, into: $0.baseAddress!, path: path) }
        return Image(width: h.width, height: h.height, channels: h.channels, samples: samples)
    }
}
