/* The learned (ML) tier from C: the model-file fixtures (tests/fixtures/learned/), rollout
 * control (set, promote, rollback, automatic rollback of a bad canary), the attempt context as
 * JSON (recorded in the history), and every bad input a typed status. Time is a manual clock.
 * Run from the repository root (scripts/test-c.sh does). */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#define FIXTURES "tests/fixtures/learned/"

/* 2023-11-14, a Tuesday, at 00:00 UTC. */
static const double DAY = 1699920000.0;

static smartretry_engine *new_engine(const char *policy, double start, smartretry_clock **clock) {
    smartretry_engine *e = NULL;
    OK(smartretry_clock_new_manual(start, clock));
    OK(smartretry_engine_new_from_json(policy, *clock, &e));
    return e;
}

static smartretry_failure *http(uint16_t status) {
    smartretry_failure *f = NULL;
    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_http_status(f, status));
    return f;
}

/* The rollout status JSON of `queue` (static buffer; "" on error). */
static const char *status_json(smartretry_engine *e, const char *queue) {
    static char buf[4096];
    char *json = NULL;
    buf[0] = 0;
    OK(smartretry_engine_rollout_status_json(e, queue, &json));
    if (json) {
        snprintf(buf, sizeof buf, "%s", json);
        OK(smartretry_string_free(json));
    }
    return buf;
}

/* The window model at `full`: a 503 at 02:05 UTC waits until 02:20 and says why; a damaged file
 * is INVALID_MODEL (14) and the model stays; no mode but off without a model. */
static void test_window(void) {
    smartretry_clock *clock = NULL;
    smartretry_engine *e = new_engine(
        "{\"classes\":{\"unavailable\":{\"max_delay\":3600}}}", DAY + 2 * 3600 + 300, &clock);
    smartretry_failure *f = http(503);

    FAILS(smartretry_engine_set_rollout(e, "db", "full"), SMARTRETRY_INVALID_STATE);
    FAILS(smartretry_engine_set_rollout(e, "db", "shadow"), SMARTRETRY_INVALID_STATE);
    OK(smartretry_engine_load_model(e, "db", FIXTURES "window.srm"));
    FAILS(smartretry_engine_load_model(e, "db", FIXTURES "damaged.srm"), SMARTRETRY_INVALID_MODEL);
    CHECK(SMARTRETRY_INVALID_MODEL == 14);
    CHECK(strcmp(smartretry_status_name(SMARTRETRY_INVALID_MODEL), "INVALID_MODEL") == 0);
    FAILS(smartretry_engine_load_model(e, "db", FIXTURES "missing.srm"), SMARTRETRY_IO);
    FAILS(smartretry_engine_set_rollout(e, "db", "canary:1.5"), SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_engine_set_rollout(e, "db", "half"), SMARTRETRY_INVALID_CONFIG);
    OK(smartretry_engine_set_rollout(e, "db", "full"));
    CHECK(strstr(status_json(e, "db"), "\"model_loaded\":true") != NULL);
    CHECK(strstr(status_json(e, "db"), "{\"mode\":\"full\"}") != NULL);
    CHECK(strcmp(status_json(e, "elsewhere"), "null") == 0);

    smartretry_episode *ep = NULL;
    smartretry_recommendation rec = {0};
    OK(smartretry_engine_begin_with_context(e, "db", NULL, "{\"queue_depth\":40}", &ep));
    OK(smartretry_engine_on_failure(e, ep, f, &rec));
    CHECK(rec.tier == SMARTRETRY_TIER_LEARNED);
    CHECK(strcmp(smartretry_tier_name(rec.tier), "learned") == 0);
    CHECK(rec.delay > 899.99 && rec.delay < 900.01);
    char *reason = NULL;
    OK(smartretry_recommendation_reason(&rec, &reason));
    CHECK(reason != NULL && strstr(reason, "time_of_day=02:20") != NULL);
    CHECK(reason != NULL && strstr(reason, "moved most by") != NULL);
    OK(smartretry_string_free(reason));
    OK(smartretry_recommendation_free(&rec));
    OK(smartretry_episode_free(ep));

    smartretry_learned_stats stats = {0};
    OK(smartretry_engine_learned_stats(e, &stats));
    CHECK(stats.decisions == 1);
    CHECK(stats.fallbacks == 0);

    /* Unloaded: the queue stays at full, each decision falls back, counted. */
    OK(smartretry_engine_unload_model(e, "db"));
    OK(smartretry_engine_begin(e, "db", NULL, &ep));
    OK(smartretry_engine_on_failure(e, ep, f, &rec));
    CHECK(rec.tier != SMARTRETRY_TIER_LEARNED);
    OK(smartretry_recommendation_free(&rec));
    OK(smartretry_episode_free(ep));
    OK(smartretry_engine_learned_stats(e, &stats));
    CHECK(stats.fallbacks == 1);

    /* Manual rollback; promotion needs evidence. */
    OK(smartretry_engine_rollback_rollout(e, "db"));
    CHECK(strstr(status_json(e, "db"), "{\"mode\":\"off\"}") != NULL);
    char *mode = NULL;
    FAILS(smartretry_engine_promote_rollout(e, "db", &mode), SMARTRETRY_INVALID_STATE);
    CHECK(mode == NULL);
    FAILS(smartretry_engine_promote_rollout(e, "nowhere", NULL), SMARTRETRY_INVALID_STATE);

    char *all = NULL;
    OK(smartretry_engine_rollouts_json(e, &all));
    CHECK(all != NULL && all[0] == '[' && strstr(all, "\"queue\":\"db\"") != NULL);
    OK(smartretry_string_free(all));

    OK(smartretry_failure_free(f));
    OK(smartretry_engine_free(e));
    OK(smartretry_clock_free(clock));
}

