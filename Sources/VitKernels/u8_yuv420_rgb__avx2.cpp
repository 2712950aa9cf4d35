// YUV 4:2:0 → RGB of one row with AVX2, bit-identical to u8_yuv420_rgb__scalar.cpp (OpenCV's
// 20-bit fixed point, int32 lanes: the products need more than 16 bits). Eight pixels per
// step: their four chroma pairs widened and duplicated across the pixel pairs, R, G and B
// packed to bytes and interleaved with byte shuffles.
#include "vit_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define VK_AVX2 __attribute__((target("avx2"))) inline

namespace {

// R, G, B of 8 pixels (int32, any range) → 24 interleaved bytes, clamped to 0..255.
VK_AVX2 void store_rgb8(__m256i r, __m256i g, __m256i b, uint8_t *out) {
    // int32 → int16 (saturating) → uint8 (clamping): lanes 0..7 in order after the permute.
    const __m256i rg16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(r, g), 0xD8);  // r0..7 | g0..7
    const __m256i b16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(b, b), 0xD8);   // b0..7 | b0..7
    const __m128i rg = _mm_packus_epi16(_mm256_castsi256_si128(rg16), _mm256_extracti128_si256(rg16, 1));  // r0..7 g0..7
    const __m128i bb = _mm_packus_epi16(_mm256_castsi256_si128(b16), _mm256_castsi256_si128(b16));         // b0..7 b0..7
    const __m128i lo = _mm_or_si128(
        _mm_shuffle_epi8(rg, _mm_setr_epi8(0, 8, -1, 1, 9, -1, 2, 10, -1, 3, 11, -1, 4, 12, -1, 5)),
        _mm_shuffle_epi8(bb, _mm_setr_epi8(-1, -1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1)));
    const __m128i hi = _mm_or_si128(
        _mm_shuffle_epi8(rg, _mm_setr_epi8(13, -1, 6, 14, -1, 7, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1)),
        _mm_shuffle_epi8(bb, _mm_setr_epi8(-1, 5, -1, -1, 6, -1, -1, 7, -1, -1, -1, -1, -1, -1, -1, -1)));
    _mm_storeu_si128((__m128i *)out, lo);
    _mm_storel_epi64((__m128i *)(out + 16), hi);
}

}  // namespace

extern "C" __attribute__((target("avx2"))) void vk_u8_yuv420_rgb__avx2(const uint8_t *y, const uint8_t *u, const uint8_t *v,
                                                                        size_t chroma_step, size_t x0, size_t n, uint8_t *rgb) {
    size_t x = x0;
    const size_t end = x0 + n;
    if (x & 1 && x < end) {  // an odd first column: one pixel alone, then pairs
        vk_u8_yuv420_rgb__scalar(y, u, v, chroma_step, x, 1, rgb);
        ++x;
        rgb += 3;
    }
    const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    const __m256i c128 = _mm256_set1_epi32(128), c16 = _mm256_set1_epi32(16), zero = _mm256_setzero_si256();
    const __m256i kl = _mm256_set1_epi32(1220542), half = _mm256_set1_epi32(1 << 19);
    const __m256i krv = _mm256_set1_epi32(1673527), kgv = _mm256_set1_epi32(-852492);
    const __m256i kgu = _mm256_set1_epi32(-409993), kbu = _mm256_set1_epi32(2116026);
    for (; x + 8 <= end; x += 8, rgb += 24) {
        __m256i cu, cv;
        if (chroma_step == 2) {  // NV12: u0 v0 u1 v1 u2 v2 u3 v3
            const __m256i uv = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(u + x)));
            cu = _mm256_permutevar8x32_epi32(uv, _mm256_setr_epi32(0, 0, 2, 2, 4, 4, 6, 6));
            cv = _mm256_permutevar8x32_epi32(uv, _mm256_setr_epi32(1, 1, 3, 3, 5, 5, 7, 7));
        } else {
            int32_t u4, v4;
            __builtin_memcpy(&u4, u + x / 2, 4);
            __builtin_memcpy(&v4, v + x / 2, 4);
            cu = _mm256_permutevar8x32_epi32(_mm256_cvtepu8_epi32(_mm_cvtsi32_si128(u4)), dup);
            cv = _mm256_permutevar8x32_epi32(_mm256_cvtepu8_epi32(_mm_cvtsi32_si128(v4)), dup);
        }
        cu = _mm256_sub_epi32(cu, c128);
        cv = _mm256_sub_epi32(cv, c128);
        const __m256i yy = _mm256_max_epi32(_mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(y + x))), c16), zero);
        const __m256i l = _mm256_add_epi32(_mm256_mullo_epi32(yy, kl), half);
        const __m256i r = _mm256_srai_epi32(_mm256_add_epi32(l, _mm256_mullo_epi32(cv, krv)), 20);
        const __m256i g = _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(l, _mm256_mullo_epi32(cv, kgv)),
                                                             _mm256_mullo_epi32(cu, kgu)), 20);
        const __m256i b = _mm256_srai_epi32(_mm256_add_epi32(l, _mm256_mullo_epi32(cu, kbu)), 20);
        store_rgb8(r, g, b, rgb);
    }
    if (x < end) vk_u8_yuv420_rgb__scalar(y, u, v, chroma_step, x, end - x, rgb);
}

#endif
