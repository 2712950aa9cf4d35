import CLZ4

/// The LZ4 frame format (with content size and content checksum) through liblz4.
package enum LZ4 {
    /// Compresses `bytes` into one frame, deterministically (fixed level and block settings).
    package static func compressFrame(_ src: UnsafeRawBufferPointer) -> [UInt8] {
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
    package static func decompressFrame(_ src: [UInt8], limit: Int) throws -> [UInt8] {
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

    /// A frame decompressed on the fly from `compressed`, as an input read forward in
    /// pieces (memory: the two buffers and liblz4's block buffer, whatever the frame's
    /// size). `declaredSize` is the frame's content size when it declares one. The
    /// checksum is verified when the frame's end is read; bytes after the frame are an error.
    static func frameInput(_ compressed: ByteInput) throws -> (input: ByteInput, declaredSize: Int?) {
        let name = compressed.name
        let context = try Context()
        // The frame header (magic, descriptor: 7 to 19 bytes) tells the content size.
        var header = [UInt8](repeating: 0, count: 19)
        let got = try header.withUnsafeMutableBytes { try compressed.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<7])) }
        guard got == 7 else { throw Failure.message("the frame is truncated") }
        // Descriptor size: 7 bytes + 8 with a content size + 4 with a dictionary ID.
        let flags = header[4]
        let more = (flags & 0x08 != 0 ? 8 : 0) + (flags & 0x01 != 0 ? 4 : 0)
        if more > 0 {
            let n = try header.withUnsafeMutableBytes { try compressed.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[7..<(7 + more)])) }
            guard n == more else { throw Failure.message("the frame is truncated") }
        }
        var info = LZ4F_frameInfo_t()
        var consumed = 7 + more
        let r = header.withUnsafeBytes { LZ4F_getFrameInfo(context.ctx, &info, $0.baseAddress, &consumed) }
        if LZ4F_isError(r) != 0 { throw Failure.message(String(cString: LZ4F_getErrorName(r))) }
        guard consumed == 7 + more else { throw Failure.message("the frame header cannot be decoded") }
        let declared: Int? = info.contentSize > 0 && info.contentSize <= UInt64(Int.max) ? Int(info.contentSize) : nil
        var finished = false
        let input = ByteInput(name: name, size: declared) { dst in
            var written = 0
            while written < dst.count && !finished {
                var srcUsed = 0, produced = 0, hint = 1, called = false
                func step(_ src: UnsafeRawBufferPointer) throws {
                    called = true
                    var srcSize = src.count
                    var dstSize = dst.count - written
                    hint = LZ4F_decompress(context.ctx, dst.baseAddress! + written, &dstSize, src.baseAddress, &srcSize, nil)
                    if LZ4F_isError(hint) != 0 { throw Failure.message(String(cString: LZ4F_getErrorName(hint))) }
                    (srcUsed, produced) = (srcSize, dstSize)
                }
                _ = try compressed.consume(upTo: Int.max) { src in try step(src); return srcUsed }
                if !called { try step(UnsafeRawBufferPointer(start: nil, count: 0)) }  // input ended: drain liblz4
                written += produced
                if hint == 0 {
                    finished = true  // frame complete, checksum verified
                    guard try compressed.atEnd() else { throw Failure.message("bytes follow the frame") }
                } else if srcUsed == 0 && produced == 0 {
                    throw Failure.message(try compressed.atEnd() ? "the frame is truncated" : "the frame cannot be decoded")
                }
            }
            return written
        }
        input.keep = KeepAlive(context, compressed)
        return (input, declared)
    }

    /// A decompression context, freed with its owner.
    final class Context {
        let ctx: OpaquePointer
        init() throws {
            var c: OpaquePointer?
            guard LZ4F_isError(LZ4F_createDecompressionContext(&c, UInt32(LZ4F_VERSION))) == 0, let c else {
                throw Failure.message("cannot create an LZ4 context")
            }
            ctx = c
        }
        deinit { LZ4F_freeDecompressionContext(ctx) }
    }

    final class KeepAlive {
        let objects: [AnyObject]
        init(_ objects: AnyObject...) { self.objects = objects }
    }

    /// True when the bytes start with the LZ4 frame magic number.
    static func isFrame(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x04 && bytes[1] == 0x22 && bytes[2] == 0x4D && bytes[3] == 0x18
    }
}
