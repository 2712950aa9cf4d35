import ArgumentParser
import VitEdge

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a model's configuration, tensors, memory plan and the kernels selected on this CPU.")

    @Argument(help: "The .vitq model.")
    var model: String

    @Option(help: "Batch size to plan the arena for.")
    var batch = 1

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "Print every buffer of the arena plan.")
    var plan = false

    @OptionGroup var options: ModelOptions

    func run() {
        guarded {
            let vit = try options.load(model)
            let c = vit.config
            let session = try InferenceSession(model: vit, batchSize: batch)
            var byDType: [String: (count: Int, bytes: Int)] = [:]
            for t in vit.file.tensors { byDType[t.dtype.rawValue, default: (0, 0)].count += 1; byDType[t.dtype.rawValue]!.bytes += t.byteCount }
            if json {
                // Built in parts, each typed: one literal of this size is more than the
                // Swift 6.2 type checker takes in reasonable time.
                func n(_ v: Int) -> JSON { .number(Double(v)) }
                let backbone: JSON = c.backbone.map { JSON.string($0.summary) } ?? .null
                let config: [(String, JSON)] = [
                    ("architecture", .string(c.architecture.rawValue)), ("backbone", backbone),
                    ("image", .array([c.channels, c.imageHeight, c.imageWidth].map(n))),
                    ("patch_size", n(c.patchSize)), ("dim", n(c.dim)), ("depth", n(c.depth)), ("heads", n(c.heads)),
                    ("head_dim", n(c.headDim)), ("mlp_dim", n(c.mlpDim)), ("token_mlp_dim", n(c.tokenMlpDim)),
                    ("tokens", n(c.tokens)), ("pool", .string(c.pool.rawValue)), ("num_classes", n(c.numClasses)),
                ]
                let tensors: [(String, JSON)] = byDType.sorted { $0.key < $1.key }.map {
                    ($0.key, JSON.object([("count", n($0.value.count)), ("bytes", n($0.value.bytes))]))
                }
                let memory: [(String, JSON)] = [
                    ("file_bytes", n(vit.file.fileBytes)), ("weight_bytes", n(vit.weightBytes)),
                    ("packed_weight_bytes", n(vit.packedBytes)), ("released_weight_bytes", n(vit.releasedBytes)),
                    ("batch", n(batch)), ("arena_bytes", n(session.arenaBytes)), ("naive_activation_bytes", n(session.naiveBytes)),
                ]
                let head: [(String, JSON)] = [("model", .string(model)), ("config", .object(config)),
                                              ("parameters", n(c.parameterCount)), ("tensors", .object(tensors))]
                let int8: [(String, JSON)] = vit.quantizationSummary.map { [("int8", .object([("scheme", .string($0.description)), ("kernel", .string($0.kernel))]))] } ?? []
                let tail: [(String, JSON)] = int8 + [("kernels", .string(vit.kernels.description)),
                                              ("cpu_features", .array(Kernels.cpuFeatures.map { JSON.string($0) }))]
                let obj = JSON.object(head + memory + tail)
                say(obj.serialized())
                return
            }
            say("model        \(model)")
            say("architecture \(c.architecture.displayName)")
            if let bb = c.backbone {
                say("backbone     ResNet: \(bb.summary), GroupNorm \(bb.groups) groups eps \(bb.eps); \(c.imageHeight)x\(c.imageWidth) → \(c.featureHeight)x\(c.featureWidth)x\(c.featureChannels) (stride \(bb.stride))")
                for v in bb.convolutions(inChannels: c.channels, height: c.imageHeight, width: c.imageWidth) where plan {
                    say("  \(v.name.replacingPrefix("patch_embed.backbone.", with: "")): \(v.kernel)x\(v.kernel)/\(v.stride) \(v.inChannels)→\(v.outChannels) at \(v.inHeight)x\(v.inWidth) → \(v.outHeight)x\(v.outWidth)")
                }
            }
            say("input        \(c.channels)x\(c.imageHeight)x\(c.imageWidth), \(c.t2tLayers.isEmpty ? "patch \(c.patchSize)" : "soft splits \(c.t2tDescription)") (\(c.embeddingDescription)), \(c.numPatches) patches + \(c.prefixTokens) prefix\(c.registerTokens > 0 ? " (\(c.registerTokens) registers)" : "") = \(c.tokens) tokens")
            say("encoder      \(c.preNorm ? "pre-norm, " : "")\(c.encoderDescription)")
            say("head         pool \(c.pool.rawValue)\(c.pool == .attentionPool ? " (attention pooling: \(c.heads) heads, LayerNorm, MLP \(c.mlpDim))" : "")\(c.finalNorm ? ", final norm" : "")\(c.poolNorm ? ", pooled norm" : "")\(c.preLogitsDim > 0 ? ", pre-logits \(c.preLogitsDim)" : "")\(c.projectionDim > 0 ? ", projection \(c.projectionDim)" : ""), \(c.numClasses > 0 ? "\(c.numClasses) classes" : "no head (features)")\(c.distillationToken ? ", distillation head" : "")")
            say("preprocess   \(c.preprocessing.summary); mean \(c.mean), std \(c.std)")
            switch c.architecture {
            case .mixer, .resmlp: say("positions    none: the token mixers fix the input at \(c.imageHeight)x\(c.imageWidth)")
            case .swin: say("positions    relative, inside each window (a bias per head); other sizes where every stage keeps its windows")
            case .pvt: say("positions    none: the overlapping convolutions and the depthwise one give them; any size whose grids fit the reductions")
            case .vit, .hybrid, .deepvit, .t2t: say("positions    resampled at other input sizes as \(c.positionResampling.rawValue)")
            }
            say("parameters   \(c.parameterCount)")
            for (k, v) in byDType.sorted(by: { $0.key < $1.key }) { say("tensors      \(v.count) \(k), \(bytes(v.bytes))") }
            say("file         \(bytes(vit.file.fileBytes)) (LZ4), weights in memory \(bytes(vit.weightBytes - vit.releasedBytes)) + packed \(bytes(vit.packedBytes))"
                  + (vit.releasedBytes > 0 ? " (\(bytes(vit.releasedBytes)) unpacked returned to the system)" : ""))
            say("arena        \(bytes(session.arenaBytes)) for batch \(batch) (naive sum of intermediates \(bytes(session.naiveBytes)), \(session.buffers.count) buffers)")
            if let q = vit.quantizationSummary { say("int8         \(q.description); GEMM \(q.kernel)") }
            say("kernels      \(vit.kernels)")
            say("cpu          \(Kernels.cpuFeatures.joined(separator: " "))")
            if plan { say(session.plan.render(session.buffers, maxRows: 1000)) }
        }
    }
}

