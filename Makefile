# vit-edge: two commands for a new user.
#   make demo   installs the Debian packages if missing, builds, classifies the sample digits
#   make test   installs the same and runs every test (release build: SIMD code is slow in debug)

SWIFT   ?= swift
BIN     := .build/release/vit-edge
SUDO    := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
DEBS    := libxsimd-dev liblz4-dev libturbojpeg0-dev libspng-dev pkg-config
# The tests measure child processes' peak memory with GNU time; the C API's Python
# example (ctypes, standard library only) runs under python3.
TEST_DEBS := time python3
# The C library's soname follows the C ABI version (vit_edge.h).
SONAME  := libvitedge.so.$(shell sed -n 's/^\#define VIT_EDGE_ABI_VERSION \([0-9]*\)/\1/p' Sources/VitEdgeC/include/vit_edge.h)

.PHONY: wheel test-python test-python-aarch64 docs-check docs-numbers check-swift install uninstall bench-qs8-routes docs test-c-api test-aarch64-kernels test-aarch64-swift dist-aarch64 run-aarch64 mca tsan fuzz soak dist sanitize all deps deps-test build demo test test-accuracy models fixtures clean deps-aarch64 test-aarch64 test-kernels-native

all: build

# Debian packages the build needs (header-only xsimd, liblz4, the image codecs), each
# installed one printed on one line (apt's own output in .build/apt.log). Building needs
# Swift 6.x; the board the binary runs on needs nothing (make dist, make dist-aarch64).
deps: check-swift
	@tools/apt_install.sh $(DEBS)

deps-test: deps
	@tools/apt_install.sh $(TEST_DEBS)

check-swift:
	@command -v $(SWIFT) >/dev/null || { echo "make: '$(SWIFT)' not found. vit-edge is built with Swift 6.x: install the toolchain from https://www.swift.org/install/linux/ (a tarball, e.g. under /opt/swift, with its usr/bin on PATH) or Debian trixie's swiftlang package; the board needs nothing (make dist, make dist-aarch64)"; exit 1; }
	@$(SWIFT) --version 2>/dev/null | grep -qE 'Swift version (6|[7-9])\.' || { echo "make: vit-edge needs Swift 6.x; '$(SWIFT) --version' says: $$($(SWIFT) --version 2>&1 | head -1)"; exit 1; }

build: deps
	$(SWIFT) build -c release --product vit-edge

