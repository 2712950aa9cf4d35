#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The .vitq model file (docs/FORMAT.md):
///
///     offset  size  field
///     0       4     magic "VITQ"
///     4       2     format major version (little endian), 1
///     6       2     format minor version, 0
///     8       4     header length H in bytes
///     12      4     CRC-32 of the header bytes
///     16      H     header: UTF-8 JSON {"config", "tensors", "payload"} as one LZ4 frame
///     ...     0-7   zero padding to a multiple of 8
///     ...           payload: one LZ4 frame with content size and content checksum
///
/// The decompressed payload holds every tensor at an aligned offset (64 bytes, 16 for
/// tensors under 1 KiB), so
/// after one decompression into an aligned block tensors are used in place.
package enum VitqFormat {
    package static let magic: [UInt8] = Array("VITQ".utf8)
    package static let majorVersion: UInt16 = 1
    package static let minorVersion: UInt16 = 0
    package static let fixedHeaderBytes = 16
    /// Offsets of tensors of 1 KiB or more are multiples of 64 (a cache line); smaller
    /// ones (norms, biases, scales) multiples of 16, so small models stay small.
    package static let tensorAlignment = 64
    package static let smallTensorAlignment = 16
    package static let smallTensorBytes = 1024
    static func alignment(bytes: Int) -> Int { bytes >= smallTensorBytes ? tensorAlignment : smallTensorAlignment }
    /// Longest header accepted (the compressed frame, and the JSON text inside it).
    package static let maxHeaderBytes = 64 << 20
}

package enum DType: String, Sendable {
    case f32
    case i8

    package var size: Int {
        switch self {
        case .f32: return 4
        case .i8: return 1
        }
    }
}

/// One entry of the tensor table.
package struct TensorInfo: Equatable, Sendable {
    package var name: String
    package var dtype: DType
    package var shape: [Int]
    /// Byte offset in the decompressed payload (a multiple of 64).
    package var offset: Int
    package var byteCount: Int
    /// Quantization parameters (reserved for int8 tensors; see docs/QUANTIZATION.md).
    package var quantization: JSON?

    package var elementCount: Int { shape.reduce(1, *) }
}

