package smartretry

/*
#include <stdlib.h>
#include "smartretry.h"
*/
import "C"

import (
	"context"
	"time"
)

// Do calls fn until it succeeds, the engine says stop (a *GiveUpError wrapping fn's last error),
// or ctx is done (ctx.Err(), also while waiting between attempts). Waits follow the engine's
// recommendations; on a manual clock they advance the clock instead of sleeping. Describe
// failures with Fail(err, Failure{HTTPStatus: 503, ...}) for better decisions. Each call may
// observe its Recommendation through onDecision (may be nil).
func (e *Engine) Do(ctx context.Context, fn func() error) error {
	return e.DoWith(ctx, e.key, e.tenant, fn, nil)
}

// DoWith is Do for a given key and tenant ("" = none), reporting each decision to onDecision.
func (e *Engine) DoWith(ctx context.Context, key, tenant string, fn func() error, onDecision func(Recommendation)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ep, err := e.begin(key, tenant)
	if err != nil {
		return err
	}
	defer e.freeEpisode(ep)
	for {
		if err := ctx.Err(); err != nil {
			e.abandon(ep)
			return err
		}
		// The adaptive rate limiter's token, before every attempt (0 until the key is throttled).
		if token, err := e.Acquire(key); err != nil || token > 0 {
			if err == nil {
				err = e.wait(ctx, token)
			}
			if err != nil {
				e.abandon(ep)
				return err
			}
		}
		callErr := fn()
		if callErr == nil {
			return e.success(ep)
		}
		rec, err := e.onFailure(ep, failureOf(callErr))
		if err != nil {
			return err
		}
		if onDecision != nil {
			onDecision(rec)
		}
		if !rec.ShouldRetry() {
			return &GiveUpError{Err: callErr, Recommendation: rec}
		}
		if err := e.wait(ctx, rec.Delay); err != nil {
			e.abandon(ep)
			return err
		}
	}
}

func (e *Engine) wait(ctx context.Context, d time.Duration) error {
	if e.manual {
		if err := ctx.Err(); err != nil {
			return err
		}
		return e.Advance(d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (e *Engine) begin(key, tenant string) (*C.smartretry_episode, error) {
	var ep *C.smartretry_episode
	err := e.with(func() error {
		k, t, freeKT, err := keyTenant(key, tenant)
		if err != nil {
			return err
		}
		defer freeKT()
		return call(func() C.smartretry_status { return C.smartretry_engine_begin(e.e, k, t, &ep) })
	})
	return ep, err
}

func (e *Engine) freeEpisode(ep *C.smartretry_episode) { C.smartretry_episode_free(ep) }

func (e *Engine) abandon(ep *C.smartretry_episode) {
	_ = e.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_engine_abandon(e.e, ep) })
	})
}

func (e *Engine) success(ep *C.smartretry_episode) error {
	return e.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_engine_on_success(e.e, ep, nil) })
	})
}

func (e *Engine) onFailure(ep *C.smartretry_episode, f Failure) (Recommendation, error) {
	var r Recommendation
	err := e.with(func() error {
		h, err := f.toC()
		if err != nil {
			return err
		}
		defer C.smartretry_failure_free(h)
		var rec C.smartretry_recommendation
		if err := call(func() C.smartretry_status { return C.smartretry_engine_on_failure(e.e, ep, h, &rec) }); err != nil {
			return err
		}
		r, err = fromC(&rec)
		return err
	})
	return r, err
}
