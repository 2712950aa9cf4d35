// LayerNorm, GELU and softmax with AVX-512F intrinsics (16 floats per vector,
// masked tails). xsimd 8.1 enables its AVX-512 batches only for a whole translation
// unit compiled with -mavx512f, which this package avoids (run-time selection by
// function target attributes), so these are written with intrinsics.
//
// exp: Cephes' range reduction x = n·ln2 + r (ln2 split in two), a degree-6
// polynomial on |r| <= ln2/2 and 2^n by scalef: about 1 ulp on [-87, 88].
// GELU (erf form) uses a rational approximation of erf (below); the tanh form uses 0.5·(1 + tanh(y)) = 1 / (1 + exp(-2y)), which has no cancellation.
#include "vit_kernels.h"
#include "f32_vmath_coefficients.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define VK_AVX512 __attribute__((target("avx512f"), always_inline)) inline

namespace {

VK_AVX512 __mmask16 tail_mask(size_t left) {
    return (__mmask16)(left >= 16 ? 0xFFFFu : ((1u << left) - 1u));
}

VK_AVX512 __m512 exp16(__m512 x) {
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.3762626647949f)), _mm512_set1_ps(-87.3365447504f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(vk::coef::kLog2e)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(vk::coef::kLn2Hi), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(vk::coef::kLn2Lo), r);
    __m512 p = _mm512_set1_ps(vk::coef::kExp[0]);
    for (int i = 1; i < 6; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(vk::coef::kExp[i]));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

// 1/d for d >= 1: rcp14 and one Newton step (~1 ulp; a divide costs several times more).
VK_AVX512 __m512 recip(__m512 d) {
    const __m512 r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)), r);
}

// 0.5·x·(1 + erf(t)), t = x/√2 clamped to ±3.92 (beyond it erf rounds to ±1), with
// erf(t) = t·P(t²)/Q(t²), a 6/5 rational fitted to erf on [0, 3.92] (Loeb's
// iteration, tools/fit_gelu.py): 17 multiply-adds and a reciprocal, half the work of
// erfc·exp. Error ≤ 2.1 ulp of max(1, |x|) over [-8, 8] in float32.
VK_AVX512 __m512 gelu_erf16(__m512 x) {
    const __m512 lim = _mm512_set1_ps(vk::coef::kErfClamp);
    const __m512 t = _mm512_max_ps(_mm512_min_ps(_mm512_mul_ps(x, _mm512_set1_ps(vk::coef::kInvSqrt2)), lim),
                                   _mm512_sub_ps(_mm512_setzero_ps(), lim));
    const __m512 u = _mm512_mul_ps(t, t);
    __m512 p = _mm512_set1_ps(vk::coef::kErfP[0]), q = _mm512_set1_ps(vk::coef::kErfQ[0]);
    for (int i = 1; i < 6; ++i) {
        p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(vk::coef::kErfP[i]));
        q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(vk::coef::kErfQ[i]));
    }
    const __m512 erf = _mm512_mul_ps(_mm512_mul_ps(t, p), recip(q));
    const __m512 h = _mm512_mul_ps(_mm512_set1_ps(0.5f), x);
    return _mm512_fmadd_ps(h, erf, h);
}

// x · sigmoid(2·√(2/π)·(x + 0.044715·x³))
VK_AVX512 __m512 gelu_tanh16(__m512 x) {
    const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
    const __m512 y = _mm512_mul_ps(_mm512_set1_ps(-2.0f * vk::coef::kSqrt2OverPi),
                                   _mm512_fmadd_ps(x3, _mm512_set1_ps(vk::coef::kGeluCubic), x));
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(y)));
}

// CLIP's quick_gelu: x / (1 + exp(−1.702·x)).
VK_AVX512 __m512 gelu_quick16(__m512 x) {
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(_mm512_mul_ps(_mm512_set1_ps(-1.702f), x))));
}

