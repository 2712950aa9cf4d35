#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Cuts an MJPEG stream into JPEG frames without decoding them: concatenated JPEGs
/// (`ffmpeg -f mjpeg`, USB webcams, with or without padding between frames) and
/// multipart MJPEG (`multipart/x-mixed-replace`, what IP cameras serve and
/// `ffmpeg -f mpjpeg` writes: the boundary and part headers between frames are skipped).
///
/// Each frame is followed through its segments (lengths skipped, so an EXIF thumbnail's
/// own EOI does not end it) and its entropy-coded data (stuffed FF 00 and restart
/// markers passed over) to its EOI. Damage never ends the stream: a frame cut short by
/// the next frame's SOI, a broken marker or length, or a frame larger than the cap is
/// reported once, and reading resumes at the next `FF D8 FF`. Bytes are scanned for
/// 0xFF with `memchr` and copied in blocks, so the splitter runs at memory speed, and
/// the frame buffer never grows past the cap.
final class MJPEGSplitter {
    let input: ByteInput
    /// The largest frame kept, in bytes.
    let cap: Int
    /// The SOI (FF D8) of the next frame is already consumed.
    var pendingSOI = false
    /// Bytes skipped after a damaged frame belong to it: no separate note.
    var afterDamage = false

    init(_ input: ByteInput, cap: Int) {
        self.input = input
        self.cap = cap
    }

    /// Why a frame could not be cut (the bytes read so far are dropped).
    struct Damage: Error { var expected: String; var found: String }

    /// The next piece of the stream: a frame of `n` bytes in `buffer`, a damaged frame,
    /// a note about bytes between frames, or nil at the end.
    func next(into buffer: inout [UInt8], name: () -> String) throws -> FrameSplitter.Item? {
        if pendingSOI {
            afterDamage = false
        } else {
            let seek = try seekFrame()
            let junk = seek.junk && !afterDamage
            afterDamage = false
            if junk {
                pendingSOI = seek.found
                return .note("\(input.name): skipped \(seek.skipped) bytes that are not a JPEG frame\(seek.found ? " before \(name())" : " at the end of the stream")")
            }
            guard seek.found else { return nil }
        }
        pendingSOI = false
        var n = 0
        do {
            try cutFrame(into: &buffer, count: &n)
            return .frame(n)
        } catch let d as Damage {
            afterDamage = true
            return .damaged(.badImage(path: name(), expected: d.expected, found: d.found))
        }
    }

    /// Skips to just past the next `FF D8` that is followed by `FF` (the first marker's
    /// fill byte stays unread). Says how many bytes were skipped and whether any of them
    /// were other than padding (zeros) or text (multipart boundaries and headers).
    func seekFrame() throws -> (found: Bool, skipped: Int, junk: Bool) {
        var skipped = 0, junk = false
        var state = 0  // bytes of FF D8 matched
        while try input.fill() {
            let base = input.buffer.baseAddress!
            var i = input.pos
            let end = input.end
            while i < end {
                if state == 0 {
                    // Up to the next FF in one call; the bytes before it are padding, text or junk.
                    guard let hit = memchr(base + i, 0xFF, end - i) else {
                        for j in i..<end where !Self.benign(base.load(fromByteOffset: j, as: UInt8.self)) { junk = true; break }
                        skipped += end - i
                        i = end
                        break
                    }
                    let at = base.distance(to: hit)
                    for j in i..<at where !Self.benign(base.load(fromByteOffset: j, as: UInt8.self)) { junk = true; break }
                    skipped += at - i
                    i = at + 1
                    state = 1
                    continue
                }
                let b = base.load(fromByteOffset: i, as: UInt8.self)
                i += 1
                if state == 1 {
                    if b == 0xD8 { state = 2 } else if b != 0xFF { state = 0; skipped += 2; junk = true }
                    else { skipped += 1; junk = true }
                } else {
                    if b == 0xFF {
                        input.pos = i - 1  // leave the marker's FF
                        return (true, skipped, junk)
                    }
                    state = 0
                    skipped += 3
                    junk = true
                }
            }
            input.pos = end
        }
        if state > 0 { skipped += state; junk = true }
        return (false, skipped, junk)
    }

    /// Padding and multipart text between frames: zeros, CR, LF, tab and printable ASCII.
    @inline(__always)
    static func benign(_ b: UInt8) -> Bool { b == 0 || b == 0x0A || b == 0x0D || b == 0x09 || (b >= 0x20 && b < 0x7F) }

    /// The first offset of `pattern` in `bytes[from..<to]`, or nil.
    static func find(_ pattern: [UInt8], in bytes: [UInt8], from: Int, to: Int) -> Int? {
        guard to - from >= pattern.count else { return nil }
        for i in from...(to - pattern.count) where bytes[i] == pattern[0] && bytes[i + 1] == pattern[1] && bytes[i + 2] == pattern[2] {
            return i
        }
        return nil
    }

