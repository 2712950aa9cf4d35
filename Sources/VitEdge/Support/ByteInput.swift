#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A forward-only reader of bytes from memory, an open file or a file descriptor, through
/// one fixed buffer: each byte is copied in once and examined once, so a parser built on
/// it is linear in its input and needs no more memory than the buffer and what it keeps.
/// Stream parsers (PGM/PPM on standard input, IDX data sets) read through it.
package final class ByteInput {
    /// Fills a buffer with up to its size of bytes; 0 at the end of the input.
    package typealias Source = (UnsafeMutableRawBufferPointer) throws -> Int

    let name: String
    let source: Source?
    /// The buffer, or the whole input for memory.
    var buffer: UnsafeMutableRawBufferPointer
    let ownsBuffer: Bool
    /// A file descriptor closed with the input (files opened by `FileIO.input`).
    var closes: Int32? = nil
    /// Anything else the source needs kept alive and released with the input.
    var keep: AnyObject? = nil
    var pos = 0, end = 0
    var ended: Bool
    /// Bytes consumed before `buffer[0]`.
    var base = 0
    /// Bytes the input holds in all, when known (memory, regular files).
    package let size: Int?

    /// Bytes consumed so far: the offset of the next byte.
    package var offset: Int { base + pos }

    /// Bytes known to remain, when the size is known.
    package var remaining: Int? { size.map { $0 - offset } }

    /// An input reading from `source` through a buffer of `bufferBytes`.
    package init(name: String, size: Int? = nil, bufferBytes: Int = 1 << 16, _ source: @escaping Source) {
        self.name = name
        self.source = source
        self.size = size
        buffer = .allocate(byteCount: max(bufferBytes, 1), alignment: 16)
        ownsBuffer = true
        ended = false
    }

    /// An input over bytes in memory (no copy: the bytes must outlive the input).
    package init(name: String, memory: UnsafeRawBufferPointer) {
        self.name = name
        source = nil
        size = memory.count
        buffer = UnsafeMutableRawBufferPointer(mutating: memory)
        ownsBuffer = false
        end = memory.count
        ended = true
    }

    /// An input over a file descriptor (standard input: 0), read with read(2) so each
    /// call returns what has arrived rather than waiting for a full buffer.
    package convenience init(name: String, fd: Int32, size: Int? = nil, bufferBytes: Int = 1 << 16) {
        self.init(name: name, size: size, bufferBytes: bufferBytes) { dst in
            while true {
                let n = Glibc.read(fd, dst.baseAddress, dst.count)
                if n >= 0 { return n }
                if errno == EINTR { continue }
                throw VitError.io(path: name, reason: String(cString: strerror(errno)))
            }
        }
    }

    deinit {
        if ownsBuffer { buffer.deallocate() }
        if let closes { close(closes) }
    }

    /// Refills the buffer when it is empty; false at the end of the input.
    @inline(__always)
    func fill() throws -> Bool {
        if pos < end { return true }
        guard !ended, let source else { return false }
        base += end
        pos = 0
        end = 0
        let n = try source(buffer)
        guard n > 0 else { ended = true; return false }
        end = n
        return true
    }

    /// The next byte without consuming it, or nil at the end.
    @inline(__always)
    package func peek() throws -> UInt8? {
        guard try fill() else { return nil }
        return buffer[pos]
    }

    /// The next byte, consumed, or nil at the end.
    @inline(__always)
    package func next() throws -> UInt8? {
        guard try fill() else { return nil }
        defer { pos += 1 }
        return buffer[pos]
    }

    /// Hands `body` the buffered bytes (at least one unless at the end, at most `limit`)
    /// and consumes as many as it returns.
    package func consume(upTo limit: Int, _ body: (UnsafeRawBufferPointer) throws -> Int) throws -> Int {
        guard limit > 0, try fill() else { return 0 }
        let n = min(limit, end - pos)
        let used = try body(UnsafeRawBufferPointer(rebasing: buffer[pos..<(pos + n)]))
        precondition(used >= 0 && used <= n)
        pos += used
        return used
    }

    /// Copies up to `dst.count` bytes; fewer only at the end of the input.
    package func read(into dst: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < dst.count {
            let n = try consume(upTo: dst.count - done) { src in
                UnsafeMutableRawBufferPointer(rebasing: dst[done...]).copyMemory(from: src)
                return src.count
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Puts back the last `bytes.count` bytes consumed (they are `bytes`), so the next read
    /// starts at them again: for a parser that read past a boundary it found too late (a
    /// damaged stream frame that ran into the next one).
    package func unread(_ bytes: UnsafeRawBufferPointer) {
        let k = bytes.count
        guard k > 0 else { return }
        if k <= pos {
            pos -= k  // still in the buffer, unchanged since they were read
            return
        }
        // They span a refill: a new buffer holds them, then what was still unread.
        let rest = end - pos
        let fresh = UnsafeMutableRawBufferPointer.allocate(byteCount: max(k + rest, buffer.count), alignment: 16)
        fresh.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: k)
        if rest > 0 { (fresh.baseAddress! + k).copyMemory(from: buffer.baseAddress! + pos, byteCount: rest) }
        precondition(ownsBuffer, "bytes in memory are never refilled")
        buffer.deallocate()
        buffer = fresh
        base += pos - k
        pos = 0
        end = k + rest
    }

    /// True when no byte remains (reads ahead to find out).
    package func atEnd() throws -> Bool { try !fill() }
}
