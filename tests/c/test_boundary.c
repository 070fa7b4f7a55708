/* Boundary cases for every export: NULL for each pointer argument, invalid UTF-8, over-long
 * strings, NaN/negative/huge durations, out-of-range codes and enums, stale and wrong-type
 * handles. Each returns a typed status with a message, never a crash. Failure setters apply
 * the core's own validation at once (Failure::validate). */
#include <math.h>
#include <stdlib.h>

#include "check.h"

#define NUL(call) FAILS(call, SMARTRETRY_NULL_ARGUMENT)
#define UTF8(call) FAILS(call, SMARTRETRY_INVALID_UTF8)
#define DUR(call) FAILS(call, SMARTRETRY_INVALID_DURATION)
#define STALE(call) FAILS(call, SMARTRETRY_INVALID_HANDLE)

static const char *BAD = "bad \xc3\x28 utf8";
static const double NaN = NAN;

static char *long_string(size_t n) {
    char *s = malloc(n + 1);
    if (!s) abort();
    memset(s, 'k', n);
    s[n] = '\0';
    return s;
}

static void test_null_arguments(smartretry_engine *e, smartretry_episode *ep,
                                smartretry_failure *f, smartretry_clock *c) {
    smartretry_engine *eo = NULL;
    smartretry_episode *epo = NULL;
    smartretry_failure *fo = NULL;
    smartretry_policy *po = NULL;
    smartretry_clock *co = NULL;
    smartretry_schedule *so = NULL;
    smartretry_recommendation rec = {0};
    smartretry_stats st;
    smartretry_episode_info info;
    smartretry_class cls;
    smartretry_clamp clamp;
    smartretry_alternative alt;
    char *text = NULL;
    double d;
    size_t n;
    /* engine */
    NUL(smartretry_engine_new(NULL, NULL, NULL));
    NUL(smartretry_engine_new_from_json(NULL, c, &eo));
    NUL(smartretry_engine_new_from_json("{}", c, NULL));
    NUL(smartretry_engine_set_policy(NULL, NULL));
    NUL(smartretry_engine_set_policy(e, NULL));
    NUL(smartretry_engine_now(NULL, &d));
    NUL(smartretry_engine_now(e, NULL));
    NUL(smartretry_engine_begin(NULL, "q", NULL, &epo));
    NUL(smartretry_engine_begin(e, NULL, NULL, &epo));
    NUL(smartretry_engine_begin(e, "q", NULL, NULL));
    NUL(smartretry_episode_get_info(NULL, &info));
    NUL(smartretry_episode_get_info(ep, NULL));
    NUL(smartretry_engine_on_failure(NULL, ep, f, &rec));
    NUL(smartretry_engine_on_failure(e, NULL, f, &rec));
    NUL(smartretry_engine_on_failure(e, ep, NULL, &rec));
    NUL(smartretry_engine_on_failure(e, ep, f, NULL));
    NUL(smartretry_engine_recommend(NULL, ep, f, &rec));
    NUL(smartretry_engine_recommend(e, NULL, f, &rec));
    NUL(smartretry_engine_recommend(e, ep, NULL, &rec));
    NUL(smartretry_engine_recommend(e, ep, f, NULL));
    NUL(smartretry_engine_record_failure(NULL, ep, f, &cls));
    NUL(smartretry_engine_record_failure(e, NULL, f, &cls));
    NUL(smartretry_engine_record_failure(e, ep, NULL, &cls));
    NUL(smartretry_engine_on_success(NULL, ep, NULL));
    NUL(smartretry_engine_on_success(e, NULL, NULL));
    NUL(smartretry_engine_abandon(NULL, ep));
    NUL(smartretry_engine_abandon(e, NULL));
    NUL(smartretry_engine_classify(NULL, f, &cls, NULL));
    NUL(smartretry_engine_classify(e, NULL, &cls, NULL));
    NUL(smartretry_engine_classify(e, f, NULL, NULL));
    /* failure */
    NUL(smartretry_failure_new(NULL));
    NUL(smartretry_failure_set_http_status(NULL, 503));
    NUL(smartretry_failure_set_grpc_code(NULL, 14));
    NUL(smartretry_failure_set_error_code(NULL, "E"));
    NUL(smartretry_failure_set_error_code(f, NULL));
    NUL(smartretry_failure_set_exception(NULL, "E"));
    NUL(smartretry_failure_set_exception(f, NULL));
    NUL(smartretry_failure_set_message(NULL, "m"));
    NUL(smartretry_failure_set_message(f, NULL));
    NUL(smartretry_failure_set_dependency(NULL, "d"));
    NUL(smartretry_failure_set_dependency(f, NULL));
    NUL(smartretry_failure_set_retry_after(NULL, 1.0));
    NUL(smartretry_failure_set_retry_after_header(NULL, e, "1"));
    NUL(smartretry_failure_set_retry_after_header(f, NULL, "1"));
    NUL(smartretry_failure_set_retry_after_header(f, e, NULL));
    NUL(smartretry_failure_set_class(NULL, 0));
    /* names, observers */
    NUL(smartretry_class_from_name(NULL, &cls));
    NUL(smartretry_class_from_name("timeout", NULL));
    NUL(smartretry_engine_add_observer(NULL, NULL, NULL));
    NUL(smartretry_engine_add_observer(e, NULL, NULL));
    NUL(smartretry_engine_clear_observers(NULL));
    /* policy */
    NUL(smartretry_policy_new(NULL));
    NUL(smartretry_policy_from_json(NULL, &po));
    NUL(smartretry_policy_from_json("{}", NULL));
    NUL(smartretry_policy_to_json(NULL, &text));
    NUL(smartretry_policy_set_max_attempts(NULL, 0, 3));
    NUL(smartretry_policy_set_delay_bounds(NULL, 0, 0.1, 1.0));
    NUL(smartretry_policy_set_retryable(NULL, 0, true));
    NUL(smartretry_policy_patch_class(NULL, 0, "{}"));
    NUL(smartretry_policy_set_deadline(NULL, 1.0));
    NUL(smartretry_policy_set_learning(NULL, true));
    NUL(smartretry_policy_set_seed(NULL, 1));
    OK(smartretry_policy_new(&po));
    NUL(smartretry_policy_to_json(po, NULL));
    NUL(smartretry_policy_patch_class(po, 0, NULL));
    /* recommendation, schedule */
    NUL(smartretry_recommendation_reason(NULL, &text));
    NUL(smartretry_recommendation_describe(NULL, &text));
    NUL(smartretry_recommendation_to_json(NULL, &text));
    NUL(smartretry_recommendation_clamp(NULL, 0, &clamp));
    NUL(smartretry_recommendation_alternative(NULL, 0, &alt));
    OK(smartretry_engine_recommend(e, ep, f, &rec));
    NUL(smartretry_recommendation_reason(&rec, NULL));
    NUL(smartretry_recommendation_describe(&rec, NULL));
    NUL(smartretry_recommendation_to_json(&rec, NULL));
    NUL(smartretry_recommendation_clamp(&rec, 0, NULL));
    NUL(smartretry_recommendation_alternative(&rec, 0, NULL));
    OK(smartretry_recommendation_free(&rec));
    OK(smartretry_recommendation_free(NULL));
    FAILS(smartretry_recommendation_reason(&rec, &text), SMARTRETRY_INVALID_ARGUMENT);
    NUL(smartretry_engine_preview(NULL, "q", NULL, f, 3, &so));
    NUL(smartretry_engine_preview(e, NULL, NULL, f, 3, &so));
    NUL(smartretry_engine_preview(e, "q", NULL, NULL, 3, &so));
    NUL(smartretry_engine_preview(e, "q", NULL, f, 3, NULL));
    NUL(smartretry_schedule_len(NULL, &n));
    NUL(smartretry_schedule_get(NULL, 0, &rec));
    OK(smartretry_engine_preview(e, "q", NULL, f, 3, &so));
    NUL(smartretry_schedule_len(so, NULL));
    NUL(smartretry_schedule_get(so, 0, NULL));
    OK(smartretry_schedule_free(so));
    /* admin */
    NUL(smartretry_engine_set_override(NULL, 0, "q", 0, "{}"));
    NUL(smartretry_engine_set_override(e, 0, NULL, 0, "{}"));
    NUL(smartretry_engine_set_override(e, 0, "q", 0, NULL));
    NUL(smartretry_engine_set_override_delay(NULL, 0, "q", 0, 1.0));
    NUL(smartretry_engine_set_override_delay(e, 0, NULL, 0, 1.0));
    NUL(smartretry_engine_clear_override(NULL, 0, "q", 0));
    NUL(smartretry_engine_clear_override(e, 0, NULL, 0));
    NUL(smartretry_engine_overrides_json(NULL, &text));
    NUL(smartretry_engine_overrides_json(e, NULL));
    NUL(smartretry_engine_save_snapshot(NULL, "/tmp/x"));
    NUL(smartretry_engine_save_snapshot(e, NULL));
    NUL(smartretry_engine_load_snapshot(NULL, "/tmp/x"));
    NUL(smartretry_engine_load_snapshot(e, NULL));
    NUL(smartretry_engine_merge_snapshot(NULL, "/tmp/x"));
    NUL(smartretry_engine_merge_snapshot(e, NULL));
    NUL(smartretry_engine_stats(NULL, &st));
    NUL(smartretry_engine_stats(e, NULL));
    NUL(smartretry_engine_stats_json(NULL, &text));
    NUL(smartretry_engine_stats_json(e, NULL));
    NUL(smartretry_engine_reset_stats(NULL));
    /* clock */
    NUL(smartretry_clock_new_manual(1.0, NULL));
    NUL(smartretry_clock_new_system(NULL));
    NUL(smartretry_clock_advance(NULL, 1.0));
    NUL(smartretry_clock_set(NULL, 1.0));
    NUL(smartretry_clock_now(NULL, &d));
    NUL(smartretry_clock_now(c, NULL));
    NUL(smartretry_live_handles(NULL));
    /* frees accept NULL */
    OK(smartretry_engine_free(NULL));
    OK(smartretry_episode_free(NULL));
    OK(smartretry_failure_free(NULL));
    OK(smartretry_policy_free(NULL));
    OK(smartretry_clock_free(NULL));
    OK(smartretry_schedule_free(NULL));
    OK(smartretry_string_free(NULL));
    OK(smartretry_policy_free(po));
    CHECK(eo == NULL && epo == NULL && fo == NULL && co == NULL);
}

