// PGM/PPM images (one, or a stream of concatenated ones), then preprocessing into a
// model input with resizing and channel conversion.
import FuzzDriver
import VitEdge

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The default pixel cap (2^26): the data length is checked against the header before
    // the samples are allocated, so `-malloc_limit_mb` flags any header-sized allocation.
    let limits = ResourceLimits()
    var offset = 0
    let config = ViTConfig(imageHeight: 8, imageWidth: 8, channels: 3, patchSize: 4, dim: 8, depth: 1, heads: 1,
                           mlpDim: 8, numClasses: 2)
    var input = [Float](repeating: 0, count: 3 * 8 * 8)
    while offset < bytes.count, let (image, end) = try? Image.decodePNM(bytes, from: offset, path: "fuzz", limits: limits) {
        _ = try? input.withUnsafeMutableBufferPointer { try Preprocess.apply(image, config: config, into: $0.baseAddress!) }
        guard end > offset else { break }
        offset = end
    }
    return 0
}

@_cdecl("FuzzImage_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    return fuzzerMain(argc, argv, fuzz)
}
