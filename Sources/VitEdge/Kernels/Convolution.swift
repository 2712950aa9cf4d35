/// The backbone's row operations on NHWC feature maps: im2col, GroupNorm (+ ReLU),
/// the "same"-padded 3×3/2 max-pool and the residual add + ReLU. GroupNorm has a
/// plain reference (`Reference.groupNorm`: per group, two passes in Double) and the
/// route used by the optimized kernel sets (per-channel sums over contiguous rows,
/// then one multiply-add per element), tested against each other.

/// Copies each output pixel's k×k×C receptive field into one row of `columns`
/// [B·Ho·Wo, k·k·C] in (ky, kx, c) order, zeros where TF "same" padding (or, with
/// `padding`, PyTorch's symmetric padding of that many pixels) falls outside the
/// input. `nchw`: the input is [B, C, H, W] (the image) instead of NHWC.
/// On NHWC input one kernel row (k·C floats, minus what falls outside) is contiguous
/// in memory and copied at once.
func im2col(_ k: Kernels, batch: Int, height h: Int, width w: Int, channels cin: Int, kernel kk: Int, stride s: Int,
            x: UnsafePointer<Float>, nchw: Bool, columns: UnsafeMutablePointer<Float>, padding: Int? = nil) {
    if k.plans(x, columns) { return }
    let (ho, wo) = padding.map { p in (convolutionOutput(h, kernel: kk, stride: s, padding: p), convolutionOutput(w, kernel: kk, stride: s, padding: p)) }
        ?? (Backbone.same(h, s), Backbone.same(w, s))
    let top = padding ?? Backbone.padBefore(h, kernel: kk, stride: s), left = padding ?? Backbone.padBefore(w, kernel: kk, stride: s)
    let depth = kk * kk * cin
    var row = columns
    for b in 0..<batch {
        for oy in 0..<ho {
            for ox in 0..<wo {
                let ix0 = ox * s - left
                // The kernel columns inside the input: kx in first..<last.
                let first = max(0, -ix0), last = min(kk, w - ix0)
                for ky in 0..<kk {
                    let iy = oy * s - top + ky
                    let dst = row + ky * kk * cin
                    guard iy >= 0 && iy < h && first < last else {
                        dst.update(repeating: 0, count: kk * cin)
                        continue
                    }
                    if first > 0 { dst.update(repeating: 0, count: first * cin) }
                    if last < kk { (dst + last * cin).update(repeating: 0, count: (kk - last) * cin) }
                    if nchw {
                        for kx in first..<last {
                            let src = x + (b * cin * h + iy) * w + ix0 + kx
                            for c in 0..<cin { dst[kx * cin + c] = src[c * h * w] }
                        }
                    } else {
                        (dst + first * cin).update(from: x + ((b * h + iy) * w + ix0 + first) * cin, count: (last - first) * cin)
                    }
                }
                row += depth
            }
        }
    }
}

/// PyTorch's output size of a convolution: ⌊(n + 2·padding − kernel) / stride⌋ + 1.
func convolutionOutput(_ n: Int, kernel: Int, stride: Int, padding: Int) -> Int { (n + 2 * padding - kernel) / stride + 1 }

/// A depthwise 3×3 convolution with bias over NHWC maps, padding 1 (PVT v2's Mix-FFN,
/// `nn.Conv2d(C, C, 3, padding=1, groups=C)`), then GELU: y[b, y, x, c] =
/// gelu(bias[c] + Σ_{ky, kx} w[ky·3 + kx][c] · x[b, y + ky − 1, x + kx − 1, c]). Weights
/// are tap-major [9, C] (the converter transposes PyTorch's [C, 1, 3, 3]), so every tap
/// is a contiguous row of channels: the kernel sets' `vk_f32_dwconv3x3__*` keep a vector
/// of channels of one output pixel in a register across its taps (fused multiply-adds);
/// the reference (`Reference.depthwiseConv3x3`) sums one value at a time in the same order.
func depthwiseConv3x3(_ k: Kernels, batch: Int, height h: Int, width w: Int, channels c: Int, x: UnsafePointer<Float>,
                      weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, gelu: ViTConfig.GELU) {
    if k.plans(x, y) { return }
    if k.vectorized {
        k.dwconv3x3Fn(batch, h, w, c, x, weight, bias, y)
    } else {
        Reference.depthwiseConv3x3(batch: batch, height: h, width: w, channels: c, x: x, weight: weight, bias: bias, y: y)
    }
    k.gelu(y, count: batch * h * w * c, form: gelu)
}

