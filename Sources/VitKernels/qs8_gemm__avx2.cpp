// int8 GEMM on x86 without AVX-512: AVX-VNNI with vpdpbusd (below), else AVX2 and
// SSE4.1 with maddubs + madd. maddubs multiplies
// unsigned by signed bytes, so the kernel feeds |a| and sign(w, a): exact while
// |w| <= 127 (the scheme clamps to +-127; pair sums stay below 32767).
#include "qs8_gemm_driver.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace {

// The epilogue of an MR x 16 tile of int32 sums. Full tiles in vectors, the scheme's
// operations in its order (convert, times sa·sw, plus bias, plus y): the same IEEE results
// as qs8_store_row, 8 at a time.
template <int MR>
__attribute__((target("avx2"))) inline void store_tile(const __m256i *lo, const __m256i *hi, size_t nr, const vk::qs8_epilogue &e) {
    if (nr == 16) {
        const __m256 sw0 = _mm256_loadu_ps(e.w_scale), sw1 = _mm256_loadu_ps(e.w_scale + 8);
        const __m256 b0 = e.bias ? _mm256_loadu_ps(e.bias) : _mm256_setzero_ps();
        const __m256 b1 = e.bias ? _mm256_loadu_ps(e.bias + 8) : _mm256_setzero_ps();
        for (int r = 0; r < MR; ++r) {
            const __m256 sa = _mm256_set1_ps(e.a_scale[r]);
            float *y = e.y + r * e.ldy;
            __m256 v0 = _mm256_mul_ps(_mm256_cvtepi32_ps(lo[r]), _mm256_mul_ps(sa, sw0));
            __m256 v1 = _mm256_mul_ps(_mm256_cvtepi32_ps(hi[r]), _mm256_mul_ps(sa, sw1));
            if (e.bias) v0 = _mm256_add_ps(v0, b0), v1 = _mm256_add_ps(v1, b1);
            if (e.accumulate) v0 = _mm256_add_ps(_mm256_loadu_ps(y), v0), v1 = _mm256_add_ps(_mm256_loadu_ps(y + 8), v1);
            _mm256_storeu_ps(y, v0);
            _mm256_storeu_ps(y + 8, v1);
        }
        return;
    }
    for (int r = 0; r < MR; ++r) {
        int32_t tmp[16];
        _mm256_storeu_si256((__m256i *)tmp, lo[r]);
        _mm256_storeu_si256((__m256i *)(tmp + 8), hi[r]);
        vk::qs8_store_row(tmp, nr, e.a_scale[r], e, e.y + r * e.ldy);
    }
}

// W7 = false: signed activations, and the sign trick feeds |a| and sign(w, a) to
// vpmaddubsw (exact while |w| <= 127). W7 = true, weights within ±63 (7-bit files):
// activations come as q + 128 (uint8 in 1..255) and go to vpmaddubsw as they are, since
// a pair sum is at most 255·63·2 = 32130 and cannot saturate; Σ (q+128)·w = Σ q·w + 128·Σ w,
// and the panel's column sums take the 128·Σ w back out, so the result is exact.
template <int MR, bool W7>
__attribute__((target("avx2"))) void ukernel_avx2(size_t kg, const int8_t *a, size_t lda, const int8_t *panel,
                                                  const int32_t *colsum, size_t nr, const vk::qs8_epilogue &e) {
    __m256i lo[MR], hi[MR];
    for (int r = 0; r < MR; ++r) lo[r] = hi[r] = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    for (size_t g = 0; g < kg; ++g) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(panel + g * 64));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(panel + g * 64 + 32));
        for (int r = 0; r < MR; ++r) {
            const __m256i av = _mm256_set1_epi32(vk::load4(a + r * lda + g * 4));
            const __m256i ua = W7 ? av : _mm256_abs_epi8(av);
            const __m256i s0 = W7 ? w0 : _mm256_sign_epi8(w0, av), s1 = W7 ? w1 : _mm256_sign_epi8(w1, av);
            lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(_mm256_maddubs_epi16(ua, s0), ones));
            hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(_mm256_maddubs_epi16(ua, s1), ones));
        }
    }
    if (W7) {
        const __m256i c0 = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)colsum), 7);
        const __m256i c1 = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(colsum + 8)), 7);
        for (int r = 0; r < MR; ++r) lo[r] = _mm256_sub_epi32(lo[r], c0), hi[r] = _mm256_sub_epi32(hi[r], c1);
    }
    store_tile<MR>(lo, hi, nr, e);
}

