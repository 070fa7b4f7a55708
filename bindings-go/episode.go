package smartretry

/*
#include <stdlib.h>
#include "smartretry.h"
*/
import "C"

import (
	"errors"
	"runtime"
	"sync"
)

// Episode is one job's retry episode, from its first attempt to success or give-up, for callers
// that run their own retry loop (Do runs one for you). Safe for concurrent use; call Close when
// done with it.
type Episode struct {
	mu sync.Mutex // guards ep against Close during a call
	e  *Engine
	ep *C.smartretry_episode
}

var errEpisodeClosed = errors.New("smartretry: episode is closed")

// Begin starts a job's episode on key (the queue or job type) for tenant ("" = none).
func (e *Engine) Begin(key, tenant string) (*Episode, error) {
	ep, err := e.begin(key, tenant)
	if err != nil {
		return nil, err
	}
	return e.episode(ep), nil
}

// BeginWithContext is Begin with the attempt's context, which the learned tier reads as features
// and the attempt history records. A context the core refuses (an unknown hour, a negative
// latency, a bad worker version) is an *Error and no episode is begun.
func (e *Engine) BeginWithContext(key, tenant string, ctx AttemptContext) (*Episode, error) {
	js, err := ctx.json()
	if err != nil {
		return nil, err
	}
	var ep *C.smartretry_episode
	err = e.with(func() error {
		k, t, freeKT, err := keyTenant(key, tenant)
		if err != nil {
			return err
		}
		defer freeKT()
		c, freeC, err := cstr(js)
		if err != nil {
			return err
		}
		defer freeC()
		return call(func() C.smartretry_status {
			return C.smartretry_engine_begin_with_context(e.e, k, t, c, &ep)
		})
	})
	if err != nil {
		return nil, err
	}
	return e.episode(ep), nil
}

func (e *Engine) episode(ep *C.smartretry_episode) *Episode {
	x := &Episode{e: e, ep: ep}
	runtime.SetFinalizer(x, (*Episode).Close)
	return x
}

// with runs f with the episode's handle held open.
func (x *Episode) with(f func(ep *C.smartretry_episode) error) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ep == nil {
		return errEpisodeClosed
	}
	return f(x.ep)
}

// SetContext replaces the episode's context before its next attempt (e.g. the latest queue
// depth). A context the core refuses is an *Error and the episode keeps the one it had.
func (x *Episode) SetContext(ctx AttemptContext) error {
	js, err := ctx.json()
	if err != nil {
		return err
	}
	return x.with(func(ep *C.smartretry_episode) error {
		c, free, err := cstr(js)
		if err != nil {
			return err
		}
		defer free()
		return call(func() C.smartretry_status { return C.smartretry_episode_set_context(ep, c) })
	})
}

// OnFailure records a failed attempt and recommends what to do next (the episode finishes when
// the answer is give up or escalate).
func (x *Episode) OnFailure(f Failure) (Recommendation, error) {
	var r Recommendation
	err := x.with(func(ep *C.smartretry_episode) error {
		var err error
		r, err = x.e.onFailure(ep, f)
		return err
	})
	return r, err
}

// OnSuccess records that an attempt succeeded: the engine learns from the episode, which ends.
func (x *Episode) OnSuccess() error {
	return x.with(func(ep *C.smartretry_episode) error { return x.e.success(ep) })
}

// Abandon ends the episode without teaching (the caller cancelled it).
func (x *Episode) Abandon() {
	_ = x.with(func(ep *C.smartretry_episode) error {
		x.e.abandon(ep)
		return nil
	})
}

// Close frees the episode (after Close, calls return an error). Safe to call twice.
func (x *Episode) Close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ep != nil {
		C.smartretry_episode_free(x.ep)
		x.ep = nil
	}
}
