package smartretry

/*
#include <stdlib.h>
#include "smartretry.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// Schedule is a durable retry schedule (the C ABI's smartretry_retry_schedule): a failed job's
// retry waits in a SQLite file (one machine) or in Redis (many machines) until it is due, and
// workers claim due retries with a lease, then Ack or Nack them. Delivery is at least once: a
// worker that dies holding a claim loses its lease and the retry is handed out again. Times
// are the caller's (pass the engine's Now on a manual clock). Safe for concurrent use; call
// Close when done.
type Schedule struct {
	mu sync.RWMutex
	s  *C.smartretry_retry_schedule
}

// Claim is a due retry handed to a worker: Ack it when done, Nack it to run again later.
type Claim struct {
	JobID   string
	Payload []byte
	// Deliveries counts the times it was handed out, this one included (above 1: redelivered
	// after a lease ran out).
	Deliveries uint32
	// LeaseUntil is when the lease ends; past it the retry may go to another worker.
	LeaseUntil time.Time
}

var errScheduleClosed = errors.New("smartretry: schedule is closed")

// IsScheduleStorage reports whether err is the schedule's store failing (a SQLite file that
// cannot be opened or is not a database, a Redis that cannot be reached).
func IsScheduleStorage(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "SCHEDULE_STORAGE"
}

// OpenSchedule opens the schedule at location: a redis:// or rediss:// URL (the schedule of
// namespace; "" is "default"), or else the path of a SQLite file, created if missing. A Redis
// is first reached by the first call that needs it.
func OpenSchedule(location, namespace string) (*Schedule, error) {
	loc, freeLoc, err := cstr(location)
	if err != nil {
		return nil, err
	}
	defer freeLoc()
	var ns *C.char
	if namespace != "" {
		n, freeNs, err := cstr(namespace)
		if err != nil {
			return nil, err
		}
		defer freeNs()
		ns = n
	}
	s := &Schedule{}
	if err := call(func() C.smartretry_status { return C.smartretry_retry_schedule_open(loc, ns, &s.s) }); err != nil {
		return nil, err
	}
	return s, nil
}

func unixSeconds(t time.Time) C.double { return C.double(float64(t.UnixNano()) / 1e9) }

// with runs f with the schedule's handle held open, and jobID as a C string.
func (s *Schedule) with(jobID string, f func(job *C.char) C.smartretry_status) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.s == nil {
		return errScheduleClosed
	}
	job, free, err := cstr(jobID)
	if err != nil {
		return err
	}
	defer free()
	return call(func() C.smartretry_status { return f(job) })
}

// Add stores the retry of jobID (1-256 bytes) with payload (at most 1 MiB: a reference or a
// small job description), due at due. Adding a job again replaces it: its payload, due time
// and any claim on it.
func (s *Schedule) Add(jobID string, payload []byte, due time.Time) error {
	return s.with(jobID, func(job *C.char) C.smartretry_status {
		var p *C.uint8_t
		if len(payload) > 0 {
			p = (*C.uint8_t)(unsafe.Pointer(&payload[0]))
		}
		return C.smartretry_retry_schedule_add(s.s, job, p, C.size_t(len(payload)), unixSeconds(due))
	})
}

// AddRecommended stores the retry rec recommended at now: due after its delay. It returns false,
// storing nothing, when the recommendation is to stop. (A Go Recommendation is a plain value,
// so this is Add at now + rec.Delay when rec.ShouldRetry(), the core's rule.)
func (s *Schedule) AddRecommended(jobID string, payload []byte, now time.Time, rec Recommendation) (bool, error) {
	if !rec.ShouldRetry() {
		return false, nil
	}
	return true, s.Add(jobID, payload, now.Add(rec.Delay))
}

// ClaimDue claims up to limit retries due at now, earliest first, each leased for lease: until
// then no other worker gets them.
func (s *Schedule) ClaimDue(now time.Time, limit int, lease time.Duration) ([]Claim, error) {
	if limit < 0 {
		return nil, fmt.Errorf("smartretry: claim limit %d is negative", limit)
	}
	var list *C.smartretry_claims
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.s == nil {
		return nil, errScheduleClosed
	}
	err := call(func() C.smartretry_status {
		return C.smartretry_retry_schedule_claim_due(s.s, unixSeconds(now), C.size_t(limit), C.double(lease.Seconds()), &list)
	})
	if err != nil {
		return nil, err
	}
	defer C.smartretry_claims_free(list)
	var n C.size_t
	if err := call(func() C.smartretry_status { return C.smartretry_claims_len(list, &n) }); err != nil {
		return nil, err
	}
	claims := make([]Claim, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		var c C.smartretry_claim
		if err := call(func() C.smartretry_status { return C.smartretry_claims_get(list, i, &c) }); err != nil {
			return nil, err
		}
		claims = append(claims, Claim{
			JobID:      C.GoString(c.job_id),
			Payload:    C.GoBytes(unsafe.Pointer(c.payload), C.int(c.payload_len)),
			Deliveries: uint32(c.deliveries),
			LeaseUntil: time.Unix(0, int64(float64(c.lease_until)*1e9)),
		})
	}
	return claims, nil
}

// Ack forgets a retry that is done. It returns false when the retry was not there (acked
// already, or never scheduled), which is not an error: acks are idempotent.
func (s *Schedule) Ack(jobID string) (bool, error) {
	var acked C.bool
	err := s.with(jobID, func(job *C.char) C.smartretry_status {
		return C.smartretry_retry_schedule_ack(s.s, job, &acked)
	})
	return bool(acked), err
}

// Nack runs a retry that failed again at due instead, releasing its claim. It returns false
// when the job is unknown.
func (s *Schedule) Nack(jobID string, due time.Time) (bool, error) {
	var found C.bool
	err := s.with(jobID, func(job *C.char) C.smartretry_status {
		return C.smartretry_retry_schedule_nack(s.s, job, unixSeconds(due), &found)
	})
	return bool(found), err
}

// Len counts the retries stored: due or not, claimed or not.
func (s *Schedule) Len() (int, error) {
	var n C.size_t
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.s == nil {
		return 0, errScheduleClosed
	}
	err := call(func() C.smartretry_status { return C.smartretry_retry_schedule_len(s.s, &n) })
	return int(n), err
}

// Close closes the schedule's file or connection. Further calls return an error.
func (s *Schedule) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s != nil {
		C.smartretry_retry_schedule_free(s.s)
		s.s = nil
	}
}
