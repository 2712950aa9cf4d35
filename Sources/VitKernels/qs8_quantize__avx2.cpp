// Activation quantization, AVX2: max |x| per row, then rint(x * inv) clamped to +-127
// and narrowed, 32 values per step. Bit-identical to the reference: the products are
// plain float multiplies (no FMA) and cvtps2dq rounds to nearest even, as rint does.
#include "vit_kernels.h"

#include <math.h>

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__)
#include <immintrin.h>

namespace {

// Clamping before rounding gives what rounding then clamping gives for every finite
// value (|v| <= 127 stays, beyond it both give +-127) and keeps the conversion in range.
__attribute__((target("avx2"))) inline __m256i quantize8(const float *x, __m256 iv) {
    const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x), iv);
    const __m256 c = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
    return _mm256_cvtps_epi32(c);
}

// OFFSET: store q + 128 as uint8 (the w7 GEMM's unsigned input); padding is 128.
template <bool OFFSET>
__attribute__((target("avx2"))) void quantize_row(const float *x, size_t k, float inv, int8_t *q, size_t kp) {
    const __m256 iv = _mm256_set1_ps(inv);
    // packs works within 128-bit lanes: this permutation puts the 32 bytes back in order.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    size_t i = 0;
    for (; i + 32 <= k; i += 32) {
        const __m256i a = quantize8(x + i, iv), b = quantize8(x + i + 8, iv);
        const __m256i c = quantize8(x + i + 16, iv), d = quantize8(x + i + 24, iv);
        __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
        if (OFFSET) bytes = _mm256_xor_si256(bytes, _mm256_set1_epi8((char)0x80));  // q + 128 as uint8
        _mm256_storeu_si256((__m256i *)(q + i), _mm256_permutevar8x32_epi32(bytes, order));
    }
    for (; i < k; ++i) {
        float v = rintf(x[i] * inv);
        v = v < -127.0f ? -127.0f : (v > 127.0f ? 127.0f : v);
        q[i] = (int8_t)((int)v ^ (OFFSET ? 0x80 : 0));
    }
    for (; i < kp; ++i) q[i] = OFFSET ? (int8_t)0x80 : 0;
}

__attribute__((target("avx2"))) float max_abs(const float *x, size_t k) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m0 = _mm256_setzero_ps(), m1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= k; i += 16) {
        m0 = _mm256_max_ps(m0, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
        m1 = _mm256_max_ps(m1, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i + 8)));
    }
    m0 = _mm256_max_ps(m0, m1);
    float out[8];
    _mm256_storeu_ps(out, m0);
    float m = 0.0f;
    for (int j = 0; j < 8; ++j) m = out[j] > m ? out[j] : m;
    for (; i < k; ++i) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    return m;
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

extern "C" void vk_qs8_quantize_rows__avx2(size_t rows, size_t k, const float *x, size_t ldx, int8_t *q, size_t ldq,
                                           float *scale) {
    quantize_rows<false>(rows, k, x, ldx, q, ldq, scale);
}
extern "C" void vk_qs8_quantize_rows_static__avx2(size_t rows, size_t k, const float *x, size_t ldx, float s,
                                                  int8_t *q, size_t ldq, float *scale) {
    quantize_rows_static<false>(rows, k, x, ldx, s, q, ldq, scale);
}
extern "C" void vk_qs8_quantize_rows_u8__avx2(size_t rows, size_t k, const float *x, size_t ldx, int8_t *q,
                                              size_t ldq, float *scale) {
    quantize_rows<true>(rows, k, x, ldx, q, ldq, scale);
}
extern "C" void vk_qs8_quantize_rows_static_u8__avx2(size_t rows, size_t k, const float *x, size_t ldx, float s,
                                                     int8_t *q, size_t ldq, float *scale) {
    quantize_rows_static<true>(rows, k, x, ldx, s, q, ldq, scale);
}
#else
extern "C" void vk_qs8_quantize_rows__avx2(size_t, size_t, const float *, size_t, int8_t *, size_t, float *) {
    __builtin_trap();
}
extern "C" void vk_qs8_quantize_rows_u8__avx2(size_t, size_t, const float *, size_t, int8_t *, size_t, float *) {
    __builtin_trap();
}
extern "C" void vk_qs8_quantize_rows_static_u8__avx2(size_t, size_t, const float *, size_t, float, int8_t *, size_t,
                                                     float *) {
    __builtin_trap();
}
extern "C" void vk_qs8_quantize_rows_static__avx2(size_t, size_t, const float *, size_t, float, int8_t *, size_t,
                                                  float *) {
    __builtin_trap();
}
#endif
