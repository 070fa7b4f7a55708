package smartretry

/*
#include "smartretry.h"
*/
import "C"

import "time"

// Recommendation is the engine's answer to "this attempt failed: what now?".
type Recommendation struct {
	Action             string // "retry", "give_up" or "escalate"
	Delay              time.Duration
	Class              string
	Tier               string // "heuristic", "bayesian", "operator", "guardrail", "portfolio" or "learned"
	Attempt            int
	Elapsed            time.Duration
	SuccessProbability float64 // valid when HasProbability
	HasProbability     bool
	Reason             string // one sentence
	Text               string // the whole recommendation as a line
}

// ShouldRetry reports whether the action is to retry.
func (r Recommendation) ShouldRetry() bool { return r.Action == "retry" }

func seconds(s C.double) time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

// fromC converts and releases a filled C recommendation.
func fromC(rec *C.smartretry_recommendation) (Recommendation, error) {
	defer C.smartretry_recommendation_free(rec)
	r := Recommendation{
		Action:             C.GoString(C.smartretry_action_name(rec.action)),
		Delay:              seconds(rec.delay),
		Class:              C.GoString(C.smartretry_class_name(rec.error_class)),
		Tier:               C.GoString(C.smartretry_tier_name(rec.tier)),
		Attempt:            int(rec.attempt),
		Elapsed:            seconds(rec.elapsed),
		SuccessProbability: float64(rec.success_probability),
		HasProbability:     bool(rec.has_success_probability),
	}
	var reason, text *C.char
	if err := call(func() C.smartretry_status { return C.smartretry_recommendation_reason(rec, &reason) }); err != nil {
		return r, err
	}
	r.Reason = takeString(reason)
	if err := call(func() C.smartretry_status { return C.smartretry_recommendation_describe(rec, &text) }); err != nil {
		return r, err
	}
	r.Text = takeString(text)
	return r, nil
}
