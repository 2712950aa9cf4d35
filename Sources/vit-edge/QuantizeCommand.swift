import ArgumentParser
import VitEdge

extension ViTConfig.ActivationQuantization: ExpressibleByArgument {}
extension CalibrationMethod: ExpressibleByArgument {}

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a fp32 .vitq model's attention and MLP layers to int8.",
        discussion: """
            Weights become int8 with one scale per output channel. Activations are quantized \
            per token at run time (dynamic, the default) or with per-tensor scales from \
            calibration images (static). Prints each layer's error as SQNR in dB.
            """)

    @Argument(help: "The fp32 .vitq model.")
    var model: String

    @Option(name: .shortAndLong, help: "The int8 .vitq file to write.")
    var output: String

    @Option(help: "Calibration images: an IDX file (plain or .lz4) or a folder of images (JPEG, PNG, PGM, PPM), taken through the model's preprocessing.")
    var calibration: String?

    @Option(help: "How many calibration images to use.")
    var samples = 256

    @Option(help: "Activation scales: dynamic (per token, at run time) or static (per tensor, from calibration).")
    var activations: ViTConfig.ActivationQuantization = .dynamic

    @Option(help: "How static scales are calibrated (percentile: the 99.99th of the absolute values).")
    var method: CalibrationMethod = .percentile

    @Option(name: .customLong("keep-fp32"), parsing: .upToNextOption,
            help: "Layers to keep in fp32: blocks.N.attn.qkv, a kind in every block (mlp.fc2), or a block (blocks.N).")
    var keepFP32: [String] = []

    @Option(name: .customLong("weight-bits"),
            help: "Weight precision: 8 (±127) or 7 (±63: 6 dB less weight SQNR, but x86 CPUs without AVX-512 VNNI multiply them faster: docs/QUANTIZATION.md).")
    var weightBits = 8

    @Flag(name: .customLong("int8-attention"),
          help: "Also run attention's QKᵀ and PV in int8 (opt-in: faster, less accurate; softmax stays fp32).")
    var int8Attention = false

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        guard weightBits == 8 || weightBits == 7 else { throw ValidationError("--weight-bits must be 8 or 7") }
    }

    func run() {
        guarded {
            let file = try VitqFile.load(path: model)
            // Folders (and class folders inside them) or an IDX file, as `run` reads them.
            let images = try calibration.map { try Inputs.gather([$0], limit: samples) }
            var o = QuantizeOptions()
            o.activations = activations
            o.method = method
            o.samples = samples
            o.keepFP32 = keepFP32
            o.weightBits = weightBits
            o.int8Attention = int8Attention
            let r = try Quantizer.quantize(file, source: model, calibration: images, options: o)
            try FileIO.write(output, r.bytes)
            say("activations  \(activations.rawValue)\(activations == .static ? " (\(method.rawValue))" : "")\(r.calibrationImages > 0 ? ", \(r.calibrationImages) calibration images" : "")\(int8Attention ? "; attention QKᵀ and PV in int8" : "")")
            let width = max(20, r.layers.map { $0.name.count }.max() ?? 0)
            say("\(pad("layer", width))  weight SQNR   output SQNR\(activations == .static ? "   input scale" : "")")
            for l in r.layers {
                let w = l.kept ? "fp32 (kept)" : "\(fixed(l.weightSQNR, 1)) dB"
                let out = l.outputSQNR.map { "\(fixed($0, 1)) dB" } ?? "-"
                let s = l.inputScale.map { "   \($0)" } ?? ""
                say("\(pad(l.name, width)) \(pad(w, 12, left: true))  \(pad(out, 12, left: true))\(s)")
            }
            let before = file.fileBytes, after = r.bytes.count
            say("size         \(bytes(before)) -> \(bytes(after)) (\(fixed(100 * Double(after) / Double(before), 1))%)")
            say("wrote        \(output)")
        }
    }
}