/* The delay the learned tier gives a 503 on queue "db" begun with `context` (JSON); its reason
 * goes to `reason` (free it with smartretry_string_free). */
static double learned_delay_at(smartretry_engine *e, smartretry_failure *f, const char *context,
                               char **reason) {
    smartretry_episode *ep = NULL;
    smartretry_recommendation rec = {0};
    OK(smartretry_engine_begin_with_context(e, "db", NULL, context, &ep));
    OK(smartretry_engine_on_failure(e, ep, f, &rec));
    CHECK(rec.tier == SMARTRETRY_TIER_LEARNED);
    double delay = rec.delay;
    OK(smartretry_recommendation_reason(&rec, reason));
    OK(smartretry_recommendation_free(&rec));
    OK(smartretry_episode_free(ep));
    return delay;
}

/* The boosted fixture (format 2: the window model plus one tree on the queue depth) loads
 * through the same call, and its tree moves the wait: deep queues wait far longer. */
static void test_boosted(void) {
    smartretry_clock *clock = NULL;
    smartretry_engine *e = new_engine(
        "{\"classes\":{\"unavailable\":{\"max_delay\":3600}}}", DAY + 13 * 3600, &clock);
    smartretry_failure *f = http(503);
    OK(smartretry_engine_load_model(e, "db", FIXTURES "boosted.srm"));
    OK(smartretry_engine_set_rollout(e, "db", "full"));
    char *reason = NULL;
    double shallow = learned_delay_at(e, f, "{\"queue_depth\":20}", &reason);
    OK(smartretry_string_free(reason));
    double deep = learned_delay_at(e, f, "{\"queue_depth\":5000}", &reason);
    CHECK(shallow < 1.0);
    CHECK(deep > 30.0 * (shallow > 0.01 ? shallow : 0.01));
    CHECK(reason != NULL && strstr(reason, "trees") != NULL);
    OK(smartretry_string_free(reason));
    OK(smartretry_failure_free(f));
    OK(smartretry_engine_free(e));
    OK(smartretry_clock_free(clock));
}

