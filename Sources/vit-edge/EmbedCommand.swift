import ArgumentParser
import VitEdge

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write each image's pooled representation (the vector the head reads), for retrieval and clustering.",
        discussion: "For a model without a head this is the model's output. Without -o, prints JSON lines.")

    @Argument(help: "The .vitq model.")
    var model: String

    @Argument(help: "Images, folders or IDX files.")
    var images: [String]

    @Option(name: .shortAndLong, help: "Write a .npy file of float32 [images, features] instead of JSON.")
    var output: String?

    @Option(help: "Images per forward pass.")
    var batch = 16

    @OptionGroup var options: ModelOptions

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard batch >= 1 && batch <= 4096 else { throw ValidationError("--batch must be 1...4096") }
    }

    func run() {
        guarded {
            let vit = try options.load(model)
            let c = vit.config
            let inputs = try Inputs.gather(images)
            guard !inputs.isEmpty else { throw VitError.invalidArgument("no images found in \(images.joined(separator: " "))") }
            let session = try InferenceSession(model: vit, batchSize: min(batch, inputs.count), threads: options.threads)
            let plane = c.channels * c.imageHeight * c.imageWidth
            var features: [Float] = []
            features.reserveCapacity(inputs.count * c.featureDim)
            var i = 0
            while i < inputs.count {
                let b = min(session.batchSize, inputs.count - i)
                for j in 0..<b { Preprocess.apply(inputs[i + j].image, config: c, into: session.input.baseAddress! + j * plane) }
                session.forward(count: b)
                for j in 0..<b {
                    let f = session.features(j)
                    if output == nil {
                        writeStdout(JSON.object([("image", .string(inputs[i + j].name)),
                                                 ("embedding", .array(f.map { .number(Double($0)) }))]).serialized() + "\n")
                    } else {
                        features.append(contentsOf: f)
                    }
                }
                i += b
            }
            if let output {
                try FileIO.write(output, NPY.float32(features, shape: [inputs.count, c.featureDim]))
                print("wrote        \(output): float32 [\(inputs.count), \(c.featureDim)]")
            }
        }
    }
}
