import XCTest
@testable import VitEdge

/// Each model's own preprocessing against the ecosystem's code on real photos
/// (tools/make_preprocess_fixtures.py: timm's `create_transform`, Hugging Face's PIL
/// image processors), and position embeddings resampled by timm's, DINO's and Hugging
/// Face's conventions against those libraries' models run at another input size.
final class PreprocessTests: XCTestCase {
    struct Case {
        var image: String, family: String, expected: String
        var config: JSON
        var input: (Int, Int)
        var mean: [Float], std: [Float]
        /// "auto": the photo is decoded at 1/2, 1/4 or 1/8 size (Pillow's draft mode).
        var jpegScale = false
    }

    static func cases() throws -> [Case] {
        let j = try JSON.parse(try FileIO.read(fixture("preprocess/cases.json")))
        return try (j.array ?? []).map { c in
            guard let image = c["image"]?.string, let family = c["family"]?.string, let expected = c["expected"]?.string,
                  let config = c["config"], let input = c["input"]?.array?.compactMap({ $0.int }), input.count == 2,
                  let mean = c["mean"]?.array?.compactMap({ $0.double.map(Float.init) }),
                  let std = c["std"]?.array?.compactMap({ $0.double.map(Float.init) }) else {
                throw VitError.invalidArgument("cases.json: a case without image, family, expected, config, input, mean, std")
            }
            return Case(image: image, family: family, expected: expected, config: config, input: (input[0], input[1]), mean: mean, std: std,
                        jpegScale: c["jpeg_scale"]?.string == "auto")
        }
    }

    func testPhotosMatchTimmAndHuggingFaceTransforms() throws {
        let cases = try Self.cases()
        XCTAssertEqual(cases.count, 19)
        XCTAssertEqual(cases.filter(\.jpegScale).count, 3)
        var families = Set<String>()
        for k in cases {
            families.insert(k.family)
            let preprocessing: Preprocessing
            if k.family == "timm" {
                preprocessing = try Preprocessing.fromTimm(k.config, input: k.input, source: k.expected)
            } else {
                let (p, mean, std) = try Preprocessing.fromHuggingFace(k.config, input: k.input, source: k.expected)
                preprocessing = p
                XCTAssertEqual(mean, k.mean, k.expected)
                XCTAssertEqual(std, k.std, k.expected)
            }
            var c = ViTConfig(imageHeight: k.input.0, imageWidth: k.input.1, channels: 3, patchSize: 16, dim: 8, depth: 1,
                              heads: 1, mlpDim: 8, numClasses: 1, mean: k.mean, std: k.std)
            c.preprocessing = preprocessing
            try c.validate()
            let path = fixture("preprocess/images/" + k.image)
            let image = try Image.load(path: path, limits: .current, jpegScaling: k.jpegScale ? JPEGScaling(config: c) : nil)
            if k.jpegScale {
                // Decoded smaller than the file's size: Pillow's draft picks the same factor.
                let full = try Image.load(path: path)
                XCTAssertLessThan(image.width, full.width, k.expected)
            }
            let plane = k.input.0 * k.input.1
            var got = [Float](repeating: .nan, count: 3 * plane)
            try got.withUnsafeMutableBufferPointer { try Preprocess.apply(image, config: c, into: $0.baseAddress!) }
            // The expected tensor: Normalize((bytes) / 255) as torchvision computes it.
            let want = try Image.load(path: fixture("preprocess/expected/" + k.expected))
            XCTAssertEqual(want.width, k.input.1, k.expected)
            XCTAssertEqual(want.height, k.input.0, k.expected)
            guard case .bytes(let wb) = want.pixels, want.channels == 3 else { return XCTFail("\(k.expected): not 8-bit RGB") }
            var worst: Float = 0, differing = 0
            for ch in 0..<3 { for i in 0..<plane {
                let expected = (Float(wb[i * 3 + ch]) / 255 - k.mean[ch]) / k.std[ch]
                // In pixel units (the range [0, 1]): what a one-level error would be.
                let d = abs(got[ch * plane + i] - expected) * k.std[ch]
                worst = max(worst, d)
                if d > 1e-6 { differing += 1 }
            } }
            XCTAssertLessThanOrEqual(worst, 1 / 255 + 1e-6, "\(k.image) \(k.expected): \(preprocessing.summary)")
            // Equal, not merely close: Pillow's arithmetic is reproduced exactly.
            XCTAssertEqual(differing, 0, "\(k.image) \(k.expected): \(differing) samples differ (worst \(worst * 255) levels)")
        }
        XCTAssertEqual(families, ["timm", "huggingface"])
    }

