/* C side of the C-overhead benchmark (ffi-c/bench/run.sh): the median cost of
 * smartretry_engine_recommend (plus releasing the recommendation) through the ABI, in the same
 * setup as ffi-c/examples/bench_native.rs. */
#include "bench.h"

enum { BATCH = 10000, BATCHES = 51 };

int main(void) {
    smartretry_clock *clock = NULL;
    smartretry_engine *engine = NULL;
    smartretry_episode *ep = NULL;
    smartretry_failure *f = NULL;
    smartretry_recommendation rec = {0};
    double per_call[BATCHES];
    int bad = 0;
    bench_engine(&clock, &engine);
    if (smartretry_engine_begin(engine, "bench", NULL, &ep) || smartretry_failure_new(&f) ||
        smartretry_failure_set_http_status(f, 503) || smartretry_engine_on_failure(engine, ep, f, &rec)) {
        fprintf(stderr, "setup failed: %s\n", smartretry_last_error());
        return 1;
    }
    smartretry_recommendation_free(&rec);
    for (int i = 0; i < BATCH; i++) {
        bad |= smartretry_engine_recommend(engine, ep, f, &rec);
        smartretry_recommendation_free(&rec);
    }
    for (int b = 0; b < BATCHES; b++) {
        double t = now_ns();
        for (int i = 0; i < BATCH; i++) {
            bad |= smartretry_engine_recommend(engine, ep, f, &rec);
            smartretry_recommendation_free(&rec);
        }
        per_call[b] = (now_ns() - t) / BATCH;
    }
    qsort(per_call, BATCHES, sizeof per_call[0], cmp_double);
    printf("C ABI recommend median: %.1f ns/call\n", per_call[BATCHES / 2]);
    smartretry_failure_free(f);
    smartretry_episode_free(ep);
    smartretry_engine_free(engine);
    smartretry_clock_free(clock);
    return bad ? 1 : 0;
}
