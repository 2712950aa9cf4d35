// YUV 4:2:0 → RGB of one row, exactly as OpenCV's cvtColor(COLOR_YUV2RGB_I420 / _NV12):
// ITU-R BT.601 limited range in OpenCV's 20-bit fixed point, Y below 16 taken as 16, the
// chroma of the 2×2 block each pixel lies in. The definition the SIMD routes match.
#include "vit_kernels.h"

namespace {

inline uint8_t clamp8(int32_t s) { return (uint8_t)(s < 0 ? 0 : s > 255 ? 255 : s); }

}  // namespace

extern "C" void vk_u8_yuv420_rgb__scalar(const uint8_t *y, const uint8_t *u, const uint8_t *v, size_t chroma_step,
                                         size_t x0, size_t n, uint8_t *rgb) {
    for (size_t x = x0; x < x0 + n; ++x, rgb += 3) {
        const int32_t cu = (int32_t)u[(x / 2) * chroma_step] - 128, cv = (int32_t)v[(x / 2) * chroma_step] - 128;
        const int32_t yy = (int32_t)y[x] - 16;
        const int32_t l = (yy < 0 ? 0 : yy) * 1220542 + (1 << 19);
        rgb[0] = clamp8((l + 1673527 * cv) >> 20);
        rgb[1] = clamp8((l - 852492 * cv - 409993 * cu) >> 20);
        rgb[2] = clamp8((l + 2116026 * cu) >> 20);
    }
}
