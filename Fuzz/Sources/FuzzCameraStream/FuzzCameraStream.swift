// Camera streams on standard input. Raw frames (gray8, rgb24, yuv420p, nv12; the first
// byte's low bit clear picks raw, the next two the size, 1...16) cut by FrameSplitter and
// preprocessed the Pillow way. MJPEG streams are built from real JPEGs, frame by frame
// as the input says: between frames nothing, zero padding, multipart boundary and part
// headers (IP cameras, ffmpeg -f mpjpeg), CR LF, or junk; inside a frame nothing, a cut,
// a byte changed, or a table's length damaged. The stream is read through a pipe-like
// input of 1...256-byte pieces. Invariant: every undamaged frame comes out whole and in
// order (frames after damage to an APPn segment excepted: its length is trusted, so it
// may run into the next frame), damaged ones are reported, nothing ends the stream.
import FuzzDriver
import VitEdge
import VitEdgeTestSupport
#if canImport(Glibc)
import Glibc
#endif

let root = repositoryRoot
let jpegs: [[UInt8]] = ["seed-jpeg-420.jpg", "seed-jpeg-gray.jpg", "seed-jpeg-444.jpg", "seed-jpeg-progressive.jpg", "seed-jpeg-422-odd.jpg"]
    .compactMap { try? FileIO.read(root + "/Fuzz/Corpus/jpeg-png/" + $0) }
    .map { $0.first == 0xFF ? $0 : Array($0.dropFirst()) }  // FuzzJPEGPNG's seeds start with its selector byte

/// The byte ranges of a JPEG's APPn and COM segments (marker to end), whose lengths the
/// splitter trusts, and the offsets of the other segments' length fields.
func layout(_ j: [UInt8]) -> (opaque: [Range<Int>], lengths: [Int]) {
    var p = 2, opaque: [Range<Int>] = [], lengths: [Int] = []
    while p + 4 <= j.count, j[p] == 0xFF {
        let m = j[p + 1]
        if m == 0xDA || m == 0xD9 { break }
        let n = Int(j[p + 2]) << 8 | Int(j[p + 3])
        if (0xE0...0xEF).contains(m) || m == 0xFE { opaque.append(p..<(p + 2 + n)) } else { lengths.append(p + 2) }
        p += 2 + n
    }
    return (opaque, lengths)
}
let layouts = jpegs.map(layout)
let debugStream = false

func config(_ b: UInt8) -> ViTConfig {
    var c = ViTConfig(imageHeight: 8, imageWidth: 8, channels: b & 0x10 == 0 ? 3 : 1, patchSize: 4, dim: 8, depth: 1,
                      heads: 1, mlpDim: 8, numClasses: 2)
    c.preprocessing = Preprocessing.timm(height: 8, width: 8, cropPct: 0.875, interpolation: b & 0x20 == 0 ? .bicubic : .bilinear)!
    return c
}

