/// Writing images without dependencies: PNG (8-bit RGB, zlib stream of stored
/// deflate blocks, so no compressor is needed) and binary PPM.
public enum ImageWriter {
    /// PNG bytes of an RGB image [height, width, 3].
    public static func png(rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        func u32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return u32(UInt32(data.count)) + body + u32(CRC32.checksum(body))
        }
        // Raw scanlines, each with filter type 0.
        var raw: [UInt8] = []
        raw.reserveCapacity(height * (width * 3 + 1))
        for y in 0..<height {
            raw.append(0)
            raw.append(contentsOf: rgb[(y * width * 3)..<((y + 1) * width * 3)])
        }
        // zlib: header, stored blocks of at most 65535 bytes, Adler-32.
        var z: [UInt8] = [0x78, 0x01]
        var i = 0
        repeat {
            let n = min(65535, raw.count - i)
            let final: UInt8 = i + n == raw.count ? 1 : 0
            z += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            z += raw[i..<(i + n)]
            i += n
        } while i < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        z += u32(b << 16 | a)
        let ihdr = u32(UInt32(width)) + u32(UInt32(height)) + [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", z) + chunk("IEND", [])
    }

    /// Binary PPM (P6) bytes of an RGB image.
    public static func ppm(rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        Array("P6\n\(width) \(height)\n255\n".utf8) + rgb
    }

    /// The image in gray, scaled by `scale` (nearest), with `heat` ([0, 1], of the
    /// scaled size) blended over it in a blue → red colour map.
    public static func overlay(_ image: Image, heat: [Float], scale: Int, alpha: Float = 0.55) -> (rgb: [UInt8], width: Int, height: Int) {
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
