#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and writes through the C library (the engine does not need
/// Foundation). Sizes are checked against the limit before anything is allocated.
public enum FileIO {
    public static func read(_ path: String, limit: Int = ResourceLimits.current.maxFileBytes) throws -> [UInt8] {
        try withFile(path, limit: limit) { f, size in
            // A pipe or character device (e.g. /dev/stdin): read in chunks up to the limit.
            guard let size else { return try readStream(f, name: path, limit: limit) }
            var bytes = [UInt8](repeating: 0, count: size)
            let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, f) }
            if got != size {
                throw VitError.io(path: path, reason: "read \(got) of \(size) bytes")
            }
            return bytes
        }
    }

    /// Opens `path` for reading and hands `body` the stream and, for a regular file, its
    /// size (checked against `limit`; nil for pipes and devices). Directories are refused.
    static func withFile<T>(_ path: String, limit: Int,
                            _ body: (UnsafeMutablePointer<FILE>, Int?) throws -> T) throws -> T {
        guard let f = fopen(path, "rb") else {
            throw VitError.io(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        var st = stat()
        guard fstat(fileno(f), &st) == 0 else {
            throw VitError.io(path: path, reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw VitError.io(path: path, reason: "is a directory, expected a file")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return try body(f, nil) }
        let size = Int(st.st_size)
        if size > limit {
            throw VitError.tooLarge(what: path, bytes: size, limit: limit, hint: "")
        }
        return try body(f, size)
    }

    static func readStream(_ f: UnsafeMutablePointer<FILE>, name: String, limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if got == 0 { break }
            if bytes.count + got > limit {
                throw VitError.tooLarge(what: name, bytes: bytes.count + got, limit: limit, hint: "")
            }
            bytes.append(contentsOf: chunk[0..<got])
        }
        return bytes
    }

    public static func write(_ path: String, _ bytes: [UInt8]) throws {
        guard let f = fopen(path, "wb") else {
            throw VitError.io(path: path, reason: String(cString: strerror(errno)))
        }
        let wrote = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        let closed = fclose(f)
        if wrote != bytes.count || closed != 0 {
            throw VitError.io(path: path, reason: "could not write \(bytes.count) bytes")
        }
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Names in a directory, sorted, without "." and "..".
    public static func list(_ path: String) throws -> [String] {
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
