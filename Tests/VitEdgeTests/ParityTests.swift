import XCTest
@testable import VitEdge

/// One small model per family and layout, made with that family's own library
/// (tools/make_fixtures.py), converted here and compared with PyTorch's outputs on
/// real MNIST digits.
final class ParityTests: XCTestCase {
    static let cases = ["timm-deit-distilled", "timm-avgpool-layerscale", "hf-vit-new-names", "hf-vit-classic-names",
                        "hf-vitmodel-pooler", "vit-pytorch-cls", "vit-pytorch-mean", "vit-pytorch-legacy-mean",
                        "hf-dinov2-classifier"]

    /// The convert flags stored in args.txt, parsed the way the CLI does.
    static func options(_ args: [String]) throws -> ConvertOptions {
        var o = ConvertOptions()
        var i = 0
        while i + 1 < args.count {
            let v = args[i + 1]
            switch args[i] {
            case "--heads": o.heads = Int(v)
            case "--gelu": o.gelu = ViTConfig.GELU(rawValue: v)
            case "--pool": o.pool = ViTConfig.Pooling(rawValue: v)
            case "--mean": o.mean = v.split(separator: ",").map { Float($0)! }
            case "--std": o.std = v.split(separator: ",").map { Float($0)! }
            case "--image-size": (o.imageHeight, o.imageWidth) = (Int(v), Int(v))
            case "--resampler": o.resampler = Preprocessing.Resampler(rawValue: v)
            default: throw VitError.invalidArgument("args.txt: unknown flag \(args[i])")
            }
            i += 2
        }
        return o
    }

