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

    /// Whether the paths are one photo (a file that is not an IDX set): it has no next image
    /// to prepare while it runs, so its preprocessing (rows split) and forward pass take
    /// every thread instead of a pipeline.
    static func isOnePhoto(_ paths: [String]) -> Bool {
        paths.count == 1 && paths[0] != "-" && !FileIO.isDirectory(paths[0]) && !ImageSource.isIDX(paths[0])
    }

    /// The images of `source` decoded and preprocessed on a thread of their own
    /// (`InputPipeline`, `batch` images deep) while `body` runs the forward pass on the
    /// previous batch: `body` gets the names of the images now in the session's input
    /// slots 0..<count, in order. A batch is what is prepared when the forward pass is
    /// free (at least one image, at most `batch`): waiting to fill it would leave the
    /// forward pass idle while photos decode; small images arrive faster and fill it. An
    /// image that cannot be read or preprocessed is one line on stderr and left out.
    /// Returns those failures, or nil if no thread could be started (the caller runs
    /// without a pipeline then).
    static func pipelined(_ source: ImageSource, session: InferenceSession, batch: Int,
                          _ body: ([String]) throws -> Void) throws -> Int? {
        let c = session.model.config
        let count = c.channels * c.imageHeight * c.imageWidth
        var preprocessor: Preprocessor? = nil
        let resampling = session.model.kernels.resampling
        let pipeline = InputPipeline<String>(inputCount: count, depth: batch) { buffer in
            guard let (name, image) = try source.next() else { return nil }
            try image.withView { view in
                if preprocessor?.serves(view) != true {
                    preprocessor = try Preprocessor(config: c, width: view.width, height: view.height, format: view.format, name: name,
                                                    resampling: resampling)
                }
                preprocessor!.apply(view, into: buffer)
            }
            return name
        }
        guard pipeline.start() else { return nil }
        var failures = 0
        var names: [String] = []
        names.reserveCapacity(batch)
        do {
            func add(_ item: InputPipeline<String>.Item) {
                switch item.result {
                case .failure(let error):
                    pipeline.recycle(item)
                    printError("vit-edge: error: \(errorLine(error))")
                    failures += 1
                case .success(let name):
                    session.inputSlot(names.count).update(from: item.buffer!, count: count)
                    pipeline.recycle(item)
                    names.append(name)
                }
            }
            // Wait for one image; then add what is ready, and run.
            while let first = pipeline.take() {
                add(first)
                while names.count < batch, let more = pipeline.takeIfReady() { add(more) }
                guard !names.isEmpty else { continue }
                try body(names)
                names.removeAll(keepingCapacity: true)
            }
        } catch {
            pipeline.stop()
            throw error
        }
        return failures
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
