// Pillow's 8-bit resampling passes with AVX2 (8 int32 lanes), bit-identical to
// u8_resample__scalar.cpp. Horizontal: each load widens 8 pixel bytes (G taps of c
// channels) to int32 and multiplies them by the packed coefficients of those taps
// (vpmulld: Pillow's 22-bit coefficients need 32-bit products); the lanes of one channel
// are folded together at the end of an output. Vertical: 8 samples of a row per step.
#include "vit_kernels.h"
#include "u8_resample_common.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define VK_AVX2 __attribute__((target("avx2"))) inline

namespace {

// Lanes 0..c-1 of the sum of each channel's lanes (tap t, channel ch at lane t*c + ch):
// halve the taps log2(G) times, adding lane i + s*c onto lane i.
template <int C>
VK_AVX2 __m256i fold(__m256i v) {
    constexpr int G = C == 1 ? 8 : C == 2 ? 4 : 2;
    for (int s = G / 2; s >= 1; s /= 2) {
        alignas(32) int32_t idx[8];
        for (int i = 0; i < 8; ++i) idx[i] = (i + s * C) & 7;
        v = _mm256_add_epi32(v, _mm256_permutevar8x32_epi32(v, _mm256_load_si256((const __m256i *)idx)));
    }
    return v;
}

// clip8 of lanes 0..3 as 4 bytes of an int.
VK_AVX2 uint32_t clip4(__m256i v) {
    __m128i s = _mm_srai_epi32(_mm256_castsi256_si128(v), 22);
    s = _mm_packs_epi32(s, s);
    s = _mm_packus_epi16(s, s);
    return (uint32_t)_mm_cvtsi128_si32(s);
}

template <int C>
__attribute__((target("avx2"))) void h_row(const uint8_t *row, const uint8_t *row_end, size_t outputs,
                                           const int32_t *start, const int32_t *count, const int32_t *packed,
                                           size_t stride, uint8_t *out) {
    constexpr int G = C == 1 ? 8 : C == 2 ? 4 : 2, L = G * C;
    const __m256i half = _mm256_set1_epi32(1 << 21);
    // Every output runs the row's widest number of groups (its packed coefficients are
    // zero past its own taps): a loop count that varies by one between neighbours
    // (16 or 17 taps at 1080p) cost more in mispredicted branches than the zeros do.
    const int uniform_groups = (int)(stride / 8);
    for (size_t x = 0; x < outputs; ++x) {
        const int n = count[x];
        const uint8_t *p = row + (size_t)start[x] * C;
        const int32_t *k = packed + x * stride;
        const int groups = uniform_groups;
        uint32_t bytes;
        if (n > 0 && p + (size_t)(groups - 1) * L + 8 <= row_end) {
            __m256i acc = _mm256_setzero_si256();
            __m256i acc2 = _mm256_setzero_si256();
            int g = 0;
            for (; g + 2 <= groups; g += 2) {
                const __m256i p0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + g * L)));
                const __m256i p1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + (g + 1) * L)));
                acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p0, _mm256_loadu_si256((const __m256i *)(k + g * 8))));
                acc2 = _mm256_add_epi32(acc2, _mm256_mullo_epi32(p1, _mm256_loadu_si256((const __m256i *)(k + g * 8 + 8))));
            }
            if (g < groups) {
                const __m256i p0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + g * L)));
                acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p0, _mm256_loadu_si256((const __m256i *)(k + g * 8))));
            }
            bytes = clip4(_mm256_add_epi32(fold<C>(_mm256_add_epi32(acc, acc2)), half));
        } else {
            // Near the end of the row: tap by tap (coefficient of tap i at lane (i % G) * c of group i / G).
            alignas(32) int32_t s[8] = {0};
            vk::u8_resample_tap_by_tap<C>(p, n, k, G, 8, s);
            bytes = clip4(_mm256_load_si256((const __m256i *)s));
        }
        memcpy(out + x * C, &bytes, C);
    }
}

}  // namespace

extern "C" void vk_u8_resample_h__avx2(const uint8_t *row, const uint8_t *row_end, size_t outputs, size_t channels,
                                       const int32_t *start, const int32_t *count, const int32_t *packed,
                                       size_t packed_stride, uint8_t *out) {
    switch (channels) {
    case 1: return h_row<1>(row, row_end, outputs, start, count, packed, packed_stride, out);
    case 2: return h_row<2>(row, row_end, outputs, start, count, packed, packed_stride, out);
    case 3: return h_row<3>(row, row_end, outputs, start, count, packed, packed_stride, out);
    default: return h_row<4>(row, row_end, outputs, start, count, packed, packed_stride, out);
    }
}

extern "C" __attribute__((target("avx2"))) void vk_u8_resample_v__avx2(const uint8_t *mid, size_t n, int32_t k,
                                                                       int32_t *acc) {
    const __m256i kk = _mm256_set1_epi32(k);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i b = _mm_loadu_si128((const __m128i *)(mid + i));
        const __m256i p0 = _mm256_cvtepu8_epi32(b), p1 = _mm256_cvtepu8_epi32(_mm_unpackhi_epi64(b, b));
        __m256i *a = (__m256i *)(acc + i);
        _mm256_storeu_si256(a, _mm256_add_epi32(_mm256_loadu_si256(a), _mm256_mullo_epi32(p0, kk)));
        _mm256_storeu_si256(a + 1, _mm256_add_epi32(_mm256_loadu_si256(a + 1), _mm256_mullo_epi32(p1, kk)));
    }
    vk_u8_resample_v__scalar(mid + i, n - i, k, acc + i);
}

extern "C" __attribute__((target("avx2"))) void vk_u8_resample_clip__avx2(const int32_t *acc, size_t n, uint8_t *out) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i *a = (const __m256i *)(acc + i);
        const __m256i s0 = _mm256_srai_epi32(_mm256_loadu_si256(a), 22), s1 = _mm256_srai_epi32(_mm256_loadu_si256(a + 1), 22);
        const __m256i s2 = _mm256_srai_epi32(_mm256_loadu_si256(a + 2), 22), s3 = _mm256_srai_epi32(_mm256_loadu_si256(a + 3), 22);
        // packs/packus work within 128-bit halves: the permute puts the bytes back in order.
        const __m256i w = _mm256_packus_epi16(_mm256_packs_epi32(s0, s1), _mm256_packs_epi32(s2, s3));
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
    vk_u8_resample_clip__scalar(acc + i, n - i, out + i);
}

#endif
