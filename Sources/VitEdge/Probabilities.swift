/// Probabilities: softmax over each image's logits, and the top-k classes.
func softmaxProbabilities(_ k: Kernels, batch: Int, classes: Int,
                   logits: UnsafePointer<Float>, probabilities: UnsafeMutablePointer<Float>) {
    probabilities.update(from: logits, count: batch * classes)
    k.softmax(rows: batch, n: classes, x: probabilities, ld: classes, scale: 1)
}

/// The k most probable classes, most probable first (ties: lower index first).
package func topK(_ p: UnsafeBufferPointer<Float>, _ k: Int) -> [(index: Int, probability: Float)] {
    let order = p.indices.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
    return order.prefix(max(0, k)).map { ($0, p[$0]) }
}
