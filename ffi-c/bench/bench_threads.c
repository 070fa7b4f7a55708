/* C-ABI calls from several threads at once (ffi-c/bench/run.sh, THREADS=n): each thread makes
 * smartretry_engine_recommend + smartretry_recommendation_free calls on its own episode and
 * failure, on one shared engine (key "bench-<thread>"), and the program reports the median over
 * batches of the wall time per call of each thread and the calls per second of all together.
 * What the boundary shares between threads (a table lock, a mutex for details) shows up here as
 * contention; one thread is the single-threaded figure. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "smartretry.h"

enum { BATCH = 20000, BATCHES = 25, MAX_THREADS = 16 };

static smartretry_engine *engine;
static pthread_barrier_t start;

typedef struct {
    int index;
    double per_call[BATCHES];
    int bad;
} worker;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void *run(void *arg) {
    worker *w = arg;
    char key[32];
    snprintf(key, sizeof key, "bench-%d", w->index);
    smartretry_episode *ep = NULL;
    smartretry_failure *f = NULL;
    smartretry_recommendation rec = {0};
    if (smartretry_engine_begin(engine, key, NULL, &ep) || smartretry_failure_new(&f) ||
        smartretry_failure_set_http_status(f, 503) || smartretry_engine_on_failure(engine, ep, f, &rec)) {
        w->bad = 1;
        return NULL;
    }
    smartretry_recommendation_free(&rec);
    pthread_barrier_wait(&start);
    for (int b = 0; b < BATCHES; b++) {
        double t = now_ns();
        for (int i = 0; i < BATCH; i++) {
            w->bad |= smartretry_engine_recommend(engine, ep, f, &rec) != SMARTRETRY_OK;
            w->bad |= smartretry_recommendation_free(&rec) != SMARTRETRY_OK;
        }
        w->per_call[b] = (now_ns() - t) / BATCH;
    }
    smartretry_failure_free(f);
    smartretry_episode_free(ep);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1 || threads > MAX_THREADS) threads = 2;
    smartretry_clock *clock = NULL;
    if (smartretry_clock_new_manual(1700000000.0, &clock) || smartretry_engine_new(NULL, clock, &engine)) {
        fprintf(stderr, "setup failed: %s\n", smartretry_last_error());
        return 1;
    }
    pthread_t t[MAX_THREADS];
    worker w[MAX_THREADS] = {0};
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        w[i].index = i;
        pthread_create(&t[i], NULL, run, &w[i]);
    }
    double all[MAX_THREADS * BATCHES];
    int n = 0, bad = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        bad |= w[i].bad;
        for (int b = 0; b < BATCHES; b++) all[n++] = w[i].per_call[b];
    }
    qsort(all, (size_t)n, sizeof all[0], cmp);
    double median = all[n / 2];
    printf("C ABI recommend, %d threads: median %.1f ns/call per thread, %.2f M calls/s in all\n", threads,
           median, threads * 1e3 / median);
    smartretry_engine_free(engine);
    smartretry_clock_free(clock);
    return bad ? 1 : 0;
}