demo: build
	$(BIN) run models/mnist-vit.vitq models/photos/digit7.jpg
	$(BIN) info models/mnist-vit.vitq
	$(BIN) run models/mnist-vit.vitq models/samples/*.pgm --top-k 2
	$(BIN) eval models/mnist-vit.vitq --images models/mnist-test-images.idx3-ubyte.lz4 \
		--labels models/mnist-test-labels.idx1-ubyte.lz4

test: deps-test
	$(SWIFT) build -c release --product vit-edge
	$(SWIFT) build -c release --product vitedge
	$(SWIFT) test -c release --disable-swift-testing
	tools/public_api.sh --check
	tools/check_c_api.sh

# The C API alone: its examples (C, C++, Python ctypes) against `vit-edge run`, bad input,
# threads sharing a model.
test-c-api: deps-test
	$(SWIFT) build -c release --product vit-edge
	$(SWIFT) build -c release --product vitedge
	tools/check_c_api.sh

# The int8 accuracy checks on the whole 10k test split (make test runs them on 2,000
# images to stay within a few minutes); CI runs both.
test-accuracy: deps-test
	$(SWIFT) build -c release --product vit-edge
	VIT_EDGE_FULL_ACCURACY=1 $(SWIFT) test -c release --disable-swift-testing --filter QuantizationTests/testInt8AccuracyMatchesFP32

# ARM64: cross-build the C++ kernels with their conformance test and run it under
# qemu, on a CPU without dot product (Cortex-A72, as a Raspberry Pi 4) and with it
# (Cortex-A76, as a Raspberry Pi 5), for plain ARMv8-A and for ARMv8.2-A+dotprod builds.
CXX_A64   ?= clang++ --target=aarch64-linux-gnu
KERNELS   := $(wildcard Sources/VitKernels/*.cpp) Tests/KernelConformance/conformance.cpp
KFLAGS    := -O2 -std=c++17 -DNDEBUG -ISources/VitKernels/include -ISources/VitKernels
QEMU      := qemu-aarch64 -L /usr/aarch64-linux-gnu

deps-aarch64:
	@tools/apt_install.sh g++-aarch64-linux-gnu qemu-user libxsimd-dev binutils git

# ARM64: the C++ kernels' conformance test, then the whole engine (Swift included)
# cross-built in a Debian sid chroot and its XCTest suite (CLI tests included) run under
# qemu on Cortex-A72 (no dot product: a Pi 4) and Cortex-A76 (a Pi 5). See docs/ARM64.md.
test-aarch64: test-aarch64-kernels test-aarch64-swift

test-aarch64-kernels: deps-aarch64
	mkdir -p .build/aarch64
	$(CXX_A64) -march=armv8-a $(KFLAGS) $(KERNELS) -o .build/aarch64/conformance-armv8a
	$(CXX_A64) -march=armv8.2-a+dotprod $(KFLAGS) $(KERNELS) -o .build/aarch64/conformance-armv82dot
	$(QEMU) -cpu cortex-a72 .build/aarch64/conformance-armv8a --expect-dotprod no
	$(QEMU) -cpu cortex-a76 .build/aarch64/conformance-armv8a --expect-dotprod yes
	$(QEMU) -cpu cortex-a76 .build/aarch64/conformance-armv82dot --expect-dotprod yes
	$(QEMU) -cpu max .build/aarch64/conformance-armv82dot --expect-dotprod yes

test-aarch64-swift: deps-aarch64
	tools/aarch64_swift.sh root
	tools/aarch64_swift.sh build
	tools/aarch64_swift.sh test cortex-a72 cortex-a76

# The folder a Raspberry Pi user copies: dist/aarch64 (static Swift runtime, linked
# against Debian 13 trixie arm64: GLIBC_2.38 at most), run on a trixie userland under qemu.
# It is checked on a userland of only trixie's base libraries, on both CPUs, against the
# x86 build's answers on the sample digits.
dist-aarch64: deps-aarch64 build
	tools/aarch64_swift.sh root
	tools/aarch64_swift.sh dist dist/aarch64

# The board folder's binary under qemu with trixie's base libraries only (made first if
# missing): make -s run-aarch64 CPU=cortex-a72 ARGS="run models/mnist-vit-int8.vitq models/photos/digit7.jpg"
CPU ?= cortex-a72
run-aarch64: deps-aarch64
	@tools/aarch64_swift.sh root > /dev/null
	@tools/aarch64_swift.sh run $(CPU) $(ARGS)

# llvm-mca on every NEON microkernel's inner loop (cycles, MACs per cycle, share of peak):
# estimates for a Raspberry Pi 4 (A72, through LLVM's cortex-a57 model) and a Pi 5 (A76,
# through LLVM 19's neoverse-n1 model), and the ViT-Ti estimate that follows from them.
mca: deps-aarch64
	@tools/apt_install.sh llvm-19
	bash tools/mca_kernels.sh
	bash tools/mca_x86.sh

# Every int8 route this CPU runs, timed side by side (fastest of interleaved rounds).
bench-qs8-routes: deps
	mkdir -p .build/native
	clang++ $(KFLAGS) $(filter-out Tests/%,$(KERNELS)) tools/bench_qs8_routes.cpp -o .build/native/bench_qs8_routes
	taskset -c 1 .build/native/bench_qs8_routes

# The same conformance program on this machine's CPU (x86-64 routes).
test-kernels-native: deps
	mkdir -p .build/native
	clang++ $(KFLAGS) $(KERNELS) -o .build/native/conformance
	.build/native/conformance
	@# The AVX-VNNI kernel runs here only as its EVEX twin: check that the route itself
	@# holds nothing beyond AVX2 + AVX-VNNI (no EVEX: zmm, ymm16-31, mask registers).
	@objdump -d --no-show-raw-insn -C .build/native/conformance | awk '/ukernel_avxvnni<[0-9]>.*>:$$/{f=1;next} /^$$/{f=0} f' > .build/native/avxvnni.s
	@n=$$(grep -c '{vex} vpdpbusd' .build/native/avxvnni.s); bad=$$(grep -cE 'zmm|ymm(1[6-9]|2[0-9]|3[01])|%k[0-7]|evex' .build/native/avxvnni.s); \
	echo "AVX-VNNI kernel: $$n VEX vpdpbusd, $$bad EVEX instructions"; [ "$$n" -ge 12 ] && [ "$$bad" -eq 0 ]

# libFuzzer on every parser of outside data (Fuzz/), FUZZ_SECONDS each, starting from
# the committed seeds in Fuzz/Corpus. A crash, an allocation over 512 MB (inputs are at
# most 64 KiB: only a size taken from a header on trust gets there), an OOM or a timeout fails the target;
# its input lands in .build-fuzz/artifacts (commit it to Tests/VitEdgeTests/Fixtures/crashes).
FUZZ_SECONDS ?= 60
# CI fixes the seed and the number of inputs so its runs are reproducible: a crash it
# could find was found (and fixed) before it landed; explore further with `make fuzz`.
FUZZ_SEED ?= 0
FUZZ_RUNS ?= -1
# Targets side by side: each is one process on one core.
FUZZ_JOBS ?= $(shell nproc)
FUZZERS := FuzzVitq:vitq FuzzVitqHeader:vitq-header FuzzSafetensors:safetensors FuzzConfigJSON:config-json FuzzImage:image FuzzIDX:idx FuzzStream:stream FuzzJPEGPNG:jpeg-png FuzzCameraStream:camera FuzzPreprocess:preprocess FuzzFloatFields:float-fields FuzzSetPixels:set-pixels
fuzz: deps
	@mkdir -p .build-fuzz; set -e; for f in $(FUZZERS); do \
		echo "build $${f%%:*}"; \
		VIT_EDGE_FUZZ=1 $(SWIFT) build -c release --build-path .build-fuzz/build --manifest-cache none --product $${f%%:*} \
			-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library > .build-fuzz/build.log 2>&1 \
			|| { grep -E "error|warning" .build-fuzz/build.log || tail -20 .build-fuzz/build.log; exit 1; }; \
	done
	@mkdir -p .build-fuzz/artifacts
	@printf '%s\n' $(FUZZERS) | xargs -P $(FUZZ_JOBS) -I{} tools/fuzz_run.sh {} $(FUZZ_SECONDS) $(FUZZ_RUNS) $(FUZZ_SEED) \
		|| { echo "fuzz: a target failed (above)"; exit 1; }
	@echo "fuzz: every target ran clean"

# The threaded paths under ThreadSanitizer: two threads sharing one model (each with its
# own session) over the whole test split, one session's thread pool (2 threads), a
# camera stream's reader thread, and four threads sharing a model through the C API.
# The toolchain's Swift runtime (the static TSan runtime's libdispatch interceptors need it).
SWIFT_LIBS = $(shell dirname $$(readlink -f $$(command -v $(SWIFT))))/../lib/swift/linux
tsan: deps
	$(SWIFT) build -c release --product vit-edge --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 .build-tsan/release/vit-edge soak models/mnist-vit-int8.vitq \
		--images models/mnist-test-images.idx3-ubyte.lz4 --passes 1 --threads 2
	TSAN_OPTIONS=halt_on_error=1 .build-tsan/release/vit-edge soak models/mnist-vit.vitq \
		--images models/mnist-test-images.idx3-ubyte.lz4 --passes 1 --threads 2
	TSAN_OPTIONS=halt_on_error=1 .build-tsan/release/vit-edge eval models/mnist-vit-int8.vitq --threads 2 --batch 16 \
		--images models/mnist-test-images.idx3-ubyte.lz4 --labels models/mnist-test-labels.idx1-ubyte.lz4 --limit 2000
	TSAN_OPTIONS=halt_on_error=1 .build-tsan/release/vit-edge eval models/mnist-vit.vitq --threads 2 --batch 16 \
		--images models/mnist-test-images.idx3-ubyte.lz4 --labels models/mnist-test-labels.idx1-ubyte.lz4 --limit 2000
	# A camera stream: the frame reader thread handing the newest frame to the thread that
	# prepares it (InputPipeline), which hands it to the classifier; files the same way.
	head -c $$((300 * 28 * 28 * 3 / 2)) /dev/urandom | TSAN_OPTIONS=halt_on_error=1 .build-tsan/release/vit-edge run \
		models/mnist-vit.vitq - --raw yuv420p:28x28 --top-k 1 --threads 2 > /dev/null
	head -c $$((300 * 28 * 28)) /dev/urandom | TSAN_OPTIONS=halt_on_error=1 .build-tsan/release/vit-edge run \
		models/mnist-vit.vitq - --raw gray8:28x28 --frames all --top-k 1 --threads 2 > /dev/null
	TSAN_OPTIONS=halt_on_error=1 .build-tsan/release/vit-edge run models/mnist-vit.vitq models/samples models/photos \
		--top-k 1 --threads 2 > /dev/null
	# Batches prepared a batch ahead (InputPipeline's depth): run, embed, and eval of class
	# folders compared with the int8 file (the prepared tensor copied into its session).
	TSAN_OPTIONS=halt_on_error=1 .build-tsan/release/vit-edge run models/mnist-vit.vitq models/samples models/photos \
		--top-k 1 --threads 2 --batch 3 > /dev/null
	TSAN_OPTIONS=halt_on_error=1 .build-tsan/release/vit-edge embed models/mnist-vit-int8.vitq models/samples models/photos \
		--threads 2 --batch 4 > /dev/null
	rm -rf .build-tsan/classes && mkdir -p .build-tsan/classes/7 && cp models/samples/*digit7* models/photos/digit7.jpg .build-tsan/classes/7/
	TSAN_OPTIONS=halt_on_error=1 .build-tsan/release/vit-edge eval models/mnist-vit.vitq --images .build-tsan/classes \
		--compare models/mnist-vit-int8.vitq --threads 2 --batch 2 > /dev/null
	# One photo (640x480): its preprocessing split by rows across the session's pool.
	TSAN_OPTIONS=halt_on_error=1 .build-tsan/release/vit-edge run models/mnist-vit-int8.vitq models/photos/digit7.jpg \
		--top-k 1 --threads 2 > /dev/null
	# Through the C API: libvitedge built with TSan, four threads each with its own session
	# of one shared model (Tests/CAPI/threads.c, itself built with -fsanitize=thread).
	$(SWIFT) build -c release --product vitedge --sanitize=thread --scratch-path .build-tsan
	mkdir -p .build-tsan/capi
	clang -O1 -g -fsanitize=thread -std=c11 -ISources/VitEdgeC/include Tests/CAPI/threads.c \
		-L.build-tsan/release -lvitedge -lpthread -Wl,-rpath,$(CURDIR)/.build-tsan/release \
		-L$(SWIFT_LIBS) -ldispatch -lBlocksRuntime -Wl,-rpath,$(SWIFT_LIBS) -o .build-tsan/capi/threads
	TSAN_OPTIONS=halt_on_error=1 .build-tsan/capi/threads models/mnist-vit-int8.vitq models/samples/*.pgm models/photos/*
	TSAN_OPTIONS=halt_on_error=1 .build-tsan/capi/threads models/mnist-mixer.vitq models/samples/*.pgm

# Many thousands of inferences in one process from several threads sharing one model:
# the whole test split ten times; resident memory is printed at start and end.
soak: build
	$(BIN) soak models/mnist-vit-int8.vitq --images models/mnist-test-images.idx3-ubyte.lz4 --passes 10 --threads 2

# A release binary with the Swift runtime linked statically: copy it to a board of the
# same architecture; it needs only glibc, libstdc++, liblz4, libturbojpeg and libspng there.
dist: deps
	$(SWIFT) build -c release --product vit-edge --static-swift-stdlib --scratch-path .build-dist
	mkdir -p dist
	cp .build-dist/release/vit-edge dist/vit-edge
	strip dist/vit-edge
	@ls -l dist/vit-edge | awk '{print "dist/vit-edge: " $$5 " bytes (stripped, static Swift runtime)"}'
	@/usr/bin/env time -f "peak RSS of vit-edge run (int8 MNIST): %M KiB" dist/vit-edge run models/mnist-vit-int8.vitq models/samples/test-00000-digit7.pgm >/dev/null
	# The C library: the Swift runtime linked in statically, only vit_* exported; checked by
	# building the C example against dist/ and running it with an empty environment.
	$(SWIFT) build -c release --product vitedge -Xswiftc -static-stdlib -Xlinker -soname=$(SONAME) \
		-Xlinker --version-script=$(CURDIR)/Sources/VitEdgeC/exports.map --scratch-path .build-dist
	rm -rf dist/lib dist/include && mkdir -p dist/lib/pkgconfig dist/include
	cp .build-dist/release/libvitedge.so dist/lib/$(SONAME) && strip --strip-unneeded dist/lib/$(SONAME)
	ln -sf $(SONAME) dist/lib/libvitedge.so
	cp Sources/VitEdgeC/include/vit_edge.h Sources/VitEdgeC/include/vit_edge.hpp dist/include/
	tools/write_pc.sh --relocatable > dist/lib/pkgconfig/vitedge.pc
	@ls -l dist/lib/$(SONAME) | awk '{print "dist/lib/$(SONAME): " $$5 " bytes (stripped, static Swift runtime)"}'
	@! ldd dist/lib/$(SONAME) | grep -i swift || { echo "dist: libvitedge.so needs the Swift runtime"; exit 1; }
	@test "$$(nm -D --defined-only dist/lib/$(SONAME) | awk '$$2 == "T"' | grep -vc ' vit_')" = 0 || { echo "dist: libvitedge.so exports more than vit_*"; exit 1; }
	@readelf -d dist/lib/$(SONAME) | grep -q 'SONAME.*$(SONAME)' || { echo "dist: libvitedge.so lacks its soname $(SONAME)"; exit 1; }
	# Built with the pkg-config line the docs give, run from another folder.
	clang -O2 -std=c11 examples/c/classify.c $$(PKG_CONFIG_PATH=$(CURDIR)/dist/lib/pkgconfig pkg-config --cflags --libs vitedge) -lm -o .build-dist/classify-example
	cd / && env -i $(CURDIR)/.build-dist/classify-example $(CURDIR)/models/mnist-vit-int8.vitq $(addprefix $(CURDIR)/,$(wildcard models/samples/*.pgm)) > $(CURDIR)/.build-dist/c-example.txt
	cd / && $(CURDIR)/dist/vit-edge run $(CURDIR)/models/mnist-vit-int8.vitq $(addprefix $(CURDIR)/,$(wildcard models/samples/*.pgm)) > $(CURDIR)/.build-dist/cli.txt
	cmp .build-dist/c-example.txt .build-dist/cli.txt && echo "dist: the C example built with dist's pkg-config line prints what dist/vit-edge prints"
	# The static library: Swift runtime inside, only vit_* global (tools/make_static_lib.sh).
	$(SWIFT) build -c release --product vitedge_static -Xswiftc -static-stdlib \
		-Xlinker --version-script=$(CURDIR)/Sources/VitEdgeC/exports.map --scratch-path .build-dist
	tools/make_static_lib.sh .build-dist/release/libvitedge_static.a dist/lib/libvitedge.a
	@ls -l dist/lib/libvitedge.a | awk '{print "dist/lib/libvitedge.a: " $$5 " bytes"}'
	clang -O2 -std=c11 -Idist/include examples/c/classify.c dist/lib/libvitedge.a \
		-lstdc++ -lm -ldl -lpthread -llz4 -lturbojpeg -lspng -o .build-dist/classify-static
	@! ldd .build-dist/classify-static | grep -i -e swift -e vitedge || { echo "dist: the static example needs a shared library"; exit 1; }
	cd / && env -i $(CURDIR)/.build-dist/classify-static $(CURDIR)/models/mnist-vit-int8.vitq $(addprefix $(CURDIR)/,$(wildcard models/samples/*.pgm)) > $(CURDIR)/.build-dist/c-static.txt
	cmp .build-dist/c-static.txt .build-dist/cli.txt && echo "dist: the C example linked with dist/lib/libvitedge.a prints what dist/vit-edge prints"

# Installs like a C library: the CLI, libvitedge.so (soname $(SONAME)) and libvitedge.a,
# the headers and a pkg-config file, under $(DESTDIR)$(PREFIX); `make uninstall` removes
# exactly those files. Build a program with
#   cc app.c $$(pkg-config --cflags --libs vitedge)
# (PKG_CONFIG_PATH=$(PREFIX)/lib/pkgconfig for a prefix pkg-config does not search).
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALLED := bin/vit-edge lib/$(SONAME) lib/libvitedge.so lib/libvitedge.a include/vit_edge.h include/vit_edge.hpp lib/pkgconfig/vitedge.pc
install: dist
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 dist/vit-edge $(DESTDIR)$(PREFIX)/bin/vit-edge
	install -m 755 dist/lib/$(SONAME) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libvitedge.so
	install -m 644 dist/lib/libvitedge.a $(DESTDIR)$(PREFIX)/lib/libvitedge.a
	install -m 644 dist/include/vit_edge.h dist/include/vit_edge.hpp $(DESTDIR)$(PREFIX)/include/
	tools/write_pc.sh $(PREFIX) > $(DESTDIR)$(PREFIX)/lib/pkgconfig/vitedge.pc
	@echo "installed under $(DESTDIR)$(PREFIX): $(INSTALLED)"
	@[ -n "$(DESTDIR)" ] || [ "$$(id -u)" != 0 ] || ! command -v ldconfig >/dev/null || ldconfig

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALLED))
	@echo "removed from $(DESTDIR)$(PREFIX): $(INSTALLED)"

# The Python package `vitedge` as wheels (tools/make_wheel.py): the module of python/vitedge
# and libvitedge.so.1 with the codecs and LZ4 beside it (found through its RUNPATH $$ORIGIN),
# tagged with the newest glibc they need. x86-64 from make dist; aarch64 from make
# dist-aarch64's folder (and trixie's liblz4) when that has been made.
X86_LIBDIR := /usr/lib/x86_64-linux-gnu
A64_LIBDIR := .build-aarch64/root/opt/trixie-arm64/usr/lib/aarch64-linux-gnu
wheel: dist
	@tools/apt_install.sh binutils python3 patchelf
	python3 tools/make_wheel.py --arch x86_64 --lib dist/lib/$(SONAME) \
		--bundle $(X86_LIBDIR)/libturbojpeg.so.0 $(X86_LIBDIR)/libspng.so.0 $(X86_LIBDIR)/liblz4.so.1
	@if [ -f dist/aarch64/lib/$(SONAME) ] && [ -f $(A64_LIBDIR)/liblz4.so.1 ]; then \
		python3 tools/make_wheel.py --arch aarch64 --lib dist/aarch64/lib/$(SONAME) \
			--bundle dist/aarch64/lib/libturbojpeg.so.0 dist/aarch64/lib/libspng.so.0 $(A64_LIBDIR)/liblz4.so.1 $(A64_LIBDIR)/libxxhash.so.0; \
	else echo "wheel: no aarch64 wheel (make dist-aarch64 first)"; fi

# The x86-64 wheel installed into a fresh venv (pip, from PyPI: numpy, pytest) and its tests
# run there, against dist/vit-edge's results (python/tests).
test-python: wheel
	@tools/apt_install.sh python3 python3-venv
	rm -rf .build/venv-wheel && python3 -m venv .build/venv-wheel
	.build/venv-wheel/bin/pip install -q --disable-pip-version-check pytest==8.3.4 numpy dist/wheels/vitedge-*_x86_64.whl
	cd python/tests && VITEDGE_EXPECT_INSTALLED=1 VITEDGE_CLI=$(CURDIR)/dist/vit-edge $(CURDIR)/.build/venv-wheel/bin/python -m pytest -q -p no:cacheprovider .

# The aarch64 wheel installed with pip into a trixie arm64 userland (Debian's python3,
# python3-numpy, python3-pip, python3-pytest, unpacked) and python/tests run under qemu on a
# Pi 4's and a Pi 5's CPU against the board folder's vit-edge; a subset (3 sample digits, no
# threads test: they run natively), ~15 s per CPU.
test-python-aarch64: deps-aarch64 wheel
	@tools/aarch64_swift.sh root > /dev/null
	tools/aarch64_swift.sh test-wheel cortex-a72 cortex-a76

# The docs as code: every example in README.md and docs/ runs and shows what it prints
# (byexample), every marked figure equals what its command prints (docs/numbers.json),
# and every build line compiles and runs against an installed tree (tools/docs_check.sh).
docs-check: build dist
	@tools/apt_install.sh python3 python3-venv pkg-config time g++
	$(SWIFT) build -c release --product vitedge
	tools/docs_check.sh

# Regenerates the marked figures from their commands (docs/numbers.json): the exact and
# size ones; MACHINE=1 also the timings and memory of this host (say which host in the docs).
docs-numbers: build dist
	python3 tools/docs_numbers.py --update $(if $(MACHINE),--machine)

# The whole test suite under AddressSanitizer. LeakSanitizer is off: its only reports
# are one-time allocations of the Swift runtime, XCTest and Foundation.Process (weak
# references), none in vit-edge; leaks are checked by `make soak` (flat RSS) instead.
sanitize: deps-test
	VIT_EDGE_SANITIZED=1 ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test -c release --disable-swift-testing --sanitize=address --scratch-path .build-asan

# The Swift API's documentation as a DocC archive (.build/docs/VitEdge.doccarchive): the
# public symbols' graph from the compiler, then the toolchain's docc, warnings as errors
# (a broken ``link`` fails). No plugin dependency (see docs/API.md). Serve it with
# `docc preview` or any static web server after `docc process-archive transform-for-static-hosting`.
docs: deps
	rm -rf .build-docs/graphs && mkdir -p .build-docs/graphs
	$(SWIFT) build --target VitEdge --scratch-path .build-docs -Xswiftc -emit-symbol-graph \
		-Xswiftc -emit-symbol-graph-dir -Xswiftc $(CURDIR)/.build-docs/graphs \
		-Xswiftc -symbol-graph-minimum-access-level -Xswiftc public
	mkdir -p .build/docs
	docc convert Sources/VitEdge/VitEdge.docc --additional-symbol-graph-dir .build-docs/graphs \
		--fallback-display-name VitEdge --fallback-bundle-identifier vit-edge.VitEdge \
		--warnings-as-errors --output-path .build/docs/VitEdge.doccarchive
	@echo "docs: .build/docs/VitEdge.doccarchive"

# Regenerate the shipped .vitq from the committed checkpoint (deterministic).
models: build
	$(BIN) convert models/mnist-vit/model.safetensors --config models/mnist-vit/config.json -o models/mnist-vit.vitq
	$(BIN) quantize models/mnist-vit.vitq -o models/mnist-vit-int8.vitq --calibration models/mnist-calibration-images.idx3-ubyte.lz4
	$(BIN) convert models/mnist-mixer/model.safetensors --config models/mnist-mixer/config.json -o models/mnist-mixer.vitq
	$(BIN) quantize models/mnist-mixer.vitq -o models/mnist-mixer-int8.vitq --calibration models/mnist-calibration-images.idx3-ubyte.lz4

# Regenerate PyTorch fixtures (needs tools/requirements.txt; not part of make test).
fixtures:
	python3 tools/make_fixtures.py

clean:
	rm -rf .build
