import ArgumentParser
import VitEdge

struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Draw where the model looks: a heat map of the class token's attention over the image.",
        discussion: """
            By default the last block's class-token attention, averaged over heads. --rollout \
            multiplies the attention of every block (Abnar & Zuidema 2020); --heads writes one \
            more image per head (NAME.headN.png). Models without a class token use the mean \
            of every token's attention. Output: .png, or .ppm / .pgm-like binary PPM.
            """)

    @Argument(help: "The .vitq model.")
    var model: String

    @Argument(help: "A JPEG, PNG, PGM or PPM image.")
    var image: String

    @Option(name: .shortAndLong, help: "The image to write (.png or .ppm).")
    var output: String

    @Flag(help: "Attention rollout across all blocks instead of the last block alone.")
    var rollout = false

    @Flag(help: "Also write each head's map (last-block mode).")
    var heads = false

    @Option(help: "Block to draw (default: the last).")
    var block: Int?

    @Option(help: "Integer upscaling of the output (default: to at least 224 pixels).")
    var scale: Int?

    @OptionGroup var options: ModelOptions

    @OptionGroup var imageOptions: ImageOptions

    func validate() throws {
        guard output.hasSuffix(".png") || output.hasSuffix(".ppm") else { throw ValidationError("-o must end in .png or .ppm") }
        if let scale, scale < 1 || scale > 64 { throw ValidationError("--scale must be 1...64") }
    }

    func run() {
        guarded {
            let vit = try options.load(model)
            let c = vit.config
            let b = block ?? c.depth - 1
            let input = try Image.load(path: image, limits: .current, exifOrientation: imageOptions.exifOrientation,
                                       jpegScaling: imageOptions.jpegScaling(for: c))
            let session = try InferenceSession(model: vit, batchSize: 1,
                                               captureAttention: rollout ? Array(0..<c.depth) : [b])
            try session.setInput(input, at: 0, name: image)
            session.forward()
            var maps: [(String, [Float])] = []
            if rollout {
                maps.append((output, AttentionMaps.rollout(session, image: 0)!))
            } else {
                let a = AttentionMaps.classToken(session, block: b, image: 0)!
                maps.append((output, a.mean))
                if heads {
                    let ext = output.hasSuffix(".png") ? ".png" : ".ppm"
                    let stem = String(output.dropLast(4))
                    for (h, m) in a.heads.enumerated() { maps.append(("\(stem).head\(h)\(ext)", m)) }
                }
            }
            // Drawn over what the model saw: the image after its preprocessing (resize and
            // crop), so the map lines up with the patches whatever the photo's shape.
            let seen = modelView(session, c)
            let s = scale ?? max(1, (224 + max(seen.width, seen.height) - 1) / max(seen.width, seen.height))
            for (path, grid) in maps {
                let heat = AttentionMaps.normalized(AttentionMaps.upsample(grid, gridWidth: c.gridWidth, gridHeight: c.gridHeight,
                                                                           width: seen.width * s, height: seen.height * s))
                let (rgb, w, h) = ImageWriter.overlay(seen, heat: heat, scale: s)
                try FileIO.write(path, path.hasSuffix(".png") ? ImageWriter.png(rgb: rgb, width: w, height: h)
                                                              : ImageWriter.ppm(rgb: rgb, width: w, height: h))
                say("wrote        \(path) (\(w)x\(h))")
            }
            if c.numClasses > 0 {
                let top = VitEdge.topK(session.probabilities(0), 1)[0]
                say("prediction   \(top.index < c.labels.count ? c.labels[top.index] : String(top.index)) (\(percent(Double(top.probability))))")
            }
        }
    }

    /// The model input as an image in [0, 1] (normalization undone).
    func modelView(_ session: InferenceSession, _ c: ViTConfig) -> Image {
        let plane = c.imageHeight * c.imageWidth
        var samples = [Float](repeating: 0, count: plane * c.channels)
        for ch in 0..<c.channels { for i in 0..<plane {
            samples[i * c.channels + ch] = min(1, max(0, session.input[ch * plane + i] * c.std[ch] + c.mean[ch]))
        } }
        return Image(width: c.imageWidth, height: c.imageHeight, channels: c.channels, samples: samples)
    }
}
