// Preprocessing of any source size, format and resize spec under an 8 MiB budget: the
// first bytes pick the source (format; width and height up to half a megapixel, so aspect
// ratios reach 524288:1), the resize (mode, filter, resampler, crop rounding, timm's
// crop_pct from a table of awkward floats), the model's input size; the rest are pixels.
// Invariants: the Preprocessor is refused with an error or it serves the image with
// outputs that are finite, and the heap it takes (ASan's allocation hooks) stays within
// the budget whatever the aspect ratio.
import FuzzDriver
import VitEdge

let budget = 8 << 20
let specialFloats: [Double] = [0, -0.0, 1e-45, 1e-38, 1e-20, 1e-6, 0.001, 0.1, 0.5, 0.875, 0.9, 0.95, 1, 1.0000001, 1.5,
                               255, 1e4, 1e20, 3e38, .infinity, -.infinity, .nan]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 10 else { return 0 }
    let formats = ImageView.Format.allCases
    let format = formats[Int(data[0]) % formats.count]
    // Sides from 1 to 4194304: (1...8) << (0...22), the product within 4 megapixels.
    func side(_ b: UInt8) -> Int { (1 + Int(b & 7)) << min(Int(b >> 3), 22) }
    var (w, h) = (side(data[1]), side(data[2]))
    while w * h > budget / 16 { if w > h { w /= 2 } else { h /= 2 } }
    let filters = Resample.Filter.allCases
    var c = ViTConfig(imageHeight: 1 + Int(data[4] % 64), imageWidth: 1 + Int(data[5] % 64), channels: data[3] & 0x80 == 0 ? 3 : 1,
                      patchSize: 1, dim: 8, depth: 1, heads: 1, mlpDim: 8, numClasses: 2)
    var p = Preprocessing(interpolation: filters[Int(data[3] >> 2) % filters.count],
                          resampler: data[3] & 2 == 0 ? .pillow : .pytorch, crop: data[3] & 1 == 0 ? .torchvision : .huggingface)
    if p.resampler == .pytorch && p.interpolation != .bicubic { p.interpolation = .bilinear }
    let n = 1 + Int(data[6]) * Int(data[7] % 4 + 1)  // resize sizes up to 1024
    switch data[8] % 5 {
    case 0: p.resize = .toInput
    case 1: p.resize = .shorterSide(n)
    case 2: p.resize = .keepRatio(height: n, width: 1 + Int(data[7]))
    case 3: p.resize = .size(height: n, width: 1 + Int(data[7]))
    default:
        let pct = specialFloats[Int(data[9]) % specialFloats.count]
        guard let t = Preprocessing.timm(height: c.imageHeight, width: c.imageWidth, cropPct: pct, cropMode: data[9] & 0x80 == 0 ? "center" : "squash",
                                         interpolation: p.interpolation) else {
            // Refused: the one check every crop_pct goes through must say why.
            if Preprocessing.cropPctProblem(pct, height: c.imageHeight, width: c.imageWidth) == nil && pct.isFinite {
                fatalError("crop_pct \(pct) refused without a reason")
            }
            return 0
        }
        p = t
    }
    c.preprocessing = p
    guard (try? c.validate()) != nil else { return 0 }
    // The source, filled from the input (finite floats in [0, 1]).
    let bytes = ImageView.byteCount(format, width: w, height: h)!
    var pixels = [UInt8](repeating: 0, count: bytes)
    let body = UnsafeBufferPointer(start: data + 10, count: size - 10)
    if format == .grayFloat || format == .rgbFloat {
        pixels.withUnsafeMutableBytes { raw in
            let f = raw.bindMemory(to: Float.self)
            for i in 0..<f.count { f[i] = body.isEmpty ? 0.5 : Float(body[i % body.count]) / 255 }
        }
    } else if !body.isEmpty {
        for i in 0..<min(bytes, 1 << 16) { pixels[i] = body[i % body.count] }
    }
    var out = [Float](repeating: 0, count: c.channels * c.imageHeight * c.imageWidth)
    let start = HeapWatch.begin()
    pixels.withUnsafeBytes { raw in
        let view = ImageView(format: format, width: w, height: h, data: raw.baseAddress!)
        guard let pre = try? Preprocessor(config: c, width: w, height: h, format: format, limits: ResourceLimits(budget: budget)) else { return }
        out.withUnsafeMutableBufferPointer { pre.apply(view, into: $0.baseAddress!) }
    }
    let taken = HeapWatch.peak(since: start)
    if taken > budget {
        fatalError("preprocessing \(w)x\(h) \(format) to \(c.channels)x\(c.imageHeight)x\(c.imageWidth) (\(p.summary)) took \(taken) bytes of heap, over the \(budget)-byte budget")
    }
    if out.contains(where: { !$0.isFinite }) { fatalError("preprocessing gave a sample that is not finite") }
    return 0
}

@_cdecl("FuzzPreprocess_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    return fuzzerMain(argc, argv, fuzz)
}
