import _VitKernels

/// Colour conversions, one row at a time, as the libraries users compare with do them.
enum ColorConversion {
    /// Pillow's RGB → L: (R·19595 + G·38470 + B·7471 + 2^15) >> 16 (ITU-R 601-2 luma).
    static func rgbToL(_ src: UnsafePointer<UInt8>, count: Int, into out: UnsafeMutablePointer<UInt8>) {
        for x in 0..<count {
            let r = UInt32(src[3 * x]), g = UInt32(src[3 * x + 1]), b = UInt32(src[3 * x + 2])
            out[x] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
        }
    }

    /// One row of a frame whose rows reach the resampler as RGB (`Format.rowsViaRGB`), the
    /// columns asked, → RGB at `out` (column `columns.lowerBound` first). `route`: YUV rows
    /// through its SIMD kernel (nil: the Swift loop below, the reference).
    static func rowToRGB(_ view: ImageView, row y: Int, columns: Range<Int>, into out: UnsafeMutablePointer<UInt8>,
                         route: Resample.Route8? = nil) {
        let step: Int, red: Int, blue: Int
        switch view.format {
        case .i420, .nv12: yuvRowToRGB(view, row: y, columns: columns, into: out, route: route); return
        case .bgr8: (step, red, blue) = (3, 2, 0)
        case .rgbx8: (step, red, blue) = (4, 0, 2)
        case .bgrx8: (step, red, blue) = (4, 2, 0)
        case .gray8, .rgb8, .grayFloat, .rgbFloat: preconditionFailure("\(view.format) rows are read as they are")
        }
        let p = view.data.assumingMemoryBound(to: UInt8.self) + y * view.rowBytes + columns.lowerBound * step
        for i in 0..<columns.count {
            out[3 * i] = p[i * step + red]
            out[3 * i + 1] = p[i * step + 1]
            out[3 * i + 2] = p[i * step + blue]
        }
    }

    /// One row of a YUV 4:2:0 frame (I420 or NV12), the columns asked, → RGB at `out`
    /// (column `columns.lowerBound` first), exactly as OpenCV's `cvtColor` with
    /// `COLOR_YUV2RGB_I420` / `_NV12` (what Picamera2 and OpenCV users compare with):
    /// ITU-R BT.601 limited range (Y 16–235, chroma 16–240), the chroma of the 2×2 block
    /// each pixel lies in (no interpolation), OpenCV's 20-bit fixed point, Y below 16
    /// taken as 16.
    static func yuvRowToRGB(_ view: ImageView, row y: Int, columns: Range<Int>, into out: UnsafeMutablePointer<UInt8>,
                            route: Resample.Route8? = nil) {
        let w = view.width, h = view.height
        let base = view.data.assumingMemoryBound(to: UInt8.self)
        let yrow = base + y * view.rowBytes
        let cw = (w + 1) / 2, chh = (h + 1) / 2
        let chroma = base + view.rowBytes * h
        let nv12 = view.format == .nv12
        let uRow = nv12 ? chroma + (y / 2) * 2 * cw : chroma + (y / 2) * cw
        let vRow = nv12 ? uRow + 1 : chroma + cw * chh + (y / 2) * cw
        let step = nv12 ? 2 : 1
        if let route {
            return route.config.pointee.yuv420_rgb(yrow, uRow, vRow, step, columns.lowerBound, columns.count, out)
        }
        let half: Int32 = 1 << 19
        var o = out
        for x in columns {
            let u = Int32(uRow[(x / 2) * step]) - 128, v = Int32(vRow[(x / 2) * step]) - 128
            let l = max(0, Int32(yrow[x]) - 16) * 1_220_542
            o[0] = UInt8(clamping: (l + half + 1_673_527 * v) >> 20)
            o[1] = UInt8(clamping: (l + half - 852_492 * v - 409_993 * u) >> 20)
            o[2] = UInt8(clamping: (l + half + 2_116_026 * u) >> 20)
            o += 3
        }
    }

    /// A whole YUV frame → RGB [h, w, 3] (tests, and callers that want the picture).
    static func yuvToRGB(_ view: ImageView, into out: UnsafeMutablePointer<UInt8>) {
        for y in 0..<view.height { yuvRowToRGB(view, row: y, columns: 0..<view.width, into: out + 3 * y * view.width) }
    }

    /// `count` pixels of an 8-bit or float gray/RGB row → floats in [0, 1] with `channels`
    /// channels (1: a gray source as it is, an RGB one by BT.601 luma weights; 3: RGB).
    static func floats(_ row: UnsafeRawPointer, format: ImageView.Format, count: Int, channels: Int,
                       into out: UnsafeMutablePointer<Float>) {
        for x in 0..<count {
            var r: Float, g: Float, b: Float
            switch format {
            case .gray8: r = Float(row.load(fromByteOffset: x, as: UInt8.self)) / 255; g = r; b = r
            case .grayFloat: r = row.load(fromByteOffset: 4 * x, as: Float.self); g = r; b = r
            case .rgb8:
                r = Float(row.load(fromByteOffset: 3 * x, as: UInt8.self)) / 255
                g = Float(row.load(fromByteOffset: 3 * x + 1, as: UInt8.self)) / 255
                b = Float(row.load(fromByteOffset: 3 * x + 2, as: UInt8.self)) / 255
            case .rgbFloat:
                r = row.load(fromByteOffset: 12 * x, as: Float.self)
                g = row.load(fromByteOffset: 12 * x + 4, as: Float.self)
                b = row.load(fromByteOffset: 12 * x + 8, as: Float.self)
            case .i420, .nv12, .bgr8, .rgbx8, .bgrx8: preconditionFailure("\(format) rows are converted to RGB first")
            }
            let o = out + x * channels
            if channels == 1 {
                o[0] = format.channels == 1 ? r : 0.299 * r + 0.587 * g + 0.114 * b
            } else {
                o[0] = r; o[1] = g; o[2] = b
            }
        }
    }
}
