/*
 * vit_kernels.h - the C++ kernel shim of vit-edge, as plain C functions.
 *
 * No stable API: this header is for the VitEdge Swift module only. Every function
 * here has a scalar reference in Swift (Sources/VitEdge/Kernels/Reference.swift)
 * and is tested against it. Names follow XNNPACK: vk_<dtype>_<op>__<isa>; the
 * double underscore splits what is computed from how.
 */
#ifndef VIT_KERNELS_H
#define VIT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- CPU features (run-time detection) ---------------------------------- */
enum {
    VK_CPU_X86_SSE41      = 1u << 0,
    VK_CPU_X86_AVX2       = 1u << 1,
    VK_CPU_X86_FMA        = 1u << 2,
    VK_CPU_X86_AVX512F    = 1u << 3,
    VK_CPU_X86_AVX512BW   = 1u << 4,
    VK_CPU_X86_AVX512VNNI = 1u << 5,
    VK_CPU_X86_AVXVNNI    = 1u << 6,
    VK_CPU_ARM_NEON       = 1u << 8,
    VK_CPU_ARM_DOTPROD    = 1u << 9,
};
/* The features of the CPU this process runs on (and that the OS enables). */
uint32_t vk_cpu_features(void);
/* The name of the architecture xsimd's baseline kernels were compiled for. */
const char *vk_xsimd_arch_name(void);

/* ---- fp32 GEMM with packed weights -------------------------------------- */
/*
 * Weights come in PyTorch's Linear layout W[n][k] and are packed once, at load,
 * into panels of VK_F32_NR output columns: packed[(p * k + kk) * NR + j] =
 * W[p * NR + j][kk], zero for columns past n. The same layout serves every ISA.
 */
#define VK_F32_NR 16
size_t vk_f32_packed_count(size_t n, size_t k);
/* Pack W[n][k] (row stride ldw) into the panel layout. */
void vk_f32_pack_nk(const float *w, size_t ldw, size_t n, size_t k, float *packed);
/* Pack B[k][n] (row stride ldb, i.e. already transposed) into the panel layout. */
void vk_f32_pack_kn(const float *b, size_t ldb, size_t k, size_t n, float *packed);

/*
 * C[m][n] = (accumulate ? C : 0) + A[m][k] * W^T + bias  (bias may be NULL)
 * A has row stride lda, C row stride ldc. When accumulate is 0, C is only written.
 */
typedef void (*vk_f32_gemm_fn)(size_t m, size_t n, size_t k,
                               const float *a, size_t lda,
                               const float *packed, const float *bias,
                               float *c, size_t ldc, int accumulate);
void vk_f32_gemm_12x16__avx512f(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                const float *packed, const float *bias, float *c, size_t ldc,
                                int accumulate);
void vk_f32_gemm_6x16__avx2_fma(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                const float *packed, const float *bias, float *c, size_t ldc,
                                int accumulate);
void vk_f32_gemm_4x16__xsimd(size_t m, size_t n, size_t k, const float *a, size_t lda,
                             const float *packed, const float *bias, float *c, size_t ldc,
                             int accumulate);

/*
 * The same GEMM with B[k][n] read in place (row stride ldb >= n) instead of packed:
 * C[m][n] = (accumulate ? C : 0) + A[m][k] * B + bias. For operands produced during
 * the forward pass (attention's V), where packing would copy the matrix once per use.
 */
typedef void (*vk_f32_gemm_kn_fn)(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                  const float *b, size_t ldb, const float *bias,
                                  float *c, size_t ldc, int accumulate);
void vk_f32_gemm_kn_12x16__avx512f(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                   const float *b, size_t ldb, const float *bias, float *c,
                                   size_t ldc, int accumulate);
void vk_f32_gemm_kn_6x16__avx2_fma(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                   const float *b, size_t ldb, const float *bias, float *c,
                                   size_t ldc, int accumulate);
void vk_f32_gemm_kn_4x16__xsimd(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                const float *b, size_t ldb, const float *bias, float *c,
                                size_t ldc, int accumulate);

