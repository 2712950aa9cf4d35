/// Swin's block (timm `SwinTransformerBlock`): a pre-norm ViT block whose attention runs
/// inside windows of the token grid —
///   x' = roll(x, −shift) on the grid, cut into windows of wh×ww tokens (window order)
///   a  = proj(attention(qkv(norm1(x'))) + bias [+ mask]) within each window
///   x  = x + roll(a back to the grid, +shift)
///   x  = x + fc2(gelu(fc1(norm2(x))))
/// The windows are the attention's batch (every image's windows in turn), so they run on
/// the same blocked attention as a ViT's, with the bias added to the logits: the relative
/// position bias gathered once at load into [heads, N, N] (N = wh·ww) and, in shifted
/// blocks, timm's mask keeping tokens that the roll brought together from opposite edges
/// apart (−100 between regions) [windows, N, N]. Norms, qkv, proj and MLP are
/// `TransformerBlock`'s; the gather into window order happens before norm1 (a LayerNorm
/// per token does not care about order) and the scatter back is the residual add.
struct SwinBlock: EncoderBlock {
    var base: TransformerBlock
    /// [heads, N, N] the relative position bias of each head, gathered from the table
    let bias: AlignedBuffer
    /// [windows, N, N] the shifted windows' mask, nil in unshifted blocks
    private(set) var mask: AlignedBuffer?

    func run(_ s: EncoderShape, _ k: Kernels, batch: Int, tokens: UnsafeMutablePointer<Float>, a: TransformerBlockActivations,
             observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) {
        let rows = batch * s.tokens
        let d = s.dim
        let n = s.windowHeight * s.windowWidth
        let windows = (s.gridHeight / s.windowHeight) * (s.gridWidth / s.windowWidth)
        // Attention branch, in window order: the shifted windows gathered, then normed.
        swinWindowOrder(k, s, batch: batch, grid: tokens, windows: a.norm1, back: false)
        k.layerNorm(base.norm1, rows: rows, x: a.norm1, ldx: d, y: a.norm1, ldy: d)
        observe?("attn.qkv", UnsafeBufferPointer(start: a.norm1, count: rows * d))
        k.linear(base.qkv, rows: rows, x: a.norm1, ldx: d, y: a.qkv, ldy: 3 * s.innerDim, scratch: a.quant)
        let b = AttentionBias(bias: UnsafePointer(bias.base.assumingMemoryBound(to: Float.self)),
                              mask: mask.map { UnsafePointer($0.base.assumingMemoryBound(to: Float.self)) }, windows: windows)
        k.attention(batch: batch * windows, tokens: n, heads: s.heads, headDim: s.headDim, qkv: a.qkv, out: a.attention,
                    scratch: a.scratch, bias: b)
        observe?("attn.proj", UnsafeBufferPointer(start: a.attention, count: rows * s.innerDim))
        // norm1 is free again: the projection lands there, then goes back onto the grid.
        k.linear(base.proj!, rows: rows, x: a.attention, ldx: s.innerDim, y: a.norm1, ldy: d, scratch: a.quant)
        swinWindowOrder(k, s, batch: batch, grid: tokens, windows: a.norm1, back: true)
        // MLP branch, as a ViT's.
        base.mlpBranch(s, k, batch: batch, tokens: tokens, a: a, observe: observe)
    }

    static func tensors(_ s: EncoderShape, prefix: String) -> [(String, [Int])] {
        TransformerBlock.tensors(s, prefix: prefix)
            + [(prefix + "attn.relative_position_bias_table", [(2 * s.windowHeight - 1) * (2 * s.windowWidth - 1), s.heads])]
    }

    init(_ s: EncoderShape, prefix: String, _ t: TensorBinder) {
        base = TransformerBlock(s, prefix: prefix, t)
        let (wh, ww, heads) = (s.windowHeight, s.windowWidth, s.heads)
        let n = wh * ww
        // timm's relative_position_index: token p = (py, px) attending to q = (qy, qx)
        // reads row (py − qy + wh − 1)·(2·ww − 1) + (px − qx + ww − 1) of the table.
        let table = t.float(prefix + "attn.relative_position_bias_table")
        bias = AlignedBuffer(bytes: heads * n * n * 4)
        let b = bias.base.assumingMemoryBound(to: Float.self)
        for p in 0..<n {
            for q in 0..<n {
                let row = (p / ww - q / ww + wh - 1) * (2 * ww - 1) + (p % ww - q % ww + ww - 1)
                for h in 0..<heads { b[(h * n + p) * n + q] = table[row * heads + h] }
            }
        }
        mask = s.shiftHeight > 0 || s.shiftWidth > 0 ? SwinBlock.shiftMask(s) : nil
    }

    /// The same block on another grid (same window): its mask made anew.
    func regridded(_ s: EncoderShape) -> SwinBlock {
        var copy = self
        copy.mask = s.shiftHeight > 0 || s.shiftWidth > 0 ? SwinBlock.shiftMask(s) : nil
        return copy
    }

