# ouro: the two commands of the README, and the other jobs CI runs. Each target installs
# what it needs (scripts/install-deps.sh does nothing when everything is present).
#
#   make demo        build (release preset) and run `ouro tour`
#   make test        build (release preset) and run every test
#   make asan-test   the same under AddressSanitizer + UBSan (asan preset)
#   make stress-test the collector-heavy tests with OURO_GC_STRESS=1 (collect at every
#                    container allocation)
#   make check-test  the allocator, core and weak suites at OURO_DEBUG=3 (the heap and the
#                    object world verified before and after every collection)
#   make bench       build and run the benchmarks, print ratios against the peers
#   make fuzz        build the libFuzzer targets with clang and run each for FUZZ_SECONDS

WERROR ?= OFF
JOBS ?= 2
FUZZ_SECONDS ?= 30
CMAKE_FLAGS = -DOURO_WERROR=$(WERROR)

.PHONY: all deps build demo test asan-test stress-test check-test bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake --preset release $(CMAKE_FLAGS) > /dev/null
	cmake --build --preset release -j $(JOBS)

demo: build
	./build/release/tools/ouro/ouro tour

test: build
	ctest --preset release -j $(JOBS)

asan-test: deps
	cmake --preset asan $(CMAKE_FLAGS) > /dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

# The collector, weak-reference and object tests under stress mode (see docs/architecture.md
# for why this subset: the heap and pickle suites allocate millions of containers and would
# take hours when every allocation collects).
stress-test: build
	OURO_GC_STRESS=1 ctest --preset release -j $(JOBS) -L '^(core|weak)$$'

check-test: deps
	cmake --preset full-check $(CMAKE_FLAGS) -DOURO_BUILD_BENCH=OFF -DOURO_BUILD_TOOLS=OFF -DOURO_BUILD_EXAMPLES=OFF > /dev/null
	cmake --build --preset full-check -j $(JOBS) --target tests_alloc tests_core tests_weak
	ctest --preset full-check -j $(JOBS) -L '^(alloc|core|weak)$$'

bench: deps
	cmake --preset release -DOURO_BUILD_BENCH=ON > /dev/null
	cmake --build --preset release -j $(JOBS)
	bench/run_benchmarks.sh build/release

fuzz: deps
	cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DOURO_BUILD_FUZZ=ON -DOURO_BUILD_TESTS=OFF -DOURO_BUILD_BENCH=OFF -DOURO_BUILD_TOOLS=OFF \
	  -DOURO_BUILD_EXAMPLES=OFF -DOURO_DEBUG=2 > /dev/null
	cmake --build build/fuzz -j $(JOBS)
	fuzz/run_fuzzers.sh build/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build
