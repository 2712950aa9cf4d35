// int8 GEMM on ARM64: plain NEON (vmull_s8 + pairwise adds; every ARMv8-A core,
// e.g. Raspberry Pi 4) and the dot-product extension (sdot; ARMv8.2-A+dotprod,
// e.g. Raspberry Pi 5), chosen at run time from HWCAP.
#include "qs8_gemm_driver.h"

#if defined(__aarch64__)
#include <arm_neon.h>

namespace {

// The epilogue of V vectors (4V columns) of one row in NEON: convert, times sa·sw, plus
// bias, plus y, each a separate IEEE operation in the scheme's order (no fused
// multiply-add), so it matches qs8_store_row bit for bit. Full tiles only.
template <int V>
inline void store_row_neon(const int32x4_t *acc, float sa, const vk::qs8_epilogue &e, float *y) {
    const float32x4_t s = vdupq_n_f32(sa);
    for (int v = 0; v < V; ++v) {
        float32x4_t r = vmulq_f32(vcvtq_f32_s32(acc[v]), vmulq_f32(s, vld1q_f32(e.w_scale + 4 * v)));
        if (e.bias) r = vaddq_f32(r, vld1q_f32(e.bias + 4 * v));
        if (e.accumulate) r = vaddq_f32(vld1q_f32(y + 4 * v), r);
        vst1q_f32(y + 4 * v, r);
    }
}

template <int MR>
void ukernel_neon(size_t kg, const int8_t *a, size_t lda, const int8_t *panel, const int32_t *, size_t nr, const vk::qs8_epilogue &e) {
    int32x4_t acc[MR][4];
    for (int r = 0; r < MR; ++r)
        for (int v = 0; v < 4; ++v) acc[r][v] = vdupq_n_s32(0);
    for (size_t g = 0; g < kg; ++g) {
        int8x16_t w[4];
        for (int v = 0; v < 4; ++v) w[v] = vld1q_s8(panel + g * 64 + 16 * v);
        for (int r = 0; r < MR; ++r) {
            const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(vk::load4(a + r * lda + g * 4)));
            for (int v = 0; v < 4; ++v) {
                // 16 products: columns 4v..4v+3, four k each; sum each column's four.
                const int16x8_t plo = vmull_s8(vget_low_s8(w[v]), vget_low_s8(av));
                const int16x8_t phi = vmull_s8(vget_high_s8(w[v]), vget_high_s8(av));
                const int32x4_t slo = vpaddlq_s16(plo);  // [c0 k01, c0 k23, c1 k01, c1 k23]
                const int32x4_t shi = vpaddlq_s16(phi);
                acc[r][v] = vaddq_s32(acc[r][v], vpaddq_s32(slo, shi));
            }
        }
    }
    for (int r = 0; r < MR; ++r) {
        if (nr == 16) { store_row_neon<4>(acc[r], e.a_scale[r], e, e.y + r * e.ldy); continue; }
        int32_t tmp[16];
        for (int v = 0; v < 4; ++v) vst1q_s32(tmp + 4 * v, acc[r][v]);
        vk::qs8_store_row(tmp, nr, e.a_scale[r], e, e.y + r * e.ldy);
    }
}

// sdot by lane: 16 bytes of each row's activations (4 k-groups) are loaded once and
// each group is taken from its lane (SDOT v.4s, w.16b, a.4b[lane]), instead of one
// broadcast load per row and group; the broadcasts (LD1R) competed with SDOT for the
// vector pipes. Groups past the last whole 4 use the broadcast.
template <int MR>
__attribute__((target("+dotprod"))) void ukernel_dot(size_t kg, const int8_t *a, size_t lda,
                                                     const int8_t *panel, const int32_t *, size_t nr, const vk::qs8_epilogue &e) {
    int32x4_t acc[MR][4];
    for (int r = 0; r < MR; ++r)
        for (int v = 0; v < 4; ++v) acc[r][v] = vdupq_n_s32(0);
    size_t g = 0;
    for (; g + 4 <= kg; g += 4) {
        int8x16_t av[MR];
        for (int r = 0; r < MR; ++r) av[r] = vld1q_s8(a + r * lda + g * 4);
#define VK_DOT_GROUP(j)                                                                   \
        {                                                                                 \
            int8x16_t w[4];                                                               \
            for (int v = 0; v < 4; ++v) w[v] = vld1q_s8(panel + (g + j) * 64 + 16 * v);  \
            for (int r = 0; r < MR; ++r)                                                  \
                for (int v = 0; v < 4; ++v) acc[r][v] = vdotq_laneq_s32(acc[r][v], w[v], av[r], j); \
        }
        VK_DOT_GROUP(0)
        VK_DOT_GROUP(1)
        VK_DOT_GROUP(2)
        VK_DOT_GROUP(3)
#undef VK_DOT_GROUP
    }
    for (; g < kg; ++g) {
        int8x16_t w[4];
        for (int v = 0; v < 4; ++v) w[v] = vld1q_s8(panel + g * 64 + 16 * v);
        for (int r = 0; r < MR; ++r) {
            const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(vk::load4(a + r * lda + g * 4)));
            for (int v = 0; v < 4; ++v) acc[r][v] = vdotq_s32(acc[r][v], w[v], av);
        }
    }
    for (int r = 0; r < MR; ++r) {
        if (nr == 16) { store_row_neon<4>(acc[r], e.a_scale[r], e, e.y + r * e.ldy); continue; }
        int32_t tmp[16];
        for (int v = 0; v < 4; ++v) vst1q_s32(tmp + 4 * v, acc[r][v]);
        vk::qs8_store_row(tmp, nr, e.a_scale[r], e, e.y + r * e.ldy);
    }
}

