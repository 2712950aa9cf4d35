#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Camera streams on a pipe: raw frames of a fixed format and size (what `rpicam-vid
/// --codec yuv420 -o -` and `ffmpeg -f rawvideo` write) or MJPEG (concatenated JPEGs, as
/// `ffmpeg -f mjpeg` and USB webcams give). `FrameSplitter` cuts the byte stream into
/// complete frames without decoding them; `FrameQueue` runs it on its own thread and
/// hands the classifier the newest complete frame, counting the ones it skipped, so a
/// slow model never makes the pipe back up or memory grow: three frame buffers in all,
/// reused.
@_spi(Internals) public enum StreamFormat: Equatable, Sendable {
    case raw(ImageView.Format, width: Int, height: Int)
    case mjpeg

    /// `gray8|rgb24|yuv420p|nv12:WxH`, as `--raw` takes it.
    @_spi(Internals) public static func parseRaw(_ s: String) throws -> StreamFormat {
        let parts = s.split(separator: ":")
        let formats = [ImageView.Format.gray8, .rgb8, .i420, .nv12]
        guard parts.count == 2, let f = formats.first(where: { $0.rawValue == parts[0] }) else {
            throw VitError.invalidArgument("--raw takes FORMAT:WxH with FORMAT one of \(formats.map(\.rawValue).joined(separator: ", ")), got '\(s)'")
        }
        let size = parts[1].split(separator: "x").map { Int($0) }
        guard size.count == 2, let w = size[0], let h = size[1], w > 0, h > 0, w <= 1 << 15, h <= 1 << 15 else {
            throw VitError.invalidArgument("--raw \(parts[0]):WxH needs a width and height in 1...32768, got '\(parts[1])'")
        }
        return .raw(f, width: w, height: h)
    }
}

/// Cuts a byte stream into frames. Each frame's bytes are copied into a caller's
/// buffer (grown to the largest frame, then reused).
@_spi(Internals) public final class FrameSplitter {
    let input: ByteInput
    @_spi(Internals) public let format: StreamFormat
    let limits: ResourceLimits
    /// Frames returned so far.
    @_spi(Internals) public private(set) var count = 0

    @_spi(Internals) public init(_ input: ByteInput, format: StreamFormat, limits: ResourceLimits = .current) {
        self.input = input
        self.format = format
        self.limits = limits
    }

    /// The next frame into `buffer` (its byte count returned), or nil at a clean end of
    /// the stream. A frame cut short, or bytes that are not a frame, throw.
    @_spi(Internals) public func next(into buffer: inout [UInt8]) throws -> Int? {
        guard try input.peek() != nil else { return nil }
        let name = "\(input.name) frame #\(count)"
        let n: Int
        switch format {
        case .raw(let f, let w, let h):
            guard let size = ImageView.byteCount(f, width: w, height: h), size <= limits.maxFileBytes,
                  w * h <= limits.maxImagePixels else {
                throw VitError.tooManyPixels(path: name, width: w, height: h, limit: limits.maxImagePixels)
            }
            if buffer.count < size { buffer = [UInt8](repeating: 0, count: size) }
            let got = try buffer.withUnsafeMutableBytes { try input.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<size])) }
            guard got == size else {
                throw VitError.badImage(path: name, expected: "\(size) bytes of \(f.rawValue) \(w)x\(h)", found: "\(got) before the end of the stream")
            }
            n = size
        case .mjpeg:
            n = try nextJPEG(into: &buffer, name: name)
        }
        count += 1
        return n
    }

    /// One JPEG, SOI to EOI, followed through its segments (lengths skipped, so an EXIF
    /// thumbnail's own EOI is not mistaken for the frame's) and entropy-coded data
    /// (stuffed FF 00 and restart markers passed over).
    func nextJPEG(into buffer: inout [UInt8], name: String) throws -> Int {
        var n = 0
        let cap = min(limits.maxFileBytes, 256 << 20)
        func byte() throws -> UInt8 {
            guard let b = try input.next() else {
                throw VitError.badImage(path: name, expected: "a complete JPEG (up to its EOI marker)", found: "the end of the stream after \(n) bytes")
            }
            if n == buffer.count { buffer.append(contentsOf: repeatElement(0, count: max(buffer.count, 1 << 16))) }
            guard n < cap else { throw VitError.badImage(path: name, expected: "a JPEG frame of at most \(cap) bytes", found: "more") }
            buffer[n] = b
            n += 1
            return b
        }
        let b0 = try byte(), b1 = try byte()
        guard b0 == 0xFF && b1 == 0xD8 else {
            throw VitError.badImage(path: name, expected: "a JPEG frame (FF D8)", found: "bytes \(b0) \(b1)")
        }
        var marker: UInt8 = 0
        func nextMarker() throws -> UInt8 {
            var b = try byte()
            guard b == 0xFF else { throw VitError.badImage(path: name, expected: "a JPEG marker", found: "byte \(b) at \(n - 1)") }
            repeat { b = try byte() } while b == 0xFF  // fill bytes
            return b
        }
        marker = try nextMarker()
        while true {
            switch marker {
            case 0xD9:
                return n  // EOI
            case 0x01, 0xD0...0xD7:
                marker = try nextMarker()
            default:
                let length = Int(try byte()) << 8 | Int(try byte())
                guard length >= 2 else { throw VitError.badImage(path: name, expected: "a JPEG segment length >= 2", found: "\(length)") }
                for _ in 0..<(length - 2) { _ = try byte() }
                if marker != 0xDA { marker = try nextMarker(); continue }
                // Entropy-coded data after SOS: up to the next marker that is not FF 00 or RSTn.
                while true {
                    var b = try byte()
                    guard b == 0xFF else { continue }
                    repeat { b = try byte() } while b == 0xFF
                    if b == 0x00 || (0xD0...0xD7).contains(b) { continue }
                    marker = b
                    break
                }
            }
        }
    }
}

