// Packing of fp32 weights into the panel layout every GEMM microkernel reads.
#include "vit_kernels.h"

#include <string.h>

extern "C" size_t vk_f32_packed_count(size_t n, size_t k) {
    const size_t panels = (n + VK_F32_NR - 1) / VK_F32_NR;
    return panels * VK_F32_NR * k;
}

extern "C" void vk_f32_pack_nk(const float *w, size_t ldw, size_t n, size_t k, float *packed) {
    const size_t panels = (n + VK_F32_NR - 1) / VK_F32_NR;
    for (size_t p = 0; p < panels; ++p) {
        float *dst = packed + p * k * VK_F32_NR;
        for (size_t kk = 0; kk < k; ++kk) {
            for (size_t j = 0; j < VK_F32_NR; ++j) {
                const size_t col = p * VK_F32_NR + j;
                dst[kk * VK_F32_NR + j] = col < n ? w[col * ldw + kk] : 0.0f;
            }
        }
    }
}

extern "C" void vk_f32_pack_kn(const float *b, size_t ldb, size_t k, size_t n, float *packed) {
    const size_t panels = (n + VK_F32_NR - 1) / VK_F32_NR;
    for (size_t p = 0; p < panels; ++p) {
        float *dst = packed + p * k * VK_F32_NR;
        const size_t n0 = p * VK_F32_NR;
        const size_t nr = (n - n0 < VK_F32_NR) ? (n - n0) : VK_F32_NR;
        for (size_t kk = 0; kk < k; ++kk) {
            memcpy(dst + kk * VK_F32_NR, b + kk * ldb + n0, nr * sizeof(float));
            for (size_t j = nr; j < VK_F32_NR; ++j) dst[kk * VK_F32_NR + j] = 0.0f;
        }
    }
}
