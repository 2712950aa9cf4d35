// IDX data sets, plain or as an LZ4 frame, and their conversion to images.
import FuzzDriver
import VitEdge

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // The lazy reader over the bytes (LZ4 decompressed on the fly): it must end in
    // nil or an error within memory bounded by one item, however large the header's
    // claim. Items are read up to a count that keeps one input fast.
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    guard let idx = try? IDXReader(ByteInput(name: "fuzz.idx", memory: raw), path: "fuzz.idx"), idx.itemBytes <= 1 << 24 else { return 0 }
    var read = 0
    while read < 1 << 26, let item = (try? idx.next()) ?? nil { read += max(item.count, 1) }
    if idx.dims.count == 3 { _ = try? idx.nextImage() }
    return 0
}

@_cdecl("FuzzIDX_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    return fuzzerMain(argc, argv, fuzz)
}
