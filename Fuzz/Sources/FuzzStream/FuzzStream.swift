// The stdin stream of `run -`: concatenated PGM/PPM read incrementally by PNMStream, fed
// in pieces of 1 to 256 bytes (the first input byte picks the size). Differential: every
// frame must equal what the whole-buffer parser decodes at the same offset, and the two
// must fail on the same frame. The pixel cap bounds one frame's buffer (48 MB), so
// `-malloc_limit_mb` catches any allocation sized by a header beyond it.
import FuzzDriver
import VitEdge
import VitEdgeTestSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let step = Int(data[0]) + 1
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    var limits = ResourceLimits()
    limits.maxImagePixels = 1 << 22
    let input = ByteInput.pieces(of: bytes, size: step, bufferBytes: 97, name: "fuzz")
    let stream = PNMStream(input, limits: limits)
    var offset = 0
    while true {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C].contains(bytes[offset]) { offset += 1 }
        let whole = offset < bytes.count ? try? Image.decodePNM(bytes, from: offset, path: "fuzz", limits: limits) : nil
        let streamed: Image?
        do { streamed = try stream.next() } catch {
            if whole != nil { fatalError("the stream failed on a frame the whole-buffer parser decodes: \(error)") }
            return 0
        }
        guard let image = streamed else {
            if whole != nil { fatalError("the stream ended before a frame the whole-buffer parser decodes") }
            return 0
        }
        guard let (expected, end) = whole else { fatalError("the stream decoded a frame the whole-buffer parser refuses") }
        if expected.width != image.width || expected.height != image.height || expected.samples != image.samples {
            fatalError("the stream and the whole-buffer parser disagree on a frame")
        }
        offset = end
    }
}

@_cdecl("FuzzStream_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    return fuzzerMain(argc, argv, fuzz)
}
