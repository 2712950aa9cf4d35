// The C example in C++ with the RAII wrapper (vit_edge.hpp): classifies images and prints
// what `vit-edge run MODEL IMAGES --top-k K` prints.
// Built against an installed library (make install) or dist/ (make dist), from anywhere:
//   c++ -std=c++17 classify.cpp $(pkg-config --cflags --libs vitedge) -o classify
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <iostream>

#include "vit_edge.hpp"

int main(int argc, char **argv) {
    if (argc < 3) {
        std::cerr << "usage: " << argv[0] << " MODEL.vitq [--top-k K] IMAGE...\n";
        return 2;
    }
    int top_k = 3, first = 2;
    if (std::strcmp(argv[2], "--top-k") == 0 && argc > 4) { top_k = std::atoi(argv[3]); first = 4; }
    try {
        vit::Model model(argv[1]);
        vit::Session session(model);
        int failures = 0;
        for (int i = first; i < argc; i++) {
            try {
                session.set_image_file(0, argv[i]);
            } catch (const vit::Error &e) {
                std::cerr << "classify: " << e.what() << "\n";
                failures++;
                continue;
            }
            session.run();
            std::printf("%s\n", argv[i]);
            int rank = 1;
            for (auto [index, p] : session.top_k(0, top_k)) {
                char percent[32];
                std::snprintf(percent, sizeof percent, "%.2f%%", std::round(double(p) * 100.0 * 100.0) / 100.0);
                std::printf("  %d. %-12s %8s\n", rank++, model.label(index).c_str(), percent);
            }
        }
        return failures > 0;
    } catch (const vit::Error &e) {
        std::cerr << "classify: " << e.what() << "\n";
        return 1;
    }
}
