import XCTest
import Foundation
@testable import VitEdge

/// Runs the real `vit-edge` binary (built beside the test bundle) and checks its
/// output, exit status, and that every error is one line on stderr.
final class CLITests: CLITestCase {

    func testRunClassifiesSamples() throws {
        let r = try vitEdge(["run", model, sample("test-00000-digit7.pgm"), sample("test-00001-digit2.pgm")])
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n")
        XCTAssertTrue(lines[1].contains("1. 7"), r.out)
        XCTAssertTrue(r.out.contains("1. 2"), r.out)
    }

    func testRunJSON() throws {
        let r = try vitEdge(["run", model, sample("test-00003-digit0.pgm"), "--json", "--top-k", "2"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try JSON.parse(Array(r.out.utf8))
        XCTAssertEqual(obj["image"]?.string, sample("test-00003-digit0.pgm"))
        XCTAssertEqual(obj["top"]?.array?.count, 2)
        XCTAssertEqual(obj["top"]?.array?[0]["label"]?.string, "0")
        XCTAssertEqual(obj["logits"]?.array?.count, 10)
    }

    /// Photos in: JPEG and PNG files and folders of them run like PGM/PPM.
    func testRunOnJPEGAndPNG() throws {
        let images = fixture("images")
        let r = try vitEdge(["run", model, images + "/jpeg-420.jpg", images + "/png-rgba16.png", images + "/png-gray1.png",
                             "--json", "--top-k", "1"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out.split(separator: "\n").count, 3)
        let folder = try vitEdge(["run", model, images, "--top-k", "1"])
        XCTAssertEqual(folder.status, 0, folder.err)
        // 21 photos and the 21 PGM/PPM files of Pillow's pixels beside them, and the 11 EXIF
        // cases with theirs in the sub-folder exif/ (one level is read): two lines each.
        XCTAssertEqual(folder.out.split(separator: "\n").count, 2 * (42 + 22), folder.out)
    }

    /// `--jpeg-scale auto`: the demo photo (640x480, MNIST model resizing to 28) is decoded
    /// at 1/8 and still read as a 7, with logits close to the full decode's; a value that is
    /// neither auto nor off is a usage error; bench says what it decoded.
    func testJPEGScaleAuto() throws {
        let photo = repoFile("models/photos/digit7.jpg")
        let full = try vitEdge(["run", model, photo, "--json"])
        let scaled = try vitEdge(["run", model, photo, "--json", "--jpeg-scale", "auto"])
        XCTAssertEqual(full.status, 0, full.err)
        XCTAssertEqual(scaled.status, 0, scaled.err)
        let a = try JSON.parse(Array(full.out.utf8)), b = try JSON.parse(Array(scaled.out.utf8))
        XCTAssertEqual(a["top"]?.array?.first?["index"]?.int, 7)
        XCTAssertEqual(b["top"]?.array?.first?["index"]?.int, 7)
        let la = a["logits"]?.array?.compactMap(\.double) ?? [], lb = b["logits"]?.array?.compactMap(\.double) ?? []
        XCTAssertEqual(la.count, 10)
        XCTAssertNotEqual(la, lb, "a scaled decode sees other pixels")
        XCTAssertLessThan(zip(la, lb).map { abs($0 - $1) }.max() ?? 1, 0.5)
        let bad = try vitEdge(["run", model, photo, "--jpeg-scale", "half"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.err.hasPrefix("Error: The value 'half' is invalid for '--jpeg-scale"), bad.err)
        let bench = try vitEdge(["bench", model, "--image", photo, "--jpeg-scale", "auto", "--iterations", "3", "--warmup", "0"])
        XCTAssertEqual(bench.status, 0, bench.err)
        XCTAssertTrue(bench.out.contains("640x480 decoded at 80x60"), bench.out)
    }

    /// Help that reads well: each option's default said once (no hand-written default
    /// beside ArgumentParser's), `help` of something that is no subcommand an error, and
    /// each command that reads images naming the formats it really takes.
    func testHelpReadsWell() throws {
        let commands = ["run", "info", "convert", "eval", "bench", "bench-gemm", "quantize", "embed", "attention", "soak"]
        for c in commands {
            let r = try vitEdge([c, "--help"])
            XCTAssertEqual(r.status, 0, c)
            // Option blocks: a line starting "  --" or "  -x," up to the next such line.
            var blocks: [String] = []
            for line in r.out.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("  -") { blocks.append(String(line)) } else if !blocks.isEmpty { blocks[blocks.count - 1] += " " + line }
            }
            for b in blocks {
                XCTAssertLessThanOrEqual(b.components(separatedBy: "(default").count - 1, 1, "\(c): \(b)")
                XCTAssertLessThanOrEqual(b.components(separatedBy: "(values:").count - 1, 1, "\(c): \(b)")
            }
            XCTAssertLessThanOrEqual(blocks.filter { $0.hasPrefix("  --threads") }.count, 1, "\(c): --threads once")
        }
        for c in ["run", "attention", "embed"] {
            let r = try vitEdge([c, "--help"])
            XCTAssertTrue(r.out.contains("JPEG"), "\(c) --help names JPEG")
        }
        let nonsense = try vitEdge(["help", "nonsense"])
        XCTAssertEqual(nonsense.status, 64)
        XCTAssertTrue(nonsense.err.contains("no subcommand 'nonsense'"), nonsense.err)
        XCTAssertEqual(try vitEdge(["help", "run"]).status, 0)
        // A kernel set the command cannot use is not offered.
        XCTAssertFalse(try vitEdge(["bench-gemm", "--help"]).out.contains("reference"))
    }

    func testInfoShowsArenaAndKernels() throws {
        let r = try vitEdge(["info", model])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("arena"), r.out)
        XCTAssertTrue(r.out.contains("naive sum"), r.out)
        XCTAssertTrue(r.out.contains("kernels"), r.out)
        let j = try vitEdge(["info", model, "--json", "--kernels", "reference"])
        let obj = try JSON.parse(Array(j.out.utf8))
        XCTAssertLessThan(obj["arena_bytes"]!.int!, obj["naive_activation_bytes"]!.int!)
        XCTAssertEqual(obj["parameters"]?.int, 205_962)
    }

    func testEvalWithCompare() throws {
        // Under qemu the command is what is checked (the kernels' numbers are the suites'): 60 images.
        let n = emulated ? 60 : 300
        let r = try vitEdge(["eval", model, "--images", repoFile("models/mnist-test-images.idx3-ubyte.lz4"),
                             "--labels", repoFile("models/mnist-test-labels.idx1-ubyte.lz4"), "--limit", "\(n)",
                             "--compare", model, "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try JSON.parse(Array(r.out.utf8))
        XCTAssertEqual(obj["images"]?.int, n)
        XCTAssertGreaterThan(obj["accuracy"]!.double!, 0.95)
        XCTAssertEqual(obj["agreement"]?.double, 1)
        XCTAssertEqual(obj["max_abs_logit_diff"]?.double, 0)
        XCTAssertEqual(obj["per_class"]?.array?.count, 10)
    }

    func testEvalOnAFolderOfClassFolders() throws {
        let root = NSTemporaryDirectory() + "/vit-edge-folders-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for s in try FileManager.default.contentsOfDirectory(atPath: repoFile("models/samples")) where s.hasSuffix(".pgm") {
            let digit = String(s.split(separator: "digit")[1].prefix(1))
            try FileManager.default.createDirectory(atPath: root + "/" + digit, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: repoFile("models/samples/" + s), toPath: root + "/" + digit + "/" + s)
        }
        let r = try vitEdge(["eval", model, "--images", root, "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try JSON.parse(Array(r.out.utf8))
        XCTAssertEqual(obj["images"]?.int, 12)
        XCTAssertEqual(obj["accuracy"]?.double, 1)

        // Two threads: one decodes and preprocesses the next batch while the other runs it.
        // The same results, skipped image included, compared with the int8 file (the same
        // input tensor, copied) and with a model normalising otherwise (its own preprocessing).
        try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: root + "/3/broken.jpg"))
        let otherMean = root + "/other-mean.vitq"
        let converted = try vitEdge(["convert", repoFile("models/mnist-vit/model.safetensors"), "--config", repoFile("models/mnist-vit/config.json"),
                                     "--mean", "0.5", "--std", "0.5", "-o", otherMean])
        XCTAssertEqual(converted.status, 0, converted.err)
        for compared in [repoFile("models/mnist-vit-int8.vitq"), otherMean] {
            func eval(_ threads: String) throws -> (JSON, String) {
                let e = try vitEdge(["eval", model, "--images", root, "--batch", "5", "--compare", compared, "--json", "--threads", threads])
                XCTAssertEqual(e.status, 0, e.err)
                guard case .object(let fields) = try JSON.parse(Array(e.out.utf8)) else { return (.null, e.err) }
                return (.object(fields.filter { $0.0 != "images_per_second" }), e.err)
            }
            let (one, err1) = try eval("1"), (two, err2) = try eval("2")
            XCTAssertEqual(one.serialized(), two.serialized(), compared)
            XCTAssertEqual(err1, err2)
            XCTAssertEqual(one["images"]?.int, 12)
            XCTAssertEqual(one["skipped"]?.int, 1)
            XCTAssertTrue(err2.contains("broken.jpg"), err2)
        }
    }

    func testStreamFoldersIDXAndBatches() throws {
        let a = try Data(contentsOf: URL(fileURLWithPath: sample("test-00000-digit7.pgm")))
        let b = try Data(contentsOf: URL(fileURLWithPath: sample("test-00001-digit2.pgm")))
        let plain = Data("P2 2 2 255\n0 255 255 0\n".utf8)
        let s = try vitEdge(["run", model, "-", "--json", "--top-k", "1"], stdin: a + b + plain + a)
        XCTAssertEqual(s.status, 0, s.err)
        let lines = s.out.split(separator: "\n").map { try! JSON.parse(Array($0.utf8)) }
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines.map { $0["top"]!.array![0]["label"]!.string! }[0...1], ["7", "2"])
        XCTAssertEqual(lines[3]["image"]?.string, "-#3")
        // A folder and an IDX file, in batches of 5; the same answers as one by one.
        let batched = try vitEdge(["run", model, repoFile("models/samples"), "--batch", "5", "--json"])
        let single = try vitEdge(["run", model, repoFile("models/samples"), "--json"])
        XCTAssertEqual(batched.status, 0, batched.err)
        XCTAssertEqual(batched.out.split(separator: "\n").count, 12)
        let labels = { (o: String) in o.split(separator: "\n").map { try! JSON.parse(Array($0.utf8))["top"]!.array![0]["index"]!.int! } }
        XCTAssertEqual(labels(batched.out), labels(single.out))
        // The shipped LZ4 IDX file natively; under qemu an IDX file of 96 images made of the samples.
        var idxPath = repoFile("models/mnist-calibration-images.idx3-ubyte.lz4"), count = 512
        if emulated {
            count = 96
            idxPath = NSTemporaryDirectory() + "/vit-edge-idx-\(getpid()).idx3-ubyte"
            var idxFile = Data([0, 0, 8, 3, 0, 0, 0, UInt8(count), 0, 0, 0, 28, 0, 0, 0, 28])
            for i in 0..<count { idxFile += (i % 2 == 0 ? a : b).suffix(28 * 28) }
            try idxFile.write(to: URL(fileURLWithPath: idxPath))
        }
        defer { if emulated { try? FileManager.default.removeItem(atPath: idxPath) } }
        let idx = try vitEdge(["run", model, idxPath, "--batch", "64", "--top-k", "1"])
        XCTAssertEqual(idx.status, 0, idx.err)
        XCTAssertEqual(idx.out.split(separator: "\n").count, count * 2)
        // A truncated image at the end of the stream is an error, after the good ones.
        let t = try vitEdge(["run", model, "-", "--top-k", "1"], stdin: a + b.prefix(30))
        XCTAssertEqual(t.status, 1)
        XCTAssertTrue(t.out.contains("1. 7"), t.out)
        XCTAssertTrue(t.err.contains("pixel data"), t.err)
    }

    func testAttentionAndEmbed() throws {
        let dir = NSTemporaryDirectory() + "/vit-edge-see-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try vitEdge(["attention", model, sample("test-00000-digit7.pgm"), "-o", dir + "/a.png", "--heads"])
        XCTAssertEqual(r.status, 0, r.err)
        for f in ["a.png", "a.head0.png", "a.head3.png"] {
            let d = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))
            XCTAssertEqual(Array(d.prefix(4)), [0x89, 0x50, 0x4E, 0x47], f)
        }
        let roll = try vitEdge(["attention", model, sample("test-00000-digit7.pgm"), "-o", dir + "/r.ppm", "--rollout", "--scale", "2"])
        XCTAssertEqual(roll.status, 0, roll.err)
        XCTAssertEqual(try Image.load(path: dir + "/r.ppm").width, 56)
        let e = try vitEdge(["embed", model, sample("test-00000-digit7.pgm"), sample("test-00001-digit2.pgm"), "-o", dir + "/f.npy"])
        XCTAssertEqual(e.status, 0, e.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/f.npy")).count, 128 + 2 * 64 * 4)
        let j = try vitEdge(["embed", model, sample("test-00000-digit7.pgm")])
        let embedding = try JSON.parse(Array(j.out.utf8))["embedding"]?.array
        XCTAssertEqual(embedding?.count, 64)
        // --tokens: every token after the final norm; the class token's row is the embedding here.
        let t = try vitEdge(["embed", model, sample("test-00000-digit7.pgm"), sample("test-00001-digit2.pgm"), "--tokens", "-o", dir + "/t.npy"])
        XCTAssertEqual(t.status, 0, t.err)
        XCTAssertTrue(t.out.contains("float32 [2, 50, 64]"), t.out)
        let npy = try Data(contentsOf: URL(fileURLWithPath: dir + "/t.npy"))
        XCTAssertEqual(npy.count, 128 + 2 * 50 * 64 * 4)
        XCTAssertTrue(String(decoding: npy.prefix(128), as: UTF8.self).contains("'shape': (2 "), "the header's first dimension is the image count")
        let tj = try JSON.parse(Array(try vitEdge(["embed", model, sample("test-00000-digit7.pgm"), "--tokens"]).out.utf8))
        XCTAssertEqual(tj["prefix_tokens"]?.int, 1)
        XCTAssertEqual(tj["tokens"]?.array?.count, 50)
        XCTAssertEqual(tj["tokens"]?.array?[0].array?.map { $0.double! }, embedding?.map { $0.double! })
        let big = try vitEdge(["run", model, sample("test-00000-digit7.pgm"), "--image-size", "56", "--top-k", "1"])
        XCTAssertEqual(big.status, 0, big.err)
        let odd = try vitEdge(["run", model, sample("test-00000-digit7.pgm"), "--image-size", "30"])
        XCTAssertEqual(odd.status, 1)
        XCTAssertTrue(odd.err.contains("divisible"), odd.err)
    }

    func testMemoryBudgetFromTheEnvironment() throws {
        let bad = try vitEdge(["run", model, sample("test-00000-digit7.pgm")], environment: ["VIT_EDGE_MAX_MB": "0"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.err.contains("VIT_EDGE_MAX_MB"), bad.err)
        // The 806 KiB model fits a 1 MiB budget...
        let ok = try vitEdge(["run", model, sample("test-00000-digit7.pgm")], environment: ["VIT_EDGE_MAX_MB": "1"])
        XCTAssertEqual(ok.status, 0, ok.err)
        // ...a header declaring 1e6 pixels does not (1 MiB / 16 pixels), before any allocation.
        let big = NSTemporaryDirectory() + "/vit-edge-big-\(getpid()).pgm"
        defer { try? FileManager.default.removeItem(atPath: big) }
        FileManager.default.createFile(atPath: big, contents: Data("P5 1000 1000 255\n".utf8))
        let r = try vitEdge(["run", model, big], environment: ["VIT_EDGE_MAX_MB": "1"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("exceeds the limit"), r.err)
    }

    func testConvertThenRun() throws {
        let out = NSTemporaryDirectory() + "/vit-edge-cli-\(getpid()).vitq"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let dir = fixture("parity/vit-pytorch-cls/")
        let r = try vitEdge(["convert", dir + "model.safetensors", "--heads", "3", "--mean", "0.1307", "--std", "0.3081", "-o", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("vit-pytorch"), r.out)
        let run = try vitEdge(["run", out, sample("test-00000-digit7.pgm"), "--json"])
        XCTAssertEqual(run.status, 0, run.err)
    }

    func testQuantizeThenEval() throws {
        let out = NSTemporaryDirectory() + "/vit-edge-q-\(getpid()).vitq"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let q = try vitEdge(["quantize", model, "-o", out, "--calibration", repoFile("models/mnist-calibration-images.idx3-ubyte.lz4"),
                             "--samples", "32", "--activations", "static", "--method", "mse"])
        XCTAssertEqual(q.status, 0, q.err)
        XCTAssertTrue(q.out.contains("blocks.5.mlp.fc2"), q.out)
        XCTAssertTrue(q.out.contains("dB"), q.out)
        let e = try vitEdge(["eval", out, "--images", repoFile("models/mnist-test-images.idx3-ubyte.lz4"),
                             "--labels", repoFile("models/mnist-test-labels.idx1-ubyte.lz4"), "--limit", emulated ? "64" : "200",
                             "--compare", model, "--json"])
        XCTAssertEqual(e.status, 0, e.err)
        XCTAssertGreaterThanOrEqual(try JSON.parse(Array(e.out.utf8))["agreement"]!.double!, 0.98)
        let again = try vitEdge(["quantize", out, "-o", out + ".2"])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.err.contains("already quantized"), again.err)
        let info = try vitEdge(["info", repoFile("models/mnist-vit-int8.vitq")])
        XCTAssertTrue(info.out.contains("int8 GEMM vk_qs8_gemm"), info.out)
    }

    /// Every bad input ends with exit status 1 and exactly one line on stderr.
    func testErrorsAreOneLineAndNonZero() throws {
        let tmp = NSTemporaryDirectory() + "/vit-edge-bad-\(getpid())"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let good = try Data(contentsOf: URL(fileURLWithPath: model))
        func write(_ name: String, _ d: Data) -> String { let p = tmp + "/" + name; FileManager.default.createFile(atPath: p, contents: d); return p }
        let empty = write("empty.vitq", Data())
        let truncated = write("truncated.vitq", good.prefix(good.count / 2))
        var flipped = good
        flipped[good.count - 100] ^= 0xFF
        let corrupt = write("corrupt.vitq", flipped)
        let badImage = write("bad.pgm", Data("P5 28 28 255\n".utf8) + Data(repeating: 0, count: 10))
        let zeroWidth = write("zero.pgm", Data("P5 0 28 255\n".utf8))
        let maxval0 = write("maxval0.pgm", Data("P2 1 1 0\n0\n".utf8))
        let cases: [([String], String)] = [
            (["run", "/nonexistent.vitq", sample("test-00000-digit7.pgm")], "No such file"),
            (["run", empty, sample("test-00000-digit7.pgm")], "empty"),
            (["run", truncated, sample("test-00000-digit7.pgm")], "truncated"),
            (["run", corrupt, sample("test-00000-digit7.pgm")], "LZ4"),
            (["run", sample("test-00000-digit7.pgm"), sample("test-00000-digit7.pgm")], "magic"),
            (["run", model, badImage], "pixel data"),
            (["run", model, zeroWidth], "width"),
            (["run", model, maxval0], "maxval"),
            (["run", model, "/nonexistent.pgm"], "No such file"),
            (["info", tmp], "directory"),
            (["convert", model, "-o", tmp + "/x.vitq"], "already a .vitq"),
            (["eval", model, "--images", badImage, "--labels", badImage], "IDX"),
            (["run", model, sample("test-00000-digit7.pgm"), "--kernels", "avx9000"], "avx9000"),
        ]
        for (args, fragment) in cases {
            let r = try vitEdge(args)
            XCTAssertNotEqual(r.status, 0, "\(args) succeeded")
            XCTAssertLessThan(r.status, 128, "\(args) crashed (signal)")
            XCTAssertTrue(r.err.contains(fragment), "\(args): stderr '\(r.err)' lacks '\(fragment)'")
            if r.status == 1 { XCTAssertEqual(r.err.split(separator: "\n").count, 1, "\(args): \(r.err)") }
        }
    }
}
