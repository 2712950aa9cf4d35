import CLZ4

/// The LZ4 frame format (with content size and content checksum) through liblz4.
enum LZ4 {
    /// Compresses `bytes` into one frame, deterministically (fixed level and block settings).
    static func compressFrame(_ src: UnsafeRawBufferPointer) -> [UInt8] {
        var prefs = LZ4F_preferences_t()
        prefs.frameInfo.blockSizeID = LZ4F_max4MB
        prefs.frameInfo.blockMode = LZ4F_blockIndependent
        prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        prefs.frameInfo.contentSize = UInt64(src.count)
        prefs.compressionLevel = 9
        let bound = LZ4F_compressFrameBound(src.count, &prefs)
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            LZ4F_compressFrame(dst.baseAddress, bound, src.baseAddress, src.count, &prefs)
        }
        precondition(LZ4F_isError(written) == 0, "LZ4F_compressFrame failed")
        out.removeSubrange(written...)
        return out
    }

    enum Failure: Error { case message(String) }

    /// The frame's declared content size, or nil when the frame does not declare it.
    static func frameContentSize(_ src: UnsafeRawBufferPointer) throws -> (size: UInt64, checksum: Bool) {
        var ctx: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))) == 0, let ctx else {
            throw Failure.message("cannot create an LZ4 context")
        }
        defer { LZ4F_freeDecompressionContext(ctx) }
        var info = LZ4F_frameInfo_t()
        var consumed = src.count
        let r = LZ4F_getFrameInfo(ctx, &info, src.baseAddress, &consumed)
        if LZ4F_isError(r) != 0 { throw Failure.message(String(cString: LZ4F_getErrorName(r))) }
        return (info.contentSize, info.contentChecksumFlag == LZ4F_contentChecksumEnabled)
    }

    /// Decompresses one whole frame into exactly `dst.count` bytes; the frame's
    /// checksum is verified by liblz4. Throws on any mismatch.
    static func decompressFrame(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws {
        var given = false
        try decompressFrame(chunks: {
            defer { given = true }
            return given ? nil : src
        }, into: dst)
    }

    /// The same, with the compressed frame arriving in pieces: `next` returns the next
    /// piece (valid until the following call) or nil at the end of the input. A model
    /// file is decompressed this way straight from disk, without holding it whole.
    static func decompressFrame(chunks next: () throws -> UnsafeRawBufferPointer?,
                                into dst: UnsafeMutableRawBufferPointer) throws {
        var ctx: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))) == 0, let ctx else {
            throw Failure.message("cannot create an LZ4 context")
        }
        defer { LZ4F_freeDecompressionContext(ctx) }
        var chunk = UnsafeRawBufferPointer(start: nil, count: 0)
        var used = 0
        var ended = false
        var dstOffset = 0
        while true {
            if used == chunk.count && !ended {
                if let c = try next() { chunk = c; used = 0 } else { ended = true }
            }
            var srcSize = chunk.count - used
            var dstSize = dst.count - dstOffset
            let hint = LZ4F_decompress(ctx, dst.baseAddress.map { $0 + dstOffset }, &dstSize,
                                       chunk.baseAddress.map { $0 + used }, &srcSize, nil)
            if LZ4F_isError(hint) != 0 {
                throw Failure.message(String(cString: LZ4F_getErrorName(hint)))
            }
            used += srcSize
            dstOffset += dstSize
            if hint == 0 { break }  // frame complete, checksum verified
            if srcSize == 0 && dstSize == 0 {
                if used < chunk.count {
                    throw Failure.message(dstOffset == dst.count ? "the frame holds more data than declared"
                                                                 : "the frame cannot be decoded")
                }
                if ended { throw Failure.message("the frame is truncated") }
            }
        }
        if dstOffset != dst.count {
            throw Failure.message("the frame holds \(dstOffset) bytes, \(dst.count) declared")
        }
        var after = chunk.count - used
        while let c = try next() { after += c.count }
        if after > 0 {
            throw Failure.message("\(after) bytes follow the frame")
        }
    }

    /// Decompresses a whole LZ4 frame whose content size is unknown, up to `limit` bytes.
    static func decompressFrame(_ src: [UInt8], limit: Int) throws -> [UInt8] {
        try src.withUnsafeBytes { s -> [UInt8] in
            let info = try frameContentSize(s)
            if info.size > 0 {
                guard info.size <= UInt64(limit) else {
                    throw Failure.message("declares \(info.size) bytes, more than the limit of \(limit)")
                }
                var out = [UInt8](repeating: 0, count: Int(info.size))
                try out.withUnsafeMutableBytes { try decompressFrame(s, into: $0) }
                return out
            }
            // No declared size: grow in chunks, bounded by the limit.
            var ctx: OpaquePointer?
            guard LZ4F_isError(LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))) == 0, let ctx else {
                throw Failure.message("cannot create an LZ4 context")
            }
            defer { LZ4F_freeDecompressionContext(ctx) }
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            var srcOffset = 0
            while true {
                var srcSize = s.count - srcOffset
                var dstSize = chunk.count
                let hint = chunk.withUnsafeMutableBytes { c in
                    LZ4F_decompress(ctx, c.baseAddress, &dstSize, s.baseAddress.map { $0 + srcOffset }, &srcSize, nil)
                }
                if LZ4F_isError(hint) != 0 { throw Failure.message(String(cString: LZ4F_getErrorName(hint))) }
                srcOffset += srcSize
                if out.count + dstSize > limit { throw Failure.message("decompresses past the limit of \(limit) bytes") }
                out.append(contentsOf: chunk[0..<dstSize])
                if hint == 0 { break }
                if srcSize == 0 && dstSize == 0 { throw Failure.message("the frame is truncated") }
            }
            return out
        }
    }

    /// True when the bytes start with the LZ4 frame magic number.
    static func isFrame(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x04 && bytes[1] == 0x22 && bytes[2] == 0x4D && bytes[3] == 0x18
    }
}
