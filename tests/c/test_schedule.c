/* The durable retry schedule through the C ABI: the same scenario on a SQLite file in a
 * temporary directory and on a real redis-server (argv[1] or $SMARTRETRY_TEST_REDIS_URL;
 * scripts/test-c.sh starts one on a free port). Schedule, claim with a lease, idempotent acks,
 * nack, redelivery once a lease runs out (explicit `now` values, no sleeping), a recommendation's
 * delay; bad arguments, a bad URL, an unreachable Redis and a corrupt SQLite file are status
 * codes; workers on threads, each with its own handle, never claim a job twice. Runs under
 * valgrind and the sanitizers. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static const double T = 1700000000.0;

/* Claim at `now` (limit 10) and return the list (caller frees); `*n` its length. */
static smartretry_claims *claim(smartretry_retry_schedule *s, double now, double lease, size_t *n) {
    smartretry_claims *c = NULL;
    *n = 0;
    OK(smartretry_retry_schedule_claim_due(s, now, 10, lease, &c));
    OK(smartretry_claims_len(c, n));
    return c;
}

/* Claim number `i` is `job`, with `payload`, handed out for the `deliveries`th time. */
static void expect_claim(smartretry_claims *c, size_t i, const char *job, const char *payload,
                         uint32_t deliveries, double lease_until) {
    smartretry_claim got;
    memset(&got, 0, sizeof got);
    OK(smartretry_claims_get(c, i, &got));
    CHECK(got.job_id != NULL && strcmp(got.job_id, job) == 0);
    CHECK(got.payload_len == strlen(payload));
    CHECK(got.payload_len == 0 || memcmp(got.payload, payload, got.payload_len) == 0);
    CHECK(got.deliveries == deliveries);
    CHECK(got.lease_until == lease_until);
}

static void expect_ack(smartretry_retry_schedule *s, const char *job, bool expected) {
    bool acked = !expected;
    OK(smartretry_retry_schedule_ack(s, job, &acked));
    CHECK(acked == expected);
}

/* The at-least-once scenario, the same for every backend (an empty schedule to start). */
static void scenario(smartretry_retry_schedule *s) {
    size_t n = 0, len = 0;
    OK(smartretry_retry_schedule_add(s, "job-1", (const uint8_t *)"one", 3, T + 10));
    OK(smartretry_retry_schedule_add(s, "job-2", (const uint8_t *)"two", 3, T + 5));
    OK(smartretry_retry_schedule_add(s, "job-3", NULL, 0, T + 100));
    OK(smartretry_retry_schedule_len(s, &len));
    CHECK(len == 3);

    /* Nothing is due yet. */
    smartretry_claims *c = claim(s, T, 30, &n);
    CHECK(n == 0);
    OK(smartretry_claims_free(c));

    /* Two due, earliest first, leased for 30 s. */
    c = claim(s, T + 20, 30, &n);
    CHECK(n == 2);
    if (n == 2) {
        expect_claim(c, 0, "job-2", "two", 1, T + 50);
        expect_claim(c, 1, "job-1", "one", 1, T + 50);
    }
    smartretry_claim past;
    FAILS(smartretry_claims_get(c, 2, &past), SMARTRETRY_INVALID_ARGUMENT);
    OK(smartretry_claims_free(c));
    FAILS(smartretry_claims_free(c), SMARTRETRY_INVALID_HANDLE);

    /* Leased: no other worker gets them. */
    c = claim(s, T + 21, 30, &n);
    CHECK(n == 0);
    OK(smartretry_claims_free(c));

    /* Acks are idempotent; an unknown job is not an error. */
    expect_ack(s, "job-2", true);
    expect_ack(s, "job-2", false);
    expect_ack(s, "never-scheduled", false);
    OK(smartretry_retry_schedule_ack(s, "job-2", NULL));

    /* Nack: run job-1 again at T + 60 (its lease no longer matters). */
    bool found = false;
    OK(smartretry_retry_schedule_nack(s, "job-1", T + 60, &found));
    CHECK(found);
    OK(smartretry_retry_schedule_nack(s, "nope", T + 60, &found));
    CHECK(!found);
    c = claim(s, T + 55, 30, &n);
    CHECK(n == 0);
    OK(smartretry_claims_free(c));
    c = claim(s, T + 60, 30, &n);
    CHECK(n == 1);
    if (n == 1) {
        expect_claim(c, 0, "job-1", "one", 2, T + 90);
    }
    OK(smartretry_claims_free(c));

    /* The worker holding job-1 dies: nothing until the lease ends, then it is redelivered. */
    c = claim(s, T + 89, 30, &n);
    CHECK(n == 0);
    OK(smartretry_claims_free(c));
    c = claim(s, T + 91, 5, &n);
    CHECK(n == 1);
    if (n == 1) {
        expect_claim(c, 0, "job-1", "one", 3, T + 96);
    }
    OK(smartretry_claims_free(c));
    expect_ack(s, "job-1", true);

    /* Scheduling again replaces the job: payload, due time, delivery count. */
    OK(smartretry_retry_schedule_add(s, "job-3", (const uint8_t *)"three", 5, T + 1));
    c = claim(s, T + 100, 30, &n);
    CHECK(n == 1);
    if (n == 1) {
        expect_claim(c, 0, "job-3", "three", 1, T + 130);
    }
    OK(smartretry_claims_free(c));
    expect_ack(s, "job-3", true);
    OK(smartretry_retry_schedule_len(s, &len));
    CHECK(len == 0);
}

