import XCTest
import Foundation
@testable import VitEdge
import VitEdgeTestSupport

/// Hostile and unusual inputs (issue 15): memory bounded by what an input really holds,
/// the stdin stream linear, outputs atomic, nothing guessed silently, strict parsers.
/// Memory is the peak RSS of a child process, measured by GNU time.
final class RobustnessTests: CLITestCase {
    // MARK: 1. IDX read lazily

    /// A 600 KiB LZ4 frame of 200,000 blank images (157 MB of pixels): commands that use
    /// ten or four of them read ten or four.
    func testLargeIDXIsReadOnlyAsFarAsUsed() throws {
        let dir = try temporaryFolder("idx")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let n = 200_000
        var raw = [UInt8](repeating: 0, count: 16 + n * 784)
        raw.replaceSubrange(0..<16, with: [0, 0, 8, 3] + be32(n) + be32(28) + be32(28))
        let images = dir + "/big-images.idx3-ubyte.lz4"
        try FileIO.write(images, raw.withUnsafeBytes { LZ4.compressFrame($0) })
        raw = []
        let labels = dir + "/big-labels.idx1-ubyte"
        try FileIO.write(labels, [0, 0, 8, 1] + be32(n) + [UInt8](repeating: 3, count: n))
        let eval = try vitEdgeMeasured(["eval", model, "--images", images, "--labels", labels, "--limit", "10"])
        XCTAssertEqual(eval.status, 0, eval.err)
        assertPeak(eval.peakMiB, below: 150, "eval --limit 10 of 200k images")
        let quantize = try vitEdgeMeasured(["quantize", model, "-o", dir + "/q.vitq", "--calibration", images, "--samples", "4"])
        XCTAssertEqual(quantize.status, 0, quantize.err)
        assertPeak(quantize.peakMiB, below: 150, "quantize --samples 4 of 200k images")
        // A frame cut short is an error where the data ends, not at the start.
        let cut = dir + "/cut.idx3-ubyte.lz4"
        let whole = try FileIO.read(images)
        try FileIO.write(cut, Array(whole.prefix(whole.count / 2)))
        let r = try IDXReader(path: cut)
        var read = 0
        XCTAssertThrowsError(try { while try r.nextImage() != nil { read += 1 } }()) { e in
            XCTAssertTrue("\(e)".contains("truncated"), "\(e)")
        }
        XCTAssertGreaterThan(read, 1000)
        // A plain file's size is checked against its header before anything is read.
        let short = dir + "/short.idx3-ubyte"
        try FileIO.write(short, [0, 0, 8, 3] + be32(n) + be32(28) + be32(28) + [1, 2, 3])
        XCTAssertThrowsError(try IDXReader(path: short)) { XCTAssertTrue("\($0)".contains("200000x28x28 bytes"), "\($0)") }
    }

    func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    // MARK: 2. The stdin stream: incremental and linear

