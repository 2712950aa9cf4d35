// Experiment, not part of the build: an AVX2 int8 GEMM on int16 operands (vpmaddwd over
// k-pairs, 6x16 tile; bit-exact, checked below against the sign-trick kernel) timed beside
// the library's AVX2 kernels at MNIST and ViT shapes (fastest of 300 interleaved rounds).
// Measured on Zen 4 with AVX2 code (docs/BENCHMARKS.md): 1.11-1.15x the sign trick at the
// ViT-Ti/S shapes, 0.88x at MNIST's; the 7-bit kernel 1.5x ahead of both. Not a route.
//   K=Sources/VitKernels; clang++ -O2 -std=c++17 -I$K/include -I$K tools/experiments/avx2_c2_gemm.cpp \
//       $K/qs8_pack.cpp -o /tmp/avx2_c2 && taskset -c 1 /tmp/avx2_c2
#include "qs8_gemm__avx2.cpp"  // the library's AVX2 kernels and their epilogue, in this unit

#include <algorithm>
#include <chrono>
#include <stdio.h>
#include <stdlib.h>
#include <vector>

namespace {

// 8-bit weights without the sign trick: int16 operands and vpmaddwd, as XNNPACK's AVX2
// kernels do, over k-pairs (the c2 panel, vk_qs8_pack_nk_c2). Each pair's 16 columns are
// sign-extended once (two vpmovsxbw) for all MR rows; the tile's activation rows are
// sign-extended per chunk of K into a stack buffer, so a row's pair (a[2q], a[2q+1]) is
// one 32-bit broadcast. Per row and pair: two vpmaddwd and two vpaddd for 32
// multiply-adds, against the sign trick's vpabsb, two vpsignb, two vpmaddubsw, two
// vpmaddwd and two vpaddd for 64. |a|, |w| <= 127, so every pair sum and the int32
// accumulation are exact: the same result as the reference, bit for bit.
template <int MR>
__attribute__((target("avx2"))) void ukernel_c2_avx2(size_t kg, const int8_t *a, size_t lda, const int8_t *panel,
                                                     const int32_t *, size_t nr, const vk::qs8_epilogue &e) {
    constexpr size_t kChunk = 256;  // k values per chunk: MR x 512 bytes of stack
    alignas(32) int16_t buf[MR][kChunk];
    __m256i lo[MR], hi[MR];
    for (int r = 0; r < MR; ++r) lo[r] = hi[r] = _mm256_setzero_si256();
    const size_t kpad = kg * 4;
    for (size_t k0 = 0; k0 < kpad; k0 += kChunk) {
        const size_t kc = kpad - k0 < kChunk ? kpad - k0 : kChunk;  // a multiple of 4
        for (int r = 0; r < MR; ++r) {
            const int8_t *ar = a + r * lda + k0;
            size_t i = 0;
            for (; i + 16 <= kc; i += 16)
                _mm256_store_si256((__m256i *)(buf[r] + i), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(ar + i))));
            for (; i < kc; ++i) buf[r][i] = ar[i];
        }
        const int8_t *w = panel + k0 * 16;  // pair q of the panel starts at byte 32q
        for (size_t q = 0; q < kc / 2; ++q) {
            const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + q * 32)));
            const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + q * 32 + 16)));
            for (int r = 0; r < MR; ++r) {
                int32_t pair;
                memcpy(&pair, buf[r] + 2 * q, 4);
                const __m256i av = _mm256_set1_epi32(pair);
                lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(av, w0));
                hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(av, w1));
            }
        }
    }
    store_tile<MR>(lo, hi, nr, e);
}


const vk::qs8_ukernel kC2[6] = {ukernel_c2_avx2<1>, ukernel_c2_avx2<2>, ukernel_c2_avx2<3>,
                                ukernel_c2_avx2<4>, ukernel_c2_avx2<5>, ukernel_c2_avx2<6>};

void gemm_6x16c2(VK_QS8_GEMM_ARGS) {
    vk::qs8_gemm_drive<6>(kC2, m, n, k, a, lda, packed, a_scale, w_scale, bias, y, ldy, accumulate);
}

