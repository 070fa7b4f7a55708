package smartretry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openSchedule(t *testing.T, location, namespace string) *Schedule {
	t.Helper()
	s, err := OpenSchedule(location, namespace)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func mustClaim(t *testing.T, s *Schedule, now time.Time, lease time.Duration) []Claim {
	t.Helper()
	claims, err := s.ClaimDue(now, 10, lease)
	if err != nil {
		t.Fatal(err)
	}
	return claims
}

func expectClaims(t *testing.T, got []Claim, want ...Claim) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("claimed %d, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.JobID != w.JobID || string(g.Payload) != string(w.Payload) ||
			g.Deliveries != w.Deliveries || !g.LeaseUntil.Equal(w.LeaseUntil) {
			t.Fatalf("claim %d: got %+v, want %+v", i, g, w)
		}
	}
}

func expectBool(t *testing.T, what string, got bool, err error, want bool) {
	t.Helper()
	if err != nil || got != want {
		t.Fatalf("%s: got %v (%v), want %v", what, got, err, want)
	}
}

// scheduleScenario: at least once with explicit times (no sleeping), the same on every backend.
func scheduleScenario(t *testing.T, s *Schedule) {
	at := func(secs int) time.Time { return start.Add(time.Duration(secs) * time.Second) }
	for _, j := range []struct {
		id, payload string
		due         int
	}{{"job-1", "one", 10}, {"job-2", "two", 5}, {"job-3", "", 100}} {
		if err := s.Add(j.id, []byte(j.payload), at(j.due)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Len(); err != nil || n != 3 {
		t.Fatalf("len %d %v", n, err)
	}
	expectClaims(t, mustClaim(t, s, at(0), 30*time.Second))
	expectClaims(t, mustClaim(t, s, at(20), 30*time.Second),
		Claim{"job-2", []byte("two"), 1, at(50)}, Claim{"job-1", []byte("one"), 1, at(50)})
	// Leased: nobody else gets them.
	expectClaims(t, mustClaim(t, s, at(21), 30*time.Second))

	ok, err := s.Ack("job-2")
	expectBool(t, "ack", ok, err, true)
	ok, err = s.Ack("job-2")
	expectBool(t, "second ack", ok, err, false)
	ok, err = s.Nack("job-1", at(60))
	expectBool(t, "nack", ok, err, true)
	ok, err = s.Nack("nope", at(60))
	expectBool(t, "nack unknown", ok, err, false)
	expectClaims(t, mustClaim(t, s, at(55), 30*time.Second))
	expectClaims(t, mustClaim(t, s, at(60), 30*time.Second), Claim{"job-1", []byte("one"), 2, at(90)})

	// The worker holding job-1 dies: it comes back once its lease has run out, not before.
	expectClaims(t, mustClaim(t, s, at(89), 30*time.Second))
	expectClaims(t, mustClaim(t, s, at(91), 5*time.Second), Claim{"job-1", []byte("one"), 3, at(96)})
	ok, err = s.Ack("job-1")
	expectBool(t, "ack after redelivery", ok, err, true)
	expectClaims(t, mustClaim(t, s, at(100), time.Second), Claim{"job-3", []byte{}, 1, at(101)})
	ok, err = s.Ack("job-3")
	expectBool(t, "ack job-3", ok, err, true)
	if n, err := s.Len(); err != nil || n != 0 {
		t.Fatalf("len %d %v", n, err)
	}
}

// scheduleRecommended stores what the engine recommends for a 503 (due after its delay) and
// nothing for a 404 (no retry).
func scheduleRecommended(t *testing.T, s *Schedule) {
	e := newEngine(t)
	for _, c := range []struct {
		status int
		retry  bool
	}{{503, true}, {404, false}} {
		ep, err := e.begin("payments", "")
		if err != nil {
			t.Fatal(err)
		}
		rec, err := e.onFailure(ep, Failure{HTTPStatus: c.status})
		e.freeEpisode(ep)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := s.AddRecommended("rec-job", []byte("r"), start, rec)
		expectBool(t, fmt.Sprintf("scheduled for %d", c.status), stored, err, c.retry)
		if !c.retry {
			continue
		}
		if rec.Delay <= 0 {
			t.Fatalf("retry with delay %v", rec.Delay)
		}
		expectClaims(t, mustClaim(t, s, start.Add(rec.Delay-10*time.Millisecond), time.Second))
		if got := mustClaim(t, s, start.Add(rec.Delay), time.Second); len(got) != 1 || got[0].JobID != "rec-job" {
			t.Fatalf("claimed %+v", got)
		}
		if _, err := s.Ack("rec-job"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestScheduleSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "retries.db")
	s := openSchedule(t, path, "")
	scheduleScenario(t, s)
	scheduleRecommended(t, s)

	// Durable: another handle on the file (another worker) sees what this one stored.
	if err := s.Add("kept", []byte("k"), start); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Len(); !errors.Is(err, errScheduleClosed) {
		t.Fatalf("after Close: %v", err)
	}
	again := openSchedule(t, path, "")
	expectClaims(t, mustClaim(t, again, start, time.Minute), Claim{"kept", []byte("k"), 1, start.Add(time.Minute)})
}

func TestScheduleRedis(t *testing.T) {
	url := redisURL(t)
	s := openSchedule(t, url, fmt.Sprintf("go-schedule-%d", time.Now().UnixNano()))
	scheduleScenario(t, s)
	scheduleRecommended(t, s)

	down := openSchedule(t, "redis://127.0.0.1:1", "")
	if err := down.Add("j", nil, start); !IsScheduleStorage(err) {
		t.Fatalf("unreachable Redis: want SCHEDULE_STORAGE, got %v", err)
	}
	if _, err := down.ClaimDue(start, 1, time.Second); !IsScheduleStorage(err) {
		t.Fatalf("unreachable Redis: want SCHEDULE_STORAGE, got %v", err)
	}
}

func TestScheduleErrors(t *testing.T) {
	code := func(err error) string {
		var e *Error
		if errors.As(err, &e) {
			return e.Code
		}
		return fmt.Sprint(err)
	}
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.db")
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i * 7919)
	}
	if err := os.WriteFile(corrupt, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ location, namespace, want string }{
		{corrupt, "", "SCHEDULE_STORAGE"},
		{filepath.Join(dir, "missing-dir", "s.db"), "", "SCHEDULE_STORAGE"},
		{"", "", "INVALID_ARGUMENT"},
		{"redis://[::1", "", "INVALID_ARGUMENT"},
		{"redis://127.0.0.1:1", "a:b", "INVALID_ARGUMENT"},
		{"\xff.db", "", "INVALID_UTF8"},
	} {
		_, err := OpenSchedule(c.location, c.namespace)
		if code(err) != c.want {
			t.Errorf("OpenSchedule(%q, %q): want %s, got %v", c.location, c.namespace, c.want, err)
		}
		if c.want == "SCHEDULE_STORAGE" && !IsScheduleStorage(err) {
			t.Errorf("IsScheduleStorage(%v) is false", err)
		}
	}
	if _, err := OpenSchedule("a\x00b", ""); err == nil {
		t.Error("a NUL byte in the location was accepted")
	}

	s := openSchedule(t, filepath.Join(dir, "s.db"), "")
	for _, c := range []struct {
		err  error
		want string
	}{
		{s.Add("", nil, start), "INVALID_ARGUMENT"},
		{s.Add(strings.Repeat("x", 300), nil, start), "INVALID_ARGUMENT"},
		{s.Add("a\x00b", nil, start), "smartretry: string"},
		{s.Add("\xc3\x28", nil, start), "INVALID_UTF8"},
		{s.Add("j", make([]byte, 1<<20+1), start), "INVALID_ARGUMENT"},
		{s.Add("j", nil, time.Unix(-5, 0)), "INVALID_DURATION"},
		{func() error { _, err := s.ClaimDue(start, 1, 0); return err }(), "INVALID_ARGUMENT"},
		{func() error { _, err := s.Nack("j", time.Unix(-5, 0)); return err }(), "INVALID_DURATION"},
	} {
		if got := code(c.err); len(got) < len(c.want) || got[:len(c.want)] != c.want {
			t.Errorf("want %s, got %v", c.want, c.err)
		}
	}
	if _, err := s.ClaimDue(start, -1, time.Second); err == nil {
		t.Error("a negative limit was accepted")
	}
	if n, err := s.Len(); err != nil || n != 0 {
		t.Fatalf("bad input stored something: %d %v", n, err)
	}
}
