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

    @Option(name: .shortAndLong, help: "Write a .npy file of float32 [images, features] instead of JSON.")
    var output: String?

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
            // Images are read one batch at a time; only the features are kept (for -o).
            let source = ImageSource(paths: images)
            source.exifOrientation = imageOptions.exifOrientation
            source.jpegScaling = imageOptions.jpegScaling(for: c)
            let session = try InferenceSession(model: vit, batchSize: batch, threads: threads.count)
            var features: [Float] = []
            var names: [String] = []
            var count = 0, failures = 0
            var ended = false
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
                session.forward(count: names.count)
                for (j, name) in names.enumerated() {
                    try session.checkFinite(image: j, name: name)
                    let f = session.features(j)
                    if output == nil {
                        writeStdout(JSON.object([("image", .string(name)),
                                                 ("embedding", .array(f.map { .number(Double($0)) }))]).serialized() + "\n")
                    } else {
                        features.append(contentsOf: f)
                    }
                }
                count += names.count
            }
            Inputs.noteSkipped(source.skipped)
            guard count > 0 else { throw VitError.invalidArgument("no images found in \(images.joined(separator: " "))") }
            if let output {
                try FileIO.write(output, NPY.float32(features, shape: [count, c.featureDim]))
                say("wrote        \(output): float32 [\(count), \(c.featureDim)]\(failures > 0 ? " (\(failures) image\(failures == 1 ? "" : "s") left out: see above)" : "")")
            }
            if failures > 0 { Glibc.exit(1) }
        }
    }
}
