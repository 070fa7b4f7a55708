# The two commands a newcomer needs. Everything else is reached from these.
.PHONY: demo test bench install

PREFIX ?= /usr/local

# The simulation that shows the engine learning and beating static backoff (no server needed).
demo:
	@scripts/demo.sh

# Every test in every language; installs what it needs.
test:
	@scripts/test.sh

# Criterion benchmarks of the core (figures go to BENCHMARKS.md).
bench:
	cargo bench -p smartretry --bench engine

# libsmartretry.so/.a, smartretry.h and smartretry.pc under PREFIX (C and cgo users).
install:
	@ffi-c/install.sh PREFIX=$(PREFIX)