/* Jobs whose dependency recovers 2 s after the first failure, one every 10 minutes. */
static void run_jobs(smartretry_engine *e, smartretry_clock *clock, smartretry_failure *f,
                     int jobs) {
    for (int j = 0; j < jobs; j++) {
        double start = 0, now = 0;
        OK(smartretry_clock_advance(clock, 600));
        OK(smartretry_clock_now(clock, &start));
        smartretry_episode *ep = NULL;
        OK(smartretry_engine_begin(e, "q", NULL, &ep));
        for (int guard = 0; guard < 100; guard++) {
            smartretry_episode_info info = {0};
            OK(smartretry_clock_now(clock, &now));
            OK(smartretry_episode_get_info(ep, &info));
            if (now - start >= 2.0 && info.attempts > 0) {
                OK(smartretry_engine_on_success(e, ep, NULL));
                break;
            }
            smartretry_recommendation rec = {0};
            OK(smartretry_engine_on_failure(e, ep, f, &rec));
            int retry = rec.action == SMARTRETRY_ACTION_RETRY;
            double delay = rec.delay;
            OK(smartretry_recommendation_free(&rec));
            if (!retry) break;
            OK(smartretry_clock_advance(clock, delay));
        }
        OK(smartretry_episode_free(ep));
    }
}

/* A deliberately bad model at canary:0.5 is rolled back by itself within 80 jobs (the core's
 * a_bad_model_is_rolled_back_automatically_within_the_bound, from C). */
