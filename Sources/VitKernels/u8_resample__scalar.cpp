// Pillow's 8-bit resampling passes in plain C++: the route every CPU runs, and the
// definition the SIMD routes are checked against (bit for bit). Sums wrap as uint32
// (int32 overflow is undefined in C++; Pillow's sums never reach it).
#include "vit_kernels.h"

namespace {

inline uint8_t clip8(uint32_t s) {
    const int32_t v = (int32_t)s >> 22;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

}  // namespace

extern "C" void vk_u8_resample_h__scalar(const uint8_t *row, const uint8_t *, size_t outputs, size_t c,
                                         const int32_t *start, const int32_t *count, const int32_t *packed,
                                         size_t packed_stride, uint8_t *out) {
    // lanes = 1: one tap per group, each coefficient once.
    for (size_t x = 0; x < outputs; ++x) {
        const uint8_t *p = row + (size_t)start[x] * c;
        const int32_t *k = packed + x * packed_stride;
        for (size_t ch = 0; ch < c; ++ch) {
            uint32_t s = 1u << 21;
            for (int32_t i = 0; i < count[x]; ++i) s += (uint32_t)p[(size_t)i * c + ch] * (uint32_t)k[i];
            out[x * c + ch] = clip8(s);
        }
    }
}

extern "C" void vk_u8_resample_v__scalar(const uint8_t *mid, size_t n, int32_t k, int32_t *acc) {
    for (size_t i = 0; i < n; ++i) acc[i] = (int32_t)((uint32_t)acc[i] + (uint32_t)mid[i] * (uint32_t)k);
}

extern "C" void vk_u8_resample_clip__scalar(const int32_t *acc, size_t n, uint8_t *out) {
    for (size_t i = 0; i < n; ++i) out[i] = clip8((uint32_t)acc[i]);
}
