// The loop shared by every int8 GEMM microkernel (private header). A panel holds
// kg = ceil(k/4) groups of 16 columns x 4 bytes, then 16 int32 column sums. A
// microkernel computes an MR x 16 int32 tile over all of K and stores nr columns.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "vit_kernels.h"

// The epilogue is the scheme's definition: no contraction into FMA anywhere here.
#pragma STDC FP_CONTRACT OFF

namespace vk {

// Epilogue arguments of one MR x 16 tile: rows' activation scales, the columns'
// weight scales and bias (NULL for none), the output and whether to add to it.
struct qs8_epilogue {
    const float *a_scale;
    const float *w_scale;
    const float *bias;
    float *y;
    size_t ldy;
    int accumulate;
};

typedef void (*qs8_ukernel)(size_t kg, const int8_t *a, size_t lda, const int8_t *panel,
                            const int32_t *colsum, size_t nr, const qs8_epilogue &e);

// y = (accumulate ? y : 0) + (float(acc) * (sa * sw) + b) for nr columns of one row.
inline void qs8_store_row(const int32_t *acc, size_t nr, float sa, const qs8_epilogue &e, float *y) {
    for (size_t j = 0; j < nr; ++j) {
        float v = (float)acc[j] * (sa * e.w_scale[j]);
        if (e.bias) v = v + e.bias[j];
        y[j] = e.accumulate ? y[j] + v : v;
    }
}

// Rows of tile t when m rows are cut into `tiles` tiles as evenly as possible.
inline size_t qs8_tile_rows(size_t m, size_t tiles, size_t t) { return m / tiles + (t < m % tiles ? 1 : 0); }

inline size_t qs8_panel_bytes(size_t k) { return vk_qs8_padded_k(k) * VK_QS8_NR + VK_QS8_NR * 4; }

template <int MR>
inline void qs8_gemm_drive(const qs8_ukernel *uk, size_t m, size_t n, size_t k, const int8_t *a,
                           size_t lda, const void *packed, const float *a_scale, const float *w_scale,
                           const float *bias, float *y, size_t ldy, int accumulate) {
    const size_t kg = vk_qs8_padded_k(k) / 4;
    const size_t panels = (n + VK_QS8_NR - 1) / VK_QS8_NR;
    const size_t tiles = (m + MR - 1) / MR;
    const int8_t *base = (const int8_t *)packed;
    for (size_t p = 0; p < panels; ++p) {
        const size_t n0 = p * VK_QS8_NR;
        const size_t nr = (n - n0 < VK_QS8_NR) ? (n - n0) : VK_QS8_NR;
        const int8_t *panel = base + p * qs8_panel_bytes(k);
        const int32_t *colsum = (const int32_t *)(panel + kg * 64);
        for (size_t t = 0, m0 = 0; t < tiles; ++t) {
            const size_t mr = qs8_tile_rows(m, tiles, t);
            const qs8_epilogue e = {a_scale + m0, w_scale + n0, bias ? bias + n0 : nullptr,
                                    y + m0 * ldy + n0, ldy, accumulate};
            uk[mr - 1](kg, a + m0 * lda, lda, panel, colsum, nr, e);
            m0 += mr;
        }
    }
}

// Four activation bytes a[4g..4g+3] as one int32 (unaligned-safe).
inline int32_t load4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}


}  // namespace vk
