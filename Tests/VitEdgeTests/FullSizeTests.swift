import XCTest
@testable import VitEdge

/// Full-size models of the families issue 24 added (random weights of each library's own
/// constructor: no trained checkpoint is reachable here), too large to ship, against their
/// library's logits on a random input and on the repository's 8 real photos run from their
/// files; int8's top-1 on the photos. Each runs when its variable names the folder that
/// `python3 tools/make_vit_shapes.py --out DIR --only ...` wrote and where the model was
/// converted (docs/BENCHMARKS.md says the commands); skipped otherwise.
final class FullSizeTests: XCTestCase {
    /// timm `swin_tiny_patch4_window7_224` (position tables of trained magnitude): 7×7
    /// windows, 64 of them in the first stage, the last stage one unshifted window.
    func testSwinTMatchesTimm() throws {
        try Self.matchesFullSize(variable: "VITEDGE_SWIN_T", model: "swin-t", name: "Swin-T", tool: "--swin --swin-check")
    }

    /// timm `pvt_v2_b0`.
    func testPVTb0MatchesTimm() throws {
        try Self.matchesFullSize(variable: "VITEDGE_PVT_B0", model: "pvt-b0", name: "PVT-v2-b0", tool: "--pvt")
    }

    /// vit-pytorch `DeepViT` and `T2TViT` at ViT-Ti's width (converted with the check's
    /// eval transform: `--crop-pct 0.9 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225`).
    func testDeepViTAndT2TMatchVitPytorch() throws {
        try Self.matchesFullSize(variable: "VITEDGE_VITPT", model: "deepvit-ti", name: "DeepViT-Ti", tool: "--deepvit")
        try Self.matchesFullSize(variable: "VITEDGE_VITPT", model: "t2t-ti", name: "T2T-ViT-Ti", tool: "--deepvit")
    }

    /// A full-size model in the folder `variable` names (`model`.vitq beside `model`-check.safetensors:
    /// a random [2, 3, 224, 224] input and timm's logits, and timm's logits on the real photos
    /// of Fixtures/preprocess/images through timm's eval transform) on every route, within 1e-4
    /// relative; the photos from their files (decode, the eval transform recorded at convert,
    /// the forward pass). Then int8 (dynamic): top-1 kept on every photo where fp32's top two
    /// are not within 1% of the top logit (a near-tie), counted and printed.
    static func matchesFullSize(variable: String, model: String, name: String, tool: String) throws {
        guard let dir = ProcessInfo.processInfo.environment[variable] else {
            throw XCTSkip("set \(variable) to the folder tools/make_vit_shapes.py \(tool) wrote (and \(model).vitq)")
        }
        let check = try loadTensors(dir + "/\(model)-check.safetensors")
        let input = check["input"]!.values, want = check["logits"]!.values, photoWant = check["photo_logits"]!.values
        let photos = try FileIO.list(fixture("preprocess/images")).sorted().map { try Image.load(path: fixture("preprocess/images/" + $0)) }
        let classes = want.count / 2
        XCTAssertEqual(photoWant.count, photos.count * classes, "one row of logits per photo")
        func top(_ row: ArraySlice<Float>) -> (Int, Float) {
            let sorted = row.enumerated().sorted { $0.element > $1.element }
            return (sorted[0].offset, sorted[0].element - sorted[1].element)
        }
        for choice in Kernels.Choice.allCases {
            guard let kernels = try? Kernels.select(choice) else { continue }
            let vit = try VisionTransformer(path: dir + "/\(model).vitq", kernels: kernels)
            let session = try InferenceSession(model: vit, batchSize: 2)
            for i in 0..<input.count { session.input[i] = input[i] }
            session.forward()
            let relative = maxAbsDiff((0..<2).flatMap { Array(session.logits($0)) }, want) / maxAbs(want)
            let photoLogits = try FamilyTestSupport.logits(vit, photos)
            let photoRelative = maxAbsDiff(photoLogits, photoWant) / maxAbs(photoWant)
            print("\(name) 224 [\(choice)]: relative max |diff| \(relative) against its library; \(photos.count) photos from their files \(photoRelative)")
            XCTAssertLessThanOrEqual(relative, 1e-4, "\(choice)")
            XCTAssertLessThanOrEqual(photoRelative, 1e-4, "\(choice) photos")
        }
        let fp32 = try VitqFile.load(path: dir + "/\(model).vitq")
        let int8 = try VitqFile.parse(try Quantizer.quantize(fp32, source: model, calibration: nil, options: QuantizeOptions()).bytes, path: "int8")
        let got = try FamilyTestSupport.logits(int8, .auto, photos)
        var (clear, kept) = (0, 0)
        for i in photos.indices {
            let f = top(photoWant[(i * classes)..<((i + 1) * classes)]), q = top(got[(i * classes)..<((i + 1) * classes)])
            guard f.1 >= 0.01 * abs(photoWant[i * classes + f.0]) else { continue }
            clear += 1
            if f.0 == q.0 { kept += 1 }
        }
        print("\(name) int8 (dynamic): top-1 kept on \(kept) of the \(clear) photos that are no near-tie in fp32 (of \(photos.count))")
        XCTAssertGreaterThanOrEqual(Double(kept), 0.95 * Double(clear))
    }
}
