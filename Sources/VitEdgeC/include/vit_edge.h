/*
 * vit_edge.h: the C API of vit-edge, a Vision Transformer inference engine.
 *
 *   vit_model *model; vit_session *session;
 *   if (vit_model_load("model.vitq", NULL, &model) != VIT_OK) { puts(vit_last_error()); return 1; }
 *   vit_session_create(model, 1, 1, &session);
 *   vit_session_set_image_file(session, 0, "photo.jpg");
 *   vit_session_run(session, 0);
 *   int cls[3]; float p[3];
 *   vit_session_top_k(session, 0, 3, cls, p);
 *   vit_session_free(session); vit_model_free(model);
 *
 * Link: -lvitedge (libvitedge.so; its Swift runtime is linked in statically).
 *
 * Rules (docs/API.md):
 * - Every function that can fail returns a vit_status; VIT_OK is 0. On failure
 *   vit_last_error() holds one line saying what was expected and what was found.
 * - Every pointer argument is checked: NULL where a handle, path or buffer is needed is
 *   VIT_ERROR_INVALID_ARGUMENT, never a crash. A pointer to freed memory, or a buffer
 *   smaller than the size passed with it, cannot be checked and is the caller's error.
 * - Handles: a vit_model is immutable once loaded and may be shared by sessions on any
 *   number of threads. A vit_session is used by one thread at a time (one session per
 *   thread). A session keeps its model's weights alive: vit_model_free may be called while
 *   sessions of the model exist (the weights go when the last of them is freed), but the
 *   vit_model handle itself must not be used after vit_model_free.
 * - The *_free functions accept NULL. Freeing a handle twice is the caller's error.
 * - Strings returned are UTF-8 and owned by the library, valid as long as the handle they
 *   came from (vit_last_error: until the next failing call on the same thread).
 */
#ifndef VIT_EDGE_H
#define VIT_EDGE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes; vit_edge_abi_version() must return the same number. */
#define VIT_EDGE_ABI_VERSION 1

typedef struct vit_model vit_model;
typedef struct vit_session vit_session;

/* Stable numbers: new codes may be added, none is reused or renumbered. */
typedef enum vit_status {
    VIT_OK = 0,
    VIT_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, index or size out of range */
    VIT_ERROR_IO = 2,               /* a file could not be opened or read */
    VIT_ERROR_BAD_MODEL = 3,        /* not a valid .vitq model */
    VIT_ERROR_BAD_IMAGE = 4,        /* an image file that cannot be decoded */
    VIT_ERROR_TOO_LARGE = 5,        /* over a resource limit (file, weights, pixels, arena) */
    VIT_ERROR_BUFFER_TOO_SMALL = 6, /* an output buffer's capacity is below what it must hold */
    VIT_ERROR_INVALID_STATE = 7,    /* out of order: run before every image was set, read before run */
    VIT_ERROR_INTERNAL = 100        /* a bug: please report it with vit_last_error() */
} vit_status;

/* Pixel layouts of vit_session_set_pixels. */
typedef enum vit_pixel_format {
    VIT_PIXEL_GRAY8 = 0,   /* 8-bit gray, 1 byte per pixel */
    VIT_PIXEL_RGB24 = 1,   /* 8-bit RGB, 3 bytes per pixel */
    VIT_PIXEL_YUV420P = 2, /* planar Y, then U and V at half size (rounded up), tightly packed: I420 */
    VIT_PIXEL_NV12 = 3,    /* Y, then interleaved UV at half size (rounded up), tightly packed */
    VIT_PIXEL_GRAYF32 = 4, /* float gray in [0, 1] */
    VIT_PIXEL_RGBF32 = 5,  /* float RGB in [0, 1] */
    VIT_PIXEL_BGR24 = 6,   /* 8-bit B, G, R: OpenCV's order, Picamera2's "RGB888" */
    VIT_PIXEL_RGBX32 = 7,  /* 8-bit R, G, B, ignored byte: Picamera2's "XBGR8888", RGBA */
    VIT_PIXEL_BGRX32 = 8   /* 8-bit B, G, R, ignored byte: Picamera2's "XRGB8888", BGRA */
} vit_pixel_format;

/* What a session computes for each image. */
typedef enum vit_output {
    VIT_OUTPUT_LOGITS = 0,        /* one per class */
    VIT_OUTPUT_PROBABILITIES = 1, /* softmax of the logits (a sigmoid per class: SigLIP zero-shot) */
    VIT_OUTPUT_EMBEDDING = 2,     /* what the head reads (vit_model_embedding_size floats) */
    VIT_OUTPUT_ATTENTION = 3,     /* a captured block's map: [heads, tokens, tokens] */
    VIT_OUTPUT_TOKENS = 4         /* every token after the final norm: [tokens, width], the
                                     vit_model_prefix_tokens prefix tokens first, then the
                                     patches row by row (DINOv2 patch features; Hugging
                                     Face's last_hidden_state). Since 0.x: ABI still 1. */
} vit_output;

/* ---- Library -------------------------------------------------------------------- */

/* The engine's semantic version, e.g. "0.2.0" (the same as `vit-edge --version`). */
const char *vit_edge_version(void);
/* The ABI the library implements: compare with VIT_EDGE_ABI_VERSION. */
int vit_edge_abi_version(void);
/* The message of the most recent failing call on this thread ("" if none). */
const char *vit_last_error(void);
/* The name of a status, e.g. "VIT_ERROR_BAD_MODEL". */
const char *vit_status_name(vit_status status);

/* ---- Models ------------------------------------------------------------------------ */

