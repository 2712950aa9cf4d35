import XCTest
import Foundation
import MallocCounter
@testable import VitEdge

/// Camera streams on standard input: raw frames (gray8, rgb24, yuv420p, nv12) and MJPEG,
/// cut into frames, classified one by one, skipping to the newest when they come faster.
final class CameraStreamTests: CLITestCase {
    /// The sample digits (28x28 gray) and their labels.
    func digits() throws -> [(label: String, pixels: [UInt8])] {
        try FileIO.list(repoFile("models/samples")).filter { $0.hasSuffix(".pgm") }.sorted().map { name in
            let image = try Image.load(path: sample(name))
            guard case .bytes(let b) = image.pixels else { throw VitError.invalidArgument("8-bit sample expected") }
            return (String(name.dropLast(4).last!), b)
        }
    }

    /// A gray picture as a BT.601 limited-range yuv420p frame (U = V = 128).
    func yuv420p(_ gray: [UInt8], width: Int, height: Int) -> [UInt8] {
        gray.map { UInt8((16 + Double($0) * 219 / 255).rounded()) } + [UInt8](repeating: 128, count: 2 * ((width + 1) / 2) * ((height + 1) / 2))
    }

    func labels(_ out: String) -> [(frame: String, label: String, skipped: Int)] {
        out.split(separator: "\n").map {
            let j = try! JSON.parse(Array($0.utf8))
            return (j["image"]!.string!, j["top"]!.array![0]["label"]!.string!, j["skipped"]?.int ?? -1)
        }
    }

    func testRawYUVFramesAreClassifiedFrameByFrame() throws {
        let d = try digits()
        let stream = d.flatMap { yuv420p($0.pixels, width: 28, height: 28) }
        let all = try vitEdge(["run", model, "-", "--raw", "yuv420p:28x28", "--frames", "all", "--json", "--top-k", "1"], stdin: Data(stream))
        XCTAssertEqual(all.status, 0, all.err)
        let got = labels(all.out)
        XCTAssertEqual(got.map(\.label), d.map(\.label), "every frame, in order, classified as its digit")
        XCTAssertEqual(got.map(\.frame), (0..<d.count).map { "-#\($0)" })
        XCTAssertTrue(got.allSatisfy { $0.skipped == 0 })
        // gray8 and rgb24 frames of the same digits give the same answers; nv12 too.
        let gray = try vitEdge(["run", model, "-", "--raw", "gray8:28x28", "--frames", "all", "--json", "--top-k", "1"],
                               stdin: Data(d.flatMap(\.pixels)))
        XCTAssertEqual(labels(gray.out).map(\.label), d.map(\.label))
        let rgb = try vitEdge(["run", model, "-", "--raw", "rgb24:28x28", "--frames", "all", "--json", "--top-k", "1"],
                              stdin: Data(d.flatMap { $0.pixels.flatMap { [$0, $0, $0] } }))
        XCTAssertEqual(labels(rgb.out).map(\.label), d.map(\.label))
        let nv12 = try vitEdge(["run", model, "-", "--raw", "nv12:28x28", "--frames", "all", "--json", "--top-k", "1"], stdin: Data(stream))
        XCTAssertEqual(labels(nv12.out).map(\.label), d.map(\.label))
    }

    func testFastStreamsSkipToTheNewestFrame() throws {
        // 200 frames written at once: more than are classified meanwhile. Every frame is
        // either classified or counted as skipped, the newest is always classified, and
        // frames are never classified out of order.
        let d = try digits()
        let frames = (0..<200).map { d[$0 % d.count] }
        let stream = frames.flatMap { yuv420p($0.pixels, width: 28, height: 28) }
        let r = try vitEdge(["run", model, "-", "--raw", "yuv420p:28x28", "--json", "--top-k", "1", "--threads", "1"], stdin: Data(stream))
        XCTAssertEqual(r.status, 0, r.err)
        let got = labels(r.out)
        XCTAssertEqual(got.count + got.reduce(0) { $0 + $1.skipped }, 200, "classified + skipped = frames")
        XCTAssertEqual(got.last?.frame, "-#199")
        let indices = got.map { Int($0.frame.dropFirst(2))! }
        XCTAssertEqual(indices, indices.sorted())
        XCTAssertEqual(Set(indices).count, indices.count)
        for (i, g) in zip(indices, got) { XCTAssertEqual(g.label, frames[i].label, "frame \(i)") }
        print("stream: \(got.count) of 200 frames classified, \(200 - got.count) skipped")
    }

