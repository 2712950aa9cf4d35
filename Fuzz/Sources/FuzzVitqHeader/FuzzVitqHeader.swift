// The .vitq header's JSON (config and tensor table), wrapped into a valid file whose
// payload matches the sizes it declares: explores config and tensor-table
// validation, model binding and planning.
import FuzzDriver
import VitEdge
import VitEdgeTestSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let bytes = FuzzSupport.vitqFile(headerJSON: Array(UnsafeBufferPointer(start: data, count: size))) else { return 0 }
    FuzzSupport.loadAndPlan(bytes)
    return 0
}

@_cdecl("FuzzVitqHeader_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    return fuzzerMain(argc, argv, fuzz)
}
