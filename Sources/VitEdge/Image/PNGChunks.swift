/// A PNG's chunks, walked before libspng sees the file: every chunk's length and type are
/// checked, and its CRC (a mismatch in a critical chunk, or in an ancillary chunk before
/// the image data, is an error, as in Pillow; vit-edge checks IDAT's too, where Pillow
/// does not). libspng is then handed only the chunks that make the pixels (IHDR, PLTE,
/// IDAT, IEND): it never parses text, ICC or other metadata, so a file of a hundred
/// thousand text chunks decodes as it does in Pillow instead of filling a cache. The
/// walk also finds the eXIf chunk wherever it is (Pillow reads one after IDAT too).
struct PNGChunks {
    /// The bytes to decode: the file itself when it holds nothing but pixel chunks,
    /// else signature + IHDR, PLTE, IDAT and IEND copied in order.
    var pixelChunks: [UInt8]?
    /// The EXIF block (a TIFF structure) of the eXIf chunk Pillow reads: the last one.
    var exif: Range<Int>?

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Walks the chunks of `b` (signature already checked).
    init(_ b: UnsafeRawBufferPointer, path: String) throws {
        func bad(_ expected: String, _ found: String) -> VitError { .badImage(path: path, expected: expected, found: found) }
        func u32(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        var p = 8
        var keep: [Range<Int>] = []
        var dropped = false
        var seenIDAT = false, seenIEND = false
        var exifBefore: Range<Int>? = nil, exifAfter: Range<Int>? = nil
        var index = 0
        while p < b.count && !seenIEND {
            guard p + 12 <= b.count else { throw bad("a complete PNG chunk at byte \(p)", "\(b.count - p) bytes before the end of the file") }
            let length = u32(p)
            let type = (b[p + 4], b[p + 5], b[p + 6], b[p + 7])
            let name = String(decoding: [type.0, type.1, type.2, type.3], as: UTF8.self)
            func letter(_ c: UInt8) -> Bool { (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) }
            guard letter(type.0) && letter(type.1) && letter(type.2) && letter(type.3) else {
                throw bad("a PNG chunk type (four letters) at byte \(p + 4)",
                          "bytes \(type.0) \(type.1) \(type.2) \(type.3) (a damaged file)")
            }
            guard length <= Int(Int32.max), length <= b.count - p - 12 else {
                throw bad("PNG chunk \(name) #\(index) of \(length) bytes within the file", "\(b.count - p - 12) bytes left (a truncated file)")
            }
            let data = (p + 8)..<(p + 8 + length)
            let critical = type.0 & 0x20 == 0
            let stored = UInt32(u32(data.upperBound))
            let crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: b[(p + 4)..<data.upperBound]))
            if crc != stored && (critical || !seenIDAT) {
                throw bad("PNG chunk \(name) #\(index) with its CRC (\(String(stored, radix: 16)))",
                          "CRC \(String(crc, radix: 16)): the file is damaged")
            }
            switch name {
            case "IHDR", "PLTE", "IEND": keep.append(p..<(data.upperBound + 4))
            case "IDAT": keep.append(p..<(data.upperBound + 4)); seenIDAT = true
            case "eXIf":
                if crc == stored { if seenIDAT { exifAfter = data } else { exifBefore = data } }
                dropped = true
            default: dropped = true
            }
            if name == "IEND" { seenIEND = true }
            p = data.upperBound + 4
            index += 1
        }
        guard seenIDAT else { throw bad("PNG image data (an IDAT chunk)", "none in \(index) chunks") }
        // exif_transpose loads the image first, so Pillow has read every eXIf chunk, each
        // replacing the one before: the last wins. One that starts "Exif\0\0" (some
        // writers add it) works too.
        exif = exifAfter ?? exifBefore
        if let e = exif, e.count >= 6, Array(b[e.lowerBound..<(e.lowerBound + 6)]) == Array("Exif\0\0".utf8) {
            exif = (e.lowerBound + 6)..<e.upperBound
        }
        guard dropped else { pixelChunks = nil; return }
        var out = PNGChunks.signature
        out.reserveCapacity(keep.reduce(8) { $0 + $1.count })
        for r in keep { out += UnsafeRawBufferPointer(rebasing: b[r]) }
        pixelChunks = out
    }
}
