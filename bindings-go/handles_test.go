package smartretry

import (
	"context"
	"errors"
	"runtime"
	"testing"
)

// Handles are ids that reuse slots with growing generations. They carry bit 63, so however
// often a slot is reused, no id ever looks like a pointer into Go's heap while the garbage
// collector scans the pointer-typed variables and struct fields that hold them.
func TestHandleSlotReuseSurvivesGC(t *testing.T) {
	e := newEngine(t)
	for i := 0; i < 3000; i++ {
		calls := 0
		err := e.Do(context.Background(), func() error {
			calls++
			if calls == 1 {
				return Fail(errors.New("unavailable"), Failure{HTTPStatus: 503})
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if i%100 == 0 {
			runtime.GC()
		}
	}
}
