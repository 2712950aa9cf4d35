import _VitKernels

/// Applying taps: the two passes of a separable resize, streamed row by row, so that the
/// memory they take is bounded by the output (and one input row), never by an extreme
/// aspect ratio of the input.
///
/// Each input row the output reads is fetched once (converted by the caller if need be),
/// resampled along x into one row of the intermediate image, and at once added into
/// every output row whose vertical taps read it. For each output the additions still
/// come in the order of its taps, so the sums are the ones a row-by-row gather makes: in
/// 8-bit fixed point they are integers (Pillow's, term for term); in Float the same
/// additions in the same order. Taps are made for the outputs kept (the crop) only, in
/// chunks of at most `Resample.maxTapsPerChunk` weights: a 67-megapixel-wide row shrunk
/// to 224 samples never holds its millions of taps at once.
extension Resample {
    /// The largest number of weights one chunk of an axis holds (16 bytes each).
    package static let maxTapsPerChunk = 1 << 16

    /// A route of the 8-bit passes: a row of the C table `vk_u8_resample_configs` (AVX-512,
    /// AVX2, NEON, scalar C++), every one bit-identical to the Swift reference
    /// (`resample8` with no route), which stays the definition the tests hold them to.
    package struct Route8: @unchecked Sendable, Equatable {
        let config: UnsafePointer<vk_u8_resample_config>
        package var name: String { String(cString: config.pointee.name) }
        var lanes: Int { config.pointee.lanes }

        /// The best route this CPU runs.
        package static let best = Route8(config: vk_u8_resample_config_for(vk_cpu_features()))

        /// Every route this CPU runs, best first (the last is the scalar C++ one).
        package static var runnable: [Route8] {
            var table: UnsafePointer<vk_u8_resample_config>? = nil
            let n = vk_u8_resample_configs(&table)
            let f = vk_cpu_features()
            return (0..<n).map { Route8(config: table! + $0) }.filter { $0.config.pointee.requires & f == $0.config.pointee.requires }
        }
    }

