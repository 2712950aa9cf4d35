import _VitKernels

/// The multi-head attention core on each route: fp32 (blocked QKᵀ, softmax, PV on the
/// GEMM microkernels), int8 (opt-in), and the reference.
extension Kernels {
    /// Multi-head attention core (see `Reference.attention` for the layout). The
    /// optimized route packs each head's K and V into the GEMM panel layout in
    /// planned scratch, so QKᵀ and PV run on the same microkernels as the Linear layers.
    /// With `scratch.int8` set, QKᵀ and PV run in int8 (`Reference.attentionInt8`).
    func attention(batch: Int, tokens: Int, heads: Int, headDim: Int,
                   qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, scratch: AttentionScratch,
                   capture: UnsafeMutablePointer<Float>? = nil, bias: AttentionBias? = nil) {
        // K packed into GEMM panels only on the fp32 optimized route (`attentionScratchFloats`).
        if plans(qkv, out, scratch.scores, gemm != nil && scratch.int8 == nil ? scratch.packedK : nil, scratch.int8, capture) { return }
        guard gemm != nil, scratch.int8 == nil || qs8Gemm != nil else {
            if let s8 = scratch.int8 {
                Reference.attentionInt8(batch: batch, tokens: tokens, heads: heads, headDim: headDim, qkv: qkv, out: out,
                                        scores: scratch.scores, scratch: s8, capture: capture, bias: bias)
            } else {
                Reference.attention(batch: batch, x: .selfAttention(qkv, tokens: tokens, inner: heads * headDim), heads: heads,
                                    headDim: headDim, out: out, scores: scratch.scores, capture: capture, bias: bias)
            }
            return
        }
        attentionHeads(batch: batch, x: .selfAttention(qkv, tokens: tokens, inner: heads * headDim), heads: heads, headDim: headDim,
                       out: out, scratch: scratch, capture: capture, bias: bias)
    }

    /// Attention of each image's `x.queries` query rows over its `x.keys` key and value
    /// rows (PVT's spatial-reduction attention: K and V from a reduced map), fp32:
    /// q [B·Tq, inner] (row stride `ldq`), kv [B·Tk, 2·inner] (K, then V).
    func crossAttention(batch: Int, queries: Int, keys: Int, heads: Int, headDim: Int, q: UnsafePointer<Float>, ldq: Int,
                        kv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, scratch: AttentionScratch) {
        if plans(q, kv, out, scratch.scores, gemm != nil ? scratch.packedK : nil) { return }
        let inner = heads * headDim
        let x = AttentionInputs(q: q, ldq: ldq, k: kv, v: kv + inner, ldkv: 2 * inner, queries: queries, keys: keys)
        guard gemm != nil else {
            Reference.attention(batch: batch, x: x, heads: heads, headDim: headDim, out: out, scores: scratch.scores)
            return
        }
        attentionHeads(batch: batch, x: x, heads: heads, headDim: headDim, out: out, scratch: scratch, capture: nil, bias: nil)
    }

    /// Every (image, head) of the optimized routes, across the pool's threads when the work
    /// is large enough.
    func attentionHeads(batch: Int, x: AttentionInputs, heads: Int, headDim: Int, out: UnsafeMutablePointer<Float>,
                        scratch: AttentionScratch, capture: UnsafeMutablePointer<Float>?, bias: AttentionBias?) {
        let work = batch * heads * x.queries * x.keys * headDim
        if let pool, threads > 1, work >= ParallelThreshold.gemmMACs, scratch.workers >= threads {
            // Tasks are (image, head, block of query rows): with fewer heads than twice
            // the threads (ViT-Ti has 3), heads alone would leave threads idle. Each
            // task packs its head's K and V itself (a copy, small beside the products).
            let pairs = batch * heads
            let chunks = max(1, min(x.queries / 32, (2 * threads + pairs - 1) / pairs))
            var job = AttentionJob(kernels: self, batch: batch, x: x, heads: heads, headDim: headDim,
                                   out: out, scratch: scratch, capture: capture, bias: bias,
                                   chunks: chunks, rowsPerChunk: (x.queries + chunks - 1) / chunks)
            withUnsafeMutablePointer(to: &job) { vk_pool_run(pool, attentionTask, $0, pairs * chunks) }
            return
        }
        for b in 0..<batch {
            for h in 0..<heads {
                attentionHead(b: b, h: h, rows: 0..<x.queries, x: x, heads: heads, headDim: headDim,
                              out: out, scratch: scratch, capture: capture, bias: bias)
            }
        }
    }

