// JPEG (libjpeg-turbo; at full size or DCT-scaled) and PNG (libspng) decoding, then preprocessing into a model input,
// plain or the Pillow way (bit 1 of the first byte), with the default pixel budget: a header's size is checked before anything is allocated,
// so `-malloc_limit_mb` makes any allocation taken from a header on trust a finding. The
// first byte picks JPEG or PNG, so mutations stay within one format.
import FuzzDriver
import VitEdge

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let magic: [UInt8] = data[0] & 1 == 0 ? [0xFF, 0xD8, 0xFF] : [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    var bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if !bytes.starts(with: magic) { bytes = magic + bytes }
    var config = ViTConfig(imageHeight: 8, imageWidth: 8, channels: 3, patchSize: 4, dim: 8, depth: 1, heads: 1,
                           mlpDim: 8, numClasses: 2)
    // Bit 1: timm's eval transform (Pillow resampling, 8-bit, crop) instead of the plain resize.
    if data[0] & 2 != 0 { config.preprocessing = Preprocessing.timm(height: 8, width: 8, cropPct: 0.875, interpolation: .bicubic)! }
    var input = [Float](repeating: 0, count: 3 * 8 * 8)
    // Bit 2: EXIF orientation read (APP1 / eXIf) and applied. Bit 3: JPEGs decoded at 1/2,
    // 1/4 or 1/8 size where the 8x8 model's resize allows (--jpeg-scale auto).
    let scaling = data[0] & 8 != 0 ? JPEGScaling(config: config) : nil
    if let image = try? Image.decode(bytes, path: "fuzz", limits: .current, exifOrientation: data[0] & 4 != 0, jpegScaling: scaling) {
        _ = try? input.withUnsafeMutableBufferPointer { try Preprocess.apply(image, config: config, into: $0.baseAddress!) }
    }
    return 0
}

@_cdecl("FuzzJPEGPNG_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    return fuzzerMain(argc, argv, fuzz)
}
