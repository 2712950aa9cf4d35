/* Bad input through the C API: NULLs, wrong sizes, corrupt models and images, calls
   out of order. Each returns its status with a one-line message; nothing crashes.
   Run by `make test-c-api` from the repository root. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"

#define MODEL "models/mnist-vit-int8.vitq"
#define DIGIT "models/samples/test-00000-digit7.pgm"

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n);
    *size = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, size, f);
    fclose(f);
}

static void *other_thread(void *arg) {
    (void)arg;
    /* vit_last_error is per thread: this thread has had no error yet. */
    CHECK(strcmp(vit_last_error(), "") == 0);
    vit_model *m = NULL;
    CHECK_STATUS(VIT_ERROR_IO, vit_model_load("/nonexistent/thread.vitq", NULL, &m));
    CHECK(strstr(vit_last_error(), "thread.vitq") != NULL);
    return NULL;
}

int main(void) {
    /* Library */
    CHECK(vit_edge_abi_version() == VIT_EDGE_ABI_VERSION);
    CHECK(strlen(vit_edge_version()) >= 5);
    CHECK(strcmp(vit_status_name(VIT_ERROR_BAD_MODEL), "VIT_ERROR_BAD_MODEL") == 0);
    CHECK(strcmp(vit_status_name((vit_status)12345), "VIT_ERROR_UNKNOWN") == 0);

    /* Loading */
    vit_model *model = (vit_model *)0x1;
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "path", vit_model_load(NULL, NULL, &model));
    CHECK(model == NULL);
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "out_model", vit_model_load(MODEL, NULL, NULL));
    CHECK_ERROR(VIT_ERROR_IO, "/nonexistent/model.vitq", vit_model_load("/nonexistent/model.vitq", NULL, &model));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "kernels", vit_model_load(MODEL, "sse9", &model));
    CHECK_ERROR(VIT_ERROR_BAD_MODEL, "not a valid .vitq", vit_model_load(DIGIT, NULL, &model));
    size_t size = 0;
    unsigned char *bytes = read_file(MODEL, &size);
    CHECK(bytes != NULL && size > 1000);
    write_file(".build/capi/truncated.vitq", bytes, size / 2);
    CHECK_ERROR(VIT_ERROR_BAD_MODEL, "truncated.vitq", vit_model_load(".build/capi/truncated.vitq", NULL, &model));
    CHECK_STATUS(VIT_ERROR_BAD_MODEL, vit_model_load_memory(bytes, size / 2, NULL, &model));
    unsigned char *flipped = malloc(size);
    memcpy(flipped, bytes, size);
    for (size_t i = 16; i < 200 && i < size; i++) flipped[i] ^= 0x5A; /* a corrupt header */
    CHECK_STATUS(VIT_ERROR_BAD_MODEL, vit_model_load_memory(flipped, size, NULL, &model));
    free(flipped);
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "data", vit_model_load_memory(NULL, 10, NULL, &model));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "size", vit_model_load_memory(bytes, 0, NULL, &model));
    CHECK(model == NULL);

    /* Options: another input size, a memory budget, kernels by name, a bad struct_size */
    vit_model_options options = VIT_MODEL_OPTIONS_INIT;
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "options", vit_model_load_with_options(MODEL, NULL, &model));
    options.struct_size = 0;
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "struct_size", vit_model_load_with_options(MODEL, &options, &model));
    options.struct_size = sizeof options;
    options.image_width = 56;
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "both be positive", vit_model_load_with_options(MODEL, &options, &model));
    options.image_height = 30;
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "30", vit_model_load_with_options(MODEL, &options, &model));
    options.max_bytes = 4096;
    CHECK_ERROR(VIT_ERROR_TOO_LARGE, "limit", vit_model_load_with_options(MODEL, &options, &model));
    options.kernels = "none";
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "kernels", vit_model_load_with_options(MODEL, &options, &model));
    CHECK(model == NULL);
    options.kernels = "reference";
    options.image_height = 56;
    options.max_bytes = 32 << 20;
    vit_model *resized = NULL;
    CHECK_STATUS(VIT_OK, vit_model_load_with_options(MODEL, &options, &resized));
    CHECK(vit_model_image_width(resized) == 56 && vit_model_image_height(resized) == 56);
    vit_session *small = NULL;
    CHECK_STATUS(VIT_OK, vit_session_create(resized, 1, 1, &small));
    static unsigned char big[2048 * 2048];
    memset(big, 0, sizeof big);
    /* 4M pixels: over 32 MiB / 16 */
    CHECK_ERROR(VIT_ERROR_TOO_LARGE, "pixels", vit_session_set_pixels(small, 0, VIT_PIXEL_GRAY8, big, sizeof big, 2048, 2048, 0));
    CHECK_STATUS(VIT_OK, vit_session_set_image_file(small, 0, DIGIT));
    CHECK_STATUS(VIT_OK, vit_session_run(small, 0));
    int top = -1;
    CHECK_STATUS(VIT_OK, vit_session_top_k(small, 0, 1, &top, NULL));
    CHECK(top == 7);
    vit_session_free(small);
    vit_model_free(resized);
    /* A size the model cannot run at names this API's fields, never a CLI flag */
    options.image_width = options.image_height = 65536;
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "options->image_height x image_width 65536x65536", vit_model_load_with_options(MODEL, &options, &resized));
    CHECK(strstr(vit_last_error(), "--") == NULL);
    options.image_width = options.image_height = 56;
    /* An options struct from an older header (only struct_size and kernels) is read as such */
    options.struct_size = sizeof(size_t) + sizeof(const char *);
    CHECK_STATUS(VIT_OK, vit_model_load_with_options(MODEL, &options, &resized));
    CHECK(vit_model_image_width(resized) == 28);
    vit_model_free(resized);

    /* Getters are NULL-safe */
    CHECK(vit_model_num_classes(NULL) == -1 && vit_model_image_width(NULL) == -1 && vit_model_is_int8(NULL) == -1);
    CHECK(vit_model_label(NULL, 0) == NULL && vit_model_architecture(NULL) == NULL);
    CHECK(vit_model_heads(NULL) == -1 && vit_model_tokens(NULL) == -1 && vit_model_kernels(NULL) == NULL);
    vit_model_free(NULL);
    vit_session_free(NULL);

    vit_model *from_memory = NULL;
    CHECK_STATUS(VIT_OK, vit_model_load_memory(bytes, size, NULL, &from_memory));
    free(bytes);
    CHECK_STATUS(VIT_OK, vit_model_load(MODEL, "auto", &model));
    CHECK(vit_model_num_classes(model) == 10 && vit_model_image_width(model) == 28 && vit_model_channels(model) == 1);
    CHECK(vit_model_is_int8(model) == 1 && strcmp(vit_model_architecture(model), "vit") == 0);
    CHECK(vit_model_label(model, -1) == NULL && vit_model_label(model, 10) == NULL);
    CHECK(strcmp(vit_model_label(model, 7), "7") == 0);
    CHECK(vit_model_heads(model) == 4 && vit_model_tokens(model) == 50);  /* 7x7 patches of 4 and the class token */
    CHECK(vit_model_prefix_tokens(model) == 1 && vit_model_width(model) == 64);
    CHECK(vit_model_patch_rows(model) == 7 && vit_model_patch_columns(model) == 7);
    CHECK(vit_model_prefix_tokens(NULL) == -1 && vit_model_width(NULL) == -1 && vit_model_patch_rows(NULL) == -1);
    CHECK(vit_model_kernels(model) != NULL && strlen(vit_model_kernels(model)) > 0);

    /* Sessions */
    vit_session *s = (vit_session *)0x1;
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "model", vit_session_create(NULL, 1, 1, &s));
    CHECK(s == NULL);
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "out_session", vit_session_create(model, 1, 1, NULL));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "batch_size", vit_session_create(model, 0, 1, &s));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "threads", vit_session_create(model, 1, 0, &s));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "threads", vit_session_create(model, 1, 100000, &s));
    CHECK_ERROR(VIT_ERROR_TOO_LARGE, "arena", vit_session_create(model, 65536, 1, &s));
    int blocks[2] = {0, 99};
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "blocks 99", vit_session_create_with_attention(model, 1, 1, blocks, 2, &s));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "blocks", vit_session_create_with_attention(model, 1, 1, NULL, 2, &s));
    CHECK(s == NULL);
    CHECK_STATUS(VIT_OK, vit_session_create_with_attention(model, 2, 1, blocks, 1, &s));

    /* Calls out of order */
    float out[16384];
    int cls[10];
    CHECK_ERROR(VIT_ERROR_INVALID_STATE, "image 0", vit_session_run(s, 0));
    CHECK_ERROR(VIT_ERROR_INVALID_STATE, "run the session first", vit_session_output(s, VIT_OUTPUT_LOGITS, 0, 0, out, 10));
    CHECK_ERROR(VIT_ERROR_INVALID_STATE, "run the session first", vit_session_top_k(s, 0, 3, cls, out));

    /* Images */
    unsigned char gray[28 * 28];
    memset(gray, 0, sizeof gray);
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "session", vit_session_set_pixels(NULL, 0, VIT_PIXEL_GRAY8, gray, sizeof gray, 28, 28, 0));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "pixels", vit_session_set_pixels(s, 0, VIT_PIXEL_GRAY8, NULL, sizeof gray, 28, 28, 0));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "format", vit_session_set_pixels(s, 0, (vit_pixel_format)99, gray, sizeof gray, 28, 28, 0));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "width", vit_session_set_pixels(s, 0, VIT_PIXEL_GRAY8, gray, sizeof gray, 0, 28, 0));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "784", vit_session_set_pixels(s, 0, VIT_PIXEL_GRAY8, gray, 700, 28, 28, 0));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "2352", vit_session_set_pixels(s, 0, VIT_PIXEL_RGB24, gray, sizeof gray, 28, 28, 0));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "row_bytes", vit_session_set_pixels(s, 0, VIT_PIXEL_GRAY8, gray, sizeof gray, 28, 28, 27));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "buffer", vit_session_set_pixels(s, 0, VIT_PIXEL_GRAY8, gray, sizeof gray, 28, 28, 29));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "buffer", vit_session_set_pixels(s, 0, VIT_PIXEL_YUV420P, gray, sizeof gray, 28, 28, 0));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "image index", vit_session_set_pixels(s, 2, VIT_PIXEL_GRAY8, gray, sizeof gray, 28, 28, 0));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "image index", vit_session_set_pixels(s, -1, VIT_PIXEL_GRAY8, gray, sizeof gray, 28, 28, 0));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "aligned", vit_session_set_pixels(s, 0, VIT_PIXEL_GRAYF32, (char *)out + 1, 4 * 28 * 28, 28, 28, 0));
    CHECK_ERROR(VIT_ERROR_TOO_LARGE, "pixels", vit_session_set_pixels(s, 0, VIT_PIXEL_GRAY8, gray, SIZE_MAX, 65536, 65536, 0));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "more than 2^63", vit_session_set_pixels(s, 0, VIT_PIXEL_GRAY8, gray, SIZE_MAX / 2, 2, 2, SIZE_MAX / 2));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "path", vit_session_set_image_file(s, 0, NULL));
    CHECK_ERROR(VIT_ERROR_IO, "/nonexistent/x.png", vit_session_set_image_file(s, 0, "/nonexistent/x.png"));
    CHECK_ERROR(VIT_ERROR_BAD_IMAGE, "bad image", vit_session_set_image_file(s, 0, "Makefile"));
    unsigned char jpeg[64] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10};
    CHECK_ERROR(VIT_ERROR_BAD_IMAGE, "bad image", vit_session_set_image_memory(s, 0, jpeg, sizeof jpeg));
    unsigned char png[64] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    CHECK_ERROR(VIT_ERROR_BAD_IMAGE, "bad image", vit_session_set_image_memory(s, 0, png, sizeof png));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "data", vit_session_set_image_memory(s, 0, NULL, 10));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "size", vit_session_set_image_memory(s, 0, jpeg, 0));

    /* Float pixels must be finite */
    float nan_pixels[28 * 28];
    for (int i = 0; i < 28 * 28; i++) nan_pixels[i] = i == 300 ? NAN : 0.5f;
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "finite", vit_session_set_pixels(s, 0, VIT_PIXEL_GRAYF32, nan_pixels, sizeof nan_pixels, 28, 28, 0));
    nan_pixels[300] = INFINITY;
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "finite", vit_session_set_pixels(s, 0, VIT_PIXEL_GRAYF32, nan_pixels, sizeof nan_pixels, 28, 28, 0));
    /* A frame of an extreme aspect ratio (65536x1, and 1x65536) on a model that resizes the
       shorter side: served in memory bounded by the output, not aborted */
    static unsigned char line[65536];
    memset(line, 90, sizeof line);
    CHECK_STATUS(VIT_OK, vit_session_set_pixels(s, 0, VIT_PIXEL_GRAY8, line, sizeof line, 65536, 1, 0));
    CHECK_STATUS(VIT_OK, vit_session_set_pixels(s, 1, VIT_PIXEL_GRAY8, line, sizeof line, 1, 65536, 0));
    CHECK_STATUS(VIT_OK, vit_session_run(s, 2));

    /* The byte orders of OpenCV and Picamera2 (BGR24, RGBX32, BGRX32), with padded rows,
       give what the same picture as RGB24 gives; no format past the last is taken */
    {
        enum { W = 37, H = 31, PAD = 5 };
        static unsigned char rgb[W * H * 3], other[H * (W * 4 + PAD)];
        for (int i = 0; i < W * H * 3; i++) rgb[i] = (unsigned char)((i * 73 + (i / 3) * 11) & 0xFF);
        float want[10], got[10];
        CHECK_STATUS(VIT_OK, vit_session_set_pixels(s, 0, VIT_PIXEL_RGB24, rgb, sizeof rgb, W, H, 0));
        CHECK_STATUS(VIT_OK, vit_session_run(s, 1));
        CHECK_STATUS(VIT_OK, vit_session_output(s, VIT_OUTPUT_LOGITS, 0, 0, want, 10));
        const vit_pixel_format formats[3] = {VIT_PIXEL_BGR24, VIT_PIXEL_RGBX32, VIT_PIXEL_BGRX32};
        for (int f = 0; f < 3; f++) {
            int bpp = formats[f] == VIT_PIXEL_BGR24 ? 3 : 4, bgr = formats[f] != VIT_PIXEL_RGBX32;
            size_t row = (size_t)W * bpp + PAD;
            memset(other, 0xEE, sizeof other);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    const unsigned char *p = rgb + (y * W + x) * 3;
                    unsigned char *q = other + y * row + x * bpp;
                    q[0] = bgr ? p[2] : p[0]; q[1] = p[1]; q[2] = bgr ? p[0] : p[2];
                    if (bpp == 4) q[3] = (unsigned char)(x * 7);  /* ignored */
                }
            CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "row_bytes", vit_session_set_pixels(s, 0, formats[f], other, sizeof other, W, H, (size_t)W * bpp - 1));
            CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "buffer", vit_session_set_pixels(s, 0, formats[f], other, row * (H - 1), W, H, row));
            CHECK_STATUS(VIT_OK, vit_session_set_pixels(s, 0, formats[f], other, row * (H - 1) + (size_t)W * bpp, W, H, row));
            CHECK_STATUS(VIT_OK, vit_session_run(s, 1));
            CHECK_STATUS(VIT_OK, vit_session_output(s, VIT_OUTPUT_LOGITS, 0, 0, got, 10));
            CHECK(memcmp(want, got, sizeof want) == 0);
        }
        CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "0...8", vit_session_set_pixels(s, 0, (vit_pixel_format)9, rgb, sizeof rgb, W, H, 0));
    }

    /* A good run: a file, and the same digit as pixels of another size with a row stride */
    CHECK_STATUS(VIT_OK, vit_session_set_image_file(s, 0, DIGIT));
    CHECK_ERROR(VIT_ERROR_INVALID_STATE, "image 1", vit_session_run(s, 2));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "count", vit_session_run(s, 3));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "count", vit_session_run(s, -1));
    unsigned char wide[40 * 56];
    memset(wide, 0, sizeof wide);
    CHECK_STATUS(VIT_OK, vit_session_set_pixels(s, 1, VIT_PIXEL_GRAY8, wide, sizeof wide, 33, 56, 40));
    CHECK_STATUS(VIT_OK, vit_session_run(s, 2));

    CHECK(vit_session_output_count(s, VIT_OUTPUT_LOGITS) == 10);
    CHECK(vit_session_output_count(s, VIT_OUTPUT_PROBABILITIES) == 10);
    CHECK(vit_session_output_count(s, VIT_OUTPUT_EMBEDDING) == (size_t)vit_model_embedding_size(model));
    CHECK(vit_session_output_count(s, VIT_OUTPUT_TOKENS) == 50 * 64);
    size_t attention = vit_session_output_count(s, VIT_OUTPUT_ATTENTION);
    CHECK(attention > 0 && attention <= 16384);
    CHECK(vit_session_output_count(NULL, VIT_OUTPUT_LOGITS) == 0 && vit_session_output_count(s, (vit_output)9) == 0);
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "out", vit_session_output(s, VIT_OUTPUT_LOGITS, 0, 0, NULL, 10));
    CHECK_ERROR(VIT_ERROR_BUFFER_TOO_SMALL, "10 floats", vit_session_output(s, VIT_OUTPUT_LOGITS, 0, 0, out, 9));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "output", vit_session_output(s, (vit_output)7, 0, 0, out, 10));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "image", vit_session_output(s, VIT_OUTPUT_LOGITS, 2, 0, out, 10));
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "block 1", vit_session_output(s, VIT_OUTPUT_ATTENTION, 0, 1, out, 16384));
    CHECK_STATUS(VIT_OK, vit_session_output(s, VIT_OUTPUT_ATTENTION, 0, 0, out, 16384));
    int tokens = (int)lround(sqrt((double)attention / 4)); /* 4 heads */
    double row = 0;
    for (int j = 0; j < tokens; j++) row += out[j];
    CHECK(fabs(row - 1) < 1e-4);  /* each attention row is a distribution */
    /* The final tokens: the class token's row is what the head reads (class-token pooling). */
    CHECK_ERROR(VIT_ERROR_BUFFER_TOO_SMALL, "3200 floats", vit_session_output(s, VIT_OUTPUT_TOKENS, 0, 0, out, 3199));
    CHECK_STATUS(VIT_OK, vit_session_output(s, VIT_OUTPUT_TOKENS, 0, 0, out, 16384));
    float embedding[64];
    CHECK_STATUS(VIT_OK, vit_session_output(s, VIT_OUTPUT_EMBEDDING, 0, 0, embedding, 64));
    CHECK(memcmp(out, embedding, sizeof embedding) == 0 && out[64] != out[0]);
    CHECK_STATUS(VIT_OK, vit_session_output(s, VIT_OUTPUT_PROBABILITIES, 0, 0, out, 10));
    double sum = 0;
    for (int j = 0; j < 10; j++) sum += out[j];
    CHECK(fabs(sum - 1) < 1e-4);
    float probability[10];
    CHECK_ERROR(VIT_ERROR_INVALID_ARGUMENT, "k", vit_session_top_k(s, 0, -1, cls, probability));
    CHECK_STATUS(VIT_OK, vit_session_top_k(s, 0, 50, cls, probability)); /* k > classes: 10 written */
    CHECK(cls[0] == 7 && probability[0] == out[7] && probability[9] <= probability[0]);
    CHECK_STATUS(VIT_OK, vit_session_top_k(s, 0, 1, NULL, NULL));

    /* A model loaded from memory gives the same numbers */
    vit_session *m2 = NULL;
    CHECK_STATUS(VIT_OK, vit_session_create(from_memory, 1, 1, &m2));
    CHECK_STATUS(VIT_OK, vit_session_set_image_file(m2, 0, DIGIT));
    CHECK_STATUS(VIT_OK, vit_session_run(m2, 0));
    float again[10];
    CHECK_STATUS(VIT_OK, vit_session_output(m2, VIT_OUTPUT_PROBABILITIES, 0, 0, again, 10));
    CHECK(memcmp(again, out, sizeof again) == 0);

    /* Setting the next image invalidates the results (their memory is reused) */
    CHECK_STATUS(VIT_OK, vit_session_set_image_file(s, 0, DIGIT));
    CHECK_ERROR(VIT_ERROR_INVALID_STATE, "run the session first", vit_session_output(s, VIT_OUTPUT_LOGITS, 0, 0, out, 10));

    /* The model handle may go before its sessions: they keep the weights */
    vit_model_free(from_memory);
    CHECK_STATUS(VIT_OK, vit_session_set_image_file(m2, 0, DIGIT));
    CHECK_STATUS(VIT_OK, vit_session_run(m2, 1));
    CHECK_STATUS(VIT_OK, vit_session_output(m2, VIT_OUTPUT_PROBABILITIES, 0, 0, again, 10));
    CHECK(memcmp(again, out, sizeof again) == 0);
    vit_session_free(m2);

    /* The message is per thread */
    vit_model *none = NULL;
    CHECK_STATUS(VIT_ERROR_IO, vit_model_load("/nonexistent/main.vitq", NULL, &none));
    pthread_t t;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, NULL);
    CHECK(strstr(vit_last_error(), "main.vitq") != NULL);

    vit_session_free(s);
    vit_model_free(model);
    return report("bad_input");
}
