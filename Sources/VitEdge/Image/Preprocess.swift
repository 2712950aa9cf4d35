/// Preprocessing: the image converted to the model's channels, resized
/// (bilinear, half-pixel centres like PyTorch's `interpolate(align_corners=False)`)
/// to the model's input size, and normalized with its mean and std.
public enum Preprocess {
    /// Writes one image as the model input [C, H, W] at `out`.
    public static func apply(_ image: Image, config c: ViTConfig, into out: UnsafeMutablePointer<Float>) {
        let plane = c.imageHeight * c.imageWidth
        let sameSize = image.width == c.imageWidth && image.height == c.imageHeight
        for ch in 0..<c.channels {
            let dst = out + ch * plane
            for y in 0..<c.imageHeight {
                for x in 0..<c.imageWidth {
                    let v: Float
                    if sameSize {
                        v = sample(image, x: x, y: y, channel: ch, to: c.channels)
                    } else {
                        v = bilinear(image, x: x, y: y, width: c.imageWidth, height: c.imageHeight, channel: ch, to: c.channels)
                    }
                    dst[y * c.imageWidth + x] = (v - c.mean[ch]) / c.std[ch]
                }
            }
        }
    }

    /// One sample in the model's channel space: gray replicated to RGB, RGB to
    /// luminance (ITU-R BT.601 weights, as PIL's "L" conversion).
    @inline(__always)
    static func sample(_ im: Image, x: Int, y: Int, channel: Int, to channels: Int) -> Float {
        let base = (y * im.width + x) * im.channels
        if im.channels == channels { return im.samples[base + channel] }
        if im.channels == 1 { return im.samples[base] }
        return 0.299 * im.samples[base] + 0.587 * im.samples[base + 1] + 0.114 * im.samples[base + 2]
    }

    static func bilinear(_ im: Image, x: Int, y: Int, width: Int, height: Int, channel: Int, to channels: Int) -> Float {
        let sx = max(0, (Float(x) + 0.5) * Float(im.width) / Float(width) - 0.5)
        let sy = max(0, (Float(y) + 0.5) * Float(im.height) / Float(height) - 0.5)
        let x0 = min(Int(sx), im.width - 1), y0 = min(Int(sy), im.height - 1)
        let x1 = min(x0 + 1, im.width - 1), y1 = min(y0 + 1, im.height - 1)
        let fx = sx - Float(x0), fy = sy - Float(y0)
        let a = sample(im, x: x0, y: y0, channel: channel, to: channels)
        let b = sample(im, x: x1, y: y0, channel: channel, to: channels)
        let c = sample(im, x: x0, y: y1, channel: channel, to: channels)
        let d = sample(im, x: x1, y: y1, channel: channel, to: channels)
        return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy
    }
}
