// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "vit-edge",
    products: [
        .library(name: "VitEdge", targets: ["VitEdge"]),
        // The C API: libvitedge.so with Sources/VitEdgeC/include/vit_edge.h (docs/API.md),
        // and the objects `make dist` turns into a self-contained libvitedge.a.
        .library(name: "vitedge", type: .dynamic, targets: ["VitEdgeC"]),
        .library(name: "vitedge_static", type: .static, targets: ["VitEdgeC"]),
        .executable(name: "vit-edge", targets: ["vit-edge"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // liblz4 from the system (Debian: liblz4-dev).
        .systemLibrary(
            name: "CLZ4",
            path: "Sources/CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        // JPEG through libjpeg-turbo's TurboJPEG API (Debian: libturbojpeg0-dev), PNG through
        // libspng (libspng-dev): the decoders Pillow's pixels are checked against.
        .systemLibrary(
            name: "CTurboJPEG",
            path: "Sources/CTurboJPEG",
            pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),
        .systemLibrary(
            name: "CSPNG",
            path: "Sources/CSPNG",
            pkgConfig: "spng",
            providers: [.apt(["libspng-dev"])]
        ),
        // C++ kernels over xsimd (Debian: libxsimd-dev, header only). Plain extern "C"
        // functions; no stable API. Per-ISA code uses function-level target attributes,
        // so the target needs no global -m flags and runs on any CPU of its architecture.
        // Underscored: the engine's private shim, not an API (as swift-numerics' _NumericsShims).
        .target(
            name: "_VitKernels",
            path: "Sources/VitKernels",
            cxxSettings: [.define("NDEBUG")]
        ),
        // The engine: image -> patches -> tokens -> blocks -> head -> probabilities.
        .target(
            name: "VitEdge",
            dependencies: ["CLZ4", "CTurboJPEG", "CSPNG", "_VitKernels"]
        ),
        // The C API over the public Swift API (@_cdecl functions; header in include/).
        .target(
            name: "VitEdgeC",
            dependencies: ["VitEdge"],
            exclude: ["include", "exports.map"]
        ),
        // The command line: parse, call the engine, print.
        .executableTarget(
            name: "vit-edge",
            dependencies: [
                "VitEdge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Counts heap allocations in the test process (interposes malloc & co.), so
        // a test can prove the forward pass allocates nothing. Linked into tests only.
        .target(
            name: "MallocCounter",
            path: "Tests/MallocCounter"
        ),
        // The public API as a client sees it: plain `import VitEdge`, compiled without
        // package access, so no `package` declaration is in reach.
        .testTarget(
            name: "VitEdgeAPITests",
            dependencies: ["VitEdge"],
            packageAccess: false
        ),
        // What the tests and the fuzz targets share, and the engine does not need.
        .target(
            name: "VitEdgeTestSupport",
            dependencies: ["VitEdge"],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "VitEdgeTests",
            dependencies: ["VitEdge", "_VitKernels", "MallocCounter", "VitEdgeTestSupport"],
            exclude: ["Fixtures"]
        ),
    ],
    cxxLanguageStandard: .cxx17
)

// libFuzzer targets for every parser of outside data (Fuzz/Sources), in this package so
// they reach its `package` declarations; declared only for `make fuzz`, which sets
// VIT_EDGE_FUZZ=1 and builds them with -sanitize=fuzzer,address, so `make test` never
// builds them.
if Context.environment["VIT_EDGE_FUZZ"] == "1" {
    let fuzzers = ["FuzzVitq", "FuzzVitqHeader", "FuzzSafetensors", "FuzzConfigJSON", "FuzzImage", "FuzzIDX", "FuzzStream",
                   "FuzzJPEGPNG", "FuzzCameraStream", "FuzzPreprocess", "FuzzFloatFields"]
    package.targets.append(.target(name: "FuzzDriver", path: "Fuzz/Sources/FuzzDriver"))
    for name in fuzzers {
        package.targets.append(.executableTarget(name: name, dependencies: ["FuzzDriver", "VitEdge", "VitEdgeTestSupport"],
                                                 path: "Fuzz/Sources/\(name)"))
    }
    // The C API, linked statically as a C program would.
    package.targets.append(.executableTarget(name: "FuzzSetPixels", dependencies: ["FuzzDriver", "VitEdge", "VitEdgeC"],
                                             path: "Fuzz/Sources/FuzzSetPixels"))
}

// ordo-one/benchmark suites (Benchmarks/: GEMM, ForwardPass), declared only when
// VIT_EDGE_BENCHMARKS=1 so nothing else resolves or builds the harness:
//   VIT_EDGE_BENCHMARKS=1 swift package --allow-writing-to-package-directory benchmark
if Context.environment["VIT_EDGE_BENCHMARKS"] == "1" {
    package.dependencies.append(.package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]))
    for name in ["ForwardPass", "GEMM"] {
        package.targets.append(.executableTarget(
            name: name,
            dependencies: ["VitEdge", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/\(name)",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]))
    }
}
