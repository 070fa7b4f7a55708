/* The adaptive client rate limiter through the C ABI, on a manual clock: off until the first
 * throttle, then every call takes a token; a retry's delay names the limiter when it bound it;
 * acquire_within takes nothing it cannot use. Runs under valgrind and the sanitizers. */
#include "check.h"

static const double T0 = 1700000000.0;
static const char *KEY = "api";

/* `n` first attempts that succeed, 50 ms apart, each taking its token first. */
static void steady(smartretry_engine *e, smartretry_clock *c, int n) {
    for (int i = 0; i < n; i++) {
        double wait = -1;
        smartretry_episode *ep = NULL;
        OK(smartretry_engine_acquire(e, KEY, NULL, &wait));
        CHECK(wait >= 0);
        OK(smartretry_clock_advance(c, wait + 0.05));
        OK(smartretry_engine_begin(e, KEY, NULL, &ep));
        OK(smartretry_engine_on_success(e, ep, NULL));
        OK(smartretry_episode_free(ep));
    }
}

/* A 429 on a new episode (or a connection failure), with its recommendation. */
static void fail(smartretry_engine *e, int http, smartretry_recommendation *rec) {
    smartretry_episode *ep = NULL;
    smartretry_failure *f = NULL;
    OK(smartretry_engine_begin(e, KEY, NULL, &ep));
    OK(smartretry_failure_new(&f));
    if (http) {
        OK(smartretry_failure_set_http_status(f, http));
    } else {
        OK(smartretry_failure_set_class(f, SMARTRETRY_CLASS_CONNECTION));
    }
    OK(smartretry_engine_on_failure(e, ep, f, rec));
    OK(smartretry_failure_free(f));
    OK(smartretry_episode_free(ep));
}

static int has_rate_limit_clamp(const smartretry_recommendation *rec) {
    for (size_t i = 0; i < rec->clamp_count; i++) {
        smartretry_clamp cl;
        OK(smartretry_recommendation_clamp(rec, i, &cl));
        if (cl.guardrail == SMARTRETRY_GUARDRAIL_RATE_LIMIT && cl.to > cl.from) return 1;
    }
    return 0;
}

static void test_off_without_a_rate_limit_section(smartretry_clock *c) {
    smartretry_engine *e = NULL;
    smartretry_recommendation rec = {0};
    double wait = -1;
    OK(smartretry_engine_new_from_json("{}", c, &e));
    steady(e, c, 20);
    fail(e, 429, &rec);
    OK(smartretry_engine_acquire(e, KEY, NULL, &wait));
    CHECK(wait == 0.0);
    OK(smartretry_recommendation_free(&rec));
    OK(smartretry_engine_free(e));
}

static void test_a_throttle_bounds_every_call(smartretry_clock *c) {
    smartretry_engine *e = NULL;
    smartretry_recommendation rec = {0};
    double wait = -1, previous = 0;
    bool granted = true;
    OK(smartretry_engine_new_from_json("{\"rate_limit\":{}}", c, &e));
    steady(e, c, 60);
    OK(smartretry_engine_acquire(e, KEY, NULL, &wait));
    CHECK(wait == 0.0); /* not throttled yet */
    fail(e, 429, &rec);
    /* A burst of first attempts queues: each waits longer than the one before. */
    for (int i = 0; i < 40; i++) {
        OK(smartretry_engine_acquire(e, KEY, NULL, &wait));
        CHECK(wait >= previous);
        previous = wait;
    }
    CHECK(previous > 1.0);
    /* A caller that will not wait takes nothing. */
    OK(smartretry_engine_acquire_within(e, KEY, NULL, 0.001, &granted, &wait));
    CHECK(!granted && wait == 0.0);
    OK(smartretry_engine_acquire_within(e, KEY, NULL, 1e6, &granted, &wait));
    CHECK(granted && wait > previous);
    /* A connection failure's short schedule is lifted to the limiter's next token. */
    fail(e, 0, &rec);
    CHECK(rec.action == SMARTRETRY_ACTION_RETRY);
    CHECK(has_rate_limit_clamp(&rec));
    CHECK(rec.delay > 1.0);
    /* Another key is not limited. */
    OK(smartretry_engine_acquire(e, "other", NULL, &wait));
    CHECK(wait == 0.0);
    OK(smartretry_recommendation_free(&rec));
    OK(smartretry_engine_free(e));
}

static void test_bad_arguments(smartretry_clock *c) {
    smartretry_engine *e = NULL;
    double wait = 0;
    bool granted = false;
    OK(smartretry_engine_new_from_json("{\"rate_limit\":{}}", c, &e));
    FAILS(smartretry_engine_new_from_json("{\"rate_limit\":{\"beta\":2}}", c, &e),
          SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_engine_acquire(NULL, KEY, NULL, &wait), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_acquire(e, NULL, NULL, &wait), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_acquire(e, KEY, NULL, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_acquire(e, "", NULL, &wait), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_engine_acquire(e, KEY, "bad\ndep", &wait), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_engine_acquire(e, "\xff", NULL, &wait), SMARTRETRY_INVALID_UTF8);
    FAILS(smartretry_engine_acquire_within(e, KEY, NULL, -1.0, &granted, &wait),
          SMARTRETRY_INVALID_DURATION);
    FAILS(smartretry_engine_acquire_within(e, KEY, NULL, 1.0 / 0.0, &granted, &wait),
          SMARTRETRY_INVALID_DURATION);
    FAILS(smartretry_engine_acquire_within(e, KEY, NULL, 1.0, NULL, &wait),
          SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_engine_free(e));
}

int main(void) {
    smartretry_clock *c = NULL;
    size_t start = 0, end = 0;
    OK(smartretry_live_handles(&start));
    OK(smartretry_clock_new_manual(T0, &c));
    test_off_without_a_rate_limit_section(c);
    test_a_throttle_bounds_every_call(c);
    test_bad_arguments(c);
    OK(smartretry_clock_free(c));
    OK(smartretry_live_handles(&end));
    CHECK(start == end);
    return report("test_ratelimit");
}
