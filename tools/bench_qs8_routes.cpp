// Times every int8 GEMM route this CPU can run (and, on AVX-512 VNNI hosts, the AVX-VNNI
// kernel's EVEX twin) side by side at the MNIST and ViT-Ti/S shapes: the fastest of many
// interleaved rounds, so a shared, noisy host still ranks kernels fairly. The engine's own
// `vit-edge bench-gemm` times only the selected route against the peak.
//   make bench-qs8-routes      (or build by hand: see the Makefile target)
#include "vit_kernels.h"

#include <algorithm>
#include <chrono>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? atoi(argv[1]) : 100;
    const uint32_t f = vk_cpu_features();
    const vk_qs8_gemm_config *table = nullptr;
    const size_t count = vk_qs8_gemm_configs(&table);
    std::vector<vk_qs8_gemm_config> routes;
    for (size_t i = 0; i < count; ++i)
        if ((table[i].requires & f) == table[i].requires && table[i].requires != 0) routes.push_back(table[i]);  // not the scalar one
    const vk_qs8_gemm_config *twins = nullptr;
    for (size_t i = 0, n = vk_qs8_gemm_twins(&twins); i < n; ++i)
        if ((twins[i].requires & f) == twins[i].requires) routes.push_back(twins[i]);
    struct Shape { const char *name; size_t m, k, n; } shapes[] = {
        {"MNIST qkv", 50, 64, 192}, {"MNIST fc2", 50, 128, 64}, {"ViT-Ti qkv", 197, 192, 576},
        {"ViT-Ti fc1", 197, 192, 768}, {"ViT-Ti fc2", 197, 768, 192}, {"ViT-S fc1", 197, 384, 1536},
        {"ViT-S fc2", 197, 1536, 384}};
    printf("GOPS, fastest of %d interleaved rounds, this thread\n", rounds);
    for (size_t i = 0; i < routes.size(); ++i) printf("  [%zu] %s\n", i + 1, routes[i].name);
    printf("%-12s", "shape");
    for (size_t i = 0; i < routes.size(); ++i) {
        char label[16];
        snprintf(label, sizeof label, "[%zu]", i + 1);
        printf(" %9s", label);
    }
    printf("\n");
    for (const Shape &s : shapes) {
        printf("%-12s", s.name);
        std::vector<double> best(routes.size(), 1e30);
        std::vector<std::vector<uint8_t>> packed(routes.size());
        std::vector<std::vector<int8_t>> input(routes.size());
        std::vector<int8_t> w(s.n * s.k);
        srand(1);
        for (auto &v : w) v = (int8_t)(rand() % 127 - 63);  // within ±63, so the 7-bit kernel computes exactly too
        std::vector<float> sa(s.m, 0.01f), sw(s.n, 0.02f), bias(s.n, 0.5f), y(s.m * s.n);
        for (size_t i = 0; i < routes.size(); ++i) {
            const vk_qs8_gemm_config &r = routes[i];
            const size_t kp = (s.k + r.kr - 1) / r.kr * r.kr;
            packed[i].resize(r.packed_bytes(s.n, s.k));
            r.pack(w.data(), s.n, s.k, packed[i].data());
            input[i].assign(s.m * kp, 0);
            for (size_t row = 0; row < s.m; ++row)
                for (size_t c = 0; c < s.k; ++c) {
                    const int8_t q = (int8_t)(rand() % 255 - 127);
                    input[i][row * kp + c] = r.offset_input ? (int8_t)((uint8_t)q ^ 0x80u) : q;
                }
        }
        for (int round = 0; round < rounds; ++round)
            for (size_t i = 0; i < routes.size(); ++i) {
                const vk_qs8_gemm_config &r = routes[i];
                const size_t kp = (s.k + r.kr - 1) / r.kr * r.kr;
                const auto t0 = std::chrono::steady_clock::now();
                for (int rep = 0; rep < 4; ++rep)
                    r.gemm(s.m, s.n, s.k, input[i].data(), kp, packed[i].data(), sa.data(), sw.data(), bias.data(),
                           y.data(), s.n, 0);
                const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 4;
                best[i] = std::min(best[i], t);
            }
        for (size_t i = 0; i < routes.size(); ++i) printf(" %9.1f", 2.0 * s.m * s.k * s.n / best[i] / 1e9);
        printf("\n");
    }
    return 0;
}
