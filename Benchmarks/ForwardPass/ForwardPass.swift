// End-to-end latency and heap allocations of one forward pass of the shipped MNIST
// model, per kernel set and batch size. The malloc metric must read 0: the arena is
// planned once, and `forward` allocates nothing.
import Benchmark
import VitEdge

let modelPath: String = {
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(4)  // Benchmarks/Benchmarks/ForwardPass/ForwardPass.swift
    return parts.joined(separator: "/") + "/models/mnist-vit.vitq"
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(3), maxIterations: 100_000)

    // The harness's own allocations per sample, to subtract from the rows below.
    Benchmark("harness baseline (empty measured loop)") { benchmark in
        let session = try InferenceSession(model: try VisionTransformer(path: modelPath), batchSize: 1)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(session.batchSize) }
        benchmark.stopMeasurement()
    }

    for choice in [Kernels.Choice.auto, .xsimd, .reference] {
        for batch in [1, 8, 64] where choice != .reference || batch == 1 {
            Benchmark("MNIST ViT forward, \(choice.rawValue), batch \(batch)") { benchmark in
                let model = try VisionTransformer(path: modelPath, kernels: Kernels.select(choice))
                let session = try InferenceSession(model: model, batchSize: batch)
                for i in 0..<session.input.count { session.input[i] = Float(i % 11) * 0.1 }
                session.forward()
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { session.forward() }
                benchmark.stopMeasurement()
                blackHole(session.logits(0)[0])
            }
        }
    }
}