static void test_strings(smartretry_engine *e, smartretry_episode *ep, smartretry_failure *f) {
    smartretry_engine *eo = NULL;
    smartretry_episode *epo = NULL;
    smartretry_policy *po = NULL;
    smartretry_schedule *so = NULL;
    smartretry_class cls;
    char *huge = long_string(1 << 20), *key513 = long_string(513);
    UTF8(smartretry_engine_new_from_json(BAD, NULL, &eo));
    UTF8(smartretry_engine_begin(e, BAD, NULL, &epo));
    UTF8(smartretry_engine_begin(e, "q", BAD, &epo));
    UTF8(smartretry_engine_on_success(e, ep, BAD));
    UTF8(smartretry_failure_set_error_code(f, BAD));
    UTF8(smartretry_failure_set_exception(f, BAD));
    UTF8(smartretry_failure_set_message(f, BAD));
    UTF8(smartretry_failure_set_dependency(f, BAD));
    UTF8(smartretry_failure_set_retry_after_header(f, e, BAD));
    UTF8(smartretry_class_from_name(BAD, &cls));
    UTF8(smartretry_policy_from_json(BAD, &po));
    UTF8(smartretry_engine_preview(e, BAD, NULL, f, 2, &so));
    UTF8(smartretry_engine_set_override(e, 0, BAD, 0, "{}"));
    UTF8(smartretry_engine_set_override(e, 0, "q", 0, BAD));
    UTF8(smartretry_engine_set_override_delay(e, 0, BAD, 0, 1.0));
    UTF8(smartretry_engine_clear_override(e, 0, BAD, 0));
    /* Over-long and control-character names are refused by the core's key rules. */
    FAILS(smartretry_engine_begin(e, key513, NULL, &epo), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_engine_begin(e, huge, NULL, &epo), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_engine_begin(e, "q", huge, &epo), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_engine_begin(e, "a\nb", NULL, &epo), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_engine_preview(e, key513, NULL, f, 2, &so), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_engine_set_override_delay(e, 0, huge, 0, 1.0), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_failure_set_retry_after_header(f, e, huge), SMARTRETRY_INVALID_RETRY_AFTER);
    FAILS(smartretry_engine_new_from_json(huge, NULL, &eo), SMARTRETRY_INVALID_JSON);
    /* Names over 512 bytes, empty or with control characters are refused at once (the core's
     * rule); a 1 MB message is accepted and cut to 4 KiB when used. */
    FAILS(smartretry_failure_set_dependency(f, huge), SMARTRETRY_INVALID_FAILURE);
    FAILS(smartretry_failure_set_exception(f, huge), SMARTRETRY_INVALID_FAILURE);
    CHECK(smartretry_failure_set_message(f, huge) == SMARTRETRY_OK);
    FAILS(smartretry_failure_set_dependency(f, ""), SMARTRETRY_INVALID_FAILURE);
    FAILS(smartretry_failure_set_dependency(f, "a\tb"), SMARTRETRY_INVALID_FAILURE);
    OK(smartretry_failure_set_dependency(f, "payments-api"));
    OK(smartretry_failure_set_exception(f, "TimeoutError"));
    OK(smartretry_failure_set_message(f, "timed out"));
    /* Unknown class names and enum values. */
    FAILS(smartretry_class_from_name("", &cls), SMARTRETRY_UNKNOWN_CLASS);
    FAILS(smartretry_class_from_name("timeoutt", &cls), SMARTRETRY_UNKNOWN_CLASS);
    FAILS(smartretry_policy_from_json("{\"classes\":{\"nope\":{\"max_attempts\":2}}}", &po),
          SMARTRETRY_INVALID_POLICY);
    FAILS(smartretry_failure_set_class(f, 13), SMARTRETRY_INVALID_ENUM);
    FAILS(smartretry_failure_set_class(f, SMARTRETRY_CLASS_ALL), SMARTRETRY_INVALID_ENUM);
    FAILS(smartretry_policy_set_retryable(NULL, 99, true), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_set_override_delay(e, 2, "q", 0, 1.0), SMARTRETRY_INVALID_ENUM);
    FAILS(smartretry_engine_clear_override(e, 0, "q", 200), SMARTRETRY_INVALID_ENUM);
    CHECK(smartretry_class_name(UINT32_MAX) == NULL);
    CHECK(smartretry_action_name(UINT32_MAX) == NULL);
    CHECK(smartretry_tier_name(UINT32_MAX) == NULL);
    CHECK(smartretry_guardrail_name(UINT32_MAX) == NULL);
    CHECK(smartretry_status_name(UINT32_MAX) == NULL);
    CHECK(eo == NULL && epo == NULL && po == NULL && so == NULL);
    free(huge);
    free(key513);
}