/// Frames read on a thread of their own; the consumer takes the newest complete one.
/// With `latest` false, every frame is handed over in order (the reader waits).
@_spi(Internals) public final class FrameQueue: @unchecked Sendable {
    @_spi(Internals) public struct Frame {
        /// The frame's number in the stream (0-based).
        @_spi(Internals) public var index: Int
        @_spi(Internals) public var bytes: [UInt8]
        @_spi(Internals) public var count: Int
        /// When its last byte was read (CLOCK_MONOTONIC seconds).
        @_spi(Internals) public var arrived: Double
        /// Frames skipped since the previous frame handed over.
        @_spi(Internals) public var skipped: Int
    }

    let splitter: FrameSplitter
    let latest: Bool
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    var ready: Frame? = nil
    var free: [[UInt8]] = [[], [], []]
    var ended = false
    var failure: Error? = nil
    var skippedSinceTake = 0
    var thread = pthread_t()

    @_spi(Internals) public init(_ splitter: FrameSplitter, latest: Bool) {
        self.splitter = splitter
        self.latest = latest
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        mutex.deallocate()
        cond.deallocate()
    }

    @_spi(Internals) public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Starts the reader thread (detached: it holds a reference to the queue until the
    /// stream ends).
    @_spi(Internals) public func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { arg in
            let q = Unmanaged<FrameQueue>.fromOpaque(arg!).takeRetainedValue()
            q.readLoop()
            return nil
        }, box) == 0
        if started { pthread_detach(thread) }
        if !started {
            Unmanaged<FrameQueue>.fromOpaque(box).release()
            failure = VitError.invalidArgument("could not start the frame reader thread")
            ended = true
        }
    }

    func readLoop() {
        while true {
            pthread_mutex_lock(mutex)
            while free.isEmpty { pthread_cond_wait(cond, mutex) }
            var buffer = free.removeLast()
            pthread_mutex_unlock(mutex)
            let result: Result<Int?, Error> = Result { try splitter.next(into: &buffer) }
            let arrived = Self.now()
            pthread_mutex_lock(mutex)
            switch result {
            case .success(let n?):
                if !latest { while ready != nil { pthread_cond_wait(cond, mutex) } }
                if let old = ready {
                    free.append(old.bytes)  // skipped: never classified
                    skippedSinceTake += 1
                }
                ready = Frame(index: splitter.count - 1, bytes: buffer, count: n, arrived: arrived, skipped: 0)
                pthread_cond_broadcast(cond)
                pthread_mutex_unlock(mutex)
            case .success(nil):
                free.append(buffer)
                ended = true
                pthread_cond_broadcast(cond)
                pthread_mutex_unlock(mutex)
                return
            case .failure(let e):
                free.append(buffer)
                failure = e
                ended = true
                pthread_cond_broadcast(cond)
                pthread_mutex_unlock(mutex)
                return
            }
        }
    }

    /// The newest frame not yet taken (waiting for one), or nil when the stream has
    /// ended. Hand its bytes back with `recycle` when done. A stream error is thrown
    /// once the frames before it have been taken.
    @_spi(Internals) public func take() throws -> Frame? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while ready == nil && !ended { pthread_cond_wait(cond, mutex) }
        if var f = ready {
            ready = nil
            f.skipped = skippedSinceTake
            skippedSinceTake = 0
            pthread_cond_broadcast(cond)
            return f
        }
        if let failure { self.failure = nil; throw failure }
        return nil
    }

    /// Returns a frame's buffer for reuse.
    @_spi(Internals) public func recycle(_ frame: Frame) {
        pthread_mutex_lock(mutex)
        free.append(frame.bytes)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until the reader has finished (tests).
    func waitUntilEnded() {
        pthread_mutex_lock(mutex)
        while !ended { pthread_cond_wait(cond, mutex) }
        pthread_mutex_unlock(mutex)
    }
}