    func testQueueHandsOverTheNewestFrame() throws {
        // Ten frames already complete before the consumer looks: it gets the tenth, and
        // is told nine were skipped; with `latest` off it gets all ten in order.
        let bytes = [UInt8]((0..<10).flatMap { [UInt8](repeating: UInt8($0), count: 4) })
        try bytes.withUnsafeBytes { raw in
            for latest in [true, false] {
                let splitter = FrameSplitter(ByteInput(name: "mem", memory: raw), format: .raw(.gray8, width: 2, height: 2))
                let q = FrameQueue(splitter, latest: latest)
                q.start()
                if latest { q.waitUntilEnded() }
                var seen: [(Int, Int, UInt8)] = []
                while let f = try q.takeFrame() {
                    seen.append((f.index, f.skipped, f.bytes[0]))
                    q.recycle(f)
                }
                if latest {
                    XCTAssertEqual(seen.count, 1)
                    XCTAssertEqual(seen.first?.0, 9)
                    XCTAssertEqual(seen.first?.1, 9)
                    XCTAssertEqual(seen.first?.2, 9)
                } else {
                    XCTAssertEqual(seen.map(\.0), Array(0..<10))
                    XCTAssertEqual(seen.map(\.2), (0..<10).map(UInt8.init))
                    XCTAssertTrue(seen.allSatisfy { $0.1 == 0 })
                }
            }
        }
    }

    func testMJPEGFramesSplitAtTheirOwnEnd() throws {
        let names = ["jpeg-420.jpg", "jpeg-gray.jpg", "jpeg-progressive.jpg", "jpeg-444.jpg"]
        var jpegs = try names.map { try FileIO.read(fixture("images/" + $0)) }
        // An APP1 segment holding a thumbnail's own SOI ... EOI must not end the frame.
        let thumb: [UInt8] = Array("Exif\0\0".utf8) + [0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xD9]
        let app1: [UInt8] = [0xFF, 0xE1, UInt8((thumb.count + 2) >> 8), UInt8((thumb.count + 2) & 0xFF)] + thumb
        jpegs[0] = Array(jpegs[0][0..<2]) + app1 + Array(jpegs[0][2...])
        let stream = jpegs.flatMap { $0 }
        try stream.withUnsafeBytes { raw in
            let s = FrameSplitter(ByteInput(name: "mem", memory: raw), format: .mjpeg)
            var buffer: [UInt8] = []
            var sizes: [Int] = []
            while let item = try s.next(into: &buffer) {
                guard case .frame(let n) = item else { return XCTFail("\(item)") }
                sizes.append(n)
                XCTAssertEqual(Array(buffer[0..<n]), jpegs[sizes.count - 1], "frame \(sizes.count - 1)")
            }
            XCTAssertEqual(sizes, jpegs.map(\.count))
        }
        // Through the CLI: one answer per frame; a stream cut mid-frame is one line naming
        // the frame, after the complete frames' answers.
        let r = try vitEdge(["run", model, "-", "--frames", "all", "--json", "--top-k", "1"], stdin: Data(stream))
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(labels(r.out).map(\.frame), ["-#0", "-#1", "-#2", "-#3"])
        let cut = try vitEdge(["run", model, "-", "--frames", "all", "--top-k", "1"], stdin: Data(stream.dropLast(100)))
        XCTAssertEqual(cut.status, 1)
        XCTAssertEqual(cut.out.split(separator: "\n").filter { $0.hasPrefix("-#") }.count, 3)
        XCTAssertEqual(cut.err.split(separator: "\n").count, 1, cut.err)
        XCTAssertTrue(cut.err.contains("stdin frame #3"), cut.err)
        // A corrupt frame is reported and the stream goes on.
        var corrupt = jpegs
        // Scan data replaced (no 0xFF, so the frame's structure and end stay): libjpeg's
        // warning about corrupt data is an error.
        let sos = (0..<(corrupt[1].count - 1)).first { corrupt[1][$0] == 0xFF && corrupt[1][$0 + 1] == 0xDA }!
        for i in (sos + 20)..<(corrupt[1].count - 2) { corrupt[1][i] = UInt8(truncatingIfNeeded: i * 37 % 251) }
        let c = try vitEdge(["run", model, "-", "--frames", "all", "--top-k", "1"], stdin: Data(corrupt.flatMap { $0 }))
        XCTAssertEqual(c.status, 1)
        XCTAssertTrue(c.err.contains("stdin frame #1"), c.err)
        XCTAssertEqual(c.out.split(separator: "\n").filter { $0.hasPrefix("-#") }.count, 3)
    }

    func testBadStreamArgumentsAreOneLine() throws {
        for (args, message) in [(["--raw", "yuv422:28x28"], "FORMAT:WxH"), (["--raw", "gray8:0x28"], "width and height"),
                                (["--raw", "gray8:28"], "width and height")] {
            let r = try vitEdge(["run", model, "-"] + args, stdin: Data([1, 2, 3]))
            XCTAssertEqual(r.status, 1)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertTrue(r.err.contains(message), r.err)
        }
        // A raw stream that ends mid-frame.
        let r = try vitEdge(["run", model, "-", "--raw", "gray8:28x28"], stdin: Data([UInt8](repeating: 0, count: 28 * 28 + 5)))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("stdin frame #1") && r.err.contains("784 bytes"), r.err)
    }
}

