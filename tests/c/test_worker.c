/* The engine's background plan worker (a thread named "smartretry-plan", started when an engine
 * on the system clock first learns) stops when the engine is freed. Counts this process's
 * threads by name through /proc (Linux). A process that forks never gives its child a model lock
 * held by the worker (the library registers its fork hooks with pthread_atfork itself). */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int plan_threads(void) {
    DIR *dir = opendir("/proc/self/task");
    int n = 0;
    if (!dir) return -1;
    for (struct dirent *e; (e = readdir(dir));) {
        char path[300], name[64] = {0};
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(name, sizeof name, f) && strcmp(name, "smartretry-plan\n") == 0) n++;
        fclose(f);
    }
    closedir(dir);
    return n;
}

/* plan_threads(), once it is `expected` or after five seconds: a thread just joined can stay
 * listed in /proc/self/task for a moment (the join returns when the thread's id is cleared,
 * before the kernel releases its task); a worker that really outlived its engine is still
 * counted after the wait. */
static int plan_threads_once(int expected) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int n = plan_threads();
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (n == expected || now.tv_sec - start.tv_sec >= 5) return n;
        sched_yield();
    }
}

/* `rounds` failures then a success on each of `keys` keys. */
static void learn(smartretry_engine *engine, smartretry_failure *f, int keys, int rounds) {
    for (int i = 0; i < keys * rounds; i++) {
        char key[16];
        smartretry_episode *ep = NULL;
        smartretry_recommendation rec = {0};
        snprintf(key, sizeof key, "q%d", i % keys);
        OK(smartretry_engine_begin(engine, key, NULL, &ep));
        OK(smartretry_engine_on_failure(engine, ep, f, &rec));
        smartretry_recommendation_free(&rec);
        OK(smartretry_engine_on_success(engine, ep, NULL));
        OK(smartretry_episode_free(ep));
    }
}

/* Forks right after bursts of learning, while the worker rebuilds plans. Each child takes every
 * model's lock (one held by the parent's worker would never be let go: the child hangs, is ended
 * by its alarm and counted); each parent goes on learning, so that a worker left paused by the
 * hooks would outlive its engine (counted by the caller). */
static int forked_children_that_failed(smartretry_clock *clock, smartretry_failure *f, int trials) {
    int failed = 0;
    for (int trial = 0; trial < trials; trial++) {
        smartretry_engine *engine = NULL;
        OK(smartretry_engine_new(NULL, clock, &engine));
        learn(engine, f, 5, 60);
        pid_t child = fork();
        if (child == 0) {
            alarm(10);
            learn(engine, f, 5, 2);
            _exit(checks_failed == 0 ? 0 : 1);
        }
        int status = 0;
        CHECK(child > 0 && waitpid(child, &status, 0) == child);
        failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        learn(engine, f, 5, 20);
        OK(smartretry_engine_free(engine));
    }
    return failed;
}

int main(void) {
    smartretry_clock *clock = NULL;
    smartretry_engine *engine = NULL;
    smartretry_failure *f = NULL;
    OK(smartretry_clock_new_system(&clock));
    OK(smartretry_engine_new(NULL, clock, &engine));
    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_http_status(f, 503));
    CHECK(plan_threads_once(0) == 0);
    for (int i = 0; i < 300; i++) {
        char key[16];
        smartretry_episode *ep = NULL;
        smartretry_recommendation rec = {0};
        snprintf(key, sizeof key, "q%d", i % 5);
        OK(smartretry_engine_begin(engine, key, NULL, &ep));
        OK(smartretry_engine_on_failure(engine, ep, f, &rec));
        smartretry_recommendation_free(&rec);
        OK(smartretry_engine_on_success(engine, ep, NULL));
        OK(smartretry_episode_free(ep));
    }
    CHECK(plan_threads_once(1) == 1);
    OK(smartretry_engine_free(engine));
    CHECK(plan_threads_once(0) == 0);

    /* No pthread_atfork here: the library registered its hooks when the first engine was made. */
    /* Fewer under valgrind, which runs this some fifty times slower. */
    const char *trials_env = getenv("SMARTRETRY_TEST_FORKS");
    int trials = trials_env ? atoi(trials_env) : 100;
    int failed = forked_children_that_failed(clock, f, trials);
    if (failed) fprintf(stderr, "%d of %d forked children hung or failed\n", failed, trials);
    CHECK(failed == 0);
    /* A program that also registers the exported hooks itself (as older advice said): the
     * hooks then run twice around each fork, and only the outer call may do the work (a nested
     * one waiting for what the outer holds would hang the fork; the alarm ends this test then). */
    if (trials > 0) {
        CHECK(pthread_atfork(smartretry_fork_prepare, smartretry_fork_parent, smartretry_fork_child) == 0);
        alarm(60);
        failed = forked_children_that_failed(clock, f, 20);
        alarm(0);
        CHECK(failed == 0);
    }
    CHECK(plan_threads_once(0) == 0);
    smartretry_failure_free(f);
    smartretry_clock_free(clock);
    return report("worker");
}
