/* A minimal test harness for the C API tests: CHECK_STATUS names the call, the status
   expected and found, and vit_last_error(), then counts the failure. */
#ifndef VIT_EDGE_CHECK_H
#define VIT_EDGE_CHECK_H
#include <stdio.h>
#include <string.h>
#include "vit_edge.h"

static int failures = 0, checks = 0;

#define CHECK(cond) do { checks++; if (!(cond)) { failures++; \
    fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_STATUS(expected, call) do { checks++; vit_status s_ = (call); if (s_ != (expected)) { failures++; \
    fprintf(stderr, "%s:%d: FAILED: %s: expected %s, got %s (%s)\n", __FILE__, __LINE__, #call, \
            vit_status_name(expected), vit_status_name(s_), vit_last_error()); } } while (0)

/* A failing call must leave a one-line message that mentions `needle`. */
#define CHECK_ERROR(expected, needle, call) do { CHECK_STATUS(expected, call); \
    const char *m_ = vit_last_error(); checks++; \
    if (strstr(m_, needle) == NULL || strchr(m_, '\n') != NULL) { failures++; \
        fprintf(stderr, "%s:%d: FAILED: %s: message '%s' lacks '%s' or is not one line\n", __FILE__, __LINE__, #call, m_, needle); } \
    } while (0)

static int report(const char *name) {
    if (failures) fprintf(stderr, "%s: %d of %d checks failed\n", name, failures, checks);
    else printf("%s: %d checks passed\n", name, checks);
    return failures != 0;
}
#endif