/* ---- fp32 element-wise and row kernels (xsimd baseline arch) ------------- */
/* y[i] = gelu(x[i]) in place; exact erf form. */
void vk_f32_gelu_erf__xsimd(float *x, size_t n);
/* y[i] = gelu(x[i]) in place; tanh approximation. */
void vk_f32_gelu_tanh__xsimd(float *x, size_t n);
/* y[i] = x[i] · sigmoid(1.702 · x[i]) in place: CLIP's quick_gelu. */
void vk_f32_gelu_quick__xsimd(float *x, size_t n);
/* LayerNorm of `rows` rows of length n: y = (x - mean) / sqrt(var + eps) * gamma + beta.
 * x and y have row strides ldx and ldy and may alias exactly (in place). */
void vk_f32_layernorm__xsimd(size_t rows, size_t n, const float *x, size_t ldx,
                             const float *gamma, const float *beta, float eps,
                             float *y, size_t ldy);
/* Softmax over each of `rows` rows of length n (row stride ld), in place,
 * after multiplying by `scale`. */
void vk_f32_softmax__xsimd(size_t rows, size_t n, float *x, size_t ld, float scale);

/* The same four with AVX-512F intrinsics (own exp/erfc approximations, ~1 ulp). */
void vk_f32_gelu_erf__avx512f(float *x, size_t n);
void vk_f32_gelu_tanh__avx512f(float *x, size_t n);
void vk_f32_gelu_quick__avx512f(float *x, size_t n);
void vk_f32_layernorm__avx512f(size_t rows, size_t n, const float *x, size_t ldx,
                               const float *gamma, const float *beta, float eps,
                               float *y, size_t ldy);
void vk_f32_softmax__avx512f(size_t rows, size_t n, float *x, size_t ld, float scale);
/* The same four with AVX2 + FMA intrinsics (the same approximations, 8 lanes). */
void vk_f32_gelu_erf__avx2_fma(float *x, size_t n);
void vk_f32_gelu_tanh__avx2_fma(float *x, size_t n);
void vk_f32_gelu_quick__avx2_fma(float *x, size_t n);
void vk_f32_layernorm__avx2_fma(size_t rows, size_t n, const float *x, size_t ldx,
                                const float *gamma, const float *beta, float eps,
                                float *y, size_t ldy);
void vk_f32_softmax__avx2_fma(size_t rows, size_t n, float *x, size_t ld, float scale);
typedef void (*vk_f32_map_fn)(float *x, size_t n);
typedef void (*vk_f32_layernorm_fn)(size_t rows, size_t n, const float *x, size_t ldx,
                                    const float *gamma, const float *beta, float eps,
                                    float *y, size_t ldy);
typedef void (*vk_f32_softmax_fn)(size_t rows, size_t n, float *x, size_t ld, float scale);
/* Depthwise 3x3 convolution with bias, padding 1, over NHWC maps [images, h, w, c];
 * weights tap-major [9, c] (PVT v2's Mix-FFN). y must not alias x. */
typedef void (*vk_f32_dwconv3x3_fn)(size_t images, size_t h, size_t w, size_t c, const float *x,
                                    const float *weight, const float *bias, float *y);
void vk_f32_dwconv3x3__xsimd(size_t images, size_t h, size_t w, size_t c, const float *x,
                             const float *weight, const float *bias, float *y);
#if defined(__x86_64__)
void vk_f32_dwconv3x3__avx512f(size_t images, size_t h, size_t w, size_t c, const float *x,
                               const float *weight, const float *bias, float *y);
void vk_f32_dwconv3x3__avx2_fma(size_t images, size_t h, size_t w, size_t c, const float *x,
                                const float *weight, const float *bias, float *y);
#endif

/* ---- fp32 kernel sets as data ----------------------------------------------- */
/*
 * One row per instruction-set level (XNNPACK's gemm-config in spirit): the fp32 GEMM
 * (packed weights and B read in place, tile mr x nr), the row kernels, the peak loop that
 * measures the GEMM's instructions (VK_PEAK_*), the CPU features the level needs, and
 * int8_features: the features the int8 route chosen beside this level may use (the int8
 * route is vk_qs8_gemm_config_for(cpu & int8_features, ...), so `--kernels avx2` on an
 * AVX-512 machine runs what a Zen 3 runs). Model code and tests pick from this table.
 */
