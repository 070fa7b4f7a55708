package smartretry

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The model-file fixtures shared by every binding's tests (tests/fixtures/README.md).
func fixture(name string) string { return filepath.Join("..", "tests", "fixtures", "learned", name) }

// 2023-11-14, a Tuesday, at h hours UTC.
func atHour(h float64) time.Time {
	return time.Unix(1_699_920_000, 0).Add(time.Duration(h * float64(time.Hour)))
}

func errCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// The window model at "full": a 503 at 02:05 UTC waits until 02:20 and says why; a damaged file
// is INVALID_MODEL and the model stays; no mode but "off" without a model.
func TestLearnedWindowModel(t *testing.T) {
	e := newEngine(t, WithManualClock(atHour(2+5.0/60)),
		WithPolicyJSON(`{"classes":{"unavailable":{"max_delay":3600}}}`))
	if err := e.SetRollout("db", "full"); !IsInvalidState(err) {
		t.Fatalf("full without a model: %v", err)
	}
	if err := e.LoadModel("db", fixture("window.srm")); err != nil {
		t.Fatal(err)
	}
	err := e.LoadModel("db", fixture("damaged.srm"))
	var se *Error
	if !IsInvalidModel(err) || !errors.As(err, &se) || se.Status != 14 {
		t.Fatalf("damaged model: %v", err)
	}
	if err := e.SetRollout("db", "canary:2"); errCode(err) != "INVALID_CONFIG" {
		t.Fatalf("canary:2: %v", err)
	}
	if err := e.SetRollout("db", "full"); err != nil {
		t.Fatal(err)
	}
	ep, err := e.BeginWithContext("db", "", AttemptContext{QueueDepth: Ptr[uint64](40)})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	rec, err := ep.OnFailure(Failure{HTTPStatus: 503})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Tier != "learned" || math.Abs(rec.Delay.Seconds()-900) > 0.01 {
		t.Fatalf("tier %s, delay %v: %s", rec.Tier, rec.Delay, rec.Text)
	}
	if !strings.Contains(rec.Reason, "time_of_day=02:20") {
		t.Fatalf("reason: %s", rec.Reason)
	}
	stats, err := e.LearnedStats()
	if err != nil || stats.Decisions != 1 {
		t.Fatalf("stats %+v %v", stats, err)
	}
	st, err := e.RolloutStatus("db")
	if err != nil || st == nil || st.Mode.String() != "full" || !st.ModelLoaded {
		t.Fatalf("status %+v %v", st, err)
	}
	if st, err := e.RolloutStatus("elsewhere"); st != nil || err != nil {
		t.Fatalf("a queue without state: %+v %v", st, err)
	}
	if _, err := e.PromoteRollout("db"); !IsInvalidState(err) {
		t.Fatalf("promote without evidence: %v", err)
	}
	if err := e.RollbackRollout("db"); err != nil {
		t.Fatal(err)
	}
	all, err := e.Rollouts()
	if err != nil || len(all) != 1 || all[0].Mode.Mode != "off" {
		t.Fatalf("rollouts %+v %v", all, err)
	}
	// Unloaded at full: the decision falls back, counted.
	if err := e.SetRollout("db", "full"); err != nil {
		t.Fatal(err)
	}
	if err := e.UnloadModel("db"); err != nil {
		t.Fatal(err)
	}
	ep2, err := e.Begin("db", "")
	if err != nil {
		t.Fatal(err)
	}
	defer ep2.Close()
	if rec, err := ep2.OnFailure(Failure{HTTPStatus: 503}); err != nil || rec.Tier == "learned" {
		t.Fatalf("after unload: %+v %v", rec, err)
	}
	if stats, _ := e.LearnedStats(); stats.Fallbacks != 1 {
		t.Fatalf("fallbacks: %+v", stats)
	}
}

// The boosted fixture (the window model plus one tree on the queue depth, format 2) loads through
// the same call, and its tree moves the wait: a deep queue waits far longer, and says "trees".
func TestLearnedBoostedModel(t *testing.T) {
	e := newEngine(t, WithManualClock(atHour(13)),
		WithPolicyJSON(`{"classes":{"unavailable":{"max_delay":3600}}}`))
	if err := e.LoadModel("db", fixture("boosted.srm")); err != nil {
		t.Fatal(err)
	}
	if err := e.SetRollout("db", "full"); err != nil {
		t.Fatal(err)
	}
	at := func(depth uint64) Recommendation {
		ep, err := e.BeginWithContext("db", "", AttemptContext{QueueDepth: Ptr(depth)})
		if err != nil {
			t.Fatal(err)
		}
		defer ep.Close()
		rec, err := ep.OnFailure(Failure{HTTPStatus: 503})
		if err != nil || rec.Tier != "learned" {
			t.Fatalf("depth %d: %+v %v", depth, rec, err)
		}
		return rec
	}
	shallow, deep := at(20), at(5000)
	if shallow.Delay.Seconds() >= 1 {
		t.Fatalf("shallow: %s", shallow.Text)
	}
	if deep.Delay.Seconds() <= 30*math.Max(shallow.Delay.Seconds(), 0.01) {
		t.Fatalf("deep %v vs shallow %v: %s", deep.Delay, shallow.Delay, deep.Text)
	}
	if !strings.Contains(deep.Reason, "trees") {
		t.Fatalf("reason: %s", deep.Reason)
	}
}

