import VitEdge

/// Helpers for the fuzz targets (Fuzz/) and the tests that replay their findings, kept
/// out of the engine (the `VitEdgeTestSupport` target): they let mutated inputs get past
/// the checksums to the layers behind them.
package enum FuzzSupport {
    /// Recomputes the .vitq header CRC over whatever header bytes the input holds.
    package static func fixHeaderCRC(_ bytes: inout [UInt8]) {
        guard bytes.count >= VitqFormat.fixedHeaderBytes else { return }
        let h = Int(VitqFile.readU32(bytes, 8))
        guard h <= bytes.count - VitqFormat.fixedHeaderBytes else { return }
        let crc = CRC32.checksum(bytes[16..<(16 + h)])
        for i in 0..<4 { bytes[12 + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
    }

    /// Parses a .vitq file, binds and packs the model, and plans a session, within
    /// bounds small enough for a fuzzer; every failure is a thrown error, ignored here.
    package static func loadAndPlan(_ bytes: [UInt8]) {
        var limits = ResourceLimits()
        limits.maxModelBytes = 64 << 20
        limits.maxArenaBytes = 256 << 20
        if let file = try? VitqFile.parse(bytes, path: "fuzz.vitq", limits: limits),
           let kernels = try? Kernels.select(.auto),
           let model = try? VisionTransformer(file: file, kernels: kernels, source: "fuzz.vitq") {
            _ = try? InferenceSession(model: model, batchSize: 1, limits: limits)
        }
    }

    /// The header JSON of a .vitq file, or nil.
    package static func header(of bytes: [UInt8]) -> JSON? {
        guard bytes.count >= VitqFormat.fixedHeaderBytes else { return nil }
        let h = Int(VitqFile.readU32(bytes, 8))
        guard h <= bytes.count - VitqFormat.fixedHeaderBytes,
              let text = try? LZ4.decompressFrame(Array(bytes[16..<(16 + h)]), limit: 1 << 24) else { return nil }
        return try? JSON.parse(text)
    }

    /// The same .vitq file with another header JSON (its payload kept, the CRC and the
    /// payload's position fixed): a header edited field by field over real weights.
    package static func replacingHeader(of bytes: [UInt8], with header: JSON) -> [UInt8]? {
        guard bytes.count >= VitqFormat.fixedHeaderBytes else { return nil }
        let h = Int(VitqFile.readU32(bytes, 8))
        let start = alignUp(16 + h, 8)
        guard start <= bytes.count else { return nil }
        let frame = Array(header.serialized().utf8).withUnsafeBytes { LZ4.compressFrame($0) }
        var out = Array(bytes[0..<8])
        for v in [UInt32(frame.count), CRC32.checksum(frame)] {
            out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
        }
        out += frame
        out += [UInt8](repeating: 0, count: alignUp(out.count, 8) - out.count)
        return out + bytes[start...]
    }

    /// A complete .vitq file around a header JSON text: the payload is zeros of the size
    /// the header declares (at most `maxPayload`), and the header's payload sizes are set to match.
    package static func vitqFile(headerJSON text: [UInt8], maxPayload: Int = 1 << 20) -> [UInt8]? {
        guard let j = try? JSON.parse(text), case var .object(pairs) = j else { return nil }
        let n = min(max(j["payload"]?["bytes"]?.int ?? 0, 0), maxPayload)
        let payload = [UInt8](repeating: 0, count: n)
        let frame = payload.withUnsafeBytes { LZ4.compressFrame($0) }
        pairs.removeAll { $0.0 == "payload" }
        pairs.append(("payload", .object([("bytes", .number(Double(n))), ("compressed_bytes", .number(Double(frame.count)))])))
        let header = Array(JSON.object(pairs).serialized().utf8).withUnsafeBytes { LZ4.compressFrame($0) }
        var out = VitqFormat.magic + [1, 0, 0, 0]
        for v in [UInt32(header.count), CRC32.checksum(header)] {
            out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
        }
        out += header
        out += [UInt8](repeating: 0, count: alignUp(out.count, 8) - out.count)
        return out + frame
    }
}
