// GELU in place, xsimd baseline architecture: exact (erf) and tanh forms.
#include "vit_kernels.h"

#include <math.h>
#include <xsimd/xsimd.hpp>

namespace {
using batch = xsimd::batch<float>;
constexpr size_t W = batch::size;
}

extern "C" void vk_f32_gelu_erf__xsimd(float *x, size_t n) {
    const batch half(0.5f), one(1.0f), rsqrt2(0.70710678118654752f);
    size_t i = 0;
    for (; i + W <= n; i += W) {
        const batch v = batch::load_unaligned(x + i);
        (half * v * (one + xsimd::erf(v * rsqrt2))).store_unaligned(x + i);
    }
    for (; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

extern "C" void vk_f32_gelu_tanh__xsimd(float *x, size_t n) {
    const float k0 = 0.79788456080286536f;  // sqrt(2 / pi)
    const float k1 = 0.044715f;
    const batch half(0.5f), one(1.0f), c0(k0), c1(k1);
    size_t i = 0;
    for (; i + W <= n; i += W) {
        const batch v = batch::load_unaligned(x + i);
        const batch inner = c0 * (v + c1 * v * v * v);
        (half * v * (one + xsimd::tanh(inner))).store_unaligned(x + i);
    }
    for (; i < n; ++i) {
        const float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(k0 * (v + k1 * v * v * v)));
    }
}
