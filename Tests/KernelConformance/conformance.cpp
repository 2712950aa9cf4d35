// Kernel conformance for cross-built targets (ARM64 under qemu) and this machine: every
// route of the two tables (vk_f32_configs, vk_qs8_gemm_configs) the CPU can run is compared
// with a scalar reference written here — int8 GEMMs and activation quantizers bit for
// bit, fp32 GEMMs and row kernels within K·epsilon / ulp bounds — and only routes the
// CPU's features allow are ever called. Prints `N passed, M failed`.
//
//   conformance [--expect-dotprod yes|no]
#include "vit_kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>
#include <thread>
#include <chrono>

#pragma STDC FP_CONTRACT OFF

static int passed = 0, failed = 0;
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64() {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static float next_float() { return (float)((int64_t)(next_u64() >> 40) - (1 << 23)) / (float)(1 << 23); }
static int8_t next_i8() { return (int8_t)((int)(next_u64() % 255) - 127); }

static void check(bool ok, const char *what) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        printf("FAIL %s\n", what);
    }
}

// Scalar references (the same definitions as Sources/VitEdge/Kernels/Reference.swift
// and Quantize/Quantization.swift).
static void ref_qs8(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const int8_t *w, const float *sa,
                    const float *sw, const float *bias, float *y, size_t ldy, int accumulate) {
    for (size_t i = 0; i < m; ++i)
        for (size_t j = 0; j < n; ++j) {
            int32_t acc = 0;
            for (size_t p = 0; p < k; ++p) acc += (int32_t)a[i * lda + p] * (int32_t)w[j * k + p];
            float v = (float)acc * (sa[i] * sw[j]);
            if (bias) v = v + bias[j];
            y[i * ldy + j] = accumulate ? y[i * ldy + j] + v : v;
        }
}

static void ref_quantize(size_t rows, size_t k, const float *x, int8_t *q, size_t ldq, float *scale) {
    for (size_t r = 0; r < rows; ++r) {
        float m = 0;
        for (size_t i = 0; i < k; ++i) m = fabsf(x[r * k + i]) > m ? fabsf(x[r * k + i]) : m;
        const float inv = m == 0 ? 0 : 127.0f / m;
        scale[r] = m == 0 ? 1 : m / 127.0f;
        for (size_t i = 0; i < ldq; ++i) {
            float v = i < k ? nearbyintf(x[r * k + i] * inv) : 0;
            v = v < -127 ? -127 : (v > 127 ? 127 : v);
            q[r * ldq + i] = (int8_t)v;
        }
    }
}

