/* Operator surfaces from C: the attempt history (feature fields, rotation) and the admin
 * endpoint, fetched over a real TCP connection to 127.0.0.1. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

/* 2023-11-14 13:00:00 UTC, a Tuesday. */
static const double T0 = 1699966800.0;

static void one_episode(smartretry_engine *e, smartretry_clock *clock, const char *key) {
    smartretry_episode *ep = NULL;
    smartretry_failure *f = NULL;
    smartretry_recommendation rec = {0};
    OK(smartretry_failure_new(&f));
    OK(smartretry_failure_set_http_status(f, 503));
    OK(smartretry_engine_begin(e, key, NULL, &ep));
    OK(smartretry_episode_set_meta(ep, "invoice", 2048, NULL, 0.25));
    OK(smartretry_engine_on_failure(e, ep, f, &rec));
    OK(smartretry_clock_advance(clock, rec.delay));
    OK(smartretry_recommendation_free(&rec));
    OK(smartretry_episode_set_meta(ep, "invoice", 2048, NULL, -1.0));
    OK(smartretry_engine_on_success(e, ep, NULL));
    OK(smartretry_episode_free(ep));
    OK(smartretry_failure_free(f));
}

static void test_history(void) {
    char dir[] = "/tmp/smartretry-c-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], rotated[280];
    snprintf(path, sizeof path, "%s/history.jsonl", dir);
    snprintf(rotated, sizeof rotated, "%s.1", path);
    smartretry_clock *clock = NULL;
    smartretry_engine *e = NULL;
    OK(smartretry_clock_new_manual(T0, &clock));
    OK(smartretry_engine_new_from_json("{\"seed\":1}", clock, &e));

    FAILS(smartretry_engine_set_history(e, path, "{\"max_bytes\":1}"),
          SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_engine_set_history(e, NULL, NULL), SMARTRETRY_NULL_ARGUMENT);
    FAILS(smartretry_engine_set_history(e, "/nonexistent-dir/h.jsonl", NULL), SMARTRETRY_IO);
    OK(smartretry_engine_set_history(
        e, path, "{\"max_bytes\":4096,\"max_files\":1,\"worker_version\":\"c-7\"}"));
    one_episode(e, clock, "payments");
    OK(smartretry_engine_flush_history(e));
    const char *text = read_file(path);
    CHECK(text != NULL);
    if (text) {
        CHECK(strstr(text, "\"attempt\":1") != NULL);
        CHECK(strstr(text, "\"hour_of_day\":13") != NULL);
        CHECK(strstr(text, "\"day_of_week\":1") != NULL);
        CHECK(strstr(text, "\"payload_size\":2048") != NULL);
        CHECK(strstr(text, "\"worker_version\":\"c-7\"") != NULL);
        CHECK(strstr(text, "\"downstream_latency\":0.25") != NULL);
        CHECK(strstr(text, "\"job_type\":\"invoice\"") != NULL);
    }
    for (int i = 0; i < 40; i++) one_episode(e, clock, "payments");
    OK(smartretry_engine_stop_history(e));
    CHECK(access(rotated, F_OK) == 0);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 0, SEEK_END);
        CHECK(ftell(f) <= 4096);
        fclose(f);
    }

    smartretry_episode *ep = NULL;
    OK(smartretry_engine_begin(e, "q", NULL, &ep));
    FAILS(smartretry_episode_set_meta(ep, "bad\nname", -1, NULL, -1.0), SMARTRETRY_INVALID_KEY);
    FAILS(smartretry_episode_set_meta(ep, NULL, -1, NULL, 1.0 / 0.0),
          SMARTRETRY_INVALID_DURATION);
    FAILS(smartretry_episode_set_meta(NULL, NULL, -1, NULL, -1.0), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_episode_free(ep));
    OK(smartretry_engine_free(e));
    OK(smartretry_clock_free(clock));
    unlink(path);
    unlink(rotated);
    rmdir(dir);
}

/* GET `path` from http://127.0.0.1:port; the whole response in `out`. */
static int http_get(int port, const char *path, char *out, size_t cap) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(s);
        return -1;
    }
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (write(s, req, (size_t)n) != n) {
        close(s);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(s, out + got, cap - 1 - got)) > 0) got += (size_t)r;
    out[got] = 0;
    close(s);
    return (int)got;
}

static void test_admin(void) {
    smartretry_clock *clock = NULL;
    smartretry_engine *e = NULL;
    smartretry_admin *admin = NULL;
    char *url = NULL, *metrics = NULL;
    OK(smartretry_clock_new_manual(T0, &clock));
    OK(smartretry_engine_new_from_json("{\"seed\":1}", clock, &e));
    FAILS(smartretry_admin_start(e, "{\"listen\":\"0.0.0.0:0\"}", &admin),
          SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_admin_start(e, "{\"token\":\"short\"}", &admin), SMARTRETRY_INVALID_CONFIG);
    FAILS(smartretry_admin_start(e, NULL, NULL), SMARTRETRY_NULL_ARGUMENT);
    OK(smartretry_admin_start(e, NULL, &admin));
    OK(smartretry_admin_url(admin, &url));
    CHECK(strncmp(url, "http://127.0.0.1:", 17) == 0);
    int port = atoi(url + 17);
    OK(smartretry_string_free(url));
    for (int i = 0; i < 3; i++) one_episode(e, clock, "payments");

    static char resp[1 << 16];
    CHECK(http_get(port, "/stats", resp, sizeof resp) > 0);
    CHECK(strncmp(resp, "HTTP/1.1 200", 12) == 0);
    CHECK(strstr(resp, "\"episodes\":3") != NULL);
    CHECK(http_get(port, "/metrics", resp, sizeof resp) > 0);
    CHECK(strstr(resp, "smartretry_episodes_total 3") != NULL);
    CHECK(strstr(resp, "smartretry_decisions_total{tier=") != NULL);
    CHECK(http_get(port, "/decisions?limit=1", resp, sizeof resp) > 0);
    CHECK(strstr(resp, "\"key\":\"payments\"") != NULL);

    OK(smartretry_admin_metrics(admin, &metrics));
    CHECK(strstr(metrics, "smartretry_time_to_success_seconds_count 3") != NULL);
    OK(smartretry_string_free(metrics));
    OK(smartretry_admin_free(admin));
    FAILS(smartretry_admin_free(admin), SMARTRETRY_INVALID_HANDLE);
    CHECK(http_get(port, "/stats", resp, sizeof resp) < 0); /* stopped */
    OK(smartretry_engine_free(e));
    OK(smartretry_clock_free(clock));
}

int main(void) {
    test_history();
    test_admin();
    return report("c ops");
}
