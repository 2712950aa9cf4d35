#if canImport(Glibc)
import Glibc
#endif

/// Probabilities: softmax over each image's logits (or, for a SigLIP zero-shot head,
/// a sigmoid per class), and the top-k classes.
func classProbabilities(_ k: Kernels, _ form: ViTConfig.ProbabilityFunction, batch: Int, classes: Int,
                   logits: UnsafePointer<Float>, probabilities: UnsafeMutablePointer<Float>) {
    if k.plans(logits, probabilities) { return }
    switch form {
    case .softmax:
        probabilities.update(from: logits, count: batch * classes)
        k.softmax(rows: batch, n: classes, x: probabilities, ld: classes, scale: 1)
    case .sigmoid:
        for i in 0..<(batch * classes) { probabilities[i] = 1 / (1 + expf(-logits[i])) }
    }
}

/// The k most probable classes, most probable first (ties: lower index first).
package func topK(_ p: UnsafeBufferPointer<Float>, _ k: Int) -> [(index: Int, probability: Float)] {
    let order = p.indices.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
    return order.prefix(max(0, k)).map { ($0, p[$0]) }
}
