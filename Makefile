# The two commands a newcomer needs. Everything else is reached from these.
.PHONY: demo test bench install dist

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

# Installable artefacts in dist/: the Python wheel and sdist, the npm package and its binary
# package, the libsmartretry tarball and the CLI (scripts/dist.sh; installed by scripts/test-dist.sh).
dist:
	@scripts/dist.sh
