// PGM/PPM images (one, or a stream of concatenated ones), then preprocessing into a
// model input with resizing and channel conversion.
import VitEdge

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var limits = ResourceLimits()
    limits.maxImagePixels = 1 << 20
    var offset = 0
    let config = ViTConfig(imageHeight: 8, imageWidth: 8, channels: 3, patchSize: 4, dim: 8, depth: 1, heads: 1,
                           mlpDim: 8, numClasses: 2)
    var input = [Float](repeating: 0, count: 3 * 8 * 8)
    while offset < bytes.count, let (image, end) = try? Image.decodePNM(bytes, from: offset, path: "fuzz", limits: limits) {
        input.withUnsafeMutableBufferPointer { Preprocess.apply(image, config: config, into: $0.baseAddress!) }
        guard end > offset else { break }
        offset = end
    }
    return 0
}

// SwiftPM links executables through `FuzzImage_main`; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("FuzzImage_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runFuzzerDriver(&argc, &argv, fuzz)
}
