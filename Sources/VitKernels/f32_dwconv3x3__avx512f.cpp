// Depthwise 3x3 convolution with bias, padding 1, NHWC, AVX-512F intrinsics: 16 channels
// per vector, masked tails (see f32_dwconv3x3__xsimd.cpp for the layout).
#include "vit_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

extern "C" __attribute__((target("avx512f"))) void vk_f32_dwconv3x3__avx512f(
        size_t images, size_t h, size_t w, size_t c, const float *x, const float *weight, const float *bias, float *y) {
    for (size_t b = 0; b < images; ++b) {
        for (size_t oy = 0; oy < h; ++oy) {
            const size_t ky0 = oy == 0 ? 1 : 0, ky1 = oy + 1 == h ? 2 : 3;
            for (size_t ox = 0; ox < w; ++ox) {
                const size_t kx0 = ox == 0 ? 1 : 0, kx1 = ox + 1 == w ? 2 : 3;
                float *out = y + ((b * h + oy) * w + ox) * c;
                for (size_t ch = 0; ch < c; ch += 16) {
                    const size_t left = c - ch;
                    const __mmask16 m = (__mmask16)(left >= 16 ? 0xFFFFu : ((1u << left) - 1u));
                    __m512 acc = _mm512_maskz_loadu_ps(m, bias + ch);
                    for (size_t ky = ky0; ky < ky1; ++ky) {
                        const float *row = x + ((b * h + oy + ky - 1) * w + ox - 1) * c + ch;
                        for (size_t kx = kx0; kx < kx1; ++kx)
                            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, weight + (ky * 3 + kx) * c + ch),
                                                  _mm512_maskz_loadu_ps(m, row + kx * c), acc);
                    }
                    _mm512_mask_storeu_ps(out + ch, m, acc);
                }
            }
        }
    }
}
#endif