/// A .vitq file in memory: the config, the tensor table, and the payload
/// decompressed into one aligned block.
package final class VitqFile: @unchecked Sendable {
    package let config: ViTConfig
    package let tensors: [TensorInfo]
    package let payload: AlignedBuffer
    package let fileBytes: Int
    let index: [String: Int]

    init(config: ViTConfig, tensors: [TensorInfo], payload: AlignedBuffer, fileBytes: Int) {
        self.config = config
        self.tensors = tensors
        self.payload = payload
        self.fileBytes = fileBytes
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        self.index = index
    }

    package func info(_ name: String) -> TensorInfo? { index[name].map { tensors[$0] } }

    package func floats(_ name: String) -> UnsafeMutablePointer<Float>? {
        guard let t = info(name), t.dtype == .f32 else { return nil }
        return payload.floats(at: t.offset)
    }

    // MARK: reading

    /// Reads a .vitq file (a regular file: devices and pipes are refused). It is
    /// streamed: the fixed header and the JSON header are read and validated first, then
    /// the payload is decompressed from disk in 1 MiB reads, so the compressed file is
    /// never in memory whole (the peak while loading is the weights, not the weights
    /// plus the file).
    package static func load(path: String, limits: ResourceLimits = .current) throws -> VitqFile {
        try FileIO.withFile(path, limit: limits.maxFileBytes) { f, size in
            try stream(f, size: size, path: path, limits: limits)
        }
    }

    /// `load` for a regular file of `size` bytes open as `f`.
    static func stream(_ f: UnsafeMutablePointer<FILE>, size: Int, path: String, limits: ResourceLimits) throws -> VitqFile {
        func read(_ count: Int, into p: UnsafeMutableRawPointer) throws -> Int {
            let got = fread(p, 1, count, f)
            if got < count && ferror(f) != 0 { throw VitError.io(path: path, reason: String(cString: strerror(errno))) }
            return got
        }
        // The fixed header, then the JSON header it declares (bounded before reading).
        var prefix = [UInt8](repeating: 0, count: min(size, VitqFormat.fixedHeaderBytes))
        prefix.removeSubrange(try prefix.withUnsafeMutableBytes { try read($0.count, into: $0.baseAddress!) }...)
        if prefix.count == VitqFormat.fixedHeaderBytes && Array(prefix[0..<4]) == VitqFormat.magic {
            let declared = min(Int(readU32(prefix, 8)), VitqFormat.maxHeaderBytes, size - prefix.count)
            var header = [UInt8](repeating: 0, count: declared)
            if declared > 0 {
                header.removeSubrange(try header.withUnsafeMutableBytes { try read($0.count, into: $0.baseAddress!) }...)
            }
            prefix += header
        }
        let head = try parseHead(prefix, fileBytes: size, path: path, limits: limits)
        // The payload, in pieces, from where the header says it starts.
        guard fseek(f, head.payloadStart, SEEK_SET) == 0 else {
            throw VitError.io(path: path, reason: String(cString: strerror(errno)))
        }
        let chunk = AlignedBuffer(bytes: min(streamChunkBytes, max(head.compressedBytes, 1)))
        var left = head.compressedBytes
        let storage = try decompressPayload(head, path: path) { () throws -> UnsafeRawBufferPointer? in
            guard left > 0 else { return nil }
            let got = try read(min(left, chunk.bytes), into: chunk.base)
            guard got > 0 else { return nil }
            left -= got
            return UnsafeRawBufferPointer(start: chunk.base, count: got)
        }
        return VitqFile(config: head.config, tensors: head.tensors, payload: storage, fileBytes: size)
    }

    /// Parses a whole .vitq file held in memory.
    package static func parse(_ bytes: [UInt8], path: String, limits: ResourceLimits = .current) throws -> VitqFile {
        let head = try parseHead(bytes, fileBytes: bytes.count, path: path, limits: limits)
        let storage = try bytes.withUnsafeBytes { raw -> AlignedBuffer in
            var given = false
            return try decompressPayload(head, path: path) { () -> UnsafeRawBufferPointer? in
                defer { given = true }
                return given ? nil : UnsafeRawBufferPointer(rebasing: raw[head.payloadStart...])
            }
        }
        return VitqFile(config: head.config, tensors: head.tensors, payload: storage, fileBytes: bytes.count)
    }

    /// Bytes per read when streaming the payload (settable so tests split frames finely).
    nonisolated(unsafe) static var streamChunkBytes = 1 << 20

    /// What the headers declare, validated against the file's size.
    struct Head {
        var config: ViTConfig
        var tensors: [TensorInfo]
        var payloadStart: Int, payloadBytes: Int, compressedBytes: Int
    }

    /// Decompresses the payload frame arriving in pieces from `next` into a new block,
    /// after checking the frame's own declarations against the header's.
    static func decompressPayload(_ head: Head, path: String,
                                  _ next: () throws -> UnsafeRawBufferPointer?) throws -> AlignedBuffer {
        func bad(_ expected: String, _ found: String, _ hint: String = "") -> VitError {
            .badModel(path: path, expected: expected, found: found, hint: hint)
        }
        let storage = AlignedBuffer(bytes: head.payloadBytes)
        var first: UnsafeRawBufferPointer? = nil
        do {
            first = try next()
            let info = try LZ4.frameContentSize(first ?? UnsafeRawBufferPointer(start: nil, count: 0))
            guard info.size == UInt64(head.payloadBytes) else {
                throw bad("an LZ4 frame of \(head.payloadBytes) bytes", "\(info.size) bytes", "the file is damaged")
            }
            guard info.checksum else { throw bad("an LZ4 frame with a content checksum", "none") }
            var pending = first
            try LZ4.decompressFrame(chunks: {
                if let p = pending { pending = nil; return p }
                return try next()
            }, into: UnsafeMutableRawBufferPointer(start: storage.base, count: head.payloadBytes))
        } catch let LZ4.Failure.message(m) {
            throw bad("a valid LZ4 payload", m, "the file is damaged: copy or convert it again")
        }
        return storage
    }

    /// Validates the fixed header, the JSON header and the tensor table. `bytes` holds
    /// at least the file's first 16 + header-size bytes (all of it when shorter);
    /// `fileBytes` is the whole file's size.
    static func parseHead(_ bytes: [UInt8], fileBytes: Int, path: String, limits: ResourceLimits) throws -> Head {
        func bad(_ expected: String, _ found: String, _ hint: String = "") -> VitError {
            .badModel(path: path, expected: expected, found: found, hint: hint)
        }
        guard fileBytes >= VitqFormat.fixedHeaderBytes, bytes.count >= VitqFormat.fixedHeaderBytes else {
            throw bad("at least \(VitqFormat.fixedHeaderBytes) bytes", "\(fileBytes) bytes",
                      fileBytes == 0 ? "the file is empty" : "the file is truncated")
        }
        guard Array(bytes[0..<4]) == VitqFormat.magic else {
            let shown = bytes[0..<4].map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
            let hint = shown.hasPrefix("{") || bytes.count > 8 && bytes[8] == UInt8(ascii: "{")
                ? "is this a safetensors checkpoint? run `vit-edge convert` first" : "convert a checkpoint with `vit-edge convert`"
            throw bad("magic \"VITQ\"", "\"\(shown)\"", hint)
        }
        let major = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        let minor = UInt16(bytes[6]) | UInt16(bytes[7]) << 8
        guard major == VitqFormat.majorVersion else {
            throw bad("format version \(VitqFormat.majorVersion).x", "\(major).\(minor)",
                      major > VitqFormat.majorVersion ? "the file is newer than this vit-edge: upgrade vit-edge" : "re-convert the model")
        }
        let headerBytes = Int(readU32(bytes, 8))
        let headerCRC = readU32(bytes, 12)
        guard headerBytes <= VitqFormat.maxHeaderBytes, VitqFormat.fixedHeaderBytes + headerBytes <= fileBytes,
              VitqFormat.fixedHeaderBytes + headerBytes <= bytes.count else {
            throw bad("a header of at most \(min(VitqFormat.maxHeaderBytes, fileBytes - 16)) bytes",
                      "\(headerBytes) bytes", "the file is truncated or damaged")
        }
        let header = bytes[16..<(16 + headerBytes)]
        let crc = CRC32.checksum(header)
        guard crc == headerCRC else {
            throw bad("header checksum \(hex(headerCRC))", "\(hex(crc))", "the file is damaged: copy or convert it again")
        }
        let json: JSON
        do {
            let text = try LZ4.decompressFrame(Array(header), limit: VitqFormat.maxHeaderBytes)
            json = try JSON.parse(text)
        } catch let LZ4.Failure.message(m) {
            throw bad("an LZ4-compressed JSON header", m, "the file is damaged")
        } catch {
            throw bad("a JSON header", "\(error)", "the file is damaged")
        }
        guard let configJSON = json["config"] else { throw bad("a \"config\" object in the header", "none") }
        let config = try ViTConfig.fromJSON(configJSON, source: path)
        guard let payloadJSON = json["payload"], let payloadBytes = payloadJSON["bytes"]?.int,
              let compressedBytes = payloadJSON["compressed_bytes"]?.int, payloadBytes >= 0, compressedBytes >= 0 else {
            throw bad("a \"payload\" object with \"bytes\" and \"compressed_bytes\"", "\(json["payload"]?.serialized().prefix(60) ?? "none")")
        }
        guard payloadBytes <= limits.maxModelBytes else {
            throw VitError.tooLarge(what: "\(path): weights", bytes: payloadBytes, limit: limits.maxModelBytes,
                                    hint: "raise the limit only if the model really is this large")
        }
        let payloadStart = alignUp(16 + headerBytes, 8)
        guard payloadStart + compressedBytes == fileBytes else {
            throw bad("\(payloadStart + compressedBytes) bytes in the file", "\(fileBytes)",
                      fileBytes < payloadStart + compressedBytes ? "the file is truncated" : "extra bytes follow the payload")
        }
        // Tensor table: validate every entry before touching the payload.
        guard let table = json["tensors"]?.array else { throw bad("a \"tensors\" list in the header", "none") }
        var tensors: [TensorInfo] = []
        var seen = Set<String>()
        for (i, t) in table.enumerated() {
            guard let name = t["name"]?.string, !name.isEmpty else { throw bad("a name for tensor #\(i)", "none") }
            guard seen.insert(name).inserted else { throw bad("unique tensor names", "'\(name)' twice") }
            guard let dtypeName = t["dtype"]?.string, let dtype = DType(rawValue: dtypeName) else {
                throw bad("dtype f32 or i8 for '\(name)'", t["dtype"]?.serialized() ?? "none")
            }
            guard let shapeJSON = t["shape"]?.array, shapeJSON.count <= 8 else {
                throw bad("a shape of at most 8 dimensions for '\(name)'", t["shape"]?.serialized().prefix(40).description ?? "none")
            }
            let shape = shapeJSON.map { $0.int ?? -1 }
            guard let count = checkedProduct(shape), let byteCount = count.multipliedReportingOverflow(by: dtype.size).overflow ? nil : count * dtype.size,
                  byteCount <= payloadBytes else {
                throw bad("a shape for '\(name)' that fits the \(payloadBytes)-byte payload", "\(shapeJSON.map { $0.serialized() })")
            }
            guard let offset = t["offset"]?.int, offset >= 0, offset % VitqFormat.alignment(bytes: byteCount) == 0,
                  offset <= payloadBytes - byteCount else {
                throw bad("a \(VitqFormat.alignment(bytes: byteCount))-byte-aligned offset for '\(name)' with its \(byteCount) bytes inside the \(payloadBytes)-byte payload",
                          t["offset"]?.serialized() ?? "none")
            }
            if let declared = t["bytes"]?.int, declared != byteCount {
                throw bad("\(byteCount) bytes for '\(name)' of shape \(shape)", "\(declared)")
            }
            let q = t["quantization"]
            tensors.append(TensorInfo(name: name, dtype: dtype, shape: shape, offset: offset, byteCount: byteCount,
                                      quantization: (q?.isNull ?? true) ? nil : q))
        }
        // The payload is exactly its tensors, each after at most its alignment padding:
        // no tensor overlaps another, and no bytes lie outside them (a header cannot ask
        // for a huge payload holding little, decompressed before the tensors are checked).
        var end = 0
        for t in tensors.sorted(by: { ($0.offset, $0.byteCount) < ($1.offset, $1.byteCount) }) {
            guard t.offset >= end else {
                throw bad("tensors that do not overlap", "'\(t.name)' at byte \(t.offset), inside the tensor before it (which ends at \(end))",
                          "the file is damaged")
            }
            guard t.offset - end < VitqFormat.tensorAlignment else {
                throw bad("tensors packed in the payload (at most \(VitqFormat.tensorAlignment - 1) bytes of padding)",
                          "\(t.offset - end) unused bytes before '\(t.name)'", "the file is damaged")
            }
            end = t.offset + t.byteCount
        }
        guard payloadBytes - end < VitqFormat.tensorAlignment else {
            throw bad("a payload of the tensors' \(end) bytes", "\(payloadBytes) bytes declared", "the file is damaged")
        }
        return Head(config: config, tensors: tensors, payloadStart: payloadStart, payloadBytes: payloadBytes,
                    compressedBytes: compressedBytes)
    }

    package static func readU32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - s.count) + s
    }
}

