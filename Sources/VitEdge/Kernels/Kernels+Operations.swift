import _VitKernels

/// The operations the forward pass calls: each picks this kernel set's route (or the
/// reference), splits the work across the session's pool when it is large enough, and
/// records its operands instead of computing while the session is planned (`plans`).
extension Kernels {
    /// Planning: when this kernel set carries a trace, records one step touching the
    /// buffers these pointers fall in and returns true, and the operation returns without
    /// computing. Every operation of the forward pass that reads or writes activations
    /// starts with `if k.plans(...) { return }` naming its operands, so the memory plan
    /// follows from the code that runs. Otherwise one test of a nil reference.
    @inline(__always)
    func plans(_ a: UnsafeRawPointer?, _ b: UnsafeRawPointer? = nil, _ c: UnsafeRawPointer? = nil,
               _ d: UnsafeRawPointer? = nil, _ e: UnsafeRawPointer? = nil, _ f: UnsafeRawPointer? = nil,
               _ g: UnsafeRawPointer? = nil) -> Bool {
        guard let trace else { return false }
        trace.record([a, b, c, d, e, f, g])
        return true
    }

    /// y[rows][out] = (accumulate ? y : 0) + x[rows][in] · Wᵀ + b
    @inline(__always)
    func linear(_ w: Linear, rows: Int, x: UnsafePointer<Float>, ldx: Int,
                y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool = false, scratch: QuantScratch? = nil) {
        let int8 = w.int8 != nil ? scratch : nil
        if plans(x, y, int8?.q, int8?.scales, int8?.acc) { return }
        if let q = w.int8, let scratch {
            linearInt8(w, q, rows: rows, x: x, ldx: ldx, y: y, ldy: ldy, accumulate: accumulate, scratch: scratch)
        } else if let gemm, let packed = w.packed {
            let panels = (w.outFeatures + f32NR - 1) / f32NR
            if let pool, threads > 1, panels > 1, rows * w.outFeatures * w.inFeatures >= ParallelThreshold.gemmMACs {
                let perTask = (panels + threads - 1) / threads * f32NR
                var job = F32LinearJob(gemm: gemm, rows: rows, n: w.outFeatures, k: w.inFeatures, x: x, ldx: ldx,
                                       packed: packed, bias: w.bias, y: y, ldy: ldy, accumulate: accumulate ? 1 : 0,
                                       columnsPerTask: perTask)
                withUnsafeMutablePointer(to: &job) { vk_pool_run(pool, f32LinearTask, $0, (w.outFeatures + perTask - 1) / perTask) }
            } else {
                gemm(rows, w.outFeatures, w.inFeatures, x, ldx, packed, w.bias, y, ldy, accumulate ? 1 : 0)
            }
        } else {
            Reference.gemm(m: rows, n: w.outFeatures, k: w.inFeatures, a: x, lda: ldx, w: w.weight!,
                           ldw: w.inFeatures, bias: w.bias, c: y, ldc: ldy, accumulate: accumulate)
        }
    }

    /// The int8 route of `linear`: quantize the input rows, then the int8 GEMM whose
    /// epilogue dequantizes, adds the bias (and the residual) into y. The reference
    /// route goes through an int32 buffer and `Reference.dequantize`.
    func linearInt8(_ w: Linear, _ q: Int8Weights, rows: Int, x: UnsafePointer<Float>, ldx: Int,
                    y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool, scratch s: QuantScratch) {
        let k = w.inFeatures, n = w.outFeatures
        let kp = qs8PaddedK(k)
        if var g = qs8Gemm, let packed = q.packed {
            if q.narrow, let narrow = qs8Narrow { g = narrow.gemm }
            if let pool, threads > 1, rows >= 16, rows * n * k >= ParallelThreshold.gemmMACs {
                // Split rows: each task quantizes its own rows and multiplies them by all
                // the weights (one dispatch; the packed weights are shared read-only).
                let perTask = ((rows + threads - 1) / threads + 7) / 8 * 8
                var job = QS8LinearJob(kernels: self, gemm: g, narrow: q.narrow, rows: rows, n: n, k: k, x: x, ldx: ldx, inputScale: q.inputScale,
                                       q: s.q, ldq: kp, packed: packed, aScale: s.scales, wScale: q.scale, bias: w.bias,
                                       y: y, ldy: ldy, accumulate: accumulate ? 1 : 0, rowsPerTask: perTask)
                withUnsafeMutablePointer(to: &job) { vk_pool_run(pool, qs8LinearTask, $0, (rows + perTask - 1) / perTask) }
            } else {
                quantizeRows(rows, k: k, x: x, ldx: ldx, inputScale: q.inputScale, q: s.q, ldq: kp, scales: s.scales, narrow: q.narrow)
                g(rows, n, k, s.q, kp, packed, s.scales, q.scale, w.bias, y, ldy, accumulate ? 1 : 0)
            }
        } else {
            if let a = q.inputScale {
                Reference.quantizeRowsStatic(rows: rows, k: k, x: x, ldx: ldx, s: a, q: s.q, ldq: kp, scale: s.scales)
            } else {
                Reference.quantizeRows(rows: rows, k: k, x: x, ldx: ldx, q: s.q, ldq: kp, scale: s.scales)
            }
            Reference.qs8Gemm(m: rows, n: n, k: k, a: s.q, lda: kp, w: q.weight, c: s.acc, ldc: n)
            Reference.dequantize(m: rows, n: n, c: s.acc, ldc: n, aScale: s.scales, wScale: q.scale, bias: w.bias,
                                 y: y, ldy: ldy, accumulate: accumulate)
        }
    }

