import XCTest
import MallocCounter
@testable import VitEdge

/// The shipped MNIST model against PyTorch, stage by stage, on the real sample
/// digits; then over the whole 10k test split. Fixtures: tools/make_fixtures.py.
final class GoldenTests: XCTestCase {
    static let modelDir = repoFile("models/mnist-vit/")

    func shippedModel() throws -> VitqFile { try VitqFile.load(path: repoFile("models/mnist-vit.vitq")) }

    func testShippedModelIsTheConversionOfTheCheckpoint() throws {
        let st = try Safetensors(path: Self.modelDir + "model.safetensors")
        let config = try JSON.parse(try FileIO.read(Self.modelDir + "config.json"))
        let conversion = try Converter.convert(st, configJSON: config, options: ConvertOptions())
        XCTAssertEqual(conversion.family, .timm)
        XCTAssertEqual(conversion.vitqBytes(), try FileIO.read(repoFile("models/mnist-vit.vitq")),
                       "models/mnist-vit.vitq is stale: run `make models`")
    }

    func testEveryStageMatchesPyTorch() throws {
        let golden = try loadTensors(fixture("mnist-golden.safetensors"))
        let samples = try FileIO.list(repoFile("models/samples")).filter { $0.hasSuffix(".pgm") }
        XCTAssertEqual(samples.count, 12)
        let file = try shippedModel()
        for choice in Kernels.Choice.allCases {
            guard let kernels = try? Kernels.select(choice) else { continue }
            let model = try VisionTransformer(file: file, kernels: kernels)
            let c = model.config
            let session = try InferenceSession(model: model, batchSize: samples.count)
            let plane = c.channels * c.imageHeight * c.imageWidth
            for (i, s) in samples.enumerated() {
                try Preprocess.apply(try Image.load(path: repoFile("models/samples/" + s)), config: c, into: session.input.baseAddress! + i * plane)
            }
            XCTAssertLessThanOrEqual(maxAbsDiff(UnsafeBufferPointer(session.input), golden["input"]!.values), 1e-6)
            // Reduction length accumulated up to each stage, for its tolerance.
            let perBlock = c.dim * 3 + c.innerDim + c.mlpDim + c.tokens
            var report: [String] = []
            session.forward { stage, values in
                if case .linearInput = stage { return }
                let (key, k): (String, Int) = {
                    switch stage {
                    case .patchEmbedding: return ("patch_embedding", c.patchDim)
                    case let .block(i): return ("block.\(i)", c.patchDim + (i + 1) * perBlock)
                    case .finalNorm: return ("final_norm", c.patchDim + c.depth * perBlock + c.dim)
                    case .pooled: return ("pooled", c.patchDim + c.depth * perBlock + c.dim)
                    case .logits: return ("logits", c.patchDim + c.depth * perBlock + 2 * c.dim)
                    case .linearInput: return ("", 0)
                    }
                }()
                let want = golden[key]!.values
                let diff = maxAbsDiff(values, want)
                let tol = Float.ulpOfOne * Float(k) * max(maxAbs(want), 1)
                report.append("\(key) \(diff)")
                XCTAssertLessThanOrEqual(diff, tol, "[\(choice)] stage \(key): max |diff| \(diff) > \(tol)")
            }
            print("golden [\(choice)] max |diff| per stage: " + report.joined(separator: ", "))
            // The sample file names carry their digit: the model must get them all right.
            for (i, s) in samples.enumerated() {
                let digit = Int(String(s.split(separator: "digit")[1].prefix(1)))!
                XCTAssertEqual(Evaluator.argmax(session.logits(i)), digit, s)
            }
        }
    }

