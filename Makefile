# The two commands a new machine needs:
#   make demo   installs what is missing, builds, and runs `wisp demo` (the pipeline on simulators)
#   make test   installs what is missing, builds, and runs every test
#
# Everything else here is for developers: see CONTRIBUTING.md.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: demo test setup build asan tsan fuzz bench-http format clean

# `make demo` runs the Stack Overflow pipeline on the simulators (README.md,
# "The demo"); DEMO_FLAGS passes flags, e.g. DEMO_FLAGS="--slack-url https://hooks.slack.com/...".
demo: build
	./$(BUILD_DIR)/wisp demo $(DEMO_FLAGS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

setup:
	@tools/setup.sh

build: setup
	@tools/configure.sh $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Sanitizer builds live in their own build trees and run the whole suite.
asan: setup
	@tools/configure.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWISP_ASAN=ON
	cmake --build build-asan -j $(JOBS)
	ctest --test-dir build-asan --output-on-failure -j $(JOBS)

# Every process the tests start (servers included, whose exit status no test
# reads) writes its ThreadSanitizer reports to build-tsan/reports: any file
# there fails the target.
tsan: setup
	@tools/configure.sh build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWISP_TSAN=ON
	cmake --build build-tsan -j $(JOBS)
	rm -rf build-tsan/reports && mkdir -p build-tsan/reports
	TSAN_OPTIONS=log_path=$(CURDIR)/build-tsan/reports/tsan ctest --test-dir build-tsan --output-on-failure -j $(JOBS)
	@if [ -n "$$(ls build-tsan/reports)" ]; then grep -h '^SUMMARY' build-tsan/reports/*; exit 1; fi

# Runs every libFuzzer target for FUZZ_SECONDS each (clang-14).
fuzz: setup
	tools/fuzz.sh $(FUZZ_SECONDS)

bench-http: build
	bench/http.sh

format:
	find src tests fuzz -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz
