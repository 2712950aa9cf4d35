import VitEdge

extension ByteInput {
    /// `bytes` read back at most `piece` bytes per call, as a pipe hands a stream over:
    /// how the tests and fuzz targets of the streaming readers (MJPEG, PNM, IDX) check that
    /// no frame depends on where the reads happen to end.
    package static func pieces(of bytes: [UInt8], size piece: Int, bufferBytes: Int = 4096, name: String = "pipe") -> ByteInput {
        precondition(piece >= 1, "pieces of at least one byte")
        var given = 0
        return ByteInput(name: name, bufferBytes: bufferBytes) { dst in
            let n = min(piece, dst.count, bytes.count - given)
            for j in 0..<n { dst[j] = bytes[given + j] }
            given += n
            return n
        }
    }
}
