/* Retry a flaky operation with libsmartretry, printing each recommendation's reason.
 *
 * The operation fails with HTTP 503 a few times, then succeeds. Time runs on a manual clock so the
 * example finishes at once: "waiting" advances the clock instead of sleeping (a real service
 * would pass NULL for the clock and sleep for rec.delay seconds).
 *
 * Build (see README): cc -std=c11 retry_flaky.c $(pkg-config --cflags --libs smartretry)
 */
#include <stdio.h>
#include <stdlib.h>

#include <smartretry.h>

#define TRY(call)                                                                    \
    do {                                                                             \
        smartretry_status s_ = (call);                                               \
        if (s_ != SMARTRETRY_OK) {                                                   \
            fprintf(stderr, "%s failed: %s (%s)\n", #call, smartretry_last_error(), \
                    smartretry_status_name(s_));                                     \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

/* The flaky operation: fails `*remaining` more times with 503, then succeeds. */
static int flaky_call(int *remaining) {
    if (*remaining > 0) {
        (*remaining)--;
        return 503;
    }
    return 200;
}

int main(void) {
    smartretry_clock *clock = NULL;
    smartretry_engine *engine = NULL;
    smartretry_failure *failure = NULL;
    smartretry_episode *episode = NULL;
    int remaining = 2, status;

    if (smartretry_version_number() != SMARTRETRY_VERSION_NUMBER) {
        fprintf(stderr, "header %d / library %s mismatch\n", SMARTRETRY_VERSION_NUMBER,
                smartretry_version());
        return 1;
    }
    printf("libsmartretry %s\n", smartretry_version());
    TRY(smartretry_clock_new_manual(1700000000.0, &clock));
    TRY(smartretry_engine_new_from_json("{\"classes\":{\"unavailable\":{\"max_attempts\":5}}}", clock,
                                        &engine));
    TRY(smartretry_failure_new(&failure));
    TRY(smartretry_engine_begin(engine, "payments", "acme", &episode));

    for (int attempt = 1;; attempt++) {
        status = flaky_call(&remaining);
        if (status == 200) {
            printf("attempt %d: succeeded\n", attempt);
            TRY(smartretry_engine_on_success(engine, episode, NULL));
            break;
        }
        smartretry_recommendation rec = {0};
        char *reason = NULL;
        TRY(smartretry_failure_set_http_status(failure, (uint16_t)status));
        TRY(smartretry_engine_on_failure(engine, episode, failure, &rec));
        TRY(smartretry_recommendation_reason(&rec, &reason));
        printf("attempt %d: HTTP %d -> %s after %.2f s [%s, class %s]: %s\n", attempt, status,
               smartretry_action_name(rec.action), rec.delay, smartretry_tier_name(rec.tier),
               smartretry_class_name(rec.error_class), reason);
        smartretry_string_free(reason);
        int retry = rec.action == SMARTRETRY_ACTION_RETRY;
        double delay = rec.delay;
        smartretry_recommendation_free(&rec);
        if (!retry) {
            printf("giving up\n");
            break;
        }
        TRY(smartretry_clock_advance(clock, delay)); /* a real caller sleeps here */
    }

    smartretry_episode_free(episode);
    smartretry_failure_free(failure);
    smartretry_engine_free(engine);
    smartretry_clock_free(clock);
    return status == 200 ? 0 : 1;
}