    /// Frames arriving a few bytes at a time decode to what the whole-buffer parser gives,
    /// with every byte handed over once, and a bad header is an error at once.
    func testStreamReadsEachByteOnceAndReportsErrorsAtOnce() throws {
        let p5 = Array("P5 3 2 255\n".utf8) + [0, 1, 2, 3, 4, 255]
        let p6 = Array("P6\n# sixteen bits\n2 1\n65535\n".utf8) + [0, 1, 0xFF, 0xFF, 0x12, 0x34, 0, 0, 0, 7, 1, 0]
        let p2 = Array("P2 2 2 9\n0 9\n3 4".utf8)
        // Appended one by one: a single `+` chain is too slow for Swift 6.2's type checker.
        var stream: [UInt8] = p5
        stream += [0x0A]
        stream += p6
        stream += p6
        stream += [0x20, 0x0A]
        stream += p2
        var given = 0, calls = 0, step = 0
        let input = ByteInput(name: "test", bufferBytes: 64) { dst in
            calls += 1
            step = step % 7 + 1  // 1 to 7 bytes per read, as a pipe may deliver them
            let n = min(step, dst.count, stream.count - given)
            for i in 0..<n { dst[i] = stream[given + i] }
            given += n
            return n
        }
        let s = PNMStream(input)
        var samples: [[Float]] = []
        var storage: [UnsafePointer<Float>?] = []
        // The caller copies what it needs and lets go of the frame (as `run` does), so the
        // next frame of the same size is decoded into the same buffer.
        func take(_ im: Image) {
            samples.append(im.samples.map { $0 })  // a copy, not a second reference
            storage.append(im.samples.withUnsafeBufferPointer { $0.baseAddress })
        }
        while true {
            guard let im = try s.next() else { break }
            take(im)
        }
        XCTAssertEqual(s.index, 4)
        XCTAssertEqual(given, stream.count)
        XCTAssertLessThanOrEqual(calls, stream.count + 2)
        let last = try Image.decodePNM(p2, path: "x").image
        XCTAssertEqual(samples.last, last.samples)
        XCTAssertEqual(storage[1], storage[2], "two frames of one size share one buffer")
        // The whole-buffer parser agrees on every frame.
        var offset = 0
        var expected: [[Float]] = []
        while offset < stream.count {
            while offset < stream.count, PNM.isSpace(stream[offset]) { offset += 1 }
            let (im, end) = try Image.decodePNM(stream, from: offset, path: "x")
            expected.append(im.samples)
            offset = end
        }
        XCTAssertEqual(expected.count, 4)
        XCTAssertEqual(expected[1], [1 / Float(65535), 1, 0x1234 / Float(65535), 0, 7 / Float(65535), 256 / Float(65535)])
        XCTAssertEqual(samples, expected)
        // A wrong magic number is reported without waiting for more input.
        var asked = 0
        let bad = PNMStream(ByteInput(name: "bad") { dst in
            asked += 1
            if asked > 1 { XCTFail("read past the bad header") ; return 0 }
            let b = Array("P7 1 1 255\n".utf8)
            for i in 0..<b.count { dst[i] = b[i] }
            return b.count
        })
        XCTAssertThrowsError(try bad.next()) { XCTAssertTrue("\($0)".contains("P2, P3, P5 or P6"), "\($0)") }
        // A sample above maxval is refused in the binary form as in the plain one.
        XCTAssertThrowsError(try Image.decodePNM(Array("P5 1 1 100\n".utf8) + [101], path: "x")) {
            XCTAssertTrue("\($0)".contains("at most maxval 100"), "\($0)")
        }
    }

    /// A frame on stdin costs about what it costs as a file (no re-parsing per read).
    func testStdinFrameThroughThePipe() throws {
        let dir = try temporaryFolder("frame")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var frame = Array("P6 1000 750 255\n".utf8)
        var rng = Random(seed: 5)
        for _ in 0..<(1000 * 750 * 3) { frame.append(UInt8(truncatingIfNeeded: rng.next())) }
        let path = dir + "/frame.ppm"
        try FileIO.write(path, frame + frame)
        let file = try vitEdge(["run", model, path, "--json", "--top-k", "1"])
        let piped = try vitEdge(["run", model, "-", "--json", "--top-k", "1"], stdin: Data(frame + frame))
        XCTAssertEqual(file.status, 0, file.err)
        XCTAssertEqual(piped.status, 0, piped.err)
        let top = { (o: String) in o.split(separator: "\n").map { try! JSON.parse(Array($0.utf8))["logits"]! } }
        XCTAssertEqual(top(piped.out).count, 2)
        XCTAssertEqual(top(piped.out)[0], top(file.out)[0])
    }

    // MARK: 4. Images are checked before allocating