    /// Reads one frame after its SOI into `buffer` (SOI included) up to its EOI.
    func cutFrame(into buffer: inout [UInt8], count n: inout Int) throws {
        func append(_ p: UnsafeRawPointer, _ k: Int) throws {
            guard k <= cap - n else {
                throw Damage(expected: "a JPEG frame of at most \(cap) bytes", found: "more (no EOI marker within them)")
            }
            if buffer.count < n + k { buffer.append(contentsOf: repeatElement(0, count: min(max(buffer.count, n + k, 1 << 16), cap) - buffer.count)) }
            buffer.withUnsafeMutableBytes { ($0.baseAddress! + n).copyMemory(from: p, byteCount: k) }
            n += k
        }
        func byte() throws -> UInt8 {
            guard let b = try input.next() else {
                throw Damage(expected: "a complete JPEG (up to its EOI marker)", found: "the end of the stream after \(n) bytes")
            }
            var v = b
            try append(&v, 1)
            return b
        }
        /// Copies `k` bytes in blocks. With `watch`, bytes that hold the next frame's SOI
        /// (FF D8 FF, looked for from `watchFrom`: the length field too, which a frame cut
        /// short may have taken from the next one) go back to the input and the segment
        /// is damage.
        func copy(_ k: Int, watch: Bool, from watchFrom: Int) throws {
            var left = k
            let start = watchFrom
            while left > 0 {
                guard try input.fill() else {
                    throw Damage(expected: "a complete JPEG (up to its EOI marker)", found: "the end of the stream after \(n) bytes")
                }
                let m = min(left, input.end - input.pos)
                try append(input.buffer.baseAddress! + input.pos, m)
                input.pos += m
                left -= m
                if watch, let at = Self.find([0xFF, 0xD8, 0xFF], in: buffer, from: max(start, n - m - 2), to: n), at >= start {
                    buffer.withUnsafeBytes { input.unread(UnsafeRawBufferPointer(rebasing: $0[at..<n])) }
                    throw Damage(expected: "a JPEG segment within its length",
                                 found: "the next frame's SOI inside it, at byte \(at) (a damaged length)")
                }
            }
            // The SOI may also straddle the segment's end: its last byte or two and the
            // input's next ones.
            guard watch, n - start >= 1 else { return }
            let tail = (n >= 2 ? buffer[n - 2] : 0, buffer[n - 1])
            var straddle = 0
            if tail == (0xFF, 0xD8), try input.peek() == 0xFF { straddle = 2 }
            if straddle == 0 && tail.1 == 0xFF, try input.peek() == 0xD8 {
                _ = try input.next()
                var d8: UInt8 = 0xD8
                let third = try input.peek()
                withUnsafeBytes(of: &d8) { input.unread($0) }
                if third == 0xFF { straddle = 1 }
            }
            guard straddle > 0 else { return }
            buffer.withUnsafeBytes { input.unread(UnsafeRawBufferPointer(rebasing: $0[(n - straddle)..<n])) }
            throw Damage(expected: "a JPEG segment within its length",
                         found: "the next frame's SOI at its end, byte \(n - straddle) (a frame cut short)")
        }
        /// The marker after an FF already read (fill bytes passed over). SOI here is the
        /// next frame beginning before this one ended.
        func marker() throws -> UInt8 {
            var m: UInt8
            repeat { m = try byte() } while m == 0xFF
            if m == 0xD8 {
                pendingSOI = true
                throw Damage(expected: "an EOI marker before the next frame", found: "a new frame's SOI after \(n - 2) bytes (a frame cut short)")
            }
            return m
        }
        var soi: (UInt8, UInt8) = (0xFF, 0xD8)
        try withUnsafeBytes(of: &soi) { try append($0.baseAddress!, 2) }
        var m: UInt8? = nil
        var tablesSeen = false
        while true {
            if m == nil {
                let b = try byte()
                guard b == 0xFF else { throw Damage(expected: "a JPEG marker (FF) at byte \(n - 1)", found: "byte \(b)") }
                m = try marker()
            }
            let current = m!
            m = nil
            switch current {
            case 0xD9:
                return  // EOI
            case 0x01, 0xD0...0xD7:
                continue
            case 0x00:
                throw Damage(expected: "a JPEG marker at byte \(n - 2)", found: "FF 00")
            default:
                let (hi, lo) = (try byte(), try byte())
                if (hi, lo) == (0xFF, 0xD8), try input.peek() == 0xFF {
                    // Not a length: the next frame's SOI right after a marker (junk or a cut).
                    var soi: (UInt8, UInt8) = (0xFF, 0xD8)
                    withUnsafeBytes(of: &soi) { input.unread($0) }
                    throw Damage(expected: "a JPEG segment length after marker \(current)", found: "the next frame's SOI (a frame cut short)")
                }
                let length = Int(hi) << 8 | Int(lo)
                guard length >= 2 else { throw Damage(expected: "a JPEG segment length >= 2", found: "\(length)") }
                // APPn and COM segments right after the SOI (before any table) may hold
                // anything (an EXIF thumbnail is a whole JPEG): skipped by their length. The
                // tables and frame headers never hold FF D8 FF, nor does an APPn after them
                // (more likely junk read after a frame cut short): finding it there means a
                // length ran into the next frame.
                let appOrComment = (0xE0...0xEF).contains(current) || current == 0xFE
                let opaque = appOrComment && !tablesSeen
                if !appOrComment { tablesSeen = true }
                try copy(length - 2, watch: !opaque, from: n - 2)
                guard current == 0xDA else { continue }
                // Entropy-coded data after SOS: up to the next marker that is not FF 00 or RSTn.
                while true {
                    guard try input.fill() else {
                        throw Damage(expected: "a complete JPEG (up to its EOI marker)", found: "the end of the stream after \(n) bytes")
                    }
                    let base = input.buffer.baseAddress!
                    let start = input.pos, end = input.end
                    guard let hit = memchr(base + start, 0xFF, end - start) else {
                        try append(base + start, end - start)
                        input.pos = end
                        continue
                    }
                    let at = base.distance(to: hit)
                    try append(base + start, at - start + 1)
                    input.pos = at + 1
                    let next = try marker()
                    if next == 0x00 || (0xD0...0xD7).contains(next) { continue }
                    m = next
                    break
                }
            }
        }
    }
}
