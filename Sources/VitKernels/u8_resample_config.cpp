// The 8-bit resampling routes as data (see vk_u8_resample_config in vit_kernels.h), and
// the coefficient packing they share: one layout per vector width, so that the kernels
// multiply whole vectors of pixels by whole vectors of coefficients with no shuffles.
#include "vit_kernels.h"

namespace {

const vk_u8_resample_config kConfigs[] = {
#if defined(__x86_64__)
    // YUV rows: the AVX2 kernel (every AVX-512 CPU has AVX2; 8 pixels a step is enough).
    {"avx512f", 16, vk_u8_resample_h__avx512f, vk_u8_resample_v__avx512f, vk_u8_resample_clip__avx512f,
     vk_u8_yuv420_rgb__avx2, VK_CPU_X86_AVX512F | VK_CPU_X86_AVX2},
    {"avx2", 8, vk_u8_resample_h__avx2, vk_u8_resample_v__avx2, vk_u8_resample_clip__avx2, vk_u8_yuv420_rgb__avx2,
     VK_CPU_X86_AVX2},
#endif
#if defined(__aarch64__)
    // 12 lanes: groups of 4 RGB taps fill three int32x4 (u8_resample__neon.cpp).
    {"neon", 12, vk_u8_resample_h__neon, vk_u8_resample_v__neon, vk_u8_resample_clip__neon, vk_u8_yuv420_rgb__neon,
     VK_CPU_ARM_NEON},
#endif
    {"scalar", 1, vk_u8_resample_h__scalar, vk_u8_resample_v__scalar, vk_u8_resample_clip__scalar, vk_u8_yuv420_rgb__scalar,
     0},
};

}  // namespace

extern "C" size_t vk_u8_resample_configs(const vk_u8_resample_config **table) {
    *table = kConfigs;
    return sizeof kConfigs / sizeof kConfigs[0];
}

extern "C" const vk_u8_resample_config *vk_u8_resample_config_for(uint32_t features) {
    for (const vk_u8_resample_config &c : kConfigs)
        if ((c.requires & features) == c.requires) return &c;
    return &kConfigs[sizeof kConfigs / sizeof kConfigs[0] - 1];
}

extern "C" size_t vk_u8_resample_taps_per_group(size_t lanes, size_t channels) {
    size_t g = 1;
    while (2 * g * channels <= lanes) g *= 2;
    return g;
}

extern "C" size_t vk_u8_resample_packed_stride(size_t lanes, size_t channels, size_t width) {
    const size_t g = vk_u8_resample_taps_per_group(lanes, channels);
    return (width + g - 1) / g * lanes;
}

extern "C" void vk_u8_resample_pack(size_t lanes, size_t channels, size_t outputs, size_t width,
                                    const int32_t *fixed, const int32_t *count, int32_t *packed) {
    const size_t g = vk_u8_resample_taps_per_group(lanes, channels);
    const size_t stride = vk_u8_resample_packed_stride(lanes, channels, width);
    for (size_t x = 0; x < outputs; ++x) {
        int32_t *dst = packed + x * stride;
        for (size_t j = 0; j < stride; ++j) {
            const size_t group = j / lanes, lane = j % lanes;
            const size_t tap = group * g + lane / channels;
            dst[j] = lane < g * channels && tap < (size_t)count[x] ? fixed[x * width + tap] : 0;
        }
    }
}
