import CSPNG
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writing images: PNG through libspng (the library that reads them; deflate-compressed)
/// and binary PPM.
package enum ImageWriter {
    /// PNG bytes of an RGB image [height, width, 3] (8 bits per sample).
    package static func png(rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        precondition(rgb.count == width * height * 3 && width > 0 && height > 0, "png: an RGB image of width x height")
        guard let ctx = spng_ctx_new(Int32(SPNG_CTX_ENCODER.rawValue)) else { fatalError("libspng: no encoder context") }
        defer { spng_ctx_free(ctx) }
        spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1)
        var ihdr = spng_ihdr()
        ihdr.width = UInt32(width)
        ihdr.height = UInt32(height)
        ihdr.bit_depth = 8
        ihdr.color_type = UInt8(SPNG_COLOR_TYPE_TRUECOLOR.rawValue)
        spng_set_ihdr(ctx, &ihdr)
        let r = rgb.withUnsafeBytes {
            spng_encode_image(ctx, $0.baseAddress, $0.count, Int32(SPNG_FMT_PNG.rawValue), Int32(SPNG_ENCODE_FINALIZE.rawValue))
        }
        // Encoding our own well-formed pixels into memory fails only without memory.
        guard r == 0 else { fatalError("libspng: \(String(cString: spng_strerror(r)))") }
        var length = 0, error: Int32 = 0
        guard let buffer = spng_get_png_buffer(ctx, &length, &error) else { fatalError("libspng: no PNG buffer (\(error))") }
        defer { free(buffer) }
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }

    /// Binary PPM (P6) bytes of an RGB image.
    package static func ppm(rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        Array("P6\n\(width) \(height)\n255\n".utf8) + rgb
    }

    /// The image in gray, scaled by `scale` (nearest), with `heat` ([0, 1], of the
    /// scaled size) blended over it in a blue → red colour map.
    package static func overlay(_ image: Image, heat: [Float], scale: Int, alpha: Float = 0.55) -> (rgb: [UInt8], width: Int, height: Int) {
        let w = image.width * scale, h = image.height * scale
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        let samples = image.samples
        for y in 0..<h { for x in 0..<w {
            let sx = x / scale, sy = y / scale
            let base = (sy * image.width + sx) * image.channels
            let gray = image.channels == 1 ? samples[base]
                : 0.299 * samples[base] + 0.587 * samples[base + 1] + 0.114 * samples[base + 2]
            let (r, g, b) = colour(heat[y * w + x])
            let o = (y * w + x) * 3
            rgb[o] = UInt8(max(0, min(255, ((1 - alpha) * gray + alpha * r) * 255)))
            rgb[o + 1] = UInt8(max(0, min(255, ((1 - alpha) * gray + alpha * g) * 255)))
            rgb[o + 2] = UInt8(max(0, min(255, ((1 - alpha) * gray + alpha * b) * 255)))
        } }
        return (rgb, w, h)
    }

    /// A blue → cyan → yellow → red map of v in [0, 1].
    static func colour(_ v: Float) -> (Float, Float, Float) {
        let t = max(0, min(1, v))
        let r = max(0, min(1, 1.5 - abs(4 * t - 3)))
        let g = max(0, min(1, 1.5 - abs(4 * t - 2)))
        let b = max(0, min(1, 1.5 - abs(4 * t - 1)))
        return (r, g, b)
    }
}
