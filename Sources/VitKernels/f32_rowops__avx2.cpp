// LayerNorm, GELU and softmax with AVX2 + FMA intrinsics (8 floats per vector), for
// x86-64 CPUs without AVX-512 (Zen 2/3, Intel client cores, most mini-PCs): the xsimd
// baseline there is SSE2, a quarter of the width and without FMA.
//
// The same approximations as the AVX-512 kernels (f32_rowops__avx512f.cpp): Cephes'
// exp (2^n built in the exponent field: AVX2 has no scalef, so x is clamped to
// [-87.3, 88.0] where n stays in -126..127), the 6/5 rational erf of tools/fit_gelu.py,
// tanh through 1 / (1 + exp(-2y)). Tails go through a small stack buffer: vmaskmov
// stores are microcoded on AMD cores (perf showed the masked tails of 50-wide softmax
// rows costing more than SSE2 did).
#include "vit_kernels.h"
#include "f32_vmath_coefficients.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define VK_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

namespace {

// The first n < 8 floats at p, the other lanes `fill`.
VK_AVX2 __m256 load_tail(const float *p, size_t n, float fill) {
    alignas(32) float t[8];
    for (int i = 0; i < 8; ++i) t[i] = fill;
    for (size_t i = 0; i < n; ++i) t[i] = p[i];
    return _mm256_load_ps(t);
}

// Stores the first n < 8 lanes of v at p.
VK_AVX2 void store_tail(float *p, __m256 v, size_t n) {
    alignas(32) float t[8];
    _mm256_store_ps(t, v);
    for (size_t i = 0; i < n; ++i) p[i] = t[i];
}

VK_AVX2 __m256 exp8(__m256 x) {
    x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.0f)), _mm256_set1_ps(-87.3365447504f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(vk::coef::kLog2e)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(vk::coef::kLn2Hi), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(vk::coef::kLn2Lo), r);
    __m256 p = _mm256_set1_ps(vk::coef::kExp[0]);
    for (int i = 1; i < 6; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(vk::coef::kExp[i]));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // 2^n: n + 127 in the exponent field (n in -126..127 after the clamp).
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// 1/d for d >= 1: rcp (12 bits) and one Newton step (~22 bits; a divide costs more).
VK_AVX2 __m256 recip(__m256 d) {
    const __m256 r = _mm256_rcp_ps(d);
    return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f)), r);
}

VK_AVX2 __m256 gelu_erf8(__m256 x) {
    const __m256 lim = _mm256_set1_ps(vk::coef::kErfClamp);
    const __m256 t = _mm256_max_ps(_mm256_min_ps(_mm256_mul_ps(x, _mm256_set1_ps(vk::coef::kInvSqrt2)), lim),
                                   _mm256_sub_ps(_mm256_setzero_ps(), lim));
    const __m256 u = _mm256_mul_ps(t, t);
    __m256 p = _mm256_set1_ps(vk::coef::kErfP[0]), q = _mm256_set1_ps(vk::coef::kErfQ[0]);
    for (int i = 1; i < 6; ++i) {
        p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(vk::coef::kErfP[i]));
        q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(vk::coef::kErfQ[i]));
    }
    const __m256 erf = _mm256_mul_ps(_mm256_mul_ps(t, p), recip(q));
    const __m256 h = _mm256_mul_ps(_mm256_set1_ps(0.5f), x);
    return _mm256_fmadd_ps(h, erf, h);
}

VK_AVX2 __m256 gelu_tanh8(__m256 x) {
    const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    const __m256 y = _mm256_mul_ps(_mm256_set1_ps(-2.0f * vk::coef::kSqrt2OverPi),
                                   _mm256_fmadd_ps(x3, _mm256_set1_ps(vk::coef::kGeluCubic), x));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), exp8(y)));
}

// CLIP's quick_gelu: x / (1 + exp(−1.702·x)).
VK_AVX2 __m256 gelu_quick8(__m256 x) {
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), exp8(_mm256_mul_ps(_mm256_set1_ps(-1.702f), x))));
}

template <__m256 (*F)(__m256)>
__attribute__((target("avx2,fma"))) void map(float *x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 a = F(_mm256_loadu_ps(x + i)), b = F(_mm256_loadu_ps(x + i + 8));
        _mm256_storeu_ps(x + i, a);
        _mm256_storeu_ps(x + i + 8, b);
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, F(_mm256_loadu_ps(x + i)));
    if (i < n) store_tail(x + i, F(load_tail(x + i, n - i, 0.0f)), n - i);
}

VK_AVX2 float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

