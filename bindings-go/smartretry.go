// Package smartretry wraps libsmartretry's C ABI (cgo) in an idiomatic Go API: an Engine that
// classifies failures, learns recovery times and recommends the next delay, and Engine.Do, a
// retry loop that honours context cancellation.
//
// It builds against an installed libsmartretry found through pkg-config (smartretry.pc, written
// by `make install PREFIX=...` or unpacked from the release tarball): set PKG_CONFIG_PATH to
// PREFIX/lib/pkgconfig.
package smartretry

/*
#cgo pkg-config: smartretry
#include <stdlib.h>
#include "smartretry.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"time"
	"unsafe"
)

// Error is a failed library call: its stable code ("INVALID_KEY", ...) and message.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("smartretry: %s: %s", e.Code, e.Message) }

// call runs one C call on a locked OS thread so that the thread-local last error read after a
// failure is the one this call set.
func call(f func() C.smartretry_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := f()
	if s == C.SMARTRETRY_OK {
		return nil
	}
	code := "UNKNOWN"
	if n := C.smartretry_status_name(C.uint32_t(s)); n != nil {
		code = C.GoString(n)
	}
	return &Error{Status: int(s), Code: code, Message: C.GoString(C.smartretry_last_error())}
}

// cstr returns a C copy of s and its release function (NUL bytes cannot cross: they are rejected).
func cstr(s string) (*C.char, func(), error) {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return nil, func() {}, fmt.Errorf("smartretry: string %q contains a NUL byte", s)
		}
	}
	p := C.CString(s)
	return p, func() { C.free(unsafe.Pointer(p)) }, nil
}

// keyTenant converts a key and an optional tenant ("" = none, a NULL pointer) to C strings;
// free releases both.
func keyTenant(key, tenant string) (k, t *C.char, free func(), err error) {
	k, freeK, err := cstr(key)
	if err != nil {
		return nil, nil, func() {}, err
	}
	if tenant == "" {
		return k, nil, freeK, nil
	}
	t, freeT, err := cstr(tenant)
	if err != nil {
		freeK()
		return nil, nil, func() {}, err
	}
	return k, t, func() { freeT(); freeK() }, nil
}

// takeString converts a library-owned string to Go and frees it.
func takeString(p *C.char) string {
	s := C.GoString(p)
	C.smartretry_string_free(p)
	return s
}

// Version is the library's version string.
func Version() string { return C.GoString(C.smartretry_version()) }

// Failure is what the caller knows about a failed attempt; zero fields are unknown.
type Failure struct {
	HTTPStatus int
	GRPCCode   int // set HasGRPC too: 0 is OK in gRPC
	HasGRPC    bool
	ErrorCode  string // ECONNRESET, ETIMEDOUT, ...
	Exception  string
	Message    string
	RetryAfter time.Duration
	Class      string // a class name the caller already knows ("rate_limited", ...)
	Dependency string
}

// FailureError is an error carrying the Failure that describes it; Do classifies with it.
type FailureError struct {
	Failure Failure
	Err     error
}

func (e *FailureError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return "failure"
}
func (e *FailureError) Unwrap() error { return e.Err }

// Fail wraps err with what is known about it (HTTP status, Retry-After, ...).
func Fail(err error, f Failure) error { return &FailureError{Failure: f, Err: err} }

// failureOf describes err for the engine: its FailureError if any, else its message.
func failureOf(err error) Failure {
	var fe *FailureError
	if errors.As(err, &fe) {
		f := fe.Failure
		if f.Message == "" && fe.Err != nil {
			f.Message = fe.Err.Error()
		}
		return f
	}
	return Failure{Message: err.Error(), Exception: fmt.Sprintf("%T", err)}
}

// toC builds a C failure handle (free it with C.smartretry_failure_free).
func (f Failure) toC() (*C.smartretry_failure, error) {
	var h *C.smartretry_failure
	if err := call(func() C.smartretry_status { return C.smartretry_failure_new(&h) }); err != nil {
		return nil, err
	}
	set := func(v string, fn func(*C.smartretry_failure, *C.char) C.smartretry_status) error {
		if v == "" {
			return nil
		}
		p, free, err := cstr(v)
		if err != nil {
			return err
		}
		defer free()
		return call(func() C.smartretry_status { return fn(h, p) })
	}
	err := errors.Join(
		set(f.ErrorCode, func(h *C.smartretry_failure, p *C.char) C.smartretry_status {
			return C.smartretry_failure_set_error_code(h, p)
		}),
		set(f.Exception, func(h *C.smartretry_failure, p *C.char) C.smartretry_status {
			return C.smartretry_failure_set_exception(h, p)
		}),
		set(f.Message, func(h *C.smartretry_failure, p *C.char) C.smartretry_status {
			return C.smartretry_failure_set_message(h, p)
		}),
		set(f.Dependency, func(h *C.smartretry_failure, p *C.char) C.smartretry_status {
			return C.smartretry_failure_set_dependency(h, p)
		}),
	)
	if err == nil && f.HTTPStatus != 0 {
		if f.HTTPStatus < 0 || f.HTTPStatus > 65535 {
			err = fmt.Errorf("smartretry: HTTP status %d out of range", f.HTTPStatus)
		} else {
			err = call(func() C.smartretry_status {
				return C.smartretry_failure_set_http_status(h, C.uint16_t(f.HTTPStatus))
			})
		}
	}
	if err == nil && f.HasGRPC {
		err = call(func() C.smartretry_status {
			return C.smartretry_failure_set_grpc_code(h, C.uint32_t(f.GRPCCode))
		})
	}
	if err == nil && f.RetryAfter != 0 {
		err = call(func() C.smartretry_status {
			return C.smartretry_failure_set_retry_after(h, C.double(f.RetryAfter.Seconds()))
		})
	}
	if err == nil && f.Class != "" {
		var class C.smartretry_class
		p, free, cerr := cstr(f.Class)
		if cerr != nil {
			err = cerr
		} else {
			defer free()
			err = call(func() C.smartretry_status { return C.smartretry_class_from_name(p, &class) })
			if err == nil {
				err = call(func() C.smartretry_status { return C.smartretry_failure_set_class(h, class) })
			}
		}
	}
	if err != nil {
		C.smartretry_failure_free(h)
		return nil, err
	}
	return h, nil
}