    /// Quantizes activation rows into the form this kernel set's int8 GEMM reads.
    @inline(__always)
    func quantizeRows(_ rows: Int, k: Int, x: UnsafePointer<Float>, ldx: Int, inputScale: Float?,
                      q: UnsafeMutablePointer<Int8>, ldq: Int, scales: UnsafeMutablePointer<Float>, narrow: Bool = false) {
        if narrow, let nq = qs8Narrow {
            if let a = inputScale { nq.quantizeStatic(rows, k, x, ldx, a, q, ldq, scales) } else { nq.quantize(rows, k, x, ldx, q, ldq, scales) }
        } else if let a = inputScale {
            qs8QuantizeStatic(rows, k, x, ldx, a, q, ldq, scales)
        } else {
            qs8Quantize(rows, k, x, ldx, q, ldq, scales)
        }
    }

    /// Activation row length for k inputs on this set's int8 route (the reference: 4).
    func qs8PaddedK(_ k: Int) -> Int { alignUp(k, int8KR) }
    /// Padding of the reference int8 route (and of the quantizer's own checks).
    static func qs8PaddedK(_ k: Int) -> Int { vk_qs8_padded_k(k) }
    /// Bytes of a packed [n, k] int8 weight for this set's route.
    func qs8PackedBytes(n: Int, k: Int) -> Int { qs8PackedBytesFn.map { $0(n, k) } ?? 0 }
    func qs8Pack(_ w: UnsafePointer<Int8>, n: Int, k: Int, into packed: UnsafeMutableRawPointer) { qs8PackFn?(w, n, k, packed) }

    @inline(__always)
    func layerNorm(_ ln: LayerNorm, rows: Int, x: UnsafePointer<Float>, ldx: Int,
                   y: UnsafeMutablePointer<Float>, ldy: Int) {
        if plans(x, y) { return }
        if vectorized, let pool, threads > 1, rows > 1, rows * ln.count >= ParallelThreshold.elements {
            let perTask = (rows + threads - 1) / threads
            var job = LayerNormJob(kernels: self, ln: ln, x: x, ldx: ldx, y: y, ldy: ldy, rows: rows, rowsPerTask: perTask)
            withUnsafeMutablePointer(to: &job) { vk_pool_run(pool, layerNormTask, $0, (rows + perTask - 1) / perTask) }
        } else if vectorized {
            layerNormFn(rows, ln.count, x, ldx, ln.gamma, ln.beta, ln.eps, y, ldy)
        } else {
            Reference.layerNorm(rows: rows, n: ln.count, x: x, ldx: ldx, gamma: ln.gamma, beta: ln.beta,
                                eps: ln.eps, y: y, ldy: ldy)
        }
    }

    @inline(__always)
    func gelu(_ x: UnsafeMutablePointer<Float>, count: Int, form: ViTConfig.GELU) {
        if plans(x) { return }
        let fn: vk_f32_map_fn
        switch form {
        case .erf: fn = geluErfFn
        case .tanh: fn = geluTanhFn
        case .quick: fn = geluQuickFn
        }
        if vectorized, let pool, threads > 1, count >= ParallelThreshold.elements {
            let perTask = ((count + threads - 1) / threads + 15) / 16 * 16
            var job = GeluJob(fn: fn, x: x, count: count, perTask: perTask)
            withUnsafeMutablePointer(to: &job) { vk_pool_run(pool, geluTask, $0, (count + perTask - 1) / perTask) }
        } else if vectorized {
            fn(x, count)
        } else {
            Reference.gelu(x, count: count, form: form)
        }
    }

    @inline(__always)
    func softmax(rows: Int, n: Int, x: UnsafeMutablePointer<Float>, ld: Int, scale: Float) {
        if plans(x) { return }
        if vectorized {
            softmaxFn(rows, n, x, ld, scale)
        } else {
            Reference.softmax(rows: rows, n: n, x: x, ld: ld, scale: scale)
        }
    }

    /// y[c][r] = x[r · ld + c] in 8×8 tiles (each tile's rows read once while in cache).
    func transpose(rows: Int, cols: Int, _ x: UnsafePointer<Float>, ld: Int, into y: UnsafeMutablePointer<Float>) {
        if plans(x, y) { return }
        for r0 in stride(from: 0, to: rows, by: 8) {
            for c0 in stride(from: 0, to: cols, by: 8) {
                for r in r0..<min(r0 + 8, rows) {
                    for c in c0..<min(c0 + 8, cols) { y[c * rows + r] = x[r * ld + c] }
                }
            }
        }
    }

    static func packedCount(n: Int, k: Int) -> Int { vk_f32_packed_count(n, k) }

    static func pack(_ w: UnsafePointer<Float>, n: Int, k: Int, into packed: UnsafeMutablePointer<Float>) {
        vk_f32_pack_nk(w, k, n, k, packed)
    }
}

/// Views of the planned scratch an int8 Linear layer works in.
struct QuantScratch {
    /// [rows, padded in] quantized input rows
    var q: UnsafeMutablePointer<Int8>
    /// [rows] activation scales
    var scales: UnsafeMutablePointer<Float>
    /// [rows, out] int32 sums
    var acc: UnsafeMutablePointer<Int32>
}
