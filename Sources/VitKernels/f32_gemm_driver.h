// The cache-blocking loop shared by every fp32 GEMM microkernel (private header).
//
// Blocking: K in slices of KC so that one packed panel slice (KC x 16 floats)
// stays in cache while the MR-row slices of A stream through it from L2.
// A microkernel computes an MR x 16 tile over one K slice:
//   init: acc = load_c ? C : 0, plus bias when bias != NULL
//   acc += A[0:mr, 0:kc] * panel[0:kc, 0:16]; store the first nr columns.
#pragma once
#include <stddef.h>
#include "vit_kernels.h"

namespace vk {

// panel: kc rows of 16 floats, `stride` floats apart (16 when packed, ldb when the
// microkernel reads B[k][n] in place).
typedef void (*f32_ukernel)(size_t kc, const float *a, size_t lda, const float *panel, size_t stride,
                            float *c, size_t ldc, size_t nr, const float *bias, int load_c);

// Rows of tile t when m rows are cut into `tiles` tiles of at most MR rows, as evenly
// as possible: 50 rows with MR = 12 become 5 tiles of 10, not 4 of 12 and one of 2
// (a 2-row tile has 2 independent FMA chains, too few to hide the FMA latency).
static inline size_t tile_rows(size_t m, size_t tiles, size_t t) {
    return m / tiles + (t < m % tiles ? 1 : 0);
}

// B is either packed panels (ldb == 0) or B[k][n] read in place with row stride ldb
// (the attention's V: no transposed copy). In place, a last panel narrower than 16
// columns is copied into a zero-padded slice first, so no microkernel reads past n.
// KC: the K slice. 256 keeps a panel slice (16 KiB) in a 32 KiB L1; the AVX-512
// kernel uses 1024 (measured on Zen 4: +3-9% at ViT-S/B shapes; its 12-row tiles
// reuse each panel element 12 times, so the panel can stream from L2). The slicing
// never changes results: each output is still summed in k order.
template <int MR, size_t KC = 256>
static inline void f32_gemm_drive(const f32_ukernel *ukernels, size_t m, size_t n, size_t k,
                                  const float *a, size_t lda, const float *b, size_t ldb,
                                  const float *bias, float *c, size_t ldc, int accumulate) {
    alignas(64) float tail[KC * VK_F32_NR];
    const size_t panels = (n + VK_F32_NR - 1) / VK_F32_NR;
    const size_t tiles = (m + MR - 1) / MR;
    size_t k0 = 0;
    do {
        const size_t kc = (k - k0 < KC) ? (k - k0) : KC;
        const int load_c = (k0 > 0 || accumulate) ? 1 : 0;
        for (size_t p = 0; p < panels; ++p) {
            const size_t n0 = p * VK_F32_NR;
            const size_t nr = (n - n0 < VK_F32_NR) ? (n - n0) : VK_F32_NR;
            const float *panel = b + (p * k + k0) * VK_F32_NR;
            size_t stride = VK_F32_NR;
            if (ldb != 0) {
                panel = b + k0 * ldb + n0;
                stride = ldb;
                if (nr < VK_F32_NR) {
                    for (size_t kk = 0; kk < kc; ++kk)
                        for (size_t j = 0; j < VK_F32_NR; ++j) tail[kk * VK_F32_NR + j] = j < nr ? panel[kk * ldb + j] : 0.0f;
                    panel = tail;
                    stride = VK_F32_NR;
                }
            }
            const float *bi = (k0 == 0 && bias) ? bias + n0 : nullptr;
            for (size_t t = 0, m0 = 0; t < tiles; ++t) {
                const size_t mr = tile_rows(m, tiles, t);
                ukernels[mr - 1](kc, a + m0 * lda + k0, lda, panel, stride, c + m0 * ldc + n0, ldc, nr, bi,
                                 load_c);
                m0 += mr;
            }
        }
        k0 += kc;
    } while (k0 < k);
}

}  // namespace vk