    func testTestSplitAccuracyAndPredictionsMatchPyTorch() throws {
        let golden = try loadTensors(fixture("mnist-golden.safetensors"))
        let torchLogits = golden["test_logits"]!.values
        let model = try VisionTransformer(file: try shippedModel(), kernels: try Kernels.select(.auto))
        let data = try mnistTestSet(classLabels: model.config.labels)
        let labels = try mnistTestLabels()
        XCTAssertEqual(data.count, 10000)
        // Under qemu (make test-aarch64) the first 500 images: the whole split there takes
        // ~10 minutes per CPU. Natively, all 10,000.
        let n = emulated ? 500 : 10000
        if emulated { print("emulated: GoldenTests on the first \(n) of 10,000 test images (all of them natively)") }
        let r = try Evaluator.run(model, on: data, limit: n, batchSize: 64)
        let (torchCorrect, differ, nearTies) = Self.compare(r.predictions, torchLogits, labels, n)
        print("MNIST test split: vit-edge \(r.accuracy), PyTorch \(Double(torchCorrect) / Double(n)), predictions differ on \(differ) images (\(nearTies) near-ties), \(r.imagesPerSecond) images/s")
        XCTAssertEqual(r.accuracy, Double(torchCorrect) / Double(n), accuracy: 3.0 / Double(n))
        if !emulated { XCTAssertGreaterThanOrEqual(r.accuracy, 0.985) }
        XCTAssertEqual(differ, nearTies, "a prediction differs from PyTorch without a near-tie")
        XCTAssertLessThanOrEqual(differ, 3)
    }

    /// PyTorch's accuracy over the first `n` images from its logits [n, 10], the images
    /// where its prediction differs from `predictions`, and how many of those are
    /// near-ties (top two PyTorch logits within 1e-3).
    static func compare(_ predictions: [Int], _ torchLogits: [Float], _ labels: [Int], _ n: Int)
        -> (torchCorrect: Int, differ: Int, nearTies: Int) {
        var torchCorrect = 0, differ = 0, nearTies = 0
        for i in 0..<n {
            let row = Array(torchLogits[(i * 10)..<(i * 10 + 10)])
            let sorted = row.sorted(by: >)
            let tp = row.firstIndex(of: sorted[0])!
            if tp == labels[i] { torchCorrect += 1 }
            if tp != predictions[i] {
                differ += 1
                if sorted[0] - sorted[1] < 1e-3 { nearTies += 1 }
            }
        }
        return (torchCorrect, differ, nearTies)
    }

    /// The shipped MLP-Mixer: the conversion of its checkpoint, and PyTorch's
    /// predictions on the test split (near-ties aside), as the ViT above.
    func testShippedMixerMatchesPyTorch() throws {
        let dir = repoFile("models/mnist-mixer/")
        let conversion = try Converter.convert(try Safetensors(path: dir + "model.safetensors"),
                                               configJSON: try JSON.parse(try FileIO.read(dir + "config.json")), options: ConvertOptions())
        XCTAssertEqual(conversion.config.architecture, .mixer)
        XCTAssertEqual(conversion.vitqBytes(), try FileIO.read(repoFile("models/mnist-mixer.vitq")), "models/mnist-mixer.vitq is stale: run `make models`")
        let golden = try loadTensors(fixture("mnist-mixer-golden.safetensors"))
        let torchLogits = golden["test_logits"]!.values
        let model = try VisionTransformer(path: repoFile("models/mnist-mixer.vitq"))
        let labels = try mnistTestLabels()
        let n = emulated ? 500 : 10000
        let r = try Evaluator.run(model, on: try mnistTestSet(classLabels: model.config.labels), limit: n, batchSize: 64)
        let (torchCorrect, differ, nearTies) = Self.compare(r.predictions, torchLogits, labels, n)
        print("MNIST MLP-Mixer, \(n) test images: vit-edge \(r.accuracy), PyTorch \(Double(torchCorrect) / Double(n)), differ on \(differ) (\(nearTies) near-ties)")
        XCTAssertEqual(differ, nearTies, "a prediction differs from PyTorch without a near-tie")
        if !emulated { XCTAssertGreaterThanOrEqual(r.accuracy, 0.985) }
    }