// MARK: - writing

/// Builds a .vitq file from a config and named tensors. Deterministic: the same
/// tensors in the same order give byte-identical files.
package struct VitqWriter {
    package struct Tensor {
        package var name: String
        package var dtype: DType
        package var shape: [Int]
        package var bytes: [UInt8]
        package var quantization: JSON?

        package init(name: String, shape: [Int], floats: [Float]) {
            self.name = name
            self.dtype = .f32
            self.shape = shape
            self.bytes = floats.withUnsafeBytes { Array($0) }
        }

        package init(name: String, dtype: DType, shape: [Int], bytes: [UInt8], quantization: JSON? = nil) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
            self.quantization = quantization
        }
    }

    package var config: ViTConfig
    package var tensors: [Tensor] = []

    package init(config: ViTConfig) { self.config = config }

    package mutating func add(_ t: Tensor) { tensors.append(t) }

    package func serialize() -> [UInt8] {
        var table: [JSON] = []
        var offset = 0
        for t in tensors {
            offset = alignUp(offset, VitqFormat.alignment(bytes: t.bytes.count))
            // Byte counts follow from shape and dtype; the reader checks them when present.
            var entry: [(String, JSON)] = [
                ("name", .string(t.name)), ("dtype", .string(t.dtype.rawValue)),
                ("shape", .array(t.shape.map { .number(Double($0)) })),
                ("offset", .number(Double(offset))),
            ]
            if let q = t.quantization { entry.append(("quantization", q)) }
            table.append(.object(entry))
            offset += t.bytes.count
        }
        var payload = [UInt8](repeating: 0, count: offset)
        offset = 0
        for t in tensors {
            offset = alignUp(offset, VitqFormat.alignment(bytes: t.bytes.count))
            payload.replaceSubrange(offset..<(offset + t.bytes.count), with: t.bytes)
            offset += t.bytes.count
        }
        let compressed = payload.withUnsafeBytes { LZ4.compressFrame($0) }
        let header = JSON.object([
            ("format", .string("vitq")),
            ("config", config.toJSON()),
            ("tensors", .array(table)),
            ("payload", .object([("bytes", .number(Double(payload.count))),
                                 ("compressed_bytes", .number(Double(compressed.count))),
                                 ("alignment", .number(Double(VitqFormat.tensorAlignment)))])),
        ])
        let headerBytes = Array(header.serialized().utf8).withUnsafeBytes { LZ4.compressFrame($0) }
        var out = VitqFormat.magic
        func u16(_ v: UInt16) { out += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) { out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        u16(VitqFormat.majorVersion)
        u16(VitqFormat.minorVersion)
        u32(UInt32(headerBytes.count))
        u32(CRC32.checksum(headerBytes))
        out += headerBytes
        out += [UInt8](repeating: 0, count: alignUp(out.count, 8) - out.count)
        out += compressed
        return out
    }
}
