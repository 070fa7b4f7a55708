/* The fleet store through the C ABI, against a real redis-server whose URL is argv[1] or
 * $SMARTRETRY_TEST_REDIS_URL (scripts/test-c.sh starts one on a free port): two engines on a manual clock share one retry
 * budget and their open breakers; bad arguments and an unreachable Redis are status codes; a
 * forked child joins the fleet as a member of its own (the library registers its fork hooks).
 * Runs under valgrind (without the fork: SMARTRETRY_TEST_FORKS=0) and the sanitizers. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static const char *POLICY =
    "{\"budget\":{\"kind\":\"ratio\",\"ratio\":0,\"min_per_sec\":2,\"capacity\":4},"
    "\"breaker\":{\"consecutive_failures\":2,\"open_for\":30}}";

/* One request on `key` that fails once (to `dependency`); then, with `clock`, one that
 * succeeds a second later, or else it is abandoned. 1 if the engine would retry it. */
static int request(smartretry_engine *e, const char *key, const char *dependency,
                   smartretry_clock *clock) {
    smartretry_episode *ep = NULL;
    smartretry_failure *f = NULL;
    smartretry_recommendation rec;
    memset(&rec, 0, sizeof rec);
    OK(smartretry_engine_begin(e, key, NULL, &ep));
    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_http_status(f, 503));
    if (dependency) {
        OK(smartretry_failure_set_dependency(f, dependency));
    }
    OK(smartretry_engine_on_failure(e, ep, f, &rec));
    int retry = rec.action == SMARTRETRY_ACTION_RETRY;
    if (clock) {
        OK(smartretry_clock_advance(clock, 1.0));
        OK(smartretry_engine_on_success(e, ep, NULL));
    } else {
        OK(smartretry_engine_abandon(e, ep));
    }
    OK(smartretry_recommendation_free(&rec));
    OK(smartretry_failure_free(f));
    OK(smartretry_episode_free(ep));
    return retry;
}

/* One failing request on `e` (to `dependency`), abandoned: 1 if the engine would retry it. */
static int fail_once(smartretry_engine *e, const char *dependency) {
    return request(e, "payments", dependency, NULL);
}

/* `n` requests on `e` that fail once, then succeed. */
static void recover(smartretry_engine *e, smartretry_clock *clock, int n) {
    for (int i = 0; i < n; i++) {
        request(e, "orders", NULL, clock);
    }
}

/* A process that forks after attaching: the child syncs as another member of the fleet (its
 * own id), so parent and child each see one peer. */