static void test_numbers(smartretry_engine *e, smartretry_failure *f, smartretry_clock *c) {
    const double bad[] = {NaN, -1.0, -0.5, 1.0 / 0.0, -1.0 / 0.0, 1e300};
    smartretry_policy *p = NULL;
    smartretry_clock *co = NULL;
    OK(smartretry_policy_new(&p));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = bad[i];
        DUR(smartretry_failure_set_retry_after(f, v));
        DUR(smartretry_policy_set_delay_bounds(p, 0, v, 1.0));
        DUR(smartretry_policy_set_delay_bounds(p, 0, 0.1, v));
        DUR(smartretry_policy_set_deadline(p, v));
        DUR(smartretry_engine_set_override_delay(e, 0, "q", 0, v));
        if (v != 1e300) { /* 1e300 s fits a clock reading's range check differently */
            FAILS(smartretry_clock_advance(c, v), SMARTRETRY_INVALID_ARGUMENT);
            FAILS(smartretry_clock_new_manual(v, &co), SMARTRETRY_INVALID_ARGUMENT);
        }
    }
    FAILS(smartretry_policy_set_max_attempts(p, 0, 0), SMARTRETRY_INVALID_CONFIG);
    /* UINT32_MAX attempts means "bounded only by the deadline": accepted. */
    CHECK(smartretry_policy_set_max_attempts(p, 0, UINT32_MAX) == SMARTRETRY_OK);
    /* Out-of-range HTTP statuses and gRPC codes: refused at once by the core's rule. */
    FAILS(smartretry_failure_set_http_status(f, 0), SMARTRETRY_INVALID_FAILURE);
    FAILS(smartretry_failure_set_http_status(f, 65535), SMARTRETRY_INVALID_FAILURE);
    FAILS(smartretry_failure_set_http_status(f, 99), SMARTRETRY_INVALID_FAILURE);
    FAILS(smartretry_failure_set_grpc_code(f, 99), SMARTRETRY_INVALID_FAILURE);
    FAILS(smartretry_failure_set_grpc_code(f, UINT32_MAX), SMARTRETRY_INVALID_FAILURE);
    OK(smartretry_failure_set_http_status(f, 503));
    OK(smartretry_failure_set_grpc_code(f, 14));
    FAILS(smartretry_failure_set_retry_after_header(f, e, "-5"), SMARTRETRY_INVALID_RETRY_AFTER);
    FAILS(smartretry_failure_set_retry_after_header(f, e, "1e999"), SMARTRETRY_INVALID_RETRY_AFTER);
    FAILS(smartretry_failure_set_retry_after_header(f, e, ""), SMARTRETRY_INVALID_RETRY_AFTER);
    OK(smartretry_policy_free(p));
    CHECK(co == NULL);
}