    /// Query rows `rows` of one (image, head) of the optimized attention route, in one
    /// worker's scratch. K is packed once into GEMM panels; then, for blocks of at most
    /// `attentionBlockRows` query rows, S = Q Kᵀ, softmax(S · scale) and O = S V run
    /// back to back, so a block's scores (≤ 48 × keys floats) stay in cache. V is read
    /// in place by the GEMM (its row stride): no transposed copy.
    func attentionHead(b: Int, h: Int, rows: Range<Int>, x: AttentionInputs, heads: Int, headDim: Int,
                       out: UnsafeMutablePointer<Float>, scratch: AttentionScratch,
                       capture: UnsafeMutablePointer<Float>?, bias: AttentionBias? = nil) {
        if scratch.int8 != nil {
            return attentionHeadInt8(b: b, h: h, rows: rows, tokens: x.queries, heads: heads, headDim: headDim, qkv: x.q,
                                     out: out, scratch: scratch, capture: capture, bias: bias)
        }
        let gemm = self.gemm!, gemmKN = self.gemmKN!
        let inner = heads * headDim
        let (tq, tk) = (x.queries, x.keys)
        let scale = 1 / Float(headDim).squareRoot()
        let q = x.q + b * tq * x.ldq + h * headDim
        let k = x.k + b * tk * x.ldkv + h * headDim
        let v = x.v + b * tk * x.ldkv + h * headDim
        vk_f32_pack_nk(k, x.ldkv, tk, headDim, scratch.packedK)
        let limit = Kernels.attentionBlockRows(tokens: tk)
        let blocks = (rows.count + limit - 1) / limit
        let size = (rows.count + blocks - 1) / blocks
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let m = min(size, rows.upperBound - r0)
            gemm(m, tk, headDim, q + r0 * x.ldq, x.ldq, scratch.packedK, nil, scratch.scores, tk, 0)
            bias?.add(b: b, h: h, r0: r0, rows: m, tokens: tk, scores: scratch.scores, ld: tk, scale: scale)
            softmaxFn(m, tk, scratch.scores, tk, bias == nil ? scale : 1)
            if let capture {
                (capture + ((b * heads + h) * tq + r0) * tk).update(from: scratch.scores, count: m * tk)
            }
            gemmKN(m, headDim, tk, scratch.scores, tk, v, x.ldkv, nil, out + (b * tq + r0) * inner + h * headDim, inner, 0)
            r0 += m
        }
    }

    /// The int8 form of `attentionHead`: K and Vᵀ quantized (signed, per row; V per channel
    /// straight from its rows) and packed for
    /// this set's int8 route, then per block of query rows: Q quantized in the route's input
    /// form, S = Q Kᵀ on the int8 GEMM, softmax in fp32, P quantized, O = P V on the int8 GEMM.
    /// The same quantities as `Reference.attentionInt8` (which differs only by the softmax's
    /// last bits, and so now and then by one step of a quantized probability).
    func attentionHeadInt8(b: Int, h: Int, rows: Range<Int>, tokens: Int, heads: Int, headDim: Int,
                           qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, scratch: AttentionScratch,
                           capture: UnsafeMutablePointer<Float>?, bias: AttentionBias? = nil) {
        let g = qs8Gemm!, s = scratch.int8!
        let l = Int8AttentionLayout(tokens: tokens, headDim: headDim)
        let inner = heads * headDim, ld = 3 * inner
        let scale = 1 / Float(headDim).squareRoot()
        let kD = qs8PaddedK(headDim), kT = qs8PaddedK(tokens)
        func i8(_ o: Int) -> UnsafeMutablePointer<Int8> { (s + o).assumingMemoryBound(to: Int8.self) }
        func f32(_ o: Int) -> UnsafeMutablePointer<Float> { (s + o).assumingMemoryBound(to: Float.self) }
        let base = qkv + b * tokens * ld
        let k = base + inner + h * headDim, v = base + 2 * inner + h * headDim
        // K and V are the "weights": signed int8 whatever the route's input form.
        qs8QuantizeSigned(tokens, headDim, k, ld, i8(l.kq), kD, f32(l.sk))
        qs8Pack(i8(l.kq), n: tokens, k: kD, into: s + l.packedK)
        // V per channel (the rows of Vᵀ), quantized token-major into l.vt's bytes and
        // packed as the [headDim, tokens] weights it is: no transposed copy.
        qs8QuantizeColumns(tokens, headDim, v, ld, i8(l.vt), headDim, f32(l.sv))
        qs8PackKNFn!(i8(l.vt), headDim, headDim, tokens, kT, s + l.packedV)
        let limit = l.blockRows
        let blocks = (rows.count + limit - 1) / limit
        let size = (rows.count + blocks - 1) / blocks
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let m = min(size, rows.upperBound - r0)
            qs8Quantize(m, headDim, base + r0 * ld + h * headDim, ld, i8(l.qq), kD, f32(l.sq))
            g(m, tokens, kD, i8(l.qq), kD, s + l.packedK, f32(l.sq), f32(l.sk), nil, scratch.scores, tokens, 0)
            bias?.add(b: b, h: h, r0: r0, rows: m, tokens: tokens, scores: scratch.scores, ld: tokens, scale: scale)
            softmaxFn(m, tokens, scratch.scores, tokens, bias == nil ? scale : 1)
            if let capture {
                (capture + ((b * heads + h) * tokens + r0) * tokens).update(from: scratch.scores, count: m * tokens)
            }
            qs8Quantize(m, tokens, scratch.scores, tokens, i8(l.pq), kT, f32(l.sp))
            g(m, headDim, kT, i8(l.pq), kT, s + l.packedV, f32(l.sp), f32(l.sv), nil,
              out + (b * tokens + r0) * inner + h * headDim, inner, 0)
            r0 += m
        }
    }

    /// Query rows per block of the attention route (whole heads for short sequences).
    static func attentionBlockRows(tokens: Int) -> Int { tokens <= 96 ? max(1, tokens) : 48 }

    /// Floats of scratch the attention routes need per worker: one block of scores
    /// (the reference computes one row at a time) and one head's packed K.
    static func attentionScratchFloats(tokens: Int, headDim: Int) -> (scores: Int, packedK: Int) {
        (attentionBlockRows(tokens: tokens) * tokens, vk_f32_packed_count(tokens, headDim))
    }

    /// What this set's attention uses of that: packed K only on the fp32 optimized route
    /// (int8 attention has its own `Int8AttentionLayout`).
    func attentionScratchFloats(tokens: Int, headDim: Int, int8: Bool) -> (scores: Int, packedK: Int) {
        let s = Kernels.attentionScratchFloats(tokens: tokens, headDim: headDim)
        return (s.scores, gemm != nil && !int8 ? s.packedK : 0)
    }
}