// AVX-VNNI (Intel client cores from Alder Lake on, among them the N100 class of x86
// mini-PCs, which have no AVX-512): the 7-bit kernel's input form (activations + 128 as
// uint8, 128 x column sums removed at the end) with vpdpbusd, which adds four u8 x s8
// products straight into int32 lanes: no int16 step, so exact for any int8 weight, and
// 64 multiply-adds per row and group in two instructions (the sign trick needs nine).
// One body, two encodings: VEX (`_mm256_dpbusd_avx_epi32`, the route) and EVEX on ymm
// (AVX-512 VL + VNNI), the twin that lets an AVX-512 host execute and test the same code
// (no emulator here implements AVX-VNNI; the twin is not a route).
#define VK_QS8_UKERNEL_DPBUSD(NAME, TARGET, DPBUSD)                                                               \
    template <int MR>                                                                                             \
    __attribute__((target(TARGET))) void NAME(size_t kg, const int8_t *a, size_t lda, const int8_t *panel,       \
                                              const int32_t *colsum, size_t nr, const vk::qs8_epilogue &e) {     \
        __m256i lo[MR], hi[MR];                                                                                   \
        for (int r = 0; r < MR; ++r) lo[r] = hi[r] = _mm256_setzero_si256();                                      \
        for (size_t g = 0; g < kg; ++g) {                                                                         \
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(panel + g * 64));                             \
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(panel + g * 64 + 32));                        \
            for (int r = 0; r < MR; ++r) {                                                                        \
                const __m256i ua = _mm256_set1_epi32(vk::load4(a + r * lda + g * 4));                             \
                lo[r] = DPBUSD(lo[r], ua, w0);                                                                    \
                hi[r] = DPBUSD(hi[r], ua, w1);                                                                    \
            }                                                                                                     \
        }                                                                                                         \
        const __m256i c0 = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)colsum), 7);                     \
        const __m256i c1 = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(colsum + 8)), 7);               \
        for (int r = 0; r < MR; ++r) lo[r] = _mm256_sub_epi32(lo[r], c0), hi[r] = _mm256_sub_epi32(hi[r], c1);   \
        store_tile<MR>(lo, hi, nr, e);                                                                            \
    }

VK_QS8_UKERNEL_DPBUSD(ukernel_avxvnni, "avx2,avxvnni", _mm256_dpbusd_avx_epi32)
VK_QS8_UKERNEL_DPBUSD(ukernel_avx512vl_vnni, "avx2,avx512vl,avx512vnni", _mm256_dpbusd_epi32)

template <int MR>
__attribute__((target("sse4.1,ssse3"))) void ukernel_sse41(size_t kg, const int8_t *a, size_t lda,
                                                           const int8_t *panel, const int32_t *, size_t nr, const vk::qs8_epilogue &e) {
    __m128i acc[MR][4];
    for (int r = 0; r < MR; ++r)
        for (int v = 0; v < 4; ++v) acc[r][v] = _mm_setzero_si128();
    const __m128i ones = _mm_set1_epi16(1);
    for (size_t g = 0; g < kg; ++g) {
        __m128i w[4];
        for (int v = 0; v < 4; ++v) w[v] = _mm_loadu_si128((const __m128i *)(panel + g * 64 + 16 * v));
        for (int r = 0; r < MR; ++r) {
            const __m128i av = _mm_set1_epi32(vk::load4(a + r * lda + g * 4));
            const __m128i ua = _mm_abs_epi8(av);
            for (int v = 0; v < 4; ++v)
                acc[r][v] = _mm_add_epi32(acc[r][v], _mm_madd_epi16(_mm_maddubs_epi16(ua, _mm_sign_epi8(w[v], av)), ones));
        }
    }
    for (int r = 0; r < MR; ++r) {
        int32_t tmp[16];
        for (int v = 0; v < 4; ++v) _mm_storeu_si128((__m128i *)(tmp + 4 * v), acc[r][v]);
        vk::qs8_store_row(tmp, nr, e.a_scale[r], e, e.y + r * e.ldy);
    }
}

