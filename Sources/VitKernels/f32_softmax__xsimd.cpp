// Row softmax in place with a scale folded in, xsimd baseline architecture.
#include "vit_kernels.h"

#include <math.h>
#include <xsimd/xsimd.hpp>

namespace {
using batch = xsimd::batch<float>;
constexpr size_t W = batch::size;
}

extern "C" void vk_f32_softmax__xsimd(size_t rows, size_t n, float *x, size_t ld, float scale) {
    const batch sv(scale);
    for (size_t r = 0; r < rows; ++r) {
        float *xr = x + r * ld;
        float mx = -INFINITY;
        for (size_t i = 0; i < n; ++i) mx = xr[i] * scale > mx ? xr[i] * scale : mx;
        const batch mv(mx);
        batch s(0.0f);
        size_t i = 0;
        for (; i + W <= n; i += W) {
            const batch e = xsimd::exp(xsimd::fms(batch::load_unaligned(xr + i), sv, mv));
            e.store_unaligned(xr + i);
            s += e;
        }
        float sum = xsimd::hadd(s);
        for (; i < n; ++i) {
            xr[i] = expf(xr[i] * scale - mx);
            sum += xr[i];
        }
        const batch inv(1.0f / sum);
        i = 0;
        for (; i + W <= n; i += W) (batch::load_unaligned(xr + i) * inv).store_unaligned(xr + i);
        for (; i < n; ++i) xr[i] *= 1.0f / sum;
    }
}
