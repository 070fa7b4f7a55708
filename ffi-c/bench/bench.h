/* What the C benchmarks of ffi-c/bench share: a monotonic clock in nanoseconds, a comparison for
 * sorting timings, the engine they measure (default policy, manual clock), and running one
 * worker function on several threads that start together. */
#ifndef SMARTRETRY_BENCH_H
#define SMARTRETRY_BENCH_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "smartretry.h"

enum { BENCH_MAX_THREADS = 16 };

static inline double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The measured engine on a manual clock (plans rebuilt inline, as in tests); exits on failure. */
static inline void bench_engine(smartretry_clock **clock, smartretry_engine **engine) {
    if (smartretry_clock_new_manual(1700000000.0, clock) || smartretry_engine_new(NULL, *clock, engine)) {
        fprintf(stderr, "setup failed: %s\n", smartretry_last_error());
        exit(1);
    }
}

/* The thread count from the first argument: 1 to BENCH_MAX_THREADS, 2 when absent or out of range. */
static inline int bench_threads_arg(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    return threads < 1 || threads > BENCH_MAX_THREADS ? 2 : threads;
}

/* Every worker waits here once set up, so that all measure at the same time. */
static pthread_barrier_t bench_start;

/* Run `run` on `threads` threads, the i-th given `workers + i * size`, and wait for them all. */
static inline void bench_run_threads(int threads, void *(*run)(void *), void *workers, size_t size) {
    pthread_t t[BENCH_MAX_THREADS];
    pthread_barrier_init(&bench_start, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, run, (char *)workers + (size_t)i * size);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&bench_start);
}

#endif
