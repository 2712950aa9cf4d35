// Packing of int8 weights into the panel layout of every int8 GEMM microkernel.
#include "qs8_gemm_driver.h"

extern "C" size_t vk_qs8_padded_k(size_t k) { return (k + 3) / 4 * 4; }

extern "C" size_t vk_qs8_packed_bytes(size_t n, size_t k) {
    return (n + VK_QS8_NR - 1) / VK_QS8_NR * vk::qs8_panel_bytes(k);
}

extern "C" void vk_qs8_pack_nk(const int8_t *w, size_t n, size_t k, void *packed) {
    const size_t kg = vk_qs8_padded_k(k) / 4, full = k / 4;
    const size_t panels = (n + VK_QS8_NR - 1) / VK_QS8_NR;
    int8_t *out = (int8_t *)packed;
    // Also packs attention's K and V at run time (int8 attention), so whole groups of 4
    // bytes move as one word; only the last partial group and missing columns are padded.
    for (size_t p = 0; p < panels; ++p) {
        int8_t *panel = out + p * vk::qs8_panel_bytes(k);
        int32_t colsum[VK_QS8_NR] = {0};
        for (size_t j = 0; j < VK_QS8_NR; ++j) {
            const size_t col = p * VK_QS8_NR + j;
            if (col >= n) {
                for (size_t g = 0; g < kg; ++g) memset(panel + g * 64 + j * 4, 0, 4);
                continue;
            }
            const int8_t *row = w + col * k;
            int32_t sum = 0;
            for (size_t kk = 0; kk < k; ++kk) sum += row[kk];
            colsum[j] = sum;
            for (size_t g = 0; g < full; ++g) memcpy(panel + g * 64 + j * 4, row + g * 4, 4);
            for (size_t g = full; g < kg; ++g)
                for (size_t b = 0; b < 4; ++b) panel[g * 64 + j * 4 + b] = g * 4 + b < k ? row[g * 4 + b] : 0;
        }
        memcpy(panel + kg * 64, colsum, sizeof colsum);
    }
}


// The c16 layout: panels of 8 columns; per block of 16 k, each column's 16 bytes.
extern "C" size_t vk_qs8_packed_bytes_c16(size_t n, size_t k) {
    return (n + 7) / 8 * ((k + 15) / 16) * 128;
}

namespace {
// The c16 layout of W [n][k] with W[col][kk] at w[col * cs + kk * ks] (either storage
// order), zeros past n and past `valid` k values.
void pack_c16(const int8_t *w, size_t cs, size_t ks, size_t n, size_t k, size_t valid, void *packed) {
    const size_t kb = (k + 15) / 16, panels = (n + 7) / 8;
    int8_t *out = (int8_t *)packed;
    for (size_t p = 0; p < panels; ++p)
        for (size_t b = 0; b < kb; ++b)
            for (size_t j = 0; j < 8; ++j)
                for (size_t t = 0; t < 16; ++t) {
                    const size_t col = p * 8 + j, kk = b * 16 + t;
                    *out++ = (col < n && kk < valid) ? w[col * cs + kk * ks] : 0;
                }
}
}  // namespace

extern "C" void vk_qs8_pack_nk_c16(const int8_t *w, size_t n, size_t k, void *packed) { pack_c16(w, k, 1, n, k, k, packed); }

// W given as Wt [k][n] (int8 attention's V, token-major): the same bytes (qs8_pack_kn.cpp has
// the k-group-4 layout's).
extern "C" void vk_qs8_pack_kn_c16(const int8_t *w, size_t ldw, size_t n, size_t k, size_t kp, void *packed) {
    pack_c16(w, 1, ldw, n, kp, k, packed);
}
