/// EXIF orientation (tag 0x0112), read from a JPEG's APP1 "Exif" segment or a PNG's
/// eXIf chunk (found by `PNGChunks`), and applied as Pillow's `ImageOps.exif_transpose` does. Off by default:
/// Pillow's `open` and timm's transforms do not apply it, so neither does vit-edge
/// unless asked (`--exif-orientation`). Every offset is bounds-checked: a malformed
/// block means "no orientation", never an error or a read outside the data.
package enum EXIF {
    /// The orientation 1...8 in a TIFF-structured EXIF block (after "Exif\0\0"), or nil.
    static func orientation(tiff b: UnsafeRawBufferPointer) -> Int? {
        guard b.count >= 8 else { return nil }
        let little: Bool
        if b[0] == 0x49 && b[1] == 0x49 { little = true } else if b[0] == 0x4D && b[1] == 0x4D { little = false } else { return nil }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= b.count else { return nil }
            return little ? Int(b[o]) | Int(b[o + 1]) << 8 : Int(b[o]) << 8 | Int(b[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let lo = u16(little ? o : o + 2), let hi = u16(little ? o + 2 : o) else { return nil }
            return hi << 16 | lo
        }
        guard u16(2) == 42, let ifd = u32(4), let n = u16(ifd) else { return nil }
        // As Pillow's ImageFileDirectory and exif_transpose: IFD0's entries (up to 65535;
        // a directory cut short keeps those before the cut), the first orientation entry
        // decides, by its first value, whatever its numeric type (BYTE, ASCII and
        // UNDEFINED give Pillow bytes, not a number), stored inline or at its offset; the
        // value must equal an orientation 1...8 exactly (6.0 does, as in a dict lookup).
        for i in 0..<n {
            let e = ifd + 2 + 12 * i
            guard let tag = u16(e), let type = u16(e + 2), let count = u32(e + 4), e + 12 <= b.count else { break }
            guard tag == 0x0112 else { continue }
            let sizes = [3: 2, 8: 2, 4: 4, 9: 4, 6: 1, 11: 4, 12: 8, 5: 8, 10: 8]
            guard let size = sizes[type], count >= 1 else { return nil }
            guard let at = size * min(count, 1 << 20) <= 4 ? e + 8 : u32(e + 8), at >= 0, at + size <= b.count else { return nil }
            let value: Double
            switch type {
            case 3: value = Double(u16(at)!)
            case 8: value = Double(Int16(truncatingIfNeeded: u16(at)!))
            case 4: value = Double(u32(at)!)
            case 9: value = Double(Int32(truncatingIfNeeded: u32(at)!))
            case 6: value = Double(Int8(bitPattern: b[at]))
            case 11: value = Double(Float(bitPattern: UInt32(u32(at)!)))
            case 12:
                let (a, c) = (UInt64(u32(at)!), UInt64(u32(at + 4)!))
                value = Double(bitPattern: little ? c << 32 | a : a << 32 | c)
            default:  // RATIONAL, SRATIONAL: numerator / denominator
                let (num, den) = (u32(at)!, u32(at + 4)!)
                value = type == 5 ? Double(num) / Double(den)
                                  : Double(Int32(truncatingIfNeeded: num)) / Double(Int32(truncatingIfNeeded: den))
            }
            guard value.isFinite, value == value.rounded(), (1...8).contains(value) else { return nil }
            return Int(value)
        }
        return nil
    }

    /// The orientation of a JPEG (its APP1 segments before the first scan), or nil.
    static func orientation(jpeg b: UnsafeRawBufferPointer) -> Int? {
        var p = 2
        while p + 4 <= b.count, b[p] == 0xFF {
            let marker = b[p + 1]
            if marker == 0xFF { p += 1; continue }
            if marker == 0xDA || marker == 0xD9 { return nil }
            let length = Int(b[p + 2]) << 8 | Int(b[p + 3])
            guard length >= 2, p + 2 + length <= b.count else { return nil }
            if marker == 0xE1, length >= 8 {
                let body = UnsafeRawBufferPointer(rebasing: b[(p + 4)..<(p + 2 + length)])
                if Array(body.prefix(6)) == Array("Exif\0\0".utf8) {
                    return orientation(tiff: UnsafeRawBufferPointer(rebasing: body[6...]))
                }
            }
            p += 2 + length
        }
        return nil
    }

    /// The image turned upright as Pillow's `exif_transpose` turns it (2: mirror, 3: 180°,
    /// 4: flip, 5: transpose, 6: 90° clockwise, 7: transverse, 8: 90° counter-clockwise).
    package static func transposed(_ im: Image, orientation o: Int) -> Image {
        guard (2...8).contains(o) else { return im }
        let w = im.width, h = im.height, c = im.channels
        let swap = o >= 5
        let ow = swap ? h : w, oh = swap ? w : h
        func source(_ x: Int, _ y: Int) -> Int {
            let (sx, sy): (Int, Int)
            switch o {
            case 2: (sx, sy) = (w - 1 - x, y)
            case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
            case 4: (sx, sy) = (x, h - 1 - y)
            case 5: (sx, sy) = (y, x)
            case 6: (sx, sy) = (y, h - 1 - x)
            case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
            default: (sx, sy) = (w - 1 - y, x)
            }
            return (sy * w + sx) * c
        }
        func remap<T>(_ src: [T]) -> [T] {
            var out = src
            for y in 0..<oh { for x in 0..<ow {
                let s = source(x, y), d = (y * ow + x) * c
                for k in 0..<c { out[d + k] = src[s + k] }
            } }
            return out
        }
        switch im.pixels {
        case .bytes(let b): return Image(width: ow, height: oh, channels: c, bytes: remap(b))
        case .floats(let f): return Image(width: ow, height: oh, channels: c, samples: remap(f))
        }
    }
}
