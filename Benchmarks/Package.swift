// swift-tools-version:6.1
// Benchmarks live in their own package so `make test` never builds ordo-one/benchmark.
//   cd Benchmarks && swift package benchmark
import PackageDescription

let package = Package(
    name: "vit-edge-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "vit-edge", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ForwardPass",
            dependencies: [
                .product(name: "VitEdge", package: "vit-edge"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ForwardPass",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "GEMM",
            dependencies: [
                .product(name: "VitEdge", package: "vit-edge"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/GEMM",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
