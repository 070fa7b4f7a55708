/* Generation-checked handles and recommendation ownership: a stale handle (freed, its slot
 * reused by a new object) is always refused and never touches the new owner; a recommendation
 * struct copied and freed twice, or refilled without a free, neither aborts nor leaks. Runs
 * under the sanitizers and valgrind. */
#include "check.h"

enum { ROUNDS = 1000 };

static size_t live_handles(void) {
    size_t n = 0;
    OK(smartretry_live_handles(&n));
    return n;
}

/* Free A, make B (which takes A's slot), free A again: refused, B untouched. */
static void test_stale_failure_free(void) {
    int refused = 0, intact = 0;
    for (int i = 0; i < ROUNDS; i++) {
        smartretry_failure *a = NULL, *b = NULL;
        OK(smartretry_failure_new(&a));
        OK(smartretry_failure_free(a));
        OK(smartretry_failure_new(&b));
        CHECK(a != b); /* same slot, new generation: a different id */
        CHECK((uintptr_t)b >> 63 == 1); /* never a user-space address (safe in Go's heap) */
        refused += smartretry_failure_free(a) == SMARTRETRY_INVALID_HANDLE;
        refused += smartretry_failure_set_http_status(a, 503) == SMARTRETRY_INVALID_HANDLE;
        intact += smartretry_failure_set_http_status(b, 503) == SMARTRETRY_OK;
        OK(smartretry_failure_free(b));
    }
    CHECK(refused == 2 * ROUNDS);
    CHECK(intact == ROUNDS);
}

static void test_stale_episode_and_engine(smartretry_clock *clock) {
    smartretry_engine *e = NULL;
    int refused = 0, intact = 0;
    OK(smartretry_engine_new(NULL, clock, &e));
    for (int i = 0; i < ROUNDS; i++) {
        smartretry_episode *a = NULL, *b = NULL;
        smartretry_episode_info info;
        OK(smartretry_engine_begin(e, "q", NULL, &a));
        OK(smartretry_episode_free(a));
        OK(smartretry_engine_begin(e, "q", NULL, &b));
        refused += smartretry_episode_free(a) == SMARTRETRY_INVALID_HANDLE;
        refused += smartretry_engine_abandon(e, a) == SMARTRETRY_INVALID_HANDLE;
        intact += smartretry_episode_get_info(b, &info) == SMARTRETRY_OK && !info.finished;
        OK(smartretry_episode_free(b));
    }
    CHECK(refused == 2 * ROUNDS);
    CHECK(intact == ROUNDS);
    /* Engines and clocks: fewer rounds (an engine compiles its classifier), same check. */
    for (int i = 0; i < 20; i++) {
        smartretry_engine *old = NULL, *live = NULL;
        smartretry_clock *c1 = NULL, *c2 = NULL;
        smartretry_stats st;
        double now = 0;
        OK(smartretry_engine_new(NULL, clock, &old));
        OK(smartretry_engine_free(old));
        OK(smartretry_engine_new(NULL, clock, &live));
        FAILS(smartretry_engine_free(old), SMARTRETRY_INVALID_HANDLE);
        FAILS(smartretry_engine_stats(old, &st), SMARTRETRY_INVALID_HANDLE);
        OK(smartretry_engine_stats(live, &st));
        OK(smartretry_engine_free(live));
        OK(smartretry_clock_new_manual(1.0, &c1));
        OK(smartretry_clock_free(c1));
        OK(smartretry_clock_new_manual(2.0, &c2));
        FAILS(smartretry_clock_free(c1), SMARTRETRY_INVALID_HANDLE);
        OK(smartretry_clock_now(c2, &now));
        CHECK(now == 2.0);
        OK(smartretry_clock_free(c2));
    }
    OK(smartretry_engine_free(e));
}

