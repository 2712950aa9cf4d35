import VitEdge
#if canImport(Glibc)
import Glibc
#endif

/// Where images come from on the command line: files (PGM/PPM), folders of them, IDX
/// files (plain or LZ4), or `-` for a stream of concatenated PGM/PPM on standard input.
enum Inputs {
    /// Expands paths (not `-`) into named images, in order: a folder gives its PGM/PPM
    /// files and those of its sub-folders (one level: class folders); at most `limit`.
    static func gather(_ paths: [String], limit: Int = Int.max) throws -> [(name: String, image: Image)] {
        var out: [(name: String, image: Image)] = []
        func folder(_ dir: String, depth: Int) throws {
            for name in try FileIO.list(dir) where out.count < limit {
                let path = dir + "/" + name
                if FileIO.isDirectory(path) {
                    if depth == 0 { try folder(path, depth: 1) }
                } else if name.hasSuffix(".pgm") || name.hasSuffix(".ppm") {
                    out.append((path, try Image.load(path: path)))
                }
            }
        }
        for path in paths where out.count < limit {
            if FileIO.isDirectory(path) {
                try folder(path, depth: 0)
            } else if isIDX(path) {
                for (i, im) in try IDX.load(path: path).images(path: path).enumerated() where out.count < limit {
                    out.append(("\(path)#\(i)", im))
                }
            } else {
                out.append((path, try Image.load(path: path)))
            }
        }
        return out
    }

    static func isIDX(_ path: String) -> Bool {
        path.hasSuffix(".lz4") || path.hasSuffix("-ubyte") || path.hasSuffix(".idx") || path.contains(".idx3")
    }

    /// Reads concatenated PGM/PPM images from standard input, handing each to `body`
    /// as soon as its last byte has arrived.
    static func stream(limit: Int = ResourceLimits.current.maxFileBytes, _ body: (Int, Image) throws -> Void) throws {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var eof = false
        var index = 0
        while true {
            // Skip whitespace between images.
            var start = 0
            while start < buffer.count, [0x20, 0x09, 0x0A, 0x0D].contains(buffer[start]) { start += 1 }
            if start > 0 { buffer.removeFirst(start) }
            if buffer.isEmpty && eof { return }
            if !buffer.isEmpty {
                do {
                    let (image, end) = try Image.decodePNM(buffer, path: "stdin image #\(index)")
                    // A plain (P2/P3) image may still be growing: wait for a delimiter.
                    if end < buffer.count || eof || buffer[0] == UInt8(ascii: "P") && (buffer[1] == UInt8(ascii: "5") || buffer[1] == UInt8(ascii: "6")) {
                        try body(index, image)
                        index += 1
                        buffer.removeFirst(end)
                        continue
                    }
                } catch {
                    if eof { throw error }
                }
            }
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n <= 0 { eof = true; continue }
            guard buffer.count + n <= limit else {
                throw VitError.tooLarge(what: "standard input", bytes: buffer.count + n, limit: limit, hint: "one image exceeds the limit")
            }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
