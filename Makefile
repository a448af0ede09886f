# The two commands of the README. Both install what they need first.
BUILD ?= build
TESSERA_ARGS ?= -M none -m 64M -device edu,id=edu0 -monitor stdio

.PHONY: all deps build run check clean
all: build

deps:
	@./scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The main job: start tessera with its plugins, monitor on the terminal.
run: build
	./$(BUILD)/tessera $(TESSERA_ARGS)

# Every test: unit, sdk and plugin-* suites.
check: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2

clean:
	rm -rf $(BUILD)
