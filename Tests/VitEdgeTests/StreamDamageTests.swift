import XCTest
import Foundation
@testable import VitEdge
import VitEdgeTestSupport

/// Camera streams as they arrive in the field: padding and junk between MJPEG frames,
/// a frame cut short, a broken marker, multipart MJPEG from an IP camera, a frame that
/// never ends, an empty pipe. Every undamaged frame is answered; each damaged one is one
/// line; memory follows what the stream sent.
final class StreamDamageTests: CLITestCase {
    /// 60 JPEG frames (the fixtures' JPEGs in turn).
    func frames() throws -> [[UInt8]] {
        let names = ["jpeg-420.jpg", "jpeg-gray.jpg", "jpeg-progressive.jpg", "jpeg-444.jpg", "jpeg-422-odd.jpg"]
        let jpegs = try names.map { try FileIO.read(fixture("images/" + $0)) }
        return (0..<60).map { jpegs[$0 % jpegs.count] }
    }

    func answered(_ r: Result) -> [String] {
        r.out.split(separator: "\n").filter { $0.hasPrefix("-#") }.map { String($0.split(separator: " ")[0]) }
    }

    func testPaddingAndMultipartAreReadSilently() throws {
        let f = try frames()
        // Zero padding after each frame (some UVC webcams).
        let padded = try vitEdge(["run", model, "-", "--frames", "all", "--top-k", "1"],
                                 stdin: Data(f.flatMap { $0 + [UInt8](repeating: 0, count: 8) }))
        XCTAssertEqual(padded.status, 0, padded.err)
        XCTAssertEqual(answered(padded), (0..<60).map { "-#\($0)" })
        XCTAssertEqual(padded.err, "")
        // multipart/x-mixed-replace as `ffmpeg -f mpjpeg` writes it (and IP cameras serve).
        let multipart = f.flatMap { Array("--ffmpeg\r\nContent-type: image/jpeg\r\nContent-length: \($0.count)\r\n\r\n".utf8) + $0 + Array("\r\n".utf8) }
        let mp = try vitEdge(["run", model, "-", "--frames", "all", "--top-k", "1"], stdin: Data(multipart))
        XCTAssertEqual(mp.status, 0, mp.err)
        XCTAssertEqual(answered(mp).count, 60)
        XCTAssertEqual(mp.err, "")
    }

