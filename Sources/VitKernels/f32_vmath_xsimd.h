// exp and the GELU erf approximation on xsimd's baseline batch (SSE2 on x86-64, NEON
// on ARM64): the same algorithms as the AVX-512 kernels (f32_rowops__avx512f.cpp), so
// every route rounds alike within an ulp or two. Private header.
#pragma once
#include <stdint.h>
#include <xsimd/xsimd.hpp>

#include "f32_vmath_coefficients.h"

namespace vk {

using fbatch = xsimd::batch<float>;
using ibatch = xsimd::batch<int32_t>;

// Cephes' expf: x = n·ln2 + r, degree-6 polynomial on |r| <= ln2/2, 2^n through the
// exponent bits. Inputs are clamped to [-87, 88] (results ~1e-38 ... 1.7e38).
inline fbatch exp(fbatch x) {
    x = xsimd::max(xsimd::min(x, fbatch(88.0f)), fbatch(-87.0f));
    // Round x·log2(e) to an integer by adding 1.5·2^23 (SSE2 has no rounding
    // instruction); the sum's low bits then hold n itself, for the exponent below.
    const fbatch magic(12582912.0f);
    const fbatch t = xsimd::fma(x, fbatch(coef::kLog2e), magic);
    const fbatch n = t - magic;
    fbatch r = xsimd::fnma(n, fbatch(coef::kLn2Hi), x);
    r = xsimd::fnma(n, fbatch(coef::kLn2Lo), r);
    fbatch p(coef::kExp[0]);
    for (int i = 1; i < 6; ++i) p = xsimd::fma(p, r, fbatch(coef::kExp[i]));
    p = xsimd::fma(p, r * r, r + fbatch(1.0f));
    const ibatch e = xsimd::bitwise_cast<ibatch>(t) << 23;
    return xsimd::bitwise_cast<fbatch>(xsimd::bitwise_cast<ibatch>(p) + e);
}

// 0.5·x·(1 + erf(x/√2)) with the 6/5 rational erf of tools/fit_gelu.py.
inline fbatch gelu_erf(fbatch x) {
    const fbatch t = xsimd::max(xsimd::min(x * fbatch(coef::kInvSqrt2), fbatch(coef::kErfClamp)), fbatch(-coef::kErfClamp));
    const fbatch u = t * t;
    fbatch p(coef::kErfP[0]), q(coef::kErfQ[0]);
    for (int i = 1; i < 6; ++i) p = xsimd::fma(p, u, fbatch(coef::kErfP[i])), q = xsimd::fma(q, u, fbatch(coef::kErfQ[i]));
    const fbatch h = fbatch(0.5f) * x;
    return xsimd::fma(h, (t * p) / q, h);
}

// x · sigmoid(2·√(2/π)·(x + 0.044715·x³)) = 0.5·x·(1 + tanh(...)), no cancellation.
inline fbatch gelu_tanh(fbatch x) {
    const fbatch y = fbatch(-2.0f * coef::kSqrt2OverPi) * xsimd::fma(x * x * x, fbatch(coef::kGeluCubic), x);
    return x / (fbatch(1.0f) + vk::exp(y));
}

// CLIP's quick_gelu: x · sigmoid(1.702·x) = x / (1 + exp(−1.702·x)).
inline fbatch gelu_quick(fbatch x) { return x / (fbatch(1.0f) + vk::exp(fbatch(-1.702f) * x)); }

}  // namespace vk
