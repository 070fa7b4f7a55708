/* Minimal test helpers for the C ABI tests: CHECK counts, OK/FAILS assert status codes. */
#ifndef SMARTRETRY_TEST_CHECK_H
#define SMARTRETRY_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "smartretry.h"

static int checks_passed;
static int checks_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            checks_passed++;                                                         \
        } else {                                                                     \
            checks_failed++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, \
                    __LINE__, #cond, smartretry_last_error());                       \
        }                                                                            \
    } while (0)

/* The call succeeds. */
#define OK(call) CHECK((call) == SMARTRETRY_OK)
/* The call fails with `status`, and sets the thread's last error to it. */
#define FAILS(call, status)                                                          \
    do {                                                                             \
        smartretry_status got_ = (call);                                             \
        CHECK(got_ == (status));                                                     \
        CHECK(smartretry_last_status() == (status));                                 \
        CHECK(strlen(smartretry_last_error()) > 0);                                  \
    } while (0)

/* The first 64 KiB of a file as a string (a static buffer, overwritten by the next call), or
 * NULL when it cannot be opened: for checking what a test made the library write. */
static inline char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static int report(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, checks_passed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

#endif
