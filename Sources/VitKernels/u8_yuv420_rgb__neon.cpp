// YUV 4:2:0 → RGB of one row with NEON, bit-identical to u8_yuv420_rgb__scalar.cpp: sixteen
// pixels per step (OpenCV's 20-bit sums in int32x4), stored with vst3q.
#include "vit_kernels.h"

#include <string.h>

#if defined(__aarch64__)
#include <arm_neon.h>

namespace {

// OpenCV's int32 sum c·s for int16 samples s, the constant split as c = hi·2^16 + lo (hi, lo
// int16): (hi·s) << 16 with shll, lo·s with smlal, so every multiply is a 16-bit one.
inline int32x4_t term_lo(int16x8_t hi_s, int16x8_t s, int16_t lo) { return vmlal_n_s16(vshll_n_s16(vget_low_s16(hi_s), 16), vget_low_s16(s), lo); }
inline int32x4_t term_hi(int16x8_t hi_s, int16x8_t s, int16_t lo) { return vmlal_high_n_s16(vshll_high_n_s16(hi_s, 16), s, lo); }

// The bytes of 16 pixels from the sums of the even (e0: 0, 2, 4, 6; e1: 8 ... 14) and the odd
// ones: trn2 takes the high 16 bits of each sum (>> 16, exact: |sum| < 2^31) in pixel order,
// and the saturating >> 4 to bytes makes the whole >> 20 with the clamp to 0..255.
inline uint8x16_t bytes(int32x4_t e0, int32x4_t e1, int32x4_t o0, int32x4_t o1) {
    const int16x8_t p0 = vtrn2q_s16(vreinterpretq_s16_s32(e0), vreinterpretq_s16_s32(o0));
    const int16x8_t p1 = vtrn2q_s16(vreinterpretq_s16_s32(e1), vreinterpretq_s16_s32(o1));
    return vqshrun_high_n_s16(vqshrun_n_s16(p0, 4), p1, 4);
}

// Pixels x .. end-1 (x even) in steps of 16; returns where it stopped. The chroma layout is
// a template argument so that the loop holds no branch (llvm-mca can time it: make mca).
// Even and odd pixels are taken apart (vld2), so each chroma sample's terms, computed once,
// meet both its pixels with no widening shuffle; the constants are split into 16-bit halves
// (term_lo/hi; luma: yy · 1220542 + 2^19 = (18 · yy + 8) << 16 + 40894 · yy, in uint32 as
// yy ≤ 239), so the sums are OpenCV's int32 sums exactly.
template <bool NV12>
size_t rows16(const uint8_t *y, const uint8_t *u, const uint8_t *v, size_t x, size_t end, uint8_t *&rgb) {
    for (; x + 16 <= end; x += 16, rgb += 48) {
        uint8x8_t u8, v8;
        if (NV12) {  // u0 v0 u1 v1 ... u7 v7
            const uint8x8x2_t uv = vld2_u8(u + x);
            u8 = uv.val[0];
            v8 = uv.val[1];
        } else {
            u8 = vld1_u8(u + x / 2);
            v8 = vld1_u8(v + x / 2);
        }
        // Chroma terms of samples 0..3 and 4..7 (even and odd pixels 0..7 and 8..15 alike).
        const int16x8_t cu = vreinterpretq_s16_u16(vsubl_u8(u8, vdup_n_u8(128)));
        const int16x8_t cv = vreinterpretq_s16_u16(vsubl_u8(v8, vdup_n_u8(128)));
        const int16x8_t r_hi = vmulq_n_s16(cv, 26), b_hi = vshlq_n_s16(cu, 5);    // 1673527 = 26·2^16 − 30409
        const int16x8_t g_hi = vmlaq_n_s16(vmulq_n_s16(cv, -13), cu, -6);       // 2116026 = 32·2^16 + 18874
        const int32x4_t cr[2] = {term_lo(r_hi, cv, -30409), term_hi(r_hi, cv, -30409)};
        const int32x4_t cb[2] = {term_lo(b_hi, cu, 18874), term_hi(b_hi, cu, 18874)};
        // −852492 = −13·2^16 − 524, −409993 = −6·2^16 − 16777
        const int32x4_t cg[2] = {vmlal_n_s16(term_lo(g_hi, cv, -524), vget_low_s16(cu), -16777),
                                 vmlal_high_n_s16(term_hi(g_hi, cv, -524), cu, -16777)};
        // Luma terms of the even and the odd pixels (with OpenCV's 2^19 rounding).
        const uint8x8x2_t eo = vld2_u8(y + x);
        const uint8x16_t yy = vqsubq_u8(vcombine_u8(eo.val[0], eo.val[1]), vdupq_n_u8(16));
        const uint16x8_t ye = vmovl_u8(vget_low_u8(yy)), yo = vmovl_high_u8(yy);
        const uint16x8_t te = vmlaq_n_u16(vdupq_n_u16(8), ye, 18), to = vmlaq_n_u16(vdupq_n_u16(8), yo, 18);
        const int32x4_t le0 = vreinterpretq_s32_u32(vmlal_n_u16(vshll_n_u16(vget_low_u16(te), 16), vget_low_u16(ye), 40894));
        const int32x4_t le1 = vreinterpretq_s32_u32(vmlal_high_n_u16(vshll_high_n_u16(te, 16), ye, 40894));
        const int32x4_t lo0 = vreinterpretq_s32_u32(vmlal_n_u16(vshll_n_u16(vget_low_u16(to), 16), vget_low_u16(yo), 40894));
        const int32x4_t lo1 = vreinterpretq_s32_u32(vmlal_high_n_u16(vshll_high_n_u16(to, 16), yo, 40894));
        uint8x16x3_t out;
        const int32x4_t *terms[3] = {cr, cg, cb};
        for (int k = 0; k < 3; ++k) {
            const int32x4_t *c = terms[k];
            out.val[k] = bytes(vaddq_s32(le0, c[0]), vaddq_s32(le1, c[1]), vaddq_s32(lo0, c[0]), vaddq_s32(lo1, c[1]));
        }
        vst3q_u8(rgb, out);
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
    x = chroma_step == 2 ? rows16<true>(y, u, v, x, end, rgb) : rows16<false>(y, u, v, x, end, rgb);
    if (x < end) vk_u8_yuv420_rgb__scalar(y, u, v, chroma_step, x, end - x, rgb);
}

#endif