/* One failed request's recommendation (HTTP `status`), stored through the schedule. */
static void recommended(smartretry_retry_schedule *s, smartretry_engine *e, uint16_t status,
                        bool expect_retry) {
    smartretry_episode *ep = NULL;
    smartretry_failure *f = NULL;
    smartretry_recommendation rec;
    memset(&rec, 0, sizeof rec);
    OK(smartretry_engine_begin(e, "payments", NULL, &ep));
    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_http_status(f, status));
    OK(smartretry_engine_on_failure(e, ep, f, &rec));
    CHECK((rec.action == SMARTRETRY_ACTION_RETRY) == expect_retry);
    bool scheduled = !expect_retry;
    OK(smartretry_retry_schedule_add_recommended(s, "rec-job", (const uint8_t *)"r", 1, T, &rec,
                                                 &scheduled));
    size_t n = 0, len = 0;
    OK(smartretry_retry_schedule_len(s, &len));
    if (rec.action == SMARTRETRY_ACTION_RETRY) {
        CHECK(scheduled && len == 1);
        /* Due after the recommended delay, not before. */
        smartretry_claims *c = claim(s, T + rec.delay - 0.01, 30, &n);
        CHECK(n == 0);
        OK(smartretry_claims_free(c));
        /* (1 ms later: T + delay summed in a double may round below the stored microsecond.) */
        c = claim(s, T + rec.delay + 0.001, 30, &n);
        CHECK(n == 1);
        OK(smartretry_claims_free(c));
        expect_ack(s, "rec-job", true);
    } else {
        CHECK(!scheduled && len == 0);
    }
    /* A released recommendation has no detail to read. */
    OK(smartretry_recommendation_free(&rec));
    FAILS(smartretry_retry_schedule_add_recommended(s, "rec-job", NULL, 0, T, &rec, &scheduled),
          SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_retry_schedule_add_recommended(s, "rec-job", NULL, 0, T, NULL, &scheduled),
          SMARTRETRY_NULL_ARGUMENT);
    if (expect_retry) {
        OK(smartretry_engine_abandon(e, ep));
    }
    OK(smartretry_failure_free(f));
    OK(smartretry_episode_free(ep));
}

enum { JOBS = 120, WORKERS = 4 };

struct worker {
    const char *location, *ns;
    int claimed[JOBS];
    int ok;
};

/* A worker with its own handle claims until nothing is due, counting each job it gets. */
static void *work(void *arg) {
    struct worker *w = arg;
    smartretry_retry_schedule *s = NULL;
    if (smartretry_retry_schedule_open(w->location, w->ns, &s) != SMARTRETRY_OK) {
        return NULL;
    }
    w->ok = 1;
    for (;;) {
        smartretry_claims *c = NULL;
        size_t n = 0;
        if (smartretry_retry_schedule_claim_due(s, T + 1, 7, 1000, &c) != SMARTRETRY_OK ||
            smartretry_claims_len(c, &n) != SMARTRETRY_OK) {
            w->ok = 0;
            smartretry_claims_free(c);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            smartretry_claim claim;
            int job = -1;
            if (smartretry_claims_get(c, i, &claim) != SMARTRETRY_OK ||
                sscanf(claim.job_id, "t-%d", &job) != 1 || job < 0 || job >= JOBS) {
                w->ok = 0;
                continue;
            }
            w->claimed[job]++;
        }
        smartretry_claims_free(c);
        if (n == 0) {
            break;
        }
    }
    smartretry_retry_schedule_free(s);
    return NULL;
}

