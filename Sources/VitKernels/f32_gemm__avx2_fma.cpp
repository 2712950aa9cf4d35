// fp32 GEMM, 6x16 register tile, AVX2 + FMA (two ymm per row, 12 accumulators).
#include "f32_gemm_driver.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

namespace {

template <int MR>
__attribute__((target("avx2,fma"))) void ukernel(size_t kc, const float *a, size_t lda,
                                                 const float *panel, size_t stride, float *c, size_t ldc,
                                                 size_t nr, const float *bias, int load_c) {
    __m256 lo[MR], hi[MR];
    float tmp[16];
    __m256 blo = _mm256_setzero_ps(), bhi = _mm256_setzero_ps();
    if (bias) {
        if (nr == 16) {
            blo = _mm256_loadu_ps(bias);
            bhi = _mm256_loadu_ps(bias + 8);
        } else {
            memset(tmp, 0, sizeof tmp);
            memcpy(tmp, bias, nr * sizeof(float));
            blo = _mm256_loadu_ps(tmp);
            bhi = _mm256_loadu_ps(tmp + 8);
        }
    }
    for (int r = 0; r < MR; ++r) {
        if (load_c) {
            const float *src = c + r * ldc;
            if (nr != 16) {
                memset(tmp, 0, sizeof tmp);
                memcpy(tmp, src, nr * sizeof(float));
                src = tmp;
            }
            lo[r] = _mm256_add_ps(_mm256_loadu_ps(src), blo);
            hi[r] = _mm256_add_ps(_mm256_loadu_ps(src + 8), bhi);
        } else {
            lo[r] = blo;
            hi[r] = bhi;
        }
    }
    for (size_t p = 0; p < kc; ++p) {
        const __m256 b0 = _mm256_loadu_ps(panel + p * stride);
        const __m256 b1 = _mm256_loadu_ps(panel + p * stride + 8);
        for (int r = 0; r < MR; ++r) {
            const __m256 av = _mm256_broadcast_ss(a + r * lda + p);
            lo[r] = _mm256_fmadd_ps(av, b0, lo[r]);
            hi[r] = _mm256_fmadd_ps(av, b1, hi[r]);
        }
    }
    for (int r = 0; r < MR; ++r) {
        if (nr == 16) {
            _mm256_storeu_ps(c + r * ldc, lo[r]);
            _mm256_storeu_ps(c + r * ldc + 8, hi[r]);
        } else {
            _mm256_storeu_ps(tmp, lo[r]);
            _mm256_storeu_ps(tmp + 8, hi[r]);
            memcpy(c + r * ldc, tmp, nr * sizeof(float));
        }
    }
}

const vk::f32_ukernel kUkernels[6] = {
    ukernel<1>, ukernel<2>, ukernel<3>, ukernel<4>, ukernel<5>, ukernel<6>,
};

}  // namespace

extern "C" void vk_f32_gemm_6x16__avx2_fma(size_t m, size_t n, size_t k, const float *a,
                                           size_t lda, const float *packed, const float *bias,
                                           float *c, size_t ldc, int accumulate) {
    vk::f32_gemm_drive<6>(kUkernels, m, n, k, a, lda, packed, 0, bias, c, ldc, accumulate);
}

extern "C" void vk_f32_gemm_kn_6x16__avx2_fma(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
                   size_t ldb, const float *bias, float *c, size_t ldc, int accumulate) {
    vk::f32_gemm_drive<6>(kUkernels, m, n, k, a, lda, b, ldb, bias, c, ldc, accumulate);
}
#else
extern "C" void vk_f32_gemm_6x16__avx2_fma(size_t, size_t, size_t, const float *, size_t,
                                           const float *, const float *, float *, size_t, int) {
    __builtin_trap();  // never selected: vk_cpu_features() reports no AVX2 here
}
extern "C" void vk_f32_gemm_kn_6x16__avx2_fma(size_t, size_t, size_t, const float *, size_t, const float *, size_t,
                   const float *, float *, size_t, int) {
    __builtin_trap();
}
#endif