/// The per-frame work of a stream — split, decode, preprocess, forward — allocates
/// nothing once the first frame of a size has been seen.
final class StreamAllocationTests: XCTestCase {
    func testFramesAfterTheFirstAllocateNothing() throws {
        guard malloc_counter_read() >= 0 else { throw XCTSkip("malloc counting is not available in this build") }
        var c = try VisionTransformer(path: repoFile("models/mnist-vit.vitq")).config
        c.preprocessing = Preprocessing.timm(height: 28, width: 28, cropPct: 0.875, interpolation: .bicubic)!
        let jpeg = try FileIO.read(fixture("images/jpeg-420.jpg"))
        let decoder = JPEGDecoder()
        var input = [Float](repeating: 0, count: 28 * 28)
        let frame = [UInt8](repeating: 100, count: ImageView.byteCount(.i420, width: 64, height: 48)!)
        let raw = try Preprocessor(config: c, width: 64, height: 48, format: .i420)
        var mjpeg: Preprocessor? = nil
        func once() throws {
            try jpeg.withUnsafeBytes { data in
                let (w, h, ch) = try decoder.decode(data, path: "frame")
                if mjpeg == nil { mjpeg = try Preprocessor(config: c, width: w, height: h, format: ch == 1 ? .gray8 : .rgb8) }
                decoder.pixels.withUnsafeBytes { px in
                    input.withUnsafeMutableBufferPointer { mjpeg!.apply(ImageView(format: mjpeg!.format, width: w, height: h, data: px.baseAddress!), into: $0.baseAddress!) }
                }
            }
            frame.withUnsafeBytes { px in
                input.withUnsafeMutableBufferPointer { raw.apply(ImageView(format: .i420, width: 64, height: 48, data: px.baseAddress!), into: $0.baseAddress!) }
            }
        }
        try once()
        malloc_counter_reset()
        for _ in 0..<5 { try once() }
        let count = malloc_counter_read()
        // libjpeg-turbo allocates its per-image working memory through its own pool
        // (malloc inside the library, freed at the end of each image): counted here too.
        print("stream frame allocations: \(count) in 5 frames (JPEG + yuv420p)")
        XCTAssertLessThanOrEqual(count, 5 * 16, "preprocessing must not allocate per frame")
        malloc_counter_reset()
        for _ in 0..<5 {
            frame.withUnsafeBytes { px in
                input.withUnsafeMutableBufferPointer { raw.apply(ImageView(format: .i420, width: 64, height: 48, data: px.baseAddress!), into: $0.baseAddress!) }
            }
        }
        XCTAssertEqual(malloc_counter_read(), 0, "raw frames: yuv420p conversion, resampling and normalization allocate nothing")
    }
}

/// Raw camera frames give the pixels OpenCV's cvtColor gives (what Picamera2 and OpenCV
/// users compare with), and through timm's eval transform the tensor Pillow makes of
/// OpenCV's RGB (tools/make_camera_fixtures.py).
final class CameraColourTests: XCTestCase {
    func testYUVFramesEqualOpenCVsConversion() throws {
        var c = ViTConfig(imageHeight: 28, imageWidth: 28, channels: 3, patchSize: 4, dim: 8, depth: 1, heads: 1, mlpDim: 8,
                          numClasses: 2, mean: [0, 0, 0], std: [1, 1, 1])
        c.preprocessing = Preprocessing.timm(height: 28, width: 28, cropPct: 0.875, interpolation: .bicubic)!
        var checked = 0
        for name in ["nv12-64x48", "i420-64x48", "nv12-96x54", "i420-96x54"] {
            let base = fixture("camera/" + name)
            let yuv = try FileIO.read(base + ".yuv")
            let size = name.split(separator: "-")[1].split(separator: "x").map { Int($0)! }
            let (w, h) = (size[0], size[1])
            let format: ImageView.Format = name.hasPrefix("nv12") ? .nv12 : .i420
            let opencv = try Image.load(path: base + ".opencv.ppm")
            var rgb = [UInt8](repeating: 0, count: 3 * w * h)
            yuv.withUnsafeBytes { raw in
                rgb.withUnsafeMutableBufferPointer { ColorConversion.yuvToRGB(ImageView(format: format, width: w, height: h, data: raw.baseAddress!), into: $0.baseAddress!) }
            }
            XCTAssertEqual(Image(width: w, height: h, channels: 3, bytes: rgb).pixels, opencv.pixels, "\(name): differs from cv2.cvtColor")
            // Through the model's preprocessing: Pillow's resize of OpenCV's picture, exactly.
            let timm = try Image.load(path: base + ".timm28.ppm")
            guard case .bytes(let want) = timm.pixels else { return XCTFail("8-bit fixture") }
            var input = [Float](repeating: .nan, count: 3 * 28 * 28)
            try yuv.withUnsafeBytes { raw in
                let p = try Preprocessor(config: c, width: w, height: h, format: format)
                input.withUnsafeMutableBufferPointer { p.apply(ImageView(format: format, width: w, height: h, data: raw.baseAddress!), into: $0.baseAddress!) }
            }
            for ch in 0..<3 { for i in 0..<(28 * 28) {
                XCTAssertEqual(UInt8((input[ch * 784 + i] * 255).rounded()), want[i * 3 + ch], "\(name) channel \(ch) sample \(i)")
            } }
            checked += 1
        }
        XCTAssertEqual(checked, 4)
    }
}