typedef void (*vk_qs8_quantize_fn)(size_t rows, size_t k, const float *x, size_t ldx,
                                   int8_t *q, size_t ldq, float *scale);
typedef void (*vk_qs8_quantize_static_fn)(size_t rows, size_t k, const float *x, size_t ldx,
                                          float s, int8_t *q, size_t ldq, float *scale);
typedef struct vk_f32_config {
    const char *level;        /* the --kernels name: avx512f, avx2, xsimd */
    const char *gemm_name;
    vk_f32_gemm_fn gemm;
    vk_f32_gemm_kn_fn gemm_kn;
    size_t mr, nr;
    const char *rowops_name;
    vk_f32_layernorm_fn layernorm;
    vk_f32_map_fn gelu_erf;
    vk_f32_map_fn gelu_tanh;
    vk_f32_map_fn gelu_quick;
    vk_f32_softmax_fn softmax;
    vk_f32_dwconv3x3_fn dwconv3x3;
    /* The signed int8 row quantizer of this level (operands quantized at run time that a
     * GEMM reads as weights: int8 attention's K and V). */
    vk_qs8_quantize_fn quantize_signed;
    /* The same per column (int8 attention's V per channel) into row-major q [rows][ldq]:
     * bit-identical to quantize_signed over the transpose (vk_qs8_quantize_columns__xsimd). */
    vk_qs8_quantize_fn quantize_columns;
    int peak;
    uint32_t requires;
    uint32_t int8_features;
} vk_f32_config;
/* Every fp32 level compiled for this architecture, best first (the last needs nothing). */
size_t vk_f32_configs(const vk_f32_config **table);
/* The best level a CPU with these features can run: a pure function of the bits. */
const vk_f32_config *vk_f32_config_for(uint32_t features);

/* ---- int8 (qs8) quantized GEMM ------------------------------------------ */
/*
 * Scheme (docs/QUANTIZATION.md): symmetric int8 in [-127, 127], no zero points.
 * Activations: one scale per row (dynamic) or per tensor (static); rows are stored
 * with K padded to a multiple of 4 (zeros). Weights W[n][k] are packed once into
 * panels of 16 output columns: for each group of 4 k values, 16 columns x 4 bytes
 * (64 bytes, the layout of VNNI dpbusd, maddubs+madd and ARM sdot alike), and after
 * the groups the 16 int32 column sums (for the unsigned-activation VNNI path).
 * The GEMM accumulates exact int32 sums acc = sum_k A[m][k] * W[n][k] and, in its
 * epilogue, writes y[m][n] = (accumulate ? y : 0) + (float(acc) * (a_scale[m] * w_scale[n])
 * + bias[n]) (bias may be NULL), evaluated in exactly this order without FMA, so every
 * route is bit-identical to the Swift reference.
 */
#define VK_QS8_NR 16
size_t vk_qs8_padded_k(size_t k);
size_t vk_qs8_packed_bytes(size_t n, size_t k);
void vk_qs8_pack_nk(const int8_t *w, size_t n, size_t k, void *packed);
void vk_qs8_pack_kn(const int8_t *wt, size_t ldw, size_t n, size_t k, size_t kp, void *packed);

#define VK_QS8_GEMM_ARGS size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed, \
    const float *a_scale, const float *w_scale, const float *bias, float *y, size_t ldy, int accumulate
typedef void (*vk_qs8_gemm_fn)(VK_QS8_GEMM_ARGS);
void vk_qs8_gemm_4x16__scalar(VK_QS8_GEMM_ARGS);
void vk_qs8_gemm_4x16__sse41(VK_QS8_GEMM_ARGS);
void vk_qs8_gemm_4x16__avx2(VK_QS8_GEMM_ARGS);
/* AVX-VNNI (VEX vpdpbusd on ymm; Alder Lake and later Intel client cores): activations
 * + 128 as uint8 (the *_u8 quantizers), 128 x the panel's column sums removed. */