    func testHugeImageClaimsAreRefusedBeforeAllocating() throws {
        let dir = try temporaryFolder("claim")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let claim = dir + "/claim.ppm"
        try FileIO.write(claim, Array("P6 8192 8192 255\n".utf8) + [UInt8](repeating: 7, count: 100))
        XCTAssertEqual(try FileIO.read(claim).count, 117)
        let asFile = try vitEdgeMeasured(["run", model, claim])
        XCTAssertEqual(asFile.status, 1)
        XCTAssertTrue(asFile.err.contains("201326592 bytes of pixel data"), asFile.err)
        assertPeak(asFile.peakMiB, below: 60, "117-byte file claiming 8192x8192")
        let onStdin = try vitEdgeMeasured(["run", model, "-"], stdin: claim)
        XCTAssertEqual(onStdin.status, 1)
        XCTAssertTrue(onStdin.err.contains("stdin image #0"), onStdin.err)
        assertPeak(onStdin.peakMiB, below: 60, "117 bytes on stdin claiming 8192x8192")
        // Plain images: too few bytes for the samples claimed.
        XCTAssertThrowsError(try Image.decodePNM(Array("P2 8000 8000 255\n1 2 3".utf8), path: "p")) {
            XCTAssertTrue("\($0)".contains("too few"), "\($0)")
        }
    }

    // MARK: 3. Nothing guessed by the converter