const vk::qs8_ukernel kAvx2[4] = {ukernel_avx2<1, false>, ukernel_avx2<2, false>, ukernel_avx2<3, false>, ukernel_avx2<4, false>};
const vk::qs8_ukernel kAvx2W7[4] = {ukernel_avx2<1, true>, ukernel_avx2<2, true>, ukernel_avx2<3, true>, ukernel_avx2<4, true>};
const vk::qs8_ukernel kAvxVnni[6] = {ukernel_avxvnni<1>, ukernel_avxvnni<2>, ukernel_avxvnni<3>,
                                     ukernel_avxvnni<4>, ukernel_avxvnni<5>, ukernel_avxvnni<6>};
const vk::qs8_ukernel kAvx512VlVnni[6] = {ukernel_avx512vl_vnni<1>, ukernel_avx512vl_vnni<2>, ukernel_avx512vl_vnni<3>,
                                          ukernel_avx512vl_vnni<4>, ukernel_avx512vl_vnni<5>, ukernel_avx512vl_vnni<6>};
const vk::qs8_ukernel kSse41[4] = {ukernel_sse41<1>, ukernel_sse41<2>, ukernel_sse41<3>, ukernel_sse41<4>};

}  // namespace

extern "C" void vk_qs8_gemm_4x16__avx2(VK_QS8_GEMM_ARGS) {
    vk::qs8_gemm_drive<4>(kAvx2, m, n, k, a, lda, packed, a_scale, w_scale, bias, y, ldy, accumulate);
}
extern "C" void vk_qs8_gemm_4x16__avx2_w7(VK_QS8_GEMM_ARGS) {
    vk::qs8_gemm_drive<4>(kAvx2W7, m, n, k, a, lda, packed, a_scale, w_scale, bias, y, ldy, accumulate);
}
extern "C" void vk_qs8_gemm_6x16__avxvnni(VK_QS8_GEMM_ARGS) {
    vk::qs8_gemm_drive<6>(kAvxVnni, m, n, k, a, lda, packed, a_scale, w_scale, bias, y, ldy, accumulate);
}
extern "C" void vk_qs8_gemm_6x16__avxvnni_evex_twin(VK_QS8_GEMM_ARGS) {
    vk::qs8_gemm_drive<6>(kAvx512VlVnni, m, n, k, a, lda, packed, a_scale, w_scale, bias, y, ldy, accumulate);
}
extern "C" void vk_qs8_gemm_4x16__sse41(VK_QS8_GEMM_ARGS) {
    vk::qs8_gemm_drive<4>(kSse41, m, n, k, a, lda, packed, a_scale, w_scale, bias, y, ldy, accumulate);
}
#else
extern "C" void vk_qs8_gemm_4x16__avx2(VK_QS8_GEMM_ARGS) { (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)a_scale; (void)w_scale; (void)bias; (void)y; (void)ldy; (void)accumulate; __builtin_trap(); }
extern "C" void vk_qs8_gemm_4x16__avx2_w7(VK_QS8_GEMM_ARGS) { (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)a_scale; (void)w_scale; (void)bias; (void)y; (void)ldy; (void)accumulate; __builtin_trap(); }
extern "C" void vk_qs8_gemm_6x16__avxvnni(VK_QS8_GEMM_ARGS) { (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)a_scale; (void)w_scale; (void)bias; (void)y; (void)ldy; (void)accumulate; __builtin_trap(); }
extern "C" void vk_qs8_gemm_6x16__avxvnni_evex_twin(VK_QS8_GEMM_ARGS) { (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)a_scale; (void)w_scale; (void)bias; (void)y; (void)ldy; (void)accumulate; __builtin_trap(); }
extern "C" void vk_qs8_gemm_4x16__sse41(VK_QS8_GEMM_ARGS) { (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)a_scale; (void)w_scale; (void)bias; (void)y; (void)ldy; (void)accumulate; __builtin_trap(); }
#endif
