import XCTest
@testable import VitEdge

/// The hybrid backbone's operations against definitions written out plainly here:
/// a direct "same"-padded convolution, a max-pool over the padded window, GroupNorm
/// on every route against `Reference.groupNorm`, and weight standardisation.
final class ConvolutionTests: XCTestCase {
    var routes: [Kernels] {
        Kernels.Choice.allCases.filter { $0 != .auto }.compactMap { try? Kernels.select($0) }
    }

    /// TF "same" padding for odd and even sizes, strides 1 and 2 (timm's `pad_same`).
    func testSamePadding() {
        XCTAssertEqual(Backbone.padBefore(224, kernel: 7, stride: 2), 2)   // total 5: 2 before, 3 after
        XCTAssertEqual(Backbone.padBefore(112, kernel: 3, stride: 2), 0)   // total 1: after only
        XCTAssertEqual(Backbone.padBefore(7, kernel: 3, stride: 2), 1)     // total 2
        XCTAssertEqual(Backbone.padBefore(56, kernel: 3, stride: 1), 1)
        XCTAssertEqual(Backbone.padBefore(56, kernel: 1, stride: 2), 0)
        XCTAssertEqual(Backbone.same(7, 2), 4)
        let r26 = Backbone(stemChannels: 64, depths: [2, 2, 2, 2], channels: [256, 512, 1024, 2048], midChannels: [64, 128, 256, 512])
        XCTAssertEqual(r26.outputSize(224), 7)
        XCTAssertEqual(r26.stride, 32)
        XCTAssertEqual(Backbone(stemChannels: 64, depths: [], channels: [], midChannels: []).outputSize(224), 56)
    }

    /// im2col + every route's GEMM against a direct convolution, NHWC and NCHW inputs,
    /// kernels 1/3/7, strides 1/2, odd and even sizes.
    func testConvolutionMatchesDirectDefinition() throws {
        var rng = Random(seed: 31)
        for (h, w, cin, cout, kk, s, nchw) in [(7, 7, 3, 5, 3, 2, false), (8, 6, 4, 3, 3, 1, false), (9, 9, 2, 4, 7, 2, true),
                                                (5, 4, 6, 7, 1, 2, false), (11, 7, 1, 8, 7, 2, true), (4, 4, 5, 5, 1, 1, false)] {
            let batch = 2
            let x = rng.floats(batch * h * w * cin)
            let weight = rng.floats(cout * kk * kk * cin)  // (out, ky, kx, in)
            let (ho, wo) = (Backbone.same(h, s), Backbone.same(w, s))
            let top = Backbone.padBefore(h, kernel: kk, stride: s), left = Backbone.padBefore(w, kernel: kk, stride: s)
            // The definition: y[b, oy, ox, o] = Σ w[o, ky, kx, c] · x[b, c, oy·s − top + ky, ox·s − left + kx].
            func input(_ b: Int, _ c: Int, _ y: Int, _ xx: Int) -> Double {
                guard y >= 0 && y < h && xx >= 0 && xx < w else { return 0 }
                return Double(nchw ? x[((b * cin + c) * h + y) * w + xx] : x[((b * h + y) * w + xx) * cin + c])
            }
            var want = [Double](repeating: 0, count: batch * ho * wo * cout)
            for b in 0..<batch { for oy in 0..<ho { for ox in 0..<wo { for o in 0..<cout {
                var acc = 0.0
                for ky in 0..<kk { for kx in 0..<kk { for c in 0..<cin {
                    acc += Double(weight[((o * kk + ky) * kk + kx) * cin + c]) * input(b, c, oy * s - top + ky, ox * s - left + kx)
                } } }
                want[((b * ho + oy) * wo + ox) * cout + o] = acc
            } } } }
            for k in routes {
                var columns = [Float](repeating: .nan, count: batch * ho * wo * kk * kk * cin)
                var got = [Float](repeating: .nan, count: want.count)
                weight.withUnsafeBufferPointer { wp in
                    var conv = Conv2D(linear: Linear(weight: wp.baseAddress!, bias: nil, outFeatures: cout, inFeatures: kk * kk * cin),
                                      kernel: kk, stride: s, inChannels: cin)
                    var packed: [Float] = []
                    if !k.isReference {
                        packed = [Float](repeating: 0, count: Kernels.packedCount(n: cout, k: kk * kk * cin) + 64)
                        packed.withUnsafeMutableBufferPointer { Kernels.pack(wp.baseAddress!, n: cout, k: kk * kk * cin, into: $0.baseAddress!) }
                    }
                    packed.withUnsafeBufferPointer { pp in
                        if !k.isReference { conv.linear.packed = pp.baseAddress! }
                        x.withUnsafeBufferPointer { xp in columns.withUnsafeMutableBufferPointer { cp in got.withUnsafeMutableBufferPointer { yp in
                            convolve(conv, k, batch: batch, height: h, width: w, x: xp.baseAddress!, nchw: nchw, columns: cp.baseAddress!,
                                     y: yp.baseAddress!, quant: nil, name: "test", observe: nil)
                        } } }
                    }
                }
                let tol = dotTolerance(k: kk * kk * cin, magnitude: 1)
                for i in want.indices {
                    XCTAssertEqual(Double(got[i]), want[i], accuracy: Double(tol), "\(k) conv \(kk)x\(kk)/\(s) \(h)x\(w) nchw \(nchw) i=\(i)")
                }
            }
        }
    }

