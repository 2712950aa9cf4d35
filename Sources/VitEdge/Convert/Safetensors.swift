/// A safetensors file read directly (no Python): an 8-byte little-endian header
/// length, a JSON header {name: {dtype, shape, data_offsets}}, then the data.
/// F32, F16, BF16 and F64 tensors are read as Float; zero-element tensors are legal.
package struct Safetensors: Sendable {
    package struct Entry: Sendable {
        package var name: String
        package var dtype: String
        package var shape: [Int]
        var begin: Int
        var end: Int
    }

    package let path: String
    package let entries: [Entry]
    package let metadata: [(String, String)]
    let bytes: [UInt8]
    let dataStart: Int

    package static let supportedDTypes = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8]

    package init(path: String, limits: ResourceLimits = .current) throws {
        let bytes = try FileIO.read(path, limit: limits.maxFileBytes)
        try self.init(bytes: bytes, path: path)
    }

    package init(bytes: [UInt8], path: String) throws {
        func bad(_ expected: String, _ found: String, _ hint: String = "") -> VitError {
            .badCheckpoint(path: path, expected: expected, found: found, hint: hint)
        }
        self.path = path
        self.bytes = bytes
        guard bytes.count >= 8 else { throw bad("a safetensors file (8-byte header length)", "\(bytes.count) bytes") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n >= 2, n <= UInt64(bytes.count - 8), n <= 100 << 20 else {
            throw bad("a header length within the file", "\(n) of \(bytes.count - 8) bytes",
                      bytes.starts(with: VitqFormat.magic) ? "this is already a .vitq model" : "the file is not safetensors or is truncated")
        }
        dataStart = 8 + Int(n)
        let header: JSON
        do { header = try JSON.parse(bytes[8..<dataStart]) } catch {
            throw bad("a JSON header", "\(error)")
        }
        guard let pairs = header.object else { throw bad("a JSON object header", String(header.serialized().prefix(40))) }
        var entries: [Entry] = []
        var metadata: [(String, String)] = []
        var names = Set<String>()
        let dataBytes = bytes.count - dataStart
        for (name, v) in pairs {
            // Python's json keeps the last of duplicate keys, this reader would keep the
            // first: a file that depends on either is ambiguous, so it is refused.
            guard names.insert(name).inserted else { throw bad("unique tensor names", "'\(name)' twice", "the file is damaged") }
            if name == "__metadata__" {
                for (k, m) in v.object ?? [] { metadata.append((k, m.string ?? m.serialized())) }
                continue
            }
            guard let dtype = v["dtype"]?.string else { throw bad("a dtype for '\(name)'", "none") }
            guard let size = Safetensors.supportedDTypes[dtype] else {
                throw bad("dtype F32, F16, BF16 or F64 for '\(name)'", dtype,
                          "integer tensors are not model weights; re-save the checkpoint in floating point")
            }
            guard let shapeJSON = v["shape"]?.array, shapeJSON.count <= 8 else { throw bad("a shape for '\(name)'", "none") }
            let shape = shapeJSON.map { $0.int ?? -1 }
            guard let offs = v["data_offsets"]?.array, offs.count == 2, let b = offs[0].int, let e = offs[1].int,
                  b >= 0, b <= e, e <= dataBytes else {
                throw bad("data_offsets inside the \(dataBytes)-byte data section for '\(name)'",
                          v["data_offsets"]?.serialized() ?? "none", "the file is truncated or damaged")
            }
            guard let count = checkedProduct(shape), count <= dataBytes, count * size == e - b else {
                throw bad("[\(shapeJSON.map { $0.serialized() }.joined(separator: ", "))] × \(size) bytes for '\(name)'", "\(e - b) bytes")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: b, end: e))
        }
        // As the safetensors library requires: the tensors tile the data section exactly,
        // without overlaps, gaps or bytes after the last one.
        var end = 0
        for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard e.begin == end else {
                throw bad("tensors laid end to end in the data section",
                          e.begin < end ? "'\(e.name)' at byte \(e.begin) overlaps the tensor before it (which ends at \(end))"
                                        : "\(e.begin - end) unused bytes before '\(e.name)'", "the file is damaged")
            }
            end = e.end
        }
        guard end == dataBytes else {
            throw bad("a data section of the tensors' \(end) bytes", "\(dataBytes) bytes (\(dataBytes - end) after the last tensor)",
                      "the file is truncated, damaged or has data appended")
        }
        if let format = metadata.first(where: { $0.0 == "format" })?.1, format != "pt" {
            throw bad("a PyTorch checkpoint (metadata format \"pt\")", "format \"\(format)\"",
                      "other frameworks lay out weights differently (TensorFlow and Flax transpose Linear kernels); save the model from PyTorch")
        }
        self.entries = entries
        self.metadata = metadata
    }

    package func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// The tensor's values as Float, row-major.
    package func floats(_ e: Entry) -> [Float] {
        let start = dataStart + e.begin
        let count = e.shape.reduce(1, *)
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let p = raw.baseAddress! + start
            switch e.dtype {
            case "F32":
                for i in 0..<count { out[i] = Float(bitPattern: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian) }
            case "F64":
                for i in 0..<count { out[i] = Float(Double(bitPattern: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)) }
            case "BF16":
                for i in 0..<count {
                    let h = UInt32(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
                    out[i] = Float(bitPattern: h << 16)
                }
            default:  // F16
                for i in 0..<count {
                    out[i] = Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
                }
            }
        }
        return out
    }
}
