/// The model's own eval transform, read from what its family ships: timm's
/// `pretrained_cfg` (in config.json) or Hugging Face's `preprocessor_config.json`.
extension Preprocessing {
    /// timm's `resolve_data_config` + `transforms_imagenet_eval`: interpolation (default
    /// bicubic), crop_pct (default 0.875), crop_mode (center or squash).
    package static func fromTimm(_ pcfg: JSON, input: (height: Int, width: Int), source: String) throws -> Preprocessing {
        func bad(_ expected: String, _ key: String) -> VitError {
            .badCheckpoint(path: source, expected: expected, found: pcfg[key].map { String($0.serialized().prefix(40)) } ?? "nothing",
                           hint: "pass --crop-pct and --interpolation to set the preprocessing yourself")
        }
        var filter = Resample.Filter.bicubic
        if let i = pcfg["interpolation"], i != .null {
            guard let s = i.string, let f = Resample.Filter(rawValue: s) else {
                throw bad("pretrained_cfg.interpolation one of \(Resample.Filter.allCases.map(\.rawValue).joined(separator: ", "))", "interpolation")
            }
            filter = f
        }
        var pct = 0.875
        if let p = pcfg["crop_pct"], p != .null {
            guard let v = p.double else { throw bad("pretrained_cfg.crop_pct a number", "crop_pct") }
            if let problem = cropPctProblem(v, height: input.height, width: input.width) { throw bad("pretrained_cfg.\(problem)", "crop_pct") }
            pct = v
        }
        var mode = "center"
        if let m = pcfg["crop_mode"], m != .null {
            guard let s = m.string, s == "center" || s == "squash" else {
                throw bad("pretrained_cfg.crop_mode 'center' or 'squash' ('border' pads and is not supported)", "crop_mode")
            }
            mode = s
        }
        if let b = pcfg["crop_border_pixels"], b != .null, b.int != 0 {
            throw bad("no crop_border_pixels (not supported)", "crop_border_pixels")
        }
        return timm(height: input.height, width: input.width, cropPct: pct, cropMode: mode, interpolation: filter)!
    }

    /// A Hugging Face image processor config (the PIL processors: ViTImageProcessor,
    /// DeiTImageProcessor and those with the same keys): do_resize, size ({height,
    /// width} or {shortest_edge}), resample, do_center_crop, crop_size, rescale_factor.
    /// Keys a file leaves out take the defaults of its `image_processor_type`.
    /// Returns the preprocessing and the mean/std it names (nil when it does not normalize).
    package static func fromHuggingFace(_ j: JSON, input: (height: Int, width: Int),
                                       source: String) throws -> (Preprocessing, mean: [Float]?, std: [Float]?) {
        func bad(_ expected: String, _ found: String) -> VitError {
            .badCheckpoint(path: source, expected: expected, found: found,
                           hint: "pass --crop-pct, --interpolation and --mean/--std to set the preprocessing yourself")
        }
        let type = j["image_processor_type"]?.string ?? ""
        let deit = type.hasPrefix("DeiTImageProcessor")
        guard type.isEmpty || type.hasPrefix("ViTImageProcessor") || deit || j["size"] != nil else {
            throw bad("a ViT or DeiT image processor config", "image_processor_type '\(type)' without size")
        }
        func dims(_ v: JSON?) -> (h: Int, w: Int)? {
            guard let v, let h = v["height"]?.int, let w = v["width"]?.int, h > 0, w > 0, h <= 1 << 16, w <= 1 << 16 else { return nil }
            return (h, w)
        }
        var p = Preprocessing(resampler: .pillow, crop: .huggingface)
        let code = j["resample"]?.int ?? (deit ? 3 : 2)
        guard let filter = Resample.Filter(pillowCode: code) else { throw bad("resample a Pillow filter number 0...5", "\(code)") }
        p.interpolation = filter
        let doResize = j["do_resize"]?.bool ?? true
        let doCrop = j["do_center_crop"]?.bool ?? deit
        var resized: (h: Int, w: Int)? = nil
        if doResize {
            if let size = j["size"] {
                if let n = size.int {
                    // A plain number (what google/vit-base-patch16-224 ships): a square, as
                    // transformers' get_size_dict makes it for these processors.
                    guard let s = dims(.object([("height", .number(Double(n))), ("width", .number(Double(n)))])) else {
                        throw bad("size in 1...65536", "\(n)")
                    }
                    p.resize = .size(height: s.h, width: s.w)
                    resized = s
                } else if let s = dims(size) {
                    p.resize = .size(height: s.h, width: s.w)
                    resized = s
                } else if let n = size["shortest_edge"]?.int, n > 0, n <= 1 << 16, size["longest_edge"] == nil {
                    p.resize = .shorterSide(n)
                } else {
                    throw bad("size {height, width} or {shortest_edge}", String(size.serialized().prefix(60)))
                }
            } else {
                let s = deit ? (256, 256) : (224, 224)
                p.resize = .size(height: s.0, width: s.1)
                resized = s
            }
        } else {
            throw bad("do_resize true (images of any size must become \(input.height)x\(input.width))", "do_resize false")
        }
        let crop = doCrop ? (dims(j["crop_size"]) ?? (deit ? (224, 224) : nil)) : nil
        if doCrop && crop == nil { throw bad("crop_size {height, width}", String((j["crop_size"]?.serialized() ?? "nothing").prefix(60))) }
        let final = crop ?? resized
        if let final, final.h != input.height || final.w != input.width {
            throw bad("images of the model's input size \(input.height)x\(input.width)",
                      "\(final.h)x\(final.w) after \(doCrop ? "crop_size" : "size")")
        }
        if let r = resized, r.h == input.height && r.w == input.width { p.resize = .toInput }
        if let f = j["rescale_factor"]?.double, abs(f - 1.0 / 255) > 1e-9, j["do_rescale"]?.bool ?? true {
            throw bad("rescale_factor 1/255", "\(f)")
        }
        var mean: [Float]? = nil, std: [Float]? = nil
        // Every entry a number (none dropped); one value stands for every channel.
        func values(_ key: String) throws -> [Float]? {
            guard let v = j[key], !v.isNull else { return nil }
            if let d = v.double { return [Float(d)] }
            guard let a = v.array, !a.isEmpty, a.count <= 4 else { throw bad("\(key) a number or a list of 1 to 4 numbers", String(v.serialized().prefix(60))) }
            return try a.map { e in
                guard let d = e.double else { throw bad("\(key) a list of numbers", String(v.serialized().prefix(60))) }
                return Float(d)
            }
        }
        if j["do_normalize"]?.bool ?? true {
            mean = try values("image_mean") ?? [0.5]
            std = try values("image_std") ?? [0.5]
        } else {
            (mean, std) = ([0], [1])  // no normalization: x / 255 only, for any channel count
        }
        return (p, mean, std)
    }
}