    /// Loading by path hands each packed Linear weight's pages back to the system; the
    /// results must not change, and the reference GEMM must have nothing to read.
    func testReleasingUnpackedWeightsKeepsResults() throws {
        let saved = AlignedBuffer.mappedThreshold
        AlignedBuffer.mappedThreshold = 0  // map even this small model's payload
        defer { AlignedBuffer.mappedThreshold = saved }
        for path in ["models/mnist-vit.vitq", "models/mnist-vit-int8.vitq"] {
            let released = try VisionTransformer(path: repoFile(path))
            let kept = try VisionTransformer(file: try VitqFile.load(path: repoFile(path)), kernels: try Kernels.select(.auto))
            XCTAssertGreaterThan(released.releasedBytes, 0, path)
            XCTAssertEqual(kept.releasedBytes, 0, path)
            if path.hasSuffix("mnist-vit.vitq") {
                let blocks = try XCTUnwrap(released.weights.blocks as? [TransformerBlock], "a ViT's blocks")
                XCTAssertNil(blocks[0].fc1.weight)
            }
            let a = try InferenceSession(model: released, batchSize: 4), b = try InferenceSession(model: kept, batchSize: 4)
            var rng = Random(seed: 31)
            let input = rng.floats(a.input.count)
            for i in 0..<input.count { a.input[i] = input[i]; b.input[i] = input[i] }
            a.forward()
            b.forward()
            for i in 0..<4 { XCTAssertEqual(Array(a.logits(i)), Array(b.logits(i)), "\(path) image \(i)") }
        }
    }

    func testForwardAllocatesNothing() throws {
        guard malloc_counter_read() >= 0 else { throw XCTSkip("malloc counting is not available in this build") }
        // Every architecture: the shipped ViT and Mixer (fp32 and int8), the hybrids, DeepViT, T2T-ViT, Swin and PVT v2.
        var files = [("mnist-vit", try shippedModel()), ("mnist-mixer", try VitqFile.load(path: repoFile("models/mnist-mixer.vitq"))),
                     ("mnist-mixer-int8", try VitqFile.load(path: repoFile("models/mnist-mixer-int8.vitq")))]
        for name in ["timm-resmlp", "timm-hybrid-resnet", "timm-swin"] {
            let file = try VitqFile.parse(try ParityTests.convert(name).vitqBytes(), path: name)
            var o = QuantizeOptions()
            o.activations = .static
            let q = try Quantizer.quantize(file, source: name, calibration: [try Image.load(path: repoFile("models/samples/test-00000-digit7.pgm"))], options: o)
            files += [(name, file), (name + "-int8-static", try VitqFile.parse(q.bytes, path: name))]
        }
        // The families with their own operations: DeepViT's re-attention, T2T's soft splits.
        for name in ["vit-pytorch-deepvit", "vit-pytorch-t2t", "timm-pvt-v2", "timm-pvt-v2-li"] {
            files.append((name, try VitqFile.parse(try ParityTests.convert(name).vitqBytes(), path: name)))
        }
        for (name, file) in files {
        for choice in [Kernels.Choice.auto, .reference] {
            let model = try VisionTransformer(file: file, kernels: try Kernels.select(choice))
            let session = try InferenceSession(model: model, batchSize: 2)
            for i in 0..<session.input.count { session.input[i] = Float(i % 7) * 0.1 }
            session.forward()  // warm up
            malloc_counter_reset()
            for _ in 0..<10 { session.forward() }
            let count = malloc_counter_read()
            XCTAssertEqual(count, 0, "\(name) [\(choice)] forward allocated \(count) times in 10 calls")
            // The counter is live: an allocation after the window is seen.
            let probe = [Float](repeating: 1, count: 1000 + count)
            XCTAssertGreaterThan(malloc_counter_read(), count + (probe.isEmpty ? 1 : 0))
        }
        }
    }
}
