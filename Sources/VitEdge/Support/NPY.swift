/// NumPy's .npy format, version 1.0: magic, a Python-literal header padded with
/// spaces to a multiple of 64 bytes and ended by a newline, then the data (C order).
package enum NPY {
    package static func float32(_ values: [Float], shape: [Int]) -> [UInt8] {
        var out = float32Header(shape: shape)
        append(values, to: &out)
        return out
    }

    /// The header of a float32 array. With `fixedFirst`, the first dimension takes 20
    /// characters (padded with spaces, which NumPy's parser skips), so a stream whose
    /// length is known only at its end can write the header first and rewrite it after.
    package static func float32Header(shape: [Int], fixedFirst: Bool = false) -> [UInt8] {
        var parts = shape.map(String.init)
        if fixedFirst, let first = parts.first { parts[0] = first + String(repeating: " ", count: max(0, 20 - first.count)) }
        let dims = shape.count == 1 ? "(\(parts[0]),)" : "(" + parts.joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(dims), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8)
    }

    /// Appends values as little-endian float32.
    package static func append<C: Collection>(_ values: C, to out: inout [UInt8]) where C.Element == Float {
        out.reserveCapacity(out.count + values.count * 4)
        for v in values {
            let b = v.bitPattern.littleEndian
            out += [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
        }
    }
}
