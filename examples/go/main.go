// A flaky call retried by the engine: two 503s, then success. Run with libsmartretry installed
// and PKG_CONFIG_PATH pointing at its smartretry.pc (see bindings-go/README.md):
//
//	go run .
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	smartretry "github.com/libsmartretry/smartretry/bindings-go"
)

func main() {
	// A manual clock makes the example instant: waits advance the clock instead of sleeping.
	engine, err := smartretry.New(
		smartretry.WithPolicyJSON(`{"preset": "request"}`),
		smartretry.WithManualClock(time.Now()),
		smartretry.WithKey("payments", "acme"),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer engine.Close()

	calls := 0
	err = engine.DoWith(context.Background(), "payments", "acme", func() error {
		calls++
		if calls < 3 {
			return smartretry.Fail(errors.New("service unavailable"), smartretry.Failure{HTTPStatus: 503})
		}
		return nil
	}, func(r smartretry.Recommendation) { fmt.Println(r.Reason) })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("succeeded after %d calls\n", calls)
}
