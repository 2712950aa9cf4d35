// What the SIMD routes of the 8-bit resampling share (u8_resample__*.cpp): the tap-by-tap
// sums of an output near the end of a row, where a vector load would pass row_end.
#ifndef VK_U8_RESAMPLE_COMMON_H
#define VK_U8_RESAMPLE_COMMON_H

#include <stdint.h>

namespace vk {

// The C channel sums (2^21 + Σ p[i*C + ch] · k(i)) of one output of n taps, its
// coefficients packed in groups of G taps of `lanes` int32 (tap i at lane (i % G) * C of
// group i / G), wrapping as uint32; lanes C..3 of s are zero.
template <int C>
inline void u8_resample_tap_by_tap(const uint8_t *p, int n, const int32_t *k, int G, int lanes, int32_t s[4]) {
    for (int ch = 0; ch < 4; ++ch) s[ch] = 0;
    for (int ch = 0; ch < C; ++ch) {
        uint32_t sum = 1u << 21;
        for (int i = 0; i < n; ++i) sum += (uint32_t)p[i * C + ch] * (uint32_t)k[(i / G) * lanes + (i % G) * C];
        s[ch] = (int32_t)sum;
    }
}

}  // namespace vk

#endif
