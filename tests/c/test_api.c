/* Every function of the C ABI, with its error paths. Runs under valgrind and the sanitizers. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static const double T0 = 1700000000.0;

static void test_version_and_names(void) {
    CHECK(strcmp(smartretry_version(), "0.1.0") == 0 || strlen(smartretry_version()) > 0);
    CHECK(smartretry_version_number() == SMARTRETRY_VERSION_NUMBER);
    CHECK(strcmp(smartretry_status_name(SMARTRETRY_INVALID_KEY), "INVALID_KEY") == 0);
    CHECK(strcmp(smartretry_status_name(SMARTRETRY_OK), "OK") == 0);
    CHECK(smartretry_status_name(9999) == NULL);
    CHECK(strcmp(smartretry_class_name(SMARTRETRY_CLASS_RATE_LIMITED), "rate_limited") == 0);
    CHECK(smartretry_class_name(13) == NULL);
    CHECK(strcmp(smartretry_action_name(SMARTRETRY_ACTION_GIVE_UP), "give_up") == 0);
    CHECK(smartretry_action_name(3) == NULL);
    CHECK(strcmp(smartretry_tier_name(SMARTRETRY_TIER_BAYESIAN), "bayesian") == 0);
    CHECK(strcmp(smartretry_tier_name(SMARTRETRY_TIER_PORTFOLIO), "portfolio") == 0);
    CHECK(strcmp(smartretry_tier_name(SMARTRETRY_TIER_LEARNED), "learned") == 0);
    CHECK(smartretry_tier_name(6) == NULL);
    CHECK(strcmp(smartretry_guardrail_name(SMARTRETRY_GUARDRAIL_MAX_DELAY), "max_delay") == 0);
    CHECK(strcmp(smartretry_guardrail_name(SMARTRETRY_GUARDRAIL_RATE_LIMIT), "rate_limit") == 0);
    CHECK(smartretry_guardrail_name(9) == NULL);
    smartretry_class c = 99;
    OK(smartretry_class_from_name("429", &c));
    CHECK(c == SMARTRETRY_CLASS_RATE_LIMITED);
    FAILS(smartretry_class_from_name("nope", &c), SMARTRETRY_UNKNOWN_CLASS);
    FAILS(smartretry_class_from_name(NULL, &c), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_class_from_name("timeout", NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_class_from_name("\xff\xfe", &c), SMARTRETRY_INVALID_UTF8);
    OK(smartretry_string_free(NULL));
}

static void test_clock(void) {
    smartretry_clock *clock = NULL, *sys = NULL;
    double now = 0;
    OK(smartretry_clock_new_manual(T0, &clock));
    OK(smartretry_clock_now(clock, &now));
    CHECK(now == T0);
    OK(smartretry_clock_advance(clock, 2.5));
    OK(smartretry_clock_now(clock, &now));
    CHECK(now == T0 + 2.5);
    OK(smartretry_clock_set(clock, T0)); /* never backwards */
    OK(smartretry_clock_now(clock, &now));
    CHECK(now == T0 + 2.5);
    FAILS(smartretry_clock_advance(clock, -1.0), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_clock_new_manual(-5.0, &sys), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_clock_new_manual(T0, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_clock_now(NULL, &now), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_clock_now(clock, NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_clock_new_system(&sys));
    OK(smartretry_clock_now(sys, &now));
    CHECK(now > T0 - 1e8);
    FAILS(smartretry_clock_advance(sys, 1.0), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_clock_set(sys, T0), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_clock_new_system(NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_clock_free(sys));
    FAILS(smartretry_clock_free(sys), SMARTRETRY_INVALID_HANDLE); /* double free detected */
    OK(smartretry_clock_free(clock));
    OK(smartretry_clock_free(NULL));
}

static void test_policy(void) {
    smartretry_policy *p = NULL;
    char *json = NULL;
    OK(smartretry_policy_new(&p));
    OK(smartretry_policy_set_max_attempts(p, SMARTRETRY_CLASS_UNAVAILABLE, 6));
    FAILS(smartretry_policy_set_max_attempts(p, SMARTRETRY_CLASS_UNAVAILABLE, 0),
          SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_policy_set_max_attempts(p, 42, 3), SMARTRETRY_INVALID_ENUM);
    OK(smartretry_policy_set_delay_bounds(p, SMARTRETRY_CLASS_UNAVAILABLE, 0.5, 60.0));
    FAILS(smartretry_policy_set_delay_bounds(p, SMARTRETRY_CLASS_UNAVAILABLE, 10.0, 1.0),
          SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_policy_set_delay_bounds(p, SMARTRETRY_CLASS_UNAVAILABLE, -1.0, 1.0),
          SMARTRETRY_INVALID_DURATION);
    OK(smartretry_policy_set_retryable(p, SMARTRETRY_CLASS_CONFLICT, false));
    OK(smartretry_policy_patch_class(p, SMARTRETRY_CLASS_TIMEOUT, "{\"first_retry_immediate\":false}"));
    FAILS(smartretry_policy_patch_class(p, SMARTRETRY_CLASS_TIMEOUT, "{\"bogus\":1}"),
          SMARTRETRY_INVALID_POLICY);
    CHECK(strncmp(smartretry_last_error(), "bogus: unknown field", 20) == 0);
    FAILS(smartretry_policy_patch_class(p, SMARTRETRY_CLASS_TIMEOUT, NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_policy_set_deadline(p, 600.0));
    OK(smartretry_policy_set_deadline(p, 0.0));
    FAILS(smartretry_policy_set_deadline(p, 1.0 / 0.0), SMARTRETRY_INVALID_DURATION);
    OK(smartretry_policy_set_learning(p, true));
    OK(smartretry_policy_set_seed(p, 42));
    OK(smartretry_policy_to_json(p, &json));
    CHECK(json != NULL && strstr(json, "\"max_attempts\": 6") != NULL);
    OK(smartretry_string_free(json));
    FAILS(smartretry_policy_to_json(p, NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_policy_free(p));
    FAILS(smartretry_policy_free(p), SMARTRETRY_INVALID_HANDLE);

    OK(smartretry_policy_from_json("{\"classes\":{\"unavailable\":{\"max_attempts\":2}}}", &p));
    OK(smartretry_policy_free(p));
    p = NULL;
    FAILS(smartretry_policy_from_json("{not json", &p), SMARTRETRY_INVALID_JSON);
    CHECK(p == NULL);
    FAILS(smartretry_policy_from_json("{\"classes\":{\"unavailable\":{\"max_attempts\":0}}}", &p),
          SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_policy_from_json(NULL, &p), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_policy_set_seed(NULL, 1), SMARTRETRY_NULL_ARGUMENT);
}

static void test_failure_and_classify(smartretry_engine *e) {
    smartretry_failure *f = NULL;
    smartretry_class c = 99;
    char *rule = NULL;
    OK(smartretry_failure_new(&f));
    OK(smartretry_engine_classify(e, f, &c, NULL));
    CHECK(c == SMARTRETRY_CLASS_UNKNOWN);
    OK(smartretry_failure_set_http_status(f, 404));
    OK(smartretry_engine_classify(e, f, &c, &rule));
    CHECK(c == SMARTRETRY_CLASS_NOT_FOUND);
    CHECK(rule != NULL && strlen(rule) > 0);
    OK(smartretry_string_free(rule));
    OK(smartretry_failure_free(f));

    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_grpc_code(f, 14));
    OK(smartretry_engine_classify(e, f, &c, NULL));
    CHECK(c == SMARTRETRY_CLASS_UNAVAILABLE);
    OK(smartretry_failure_free(f));

    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_error_code(f, "ECONNRESET"));
    OK(smartretry_engine_classify(e, f, &c, NULL));
    CHECK(c == SMARTRETRY_CLASS_CONNECTION);
    OK(smartretry_failure_set_exception(f, "TimeoutError"));
    OK(smartretry_failure_set_message(f, "upstream timed out"));
    OK(smartretry_failure_set_dependency(f, "payments-api"));
    OK(smartretry_failure_set_retry_after(f, 3.0));
    FAILS(smartretry_failure_set_retry_after(f, -3.0), SMARTRETRY_INVALID_DURATION);
    OK(smartretry_failure_set_retry_after_header(f, e, "120"));
    FAILS(smartretry_failure_set_retry_after_header(f, e, "soon"), SMARTRETRY_INVALID_RETRY_AFTER);
    FAILS(smartretry_failure_set_retry_after_header(f, NULL, "5"), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_failure_set_class(f, SMARTRETRY_CLASS_AUTH));
    OK(smartretry_engine_classify(e, f, &c, NULL));
    CHECK(c == SMARTRETRY_CLASS_AUTH);
    FAILS(smartretry_failure_set_class(f, 13), SMARTRETRY_INVALID_ENUM);
    FAILS(smartretry_failure_set_message(f, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_failure_set_message(f, "bad \xc3\x28 utf8"), SMARTRETRY_INVALID_UTF8);
    FAILS(smartretry_failure_set_http_status(NULL, 500), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_classify(e, f, NULL, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_classify(NULL, f, &c, NULL), SMARTRETRY_NULL_ARGUMENT);
    /* A handle of the wrong type is rejected by its tag. */
    FAILS(smartretry_engine_classify((const smartretry_engine *)f, f, &c, NULL),
          SMARTRETRY_INVALID_HANDLE);
    FAILS(smartretry_engine_free((smartretry_engine *)f), SMARTRETRY_INVALID_HANDLE);
    OK(smartretry_failure_free(f));
    FAILS(smartretry_failure_free(f), SMARTRETRY_INVALID_HANDLE);
    FAILS(smartretry_failure_new(NULL), SMARTRETRY_NULL_ARGUMENT);
}

static int events_seen[6];
static void on_event(const smartretry_event *ev, void *user) {
    int *seen = user;
    if (ev->kind < 6) seen[ev->kind]++;
    if (ev->kind == SMARTRETRY_EVENT_ATTEMPT) {
        /* key is length-delimited and valid during the callback */
        if (ev->key_len != 8 || memcmp(ev->key, "payments", 8) != 0) seen[0] = -1000;
    }
}

static void test_episode_flow(smartretry_engine *e, smartretry_clock *clock) {
    smartretry_episode *ep = NULL;
    smartretry_failure *f = NULL;
    smartretry_recommendation rec = {0}, dry = {0};
    smartretry_episode_info info;
    char *text = NULL;

    OK(smartretry_engine_add_observer(e, on_event, events_seen));
    FAILS(smartretry_engine_add_observer(e, NULL, NULL), SMARTRETRY_NULL_ARGUMENT);

    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_http_status(f, 503));
    OK(smartretry_engine_begin(e, "payments", "acme", &ep));
    OK(smartretry_episode_get_info(ep, &info));
    CHECK(info.attempts == 0 && !info.finished && !info.has_class);

    OK(smartretry_engine_recommend(e, ep, f, &dry)); /* dry run: records nothing */
    CHECK(dry.action == SMARTRETRY_ACTION_RETRY);
    OK(smartretry_recommendation_free(&dry));
    CHECK(dry.detail == NULL);
    OK(smartretry_recommendation_free(&dry)); /* second release is a no-op */
    OK(smartretry_episode_get_info(ep, &info));
    CHECK(info.failures == 0);

    OK(smartretry_engine_on_failure(e, ep, f, &rec));
    CHECK(rec.action == SMARTRETRY_ACTION_RETRY);
    CHECK(rec.error_class == SMARTRETRY_CLASS_UNAVAILABLE);
    CHECK(rec.attempt == 1);
    CHECK(rec.delay >= 0.0);
    CHECK(rec.tier <= SMARTRETRY_TIER_GUARDRAIL);
    OK(smartretry_recommendation_reason(&rec, &text));
    CHECK(text != NULL && strlen(text) > 0);
    OK(smartretry_string_free(text));
    OK(smartretry_recommendation_describe(&rec, &text));
    CHECK(strncmp(text, "retry in", 8) == 0);
    OK(smartretry_string_free(text));
    OK(smartretry_recommendation_to_json(&rec, &text));
    CHECK(strstr(text, "\"action\":\"retry\"") != NULL);
    OK(smartretry_string_free(text));
    for (size_t i = 0; i < rec.alternative_count; i++) {
        smartretry_alternative alt;
        OK(smartretry_recommendation_alternative(&rec, i, &alt));
        CHECK(alt.success_probability >= 0.0 && alt.success_probability <= 1.0);
    }
    smartretry_alternative alt;
    smartretry_clamp clamp;
    FAILS(smartretry_recommendation_alternative(&rec, rec.alternative_count, &alt),
          SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_recommendation_clamp(&rec, rec.clamp_count, &clamp), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_recommendation_reason(&rec, NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_clock_advance(clock, rec.delay));
    OK(smartretry_recommendation_free(&rec));
    FAILS(smartretry_recommendation_reason(&rec, &text), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_recommendation_reason(NULL, &text), SMARTRETRY_NULL_ARGUMENT);

    smartretry_class c = 99;
    OK(smartretry_engine_record_failure(e, ep, f, &c));
    CHECK(c == SMARTRETRY_CLASS_UNAVAILABLE);
    OK(smartretry_engine_record_failure(e, ep, f, NULL));
    OK(smartretry_engine_on_success(e, ep, NULL));
    OK(smartretry_episode_get_info(ep, &info));
    CHECK(info.finished && info.failures == 3 && info.attempts == 4);
    CHECK(info.has_class && info.error_class == SMARTRETRY_CLASS_UNAVAILABLE);
    FAILS(smartretry_engine_on_success(e, ep, NULL), SMARTRETRY_INVALID_STATE);
    OK(smartretry_episode_free(ep));
    FAILS(smartretry_episode_free(ep), SMARTRETRY_INVALID_HANDLE);

    /* A permanent failure gives up at once; clamps are readable when any. */
    OK(smartretry_engine_begin(e, "payments", NULL, &ep));
    OK(smartretry_failure_set_http_status(f, 422));
    OK(smartretry_engine_on_failure(e, ep, f, &rec));
    CHECK(rec.action == SMARTRETRY_ACTION_GIVE_UP);
    for (size_t i = 0; i < rec.clamp_count; i++) OK(smartretry_recommendation_clamp(&rec, i, &clamp));
    OK(smartretry_recommendation_free(&rec));
    OK(smartretry_episode_free(ep));

    /* Abandon. */
    OK(smartretry_engine_begin(e, "payments", "acme", &ep));
    OK(smartretry_engine_abandon(e, ep));
    OK(smartretry_episode_get_info(ep, &info));
    CHECK(info.finished);
    FAILS(smartretry_engine_abandon(e, NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_episode_free(ep));

    /* Bad keys and arguments. */
    ep = NULL;
    FAILS(smartretry_engine_begin(e, "", NULL, &ep), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_engine_begin(e, "q", "bad\ttenant", &ep), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_engine_begin(e, NULL, NULL, &ep), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_begin(e, "\xff", NULL, &ep), SMARTRETRY_INVALID_UTF8);
    FAILS(smartretry_engine_begin(e, "q", NULL, NULL), SMARTRETRY_NULL_ARGUMENT);
    CHECK(ep == NULL);
    FAILS(smartretry_engine_on_failure(e, NULL, f, &rec), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_recommend(e, NULL, f, &rec), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_record_failure(e, NULL, f, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_on_success(NULL, NULL, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_episode_get_info(NULL, &info), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_engine_begin(e, "q", NULL, &ep));
    FAILS(smartretry_engine_on_failure(e, ep, f, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_on_failure(e, ep, NULL, &rec), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_on_success(e, ep, "\xff"), SMARTRETRY_INVALID_UTF8);
    OK(smartretry_engine_on_success(e, ep, "payments-api"));
    OK(smartretry_episode_free(ep));
    OK(smartretry_episode_free(NULL));

    CHECK(events_seen[SMARTRETRY_EVENT_ATTEMPT] >= 3);
    CHECK(events_seen[SMARTRETRY_EVENT_DECISION] >= 1);
    CHECK(events_seen[SMARTRETRY_EVENT_SUCCESS] >= 1);
    CHECK(events_seen[SMARTRETRY_EVENT_EXHAUSTED] >= 1);
    OK(smartretry_engine_clear_observers(e));
    FAILS(smartretry_engine_clear_observers(NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_failure_free(f));
}

static void test_preview_and_overrides(smartretry_engine *e) {
    smartretry_failure *f = NULL;
    smartretry_schedule *s = NULL;
    smartretry_recommendation rec = {0};
    size_t n = 0;
    char *json = NULL;
    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_http_status(f, 503));
    OK(smartretry_engine_preview(e, "orders", NULL, f, 10, &s));
    OK(smartretry_schedule_len(s, &n));
    CHECK(n >= 2 && n <= 10);
    OK(smartretry_schedule_get(s, n - 1, &rec));
    CHECK(rec.action != SMARTRETRY_ACTION_RETRY); /* the schedule ends in a stop */
    OK(smartretry_recommendation_free(&rec));
    FAILS(smartretry_schedule_get(s, n, &rec), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_schedule_len(s, NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_schedule_free(s));
    FAILS(smartretry_schedule_free(s), SMARTRETRY_INVALID_HANDLE);
    FAILS(smartretry_engine_preview(e, "", NULL, f, 3, &s), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_engine_preview(e, "orders", NULL, NULL, 3, &s), SMARTRETRY_NULL_ARGUMENT);

    /* A tenant's fixed delay wins for that tenant only. */
    OK(smartretry_engine_set_override_delay(e, SMARTRETRY_SCOPE_TENANT, "acme",
                                            SMARTRETRY_CLASS_UNAVAILABLE, 7.0));
    OK(smartretry_engine_preview(e, "orders", "acme", f, 1, &s));
    OK(smartretry_schedule_get(s, 0, &rec));
    CHECK(rec.tier == SMARTRETRY_TIER_OPERATOR && rec.delay == 7.0);
    OK(smartretry_recommendation_free(&rec));
    OK(smartretry_schedule_free(s));
    OK(smartretry_engine_set_override(e, SMARTRETRY_SCOPE_QUEUE, "orders", SMARTRETRY_CLASS_ALL,
                                      "{\"max_attempts\":1}"));
    OK(smartretry_engine_preview(e, "orders", NULL, f, 5, &s));
    OK(smartretry_schedule_len(s, &n));
    CHECK(n == 1);
    OK(smartretry_schedule_free(s));
    OK(smartretry_engine_overrides_json(e, &json));
    CHECK(strstr(json, "acme") != NULL && strstr(json, "orders") != NULL);
    OK(smartretry_string_free(json));
    FAILS(smartretry_engine_set_override(e, 7, "orders", SMARTRETRY_CLASS_ALL, "{}"),
          SMARTRETRY_INVALID_ENUM);
    FAILS(smartretry_engine_set_override(e, SMARTRETRY_SCOPE_QUEUE, "orders", 77, "{}"),
          SMARTRETRY_INVALID_ENUM);
    FAILS(smartretry_engine_set_override(e, SMARTRETRY_SCOPE_QUEUE, "orders", SMARTRETRY_CLASS_ALL,
                                         "{\"max_attempts\":0}"),
          SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_engine_set_override(e, SMARTRETRY_SCOPE_QUEUE, "", SMARTRETRY_CLASS_ALL, "{}"),
          SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_engine_set_override(e, SMARTRETRY_SCOPE_QUEUE, "orders", SMARTRETRY_CLASS_ALL,
                                         "[1,2"),
          SMARTRETRY_INVALID_JSON);
    FAILS(smartretry_engine_set_override_delay(e, SMARTRETRY_SCOPE_QUEUE, "orders",
                                               SMARTRETRY_CLASS_ALL, -1.0),
          SMARTRETRY_INVALID_DURATION);
    OK(smartretry_engine_clear_override(e, SMARTRETRY_SCOPE_QUEUE, "orders", SMARTRETRY_CLASS_ALL));
    OK(smartretry_engine_clear_override(e, SMARTRETRY_SCOPE_TENANT, "acme",
                                        SMARTRETRY_CLASS_UNAVAILABLE));
    FAILS(smartretry_engine_clear_override(e, 9, "acme", SMARTRETRY_CLASS_ALL), SMARTRETRY_INVALID_ENUM);
    OK(smartretry_engine_overrides_json(e, &json));
    CHECK(strcmp(json, "[]") == 0);
    OK(smartretry_string_free(json));
    OK(smartretry_failure_free(f));
}

static void test_snapshots_and_stats(smartretry_engine *e, smartretry_clock *clock) {
    char dir[] = "/tmp/smartretry-test-XXXXXX";
    char path[128], bad[160];
    smartretry_engine *other = NULL;
    smartretry_stats st;
    char *json = NULL;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/model.snap", dir);
    snprintf(bad, sizeof bad, "%s/not-a-snapshot", dir);
    OK(smartretry_engine_save_snapshot(e, path));
    OK(smartretry_engine_new(NULL, clock, &other));
    OK(smartretry_engine_load_snapshot(other, path));
    OK(smartretry_engine_merge_snapshot(other, path));
    OK(smartretry_engine_stats(other, &st));
    CHECK(st.models > 0);
    FAILS(smartretry_engine_load_snapshot(other, "/nonexistent/dir/x.snap"), SMARTRETRY_IO);
    FILE *fp = fopen(bad, "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs("garbage, not a snapshot at all", fp);
        fclose(fp);
    }
    FAILS(smartretry_engine_load_snapshot(other, bad), SMARTRETRY_SNAPSHOT_CORRUPT);
    FAILS(smartretry_engine_save_snapshot(other, NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_engine_free(other));
    unlink(path);
    unlink(bad);
    rmdir(dir);

    OK(smartretry_engine_stats(e, &st));
    CHECK(st.failures >= 3 && st.successes >= 2);
    OK(smartretry_engine_stats_json(e, &json));
    CHECK(strstr(json, "\"failures\"") != NULL);
    OK(smartretry_string_free(json));
    OK(smartretry_engine_reset_stats(e));
    OK(smartretry_engine_stats(e, &st));
    CHECK(st.failures == 0);
    FAILS(smartretry_engine_stats(e, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_stats_json(NULL, &json), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_reset_stats(NULL), SMARTRETRY_NULL_ARGUMENT);
}

static void test_engine_lifecycle(smartretry_clock *clock) {
    smartretry_engine *e = NULL;
    smartretry_policy *p = NULL;
    double now = 0;
    OK(smartretry_engine_new_from_json("{\"seed\":7}", clock, &e));
    OK(smartretry_engine_now(e, &now));
    CHECK(now >= T0);
    OK(smartretry_policy_new(&p));
    OK(smartretry_policy_set_max_attempts(p, SMARTRETRY_CLASS_TIMEOUT, 5));
    OK(smartretry_engine_set_policy(e, p));
    FAILS(smartretry_engine_set_policy(e, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_now(e, NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_engine_free(e));
    FAILS(smartretry_engine_free(e), SMARTRETRY_INVALID_HANDLE);
    e = NULL;
    FAILS(smartretry_engine_new_from_json("{\"learning\":{\"max_models\":0}}", clock, &e),
          SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_engine_new_from_json("{\"rules\":[{\"name\":\"r\",\"message\":{\"pattern\":\"(\"},"
                                          "\"class\":\"timeout\"}]}",
                                          clock, &e),
          SMARTRETRY_INVALID_RULE);
    FAILS(smartretry_engine_new_from_json(NULL, clock, &e), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_new_from_json("{}", clock, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_new(p, (const smartretry_clock *)p, &e), SMARTRETRY_INVALID_HANDLE);
    FAILS(smartretry_engine_new(NULL, NULL, NULL), SMARTRETRY_NULL_ARGUMENT);
    CHECK(e == NULL);
    OK(smartretry_engine_new(p, NULL, &e)); /* system clock */
    OK(smartretry_policy_free(p));          /* the engine copied it */
    OK(smartretry_engine_free(e));
    OK(smartretry_engine_free(NULL));
}

int main(void) {
    smartretry_clock *clock = NULL;
    smartretry_engine *e = NULL;
    test_version_and_names();
    test_clock();
    test_policy();
    OK(smartretry_clock_new_manual(T0, &clock));
    OK(smartretry_engine_new(NULL, clock, &e));
    test_failure_and_classify(e);
    test_episode_flow(e, clock);
    test_preview_and_overrides(e);
    test_snapshots_and_stats(e, clock);
    test_engine_lifecycle(clock);
    OK(smartretry_engine_free(e));
    OK(smartretry_clock_free(clock));
    return report("test_api");
}
