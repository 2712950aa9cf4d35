// A whole .vitq file: the reader, then model binding (weights, shapes, packing) and
// planning. The header CRC is recomputed over the mutated header so mutations reach
// the LZ4 and JSON layers instead of stopping at the checksum.
import VitEdge

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    FuzzSupport.fixHeaderCRC(&bytes)
    var limits = ResourceLimits()
    limits.maxModelBytes = 64 << 20
    limits.maxArenaBytes = 256 << 20
    if let file = try? VitqFile.parse(bytes, path: "fuzz.vitq", limits: limits),
       let kernels = try? Kernels.select(.auto),
       let model = try? VisionTransformer(file: file, kernels: kernels, source: "fuzz.vitq") {
        _ = try? InferenceSession(model: model, batchSize: 1, limits: limits)
    }
    return 0
}

// SwiftPM links executables through `FuzzVitq_main`; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("FuzzVitq_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runFuzzerDriver(&argc, &argv, fuzz)
}