/// PyTorch's `AdaptiveAvgPool2d(side)` over NHWC maps [B, h, w, C] → [B, side, side, C]:
/// output row i averages input rows ⌊i·h/side⌋ ..< ⌈(i+1)·h/side⌉ (bins overlap when the map
/// is smaller than the output), columns alike; sums in float, rows then columns.
func adaptiveAveragePool(_ k: Kernels, batch: Int, height h: Int, width w: Int, channels c: Int, side: Int,
                         x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    if k.plans(x, y) { return }
    for b in 0..<batch {
        for oy in 0..<side {
            let (y0, y1) = (oy * h / side, ((oy + 1) * h + side - 1) / side)
            for ox in 0..<side {
                let (x0, x1) = (ox * w / side, ((ox + 1) * w + side - 1) / side)
                let out = y + ((b * side + oy) * side + ox) * c
                out.update(repeating: 0, count: c)
                for iy in y0..<y1 {
                    for ix in x0..<x1 {
                        let p = x + ((b * h + iy) * w + ix) * c
                        for ch in 0..<c { out[ch] += p[ch] }
                    }
                }
                let n = Float((y1 - y0) * (x1 - x0))
                for ch in 0..<c { out[ch] /= n }
            }
        }
    }
}

/// y = max(y, 0), element by element (PVT v2 linear's ReLU).
func relu(_ k: Kernels, _ x: UnsafeMutablePointer<Float>, count: Int) {
    if k.plans(x) { return }
    for i in 0..<count { x[i] = max(x[i], 0) }
}

/// [B, C, H, W] → [B, H, W, C]: the image as the backbone's maps are laid out.
func nchwToNHWC(_ k: Kernels, batch: Int, channels c: Int, height h: Int, width w: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    if k.plans(x, y) { return }
    for b in 0..<batch {
        for ch in 0..<c {
            let plane = x + (b * c + ch) * h * w
            let out = y + b * h * w * c + ch
            for i in 0..<(h * w) { out[i * c] = plane[i] }
        }
    }
}

/// GroupNorm over each image's `pixels` rows of `channels`, in place, then ReLU when
/// asked: y = (x − μ_g) / √(σ²_g + ε) · γ_c + β_c. `scratch` holds 5·channels floats.
/// Sums run per channel over contiguous rows (vectorized over channels) into Double
/// accumulators: a float sum over the 12,544 pixels of a 224 stem would lose the
/// mean's last bits, and the normalised values with it. The output is (x − μ)·s + β,
/// not x·s + (β − μ·s): when σ ≪ |μ| the folded form cancels two large terms.
func groupNorm(_ g: GroupNormWeights, _ k: Kernels, batch: Int, pixels: Int, x: UnsafeMutablePointer<Float>,
               relu: Bool, scratch: UnsafeMutablePointer<Float>) {
    if k.plans(x, k.vectorized ? scratch : nil) { return }
    guard k.vectorized else {
        Reference.groupNorm(g, batch: batch, pixels: pixels, x: x, relu: relu)
        return
    }
    let c = g.channels, per = c / g.groups
    let count = Double(pixels * per)
    let meanOf = scratch + 2 * c, scale = scratch + 3 * c, shift = scratch + 4 * c
    UnsafeMutableRawPointer(scratch).withMemoryRebound(to: Double.self, capacity: c) { acc in
        for b in 0..<batch {
            let image = x + b * pixels * c
            // Per-channel sums, then each group's mean (kept per channel in `shift`).
            acc.update(repeating: 0, count: c)
            for p in 0..<pixels {
                let r = image + p * c
                for i in 0..<c { acc[i] += Double(r[i]) }
            }
            for grp in 0..<g.groups {
                var sum = 0.0
                for i in (grp * per)..<((grp + 1) * per) { sum += acc[i] }
                let mean = sum / count
                for i in (grp * per)..<((grp + 1) * per) { meanOf[i] = Float(mean); shift[i] = Float(mean - Double(Float(mean))) }
            }
            // Squared deviations from the mean (two passes: no cancellation).
            acc.update(repeating: 0, count: c)
            for p in 0..<pixels {
                let r = image + p * c
                for i in 0..<c { let d = Double(r[i] - meanOf[i]); acc[i] += d * d }
            }
            for grp in 0..<g.groups {
                var sum = 0.0
                for i in (grp * per)..<((grp + 1) * per) { sum += acc[i] }
                let i0 = grp * per
                // The deviations were taken from the float mean; `d` is the remainder
                // the float dropped (kept in `shift`), folded back into both terms.
                let d = Double(shift[i0])
                let rstd = 1 / (sum / count - d * d + Double(g.eps)).squareRoot()
                for i in i0..<(i0 + per) {
                    let s = Double(g.gamma[i]) * rstd
                    scale[i] = Float(s)
                    shift[i] = Float(Double(g.beta[i]) - d * s)
                }
            }
            // One subtract and one multiply-add per element.
            for p in 0..<pixels {
                let r = image + p * c
                if relu {
                    for i in 0..<c { r[i] = max((r[i] - meanOf[i]) * scale[i] + shift[i], 0) }
                } else {
                    for i in 0..<c { r[i] = (r[i] - meanOf[i]) * scale[i] + shift[i] }
                }
            }
        }
    }
}

