// Packing of an int8 matrix given transposed, W as [k][n] (row stride ldw), into the
// layouts vk_qs8_pack_nk and vk_qs8_pack_nk_c16 make of W [n][k]: byte for byte the
// same (the c16 one is in qs8_pack.cpp, beside vk_qs8_pack_nk_c16). int8 attention's V is
// quantized per channel in token-major order; these pack it
// as the [channels][tokens] weights of the PV product without a transposed copy.
// Rows k..kp-1 are zero (the activation rows' padding).
#include "qs8_gemm_driver.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace {

// 16 columns of 4 rows r[0..3] (16 bytes each) into 64 bytes: column j's 4 bytes in row order.
inline void interleave4x16(const int8_t *r0, const int8_t *r1, const int8_t *r2, const int8_t *r3, int8_t *out) {
#if defined(__SSE2__)
    const __m128i a0 = _mm_loadu_si128((const __m128i *)r0), a1 = _mm_loadu_si128((const __m128i *)r1);
    const __m128i a2 = _mm_loadu_si128((const __m128i *)r2), a3 = _mm_loadu_si128((const __m128i *)r3);
    const __m128i lo01 = _mm_unpacklo_epi8(a0, a1), hi01 = _mm_unpackhi_epi8(a0, a1);
    const __m128i lo23 = _mm_unpacklo_epi8(a2, a3), hi23 = _mm_unpackhi_epi8(a2, a3);
    _mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi16(lo01, lo23));
    _mm_storeu_si128((__m128i *)(out + 16), _mm_unpackhi_epi16(lo01, lo23));
    _mm_storeu_si128((__m128i *)(out + 32), _mm_unpacklo_epi16(hi01, hi23));
    _mm_storeu_si128((__m128i *)(out + 48), _mm_unpackhi_epi16(hi01, hi23));
#elif defined(__ARM_NEON)
    const int8x16_t a0 = vld1q_s8(r0), a1 = vld1q_s8(r1), a2 = vld1q_s8(r2), a3 = vld1q_s8(r3);
    const int16x8_t lo01 = vreinterpretq_s16_s8(vzip1q_s8(a0, a1)), hi01 = vreinterpretq_s16_s8(vzip2q_s8(a0, a1));
    const int16x8_t lo23 = vreinterpretq_s16_s8(vzip1q_s8(a2, a3)), hi23 = vreinterpretq_s16_s8(vzip2q_s8(a2, a3));
    vst1q_s16((int16_t *)out, vzip1q_s16(lo01, lo23));
    vst1q_s16((int16_t *)(out + 16), vzip2q_s16(lo01, lo23));
    vst1q_s16((int16_t *)(out + 32), vzip1q_s16(hi01, hi23));
    vst1q_s16((int16_t *)(out + 48), vzip2q_s16(hi01, hi23));
#else
    const int8_t *r[4] = {r0, r1, r2, r3};
    for (size_t j = 0; j < 16; ++j)
        for (size_t i = 0; i < 4; ++i) out[j * 4 + i] = r[i][j];
#endif
}

}  // namespace

extern "C" void vk_qs8_pack_kn(const int8_t *w, size_t ldw, size_t n, size_t k, size_t kp, void *packed) {
    const size_t kg = vk_qs8_padded_k(kp) / 4;
    const size_t panels = (n + VK_QS8_NR - 1) / VK_QS8_NR;
    const int8_t zero[VK_QS8_NR] = {0};
    for (size_t p = 0; p < panels; ++p) {
        int8_t *panel = (int8_t *)packed + p * vk::qs8_panel_bytes(kp);
        const size_t c0 = p * VK_QS8_NR, nc = n - c0 < VK_QS8_NR ? n - c0 : VK_QS8_NR;
        int32_t colsum[VK_QS8_NR] = {0};
        alignas(16) int8_t edge[4][VK_QS8_NR];
        for (size_t g = 0; g < kg; ++g) {
            const int8_t *r[4];
            for (size_t i = 0; i < 4; ++i) {
                const size_t kk = g * 4 + i;
                if (kk >= k) {
                    r[i] = zero;
                } else if (nc < VK_QS8_NR) {  // the last panel: columns past n are zero
                    memset(edge[i], 0, VK_QS8_NR);
                    memcpy(edge[i], w + kk * ldw + c0, nc);
                    r[i] = edge[i];
                } else {
                    r[i] = w + kk * ldw + c0;
                }
                for (size_t j = 0; j < VK_QS8_NR; ++j) colsum[j] += r[i][j];
            }
            interleave4x16(r[0], r[1], r[2], r[3], panel + g * 64);
        }
        memcpy(panel + kg * 64, colsum, sizeof colsum);
    }
}
