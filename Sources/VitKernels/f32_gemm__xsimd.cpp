// fp32 GEMM, 4x16 register tile, xsimd's baseline architecture (SSE2 on x86-64,
// NEON on ARM64): the portable fast path, available on every CPU of the target.
#include "f32_gemm_driver.h"

#include <string.h>
#include <xsimd/xsimd.hpp>

namespace {

using batch = xsimd::batch<float>;
constexpr size_t W = batch::size;
constexpr size_t V = VK_F32_NR / W;  // vectors per row of the tile

template <int MR>
void ukernel(size_t kc, const float *a, size_t lda, const float *panel, size_t stride, float *c, size_t ldc,
             size_t nr, const float *bias, int load_c) {
    batch acc[MR][V];
    alignas(64) float tmp[VK_F32_NR];
    batch bv[V];
    memset(tmp, 0, sizeof tmp);
    if (bias) memcpy(tmp, bias, nr * sizeof(float));
    for (size_t v = 0; v < V; ++v) bv[v] = batch::load_aligned(tmp + v * W);
    for (int r = 0; r < MR; ++r) {
        if (load_c) {
            memset(tmp, 0, sizeof tmp);
            memcpy(tmp, c + r * ldc, nr * sizeof(float));
            for (size_t v = 0; v < V; ++v) acc[r][v] = batch::load_aligned(tmp + v * W) + bv[v];
        } else {
            for (size_t v = 0; v < V; ++v) acc[r][v] = bv[v];
        }
    }
    for (size_t p = 0; p < kc; ++p) {
        batch b[V];
        for (size_t v = 0; v < V; ++v) b[v] = batch::load_unaligned(panel + p * stride + v * W);
        for (int r = 0; r < MR; ++r) {
            const batch av(a[r * lda + p]);
            for (size_t v = 0; v < V; ++v) acc[r][v] = xsimd::fma(av, b[v], acc[r][v]);
        }
    }
    for (int r = 0; r < MR; ++r) {
        for (size_t v = 0; v < V; ++v) acc[r][v].store_aligned(tmp + v * W);
        memcpy(c + r * ldc, tmp, nr * sizeof(float));
    }
}

const vk::f32_ukernel kUkernels[4] = {ukernel<1>, ukernel<2>, ukernel<3>, ukernel<4>};

}  // namespace

extern "C" void vk_f32_gemm_4x16__xsimd(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                        const float *packed, const float *bias, float *c,
                                        size_t ldc, int accumulate) {
    vk::f32_gemm_drive<4>(kUkernels, m, n, k, a, lda, packed, 0, bias, c, ldc, accumulate);
}

extern "C" void vk_f32_gemm_kn_4x16__xsimd(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
                   size_t ldb, const float *bias, float *c, size_t ldc, int accumulate) {
    vk::f32_gemm_drive<4>(kUkernels, m, n, k, a, lda, b, ldb, bias, c, ldc, accumulate);
}
