/// PGM and PPM (Netpbm P2, P3, P5, P6; 8 or 16 bits per sample), parsed incrementally
/// from a `ByteInput`: one parser for files, bytes in memory and a stream of images on
/// standard input. Every byte is examined once; the sample buffer is sized from the
/// validated header, after checking (where the input's size is known) that the data
/// can be there, so a short file that claims a huge image is refused before allocating.
enum PNM {
    struct Header {
        var width: Int
        var height: Int
        var maxval: Int
        var channels: Int
        var plain: Bool

        var samples: Int { width * height * channels }
        var bytesPerSample: Int { maxval < 256 ? 1 : 2 }
        /// The fewest bytes the samples can take after the header.
        var minimumDataBytes: Int { plain ? 2 * samples - 1 : samples * bytesPerSample }
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }

    /// Reads the header up to and including the single whitespace byte before binary
    /// data (or up to the first sample of a plain image).
    static func readHeader(_ input: ByteInput, path: String, limits: ResourceLimits) throws -> Header {
        func bad(_ expected: String, _ found: String) -> VitError { .badImage(path: path, expected: expected, found: found) }
        // Decided byte by byte: a stream that starts wrong is an error at once.
        guard let first = try input.next() else { throw bad("a PGM or PPM header (P2, P3, P5 or P6)", "0 bytes") }
        guard first == UInt8(ascii: "P") else {
            let found = input.pos < input.end ? "bytes \(first) \(input.buffer[input.pos])" : "byte \(first)"
            throw bad("a PGM or PPM header (P2, P3, P5 or P6)", found)
        }
        guard let second = try input.next() else { throw bad("a PGM or PPM header (P2, P3, P5 or P6)", "1 byte") }
        let channels: Int, plain: Bool
        switch second {
        case UInt8(ascii: "2"): (channels, plain) = (1, true)
        case UInt8(ascii: "5"): (channels, plain) = (1, false)
        case UInt8(ascii: "3"): (channels, plain) = (3, true)
        case UInt8(ascii: "6"): (channels, plain) = (3, false)
        default: throw bad("P2, P3, P5 or P6", (0x21..<0x7F).contains(second) ? "P\(String(UnicodeScalar(second)))" : "P then byte \(second)")
        }
        let width = try number(input, "width", path: path)
        let height = try number(input, "height", path: path)
        let maxval = try number(input, "maxval", path: path)
        guard width > 0 && height > 0 else { throw bad("a non-zero width and height", "\(width)x\(height)") }
        guard maxval >= 1 && maxval <= 65535 else { throw bad("maxval in 1...65535", "\(maxval)") }
        guard let pixels = checkedProduct([width, height]), pixels <= limits.maxImagePixels else {
            throw VitError.tooManyPixels(path: path, width: width, height: height, limit: limits.maxImagePixels)
        }
        let header = Header(width: width, height: height, maxval: maxval, channels: channels, plain: plain)
        if !plain {
            // Exactly one whitespace byte separates the header from binary data.
            guard let b = try input.next(), isSpace(b) else { throw bad("whitespace after maxval", "end of header") }
        }
        if let remaining = input.remaining, remaining < header.minimumDataBytes {
            throw bad(plain ? "\(header.samples) samples for \(width)x\(height)x\(channels)"
                            : "\(header.minimumDataBytes) bytes of pixel data for \(width)x\(height)x\(channels) at \(header.bytesPerSample * 8) bits",
                      plain ? "\(remaining) bytes, too few to hold them" : "\(remaining)")
        }
        return header
    }

    /// Skips whitespace and `#` comments, then reads a decimal number below 2^30.
    static func number(_ input: ByteInput, _ what: String, path: String) throws -> Int {
        while let b = try input.peek() {
            if isSpace(b) {
                _ = try input.next()
            } else if b == UInt8(ascii: "#") {
                while let c = try input.next(), c != 0x0A && c != 0x0D {}
            } else {
                break
            }
        }
        var v = 0, digits = 0
        while let b = try input.peek(), b >= 0x30, b <= 0x39 {
            _ = try input.next()
            v = v * 10 + Int(b - 0x30)
            digits += 1
            if v > 1 << 30 { throw VitError.badImage(path: path, expected: "a \(what) below 2^30", found: "a larger number") }
        }
        guard digits > 0 else {
            let found = try input.peek().map { "byte \($0)" } ?? "end of file"
            throw VitError.badImage(path: path, expected: "a decimal \(what)", found: found)
        }
        return v
    }

