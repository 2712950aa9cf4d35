// swift-tools-version:6.0
// libFuzzer targets for every parser of outside data. Built and run by `make fuzz`:
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// Nested so that `make test` never builds it.
import PackageDescription

let targets = ["FuzzVitq", "FuzzVitqHeader", "FuzzSafetensors", "FuzzConfigJSON", "FuzzImage", "FuzzIDX", "FuzzStream", "FuzzJPEGPNG",
               "FuzzCameraStream", "FuzzPreprocess", "FuzzFloatFields"]

let package = Package(
    name: "vit-edge-fuzz",
    dependencies: [.package(name: "vit-edge", path: "..")],
    targets: [.target(name: "FuzzDriver")] + targets.map {
        .executableTarget(name: $0, dependencies: ["FuzzDriver", .product(name: "VitEdge", package: "vit-edge")])
    } + [
        // The C API, linked statically as a C program would.
        .executableTarget(name: "FuzzSetPixels", dependencies: ["FuzzDriver", .product(name: "VitEdge", package: "vit-edge"),
                                                                .product(name: "vitedge_static", package: "vit-edge")]),
    ]
)