    func testMaxPoolMatchesPaddedWindow() {
        var rng = Random(seed: 32)
        for (h, w, c) in [(7, 7, 3), (8, 8, 1), (5, 9, 4), (1, 1, 2), (2, 3, 5)] {
            let x = rng.floats(2 * h * w * c, scale: 3)
            let (ho, wo) = (Backbone.same(h, 2), Backbone.same(w, 2))
            var y = [Float](repeating: .nan, count: 2 * ho * wo * c)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
                maxPool3x3s2Same(.reference, batch: 2, height: h, width: w, channels: c, x: xp.baseAddress!, y: $0.baseAddress!)
            } }
            let top = Backbone.padBefore(h, kernel: 3, stride: 2), left = Backbone.padBefore(w, kernel: 3, stride: 2)
            for b in 0..<2 { for oy in 0..<ho { for ox in 0..<wo { for ch in 0..<c {
                var m = -Float.infinity
                for yy in (oy * 2 - top)..<(oy * 2 - top + 3) where yy >= 0 && yy < h {
                    for xx in (ox * 2 - left)..<(ox * 2 - left + 3) where xx >= 0 && xx < w { m = max(m, x[((b * h + yy) * w + xx) * c + ch]) }
                }
                XCTAssertEqual(y[((b * ho + oy) * wo + ox) * c + ch], m, "\(h)x\(w)x\(c)")
            } } } }
        }
    }

    /// Every route's GroupNorm (+ ReLU) against the reference, over awkward group sizes
    /// and pixel counts, with an offset that a one-pass variance would lose.
    func testGroupNormMatchesReference() {
        var rng = Random(seed: 33)
        for (pixels, channels, groups) in [(1, 32, 32), (49, 64, 32), (13, 96, 8), (3136, 64, 32), (7, 6, 3), (16, 256, 32)] {
            let x = rng.floats(2 * pixels * channels, scale: 2).map { $0 + 5 }
            let gamma = rng.floats(channels).map { $0 + 1 }, beta = rng.floats(channels)
            for relu in [false, true] {
                var want = x
                gamma.withUnsafeBufferPointer { g in beta.withUnsafeBufferPointer { bt in
                    let gn = GroupNormWeights(gamma: g.baseAddress!, beta: bt.baseAddress!, channels: channels, groups: groups, eps: 1e-5)
                    want.withUnsafeMutableBufferPointer { Reference.groupNorm(gn, batch: 2, pixels: pixels, x: $0.baseAddress!, relu: relu) }
                    for k in routes {
                        var got = x
                        var scratch = [Float](repeating: .nan, count: 5 * channels)
                        got.withUnsafeMutableBufferPointer { gp in scratch.withUnsafeMutableBufferPointer { sp in
                            groupNorm(gn, k, batch: 2, pixels: pixels, x: gp.baseAddress!, relu: relu, scratch: sp.baseAddress!)
                        } }
                        // Double statistics as the reference; then a float subtract and
                        // multiply-add on O(1) values (a one-pixel group gives exactly β).
                        let tol = 8 * 4 * Float.ulpOfOne
                        for i in want.indices { XCTAssertEqual(got[i], want[i], accuracy: tol, "\(k) GN \(pixels)x\(channels)/\(groups) relu \(relu)") }
                    }
                } }
            }
        }
    }

    /// Standardised weights have zero mean and unit variance per output channel, and
    /// land in (out, ky, kx, in) order.
    func testWeightStandardisation() {
        var rng = Random(seed: 34)
        let (out, cin, k) = (3, 2, 3)
        let w = rng.floats(out * cin * k * k, scale: 5).map { $0 + 2 }
        let s = standardizedConvWeight(w, out: out, in: cin, kernel: k, eps: 1e-8)
        for o in 0..<out {
            let row = s[(o * cin * k * k)..<((o + 1) * cin * k * k)].map(Double.init)
            let mean = row.reduce(0, +) / Double(row.count)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(row.count)
            XCTAssertEqual(mean, 0, accuracy: 1e-6)
            XCTAssertEqual(variance, 1, accuracy: 1e-5)
        }
        // w[o=1, c=1, ky=2, kx=0] moves to [o=1, ky=2, kx=0, c=1]; its standardised value keeps the order.
        let a = w[((1 * cin + 1) * k + 2) * k + 0], b = w[((1 * cin + 0) * k + 0) * k + 1]
        let sa = s[1 * cin * k * k + (2 * k + 0) * cin + 1], sb = s[1 * cin * k * k + (0 * k + 1) * cin + 0]
        XCTAssertEqual(a < b, sa < sb)
    }
}
