#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One 64-byte-aligned, zero-filled block of memory owned by a class, so views into it
/// stay valid as long as the owner lives. Used for decompressed weights, packed
/// weights and the activation arena.
///
/// Blocks of 4 MiB and more (a model's weights) are mapped directly: the kernel hands
/// out zero pages on first touch, so there is no memset pass over the block before
/// the decompressor or the packer writes it. (A transparent-huge-page hint was
/// measured too: fewer faults, but with Debian's `defrag=madvise` the kernel compacts
/// memory synchronously and ViT-S loads took twice as long.)
package final class AlignedBuffer: @unchecked Sendable {
    package static let alignment = 64
    /// Settable for tests (small models then exercise the mapped path).
    nonisolated(unsafe) static var mappedThreshold = 4 << 20
    package let bytes: Int
    package let base: UnsafeMutableRawPointer
    /// The mapping to release (nil for heap blocks).
    let mapping: (start: UnsafeMutableRawPointer, length: Int)?

    package init(bytes: Int) {
        self.bytes = bytes
        #if os(Linux)
        if bytes >= AlignedBuffer.mappedThreshold, let m = AlignedBuffer.map(bytes) {
            mapping = m
            base = m.start
            return
        }
        #endif
        mapping = nil
        base = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, AlignedBuffer.alignment),
                                                alignment: AlignedBuffer.alignment)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, AlignedBuffer.alignment))
    }

    deinit {
        if let mapping {
            munmap(mapping.start, mapping.length)
        } else {
            base.deallocate()
        }
    }

    /// An anonymous private mapping (page-aligned, so 64-byte aligned).
    static func map(_ bytes: Int) -> (start: UnsafeMutableRawPointer, length: Int)? {
        let length = bytes
        guard let p = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              p != MAP_FAILED else { return nil }
        return (p, length)
    }

    package func floats(at offset: Int) -> UnsafeMutablePointer<Float> {
        (base + offset).assumingMemoryBound(to: Float.self)
    }
}

@inline(__always)
package func alignUp(_ v: Int, _ a: Int) -> Int { (v + a - 1) / a * a }
