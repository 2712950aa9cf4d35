// Pillow's 8-bit resampling passes with AVX-512F (16 int32 lanes): the AVX2 kernels'
// scheme (u8_resample__avx2.cpp) at twice the width, bit-identical to the scalar route.
#include "vit_kernels.h"
#include "u8_resample_common.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define VK_AVX512 __attribute__((target("avx512f"))) inline

namespace {

template <int C>
constexpr int kTaps = C == 1 ? 16 : C == 2 ? 8 : 4;

template <int C>
VK_AVX512 __m512i fold(__m512i v) {
    for (int s = kTaps<C> / 2; s >= 1; s /= 2) {
        alignas(64) int32_t idx[16];
        for (int i = 0; i < 16; ++i) idx[i] = (i + s * C) & 15;
        v = _mm512_add_epi32(v, _mm512_permutexvar_epi32(_mm512_load_si512(idx), v));
    }
    return v;
}

VK_AVX512 uint32_t clip4(__m128i v) {
    __m128i s = _mm_srai_epi32(v, 22);
    s = _mm_packs_epi32(s, s);
    s = _mm_packus_epi16(s, s);
    return (uint32_t)_mm_cvtsi128_si32(s);
}

template <int C>
__attribute__((target("avx512f"))) void h_row(const uint8_t *row, const uint8_t *row_end, size_t outputs,
                                              const int32_t *start, const int32_t *count, const int32_t *packed,
                                              size_t stride, uint8_t *out) {
    constexpr int G = kTaps<C>, L = G * C;
    // Every output runs the row's widest number of groups (its packed coefficients are
    // zero past its own taps): a loop count that varies by one between neighbours
    // (16 or 17 taps at 1080p) cost more in mispredicted branches than the zeros do.
    const int uniform_groups = (int)(stride / 16);
    for (size_t x = 0; x < outputs; ++x) {
        const int n = count[x];
        const uint8_t *p = row + (size_t)start[x] * C;
        const int32_t *k = packed + x * stride;
        const int groups = uniform_groups;
        uint32_t bytes;
        if (n > 0 && p + (size_t)(groups - 1) * L + 16 <= row_end) {
            __m512i acc = _mm512_setzero_si512(), acc2 = _mm512_setzero_si512();
            int g = 0;
            for (; g + 2 <= groups; g += 2) {
                const __m512i p0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + g * L)));
                const __m512i p1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + (g + 1) * L)));
                acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p0, _mm512_loadu_si512(k + g * 16)));
                acc2 = _mm512_add_epi32(acc2, _mm512_mullo_epi32(p1, _mm512_loadu_si512(k + g * 16 + 16)));
            }
            if (g < groups) {
                const __m512i p0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + g * L)));
                acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p0, _mm512_loadu_si512(k + g * 16)));
            }
            const __m128i sums = _mm512_castsi512_si128(fold<C>(_mm512_add_epi32(acc, acc2)));
            bytes = clip4(_mm_add_epi32(sums, _mm_set1_epi32(1 << 21)));
        } else {
            alignas(16) int32_t s[4] = {0};
            vk::u8_resample_tap_by_tap<C>(p, n, k, G, 16, s);
            bytes = clip4(_mm_load_si128((const __m128i *)s));
        }
        memcpy(out + x * C, &bytes, C);
    }
}

}  // namespace

extern "C" void vk_u8_resample_h__avx512f(const uint8_t *row, const uint8_t *row_end, size_t outputs, size_t channels,
                                          const int32_t *start, const int32_t *count, const int32_t *packed,
                                          size_t packed_stride, uint8_t *out) {
    switch (channels) {
    case 1: return h_row<1>(row, row_end, outputs, start, count, packed, packed_stride, out);
    case 2: return h_row<2>(row, row_end, outputs, start, count, packed, packed_stride, out);
    case 3: return h_row<3>(row, row_end, outputs, start, count, packed, packed_stride, out);
    default: return h_row<4>(row, row_end, outputs, start, count, packed, packed_stride, out);
    }
}

extern "C" __attribute__((target("avx512f"))) void vk_u8_resample_v__avx512f(const uint8_t *mid, size_t n, int32_t k,
                                                                             int32_t *acc) {
    const __m512i kk = _mm512_set1_epi32(k);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i p = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(mid + i)));
        _mm512_storeu_si512(acc + i, _mm512_add_epi32(_mm512_loadu_si512(acc + i), _mm512_mullo_epi32(p, kk)));
    }
    vk_u8_resample_v__scalar(mid + i, n - i, k, acc + i);
}

extern "C" __attribute__((target("avx512f"))) void vk_u8_resample_clip__avx512f(const int32_t *acc, size_t n,
                                                                                uint8_t *out) {
    const __m512i lo = _mm512_setzero_si512(), hi = _mm512_set1_epi32(255);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i s = _mm512_srai_epi32(_mm512_loadu_si512(acc + i), 22);
        _mm_storeu_si128((__m128i *)(out + i), _mm512_cvtepi32_epi8(_mm512_min_epi32(_mm512_max_epi32(s, lo), hi)));
    }
    vk_u8_resample_clip__scalar(acc + i, n - i, out + i);
}

#endif
