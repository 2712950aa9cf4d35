// LayerNorm over rows, xsimd baseline architecture. Two passes (mean, then the
// variance of the centred values) as PyTorch does, for the same rounding behaviour.
#include "vit_kernels.h"

#include <math.h>
#include <xsimd/xsimd.hpp>

namespace {
using batch = xsimd::batch<float>;
constexpr size_t W = batch::size;
}

extern "C" void vk_f32_layernorm__xsimd(size_t rows, size_t n, const float *x, size_t ldx,
                                        const float *gamma, const float *beta, float eps,
                                        float *y, size_t ldy) {
    for (size_t r = 0; r < rows; ++r) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        batch s(0.0f);
        size_t i = 0;
        for (; i + W <= n; i += W) s += batch::load_unaligned(xr + i);
        float sum = xsimd::hadd(s);
        for (; i < n; ++i) sum += xr[i];
        const float mean = sum / (float)n;
        const batch mv(mean);
        batch q(0.0f);
        i = 0;
        for (; i + W <= n; i += W) {
            const batch d = batch::load_unaligned(xr + i) - mv;
            q = xsimd::fma(d, d, q);
        }
        float sq = xsimd::hadd(q);
        for (; i < n; ++i) sq += (xr[i] - mean) * (xr[i] - mean);
        const float rstd = 1.0f / sqrtf(sq / (float)n + eps);
        const batch rv(rstd);
        i = 0;
        for (; i + W <= n; i += W) {
            const batch d = (batch::load_unaligned(xr + i) - mv) * rv;
            xsimd::fma(d, batch::load_unaligned(gamma + i), batch::load_unaligned(beta + i))
                .store_unaligned(yr + i);
        }
        for (; i < n; ++i) yr[i] = (xr[i] - mean) * rstd * gamma[i] + beta[i];
    }
}
