// Row softmax in place with a scale folded in, xsimd baseline architecture, with the
// exp of f32_vmath_xsimd.h. Tails go through a vector padded with -inf (exp -> ~0,
// masked out of the sum).
#include "vit_kernels.h"
#include "f32_vmath_xsimd.h"

#include <math.h>
#include <string.h>

namespace {
constexpr size_t W = vk::fbatch::size;

float hmax(vk::fbatch v) {
    alignas(64) float t[W];
    v.store_aligned(t);
    float m = t[0];
    for (size_t i = 1; i < W; ++i) m = t[i] > m ? t[i] : m;
    return m;
}
}  // namespace

extern "C" void vk_f32_softmax__xsimd(size_t rows, size_t n, float *x, size_t ld, float scale) {
    const vk::fbatch sv(scale);
    const size_t full = n / W * W;
    for (size_t r = 0; r < rows; ++r) {
        float *xr = x + r * ld;
        alignas(64) float tail[W];
        for (size_t j = 0; j < W; ++j) tail[j] = full + j < n ? xr[full + j] : -INFINITY;
        vk::fbatch m = vk::fbatch::load_aligned(tail) * sv;
        for (size_t i = 0; i < full; i += W) m = xsimd::max(m, vk::fbatch::load_unaligned(xr + i) * sv);
        const vk::fbatch mv(hmax(m));
        vk::fbatch s(0.0f);
        for (size_t i = 0; i < full; i += W) {
            const vk::fbatch e = vk::exp(xsimd::fms(vk::fbatch::load_unaligned(xr + i), sv, mv));
            e.store_unaligned(xr + i);
            s += e;
        }
        float sum = xsimd::hadd(s);
        if (full < n) {
            vk::exp(xsimd::fms(vk::fbatch::load_aligned(tail), sv, mv)).store_aligned(tail);
            for (size_t j = 0; full + j < n; ++j) {
                xr[full + j] = tail[j];
                sum += tail[j];
            }
        }
        const vk::fbatch inv(1.0f / sum);
        for (size_t i = 0; i < full; i += W) (vk::fbatch::load_unaligned(xr + i) * inv).store_unaligned(xr + i);
        for (size_t i = full; i < n; ++i) xr[i] *= 1.0f / sum;
    }
}
