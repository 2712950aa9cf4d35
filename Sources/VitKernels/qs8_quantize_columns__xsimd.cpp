// Per-column (per-channel) quantization of a row-major matrix, xsimd baseline
// architecture: int8 attention's V, quantized per channel as the rows of Vᵀ are
// (Reference.attentionInt8), without building Vᵀ in fp32. Bit-identical to
// vk_qs8_quantize_rows__xsimd over the transpose: the same maxima (max is exact in any
// order), the same 127 / max, the same products, rounding and clamps.
#include "vit_kernels.h"

#include <math.h>
#include <xsimd/xsimd.hpp>

#pragma STDC FP_CONTRACT OFF

namespace {
using batch = xsimd::batch<float>;
constexpr size_t W = batch::size;
constexpr size_t kChunk = 64;  // columns per pass: their inverses stay on the stack
}  // namespace

extern "C" void vk_qs8_quantize_columns__xsimd(size_t rows, size_t cols, const float *x, size_t ldx, int8_t *q,
                                               size_t ldq, float *scale) {
    const batch lo(-127.0f), hi(127.0f);
    for (size_t c0 = 0; c0 < cols; c0 += kChunk) {
        const size_t nc = cols - c0 < kChunk ? cols - c0 : kChunk;
        alignas(64) float mx[kChunk] = {0}, inv[kChunk];
        for (size_t r = 0; r < rows; ++r) {
            const float *xr = x + r * ldx + c0;
            size_t c = 0;
            for (; c + W <= nc; c += W)
                xsimd::max(batch::load_aligned(mx + c), xsimd::abs(batch::load_unaligned(xr + c))).store_aligned(mx + c);
            for (; c < nc; ++c) mx[c] = fabsf(xr[c]) > mx[c] ? fabsf(xr[c]) : mx[c];
        }
        for (size_t c = 0; c < nc; ++c) {
            scale[c0 + c] = mx[c] == 0.0f ? 1.0f : mx[c] / 127.0f;
            inv[c] = mx[c] == 0.0f ? 0.0f : 127.0f / mx[c];
        }
        for (size_t r = 0; r < rows; ++r) {
            const float *xr = x + r * ldx + c0;
            int8_t *qr = q + r * ldq + c0;
            alignas(64) int32_t t[W];
            size_t c = 0;
            for (; c + W <= nc; c += W) {
                const batch v = batch::load_unaligned(xr + c) * batch::load_aligned(inv + c);
                xsimd::to_int(xsimd::min(xsimd::max(xsimd::nearbyint(v), lo), hi)).store_aligned(t);
                for (size_t j = 0; j < W; ++j) qr[c + j] = (int8_t)t[j];
            }
            for (; c < nc; ++c) {
                float v = nearbyintf(xr[c] * inv[c]);
                v = v < -127.0f ? -127.0f : (v > 127.0f ? 127.0f : v);
                qr[c] = (int8_t)v;
            }
        }
    }
}