    /// One axis of a resize as the passes use it: the taps of any range of the outputs
    /// kept, made on demand (and made once, when they fit in one chunk).
    package struct Axis: Sendable {
        /// Outputs kept (the crop).
        package let outputs: Int
        /// Input samples along the axis.
        package let inSize: Int
        /// Taps per output, at most.
        let width: Int
        /// Output i = input i: no pass is made along this axis.
        package let identity: Bool
        /// The taps of outputs `r` (of `0 ..< outputs`).
        let make: @Sendable (Range<Int>) -> Taps
        /// All the taps, when they fit in one chunk.
        let all: Taps?
        /// Pillow's windows of every output (no weights held), when the taps do not fit:
        /// the vertical pass then computes each weight as its row arrives, in one pass.
        let windows: (@Sendable () -> PillowWindows)?

        init(outputs: Int, inSize: Int, width: Int, identity: Bool, maxTaps: Int = Resample.maxTapsPerChunk,
             windows: (@Sendable () -> PillowWindows)? = nil, make: @escaping @Sendable (Range<Int>) -> Taps) {
            self.outputs = outputs
            self.inSize = inSize
            self.width = width
            self.identity = identity
            self.make = make
            self.windows = windows
            self.maxTaps = maxTaps
            self.chunk = max(1, maxTaps / max(width, 1))
            all = identity || (outputs <= chunk && width <= maxTaps) ? make(0..<outputs) : nil
        }

        /// Outputs per chunk, and the weights one chunk holds at most.
        let chunk: Int
        let maxTaps: Int

        /// Taps made in full beforehand (small sizes: position embeddings, maps).
        package init(_ taps: Taps) {
            self.init(outputs: taps.outSize, inSize: taps.inSize, width: taps.width, identity: taps.identity,
                      maxTaps: Int.max, make: { r in
                var t = Taps(inSize: taps.inSize, start: Array(taps.start[r]), count: Array(taps.count[r]), width: taps.width,
                             weights: Array(taps.weights[(r.lowerBound * taps.width)..<(r.upperBound * taps.width)]))
                t.identity = taps.identity && r == 0..<taps.outSize
                return t.finished()
            })
        }

        /// Pillow's taps of `inSize` → `outSize`, the `count` outputs from `from` kept
        /// (a centre crop; outputs outside the resize are padding).
        package static func pillow(inSize: Int, outSize: Int, filter: Filter, from: Int, count: Int,
                                                   maxTaps: Int = Resample.maxTapsPerChunk) -> Axis {
            var windows: (@Sendable () -> PillowWindows)? = nil
            if filter != .nearest {
                windows = { @Sendable in PillowWindows(inSize: inSize, outSize: outSize, filter: filter, outputs: from..<(from + count)) }
            }
            let make: @Sendable (Range<Int>) -> Taps = { r in
                Resample.pillow(inSize: inSize, outSize: outSize, filter: filter, outputs: (from + r.lowerBound)..<(from + r.upperBound)).compacted()
            }
            return Axis(outputs: count, inSize: inSize, width: pillowWidth(inSize: inSize, outSize: outSize, filter: filter),
                        identity: inSize == outSize && from == 0 && count == outSize, maxTaps: maxTaps,
                        windows: windows, make: make)
        }

        /// PyTorch's taps (see `Resample.pytorch`), cropped as `pillow`'s.
        package static func pytorch(inSize: Int, outSize: Int, cubic: Bool, from: Int, count: Int,
                                                    maxTaps: Int = Resample.maxTapsPerChunk) -> Axis {
            Axis(outputs: count, inSize: inSize, width: 4,
                 identity: inSize == outSize && from == 0 && count == outSize, maxTaps: maxTaps) { r in
                Resample.pytorch(inSize: inSize, outSize: outSize, cubic: cubic, outputs: (from + r.lowerBound)..<(from + r.upperBound)).compacted()
            }
        }

        /// The chunks of outputs, each with its taps.
        func chunks(_ body: (Range<Int>, Taps) -> Void) {
            if let all { return body(0..<outputs, all) }
            var lo = 0
            while lo < outputs {
                let r = lo..<min(lo + chunk, outputs)
                body(r, make(r))
                lo = r.upperBound
            }
        }

        /// The same for the vertical pass: one chunk of every output when the taps fit or
        /// Pillow's windows stand in for them (each input row read once), else chunks.
        func verticalChunks(_ body: (Range<Int>, Chunk) -> Void) {
            if all == nil, let windows { return body(0..<outputs, .windows(windows())) }
            chunks { body($0, .stored($1)) }
        }

        /// The same for the horizontal pass: stored taps in chunks, unless one output alone
        /// has more taps than a chunk holds (a shrink by more than the chunk: a row of
        /// millions of samples to a few): then Pillow's windows, weights computed per row.
        func horizontalChunks(_ body: (Range<Int>, Chunk) -> Void) {
            if all == nil, width > maxTaps, let windows { return body(0..<outputs, .windows(windows())) }
            chunks { body($0, .stored($1)) }
        }

        /// Outputs `r` of this axis as an axis of their own, for a part of the output run on
        /// another thread: the same taps (made once here when they fit, as `init` does).
        func slice(_ r: Range<Int>) -> Axis {
            let make = self.make, lo = r.lowerBound
            return Axis(outputs: r.count, inSize: inSize, width: width, identity: false, maxTaps: maxTaps) { s in
                make((lo + s.lowerBound)..<(lo + s.upperBound))
            }
        }

        /// Whether every output's taps are held (one chunk, no windows).
        var tapsHeld: Bool { all != nil }

        /// Bytes the passes keep for this axis at most (its taps, or its windows).
        var tapBytes: Int { all == nil && windows != nil ? outputs * 32 : min(outputs, chunk) * max(width, 1) * 16 }
    }

    /// The taps of one chunk of outputs: stored, or Pillow's windows whose weights are
    /// computed as they are used (the same doubles, so the same fixed-point weights).
    enum Chunk {
        case stored(Taps)
        case windows(PillowWindows)