static void forked_child_joins(const char *url, smartretry_clock *clock) {
    smartretry_engine *e = NULL;
    smartretry_fleet *fleet = NULL;
    char options[200];
    snprintf(options, sizeof options, "{\"namespace\":\"c-fork-%ld\",\"background\":false}",
             (long)getpid());
    OK(smartretry_engine_new(NULL, clock, &e));
    OK(smartretry_fleet_attach(e, url, options, &fleet));
    recover(e, clock, 4);
    OK(smartretry_fleet_sync_now(fleet));
    /* The fork hooks: registered by the library itself when the first engine was made. */
    pid_t child = fork();
    if (child == 0) {
        recover(e, clock, 6);
        smartretry_fleet_counters c;
        int ok = smartretry_fleet_sync_now(fleet) == SMARTRETRY_OK &&
                 smartretry_fleet_stats(fleet, &c) == SMARTRETRY_OK && c.syncs == 1 && c.peers == 1;
        _exit(ok && checks_failed == 0 ? 0 : 1);
    }
    int status = 0;
    CHECK(child > 0 && waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    OK(smartretry_fleet_sync_now(fleet));
    smartretry_fleet_counters p;
    OK(smartretry_fleet_stats(fleet, &p));
    CHECK(p.peers == 1 && p.failures == 0);
    OK(smartretry_fleet_free(fleet));
    OK(smartretry_engine_free(e));
}

static void bad_arguments(smartretry_engine *e, const char *url) {
    smartretry_fleet *fleet = NULL;
    FAILS(smartretry_fleet_attach(e, NULL, NULL, &fleet), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_fleet_attach(e, url, NULL, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_fleet_attach(NULL, url, NULL, &fleet), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_fleet_attach(e, "http://nope", NULL, &fleet), SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_fleet_attach(e, url, "{\"nope\":1}", &fleet), SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_fleet_attach(e, url, "{\"namespace\":\"a:b\"}", &fleet),
          SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_fleet_attach(e, "redis://\xff\xfe", NULL, &fleet), SMARTRETRY_INVALID_UTF8);
    CHECK(fleet == NULL);
    FAILS(smartretry_fleet_sync_now(NULL), SMARTRETRY_NULL_ARGUMENT);
    smartretry_fleet_counters stats;
    FAILS(smartretry_fleet_stats(NULL, &stats), SMARTRETRY_NULL_ARGUMENT);
    /* A handle of another type is refused. */
    FAILS(smartretry_fleet_sync_now((const smartretry_fleet *)e), SMARTRETRY_INVALID_HANDLE);
    OK(smartretry_fleet_free(NULL));
    CHECK(strcmp(smartretry_status_name(SMARTRETRY_FLEET_UNAVAILABLE), "FLEET_UNAVAILABLE") == 0);
}

static void unreachable(smartretry_engine *e) {
    smartretry_fleet *fleet = NULL;
    OK(smartretry_fleet_attach(e, "redis://127.0.0.1:1",
                               "{\"background\":false,\"io_timeout\":0.2}", &fleet));
    FAILS(smartretry_fleet_sync_now(fleet), SMARTRETRY_FLEET_UNAVAILABLE);
    smartretry_fleet_counters stats;
    OK(smartretry_fleet_stats(fleet, &stats));
    CHECK(stats.failures == 1 && stats.syncs == 0);
    /* The engine goes on deciding alone. */
    CHECK(fail_once(e, NULL) == 1);
    OK(smartretry_fleet_free(fleet));
    FAILS(smartretry_fleet_free(fleet), SMARTRETRY_INVALID_HANDLE);
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : getenv("SMARTRETRY_TEST_REDIS_URL");
    if (url == NULL) {
        fprintf(stderr, "usage: %s redis://host:port (or set SMARTRETRY_TEST_REDIS_URL)\n",
                argv[0]);
        return 2;
    }
    size_t live_before = 0, live_after = 0;
    OK(smartretry_live_handles(&live_before));

    smartretry_clock *clock = NULL;
    smartretry_engine *a = NULL, *b = NULL, *alone = NULL;
    OK(smartretry_clock_new_manual(1700000000.0, &clock));
    OK(smartretry_engine_new_from_json(POLICY, clock, &a));
    OK(smartretry_engine_new_from_json(POLICY, clock, &b));
    OK(smartretry_engine_new_from_json(POLICY, clock, &alone));
    bad_arguments(a, url);
    unreachable(alone);
    const char *forks = getenv("SMARTRETRY_TEST_FORKS");
    if (!(forks && atoi(forks) == 0)) {
        forked_child_joins(url, clock);
    }

    /* A namespace of this process's own: the suite runs this test several times on one server. */
    char options[200];
    snprintf(options, sizeof options,
             "{\"namespace\":\"c-test-%ld\",\"background\":false,\"share_budgets\":2,"
             "\"share_breakers\":true}",
             (long)getpid());
    smartretry_fleet *fa = NULL, *fb = NULL;
    OK(smartretry_fleet_attach(a, url, options, &fa));
    OK(smartretry_fleet_attach(b, url, options, &fb));

    /* 20 s, a failing request on each engine every 100 ms, syncs every 500 ms: the two share
     * one budget of 4 tokens refilled at 2 per second (44 retries in 20 s). */
    int retries = 0;
    for (int tick = 0; tick < 200; tick++) {
        if (tick % 5 == 0) {
            OK(smartretry_fleet_sync_now(fa));
            OK(smartretry_fleet_sync_now(fb));
        }
        retries += fail_once(a, NULL) + fail_once(b, NULL);
        OK(smartretry_clock_advance(clock, 0.1));
    }
    printf("fleet: %d retries allowed in 20 s (budget 44)\n", retries);
    CHECK(retries <= 44 + 1);
    CHECK(retries >= 35);

    /* An open breaker on one engine opens the other's. */
    fail_once(a, "db");
    fail_once(a, "db");
    OK(smartretry_fleet_sync_now(fa));
    OK(smartretry_fleet_sync_now(fb));
    smartretry_fleet_counters sa, sb;
    OK(smartretry_fleet_stats(fa, &sa));
    OK(smartretry_fleet_stats(fb, &sb));
    CHECK(sa.failures == 0 && sb.failures == 0);
    CHECK(sa.syncs == 41 && sa.budget_rounds > 0);
    CHECK(sb.breakers_opened == 1 && sa.breakers_opened == 0);
    CHECK(sb.peers == 1);

    OK(smartretry_fleet_free(fa));
    OK(smartretry_fleet_free(fb));
    OK(smartretry_engine_free(a));
    OK(smartretry_engine_free(b));
    OK(smartretry_engine_free(alone));
    OK(smartretry_clock_free(clock));
    OK(smartretry_live_handles(&live_after));
    CHECK(live_after == live_before);
    return report("fleet");
}
