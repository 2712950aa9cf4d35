import ArgumentParser
import VitEdge
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Classify images with a .vitq model.",
        discussion: """
            Inputs are JPEG, PNG, PGM or PPM files, folders of them, IDX files (plain or .lz4), \
            or - for a stream on standard input: MJPEG (concatenated JPEGs, e.g. `ffmpeg -f mjpeg -`, \
            or multipart/x-mixed-replace from an IP camera, e.g. `curl http://camera/video`), \
            raw camera frames described by --raw (e.g. `rpicam-vid --codec yuv420 -o -` with \
            --raw yuv420p:640x480), or concatenated PGM/PPM images. Camera frames (raw, MJPEG) \
            are printed with their latency as soon as they are classified, and skip to the \
            newest complete frame when frames come faster than they are classified, saying how \
            many were skipped (--frames all classifies every one). A damaged frame is one line \
            on stderr and the stream goes on.
            """)

    @Argument(help: "The .vitq model.")
    var model: String

    @Argument(help: "Images (JPEG, PNG, PGM, PPM), folders of them, IDX files, or - for standard input.")
    var images: [String]

    @Option(name: .customLong("top-k"), help: "How many classes to show per image.")
    var topK = 3

    @Option(help: "Images per forward pass (files, folders and IDX; a stream runs one at a time).")
    var batch = 1

    @Flag(help: "One JSON object per image and line.")
    var json = false

    @Option(help: "Standard input carries raw frames of this format and size: gray8, rgb24, bgr24, rgbx32, bgrx32, yuv420p or nv12, e.g. yuv420p:640x480.")
    var raw: String?

    @Option(help: "For a stream: latest (skip to the newest frame; default for raw and MJPEG) or all (every frame, in order; default for PGM/PPM).")
    var frames: FramePolicy?

    enum FramePolicy: String, ExpressibleByArgument { case latest, all }

    @OptionGroup var options: ModelOptions

    @OptionGroup var threads: ThreadOptions

    @OptionGroup var imageOptions: ImageOptions

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard batch >= 1 && batch <= 4096 else { throw ValidationError("--batch must be 1...4096") }
        guard images.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("standard input (-) can be read once") }
        guard raw == nil || images.contains("-") else { throw ValidationError("--raw describes standard input: give - as an image") }
    }

    func run() {
        guarded {
            let vit = try options.load(model)
            let c = vit.config
            guard c.numClasses > 0 else {
                throw VitError.invalidArgument("\(model) has no classification head; it outputs features (see `vit-edge embed`)")
            }
            // With two threads or more, one thread decodes and preprocesses the next images
            // (a batch ahead) while the others run the forward pass. A single
            // photo has no next image: its preprocessing (rows split) and its forward pass
            // take every thread instead.
            let pipelined = threads.count >= 2 && !Inputs.isOnePhoto(images)
            let session = try InferenceSession(model: vit, batchSize: batch, threads: pipelined ? threads.count - 1 : threads.count)
            var failures = 0
            var pending: [String] = []
            // Outputs that are not finite end the run (the model is at fault, not one image).
            func flush() throws {
                guard !pending.isEmpty else { return }
                session.forward(count: pending.count)
                for (j, name) in pending.enumerated() { try report(name, session, j, c) }
                pending.removeAll()
            }
            // Standard input on its own; the paths between it (files, folders, IDX files) as
            // one source, so that the pipeline runs across all of them (a shell glob gives
            // many paths).
            var next = 0
            while next < images.count {
                let path = images[next]
                next += 1
                if path == "-" {
                    try flush()
                    let input = ByteInput(name: "stdin", fd: 0)
                    let format: StreamFormat
                    if let raw {
                        format = try StreamFormat.parseRaw(raw)
                        try FrameSplitter.checkRaw(format)
                    } else {
                        format = try StreamFormat.detect(input)
                    }
                    if format == .pnm {
                        guard frames != .latest else {
                            throw VitError.invalidArgument("--frames latest is for raw and MJPEG streams; a PGM/PPM stream is read frame by frame")
                        }
                        let stream = PNMStream(input)
                        while let image = try stream.next() {
                            try session.setInput(image, at: 0, name: "stdin image #\(stream.index - 1)")
                            pending.append("-#\(stream.index - 1)")
                            try flush()
                        }
                        continue
                    }
                    let (answered, failed) = try classifyStream(FrameSplitter(input, format: format), session: session, config: c)
                    failures += failed
                    guard answered + failed > 0 else {
                        throw VitError.badImage(path: "stdin", expected: "at least one frame", found: "none (the stream was empty)")
                    }
                    continue
                }
                // One image in memory at a time; an unreadable one is reported and skipped.
                var end = next
                while end < images.count && images[end] != "-" { end += 1 }
                let source = ImageSource(paths: Array(images[(next - 1)..<end]))
                next = end
                source.exifOrientation = imageOptions.exifOrientation
                source.jpegScaling = imageOptions.jpegScaling(for: c)
                if pipelined, let failed = try Inputs.pipelined(source, session: session, batch: batch, { names in
                    session.forward(count: names.count)
                    for (j, name) in names.enumerated() { try report(name, session, j, c) }
                }) {
                    failures += failed
                    Inputs.noteSkipped(source.skipped)
                    continue
                }
                while true {
                    do {
                        guard let (name, image) = try source.next() else { break }
                        try session.setInput(image, at: pending.count, name: name)
                        pending.append(name)
                    } catch {
                        printError("vit-edge: error: \(errorLine(error))")
                        failures += 1
                        continue
                    }
                    if pending.count == batch { try flush() }
                }
                Inputs.noteSkipped(source.skipped)
            }
            try flush()
            // Each unreadable input already has its line on stderr.
            if failures > 0 { Glibc.exit(1) }
        }
    }

    /// What the thread preparing a camera stream's frames hands over besides the input.
    enum StreamItem {
        case frame(index: Int, arrived: Double, skipped: Int)
        case note(String)
    }

    /// Classifies a camera stream frame by frame (the newest frame unless --frames all);
    /// returns the frames answered and those that could not be cut or decoded (each one
    /// line on stderr; the stream goes on).
    func classifyStream(_ splitter: FrameSplitter, session: InferenceSession, config c: ViTConfig) throws -> (answered: Int, failed: Int) {
        let queue = FrameQueue(splitter, latest: (frames ?? .latest) == .latest)
        queue.start()
        var preprocessor: Preprocessor? = nil
        let decoder = JPEGDecoder()
        let scaling = imageOptions.jpegScaling(for: c)
        var failures = 0, answered = 0
        let resampling = session.model.kernels.resampling
        // Decodes (MJPEG) and preprocesses one frame into `buffer`.
        func prepare(_ f: FrameQueue.Frame, into buffer: UnsafeMutablePointer<Float>) throws {
            let name = "stdin frame #\(f.index)"
            func apply(_ view: ImageView) throws {
                if preprocessor?.serves(view) != true {
                    preprocessor = try Preprocessor(config: c, width: view.width, height: view.height, format: view.format, name: name,
                                                    resampling: resampling)
                }
                preprocessor!.apply(view, into: buffer)
            }
            switch splitter.format {
            case .raw(let format, let w, let h):
                try f.bytes.withUnsafeBytes { try apply(ImageView(format: format, width: w, height: h, data: $0.baseAddress!)) }
            case .mjpeg:
                let (w, h, channels) = try f.bytes.withUnsafeBytes {
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: $0[0..<f.count]), path: name, scaling: scaling)
                }
                try decoder.pixels.withUnsafeBytes { try apply(ImageView(format: channels == 1 ? .gray8 : .rgb8, width: w, height: h, data: $0.baseAddress!)) }
            case .pnm:
                preconditionFailure("PGM/PPM streams are read by PNMStream")
            }
        }
        if threads.count >= 2 {
            // Frame N+1 is decoded and preprocessed while frame N runs: the stream goes at
            // the forward pass's rate. Damaged frames and notes keep their place.
            let plane = c.channels * c.imageHeight * c.imageWidth
            let pipeline = InputPipeline<StreamItem>(inputCount: plane) { buffer in
                guard let taken = try queue.take() else { return nil }
                switch taken {
                case .frame(let f):
                    defer { queue.recycle(f) }
                    try prepare(f, into: buffer)
                    return .frame(index: f.index, arrived: f.arrived, skipped: f.skipped)
                case .damaged(let e): throw e
                case .note(let text): return .note(text)
                }
            }
            if pipeline.start() {
                while let item = pipeline.take() {
                    switch item.result {
                    case .failure(let e):
                        pipeline.recycle(item)
                        printError("vit-edge: error: \(errorLine(e))")
                        failures += 1
                    case .success(.note(let text)):
                        pipeline.recycle(item)  // a note fills no buffer, but holds one
                        printError("vit-edge: note: \(printable(text))")
                    case .success(.frame(let index, let arrived, let skipped)):
                        session.inputSlot(0).update(from: item.buffer!, count: plane)
                        pipeline.recycle(item)
                        session.forward(count: 1)
                        do {
                            try report("-#\(index)", session, 0, c, frame: (FrameQueue.now() - arrived, skipped))
                        } catch {
                            pipeline.stop()
                            throw error
                        }
                        answered += 1
                    }
                }
                return (answered, failures)
            }
        }
        while let taken = try queue.take() {
            let f: FrameQueue.Frame
            switch taken {
            case .frame(let frame): f = frame
            case .damaged(let e):
                printError("vit-edge: error: \(errorLine(e))")
                failures += 1
                continue
            case .note(let text):
                printError("vit-edge: note: \(printable(text))")
                continue
            }
            defer { queue.recycle(f) }
            do {
                try prepare(f, into: session.inputSlot(0))
                session.forward(count: 1)
                try report("-#\(f.index)", session, 0, c, frame: (FrameQueue.now() - f.arrived, f.skipped))
                answered += 1
            } catch {
                printError("vit-edge: error: \(errorLine(error))")
                failures += 1
            }
        }
        return (answered, failures)
    }

    func report(_ name: String, _ s: InferenceSession, _ j: Int, _ c: ViTConfig, frame: (latency: Double, skipped: Int)? = nil) throws {
        try s.checkFinite(image: j, name: name)
        let top = VitEdge.topK(s.probabilities(j), min(topK, c.numClasses))
        if json {
            let obj = JSON.object([
                ("image", .string(name)),
            ] + (frame.map { [("latency_ms", JSON.number((($0.latency * 1e4).rounded()) / 10)), ("skipped", .number(Double($0.skipped)))] } ?? []) + [
                ("top", .array(top.map { t in
                    .object([("index", .number(Double(t.index))), ("label", .string(label(c, t.index))),
                             ("probability", .number(Double(t.probability)))])
                })),
                ("logits", .array(s.logits(j).map { .number(Double($0)) })),
            ])
            writeStdout(obj.serialized() + "\n")
        } else {
            var text = printable(name)
            if let frame {
                text += "  (\(fixed(frame.latency * 1000, 1)) ms\(frame.skipped > 0 ? ", \(frame.skipped) frame\(frame.skipped == 1 ? "" : "s") skipped" : ""))"
            }
            text += "\n"
            for (rank, t) in top.enumerated() {
                text += "  \(rank + 1). \(pad(printable(label(c, t.index)), 12)) \(pad(percent(Double(t.probability)), 8, left: true))\n"
            }
            writeStdout(text)
        }
    }

    func label(_ c: ViTConfig, _ i: Int) -> String { i < c.labels.count ? c.labels[i] : String(i) }
}
