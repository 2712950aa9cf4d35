import ArgumentParser
import VitEdge
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Classify images with a .vitq model.",
        discussion: """
            Inputs are PGM (P2/P5) or PPM (P3/P6) files, folders of them, IDX files (plain or
            .lz4), or - for a stream of concatenated PGM/PPM images on standard input, each
            classified as soon as it has arrived (the shape of a camera pipeline).
            """)

    @Argument(help: "The .vitq model.")
    var model: String

    @Argument(help: "Images, folders, IDX files, or - for standard input.")
    var images: [String]

    @Option(name: .customLong("top-k"), help: "How many classes to show per image.")
    var topK = 3

    @Option(help: "Images per forward pass (files, folders and IDX; a stream runs one at a time).")
    var batch = 1

    @Flag(help: "One JSON object per image and line.")
    var json = false

    @OptionGroup var options: ModelOptions

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard batch >= 1 && batch <= 4096 else { throw ValidationError("--batch must be 1...4096") }
        guard images.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("standard input (-) can be read once") }
    }

    func run() {
        guarded {
            let vit = try options.load(model)
            let c = vit.config
            guard c.numClasses > 0 else {
                throw VitError.invalidArgument("\(model) has no classification head; it outputs features (see `vit-edge embed`)")
            }
            let session = try InferenceSession(model: vit, batchSize: batch, threads: options.threads)
            let plane = c.channels * c.imageHeight * c.imageWidth
            var failures = 0
            var pending: [String] = []
            func flush() {
                guard !pending.isEmpty else { return }
                session.forward(count: pending.count)
                for (j, name) in pending.enumerated() { report(name, session, j, c) }
                pending.removeAll()
            }
            func add(_ name: String, _ image: Image) {
                Preprocess.apply(image, config: c, into: session.input.baseAddress! + pending.count * plane)
                pending.append(name)
                if pending.count == batch { flush() }
            }
            for path in images {
                if path == "-" {
                    flush()
                    let stream = PNMStream(ByteInput(name: "stdin", fd: 0))
                    while let image = try stream.next() {
                        add("-#\(stream.index - 1)", image)
                        flush()
                    }
                    continue
                }
                // One image in memory at a time; an unreadable one is reported and skipped.
                let source = ImageSource(paths: [path])
                while true {
                    do {
                        guard let (name, image) = try source.next() else { break }
                        add(name, image)
                    } catch {
                        printError("vit-edge: error: \(error)")
                        failures += 1
                    }
                }
                Inputs.noteSkipped(source.skipped)
            }
            flush()
            // Each unreadable input already has its line on stderr.
            if failures > 0 { Glibc.exit(1) }
        }
    }

    func report(_ name: String, _ s: InferenceSession, _ j: Int, _ c: ViTConfig) {
        let top = VitEdge.topK(s.probabilities(j), min(topK, c.numClasses))
        if json {
            let obj = JSON.object([
                ("image", .string(name)),
                ("top", .array(top.map { t in
                    .object([("index", .number(Double(t.index))), ("label", .string(label(c, t.index))),
                             ("probability", .number(Double(t.probability)))])
                })),
                ("logits", .array(s.logits(j).map { .number(Double($0)) })),
            ])
            writeStdout(obj.serialized() + "\n")
        } else {
            var text = printable(name) + "\n"
            for (rank, t) in top.enumerated() {
                text += "  \(rank + 1). \(pad(printable(label(c, t.index)), 12)) \(pad(percent(Double(t.probability)), 8, left: true))\n"
            }
            writeStdout(text)
        }
    }

    func label(_ c: ViTConfig, _ i: Int) -> String { i < c.labels.count ? c.labels[i] : String(i) }
}