void vk_qs8_gemm_6x16__avxvnni(VK_QS8_GEMM_ARGS);
/* The same source compiled with the EVEX encoding (needs AVX-512 VL + VNNI): not a route,
 * only so that a host without AVX-VNNI can execute and test the AVX-VNNI kernel's code. */
void vk_qs8_gemm_6x16__avxvnni_evex_twin(VK_QS8_GEMM_ARGS);
/* For weights within ±63 (7-bit files) only: activations + 128 as uint8 straight into
 * vpmaddubsw (no sign trick), the panel's column sums removing the offset. */
void vk_qs8_gemm_4x16__avx2_w7(VK_QS8_GEMM_ARGS);
/* Takes activations offset by +128 (uint8 bytes, as the *_u8 quantizers write them). */
void vk_qs8_gemm_8x32__avx512vnni(VK_QS8_GEMM_ARGS);
void vk_qs8_gemm_4x16__neon(VK_QS8_GEMM_ARGS);
void vk_qs8_gemm_4x16__neondot(VK_QS8_GEMM_ARGS);

/*
 * The 8-column, 16-deep layout of the c16 kernels (NEON without dot product): panels of
 * 8 output columns; for each block of 16 k values, the 8 columns' 16 bytes in turn (128
 * bytes), zero past n and k. Activation rows must be padded (with zeros) to a multiple of 16.
 */
size_t vk_qs8_packed_bytes_c16(size_t n, size_t k);
void vk_qs8_pack_nk_c16(const int8_t *w, size_t n, size_t k, void *packed);
void vk_qs8_pack_kn_c16(const int8_t *wt, size_t ldw, size_t n, size_t k, size_t kp, void *packed);
/* SMULL + SMLAL2 + SADALP: 16 multiply-adds of a row and a column in 3 instructions
 * (the int16 pair sums stay within ±32258 because both operands are in [-127, 127]). */
void vk_qs8_gemm_2x8c16__neon(VK_QS8_GEMM_ARGS);

/* ---- int8 GEMM routes as data ------------------------------------------- */
/*
 * One row per route, in the style of XNNPACK's gemm-config: the microkernel, its tile
 * (mr rows, nr columns per panel, kr: the k-group, to which activation rows are padded),
 * its packer and packed size, whether it takes activations + 128, the CPU features
 * it needs, its activation quantizers and its peak loop. Model code and tests pick from this table; nothing else lists routes.
 */
typedef struct vk_qs8_gemm_config {
    const char *name;
    vk_qs8_gemm_fn gemm;
    size_t mr, nr, kr;
    size_t (*packed_bytes)(size_t n, size_t k);
    void (*pack)(const int8_t *w, size_t n, size_t k, void *packed);
    int offset_input;
    uint32_t requires;
    /* The largest |weight| the kernel is exact for: 127, or 63 for kernels that rely on
     * 7-bit weights (chosen per layer, for layers whose weights fit). */
    int max_weight;
    /* The activation quantizers (dynamic, static) writing this kernel's input form, with
     * the instructions its required features allow. */
    vk_qs8_quantize_fn quantize;
    vk_qs8_quantize_static_fn quantize_static;
    /* The peak loop that measures this kernel's instructions (VK_PEAK_*). */
    int peak;
    /* `pack` of W [n][k] given as Wt [k][n] (row stride ldw; rows k..kp-1 taken as zero):
     * the same bytes as pack(W, n, kp) (int8 attention's V, quantized token-major). */
    void (*pack_kn)(const int8_t *wt, size_t ldw, size_t n, size_t k, size_t kp, void *packed);
} vk_qs8_gemm_config;
/* Every int8 route compiled for this architecture, best first. */
size_t vk_qs8_gemm_configs(const vk_qs8_gemm_config **table);
/* The best route a CPU with these features can run for weights up to max_weight in
 * magnitude (127: any int8 layer): a pure function of its arguments, so a test can ask
 * what a Cortex-A72 or a Zen 3 gets. Never NULL (the scalar route). */