        var start: [Int] { switch self { case .stored(let t): return t.start; case .windows(let w): return w.start } }
        var count: [Int] { switch self { case .stored(let t): return t.count; case .windows(let w): return w.count } }
        var inputRange: Range<Int> {
            let (s, n) = (start, count)
            var lo = Int.max, hi = 0
            for i in s.indices where n[i] > 0 { lo = min(lo, s[i]); hi = max(hi, s[i] + n[i]) }
            return lo < hi ? lo..<hi : 0..<0
        }

        /// The stored taps (empty for windows).
        var stored: Taps { if case .stored(let t) = self { return t }; return Taps(inSize: 0, start: [], count: [], width: 0, weights: []) }

        /// The weight output `y` (of the chunk) gives input `r`, in 8-bit fixed point.
        @inline(__always)
        func fixed(_ y: Int, _ r: Int) -> Int32 {
            switch self {
            case .stored(let t): return t.fixed[y * t.width + r - t.start[y]]
            case .windows(let w): return Resample.fixed(w.weight(y, r))
            }
        }

        /// The same as Float.
        @inline(__always)
        func float(_ y: Int, _ r: Int) -> Float {
            switch self {
            case .stored(let t): return t.floats[y * t.width + r - t.start[y]]
            case .windows(let w): return Float(w.weight(y, r))
            }
        }
    }

    /// Buffers of the passes, kept by the caller so that repeated calls allocate nothing.
    package struct Scratch<Sample, Sum> {
        var mid: [Sample] = []
        var acc: [Sum] = []
        /// A route's horizontal taps: coefficients packed for its vector width, windows as Int32.
        var packed: [Int32] = []
        var start32: [Int32] = []
        var count32: [Int32] = []
        package init() {}
    }

    /// The outputs of vertical taps (indices into `start`/`count`) that read input row `r`,
    /// given the first output that may (`lo`, advanced here): windows slide down with the
    /// outputs, so both ends only move forward.
    @inline(__always)
    static func readers(of r: Int, start: [Int], count: [Int], from lo: inout Int, _ body: (Int) -> Void) {
        let n = start.count
        while lo < n && (count[lo] == 0 || start[lo] + count[lo] <= r) { lo += 1 }
        var y = lo
        while y < n && (count[y] == 0 || start[y] <= r) {
            if count[y] > 0 && r < start[y] + count[y] { body(y) }
            y += 1
        }
    }

