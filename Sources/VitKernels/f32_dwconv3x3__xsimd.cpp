// Depthwise 3x3 convolution with bias, padding 1, NHWC (PVT v2's Mix-FFN), xsimd
// baseline (SSE2 on x86-64, NEON on ARM64). Weights tap-major [9, C]. Per output pixel,
// a vector of channels at a time: the bias, then each tap inside the map (rows, then
// columns) fused-multiply-added, so the accumulator stays in a register.
#include "vit_kernels.h"

#include <xsimd/xsimd.hpp>

namespace {
using batch = xsimd::batch<float>;
constexpr size_t W = batch::size;
}

extern "C" void vk_f32_dwconv3x3__xsimd(size_t images, size_t h, size_t w, size_t c, const float *x,
                                        const float *weight, const float *bias, float *y) {
    for (size_t b = 0; b < images; ++b) {
        for (size_t oy = 0; oy < h; ++oy) {
            const size_t ky0 = oy == 0 ? 1 : 0, ky1 = oy + 1 == h ? 2 : 3;
            for (size_t ox = 0; ox < w; ++ox) {
                const size_t kx0 = ox == 0 ? 1 : 0, kx1 = ox + 1 == w ? 2 : 3;
                float *out = y + ((b * h + oy) * w + ox) * c;
                size_t ch = 0;
                for (; ch + W <= c; ch += W) {
                    batch acc = batch::load_unaligned(bias + ch);
                    for (size_t ky = ky0; ky < ky1; ++ky) {
                        const float *row = x + ((b * h + oy + ky - 1) * w + ox - 1) * c + ch;
                        for (size_t kx = kx0; kx < kx1; ++kx)
                            acc = xsimd::fma(batch::load_unaligned(weight + (ky * 3 + kx) * c + ch),
                                             batch::load_unaligned(row + kx * c), acc);
                    }
                    acc.store_unaligned(out + ch);
                }
                for (; ch < c; ++ch) {
                    float acc = bias[ch];
                    for (size_t ky = ky0; ky < ky1; ++ky)
                        for (size_t kx = kx0; kx < kx1; ++kx)
                            acc += weight[(ky * 3 + kx) * c + ch] * x[((b * h + oy + ky - 1) * w + ox + kx - 1) * c + ch];
                    out[ch] = acc;
                }
            }
        }
    }
}
