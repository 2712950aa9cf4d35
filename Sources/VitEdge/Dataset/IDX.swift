/// IDX files (the MNIST format), plain or as one LZ4 frame: a big-endian header
/// (0, 0, type 0x08 = unsigned byte, number of dimensions, then each dimension) and the
/// bytes. Read forward one item (image or label) at a time, decompressing on the fly,
/// so memory does not grow with the file and a command that uses ten images of a
/// million-image file reads ten.
package final class IDXReader {
    package let path: String
    /// [N, ...]: the number of items, then each item's shape.
    package let dims: [Int]
    /// Bytes per item: the product of `dims[1...]`.
    package let itemBytes: Int
    /// Items read so far.
    package private(set) var index = 0
    let input: ByteInput
    var item: [UInt8]

    package var count: Int { dims[0] }

    package convenience init(path: String, limits: ResourceLimits = .current) throws {
        try self.init(FileIO.input(path, limit: limits.maxFileBytes), path: path, limits: limits)
    }

    /// Reads and validates the header from `raw` (IDX bytes, or an LZ4 frame of them).
    /// When the data's size is known (a plain file, or a frame that declares its size),
    /// it must be exactly what the header declares; otherwise that is checked as it is read.
    /// An item (one image) may hold at most `limits.maxImagePixels` bytes.
    package init(_ raw: ByteInput, path: String, limits: ResourceLimits = .current) throws {
        func bad(_ expected: String, _ found: String) -> VitError { .badDataset(path: path, expected: expected, found: found) }
        self.path = path
        var input = raw
        if try raw.peek() == 0x04 {
            do { input = try LZ4.frameInput(raw).input } catch let LZ4.Failure.message(m) {
                throw bad("a valid LZ4 frame", m)
            }
        }
        var head = [UInt8](repeating: 0, count: 4)
        let got = try IDXReader.read(input, into: &head, path: path)
        guard got == 4 else { throw bad("an IDX header", "\(got) bytes") }
        guard head[0] == 0, head[1] == 0, head[2] == 0x08 else {
            throw bad("IDX magic 00 00 08 (unsigned bytes)", "\(head[0]) \(head[1]) \(head[2])")
        }
        let ndim = Int(head[3])
        var sizes = [UInt8](repeating: 0, count: 4 * ndim)
        guard ndim >= 1 && ndim <= 4, try IDXReader.read(input, into: &sizes, path: path) == 4 * ndim else {
            throw bad("1 to 4 dimensions with their sizes", "\(ndim) dimensions\(ndim >= 1 && ndim <= 4 ? " and fewer sizes" : "")")
        }
        var dims: [Int] = []
        for d in 0..<ndim {
            let o = 4 * d
            dims.append(Int(sizes[o]) << 24 | Int(sizes[o + 1]) << 16 | Int(sizes[o + 2]) << 8 | Int(sizes[o + 3]))
        }
        guard dims.allSatisfy({ $0 >= 1 }) else { throw bad("every dimension at least 1", "\(dims)") }
        let shape = dims.map(String.init).joined(separator: "x")
        guard let total = checkedProduct(dims), let itemBytes = checkedProduct(Array(dims.dropFirst())) else {
            throw bad("a data size that fits in memory", shape)
        }
        guard itemBytes <= limits.maxImagePixels else {
            throw VitError.tooLarge(what: "\(path): items of \(dims.dropFirst().map(String.init).joined(separator: "x")) bytes",
                                    bytes: itemBytes, limit: limits.maxImagePixels, hint: "the limit is the image pixel limit")
        }
        if let remaining = input.remaining, remaining != total {
            throw bad("\(shape) bytes of data", "\(remaining)")
        }
        self.dims = dims
        self.itemBytes = itemBytes
        self.input = input
        item = []
    }

    static func read(_ input: ByteInput, into buffer: inout [UInt8], path: String) throws -> Int {
        do {
            return try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
        } catch let LZ4.Failure.message(m) {
            throw VitError.badDataset(path: path, expected: "a valid LZ4 frame", found: m)
        }
    }

    /// The next item's bytes (valid until the next call), or nil after the last one,
    /// when the file must end there.
    package func next() throws -> [UInt8]? {
        guard index < count else {
            let extra: Bool
            do { extra = try !input.atEnd() } catch let LZ4.Failure.message(m) {
                throw VitError.badDataset(path: path, expected: "a valid LZ4 frame", found: m)
            }
            if extra { throw VitError.badDataset(path: path, expected: "\(dims.map(String.init).joined(separator: "x")) bytes of data", found: "more") }
            return nil
        }
        if item.count != itemBytes {
            // Untouched until read into: a frame that ends early costs what it held.
            item = [UInt8](unsafeUninitializedCapacity: itemBytes) { _, n in n = itemBytes }
        }
        let got = try IDXReader.read(input, into: &item, path: path)
        guard got == itemBytes else {
            throw VitError.badDataset(path: path, expected: "\(count) items of \(itemBytes) bytes",
                                      found: "the data ends in item \(index) (the file is truncated)")
        }
        index += 1
        return item
    }

    /// Checks that the file holds images [N, H, W].
    package func requireImages() throws {
        guard dims.count == 3 else {
            throw VitError.badDataset(path: path, expected: "images [N, H, W]", found: "\(dims.count) dimensions")
        }
    }

    /// The next image of an [N, H, W] file as a gray `Image` (bytes / 255), or nil at the end.
    package func nextImage() throws -> Image? {
        try requireImages()
        guard let bytes = try next() else { return nil }
        return Image(width: dims[2], height: dims[1], channels: 1, bytes: bytes)
    }

    /// The next label of an [N] file, or nil at the end.
    package func nextLabel() throws -> Int? {
        guard dims.count == 1 else {
            throw VitError.badDataset(path: path, expected: "labels [N]", found: "\(dims.count) dimensions")
        }
        return try next().map { Int($0[0]) }
    }
}
