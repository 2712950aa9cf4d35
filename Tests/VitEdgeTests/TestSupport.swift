import XCTest
import Foundation
@testable import VitEdge

/// The repository root, found from this file's path (tests read models/ and Fixtures/).
let repoRoot: String = {
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/VitEdgeTests/TestSupport.swift
    return parts.joined(separator: "/")
}()

func fixture(_ path: String) -> String { repoRoot + "/Tests/VitEdgeTests/Fixtures/" + path }
func repoFile(_ path: String) -> String { repoRoot + "/" + path }

/// Set by `make test-aarch64` (tools/aarch64_swift.sh): the suite runs under qemu, tens of
/// times slower, so whole-split evaluations shrink or skip, each saying so.
let emulated = ProcessInfo.processInfo.environment["VIT_EDGE_EMULATED"] != nil

/// A fixed pseudo-random stream (xorshift), so shapes and values are reproducible.
struct Random {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(Int64(next() >> 40) - (1 << 23)) / Float(1 << 23) }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in float() * scale } }
}

/// Loads every tensor of a safetensors fixture as [Float] with its shape.
func loadTensors(_ path: String) throws -> [String: (shape: [Int], values: [Float])] {
    let st = try Safetensors(path: path)
    var out: [String: (shape: [Int], values: [Float])] = [:]
    for e in st.entries { out[e.name] = (e.shape, st.floats(e)) }
    return out
}

/// Float tolerance of a dot product of length k: the standard bound
/// |fl(x·y) − x·y| ≤ γ_k Σ|x_i y_i| with γ_k = k·ε/(1 − k·ε), doubled for the
/// different summation orders of the two sides being compared.
func dotTolerance(k: Int, magnitude: Float) -> Float {
    let e = Float.ulpOfOne / 2
    let kf = Float(max(k, 1)) + 1
    return 2 * (kf * e / (1 - kf * e)) * magnitude + Float.leastNormalMagnitude
}

/// Maximum absolute difference of two arrays.
func maxAbsDiff(_ a: UnsafeBufferPointer<Float>, _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    var m: Float = 0
    for i in 0..<a.count { m = max(m, abs(a[i] - b[i])) }
    return m
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float { a.withUnsafeBufferPointer { maxAbsDiff($0, b) } }

func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }

/// The MNIST test split as a labeled image source (read lazily).
func mnistTestSet(classLabels: [String] = []) throws -> LabeledImageSource {
    try LabeledImageSource(images: repoFile("models/mnist-test-images.idx3-ubyte.lz4"),
                           labels: repoFile("models/mnist-test-labels.idx1-ubyte.lz4"), classLabels: classLabels)
}

/// The MNIST test labels, in order.
func mnistTestLabels() throws -> [Int] {
    let r = try IDXReader(path: repoFile("models/mnist-test-labels.idx1-ubyte.lz4"))
    var out: [Int] = []
    while let l = try r.nextLabel() { out.append(l) }
    return out
}

/// The first `n` images of an IDX file.
func idxImages(_ path: String, _ n: Int = .max) throws -> [Image] {
    let r = try IDXReader(path: path)
    var out: [Image] = []
    while out.count < n, let im = try r.nextImage() { out.append(im) }
    return out
}
