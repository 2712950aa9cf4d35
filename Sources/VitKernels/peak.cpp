// The core's measured peak: register-only loops of independent multiply-adds with
// the instructions the best GEMM route of this CPU uses (no loads, no stores), so
// GEMM throughput can be reported as a fraction of what the core can do at all.
#include "vit_kernels.h"

#include <xsimd/xsimd.hpp>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace {

constexpr int kChains = 24;  // enough independent accumulators to cover latency x throughput

// An empty asm that claims to change v: the compiler must assume a new value each
// iteration, so products of loop-invariant operands cannot be hoisted (no instruction
// is emitted). "v" is any SIMD register on x86 (xmm/ymm/zmm), "w" on ARM64.
#if defined(__x86_64__)
#define VK_OPAQUE(v) __asm__ volatile("" : "+v"(v))
#elif defined(__aarch64__)
#define VK_OPAQUE(v) __asm__ volatile("" : "+w"(v))
#else
#define VK_OPAQUE(v) (void)0
#endif

#if defined(__x86_64__)
__attribute__((target("avx512f"))) float fma_avx512(size_t iters) {
    __m512 acc[kChains];
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps((float)i * 1e-3f);
    const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-4f);
    __m512 bb = b;
    for (size_t t = 0; t < iters; ++t) {
        VK_OPAQUE(bb);
        for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], bb, c);
    }
    __m512 s = acc[0];
    for (int i = 1; i < kChains; ++i) s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}
__attribute__((target("avx2,fma"))) float fma_avx2(size_t iters) {
    __m256 acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps((float)i * 1e-3f);
    const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-4f);
    __m256 bb = b;
    for (size_t t = 0; t < iters; ++t) {
        VK_OPAQUE(bb);
        for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], bb, c);
    }
    float out[8];
    __m256 s = acc[0];
    for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
    _mm256_storeu_ps(out, s);
    return out[0];
}
__attribute__((target("avx512f,avx512vnni"))) int dot_vnni(size_t iters) {
    __m512i acc[kChains];
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_epi32(i);
    __m512i a = _mm512_set1_epi32(0x01010101), b = _mm512_set1_epi32(0x02020202);
    for (size_t t = 0; t < iters; ++t) {
        VK_OPAQUE(a);
        VK_OPAQUE(b);
        for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
    }
    __m512i s = acc[0];
    for (int i = 1; i < kChains; ++i) s = _mm512_add_epi32(s, acc[i]);
    return _mm512_reduce_add_epi32(s);
}
__attribute__((target("avx2,avxvnni"))) int dot_avxvnni(size_t iters) {
    __m256i acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_epi32(i);
    __m256i a = _mm256_set1_epi32(0x01010101), b = _mm256_set1_epi32(0x02020202);
    for (size_t t = 0; t < iters; ++t) {
        VK_OPAQUE(a);
        VK_OPAQUE(b);
        for (int i = 0; i < 12; ++i) acc[i] = _mm256_dpbusd_avx_epi32(acc[i], a, b);
    }
    int out[8];
    __m256i s = acc[0];
    for (int i = 1; i < 12; ++i) s = _mm256_add_epi32(s, acc[i]);
    _mm256_storeu_si256((__m256i *)out, s);
    return out[0];
}
// maddubs + madd + add, as the AVX2 route. Each chain multiplies its own operand
// (a + i) so the eight products are eight instructions, not one shared result.
__attribute__((target("avx2"))) int dot_avx2(size_t iters) {
    __m256i acc[8], a[8];
    for (int i = 0; i < 8; ++i) acc[i] = _mm256_set1_epi32(i), a[i] = _mm256_set1_epi8((char)(1 + i));
    __m256i b = _mm256_set1_epi32(0x02020202);
    const __m256i one = _mm256_set1_epi16(1);
    for (size_t t = 0; t < iters; ++t) {
        VK_OPAQUE(b);
        for (int i = 0; i < 8; ++i)
            acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(a[i], b), one));
    }
    int out[8];
    __m256i s = acc[0];
    for (int i = 1; i < 8; ++i) s = _mm256_add_epi32(s, acc[i]);
    _mm256_storeu_si256((__m256i *)out, s);
    return out[0];
}
__attribute__((target("sse4.1,ssse3"))) int dot_sse41(size_t iters) {
    __m128i acc[8], a[8];
    for (int i = 0; i < 8; ++i) acc[i] = _mm_set1_epi32(i), a[i] = _mm_set1_epi8((char)(1 + i));
    __m128i b = _mm_set1_epi32(0x02020202);
    const __m128i one = _mm_set1_epi16(1);
    for (size_t t = 0; t < iters; ++t) {
        VK_OPAQUE(b);
        for (int i = 0; i < 8; ++i) acc[i] = _mm_add_epi32(acc[i], _mm_madd_epi16(_mm_maddubs_epi16(a[i], b), one));
    }
    __m128i s = acc[0];
    for (int i = 1; i < 8; ++i) s = _mm_add_epi32(s, acc[i]);
    return _mm_cvtsi128_si32(s);
}
#endif

