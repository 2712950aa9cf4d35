/// One 64-byte-aligned block of memory owned by a class, so views into it stay
/// valid as long as the owner lives. Used for decompressed weights, packed
/// weights and the activation arena.
public final class AlignedBuffer: @unchecked Sendable {
    public static let alignment = 64
    public let bytes: Int
    public let base: UnsafeMutableRawPointer

    public init(bytes: Int) {
        self.bytes = bytes
        base = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, AlignedBuffer.alignment),
                                                alignment: AlignedBuffer.alignment)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, AlignedBuffer.alignment))
    }

    deinit { base.deallocate() }

    public func floats(at offset: Int) -> UnsafeMutablePointer<Float> {
        (base + offset).assumingMemoryBound(to: Float.self)
    }
}

@inline(__always)
func alignUp(_ v: Int, _ a: Int) -> Int { (v + a - 1) / a * a }
