package smartretry

// The engine's background plan worker (a thread named "smartretry-plan", started when an engine
// on the system clock first learns) stops when the engine is closed. This process's threads are
// counted by name through /proc (Linux), as the C suite's test_worker.c does.

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// planThreads counts this process's threads named smartretry-plan.
func planThreads(t *testing.T) int {
	t.Helper()
	comms, err := filepath.Glob("/proc/self/task/*/comm")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range comms {
		if b, err := os.ReadFile(c); err == nil && string(b) == "smartretry-plan\n" {
			n++
		}
	}
	return n
}

// planThreadsOnce is planThreads once it is expected, or after five seconds: a thread just
// joined can stay listed in /proc for a moment after the join returns; a worker that really
// outlived its engine is still counted after the wait.
func planThreadsOnce(t *testing.T, expected int) int {
	t.Helper()
	give := time.Now().Add(5 * time.Second)
	for {
		n := planThreads(t)
		if n == expected || time.Now().After(give) {
			return n
		}
		runtime.Gosched()
	}
}

func TestPlanWorkerStopsWithTheEngine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts threads through /proc")
	}
	before := planThreads(t)
	e, err := New() // the system clock: plans are rebuilt by the worker
	if err != nil {
		t.Fatal(err)
	}
	// Enough episodes on a few keys that models are built and their plans asked for.
	for i := 0; i < 300; i++ {
		ep, err := e.Begin(fmt.Sprintf("q%d", i%5), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ep.OnFailure(Failure{HTTPStatus: 503}); err != nil {
			t.Fatal(err)
		}
		if err := ep.OnSuccess(); err != nil {
			t.Fatal(err)
		}
		ep.Close()
	}
	if n := planThreadsOnce(t, before+1); n != before+1 {
		t.Fatalf("%d plan worker threads while the engine learns (%d before it)", n, before)
	}
	e.Close()
	if n := planThreadsOnce(t, before); n != before {
		t.Fatalf("%d plan worker threads after Close (%d before the engine): the worker outlived it", n, before)
	}
	// Reachable until here: the worker stopped because of Close, not because the garbage
	// collector ran the engine's finalizer.
	runtime.KeepAlive(e)
}