    func testEachFamilyResamplesPositionEmbeddingsItsOwnWay() throws {
        let expected = try loadTensors(fixture("preprocess/position/expected.safetensors"))
        func model(_ name: String, config: String) throws -> VisionTransformer {
            let st = try Safetensors(path: fixture("preprocess/position/\(name).safetensors"))
            let conversion = try Converter.convert(st, configJSON: try JSON.parse(try FileIO.read(fixture("preprocess/position/\(config)"))),
                                                   options: ConvertOptions())
            return try VisionTransformer(file: try VitqFile.parse(conversion.vitqBytes(), path: name), kernels: try Kernels.select(.auto))
        }
        let timm = try model("timm", config: "timm-config.json")
        XCTAssertEqual(timm.config.positionResampling, .timm)
        let hf = try model("hf", config: "hf-config.json")
        XCTAssertEqual(hf.config.positionResampling, .huggingface)
        for size in [44, 20] {
            guard let input = expected["input_\(size)"] else { return XCTFail("no input_\(size)") }
            for (convention, base) in [(PositionResampling.timm, timm), (.dino, timm), (.huggingface, hf)] {
                let m = try base.withPositionResampling(convention).resized(imageHeight: size, imageWidth: size)
                let s = try InferenceSession(model: m, batchSize: 2)
                input.values.withUnsafeBufferPointer { s.input.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
                s.forward()
                let logits = Array(s.logits(0)) + Array(s.logits(1))
                guard let want = expected["\(convention.rawValue)_\(size)"]?.values else { return XCTFail("no \(convention) \(size)") }
                XCTAssertEqual(logits.count, want.count)
                let magnitude = want.map(abs).max() ?? 1
                let worst = zip(logits, want).map { abs($0 - $1) }.max() ?? .infinity
                XCTAssertLessThan(worst, 2e-4 * max(magnitude, 1), "\(convention) at \(size): differs by \(worst)")
                // The conventions differ from each other by far more than that.
                if convention != .timm, let other = expected["timm_\(size)"]?.values {
                    XCTAssertGreaterThan(zip(want, other).map { abs($0 - $1) }.max()!, 20 * 2e-4 * max(magnitude, 1), "\(convention) vs timm at \(size)")
                }
            }
        }
    }

    func testTapsOfKnownCases() {
        // Same size: identity in every filter.
        for f in Resample.Filter.allCases {
            let t = Resample.pillow(inSize: 5, outSize: 5, filter: f)
            XCTAssertTrue(t.identity)
            for i in 0..<5 {
                let w = (0..<t.count[i]).map { t.weights[i * t.width + $0] }
                let hit = (0..<t.count[i]).first { w[$0] == 1 }
                XCTAssertEqual(hit.map { t.start[i] + $0 }, i, "\(f) output \(i)")
            }
        }
        // PyTorch's plain taps at the same size are exactly the identity too (no pass made).
        for cubic in [false, true] {
            let t = Resample.pytorch(inSize: 6, outSize: 6, cubic: cubic)
            XCTAssertTrue(t.identity)
            for i in 0..<6 {
                let hits = (0..<t.count[i]).filter { t.weights[i * t.width + $0] != 0 }
                XCTAssertEqual(hits.map { t.start[i] + $0 }, [i], "cubic \(cubic) output \(i)")
                XCTAssertEqual(t.weights[i * t.width + hits[0]], 1)
            }
        }
        XCTAssertFalse(Resample.pytorch(inSize: 6, outSize: 6, cubic: true, scale: 0.9).identity)
        // Halving with box: pairs averaged.
        let box = Resample.pillow(inSize: 4, outSize: 2, filter: .box)
        XCTAssertEqual(box.start, [0, 2])
        XCTAssertEqual(box.count, [2, 2])
        XCTAssertEqual(box.weights[0], 0.5)
        // PyTorch bilinear, 2 -> 4, half-pixel centres: 0, 0.25, 0.75, 1 of a 0/1 ramp.
        let lin = Resample.pytorch(inSize: 2, outSize: 4, cubic: false)
        let ramp: [Float] = [0, 1]
        let values = (0..<4).map { o in (0..<lin.count[o]).reduce(Float(0)) { $0 + Float(lin.weights[o * lin.width + $1]) * ramp[lin.start[o] + $1] } }
        XCTAssertEqual(values, [0, 0.25, 0.75, 1])
        // Weights sum to one everywhere, edges included.
        for t in [Resample.pillow(inSize: 37, outSize: 11, filter: .lanczos), Resample.pillow(inSize: 11, outSize: 37, filter: .bicubic),
                  Resample.pytorch(inSize: 7, outSize: 10, cubic: true)] {
            for o in 0..<t.outSize {
                XCTAssertEqual((0..<t.count[o]).reduce(0) { $0 + t.weights[o * t.width + $1] }, 1, accuracy: 1e-6)  // PyTorch's in Float
            }
        }
    }

    /// Configs that contradict themselves or hold what is not a number are refused, never
    /// read around; what the libraries themselves accept is accepted.
    func testPreprocessorConfigsAreReadAsTheLibrariesReadThem() throws {
        func hf(_ text: String) throws -> (Preprocessing, mean: [Float]?, std: [Float]?) {
            try Preprocessing.fromHuggingFace(try JSON.parse(Array(text.utf8)), input: (224, 224), source: "preprocessor_config.json")
        }
        // "size": 224 as a plain number (google/vit-base-patch16-224): a square.
        let plain = try hf(#"{"image_processor_type": "ViTImageProcessor", "size": 224, "resample": 2}"#)
        XCTAssertEqual(plain.0.resize, .toInput)
        // No normalization: x / 255 for any channel count (one value, broadcast).
        let raw = try hf(#"{"image_processor_type": "ViTImageProcessor", "size": 224, "do_normalize": false}"#)
        XCTAssertEqual(raw.mean, [0])
        XCTAssertEqual(raw.std, [1])
        // Entries that are not numbers are an error, not dropped.
        XCTAssertThrowsError(try hf(#"{"size": 224, "image_mean": [0.5, "x", 0.5]}"#)) { e in
            XCTAssertTrue("\(e)".contains("image_mean a list of numbers"), "\(e)")
        }
        XCTAssertThrowsError(try hf(#"{"size": 224, "image_std": {"r": 1}}"#)) { e in XCTAssertTrue("\(e)".contains("image_std"), "\(e)") }
        // A converted gray model with do_normalize false: one mean and std per channel.
        let st = try Safetensors(path: repoFile("models/mnist-vit/model.safetensors"))
        var o = ConvertOptions()
        o.preprocessorConfig = try JSON.parse(Array(#"{"size": 28, "do_normalize": false, "resample": 2}"#.utf8))
        let c = try Converter.convert(st, configJSON: try JSON.parse(try FileIO.read(repoFile("models/mnist-vit/config.json"))), options: o).config
        XCTAssertEqual(c.mean, [0])
        XCTAssertEqual(c.std, [1])
        // timm: pretrained_cfg.input_size and model_args.img_size that disagree.
        var timm = try JSON.parse(try FileIO.read(repoFile("models/mnist-vit/config.json")))
        guard case var .object(pairs) = timm else { return XCTFail() }
        // (its pretrained_cfg.input_size says 28)
        guard let i = pairs.firstIndex(where: { $0.0 == "model_args" }), case var .object(args) = pairs[i].1 else { return XCTFail() }
        args.removeAll { $0.0 == "img_size" }
        args.append(("img_size", .number(32)))
        pairs[i].1 = .object(args)
        timm = .object(pairs)
        XCTAssertThrowsError(try Converter.convert(st, configJSON: timm, options: ConvertOptions())) { e in
            XCTAssertTrue("\(e)".contains("to agree"), "\(e)")
        }
    }

    func testCentreCropRounding() {
        let tv = Preprocessing(crop: .torchvision), hf = Preprocessing(crop: .huggingface)
        // torchvision rounds half to even; Hugging Face floors.
        XCTAssertEqual(tv.cropStart(size: 293, crop: 224), 34)  // 34.5 -> 34
        XCTAssertEqual(tv.cropStart(size: 295, crop: 224), 36)  // 35.5 -> 36
        XCTAssertEqual(hf.cropStart(size: 295, crop: 224), 35)
        // torchvision Resize(n): the other side truncated.
        let p = Preprocessing(resize: .shorterSide(248))
        XCTAssertEqual(p.resizedSize(width: 640, height: 480, input: (224, 224)).width, 330)  // int(248 * 640 / 480) = 330
        XCTAssertEqual(p.resizedSize(width: 480, height: 640, input: (224, 224)).height, 330)
    }

    func testYUVFramesConvertAsBT601LimitedRange() {
        // 2x2 I420: black, white, and a saturated red pixel's Y/U/V.
        let w = 2, h = 2
        func rgb(y: UInt8, u: UInt8, v: UInt8, nv12: Bool) -> [UInt8] {
            var frame = [UInt8](repeating: y, count: w * h) + (nv12 ? [u, v] : [u, v])
            var out = [UInt8](repeating: 0, count: 3 * w * h)
            frame.withUnsafeMutableBytes { raw in
                let view = ImageView(format: nv12 ? .nv12 : .i420, width: w, height: h, data: raw.baseAddress!)
                out.withUnsafeMutableBufferPointer { ColorConversion.yuvToRGB(view, into: $0.baseAddress!) }
            }
            return Array(out[0..<3])
        }
        XCTAssertEqual(rgb(y: 16, u: 128, v: 128, nv12: false), [0, 0, 0])
        XCTAssertEqual(rgb(y: 235, u: 128, v: 128, nv12: true), [255, 255, 255])
        XCTAssertEqual(rgb(y: 126, u: 128, v: 128, nv12: false), [128, 128, 128])
        // BT.601 red (R=255, G=B=0): Y 81, U 90, V 240.
        let red = rgb(y: 81, u: 90, v: 240, nv12: false)
        XCTAssertGreaterThanOrEqual(red[0], 254)
        XCTAssertLessThanOrEqual(red[1], 1)
        XCTAssertLessThanOrEqual(red[2], 1)
        XCTAssertEqual(ImageView.byteCount(.i420, width: 5, height: 3), 15 + 2 * 3 * 2)
    }

    func testPreprocessingRoundTripsThroughTheHeader() throws {
        var c = ViTConfig(imageHeight: 32, imageWidth: 32, channels: 3, patchSize: 8, dim: 8, depth: 1, heads: 1, mlpDim: 8, numClasses: 2)
        c.labels = ["a", "b"]
        for p in [Preprocessing.plain, Preprocessing.timm(height: 32, width: 32, cropPct: 0.875, interpolation: .bicubic)!,
                  Preprocessing(resize: .size(height: 40, width: 36), interpolation: .lanczos, resampler: .pillow, crop: .huggingface),
                  Preprocessing(resize: .keepRatio(height: 36, width: 40), interpolation: .nearest, resampler: .pillow)] {
            c.preprocessing = p
            c.positionResampling = .dino
            let back = try ViTConfig.fromJSON(c.toJSON(), source: "test")
            XCTAssertEqual(back, c)
        }
        // A file written before preprocessing was recorded: the plain default.
        var legacy = c.toJSON()
        if case .object(var fields) = legacy {
            fields.removeAll { $0.0 == "preprocess" || $0.0 == "position_resampling" }
            fields.append(("resize", .string("bilinear")))
            legacy = .object(fields)
        }
        let old = try ViTConfig.fromJSON(legacy, source: "old")
        XCTAssertEqual(old.preprocessing, .plain)
        XCTAssertEqual(old.positionResampling, .huggingface)
    }

    func testEXIFOrientationIsAppliedOnlyWhenAsked() throws {
        let dir = fixture("preprocess/exif/")
        let files = try FileIO.list(dir).filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") }
        XCTAssertEqual(files.count, 10)
        for f in files {
            let upright = try Image.load(path: dir + f, exifOrientation: true)
            let want = try Image.load(path: dir + f + ".expected.ppm")
            XCTAssertEqual(upright.width, want.width, f)
            XCTAssertEqual(upright.height, want.height, f)
            XCTAssertEqual(upright.pixels, want.pixels, "\(f): differs from Pillow's exif_transpose")
            let asStored = try Image.load(path: dir + f)
            XCTAssertEqual(asStored.width, 13, f)  // Pillow's open does not turn it
        }
        // Beyond what Pillow's writer makes (tools/make_image_fixtures.py): LONG and BYTE
        // entries in both byte orders, signed, BYTE (bytes in Pillow: no turn), the entry
        // past the 1024th, the first of two entries, a directory cut short, several values
        // (the first counts), a PNG eXIf after IDAT, before and after (the last wins), one
        // prefixed "Exif\0\0".
        let edge = fixture("images/exif/")
        let cases = try FileIO.list(edge).filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") }
        XCTAssertEqual(cases.count, 11)
        var turned = 0
        for f in cases {
            let upright = try Image.load(path: edge + f, exifOrientation: true)
            let want = try Image.load(path: edge + f + ".expected.ppm")
            XCTAssertEqual(upright.width, want.width, f)
            XCTAssertEqual(upright.height, want.height, f)
            XCTAssertEqual(upright.pixels, want.pixels, "\(f): differs from Pillow's exif_transpose")
            if upright.pixels != (try Image.load(path: edge + f)).pixels { turned += 1 }
        }
        XCTAssertEqual(turned, 10, "every case but the BYTE entry turns the picture")
        // Malformed EXIF blocks are no orientation, never a read out of bounds.
        let tiffs: [[UInt8]] = [[], Array("II*\0".utf8), Array("MM\0*\0\0\0\u{8}\u{ff}\u{ff}".utf8),
                                Array("II*\0\u{8}\0\0\0\u{1}\0\u{12}\u{1}\u{3}\0\u{1}\0\0\0\u{9}\0".utf8)]
        for t in tiffs { XCTAssertNil(t.withUnsafeBytes { EXIF.orientation(tiff: $0) }) }
    }
}