extension ViTConfig {
    /// One line for `info` and `convert`: the blocks' shape.
    var encoderDescription: String {
        switch architecture {
        case .vit, .hybrid, .deepvit, .t2t:
            return "width \(dim), depth \(depth), heads \(heads)x\(headDim)\(architecture == .deepvit ? " (re-attention: maps mixed across heads)" : ""), MLP \(mlpDim), GELU \(gelu.rawValue), eps \(eps)\(layerScale ? ", layer scale" : "")\(qkvBias ? "" : ", no qkv bias")"
        case .mixer:
            return "width \(dim), depth \(depth), token MLP \(tokens)→\(tokenMlpDim)→\(tokens), channel MLP \(mlpDim), LayerNorm eps \(eps), GELU \(gelu.rawValue)"
        case .pvt:
            return "stages \(pvtDescription), spatial-reduction attention, Mix-FFN (depthwise 3x3), GELU \(gelu.rawValue), eps \(eps)"
        case .swin:
            return "stages (blocks/heads) \(swinDescription), shifted windows with relative position bias, patch merging, MLP ×\(mlpDim / dim), GELU \(gelu.rawValue), eps \(eps)"
        case .resmlp:
            return "width \(dim), depth \(depth), token Linear \(tokens)→\(tokens), channel MLP \(mlpDim), affine norms, layer scale, GELU \(gelu.rawValue)"
        }
    }

    var embeddingDescription: String {
        switch patchEmbedding {
        case .convolution: return "convolution\(patchKernel > 0 ? " \(patchKernel)x\(patchKernel)/\(patchSize) overlapping" : "")\(patchNormAfter ? ", norm after" : "")"
        case .linear: return "linear\(patchNormBefore ? ", norm before" : "")\(patchNormAfter ? ", norm after" : "")"
        }
    }
}