const vk_qs8_gemm_config *vk_qs8_gemm_config_for(uint32_t features, int max_weight);
/* Test twins, never selected: a route's source compiled for other instructions so that a
 * host without the route's features can still execute and check its code (the AVX-VNNI
 * kernel EVEX-encoded, run on AVX-512 VNNI). Each row is its route's row with the twin's
 * name, GEMM and required features; the conformance program and make bench-qs8-routes
 * run the ones this CPU can. */
size_t vk_qs8_gemm_twins(const vk_qs8_gemm_config **table);

/* Dynamic quantization of `rows` rows of length k (row stride ldx) into q (row
 * stride ldq >= vk_qs8_padded_k(k), padding zeroed): scale[r] = max|x| / 127
 * (1 for an all-zero row), q = clamp(rint(x * (127 / max|x|)), -127, 127). */
void vk_qs8_quantize_rows__xsimd(size_t rows, size_t k, const float *x, size_t ldx,
                                 int8_t *q, size_t ldq, float *scale);
/* Static quantization with one given scale: q = clamp(rint(x * (1 / s)), -127, 127);
 * writes s into scale[r] for every row. */
void vk_qs8_quantize_rows_static__xsimd(size_t rows, size_t k, const float *x, size_t ldx,
                                        float s, int8_t *q, size_t ldq, float *scale);
/* Per column: for c < cols (the `k` argument), scale[c] = max_r |x[r][c]| / 127 and
 * q[r][c] as vk_qs8_quantize_rows__xsimd gives row c of the transpose; q row-major with
 * stride ldq, no padding written. */
void vk_qs8_quantize_columns__xsimd(size_t rows, size_t cols, const float *x, size_t ldx,
                                    int8_t *q, size_t ldq, float *scale);
void vk_qs8_quantize_columns__avx512f(size_t rows, size_t cols, const float *x, size_t ldx,
                                      int8_t *q, size_t ldq, float *scale);
/* The same two, AVX-512F (bit-identical: cvtps2dq rounds to nearest even). */
void vk_qs8_quantize_rows__avx512f(size_t rows, size_t k, const float *x, size_t ldx,
                                   int8_t *q, size_t ldq, float *scale);
void vk_qs8_quantize_rows_static__avx512f(size_t rows, size_t k, const float *x, size_t ldx,
                                          float s, int8_t *q, size_t ldq, float *scale);
/* The same two, AVX2 (bit-identical). */
void vk_qs8_quantize_rows__avx2(size_t rows, size_t k, const float *x, size_t ldx,
                                int8_t *q, size_t ldq, float *scale);
void vk_qs8_quantize_rows_static__avx2(size_t rows, size_t k, const float *x, size_t ldx,
                                       float s, int8_t *q, size_t ldq, float *scale);
/* The same storing q + 128 (uint8; padding 128), for vk_qs8_gemm_4x16__avx2_w7. */
void vk_qs8_quantize_rows_u8__avx2(size_t rows, size_t k, const float *x, size_t ldx,
                                   int8_t *q, size_t ldq, float *scale);
void vk_qs8_quantize_rows_static_u8__avx2(size_t rows, size_t k, const float *x, size_t ldx,
                                          float s, int8_t *q, size_t ldq, float *scale);
/* The AVX-512F quantizers storing q + 128 as uint8 bytes (padding = 128), the input
 * form of the VNNI route (its dpbusd multiplies unsigned by signed bytes). */
void vk_qs8_quantize_rows_u8__avx512f(size_t rows, size_t k, const float *x, size_t ldx,
                                      int8_t *q, size_t ldq, float *scale);
void vk_qs8_quantize_rows_static_u8__avx512f(size_t rows, size_t k, const float *x, size_t ldx,
                                             float s, int8_t *q, size_t ldq, float *scale);

