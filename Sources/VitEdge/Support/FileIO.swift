#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File reads and writes through the C library (the engine does not need Foundation).
///
/// Reads take regular files only: a device (`/dev/zero`), a FIFO or a socket where a
/// model, image, checkpoint or config is expected is refused before a byte is read,
/// since its size cannot be checked first (standard input as a stream of images is
/// read by `ByteInput(fd: 0)`, not here). Sizes are checked against the limit before
/// anything is allocated. Writes are atomic: a temporary file beside the target,
/// flushed to disk, then renamed over it, so a failed write leaves an existing file as it was.
package enum FileIO {
    /// Largest configuration or label file read (JSON and text, not weights).
    package static let maxTextBytes = 16 << 20

    package static func read(_ path: String, limit: Int = ResourceLimits.current.maxFileBytes) throws -> [UInt8] {
        try withFile(path, limit: limit) { f, size in
            var bytes = [UInt8](repeating: 0, count: size)
            let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, f) }
            if got != size {
                throw VitError.io(path: path, reason: "read \(got) of \(size) bytes")
            }
            return bytes
        }
    }

    /// A configuration or label file: a regular file of at most `maxTextBytes`.
    package static func readText(_ path: String) throws -> [UInt8] {
        try read(path, limit: min(maxTextBytes, ResourceLimits.current.maxFileBytes))
    }

    /// Opens the regular file `path` for reading and hands `body` the stream and its
    /// size (checked against `limit`).
    static func withFile<T>(_ path: String, limit: Int,
                            _ body: (UnsafeMutablePointer<FILE>, Int) throws -> T) throws -> T {
        guard let f = fopen(path, "rb") else {
            throw VitError.io(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        let size = try regularSize(fileno(f), path: path)
        if size > limit {
            throw VitError.tooLarge(what: path, bytes: size, limit: limit, hint: "")
        }
        return try body(f, size)
    }

    /// The size of an open regular file; anything else is refused with what it is.
    static func regularSize(_ fd: Int32, path: String) throws -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw VitError.io(path: path, reason: String(cString: strerror(errno)))
        }
        let kind: String
        switch st.st_mode & S_IFMT {
        case S_IFREG: return Int(st.st_size)
        case S_IFDIR: kind = "a directory"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFIFO: kind = "a pipe"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a regular file"
        }
        throw VitError.io(path: path, reason: "is \(kind), expected a regular file (its size must be known before reading)")
    }

    /// A regular file as a `ByteInput` (read in 64 KiB pieces; its size known).
    package static func input(_ path: String, limit: Int = ResourceLimits.current.maxFileBytes) throws -> ByteInput {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw VitError.io(path: path, reason: String(cString: strerror(errno))) }
        let size: Int
        do {
            size = try regularSize(fd, path: path)
            if size > limit { throw VitError.tooLarge(what: path, bytes: size, limit: limit, hint: "") }
        } catch {
            close(fd)
            throw error
        }
        let input = ByteInput(name: path, fd: fd, size: size)
        input.closes = fd
        return input
    }

    /// Writes `bytes` to `path` atomically (see `writeAtomically(_:_:)`).
    package static func write(_ path: String, _ bytes: [UInt8]) throws {
        try writeAtomically(path) { write in try bytes.withUnsafeBytes { try write($0) } }
    }

    /// Writes a file atomically: `body` writes through the function it is given into a
    /// temporary file in the target's folder, which is flushed to disk and renamed over
    /// `path` only when everything succeeded. On any failure the temporary file is
    /// removed and an existing file at `path` is untouched.
    /// `header`, when given, is called after `body` and written over the file's first
    /// bytes (a header that depends on what `body` wrote: `body` writes a placeholder of
    /// the same length first).
    package static func writeAtomically(_ path: String, header: (() -> [UInt8])? = nil,
                                       _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else { throw VitError.io(path: path, reason: "is a directory name, expected a file name") }
        if isDirectory(path) { throw VitError.io(path: path, reason: "is a directory, expected a file name") }
        var template = Array("\(dir.isEmpty ? "/" : dir)/.\(name).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw VitError.io(path: path, reason: "cannot create a file in \(dir): \(String(cString: strerror(errno)))")
        }
        let temp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var closed = false
        do {
            try body { chunk in
                var done = 0
                while done < chunk.count {
                    let n = Glibc.write(fd, chunk.baseAddress! + done, chunk.count - done)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else {
                        throw VitError.io(path: path, reason: "could not write: \(String(cString: strerror(n < 0 ? errno : ENOSPC)))")
                    }
                    done += n
                }
            }
            if let bytes = header?() {
                let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
                guard n == bytes.count else {
                    throw VitError.io(path: path, reason: "could not write: \(String(cString: strerror(n < 0 ? errno : ENOSPC)))")
                }
            }
            // mkstemp creates 0600; give the file the mode a new file would have.
            let mask = umask(0)
            umask(mask)
            fchmod(fd, 0o666 & ~mask)
            guard fsync(fd) == 0 else {
                throw VitError.io(path: path, reason: "could not write: \(String(cString: strerror(errno)))")
            }
            closed = true
            guard close(fd) == 0 else {
                throw VitError.io(path: path, reason: "could not write: \(String(cString: strerror(errno)))")
            }
            guard rename(temp, path) == 0 else {
                throw VitError.io(path: path, reason: "could not replace the file: \(String(cString: strerror(errno)))")
            }
        } catch {
            if !closed { close(fd) }
            unlink(temp)
            throw error
        }
    }

    package static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
    /// Names in a directory, sorted, without "." and "..".
    package static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            throw VitError.io(path: path, reason: String(cString: strerror(errno)))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
