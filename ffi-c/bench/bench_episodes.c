/* Whole episodes through the C ABI from several threads at once (ffi-c/bench/run.sh): each
 * thread begins an episode on its own key of one shared engine, records a 503 (on_failure, the
 * recommendation released), a success, and frees the episode, 200,000 times; the program reports
 * the mean time per episode of each thread. Handles are made and freed on every episode here, so
 * this is where a free that waited for other threads' calls, or a table lock shared by creating
 * and freeing, would show. The engine runs on a manual clock, so plans are rebuilt inline (as in
 * tests and simulations): most of an episode is the engine's own work. */
#include "bench.h"

enum { EPISODES = 200000 };

static smartretry_engine *engine;

typedef struct {
    int index;
    double per_episode;
    int bad;
} worker;

static void *run(void *arg) {
    worker *w = arg;
    char key[32];
    snprintf(key, sizeof key, "bench-%d", w->index);
    smartretry_failure *f = NULL;
    w->bad = smartretry_failure_new(&f) || smartretry_failure_set_http_status(f, 503);
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
    smartretry_clock *clock = NULL;
    bench_engine(&clock, &engine);
    worker w[BENCH_MAX_THREADS] = {0};
    for (int i = 0; i < threads; i++) w[i].index = i;
    bench_run_threads(threads, run, w, sizeof w[0]);
    double sum = 0;
    int bad = 0;
    for (int i = 0; i < threads; i++) {
        sum += w[i].per_episode;
        bad |= w[i].bad;
    }
    printf("C ABI episodes (begin, 503, success, free), %d threads: %.0f ns per episode per thread\n", threads,
           sum / threads);
    smartretry_engine_free(engine);
    smartretry_clock_free(clock);
    return bad ? 1 : 0;
}
