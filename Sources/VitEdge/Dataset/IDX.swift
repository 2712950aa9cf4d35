/// IDX files (the MNIST format), plain or as one LZ4 frame: a big-endian header
/// (0, 0, type 0x08 = unsigned byte, number of dimensions, then each dimension)
/// and the bytes.
public struct IDX: Sendable {
    public var dims: [Int]
    public var data: [UInt8]

    public static func load(path: String, limits: ResourceLimits = .current) throws -> IDX {
        try decode(try FileIO.read(path, limit: limits.maxFileBytes), path: path, limits: limits)
    }

    /// Parses IDX bytes, or one LZ4 frame holding them.
    public static func decode(_ bytes: [UInt8], path: String, limits: ResourceLimits = .current) throws -> IDX {
        var bytes = bytes
        if LZ4.isFrame(bytes) {
            do { bytes = try LZ4.decompressFrame(bytes, limit: limits.maxFileBytes) } catch let LZ4.Failure.message(m) {
                throw VitError.badDataset(path: path, expected: "a valid LZ4 frame", found: m)
            }
        }
        return try parse(bytes, path: path)
    }

    public static func parse(_ b: [UInt8], path: String) throws -> IDX {
        guard b.count >= 4 else { throw VitError.badDataset(path: path, expected: "an IDX header", found: "\(b.count) bytes") }
        guard b[0] == 0, b[1] == 0, b[2] == 0x08 else {
            throw VitError.badDataset(path: path, expected: "IDX magic 00 00 08 (unsigned bytes)",
                                      found: "\(b[0]) \(b[1]) \(b[2])")
        }
        let ndim = Int(b[3])
        guard ndim >= 1 && ndim <= 4, b.count >= 4 + 4 * ndim else {
            throw VitError.badDataset(path: path, expected: "1 to 4 dimensions with their sizes", found: "\(ndim) in \(b.count) bytes")
        }
        var dims: [Int] = []
        for d in 0..<ndim {
            let o = 4 + 4 * d
            dims.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
        }
        guard dims.allSatisfy({ $0 >= 1 }) else {
            throw VitError.badDataset(path: path, expected: "every dimension at least 1", found: "\(dims)")
        }
        let start = 4 + 4 * ndim
        guard let count = checkedProduct(dims), count == b.count - start else {
            throw VitError.badDataset(path: path, expected: "\(dims.map(String.init).joined(separator: "x")) bytes of data",
                                      found: "\(b.count - start)")
        }
        return IDX(dims: dims, data: Array(b[start...]))
    }

    /// The images of an [N, H, W] file as gray `Image`s (bytes / 255).
    public func images(path: String) throws -> [Image] {
        guard dims.count == 3 else {
            throw VitError.badDataset(path: path, expected: "images [N, H, W]", found: "\(dims.count) dimensions")
        }
        let (n, h, w) = (dims[0], dims[1], dims[2])
        return (0..<n).map { i in
            Image(width: w, height: h, channels: 1, samples: data[(i * h * w)..<((i + 1) * h * w)].map { Float($0) / 255 })
        }
    }
}
