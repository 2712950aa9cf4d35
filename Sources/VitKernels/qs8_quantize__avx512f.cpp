// Activation quantization, AVX-512F: max |x| per row, then rint(x * inv) clamped
// to +-127 and narrowed. Bit-identical to the reference (see qs8_quantize__xsimd.cpp).
#include "vit_kernels.h"

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__)
#include <immintrin.h>

namespace {

// Clamped in float before rounding (the same result for every finite value): an
// activation beyond 2^31 times the scale would otherwise convert to INT_MIN and clamp to
// -127 whatever its sign (static scales meet such outliers).
__attribute__((target("avx512f"))) inline __m512i quantize16(__m512 x, __m512 iv) {
    const __m512 c = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x, iv), _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
    return _mm512_cvt_roundps_epi32(c, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// OFFSET: store q + 128 as uint8 (the VNNI GEMM's unsigned input); padding is the
// stored form of 0. 64 values a step narrowed by saturating packs (exact: they are
// within +-127 already) and stored at once; a masked narrowing store per 16 after that
// (a masked vpmovdb per 16 values was half of this function's time on Zen 4).
// The packs need AVX-512BW, which the fp32 avx512f level does not require (every CPU
// with AVX-512 VNNI has it): BW = false keeps the narrowing stores only.
template <bool OFFSET, bool BW>
__attribute__((target("avx512f,avx512bw"))) void quantize_row(const float *x, size_t k, float inv, int8_t *q, size_t kp) {
    const __m512 iv = _mm512_set1_ps(inv);
    // packs work within 128-bit lanes: dword 4L+j of the packed vector holds input j's lane L.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    size_t i = 0;
    for (; BW && i + 64 <= k; i += 64) {
        const __m512i a = quantize16(_mm512_loadu_ps(x + i), iv), b = quantize16(_mm512_loadu_ps(x + i + 16), iv);
        const __m512i c = quantize16(_mm512_loadu_ps(x + i + 32), iv), d = quantize16(_mm512_loadu_ps(x + i + 48), iv);
        __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
        if (OFFSET) bytes = _mm512_xor_si512(bytes, _mm512_set1_epi8((char)0x80));  // q + 128 as uint8
        _mm512_storeu_si512(q + i, _mm512_permutexvar_epi32(order, bytes));
    }
    for (; i < k; i += 16) {
        const size_t left = k - i;
        const __mmask16 m = (__mmask16)(left >= 16 ? 0xFFFFu : ((1u << left) - 1u));
        __m512i t = quantize16(_mm512_maskz_loadu_ps(m, x + i), iv);
        if (OFFSET) t = _mm512_add_epi32(t, _mm512_set1_epi32(128));
        _mm512_mask_cvtepi32_storeu_epi8(q + i, m, t);
    }
    for (i = k; i < kp; ++i) q[i] = OFFSET ? (int8_t)0x80 : 0;
}

// Four independent maxima (max is exact in any order): one chain of dependent vmaxps
// per row was latency-bound.
__attribute__((target("avx512f"))) float max_abs(const float *x, size_t k) {
    __m512 m0 = _mm512_setzero_ps(), m1 = _mm512_setzero_ps(), m2 = _mm512_setzero_ps(), m3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= k; i += 64) {
        m0 = _mm512_max_ps(m0, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
        m1 = _mm512_max_ps(m1, _mm512_abs_ps(_mm512_loadu_ps(x + i + 16)));
        m2 = _mm512_max_ps(m2, _mm512_abs_ps(_mm512_loadu_ps(x + i + 32)));
        m3 = _mm512_max_ps(m3, _mm512_abs_ps(_mm512_loadu_ps(x + i + 48)));
    }
    for (; i < k; i += 16) {
        const size_t left = k - i;
        const __mmask16 mk = (__mmask16)(left >= 16 ? 0xFFFFu : ((1u << left) - 1u));
        m0 = _mm512_max_ps(m0, _mm512_abs_ps(_mm512_maskz_loadu_ps(mk, x + i)));
    }
    return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
}

bool has_bw() {
    static const bool bw = (vk_cpu_features() & VK_CPU_X86_AVX512BW) != 0;
    return bw;
}

template <bool OFFSET>
void quantize_row(const float *x, size_t k, float inv, int8_t *q, size_t kp) {
    if (has_bw()) quantize_row<OFFSET, true>(x, k, inv, q, kp);
    else quantize_row<OFFSET, false>(x, k, inv, q, kp);
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
