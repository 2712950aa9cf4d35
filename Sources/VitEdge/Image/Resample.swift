#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Separable resampling, shared by image preprocessing and position-embedding
/// resampling: one set of 1-D taps per axis (which input samples feed each output
/// sample, with what weights), applied rows first (along x), then columns (along y).
///
/// Two ways of making taps, after the two libraries users compare with:
/// - `pillow`: Pillow's `precompute_coeffs` (Resample.c), antialiased: when shrinking,
///   the filter's support widens by the scale factor. PyTorch's `interpolate(...,
///   antialias=True)` makes the same taps (timm resamples position embeddings so).
///   Applied to 8-bit images with Pillow's fixed-point arithmetic (`apply8`): 22-bit
///   coefficients, rounding and clipping to 8 bits after each pass — which is what
///   makes the result equal to Pillow's, byte for byte.
/// - `pytorch`: `interpolate(mode="bilinear"|"bicubic", align_corners=False)` without
///   antialiasing: two or four taps around the source position, edges replicated,
///   bicubic with A = −0.75.
@_spi(Internals) public enum Resample {
    /// Pillow's filters (`Image.Resampling`), by the names timm and Hugging Face use.
    @_spi(Internals) public enum Filter: String, Sendable, CaseIterable {
        case nearest, box, bilinear, hamming, bicubic, lanczos

        /// Pillow's `PILImageResampling` / `Image.Resampling` numbers (Hugging Face's `resample`).
        @_spi(Internals) public init?(pillowCode: Int) {
            switch pillowCode {
            case 0: self = .nearest
            case 1: self = .lanczos
            case 2: self = .bilinear
            case 3: self = .bicubic
            case 4: self = .box
            case 5: self = .hamming
            default: return nil
            }
        }

        var support: Double {
            switch self {
            case .nearest, .box: return 0.5
            case .bilinear, .hamming: return 1
            case .bicubic: return 2
            case .lanczos: return 3
            }
        }

        func weight(_ x: Double) -> Double {
            switch self {
            case .nearest, .box:
                return x > -0.5 && x <= 0.5 ? 1 : 0
            case .bilinear:
                let a = abs(x)
                return a < 1 ? 1 - a : 0
            case .hamming:
                var a = abs(x)
                if a == 0 { return 1 }
                if a >= 1 { return 0 }
                a *= Double.pi
                return sin(a) / a * (0.54 + 0.46 * cos(a))
            case .bicubic:
                let a = -0.5, t = abs(x)
                if t < 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
                if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
                return 0
            case .lanczos:
                func sinc(_ v: Double) -> Double { v == 0 ? 1 : sin(v * Double.pi) / (v * Double.pi) }
                return x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0
            }
        }
    }

    /// The taps of one axis: output `i` reads `count[i]` inputs from `start[i]` with
    /// weights `weights[i * width ..< i * width + count[i]]`.
    @_spi(Internals) public struct Taps: Sendable {
        @_spi(Internals) public var inSize: Int
        @_spi(Internals) public var start: [Int]
        @_spi(Internals) public var count: [Int]
        @_spi(Internals) public var width: Int
        @_spi(Internals) public var weights: [Double]
        /// Whether this axis is left as it is (output i = input i): no pass is made.
        @_spi(Internals) public var identity = false
        /// `weights` in Pillow's 8-bit fixed point and as Float, made once by `finished`.
        var fixed: [Int32] = []
        var floats: [Float] = []

        /// Fills the derived weights (every constructor ends with it).
        func finished() -> Taps {
            var t = self
            t.fixed = weights.map { w in Int32(w < 0 ? -0.5 + w * Double(1 << 22) : 0.5 + w * Double(1 << 22)) }
            t.floats = weights.map { Float($0) }
            return t
        }

        @_spi(Internals) public var outSize: Int { start.count }

        /// Outputs `from ..< from + n` only (a crop after the resize: each output
        /// sample depends on its own taps alone, so cropping first is exact).
        /// Outputs outside `0 ..< outSize` (padding) read nothing: they are zero.
        func cropped(from: Int, count n: Int) -> Taps {
            var t = Taps(inSize: inSize, start: [], count: [], width: width, weights: [])
            t.identity = identity && from == 0 && n == outSize
            for i in from..<(from + n) {
                if i >= 0 && i < outSize {
                    t.start.append(start[i])
                    t.count.append(count[i])
                    t.weights += weights[(i * width)..<((i + 1) * width)]
                } else {
                    t.start.append(0)
                    t.count.append(0)
                    t.weights += [Double](repeating: 0, count: width)
                }
            }
            return t.finished()
        }

        /// The input range the outputs read.
        var inputRange: Range<Int> {
            var lo = inSize, hi = 0
            for i in 0..<outSize where count[i] > 0 {
                lo = min(lo, start[i])
                hi = max(hi, start[i] + count[i])
            }
            return lo < hi ? lo..<hi : 0..<0
        }

    }

