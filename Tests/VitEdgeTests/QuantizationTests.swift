import XCTest
import _VitKernels
@testable import VitEdge

/// int8: every kernel route bit-exact against the reference over awkward shapes,
/// the quantizer deterministic, and accuracy against fp32 guarded on real data.
final class QuantizationTests: XCTestCase {
    func testInt8GemmRoutesAreBitExact() {
        var rng = Random(seed: 11)
        print("int8 routes on this CPU: \(Kernels.int8Routes.map(\.name))")
        for route in Kernels.int8Routes {
            let (name, gemm, offsetInput) = (route.name, route.gemm, route.offsetInput)
            var checked = 0
            for m in [1, 3, 4, 5, 8, 9, 50] { for n in [1, 15, 16, 17, 31, 32, 33, 48] { for k in [1, 3, 4, 5, 63, 64, 65, 300] {
                for (useBias, accumulate) in [(true, false), (false, true)] {
                    let kp = alignUp(k, route.kr)
                    var a = [Int8](repeating: 0, count: m * kp)
                    for r in 0..<m { for i in 0..<k { a[r * kp + i] = Int8(Int(rng.next() % 255) - 127) } }
                    // Routes for 7-bit weights get weights within ±63 (their contract).
                    let wmax = Int(route.config.pointee.max_weight)
                    let w = (0..<(n * k)).map { _ in Int8(Int(rng.next() % UInt64(2 * wmax + 1)) - wmax) }
                    let aScale = (0..<m).map { _ in abs(rng.float()) * 0.01 + 1e-4 }
                    let wScale = (0..<n).map { _ in abs(rng.float()) * 0.01 + 1e-4 }
                    let bias = rng.floats(n)
                    let y0 = rng.floats(m * (n + 2))
                    var expected = y0, got = y0
                    var acc = [Int32](repeating: 0, count: m * n)
                    var packed = [UInt8](repeating: 0xAB, count: route.packedBytes(n: n, k: k))
                    w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBytes { route.pack(wp.baseAddress!, n: n, k: k, into: $0.baseAddress!) } }
                    a.withUnsafeBufferPointer { ap in w.withUnsafeBufferPointer { wp in
                        aScale.withUnsafeBufferPointer { sa in wScale.withUnsafeBufferPointer { sw in bias.withUnsafeBufferPointer { bp in
                            acc.withUnsafeMutableBufferPointer { Reference.qs8Gemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: kp, w: wp.baseAddress!, c: $0.baseAddress!, ldc: n) }
                            acc.withUnsafeBufferPointer { cp in expected.withUnsafeMutableBufferPointer {
                                Reference.dequantize(m: m, n: n, c: cp.baseAddress!, ldc: n, aScale: sa.baseAddress!, wScale: sw.baseAddress!,
                                                     bias: useBias ? bp.baseAddress! : nil, y: $0.baseAddress!, ldy: n + 2, accumulate: accumulate)
                            } }
                            let input = offsetInput ? a.map { Int8(bitPattern: UInt8(bitPattern: $0) ^ 0x80) } : a
                            got.withUnsafeMutableBufferPointer { yp in packed.withUnsafeBytes { pp in input.withUnsafeBufferPointer { ip in
                                gemm(m, n, k, ip.baseAddress!, kp, pp.baseAddress!, sa.baseAddress!, sw.baseAddress!,
                                     useBias ? bp.baseAddress! : nil, yp.baseAddress!, n + 2, accumulate ? 1 : 0)
                            } } }
                        } } }
                    } }
                    if got != expected {
                        let i = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }!.offset
                        XCTFail("\(name) m=\(m) n=\(n) k=\(k) bias=\(useBias) acc=\(accumulate): [\(i)] \(got[i]) != \(expected[i])")
                        return
                    }
                    checked += 1
                }
            } } }
            XCTAssertEqual(checked, 7 * 8 * 8 * 2, name)
        }
    }

    func testActivationQuantizationIsBitExact() throws {
        var rng = Random(seed: 12)
        var routes: [(String, vk_qs8_quantize_fn, vk_qs8_quantize_static_fn)] = [("xsimd", vk_qs8_quantize_rows__xsimd, vk_qs8_quantize_rows_static__xsimd)]
        if Kernels.cpuFeatures.contains("avx2") {
            routes.append(("avx2", vk_qs8_quantize_rows__avx2, vk_qs8_quantize_rows_static__avx2))
            routes.append(("avx2 u8", vk_qs8_quantize_rows_u8__avx2, vk_qs8_quantize_rows_static_u8__avx2))
        }
        if Kernels.cpuFeatures.contains("avx512f") {
            routes.append(("avx512f", vk_qs8_quantize_rows__avx512f, vk_qs8_quantize_rows_static__avx512f))
            routes.append(("avx512f u8", vk_qs8_quantize_rows_u8__avx512f, vk_qs8_quantize_rows_static_u8__avx512f))
        }
        for (name, dynamic, fixed) in routes {
            for k in [1, 3, 4, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 128, 197, 255, 768] {
                let rows = 4
                var x = rng.floats(rows * k, scale: 3)
                for i in 0..<k { x[i] = 0 }  // an all-zero row
                if k >= 4 { x[k + 1] = 127 * 0.5 / 127 * 3; x[k] = 3 }  // a tie after scaling
                if k >= 2 { x[3 * k - 1] = 1e30; x[3 * k - 2] = -1e30 }  // far beyond a static scale's range
                let kp = Kernels.qs8PaddedK(k)
                for isStatic in [false, true] {
                    var q1 = [Int8](repeating: 99, count: rows * kp), q2 = q1
                    var s1 = [Float](repeating: 0, count: rows), s2 = s1
                    x.withUnsafeBufferPointer { xp in
                        q1.withUnsafeMutableBufferPointer { qp in s1.withUnsafeMutableBufferPointer { sp in
                            if isStatic { Reference.quantizeRowsStatic(rows: rows, k: k, x: xp.baseAddress!, ldx: k, s: 0.013, q: qp.baseAddress!, ldq: kp, scale: sp.baseAddress!) }
                            else { Reference.quantizeRows(rows: rows, k: k, x: xp.baseAddress!, ldx: k, q: qp.baseAddress!, ldq: kp, scale: sp.baseAddress!) }
                        } }
                        q2.withUnsafeMutableBufferPointer { qp in s2.withUnsafeMutableBufferPointer { sp in
                            if isStatic { fixed(rows, k, xp.baseAddress!, k, 0.013, qp.baseAddress!, kp, sp.baseAddress!) }
                            else { dynamic(rows, k, xp.baseAddress!, k, qp.baseAddress!, kp, sp.baseAddress!) }
                        } }
                    }
                    // The u8 form is the same value + 128 (padding included).
                    let want = name.hasSuffix("u8") ? q1.map { Int8(bitPattern: UInt8(bitPattern: $0) ^ 0x80) } : q1
                    XCTAssertEqual(want, q2, "\(name) k=\(k) static=\(isStatic)")
                    XCTAssertEqual(s1, s2, "\(name) k=\(k) static=\(isStatic)")
                }
            }
        }
    }

    /// 7-bit weights (`--weight-bits 7`): every int8 weight within ±63, each layer on the
    /// AVX2 kernel without the sign trick where the CPU has AVX2, outputs equal to the
    /// reference route's int8 path, and the accuracy cost measured against fp32.
    func testSevenBitWeights() throws {
        var o = QuantizeOptions()
        o.weightBits = 7
        let q = try Quantizer.quantize(try fp32Model(), source: "m", calibration: try calibration(), options: o)
        let file = try VitqFile.parse(q.bytes, path: "w7")
        for t in file.tensors where t.dtype == .i8 {
            let p = UnsafeRawPointer(file.payload.base + t.offset).assumingMemoryBound(to: Int8.self)
            XCTAssertFalse(UnsafeBufferPointer(start: p, count: t.elementCount).contains { $0 < -63 || $0 > 63 }, t.name)
        }
        XCTAssertThrowsError(try { var bad = QuantizeOptions(); bad.weightBits = 6
            _ = try Quantizer.quantize(try fp32Model(), source: "m", calibration: nil, options: bad) }())
        // On every CPU: the route `auto` picks gives the reference route's answers.
        let auto = try VisionTransformer(file: file, kernels: try Kernels.select(.auto))
        let same = try Evaluator.run(auto, on: try mnistTestSet(), limit: emulated ? 64 : 300, batchSize: 32,
                                     other: try VisionTransformer(file: file, kernels: .reference))
        XCTAssertGreaterThanOrEqual(same.agreement!, 0.99, auto.kernels.int8Name)
    }

    /// 7-bit weights on x86 without AVX-512 VNNI: the AVX2 kernel without the sign trick.
    func testSevenBitWeightsRunOnTheAVX2Kernel() throws {
        try XCTSkipUnless(Kernels.cpuFeatures.contains("avx2") && Kernels.cpuFeatures.contains("fma"),
                          "the 7-bit kernel is an AVX2 route: this CPU has \(Kernels.cpuFeatures)")
        var o = QuantizeOptions()
        o.weightBits = 7
        let file = try VitqFile.parse(try Quantizer.quantize(try fp32Model(), source: "m", calibration: try calibration(), options: o).bytes,
                                      path: "w7")
        // The AVX2 set as a CPU without AVX-VNNI gets it (a Zen 3): with AVX-VNNI (Alder Lake,
        // Zen 4), `.avx2` takes the VNNI int8 kernel, whose dot products need no 7-bit variant.
        let level = Kernels.allLevels.first { String(cString: $0.pointee.level) == "avx2" }!
        let zen3 = Kernels(level: level, features: vk_cpu_features() & ~UInt32(VK_CPU_X86_AVXVNNI))
        let avx2 = try VisionTransformer(file: file, kernels: zen3)
        let narrowBlocks = try XCTUnwrap(avx2.weights.blocks as? [TransformerBlock], "a ViT's blocks")
        XCTAssertTrue(narrowBlocks.allSatisfy { $0.fc1.int8?.narrow == true && $0.qkv.int8?.narrow == true })
        XCTAssertTrue(avx2.kernels.description.contains("avx2_w7"), avx2.kernels.description)
        // An 8-bit file on the same kernel set keeps the general kernel.
        let eight = try VisionTransformer(file: try VitqFile.load(path: repoFile("models/mnist-vit-int8.vitq")), kernels: zen3)
        let blocks = try XCTUnwrap(eight.weights.blocks as? [TransformerBlock], "a ViT's blocks")
        XCTAssertFalse(blocks.contains { $0.fc1.int8?.narrow == true })
        let reference = try VisionTransformer(file: file, kernels: .reference)
        let fp32 = try VisionTransformer(file: try fp32Model(), kernels: try Kernels.select(.auto))
        let r = try Evaluator.run(avx2, on: try mnistTestSet(), limit: 300, batchSize: 64, other: reference)
        print("7-bit weights on \(avx2.kernels.qs8Narrow!.name) vs the reference route: agreement \(r.agreement!), max |logit diff| \(r.maxAbsLogitDiff!)")
        // The int8 GEMMs are bit-exact; LayerNorm/GELU/softmax differ by ulps between the
        // routes and re-quantizing the next layer's input can move a value by one step,
        // which is what the 8-bit models show across routes too.
        XCTAssertGreaterThanOrEqual(r.agreement!, 0.999)
        XCTAssertLessThan(r.maxAbsLogitDiff!, 0.25)
        let acc = try Evaluator.run(avx2, on: try mnistTestSet(), limit: Self.accuracyImages, batchSize: 64, other: fp32)
        print("7-bit weights, \(acc.images) images: accuracy \(acc.accuracy) vs fp32 \(acc.otherAccuracy!), agreement \(acc.agreement!)")
        XCTAssertGreaterThanOrEqual(acc.agreement!, 0.99)
    }

    /// int8 attention (opt-in): recorded in the file, refused for models without attention,
    /// every kernel set close to the reference route (each int8 GEMM is bit-exact; the
    /// softmax's last bits can move a quantized probability by one step), on 1 and 2
    /// threads, attention maps still probabilities, and accuracy on the MNIST test split
    /// level with fp32.
    func testInt8Attention() throws {
        var o = QuantizeOptions()
        o.int8Attention = true
        let q = try Quantizer.quantize(try fp32Model(), source: "m", calibration: nil, options: o)
        let file = try VitqFile.parse(q.bytes, path: "att8")
        XCTAssertTrue(file.config.int8Attention)
        let plain = try VitqFile.load(path: repoFile("models/mnist-vit-int8.vitq"))
        XCTAssertFalse(plain.config.int8Attention)
        XCTAssertThrowsError(try Quantizer.quantize(try VitqFile.load(path: repoFile("models/mnist-mixer.vitq")), source: "mixer",
                                                    calibration: nil, options: o)) {
            XCTAssertTrue("\($0)".contains("no attention"), "\($0)")
        }
        let reference = try VisionTransformer(file: file, kernels: .reference)
        let images = emulated ? 64 : 300
        for kset in Kernels.Choice.allCases where kset != .reference && kset != .swift {
            guard let k = try? Kernels.select(kset) else { continue }
            let m = try VisionTransformer(file: file, kernels: k)
            for threads in [1, 2] {
                let r = try Evaluator.run(m, on: try mnistTestSet(), limit: images, batchSize: 16, other: reference, threads: threads)
                print("int8 attention, \(kset) (\(k.int8Name)), \(threads) thread(s) vs reference: agreement \(r.agreement!), max |logit diff| \(r.maxAbsLogitDiff!)")
                XCTAssertGreaterThanOrEqual(r.agreement!, 0.99, "\(kset)")
                XCTAssertLessThan(r.maxAbsLogitDiff!, 0.5, "\(kset)")
            }
        }
        // The captured attention rows are still probabilities.
        let att8 = try VisionTransformer(file: file, kernels: try Kernels.select(.auto))
        let session = try InferenceSession(model: att8, batchSize: 1, captureAttention: [0])
        let digit = try Image.load(path: repoFile("models/samples/test-00000-digit7.pgm"))
        try Preprocess.apply(digit, config: att8.config, into: session.input.baseAddress!)
        session.forward()
        let a = try XCTUnwrap(session.attention(block: 0, image: 0))
        let t = file.config.tokens
        for row in 0..<(a.count / t) {
            XCTAssertEqual(a[(row * t)..<(row * t + t)].reduce(0, +), 1, accuracy: 1e-4)
        }
        if emulated { return }
        let fp32 = try VisionTransformer(file: try fp32Model(), kernels: try Kernels.select(.auto))
        let acc = try Evaluator.run(try VisionTransformer(file: file, kernels: try Kernels.select(.auto)), on: try mnistTestSet(),
                                    limit: Self.accuracyImages, batchSize: 64, other: fp32)
        print("int8 attention, \(acc.images) images: accuracy \(acc.accuracy) vs fp32 \(acc.otherAccuracy!), agreement \(acc.agreement!)")
        XCTAssertGreaterThanOrEqual(acc.accuracy, acc.otherAccuracy! - 0.003)
        XCTAssertGreaterThanOrEqual(acc.agreement!, 0.99)
    }

    /// A NaN activation (a model file whose weights hold NaN) must not trap the reference
    /// route's Int8 conversion; it quantizes to -127. (Routes differ on NaN rows: their
    /// max |x| propagates NaN differently, so NaN is outside the bit-exact contract.)
    func testReferenceQuantizerSurvivesNaN() {
        XCTAssertEqual(QuantizationScheme.quantize(.nan, 1), -127)
        XCTAssertEqual(QuantizationScheme.quantize(.infinity, 1), 127)
        XCTAssertEqual(QuantizationScheme.quantize(-.infinity, 1), -127)
        var q = [Int8](repeating: 9, count: 4), s = [Float](repeating: 0, count: 1)
        let x: [Float] = [1, .nan, -2]
        q.withUnsafeMutableBufferPointer { qp in s.withUnsafeMutableBufferPointer { sp in
            Reference.quantizeRowsStatic(rows: 1, k: 3, x: x, ldx: 3, s: 0.1, q: qp.baseAddress!, ldq: 4, scale: sp.baseAddress!)
        } }
        XCTAssertEqual(q, [10, -127, -20, 0])
    }

    func fp32Model() throws -> VitqFile { try VitqFile.load(path: repoFile("models/mnist-vit.vitq")) }

    func calibration(_ n: Int = 256) throws -> [Image] {
        let path = repoFile("models/mnist-calibration-images.idx3-ubyte.lz4")
        return try idxImages(path, n)
    }

    func testQuantizerIsDeterministicAndTheShippedModelIsCurrent() throws {
        let a = try Quantizer.quantize(try fp32Model(), source: "m", calibration: try calibration(), options: QuantizeOptions())
        let b = try Quantizer.quantize(try fp32Model(), source: "m", calibration: try calibration(), options: QuantizeOptions())
        XCTAssertEqual(a.bytes, b.bytes)
        XCTAssertEqual(a.bytes, try FileIO.read(repoFile("models/mnist-vit-int8.vitq")),
                       "models/mnist-vit-int8.vitq is stale: run `make models`")
        let ratio = Double(a.bytes.count) / Double(try fp32Model().fileBytes)
        print("int8 MNIST file: \(a.bytes.count) bytes, \(ratio) of fp32; per-layer output SQNR \(a.layers.compactMap(\.outputSQNR).map { Int($0) })")
        XCTAssertLessThanOrEqual(ratio, 0.30)
        XCTAssertTrue(a.layers.allSatisfy { ($0.outputSQNR ?? 0) > 30 }, "a layer lost more than expected: \(a.layers.map { ($0.name, $0.outputSQNR ?? 0) })")
    }

    func testQuantizeErrors() throws {
        let int8 = try VitqFile.load(path: repoFile("models/mnist-vit-int8.vitq"))
        XCTAssertThrowsError(try Quantizer.quantize(int8, source: "int8.vitq", calibration: nil, options: QuantizeOptions())) {
            XCTAssertTrue("\($0)".contains("already quantized"), "\($0)")
        }
        var o = QuantizeOptions()
        o.activations = .static
        XCTAssertThrowsError(try Quantizer.quantize(try fp32Model(), source: "m", calibration: nil, options: o)) {
            XCTAssertTrue("\($0)".contains("--calibration"), "\($0)")
        }
        XCTAssertThrowsError(try Quantizer.quantize(try fp32Model(), source: "m", calibration: [], options: QuantizeOptions())) {
            XCTAssertTrue("\($0)".contains("no images"), "\($0)")
        }
        // Calibration images of another size or format go through the model's own
        // preprocessing (as `run` images do): a 32x32 RGB image calibrates a 28x28 gray model.
        let other = Image(width: 32, height: 32, channels: 3, samples: (0..<3072).map { Float($0 % 97) / 97 })
        var st = QuantizeOptions()
        st.activations = .static
        let calibrated = try Quantizer.quantize(try fp32Model(), source: "m", calibration: [other], options: st)
        XCTAssertEqual(calibrated.calibrationImages, 1)
        XCTAssertTrue(calibrated.layers.allSatisfy { ($0.inputScale ?? 0) > 0 })
        var keep = QuantizeOptions()
        keep.keepFP32 = ["blocks.9"]
        XCTAssertThrowsError(try Quantizer.quantize(try fp32Model(), source: "m", calibration: nil, options: keep))
        keep.keepFP32 = ["mlp.fc2", "blocks.0"]
        let r = try Quantizer.quantize(try fp32Model(), source: "m", calibration: nil, options: keep)
        let f = try VitqFile.parse(r.bytes, path: "kept")
        XCTAssertEqual(f.info("blocks.3.mlp.fc2.weight")?.dtype, .f32)
        XCTAssertEqual(f.info("blocks.0.attn.qkv.weight")?.dtype, .f32)
        XCTAssertEqual(f.info("blocks.3.mlp.fc1.weight")?.dtype, .i8)
        _ = try VisionTransformer(file: f, kernels: try Kernels.select(.auto))
    }

    /// Images of the test split the int8 accuracy check runs on: 2,000 in `make test`,
    /// all 10,000 in `make test-accuracy` (VIT_EDGE_FULL_ACCURACY=1), which CI runs too.
    static var accuracyImages: Int {
        getenv("VIT_EDGE_FULL_ACCURACY").map { String(cString: $0) } == "1" ? 10_000 : 2_000
    }

    /// Accuracy against fp32 on the test split, both activation modes, on the shipped
    /// timm model and on the vit-pytorch model (mean pooling over all tokens).
    func testInt8AccuracyMatchesFP32() throws {
        if emulated {
            // 8 evaluations of 2,000 images: over half an hour per CPU under qemu. The int8
            // routes' results are bit-exact against the reference (KernelTests and the
            // conformance program, both run under qemu), so accuracy is the same as natively.
            throw XCTSkip("emulated: the int8 accuracy evaluation runs natively (make test, make test-accuracy)")
        }
        let kernels = try Kernels.select(.auto)
        let vp = Safetensors.self
        let vpDir = repoFile("models/mnist-vit-pytorch-mean/")
        var vpOptions = ConvertOptions()
        vpOptions.mean = [0.1307]
        vpOptions.std = [0.3081]
        let vpConversion = try Converter.convert(try vp.init(path: vpDir + "model.safetensors"),
                                                 configJSON: try JSON.parse(try FileIO.read(vpDir + "config.json")), options: vpOptions)
        XCTAssertEqual(vpConversion.config.pool, .meanAllTokens)
        let second = try VitqFile.parse(vpConversion.vitqBytes(), path: "vit-pytorch")
        let cases: [(String, VitqFile, ViTConfig.ActivationQuantization, Double)] = [
            ("timm MNIST ViT", try fp32Model(), .dynamic, 0.995),
            ("timm MNIST ViT", try fp32Model(), .static, 0.995),
            ("vit-pytorch mean-pool ViT", second, .dynamic, 0.99),
            ("vit-pytorch mean-pool ViT", second, .static, 0.99),
        ]
        for (name, file, mode, minAgreement) in cases {
            var o = QuantizeOptions()
            o.activations = mode
            let q = try Quantizer.quantize(file, source: name, calibration: try calibration(), options: o)
            let int8 = try VisionTransformer(file: try VitqFile.parse(q.bytes, path: name), kernels: kernels)
            let fp32 = try VisionTransformer(file: file, kernels: kernels)
            let r = try Evaluator.run(int8, on: try mnistTestSet(), limit: Self.accuracyImages, batchSize: 64, other: fp32)
            print("int8 \(name) [\(mode)], \(r.images) images: accuracy \(r.accuracy) vs fp32 \(r.otherAccuracy!), agreement \(r.agreement!), max |logit diff| \(r.maxAbsLogitDiff!)")
            XCTAssertGreaterThanOrEqual(r.accuracy, r.otherAccuracy! - 0.003, "\(name) [\(mode)]")
            XCTAssertGreaterThanOrEqual(r.agreement!, minAgreement, "\(name) [\(mode)]")
        }
    }

    /// The other families: the shipped MNIST MLP-Mixer (trained: int8 as accurate as fp32),
    /// and the small random-weight parity models of ResMLP and the two hybrids (top-1
    /// agreement with their fp32 on MNIST digits >= 95%, dynamic and static), every
    /// new quantized layer kind named in the report.
    func testInt8OfTheOtherFamiliesAgreesWithFP32() throws {
        if emulated { throw XCTSkip("emulated: the int8 accuracy evaluation runs natively (make test, make test-accuracy)") }
        let kernels = try Kernels.select(.auto)
        var cases: [(String, VitqFile, Double, Bool)] = [
            ("MNIST MLP-Mixer", try VitqFile.load(path: repoFile("models/mnist-mixer.vitq")), 0.995, true)]
        for name in ["timm-resmlp", "timm-hybrid-stem", "timm-hybrid-resnet"] {
            cases.append((name, try VitqFile.parse(try ParityTests.convert(name).vitqBytes(), path: name), 0.95, false))
        }
        let images = min(Self.accuracyImages, 1000)
        for (name, file, minAgreement, trained) in cases {
            for mode in [ViTConfig.ActivationQuantization.dynamic, .static] {
                var o = QuantizeOptions()
                o.activations = mode
                let q = try Quantizer.quantize(file, source: name, calibration: try calibration(), options: o)
                let kinds = Set(q.layers.map { $0.name.split(separator: ".").suffix(name.contains("hybrid") ? 1 : 2).joined(separator: ".") })
                let int8 = try VisionTransformer(file: try VitqFile.parse(q.bytes, path: name), kernels: kernels)
                let fp32 = try VisionTransformer(file: file, kernels: kernels)
                let r = try Evaluator.run(int8, on: try mnistTestSet(), limit: trained ? Self.accuracyImages : images, batchSize: 64, other: fp32)
                print("int8 \(name) [\(mode)], \(r.images) images: accuracy \(r.accuracy) vs fp32 \(r.otherAccuracy!), agreement \(r.agreement!); layers \(q.layers.count) (\(kinds.sorted().joined(separator: ", ")))")
                XCTAssertGreaterThanOrEqual(r.agreement!, minAgreement, "\(name) [\(mode)]")
                if trained { XCTAssertGreaterThanOrEqual(r.accuracy, r.otherAccuracy! - 0.003, "\(name) [\(mode)]") }
                XCTAssertTrue(q.layers.allSatisfy { !$0.kept }, name)
            }
        }
    }
}
