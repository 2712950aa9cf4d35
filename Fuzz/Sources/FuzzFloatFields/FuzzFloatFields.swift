// Every float a model takes from outside, set to awkward values (denormals, 1e±38, NaN,
// ±inf, zero, values just past a bound) field by field over a real model: the .vitq
// header's mean, std, eps and preprocessing (crop_pct, sizes), another input size, and
// the configs `convert` reads (timm's pretrained_cfg, Hugging Face's config and
// preprocessor_config.json). Invariant: each is refused with an error, or the model runs
// and every output is finite (never a trap, never NaN logits printed as a result).
import FuzzDriver
import VitEdge
import VitEdgeTestSupport

let root = repositoryRoot
let tinyModel: [UInt8] = (try? FileIO.read(root + "/Fuzz/Corpus/vitq/tiny.vitq")) ?? []
let tinyCheckpoint = try? Safetensors(path: root + "/Fuzz/Corpus/safetensors/tiny-timm.safetensors")
let specials: [Double] = [0, -0.0, 1e-45, 1e-38, 1e-20, 1e-7, 1e-4, 0.001, 0.25, 0.5, 0.875, 1, 1.0000001, 1.5, 2, 255,
                          1e4, 10001, 1e20, 3e38, -1, -1e4, .infinity, -.infinity, .nan]

/// A float from two bytes: a special value, or one spread over many magnitudes.
func value(_ a: UInt8, _ b: UInt8) -> Double {
    if a & 0x80 == 0 { return specials[Int(a) % specials.count] }
    return (Double(b) / 255 + 0.001) * pow10(Int(a & 0x3F) - 32) * (a & 0x40 == 0 ? 1 : -1)
}
func pow10(_ e: Int) -> Double { var r = 1.0; for _ in 0..<abs(e) { r *= 10 }; return e < 0 ? 1 / r : r }

/// Runs the model on a small picture; an accepted model must give finite outputs.
func check(_ model: VisionTransformer, size: (Int, Int)?) {
    var m = model
    if let size { guard let r = try? model.resized(imageHeight: size.0, imageWidth: size.1) else { return }; m = r }
    guard let session = try? InferenceSession(model: m, batchSize: 1) else { return }
    let picture = (0..<(13 * 9)).map { UInt8(($0 * 37) % 256) }
    let ok: Bool = picture.withUnsafeBytes { raw in
        guard let p = try? Preprocessor(config: m.config, width: 13, height: 9, format: .gray8) else { return false }
        session.setInput(ImageView(format: .gray8, width: 13, height: 9, data: raw.baseAddress!), at: 0, using: p)
        return true
    }
    guard ok else { return }
    session.forward()
    if (try? session.checkFinite(image: 0, name: "fuzz")) == nil {
        fatalError("a model the loader accepted gives outputs that are not finite: mean \(m.config.mean), std \(m.config.std), eps \(m.config.eps), \(m.config.preprocessing.summary)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 4, !tinyModel.isEmpty else { return 0 }
    let b = Array(UnsafeBufferPointer(start: data, count: size))
    let resize: (Int, Int)? = b[1] & 1 == 0 ? nil : (4 * (1 + Int(b[1] >> 1) % 40), 4 * (1 + Int(b[2]) % 40))
    if b[0] & 1 == 0 {
        // The header of a real model, edited field by field.
        guard case var .object(top)? = FuzzSupport.header(of: tinyModel), let ci = top.firstIndex(where: { $0.0 == "config" }),
              case var .object(config) = top[ci].1 else { return 0 }
        func set(_ key: String, _ v: JSON) {
            if let i = config.firstIndex(where: { $0.0 == key }) { config[i].1 = v } else { config.append((key, v)) }
        }
        var i = 3
        while i + 2 < b.count {
            let v = value(b[i + 1], b[i + 2])
            switch b[i] % 7 {
            case 0: set("mean", .array([.number(v)]))
            case 1: set("std", .array([.number(v)]))
            case 2: set("eps", .number(v))
            case 3, 4:
                let mode = b[i] % 7 == 3 ? "center" : "squash"
                let p = Preprocessing.timm(height: 8, width: 8, cropPct: 0.875, cropMode: mode, interpolation: .bicubic)!
                guard case var .object(fields) = p.toJSON() else { return 0 }
                if let k = fields.firstIndex(where: { $0.0 == "crop_pct" }) { fields[k].1 = .number(v) }
                set("preprocess", .object(fields))
            case 5: set("preprocess", .object([("resize", .string("shorter")), ("shorter", .number(v)), ("interpolation", .string("bilinear")),
                                               ("resampler", .string("pillow")), ("crop", .string("torchvision"))]))
            default: set("preprocess", .object([("resize", .string("size")), ("height", .number(v)), ("width", .number(9)),
                                                ("interpolation", .string("bicubic")), ("resampler", .string("pytorch")), ("crop", .string("huggingface"))]))
            }
            i += 3
        }
        top[ci].1 = .object(config)
        guard let bytes = FuzzSupport.replacingHeader(of: tinyModel, with: .object(top)),
              let file = try? VitqFile.parse(bytes, path: "fuzz.vitq"),
              let model = try? VisionTransformer(file: file, kernels: .reference, source: "fuzz.vitq") else { return 0 }
        check(model, size: resize)
    } else {
        // A timm config.json and a Hugging Face preprocessor config, floats from the input.
        guard let st = tinyCheckpoint, b.count >= 12 else { return 0 }
        let pcfg: JSON = .object([("crop_pct", .number(value(b[3], b[4]))), ("mean", .array([.number(value(b[5], b[6]))])),
                                  ("std", .array([.number(value(b[7], b[8]))])), ("interpolation", .string("bicubic"))])
        let config: JSON = .object([("architecture", .string("vit_tiny")), ("model_args", .object([("num_heads", .number(2)), ("img_size", .number(8))])),
                                    ("pretrained_cfg", pcfg)])
        var options = ConvertOptions()
        if b[2] & 1 != 0 {
            options.preprocessorConfig = .object([("image_processor_type", .string("ViTImageProcessor")),
                                                  ("size", .object([("height", .number(8)), ("width", .number(8))])),
                                                  ("image_mean", .array([.number(value(b[9], b[10]))])),
                                                  ("image_std", .array([.number(value(b[10], b[11]))])),
                                                  ("rescale_factor", .number(b[2] & 2 == 0 ? 1.0 / 255 : value(b[11], b[9])))])
        }
        if b[2] & 4 != 0 { options.eps = Float(value(b[4], b[11])) }
        guard let c = try? Converter.convert(st, configJSON: config, options: options),
              let file = try? VitqFile.parse(c.vitqBytes(), path: "converted"),
              let model = try? VisionTransformer(file: file, kernels: .reference, source: "converted") else { return 0 }
        check(model, size: resize)
    }
    return 0
}

@_cdecl("FuzzFloatFields_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = tinyModel
    return fuzzerMain(argc, argv, fuzz)
}
