// Depthwise 3x3 convolution with bias, padding 1, NHWC, AVX2 + FMA intrinsics: 8 channels
// per vector, the tail in scalar FMA (see f32_dwconv3x3__xsimd.cpp for the layout).
#include "vit_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

extern "C" __attribute__((target("avx2,fma"))) void vk_f32_dwconv3x3__avx2_fma(
        size_t images, size_t h, size_t w, size_t c, const float *x, const float *weight, const float *bias, float *y) {
    for (size_t b = 0; b < images; ++b) {
        for (size_t oy = 0; oy < h; ++oy) {
            const size_t ky0 = oy == 0 ? 1 : 0, ky1 = oy + 1 == h ? 2 : 3;
            for (size_t ox = 0; ox < w; ++ox) {
                const size_t kx0 = ox == 0 ? 1 : 0, kx1 = ox + 1 == w ? 2 : 3;
                float *out = y + ((b * h + oy) * w + ox) * c;
                size_t ch = 0;
                for (; ch + 8 <= c; ch += 8) {
                    __m256 acc = _mm256_loadu_ps(bias + ch);
                    for (size_t ky = ky0; ky < ky1; ++ky) {
                        const float *row = x + ((b * h + oy + ky - 1) * w + ox - 1) * c + ch;
                        for (size_t kx = kx0; kx < kx1; ++kx)
                            acc = _mm256_fmadd_ps(_mm256_loadu_ps(weight + (ky * 3 + kx) * c + ch), _mm256_loadu_ps(row + kx * c), acc);
                    }
                    _mm256_storeu_ps(out + ch, acc);
                }
                for (; ch < c; ++ch) {
                    float acc = bias[ch];
                    for (size_t ky = ky0; ky < ky1; ++ky)
                        for (size_t kx = kx0; kx < kx1; ++kx)
                            acc = fmaf(weight[(ky * 3 + kx) * c + ch], x[((b * h + oy + ky - 1) * w + ox + kx - 1) * c + ch], acc);
                    out[ch] = acc;
                }
            }
        }
    }
}
#endif