static void test_automatic_rollback(void) {
    smartretry_clock *clock = NULL;
    smartretry_engine *e = new_engine("{\"seed\":7}", DAY + 9 * 3600, &clock);
    smartretry_failure *f = http(503);
    FAILS(smartretry_engine_set_rollout_config(e, "q", "{\"min_episode\":20}"),
          SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_engine_set_rollout_config(e, "q", "{\"min_episodes\":1}"),
          SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_engine_set_rollout_config(e, "q", "not json"), SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_engine_set_rollout_config(e, "q", NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_engine_set_rollout_config(e, "q",
                                            "{\"min_episodes\":20,\"rollback_regression\":0.2}"));
    OK(smartretry_engine_load_model(e, "q", FIXTURES "bad.srm"));
    OK(smartretry_engine_set_rollout(e, "q", "canary:0.5"));
    CHECK(strstr(status_json(e, "q"), "{\"mode\":\"canary\",\"weight\":0.5}") != NULL);
    int rolled_back_after = 0;
    for (int round = 1; round <= 40 && !rolled_back_after; round++) {
        run_jobs(e, clock, f, 5);
        if (strstr(status_json(e, "q"), "{\"mode\":\"off\"}") != NULL) rolled_back_after = round * 5;
    }
    CHECK(rolled_back_after > 0);
    CHECK(rolled_back_after <= 80);
    CHECK(strstr(status_json(e, "q"), "\"last_change\":\"automatic rollback\"") != NULL);
    smartretry_learned_stats stats = {0};
    OK(smartretry_engine_learned_stats(e, &stats));
    CHECK(stats.rollbacks == 1);
    CHECK(stats.decisions > 0);
    /* Off means off. */
    smartretry_episode *ep = NULL;
    smartretry_recommendation rec = {0};
    OK(smartretry_engine_begin(e, "q", NULL, &ep));
    OK(smartretry_engine_on_failure(e, ep, f, &rec));
    CHECK(rec.tier != SMARTRETRY_TIER_LEARNED);
    OK(smartretry_recommendation_free(&rec));
    OK(smartretry_episode_free(ep));
    OK(smartretry_failure_free(f));
    OK(smartretry_engine_free(e));
    OK(smartretry_clock_free(clock));
}

/* The context as JSON: bad ones are typed statuses (no episode begun, the old context kept),
 * good ones are recorded with each attempt in the history. */
static void test_context(void) {
    char dir[] = "/tmp/smartretry-c-learned-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/history.jsonl", dir);
    smartretry_clock *clock = NULL;
    smartretry_engine *e = new_engine("{\"seed\":1}", DAY + 13 * 3600, &clock);
    smartretry_failure *f = http(503);
    OK(smartretry_engine_set_history(e, path, NULL));

    smartretry_episode *ep = NULL;
    const struct {
        const char *json;
        smartretry_status want;
    } bad[] = {
        {"{\"queue_dept\":3}", SMARTRETRY_INVALID_CONFIG},           /* a typo */
        {"{\"downstream_latency\":-0.5}", SMARTRETRY_INVALID_DURATION}, /* negative */
        {"{\"downstream_latency\":1e999}", SMARTRETRY_INVALID_CONFIG},  /* not a finite number */
        {"{\"downstream_latency\":\"NaN\"}", SMARTRETRY_INVALID_CONFIG},
        {"{\"downstream_latency\":100000}", SMARTRETRY_INVALID_DURATION}, /* over a day */
        {"{\"hour_of_day\":24}", SMARTRETRY_INVALID_CONFIG},
        {"{\"day_of_week\":-1}", SMARTRETRY_INVALID_CONFIG},
        {"{\"queue_depth\":-3}", SMARTRETRY_INVALID_CONFIG},
        {"{\"worker_version\":\"\"}", SMARTRETRY_INVALID_KEY},
        {"[1,2]", SMARTRETRY_INVALID_CONFIG},
        {"{", SMARTRETRY_INVALID_CONFIG},
        {"{\"worker_version\":\"\xff\xfe\"}", SMARTRETRY_INVALID_UTF8},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ep = NULL;
        FAILS(smartretry_engine_begin_with_context(e, "reports", NULL, bad[i].json, &ep),
              bad[i].want);
        CHECK(ep == NULL);
    }
    FAILS(smartretry_engine_begin_with_context(NULL, "reports", NULL, "{}", &ep),
          SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_begin_with_context(e, NULL, NULL, "{}", &ep), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_begin_with_context(e, "reports", NULL, "{}", NULL),
          SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_episode_set_context(NULL, "{}"), SMARTRETRY_NULL_ARGUMENT);

    OK(smartretry_engine_begin_with_context(
        e, "reports", "acme",
        "{\"queue_depth\":120,\"payload_size\":4096,\"downstream_latency\":0.35,"
        "\"worker_version\":\"w-2\"}",
        &ep));
    smartretry_recommendation rec = {0};
    OK(smartretry_engine_on_failure(e, ep, f, &rec));
    OK(smartretry_clock_advance(clock, rec.delay));
    OK(smartretry_recommendation_free(&rec));
    FAILS(smartretry_episode_set_context(ep, "{\"queue_depth\":\"many\"}"),
          SMARTRETRY_INVALID_CONFIG);
    char *ctx = NULL;
    OK(smartretry_episode_context_json(ep, &ctx));
    CHECK(ctx != NULL && strstr(ctx, "\"queue_depth\":120") != NULL);
    OK(smartretry_string_free(ctx));
    OK(smartretry_episode_set_context(
        ep, "{\"queue_depth\":80,\"payload_size\":4096,\"worker_version\":\"w-2\"}"));
    OK(smartretry_engine_on_success(e, ep, NULL));
    FAILS(smartretry_episode_context_json(ep, NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_episode_free(ep));
    FAILS(smartretry_episode_set_context(ep, NULL), SMARTRETRY_INVALID_HANDLE);
    OK(smartretry_engine_stop_history(e));

    const char *text = read_file(path);
    CHECK(text != NULL);
    if (text) {
        const char *second = strchr(text, '\n');
        CHECK(second != NULL);
        CHECK(strstr(text, "\"queue_depth\":120") != NULL &&
              strstr(text, "\"queue_depth\":120") < second);
        CHECK(second != NULL && strstr(second, "\"queue_depth\":80") != NULL);
        CHECK(strstr(text, "\"payload_size\":4096") != NULL);
        CHECK(strstr(text, "\"downstream_latency\":0.35") != NULL);
        CHECK(strstr(text, "\"worker_version\":\"w-2\"") != NULL);
        CHECK(strstr(text, "\"hour_of_day\":13") != NULL);
    }
    unlink(path);
    rmdir(dir);
    OK(smartretry_failure_free(f));
    OK(smartretry_engine_free(e));
    OK(smartretry_clock_free(clock));
}

int main(void) {
    test_window();
    test_boosted();
    test_automatic_rollback();
    test_context();
    size_t live = 99;
    OK(smartretry_live_handles(&live));
    CHECK(live == 0);
    return report("c learned");
}
