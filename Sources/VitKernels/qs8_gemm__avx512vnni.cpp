// int8 GEMM, 8x32 tile, AVX-512 VNNI: per group of 4 k values, two weight vectors
// (two adjacent 16-column panels) and one vpdpbusd per row and vector.
// dpbusd multiplies unsigned by signed bytes, so this route takes its activations
// already offset by +128 (uint8, written by the *_u8 quantizers: no xor in the
// loop) and subtracts 128 x the column sums computed at pack time. The xor inside
// the loop cost 40% (230 vs 371 GOPS at 197x384x1536); the second weight vector
// halves the broadcasts per multiply (409 GOPS, the core's dpbusd peak is ~426).
#include "qs8_gemm_driver.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace {

#define VK_TARGET __attribute__((target("avx512f,avx512vnni")))

// Dequantize one row of NB 16-column vectors: y = (accumulate ? y : 0) + (float(acc - 128·colsum) * (sa * sw) + b).
VK_TARGET inline void store_row(__m512i acc, __m512i corr, __mmask16 mask, float sa, const float *w_scale,
                                const float *bias, float *yr, int accumulate) {
    const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(sa), _mm512_maskz_loadu_ps(mask, w_scale));
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc, corr)), scale);
    if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, bias));
    if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, yr), v);
    _mm512_mask_storeu_ps(yr, mask, v);
}

VK_TARGET inline __mmask16 cols(size_t nr) { return (__mmask16)((nr >= 16) ? 0xFFFFu : ((1u << nr) - 1u)); }

// MR rows x NB panels (NB = 1 or 2); panels are `stride` bytes apart.
template <int MR, int NB>
VK_TARGET void ukernel(size_t kg, const int8_t *a, size_t lda, const int8_t *panel, size_t stride, size_t nr,
                       const vk::qs8_epilogue &e) {
    __m512i acc[MR][NB];
    for (int r = 0; r < MR; ++r)
        for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_setzero_si512();
    for (size_t g = 0; g < kg; ++g) {
        __m512i w[NB];
        for (int j = 0; j < NB; ++j) w[j] = _mm512_loadu_si512((const void *)(panel + j * stride + g * 64));
        for (int r = 0; r < MR; ++r) {
            const __m512i ua = _mm512_set1_epi32(vk::load4(a + r * lda + g * 4));
            for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], ua, w[j]);
        }
    }
    for (int j = 0; j < NB; ++j) {
        const size_t left = nr - (size_t)j * 16;
        const __m512i corr = _mm512_slli_epi32(_mm512_loadu_si512((const void *)(panel + j * stride + kg * 64)), 7);
        const __mmask16 mask = cols(left);
        for (int r = 0; r < MR; ++r) {
            store_row(acc[r][j], corr, mask, e.a_scale[r], e.w_scale + j * 16, e.bias ? e.bias + j * 16 : nullptr,
                      e.y + r * e.ldy + j * 16, e.accumulate);
        }
    }
}

typedef void (*ukernel_fn)(size_t, const int8_t *, size_t, const int8_t *, size_t, size_t, const vk::qs8_epilogue &);

template <int NB>
struct Table {
    static constexpr ukernel_fn rows[8] = {ukernel<1, NB>, ukernel<2, NB>, ukernel<3, NB>, ukernel<4, NB>,
                                           ukernel<5, NB>, ukernel<6, NB>, ukernel<7, NB>, ukernel<8, NB>};
};

}  // namespace

extern "C" void vk_qs8_gemm_8x32__avx512vnni(VK_QS8_GEMM_ARGS) {
    const size_t kg = vk_qs8_padded_k(k) / 4;
    const size_t stride = vk::qs8_panel_bytes(k);
    const int8_t *base = (const int8_t *)packed;
    const size_t tiles = (m + 7) / 8;
    for (size_t n0 = 0; n0 < n; n0 += 32) {
        const size_t nr = (n - n0 < 32) ? (n - n0) : 32;
        const ukernel_fn *table = nr > 16 ? Table<2>::rows : Table<1>::rows;
        const int8_t *panel = base + (n0 / 16) * stride;
        for (size_t t = 0, m0 = 0; t < tiles; ++t) {
            const size_t mr = vk::qs8_tile_rows(m, tiles, t);
            const vk::qs8_epilogue ep = {a_scale + m0, w_scale + n0, bias ? bias + n0 : nullptr,
                                         y + m0 * ldy + n0, ldy, accumulate};
            table[mr - 1](kg, a + m0 * lda, lda, panel, stride, nr, ep);
            m0 += mr;
        }
    }
}
#else
extern "C" void vk_qs8_gemm_8x32__avx512vnni(VK_QS8_GEMM_ARGS) { (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)a_scale; (void)w_scale; (void)bias; (void)y; (void)ldy; (void)accumulate; __builtin_trap(); }
#endif