extension Reference {
    /// GroupNorm, plainly: for each image and group, the mean and the biased variance
    /// of its pixels × channels in Double, then normalise, scale, shift (and ReLU).
    static func groupNorm(_ g: GroupNormWeights, batch: Int, pixels: Int, x: UnsafeMutablePointer<Float>, relu: Bool) {
        let c = g.channels, per = c / g.groups
        for b in 0..<batch {
            let image = x + b * pixels * c
            for grp in 0..<g.groups {
                let channels = (grp * per)..<((grp + 1) * per)
                var sum = 0.0
                for p in 0..<pixels { for i in channels { sum += Double(image[p * c + i]) } }
                let mean = sum / Double(pixels * per)
                var sq = 0.0
                for p in 0..<pixels { for i in channels { let d = Double(image[p * c + i]) - mean; sq += d * d } }
                let rstd = 1 / (sq / Double(pixels * per) + Double(g.eps)).squareRoot()
                for p in 0..<pixels {
                    for i in channels {
                        let y = Float((Double(image[p * c + i]) - mean) * rstd) * g.gamma[i] + g.beta[i]
                        image[p * c + i] = relu ? max(y, 0) : y
                    }
                }
            }
        }
    }
}

/// 3×3 max-pool, stride 2, TF "same" padding with −∞ (timm `MaxPool2dSame`): the
/// padded taps never win, so only the taps inside the map are compared.
func maxPool3x3s2Same(_ k: Kernels, batch: Int, height h: Int, width w: Int, channels c: Int,
                      x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    if k.plans(x, y) { return }
    let (ho, wo) = (Backbone.same(h, 2), Backbone.same(w, 2))
    let top = Backbone.padBefore(h, kernel: 3, stride: 2), left = Backbone.padBefore(w, kernel: 3, stride: 2)
    for b in 0..<batch {
        for oy in 0..<ho {
            for ox in 0..<wo {
                let out = y + ((b * ho + oy) * wo + ox) * c
                out.update(repeating: -.infinity, count: c)
                for ky in 0..<3 {
                    let iy = oy * 2 - top + ky
                    guard iy >= 0 && iy < h else { continue }
                    for kx in 0..<3 {
                        let ix = ox * 2 - left + kx
                        guard ix >= 0 && ix < w else { continue }
                        let src = x + ((b * h + iy) * w + ix) * c
                        for i in 0..<c { out[i] = max(out[i], src[i]) }
                    }
                }
            }
        }
    }
}

/// x = max(x + shortcut, 0): the bottleneck's residual add and ReLU.
func addReLU(_ k: Kernels, _ x: UnsafeMutablePointer<Float>, _ shortcut: UnsafePointer<Float>, count: Int) {
    if k.plans(x, shortcut) { return }
    for i in 0..<count { x[i] = max(x[i] + shortcut[i], 0) }
}

/// Weight standardisation (timm `StdConv2d`): each output channel's weights minus
/// their mean, over √(biased variance + ε), computed in Double. Then the layout
/// [out, in, k, k] (PyTorch) becomes [out, k, k, in] (im2col's rows).
func standardizedConvWeight(_ w: [Float], out: Int, in cin: Int, kernel kk: Int, eps: Double) -> [Float] {
    let n = cin * kk * kk
    var result = [Float](repeating: 0, count: w.count)
    for o in 0..<out {
        let base = o * n
        var mean = 0.0
        for i in 0..<n { mean += Double(w[base + i]) }
        mean /= Double(n)
        var variance = 0.0
        for i in 0..<n { let d = Double(w[base + i]) - mean; variance += d * d }
        variance /= Double(n)
        let rstd = 1 / (variance + eps).squareRoot()
        for c in 0..<cin {
            for ky in 0..<kk {
                for kx in 0..<kk {
                    result[base + (ky * kk + kx) * cin + c] = Float((Double(w[base + (c * kk + ky) * kk + kx]) - mean) * rstd)
                }
            }
        }
    }
    return result
}
