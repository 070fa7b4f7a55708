package smartretry

/*
#include <stdlib.h>
#include "smartretry.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// FleetOptions configures AttachFleet; zero fields take the library's defaults (namespace
// "default", sync every second or after 256 episodes, 250 ms I/O timeout, a random engine id).
type FleetOptions struct {
	Namespace         string
	SyncInterval      time.Duration
	SyncAfterEpisodes uint64
	IOTimeout         time.Duration
	EngineID          string
	// ShareBudgets > 0 shares the policy's retry budgets with a fleet of about that many
	// processes (each runs alone on 1/ShareBudgets of a budget while Redis is unreachable).
	ShareBudgets uint32
	// ShareBreakers shares open circuit breakers: one engine's open breaker opens the others'
	// until its deadline.
	ShareBreakers bool
	// Manual: no background thread; call SyncNow yourself.
	Manual bool
}

// FleetStats is what a fleet store has done so far.
type FleetStats struct {
	Syncs, Failures, Pushes, Peers, Rejected, BudgetRounds, BreakersOpened uint64
}

// Fleet is an engine's membership in a fleet of engines pooling what they learn through Redis
// (or Valkey). Safe for concurrent use; call Close when done.
type Fleet struct {
	mu sync.RWMutex
	f  *C.smartretry_fleet
}

var errFleetClosed = errors.New("smartretry: fleet is closed")

// IsFleetUnavailable reports whether err is a sync that could not reach Redis.
func IsFleetUnavailable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "FLEET_UNAVAILABLE"
}

func (o FleetOptions) json() (string, error) {
	m := map[string]any{"background": !o.Manual}
	if o.Namespace != "" {
		m["namespace"] = o.Namespace
	}
	if o.SyncInterval != 0 {
		m["sync_interval"] = o.SyncInterval.Seconds()
	}
	if o.SyncAfterEpisodes != 0 {
		m["sync_after_episodes"] = o.SyncAfterEpisodes
	}
	if o.IOTimeout != 0 {
		m["io_timeout"] = o.IOTimeout.Seconds()
	}
	if o.EngineID != "" {
		m["engine_id"] = o.EngineID
	}
	if o.ShareBudgets != 0 {
		m["share_budgets"] = o.ShareBudgets
	}
	if o.ShareBreakers {
		m["share_breakers"] = true
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// AttachFleet joins the engine to the fleet at url (redis://[user:password@]host:port[/db] or
// rediss://). It fails only on a bad configuration (code INVALID_CONFIG): an unreachable Redis
// is retried, the engine deciding alone meanwhile.
func (e *Engine) AttachFleet(url string, opts FleetOptions) (*Fleet, error) {
	options, err := opts.json()
	if err != nil {
		return nil, err
	}
	fl := &Fleet{}
	err = e.with(func() error {
		u, freeU, err := cstr(url)
		if err != nil {
			return err
		}
		defer freeU()
		o, freeO, err := cstr(options)
		if err != nil {
			return err
		}
		defer freeO()
		return call(func() C.smartretry_status { return C.smartretry_fleet_attach(e.e, u, o, &fl.f) })
	})
	if err != nil {
		return nil, err
	}
	return fl, nil
}

func (f *Fleet) with(fn func() error) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.f == nil {
		return errFleetClosed
	}
	return fn()
}

// SyncNow syncs once on the calling goroutine; IsFleetUnavailable(err) if Redis is unreachable.
func (f *Fleet) SyncNow() error {
	return f.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_fleet_sync_now(f.f) })
	})
}

// Stats reports what the store has done so far.
func (f *Fleet) Stats() (FleetStats, error) {
	var c C.smartretry_fleet_counters
	err := f.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_fleet_stats(f.f, &c) })
	})
	return FleetStats{
		Syncs: uint64(c.syncs), Failures: uint64(c.failures), Pushes: uint64(c.pushes),
		Peers: uint64(c.peers), Rejected: uint64(c.rejected), BudgetRounds: uint64(c.budget_rounds),
		BreakersOpened: uint64(c.breakers_opened),
	}, err
}

// Close stops syncing and frees the store. Further calls return an error.
func (f *Fleet) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f != nil {
		C.smartretry_fleet_free(f.f)
		f.f = nil
	}
}
