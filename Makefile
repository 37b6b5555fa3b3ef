# The front door: `make run` and `make test` do their own set-up on a fresh
# Debian 12 machine. The real build is Meson/Ninja (meson.build).
BUILD ?= build
ASAN_BUILD ?= build-asan
DB ?= var/opx.db
LISTEN ?= 127.0.0.1:8080
FUZZ_SECONDS ?= 60

.PHONY: all build run test unit api bench fuzz deps clean

all: build

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	tools/install-deps.sh run

run:
	tools/install-deps.sh run
	$(MAKE) --no-print-directory build
	mkdir -p $(dir $(DB))
	@if [ ! -f $(DB) ]; then \
	  $(BUILD)/opx migrate --db $(DB) && $(BUILD)/opx seed --demo --db $(DB); \
	fi
	exec $(BUILD)/opx serve --listen $(LISTEN) --db $(DB) $(if $(WEB),--web $(WEB))

test:
	tools/install-deps.sh test
	$(MAKE) --no-print-directory build
	tests/run-all.sh

bench:
	tools/install-deps.sh bench
	$(MAKE) --no-print-directory build
	bench/run.sh $(BUILD)/opx

fuzz:
	tools/install-deps.sh fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
