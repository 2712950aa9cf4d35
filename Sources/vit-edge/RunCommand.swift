import ArgumentParser
import VitEdge
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Classify PGM/PPM images with a .vitq model.")

    @Argument(help: "The .vitq model.")
    var model: String

    @Argument(help: "PGM (P2/P5) or PPM (P3/P6) images.")
    var images: [String]

    @Option(name: .customLong("top-k"), help: "How many classes to show per image.")
    var topK = 3

    @Flag(help: "One JSON object per image and line.")
    var json = false

    @OptionGroup var options: ModelOptions

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
    }

    func run() {
        guarded {
            let vit = try options.load(model)
            let c = vit.config
            guard c.numClasses > 0 else {
                throw VitError.invalidArgument("\(model) has no classification head; it outputs features only")
            }
            let session = try InferenceSession(model: vit, batchSize: 1)
            var failures = 0
            for path in images {
                let image: Image
                do { image = try Image.load(path: path) } catch {
                    printError("vit-edge: error: \(error)")
                    failures += 1
                    continue
                }
                Preprocess.apply(image, config: c, into: session.input.baseAddress!)
                session.forward()
                let top = VitEdge.topK(session.probabilities(0), min(topK, c.numClasses))
                if json {
                    let obj = JSON.object([
                        ("image", .string(path)),
                        ("top", .array(top.map { t in
                            .object([("index", .number(Double(t.index))), ("label", .string(label(c, t.index))),
                                     ("probability", .number(Double(t.probability)))])
                        })),
                        ("logits", .array(session.logits(0).map { .number(Double($0)) })),
                    ])
                    print(obj.serialized())
                } else {
                    print(path)
                    for (rank, t) in top.enumerated() {
                        print("  \(rank + 1). \(pad(label(c, t.index), 12)) \(pad(percent(Double(t.probability)), 8, left: true))")
                    }
                }
            }
            // Each unreadable image already has its line on stderr.
            if failures > 0 { Glibc.exit(1) }
        }
    }

    func label(_ c: ViTConfig, _ i: Int) -> String { i < c.labels.count ? c.labels[i] : String(i) }
}
