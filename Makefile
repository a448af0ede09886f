# The two commands of the README. Both install what they need first.
BUILD ?= build
# `make run`: the board and the kernel command line; TESSERA_ARGS adds
# options (e.g. TESSERA_ARGS="-d guest_errors" or "-smp 4").
RUN_MACHINE ?= -M virt -cpu cortex-a57 -smp 2 -m 1G -nographic
APPEND ?= console=ttyAMA0
TESSERA_ARGS ?=

.PHONY: all deps build run check check-asan clean
all: build

deps:
	@./scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The main job: boot Debian's arm64 Linux (kernel and busybox initramfs
# fetched once by scripts/guest-arm64) to a shell on the terminal.
# `poweroff -f` in the guest, or Ctrl-A x, leaves.
run: build
	@eval "$$(./scripts/guest-arm64)" && \
	  exec $(BUILD)/tessera $(RUN_MACHINE) -kernel "$$KERNEL" -initrd "$$INITRD" \
	    -append "$(APPEND)" $(TESSERA_ARGS)

# Every test: unit, sdk, plugin-*, fuzz (corpus replay) and guest suites;
# then the same code again under AddressSanitizer and UBSan (check-asan).
check: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2
	$(MAKE) check-asan

# The sanitizer build: clang, ASan + UBSan (aborting on the first report),
# libFuzzer targets. Runs every suite but the guest ones (a guest under ASan
# is too slow for CI) plus each fuzz target for $(FUZZ_SECONDS) seconds
# (docs/testing.md, tests/fuzz/README.md).
ASAN_BUILD ?= $(BUILD)-asan
FUZZ_SECONDS ?= 10
# The CPU instruction tests compare one generated case in ASAN_SAMPLE with
# qemu under ASan (TESSERA_TEST_SAMPLE, snippet.h / snippet-x86.h) and run
# one random JIT sequence in ASAN_SAMPLE: a fresh harness per case is most
# of the sanitizer run's time, and the plain build above compares them all.
# ASAN_SAMPLE=1 runs everything. 11 is prime to both edge grids (26 and 19
# values): every edge value still meets every register.
ASAN_SAMPLE ?= 11
# More meson test arguments for the sanitizer run (e.g. a CI short of time:
# ASAN_TEST_ARGS="--no-suite plugin-cpu-x86").
ASAN_TEST_ARGS ?=
check-asan: deps
	@[ -f $(ASAN_BUILD)/build.ninja ] || CC=clang meson setup $(ASAN_BUILD) \
	    -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=enabled
	ninja -C $(ASAN_BUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 FUZZ_SECONDS=$(FUZZ_SECONDS) \
	    TESSERA_TEST_SAMPLE=$(ASAN_SAMPLE) \
	    meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2 --no-suite guest \
	    --timeout-multiplier 3 $(ASAN_TEST_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