    func testDamageCostsOneLineAndTheStreamGoesOn() throws {
        let f = try frames()
        // Junk between frames: noted, every frame answered.
        let junk: [UInt8] = f.flatMap { $0 + [0x13, 0x37, 0xFF, 0x00, 0xFF, 0xD8, 0x42, 0x99] as [UInt8] }
        let j = try vitEdge(["run", model, "-", "--frames", "all", "--top-k", "1"], stdin: Data(junk))
        XCTAssertEqual(answered(j).count, 60, j.err)
        XCTAssertEqual(j.status, 0, "junk between frames is not a failed frame")
        XCTAssertTrue(j.err.split(separator: "\n").allSatisfy { $0.hasPrefix("vit-edge: note: stdin: skipped 8 bytes") }, j.err)
        // Frame 10 cut short (the next frame begins before its EOI), frame 20's marker broken.
        var g = f
        g[10] = Array(g[10].prefix(g[10].count / 2))
        let dqt = (0..<(g[20].count - 1)).first { g[20][$0] == 0xFF && g[20][$0 + 1] == 0xDB }!
        g[20][dqt] = 0x12
        let d = try vitEdge(["run", model, "-", "--frames", "all", "--top-k", "1"], stdin: Data(g.flatMap { $0 }))
        XCTAssertEqual(d.status, 1)
        XCTAssertEqual(answered(d), (0..<60).filter { $0 != 10 && $0 != 20 }.map { "-#\($0)" })
        let lines = d.err.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, d.err)
        XCTAssertTrue(lines[0].contains("stdin frame #10") && lines[0].contains("cut short"), d.err)
        XCTAssertTrue(lines[1].contains("stdin frame #20") && lines[1].contains("JPEG marker"), d.err)
        // A table's length damaged so that it runs into the next frame: that frame is
        // still answered (its bytes go back to the reader), through a pipe read in 4 KiB.
        var l = f
        let dht = (0..<(l[30].count - 1)).first { l[30][$0] == 0xFF && l[30][$0 + 1] == 0xC4 }!
        (l[30][dht + 2], l[30][dht + 3]) = (0xFF, 0xF0)
        let lengthDamage = l.flatMap { $0 }
        do {
            let s = FrameSplitter(.pieces(of: lengthDamage, size: 4096), format: .mjpeg)
            var buffer: [UInt8] = [], frames: [[UInt8]] = [], damaged = 0
            while let item = try s.next(into: &buffer) {
                switch item {
                case .frame(let n): frames.append(Array(buffer[0..<n]))
                case .damaged: damaged += 1
                case .note(let t): XCTFail(t)
                }
            }
            XCTAssertEqual(damaged, 1)
            XCTAssertEqual(frames, (0..<60).filter { $0 != 30 }.map { l[$0] }, "every other frame, byte for byte")
        }
        // A stream that ends inside a frame: the frames before it, one line, status 1.
        let cut = try vitEdge(["run", model, "-", "--frames", "all", "--top-k", "1"], stdin: Data(f.flatMap { $0 }.dropLast(50)))
        XCTAssertEqual(answered(cut).count, 59)
        XCTAssertEqual(cut.status, 1)
        XCTAssertTrue(cut.err.contains("stdin frame #59") && cut.err.contains("end of the stream"), cut.err)
    }

    /// Found by FuzzCameraStream: damage whose bytes look like structure. A frame cut just
    /// after a table's marker and one length byte (the next frame's FF D8 read as the
    /// rest of the length); cut so the table's length ends on the next frame's FF; cut, then
    /// junk that reads as an APPn marker whose "length" is the next frame's SOI; an APPn
    /// past the tables. Each costs one damaged frame, never the next one.
    func testDamageThatLooksLikeStructureCostsOneFrame() throws {
        let f = try frames()
        let g = f[0]  // jpeg-420: APP0, DQT, DQT, SOF0, DHT...
        let dht = (0..<(g.count - 1)).first { g[$0] == 0xFF && g[$0 + 1] == 0xC4 }!
        let dhtLength = Int(g[dht + 2]) << 8 | Int(g[dht + 3])
        let cases: [(String, [UInt8])] = [
            ("cut after a marker and one length byte", Array(g.prefix(dht + 3))),
            ("the table's length ending on the next frame's FF", Array(g.prefix(dht + 2 + dhtLength - 1))),
            ("the table's length ending on the next frame's FF D8", Array(g.prefix(dht + 2 + dhtLength - 2))),
            ("junk that reads as an APP1 marker", Array(g.prefix(dht)) + [0xFF, 0xE1]),
            ("an APPn after the tables", Array(g.prefix(dht)) + [0xFF, 0xE2, 0x7F, 0xF0, 1, 2, 3]),
        ]
        for (what, damaged) in cases {
            let stream = damaged + f[1] + f[2]
            try stream.withUnsafeBytes { raw in
                let s = FrameSplitter(ByteInput(name: "mem", memory: raw), format: .mjpeg)
                var buffer: [UInt8] = [], got: [[UInt8]] = [], bad = 0
                while let item = try s.next(into: &buffer) {
                    switch item {
                    case .frame(let n): got.append(Array(buffer[0..<n]))
                    case .damaged: bad += 1
                    case .note: break
                    }
                }
                XCTAssertEqual(bad, 1, what)
                XCTAssertTrue(got == [f[1], f[2]], "\(what): \(got.map(\.count)) instead of \([f[1].count, f[2].count])")
            }
        }
    }

    /// However the pipe hands the bytes over (pieces of 1, 7, 201 or 4096 bytes), every
    /// frame comes out whole.
    func testFramesSurviveAnyPieceSize() throws {
        let f = try frames()
        let stream: [UInt8] = f.flatMap { $0 + [0, 0, 0x0D, 0x0A] }
        for piece in [1, 7, 201, 4096] {
            let s = FrameSplitter(.pieces(of: stream, size: piece), format: .mjpeg)
            var buffer: [UInt8] = [], got: [[UInt8]] = []
            while let item = try s.next(into: &buffer) {
                guard case .frame(let n) = item else { return XCTFail("piece \(piece): \(item)") }
                got.append(Array(buffer[0..<n]))
            }
            XCTAssertEqual(got.count, f.count, "piece \(piece)")
            XCTAssertTrue(got == f, "piece \(piece): frames differ \(zip(got, f).first { $0 != $1 }.map { "\($0.0.count) vs \($0.1.count)" } ?? "")")
        }
    }

    func testStreamsThatAreNotFramesAreNamed() throws {
        let empty = try vitEdge(["run", model, "-"], stdin: Data())
        XCTAssertEqual(empty.status, 1)
        XCTAssertTrue(empty.err.contains("no frame") || empty.err.contains("stream was empty"), empty.err)
        let png = try vitEdge(["run", model, "-"], stdin: try Data(FileIO.read(fixture("images/png-rgb8.png"))))
        XCTAssertEqual(png.status, 1)
        XCTAssertTrue(png.err.contains("PNG"), png.err)
        XCTAssertEqual(png.err.split(separator: "\n").count, 1)
        // A raw size over the pixel limit is refused before any frame arrives.
        let huge = try vitEdge(["run", model, "-", "--raw", "rgb24:32768x32768"], stdin: Data())
        XCTAssertEqual(huge.status, 1)
        XCTAssertTrue(huge.err.contains("32768x32768") && huge.err.contains("limit"), huge.err)
    }

    func testMemoryFollowsWhatTheStreamSent() throws {
        var limits = ResourceLimits()
        limits.maxFileBytes = 1 << 20
        // A frame that never ends: cut off at the cap, the buffer never past it.
        let endless = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02] + [UInt8](repeating: 0x11, count: 3 << 20)
        try endless.withUnsafeBytes { raw in
            let s = FrameSplitter(ByteInput(name: "mem", memory: raw), format: .mjpeg, limits: limits)
            var buffer: [UInt8] = []
            guard case .damaged(let e)? = try s.next(into: &buffer) else { return XCTFail("expected a damaged frame") }
            XCTAssertTrue("\(e)".contains("at most \(1 << 20) bytes"), "\(e)")
            XCTAssertLessThanOrEqual(buffer.count, 1 << 20)
            XCTAssertNil(try s.next(into: &buffer), "nothing after it")
        }
        // A raw frame of 8192x8192 RGB announced, 100 bytes sent: the buffer holds what came.
        let bytes = [UInt8](repeating: 7, count: 100)
        try bytes.withUnsafeBytes { raw in
            let s = FrameSplitter(ByteInput(name: "mem", memory: raw), format: .raw(.rgb8, width: 8192, height: 8192))
            var buffer: [UInt8] = []
            guard case .damaged? = try s.next(into: &buffer) else { return XCTFail("expected a damaged frame") }
            XCTAssertLessThanOrEqual(buffer.count, 1 << 16)
        }
    }
}