/* JOBS due retries, WORKERS threads claiming at once: every job handed out exactly once. */
static void concurrent_claims(smartretry_retry_schedule *s, const char *location, const char *ns) {
    char id[32];
    for (int j = 0; j < JOBS; j++) {
        snprintf(id, sizeof id, "t-%d", j);
        OK(smartretry_retry_schedule_add(s, id, (const uint8_t *)id, strlen(id), T));
    }
    static struct worker workers[WORKERS];
    pthread_t threads[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].location = location;
        workers[i].ns = ns;
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
    }
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(threads[i], NULL);
        CHECK(workers[i].ok);
    }
    int once = 0;
    for (int j = 0; j < JOBS; j++) {
        int total = 0;
        for (int i = 0; i < WORKERS; i++) {
            total += workers[i].claimed[j];
        }
        once += total == 1;
        snprintf(id, sizeof id, "t-%d", j);
        expect_ack(s, id, true);
    }
    CHECK(once == JOBS);
}

static void bad_arguments(smartretry_retry_schedule *s, const smartretry_engine *e) {
    smartretry_retry_schedule *none = NULL;
    FAILS(smartretry_retry_schedule_open(NULL, NULL, &none), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_retry_schedule_open("x.db", NULL, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_retry_schedule_open("\xff\xfe.db", NULL, &none), SMARTRETRY_INVALID_UTF8);
    FAILS(smartretry_retry_schedule_open("redis://x", "\xff", &none), SMARTRETRY_INVALID_UTF8);
    FAILS(smartretry_retry_schedule_open("", NULL, &none), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_retry_schedule_open("redis://[::1", NULL, &none), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_retry_schedule_open("redis://127.0.0.1:1", "a:b", &none),
          SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_retry_schedule_open("/nonexistent-dir-smartretry/s.db", NULL, &none),
          SMARTRETRY_SCHEDULE_STORAGE);
    CHECK(none == NULL);

    const uint8_t p[] = "payload";
    FAILS(smartretry_retry_schedule_add(NULL, "j", p, 1, T), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_retry_schedule_add((const smartretry_retry_schedule *)e, "j", p, 1, T),
          SMARTRETRY_INVALID_HANDLE);
    FAILS(smartretry_retry_schedule_add(s, NULL, p, 1, T), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_retry_schedule_add(s, "\xc3\x28", p, 1, T), SMARTRETRY_INVALID_UTF8);
    FAILS(smartretry_retry_schedule_add(s, "", p, 1, T), SMARTRETRY_INVALID_ARGUMENT);
    char long_id[300];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    FAILS(smartretry_retry_schedule_add(s, long_id, p, 1, T), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_retry_schedule_add(s, "j", NULL, 5, T), SMARTRETRY_NULL_ARGUMENT);
    /* Refused from the length alone: the bytes are never read. */
    FAILS(smartretry_retry_schedule_add(s, "j", p, (size_t)1 << 40, T),
          SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_retry_schedule_add(s, "j", p, 1, 0.0 / 0.0), SMARTRETRY_INVALID_DURATION);
    FAILS(smartretry_retry_schedule_add(s, "j", p, 1, -1), SMARTRETRY_INVALID_DURATION);
    FAILS(smartretry_retry_schedule_add(s, "j", p, 1, 1e300), SMARTRETRY_INVALID_DURATION);

    smartretry_claims *c = NULL;
    FAILS(smartretry_retry_schedule_claim_due(s, T, 10, 0, &c), SMARTRETRY_INVALID_ARGUMENT);
    FAILS(smartretry_retry_schedule_claim_due(s, T, 10, 1.0 / 0.0, &c),
          SMARTRETRY_INVALID_DURATION);
    FAILS(smartretry_retry_schedule_claim_due(s, -5, 10, 30, &c), SMARTRETRY_INVALID_DURATION);
    FAILS(smartretry_retry_schedule_claim_due(s, T, 10, 30, NULL), SMARTRETRY_NULL_ARGUMENT);
    CHECK(c == NULL);
    FAILS(smartretry_retry_schedule_ack(s, NULL, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_retry_schedule_nack(s, "j", 0.0 / 0.0, NULL), SMARTRETRY_INVALID_DURATION);
    FAILS(smartretry_retry_schedule_len(s, NULL), SMARTRETRY_NULL_ARGUMENT);
    size_t n = 0;
    FAILS(smartretry_claims_len(NULL, &n), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_claims_len((const smartretry_claims *)s, &n), SMARTRETRY_INVALID_HANDLE);
    OK(smartretry_claims_free(NULL));
    OK(smartretry_retry_schedule_free(NULL));
    /* Nothing was stored by any of these. */
    OK(smartretry_retry_schedule_len(s, &n));
    CHECK(n == 0);
    CHECK(strcmp(smartretry_status_name(SMARTRETRY_SCHEDULE_STORAGE), "SCHEDULE_STORAGE") == 0);
}

static void remove_db(const char *path) {
    char side[600];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static void sqlite_backend(const char *dir, smartretry_engine *e) {
    char path[512], corrupt[512];
    snprintf(path, sizeof path, "%s/retries.db", dir);
    smartretry_retry_schedule *s = NULL;
    OK(smartretry_retry_schedule_open(path, NULL, &s));
    bad_arguments(s, e);
    scenario(s);
    recommended(s, e, 503, true);
    recommended(s, e, 404, false);
    concurrent_claims(s, path, NULL);

    /* Durable: a second handle on the same file (another worker) sees what the first stored. */
    OK(smartretry_retry_schedule_add(s, "kept", (const uint8_t *)"k", 1, T));
    OK(smartretry_retry_schedule_free(s));
    FAILS(smartretry_retry_schedule_free(s), SMARTRETRY_INVALID_HANDLE);
    smartretry_retry_schedule *again = NULL;
    OK(smartretry_retry_schedule_open(path, "ignored-for-sqlite", &again));
    size_t n = 0;
    smartretry_claims *c = claim(again, T, 30, &n);
    CHECK(n == 1);
    if (n == 1) {
        expect_claim(c, 0, "kept", "k", 1, T + 30);
    }
    OK(smartretry_claims_free(c));
    OK(smartretry_retry_schedule_free(again));
    remove_db(path);

    /* A file that is not a database is a storage error, not a crash. */
    snprintf(corrupt, sizeof corrupt, "%s/corrupt.db", dir);
    FILE *f = fopen(corrupt, "wb");
    CHECK(f != NULL);
    if (f) {
        for (int i = 0; i < 4096; i++) {
            fputc((i * 7919) & 0xff, f);
        }
        fclose(f);
    }
    smartretry_retry_schedule *bad = NULL;
    FAILS(smartretry_retry_schedule_open(corrupt, NULL, &bad), SMARTRETRY_SCHEDULE_STORAGE);
    CHECK(bad == NULL);
    remove_db(corrupt);
}

static void redis_backend(const char *url, smartretry_engine *e) {
    /* A namespace of this process's own: the suite runs this test several times on one server. */
    char ns[64];
    snprintf(ns, sizeof ns, "c-schedule-%ld", (long)getpid());
    smartretry_retry_schedule *s = NULL;
    OK(smartretry_retry_schedule_open(url, ns, &s));
    scenario(s);
    recommended(s, e, 503, true);
    concurrent_claims(s, url, ns);
    OK(smartretry_retry_schedule_free(s));

    /* Unreachable: opening is lazy, every call that needs Redis is a storage error. */
    smartretry_retry_schedule *down = NULL;
    OK(smartretry_retry_schedule_open("redis://127.0.0.1:1", NULL, &down));
    FAILS(smartretry_retry_schedule_add(down, "j", NULL, 0, T), SMARTRETRY_SCHEDULE_STORAGE);
    smartretry_claims *c = NULL;
    FAILS(smartretry_retry_schedule_claim_due(down, T, 1, 30, &c), SMARTRETRY_SCHEDULE_STORAGE);
    CHECK(c == NULL);
    FAILS(smartretry_retry_schedule_ack(down, "j", NULL), SMARTRETRY_SCHEDULE_STORAGE);
    OK(smartretry_retry_schedule_free(down));
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : getenv("SMARTRETRY_TEST_REDIS_URL");
    if (url == NULL) {
        fprintf(stderr, "usage: %s redis://host:port (or set SMARTRETRY_TEST_REDIS_URL)\n",
                argv[0]);
        return 2;
    }
    char dir[] = "/tmp/smartretry-schedule-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    size_t live_before = 0, live_after = 0;
    OK(smartretry_live_handles(&live_before));

    smartretry_clock *clock = NULL;
    smartretry_engine *e = NULL;
    OK(smartretry_clock_new_manual(T, &clock));
    OK(smartretry_engine_new_from_json("{}", clock, &e));
    sqlite_backend(dir, e);
    redis_backend(url, e);
    OK(smartretry_engine_free(e));
    OK(smartretry_clock_free(clock));

    OK(smartretry_live_handles(&live_after));
    CHECK(live_after == live_before);
    rmdir(dir);
    return report("schedule");
}