static void test_stale_and_foreign(smartretry_engine *e, smartretry_failure *f) {
    smartretry_engine *dead = NULL;
    smartretry_episode *ep = NULL;
    smartretry_policy *p = NULL;
    smartretry_schedule *s = NULL;
    smartretry_stats st;
    smartretry_class cls;
    size_t n;
    OK(smartretry_engine_new(NULL, NULL, &dead));
    OK(smartretry_engine_free(dead));
    OK(smartretry_policy_new(&p));
    OK(smartretry_policy_free(p));
    OK(smartretry_engine_preview(e, "q", NULL, f, 2, &s));
    OK(smartretry_schedule_free(s));
    STALE(smartretry_engine_stats(dead, &st));
    STALE(smartretry_engine_begin(dead, "q", NULL, &ep));
    STALE(smartretry_engine_classify(dead, f, &cls, NULL));
    STALE(smartretry_engine_set_policy(e, p));
    STALE(smartretry_policy_set_seed(p, 1));
    STALE(smartretry_schedule_len(s, &n));
    /* Arbitrary values as handles: never dereferenced, always refused. */
    STALE(smartretry_engine_stats((smartretry_engine *)(uintptr_t)0xdeadbeefu, &st));
    STALE(smartretry_engine_free((smartretry_engine *)(uintptr_t)UINT64_MAX));
    STALE(smartretry_failure_free((smartretry_failure *)(uintptr_t)0x10));
    /* The wrong type, both ways. */
    STALE(smartretry_failure_free((smartretry_failure *)e));
    STALE(smartretry_engine_free((smartretry_engine *)f));
    CHECK(ep == NULL);
}

int main(void) {
    smartretry_clock *c = NULL;
    smartretry_engine *e = NULL;
    smartretry_episode *ep = NULL;
    smartretry_failure *f = NULL;
    size_t start = 0, end = 0;
    OK(smartretry_live_handles(&start));
    OK(smartretry_clock_new_manual(1700000000.0, &c));
    OK(smartretry_engine_new(NULL, c, &e));
    OK(smartretry_engine_begin(e, "q", NULL, &ep));
    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_http_status(f, 503));
    test_null_arguments(e, ep, f, c);
    test_strings(e, ep, f);
    test_numbers(e, f, c);
    test_stale_and_foreign(e, f);
    OK(smartretry_failure_free(f));
    OK(smartretry_episode_free(ep));
    OK(smartretry_engine_free(e));
    OK(smartretry_clock_free(c));
    OK(smartretry_live_handles(&end));
    CHECK(start == end);
    return report("test_boundary");
}
