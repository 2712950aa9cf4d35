// swift-tools-version:6.0
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
        // The public API as a client sees it: plain `import VitEdge`, no @_spi.
        .testTarget(
            name: "VitEdgeAPITests",
            dependencies: ["VitEdge"]
        ),
        .testTarget(
            name: "VitEdgeTests",
            dependencies: ["VitEdge", "_VitKernels", "MallocCounter"],
            exclude: ["Fixtures"]
        ),
    ],
    cxxLanguageStandard: .cxx17
)
