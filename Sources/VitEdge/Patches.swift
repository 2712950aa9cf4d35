/// Image → patches → patch embeddings.

/// Cuts each image [C, H, W] into a grid of P×P patches, each flattened in the
/// order of a convolution kernel (c, y, x): patches [B·N, C·P·P], row-major grid.
/// An overlapping patch kernel (PVT v2's 7×7 at stride 4, padding 3) is an im2col:
/// each window flattened (y, x, c), zeros outside the image (the converter lays the
/// projection's kernel out the same way).
func extractPatches(_ c: ViTConfig, _ k: Kernels, batch: Int, image: UnsafePointer<Float>, patches: UnsafeMutablePointer<Float>) {
    if c.patchKernel > 0 {
        return im2col(k, batch: batch, height: c.imageHeight, width: c.imageWidth, channels: c.channels, kernel: c.patchKernel,
                      stride: c.patchSize, x: image, nchw: true, columns: patches, padding: c.patchKernel / 2)
    }
    if k.plans(image, patches) { return }
    let p = c.patchSize
    let plane = c.imageHeight * c.imageWidth
    var row = patches
    for b in 0..<batch {
        let img = image + b * c.channels * plane
        for gy in 0..<c.gridHeight {
            for gx in 0..<c.gridWidth {
                var dst = row
                for ch in 0..<c.channels {
                    for y in 0..<p {
                        let src = img + ch * plane + (gy * p + y) * c.imageWidth + gx * p
                        dst.update(from: src, count: p)
                        dst += p
                    }
                }
                row += c.patchDim
            }
        }
    }
}

/// Cuts the hybrid backbone's NHWC feature map [B·h·w, C] into P×P patches, each
/// flattened (y, x, c): C contiguous channels per pixel (the converter lays the
/// projection's kernel out the same way). For P = 1 a patch is one pixel.
func extractPatches(_ c: ViTConfig, _ k: Kernels, batch: Int, featureMap: UnsafePointer<Float>, patches: UnsafeMutablePointer<Float>) {
    if k.plans(featureMap, patches) { return }
    let p = c.patchSize, ch = c.featureChannels, fh = c.featureHeight, fw = c.featureWidth
    var dst = patches
    for b in 0..<batch {
        for gy in 0..<c.gridHeight {
            for gx in 0..<c.gridWidth {
                for y in 0..<p {
                    dst.update(from: featureMap + ((b * fh + gy * p + y) * fw + gx * p) * ch, count: p * ch)
                    dst += p * ch
                }
            }
        }
    }
}

/// Patch embedding: optional LayerNorm over each patch vector (vit-pytorch), the
/// Linear/convolution to width D, optional LayerNorm after. Writes token rows
/// prefix..<T of each image in `tokens` [B·T, D].
func embedPatches(_ c: ViTConfig, _ w: ModelWeights, _ k: Kernels, batch: Int,
                  patches: UnsafeMutablePointer<Float>, tokens: UnsafeMutablePointer<Float>) {
    if let ln = w.patchNormBefore {
        k.layerNorm(ln, rows: batch * c.numPatches, x: patches, ldx: c.patchDim, y: patches, ldy: c.patchDim)
    }
    for b in 0..<batch {
        let out = tokens + (b * c.tokens + c.prefixTokens) * c.dim
        k.linear(w.patch, rows: c.numPatches, x: patches + b * c.numPatches * c.patchDim, ldx: c.patchDim,
                 y: out, ldy: c.dim)
        if let ln = w.patchNormAfter {
            k.layerNorm(ln, rows: c.numPatches, x: out, ldx: c.dim, y: out, ldy: c.dim)
        }
    }
}
