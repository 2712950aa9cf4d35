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

    /// Reads a PGM (P2, P5) or PPM (P3, P6) file, 8 or 16 bits per sample.
    public static func load(path: String, limits: ResourceLimits = .current) throws -> Image {
        let bytes = try FileIO.read(path, limit: limits.maxFileBytes)
        return try decodePNM(bytes, path: path, limits: limits).image
    }

    /// Decodes one PNM image starting at `start`; returns it and the offset just
    /// past it (so a stream of concatenated images can be read one by one).
    public static func decodePNM(_ bytes: [UInt8], from start: Int = 0, path: String,
                                 limits: ResourceLimits = .current) throws -> (image: Image, end: Int) {
        func bad(_ expected: String, _ found: String) -> VitError { .badImage(path: path, expected: expected, found: found) }
        var i = start
        guard bytes.count - i >= 2, bytes[i] == UInt8(ascii: "P") else {
            throw bad("a PGM or PPM header (P2, P3, P5 or P6)",
                      bytes.count - i < 2 ? "\(bytes.count - i) bytes" : "bytes \(bytes[i]) \(bytes[i + 1])")
        }
        let kind = bytes[i + 1]
        let channels: Int, plain: Bool
        switch kind {
        case UInt8(ascii: "2"): (channels, plain) = (1, true)
        case UInt8(ascii: "5"): (channels, plain) = (1, false)
        case UInt8(ascii: "3"): (channels, plain) = (3, true)
        case UInt8(ascii: "6"): (channels, plain) = (3, false)
        default: throw bad("P2, P3, P5 or P6", "P\(String(UnicodeScalar(kind)))")
        }
        i += 2

        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }
        func skipSpaceAndComments() {
            while i < bytes.count {
                if isSpace(bytes[i]) { i += 1 } else if bytes[i] == UInt8(ascii: "#") {
                    while i < bytes.count && bytes[i] != 0x0A && bytes[i] != 0x0D { i += 1 }
                } else { break }
            }
        }
        func number(_ what: String) throws -> Int {
            skipSpaceAndComments()
            var v = 0, digits = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                v = v * 10 + Int(bytes[i] - 0x30)
                digits += 1
                i += 1
                if v > 1 << 30 { throw bad("a \(what) below 2^30", "a larger number") }
            }
            guard digits > 0 else {
                throw bad("a decimal \(what)", i < bytes.count ? "byte \(bytes[i])" : "end of file")
            }
            return v
        }
        let width = try number("width")
        let height = try number("height")
        let maxval = try number("maxval")
        guard width > 0 && height > 0 else { throw bad("a non-zero width and height", "\(width)x\(height)") }
        guard maxval >= 1 && maxval <= 65535 else { throw bad("maxval in 1...65535", "\(maxval)") }
        guard let pixels = checkedProduct([width, height]), pixels <= limits.maxImagePixels else {
            throw VitError.tooLarge(what: "\(path): image of \(width)x\(height) pixels", bytes: width &* height,
                                    limit: limits.maxImagePixels, hint: "the limit counts pixels")
        }
        let count = pixels * channels
        let maxv = Float(maxval)  // divide (not multiply by 1/maxval) to match PyTorch's uint8 / 255 exactly
        var samples = [Float](repeating: 0, count: count)
        if plain {
            for s in 0..<count {
                let v = try number("sample")
                guard v <= maxval else { throw bad("samples at most maxval \(maxval)", "\(v) at sample \(s)") }
                samples[s] = Float(v) / maxv
            }
        } else {
            // Exactly one whitespace byte separates the header from binary data.
            guard i < bytes.count, isSpace(bytes[i]) else { throw bad("whitespace after maxval", "end of header") }
            i += 1
            let bytesPerSample = maxval < 256 ? 1 : 2
            let need = count * bytesPerSample
            guard bytes.count - i >= need else {
                throw bad("\(need) bytes of pixel data for \(width)x\(height)x\(channels) at \(bytesPerSample * 8) bits",
                          "\(bytes.count - i)")
            }
            if bytesPerSample == 1 {
                for s in 0..<count { samples[s] = min(Float(bytes[i + s]), maxv) / maxv }
            } else {
                for s in 0..<count {
                    let v = Int(bytes[i + 2 * s]) << 8 | Int(bytes[i + 2 * s + 1])
                    samples[s] = Float(min(v, maxval)) / maxv
                }
            }
            i += need
        }
        return (Image(width: width, height: height, channels: channels, samples: samples), i)
    }
}
