// Activation quantization, AVX-512F: max |x| per row, then rint(x * inv) clamped
// to +-127 and narrowed. Bit-identical to the reference (see qs8_quantize__xsimd.cpp).
#include "vit_kernels.h"

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__)
#include <immintrin.h>

namespace {

// OFFSET: store q + 128 as uint8 (the VNNI GEMM's unsigned input); padding is the
// stored form of 0.
template <bool OFFSET>
__attribute__((target("avx512f"))) void quantize_row(const float *x, size_t k, float inv, int8_t *q, size_t kp) {
    const __m512 iv = _mm512_set1_ps(inv);
    size_t i = 0;
    for (; i < k; i += 16) {
        const size_t left = k - i;
        const __mmask16 m = (__mmask16)(left >= 16 ? 0xFFFFu : ((1u << left) - 1u));
        // Clamped in float before rounding (the same result for every finite value): an
        // activation beyond 2^31 times the scale would otherwise convert to INT_MIN and
        // clamp to -127 whatever its sign (static scales meet such outliers).
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), iv);
        const __m512 c = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
        __m512i t = _mm512_cvt_roundps_epi32(c, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        if (OFFSET) t = _mm512_add_epi32(t, _mm512_set1_epi32(128));
        _mm512_mask_cvtepi32_storeu_epi8(q + i, m, t);
    }
    for (i = k; i < kp; ++i) q[i] = OFFSET ? (int8_t)0x80 : 0;
}

__attribute__((target("avx512f"))) float max_abs(const float *x, size_t k) {
    __m512 m = _mm512_setzero_ps();
    size_t i = 0;
    for (; i < k; i += 16) {
        const size_t left = k - i;
        const __mmask16 mk = (__mmask16)(left >= 16 ? 0xFFFFu : ((1u << left) - 1u));
        m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_maskz_loadu_ps(mk, x + i)));
    }
    return _mm512_reduce_max_ps(m);
}

template <bool OFFSET>
void quantize_rows(size_t rows, size_t k, const float *x, size_t ldx, int8_t *q, size_t ldq, float *scale) {
    const size_t kp = vk_qs8_padded_k(k);
    for (size_t r = 0; r < rows; ++r) {
        const float mx = max_abs(x + r * ldx, k);
        scale[r] = mx == 0.0f ? 1.0f : mx / 127.0f;
        quantize_row<OFFSET>(x + r * ldx, k, mx == 0.0f ? 0.0f : 127.0f / mx, q + r * ldq, kp);
    }
}

template <bool OFFSET>
void quantize_rows_static(size_t rows, size_t k, const float *x, size_t ldx, float s, int8_t *q, size_t ldq,
                          float *scale) {
    const size_t kp = vk_qs8_padded_k(k);
    const float inv = 1.0f / s;
    for (size_t r = 0; r < rows; ++r) {
        scale[r] = s;
        quantize_row<OFFSET>(x + r * ldx, k, inv, q + r * ldq, kp);
    }
}

}  // namespace

extern "C" void vk_qs8_quantize_rows__avx512f(size_t rows, size_t k, const float *x, size_t ldx, int8_t *q,
                                              size_t ldq, float *scale) {
    quantize_rows<false>(rows, k, x, ldx, q, ldq, scale);
}
extern "C" void vk_qs8_quantize_rows_static__avx512f(size_t rows, size_t k, const float *x, size_t ldx, float s,
                                                     int8_t *q, size_t ldq, float *scale) {
    quantize_rows_static<false>(rows, k, x, ldx, s, q, ldq, scale);
}
extern "C" void vk_qs8_quantize_rows_u8__avx512f(size_t rows, size_t k, const float *x, size_t ldx, int8_t *q,
                                                 size_t ldq, float *scale) {
    quantize_rows<true>(rows, k, x, ldx, q, ldq, scale);
}
extern "C" void vk_qs8_quantize_rows_static_u8__avx512f(size_t rows, size_t k, const float *x, size_t ldx, float s,
                                                        int8_t *q, size_t ldq, float *scale) {
    quantize_rows_static<true>(rows, k, x, ldx, s, q, ldq, scale);
}
#else
extern "C" void vk_qs8_quantize_rows__avx512f(size_t, size_t, const float *, size_t, int8_t *, size_t, float *) {
    __builtin_trap();
}
extern "C" void vk_qs8_quantize_rows_u8__avx512f(size_t, size_t, const float *, size_t, int8_t *, size_t, float *) {
    __builtin_trap();
}
extern "C" void vk_qs8_quantize_rows_static_u8__avx512f(size_t, size_t, const float *, size_t, float, int8_t *,
                                                        size_t, float *) {
    __builtin_trap();
}
extern "C" void vk_qs8_quantize_rows_static__avx512f(size_t, size_t, const float *, size_t, float, int8_t *, size_t,
                                                     float *) {
    __builtin_trap();
}
#endif
