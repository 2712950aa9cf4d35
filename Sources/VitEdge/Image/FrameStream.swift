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
package enum StreamFormat: Equatable, Sendable {
    case raw(ImageView.Format, width: Int, height: Int)
    /// Concatenated JPEGs or multipart MJPEG (see `MJPEGSplitter`).
    case mjpeg
    /// Concatenated PGM/PPM images (`PNMStream`).
    case pnm

    /// The format of a stream without `--raw`, from its first bytes: JPEG (FF), multipart
    /// MJPEG ("--boundary", or a blank line first), padding (zeros) before a JPEG, or
    /// PGM/PPM ("P"). Anything else is named and refused; an empty stream is an error.
    package static func detect(_ input: ByteInput) throws -> StreamFormat {
        guard let first = try input.peek() else {
            throw VitError.badImage(path: input.name, expected: "at least one frame", found: "none (the stream was empty)")
        }
        switch first {
        case 0xFF, 0x00, UInt8(ascii: "-"), 0x0D, 0x0A: return .mjpeg
        case UInt8(ascii: "P"): return .pnm
        default:
            let what: String
            switch first {
            case 0x89: what = "a PNG image (PNG files are read by name; streams are not PNG)"
            case UInt8(ascii: "G"): what = "GIF or other data"
            case UInt8(ascii: "{"), UInt8(ascii: "["): what = "JSON or other text"
            default: what = "byte \(first)"
            }
            throw VitError.badImage(path: input.name,
                                    expected: "an MJPEG stream (JPEG frames, or multipart/x-mixed-replace), concatenated PGM/PPM, or raw frames described by --raw",
                                    found: what)
        }
    }

    /// `gray8|rgb24|bgr24|rgbx32|bgrx32|yuv420p|nv12:WxH`, as `--raw` takes it.
    package static func parseRaw(_ s: String) throws -> StreamFormat {
        let parts = s.split(separator: ":")
        let formats = [ImageView.Format.gray8, .rgb8, .bgr8, .rgbx8, .bgrx8, .i420, .nv12]
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
package final class FrameSplitter {
    /// What the stream holds next.
    package enum Item {
        /// A complete frame of this many bytes, in the caller's buffer.
        case frame(Int)
        /// A frame that could not be cut (cut short, damaged, too large): reported, and
        /// the stream goes on (at the next frame for MJPEG; a raw stream has ended).
        case damaged(VitError)
        /// Bytes between frames that are not a frame, skipped (one line).
        case note(String)
    }

    let input: ByteInput
    package let format: StreamFormat
    let limits: ResourceLimits
    let mjpeg: MJPEGSplitter?
    /// Frames (complete or damaged) returned so far.
    package private(set) var count = 0

    package init(_ input: ByteInput, format: StreamFormat, limits: ResourceLimits = .current) {
        self.input = input
        self.format = format
        self.limits = limits
        mjpeg = format == .mjpeg ? MJPEGSplitter(input, cap: min(limits.maxFileBytes, 64 << 20)) : nil
    }

    /// Checks a raw format's frame size against the limits, before any frame arrives.
    package static func checkRaw(_ format: StreamFormat, limits: ResourceLimits = .current) throws {
        guard case .raw(let f, let w, let h) = format else { return }
        guard let size = ImageView.byteCount(f, width: w, height: h), size <= limits.maxFileBytes,
              w * h <= limits.maxImagePixels else {
            throw VitError.tooManyPixels(path: "--raw \(f.rawValue):\(w)x\(h)", width: w, height: h, limit: limits.maxImagePixels)
        }
    }

    /// The name of the frame about to be read, for messages.
    var frameName: String { "\(input.name) frame #\(count)" }

    /// The next frame into `buffer`, a damaged frame or a note, or nil at the end of the
    /// stream. Errors of the input itself (a failed read) throw.
    package func next(into buffer: inout [UInt8]) throws -> Item? {
        switch format {
        case .raw(let f, let w, let h):
            guard try input.peek() != nil else { return nil }
            try FrameSplitter.checkRaw(format, limits: limits)
            let size = ImageView.byteCount(f, width: w, height: h)!
            // Grown as bytes arrive, not zero-filled up front: a stream that stops early
            // costs what it sent.
            var got = 0
            while got < size {
                let step = min(size - got, max(got, 1 << 16))
                if buffer.count < got + step { buffer.append(contentsOf: repeatElement(0, count: got + step - buffer.count)) }
                let n = try buffer.withUnsafeMutableBytes { try input.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[got..<(got + step)])) }
                got += n
                if n < step { break }
            }
            defer { count += 1 }
            guard got == size else {
                return .damaged(.badImage(path: frameName, expected: "\(size) bytes of \(f.rawValue) \(w)x\(h)", found: "\(got) before the end of the stream"))
            }
            return .frame(size)
        case .mjpeg:
            guard let item = try mjpeg!.next(into: &buffer, name: { frameName }) else { return nil }
            if case .note = item { return item }
            count += 1
            return item
        case .pnm:
            preconditionFailure("PGM/PPM streams are read by PNMStream, not cut into byte frames")
        }
    }
}

