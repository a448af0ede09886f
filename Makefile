# The two commands of the README. Both install what they need first.
BUILD ?= build
# `make run`: the board and the kernel command line; TESSERA_ARGS adds
# options (e.g. TESSERA_ARGS="-d guest_errors" or "-smp 4").
RUN_MACHINE ?= -M virt -cpu cortex-a57 -smp 2 -m 1G -nographic
APPEND ?= console=ttyAMA0
TESSERA_ARGS ?=

.PHONY: all deps build run check clean
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

# Every test: unit, sdk, plugin-* and guest suites.
check: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2

clean:
	rm -rf $(BUILD)