    /// timm's `get_attn_mask`: the rolled grid is cut into 3×3 regions (by the last window
    /// row/column and the shift), and tokens of a window in different regions get −100.
    static func shiftMask(_ s: EncoderShape) -> AlignedBuffer {
        let (gh, gw, wh, ww) = (s.gridHeight, s.gridWidth, s.windowHeight, s.windowWidth)
        func region(_ v: Int, _ g: Int, _ w: Int, _ shift: Int) -> Int { v < g - w ? 0 : v < g - shift ? 1 : 2 }
        let n = wh * ww, across = gw / ww
        let windows = (gh / wh) * across
        let m = AlignedBuffer(bytes: windows * n * n * 4)
        let out = m.base.assumingMemoryBound(to: Float.self)
        for w in 0..<windows {
            let ids = (0..<n).map { p in
                3 * region((w / across) * wh + p / ww, gh, wh, s.shiftHeight) + region((w % across) * ww + p % ww, gw, ww, s.shiftWidth)
            }
            for p in 0..<n { for q in 0..<n { out[(w * n + p) * n + q] = ids[p] == ids[q] ? 0 : -100 } }
        }
        return m
    }

    mutating func forEachLinear(_ body: (String, inout Linear) -> Void) { base.forEachLinear(body) }

    static func linearShapes(_ s: EncoderShape, batch b: Int) -> [LinearShape] { TransformerBlock.linearShapes(s, batch: b) }

    /// The attention runs over the windows' N tokens, not the grid's.
    static func windowShape(_ s: EncoderShape) -> (tokens: Int, int8Bytes: Int) {
        let n = s.windowHeight * s.windowWidth
        return (n, s.int8Attention ? Int8AttentionLayout(tokens: n, headDim: s.headDim).bytes : 0)
    }

    static func declare(_ p: inout ProgramLayout, _ s: EncoderShape, _ k: Kernels, prefix: String, batch b: Int,
                        capture: Bool, workers: Int) throws {
        let w = windowShape(s)
        try TransformerBlock.declare(&p, s, prefix: prefix, batch: b, capture: false, workers: workers,
                                     scratch: k.attentionScratchFloats(tokens: w.tokens, headDim: s.headDim, int8: s.int8Attention),
                                     int8Bytes: w.int8Bytes)
    }

    static func activations(_ v: BufferViews, _ s: EncoderShape, _ k: Kernels, prefix: String, capture: Bool, workers: Int,
                            quant: QuantScratch?) -> TransformerBlockActivations {
        let w = windowShape(s)
        return TransformerBlock.activations(v, s, prefix: prefix, capture: false, workers: workers, quant: quant,
                                            scratch: k.attentionScratchFloats(tokens: w.tokens, headDim: s.headDim, int8: s.int8Attention),
                                            int8Bytes: w.int8Bytes)
    }

    static var noInt8Attention: String? { nil }
}

/// Between the grid [B, H, W, D] and window order [B, windows, wh·ww, D] with the cyclic
/// shift: window (wy, wx), position (i, j) holds grid token ((wy·wh + i + sh) mod H,
/// (wx·ww + j + sw) mod W) (timm's `roll(−shift)` then `window_partition`). `back: false`
/// copies the grid into window order; `back: true` adds window order onto the grid (the
/// reverse partition and roll, and the residual add, in one pass).
func swinWindowOrder(_ k: Kernels, _ s: EncoderShape, batch: Int, grid: UnsafeMutablePointer<Float>,
                     windows: UnsafeMutablePointer<Float>, back: Bool) {
    if k.plans(grid, windows) { return }
    typealias V = SIMD8<Float>
    let (gh, gw, wh, ww, d) = (s.gridHeight, s.gridWidth, s.windowHeight, s.windowWidth, s.dim)
    var r = 0
    for b in 0..<batch {
        let image = grid + b * gh * gw * d
        for wy in 0..<(gh / wh) {
            for wx in 0..<(gw / ww) {
                for i in 0..<wh {
                    let y = (wy * wh + i + s.shiftHeight) % gh
                    for j in 0..<ww {
                        let x = (wx * ww + j + s.shiftWidth) % gw
                        let g = image + (y * gw + x) * d, w = windows + r * d
                        if back {
                            var c = 0
                            while c + 8 <= d {
                                let sum = UnsafeRawPointer(g + c).loadUnaligned(as: V.self) + UnsafeRawPointer(w + c).loadUnaligned(as: V.self)
                                UnsafeMutableRawPointer(g + c).storeBytes(of: sum, as: V.self)
                                c += 8
                            }
                            while c < d { g[c] += w[c]; c += 1 }
                        } else {
                            w.update(from: g, count: d)
                        }
                        r += 1
                    }
                }
            }
        }
    }
}
