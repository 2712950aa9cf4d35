import ArgumentParser
import VitEdge
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Kernels.Choice: ExpressibleByArgument {}

/// Options every command that runs a model shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Kernel set (auto: the fastest this CPU runs; reference: plain scalar code; swift: a Swift SIMD GEMM, for comparison).")
    var kernels: Kernels.Choice = .auto

    @Option(name: .customLong("image-size"),
            help: "Run at another input size, H or HxW (position embeddings resampled as the model's family does).")
    var imageSize: String?

    @Option(name: .customLong("position-resampling"),
            help: "How position embeddings are resampled with --image-size (default: the convention recorded at convert).")
    var positionResampling: PositionResampling?

    func load(_ path: String) throws -> VisionTransformer {
        var model = try VisionTransformer(path: path, kernels: Kernels.select(kernels))
        if let positionResampling { model = model.withPositionResampling(positionResampling) }
        guard let imageSize else { return model }
        let parts = imageSize.split(separator: "x").map { Int($0) }
        guard parts.count == 1 || parts.count == 2, let h = parts[0], let w = parts.last!, h > 0, w > 0, h <= 1 << 16, w <= 1 << 16 else {
            throw VitError.invalidArgument("--image-size takes H or HxW, got '\(imageSize)'")
        }
        return try model.resized(imageHeight: h, imageWidth: w)
    }
}

/// The threads of a session's forward pass.
struct ThreadOptions: ParsableArguments {
    @Option(name: .customLong("threads"), help: "Threads for each forward pass (default: the number of cores).")
    var given: Int?

    var count: Int { given ?? ThreadPool.cores }

    func validate() throws {
        if let given, given < 1 || given > 256 { throw ValidationError("--threads must be 1...256") }
    }
}

/// Options of the commands that read photos.
struct ImageOptions: ParsableArguments {
    @Flag(name: .customLong("exif-orientation"),
          help: "Turn JPEG/PNG images upright by their EXIF orientation (off by default, as in Pillow and timm).")
    var exifOrientation = false

    @Option(name: .customLong("jpeg-scale"),
            help: "auto: decode a JPEG at 1/2, 1/4 or 1/8 of its size in the DCT domain when the model's resize shrinks it at least that much (Pillow's draft rule; faster, pixels differ slightly from a full decode: docs/BENCHMARKS.md); off: full size, Pillow's pixels.")
    var jpegScale: JPEGScaleChoice = .off

    enum JPEGScaleChoice: String, ExpressibleByArgument, CaseIterable {
        case off, auto
    }

    /// The decoding scale rule for a model's input, or nil (full size).
    func jpegScaling(for config: ViTConfig) -> JPEGScaling? {
        jpegScale == .auto ? JPEGScaling(config: config) : nil
    }
}

/// Prints one clear line on stderr and exits non-zero. Every command funnels its
/// errors here, so no input ends in a crash dump or a multi-line trace.
func fail(_ error: Error) -> Never {
    printError("vit-edge: error: \(errorLine(error))")
    exit(1)
}

/// An error's one line as this command line says it: settings named by its options,
/// control characters (from file names, labels) escaped so no line can be forged.
func errorLine(_ error: Error) -> String {
    printable((error as? VitError)?.cliDescription ?? "\(error)")
}

extension VitError {
    /// The message with settings named by this command line's options.
    var cliDescription: String {
        description { setting in
            switch setting {
            case .imageSize: return "--image-size"
            case .kernels: return "--kernels"
            case .batchSize: return "--batch"
            case .threads: return "--threads"
            case .attentionBlocks: return "--block"
            }
        }
    }
}

func printError(_ s: String) {
    writeStderr(s + "\n")
}

/// One line on standard output (see `writeStdout`).
func say(_ s: String) { writeStdout(s + "\n") }

/// Writes to standard output (file descriptor 1) directly, and checks it: output that
/// cannot be written (a full disk, `> /dev/full`) ends the program with one line on
/// stderr and status 1, never a silent success. A reader that went away (`| head`) ends
/// it quietly, as SIGPIPE ends other tools.
func writeStdout(_ s: String) {
    var s = s
    s.withUTF8 { p in
        var done = 0
        while done < p.count {
            let n = write(1, p.baseAddress! + done, p.count - done)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EPIPE {
                signal(SIGPIPE, SIG_DFL)
                raise(SIGPIPE)
                exit(141)
            }
            let reason = n < 0 ? String(cString: strerror(errno)) : "nothing written"
            printError("vit-edge: error: standard output: \(reason)")
            exit(1)
        }
    }
}

/// Writes to file descriptor 2 directly (the C `stderr` global is not
/// concurrency-safe in Swift 6).
func writeStderr(_ s: String) {
    var s = s
    s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }

/// Runs a command body, turning thrown errors into one line and exit status 1.
func guarded(_ body: () throws -> Void) {
    do { try body() } catch { fail(error) }
}

func percent(_ v: Double) -> String { fixed(v * 100, 2) + "%" }

func fixed(_ v: Double, _ digits: Int) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (v * p).rounded() / p
    var s = String(r)
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
    } else if digits > 0 {
        s += "." + String(repeating: "0", count: digits)
    }
    return s
}

func bytes(_ n: Int) -> String {
    if n >= 1 << 20 { return "\(fixed(Double(n) / Double(1 << 20), 2)) MiB" }
    if n >= 1 << 10 { return "\(fixed(Double(n) / Double(1 << 10), 1)) KiB" }
    return "\(n) B"
}

func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, n - s.count))
    return left ? fill + s : s + fill
}