func preprocess(_ view: ImageView, _ c: ViTConfig) {
    var input = [Float](repeating: 0, count: 3 * 8 * 8)
    guard let p = try? Preprocessor(config: c, width: view.width, height: view.height, format: view.format) else { return }
    input.withUnsafeMutableBufferPointer { p.apply(view, into: $0.baseAddress!) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 3 else { return 0 }
    let b = Array(UnsafeBufferPointer(start: data, count: size))
    let c = config(b[0])
    if b[0] & 1 == 1 {
        // Raw frames of a fixed size, cut short anywhere.
        let formats: [ImageView.Format] = [.gray8, .rgb8, .i420, .nv12]
        let (f, w, h) = (formats[Int(b[0] >> 1) & 3], Int(b[1] % 16) + 1, Int(b[2] % 16) + 1)
        let body = Array(b[3...])
        body.withUnsafeBytes { raw in
            let splitter = FrameSplitter(ByteInput(name: "fuzz", memory: raw), format: .raw(f, width: w, height: h))
            var buffer: [UInt8] = []
            var frames = 0
            while frames < 64, let item = try? splitter.next(into: &buffer) {
                frames += 1
                guard case .frame = item else { continue }
                buffer.withUnsafeBytes { preprocess(ImageView(format: f, width: w, height: h, data: $0.baseAddress!), c) }
            }
        }
        return 0
    }
    guard !jpegs.isEmpty, b.count >= 8 else { return 0 }
    // Build the stream: (seed, gap, damage, position, value) per frame.
    var stream: [UInt8] = []
    var required: [[UInt8]] = []
    var trusted = true  // no damage yet inside a segment whose length is trusted
    var i = 2
    var count = 0
    while i + 5 <= b.count && count < 12 {
        let k = Int(b[i]) % jpegs.count
        var frame = jpegs[k]
        let at = Int(b[i + 3]) * frame.count / 256
        var damaged = true
        switch b[i + 2] % 8 {
        case 5: frame = Array(frame.prefix(max(at, 2)))  // cut short
        case 6: frame[max(at, 2)] = b[i + 4]             // a byte changed (past the SOI)
        case 7:
            let lengths = layouts[k].lengths
            guard !lengths.isEmpty else { damaged = false; break }
            let l = lengths[Int(b[i + 4]) % lengths.count]
            (frame[l], frame[l + 1]) = (0xFF, b[i + 4] | 0xC0)  // a table's length run long
        default: damaged = false
        }
        if damaged && b[i + 2] % 8 != 7 && layouts[k].opaque.contains(where: { $0.contains(max(at, 2)) || $0.upperBound == at }) { trusted = false }
        if damaged && frame == jpegs[k] { damaged = false }
        if debugStream { let m = "frame \(count) seed \(k) at \(stream.count) size \(frame.count) damage \(b[i + 2] % 8) at \(Int(b[i + 3]) * jpegs[k].count / 256) value \(b[i + 4]) gap \(b[i + 1] % 6)\n"; _ = m.withCString { write(2, $0, strlen($0)) } }
        stream += frame
        if !damaged && trusted { required.append(frame) }
        switch b[i + 1] % 6 {
        case 1: stream += [UInt8](repeating: 0, count: Int(b[i + 4] % 32))
        case 2: stream += Array("--boundary\r\nContent-Type: image/jpeg\r\nContent-Length: \(frame.count)\r\n\r\n".utf8)
        case 3: stream += [0x0D, 0x0A]
        case 4:
            // Junk with no FF D8 in it (that would be a frame's start).
            var junk = Array(b[(i + 1)..<min(b.count, i + 1 + Int(b[i + 4] % 24))])
            for j in junk.indices where junk[j] == 0xD8 { junk[j] = 0xD7 }
            if stream.last == 0xFF && junk.first == 0xD8 { junk[0] = 0 }
            stream += junk
        default: break
        }
        i += 5
        count += 1
    }
    // Read through pieces of 1...256 bytes, as a pipe hands them over.
    let input = ByteInput.pieces(of: stream, size: Int(b[1]) + 1, name: "fuzz")
    let splitter = FrameSplitter(input, format: .mjpeg)
    var buffer: [UInt8] = []
    var frames: [[UInt8]] = []
    let decoder = JPEGDecoder()
    while frames.count < 64, let item = try? splitter.next(into: &buffer) {
        if debugStream { let m = "item \(item) offset \(input.offset)\n"; _ = m.withCString { write(2, $0, strlen($0)) } }
        guard case .frame(let n) = item else { continue }
        frames.append(Array(buffer[0..<n]))
        if frames.count <= 2, let (w, h, ch) = try? buffer.withUnsafeBytes({ try decoder.decode(UnsafeRawBufferPointer(rebasing: $0[0..<n]), path: "fuzz") }) {
            decoder.pixels.withUnsafeBytes { preprocess(ImageView(format: ch == 1 ? .gray8 : .rgb8, width: w, height: h, data: $0.baseAddress!), c) }
        }
    }
    if debugStream { for f in frames + required { let m = "\(f.prefix(6)) ... \(f.suffix(4))\n"; _ = m.withCString { write(2, $0, strlen($0)) } } }
    if debugStream { let m = "required \(required.map(\.count)) frames \(frames.map(\.count)) stream \(stream.count)\n"; _ = m.withCString { write(2, $0, strlen($0)) } }
    // Every required frame, in order, among those cut.
    var next = 0
    for f in frames where next < required.count && f == required[next] { next += 1 }
    if next < required.count {
        fatalError("an undamaged frame was lost: \(required.count) required, \(next) found among \(frames.count) frames cut")
    }
    return 0
}

@_cdecl("FuzzCameraStream_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    return fuzzerMain(argc, argv, fuzz)
}
