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

// Per column (int8 attention's V per channel), 64 columns a pass: their maxima over
// the rows, then each row's 64 values times the columns' inverses, as
// vk_qs8_quantize_columns__xsimd defines (the same products, rounding and clamps).
template <bool BW>
__attribute__((target("avx512f,avx512bw"))) void quantize_columns(size_t rows, size_t cols, const float *x, size_t ldx,
                                                                 int8_t *q, size_t ldq, float *scale) {
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    for (size_t c0 = 0; c0 < cols; c0 += 64) {
        const size_t nc = cols - c0 < 64 ? cols - c0 : 64;
        __mmask16 mk[4];
        for (size_t v = 0; v < 4; ++v) {
            const size_t left = nc > 16 * v ? nc - 16 * v : 0;
            mk[v] = (__mmask16)(left >= 16 ? 0xFFFFu : ((1u << left) - 1u));
        }
        __m512 m[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (size_t r = 0; r < rows; ++r)
            for (size_t v = 0; v < 4; ++v)
                m[v] = _mm512_max_ps(m[v], _mm512_abs_ps(_mm512_maskz_loadu_ps(mk[v], x + r * ldx + c0 + 16 * v)));
        alignas(64) float mx[64], inv[64];
        for (size_t v = 0; v < 4; ++v) _mm512_store_ps(mx + 16 * v, m[v]);
        for (size_t c = 0; c < nc; ++c) {
            scale[c0 + c] = mx[c] == 0.0f ? 1.0f : mx[c] / 127.0f;
            inv[c] = mx[c] == 0.0f ? 0.0f : 127.0f / mx[c];
        }
        const __m512 iv[4] = {_mm512_load_ps(inv), _mm512_load_ps(inv + 16), _mm512_load_ps(inv + 32), _mm512_load_ps(inv + 48)};
        for (size_t r = 0; r < rows; ++r) {
            const float *xr = x + r * ldx + c0;
            int8_t *qr = q + r * ldq + c0;
            if (BW && nc == 64) {
                const __m512i a = quantize16(_mm512_loadu_ps(xr), iv[0]), b = quantize16(_mm512_loadu_ps(xr + 16), iv[1]);
                const __m512i c = quantize16(_mm512_loadu_ps(xr + 32), iv[2]), d = quantize16(_mm512_loadu_ps(xr + 48), iv[3]);
                const __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
                _mm512_storeu_si512(qr, _mm512_permutexvar_epi32(order, bytes));
            } else {
                for (size_t v = 0; v < 4 && 16 * v < nc; ++v)
                    _mm512_mask_cvtepi32_storeu_epi8(qr + 16 * v, mk[v], quantize16(_mm512_maskz_loadu_ps(mk[v], xr + 16 * v), iv[v]));
            }
        }
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
extern "C" void vk_qs8_quantize_columns__avx512f(size_t rows, size_t cols, const float *x, size_t ldx, int8_t *q,
                                                 size_t ldq, float *scale) {
    if (has_bw()) quantize_columns<true>(rows, cols, x, ldx, q, ldq, scale);
    else quantize_columns<false>(rows, cols, x, ldx, q, ldq, scale);
}
#else
extern "C" void vk_qs8_quantize_columns__avx512f(size_t, size_t, const float *, size_t, int8_t *, size_t, float *) {
    __builtin_trap();
}
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