// Jobs whose dependency recovers 2 s after the first failure, one every 10 minutes.
func runJobs(t *testing.T, e *Engine, queue string, jobs int) {
	t.Helper()
	for j := 0; j < jobs; j++ {
		if err := e.Advance(10 * time.Minute); err != nil {
			t.Fatal(err)
		}
		start, _ := e.Now()
		ep, err := e.Begin(queue, "")
		if err != nil {
			t.Fatal(err)
		}
		for attempts := 0; ; attempts++ {
			now, _ := e.Now()
			if now.Sub(start) >= 2*time.Second && attempts > 0 {
				if err := ep.OnSuccess(); err != nil {
					t.Fatal(err)
				}
				break
			}
			rec, err := ep.OnFailure(Failure{HTTPStatus: 503})
			if err != nil {
				t.Fatal(err)
			}
			if !rec.ShouldRetry() {
				break
			}
			if err := e.Advance(rec.Delay); err != nil {
				t.Fatal(err)
			}
		}
		ep.Close()
	}
}

// A deliberately bad model at canary:0.5 is rolled back by itself within 80 jobs (the core's
// a_bad_model_is_rolled_back_automatically_within_the_bound, from Go).
func TestLearnedBadModelIsRolledBackAutomatically(t *testing.T) {
	e := newEngine(t, WithManualClock(atHour(9)), WithPolicyJSON(`{"seed":7}`))
	if err := e.SetRolloutConfig("q", RolloutConfig{MinEpisodes: Ptr[uint32](1)}); errCode(err) != "INVALID_CONFIG" {
		t.Fatalf("min_episodes 1: %v", err)
	}
	cfg := RolloutConfig{MinEpisodes: Ptr[uint32](20), RollbackRegression: Ptr(0.2)}
	if err := e.SetRolloutConfig("q", cfg); err != nil {
		t.Fatal(err)
	}
	if err := e.LoadModel("q", fixture("bad.srm")); err != nil {
		t.Fatal(err)
	}
	if err := e.SetRollout("q", "canary:0.5"); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.RolloutStatus("q"); st.Mode.String() != "canary:0.5" {
		t.Fatalf("mode %v", st.Mode)
	}
	rolledBackAfter := 0
	for round := 1; round <= 40 && rolledBackAfter == 0; round++ {
		runJobs(t, e, "q", 5)
		if st, err := e.RolloutStatus("q"); err != nil {
			t.Fatal(err)
		} else if st.Mode.Mode == "off" {
			rolledBackAfter = round * 5
		}
	}
	if rolledBackAfter == 0 || rolledBackAfter > 80 {
		t.Fatalf("rolled back after %d jobs (0: never)", rolledBackAfter)
	}
	st, _ := e.RolloutStatus("q")
	if st.LastChange != "automatic rollback" || st.Verdict == "" {
		t.Fatalf("status %+v", st)
	}
	if stats, _ := e.LearnedStats(); stats.Rollbacks != 1 || stats.Decisions == 0 {
		t.Fatalf("stats %+v", stats)
	}
}

// Bad contexts are typed errors (no episode, the old context kept); good ones are recorded with
// each attempt in the history.
func TestAttemptContext(t *testing.T) {
	e := newEngine(t, WithManualClock(atHour(13)))
	path := filepath.Join(t.TempDir(), "history.jsonl")
	if err := e.SetHistory(path, ""); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		ctx  AttemptContext
		code string
	}{
		{AttemptContext{DownstreamLatency: Ptr(-time.Second)}, "INVALID_DURATION"},
		{AttemptContext{DownstreamLatency: Ptr(25 * time.Hour)}, "INVALID_DURATION"},
		{AttemptContext{HourOfDay: Ptr(24.0)}, "INVALID_CONFIG"},
		{AttemptContext{HourOfDay: Ptr(math.NaN())}, "INVALID_CONFIG"},
		{AttemptContext{DayOfWeek: Ptr(7)}, "INVALID_CONFIG"},
		{AttemptContext{DayOfWeek: Ptr(-1)}, "INVALID_CONFIG"},
		{AttemptContext{WorkerVersion: "w\x01"}, "INVALID_KEY"},
		{AttemptContext{WorkerVersion: "\xff"}, "INVALID_UTF8"},
	}
	for _, b := range bad {
		ep, err := e.BeginWithContext("reports", "", b.ctx)
		if ep != nil || errCode(err) != b.code {
			t.Errorf("%+v: %v (want %s)", b.ctx, err, b.code)
		}
	}
	ctx := AttemptContext{
		QueueDepth:        Ptr[uint64](120),
		PayloadSize:       Ptr[uint64](4096),
		DownstreamLatency: Ptr(350 * time.Millisecond),
		WorkerVersion:     "w-2",
	}
	ep, err := e.BeginWithContext("reports", "acme", ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ep.OnFailure(Failure{HTTPStatus: 503})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Advance(rec.Delay); err != nil {
		t.Fatal(err)
	}
	if err := ep.SetContext(AttemptContext{QueueDepth: Ptr[uint64](1), Tenant: "bad\ttenant"}); errCode(err) != "INVALID_KEY" {
		t.Fatalf("bad tenant: %v", err)
	}
	ctx.QueueDepth = Ptr[uint64](80)
	if err := ep.SetContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ep.OnSuccess(); err != nil {
		t.Fatal(err)
	}
	ep.Close()
	ep.Close()
	if err := ep.SetContext(ctx); err == nil {
		t.Fatal("SetContext on a closed episode")
	}
	if err := e.StopHistory(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("history: %q", data)
	}
	for i, want := range []string{`"queue_depth":120`, `"queue_depth":80`} {
		for _, w := range []string{want, `"payload_size":4096`, `"worker_version":"w-2"`, `"hour_of_day":13`} {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d lacks %s: %s", i+1, w, lines[i])
			}
		}
	}
	if !strings.Contains(lines[0], `"downstream_latency":0.35`) {
		t.Errorf("line 1: %s", lines[0])
	}
}