/* ---- 8-bit image resampling (Pillow's fixed point) ---------------------- */
/*
 * The two passes of Pillow's separable resize of 8-bit images (Resample.c, 22-bit
 * coefficients): every route is bit-identical to the scalar one and to the Swift
 * reference (Resample.resample8 without a route). Sums are int32 with wrapping
 * arithmetic, so the order of the additions does not matter.
 *
 * Horizontal: out[x*c + ch] = clip8(2^21 + sum_i row[(start[x] + i)*c + ch] * k(x, i))
 * for x < outputs, c = channels (1..4), clip8(s) = clamp(s >> 22, 0, 255). The
 * coefficients k come packed for the route (`lanes` int32 a group: NEON 12, three vectors): for each output,
 * groups of G = vk_u8_resample_taps_per_group(lanes, c) taps, each group `lanes` int32
 * (tap t of the group at lanes t*c .. t*c+c-1, the rest zero), zero past count[x];
 * `packed_stride` int32 per output. Reads stay below row_end (the end of the bytes the
 * caller may read): an output whose vector loads would pass it is summed tap by tap.
 */
typedef void (*vk_u8_resample_h_fn)(const uint8_t *row, const uint8_t *row_end, size_t outputs,
                                    size_t channels, const int32_t *start, const int32_t *count,
                                    const int32_t *packed, size_t packed_stride, uint8_t *out);
/* Vertical, one input row into the sums of one output row: acc[i] += mid[i] * k. */
typedef void (*vk_u8_resample_v_fn)(const uint8_t *mid, size_t n, int32_t k, int32_t *acc);
/* The sums to bytes: out[i] = clip8(acc[i]). */
typedef void (*vk_u8_resample_clip_fn)(const int32_t *acc, size_t n, uint8_t *out);

void vk_u8_resample_h__scalar(const uint8_t *row, const uint8_t *row_end, size_t outputs, size_t channels,
                              const int32_t *start, const int32_t *count, const int32_t *packed,
                              size_t packed_stride, uint8_t *out);
void vk_u8_resample_v__scalar(const uint8_t *mid, size_t n, int32_t k, int32_t *acc);
void vk_u8_resample_clip__scalar(const int32_t *acc, size_t n, uint8_t *out);
void vk_u8_resample_h__avx2(const uint8_t *row, const uint8_t *row_end, size_t outputs, size_t channels,
                            const int32_t *start, const int32_t *count, const int32_t *packed,
                            size_t packed_stride, uint8_t *out);
void vk_u8_resample_v__avx2(const uint8_t *mid, size_t n, int32_t k, int32_t *acc);
void vk_u8_resample_clip__avx2(const int32_t *acc, size_t n, uint8_t *out);
void vk_u8_resample_h__avx512f(const uint8_t *row, const uint8_t *row_end, size_t outputs, size_t channels,
                               const int32_t *start, const int32_t *count, const int32_t *packed,
                               size_t packed_stride, uint8_t *out);
void vk_u8_resample_v__avx512f(const uint8_t *mid, size_t n, int32_t k, int32_t *acc);
void vk_u8_resample_clip__avx512f(const int32_t *acc, size_t n, uint8_t *out);
void vk_u8_resample_h__neon(const uint8_t *row, const uint8_t *row_end, size_t outputs, size_t channels,
                            const int32_t *start, const int32_t *count, const int32_t *packed,
                            size_t packed_stride, uint8_t *out);
void vk_u8_resample_v__neon(const uint8_t *mid, size_t n, int32_t k, int32_t *acc);
void vk_u8_resample_clip__neon(const int32_t *acc, size_t n, uint8_t *out);

/* YUV 4:2:0 → RGB of pixels x0 .. x0+n-1 of one row, as OpenCV's cvtColor
 * (COLOR_YUV2RGB_I420 / _NV12): BT.601 limited range, 20-bit fixed point, Y below 16 as
 * 16, each pixel the chroma of its 2×2 block. y: the row's luma (index x); u, v: its chroma
 * row (pixel x reads u[(x / 2) * chroma_step]; NV12: chroma_step 2, v = u + 1). Writes 3n
 * bytes at rgb; reads only the samples of those pixels. */
typedef void (*vk_u8_yuv420_rgb_fn)(const uint8_t *y, const uint8_t *u, const uint8_t *v, size_t chroma_step,
                                    size_t x0, size_t n, uint8_t *rgb);
void vk_u8_yuv420_rgb__scalar(const uint8_t *y, const uint8_t *u, const uint8_t *v, size_t chroma_step,
                              size_t x0, size_t n, uint8_t *rgb);
