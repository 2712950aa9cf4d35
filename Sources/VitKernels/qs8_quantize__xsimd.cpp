// Activation quantization and the dequantizing epilogue. The arithmetic here is
// the scheme's definition (docs/QUANTIZATION.md) and must stay bit-identical to
// Reference.swift: no contraction into FMA, round to nearest even.
#include "vit_kernels.h"

#include <math.h>
#include <string.h>
#include <xsimd/xsimd.hpp>

#pragma STDC FP_CONTRACT OFF

namespace {
using batch = xsimd::batch<float>;
constexpr size_t W = batch::size;

inline void quantize_row(const float *x, size_t k, float inv, int8_t *q, size_t ldq) {
    const batch iv(inv), lo(-127.0f), hi(127.0f);
    alignas(64) int32_t tmp[W];
    size_t i = 0;
    for (; i + W <= k; i += W) {
        const batch v = xsimd::min(xsimd::max(xsimd::nearbyint(batch::load_unaligned(x + i) * iv), lo), hi);
        xsimd::to_int(v).store_aligned(tmp);
        for (size_t j = 0; j < W; ++j) q[i + j] = (int8_t)tmp[j];
    }
    for (; i < k; ++i) {
        float v = nearbyintf(x[i] * inv);
        v = v < -127.0f ? -127.0f : (v > 127.0f ? 127.0f : v);
        q[i] = (int8_t)v;
    }
    for (; i < ldq; ++i) q[i] = 0;  // the row stride is the route's padded K (a multiple of its kr)
}
}  // namespace

extern "C" void vk_qs8_quantize_rows__xsimd(size_t rows, size_t k, const float *x, size_t ldx,
                                            int8_t *q, size_t ldq, float *scale) {
    for (size_t r = 0; r < rows; ++r) {
        const float *xr = x + r * ldx;
        batch m(0.0f);
        size_t i = 0;
        for (; i + W <= k; i += W) m = xsimd::max(m, xsimd::abs(batch::load_unaligned(xr + i)));
        alignas(64) float tmp[W];
        m.store_aligned(tmp);
        float mx = 0.0f;
        for (size_t j = 0; j < W; ++j) mx = tmp[j] > mx ? tmp[j] : mx;
        for (; i < k; ++i) mx = fabsf(xr[i]) > mx ? fabsf(xr[i]) : mx;
        if (mx == 0.0f) {
            scale[r] = 1.0f;
            quantize_row(xr, k, 0.0f, q + r * ldq, ldq);
        } else {
            scale[r] = mx / 127.0f;
            quantize_row(xr, k, 127.0f / mx, q + r * ldq, ldq);
        }
    }
}

extern "C" void vk_qs8_quantize_rows_static__xsimd(size_t rows, size_t k, const float *x, size_t ldx,
                                                   float s, int8_t *q, size_t ldq, float *scale) {
    const float inv = 1.0f / s;
    for (size_t r = 0; r < rows; ++r) {
        scale[r] = s;
        quantize_row(x + r * ldx, k, inv, q + r * ldq, ldq);
    }
}
