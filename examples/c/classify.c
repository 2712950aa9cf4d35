/*
 * Classifies images with a vit-edge model through the C API and prints what
 * `vit-edge run MODEL IMAGES --top-k K` prints (make test checks that they agree).
 *
 * Built against an installed library (make install) or dist/ (make dist), from anywhere:
 *   cc -O2 classify.c $(pkg-config --cflags --libs vitedge) -lm -o classify
 *   cc -O2 classify.c $(PKG_CONFIG_PATH=/path/to/vit-edge/dist/lib/pkgconfig pkg-config --cflags --libs vitedge) -lm -o classify
 *   ./classify mnist-vit-int8.vitq --top-k 2 digit7.jpg
 *
 * Images go through the engine's decoders (JPEG, PNG, PGM, PPM) in batches of four:
 * set each image, run once, read each result.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vit_edge.h"

enum { BATCH = 4 };

/* The CLI's percentage: rounded half away from zero to two decimals. */
static void print_class(int rank, const char *label, float probability) {
    char percent[32];
    snprintf(percent, sizeof percent, "%.2f%%", round((double)probability * 100.0 * 100.0) / 100.0);
    printf("  %d. %-12s %8s\n", rank, label, percent);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.vitq [--top-k K] [--threads N] IMAGE...\n", argv[0]);
        return 2;
    }
    if (vit_edge_abi_version() != VIT_EDGE_ABI_VERSION) {
        fprintf(stderr, "classify: libvitedge has ABI %d, this program was built for %d\n",
                vit_edge_abi_version(), VIT_EDGE_ABI_VERSION);
        return 1;
    }
    int top_k = 3, threads = 1, first = 2;
    while (first + 1 < argc && strncmp(argv[first], "--", 2) == 0) {
        if (strcmp(argv[first], "--top-k") == 0) top_k = atoi(argv[first + 1]);
        else if (strcmp(argv[first], "--threads") == 0) threads = atoi(argv[first + 1]);
        else break;
        first += 2;
    }

    vit_model *model = NULL;
    vit_session *session = NULL;
    if (vit_model_load(argv[1], NULL, &model) != VIT_OK ||
        vit_session_create(model, BATCH, threads, &session) != VIT_OK) {
        fprintf(stderr, "classify: %s\n", vit_last_error());
        vit_model_free(model);
        return 1;
    }
    int classes = vit_model_num_classes(model);
    if (top_k > classes) top_k = classes;
    int *index = malloc(sizeof(int) * (size_t)(top_k > 0 ? top_k : 1));
    float *probability = malloc(sizeof(float) * (size_t)(top_k > 0 ? top_k : 1));
    int failures = 0;

    const char *pending[BATCH];
    int count = 0;
    for (int i = first; i <= argc; i++) {
        if (i < argc) {
            if (vit_session_set_image_file(session, count, argv[i]) != VIT_OK) {
                fprintf(stderr, "classify: %s\n", vit_last_error());
                failures++;
                continue;
            }
            pending[count++] = argv[i];
            if (count < BATCH) continue;
        }
        if (count == 0) break;
        if (vit_session_run(session, count) != VIT_OK) {
            fprintf(stderr, "classify: %s\n", vit_last_error());
            return 1;
        }
        for (int j = 0; j < count; j++) {
            if (vit_session_top_k(session, j, top_k, index, probability) != VIT_OK) {
                fprintf(stderr, "classify: %s\n", vit_last_error());
                return 1;
            }
            printf("%s\n", pending[j]);
            for (int r = 0; r < top_k; r++) print_class(r + 1, vit_model_label(model, index[r]), probability[r]);
        }
        count = 0;
    }
    free(index);
    free(probability);
    vit_session_free(session);
    vit_model_free(model);
    return failures > 0;
}
