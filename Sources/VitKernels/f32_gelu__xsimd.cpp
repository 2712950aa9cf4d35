// GELU in place, xsimd baseline architecture: exact (erf), tanh and quick forms, with the
// approximations of f32_vmath_xsimd.h (xsimd's own erf/tanh are exact but 4-10x slower).
#include "vit_kernels.h"
#include "f32_vmath_xsimd.h"

#include <string.h>

namespace {
constexpr size_t W = vk::fbatch::size;

template <vk::fbatch (*F)(vk::fbatch)>
void map(float *x, size_t n) {
    size_t i = 0;
    for (; i + W <= n; i += W) F(vk::fbatch::load_unaligned(x + i)).store_unaligned(x + i);
    if (i < n) {  // the tail through a zero-padded vector
        alignas(64) float tmp[W] = {0};
        memcpy(tmp, x + i, (n - i) * sizeof(float));
        F(vk::fbatch::load_aligned(tmp)).store_aligned(tmp);
        memcpy(x + i, tmp, (n - i) * sizeof(float));
    }
}
}  // namespace

extern "C" void vk_f32_gelu_erf__xsimd(float *x, size_t n) { map<vk::gelu_erf>(x, n); }
extern "C" void vk_f32_gelu_tanh__xsimd(float *x, size_t n) { map<vk::gelu_tanh>(x, n); }
extern "C" void vk_f32_gelu_quick__xsimd(float *x, size_t n) { map<vk::gelu_quick>(x, n); }