    /// Pillow's two passes over 8-bit rows of `c` interleaved channels: along x (rounded
    /// and clipped to 8 bits), then along y, into `out` [v.outputs, h.outputs, c].
    /// `row(r, columns)` gives input row `r`, valid at least for the columns asked
    /// (pointer to column 0). An identity axis is not resampled. `route` runs the passes
    /// with a C++ route (nil: the scalar Swift below, the reference); taps whose weights
    /// are computed as they are used (Pillow's windows) always take the Swift loops.
    package static func resample8(channels c: Int, horizontal h: Axis, vertical v: Axis,
                                                  scratch: inout Scratch<UInt8, Int32>, route: Route8? = nil,
                                                  row: (Int, Range<Int>) -> UnsafePointer<UInt8>,
                                                  into out: UnsafeMutablePointer<UInt8>) {
        precondition(c >= 1 && c <= 4, "8-bit images have 1 to 4 channels")
        let half: Int32 = 1 << 21
        @inline(__always) func clip8(_ s: Int32) -> UInt8 { UInt8(clamping: s >> 22) }
        let outW = h.outputs
        v.verticalChunks { ys, vt in
            let (vStart, vCount) = (vt.start, vt.count)
            h.horizontalChunks { xs, hc in
                let ht = hc.stored
                let rowLength = xs.count * c
                if scratch.mid.count < rowLength { scratch.mid = [UInt8](repeating: 0, count: rowLength) }
                if !v.identity && scratch.acc.count < ys.count * rowLength {
                    scratch.acc = [Int32](repeating: 0, count: ys.count * rowLength)
                }
                let columns = h.identity ? xs : hc.inputRange
                // The route's packed coefficients of this chunk (made per call: a few
                // thousand stores, no allocation once the buffers have grown).
                var stride = 0
                if let route, !h.identity, case .stored = hc {
                    stride = vk_u8_resample_packed_stride(route.lanes, c, ht.width)
                    let need = xs.count * stride
                    if scratch.packed.count < need { scratch.packed = [Int32](repeating: 0, count: need) }
                    if scratch.start32.count < xs.count {
                        scratch.start32 = [Int32](repeating: 0, count: xs.count)
                        scratch.count32 = [Int32](repeating: 0, count: xs.count)
                    }
                    for x in 0..<xs.count {
                        scratch.start32[x] = Int32(ht.start[x])
                        scratch.count32[x] = Int32(ht.count[x])
                    }
                    let width = ht.width
                    ht.fixed.withUnsafeBufferPointer { f in
                    scratch.count32.withUnsafeBufferPointer { n in
                    scratch.packed.withUnsafeMutableBufferPointer { pk in
                        vk_u8_resample_pack(route.lanes, c, xs.count, width, f.baseAddress, n.baseAddress, pk.baseAddress)
                    } } }
                }
                scratch.mid.withUnsafeMutableBufferPointer { midBuffer in
                scratch.acc.withUnsafeMutableBufferPointer { accBuffer in
                scratch.packed.withUnsafeBufferPointer { packed in
                scratch.start32.withUnsafeBufferPointer { start32 in
                scratch.count32.withUnsafeBufferPointer { count32 in
                ht.fixed.withUnsafeBufferPointer { hk in
                ht.start.withUnsafeBufferPointer { hs in
                ht.count.withUnsafeBufferPointer { hn in
                    let midBase = midBuffer.baseAddress!
                    // One input row along x: the samples of outputs xs.
                    func alongX(_ r: Int) -> UnsafePointer<UInt8> {
                        let line = row(r, columns)
                        if h.identity { return line + xs.lowerBound * c }
                        if case .windows(let w) = hc {
                            // Weights computed per tap: one pass over the row per output.
                            for x in 0..<xs.count {
                                let dst = midBase + x * c
                                for ch in 0..<c { dst[ch] = 0 }
                                guard w.count[x] > 0 else { continue }
                                var sums = SIMD4<Int32>(repeating: half)  // images: at most 4 channels
                                for i in w.start[x]..<(w.start[x] + w.count[x]) {
                                    let k = Resample.fixed(w.weight(x, i))
                                    for ch in 0..<c { sums[ch] &+= Int32(line[i * c + ch]) &* k }
                                }
                                for ch in 0..<c { dst[ch] = clip8(sums[ch]) }
                            }
                            return UnsafePointer(midBase)
                        }
                        if let route {
                            route.config.pointee.horizontal(line, line + columns.upperBound * c, xs.count, c, start32.baseAddress,
                                                            count32.baseAddress, packed.baseAddress, stride, midBase)
                            return UnsafePointer(midBase)
                        }
                        for x in 0..<xs.count {
                            let n = hn[x]
                            let dst = midBase + x * c
                            if n == 0 { for ch in 0..<c { dst[ch] = 0 }; continue }
                            let k = hk.baseAddress! + x * ht.width
                            let p = line + hs[x] * c
                            if c == 3 {
                                var s0 = half, s1 = half, s2 = half
                                for i in 0..<n {
                                    s0 &+= Int32(p[3 * i]) &* k[i]
                                    s1 &+= Int32(p[3 * i + 1]) &* k[i]
                                    s2 &+= Int32(p[3 * i + 2]) &* k[i]
                                }
                                dst[0] = clip8(s0); dst[1] = clip8(s1); dst[2] = clip8(s2)
                            } else {
                                for ch in 0..<c {
                                    var s = half
                                    for i in 0..<n { s &+= Int32(p[i * c + ch]) &* k[i] }
                                    dst[ch] = clip8(s)
                                }
                            }
                        }
                        return UnsafePointer(midBase)
                    }
                    if v.identity {
                        for y in ys {
                            (out + (y * outW + xs.lowerBound) * c).update(from: alongX(y), count: rowLength)
                        }
                        return
                    }
                    let acc = accBuffer.baseAddress!
                    acc.update(repeating: half, count: ys.count * rowLength)
                    var lo = 0
                    for r in vt.inputRange {
                        let mid = alongX(r)
                        readers(of: r, start: vStart, count: vCount, from: &lo) { y in
                            let k = vt.fixed(y, r)
                            let a = acc + y * rowLength
                            if let route { return route.config.pointee.vertical(mid, rowLength, k, a) }
                            for i in 0..<rowLength { a[i] &+= Int32(mid[i]) &* k }
                        }
                    }
                    for y in 0..<ys.count {
                        let dst = out + ((ys.lowerBound + y) * outW + xs.lowerBound) * c
                        if vCount[y] == 0 { dst.update(repeating: 0, count: rowLength); continue }
                        let a = acc + y * rowLength
                        if let route { route.config.pointee.clip(a, rowLength, dst); continue }
                        for i in 0..<rowLength { dst[i] = clip8(a[i]) }
                    }
                } } } } } } } }
            }
        }
    }