// c16: MR rows x 8 columns per panel, 16 k per step. Per (row, column) and step:
// SMULL (k 0-7) + SMLAL2 (k 8-15) give 8 int16 pair sums, SADALP adds them pairwise into
// that column's int32x4; the four partial sums are reduced once, at the end. The 8
// columns are done as two passes of 4 over all of K (A is read twice, from L1): with 8
// accumulators live instead of 16 the compiler keeps everything in registers (with 16
// it spilled 8 of them inside the loop).
template <int MR>
void ukernel_c16(size_t kb, const int8_t *a, size_t lda, const int8_t *panel, size_t nr, const vk::qs8_epilogue &e) {
    int32_t tmp[MR][8];
    for (int half = 0; half < 2; ++half) {
        int32x4_t acc[MR][4];
        for (int r = 0; r < MR; ++r)
            for (int j = 0; j < 4; ++j) acc[r][j] = vdupq_n_s32(0);
        const int8_t *w = panel + 64 * half;
        for (size_t b = 0; b < kb; ++b, w += 128) {
            int8x16_t av[MR];
            for (int r = 0; r < MR; ++r) av[r] = vld1q_s8(a + r * lda + b * 16);
            for (int j = 0; j < 4; ++j) {
                const int8x16_t wv = vld1q_s8(w + 16 * j);
                for (int r = 0; r < MR; ++r) {
                    int16x8_t p = vmull_s8(vget_low_s8(av[r]), vget_low_s8(wv));
                    p = vmlal_high_s8(p, av[r], wv);
                    acc[r][j] = vpadalq_s16(acc[r][j], p);
                }
            }
        }
        for (int r = 0; r < MR; ++r)
            vst1q_s32(tmp[r] + 4 * half, vpaddq_s32(vpaddq_s32(acc[r][0], acc[r][1]), vpaddq_s32(acc[r][2], acc[r][3])));
    }
    for (int r = 0; r < MR; ++r) {
        if (nr == 8) {
            const int32x4_t sums[2] = {vld1q_s32(tmp[r]), vld1q_s32(tmp[r] + 4)};
            store_row_neon<2>(sums, e.a_scale[r], e, e.y + r * e.ldy);
        } else {
            vk::qs8_store_row(tmp[r], nr, e.a_scale[r], e, e.y + r * e.ldy);
        }
    }
}

const vk::qs8_ukernel kNeon[4] = {ukernel_neon<1>, ukernel_neon<2>, ukernel_neon<3>, ukernel_neon<4>};
const vk::qs8_ukernel kDot[4] = {ukernel_dot<1>, ukernel_dot<2>, ukernel_dot<3>, ukernel_dot<4>};

}  // namespace

extern "C" void vk_qs8_gemm_4x16__neon(VK_QS8_GEMM_ARGS) {
    vk::qs8_gemm_drive<4>(kNeon, m, n, k, a, lda, packed, a_scale, w_scale, bias, y, ldy, accumulate);
}
extern "C" void vk_qs8_gemm_4x16__neondot(VK_QS8_GEMM_ARGS) {
    vk::qs8_gemm_drive<4>(kDot, m, n, k, a, lda, packed, a_scale, w_scale, bias, y, ldy, accumulate);
}
extern "C" void vk_qs8_gemm_2x8c16__neon(VK_QS8_GEMM_ARGS) {
    const size_t kb = (k + 15) / 16, panels = (n + 7) / 8, tiles = (m + 1) / 2;
    const int8_t *base = (const int8_t *)packed;
    for (size_t p = 0; p < panels; ++p) {
        const size_t n0 = p * 8, nr = n - n0 < 8 ? n - n0 : 8;
        const int8_t *panel = base + p * kb * 128;
        for (size_t t = 0, m0 = 0; t < tiles; ++t) {
            const size_t mr = vk::qs8_tile_rows(m, tiles, t);
            const vk::qs8_epilogue e = {a_scale + m0, w_scale + n0, bias ? bias + n0 : nullptr, y + m0 * ldy + n0, ldy, accumulate};
            if (mr == 2) ukernel_c16<2>(kb, a + m0 * lda, lda, panel, nr, e);
            else ukernel_c16<1>(kb, a + m0 * lda, lda, panel, nr, e);
            m0 += mr;
        }
    }
}
#else
extern "C" void vk_qs8_gemm_2x8c16__neon(VK_QS8_GEMM_ARGS) { (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)a_scale; (void)w_scale; (void)bias; (void)y; (void)ldy; (void)accumulate; __builtin_trap(); }
extern "C" void vk_qs8_gemm_4x16__neon(VK_QS8_GEMM_ARGS) { (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)a_scale; (void)w_scale; (void)bias; (void)y; (void)ldy; (void)accumulate; __builtin_trap(); }
extern "C" void vk_qs8_gemm_4x16__neondot(VK_QS8_GEMM_ARGS) { (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)a_scale; (void)w_scale; (void)bias; (void)y; (void)ldy; (void)accumulate; __builtin_trap(); }
#endif