/* Loads a .vitq file. kernels: NULL or "auto" for the fastest this CPU supports, or
   "reference", "xsimd", "avx2", "avx512", "swift". */
vit_status vit_model_load(const char *path, const char *kernels, vit_model **out_model);
/* Loads a .vitq file held in memory (the bytes are copied). */
vit_status vit_model_load_memory(const void *data, size_t size, const char *kernels, vit_model **out_model);
/* Options of vit_model_load_with_options. Start from VIT_MODEL_OPTIONS_INIT: struct_size
   lets later versions add fields at the end without breaking programs built against this
   header (the library reads only the fields struct_size covers). */
typedef struct vit_model_options {
    size_t struct_size;  /* sizeof(vit_model_options) */
    const char *kernels; /* as in vit_model_load; NULL: auto */
    int image_width;     /* run at another input size (a ViT's positions are resampled); */
    int image_height;    /*   0 and 0: the model's own size */
    size_t max_bytes;    /* 0: the default limits (2 GiB); else one budget for the file, the
                            weights and each session's arena, and max_bytes / 16 pixels per
                            image (as the CLI's VIT_EDGE_MAX_MB) */
} vit_model_options;
#define VIT_MODEL_OPTIONS_INIT { sizeof(vit_model_options), NULL, 0, 0, 0 }

vit_status vit_model_load_with_options(const char *path, const vit_model_options *options, vit_model **out_model);
void vit_model_free(vit_model *model);

/* The input the model runs at (any image is resized to it); -1 for NULL. */
int vit_model_image_width(const vit_model *model);
int vit_model_image_height(const vit_model *model);
int vit_model_channels(const vit_model *model);
/* Classes of the head (0: the model outputs embeddings only); -1 for NULL. */
int vit_model_num_classes(const vit_model *model);
int vit_model_embedding_size(const vit_model *model);
int vit_model_blocks(const vit_model *model);
/* Attention heads per block (0 for MLP-Mixer and ResMLP; a Swin or PVT v2's first stage's)
   and tokens per image (patches and the class token; the last stage's in a Swin or PVT v2):
   a VIT_OUTPUT_ATTENTION map is [heads, tokens, tokens]; -1 for NULL.
   (New functions only: the ABI stays 1.) */
int vit_model_heads(const vit_model *model);
int vit_model_tokens(const vit_model *model);
/* Of those tokens, the ones before the patches (class, distillation, register tokens), the
   width of each (floats per token in VIT_OUTPUT_TOKENS), and the patch grid's rows and
   columns; -1 for NULL. (New functions only: the ABI stays 1.) */
int vit_model_prefix_tokens(const vit_model *model);
int vit_model_width(const vit_model *model);
int vit_model_patch_rows(const vit_model *model);
int vit_model_patch_columns(const vit_model *model);
/* 1 if the blocks' Linear layers are int8, 0 if fp32, -1 for NULL. */
int vit_model_is_int8(const vit_model *model);
/* "vit", "hybrid", "mixer", "resmlp", "deepvit", "t2t", "swin" or "pvt"; NULL for NULL. */
const char *vit_model_architecture(const vit_model *model);
/* The kernels the model runs on here, e.g. "avx2 (fp32 vk_f32_gemm_6x16__avx2_fma, ...)";
   NULL for NULL. */
const char *vit_model_kernels(const vit_model *model);
/* The label of a class (its number when the model has no labels); NULL if out of range. */
const char *vit_model_label(const vit_model *model, int class_index);

/* ---- Sessions ---------------------------------------------------------------------- */

/* Plans a session for batches of up to batch_size images, run on threads threads. */
vit_status vit_session_create(vit_model *model, int batch_size, int threads, vit_session **out_session);
/* The same, keeping the attention maps of the given blocks for VIT_OUTPUT_ATTENTION. */
vit_status vit_session_create_with_attention(vit_model *model, int batch_size, int threads,
                                             const int *blocks, int block_count, vit_session **out_session);
void vit_session_free(vit_session *session);

/* Sets image `image` (0 ... batch_size-1) of the next run from pixels in memory. size is
   the number of bytes readable at pixels; row_bytes the stride between rows (of the Y plane
   for the YUV formats), 0 for tightly packed rows. Both are checked against the layout. */
vit_status vit_session_set_pixels(vit_session *session, int image, vit_pixel_format format,
                                  const void *pixels, size_t size, int width, int height, size_t row_bytes);
/* Sets an image from a JPEG, PNG, PGM or PPM file. */
vit_status vit_session_set_image_file(vit_session *session, int image, const char *path);
/* Sets an image from a JPEG, PNG, PGM or PPM file held in memory. */
vit_status vit_session_set_image_memory(vit_session *session, int image, const void *data, size_t size);

/* Runs images 0 ... count-1 (count 0: the whole batch), each set since the last run.
   Results stay readable until the next set_* or run call on this session. */
vit_status vit_session_run(vit_session *session, int count);

/* Floats per image in an output (for VIT_OUTPUT_ATTENTION: of one block's map; 0 when the
   session captures no attention). */
size_t vit_session_output_count(const vit_session *session, vit_output output);
/* Copies image `image`'s output into out (capacity floats). block: the block of a
   VIT_OUTPUT_ATTENTION map (one passed at creation), ignored otherwise. */
vit_status vit_session_output(const vit_session *session, vit_output output, int image, int block,
                              float *out, size_t capacity);
/* The k most probable classes of image `image`, most probable first: writes
   min(k, classes) entries to classes and probabilities (either may be NULL). */
vit_status vit_session_top_k(const vit_session *session, int image, int k, int *classes, float *probabilities);

#ifdef __cplusplus
}
#endif

#endif /* VIT_EDGE_H */