    /// The same two passes over Float rows (any number of channels: image planes or
    /// position-embedding vectors), without rounding, into `out` [v.outputs, h.outputs, c].
    package static func resampleFloat(channels c: Int, horizontal h: Axis, vertical v: Axis,
                                                      scratch: inout Scratch<Float, Float>,
                                                      row: (Int, Range<Int>) -> UnsafePointer<Float>,
                                                      into out: UnsafeMutablePointer<Float>) {
        let outW = h.outputs
        v.verticalChunks { ys, vt in
            let (vStart, vCount) = (vt.start, vt.count)
            h.horizontalChunks { xs, hc in
                let rowLength = xs.count * c
                if scratch.mid.count < rowLength { scratch.mid = [Float](repeating: 0, count: rowLength) }
                let columns = h.identity ? xs : hc.inputRange
                scratch.mid.withUnsafeMutableBufferPointer { midBuffer in
                    let midBase = midBuffer.baseAddress!
                    func alongX(_ r: Int) -> UnsafePointer<Float> {
                        let line = row(r, columns)
                        if h.identity { return line + xs.lowerBound * c }
                        for x in 0..<xs.count {
                            let d = midBase + x * c
                            d.update(repeating: 0, count: c)
                            switch hc {
                            case .stored(let ht):
                                for i in 0..<ht.count[x] {
                                    let w = ht.floats[x * ht.width + i]
                                    let p = line + (ht.start[x] + i) * c
                                    for ch in 0..<c { d[ch] += w * p[ch] }
                                }
                            case .windows(let wi):
                                for i in wi.start[x]..<(wi.start[x] + wi.count[x]) {
                                    let w = Float(wi.weight(x, i))
                                    for ch in 0..<c { d[ch] += w * line[i * c + ch] }
                                }
                            }
                        }
                        return UnsafePointer(midBase)
                    }
                    if v.identity {
                        for y in ys { (out + (y * outW + xs.lowerBound) * c).update(from: alongX(y), count: rowLength) }
                        return
                    }
                    // The output rows are the sums themselves: accumulate in place.
                    for y in ys { (out + (y * outW + xs.lowerBound) * c).update(repeating: 0, count: rowLength) }
                    var lo = 0
                    for r in vt.inputRange {
                        let mid = alongX(r)
                        readers(of: r, start: vStart, count: vCount, from: &lo) { y in
                            let w = vt.float(y, r)
                            let dst = out + ((ys.lowerBound + y) * outW + xs.lowerBound) * c
                            for i in 0..<rowLength { dst[i] += w * mid[i] }
                        }
                    }
                }
            }
        }
    }

    /// The two passes over a Float array [rows, columns, channels] with taps made in full
    /// (position embeddings, attention maps): `out` [v.outSize, h.outSize, channels].
    package static func applyFloat(_ src: UnsafePointer<Float>, rowStride: Int, channels c: Int,
                                                   horizontal h: Taps, vertical v: Taps,
                                                   into out: UnsafeMutablePointer<Float>) {
        var scratch = Scratch<Float, Float>()
        resampleFloat(channels: c, horizontal: Axis(h), vertical: Axis(v), scratch: &scratch,
                      row: { r, _ in src + r * rowStride }, into: out)
    }
}
