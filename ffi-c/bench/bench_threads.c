/* The C ABI from several threads at once on one shared engine (ffi-c/bench/run.sh), each thread
 * with its own key ("bench-<thread>"). Usage: bench_threads [THREADS] [calls|episodes].
 *
 * calls (default): each thread makes smartretry_engine_recommend + smartretry_recommendation_free
 * calls on its own episode and failure; reported: the median over batches of the time per call
 * of each thread, and the calls per second of all together. What the boundary shares between
 * threads (a table lock, a mutex for details) shows up here as contention.
 *
 * episodes: each thread begins an episode, records a 503 (the recommendation released), a
 * success, and frees the episode, 200,000 times; reported: the mean time per episode of each
 * thread. Handles are made and freed every time, so a free that waited for other threads' calls,
 * or a lock shared by creating and freeing, shows here. The engine runs on a manual clock, so
 * plans are rebuilt inline (as in tests and simulations): most of an episode is the engine's own
 * work. */
#include <string.h>

#include "bench.h"

enum { BATCH = 20000, BATCHES = 25, EPISODES = 200000 };

static smartretry_engine *engine;

typedef struct {
    int index;
    int bad;
    double per_call[BATCHES];
    double per_episode;
} worker;

/* The thread's key and a failure with HTTP 503; false if either could not be made. */
static int prepare(worker *w, char key[32], smartretry_failure **f) {
    snprintf(key, 32, "bench-%d", w->index);
    return smartretry_failure_new(f) == SMARTRETRY_OK && smartretry_failure_set_http_status(*f, 503) == SMARTRETRY_OK;
}

static void *calls(void *arg) {
    worker *w = arg;
    char key[32];
    smartretry_failure *f = NULL;
    smartretry_episode *ep = NULL;
    smartretry_recommendation rec = {0};
    w->bad = !prepare(w, key, &f) || smartretry_engine_begin(engine, key, NULL, &ep) ||
             smartretry_engine_on_failure(engine, ep, f, &rec);
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

static void *episodes(void *arg) {
    worker *w = arg;
    char key[32];
    smartretry_failure *f = NULL;
    w->bad = !prepare(w, key, &f);
    pthread_barrier_wait(&bench_start);
    double t = now_ns();
    for (int i = 0; i < EPISODES && !w->bad; i++) {
        smartretry_episode *ep = NULL;
        smartretry_recommendation rec = {0};
        w->bad |= smartretry_engine_begin(engine, key, NULL, &ep) != SMARTRETRY_OK;
        w->bad |= smartretry_engine_on_failure(engine, ep, f, &rec) != SMARTRETRY_OK;
        w->bad |= smartretry_recommendation_free(&rec) != SMARTRETRY_OK;
        w->bad |= smartretry_engine_on_success(engine, ep, NULL) != SMARTRETRY_OK;
        w->bad |= smartretry_episode_free(ep) != SMARTRETRY_OK;
    }
    w->per_episode = (now_ns() - t) / EPISODES;
    smartretry_failure_free(f);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = bench_threads_arg(argc, argv);
    int whole = argc > 2 && strcmp(argv[2], "episodes") == 0;
    smartretry_clock *clock = NULL;
    bench_engine(&clock, &engine);
    worker w[BENCH_MAX_THREADS] = {0};
    for (int i = 0; i < threads; i++) w[i].index = i;
    bench_run_threads(threads, whole ? episodes : calls, w, sizeof w[0]);
    int bad = 0;
    for (int i = 0; i < threads; i++) bad |= w[i].bad;
    if (whole) {
        double sum = 0;
        for (int i = 0; i < threads; i++) sum += w[i].per_episode;
        printf("C ABI episodes (begin, 503, success, free), %d threads: %.0f ns per episode per thread\n",
               threads, sum / threads);
    } else {
        double all[BENCH_MAX_THREADS * BATCHES];
        int n = 0;
        for (int i = 0; i < threads; i++)
            for (int b = 0; b < BATCHES; b++) all[n++] = w[i].per_call[b];
        qsort(all, (size_t)n, sizeof all[0], cmp_double);
        double median = all[n / 2];
        printf("C ABI recommend, %d threads: median %.1f ns/call per thread, %.2f M calls/s in all\n",
               threads, median, threads * 1e3 / median);
    }
    smartretry_engine_free(engine);
    smartretry_clock_free(clock);
    return bad ? 1 : 0;
}
