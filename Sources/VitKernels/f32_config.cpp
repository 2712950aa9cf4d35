// The fp32 kernel sets as data (see vk_f32_config in vit_kernels.h): one row per
// instruction-set level, best first, each with the features it needs: its GEMM (packed
// and read-in-place forms, tile), its row kernels, the peak loop that measures it, and
// the features the int8 routes chosen beside it may use. Selection is a pure function of
// the feature bits.
#include "vit_kernels.h"

namespace {

const vk_f32_config kConfigs[] = {
#if defined(__x86_64__)
    {"avx512f", "vk_f32_gemm_12x16__avx512f", vk_f32_gemm_12x16__avx512f, vk_f32_gemm_kn_12x16__avx512f, 12, 16,
     "avx512f", vk_f32_layernorm__avx512f, vk_f32_gelu_erf__avx512f, vk_f32_gelu_tanh__avx512f, vk_f32_gelu_quick__avx512f,
     vk_f32_softmax__avx512f, vk_f32_dwconv3x3__avx512f,
     vk_qs8_quantize_rows__avx512f, vk_qs8_quantize_columns__avx512f, VK_PEAK_AVX512, VK_CPU_X86_AVX512F, ~0u},
    // AVX2 + FMA (x86-64 without AVX-512: Zen 2/3, Intel client cores): 8 lanes with FMA
    // where the xsimd baseline would be SSE2; int8 beside it never uses AVX-512.
    {"avx2", "vk_f32_gemm_6x16__avx2_fma", vk_f32_gemm_6x16__avx2_fma, vk_f32_gemm_kn_6x16__avx2_fma, 6, 16,
     "avx2 fma", vk_f32_layernorm__avx2_fma, vk_f32_gelu_erf__avx2_fma, vk_f32_gelu_tanh__avx2_fma, vk_f32_gelu_quick__avx2_fma,
     vk_f32_softmax__avx2_fma, vk_f32_dwconv3x3__avx2_fma,
     vk_qs8_quantize_rows__avx2, vk_qs8_quantize_columns__xsimd, VK_PEAK_AVX2, VK_CPU_X86_AVX2 | VK_CPU_X86_FMA,
     VK_CPU_X86_SSE41 | VK_CPU_X86_AVX2 | VK_CPU_X86_FMA | VK_CPU_X86_AVXVNNI},
#endif
    // xsimd's baseline (SSE2 on x86-64, NEON on ARM64): every CPU. On ARM64 the int8
    // routes beside it use what the CPU has (dot product on a Pi 5).
    {"xsimd", "vk_f32_gemm_4x16__xsimd", vk_f32_gemm_4x16__xsimd, vk_f32_gemm_kn_4x16__xsimd, 4, 16,
     "xsimd", vk_f32_layernorm__xsimd, vk_f32_gelu_erf__xsimd, vk_f32_gelu_tanh__xsimd, vk_f32_gelu_quick__xsimd,
     vk_f32_softmax__xsimd, vk_f32_dwconv3x3__xsimd,
     vk_qs8_quantize_rows__xsimd, vk_qs8_quantize_columns__xsimd, VK_PEAK_XSIMD, 0, VK_CPU_X86_SSE41 | VK_CPU_ARM_NEON | VK_CPU_ARM_DOTPROD},
};

}  // namespace

extern "C" size_t vk_f32_configs(const vk_f32_config **table) {
    *table = kConfigs;
    return sizeof kConfigs / sizeof kConfigs[0];
}

extern "C" const vk_f32_config *vk_f32_config_for(uint32_t features) {
    for (const vk_f32_config &c : kConfigs)
        if ((c.requires & features) == c.requires) return &c;
    return &kConfigs[sizeof kConfigs / sizeof kConfigs[0] - 1];
}