    func testHeadsAreNeverGuessed() throws {
        let st = try Safetensors(bytes: Self.timmCheckpoint(dim: 192, patch: 16, image: 32), path: "vit.safetensors")
        func convert(_ config: String?) throws -> Conversion {
            try Converter.convert(st, configJSON: config.map { try JSON.parse(Array($0.utf8)) }, options: ConvertOptions())
        }
        // No config, a config without heads, an unknown architecture, a known one of another width.
        for config in [nil, "{}", #"{"architecture": "vit_custom_192"}"#, #"{"architecture": "vit_base_patch16_224"}"#] {
            XCTAssertThrowsError(try convert(config), config ?? "no config") { e in
                XCTAssertTrue("\(e)".contains("--heads"), "\(e)")
            }
        }
        // timm's hub config names the architecture (with a weights tag): its heads, if the width is its own.
        let named = try convert(#"{"architecture": "vit_tiny_patch16_224.augreg_in21k"}"#)
        XCTAssertEqual(named.config.heads, 3)
        XCTAssertEqual(named.origins.first { $0.field == "heads" }?.source, "timm architecture vit_tiny_patch16_224")
        let args = try convert(#"{"architecture": "vit_tiny_patch16_224", "model_args": {"num_heads": 4}}"#)
        XCTAssertEqual(args.config.heads, 4)
        XCTAssertEqual(args.origins.first { $0.field == "heads" }?.source, "config.json model_args.num_heads")
        // Every setting the tensors do not fix says where it came from.
        for field in ["heads", "image size", "eps", "gelu", "pool", "mean", "std", "labels"] {
            XCTAssertNotNil(args.origins.first { $0.field == field }, field)
        }
        XCTAssertTrue(args.origins.first { $0.field == "mean" }!.source.hasPrefix("default"))
        // A config value that is present but unusable is an error, not a reason to guess.
        XCTAssertThrowsError(try convert(#"{"model_args": {"num_heads": 3}, "pretrained_cfg": {"input_size": [3, 0, 32]}}"#)) {
            XCTAssertTrue("\($0)".contains("pretrained_cfg.input_size"), "\($0)")
        }
        XCTAssertThrowsError(try convert(#"{"model_args": {"num_heads": 3, "act_layer": "relu"}}"#)) {
            XCTAssertTrue("\($0)".contains("relu"), "\($0)")
        }
        XCTAssertEqual(try convert(#"{"model_args": {"num_heads": 3, "act_layer": "quick_gelu"}}"#).config.gelu, .quick)
        // The CLI prints the origins.
        let dir = try temporaryFolder("origins")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileIO.write(dir + "/m.safetensors", Self.timmCheckpoint(dim: 192, patch: 16, image: 32))
        try FileIO.write(dir + "/config.json", Array(#"{"architecture": "vit_tiny_patch16_224"}"#.utf8))
        let r = try vitEdge(["convert", dir + "/m.safetensors", "--config", dir + "/config.json", "-o", dir + "/m.vitq"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("from timm architecture vit_tiny_patch16_224"), r.out)
        XCTAssertTrue(r.out.contains("from default"), r.out)
    }

    /// A timm ViT checkpoint (one block, random weights) as safetensors bytes.
    static func timmCheckpoint(dim: Int, patch: Int, image: Int, channels: Int = 3, classes: Int = 4,
                               extra: [(String, [Int])] = []) -> [UInt8] {
        let n = (image / patch) * (image / patch)
        let tensors: [(String, [Int])] = [
            ("patch_embed.proj.weight", [dim, channels, patch, patch]), ("patch_embed.proj.bias", [dim]),
            ("cls_token", [1, 1, dim]), ("pos_embed", [1, n + 1, dim]),
            ("blocks.0.norm1.weight", [dim]), ("blocks.0.norm1.bias", [dim]),
            ("blocks.0.attn.qkv.weight", [3 * dim, dim]), ("blocks.0.attn.qkv.bias", [3 * dim]),
            ("blocks.0.attn.proj.weight", [dim, dim]), ("blocks.0.attn.proj.bias", [dim]),
            ("blocks.0.norm2.weight", [dim]), ("blocks.0.norm2.bias", [dim]),
            ("blocks.0.mlp.fc1.weight", [2 * dim, dim]), ("blocks.0.mlp.fc1.bias", [2 * dim]),
            ("blocks.0.mlp.fc2.weight", [dim, 2 * dim]), ("blocks.0.mlp.fc2.bias", [dim]),
            ("norm.weight", [dim]), ("norm.bias", [dim]), ("head.weight", [classes, dim]), ("head.bias", [classes]),
        ] + extra
        var rng = Random(seed: 11)
        return safetensors(tensors.map { ($0.0, $0.1, rng.floats($0.1.reduce(1, *), scale: 0.05)) })
    }

    /// Safetensors bytes of F32 tensors laid end to end.
    static func safetensors(_ tensors: [(String, [Int], [Float])], metadata: String? = nil) -> [UInt8] {
        var header: [String] = []
        var data: [UInt8] = []
        if let metadata { header.append(#""__metadata__": \#(metadata)"#) }
        for (name, shape, values) in tensors {
            let begin = data.count
            values.withUnsafeBytes { data += $0 }
            header.append(#""\#(name)": {"dtype": "F32", "shape": \#(shape), "data_offsets": [\#(begin), \#(data.count)]}"#)
        }
        var h = Array("{\(header.joined(separator: ", "))}".utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        let length: [UInt8] = (0..<8).map { (i: Int) -> UInt8 in UInt8((h.count >> (8 * i)) & 0xFF) }
        return length + h + data
    }

    // MARK: 5. The .vitq payload is its tensors

    func testPayloadBombAndOverlappingTensorsAreRefused() throws {
        let good = try VitqFile.load(path: model)
        func file(payloadBytes: Int, moving name: String? = nil, to offset: Int = 0) -> [UInt8] {
            let table = good.tensors.map { t -> JSON in
                .object([("name", .string(t.name)), ("dtype", .string(t.dtype.rawValue)),
                         ("shape", .array(t.shape.map { .number(Double($0)) })),
                         ("offset", .number(Double(t.name == name ? offset : t.offset)))])
            }
            let header = JSON.object([("config", good.config.toJSON()), ("tensors", .array(table)),
                                      ("payload", .object([("bytes", .number(Double(payloadBytes)))]))])
            return FuzzSupport.vitqFile(headerJSON: Array(header.serialized().utf8), maxPayload: payloadBytes)!
        }
        XCTAssertNoThrow(try VitqFile.parse(file(payloadBytes: good.payload.bytes), path: "ok"))
        // 64 MiB declared (of which the tensors are 0.8 MiB): refused before decompressing.
        XCTAssertThrowsError(try VitqFile.parse(file(payloadBytes: 64 << 20), path: "bomb")) {
            XCTAssertTrue("\($0)".contains("a payload of the tensors' \(good.payload.bytes) bytes"), "\($0)")
        }
        let second = good.tensors[1]
        XCTAssertThrowsError(try VitqFile.parse(file(payloadBytes: good.payload.bytes, moving: second.name, to: 0), path: "overlap")) {
            XCTAssertTrue("\($0)".contains("do not overlap"), "\($0)")
        }
    }

    // MARK: 6. Devices where a file is expected

    func testDevicesAreRefusedWithoutReading() throws {
        let dir = try temporaryFolder("dev")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ckpt = fixture("parity/timm-deit-distilled/model.safetensors")
        let cases: [[String]] = [
            ["run", "/dev/zero", sample("test-00000-digit7.pgm")],
            ["run", model, "/dev/zero"],
            ["info", "/dev/zero"],
            ["convert", "/dev/zero", "-o", dir + "/x.vitq"],
            ["convert", ckpt, "--config", "/dev/zero", "-o", dir + "/x.vitq"],
            ["convert", ckpt, "--heads", "3", "--labels", "/dev/zero", "-o", dir + "/x.vitq"],
            ["eval", model, "--images", "/dev/zero", "--labels", "/dev/zero"],
        ]
        for args in cases {
            let r = try vitEdgeMeasured(args)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertTrue(r.err.contains("/dev/zero: is a character device"), "\(args): \(r.err)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, "\(args): \(r.err)")
            assertPeak(r.peakMiB, below: 60, "\(args)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.vitq"))
    }

    // MARK: 7. Outputs are atomic

    /// With a file-size limit that stops the write (as a full disk would), the existing
    /// output is untouched and nothing is left behind; no command leaves a 0-byte file.
    func testFailedWritesLeaveExistingFilesIntact() throws {
        let dir = try temporaryFolder("atomic")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = dir + "/model.vitq"
        let original = Array("an existing good model".utf8)
        try FileIO.write(target, original)
        func limited(_ args: [String], blocks: Int) throws -> Result {
            let quoted = ([binary] + args).map { "'\($0)'" }.joined(separator: " ")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "ulimit -f \(blocks); exec \(quoted)"]
            let err = Pipe()
            p.standardOutput = FileHandle.nullDevice
            p.standardError = err
            try p.run()
            let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return Result(status: p.terminationStatus, out: "", err: e)
        }
        let convert = try limited(["convert", repoFile("models/mnist-vit/model.safetensors"), "--config",
                                   repoFile("models/mnist-vit/config.json"), "-o", target], blocks: 100)
        XCTAssertEqual(convert.status, 1, convert.err)
        XCTAssertTrue(convert.err.contains("could not write"), convert.err)
        XCTAssertEqual(try FileIO.read(target), original, "the existing file changed")
        let outputs: [([String], String)] = [
            (["quantize", model, "-o", dir + "/q.vitq"], "q.vitq"),
            (["embed", model, sample("test-00000-digit7.pgm"), sample("test-00001-digit2.pgm"), "-o", dir + "/f.npy"], "f.npy"),
            (["attention", model, sample("test-00000-digit7.pgm"), "-o", dir + "/a.png"], "a.png"),
        ]
        // Under qemu-user (make test-aarch64) a 1-block file-size limit kills the emulator
        // itself with SIGXFSZ, whatever the guest does: those three run natively only.
        if emulated { print("emulated: quantize/embed/attention under `ulimit -f 1` checked natively only (qemu dies of SIGXFSZ)") }
        for (args, name) in emulated ? [] : outputs {
            let r = try limited(args, blocks: 1)
            XCTAssertEqual(r.status, 1, "\(args): \(r.err)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/" + name), "\(name) was left behind")
        }
        XCTAssertEqual(try FileIO.list(dir), ["model.vitq"], "temporary files were left behind")
        // Without the limit the same commands write their files.
        let ok = try vitEdge(["convert", repoFile("models/mnist-vit/model.safetensors"), "--config",
                              repoFile("models/mnist-vit/config.json"), "-o", target])
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertEqual(try FileIO.read(target), try FileIO.read(model))
    }

    // MARK: 8. Standard output is checked

    func testOutputThatCannotBeWrittenIsAnError() throws {
        guard let full = FileHandle(forWritingAtPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
        for args in [["run", model, sample("test-00000-digit7.pgm"), "--json"], ["info", model],
                     ["embed", model, sample("test-00000-digit7.pgm")]] {
            let r = try vitEdge(args, stdout: full)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertTrue(r.err.contains("standard output: No space left on device"), "\(args): \(r.err)")
        }
    }

    // MARK: 9. The rest: empty folders, unsupported files, labels, strict parsers

    func testFoldersWithoutImagesAndSkippedFilesAreReported() throws {
        let dir = try temporaryFolder("folders")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        let empty = try vitEdge(["run", model, dir + "/empty"])
        XCTAssertEqual(empty.status, 1)
        XCTAssertTrue(empty.err.contains("an empty folder"), empty.err)
        try FileManager.default.createDirectory(atPath: dir + "/photos/7", withIntermediateDirectories: true)
        try FileIO.write(dir + "/photos/7/notes.txt", Array("not an image".utf8))
        let none = try vitEdge(["run", model, dir + "/photos"])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.err.contains("1 other files"), none.err)
        try FileManager.default.copyItem(atPath: sample("test-00000-digit7.pgm"), toPath: dir + "/photos/7/a.pgm")
        let eval = try vitEdge(["eval", model, "--images", dir + "/photos", "--json"])
        XCTAssertEqual(eval.status, 0, eval.err)
        XCTAssertTrue(eval.err.contains("skipped 1 file that is not") && eval.err.contains("notes.txt"), eval.err)
        let run = try vitEdge(["run", model, dir + "/photos"])
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertTrue(run.err.contains("notes.txt"), run.err)
    }

    /// Labels come from model files: a newline or an escape sequence in one is printed
    /// escaped, so it can neither forge a result line nor reach the terminal.
    func testLabelsArePrintedSafely() throws {
        let dir = try temporaryFolder("labels")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = try JSON.parse(try FileIO.read(repoFile("models/mnist-vit/config.json")))
        guard case var .object(pairs) = config else { return XCTFail() }
        var names = (0..<10).map { JSON.string(String($0)) }
        names[7] = .string("seven\n  1. 3         99.99%")
        names[2] = .string("\u{1B}[31mred")
        names[0] = .string("\u{202E}0lav\u{2066}")  // right-to-left override, isolate
        pairs.removeAll { $0.0 == "label_names" }
        pairs.append(("label_names", .array(names)))
        config = .object(pairs)
        try FileIO.write(dir + "/config.json", Array(config.serialized().utf8))
        let c = try vitEdge(["convert", repoFile("models/mnist-vit/model.safetensors"), "--config", dir + "/config.json", "-o", dir + "/m.vitq"])
        XCTAssertEqual(c.status, 0, c.err)
        let r = try vitEdge(["run", dir + "/m.vitq", sample("test-00000-digit7.pgm"), sample("test-00001-digit2.pgm"), "--top-k", "1"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out.split(separator: "\n").count, 4, r.out)
        XCTAssertTrue(r.out.contains("seven\\n  1. 3"), r.out)
        XCTAssertTrue(r.out.contains("\\x1b[31mred"), r.out)
        XCTAssertFalse(r.out.contains("\u{1B}"))
        let zero = try vitEdge(["run", dir + "/m.vitq", sample("test-00003-digit0.pgm"), "--top-k", "1"])
        XCTAssertTrue(zero.out.contains("\\u{202e}0lav\\u{2066}"), zero.out)
        XCTAssertFalse(zero.out.unicodeScalars.contains { (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) })
        // JSON output carries the label as it is, escaped by JSON.
        let j = try vitEdge(["run", dir + "/m.vitq", sample("test-00000-digit7.pgm"), "--json", "--top-k", "1"])
        XCTAssertEqual(try JSON.parse(Array(j.out.utf8))["top"]?.array?[0]["label"]?.string, "seven\n  1. 3         99.99%")
    }

    /// Floats from the command line are range-checked before any arithmetic: one line and
    /// status 1, never a trap (exit 132) or a file whose every logit is NaN.
    func testFloatOptionsAreRangeChecked() throws {
        let dir = try temporaryFolder("floats")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = ["convert", repoFile("models/mnist-vit/model.safetensors"), "--config", repoFile("models/mnist-vit/config.json"), "-o", dir + "/m.vitq"]
        for (extra, fragment) in [(["--crop-pct", "1e-20"], "crop_pct in"), (["--crop-pct", "nan"], "crop_pct in"),
                                  (["--std", "1e-45"], "std in"), (["--mean", "3e38"], "mean within"), (["--eps", "inf"], "epsilon")] {
            let r = try vitEdge(base + extra)
            XCTAssertEqual(r.status, 1, "\(extra): \(r.err)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertTrue(r.err.contains(fragment), "\(extra): \(r.err)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/m.vitq"))
        }
        // --image-size that crop_pct would take past 65536 pixels: one line, naming the option.
        let big = try vitEdge(["run", model, sample("test-00000-digit7.pgm"), "--image-size", "65532"])
        XCTAssertEqual(big.status, 1)
        XCTAssertTrue(big.err.contains("--image-size 65532x65532"), big.err)
    }

    func testSafetensorsLeniencyIsGone() throws {
        func expectBad(_ bytes: [UInt8], _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try Safetensors(bytes: bytes, path: "x"), line: line) { e in
                XCTAssertTrue("\(e)".contains(fragment), "'\(e)' lacks '\(fragment)'", line: line)
            }
        }
        let a: (String, [Int], [Float]) = ("a", [2], [1, 2]), b: (String, [Int], [Float]) = ("b", [1], [3])
        XCTAssertNoThrow(try Safetensors(bytes: Self.safetensors([a, b], metadata: #"{"format": "pt"}"#), path: "x"))
        expectBad(Self.safetensors([a, b], metadata: #"{"format": "onnx"}"#), #"format "onnx""#)
        expectBad(Self.safetensors([a, b]) + [0, 0, 0, 0], "4 after the last tensor")
        // Duplicate keys and overlapping ranges, by editing the header text.
        func edited(_ from: String, _ to: String) -> [UInt8] {
            let bytes = Self.safetensors([a, b])
            let n = Int(bytes[0])
            let text = String(decoding: bytes[8..<(8 + n)], as: UTF8.self).replacingOccurrences(of: from, with: to)
            var h = Array(text.utf8)
            while h.count % 8 != 0 { h.append(0x20) }
            let length: [UInt8] = (0..<8).map { (i: Int) -> UInt8 in UInt8((h.count >> (8 * i)) & 0xFF) }
            let rest: [UInt8] = Array(bytes[(8 + n)...])
            return length + h + rest
        }
        expectBad(edited(#""b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}"#,
                         #""a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}"#), "'a' twice")
        expectBad(edited(#""data_offsets": [8, 12]"#, #""data_offsets": [4, 8]"#), "overlaps")
        // Bytes that are not UTF-8 in a name.
        var bad = Self.safetensors([a, b])
        let i = bad.firstIndex(of: UInt8(ascii: "b"))!
        bad[i] = 0xFF
        expectBad(bad, "invalid UTF-8")
        // A shape beyond 2^53 is shown as written, not as -1.
        expectBad(edited(#""shape": [1]"#, #""shape": [4611686018427387904]"#), "[4611686018427387904]")
    }
}