// The c2 layout (vk_qs8_gemm_6x16c2__avx2): the c4 layout's panels and size, but each
// group of 4 k holds two k-pairs, and a pair's 32 bytes are the 16 columns' two bytes in
// turn (column j at bytes 2j, 2j+1), so one vpmovsxbw of 16 bytes yields 8 columns'
// int16 pairs for vpmaddwd. Column sums as in the c4 layout (unused by the kernel).
static void pack_nk_c2(const int8_t *w, size_t n, size_t k, void *packed) {
    const size_t kg = vk_qs8_padded_k(k) / 4, pairs = 2 * kg, full = k / 2;
    const size_t panels = (n + VK_QS8_NR - 1) / VK_QS8_NR;
    int8_t *out = (int8_t *)packed;
    for (size_t p = 0; p < panels; ++p) {
        int8_t *panel = out + p * vk::qs8_panel_bytes(k);
        int32_t colsum[VK_QS8_NR] = {0};
        for (size_t j = 0; j < VK_QS8_NR; ++j) {
            const size_t col = p * VK_QS8_NR + j;
            if (col >= n) {
                for (size_t q = 0; q < pairs; ++q) memset(panel + q * 32 + j * 2, 0, 2);
                continue;
            }
            const int8_t *row = w + col * k;
            int32_t sum = 0;
            for (size_t kk = 0; kk < k; ++kk) sum += row[kk];
            colsum[j] = sum;
            for (size_t q = 0; q < full; ++q) memcpy(panel + q * 32 + j * 2, row + q * 2, 2);
            for (size_t q = full; q < pairs; ++q)
                for (size_t b = 0; b < 2; ++b) panel[q * 32 + j * 2 + b] = q * 2 + b < k ? row[q * 2 + b] : 0;
        }
        memcpy(panel + kg * 64, colsum, sizeof colsum);
    }
}


}  // namespace

int main() {
    struct S { const char *n; size_t m, k, nn; } shapes[] = {{"MNIST qkv", 50, 64, 192}, {"MNIST fc2", 50, 128, 64},
        {"ViT-Ti qkv", 197, 192, 576}, {"ViT-Ti fc1", 197, 192, 768}, {"ViT-Ti fc2", 197, 768, 192}, {"ViT-S fc2", 197, 1536, 384}};
    for (auto &s : shapes) {
        const size_t kp = vk_qs8_padded_k(s.k);
        std::vector<int8_t> a(s.m * kp, 0), w(s.nn * s.k), p1(vk_qs8_packed_bytes(s.nn, s.k)), p2(p1.size()), p3(p1.size());
        for (size_t r = 0; r < s.m; ++r)
            for (size_t c = 0; c < s.k; ++c) a[r * kp + c] = (int8_t)(rand() % 255 - 127);
        for (auto &x : w) x = (int8_t)(rand() % 255 - 127);
        std::vector<int8_t> w7(w), a7(a);
        for (auto &x : w7) x = (int8_t)(x / 2);
        for (auto &x : a7) x = (int8_t)((uint8_t)x ^ 0x80u);  // the 7-bit kernel takes q + 128
        std::vector<float> as(s.m, 0.01f), ws(s.nn, 0.02f), y1(s.m * s.nn), y2(s.m * s.nn);
        vk_qs8_pack_nk(w.data(), s.nn, s.k, p1.data());
        pack_nk_c2(w.data(), s.nn, s.k, p2.data());
        vk_qs8_pack_nk(w7.data(), s.nn, s.k, p3.data());
        vk_qs8_gemm_4x16__avx2(s.m, s.nn, s.k, a.data(), kp, p1.data(), as.data(), ws.data(), nullptr, y1.data(), s.nn, 0);
        gemm_6x16c2(s.m, s.nn, s.k, a.data(), kp, p2.data(), as.data(), ws.data(), nullptr, y2.data(), s.nn, 0);
        if (y1 != y2) { printf("%s: the c2 kernel differs from the sign-trick kernel\n", s.n); return 1; }
        double best[3] = {1e9, 1e9, 1e9};
        for (int rep = 0; rep < 300; ++rep)
            for (int v = 0; v < 3; ++v) {
                const auto t0 = std::chrono::steady_clock::now();
                for (int i = 0; i < 5; ++i) {
                    if (v == 0) vk_qs8_gemm_4x16__avx2(s.m, s.nn, s.k, a.data(), kp, p1.data(), as.data(), ws.data(), nullptr, y1.data(), s.nn, 0);
                    else if (v == 1) gemm_6x16c2(s.m, s.nn, s.k, a.data(), kp, p2.data(), as.data(), ws.data(), nullptr, y1.data(), s.nn, 0);
                    else vk_qs8_gemm_4x16__avx2_w7(s.m, s.nn, s.k, a7.data(), kp, p3.data(), as.data(), ws.data(), nullptr, y1.data(), s.nn, 0);
                }
                best[v] = std::min(best[v], std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 5);
            }
        const double ops = 2.0 * s.m * s.k * s.nn;
        printf("%-11s sign trick %6.1f  c2 %6.1f  7-bit %6.1f GOPS   c2 / sign trick %.2f\n", s.n, ops / best[0] / 1e9,
               ops / best[1] / 1e9, ops / best[2] / 1e9, best[0] / best[1]);
    }
    return 0;
}
