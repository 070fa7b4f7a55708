package smartretry

/*
#include <stdlib.h>
#include "smartretry.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Engine is a retry engine. Safe for concurrent use; call Close when done.
type Engine struct {
	mu     sync.RWMutex // guards the handles against Close during a call
	e      *C.smartretry_engine
	clock  *C.smartretry_clock
	manual bool
	key    string
	tenant string
}

type config struct {
	policyJSON string
	manual     *time.Time
	key        string
	tenant     string
}

// Option configures New.
type Option func(*config)

// WithPolicyJSON sets the policy (a JSON policy file's content; partial, defaults fill the rest).
func WithPolicyJSON(json string) Option { return func(c *config) { c.policyJSON = json } }

// WithManualClock runs the engine on a manual clock starting at start: waits in Do advance that
// clock instead of sleeping (for tests and simulations).
func WithManualClock(start time.Time) Option { return func(c *config) { c.manual = &start } }

// WithKey sets the queue or job-type key (and optionally the tenant) Do uses.
func WithKey(key, tenant string) Option {
	return func(c *config) { c.key, c.tenant = key, tenant }
}

// New creates an engine.
func New(opts ...Option) (*Engine, error) {
	cfg := config{policyJSON: "{}", key: "default"}
	for _, o := range opts {
		o(&cfg)
	}
	eng := &Engine{key: cfg.key, tenant: cfg.tenant}
	var err error
	if cfg.manual != nil {
		start := float64(cfg.manual.UnixNano()) / 1e9
		err = call(func() C.smartretry_status { return C.smartretry_clock_new_manual(C.double(start), &eng.clock) })
		eng.manual = true
	} else {
		err = call(func() C.smartretry_status { return C.smartretry_clock_new_system(&eng.clock) })
	}
	if err != nil {
		return nil, err
	}
	p, free, err := cstr(cfg.policyJSON)
	if err == nil {
		defer free()
		err = call(func() C.smartretry_status { return C.smartretry_engine_new_from_json(p, eng.clock, &eng.e) })
	}
	if err != nil {
		C.smartretry_clock_free(eng.clock)
		return nil, err
	}
	runtime.SetFinalizer(eng, (*Engine).Close)
	return eng, nil
}

// Close frees the engine. Further calls return an error.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.e != nil {
		C.smartretry_engine_free(e.e)
		C.smartretry_clock_free(e.clock)
		e.e, e.clock = nil, nil
	}
}

var errClosed = errors.New("smartretry: engine is closed")

// with runs f with the engine's handles held open.
func (e *Engine) with(f func() error) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.e == nil {
		return errClosed
	}
	return f()
}

// Advance moves a manual clock forward (an error on the system clock).
func (e *Engine) Advance(d time.Duration) error {
	return e.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_clock_advance(e.clock, C.double(d.Seconds())) })
	})
}

// Now is the engine's clock reading.
func (e *Engine) Now() (time.Time, error) {
	var s C.double
	err := e.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_engine_now(e.e, &s) })
	})
	return time.Unix(0, int64(float64(s)*1e9)), err
}

// Acquire takes the adaptive rate limiter's token for a call on key (policy "rate_limit") and
// says how long to wait before making it: 0 until the key has been throttled. Do calls it before
// every attempt; the token is taken either way.
func (e *Engine) Acquire(key string) (time.Duration, error) {
	var s C.double
	err := e.with(func() error {
		k, free, err := cstr(key)
		if err != nil {
			return err
		}
		defer free()
		return call(func() C.smartretry_status { return C.smartretry_engine_acquire(e.e, k, nil, &s) })
	})
	return time.Duration(float64(s) * 1e9), err
}

// Classify names the error class of a failure with the engine's rules.
func (e *Engine) Classify(f Failure) (string, error) {
	var class C.smartretry_class
	err := e.with(func() error {
		h, err := f.toC()
		if err != nil {
			return err
		}
		defer C.smartretry_failure_free(h)
		return call(func() C.smartretry_status { return C.smartretry_engine_classify(e.e, h, &class, nil) })
	})
	if err != nil {
		return "", err
	}
	return C.GoString(C.smartretry_class_name(class)), nil
}

// Preview is the schedule a failure would get if every attempt failed (up to steps decisions),
// executing and changing nothing.
func (e *Engine) Preview(key, tenant string, f Failure, steps int) ([]Recommendation, error) {
	var out []Recommendation
	err := e.with(func() error {
		h, err := f.toC()
		if err != nil {
			return err
		}
		defer C.smartretry_failure_free(h)
		k, t, freeKT, err := keyTenant(key, tenant)
		if err != nil {
			return err
		}
		defer freeKT()
		var s *C.smartretry_schedule
		if err := call(func() C.smartretry_status {
			return C.smartretry_engine_preview(e.e, k, t, h, C.size_t(steps), &s)
		}); err != nil {
			return err
		}
		defer C.smartretry_schedule_free(s)
		var n C.size_t
		if err := call(func() C.smartretry_status { return C.smartretry_schedule_len(s, &n) }); err != nil {
			return err
		}
		for i := C.size_t(0); i < n; i++ {
			var rec C.smartretry_recommendation
			if err := call(func() C.smartretry_status { return C.smartretry_schedule_get(s, i, &rec) }); err != nil {
				return err
			}
			r, err := fromC(&rec)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// StatsJSON is the engine's counters as JSON (see smartretry_engine_stats_json).
func (e *Engine) StatsJSON() (string, error) {
	var s *C.char
	err := e.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_engine_stats_json(e.e, &s) })
	})
	if err != nil {
		return "", err
	}
	return takeString(s), nil
}

// Counts returns the failures and successes the engine has recorded.
func (e *Engine) Counts() (failures, successes uint64, err error) {
	var st C.smartretry_stats
	err = e.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_engine_stats(e.e, &st) })
	})
	return uint64(st.failures), uint64(st.successes), err
}

// GiveUpError is returned by Do when the engine says stop: the last error and the reason.
type GiveUpError struct {
	Err            error
	Recommendation Recommendation
}

func (g *GiveUpError) Error() string {
	return fmt.Sprintf("%v (not retried: %s)", g.Err, g.Recommendation.Reason)
}
func (g *GiveUpError) Unwrap() error { return g.Err }
