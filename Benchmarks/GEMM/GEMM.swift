// fp32 and int8 GEMM at the Linear shapes of the MNIST model and ViT-Ti/S/B-16, as
// wall clock and as a rate against this core's measured peak (custom metrics, in
// per cent of peak: see `vit-edge bench-gemm` for the same numbers as a table).
import Benchmark
import VitEdge

let peakF32 = CorePeak.f32().rate
let peakInt8 = CorePeak.int8().rate

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .custom("% of peak", polarity: .prefersLarger, useScalingFactor: false)],
        maxDuration: .seconds(1), maxIterations: 100_000)
    let kernels = try! Kernels.select(.auto)

    for family in GemmShape.families {
        for shape in family.shapes {
            for precision in ["fp32", "int8"] {
                Benchmark("\(precision) GEMM \(shape)") { benchmark in
                    let b = GemmBenchmark(shape, kernels: kernels)
                    let run = precision == "fp32" ? b.f32 : b.int8
                    let peak = precision == "fp32" ? peakF32 : peakInt8
                    run()
                    let t0 = Clock.now()
                    benchmark.startMeasurement()
                    for _ in benchmark.scaledIterations { run() }
                    benchmark.stopMeasurement()
                    let rate = shape.operations * Double(benchmark.scaledIterations.count) / (Clock.now() - t0)
                    if peak > 0 { benchmark.measurement(.custom("% of peak", polarity: .prefersLarger, useScalingFactor: false), Int(100 * rate / peak)) }
                }
            }
        }
    }
}
