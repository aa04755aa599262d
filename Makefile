# The two commands a new machine needs:
#   make demo   installs what is missing, builds, and runs wisp
#   make test   installs what is missing, builds, and runs every test
#
# Everything else here is for developers: see CONTRIBUTING.md.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: demo test setup build asan tsan fuzz bench-http format clean

demo: build
	@echo "wisp: starting 'wisp serve'. The Stack Overflow pipeline arrives with issue E; today this"
	@echo "      serves the triage dashboard at http://127.0.0.1:3233/ (add a user first, in another"
	@echo "      shell: ./$(BUILD_DIR)/wisp user add NAME), the OpenWhisk API (/api/v1), /ping and"
	@echo "      /metrics on :3233, and the CouchDB API on :5984 (and under /db/ on :3233), with the"
	@echo "      CouchDB admin and the APIHOST=/AUTH= lines for ~/.wskprops printed below."
	./$(BUILD_DIR)/wisp serve

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

setup:
	@tools/setup.sh

build: setup
	@tools/configure.sh $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Sanitizer builds live in their own build trees and run the whole suite.
asan: setup
	@tools/configure.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DWISP_ASAN=ON
	cmake --build build-asan -j $(JOBS)
	ctest --test-dir build-asan --output-on-failure -j $(JOBS)

tsan: setup
	@tools/configure.sh build-tsan -DCMAKE_BUILD_TYPE=Debug -DWISP_TSAN=ON
	cmake --build build-tsan -j $(JOBS)
	ctest --test-dir build-tsan --output-on-failure -j $(JOBS)

# Runs every libFuzzer target for FUZZ_SECONDS each (clang-14).
fuzz: setup
	tools/fuzz.sh $(FUZZ_SECONDS)

bench-http: build
	bench/http.sh

format:
	find src tests fuzz -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz
