// The int8 GEMM routes as data (see vk_qs8_gemm_config in vit_kernels.h): one row per
// microkernel, best first, each with the features it needs. Selection is a pure
// function of the feature bits.
#include "vit_kernels.h"

#include <string.h>

namespace {

const vk_qs8_gemm_config kConfigs[] = {
#if defined(__x86_64__)
    {"vk_qs8_gemm_8x32__avx512vnni", vk_qs8_gemm_8x32__avx512vnni, 8, 32, 4, vk_qs8_packed_bytes, vk_qs8_pack_nk, 1,
     VK_CPU_X86_AVX512F | VK_CPU_X86_AVX512VNNI, 127,
     vk_qs8_quantize_rows_u8__avx512f, vk_qs8_quantize_rows_static_u8__avx512f, VK_PEAK_AVX512, vk_qs8_pack_kn},
    {"vk_qs8_gemm_6x16__avxvnni", vk_qs8_gemm_6x16__avxvnni, 6, 16, 4, vk_qs8_packed_bytes, vk_qs8_pack_nk, 1,
     VK_CPU_X86_AVX2 | VK_CPU_X86_AVXVNNI, 127, vk_qs8_quantize_rows_u8__avx2, vk_qs8_quantize_rows_static_u8__avx2, VK_PEAK_AVXVNNI, vk_qs8_pack_kn},
    {"vk_qs8_gemm_4x16__avx2_w7", vk_qs8_gemm_4x16__avx2_w7, 4, 16, 4, vk_qs8_packed_bytes, vk_qs8_pack_nk, 1, VK_CPU_X86_AVX2, 63,
     vk_qs8_quantize_rows_u8__avx2, vk_qs8_quantize_rows_static_u8__avx2, VK_PEAK_AVX2, vk_qs8_pack_kn},
    {"vk_qs8_gemm_4x16__avx2", vk_qs8_gemm_4x16__avx2, 4, 16, 4, vk_qs8_packed_bytes, vk_qs8_pack_nk, 0, VK_CPU_X86_AVX2, 127,
     vk_qs8_quantize_rows__avx2, vk_qs8_quantize_rows_static__avx2, VK_PEAK_AVX2, vk_qs8_pack_kn},
    {"vk_qs8_gemm_4x16__sse41", vk_qs8_gemm_4x16__sse41, 4, 16, 4, vk_qs8_packed_bytes, vk_qs8_pack_nk, 0, VK_CPU_X86_SSE41, 127,
     vk_qs8_quantize_rows__xsimd, vk_qs8_quantize_rows_static__xsimd, VK_PEAK_XSIMD, vk_qs8_pack_kn},
#elif defined(__aarch64__)
    {"vk_qs8_gemm_4x16__neondot", vk_qs8_gemm_4x16__neondot, 4, 16, 4, vk_qs8_packed_bytes, vk_qs8_pack_nk, 0,
     VK_CPU_ARM_NEON | VK_CPU_ARM_DOTPROD, 127, vk_qs8_quantize_rows__xsimd, vk_qs8_quantize_rows_static__xsimd, VK_PEAK_NEONDOT, vk_qs8_pack_kn},
    {"vk_qs8_gemm_2x8c16__neon", vk_qs8_gemm_2x8c16__neon, 2, 8, 16, vk_qs8_packed_bytes_c16, vk_qs8_pack_nk_c16, 0,
     VK_CPU_ARM_NEON, 127, vk_qs8_quantize_rows__xsimd, vk_qs8_quantize_rows_static__xsimd, VK_PEAK_XSIMD, vk_qs8_pack_kn_c16},
    {"vk_qs8_gemm_4x16__neon", vk_qs8_gemm_4x16__neon, 4, 16, 4, vk_qs8_packed_bytes, vk_qs8_pack_nk, 0, VK_CPU_ARM_NEON, 127,
     vk_qs8_quantize_rows__xsimd, vk_qs8_quantize_rows_static__xsimd, VK_PEAK_XSIMD, vk_qs8_pack_kn},
#endif
    {"vk_qs8_gemm_4x16__scalar", vk_qs8_gemm_4x16__scalar, 4, 16, 4, vk_qs8_packed_bytes, vk_qs8_pack_nk, 0, 0, 127,
     vk_qs8_quantize_rows__xsimd, vk_qs8_quantize_rows_static__xsimd, VK_PEAK_XSIMD, vk_qs8_pack_kn},
};

#if defined(__x86_64__)
// A twin: the row of the route `of`, with the twin's name, GEMM and required features.
vk_qs8_gemm_config twin(const char *of, const char *name, vk_qs8_gemm_fn gemm, uint32_t requires) {
    for (const vk_qs8_gemm_config &c : kConfigs)
        if (strcmp(c.name, of) == 0) {
            vk_qs8_gemm_config t = c;
            t.name = name, t.gemm = gemm, t.requires = requires;
            return t;
        }
    __builtin_trap();  // a twin of a route that is not in the table
}
#endif

}  // namespace

extern "C" size_t vk_qs8_gemm_twins(const vk_qs8_gemm_config **table) {
#if defined(__x86_64__)
    // The AVX-VNNI kernel EVEX-encoded (every CPU with AVX-512 VNNI has VL too).
    static const vk_qs8_gemm_config twins[] = {
        twin("vk_qs8_gemm_6x16__avxvnni", "vk_qs8_gemm_6x16__avxvnni_evex_twin", vk_qs8_gemm_6x16__avxvnni_evex_twin,
             VK_CPU_X86_AVX2 | VK_CPU_X86_AVX512F | VK_CPU_X86_AVX512VNNI),
    };
    *table = twins;
    return sizeof twins / sizeof twins[0];
#else
    *table = nullptr;
    return 0;
#endif
}

extern "C" size_t vk_qs8_gemm_configs(const vk_qs8_gemm_config **table) {
    *table = kConfigs;
    return sizeof kConfigs / sizeof kConfigs[0];
}

extern "C" const vk_qs8_gemm_config *vk_qs8_gemm_config_for(uint32_t features, int max_weight) {
    for (const vk_qs8_gemm_config &c : kConfigs)
        if ((c.requires & features) == c.requires && max_weight <= c.max_weight) return &c;
    return &kConfigs[sizeof kConfigs / sizeof kConfigs[0] - 1];
}
