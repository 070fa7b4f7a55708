package smartretry

/*
#include <stdlib.h>
#include "smartretry.h"
*/
import "C"

// SetHistory logs every attempt of this engine to the JSON Lines file at path (appended), with
// each attempt's context: the history `smartretry train` learns a model from. optionsJSON may be
// "" or an object such as {"max_bytes": 10000000, "max_files": 3, "worker_version": "1.4.2"}.
// It replaces any earlier history file (flushed and closed).
func (e *Engine) SetHistory(path, optionsJSON string) error {
	return e.with(func() error {
		p, freeP, err := cstr(path)
		if err != nil {
			return err
		}
		defer freeP()
		var o *C.char
		if optionsJSON != "" {
			q, freeO, err := cstr(optionsJSON)
			if err != nil {
				return err
			}
			defer freeO()
			o = q
		}
		return call(func() C.smartretry_status { return C.smartretry_engine_set_history(e.e, p, o) })
	})
}

// FlushHistory writes out buffered history records.
func (e *Engine) FlushHistory() error {
	return e.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_engine_flush_history(e.e) })
	})
}

// StopHistory stops logging attempts (the file is flushed and closed).
func (e *Engine) StopHistory() error {
	return e.with(func() error {
		return call(func() C.smartretry_status { return C.smartretry_engine_stop_history(e.e) })
	})
}
