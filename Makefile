# A thin wrapper around CMake: the two commands of the README's quick start,
# and a few conveniences. The build itself is described in CMakeLists.txt.

BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_ARGS ?=
OUT        ?=

QUICK      ?=

.PHONY: all deps build test test-slow-harness tour bench clean test-asan test-tsan test-valgrind fuzz soak

all: build

deps:
	@./scripts/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$$(nproc)

# The tests: cmocka suites and CLI checks through CTest.
test: build
	cd $(BUILD) && ctest --output-on-failure

# The same, with python3 (how the CLI scripts reach a server) slowed by
# SLOW_PY_DELAY seconds (default 0.5) per start: no test may depend on how
# fast the harness runs. Not in CI (it takes several minutes).
test-slow-harness: build
	./tests/slow_harness.sh $(BUILD)

# The main job: every lesson on this machine, then the plots and the report.
# QUICK=1 for smaller sweeps, OUT=DIR for where it goes.
tour: build
	./$(BUILD)/bench/pvt tour $(if $(QUICK),--quick) $(if $(OUT),--out $(OUT))

# Task mode alone: processes against threads (and GLib's GThreadPool as a
# reference) on no-op jobs and CPU-bound jobs, 1 worker to every core.
bench: build
	./$(BUILD)/bench/pvt bench --mode tasks --backend proc,thread,glib \
	    --workload noop,cpu:1M --repeat 7 $(if $(OUT),--out $(OUT))

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz

# ---- reliability: sanitizers, valgrind, fuzzing, soak -----------------------
# Each sanitizer has a build directory of its own. The runtime options:
# - handle_segv/sigbus/sigfpe=0: pvt's fault routes crash on purpose and the
#   tests check that the process died by SIGSEGV; the sanitizers find memory
#   errors at the faulting access, before any signal, so their signal
#   handlers would only turn a death by signal into an exit code.
# - halt_on_error=1: a forked child leaves by _exit, which skips the exit-time
#   report check, so the first report must end the process.
# - the suppression files say, entry by entry, why each is there.
SAN_SIGNALS = handle_segv=0:handle_sigbus=0:handle_sigfpe=0
ASAN_ENV = ASAN_OPTIONS=$(SAN_SIGNALS):detect_leaks=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
TSAN_ENV = TSAN_OPTIONS=$(SAN_SIGNALS):halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DPVT_ASAN=ON $(CMAKE_ARGS)
	cmake --build build-asan -j$$(nproc)
	cd build-asan && $(ASAN_ENV) ctest --output-on-failure

# The whole suite under ThreadSanitizer: the thread pool, the load
# generator's threads, the rings and every shared-memory path. But for
# test_mem and test_cost: they check RSS, PSS and USS against the sizes of
# known allocations, and TSan's shadow memory (several bytes for each byte
# the program touches) is counted in them.
TSAN_SKIP = ^(test_mem|test_cost)$$
test-tsan: deps
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DPVT_TSAN=ON $(CMAKE_ARGS)
	cmake --build build-tsan -j$$(nproc)
	cd build-tsan && $(TSAN_ENV) ctest --output-on-failure -E '$(TSAN_SKIP)'

# valgrind memcheck on the suites that need no worker process, and the fuzz
# corpora, from the plain build (valgrind cannot run sanitized binaries).
# Any error, and any definite leak, fails. The proc backend is left out:
# Debian 12's valgrind (3.19) does not know pidfd_open, so it cannot start.
VALGRIND_TESTS = test_parse test_res test_place test_work test_hist test_http test_sup \
	test_disp test_ring test_load
VALGRIND = valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--suppressions=$(CURDIR)/tests/valgrind.supp
test-valgrind: build
	@./scripts/deps.sh valgrind
	@set -e; for t in $(VALGRIND_TESTS); do \
	    echo "valgrind $$t"; timeout 600 $(VALGRIND) ./$(BUILD)/tests/$$t >/dev/null; \
	done; for f in $(FUZZ_TARGETS); do \
	    echo "valgrind fuzz_$$f (corpus)"; \
	    timeout 600 $(VALGRIND) ./$(BUILD)/tests/fuzz/fuzz_$$f tests/fuzz/corpus/$$f >/dev/null; \
	done

# libFuzzer, FUZZ_SECONDS per target from its seed corpus (tests/fuzz/corpus,
# read only: what a run discovers goes to build-fuzz/corpus), with the
# target's dictionary where there is one (tests/fuzz/NAME.dict). A crash leaves
# its input in build-fuzz/artifacts and fails the target.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS = http parse csv resp msg ctl
fuzz:
	@./scripts/deps.sh fuzz
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DPVT_FUZZ=ON
	cmake --build build-fuzz -j$$(nproc) --target $(FUZZ_TARGETS:%=fuzz_%)
	@set -e; mkdir -p build-fuzz/artifacts; for t in $(FUZZ_TARGETS); do \
	    mkdir -p build-fuzz/corpus/$$t; \
	    echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	    $(ASAN_ENV) ./build-fuzz/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	        -artifact_prefix=build-fuzz/artifacts/$$t- \
	        $$(test -f tests/fuzz/$$t.dict && echo -dict=tests/fuzz/$$t.dict) \
	        build-fuzz/corpus/$$t tests/fuzz/corpus/$$t 2>build-fuzz/fuzz_$$t.log || \
	        { tail -40 build-fuzz/fuzz_$$t.log; exit 1; }; \
	    grep -E '^stat::(number_of_executed_units|new_units_added)' build-fuzz/fuzz_$$t.log; \
	done

# Random SIGKILLs and crashes under load, SOAK_SECONDS long (not part of CI).
SOAK_SECONDS ?= 300
soak: build
	flock /tmp/pvt-bench.lock ./tests/soak.sh ./$(BUILD)/bench/pvt $(SOAK_SECONDS)
