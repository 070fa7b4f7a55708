package smartretry

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// redisURL starts a redis-server of the test's own on a free port (killed when the test ends),
// or uses $SMARTRETRY_TEST_REDIS_URL.
func redisURL(t *testing.T) string {
	t.Helper()
	if url := os.Getenv("SMARTRETRY_TEST_REDIS_URL"); url != "" {
		return url
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server (scripts/test-go.sh installs it): %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Sprintf("redis://127.0.0.1:%d", port)
}

const fleetPolicy = `{"budget":{"kind":"ratio","ratio":0,"min_per_sec":2,"capacity":4}}`

// failOnce: one request that fails with a 503; whether the engine would retry it (the
// episode is then abandoned, so both engines' clocks move only with the test's ticks).
func failOnce(t *testing.T, e *Engine) bool {
	t.Helper()
	ep, err := e.begin("payments", "")
	if err != nil {
		t.Fatal(err)
	}
	defer e.freeEpisode(ep)
	rec, err := e.onFailure(ep, Failure{HTTPStatus: 503})
	if err != nil {
		t.Fatal(err)
	}
	e.abandon(ep)
	return rec.ShouldRetry()
}

func TestFleetSharesOneBudget(t *testing.T) {
	url := redisURL(t)
	a := newEngine(t, WithPolicyJSON(fleetPolicy))
	b := newEngine(t, WithPolicyJSON(fleetPolicy))
	opts := FleetOptions{Namespace: fmt.Sprintf("go-test-%d", time.Now().UnixNano()), ShareBudgets: 2, ShareBreakers: true, Manual: true}
	fa, err := a.AttachFleet(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := b.AttachFleet(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	// Each engine has its own manual clock: advance both together, 100 ms per request.
	retries := 0
	for tick := 0; tick < 100; tick++ {
		if tick%5 == 0 {
			if err := fa.SyncNow(); err != nil {
				t.Fatal(err)
			}
			if err := fb.SyncNow(); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range []*Engine{a, b} {
			if failOnce(t, e) {
				retries++
			}
		}
		a.Advance(100 * time.Millisecond)
		b.Advance(100 * time.Millisecond)
	}
	// 4 tokens + 2 per second over about 10 s, for the two together (each alone would have
	// its own 4 + 20).
	if retries > 25 || retries < 15 {
		t.Fatalf("%d retries allowed, budget about 24", retries)
	}
	s, err := fa.Stats()
	if err != nil || s.Syncs != 20 || s.BudgetRounds == 0 || s.Failures != 0 {
		t.Fatalf("stats %+v %v", s, err)
	}
}

func TestFleetErrors(t *testing.T) {
	e := newEngine(t)
	if _, err := e.AttachFleet("http://nope", FleetOptions{}); err == nil {
		t.Fatal("a bad URL was accepted")
	} else if se := (*Error)(nil); !errors.As(err, &se) || se.Code != "INVALID_CONFIG" {
		t.Fatalf("%v", err)
	}
	if _, err := e.AttachFleet("redis://x", FleetOptions{Namespace: "a:b"}); err == nil {
		t.Fatal("a bad namespace was accepted")
	}
	f, err := e.AttachFleet("redis://127.0.0.1:1", FleetOptions{Manual: true, IOTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SyncNow(); !IsFleetUnavailable(err) {
		t.Fatalf("want FLEET_UNAVAILABLE, got %v", err)
	}
	f.Close()
	if err := f.SyncNow(); !errors.Is(err, errFleetClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