    /// Reads the header's samples as value / maxval and writes them to `out` (room for
    /// `h.samples`) in pieces as they arrive, so pages of `out` are touched only as data
    /// comes. A sample above maxval is an error, in the plain and the binary forms alike.
    static func readSamples(_ input: ByteInput, _ h: Header, into out: UnsafeMutablePointer<Float>, path: String) throws {
        func bad(_ expected: String, _ found: String) -> VitError { .badImage(path: path, expected: expected, found: found) }
        let count = h.samples
        let maxv = Float(h.maxval)  // divide (not multiply by 1/maxval) to match PyTorch's uint8 / 255 exactly
        let pieceSize = 4096
        var piece = [Float](repeating: 0, count: pieceSize)
        var filled = 0, s = 0, written = 0
        func emit() {
            piece.withUnsafeBufferPointer { (out + written).update(from: $0.baseAddress!, count: filled) }
            written += filled
            filled = 0
        }
        if h.plain {
            while s < count {
                let v = try number(input, "sample", path: path)
                guard v <= h.maxval else { throw bad("samples at most maxval \(h.maxval)", "\(v) at sample \(s)") }
                piece[filled] = Float(v) / maxv
                filled += 1
                s += 1
                if filled == pieceSize { emit() }
            }
            emit()
            return
        }
        if h.bytesPerSample == 1 {
            var table = [Float](repeating: 0, count: 256)
            for v in 0...h.maxval { table[v] = Float(v) / maxv }
            let maxval = UInt8(h.maxval)
            while s < count {
                let n = try table.withUnsafeBufferPointer { t in
                    try piece.withUnsafeMutableBufferPointer { dst in
                        try input.consume(upTo: min(count - s, pieceSize)) { src in
                            for i in 0..<src.count {
                                let b = src[i]
                                guard b <= maxval else { throw bad("samples at most maxval \(maxval)", "\(b) at sample \(s + i)") }
                                dst[i] = t[Int(b)]
                            }
                            return src.count
                        }
                    }
                }
                guard n > 0 else { throw truncated(h, samples: s, path: path) }
                filled = n
                emit()
                s += n
            }
            return
        }
        var high: UInt8? = nil  // the first byte of a sample split between two reads
        while s < count {
            let n = try input.consume(upTo: min(2 * (count - s) - (high == nil ? 0 : 1), 2 * pieceSize - 1)) { src in
                var i = 0
                while i < src.count {
                    let v: Int
                    if let hb = high {
                        v = Int(hb) << 8 | Int(src[i]); i += 1; high = nil
                    } else if i + 1 < src.count {
                        v = Int(src[i]) << 8 | Int(src[i + 1]); i += 2
                    } else {
                        high = src[i]; i += 1; continue
                    }
                    guard v <= h.maxval else { throw bad("samples at most maxval \(h.maxval)", "\(v) at sample \(s)") }
                    piece[filled] = Float(v) / maxv
                    filled += 1
                    s += 1
                }
                return src.count
            }
            guard n > 0 else { throw truncated(h, samples: s, path: path) }
            emit()
        }
    }

    /// Reads the samples of a maxval-255 image as bytes (they are the 8-bit values
    /// Pillow holds), in pieces as they arrive.
    static func readBytes(_ input: ByteInput, _ h: Header, into out: UnsafeMutablePointer<UInt8>, path: String) throws {
        precondition(h.maxval == 255)
        let count = h.samples
        var s = 0
        if h.plain {
            while s < count {
                let v = try number(input, "sample", path: path)
                guard v <= 255 else { throw VitError.badImage(path: path, expected: "samples at most maxval 255", found: "\(v) at sample \(s)") }
                out[s] = UInt8(v)
                s += 1
            }
            return
        }
        while s < count {
            let n = try input.consume(upTo: min(count - s, 1 << 16)) { src in
                UnsafeMutableRawPointer(out + s).copyMemory(from: src.baseAddress!, byteCount: src.count)
                return src.count
            }
            guard n > 0 else { throw truncated(h, samples: s, path: path) }
            s += n
        }
    }

    static func truncated(_ h: Header, samples: Int, path: String) -> VitError {
        .badImage(path: path, expected: "\(h.samples * h.bytesPerSample) bytes of pixel data for \(h.width)x\(h.height)x\(h.channels) at \(h.bytesPerSample * 8) bits",
                  found: "\(samples * h.bytesPerSample) before the end of the input")
    }
}

/// A stream of concatenated PGM/PPM images (a camera pipeline on standard input), read
/// incrementally: each image is returned as soon as its last byte has arrived, errors as
/// soon as they are certain, and the sample buffer of one frame is reused for the next
/// of the same size. Its pages are touched only as data arrives (RSS follows the data,
/// not a header's claim). Memory is the input buffer plus one frame; time is linear.
package final class PNMStream {
    let input: ByteInput
    let limits: ResourceLimits
    let name: String
    /// Frames read so far.
    package private(set) var index = 0
    var frame: Image? = nil

    package init(_ input: ByteInput, name: String = "stdin", limits: ResourceLimits = .current) {
        self.input = input
        self.name = name
        self.limits = limits
    }

    /// The next image, or nil when the input ends (whitespace between images is skipped).
    /// The returned image's samples are reused by the next call of the same size.
    package func next() throws -> Image? {
        while let b = try input.peek(), PNM.isSpace(b) { _ = try input.next() }
        guard try input.peek() != nil else { return nil }
        let path = "\(name) image #\(index)"
        let h = try PNM.readHeader(input, path: path, limits: limits)
        var image = frame ?? Image(width: 0, height: 0, channels: 1, bytes: [])
        frame = nil  // keep the samples uniquely referenced while they are written
        (image.width, image.height, image.channels) = (h.width, h.height, h.channels)
        // Untouched until samples arrive: a header that claims a huge image followed by
        // little data costs little memory. Kept for the next frame of the same size.
        if h.maxval == 255 {
            var bytes: [UInt8] = []
            if case .bytes(let b) = image.pixels, b.count == h.samples { bytes = b }
            image.pixels = .bytes([])
            if bytes.count != h.samples { bytes = [UInt8](unsafeUninitializedCapacity: h.samples) { _, n in n = h.samples } }
            try bytes.withUnsafeMutableBufferPointer { try PNM.readBytes(input, h, into: $0.baseAddress!, path: path) }
            image.pixels = .bytes(bytes)
        } else {
            var floats: [Float] = []
            if case .floats(let f) = image.pixels, f.count == h.samples { floats = f }
            image.pixels = .floats([])
            if floats.count != h.samples { floats = [Float](unsafeUninitializedCapacity: h.samples) { _, n in n = h.samples } }
            try floats.withUnsafeMutableBufferPointer { try PNM.readSamples(input, h, into: $0.baseAddress!, path: path) }
            image.pixels = .floats(floats)
        }
        index += 1
        frame = image
        return image
    }
}
