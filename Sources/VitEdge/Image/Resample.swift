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
package enum Resample {
    /// Pillow's filters (`Image.Resampling`), by the names timm and Hugging Face use.
    package enum Filter: String, Sendable, CaseIterable {
        case nearest, box, bilinear, hamming, bicubic, lanczos

        /// Pillow's `PILImageResampling` / `Image.Resampling` numbers (Hugging Face's `resample`).
        package init?(pillowCode: Int) {
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

    /// The taps of some outputs of one axis: output `i` (of those made) reads `count[i]`
    /// inputs from `start[i]` with weights `weights[i * width ..< i * width + count[i]]`.
    /// Outputs are made for a range (a centre crop's, or a chunk of it: each output sample
    /// depends on its own taps alone, so making only the outputs kept is exact); outputs
    /// outside the resize (a crop larger than the image: padding) read nothing and are zero.
    package struct Taps: Sendable {
        package var inSize: Int
        package var start: [Int]
        package var count: [Int]
        package var width: Int
        package var weights: [Double]
        /// Whether this axis is left as it is (output i = input i): no pass is made.
        package var identity = false
        /// `weights` in Pillow's 8-bit fixed point and as Float, made once by `finished`.
        var fixed: [Int32] = []
        var floats: [Float] = []

        /// Fills the derived weights (every constructor ends with it).
        func finished() -> Taps {
            var t = self
            t.fixed = weights.map(Resample.fixed)
            t.floats = weights.map { Float($0) }
            return t
        }

        package var outSize: Int { start.count }

        /// The taps without their Double weights (the passes use `fixed` and `floats`):
        /// half the memory, for taps made per chunk.
        func compacted() -> Taps {
            var t = self
            t.weights = []
            return t
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

    /// Taps per output of Pillow's filters for a resize of `inSize` to `outSize` (an
    /// upper bound on `count`): what one output of a chunk costs in memory.
    static func pillowWidth(inSize: Int, outSize: Int, filter: Filter, span: Double? = nil) -> Int {
        if filter == .nearest { return 1 }
        let scale = (span ?? Double(inSize)) / Double(outSize)
        return Int((filter.support * max(scale, 1)).rounded(.up)) * 2 + 1
    }

    /// Pillow's taps for resizing `inSize` samples to `outSize` (the input span
    /// `in0 ..< in1`, default all of it), for the outputs `outputs` (default all; outputs
    /// outside `0 ..< outSize` are padding). Nearest is Pillow's affine nearest: the input
    /// sample under each output centre.
    package static func pillow(inSize: Int, outSize: Int, filter: Filter, in0: Double = 0, in1: Double? = nil,
                                               outputs: Range<Int>? = nil) -> Taps {
        let in1 = in1 ?? Double(inSize)
        let outputs = outputs ?? 0..<outSize
        let scale = (in1 - in0) / Double(outSize)
        let identity = inSize == outSize && in0 == 0 && in1 == Double(inSize) && outputs == 0..<outSize
        if filter == .nearest {
            // ImagingScaleAffine: xo starts at in0 + scale / 2 and steps by scale, output by
            // output, from the first. (Past 2^26 outputs, which Pillow cannot allocate, the
            // first centre kept is computed by one multiplication instead of the steps.)
            var t = Taps(inSize: inSize, start: [], count: [], width: 1, weights: [])
            let first = min(max(outputs.lowerBound, 0), outSize)
            var xo = in0 + scale * 0.5
            if first <= 1 << 26 { for _ in 0..<first { xo += scale } } else { xo += Double(first) * scale }
            for o in outputs {
                guard o >= 0 && o < outSize else { t.start.append(0); t.count.append(0); t.weights.append(0); continue }
                defer { xo += scale }
                let x = xo < 0 ? -1 : Int(min(xo, Double(inSize)))
                t.start.append(min(max(x, 0), inSize - 1))
                t.count.append(1)
                t.weights.append(1)
            }
            t.identity = identity
            return t.finished()
        }
        let width = pillowWidth(inSize: inSize, outSize: outSize, filter: filter, span: in1 - in0)
        // precompute_coeffs: each weight evaluated once, summed in order, divided by the sum
        // (PillowWindows computes the same doubles without keeping them).
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let ss = 1 / filterScale
        var t = Taps(inSize: inSize, start: [], count: [], width: width, weights: [Double](repeating: 0, count: outputs.count * width))
        for (i, o) in outputs.enumerated() {
            guard o >= 0 && o < outSize else { t.start.append(0); t.count.append(0); continue }
            let center = in0 + (Double(o) + 0.5) * scale
            let xmin = max(Int(center - support + 0.5), 0)
            let n = max(min(Int(center + support + 0.5), inSize) - xmin, 0)
            var total = 0.0
            for x in 0..<n {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                t.weights[i * width + x] = w
                total += w
            }
            if total != 0 { for x in 0..<n { t.weights[i * width + x] /= total } }
            t.start.append(xmin)
            t.count.append(n)
        }
        t.identity = identity
        return t.finished()
    }

    /// Pillow's windows (`precompute_coeffs`) for some outputs, without their weights:
    /// each output's first input, input count, centre and the sum its weights are divided
    /// by. A weight follows from them alone (`weight`), the same double `pillow` stores,
    /// so taps too many to hold can be computed as they are used.
    struct PillowWindows: Sendable {
        let filter: Filter
        /// 1 / the filter's scale (its support widens by the scale when shrinking).
        let ss: Double
        var start: [Int] = [], count: [Int] = [], center: [Double] = [], total: [Double] = []

        init(inSize: Int, outSize: Int, filter: Filter, in0: Double = 0, in1: Double? = nil, outputs: Range<Int>) {
            let in1 = in1 ?? Double(inSize)
            let scale = (in1 - in0) / Double(outSize)
            let filterScale = max(scale, 1)
            let support = filter.support * filterScale
            self.filter = filter
            ss = 1 / filterScale
            for o in outputs {
                guard o >= 0 && o < outSize else { start.append(0); count.append(0); center.append(0); total.append(0); continue }
                let c = in0 + (Double(o) + 0.5) * scale
                let xmin = max(Int(c - support + 0.5), 0)
                let n = max(min(Int(c + support + 0.5), inSize) - xmin, 0)
                start.append(xmin)
                count.append(n)
                center.append(c)
                var sum = 0.0
                for x in 0..<n { sum += filter.weight((Double(x + xmin) - c + 0.5) * ss) }
                total.append(sum)
            }
        }

        /// The weight output `i` (of those made) gives input `x` (absolute; within its window).
        @inline(__always)
        func weight(_ i: Int, _ x: Int) -> Double {
            let w = filter.weight((Double(x) - center[i] + 0.5) * ss)
            return total[i] != 0 ? w / total[i] : w
        }
    }

    /// A weight in Pillow's 8-bit fixed point (22 fractional bits, rounded half away from zero).
    @inline(__always)
    static func fixed(_ w: Double) -> Int32 { Int32(w < 0 ? -0.5 + w * Double(1 << 22) : 0.5 + w * Double(1 << 22)) }

    /// PyTorch's `interpolate(align_corners=False)` without antialiasing: bilinear or
    /// bicubic (A = −0.75), edges replicated. `scale` is input step per output step
    /// (1 / scale_factor when a scale factor is given; default inSize / outSize).
    /// Arithmetic in Float, as PyTorch's CPU kernels do for float tensors. `outputs` as
    /// for `pillow`.
    package static func pytorch(inSize: Int, outSize: Int, cubic: Bool, scale: Double? = nil,
                                                outputs: Range<Int>? = nil) -> Taps {
        let s = scale.map { Float($0) } ?? Float(inSize) / Float(outSize)
        let outputs = outputs ?? 0..<outSize
        var t = Taps(inSize: inSize, start: [], count: [], width: 4, weights: [Double](repeating: 0, count: outputs.count * 4))
        for (i, o) in outputs.enumerated() {
            guard o >= 0 && o < outSize else { t.start.append(0); t.count.append(0); continue }
            var src = (Float(o) + 0.5) * s - 0.5
            var taps: [(Int, Float)]
            if cubic {
                // Far outside the input every tap clamps to an edge: keep the index finite.
                src = min(max(src, -4), Float(inSize) + 4)
                let x0 = Int(src.rounded(.down))
                let f = src - Float(x0)
                let a: Float = -0.75
                func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
                func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
                taps = [(x0 - 1, far(f + 1)), (x0, near(f)), (x0 + 1, near(1 - f)), (x0 + 2, far(2 - f))]
            } else {
                src = min(max(src, 0), Float(inSize))
                let x0 = min(Int(src), inSize - 1)
                let f = src - Float(x0)
                taps = [(x0, 1 - f), (min(x0 + 1, inSize - 1), f)]
            }
            // Replicated edges: clamp each index and merge weights that land together.
            let clamped = taps.map { (min(max($0.0, 0), inSize - 1), $0.1) }
            let lo = clamped.map { $0.0 }.min()!, hi = clamped.map { $0.0 }.max()!
            for (j, w) in clamped { t.weights[i * 4 + j - lo] += Double(w) }
            t.start.append(lo)
            t.count.append(hi - lo + 1)
        }
        // Same size, no scale factor: the taps are exactly [1] (f = 0), so no pass is made.
        t.identity = scale == nil && inSize == outSize && outputs == 0..<outSize
        return t.finished()
    }
}
