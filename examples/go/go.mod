module github.com/libsmartretry/smartretry/examples/go

go 1.22

require github.com/libsmartretry/smartretry/bindings-go v0.1.0

// Inside the repository the module is the local bindings-go/; outside, drop this line.
replace github.com/libsmartretry/smartretry/bindings-go => ../../bindings-go
