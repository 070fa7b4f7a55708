package smartretry

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

var start = time.Unix(1_700_000_000, 0)

func newEngine(t *testing.T, opts ...Option) *Engine {
	t.Helper()
	e, err := New(append([]Option{WithManualClock(start)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func TestDoRetriesUntilSuccess(t *testing.T) {
	e := newEngine(t, WithKey("payments", "acme"))
	calls := 0
	var reasons []string
	err := e.DoWith(context.Background(), "payments", "acme", func() error {
		calls++
		if calls < 3 {
			return Fail(errors.New("service unavailable"), Failure{HTTPStatus: 503})
		}
		return nil
	}, func(r Recommendation) { reasons = append(reasons, r.Reason) })
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if calls != 3 || len(reasons) != 2 || reasons[0] == "" {
		t.Fatalf("calls %d, reasons %q", calls, reasons)
	}
	now, _ := e.Now()
	if !now.After(start) {
		t.Fatalf("the manual clock did not advance: %v", now)
	}
	failures, successes, err := e.Counts()
	if err != nil || failures != 2 || successes != 1 {
		t.Fatalf("counts %d %d %v", failures, successes, err)
	}
}

func TestDoGivesUpOnPermanentFailure(t *testing.T) {
	e := newEngine(t)
	base := errors.New("not found")
	calls := 0
	err := e.Do(context.Background(), func() error {
		calls++
		return Fail(base, Failure{HTTPStatus: 404})
	})
	var g *GiveUpError
	if !errors.As(err, &g) || !errors.Is(err, base) || calls != 1 {
		t.Fatalf("err %v, calls %d", err, calls)
	}
	if g.Recommendation.Action != "give_up" || g.Recommendation.Class != "not_found" {
		t.Fatalf("%+v", g.Recommendation)
	}
}

func TestDoHonoursCancellation(t *testing.T) {
	e := newEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := e.Do(ctx, func() error {
		calls++
		cancel() // cancelled while the attempt runs: no further attempt
		return Fail(errors.New("timeout"), Failure{ErrorCode: "ETIMEDOUT"})
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("err %v, calls %d", err, calls)
	}
	if err := e.Do(ctx, func() error { t.Fatal("called after cancel"); return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestDoCancelledDuringRealWait(t *testing.T) {
	e, err := New(WithPolicyJSON(`{"classes":{"unavailable":{"min_delay":3600,"max_delay":3600}}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	attempted := make(chan struct{}, 1)
	go func() {
		done <- e.Do(ctx, func() error {
			attempted <- struct{}{}
			return Fail(errors.New("503"), Failure{HTTPStatus: 503})
		})
	}()
	<-attempted
	cancel() // the hour-long wait that follows is interrupted, never waited out
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestClassifyPreviewAndErrors(t *testing.T) {
	e := newEngine(t)
	if c, err := e.Classify(Failure{HTTPStatus: 429}); err != nil || c != "rate_limited" {
		t.Fatalf("%q %v", c, err)
	}
	if c, err := e.Classify(Failure{HasGRPC: true, GRPCCode: 14}); err != nil || c != "unavailable" {
		t.Fatalf("%q %v", c, err)
	}
	recs, err := e.Preview("orders", "", Failure{HTTPStatus: 503}, 10)
	if err != nil || len(recs) < 2 || recs[len(recs)-1].ShouldRetry() {
		t.Fatalf("%v %v", recs, err)
	}
	if !strings.HasPrefix(recs[0].Text, "retry in") {
		t.Fatalf("%q", recs[0].Text)
	}
	_, err = e.Preview("", "", Failure{HTTPStatus: 503}, 3)
	var se *Error
	if !errors.As(err, &se) || se.Code != "INVALID_KEY" || se.Message == "" {
		t.Fatalf("%v", err)
	}
	if _, err := e.Classify(Failure{Class: "bogus"}); !errors.As(err, &se) || se.Code != "UNKNOWN_CLASS" {
		t.Fatalf("%v", err)
	}
	if _, err := New(WithPolicyJSON("{nope")); !errors.As(err, &se) || se.Code != "INVALID_JSON" {
		t.Fatalf("%v", err)
	}
	if js, err := e.StatsJSON(); err != nil || !strings.Contains(js, "failures") {
		t.Fatalf("%q %v", js, err)
	}
}

func TestConcurrentDo(t *testing.T) {
	e := newEngine(t)
	const workers, jobs = 8, 50
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < jobs; j++ {
				n := 0
				err := e.Do(context.Background(), func() error {
					n++
					if n == 1 {
						return Fail(errors.New("reset"), Failure{ErrorCode: "ECONNRESET"})
					}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	failures, successes, err := e.Counts()
	if err != nil || failures != workers*jobs || successes != workers*jobs {
		t.Fatalf("counts %d %d %v", failures, successes, err)
	}
}

func TestClosedEngine(t *testing.T) {
	e, err := New(WithManualClock(start))
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	e.Close()
	if err := e.Do(context.Background(), func() error { return nil }); !errors.Is(err, errClosed) {
		t.Fatalf("%v", err)
	}
	if Version() == "" {
		t.Fatal("no version")
	}
}

func TestRateLimiterPacesDoAfterAThrottle(t *testing.T) {
	e := newEngine(t, WithPolicyJSON(`{"rate_limit":{},"seed":7}`))
	ctx := context.Background()
	// 60 successful calls, 50 ms apart: no throttle yet, so no wait.
	for i := 0; i < 60; i++ {
		if err := e.DoWith(ctx, "api", "", func() error { return nil }, nil); err != nil {
			t.Fatal(err)
		}
		if err := e.Advance(50 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if w, err := e.Acquire("api"); err != nil || w != 0 {
		t.Fatalf("before any throttle: wait %v, err %v", w, err)
	}
	// One throttle turns the limiter on: a burst of calls is then spread out in time (the
	// retry's wait refilled the bucket, about one second of calls, so the burst is longer).
	throttled := false
	_ = e.DoWith(ctx, "api", "", func() error {
		if !throttled {
			throttled = true
			return Fail(errors.New("slow down"), Failure{HTTPStatus: 429})
		}
		return nil
	}, nil)
	before, _ := e.Now()
	for i := 0; i < 60; i++ {
		if err := e.DoWith(ctx, "api", "", func() error { return nil }, nil); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := e.Now()
	if after.Sub(before) < time.Second {
		t.Fatalf("60 calls after a throttle took %v of the manual clock", after.Sub(before))
	}
	if _, err := e.Acquire("bad\nkey"); err == nil {
		t.Fatal("a key with a control character was accepted")
	}
}
