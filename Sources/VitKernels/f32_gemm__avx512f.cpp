// fp32 GEMM, 12x16 register tile, AVX-512F (one zmm per row, 12 accumulators).
#include "f32_gemm_driver.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace {

template <int MR>
__attribute__((target("avx512f"))) void ukernel(size_t kc, const float *a, size_t lda,
                                                const float *panel, size_t stride, float *c, size_t ldc,
                                                size_t nr, const float *bias, int load_c) {
    const __mmask16 mask = (__mmask16)((nr >= 16) ? 0xFFFFu : ((1u << nr) - 1u));
    __m512 acc[MR];
    const __m512 b0 = bias ? _mm512_maskz_loadu_ps(mask, bias) : _mm512_setzero_ps();
    for (int r = 0; r < MR; ++r) {
        acc[r] = load_c ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask, c + r * ldc), b0) : b0;
    }
    for (size_t p = 0; p < kc; ++p) {
        const __m512 b = _mm512_loadu_ps(panel + p * stride);
        for (int r = 0; r < MR; ++r) {
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * lda + p]), b, acc[r]);
        }
    }
    for (int r = 0; r < MR; ++r) _mm512_mask_storeu_ps(c + r * ldc, mask, acc[r]);
}

const vk::f32_ukernel kUkernels[12] = {
    ukernel<1>, ukernel<2>, ukernel<3>, ukernel<4>, ukernel<5>,  ukernel<6>,
    ukernel<7>, ukernel<8>, ukernel<9>, ukernel<10>, ukernel<11>, ukernel<12>,
};

}  // namespace

extern "C" void vk_f32_gemm_12x16__avx512f(size_t m, size_t n, size_t k, const float *a,
                                           size_t lda, const float *packed, const float *bias,
                                           float *c, size_t ldc, int accumulate) {
    vk::f32_gemm_drive<12, 1024>(kUkernels, m, n, k, a, lda, packed, 0, bias, c, ldc, accumulate);
}

extern "C" void vk_f32_gemm_kn_12x16__avx512f(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
                   size_t ldb, const float *bias, float *c, size_t ldc, int accumulate) {
    vk::f32_gemm_drive<12, 1024>(kUkernels, m, n, k, a, lda, b, ldb, bias, c, ldc, accumulate);
}
#else
extern "C" void vk_f32_gemm_12x16__avx512f(size_t, size_t, size_t, const float *, size_t,
                                           const float *, const float *, float *, size_t, int) {
    __builtin_trap();  // never selected: vk_cpu_features() reports no AVX-512 here
}
extern "C" void vk_f32_gemm_kn_12x16__avx512f(size_t, size_t, size_t, const float *, size_t, const float *, size_t,
                   const float *, float *, size_t, int) {
    __builtin_trap();
}
#endif
