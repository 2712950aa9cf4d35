// YUV 4:2:0 → RGB of one row with NEON, bit-identical to u8_yuv420_rgb__scalar.cpp: eight
// pixels per step in int32x4 pairs (OpenCV's 20-bit products), stored with vst3.
#include "vit_kernels.h"

#include <string.h>

#if defined(__aarch64__)
#include <arm_neon.h>

namespace {

// The 8 results of two int32x4 halves, >> 20, clamped to bytes.
inline uint8x8_t narrow(int32x4_t a, int32x4_t b) {
    return vqmovn_u16(vcombine_u16(vqmovun_s32(vshrq_n_s32(a, 20)), vqmovun_s32(vshrq_n_s32(b, 20))));
}

inline int32x4_t lo32(uint8x8_t v) { return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(v)))); }
inline int32x4_t hi32(uint8x8_t v) { return vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(vmovl_u8(v)))); }

// Pixels x .. end-1 (x even) in steps of 8; returns where it stopped. The chroma layout is
// a template argument so that the loop holds no branch (llvm-mca can time it: make mca).
template <bool NV12>
size_t rows8(const uint8_t *y, const uint8_t *u, const uint8_t *v, size_t x, size_t end, uint8_t *&rgb) {
    const int32x4_t c128 = vdupq_n_s32(128), c16 = vdupq_n_s32(16), zero = vdupq_n_s32(0), half = vdupq_n_s32(1 << 19);
    for (; x + 8 <= end; x += 8, rgb += 24) {
        uint8x8_t u8, v8;
        if (NV12) {  // u0 v0 u1 v1 u2 v2 u3 v3
            const uint8x8_t uv = vld1_u8(u + x);
            u8 = vuzp1_u8(uv, uv);
            v8 = vuzp2_u8(uv, uv);
        } else {
            uint32_t u4, v4;
            memcpy(&u4, u + x / 2, 4);
            memcpy(&v4, v + x / 2, 4);
            u8 = vreinterpret_u8_u32(vdup_n_u32(u4));
            v8 = vreinterpret_u8_u32(vdup_n_u32(v4));
        }
        u8 = vzip1_u8(u8, u8);  // u0 u0 u1 u1 u2 u2 u3 u3
        v8 = vzip1_u8(v8, v8);
        const uint8x8_t y8 = vld1_u8(y + x);
        int32x4_t r[2], g[2], b[2];
        for (int h = 0; h < 2; ++h) {
            const int32x4_t cu = vsubq_s32(h ? hi32(u8) : lo32(u8), c128);
            const int32x4_t cv = vsubq_s32(h ? hi32(v8) : lo32(v8), c128);
            const int32x4_t yy = vmaxq_s32(vsubq_s32(h ? hi32(y8) : lo32(y8), c16), zero);
            const int32x4_t l = vmlaq_n_s32(half, yy, 1220542);
            r[h] = vmlaq_n_s32(l, cv, 1673527);
            g[h] = vmlaq_n_s32(vmlaq_n_s32(l, cv, -852492), cu, -409993);
            b[h] = vmlaq_n_s32(l, cu, 2116026);
        }
        uint8x8x3_t out;
        out.val[0] = narrow(r[0], r[1]);
        out.val[1] = narrow(g[0], g[1]);
        out.val[2] = narrow(b[0], b[1]);
        vst3_u8(rgb, out);
    }
    return x;
}

}  // namespace

extern "C" void vk_u8_yuv420_rgb__neon(const uint8_t *y, const uint8_t *u, const uint8_t *v, size_t chroma_step,
                                       size_t x0, size_t n, uint8_t *rgb) {
    size_t x = x0;
    const size_t end = x0 + n;
    if (x & 1 && x < end) {
        vk_u8_yuv420_rgb__scalar(y, u, v, chroma_step, x, 1, rgb);
        ++x;
        rgb += 3;
    }
    x = chroma_step == 2 ? rows8<true>(y, u, v, x, end, rgb) : rows8<false>(y, u, v, x, end, rgb);
    if (x < end) vk_u8_yuv420_rgb__scalar(y, u, v, chroma_step, x, end - x, rgb);
}

#endif
