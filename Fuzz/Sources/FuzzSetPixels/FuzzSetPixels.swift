// The C API's vit_session_set_pixels with what a camera loop might hand it: any format
// number, width and height (up to 65536 on a side), row stride, buffer size (never more
// than the buffer really holds), and contents (float pixels from raw bits: NaN and
// infinities included), on a model whose preprocessing resizes the shorter side. Each
// call returns a status with a one-line message; a frame that is accepted runs, and its
// outputs are finite. Nothing aborts the host process.
import FuzzDriver
import VitEdgeC
import VitEdge
#if canImport(Glibc)
import Glibc
#endif

let root = repositoryRoot
nonisolated(unsafe) let session: OpaquePointer? = {
    guard let bytes = try? FileIO.read(root + "/models/mnist-vit.vitq") else { return nil }
    var m: OpaquePointer? = nil
    var s: OpaquePointer? = nil
    guard bytes.withUnsafeBytes({ vit_model_load_memory($0.baseAddress, UInt($0.count), nil, &m) }) == 0,
          vit_session_create(m, 2, 1, &s) == 0 else { return nil }
    return s
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 12, let session else { return 0 }
    let b = UnsafeBufferPointer(start: data, count: size)
    let format = Int32(Int8(bitPattern: b[0])) % 11  // -10...10: nine valid, the rest not
    // Sides up to 65536 (and a few past it), skewed to extremes: (1...16) << (0...12).
    func side(_ x: UInt8, _ y: UInt8) -> Int32 { Int32((1 + Int(x & 15)) << Int(x >> 4 & 15)) + Int32(y % 3) - 1 }
    let width = side(b[1], b[2]), height = side(b[3], b[4])
    let packedRow = Int(max(width, 0)) * [1, 3, 1, 1, 4, 12, 3, 4, 4, 1, 1][Int(abs(format)) % 11]
    let rowBytes = b[5] & 1 == 0 ? 0 : UInt(max(packedRow + Int(b[6]) - 8, 0))
    // The buffer: what the layout needs, give or take a few bytes, never over 24 MiB.
    let needed = (rowBytes == 0 ? packedRow : Int(rowBytes)) * Int(max(height, 0)) * 3 / 2 + 16
    let count = max(0, min(needed + Int(Int8(bitPattern: b[7])), 24 << 20))
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 4), alignment: 16)
    defer { buffer.deallocate() }
    let body = UnsafeBufferPointer(rebasing: b[12...])
    let fill = min(count, 1 << 16)
    for i in 0..<fill { buffer.storeBytes(of: body.isEmpty ? 0 : body[i % body.count], toByteOffset: i, as: UInt8.self) }
    if count > fill { memset(buffer + fill, Int32(b[8]), count - fill) }
    let offset = Int(b[9] & 3)  // misaligned float rows must be refused, not read
    let status = vit_session_set_pixels(session, Int32(b[10] % 4) - 1, format, buffer + min(offset, max(count - 1, 0)),
                                        UInt(max(count - offset, 0)), width, height, rowBytes)
    let message = String(cString: vit_last_error())
    if status != 0 {
        if message.isEmpty || message.contains("\n") { fatalError("status \(status) without a one-line message: '\(message)'") }
        return 0
    }
    // Accepted: both images of the batch given (the second a plain gray frame), run, read.
    var gray = [UInt8](repeating: 128, count: 28 * 28)
    let image = Int32(b[10] % 4) - 1
    if vit_session_set_pixels(session, image == 0 ? 1 : 0, 0, &gray, UInt(gray.count), 28, 28, 0) != 0 { fatalError("a plain frame refused") }
    if vit_session_run(session, 2) != 0 { return 0 }  // a model whose outputs are not finite says so
    var logits = [Float](repeating: 0, count: 10)
    if vit_session_output(session, 0, image, 0, &logits, 10) != 0 { fatalError("no logits after a run: \(String(cString: vit_last_error()))") }
    if logits.contains(where: { !$0.isFinite }) { fatalError("logits that are not finite returned as a result") }
    return 0
}

@_cdecl("FuzzSetPixels_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = session
    return fuzzerMain(argc, argv, fuzz)
}
