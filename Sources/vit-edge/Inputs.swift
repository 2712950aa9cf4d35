import VitEdge

/// Where images come from on the command line: files (PGM/PPM), folders of them, IDX
/// files (plain or LZ4) — read one at a time by `ImageSource` — or `-` for a stream of
/// concatenated PGM/PPM on standard input (`PNMStream`).
enum Inputs {
    /// Up to `limit` images of `paths`, read whole (calibration sets: `--samples` of them).
    static func gather(_ paths: [String], limit: Int) throws -> [Image] {
        let source = ImageSource(paths: paths)
        var out: [Image] = []
        while out.count < limit, let item = try source.next() { out.append(item.image) }
        noteSkipped(source.skipped)
        return out
    }

    /// Says on stderr which files of the folders given were not read, so a folder of
    /// unsupported images is never skipped without a word.
    static func noteSkipped(_ skipped: [String]) {
        guard !skipped.isEmpty else { return }
        let shown = skipped.prefix(3).map { "'\(printable($0))'" }.joined(separator: ", ")
        printError("vit-edge: note: skipped \(skipped.count) file\(skipped.count == 1 ? "" : "s") that \(skipped.count == 1 ? "is" : "are") not images (.jpg, .png, .pgm, .ppm): \(shown)\(skipped.count > 3 ? ", ..." : "")")
    }
}

/// Text from a model file or a file name, safe to print on a terminal line: control
/// characters (a newline that would forge a result line, ANSI escapes) and Unicode's
/// bidirectional controls (U+202E would reorder the rest of the line) are shown escaped.
func printable(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        switch u.value {
        case 0x0A: out += "\\n"
        case 0x0D: out += "\\r"
        case 0x09: out += "\\t"
        case 0..<0x20, 0x7F, 0x80..<0xA0:
            let hex = String(u.value, radix: 16)
            out += "\\x" + String(repeating: "0", count: max(0, 2 - hex.count)) + hex
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029:
            // Bidirectional controls (a label that reverses the text after it) and line
            // separators: shown as their code points.
            out += "\\u{" + String(u.value, radix: 16) + "}"
        default: out.unicodeScalars.append(u)
        }
    }
    return out
}