    /// Pillow's taps for resizing `inSize` samples to `outSize` (the input span
    /// `in0 ..< in1`, default all of it). Nearest is Pillow's affine nearest: the input
    /// sample under each output centre.
    @_spi(Internals) public static func pillow(inSize: Int, outSize: Int, filter: Filter, in0: Double = 0, in1: Double? = nil) -> Taps {
        let in1 = in1 ?? Double(inSize)
        let scale = (in1 - in0) / Double(outSize)
        if filter == .nearest {
            // ImagingScaleAffine: xo starts at in0 + scale / 2 and steps by scale.
            var t = Taps(inSize: inSize, start: [], count: [], width: 1, weights: [])
            var xo = in0 + scale * 0.5
            for _ in 0..<outSize {
                let x = xo < 0 ? -1 : Int(xo)
                t.start.append(min(max(x, 0), inSize - 1))
                t.count.append(1)
                t.weights.append(1)
                xo += scale
            }
            t.identity = inSize == outSize && in0 == 0
            return t.finished()
        }
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let width = Int(support.rounded(.up)) * 2 + 1
        var t = Taps(inSize: inSize, start: [], count: [], width: width, weights: [Double](repeating: 0, count: outSize * width))
        for o in 0..<outSize {
            let center = in0 + (Double(o) + 0.5) * scale
            let ss = 1 / filterScale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                t.weights[o * width + x] = w
                total += w
            }
            if total != 0 { for x in 0..<max(xmax, 0) { t.weights[o * width + x] /= total } }
            t.start.append(xmin)
            t.count.append(max(xmax, 0))
        }
        t.identity = inSize == outSize && in0 == 0 && in1 == Double(inSize)
        return t.finished()
    }

    /// PyTorch's `interpolate(align_corners=False)` without antialiasing: bilinear or
    /// bicubic (A = −0.75), edges replicated. `scale` is input step per output step
    /// (1 / scale_factor when a scale factor is given; default inSize / outSize).
    /// Arithmetic in Float, as PyTorch's CPU kernels do for float tensors.
    @_spi(Internals) public static func pytorch(inSize: Int, outSize: Int, cubic: Bool, scale: Double? = nil) -> Taps {
        let s = scale.map { Float($0) } ?? Float(inSize) / Float(outSize)
        var t = Taps(inSize: inSize, start: [], count: [], width: 4, weights: [Double](repeating: 0, count: outSize * 4))
        for o in 0..<outSize {
            var src = (Float(o) + 0.5) * s - 0.5
            var taps: [(Int, Float)]
            if cubic {
                let x0 = Int(src.rounded(.down))
                let f = src - Float(x0)
                let a: Float = -0.75
                func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
                func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
                taps = [(x0 - 1, far(f + 1)), (x0, near(f)), (x0 + 1, near(1 - f)), (x0 + 2, far(2 - f))]
            } else {
                src = max(src, 0)
                let x0 = min(Int(src), inSize - 1)
                let f = src - Float(x0)
                taps = [(x0, 1 - f), (min(x0 + 1, inSize - 1), f)]
            }
            // Replicated edges: clamp each index and merge weights that land together.
            let clamped = taps.map { (min(max($0.0, 0), inSize - 1), $0.1) }
            let lo = clamped.map { $0.0 }.min()!, hi = clamped.map { $0.0 }.max()!
            for (i, w) in clamped { t.weights[o * 4 + i - lo] += Double(w) }
            t.start.append(lo)
            t.count.append(hi - lo + 1)
        }
        // Same size, no scale factor: the taps are exactly [1] (f = 0), so no pass is made.
        t.identity = scale == nil && inSize == outSize
        return t.finished()
    }

    // MARK: - Applying taps

    /// Buffers of `apply8`, kept by the caller so that repeated calls allocate nothing.
    @_spi(Internals) public struct Scratch8 {
        var mid: [UInt8] = []
        var acc: [Int32] = []
        @_spi(Internals) public init() {}
    }

    /// Pillow's two passes over an 8-bit image of `channels` interleaved samples:
    /// rows along x (rounded and clipped to 8 bits, only the rows the second pass
    /// reads), then along y into `out` [v.outSize, h.outSize, channels]. An identity
    /// axis is not resampled. The sums are Pillow's, term for term (integers: the order
    /// of the additions does not change them), so the result is Pillow's byte for byte.
    @_spi(Internals) public static func apply8(_ src: UnsafePointer<UInt8>, rowBytes: Int, channels c: Int,
                              horizontal h: Taps, vertical v: Taps, scratch: inout Scratch8,
                              into out: UnsafeMutablePointer<UInt8>) {
        let outW = h.outSize, outH = v.outSize
        let half: Int32 = 1 << 21
        @inline(__always) func clip8(_ s: Int32) -> UInt8 { UInt8(clamping: s >> 22) }
        let rows = v.identity ? 0..<v.outSize : v.inputRange
        let rowLength = outW * c
        let need = h.identity ? 1 : max(rows.count * rowLength, 1)
        if scratch.mid.count < need { scratch.mid = [UInt8](repeating: 0, count: need) }
        if scratch.acc.count < rowLength { scratch.acc = [Int32](repeating: 0, count: rowLength) }
        scratch.mid.withUnsafeMutableBufferPointer { t in
        scratch.acc.withUnsafeMutableBufferPointer { a in
        h.fixed.withUnsafeBufferPointer { hk in
        v.fixed.withUnsafeBufferPointer { vk in
        h.start.withUnsafeBufferPointer { hs in
        h.count.withUnsafeBufferPointer { hn in
            // Pass 1: along x, one output pixel's channels together over its taps.
            let mid: UnsafePointer<UInt8>, midRowBytes: Int
            if h.identity {
                mid = src + rows.lowerBound * rowBytes
                midRowBytes = rowBytes
            } else {
                let base = t.baseAddress!
                for (r, y) in rows.enumerated() {
                    let line = src + y * rowBytes
                    let dst = base + r * rowLength
                    for x in 0..<outW {
                        let kx = hk.baseAddress! + x * h.width
                        let n = hn[x]
                        var p = line + hs[x] * c
                        if c == 3 {
                            var s0 = half, s1 = half, s2 = half
                            for i in 0..<n {
                                let k = kx[i]
                                s0 &+= Int32(p[0]) &* k
                                s1 &+= Int32(p[1]) &* k
                                s2 &+= Int32(p[2]) &* k
                                p += 3
                            }
                            dst[3 * x] = n == 0 ? 0 : clip8(s0)
                            dst[3 * x + 1] = n == 0 ? 0 : clip8(s1)
                            dst[3 * x + 2] = n == 0 ? 0 : clip8(s2)
                        } else {
                            for ch in 0..<c {
                                var s = half
                                var q = p + ch
                                for i in 0..<n { s &+= Int32(q.pointee) &* kx[i]; q += c }
                                dst[x * c + ch] = n == 0 ? 0 : clip8(s)
                            }
                        }
                    }
                }
                mid = UnsafePointer(base)
                midRowBytes = rowLength
            }
            // Pass 2: along y, a whole row at a time into 32-bit sums (vectorized).
            if v.identity {
                for y in 0..<outH { (out + y * rowLength).update(from: mid + y * midRowBytes, count: rowLength) }
                return
            }
            let acc = a.baseAddress!
            for y in 0..<outH {
                let ky = vk.baseAddress! + y * v.width
                let first = v.start[y] - rows.lowerBound, n = v.count[y]
                let dst = out + y * rowLength
                if n == 0 { dst.update(repeating: 0, count: rowLength); continue }
                acc.update(repeating: half, count: rowLength)
                for j in 0..<n {
                    let k = ky[j]
                    let line = mid + (first + j) * midRowBytes
                    for i in 0..<rowLength { acc[i] &+= Int32(line[i]) &* k }
                }
                for i in 0..<rowLength { dst[i] = clip8(acc[i]) }
            }
        } } } } } }
    }

    /// The same two passes over Float samples ([rows, columns, channels], any number of
    /// channels: image planes or position-embedding vectors), without rounding.
    @_spi(Internals) public static func applyFloat(_ src: UnsafePointer<Float>, rowStride: Int, channels c: Int,
                                  horizontal h: Taps, vertical v: Taps, temp: inout [Float],
                                  into out: UnsafeMutablePointer<Float>) {
        let outW = h.outSize, outH = v.outSize
        let hw = h.floats, vw = v.floats
        let rows = v.identity ? 0..<v.outSize : v.inputRange
        let need = max(rows.count * outW * c, 1)
        if temp.count < need { temp = [Float](repeating: 0, count: need) }
        temp.withUnsafeMutableBufferPointer { t in
            let mid: UnsafePointer<Float>, midStride: Int
            if h.identity {
                mid = src + rows.lowerBound * rowStride
                midStride = rowStride
            } else {
                for (r, y) in rows.enumerated() {
                    let line = src + y * rowStride
                    let dst = t.baseAddress! + r * outW * c
                    for x in 0..<outW {
                        let d = dst + x * c
                        d.update(repeating: 0, count: c)
                        for i in 0..<h.count[x] {
                            let w = hw[x * h.width + i]
                            let p = line + (h.start[x] + i) * c
                            for ch in 0..<c { d[ch] += w * p[ch] }
                        }
                    }
                }
                mid = UnsafePointer(t.baseAddress!)
                midStride = outW * c
            }
            let rowLength = outW * c
            for y in 0..<outH {
                let dst = out + y * rowLength
                if v.identity { dst.update(from: mid + y * midStride, count: rowLength); continue }
                dst.update(repeating: 0, count: rowLength)
                for j in 0..<v.count[y] {
                    let w = vw[y * v.width + j]
                    let p = mid + (v.start[y] + j - rows.lowerBound) * midStride
                    for i in 0..<rowLength { dst[i] += w * p[i] }
                }
            }
        }
    }
}