template <__m512 (*F)(__m512)>
__attribute__((target("avx512f"))) void map(float *x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, F(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(x + i, m, F(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

}  // namespace

extern "C" void vk_f32_gelu_erf__avx512f(float *x, size_t n) { map<gelu_erf16>(x, n); }
extern "C" void vk_f32_gelu_tanh__avx512f(float *x, size_t n) { map<gelu_tanh16>(x, n); }
extern "C" void vk_f32_gelu_quick__avx512f(float *x, size_t n) { map<gelu_quick16>(x, n); }

namespace {

// Softmax of R rows at once: short rows (50 or 197 values) are latency-bound on the
// two horizontal reductions per row; R independent rows let them overlap.
template <int R>
__attribute__((target("avx512f"))) void softmax_rows(float *x, size_t ld, size_t n, float scale) {
    const __m512 sv = _mm512_set1_ps(scale);
    __m512 mx[R], s[R];
    for (int r = 0; r < R; ++r) mx[r] = _mm512_set1_ps(-INFINITY), s[r] = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        for (int r = 0; r < R; ++r)
            mx[r] = _mm512_mask_max_ps(mx[r], m, mx[r], _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + r * ld + i), sv));
    }
    for (int r = 0; r < R; ++r) mx[r] = _mm512_set1_ps(_mm512_reduce_max_ps(mx[r]));
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        for (int r = 0; r < R; ++r) {
            const __m512 e = exp16(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m, x + r * ld + i), sv, mx[r]));
            _mm512_mask_storeu_ps(x + r * ld + i, m, e);
            s[r] = _mm512_mask_add_ps(s[r], m, s[r], e);
        }
    }
    for (int r = 0; r < R; ++r) s[r] = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(s[r]));
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        for (int r = 0; r < R; ++r)
            _mm512_mask_storeu_ps(x + r * ld + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + r * ld + i), s[r]));
    }
}

}  // namespace

extern "C" void vk_f32_softmax__avx512f(size_t rows, size_t n, float *x, size_t ld, float scale) {
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) softmax_rows<4>(x + r * ld, ld, n, scale);
    for (; r < rows; ++r) softmax_rows<1>(x + r * ld, ld, n, scale);
}

extern "C" __attribute__((target("avx512f"))) void vk_f32_layernorm__avx512f(size_t rows, size_t n, const float *x,
                                                                            size_t ldx, const float *gamma,
                                                                            const float *beta, float eps, float *y,
                                                                            size_t ldy) {
    for (size_t r = 0; r < rows; ++r) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        __m512 s = _mm512_setzero_ps();
        for (size_t i = 0; i < n; i += 16) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(tail_mask(n - i), xr + i));
        const float mean = _mm512_reduce_add_ps(s) / (float)n;
        const __m512 mv = _mm512_set1_ps(mean);
        __m512 q = _mm512_setzero_ps();
        for (size_t i = 0; i < n; i += 16) {
            const __mmask16 m = tail_mask(n - i);
            const __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, xr + i), mv);
            q = _mm512_fmadd_ps(d, d, q);
        }
        const __m512 rv = _mm512_set1_ps(1.0f / sqrtf(_mm512_reduce_add_ps(q) / (float)n + eps));
        for (size_t i = 0; i < n; i += 16) {
            const __mmask16 m = tail_mask(n - i);
            const __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xr + i), mv), rv);
            _mm512_mask_storeu_ps(yr + i, m, _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(m, gamma + i),
                                                             _mm512_maskz_loadu_ps(m, beta + i)));
        }
    }
}

#else
extern "C" void vk_f32_gelu_erf__avx512f(float *, size_t) { __builtin_trap(); }
extern "C" void vk_f32_gelu_tanh__avx512f(float *, size_t) { __builtin_trap(); }
extern "C" void vk_f32_gelu_quick__avx512f(float *, size_t) { __builtin_trap(); }
extern "C" void vk_f32_softmax__avx512f(size_t, size_t, float *, size_t, float) { __builtin_trap(); }
extern "C" void vk_f32_layernorm__avx512f(size_t, size_t, const float *, size_t, const float *, const float *, float,
                                          float *, size_t) {
    __builtin_trap();
}
#endif
