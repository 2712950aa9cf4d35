// IDX data sets, plain or as an LZ4 frame, and their conversion to images.
import FuzzDriver
import VitEdge

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var limits = ResourceLimits()
    limits.maxFileBytes = 16 << 20
    if let idx = try? IDX.decode(bytes, path: "fuzz.idx", limits: limits), idx.data.count < 1 << 22 {
        _ = try? idx.images(path: "fuzz.idx")
    }
    return 0
}

@_cdecl("FuzzIDX_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    return fuzzerMain(argc, argv, fuzz)
}