    static func convert(_ name: String) throws -> Conversion {
        let dir = fixture("parity/\(name)/")
        let st = try Safetensors(path: dir + "model.safetensors")
        let configPath = dir + "config.json"
        let config = (try? FileIO.read(configPath)).map { try? JSON.parse($0) } ?? nil
        let args = String(decoding: try FileIO.read(dir + "args.txt"), as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        return try Converter.convert(st, configJSON: config, options: options(args))
    }

    /// The sample digits through the model's own preprocessing, one per batch slot.
    static func preprocess(_ samples: [String], into session: InferenceSession) throws {
        let size = session.input.count / session.batchSize
        for (i, s) in samples.enumerated() {
            let image = try Image.load(path: repoFile("models/samples/" + s))
            try Preprocess.apply(image, config: session.model.config, into: session.input.baseAddress! + i * size)
        }
    }

    /// A zero-shot model on every kernel set this CPU runs, the four samples preprocessed and
    /// run: `body` gets the route, the session and its logits' relative max |diff| against
    /// `want` [4, classes], after the relative bound (1e-4) and the top-1 of each image are
    /// checked (and the preprocessed input against `input`, when given, before the run).
    static func zeroShotOnEveryRoute(_ file: VitqFile, samples: [String], want: [Float], input: [Float]? = nil,
                                     _ body: (Kernels.Choice, InferenceSession, Float) throws -> Void) throws {
        let classes = want.count / 4
        for choice in Kernels.Choice.allCases {
            guard let kernels = try? Kernels.select(choice) else { continue }
            let session = try InferenceSession(model: try VisionTransformer(file: file, kernels: kernels), batchSize: 4)
            try preprocess(samples, into: session)
            if let input { XCTAssertLessThanOrEqual(maxAbsDiff(UnsafeBufferPointer(session.input), input), 32 * Float.ulpOfOne) }
            session.forward()
            let logits = (0..<4).flatMap { Array(session.logits($0)) }
            let r = logits.withUnsafeBufferPointer { maxAbsDiff($0, want) } / maxAbs(want)
            XCTAssertLessThanOrEqual(r, 1e-4, "[\(choice)] logits_per_image")
            for i in 0..<4 {
                let row = Array(want[(i * classes)..<((i + 1) * classes)])
                XCTAssertEqual(session.logits(i).firstIndex(of: session.logits(i).max()!), row.firstIndex(of: row.max()!), "[\(choice)] top-1")
            }
            try body(choice, session, r)
        }
    }

    /// Tolerance for a whole network: ε times the sum of every reduction length on
    /// the path from pixels to logits, times the output's magnitude.
    static func networkTolerance(_ c: ViTConfig, magnitude: Float) -> Float {
        let k = c.patchDim + c.depth * (c.dim * 3 + c.innerDim + c.mlpDim + c.tokens) + c.featureDim
        return Float.ulpOfOne * Float(k) * max(magnitude, 1)
    }

    /// Runs the session once, keeping what the taps saw by the fixtures' stage names
    /// (`patch_embedding`, `block.N`, `logits`).
    static func forwardStages(_ session: InferenceSession) -> [String: [Float]] {
        var stages: [String: [Float]] = [:]
        session.forward { stage, values in
            switch stage {
            case .patchEmbedding: stages["patch_embedding"] = Array(values)
            case .block(let i): stages["block.\(i)"] = Array(values)
            case .logits: stages["logits"] = Array(values)
            default: break
            }
        }
        return stages
    }

    func testEveryFamilyMatchesPyTorch() throws {
        let samples = try FileIO.list(repoFile("models/samples")).filter { $0.hasSuffix(".pgm") }.prefix(4)
        XCTAssertEqual(samples.count, 4)
        for name in Self.cases {
            let conversion = try Self.convert(name)
            let expected = try loadTensors(fixture("parity/\(name)/expected.safetensors"))
            let bytes = conversion.vitqBytes()
            XCTAssertEqual(bytes, conversion.vitqBytes(), "\(name): conversion is not deterministic")
            let file = try VitqFile.parse(bytes, path: name)
            for choice in [Kernels.Choice.reference, .auto] {
                let model = try VisionTransformer(file: file, kernels: try Kernels.select(choice), source: name)
                let c = model.config
                let session = try InferenceSession(model: model, batchSize: 4)
                // The same input PyTorch saw, made from the same PGM files by our preprocessing.
                let input = expected["input"]!.values
                try Self.preprocess(Array(samples), into: session)
                let preprocessDiff = maxAbsDiff(UnsafeBufferPointer(session.input), input)
                XCTAssertLessThanOrEqual(preprocessDiff, 8 * Float.ulpOfOne * 4, "\(name): preprocessing differs from PyTorch")
                session.forward()
                let want = expected["logits"]!.values
                let width = want.count / 4
                var got: [Float] = []
                for i in 0..<4 { got += c.numClasses > 0 ? Array(session.logits(i)) : Array(session.features(i)) }
                XCTAssertEqual(got.count, want.count, name)
                let diff = got.withUnsafeBufferPointer { maxAbsDiff($0, want) }
                let tol = Self.networkTolerance(c, magnitude: maxAbs(want))
                print("parity \(name) [\(choice)] \(conversion.family.rawValue): \(width) outputs, max |diff| \(diff) (tolerance \(tol))")
                XCTAssertLessThanOrEqual(diff, tol, "\(name) [\(choice)]")
            }
        }
    }

    /// The other models of the family tree, stage by stage: timm's `MlpMixer` class
    /// (MLP-Mixer; ResMLP in timm's and in Facebook's names), the ResNet+ViT hybrid
    /// (a stem-only backbone and a two-stage ResNet), vit-pytorch's DeepViT (re-attention) and T2T-ViT, and timm's
    /// Swin (in timm's and Microsoft's names) and PVT v2 (and its linear variant): the tokens after the stem or
    /// patch embedding and after each block (and Swin's patch merging), then the logits, on every kernel route
    /// this CPU has, within a relative max |diff| of 1e-4 (of the stage's largest magnitude).
    func testOtherFamiliesMatchPyTorchStageByStage() throws {
        let samples = try FileIO.list(repoFile("models/samples")).filter { $0.hasSuffix(".pgm") }.prefix(4)
        for (name, architecture) in [("timm-mixer", ViTConfig.Architecture.mixer), ("timm-resmlp", .resmlp), ("fb-resmlp", .resmlp),
                                     ("timm-hybrid-stem", .hybrid), ("timm-hybrid-resnet", .hybrid),
                                     ("vit-pytorch-deepvit", .deepvit), ("vit-pytorch-t2t", .t2t),
                                     ("timm-swin", .swin), ("swin-original-names", .swin), ("timm-pvt-v2", .pvt),
                                     ("timm-pvt-v2-li", .pvt)] {
            let conversion = try Self.convert(name)
            XCTAssertEqual(conversion.config.architecture, architecture, name)
            let expected = try loadTensors(fixture("parity/\(name)/expected.safetensors"))
            let file = try VitqFile.parse(conversion.vitqBytes(), path: name)
            XCTAssertEqual(file.config, conversion.config, "\(name): the header does not round-trip")
            for choice in Kernels.Choice.allCases {
                guard let kernels = try? Kernels.select(choice) else { continue }
                let model = try VisionTransformer(file: file, kernels: kernels, source: name)
                let c = model.config
                let session = try InferenceSession(model: model, batchSize: 4)
                let input = expected["input"]!.values
                try Self.preprocess(Array(samples), into: session)
                XCTAssertLessThanOrEqual(maxAbsDiff(UnsafeBufferPointer(session.input), input), 32 * Float.ulpOfOne,
                                         "\(name): preprocessing differs from PyTorch")
                let stages = Self.forwardStages(session)
                let names = ["patch_embedding"] + c.encoderLayers.indices.map { "block.\($0)" } + ["logits"]
                for stage in names where expected[stage] != nil || stage == "patch_embedding" {
                    guard let want = expected[stage]?.values else { continue }
                    guard let got = stages[stage] else { XCTFail("\(name): no \(stage) tap"); continue }
                    XCTAssertEqual(got.count, want.count, "\(name) \(stage)")
                    let relative = got.withUnsafeBufferPointer { maxAbsDiff($0, want) } / max(maxAbs(want), 1e-6)
                    XCTAssertLessThanOrEqual(relative, 1e-4, "\(name) [\(choice)] \(stage)")
                    if stage == "logits" { print("parity \(name) [\(choice)] \(c.architecture.displayName): relative max |diff| \(relative)") }
                }
            }
        }
    }

    /// DINOv2 as Hugging Face (`Dinov2WithRegistersModel`, `Dinov2Model`) and timm
    /// (`vit_small_patch14_reg4_dinov2`, from its config.json) build it, and as the original
    /// hub checkpoint names it (`register_tokens`, `mask_token`), small: the
    /// embedding each library returns (pooler_output, timm's pooled features) on the digits,
    /// stage by stage for timm, and again at another size (36x36; 40x40 for patch 8), where each library resamples the
    /// position embedding its own way (antialiased for timm and Dinov2WithRegisters, plain
    /// bicubic for Dinov2Model, scale factor (n + 0.1)/√N for the original); on every kernel
    /// route this CPU has, within 1e-4 relative.
    func testDINOv2MatchesItsLibraries() throws {
        for (name, registers, resampling) in [("hf-dinov2-registers", 4, PositionResampling.timm), ("hf-dinov2", 0, .huggingface),
                                              ("timm-dinov2-reg4", 4, .timm), ("dinov2-hub-reg4", 4, .dino)] {
            try encoderParity(name) { c in
                XCTAssertEqual(c.registerTokens, registers, name)
                XCTAssertFalse(c.layerScale, "\(name): layer scale is folded into attn.proj and mlp.fc2")
                XCTAssertEqual(c.positionResampling, resampling, name)
            }
        }
    }

    /// CLIP image towers as Hugging Face (`CLIPVisionModelWithProjection`: image_embeds),
    /// OpenAI / open_clip (the `visual.` tower: its projected output) and timm
    /// (`vit_base_patch16_clip_quickgelu_224` from its config.json: pooled features, stage
    /// by stage) build them, small: pre-norm, quick GELU, no patch bias, the projection;
    /// again at 36x36 as each library resamples positions; int8 cosine.
    func testCLIPMatchesItsLibraries() throws {
        for (name, projection, resampling) in [("hf-clip-projection", 24, PositionResampling.huggingface), ("openai-clip-visual", 24, .timm),
                                               ("timm-clip-quickgelu", 0, .timm)] {
            try encoderParity(name) { c in
                XCTAssertTrue(c.preNorm, name)
                XCTAssertEqual(c.gelu, .quick, name)
                XCTAssertEqual(c.eps, 1e-5, name)
                XCTAssertEqual(c.projectionDim, projection, name)
                XCTAssertEqual(c.positionResampling, resampling, name)
            }
        }
    }

    /// SigLIP image towers as Hugging Face (`SiglipVisionModel`, under the hub's
    /// `vision_model.` names: pooler_output) and timm (`vit_base_patch16_siglip_224` from its
    /// config.json: pre-logits) build them, small: no class token, tanh GELU (Hugging Face)
    /// or exact (timm), the MAP head with its probe folded into the keys; stage by stage,
    /// again at 36x36, int8 cosine.
    func testSigLIPMatchesItsLibraries() throws {
        for (name, gelu) in [("hf-siglip", ViTConfig.GELU.tanh), ("timm-siglip", .erf)] {
            XCTAssertNotNil(try loadTensors(fixture("parity/\(name)/expected.safetensors"))["tokens"], name)
            try encoderParity(name) { c in
                XCTAssertEqual(c.pool, .attentionPool, name)
                XCTAssertFalse(c.classToken, name)
                XCTAssertEqual(c.gelu, gelu, name)
                XCTAssertEqual(c.eps, 1e-6, name)
            }
        }
        // The head's value, output projection and MLP are int8 too (dynamic above; static
        // here, its inputs calibrated on the digits), each in the per-layer report.
        let file = try VitqFile.parse(try Self.convert("hf-siglip").vitqBytes(), path: "siglip")
        let samples = try FileIO.list(repoFile("models/samples")).filter { $0.hasSuffix(".pgm") }
        let images = try samples.map { try Image.load(path: repoFile("models/samples/" + $0)) }
        var o = QuantizeOptions()
        o.activations = .static
        let result = try Quantizer.quantize(file, source: "siglip", calibration: images, options: o)
        let q = try VitqFile.parse(result.bytes, path: "siglip-int8")
        for layer in AttentionPoolWeights.quantizableLayers {
            XCTAssertEqual(q.info(layer + ".weight")?.dtype, .i8, layer)
            let r = result.layers.first { $0.name == layer }
            XCTAssertNotNil(r?.inputScale, layer)
            XCTAssertGreaterThan(r?.outputSQNR ?? 0, 20, layer)
        }
        XCTAssertEqual(q.info("attn_pool.key_query.weight")?.dtype, .f32)
        // What is not supported is one line naming it: SigLIP 2 NaFlex (a Linear patch
        // embedding), a tower without its head.
        func checkpoint(_ tensors: [(String, [Int])]) throws -> Safetensors {
            var header = "{", offset = 0
            for (i, (name, shape)) in tensors.enumerated() {
                let bytes = shape.reduce(4, *)
                header += "\(i > 0 ? "," : "")\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + bytes)]}"
                offset += bytes
            }
            let h = Array((header + "}").utf8)
            var n = UInt64(h.count), out: [UInt8] = []
            for _ in 0..<8 { out.append(UInt8(n & 0xFF)); n >>= 8 }
            return try Safetensors(bytes: out + h + [UInt8](repeating: 0, count: offset), path: "siglip.safetensors")
        }
        let layers: [(String, [Int])] = [("encoder.layers.0.layer_norm1.weight", [48]), ("encoder.layers.0.mlp.fc1.weight", [96, 48])]
        let naflex = try checkpoint([("embeddings.patch_embedding.weight", [48, 48]), ("embeddings.position_embedding.weight", [256, 48])] + layers)
        XCTAssertThrowsError(try Converter.convert(naflex, configJSON: nil, options: ConvertOptions())) { XCTAssertTrue("\($0)".contains("NaFlex"), "\($0)") }
        let headless = try checkpoint([("embeddings.patch_embedding.weight", [48, 3, 4, 4]), ("embeddings.position_embedding.weight", [49, 48])] + layers)
        XCTAssertThrowsError(try Converter.convert(headless, configJSON: nil, options: ConvertOptions())) { XCTAssertTrue("\($0)".contains("vision_use_head"), "\($0)") }
        var embeddings: [[Float]] = []
        for f in [file, q] {
            let session = try InferenceSession(model: try VisionTransformer(file: f, kernels: try Kernels.select(.auto)), batchSize: 4)
            try Self.preprocess(Array(samples.prefix(4)), into: session)
            session.forward()
            embeddings.append((0..<4).flatMap { Array(session.features($0)) })
        }
        for i in 0..<4 {
            let a = embeddings[0][(i * 48)..<((i + 1) * 48)], b = embeddings[1][(i * 48)..<((i + 1) * 48)]
            var dot: Float = 0, na: Float = 0, nb: Float = 0
            for (x, y) in zip(a, b) { dot += x * y; na += x * x; nb += y * y }
            let cosine = dot / (na * nb).squareRoot()
            XCTAssertGreaterThanOrEqual(cosine, 0.99, "static int8, image \(i)")
        }
    }

    /// A CLIP zero-shot head: a whole Hugging Face CLIPModel converted (its text tower set
    /// aside) with ten labels' text embeddings as tools/clip_text_embeddings.py writes them;
    /// the logits equal the model's logits_per_image (same top-1), `embed` still writes the
    /// unnormalised image_embeds, and a file that does not fit is refused with one line.
    func testCLIPZeroShotHeadMatchesLogitsPerImage() throws {
        let dir = fixture("parity/hf-clip-zeroshot/")
        let samples = try FileIO.list(repoFile("models/samples")).filter { $0.hasSuffix(".pgm") }.prefix(4)
        let st = try Safetensors(path: dir + "model.safetensors")
        let config = try JSON.parse(try FileIO.read(dir + "config.json"))
        var o = ConvertOptions()
        o.zeroShot = (try ZeroShotHead.read(try Safetensors(path: dir + "text.safetensors")), "text.safetensors")
        let conversion = try Converter.convert(st, configJSON: config, options: o)
        let c = conversion.config
        XCTAssertEqual(c.numClasses, 10)
        XCTAssertEqual(c.labels.first, "zero")
        XCTAssertTrue(c.normalizeFeatures)
        XCTAssertEqual(c.projectionDim, 24)
        XCTAssertTrue(conversion.ignored.contains { $0.hasPrefix("text_model.") }, "the text tower is set aside")
        let file = try VitqFile.parse(conversion.vitqBytes(), path: "zeroshot")
        XCTAssertEqual(file.config, c)
        let expected = try loadTensors(dir + "expected.safetensors")
        let want = expected["logits"]!.values, embeds = expected["image_embeds"]!.values
        try Self.zeroShotOnEveryRoute(file, samples: Array(samples), want: want, input: expected["input"]!.values) { choice, session, r in
            let features = (0..<4).flatMap { Array(session.features($0)) }
            XCTAssertLessThanOrEqual(features.withUnsafeBufferPointer { maxAbsDiff($0, embeds) } / maxAbs(embeds), 1e-4, "[\(choice)] image_embeds")
            print("zero-shot [\(choice)]: logits relative max |diff| \(r)")
        }
        // What does not fit is one line, before anything is built.
        var wide = o
        wide.zeroShot!.head.width = 32
        wide.zeroShot!.head.embeddings = [Float](repeating: 0.1, count: 10 * 32)
        XCTAssertThrowsError(try Converter.convert(st, configJSON: config, options: wide)) { XCTAssertTrue("\($0)".contains("24 wide"), "\($0)") }
        XCTAssertThrowsError(try ZeroShotHead.read(st)) { XCTAssertTrue("\($0)".contains("text_embeds"), "\($0)") }
    }

    /// A SigLIP zero-shot head: a whole Hugging Face SiglipModel converted (text tower set
    /// aside) with ten labels' text embeddings and SigLIP's logit_bias as
    /// tools/clip_text_embeddings.py writes them: logits_per_image to 1e-4, the same top-1,
    /// and probabilities that are a sigmoid per label, as SigLIP was trained.
    func testSigLIPZeroShotHeadIsASigmoidPerLabel() throws {
        let dir = fixture("parity/hf-siglip-zeroshot/")
        let samples = try FileIO.list(repoFile("models/samples")).filter { $0.hasSuffix(".pgm") }.prefix(4)
        var o = ConvertOptions()
        o.zeroShot = (try ZeroShotHead.read(try Safetensors(path: dir + "text.safetensors")), "text.safetensors")
        XCTAssertEqual(o.zeroShot?.head.probabilities, .sigmoid)
        let conversion = try Converter.convert(try Safetensors(path: dir + "model.safetensors"),
                                               configJSON: try JSON.parse(try FileIO.read(dir + "config.json")), options: o)
        let c = conversion.config
        XCTAssertEqual(c.pool, .attentionPool)
        XCTAssertEqual(c.probabilities, .sigmoid)
        XCTAssertTrue(conversion.ignored.contains { $0.hasPrefix("text_model.") } && conversion.ignored.contains { $0.hasPrefix("logit_bias") })
        let file = try VitqFile.parse(conversion.vitqBytes(), path: "siglip-zeroshot")
        XCTAssertEqual(file.config, c)
        let expected = try loadTensors(dir + "expected.safetensors")
        let want = expected["logits"]!.values, p = expected["probabilities"]!.values
        try Self.zeroShotOnEveryRoute(file, samples: Array(samples), want: want) { choice, session, r in
            let probabilities = (0..<4).flatMap { Array(session.probabilities($0)) }
            XCTAssertLessThanOrEqual(probabilities.withUnsafeBufferPointer { maxAbsDiff($0, p) }, 1e-5, "[\(choice)] sigmoid")
            print("siglip zero-shot [\(choice)]: logits relative max |diff| \(r)")
        }
    }

    /// One image encoder against its library's outputs (see the two tests above): the
    /// converted config checked by `check`, the embedding on every kernel route, the
    /// stages the fixture holds, the embedding at the fixture's other size, int8 cosine.
    func encoderParity(_ name: String, check: (ViTConfig) -> Void) throws {
        let samples = try FileIO.list(repoFile("models/samples")).filter { $0.hasSuffix(".pgm") }.prefix(4)
        do {
            let conversion = try Self.convert(name)
            let c0 = conversion.config
            check(c0)
            XCTAssertEqual(c0.numClasses, 0, name)
            let expected = try loadTensors(fixture("parity/\(name)/expected.safetensors"))
            let file = try VitqFile.parse(conversion.vitqBytes(), path: name)
            XCTAssertEqual(file.config, c0, "\(name): the header does not round-trip")
            func relative(_ got: [Float], _ want: [Float]) -> Float {
                XCTAssertEqual(got.count, want.count, name)
                return got.withUnsafeBufferPointer { maxAbsDiff($0, want) } / max(maxAbs(want), 1e-6)
            }
            for choice in Kernels.Choice.allCases {
                guard let kernels = try? Kernels.select(choice) else { continue }
                let model = try VisionTransformer(file: file, kernels: kernels, source: name)
                let session = try InferenceSession(model: model, batchSize: 4)
                try Self.preprocess(Array(samples), into: session)
                XCTAssertLessThanOrEqual(maxAbsDiff(UnsafeBufferPointer(session.input), expected["input"]!.values), 32 * Float.ulpOfOne,
                                         "\(name): preprocessing differs from PyTorch")
                // Every stage the fixture holds (timm's) is compared; none is skipped unseen.
                let stages = Self.forwardStages(session)
                for (stage, want) in expected where stage == "patch_embedding" || stage.hasPrefix("block.") {
                    guard let got = stages[stage] else { XCTFail("\(name): no \(stage) tap"); continue }
                    XCTAssertLessThanOrEqual(relative(got, want.values), 1e-4, "\(name) [\(choice)] \(stage)")
                }
                let features = (0..<4).flatMap { Array(session.features($0)) }
                let r = relative(features, expected["logits"]!.values)
                XCTAssertLessThanOrEqual(r, 1e-4, "\(name) [\(choice)]")
                // Every token after the final norm (`embed --tokens`): last_hidden_state /
                // forward_features, where the fixture holds them.
                if let want = expected["tokens"] {
                    XCTAssertEqual(want.shape, [4, c0.tokens, c0.dim], name)
                    XCTAssertLessThanOrEqual(relative((0..<4).flatMap { Array(session.tokens($0)) }, want.values), 1e-4, "\(name) [\(choice)] tokens")
                }
                // At the other size: the library's own input there, straight into the session.
                let at = expected["input_at"]!
                let (h, w) = (at.shape[2], at.shape[3])
                let resized = try InferenceSession(model: try model.resized(imageHeight: h, imageWidth: w), batchSize: 4)
                XCTAssertEqual(at.values.count, resized.input.count, name)
                _ = resized.input.update(from: at.values)
                resized.forward()
                let rAt = relative((0..<4).flatMap { Array(resized.features($0)) }, expected["logits_at"]!.values)
                XCTAssertLessThanOrEqual(rAt, 1e-4, "\(name) [\(choice)] at \(h)x\(w)")
                print("parity \(name) [\(choice)]: relative max |diff| \(r) at \(c0.imageHeight)x\(c0.imageWidth), \(rAt) at \(h)x\(w)")
            }
            // int8 (dynamic, every Linear of the blocks): each embedding keeps its direction.
            let q = try VitqFile.parse(try Quantizer.quantize(file, source: name, calibration: nil, options: QuantizeOptions()).bytes, path: name)
            var embeddings: [[Float]] = []
            for f in [file, q] {
                let session = try InferenceSession(model: try VisionTransformer(file: f, kernels: try Kernels.select(.auto)), batchSize: 4)
                try Self.preprocess(Array(samples), into: session)
                session.forward()
                embeddings.append((0..<4).flatMap { Array(session.features($0)) })
            }
            let width = c0.featureDim
            for i in 0..<4 {
                let a = embeddings[0][(i * width)..<((i + 1) * width)], b = embeddings[1][(i * width)..<((i + 1) * width)]
                var dot: Float = 0, na: Float = 0, nb: Float = 0
                for (x, y) in zip(a, b) { dot += x * y; na += x * x; nb += y * y }
                let cosine = dot / (na.squareRoot() * nb.squareRoot())
                XCTAssertGreaterThanOrEqual(cosine, 0.99, "\(name) int8, image \(i)")
                if i == 0 { print("parity \(name) int8: cosine \(cosine) to fp32 (image 0)") }
            }
        }
    }

    /// An MLP model runs only at its training size, and has no attention to capture.
    func testMLPModelsRefuseWhatTheyCannotDo() throws {
        let file = try VitqFile.parse(try Self.convert("timm-mixer").vitqBytes(), path: "mixer")
        let model = try VisionTransformer(file: file, kernels: try Kernels.select(.auto))
        XCTAssertThrowsError(try model.resized(imageHeight: 56, imageWidth: 56)) { e in
            XCTAssertTrue("\(e)".contains("runs only at the size it was trained at"), "\(e)")
        }
        XCTAssertThrowsError(try InferenceSession(model: model, batchSize: 1, captureAttention: [0])) { e in
            XCTAssertTrue("\(e)".contains("no attention"), "\(e)")
        }
        // A token MLP whose width does not fit the image size named on the command line.
        let st = try Safetensors(path: fixture("parity/timm-mixer/model.safetensors"))
        var o = ConvertOptions()
        (o.imageHeight, o.imageWidth) = (56, 56)
        XCTAssertThrowsError(try Converter.convert(st, configJSON: nil, options: o)) { e in
            XCTAssertTrue("\(e)".contains("mlp_tokens.fc1") && "\(e)".contains("16 tokens"), "\(e)")
        }
        o = ConvertOptions()
        o.heads = 4
        XCTAssertThrowsError(try Converter.convert(st, configJSON: nil, options: o)) { e in
            XCTAssertTrue("\(e)".contains("no attention"), "\(e)")
        }
    }

    /// A half-precision checkpoint converts and matches the fp32 one within f16 rounding.
    func testHalfPrecisionCheckpointConverts() throws {
        let f32 = try Safetensors(path: repoFile("Fuzz/Corpus/safetensors/tiny-timm.safetensors"))
        let f16 = try Safetensors(path: repoFile("Fuzz/Corpus/safetensors/tiny-timm-f16.safetensors"))
        var o = ConvertOptions()
        o.heads = 2
        let a = try Converter.convert(f32, configJSON: nil, options: o), b = try Converter.convert(f16, configJSON: nil, options: o)
        XCTAssertEqual(a.config, b.config)
        for (x, y) in zip(a.tensors, b.tensors) {
            let fx = x.bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            let fy = y.bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            for (u, v) in zip(fx, fy) { XCTAssertEqual(Float(Float16(u)), v, x.name) }
        }
    }

    func testConversionErrorsNameTheTensor() throws {
        let dir = fixture("parity/timm-avgpool-layerscale/")
        let st = try Safetensors(path: dir + "model.safetensors")
        // No heads given and none in a config: the message says how to give them.
        XCTAssertThrowsError(try Converter.convert(st, configJSON: nil, options: ConvertOptions())) { e in
            XCTAssertTrue("\(e)".contains("--heads"), "\(e)")
        }
        // Wrong image size: the position embedding cannot fit.
        var o = try Self.options(["--heads", "2", "--image-size", "56"])
        o.pool = .meanPatches
        XCTAssertThrowsError(try Converter.convert(st, configJSON: nil, options: o)) { e in
            XCTAssertTrue("\(e)".contains("pos_embed"), "\(e)")
        }
        // Heads that do not divide the width.
        XCTAssertThrowsError(try Converter.convert(st, configJSON: nil, options: try Self.options(["--heads", "5"]))) { e in
            XCTAssertTrue("\(e)".contains("heads"), "\(e)")
        }
    }

    func testSafetensorsValidation() {
        func bad(_ b: [UInt8], _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try Safetensors(bytes: b, path: "x.safetensors"), line: line) { e in
                XCTAssertTrue("\(e)".contains(fragment), "'\(e)' lacks '\(fragment)'", line: line)
            }
        }
        func file(_ header: String, data: Int) -> [UInt8] {
            let h = Array(header.utf8)
            var n = UInt64(h.count)
            var out: [UInt8] = []
            for _ in 0..<8 { out.append(UInt8(n & 0xFF)); n >>= 8 }
            return out + h + [UInt8](repeating: 0, count: data)
        }
        bad([1, 2], "8-byte header")
        bad(file("{ ", data: 0), "JSON")
        bad(file("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", data: 8), "F32, F16, BF16")
        bad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", data: 8), "bytes")
        bad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}", data: 8), "data_offsets")
        // F16 and BF16 values widen exactly; F64 rounds to the nearest Float.
        let half: [UInt8] = [0x00, 0x3C, 0x00, 0xC0]  // 1.0, -2.0
        let f16 = try! Safetensors(bytes: file("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", data: 0) + half, path: "x")
        XCTAssertEqual(f16.floats(f16.entries[0]), [1, -2])
        let bf: [UInt8] = [0x80, 0x3F, 0x40, 0xC0]  // 1.0, -3.0
        let bf16 = try! Safetensors(bytes: file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", data: 0) + bf, path: "x")
        XCTAssertEqual(bf16.floats(bf16.entries[0]), [1, -3])
        // Zero-element tensors are legal.
        XCTAssertNoThrow(try Safetensors(bytes: file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[0,0]}}", data: 0), path: "x"))
    }
}