/// Where an attention's Q, K and V are: image b's query row i at q + (b·queries + i)·ldq,
/// its key (value) row j at k (v) + (b·keys + j)·ldkv, head h's columns h·headDim onwards.
package struct AttentionInputs {
    package var q: UnsafePointer<Float>, ldq: Int
    package var k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int
    package var queries: Int, keys: Int

    package init(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int, queries: Int, keys: Int) {
        (self.q, self.ldq, self.k, self.v, self.ldkv, self.queries, self.keys) = (q, ldq, k, v, ldkv, queries, keys)
    }

    /// Self-attention over qkv [B·T, 3·inner] (q, k, v blocks).
    package static func selfAttention(_ qkv: UnsafePointer<Float>, tokens: Int, inner: Int) -> AttentionInputs {
        AttentionInputs(q: qkv, ldq: 3 * inner, k: qkv + inner, v: qkv + 2 * inner, ldkv: 3 * inner, queries: tokens, keys: tokens)
    }
}

/// An additive term on the attention logits before softmax: Swin's relative position bias
/// [heads, T, T] and, for shifted windows, a mask per window position [windows, T, T]
/// (0 within a region, −100 across: timm's values). Sequence b of the batch is window
/// b mod `windows` of its image (windows are laid out image by image).
package struct AttentionBias {
    package var bias: UnsafePointer<Float>
    package var mask: UnsafePointer<Float>?
    package var windows: Int

    package init(bias: UnsafePointer<Float>, mask: UnsafePointer<Float>?, windows: Int) {
        (self.bias, self.mask, self.windows) = (bias, mask, windows)
    }

    /// s = s · scale + bias[h] (+ mask[b mod windows]) for query rows r0..<r0+rows of
    /// (sequence b, head h), in place; then softmax runs with scale 1. Every route adds
    /// in this order, so they differ only where their products do.
    func add(b: Int, h: Int, r0: Int, rows: Int, tokens t: Int, scores: UnsafeMutablePointer<Float>, ld: Int, scale: Float) {
        let bh = bias + (h * t + r0) * t
        let mw = mask.map { $0 + ((b % windows) * t + r0) * t }
        for r in 0..<rows {
            let s = scores + r * ld, br = bh + r * t
            if let m = mw.map({ $0 + r * t }) {
                for j in 0..<t { s[j] = (s[j] * scale + br[j]) + m[j] }
            } else {
                for j in 0..<t { s[j] = s[j] * scale + br[j] }
            }
        }
    }
}

/// Views of the planned scratch the attention core works in: one set per worker
/// thread, each set `stride*` floats after the previous.
struct AttentionScratch {
    /// [block rows, tokens] (see `Kernels.attentionScratchFloats`)
    var scores: UnsafeMutablePointer<Float>
    /// One head's K in GEMM panels: packedCount(tokens, headDim)
    var packedK: UnsafeMutablePointer<Float>
    var workers = 1
    var strideScores = 0, strideK = 0
    /// int8 attention's scratch (`Int8AttentionLayout`), nil for fp32 attention.
    var int8: UnsafeMutableRawPointer? = nil
    var strideInt8 = 0

    func worker(_ w: Int) -> AttentionScratch {
        AttentionScratch(scores: scores + w * strideScores, packedK: packedK + w * strideK, workers: 1,
                         int8: int8.map { $0 + w * strideInt8 })
    }
}
