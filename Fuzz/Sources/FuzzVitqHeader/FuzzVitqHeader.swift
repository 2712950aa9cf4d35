// The .vitq header's JSON (config and tensor table), wrapped into a valid file whose
// payload matches the sizes it declares: explores config and tensor-table
// validation, model binding and planning.
import VitEdge

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let bytes = FuzzSupport.vitqFile(headerJSON: Array(UnsafeBufferPointer(start: data, count: size))) else { return 0 }
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

// SwiftPM links executables through `FuzzVitqHeader_main`; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("FuzzVitqHeader_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runFuzzerDriver(&argc, &argv, fuzz)
}
