import ArgumentParser
import VitEdge
#if canImport(Glibc)
import Glibc
#endif

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure load time, latency percentiles, throughput, arena size and peak memory.",
        discussion: "The input is a fixed synthetic image batch; timing covers forward() only. Compare --threads 1 and more.")

    @Argument(help: "The .vitq model.")
    var model: String

    @Option(help: "Images per forward pass.")
    var batch = 1

    @Option(help: "Timed forward passes (after warm-up).")
    var iterations = 200

    @Option(help: "Untimed forward passes first.")
    var warmup = 10

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: "Also time decoding this image (JPEG, PNG, PGM/PPM) and preprocessing it into the input.")
    var image: String?

    @Option(help: "--image holds one raw frame of this format and size (e.g. nv12:1920x1080): time its preprocessing, as a camera stream's.")
    var raw: String?

    @OptionGroup var imageOptions: ImageOptions

    @OptionGroup var options: ModelOptions

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard batch >= 1 && batch <= 4096 else { throw ValidationError("--batch must be 1...4096") }
        guard iterations >= 1 && iterations <= 10_000_000 else { throw ValidationError("--iterations must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be at least 0") }
        guard raw == nil || image != nil else { throw ValidationError("--raw describes the file given with --image") }
    }

    func run() {
        guarded {
            let vit = try options.load(model)
            let session = try InferenceSession(model: vit, batchSize: batch, threads: threads.count)
            for i in 0..<session.input.count { session.input[i] = Float((i * 7) % 255) / 255 - 0.5 }
            for _ in 0..<warmup { session.forward() }
            var times: [Double] = []
            times.reserveCapacity(iterations)
            for _ in 0..<iterations {
                let t0 = Clock.now()
                session.forward()
                times.append(Clock.now() - t0)
            }
            times.sort()
            func pct(_ p: Double) -> Double { times[min(times.count - 1, Int((Double(times.count - 1) * p).rounded()))] * 1000 }
            // The image path: decode, then the model's preprocessing into the input (one
            // Preprocessor kept, as a stream keeps it), each timed separately; medians.
            var imageTimes: (decode: Double, preprocess: Double, width: Int, height: Int)? = nil
            var imageNote = ""
            if let image {
                let bytes = try FileIO.read(image)
                var decode: [Double] = [], prep: [Double] = []
                var preprocessor: Preprocessor? = nil
                let scaling = imageOptions.jpegScaling(for: vit.config)
                var rawFrame: (format: ImageView.Format, width: Int, height: Int)? = nil
                if let raw {
                    guard case .raw(let f, let w, let h) = try StreamFormat.parseRaw(raw) else {
                        throw VitError.invalidArgument("--raw: a raw format such as nv12:1920x1080")
                    }
                    guard let n = ImageView.byteCount(f, width: w, height: h), n <= bytes.count else {
                        throw VitError.badImage(path: image, expected: "one \(raw) frame (\(ImageView.byteCount(f, width: w, height: h) ?? 0) bytes)",
                                                found: "\(bytes.count) bytes")
                    }
                    rawFrame = (f, w, h)
                }
                for _ in 0..<max(iterations, 5) {
                    let t0 = Clock.now()
                    // A raw frame needs no decoding: it is used where it lies, as a stream's frames are.
                    let im = rawFrame == nil ? try Image.decode(bytes, path: image, limits: .current, jpegScaling: scaling) : nil
                    let t1 = Clock.now()
                    func prepare(_ view: ImageView) throws {
                        if preprocessor == nil {
                            preprocessor = try Preprocessor(config: vit.config, width: view.width, height: view.height, format: view.format, name: image,
                                                            resampling: vit.kernels.resampling)
                        }
                        session.setInput(view, at: 0, using: preprocessor!)
                    }
                    if let im {
                        try im.withView(prepare)
                    } else if let (f, w, h) = rawFrame {
                        try bytes.withUnsafeBytes { try prepare(ImageView(format: f, width: w, height: h, data: $0.baseAddress!)) }
                    }
                    let t2 = Clock.now()
                    decode.append(t1 - t0)
                    prep.append(t2 - t1)
                }
                func median(_ t: [Double]) -> Double { t.sorted()[t.count / 2] * 1000 }
                imageTimes = (median(decode), median(prep), preprocessor!.width, preprocessor!.height)
                if let rawFrame {
                    imageNote = "\(rawFrame.format.rawValue) frame "
                } else if scaling != nil {
                    let full = try Image.decode(bytes, path: image)
                    imageNote = "\(full.width)x\(full.height) decoded at "
                }
            }
            let p50 = pct(0.5), p90 = pct(0.9), p99 = pct(0.99)
            let ips = Double(batch) / (p50 / 1000)
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let rss = Int(usage.ru_maxrss) * 1024
            if json {
                // Built in parts: Swift 6.2's type checker gives up on one literal this size.
                var int8Kernel = JSON.null
                if let q = vit.quantizationSummary { int8Kernel = .string(q.kernel) }
                let latency: [(String, JSON)] = [("p50", .number(p50)), ("p90", .number(p90)), ("p99", .number(p99)),
                                                 ("min", .number(times[0] * 1000))]
                var fields: [(String, JSON)] = [
                    ("model", .string(model)), ("batch", .number(Double(batch))), ("iterations", .number(Double(iterations))),
                    ("kernels", .string(vit.kernels.gemmName)), ("int8_kernel", int8Kernel),
                    ("threads", .number(Double(session.threads))),
                ]
                fields += [("latency_ms", .object(latency)), ("images_per_second", .number(ips)),
                           ("load_ms", .number(vit.loadSeconds * 1000))]
                fields += [("arena_bytes", .number(Double(session.arenaBytes))), ("peak_rss_bytes", .number(Double(rss)))]
                if let t = imageTimes, let image {
                    let described: [(String, JSON)] = [
                        ("path", .string(image)), ("width", .number(Double(t.width))), ("height", .number(Double(t.height))),
                        ("decode_ms", .number(t.decode)), ("preprocess_ms", .number(t.preprocess)),
                        ("raw", raw.map { .string($0) } ?? .null), ("jpeg_scale", .string(imageOptions.jpegScale.rawValue)),
                        ("resampling", .string(vit.kernels.resampling?.name ?? "reference")),
                    ]
                    fields.append(("image", .object(described)))
                }
                say(JSON.object(fields).serialized())
                return
            }
            say("model        \(model), batch \(batch), \(iterations) iterations, \(session.threads) thread\(session.threads == 1 ? "" : "s")")
            say("kernels      \(vit.kernels)")
            say("latency      p50 \(fixed(p50, 3)) ms, p90 \(fixed(p90, 3)) ms, p99 \(fixed(p99, 3)) ms (min \(fixed(times[0] * 1000, 3)) ms)")
            say("throughput   \(fixed(ips, 1)) images/s (at p50)")
            say("load         \(fixed(vit.loadSeconds * 1000, 2)) ms (read, decompress, validate, pack)")
            say("memory       arena \(bytes(session.arenaBytes)), peak RSS \(bytes(rss))")
            if let t = imageTimes {
                say("image        \(imageNote)\(t.width)x\(t.height): decode \(fixed(t.decode, 3)) ms, preprocess \(fixed(t.preprocess, 3)) ms (\(vit.config.preprocessing.summary); resampling \(vit.kernels.resampling?.name ?? "reference")), medians")
            }
        }
    }
}
