// Run-time CPU feature detection: cpuid through the compiler's builtins on x86
// (they also check that the OS saves the AVX / AVX-512 state), HWCAP on ARM64 Linux.
#include "vit_kernels.h"

#include <xsimd/xsimd.hpp>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

extern "C" uint32_t vk_cpu_features(void) {
    uint32_t f = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.1")) f |= VK_CPU_X86_SSE41;
    if (__builtin_cpu_supports("avx2")) f |= VK_CPU_X86_AVX2;
    if (__builtin_cpu_supports("fma")) f |= VK_CPU_X86_FMA;
    if (__builtin_cpu_supports("avx512f")) f |= VK_CPU_X86_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= VK_CPU_X86_AVX512BW;
    if (__builtin_cpu_supports("avx512vnni")) f |= VK_CPU_X86_AVX512VNNI;
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 11)
    if (__builtin_cpu_supports("avxvnni")) f |= VK_CPU_X86_AVXVNNI;
#endif
#elif defined(__aarch64__)
    f |= VK_CPU_ARM_NEON;
#if defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP);
    if (hw & HWCAP_ASIMDDP) f |= VK_CPU_ARM_DOTPROD;
#endif
#endif
    return f;
}

extern "C" const char *vk_xsimd_arch_name(void) {
    return xsimd::default_arch::name();
}
