/// Swin's patch merging between stages (timm `PatchMerging`): each 2×2 group of grid
/// tokens concatenated into one of 4·D — (2y, 2x), (2y+1, 2x), (2y, 2x+1), (2y+1, 2x+1),
/// timm's `reshape(B, H/2, 2, W/2, 2, C).permute(0, 1, 3, 4, 2, 5)` — then LayerNorm over
/// the 4·D and a Linear without bias to 2·D: [B·H·W, D] → [B·H/2·W/2, 2·D], written back
/// into the residual stream (the next stage's shape).
struct PatchMerging: EncoderBlock {
    /// LayerNorm over 4·D
    var norm: LayerNorm
    /// [2·D, 4·D], no bias
    var reduction: Linear

    /// The merged tokens [B·H/2·W/2, 4·D], normed in place.
    struct Activations { var merged: UnsafeMutablePointer<Float>; var quant: QuantScratch? }

    func run(_ s: EncoderShape, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: Activations,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) {
        let rows = batch * s.tokens / 4
        let d = s.dim
        gatherPairs(k, s, batch: batch, tokens: tokens, merged: a.merged)
        k.layerNorm(norm, rows: rows, x: a.merged, ldx: 4 * d, y: a.merged, ldy: 4 * d)
        observe?("reduction", UnsafeBufferPointer(start: a.merged, count: rows * 4 * d))
        k.linear(reduction, rows: rows, x: a.merged, ldx: 4 * d, y: tokens, ldy: 2 * d, scratch: a.quant)
    }

    /// merged[b, y, x] = [t(2y, 2x), t(2y+1, 2x), t(2y, 2x+1), t(2y+1, 2x+1)].
    func gatherPairs(_ k: Kernels, _ s: EncoderShape, batch: Int, tokens: UnsafePointer<Float>, merged: UnsafeMutablePointer<Float>) {
        if k.plans(tokens, merged) { return }
        let (gh, gw, d) = (s.gridHeight, s.gridWidth, s.dim)
        var out = merged
        for b in 0..<batch {
            let image = tokens + b * gh * gw * d
            for y in 0..<(gh / 2) {
                for x in 0..<(gw / 2) {
                    for q in 0..<4 {
                        let (dy, dx) = (q & 1, q >> 1)
                        out.update(from: image + ((2 * y + dy) * gw + 2 * x + dx) * d, count: d)
                        out += d
                    }
                }
            }
        }
    }

    static func tensors(_ s: EncoderShape, prefix: String) -> [(String, [Int])] {
        [(prefix + "norm.weight", [4 * s.dim]), (prefix + "norm.bias", [4 * s.dim]), (prefix + "reduction.weight", [2 * s.dim, 4 * s.dim])]
    }

    init(_ s: EncoderShape, prefix: String, _ t: TensorBinder) {
        norm = t.layerNorm(prefix + "norm", 4 * s.dim, eps: s.eps)
        reduction = t.linear(prefix + "reduction", out: 2 * s.dim, in: 4 * s.dim, bias: false)
    }

    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) { body("reduction", &reduction) }

    static func linearShapes(_ s: EncoderShape, batch b: Int) -> [LinearShape] { [LinearShape(b * s.tokens / 4, 4 * s.dim, 2 * s.dim)] }

    static func declare(_ p: inout ProgramLayout, _ s: EncoderShape, _ k: Kernels, prefix: String, batch b: Int,
                        capture: Bool, workers: Int) throws {
        try p.buffer(prefix + "merged", b * s.tokens * s.dim)
    }

    static func activations(_ v: BufferViews, _ s: EncoderShape, _ k: Kernels, prefix: String, capture: Bool, workers: Int,
                            quant: QuantScratch?) -> Activations {
        Activations(merged: v.floats(prefix + "merged"), quant: quant)
    }

    static var noInt8Attention: String? { nil }
}
