/* C-ABI calls from several threads at once (ffi-c/bench/run.sh): each thread makes
 * smartretry_engine_recommend + smartretry_recommendation_free calls on its own episode and
 * failure, on one shared engine (key "bench-<thread>"), and the program reports the median over
 * batches of the wall time per call of each thread and the calls per second of all together.
 * What the boundary shares between threads (a table lock, a mutex for details) shows up here as
 * contention; one thread is the single-threaded figure. */
#include "bench.h"

enum { BATCH = 20000, BATCHES = 25 };

static smartretry_engine *engine;

typedef struct {
    int index;
    double per_call[BATCHES];
    int bad;
} worker;

static void *run(void *arg) {
    worker *w = arg;
    char key[32];
    snprintf(key, sizeof key, "bench-%d", w->index);
    smartretry_episode *ep = NULL;
    smartretry_failure *f = NULL;
    smartretry_recommendation rec = {0};
    w->bad = smartretry_engine_begin(engine, key, NULL, &ep) || smartretry_failure_new(&f) ||
             smartretry_failure_set_http_status(f, 503) || smartretry_engine_on_failure(engine, ep, f, &rec);
    smartretry_recommendation_free(&rec);
    pthread_barrier_wait(&bench_start);
    for (int b = 0; b < BATCHES && !w->bad; b++) {
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
    int threads = bench_threads_arg(argc, argv);
    smartretry_clock *clock = NULL;
    bench_engine(&clock, &engine);
    worker w[BENCH_MAX_THREADS] = {0};
    for (int i = 0; i < threads; i++) w[i].index = i;
    bench_run_threads(threads, run, w, sizeof w[0]);
    double all[BENCH_MAX_THREADS * BATCHES];
    int n = 0, bad = 0;
    for (int i = 0; i < threads; i++) {
        bad |= w[i].bad;
        for (int b = 0; b < BATCHES; b++) all[n++] = w[i].per_call[b];
    }
    qsort(all, (size_t)n, sizeof all[0], cmp_double);
    double median = all[n / 2];
    printf("C ABI recommend, %d threads: median %.1f ns/call per thread, %.2f M calls/s in all\n", threads,
           median, threads * 1e3 / median);
    smartretry_engine_free(engine);
    smartretry_clock_free(clock);
    return bad ? 1 : 0;
}
