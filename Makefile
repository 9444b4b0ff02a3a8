# Lifeline — top-level commands. `make demo` and `make test` do all the set-up
# on a fresh Debian 12 machine (installing missing packages when run as root).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build demo test bench sim-long fuzz clean

all: build

deps:
	@bash .ci/deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# A local five-level network on loopback; stays up until Ctrl-C.
demo: build
	bash node/demo.sh $(BUILD)/node/runtime/lifeline

# The whole suite: unit, simulation (1,000 schedules), real processes.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j 2 --timeout 1500

# Benchmarks: prints a table and writes $(BUILD)/bench/results.json.
bench: build
	bash tests/bench/run_bench.sh $(BUILD)

# The long simulation run: 100,000 seeded schedules.
sim-long: build
	$(BUILD)/tests/sim/simulation_test --first 1 --count 100000

# libFuzzer target for frame decoding (clang); runs 60 s on the corpus.
fuzz:
	@bash .ci/deps.sh clang libclang-rt-14-dev
	cmake -S . -B $(BUILD)-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DLIFELINE_FUZZ=ON -DLIFELINE_BUILD_TESTS=OFF
	cmake --build $(BUILD)-fuzz -j $(JOBS) --target frame_decode_fuzz domain_decode_fuzz
	$(BUILD)-fuzz/tests/fuzz/frame_decode_fuzz tests/fuzz/corpus -max_total_time=60
	$(BUILD)-fuzz/tests/fuzz/domain_decode_fuzz tests/fuzz/domain_corpus -max_total_time=60

clean:
	rm -rf $(BUILD) $(BUILD)-fuzz
