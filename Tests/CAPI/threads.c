/* One model shared by sessions on several threads, through the C API: each thread opens
   its own session and classifies every sample digit several times; every answer must
   equal the one a single session gave first. Run under ThreadSanitizer by `make tsan`
   and plainly by `make test-c-api`. Usage: threads MODEL IMAGE... */
#include <pthread.h>
#include <stdlib.h>
#include "check.h"

enum { THREADS = 4, ROUNDS = 3, MAX_IMAGES = 64, CLASSES = 10 };

static vit_model *model;
static const char **images;
static int image_count;
static float expected[MAX_IMAGES][CLASSES];
static int mismatches[THREADS];

static int classify(vit_session *s, int i, float *out) {
    return vit_session_set_image_file(s, 0, images[i]) == VIT_OK && vit_session_run(s, 1) == VIT_OK &&
           vit_session_output(s, VIT_OUTPUT_PROBABILITIES, 0, 0, out, CLASSES) == VIT_OK;
}

static void *worker(void *arg) {
    int id = (int)(size_t)arg;
    vit_session *s = NULL;
    if (vit_session_create(model, 1, 1, &s) != VIT_OK) { mismatches[id] = -1; return NULL; }
    float got[CLASSES];
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < image_count; i++)
            if (!classify(s, (i + id) % image_count, got) || memcmp(got, expected[(i + id) % image_count], sizeof got) != 0)
                mismatches[id]++;
    vit_session_free(s);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: threads MODEL IMAGE...\n"); return 2; }
    images = (const char **)argv + 2;
    image_count = argc - 2 < MAX_IMAGES ? argc - 2 : MAX_IMAGES;
    CHECK_STATUS(VIT_OK, vit_model_load(argv[1], NULL, &model));
    CHECK(vit_model_num_classes(model) == CLASSES);
    vit_session *first = NULL;
    CHECK_STATUS(VIT_OK, vit_session_create(model, 1, 1, &first));
    for (int i = 0; i < image_count; i++) CHECK(classify(first, i, expected[i]));
    vit_session_free(first);
    if (failures) return report("threads");

    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void *)(size_t)i);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) CHECK(mismatches[i] == 0);
    vit_model_free(model);
    return report("threads");
}
