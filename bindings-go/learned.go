package smartretry

/*
#include <stdlib.h>
#include "smartretry.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// AttemptContext is what the caller knows about an attempt that the engine cannot see, read by
// the learned tier as features and recorded in the attempt history. Every field is optional
// (nil or "": not given, a neutral feature). It crosses to the library as the core's JSON form,
// which the core validates: see docs/learned-tier.md.
type AttemptContext struct {
	// HourOfDay, UTC, 0 to < 24 (fractions allowed); nil: the engine's clock gives it.
	HourOfDay *float64
	// DayOfWeek, UTC, 0 = Monday ... 6 = Sunday; nil: the engine's clock gives it.
	DayOfWeek *int
	// PayloadSize is the job's payload size in bytes.
	PayloadSize *uint64
	// QueueDepth is the number of jobs waiting when the attempt ran.
	QueueDepth *uint64
	// DownstreamLatency is the dependency's latest observed latency.
	DownstreamLatency *time.Duration
	// WorkerVersion is the version of the worker that runs the attempt.
	WorkerVersion string
	// Tenant the job runs for (when not given to Begin).
	Tenant string
}

// contextJSON is the core's JSON form of a context (latency in seconds).
type contextJSON struct {
	HourOfDay         *float64 `json:"hour_of_day,omitempty"`
	DayOfWeek         *int     `json:"day_of_week,omitempty"`
	PayloadSize       *uint64  `json:"payload_size,omitempty"`
	QueueDepth        *uint64  `json:"queue_depth,omitempty"`
	DownstreamLatency *float64 `json:"downstream_latency,omitempty"`
	WorkerVersion     string   `json:"worker_version,omitempty"`
	Tenant            string   `json:"tenant,omitempty"`
}

// json encodes the context; a value JSON cannot carry (a NaN or infinite hour) is the error the
// core gives an hour out of range, a string that is not UTF-8 the C ABI's INVALID_UTF8
// (encoding/json would otherwise replace its bytes silently).
func (c AttemptContext) json() (string, error) {
	for _, s := range []string{c.WorkerVersion, c.Tenant} {
		if !utf8.ValidString(s) {
			return "", &Error{
				Status:  int(C.SMARTRETRY_INVALID_UTF8),
				Code:    "INVALID_UTF8",
				Message: fmt.Sprintf("attempt context: %q is not valid UTF-8", s),
			}
		}
	}
	j := contextJSON{
		HourOfDay:     c.HourOfDay,
		DayOfWeek:     c.DayOfWeek,
		PayloadSize:   c.PayloadSize,
		QueueDepth:    c.QueueDepth,
		WorkerVersion: c.WorkerVersion,
		Tenant:        c.Tenant,
	}
	if c.DownstreamLatency != nil {
		s := c.DownstreamLatency.Seconds()
		j.DownstreamLatency = &s
	}
	b, err := json.Marshal(j)
	if err != nil {
		return "", &Error{
			Status:  int(C.SMARTRETRY_INVALID_CONFIG),
			Code:    "INVALID_CONFIG",
			Message: "attempt context: " + err.Error(),
		}
	}
	return string(b), nil
}

// Ptr returns a pointer to v, for the optional fields of AttemptContext and RolloutConfig.
func Ptr[T any](v T) *T { return &v }

// IsInvalidModel reports whether err is a model file that is truncated, corrupt, of another
// version or with other features (the queue kept the model it had).
func IsInvalidModel(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "INVALID_MODEL"
}

// IsInvalidState reports whether err is a call not valid in the current state: a rollout mode
// other than "off" without a model, a promotion without the evidence for it.
func IsInvalidState(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "INVALID_STATE"
}

// onQueue runs a C call on the engine with queue and optionally a second string argument.
func (e *Engine) onQueue(queue string, arg *string, f func(q, a *C.char) C.smartretry_status) error {
	return e.with(func() error {
		q, freeQ, err := cstr(queue)
		if err != nil {
			return err
		}
		defer freeQ()
		var a *C.char
		if arg != nil {
			p, freeA, err := cstr(*arg)
			if err != nil {
				return err
			}
			defer freeA()
			a = p
		}
		return call(func() C.smartretry_status { return f(q, a) })
	})
}

// LoadModel loads the model file at path (written by `smartretry train`) for queue; its rollout
// mode is unchanged (a new queue starts "off"). A damaged file is an error for which
// IsInvalidModel is true, and the queue keeps the model it had.
func (e *Engine) LoadModel(queue, path string) error {
	return e.onQueue(queue, &path, func(q, p *C.char) C.smartretry_status {
		return C.smartretry_engine_load_model(e.e, q, p)
	})
}

// UnloadModel removes queue's model; decisions its mode gives the learned tier fall back to the
// Bayesian tier (counted in LearnedStats().Fallbacks) until a model is loaded or the queue is
// rolled back.
func (e *Engine) UnloadModel(queue string) error {
	return e.onQueue(queue, nil, func(q, _ *C.char) C.smartretry_status {
		return C.smartretry_engine_unload_model(e.e, q)
	})
}

// SetRollout sets queue's rollout mode by hand: "off", "shadow", "canary:0.1" or "full". A mode
// other than "off" needs a model loaded (else IsInvalidState).
func (e *Engine) SetRollout(queue, mode string) error {
	return e.onQueue(queue, &mode, func(q, m *C.char) C.smartretry_status {
		return C.smartretry_engine_set_rollout(e.e, q, m)
	})
}

// PromoteRollout steps queue up one mode (shadow → canary → full) if the evidence supports it
// and returns the new mode's name; without the evidence, an error for which IsInvalidState is
// true says what the evidence is.
func (e *Engine) PromoteRollout(queue string) (string, error) {
	var out *C.char
	err := e.onQueue(queue, nil, func(q, _ *C.char) C.smartretry_status {
		return C.smartretry_engine_promote_rollout(e.e, q, &out)
	})
	if err != nil {
		return "", err
	}
	return takeString(out), nil
}

// RollbackRollout sets queue's rollout to "off" at once (the manual rollback).
func (e *Engine) RollbackRollout(queue string) error {
	return e.onQueue(queue, nil, func(q, _ *C.char) C.smartretry_status {
		return C.smartretry_engine_rollback_rollout(e.e, q)
	})
}

// RolloutConfig holds a queue's promotion and rollback bounds; nil fields take the library's
// defaults (min_episodes 30, z 1.64, rollback_regression 0.1, auto_promote false, canary_weight
// 0.2, canary_max_episodes 500, full_holdout 0.02; a canary that cannot show it is not worse
// within that many learned episodes is rolled back, 0 lets it run for ever; in full, that share
// of episodes keeps running the live tiers and full is held to them). The bounds hold at z's
// confidence over every look at once (about 3 standard errors at 95%).
type RolloutConfig struct {
	MinEpisodes        *uint32  `json:"min_episodes,omitempty"`
	Z                  *float64 `json:"z,omitempty"`
	RollbackRegression *float64 `json:"rollback_regression,omitempty"`
	AutoPromote        *bool    `json:"auto_promote,omitempty"`
	CanaryWeight       *float64 `json:"canary_weight,omitempty"`
	CanaryMaxEpisodes  *uint32  `json:"canary_max_episodes,omitempty"`
	FullHoldout        *float64 `json:"full_holdout,omitempty"`
}

// SetRolloutConfig sets queue's promotion and rollback bounds (validated by the core).
func (e *Engine) SetRolloutConfig(queue string, cfg RolloutConfig) error {
	b, err := json.Marshal(cfg)
	if err != nil {
		return &Error{Status: int(C.SMARTRETRY_INVALID_CONFIG), Code: "INVALID_CONFIG", Message: "rollout config: " + err.Error()}
	}
	js := string(b)
	return e.onQueue(queue, &js, func(q, c *C.char) C.smartretry_status {
		return C.smartretry_engine_set_rollout_config(e.e, q, c)
	})
}

// RolloutMode is a queue's mode: Mode "off", "shadow", "canary" (with Weight) or "full".
type RolloutMode struct {
	Mode   string  `json:"mode"`
	Weight float64 `json:"weight,omitempty"`
}

// String is the mode as SetRollout reads it ("canary:0.5").
func (m RolloutMode) String() string {
	if m.Mode == "canary" {
		return "canary:" + strconv.FormatFloat(m.Weight, 'g', -1, 64)
	}
	return m.Mode
}

// Tally is a running mean of J per episode (or of paired differences) over N episodes.
type Tally struct {
	N    uint64  `json:"n"`
	Mean float64 `json:"mean"`
}

// Evidence is what a queue's rollout has gathered since its mode last changed.
type Evidence struct {
	Live       Tally    `json:"live"`        // J of episodes the live tiers decided
	Learned    Tally    `json:"learned"`     // J of episodes the learned tier decided
	ShadowDiff Tally    `json:"shadow_diff"` // shadow: learned counterfactual J minus live J
	Baseline   *float64 `json:"baseline"`    // the live mean J when promoted to full
}

// RolloutStatus is a queue's rollout as the core reports it.
type RolloutStatus struct {
	Queue       string      `json:"queue"`
	Mode        RolloutMode `json:"mode"`
	ModelLoaded bool        `json:"model_loaded"`
	Evidence    Evidence    `json:"evidence"`
	Verdict     string      `json:"verdict"`     // "wait", "promote" or "rollback"
	LastChange  string      `json:"last_change"` // "operator", "automatic rollback", ...
}

// RolloutStatus is queue's rollout, or nil when the queue has no learned-tier state.
func (e *Engine) RolloutStatus(queue string) (*RolloutStatus, error) {
	var out *C.char
	err := e.onQueue(queue, nil, func(q, _ *C.char) C.smartretry_status {
		return C.smartretry_engine_rollout_status_json(e.e, q, &out)
	})
	if err != nil {
		return nil, err
	}
	var s *RolloutStatus
	if err := json.Unmarshal([]byte(takeString(out)), &s); err != nil {
		return nil, err
	}
	return s, nil
}

// Rollouts is every queue's rollout.
func (e *Engine) Rollouts() ([]RolloutStatus, error) {
	var out *C.char
	err := e.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_engine_rollouts_json(e.e, &out) })
	})
	if err != nil {
		return nil, err
	}
	var s []RolloutStatus
	if err := json.Unmarshal([]byte(takeString(out)), &s); err != nil {
		return nil, err
	}
	return s, nil
}

// LearnedStats are the learned tier's counters, engine-wide and cumulative.
type LearnedStats struct {
	Decisions      uint64 // decisions the learned tier made
	ShadowEpisodes uint64 // episodes priced in shadow
	Fallbacks      uint64 // decisions where the model failed and the chain fell back
	Rollbacks      uint64 // automatic rollbacks
	Promotions     uint64 // automatic promotions
}

// LearnedStats reads the learned tier's counters.
func (e *Engine) LearnedStats() (LearnedStats, error) {
	var s C.smartretry_learned_stats
	err := e.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_engine_learned_stats(e.e, &s) })
	})
	return LearnedStats{
		Decisions:      uint64(s.decisions),
		ShadowEpisodes: uint64(s.shadow_episodes),
		Fallbacks:      uint64(s.fallbacks),
		Rollbacks:      uint64(s.rollbacks),
		Promotions:     uint64(s.promotions),
	}, err
}
