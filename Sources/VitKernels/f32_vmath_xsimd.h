// exp and the GELU erf approximation on xsimd's baseline batch (SSE2 on x86-64, NEON
// on ARM64): the same algorithms as the AVX-512 kernels (f32_rowops__avx512f.cpp), so
// every route rounds alike within an ulp or two. Private header.
#pragma once
#include <stdint.h>
#include <xsimd/xsimd.hpp>

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
    const fbatch t = xsimd::fma(x, fbatch(1.44269504088896341f), magic);
    const fbatch n = t - magic;
    fbatch r = xsimd::fnma(n, fbatch(0.693359375f), x);
    r = xsimd::fnma(n, fbatch(-2.12194440e-4f), r);
    fbatch p(1.9875691500e-4f);
    p = xsimd::fma(p, r, fbatch(1.3981999507e-3f));
    p = xsimd::fma(p, r, fbatch(8.3334519073e-3f));
    p = xsimd::fma(p, r, fbatch(4.1665795894e-2f));
    p = xsimd::fma(p, r, fbatch(1.6666665459e-1f));
    p = xsimd::fma(p, r, fbatch(5.0000001201e-1f));
    p = xsimd::fma(p, r * r, r + fbatch(1.0f));
    const ibatch e = xsimd::bitwise_cast<ibatch>(t) << 23;
    return xsimd::bitwise_cast<fbatch>(xsimd::bitwise_cast<ibatch>(p) + e);
}

// 0.5·x·(1 + erf(x/√2)) with the 6/5 rational erf of tools/fit_gelu.py.
inline fbatch gelu_erf(fbatch x) {
    const fbatch t = xsimd::max(xsimd::min(x * fbatch(0.70710678118654752f), fbatch(3.92f)), fbatch(-3.92f));
    const fbatch u = t * t;
    fbatch p(2.090952420985559e-06f);
    p = xsimd::fma(p, u, fbatch(0.00028652598848566413f));
    p = xsimd::fma(p, u, fbatch(0.00372931151650846f));
    p = xsimd::fma(p, u, fbatch(0.05264107137918472f));
    p = xsimd::fma(p, u, fbatch(0.18923436105251312f));
    p = xsimd::fma(p, u, fbatch(1.1283791065216064f));
    fbatch q(3.86016872653272e-05f);
    q = xsimd::fma(q, u, fbatch(0.0011583977611735463f));
    q = xsimd::fma(q, u, fbatch(0.014893033541738987f));
    q = xsimd::fma(q, u, fbatch(0.11366835981607437f));
    q = xsimd::fma(q, u, fbatch(0.5010368227958679f));
    q = xsimd::fma(q, u, fbatch(1.0f));
    const fbatch h = fbatch(0.5f) * x;
    return xsimd::fma(h, (t * p) / q, h);
}

// x · sigmoid(2·√(2/π)·(x + 0.044715·x³)) = 0.5·x·(1 + tanh(...)), no cancellation.
inline fbatch gelu_tanh(fbatch x) {
    const fbatch y = fbatch(-2.0f * 0.79788456080286536f) * xsimd::fma(x * x * x, fbatch(0.044715f), x);
    return x / (fbatch(1.0f) + vk::exp(y));
}

}  // namespace vk
