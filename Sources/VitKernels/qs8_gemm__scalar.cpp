// int8 GEMM, 4x16 tile, portable C++ (every CPU; the compiler may vectorize it).
#include "qs8_gemm_driver.h"

namespace {

template <int MR>
void ukernel(size_t kg, const int8_t *a, size_t lda, const int8_t *panel, const int32_t *, size_t nr, const vk::qs8_epilogue &e) {
    int32_t acc[MR][VK_QS8_NR] = {};
    for (size_t g = 0; g < kg; ++g) {
        const int8_t *w = panel + g * 64;
        for (int r = 0; r < MR; ++r) {
            const int8_t *ar = a + r * lda + g * 4;
            for (size_t j = 0; j < VK_QS8_NR; ++j) {
                acc[r][j] += ar[0] * w[j * 4] + ar[1] * w[j * 4 + 1] + ar[2] * w[j * 4 + 2] + ar[3] * w[j * 4 + 3];
            }
        }
    }
    for (int r = 0; r < MR; ++r) vk::qs8_store_row(acc[r], nr, e.a_scale[r], e, e.y + r * e.ldy);
}

const vk::qs8_ukernel kUkernels[4] = {ukernel<1>, ukernel<2>, ukernel<3>, ukernel<4>};

}  // namespace

extern "C" void vk_qs8_gemm_4x16__scalar(VK_QS8_GEMM_ARGS) {
    vk::qs8_gemm_drive<4>(kUkernels, m, n, k, a, lda, packed, a_scale, w_scale, bias, y, ldy, accumulate);
}
