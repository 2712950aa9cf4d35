// A whole .vitq file: the reader, then model binding (weights, shapes, packing) and
// planning. The header CRC is recomputed over the mutated header so mutations reach
// the LZ4 and JSON layers instead of stopping at the checksum.
import FuzzDriver
import VitEdge
import VitEdgeTestSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    FuzzSupport.fixHeaderCRC(&bytes)
    FuzzSupport.loadAndPlan(bytes)
    return 0
}

@_cdecl("FuzzVitq_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    return fuzzerMain(argc, argv, fuzz)
}
