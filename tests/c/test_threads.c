/* One engine hammered from many threads with concurrent record / recommend / success: the
 * engine's counters must add up exactly to what the threads did. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"

enum { THREADS = 8, EPISODES = 200, FAILURES_PER_EPISODE = 2 };

typedef struct {
    smartretry_engine *engine;
    int index;
    int errors;
    uint64_t failures, successes, recommends;
} worker;

static void *run(void *arg) {
    worker *w = arg;
    smartretry_failure *f = NULL;
    char tenant[32];
    snprintf(tenant, sizeof tenant, "tenant-%d", w->index % 3);
    if (smartretry_failure_new(&f) != SMARTRETRY_OK) {
        w->errors++;
        return NULL;
    }
    smartretry_failure_set_error_code(f, "ETIMEDOUT");
    for (int i = 0; i < EPISODES; i++) {
        smartretry_episode *ep = NULL;
        if (smartretry_engine_begin(w->engine, "shared-queue", tenant, &ep) != SMARTRETRY_OK) {
            w->errors++;
            continue;
        }
        for (int k = 0; k < FAILURES_PER_EPISODE; k++) {
            smartretry_recommendation rec = {0};
            if (smartretry_engine_recommend(w->engine, ep, f, &rec) != SMARTRETRY_OK) w->errors++;
            smartretry_recommendation_free(&rec);
            w->recommends++;
            if (smartretry_engine_record_failure(w->engine, ep, f, NULL) != SMARTRETRY_OK) w->errors++;
            w->failures++;
        }
        if (smartretry_engine_on_success(w->engine, ep, NULL) != SMARTRETRY_OK) w->errors++;
        w->successes++;
        if (smartretry_episode_free(ep) != SMARTRETRY_OK) w->errors++;
    }
    smartretry_failure_free(f);
    return NULL;
}

/* Handles freed by one thread while others use them: every call answers OK (it ran before the
 * free, or holds the object alive until it returns) or SMARTRETRY_INVALID_HANDLE (after the
 * free), never a crash or a touched neighbour. The racers also set the failure while the others
 * read it in a recommendation (a setter replaces the value a call may be reading). */
enum { RACE_ROUNDS = 200, RACERS = 4 };
static _Atomic(smartretry_failure *) shared_failure;
static smartretry_engine *race_engine;
static smartretry_episode *race_episode;

static void *race(void *arg) {
    int *odd = arg;
    for (int i = 0; i < 2000; i++) {
        smartretry_failure *f = atomic_load(&shared_failure);
        smartretry_class c;
        smartretry_recommendation rec = {0};
        smartretry_status s1 = smartretry_failure_set_http_status(f, i % 2 ? 503 : 429);
        smartretry_status s2 = smartretry_engine_classify(race_engine, f, &c, NULL);
        smartretry_status s3 = smartretry_engine_recommend(race_engine, race_episode, f, &rec);
        if ((s1 != SMARTRETRY_OK && s1 != SMARTRETRY_INVALID_HANDLE) ||
            (s2 != SMARTRETRY_OK && s2 != SMARTRETRY_INVALID_HANDLE) ||
            (s3 != SMARTRETRY_OK && s3 != SMARTRETRY_INVALID_HANDLE) ||
            (s2 == SMARTRETRY_OK && c != SMARTRETRY_CLASS_UNAVAILABLE && c != SMARTRETRY_CLASS_UNKNOWN &&
             c != SMARTRETRY_CLASS_RATE_LIMITED) ||
            smartretry_recommendation_free(&rec) != SMARTRETRY_OK)
            (*odd)++;
    }
    return NULL;
}

static void test_free_while_in_use(smartretry_engine *engine) {
    pthread_t t[RACERS];
    int odd[RACERS] = {0};
    race_engine = engine;
    OK(smartretry_engine_begin(engine, "race", NULL, &race_episode));
    smartretry_failure *first = NULL;
    OK(smartretry_failure_new(&first));
    atomic_store(&shared_failure, first);
    for (int i = 0; i < RACERS; i++) CHECK(pthread_create(&t[i], NULL, race, &odd[i]) == 0);
    for (int r = 0; r < RACE_ROUNDS; r++) {
        smartretry_failure *fresh = NULL;
        OK(smartretry_failure_new(&fresh));
        smartretry_failure *old = atomic_exchange(&shared_failure, fresh);
        OK(smartretry_failure_free(old));
    }
    for (int i = 0; i < RACERS; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
        CHECK(odd[i] == 0);
    }
    OK(smartretry_failure_free(atomic_load(&shared_failure)));
    OK(smartretry_episode_free(race_episode));
}

int main(void) {
    smartretry_clock *clock = NULL;
    smartretry_engine *engine = NULL;
    pthread_t threads[THREADS];
    worker workers[THREADS];
    OK(smartretry_clock_new_manual(1700000000.0, &clock));
    OK(smartretry_engine_new(NULL, clock, &engine));
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){.engine = engine, .index = i};
        CHECK(pthread_create(&threads[i], NULL, run, &workers[i]) == 0);
    }
    uint64_t failures = 0, successes = 0;
    int errors = 0;
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        failures += workers[i].failures;
        successes += workers[i].successes;
        errors += workers[i].errors;
    }
    smartretry_stats st;
    OK(smartretry_engine_stats(engine, &st));
    CHECK(errors == 0);
    CHECK(failures == (uint64_t)THREADS * EPISODES * FAILURES_PER_EPISODE);
    CHECK(st.failures == failures);
    CHECK(st.successes == successes);
    CHECK(st.successes == (uint64_t)THREADS * EPISODES);
    CHECK(st.successes_after_retry == successes);
    /* dry-run recommendations change no counter: no retries or give-ups were decided live */
    CHECK(st.retries == 0 && st.give_ups == 0);
    test_free_while_in_use(engine);
    OK(smartretry_engine_free(engine));
    OK(smartretry_clock_free(clock));
    return report("test_threads");
}
