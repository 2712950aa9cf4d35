// int8 GEMM, 8x16 tile, AVX-512 VNNI: one vpdpbusd per row and 4 k values.
// dpbusd multiplies unsigned by signed bytes: the kernel feeds a + 128 (xor 0x80)
// and subtracts 128 x the column sums computed at pack time.
#include "qs8_gemm_driver.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace {

template <int MR>
__attribute__((target("avx512f,avx512vnni"))) void ukernel(size_t kg, const int8_t *a, size_t lda,
                                                           const int8_t *panel, const int32_t *colsum, size_t nr, const vk::qs8_epilogue &e) {
    __m512i acc[MR];
    for (int r = 0; r < MR; ++r) acc[r] = _mm512_setzero_si512();
    const __m512i flip = _mm512_set1_epi32((int32_t)0x80808080u);
    for (size_t g = 0; g < kg; ++g) {
        const __m512i w = _mm512_loadu_si512((const void *)(panel + g * 64));
        for (int r = 0; r < MR; ++r) {
            const __m512i ua = _mm512_xor_si512(_mm512_set1_epi32(vk::load4(a + r * lda + g * 4)), flip);
            acc[r] = _mm512_dpbusd_epi32(acc[r], ua, w);
        }
    }
    const __m512i corr = _mm512_slli_epi32(_mm512_loadu_si512((const void *)colsum), 7);
    const __mmask16 mask = (__mmask16)((nr >= 16) ? 0xFFFFu : ((1u << nr) - 1u));
    // Epilogue, vectorized: y = (accumulate ? y : 0) + (float(acc) * (sa * sw) + b).
    const __m512 sw = _mm512_maskz_loadu_ps(mask, e.w_scale);
    const __m512 b = e.bias ? _mm512_maskz_loadu_ps(mask, e.bias) : _mm512_setzero_ps();
    for (int r = 0; r < MR; ++r) {
        const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(e.a_scale[r]), sw);
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r], corr)), scale);
        if (e.bias) v = _mm512_add_ps(v, b);
        float *yr = e.y + r * e.ldy;
        if (e.accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, yr), v);
        _mm512_mask_storeu_ps(yr, mask, v);
    }
}

const vk::qs8_ukernel kUkernels[8] = {ukernel<1>, ukernel<2>, ukernel<3>, ukernel<4>,
                                      ukernel<5>, ukernel<6>, ukernel<7>, ukernel<8>};

}  // namespace

extern "C" void vk_qs8_gemm_8x16__avx512vnni(VK_QS8_GEMM_ARGS) {
    vk::qs8_gemm_drive<8>(kUkernels, m, n, k, a, lda, packed, a_scale, w_scale, bias, y, ldy, accumulate);
}
#else
extern "C" void vk_qs8_gemm_8x16__avx512vnni(VK_QS8_GEMM_ARGS) { (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)a_scale; (void)w_scale; (void)bias; (void)y; (void)ldy; (void)accumulate; __builtin_trap(); }
#endif