void vk_u8_yuv420_rgb__avx2(const uint8_t *y, const uint8_t *u, const uint8_t *v, size_t chroma_step,
                            size_t x0, size_t n, uint8_t *rgb);
void vk_u8_yuv420_rgb__neon(const uint8_t *y, const uint8_t *u, const uint8_t *v, size_t chroma_step,
                            size_t x0, size_t n, uint8_t *rgb);

/* Taps per coefficient group: the largest power of two G with G * channels <= lanes. */
size_t vk_u8_resample_taps_per_group(size_t lanes, size_t channels);
/* int32 per output of the packed coefficients of taps `width` wide (an upper bound on count). */
size_t vk_u8_resample_packed_stride(size_t lanes, size_t channels, size_t width);
/* Packs `fixed` (outputs x width int32, output x's count[x] first ones used). */
void vk_u8_resample_pack(size_t lanes, size_t channels, size_t outputs, size_t width,
                         const int32_t *fixed, const int32_t *count, int32_t *packed);

/* One row per route of the 8-bit image kernels (resampling passes, YUV rows), best first;
 * the last (scalar) runs everywhere. */
typedef struct vk_u8_resample_config {
    const char *name;         /* avx512f, avx2, neon, scalar */
    size_t lanes;             /* the packing's vector width in int32 */
    vk_u8_resample_h_fn horizontal;
    vk_u8_resample_v_fn vertical;
    vk_u8_resample_clip_fn clip;
    vk_u8_yuv420_rgb_fn yuv420_rgb;
    uint32_t requires;
} vk_u8_resample_config;
size_t vk_u8_resample_configs(const vk_u8_resample_config **table);
/* The best route a CPU with these features can run (never NULL). */
const vk_u8_resample_config *vk_u8_resample_config_for(uint32_t features);

/* ---- the core's peak ------------------------------------------------------ */
/* Register-only loops of independent multiply-adds with the instructions of a GEMM
 * route: `route` names it (VK_PEAK_*), VK_PEAK_BEST picks this CPU's best. Each
 * iteration's operands pass through an empty asm barrier, so the compiler cannot
 * hoist the multiplies out of the loop (a loop of constant products measures nothing).
 * Return the operations performed (2 per multiply-add) and set *isa to what was
 * measured; time the call to get a rate. Return 0 (isa "none") where the CPU lacks the
 * route's instructions or the route has no int8 dot product. */
enum {
    VK_PEAK_BEST = 0,
    VK_PEAK_XSIMD = 1,     /* fp32: xsimd's baseline fma; int8: SSE4.1 maddubs (x86) or NEON smull (ARM) */
    VK_PEAK_AVX2 = 2,      /* fp32: AVX2 vfmadd; int8: AVX2 vpmaddubsw + vpmaddwd */
    VK_PEAK_AVX512 = 3,    /* fp32: AVX-512 vfmadd; int8: AVX-512 VNNI vpdpbusd */
    VK_PEAK_NEONDOT = 4,   /* int8: ARMv8.2 sdot */
    VK_PEAK_AVXVNNI = 5,   /* int8: AVX-VNNI vpdpbusd on ymm (fp32: as VK_PEAK_AVX2) */
};
double vk_peak_f32_fma(size_t iterations, int route, const char **isa);
double vk_peak_qs8_dot(size_t iterations, int route, const char **isa);

/* ---- thread pool ---------------------------------------------------------- */
/*
 * A persistent pool: threads are created once; vk_pool_run hands out task indices
 * 0..tasks-1 to the workers and the calling thread, and returns when all are done.
 * Running allocates nothing. worker is in 0..threads-1 (0 is the caller), so a task
 * can use per-worker scratch.
 */
typedef struct vk_pool vk_pool;
typedef void (*vk_task_fn)(void *context, size_t task, size_t worker);
vk_pool *vk_pool_create(size_t threads);
void vk_pool_destroy(vk_pool *pool);
size_t vk_pool_threads(const vk_pool *pool);
void vk_pool_run(vk_pool *pool, vk_task_fn fn, void *context, size_t tasks);

#ifdef __cplusplus
}
#endif

#endif