// Pillow's 8-bit passes as Resample.c writes them (ImagingResampleHorizontal_8bpc and the
// vertical one): coefficients k[x * width + i], sums from 1 << 21, clip8 of >> 22.
static uint8_t ref_clip8(uint32_t s) {
    const int32_t v = (int32_t)s >> 22;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Every resampling route against the loops above, bit for bit: random rows (exactly as
// long as the taps read, so a read past row_end is a read past the allocation), taps
// of Pillow's shape (a sliding window, up to 40 wide, some empty) with coefficients of
// Pillow's magnitude and beyond, 1 to 4 channels; the vertical pass and clip on every length.
static void check_resample(uint32_t f) {
    const vk_u8_resample_config *table = nullptr;
    const size_t n_routes = vk_u8_resample_configs(&table);
    check(strcmp(table[n_routes - 1].name, "scalar") == 0 && table[n_routes - 1].requires == 0,
          "the last resampling route runs everywhere");
    check(vk_u8_resample_config_for(0) == &table[n_routes - 1], "no features: the scalar resampling route");
    for (size_t r = 0; r < n_routes; ++r) {
        const vk_u8_resample_config *c = &table[r];
        if ((c->requires & f) != c->requires) {
            printf("(resampling route %s is not executed on this CPU)\n", c->name);
            continue;
        }
        bool ok_h = true, ok_v = true;
        for (int trial = 0; trial < 300; ++trial) {
            const size_t ch = 1 + next_u64() % 4, outputs = 1 + next_u64() % 40, width = 1 + next_u64() % 40;
            const bool huge = trial % 7 == 0;  // coefficients beyond Pillow's range: wrapping sums
            std::vector<int32_t> start(outputs), count(outputs), fixed(outputs * width);
            size_t in_size = 0;
            for (size_t x = 0; x < outputs; ++x) {
                start[x] = (int32_t)(x * (1 + next_u64() % 3) / 2);
                count[x] = next_u64() % 9 == 0 ? 0 : (int32_t)(1 + next_u64() % width);
                for (size_t i = 0; i < width; ++i)
                    fixed[x * width + i] = huge ? (int32_t)next_u64() : (int32_t)(next_u64() % (3 << 21)) - (1 << 21);
                if (count[x] > 0 && (size_t)(start[x] + count[x]) > in_size) in_size = start[x] + count[x];
            }
            std::vector<uint8_t> row(in_size * ch);
            for (auto &b : row) b = (uint8_t)next_u64();
            std::vector<uint8_t> want(outputs * ch), got(outputs * ch, 0xAB);
            for (size_t x = 0; x < outputs; ++x)
                for (size_t k = 0; k < ch; ++k) {
                    uint32_t sum = 1u << 21;
                    for (int32_t i = 0; i < count[x]; ++i)
                        sum += (uint32_t)row[(start[x] + i) * ch + k] * (uint32_t)fixed[x * width + i];
                    want[x * ch + k] = ref_clip8(sum);
                }
            const size_t stride = vk_u8_resample_packed_stride(c->lanes, ch, width);
            std::vector<int32_t> packed(outputs * stride + 1);
            vk_u8_resample_pack(c->lanes, ch, outputs, width, fixed.data(), count.data(), packed.data());
            static const uint8_t none = 0;  // every window empty: nothing is read
            const uint8_t *base = row.empty() ? &none : row.data();
            c->horizontal(base, base + row.size(), outputs, ch, start.data(), count.data(), packed.data(), stride, got.data());
            ok_h &= want == got;
            // Vertical: a row of any length into the sums, then clipped.
            const size_t len = next_u64() % 100;
            const int32_t k = huge ? (int32_t)next_u64() : (int32_t)(next_u64() % (3 << 21)) - (1 << 21);
            std::vector<uint8_t> mid(len);
            std::vector<int32_t> acc(len), acc_ref(len);
            for (size_t i = 0; i < len; ++i) {
                mid[i] = (uint8_t)next_u64();
                acc[i] = acc_ref[i] = (int32_t)(next_u64() >> (huge ? 0 : 34));
                acc_ref[i] = (int32_t)((uint32_t)acc_ref[i] + (uint32_t)mid[i] * (uint32_t)k);
            }
            c->vertical(mid.data(), len, k, acc.data());
            ok_v &= acc == acc_ref;
            std::vector<uint8_t> clipped(len), clipped_ref(len);
            for (size_t i = 0; i < len; ++i) clipped_ref[i] = ref_clip8((uint32_t)acc[i]);
            c->clip(acc.data(), len, clipped.data());
            ok_v &= clipped == clipped_ref;
        }
        // YUV rows: I420 and NV12 chroma, every start parity and length, exact buffers.
        bool ok_yuv = true;
        for (int trial = 0; trial < 400; ++trial) {
            const size_t w = 1 + next_u64() % 70, x0 = next_u64() % w, n = next_u64() % (w - x0 + 1);
            const size_t cw = (w + 1) / 2;
            const bool nv12 = trial % 2 == 1;
            std::vector<uint8_t> yrow(w), chroma(2 * cw);
            for (auto &b : yrow) b = (uint8_t)next_u64();
            for (auto &b : chroma) b = (uint8_t)next_u64();
            const uint8_t *u = chroma.data(), *v = nv12 ? chroma.data() + 1 : chroma.data() + cw;
            const size_t step = nv12 ? 2 : 1;
            std::vector<uint8_t> want(3 * n), got(3 * n, 0xAB);
            for (size_t i = 0; i < n; ++i) {
                const size_t x = x0 + i;
                const int cu = u[(x / 2) * step] - 128, cv = v[(x / 2) * step] - 128;
                const int l = (yrow[x] < 16 ? 0 : yrow[x] - 16) * 1220542 + (1 << 19);
                const int s[3] = {(l + 1673527 * cv) >> 20, (l - 852492 * cv - 409993 * cu) >> 20, (l + 2116026 * cu) >> 20};
                for (int k = 0; k < 3; ++k) want[3 * i + k] = (uint8_t)(s[k] < 0 ? 0 : s[k] > 255 ? 255 : s[k]);
            }
            c->yuv420_rgb(yrow.data(), u, v, step, x0, n, got.data());
            ok_yuv &= want == got;
        }
        // Every (Y, U, V) once, I420 and NV12, in rows of 2048 chroma samples: the routes
        // split OpenCV's constants and regroup its sums, which random rows might not cover.
        bool ok_all = true;
        {
            const size_t W = 4096;
            std::vector<uint8_t> yrow(W), u(W / 2), v(W / 2), uv(W), want(3 * W), got(3 * W);
            for (int yv = 0; yv < 256 && ok_all; ++yv) {
                for (auto &b : yrow) b = (uint8_t)yv;
                for (unsigned block = 0; block < 32; ++block) {
                    for (size_t i = 0; i < W / 2; ++i) {
                        const unsigned p = block * 2048 + (unsigned)i;
                        u[i] = uv[2 * i] = (uint8_t)(p & 255);
                        v[i] = uv[2 * i + 1] = (uint8_t)(p >> 8);
                    }
                    vk_u8_yuv420_rgb__scalar(yrow.data(), u.data(), v.data(), 1, 0, W, want.data());
                    c->yuv420_rgb(yrow.data(), u.data(), v.data(), 1, 0, W, got.data());
                    ok_all &= want == got;
                    c->yuv420_rgb(yrow.data(), uv.data(), uv.data() + 1, 2, 0, W, got.data());
                    ok_all &= want == got;
                }
            }
        }
        char what[96];
        snprintf(what, sizeof what, "%s YUV 4:2:0 rows to RGB (I420, NV12)", c->name);
        check(ok_yuv, what);
        snprintf(what, sizeof what, "%s YUV 4:2:0 to RGB, every (Y, U, V)", c->name);
        check(ok_all, what);
        snprintf(what, sizeof what, "resampling %s horizontal pass (1-4 channels)", c->name);
        check(ok_h, what);
        snprintf(what, sizeof what, "resampling %s vertical pass and clip", c->name);
        check(ok_v, what);
    }
}

int main(int argc, char **argv) {
    const uint32_t f = vk_cpu_features();
    const bool dot = (f & VK_CPU_ARM_DOTPROD) != 0;
    printf("cpu features: 0x%x (neon %d, dotprod %d), xsimd arch %s\n", f, (f & VK_CPU_ARM_NEON) != 0, dot,
           vk_xsimd_arch_name());
    for (int i = 1; i + 1 < argc; ++i) {
        if (strcmp(argv[i], "--expect-dotprod") == 0) {
            const bool want = strcmp(argv[i + 1], "yes") == 0;
            check(dot == want, want ? "expected the CPU to report dot product" : "expected no dot product");
        }
    }

    // The routes come from the same table the engine selects from; each runs only when
    // this CPU has its features. Selection is checked with literal feature sets too.
    const vk_qs8_gemm_config *table = nullptr;
    const size_t count = vk_qs8_gemm_configs(&table);
    std::vector<const vk_qs8_gemm_config *> routes;
    for (size_t i = 0; i < count; ++i)
        if ((table[i].requires & f) == table[i].requires) routes.push_back(&table[i]);
    for (const vk_qs8_gemm_config *r : routes)
        if (r->max_weight == 127) {
            check(r == vk_qs8_gemm_config_for(f, 127), "the best runnable route for any int8 weights is the one selected");
            break;
        }
#if defined(__x86_64__)
    check(strcmp(vk_qs8_gemm_config_for(VK_CPU_X86_AVX2 | VK_CPU_X86_AVXVNNI, 127)->name, "vk_qs8_gemm_6x16__avxvnni") == 0,
          "AVX2 + AVX-VNNI selects the AVX-VNNI kernel");
#endif
    // Test twins (the AVX-VNNI kernel EVEX-encoded: no emulator here runs AVX-VNNI) are
    // checked like routes where this CPU runs them.
    const vk_qs8_gemm_config *twins = nullptr;
    for (size_t i = 0, n = vk_qs8_gemm_twins(&twins); i < n; ++i) {
        if ((twins[i].requires & f) == twins[i].requires) routes.push_back(&twins[i]);
        else printf("(%s is not executed on this CPU)\n", twins[i].name);
    }
#if defined(__aarch64__)
    check(strcmp(vk_qs8_gemm_config_for(VK_CPU_ARM_NEON, 127)->name, "vk_qs8_gemm_2x8c16__neon") == 0,
          "a Cortex-A72 (NEON, no dot product) gets the c16 kernel");
    check(strcmp(vk_qs8_gemm_config_for(VK_CPU_ARM_NEON | VK_CPU_ARM_DOTPROD, 127)->name, "vk_qs8_gemm_4x16__neondot") == 0,
          "a Cortex-A76 (dot product) gets sdot");
#elif defined(__x86_64__)
    check(strcmp(vk_qs8_gemm_config_for(VK_CPU_X86_SSE41 | VK_CPU_X86_AVX2 | VK_CPU_X86_FMA, 127)->name, "vk_qs8_gemm_4x16__avx2") == 0,
          "a Zen 3 (AVX2, no AVX-512) gets the AVX2 kernel");
    check(strcmp(vk_qs8_gemm_config_for(VK_CPU_X86_SSE41 | VK_CPU_X86_AVX2 | VK_CPU_X86_FMA, 63)->name, "vk_qs8_gemm_4x16__avx2_w7") == 0,
          "a Zen 3 gets the sign-free AVX2 kernel for 7-bit weights");
    check(strcmp(vk_qs8_gemm_config_for(VK_CPU_X86_SSE41 | VK_CPU_X86_AVX2 | VK_CPU_X86_FMA | VK_CPU_X86_AVX512F |
                                        VK_CPU_X86_AVX512BW | VK_CPU_X86_AVX512VNNI, 127)->name,
                 "vk_qs8_gemm_8x32__avx512vnni") == 0,
          "a Zen 4 (AVX-512 VNNI) gets the VNNI kernel");
    check(strcmp(vk_qs8_gemm_config_for(VK_CPU_X86_SSE41 | VK_CPU_X86_AVX2 | VK_CPU_X86_FMA | VK_CPU_X86_AVXVNNI, 63)->name,
                 "vk_qs8_gemm_6x16__avxvnni") == 0,
          "an Alder Lake-N (AVX-VNNI) keeps vpdpbusd for 7-bit weights too");
#endif
    check(strcmp(vk_qs8_gemm_config_for(0, 127)->name, "vk_qs8_gemm_4x16__scalar") == 0, "no features: the scalar route");
    // The fp32 level table, and the int8 route each level's features lead to (the engine's
    // Kernels.forFeatures does exactly this): literal sets of the cores users have.
    auto level_of = [](uint32_t feats, const char *level, const char *int8) {
        const vk_f32_config *c = vk_f32_config_for(feats);
        return strcmp(c->level, level) == 0 && strcmp(vk_qs8_gemm_config_for(feats & c->int8_features, 127)->name, int8) == 0;
    };
    check(vk_f32_config_for(f)->requires == (vk_f32_config_for(f)->requires & f), "the selected fp32 level runs on this CPU");
#if defined(__aarch64__)
    check(level_of(VK_CPU_ARM_NEON, "xsimd", "vk_qs8_gemm_2x8c16__neon"), "Cortex-A72: NEON fp32, c16 int8");
    check(level_of(VK_CPU_ARM_NEON | VK_CPU_ARM_DOTPROD, "xsimd", "vk_qs8_gemm_4x16__neondot"), "Cortex-A76: NEON fp32, sdot int8");
#elif defined(__x86_64__)
    check(level_of(VK_CPU_X86_SSE41 | VK_CPU_X86_AVX2 | VK_CPU_X86_FMA, "avx2", "vk_qs8_gemm_4x16__avx2"), "Zen 3: AVX2 fp32 and int8");
    check(level_of(VK_CPU_X86_SSE41 | VK_CPU_X86_AVX2 | VK_CPU_X86_FMA | VK_CPU_X86_AVX512F | VK_CPU_X86_AVX512BW |
                       VK_CPU_X86_AVX512VNNI, "avx512f", "vk_qs8_gemm_8x32__avx512vnni"),
          "Zen 4: AVX-512 fp32, VNNI int8");
    check(level_of(VK_CPU_X86_SSE41 | VK_CPU_X86_AVX2 | VK_CPU_X86_FMA | VK_CPU_X86_AVXVNNI, "avx2", "vk_qs8_gemm_6x16__avxvnni"),
          "Alder Lake-N (N100): AVX2 fp32, AVX-VNNI int8");
#endif
    check(level_of(0, "xsimd", "vk_qs8_gemm_4x16__scalar"), "no features: the baseline");

    const size_t ms[] = {1, 3, 4, 5, 8, 9, 50}, ns[] = {1, 15, 16, 17, 31, 32, 33, 48, 65}, ks[] = {1, 3, 4, 5, 63, 64, 65, 300};
    for (const vk_qs8_gemm_config *r : routes) {
        int cases = 0, bad = 0;
        for (size_t m : ms)
            for (size_t n : ns)
                for (size_t k : ks)
                    for (int mode = 0; mode < 2; ++mode) {
                        const size_t kp = (k + r->kr - 1) / r->kr * r->kr;
                        std::vector<int8_t> a(m * kp, 0), w(n * k);
                        for (size_t i = 0; i < m; ++i)
                            for (size_t p = 0; p < k; ++p) a[i * kp + p] = next_i8();
                        for (auto &v : w) v = r->max_weight == 127 ? next_i8() : (int8_t)((int)(next_u64() % 127) - 63);
                        std::vector<float> sa(m), sw(n), bias(n), y0(m * (n + 2));
                        for (auto &v : sa) v = fabsf(next_float()) * 0.01f + 1e-4f;
                        for (auto &v : sw) v = fabsf(next_float()) * 0.01f + 1e-4f;
                        for (auto &v : bias) v = next_float();
                        for (auto &v : y0) v = next_float();
                        std::vector<uint8_t> packed(r->packed_bytes(n, k));
                        r->pack(w.data(), n, k, packed.data());
                        std::vector<float> want = y0, got = y0;
                        const float *b = mode == 0 ? bias.data() : nullptr;
                        ref_qs8(m, n, k, a.data(), kp, w.data(), sa.data(), sw.data(), b, want.data(), n + 2, mode);
                        std::vector<int8_t> in = a;
                        if (r->offset_input)
                            for (auto &v : in) v = (int8_t)((uint8_t)v ^ 0x80u);
                        r->gemm(m, n, k, in.data(), kp, packed.data(), sa.data(), sw.data(), b, got.data(), n + 2, mode);
                        ++cases;
                        if (memcmp(want.data(), got.data(), want.size() * sizeof(float)) != 0) {
                            if (bad++ == 0) printf("  %s differs at m=%zu n=%zu k=%zu mode=%d\n", r->name, m, n, k, mode);
                        }
                    }
        printf("%s: %d shapes, %d bit-exact\n", r->name, cases, cases - bad);
        check(bad == 0, r->name);
    }

    // Activation quantization: the quantizers of every runnable int8 route (uint8 forms
    // store q + 128), bit for bit, dynamic and static.
    for (const vk_qs8_gemm_config *r : routes) {
        bool ok = true;
        for (size_t k : {1, 3, 4, 15, 16, 17, 64, 100}) {
            const size_t rows = 3, kp = (k + r->kr - 1) / r->kr * r->kr;
            std::vector<float> x(rows * k);
            for (auto &v : x) v = next_float() * 3;
            for (size_t i = 0; i < k; ++i) x[i] = 0;
            std::vector<int8_t> q1(rows * kp), q2(rows * kp);
            std::vector<float> s1(rows), s2(rows);
            ref_quantize(rows, k, x.data(), q1.data(), kp, s1.data());
            if (r->offset_input)
                for (auto &v : q1) v = (int8_t)((uint8_t)v ^ 0x80u);
            r->quantize(rows, k, x.data(), k, q2.data(), kp, s2.data());
            ok &= q1 == q2 && s1 == s2;
            // Static: one scale for every row (the third row's), values beyond it clamp.
            const float st = s1[2] * 0.5f;
            std::vector<int8_t> q3(rows * kp), q4(rows * kp);
            std::vector<float> s3(rows), s4(rows);
            for (size_t row = 0; row < rows; ++row)
                for (size_t i = 0; i < kp; ++i) {
                    float v = i < k ? nearbyintf(x[row * k + i] * (1.0f / st)) : 0;
                    v = v < -127 ? -127 : (v > 127 ? 127 : v);
                    q3[row * kp + i] = (int8_t)((uint8_t)(int8_t)v ^ (r->offset_input ? 0x80u : 0u));
                }
            r->quantize_static(rows, k, x.data(), k, st, q4.data(), kp, s4.data());
            ok &= q3 == q4 && s4 == std::vector<float>(rows, st);
        }
        char what[160];
        snprintf(what, sizeof what, "%s's quantizers", r->name);
        check(ok, what);
    }

    std::vector<const vk_f32_config *> levels;
    {
        const vk_f32_config *lt = nullptr;
        const size_t nl = vk_f32_configs(&lt);
        for (size_t i = 0; i < nl; ++i)
            if ((lt[i].requires & f) == lt[i].requires) levels.push_back(&lt[i]);
        printf("fp32 levels on this CPU:");
        for (const vk_f32_config *c : levels) printf(" %s", c->level);
        printf("\n");
    }
    // fp32 GEMM of every runnable level within the dot-product error bound.
    for (const vk_f32_config *lv : levels)
    for (size_t m : {1, 5, 13}) for (size_t n : {1, 16, 17, 40}) for (size_t k : {1, 7, 256, 300, 1025}) {
        std::vector<float> a(m * k), w(n * k), bias(n), c(m * n);
        for (auto &v : a) v = next_float();
        for (auto &v : w) v = next_float();
        for (auto &v : bias) v = next_float();
        std::vector<float> packed(vk_f32_packed_count(n, k));
        vk_f32_pack_nk(w.data(), k, n, k, packed.data());
        lv->gemm(m, n, k, a.data(), k, packed.data(), bias.data(), c.data(), n, 0);
        // The same product with B = W^T read in place (row stride n + 3), as attention reads V.
        const size_t ldb = n + 3;
        std::vector<float> bkn(k * ldb, 7.0f), c2(m * n);
        for (size_t p = 0; p < k; ++p)
            for (size_t j = 0; j < n; ++j) bkn[p * ldb + j] = w[j * k + p];
        lv->gemm_kn(m, n, k, a.data(), k, bkn.data(), ldb, bias.data(), c2.data(), n, 0);
        bool ok = true, ok_kn = true;
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < n; ++j) {
                double s = bias[j], mag = fabs(bias[j]);
                for (size_t p = 0; p < k; ++p) {
                    s += (double)a[i * k + p] * w[j * k + p];
                    mag += fabs((double)a[i * k + p] * w[j * k + p]);
                }
                const double tol = 2.0 * (k + 1) * 5.96e-8 * mag + 1e-30;
                if (fabs(c[i * n + j] - s) > tol) ok = false;
                if (fabs(c2[i * n + j] - s) > tol) ok_kn = false;
            }
        check(ok, lv->gemm_name);
        check(ok_kn, lv->gemm_name);
    }

    // The thread pool (spin, then sleep): every task runs exactly once per run, over
    // runs back to back (spinning workers) and after a pause (sleeping workers).
    {
        vk_pool *pool = vk_pool_create(3);
        std::vector<int> counts(1000, 0);
        auto task = [](void *ctx, size_t t, size_t) { static_cast<int *>(ctx)[t] += 1; };
        for (int r = 0; r < 200; ++r) vk_pool_run(pool, task, counts.data(), counts.size());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        vk_pool_run(pool, task, counts.data(), counts.size());
        bool ok = vk_pool_threads(pool) == 3;
        for (int c : counts) ok = ok && c == 201;
        vk_pool_destroy(pool);
        check(ok, "vk_pool_run");
    }

    // Row kernels of every runnable level against double-precision definitions.
    for (const vk_f32_config *c : levels) {
        char what[96];
        const size_t n = 37;
        std::vector<float> x(n), g(n, 1.0f), b(n, 0.0f), y(n);
        for (auto &v : x) v = next_float() * 4;
        c->layernorm(1, n, x.data(), n, g.data(), b.data(), 1e-6f, y.data(), n);
        double mean = 0, var = 0;
        for (float v : x) mean += v;
        mean /= n;
        for (float v : x) var += (v - mean) * (v - mean);
        var /= n;
        bool ok = true;
        for (size_t i = 0; i < n; ++i) ok &= fabs(y[i] - (x[i] - mean) / sqrt(var + 1e-6)) < 1e-5;
        snprintf(what, sizeof what, "%s layernorm", c->rowops_name);
        check(ok, what);
        // GELU swept over [-10, 10] (odd length: a tail), within 4 ulp of max(1, |x|).
        std::vector<float> sweep;
        for (int i = -20000; i <= 20000; ++i) sweep.push_back((float)i / 2000.0f);
        std::vector<float> ge = sweep, gt = sweep, gq = sweep;
        c->gelu_erf(ge.data(), ge.size());
        c->gelu_tanh(gt.data(), gt.size());
        c->gelu_quick(gq.data(), gq.size());
        bool ok_erf = true, ok_tanh = true, ok_quick = true;
        for (size_t i = 0; i < sweep.size(); ++i) {
            const double v = sweep[i], tol = 4 * 1.1920929e-7 * (fabs(v) > 1 ? fabs(v) : 1);
            ok_erf &= fabs(ge[i] - 0.5 * v * (1 + erf(v / sqrt(2.0)))) <= tol;
            ok_tanh &= fabs(gt[i] - 0.5 * v * (1 + tanh(0.79788456080286536 * (v + 0.044715 * v * v * v)))) <= tol;
            ok_quick &= fabs(gq[i] - v / (1 + exp(-1.702 * v))) <= tol;
        }
        snprintf(what, sizeof what, "%s gelu erf", c->rowops_name);
        check(ok_erf, what);
        snprintf(what, sizeof what, "%s gelu tanh", c->rowops_name);
        check(ok_tanh, what);
        snprintf(what, sizeof what, "%s gelu quick", c->rowops_name);
        check(ok_quick, what);
        // Softmax: rows of 1...197 values (tails of every length), relative error.
        ok = true;
        for (size_t len : {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 50, 197}) {
            std::vector<float> in(3 * len);
            for (auto &v : in) v = next_float() * 8;
            std::vector<float> s = in;
            c->softmax(3, len, s.data(), len, 0.5f);
            for (size_t r = 0; r < 3; ++r) {
                double mx = -1e30, sum = 0;
                for (size_t i = 0; i < len; ++i) mx = in[r * len + i] * 0.5 > mx ? in[r * len + i] * 0.5 : mx;
                for (size_t i = 0; i < len; ++i) sum += exp(in[r * len + i] * 0.5 - mx);
                for (size_t i = 0; i < len; ++i) {
                    const double want = exp(in[r * len + i] * 0.5 - mx) / sum;
                    ok &= fabs(s[r * len + i] - want) <= (len + 4) * 1.1920929e-7 * want + 1e-9;
                }
            }
        }
        snprintf(what, sizeof what, "%s softmax", c->rowops_name);
        check(ok, what);
    }

    check_resample(f);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