/* An episode belongs to the engine that began it; finished episodes take no more outcomes. */
static void test_episode_rules(smartretry_clock *clock) {
    smartretry_engine *a = NULL, *b = NULL;
    smartretry_episode *ep = NULL;
    smartretry_failure *f = NULL;
    smartretry_recommendation rec = {0};
    OK(smartretry_engine_new(NULL, clock, &a));
    OK(smartretry_engine_new(NULL, clock, &b));
    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_http_status(f, 503));
    OK(smartretry_engine_begin(a, "q", NULL, &ep));
    FAILS(smartretry_engine_on_failure(b, ep, f, &rec), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_engine_on_success(b, ep, NULL), SMARTRETRY_INVALID_ARGUMENT);
    OK(smartretry_engine_on_success(a, ep, NULL));
    FAILS(smartretry_engine_on_failure(a, ep, f, &rec), SMARTRETRY_INVALID_STATE);
    FAILS(smartretry_engine_recommend(a, ep, f, &rec), SMARTRETRY_INVALID_STATE);
    FAILS(smartretry_engine_record_failure(a, ep, f, NULL), SMARTRETRY_INVALID_STATE);
    FAILS(smartretry_engine_on_success(a, ep, NULL), SMARTRETRY_INVALID_STATE);
    CHECK(rec.detail == NULL);
    OK(smartretry_episode_free(ep));
    /* Freeing the engine first leaves the episode a valid handle to free. */
    OK(smartretry_engine_begin(b, "q", NULL, &ep));
    OK(smartretry_engine_free(b));
    FAILS(smartretry_engine_on_success(b, ep, NULL), SMARTRETRY_INVALID_HANDLE);
    OK(smartretry_episode_free(ep));
    OK(smartretry_failure_free(f));
    OK(smartretry_engine_free(a));
}

static void test_recommendation_ownership(smartretry_clock *clock) {
    smartretry_engine *e = NULL;
    smartretry_episode *ep = NULL;
    smartretry_failure *f = NULL;
    smartretry_recommendation rec = {0}, copy;
    char *text = NULL;
    OK(smartretry_engine_new(NULL, clock, &e));
    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_http_status(f, 503));
    OK(smartretry_engine_begin(e, "q", NULL, &ep));
    size_t before = live_handles();

    /* Copy and free both: the second free is refused, nothing aborts. */
    OK(smartretry_engine_recommend(e, ep, f, &rec));
    copy = rec;
    OK(smartretry_recommendation_reason(&copy, &text)); /* a copy reads while the original lives */
    OK(smartretry_string_free(text));
    OK(smartretry_recommendation_free(&rec));
    FAILS(smartretry_recommendation_reason(&copy, &text), SMARTRETRY_INVALID_HANDLE);
    FAILS(smartretry_recommendation_free(&copy), SMARTRETRY_INVALID_HANDLE);
    CHECK(copy.detail == NULL);
    OK(smartretry_recommendation_free(&copy)); /* now a no-op */
    CHECK(live_handles() == before);

    /* Refill without free, many times: one detail at a time, none left after one free. */
    for (int i = 0; i < ROUNDS; i++) OK(smartretry_engine_recommend(e, ep, f, &rec));
    CHECK(live_handles() == before + 1);
    OK(smartretry_recommendation_free(&rec));
    CHECK(live_handles() == before);

    /* Refill a copy: it releases the shared detail, so the original's free is refused. */
    OK(smartretry_engine_recommend(e, ep, f, &rec));
    copy = rec;
    OK(smartretry_engine_recommend(e, ep, f, &copy));
    CHECK(copy.detail != rec.detail);
    FAILS(smartretry_recommendation_free(&rec), SMARTRETRY_INVALID_HANDLE);
    OK(smartretry_recommendation_describe(&copy, &text));
    OK(smartretry_string_free(text));
    OK(smartretry_recommendation_free(&copy));

    /* Schedules fill the same way. */
    smartretry_schedule *s = NULL;
    OK(smartretry_engine_preview(e, "q", NULL, f, 5, &s));
    for (int i = 0; i < 100; i++) OK(smartretry_schedule_get(s, 0, &rec));
    OK(smartretry_schedule_free(s));
    OK(smartretry_recommendation_reason(&rec, &text)); /* the copy outlives its schedule */
    OK(smartretry_string_free(text));
    OK(smartretry_recommendation_free(&rec));
    CHECK(live_handles() == before);

    OK(smartretry_episode_free(ep));
    OK(smartretry_failure_free(f));
    OK(smartretry_engine_free(e));
}

int main(void) {
    smartretry_clock *clock = NULL;
    size_t start = live_handles();
    OK(smartretry_clock_new_manual(1700000000.0, &clock));
    test_stale_failure_free();
    test_stale_episode_and_engine(clock);
    test_episode_rules(clock);
    test_recommendation_ownership(clock);
    OK(smartretry_clock_free(clock));
    CHECK(live_handles() == start);
    FAILS(smartretry_live_handles(NULL), SMARTRETRY_NULL_ARGUMENT);
    return report("test_handles");
}