#if defined(__aarch64__)
__attribute__((target("dotprod"))) int dot_neondot(size_t iters) {
    int32x4_t acc[kChains];
    for (int i = 0; i < kChains; ++i) acc[i] = vdupq_n_s32(i);
    int8x16_t a = vdupq_n_s8(1), b = vdupq_n_s8(2);
    for (size_t t = 0; t < iters; ++t) {
        VK_OPAQUE(a);
        VK_OPAQUE(b);
        for (int i = 0; i < kChains; ++i) acc[i] = vdotq_s32(acc[i], a, b);
    }
    int32x4_t s = acc[0];
    for (int i = 1; i < kChains; ++i) s = vaddq_s32(s, acc[i]);
    return vaddvq_s32(s);
}
int dot_neon(size_t iters) {  // smull + sadalp: 8 products per pair, as the NEON route
    int32x4_t acc[8];
    int8x8_t a[8];
    for (int i = 0; i < 8; ++i) acc[i] = vdupq_n_s32(i), a[i] = vdup_n_s8((int8_t)(1 + i));
    int8x8_t b = vdup_n_s8(2);
    for (size_t t = 0; t < iters; ++t) {
        VK_OPAQUE(b);
        for (int i = 0; i < 8; ++i) acc[i] = vpadalq_s16(acc[i], vmull_s8(a[i], b));
    }
    int32x4_t s = acc[0];
    for (int i = 1; i < 8; ++i) s = vaddq_s32(s, acc[i]);
    return vaddvq_s32(s);
}
#endif

float fma_xsimd(size_t iters) {
    using batch = xsimd::batch<float>;
    batch acc[kChains];
    for (int i = 0; i < kChains; ++i) acc[i] = batch((float)i * 1e-3f);
    const batch c(1e-4f);
    auto braw = batch(0.999f).data;
    for (size_t t = 0; t < iters; ++t) {
        VK_OPAQUE(braw);
        const batch b(braw);
        for (int i = 0; i < kChains; ++i) acc[i] = xsimd::fma(acc[i], b, c);
    }
    batch s = acc[0];
    for (int i = 1; i < kChains; ++i) s += acc[i];
    return xsimd::hadd(s);
}

volatile float g_sink_f;
volatile int g_sink_i;

}  // namespace

extern "C" double vk_peak_f32_fma(size_t iterations, int route, const char **isa) {
    const uint32_t f = vk_cpu_features();
    (void)f;
#if defined(__x86_64__)
    const bool avx512 = f & VK_CPU_X86_AVX512F, avx2 = (f & VK_CPU_X86_AVX2) && (f & VK_CPU_X86_FMA);
    if (route == VK_PEAK_AVX512 || (route == VK_PEAK_BEST && avx512)) {
        if (!avx512) { *isa = "none"; return 0; }
        *isa = "avx512f vfmadd";
        g_sink_f = fma_avx512(iterations);
        return 2.0 * 16 * kChains * (double)iterations;
    }
    if (route == VK_PEAK_AVX2 || route == VK_PEAK_AVXVNNI || (route == VK_PEAK_BEST && avx2)) {
        if (!avx2) { *isa = "none"; return 0; }
        *isa = "avx2 vfmadd";
        g_sink_f = fma_avx2(iterations);
        return 2.0 * 8 * 12 * (double)iterations;
    }
#endif
    *isa = "xsimd fma";
    g_sink_f = fma_xsimd(iterations);
    return 2.0 * xsimd::batch<float>::size * kChains * (double)iterations;
}

extern "C" double vk_peak_qs8_dot(size_t iterations, int route, const char **isa) {
    const uint32_t f = vk_cpu_features();
    (void)f;
    (void)route;
#if defined(__x86_64__)
    const bool vnni = (f & VK_CPU_X86_AVX512F) && (f & VK_CPU_X86_AVX512VNNI), avx2 = f & VK_CPU_X86_AVX2;
    if (route == VK_PEAK_AVX512 || (route == VK_PEAK_BEST && vnni)) {
        if (!vnni) { *isa = "none"; return 0; }
        *isa = "avx512vnni vpdpbusd";
        g_sink_i = dot_vnni(iterations);
        return 2.0 * 64 * kChains * (double)iterations;
    }
    const bool avxvnni = avx2 && (f & VK_CPU_X86_AVXVNNI);
    if (route == VK_PEAK_AVXVNNI || (route == VK_PEAK_BEST && avxvnni)) {
        if (!avxvnni) { *isa = "none"; return 0; }
        *isa = "avxvnni vpdpbusd";
        g_sink_i = dot_avxvnni(iterations);
        return 2.0 * 32 * 12 * (double)iterations;
    }
    if (route == VK_PEAK_AVX2 || (route == VK_PEAK_BEST && avx2)) {
        if (!avx2) { *isa = "none"; return 0; }
        *isa = "avx2 vpmaddubsw+vpmaddwd";
        g_sink_i = dot_avx2(iterations);
        return 2.0 * 32 * 8 * (double)iterations;
    }
    if (f & VK_CPU_X86_SSE41) {
        *isa = "sse4.1 pmaddubsw+pmaddwd";
        g_sink_i = dot_sse41(iterations);
        return 2.0 * 16 * 8 * (double)iterations;
    }
#elif defined(__aarch64__)
    if ((route == VK_PEAK_NEONDOT || route == VK_PEAK_BEST) && (f & VK_CPU_ARM_DOTPROD)) {
        *isa = "neon sdot";
        g_sink_i = dot_neondot(iterations);
        return 2.0 * 16 * kChains * (double)iterations;
    }
    *isa = "neon smull+sadalp";
    g_sink_i = dot_neon(iterations);
    return 2.0 * 8 * 8 * (double)iterations;
#endif
    *isa = "none";
    return 0;
}
