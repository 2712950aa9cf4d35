import ArgumentParser
import VitEdge

extension ViTConfig.Pooling: ExpressibleByArgument {}
extension ViTConfig.GELU: ExpressibleByArgument {}
extension Resample.Filter: ExpressibleByArgument {}
extension Preprocessing.Resampler: ExpressibleByArgument {}
extension PositionResampling: ExpressibleByArgument {}

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a safetensors checkpoint (timm, Hugging Face, vit-pytorch) to a .vitq model.",
        discussion: "The family is detected from the tensor names; options override the config file.")

    @Argument(help: "The checkpoint (.safetensors; F32, F16 or BF16).")
    var checkpoint: String

    @Option(name: .shortAndLong, help: "The .vitq file to write.")
    var output: String

    @Option(help: "A Hugging Face or timm config.json (or vit-pytorch keyword arguments as JSON).")
    var config: String?

    @Option(help: "Attention heads (when no config names them).")
    var heads: Int?

    @Option(help: "Pooling: cls, mean (patch tokens), mean_all (every token, vit-pytorch), cls_mean (both side by side: DINOv2's classifier) or map (attention pooling: the checkpoint's attn_pool).")
    var pool: ViTConfig.Pooling?

    @Option(help: "LayerNorm epsilon (defaults: timm 1e-6, Hugging Face 1e-12, vit-pytorch 1e-5).")
    var eps: Float?

    @Option(help: "GELU form: exact, tanh or quick (CLIP's x·sigmoid(1.702x)).")
    var gelu: ViTConfig.GELU?

    @Option(help: "Per-channel mean, comma-separated (e.g. 0.485,0.456,0.406).")
    var mean: String?

    @Option(help: "Per-channel std, comma-separated.")
    var std: String?

    @Option(help: "A text file with one class label per line.")
    var labels: String?

    @Option(name: .customLong("image-size"), help: "Training image size, H or HxW.")
    var imageSize: String?

    @Option(help: "Input channels (vit-pytorch, when the patch size is ambiguous).")
    var channels: Int?

    @Option(name: .customLong("text-embeddings"),
            help: "A CLIP zero-shot head: the labels' text embeddings from tools/clip_text_embeddings.py (safetensors); run then prints those labels.")
    var textEmbeddings: String?

    @Option(help: "A Hugging Face preprocessor_config.json: its resize, crop, resample, mean and std.")
    var preprocessor: String?

    @Option(name: .customLong("crop-pct"),
            help: "timm's eval transform: resize the shorter side to size / crop-pct, centre crop (e.g. 0.875).")
    var cropPct: Double?

    @Option(help: "The preprocessing's resampling filter (Pillow's names).")
    var interpolation: Resample.Filter?

    @Option(help: "pillow: antialiased, in Pillow's 8-bit arithmetic (what timm and Hugging Face feed their models); pytorch: plain interpolate.")
    var resampler: Preprocessing.Resampler?

    @Option(name: .customLong("position-resampling"),
            help: "How position embeddings are resampled at another input size (default: the family's own).")
    var positionResampling: PositionResampling?

    func run() {
        guarded {
            var o = ConvertOptions()
            o.heads = heads
            o.pool = pool
            o.eps = eps
            o.gelu = gelu
            o.channels = channels
            o.cropPct = cropPct
            o.interpolation = interpolation
            o.resampler = resampler
            o.positionResampling = positionResampling
            if let preprocessor {
                do { o.preprocessorConfig = try JSON.parse(try FileIO.readText(preprocessor)) } catch let e as JSON.ParseError {
                    throw VitError.badCheckpoint(path: preprocessor, expected: "a JSON preprocessor config", found: e.description, hint: "")
                }
            }
            if let mean { o.mean = try parseFloats(mean, "--mean") }
            if let std { o.std = try parseFloats(std, "--std") }
            if let labels {
                let text = String(decoding: try FileIO.readText(labels), as: UTF8.self)
                o.labels = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
                while o.labels?.last == "" { o.labels?.removeLast() }
            }
            if let imageSize {
                let parts = imageSize.split(separator: "x").map { Int($0) }
                guard (parts.count == 1 || parts.count == 2), let h = parts[0], let w = parts.last!, h > 0, w > 0 else {
                    throw ValidationError("--image-size takes H or HxW, got '\(imageSize)'")
                }
                (o.imageHeight, o.imageWidth) = (h, w)
            }
            if let textEmbeddings { o.zeroShot = (try ZeroShotHead.read(try Safetensors(path: textEmbeddings)), textEmbeddings) }
            let st = try Safetensors(path: checkpoint)
            var configJSON: JSON? = nil
            if let config {
                do { configJSON = try JSON.parse(try FileIO.readText(config)) } catch let e as JSON.ParseError {
                    throw VitError.badCheckpoint(path: config, expected: "a JSON config", found: e.description, hint: "")
                }
            }
            let conversion = try Converter.convert(st, configJSON: configJSON, options: o)
            let bytes = conversion.vitqBytes()
            // Prove the file loads before reporting success.
            let file = try VitqFile.parse(bytes, path: output)
            _ = try VisionTransformer(file: file, kernels: .reference, source: output)
            try FileIO.write(output, bytes)
            let c = conversion.config
            say("family       \(conversion.family.rawValue)")
            say("model        \(c.architecture.displayName) \(c.channels)x\(c.imageHeight)x\(c.imageWidth), \(c.t2tLayers.isEmpty ? "patch \(c.patchSize)" : "soft splits \(c.t2tDescription)"), \(c.encoderDescription), pool \(c.pool.rawValue), \(c.numClasses) classes")
            say("tensors      \(conversion.tensors.count), \(c.parameterCount) parameters")
            for o in conversion.origins { say("\(pad(o.field, 12)) \(pad(o.value, 10)) from \(o.source)") }
            // One line per tensor, or per reason when many share one (a CLIP text tower).
            let counts = Dictionary(grouping: conversion.ignoredTensors, by: \.reason).mapValues(\.count)
            var said = Set<String>()
            for t in conversion.ignoredTensors {
                guard counts[t.reason]! > 3 else { say("ignored      \(t.name) (\(t.reason))"); continue }
                if said.insert(t.reason).inserted { say("ignored      \(counts[t.reason]!) tensors (\(t.reason))") }
            }
            say("wrote        \(output) (\(bytes.count) bytes)")
        }
    }

    func parseFloats(_ s: String, _ name: String) throws -> [Float] {
        let v = s.split(separator: ",").map { Float($0.trimmingCharacters(in: " ")) }
        guard !v.isEmpty, v.allSatisfy({ $0 != nil }) else { throw ValidationError("\(name) takes numbers separated by commas") }
        return v.map { $0! }
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> Substring {
        var s = self
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return s
    }
}
