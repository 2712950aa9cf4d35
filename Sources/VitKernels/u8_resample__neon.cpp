// Pillow's 8-bit resampling passes with NEON (ARM64: every Raspberry Pi from the 3 on),
// bit-identical to the scalar route. Coefficient groups of 12 int32 lanes (three int32x4),
// so that RGB, the common case, fills every lane: 4 taps of 3 channels a group, three
// vmlaq_s32 (32-bit products: Pillow's coefficients have 22 bits) where 8-lane groups of 2
// taps took four for the same taps. Other channel counts use 8 of the 12 lanes.
#include "vit_kernels.h"
#include "u8_resample_common.h"

#include <string.h>

#if defined(__aarch64__)
#include <arm_neon.h>

namespace {

constexpr int kLanes = 12;  // the route's `lanes` (u8_resample_config.cpp)

template <int C>
constexpr int kTaps = C == 1 ? 8 : C == 2 ? 4 : C == 3 ? 4 : 2;

// Lanes 0..c-1 of the sum of each channel's lanes, from the 8 lanes a (0..3), b (4..7).
template <int C>
inline int32x4_t fold(int32x4_t a, int32x4_t b) {
    if (C == 4) return vaddq_s32(a, b);
    const int32x4_t s = vaddq_s32(a, b);  // C 1, 2: taps 0..3 and 4..7 added
    if (C == 2) return vaddq_s32(s, vextq_s32(s, s, 2));
    return vdupq_n_s32(vaddvq_s32(s));
}

// RGB: lanes 0..2 of the channel sums of 12 lanes R G B R | G B R G | B R G B (a0, a1, a2).
inline int32x4_t fold3(int32x4_t a0, int32x4_t a1, int32x4_t a2) {
    const int32x4_t u = vaddq_s32(a0, vextq_s32(a0, a1, 3));                  // lanes 0..2 + 3..5
    const int32x4_t v = vaddq_s32(vextq_s32(a1, a2, 2), vextq_s32(a2, a2, 1));  // lanes 6..8 + 9..11
    return vaddq_s32(u, v);
}

inline uint32_t clip4(int32x4_t v) {
    const uint16x4_t h = vqmovun_s32(vshrq_n_s32(v, 22));
    const uint8x8_t b = vqmovn_u16(vcombine_u16(h, h));
    return vget_lane_u32(vreinterpret_u32_u8(b), 0);
}

inline int32x4_t s32(uint16x4_t v) { return vreinterpretq_s32_u32(vmovl_u16(v)); }

template <int C>
void h_row(const uint8_t *row, const uint8_t *row_end, size_t outputs, const int32_t *start, const int32_t *count,
           const int32_t *packed, size_t stride, uint8_t *out) {
    constexpr int G = kTaps<C>, L = G * C;
    constexpr int kLoad = C == 3 ? 16 : 8;  // bytes one group's load reads
    // Every output runs the row's widest number of groups (its packed coefficients are
    // zero past its own taps): a loop count that varies by one between neighbours
    // (16 or 17 taps at 1080p) cost more in mispredicted branches than the zeros do.
    const int uniform_groups = (int)(stride / kLanes);
    const int32x4_t half = vdupq_n_s32(1 << 21);
    for (size_t x = 0; x < outputs; ++x) {
        const int n = count[x];
        const uint8_t *p = row + (size_t)start[x] * C;
        const int32_t *k = packed + x * stride;
        const int groups = uniform_groups;
        uint32_t bytes;
        if (n > 0 && p + (size_t)(groups - 1) * L + kLoad <= row_end) {
            if (C == 3) {
                int32x4_t a0 = vdupq_n_s32(0), a1 = vdupq_n_s32(0), a2 = vdupq_n_s32(0);
                for (int g = 0; g < groups; ++g) {
                    // Bytes 0..7 and 8..15 (12 used) as two loads, widened to 32 bits.
                    const uint16x8_t lo = vmovl_u8(vld1_u8(p + g * L)), hi = vmovl_u8(vld1_u8(p + g * L + 8));
                    const int32_t *kg = k + g * kLanes;
                    a0 = vmlaq_s32(a0, s32(vget_low_u16(lo)), vld1q_s32(kg));
                    a1 = vmlaq_s32(a1, s32(vget_high_u16(lo)), vld1q_s32(kg + 4));
                    a2 = vmlaq_s32(a2, s32(vget_low_u16(hi)), vld1q_s32(kg + 8));
                }
                bytes = clip4(vaddq_s32(fold3(a0, a1, a2), half));
            } else {
                int32x4_t a0 = vdupq_n_s32(0), a1 = vdupq_n_s32(0);
                for (int g = 0; g < groups; ++g) {
                    const uint16x8_t w = vmovl_u8(vld1_u8(p + g * L));
                    a0 = vmlaq_s32(a0, s32(vget_low_u16(w)), vld1q_s32(k + g * kLanes));
                    a1 = vmlaq_s32(a1, s32(vget_high_u16(w)), vld1q_s32(k + g * kLanes + 4));
                }
                bytes = clip4(vaddq_s32(fold<C>(a0, a1), half));
            }
        } else {
            int32_t s[4] = {0};
            vk::u8_resample_tap_by_tap<C>(p, n, k, G, kLanes, s);
            bytes = clip4(vld1q_s32(s));
        }
        memcpy(out + x * C, &bytes, C);
    }
}

}  // namespace

extern "C" void vk_u8_resample_h__neon(const uint8_t *row, const uint8_t *row_end, size_t outputs, size_t channels,
                                       const int32_t *start, const int32_t *count, const int32_t *packed,
                                       size_t packed_stride, uint8_t *out) {
    switch (channels) {
    case 1: return h_row<1>(row, row_end, outputs, start, count, packed, packed_stride, out);
    case 2: return h_row<2>(row, row_end, outputs, start, count, packed, packed_stride, out);
    case 3: return h_row<3>(row, row_end, outputs, start, count, packed, packed_stride, out);
    default: return h_row<4>(row, row_end, outputs, start, count, packed, packed_stride, out);
    }
}

extern "C" void vk_u8_resample_v__neon(const uint8_t *mid, size_t n, int32_t k, int32_t *acc) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t w = vmovl_u8(vld1_u8(mid + i));
        const int32x4_t p0 = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(w)));
        const int32x4_t p1 = vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(w)));
        vst1q_s32(acc + i, vmlaq_n_s32(vld1q_s32(acc + i), p0, k));
        vst1q_s32(acc + i + 4, vmlaq_n_s32(vld1q_s32(acc + i + 4), p1, k));
    }
    vk_u8_resample_v__scalar(mid + i, n - i, k, acc + i);
}

extern "C" void vk_u8_resample_clip__neon(const int32_t *acc, size_t n, uint8_t *out) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16x4_t h0 = vqmovun_s32(vshrq_n_s32(vld1q_s32(acc + i), 22));
        const uint16x4_t h1 = vqmovun_s32(vshrq_n_s32(vld1q_s32(acc + i + 4), 22));
        vst1_u8(out + i, vqmovn_u16(vcombine_u16(h0, h1)));
    }
    vk_u8_resample_clip__scalar(acc + i, n - i, out + i);
}

#endif