VK_AVX2 float hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// R rows at once, so the per-row reductions of short rows overlap.
template <int R>
__attribute__((target("avx2,fma"))) void softmax_rows(float *x, size_t ld, size_t n, float scale) {
    const __m256 sv = _mm256_set1_ps(scale);
    const size_t full = n & ~(size_t)7, tail = n - full;
    __m256 mx[R], s[R];
    for (int r = 0; r < R; ++r) mx[r] = _mm256_set1_ps(-INFINITY), s[r] = _mm256_setzero_ps();
    for (size_t i = 0; i < full; i += 8)
        for (int r = 0; r < R; ++r) mx[r] = _mm256_max_ps(mx[r], _mm256_mul_ps(_mm256_loadu_ps(x + r * ld + i), sv));
    if (tail)
        for (int r = 0; r < R; ++r)
            mx[r] = _mm256_max_ps(mx[r], _mm256_mul_ps(load_tail(x + r * ld + full, tail, -INFINITY), sv));
    for (int r = 0; r < R; ++r) mx[r] = _mm256_set1_ps(hmax(mx[r]));
    for (size_t i = 0; i < full; i += 8)
        for (int r = 0; r < R; ++r) {
            const __m256 e = exp8(_mm256_fmsub_ps(_mm256_loadu_ps(x + r * ld + i), sv, mx[r]));
            _mm256_storeu_ps(x + r * ld + i, e);
            s[r] = _mm256_add_ps(s[r], e);
        }
    if (tail)
        for (int r = 0; r < R; ++r) {
            // Lanes past the row hold -inf: exp gives 0 there (the clamp keeps it finite, then the blend).
            const __m256 v = load_tail(x + r * ld + full, tail, -INFINITY);
            const __m256 keep = _mm256_cmp_ps(v, _mm256_set1_ps(-INFINITY), _CMP_NEQ_OQ);
            const __m256 e = _mm256_and_ps(exp8(_mm256_fmsub_ps(v, sv, mx[r])), keep);
            store_tail(x + r * ld + full, e, tail);
            s[r] = _mm256_add_ps(s[r], e);
        }
    for (int r = 0; r < R; ++r) s[r] = _mm256_set1_ps(1.0f / hsum(s[r]));
    for (size_t i = 0; i < full; i += 8)
        for (int r = 0; r < R; ++r) _mm256_storeu_ps(x + r * ld + i, _mm256_mul_ps(_mm256_loadu_ps(x + r * ld + i), s[r]));
    if (tail)
        for (int r = 0; r < R; ++r)
            for (size_t i = full; i < n; ++i) x[r * ld + i] *= _mm256_cvtss_f32(s[r]);
}

}  // namespace

extern "C" void vk_f32_gelu_erf__avx2_fma(float *x, size_t n) { map<gelu_erf8>(x, n); }
extern "C" void vk_f32_gelu_tanh__avx2_fma(float *x, size_t n) { map<gelu_tanh8>(x, n); }
extern "C" void vk_f32_gelu_quick__avx2_fma(float *x, size_t n) { map<gelu_quick8>(x, n); }

extern "C" void vk_f32_softmax__avx2_fma(size_t rows, size_t n, float *x, size_t ld, float scale) {
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) softmax_rows<4>(x + r * ld, ld, n, scale);
    for (; r < rows; ++r) softmax_rows<1>(x + r * ld, ld, n, scale);
}

extern "C" __attribute__((target("avx2,fma"))) void vk_f32_layernorm__avx2_fma(size_t rows, size_t n, const float *x,
                                                                              size_t ldx, const float *gamma,
                                                                              const float *beta, float eps, float *y,
                                                                              size_t ldy) {
    for (size_t r = 0; r < rows; ++r) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        const size_t full = n & ~(size_t)7, tail = n - full;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        size_t i = 0;
        for (; i + 16 <= full; i += 16) {
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + i));
            s1 = _mm256_add_ps(s1, _mm256_loadu_ps(xr + i + 8));
        }
        for (; i < full; i += 8) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + i));
        if (tail) s1 = _mm256_add_ps(s1, load_tail(xr + full, tail, 0.0f));
        const float mean = hsum(_mm256_add_ps(s0, s1)) / (float)n;
        const __m256 mv = _mm256_set1_ps(mean);
        __m256 q0 = _mm256_setzero_ps(), q1 = _mm256_setzero_ps();
        for (i = 0; i + 16 <= full; i += 16) {
            const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(xr + i), mv), d1 = _mm256_sub_ps(_mm256_loadu_ps(xr + i + 8), mv);
            q0 = _mm256_fmadd_ps(d0, d0, q0);
            q1 = _mm256_fmadd_ps(d1, d1, q1);
        }
        for (; i < full; i += 8) {
            const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + i), mv);
            q0 = _mm256_fmadd_ps(d, d, q0);
        }
        if (tail) {
            const __m256 d = _mm256_sub_ps(load_tail(xr + full, tail, mean), mv);  // the fill adds 0
            q1 = _mm256_fmadd_ps(d, d, q1);
        }
        const float rstd = 1.0f / sqrtf(hsum(_mm256_add_ps(q0, q1)) / (float)n + eps);
        const __m256 rv = _mm256_set1_ps(rstd);
        for (i = 0; i < full; i += 8) {
            const __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), mv), rv);
            _mm256_storeu_ps(yr + i, _mm256_fmadd_ps(d, _mm256_loadu_ps(gamma + i), _mm256_loadu_ps(beta + i)));
        }
        for (; i < n; ++i) yr[i] = (xr[i] - mean) * rstd * gamma[i] + beta[i];
    }
}

#else
extern "C" void vk_f32_gelu_erf__avx2_fma(float *, size_t) { __builtin_trap(); }
extern "C" void vk_f32_gelu_tanh__avx2_fma(float *, size_t) { __builtin_trap(); }
extern "C" void vk_f32_gelu_quick__avx2_fma(float *, size_t) { __builtin_trap(); }
extern "C" void vk_f32_softmax__avx2_fma(size_t, size_t, float *, size_t, float) { __builtin_trap(); }
extern "C" void vk_f32_layernorm__avx2_fma(size_t, size_t, const float *, size_t, const float *, const float *, float,
                                           float *, size_t) {
    __builtin_trap();
}
#endif
