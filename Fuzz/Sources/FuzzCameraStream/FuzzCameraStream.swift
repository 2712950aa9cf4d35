// Camera streams on standard input: raw frames (gray8, rgb24, yuv420p, nv12) and MJPEG,
// cut by FrameSplitter, decoded, and preprocessed the Pillow way (timm's crop), with the
// default pixel budget. The first byte picks MJPEG or a raw format; for raw, the next two
// bytes give the frame size (1...16), so mutations explore frames cut short and odd sizes.
import FuzzDriver
@_spi(Internals) import VitEdge

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 3 else { return 0 }
    let formats: [ImageView.Format] = [.gray8, .rgb8, .i420, .nv12]
    let mjpeg = data[0] & 1 == 0
    let format: StreamFormat = mjpeg ? .mjpeg : .raw(formats[Int(data[0] >> 1) & 3], width: Int(data[1] % 16) + 1, height: Int(data[2] % 16) + 1)
    var config = ViTConfig(imageHeight: 8, imageWidth: 8, channels: data[0] & 0x10 == 0 ? 3 : 1, patchSize: 4, dim: 8, depth: 1,
                           heads: 1, mlpDim: 8, numClasses: 2)
    config.preprocessing = Preprocessing.timm(height: 8, width: 8, cropPct: 0.875, interpolation: data[0] & 0x20 == 0 ? .bicubic : .bilinear)!
    var input = [Float](repeating: 0, count: 3 * 8 * 8)
    let body = UnsafeRawBufferPointer(start: data + (mjpeg ? 1 : 3), count: size - (mjpeg ? 1 : 3))
    let splitter = FrameSplitter(ByteInput(name: "fuzz", memory: body), format: format)
    var buffer: [UInt8] = []
    let decoder = JPEGDecoder()
    var frames = 0
    while frames < 64, let n = try? splitter.next(into: &buffer) {
        frames += 1
        input.withUnsafeMutableBufferPointer { out in
            switch format {
            case .raw(let f, let w, let h):
                buffer.withUnsafeBytes {
                    (try? Preprocessor(config: config, width: w, height: h, format: f))?
                        .apply(ImageView(format: f, width: w, height: h, data: $0.baseAddress!), into: out.baseAddress!)
                }
            case .mjpeg:
                guard let (w, h, c) = try? buffer.withUnsafeBytes({
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: $0[0..<n]), path: "fuzz")
                }) else { return }
                decoder.pixels.withUnsafeBytes {
                    let f: ImageView.Format = c == 1 ? .gray8 : .rgb8
                    (try? Preprocessor(config: config, width: w, height: h, format: f))?
                        .apply(ImageView(format: f, width: w, height: h, data: $0.baseAddress!), into: out.baseAddress!)
                }
            }
        }
    }
    return 0
}

@_cdecl("FuzzCameraStream_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    return fuzzerMain(argc, argv, fuzz)
}
