/* Whole episodes through the C ABI from several threads at once (ffi-c/bench/run.sh): each
 * thread begins an episode on its own key of one shared engine, records a 503 (on_failure, the
 * recommendation released), a success, and frees the episode, 200,000 times; the program reports
 * the mean time per episode of each thread. Handles are made and freed on every episode here, so
 * this is where a free that waited for other threads' calls, or a table lock shared by creating
 * and freeing, would show. The engine runs on a manual clock, so plans are rebuilt inline (as in
 * tests and simulations): most of an episode is the engine's own work. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "smartretry.h"

enum { EPISODES = 200000, MAX_THREADS = 16 };

static smartretry_engine *engine;
static pthread_barrier_t start;

typedef struct {
    int index;
    double per_episode;
    int bad;
} worker;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *run(void *arg) {
    worker *w = arg;
    char key[32];
    snprintf(key, sizeof key, "bench-%d", w->index);
    smartretry_failure *f = NULL;
    if (smartretry_failure_new(&f) || smartretry_failure_set_http_status(f, 503)) {
        w->bad = 1;
        return NULL;
    }
    pthread_barrier_wait(&start);
    double t = now_ns();
    for (int i = 0; i < EPISODES; i++) {
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
    double sum = 0;
    int bad = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        sum += w[i].per_episode;
        bad |= w[i].bad;
    }
    printf("C ABI episodes (begin, 503, success, free), %d threads: %.0f ns per episode per thread\n", threads,
           sum / threads);
    smartretry_engine_free(engine);
    smartretry_clock_free(clock);
    return bad ? 1 : 0;
}
