# A thin wrapper around CMake: the two commands of the README's quick start,
# and a few conveniences. The build itself is described in CMakeLists.txt.

BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_ARGS ?=
OUT        ?=

.PHONY: all deps build test bench clean

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

# The main job for now: processes against threads (and GLib's GThreadPool as a
# reference) on no-op jobs and CPU-bound jobs, 1 worker to every core.
bench: build
	./$(BUILD)/bench/pvt bench --mode tasks --backend proc,thread,glib \
	    --workload noop,cpu:1M --repeat 7 $(if $(OUT),--out $(OUT))

clean:
	rm -rf $(BUILD)
