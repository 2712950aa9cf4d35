import ArgumentParser
import VitEdge

struct BenchGemmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-gemm",
        abstract: "Measure fp32 and int8 GEMM throughput at ViT layer shapes against this core's measured peak.",
        discussion: """
            The peak is a register-only loop of the multiply-add instruction the GEMM route \
            uses (FMA; VNNI dpbusd, maddubs or sdot for int8). One thread; each number is the \
            median of 5 timings. int8 rows time the GEMM with its dequantizing epilogue on \
            already quantized inputs (quantizing activations is a separate, O(m·k) pass).
            """)

    @Option(parsing: .upToNextOption, help: "Time the Linear shapes of these models (the MNIST ViT, ViT-Ti/S/B-16).")
    var models: [String] = GemmShape.families.map(\.name)

    /// The kernel sets that have GEMMs to time (reference has none).
    enum Routes: String, ExpressibleByArgument, CaseIterable {
        case auto, xsimd, avx2, avx512, swift
        var choice: Kernels.Choice { Kernels.Choice(rawValue: rawValue)! }
    }

    @Option(name: .long, help: "Kernel set (auto: the fastest this CPU runs).")
    var kernels: Routes = .auto

    @Option(help: "Seconds per measurement (about).")
    var seconds = 0.3

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        let known = GemmShape.families.map(\.name)
        for m in models where !known.contains(m) {
            throw ValidationError("unknown model shape '\(m)': expected one of \(known.joined(separator: ", "))")
        }
        guard seconds > 0 && seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60]") }
    }

    func run() {
        guarded {
            let k = try Kernels.select(kernels.choice)
            // The peak is measured before and after the shapes and the better kept: the
            // host's clock and neighbours move both, and a peak is what the core can do.
            let f32Before = CorePeak.f32(seconds: seconds, route: k.peakRoute.f32)
            let int8Before = CorePeak.int8(seconds: seconds, route: k.peakRoute.int8)
            var rows: [(shape: GemmShape, f32: Double, int8: Double, int8w7: Double?)] = []
            for family in GemmShape.families where models.contains(family.name) {
                for shape in family.shapes {
                    let b = GemmBenchmark(shape, kernels: k)
                    let f = GemmBenchmark.rate(operations: shape.operations, seconds: seconds) { b.f32() }
                    let q = GemmBenchmark.rate(operations: shape.operations, seconds: seconds) { b.int8() }
                    let w7 = b.int8SevenBit().map { run in GemmBenchmark.rate(operations: shape.operations, seconds: seconds) { run() } }
                    rows.append((shape, f, q, w7))
                }
            }
            let f32After = CorePeak.f32(seconds: seconds, route: k.peakRoute.f32)
            let int8After = CorePeak.int8(seconds: seconds, route: k.peakRoute.int8)
            let f32Peak = f32After.rate > f32Before.rate ? f32After : f32Before
            let int8Peak = int8After.rate > int8Before.rate ? int8After : int8Before
            if !json {
                say("peak         fp32 \(fixed(f32Peak.rate / 1e9, 1)) GFLOP/s (\(f32Peak.isa)), int8 \(fixed(int8Peak.rate / 1e9, 1)) GOPS (\(int8Peak.isa)); one thread")
                say("kernels      fp32 \(k.gemmName), int8 \(k.int8Name)")
                let w7 = rows.contains { $0.int8w7 != nil }
                say("shape (m×k×n)                   fp32 GFLOP/s  of peak   int8 GOPS  of peak" + (w7 ? "   7-bit w GOPS  of peak" : ""))
                func pct(_ v: Double, _ p: Double) -> String { p > 0 ? "\(fixed(100 * v / p, 0))%" : "-" }
                for r in rows {
                    let name = "\(r.shape.model) \(r.shape.layer) \(r.shape.m)×\(r.shape.k)×\(r.shape.n)"
                    say(pad(name, 32) + pad(fixed(r.f32 / 1e9, 1), 13, left: true) + pad(pct(r.f32, f32Peak.rate), 9, left: true)
                          + pad(fixed(r.int8 / 1e9, 1), 12, left: true) + pad(pct(r.int8, int8Peak.rate), 9, left: true)
                          + (r.int8w7.map { pad(fixed($0 / 1e9, 1), 16, left: true) + pad(pct($0, int8Peak.rate), 9, left: true) } ?? ""))
                }
            }
            if json {
                say(JSON.object([
                    ("peak", .object([("f32_gflops", .number(f32Peak.rate / 1e9)), ("f32_isa", .string(f32Peak.isa)),
                                      ("int8_gops", .number(int8Peak.rate / 1e9)), ("int8_isa", .string(int8Peak.isa))])),
                    ("kernels", .object([("f32", .string(k.gemmName)), ("int8", .string(k.int8Name))])),
                    ("shapes", .array(rows.map { r in
                        .object([("model", .string(r.shape.model)), ("layer", .string(r.shape.layer)),
                                 ("m", .number(Double(r.shape.m))), ("k", .number(Double(r.shape.k))), ("n", .number(Double(r.shape.n))),
                                 ("f32_gflops", .number(r.f32 / 1e9)), ("int8_gops", .number(r.int8 / 1e9)),
                                 ("f32_of_peak", .number(r.f32 / f32Peak.rate)),
                                 ("int8_of_peak", .number(int8Peak.rate > 0 ? r.int8 / int8Peak.rate : 0)),
                                 ("int8_7bit_weights_gops", r.int8w7.map { .number($0 / 1e9) } ?? .null)])
                    })),
                ]).serialized())
            }
        }
    }
}
