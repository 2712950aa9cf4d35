import ArgumentParser
import VitEdge
#if canImport(Glibc)
import Glibc
#endif

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write each image's pooled representation (the vector the head reads), for retrieval and clustering.",
        discussion: "For a model without a head this is the model's output. Without -o, prints JSON lines.")

    @Argument(help: "The .vitq model.")
    var model: String

    @Argument(help: "Images (JPEG, PNG, PGM, PPM), folders of them, or IDX files.")
    var images: [String]

    @Option(name: .shortAndLong, help: "Write a .npy file of float32 [images, features] (with --tokens: [images, tokens, width]) instead of JSON.")
    var output: String?

    @Flag(help: "Write every token after the final norm instead of the pooled vector: the prefix tokens (class, distillation, registers; `info` counts them) first, then the patches row by row (DINOv2 patch features, Hugging Face's last_hidden_state).")
    var tokens = false

    @Option(help: "Images per forward pass.")
    var batch = 16

    @OptionGroup var options: ModelOptions

    @OptionGroup var threads: ThreadOptions

    @OptionGroup var imageOptions: ImageOptions

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard batch >= 1 && batch <= 4096 else { throw ValidationError("--batch must be 1...4096") }
    }

    func run() {
        guarded {
            let vit = try options.load(model)
            let c = vit.config
            // Images are read one batch at a time, and each batch's outputs written (to -o
            // as they come: a folder of photos never has to fit in memory).
            let source = ImageSource(paths: images)
            source.exifOrientation = imageOptions.exifOrientation
            source.jpegScaling = imageOptions.jpegScaling(for: c)
            // With two threads or more, one decodes and preprocesses the next batch while
            // the others run the forward pass (not for a single photo: see `run`).
            let pipelined = threads.count >= 2 && !Inputs.isOnePhoto(images)
            let session = try InferenceSession(model: vit, batchSize: batch, threads: pipelined ? threads.count - 1 : threads.count)
            let rowShape = tokens ? [c.outputTokens, c.outputDim] : [c.featureDim]
            var count = 0, failures = 0
            func each(_ emit: (String, UnsafeBufferPointer<Float>) throws -> Void) throws {
                func forward(_ names: [String]) throws {
                    session.forward(count: names.count)
                    for (j, name) in names.enumerated() {
                        try session.checkFinite(image: j, name: name)
                        try emit(name, tokens ? session.tokens(j) : session.features(j))
                    }
                    count += names.count
                }
                var names: [String] = []
                var ended = false
                if pipelined, let failed = try Inputs.pipelined(source, session: session, batch: batch, forward) {
                    failures += failed
                    ended = true
                }
                while !ended {
                    names.removeAll(keepingCapacity: true)
                    // An image that cannot be read or preprocessed is one line on stderr (and
                    // status 1 at the end); the others go on, in order.
                    while names.count < batch {
                        do {
                            guard let (name, image) = try source.next() else { ended = true; break }
                            try session.setInput(image, at: names.count, name: name)
                            names.append(name)
                        } catch {
                            printError("vit-edge: error: \(errorLine(error))")
                            failures += 1
                        }
                    }
                    if names.isEmpty { break }
                    try forward(names)
                }
                Inputs.noteSkipped(source.skipped)
                guard count > 0 else { throw VitError.invalidArgument("no images found in \(images.joined(separator: " "))") }
            }
            if let output {
                try FileIO.writeAtomically(output, header: { NPY.float32Header(shape: [count] + rowShape, fixedFirst: true) }) { write in
                    try NPY.float32Header(shape: [0] + rowShape, fixedFirst: true).withUnsafeBytes { try write($0) }
                    var bytes: [UInt8] = []
                    try each { _, values in
                        bytes.removeAll(keepingCapacity: true)
                        NPY.append(values, to: &bytes)
                        try bytes.withUnsafeBytes { try write($0) }
                    }
                }
                say("wrote        \(output): float32 \([count] + rowShape)\(failures > 0 ? " (\(failures) image\(failures == 1 ? "" : "s") left out: see above)" : "")")
            } else {
                try each { name, values in
                    let line: JSON
                    if tokens {
                        let rows = (0..<c.outputTokens).map { t in JSON.array(values[(t * c.outputDim)..<((t + 1) * c.outputDim)].map { .number(Double($0)) }) }
                        line = .object([("image", .string(name)), ("prefix_tokens", .number(Double(c.prefixTokens))),
                                        ("patch_grid", .array([.number(Double(c.gridHeight)), .number(Double(c.gridWidth))])),
                                        ("tokens", .array(rows))])
                    } else {
                        line = .object([("image", .string(name)), ("embedding", .array(values.map { .number(Double($0)) }))])
                    }
                    writeStdout(line.serialized() + "\n")
                }
            }
            if failures > 0 { Glibc.exit(1) }
        }
    }
}
