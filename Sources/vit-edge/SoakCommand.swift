import ArgumentParser
import Dispatch
import VitEdge
#if canImport(Glibc)
import Glibc
#endif

struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run a model over a data set many times from several threads and report resident memory.",
        discussion: "Each thread owns a planned session over the one shared model. Memory must stay flat.")

    @Argument(help: "The .vitq model.")
    var model: String

    @Option(help: "IDX images (plain or .lz4).")
    var images: String

    @Option(help: "Passes over the images.")
    var passes = 10

    @Option(help: "Threads sharing the model, each with its own session of one thread.")
    var threads = 2

    @OptionGroup var options: ModelOptions

    func validate() throws {
        guard passes >= 1, threads >= 1 && threads <= 256 else { throw ValidationError("--passes >= 1, --threads 1...256") }
    }

    func run() {
        guarded {
            let vit = try options.load(model)
            // Each thread reads the file itself, pass after pass, and classifies every
            // threads-th image: memory holds one image per thread, whatever the file's size.
            let probe = try IDXReader(path: images)
            try probe.requireImages()
            let total = probe.count * passes
            let sessions = try (0..<threads).map { _ in try InferenceSession(model: vit, batchSize: 1) }
            let start = residentBytes()
            let t0 = Clock.now()
            let checksums = Checksums(threads)
            let failures = Failures(threads)
            do {
                let passes = self.passes, threads = self.threads, path = images
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    let s = sessions[t]
                    var sum = 0
                    do {
                        for _ in 0..<passes {
                            let reader = try IDXReader(path: path)
                            var i = 0
                            while let image = try reader.nextImage() {
                                if i % threads == t {
                                    try s.setInput(image, at: 0)
                                    s.forward()
                                    sum += Evaluator.argmax(s.logits(0))
                                }
                                i += 1
                            }
                        }
                    } catch {
                        failures.errors[t] = error  // each thread writes its own slot
                    }
                    checksums.values[t] = sum
                }
            }
            if let error = failures.errors.compactMap({ $0 }).first { throw error }
            let seconds = Clock.now() - t0
            let end = residentBytes()
            say("inferences   \(total) in \(fixed(seconds, 1)) s on \(threads) threads (\(fixed(Double(total) / seconds, 0)) images/s)")
            say("resident     start \(bytes(start)), end \(bytes(end)), change \(bytes(end - start))")
            say("checksum     \(checksums.values.reduce(0, +)) (sum of predicted classes)")
        }
    }

    /// Resident set size from /proc/self/statm.
    func residentBytes() -> Int {
        guard let f = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(f) }
        var size = 0, resident = 0
        _ = withUnsafeMutablePointer(to: &size) { s in withUnsafeMutablePointer(to: &resident) { r in
            withVaList([s, r]) { vfscanf(f, "%ld %ld", $0) }
        } }
        return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// One error slot per thread.
final class Failures: @unchecked Sendable {
    let errors: UnsafeMutableBufferPointer<Error?>
    init(_ n: Int) { errors = .allocate(capacity: n); errors.initialize(repeating: nil) }
    deinit { _ = errors.deinitialize(); errors.deallocate() }
}

/// One result slot per thread (raw memory: threads write disjoint slots).
final class Checksums: @unchecked Sendable {
    let values: UnsafeMutableBufferPointer<Int>
    init(_ n: Int) { values = .allocate(capacity: n); values.initialize(repeating: 0) }
    deinit { values.deallocate() }
}