/// Frames read on a thread of their own; the consumer takes the newest complete one.
/// With `latest` false, every frame is handed over in order (the reader waits).
package final class FrameQueue: @unchecked Sendable {
    package struct Frame {
        /// The frame's number in the stream (0-based).
        package var index: Int
        package var bytes: [UInt8]
        package var count: Int
        /// When its last byte was read (CLOCK_MONOTONIC seconds).
        package var arrived: Double
        /// Frames skipped since the previous frame handed over.
        package var skipped: Int
    }

    let splitter: FrameSplitter
    let latest: Bool
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    var ready: Frame? = nil
    /// Lines about the stream not yet taken (at most 64: the reader waits for the consumer).
    var notices: [Taken] = []
    var free: [[UInt8]] = [[], [], []]
    var ended = false
    var failure: Error? = nil
    var skippedSinceTake = 0
    var thread = pthread_t()

    package init(_ splitter: FrameSplitter, latest: Bool) {
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

    package static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Starts the reader thread (detached: it holds a reference to the queue until the
    /// stream ends).
    package func start() {
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
            let result: Result<FrameSplitter.Item?, Error> = Result { try splitter.next(into: &buffer) }
            let arrived = Self.now()
            pthread_mutex_lock(mutex)
            switch result {
            case .success(.frame(let n)):
                if !latest { while ready != nil { pthread_cond_wait(cond, mutex) } }
                if let old = ready {
                    free.append(old.bytes)  // skipped: never classified
                    skippedSinceTake += 1
                }
                ready = Frame(index: splitter.count - 1, bytes: buffer, count: n, arrived: arrived, skipped: 0)
            case .success(.damaged(let e)):
                free.append(buffer)
                while notices.count >= 64 { pthread_cond_wait(cond, mutex) }
                notices.append(.damaged(e))
            case .success(.note(let text)):
                free.append(buffer)
                while notices.count >= 64 { pthread_cond_wait(cond, mutex) }
                notices.append(.note(text))
            case .success(nil):
                free.append(buffer)
                ended = true
            case .failure(let e):
                free.append(buffer)
                failure = e
                ended = true
            }
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
            if ended { return }
        }
    }

    /// What the consumer takes: a frame, or a line to print about the stream.
    package enum Taken {
        case frame(Frame)
        /// A frame that could not be cut (its number was used).
        case damaged(VitError)
        /// Bytes between frames that were not a frame.
        case note(String)
    }

    /// The next thing to handle, waiting for one: lines about the stream in the order they
    /// came, then the newest frame not yet taken; nil when the stream has ended. Hand a
    /// frame's bytes back with `recycle` when done. A read error is thrown once the
    /// frames before it have been taken.
    package func take() throws -> Taken? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while ready == nil && notices.isEmpty && !ended { pthread_cond_wait(cond, mutex) }
        if !notices.isEmpty {
            pthread_cond_broadcast(cond)
            return notices.removeFirst()
        }
        if var f = ready {
            ready = nil
            f.skipped = skippedSinceTake
            skippedSinceTake = 0
            pthread_cond_broadcast(cond)
            return .frame(f)
        }
        if let failure { self.failure = nil; throw failure }
        return nil
    }

    /// The next frame only (lines about the stream dropped): tests.
    func takeFrame() throws -> Frame? {
        while let t = try take() { if case .frame(let f) = t { return f } }
        return nil
    }

    /// Returns a frame's buffer for reuse.
    package func recycle(_ frame: Frame) {
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
