#!/bin/bash
# The whole engine for ARM64: a Debian sid chroot (amd64 Swift 6.2.3 with the arm64 Swift
# runtime of the same version as a Swift SDK) cross-builds the CLI and the XCTest bundle,
# and qemu runs them on the CPUs of the boards. See docs/ARM64.md.
#
#   tools/aarch64_swift.sh root            make the chroot (once; ~2 min, 6.5 GB)
#   tools/aarch64_swift.sh build           copy the working tree in, build CLI + tests (~2 min)
#   tools/aarch64_swift.sh test CPU...     run the test bundle under qemu -cpu CPU (~9 min)
#   tools/aarch64_swift.sh run CPU ARGS    the board folder's binary under qemu, trixie base libraries only
#   tools/aarch64_swift.sh dist DIR        the folder a board user copies: a static binary
#                                          linked against Debian 13 (trixie) arm64, the model
#
# Needs root (mmdebstrap, chroot, bind mounts of /proc and /dev while building) and
# qemu-user. The chroot lives in .build-aarch64/root (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
ROOT=${AARCH64_ROOT:-$REPO/.build-aarch64/root}
A64=/opt/a64                                  # the arm64 Swift runtime, inside the chroot
RUNTIME=$A64/usr/libexec/swift/lib/swift/linux
TRIPLE=aarch64-unknown-linux-gnu
OUT=$ROOT/src/.build/$TRIPLE/release
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
APT_OPTS=(-o Acquire::Check-Valid-Until=false)  # sid's index here has an expired Valid-Until

in_root() {
    # Run a command in the chroot with /proc and /dev mounted only for its duration.
    for m in proc dev; do mountpoint -q "$ROOT/$m" || $SUDO mount --bind "/$m" "$ROOT/$m"; done
    local rc=0
    $SUDO chroot "$ROOT" env PKG_CONFIG_PATH=/usr/lib/aarch64-linux-gnu/pkgconfig \
        PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig bash -o pipefail -c "$1" || rc=$?
    unmount
    return $rc
}

unmount() {
    for m in proc dev; do if mountpoint -q "$ROOT/$m"; then $SUDO umount "$ROOT/$m"; fi; done
}
trap unmount EXIT

make_root() {
    # (Checked by real paths: the chroot's symlinks point inside it, not at the host.)
    if [ -f "$ROOT/.vit-edge-ready" ] && [ -e "$ROOT/usr/libexec/swift/bin/swift" ]; then echo "aarch64 root: ready ($ROOT)"; return; fi
    command -v mmdebstrap >/dev/null || { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap; }
    $SUDO rm -rf "$ROOT"
    mkdir -p "$(dirname "$ROOT")"
    # amd64 Swift and toolchain, arm64 headers and libraries of everything the engine links.
    $SUDO mmdebstrap --variant=apt --architectures=amd64,arm64 --aptopt='Acquire::Check-Valid-Until "false"' \
        --include=swiftlang,git,lld,pkgconf,ca-certificates,libc6-dev,libstdc++-14-dev,libc6-dev:arm64,libstdc++-14-dev:arm64,liblz4-dev:arm64,libturbojpeg0-dev:arm64,libspng-dev:arm64 \
        sid "$ROOT" http://deb.debian.org/debian
    # The arm64 Swift runtime of the same version, unpacked (not installed) as the SDK.
    in_root "apt-get ${APT_OPTS[*]} update -qq && cd /tmp && apt-get ${APT_OPTS[*]} download -qq swiftlang:arm64 libswiftlang:arm64 \
        && mkdir -p $A64 && for d in /tmp/*_arm64.deb; do dpkg-deb -x \$d $A64; done && rm -f /tmp/*.deb"
    # Traps met (docs/ARM64.md): the linker looks for swiftrt.o and the static runtime under
    # the host's resource folders; the arm64 package lacks lib_Testing_Foundation.so, which
    # XCTest's bundle links even with swift-testing off (an empty stub stands in).
    $SUDO ln -sfn $A64/usr/libexec/swift/lib/swift/linux/aarch64 "$ROOT/usr/libexec/swift/lib/swift/linux/aarch64"
    $SUDO ln -sfn $A64/usr/libexec/swift/lib/swift_static "$ROOT/usr/lib/swift_static"
    in_root "echo 'void vit_edge_testing_foundation_stub(void) {}' > /tmp/stub.c && \
        /usr/libexec/swift/bin/clang --target=aarch64-linux-gnu -fuse-ld=lld -shared -nostdlib -o $RUNTIME/lib_Testing_Foundation.so /tmp/stub.c"
    # xsimd 8.1 (Debian 12's, what the kernels are written for; sid has 14.x).
    [ -d /usr/include/xsimd ] || { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxsimd-dev; }
    $SUDO cp -r /usr/include/xsimd "$ROOT/usr/include/xsimd"
    # Swift packages: the same local mirror as the host (git's url.insteadOf), copied in.
    local mirror
    mirror=$(git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null | awk '$2 == "https://github.com/" {print $1}' | sed 's/^url\.//; s/\.insteadof$//' | head -1)
    if [ -n "$mirror" ] && [ -d "$mirror/apple/swift-argument-parser.git" ]; then
        $SUDO mkdir -p "$ROOT$mirror/apple"
        $SUDO cp -r "$mirror/apple/swift-argument-parser.git" "$ROOT$mirror/apple/"
        printf '[url "%s"]\n\tinsteadOf = https://github.com/\n' "$mirror" | $SUDO tee "$ROOT/etc/gitconfig" >/dev/null
    fi
    # The SDK bundle: target runtime from $A64, headers and libraries from the chroot's arm64 multiarch.
    local b=$ROOT/opt/sdk/aarch64.artifactbundle
    $SUDO mkdir -p "$b/sdk"
    $SUDO tee "$b/info.json" >/dev/null <<EOF
{ "schemaVersion": "1.0", "artifacts": { "debian-sid-aarch64": { "type": "swiftSDK", "version": "6.2.3",
  "variants": [{ "path": "sdk", "supportedTriples": ["x86_64-pc-linux-gnu", "x86_64-unknown-linux-gnu"] }] } } }
EOF
    $SUDO tee "$b/sdk/swift-sdk.json" >/dev/null <<EOF
{ "schemaVersion": "4.0", "targetTriples": { "$TRIPLE": { "sdkRootPath": "/",
  "swiftResourcesPath": "$A64/usr/libexec/swift/lib/swift",
  "swiftStaticResourcesPath": "$A64/usr/libexec/swift/lib/swift_static", "toolsetPaths": ["toolset.json"] } } }
EOF
    $SUDO tee "$b/sdk/toolset.json" >/dev/null <<EOF
{ "schemaVersion": "1.0", "swiftCompiler": { "extraCLIOptions": ["-use-ld=lld"] }, "linker": { "path": "/usr/libexec/swift/bin/ld.lld" } }
EOF
    in_root "swift sdk install /opt/sdk/aarch64.artifactbundle >/dev/null && swift sdk list"
    make_trixie_sysroot
    $SUDO touch "$ROOT/.vit-edge-ready"
    echo "aarch64 root: made ($ROOT, $(du -sh "$ROOT" | cut -f1))"
}

# A binary linked in sid needs sid's glibc (2.43); boards run Debian 13 / Raspberry Pi OS
# trixie (2.41). So the board binary links against a trixie arm64 sysroot (its .debs
# unpacked, not installed), with the Swift runtime static (it needs GLIBC_2.38).
TRIXIE=/opt/trixie-arm64
RUNTIME_ROOT=/opt/trixie-runtime
make_trixie_sysroot() {
    in_root "set -e; mkdir -p /opt/trixie-apt/lists/partial /opt/trixie-apt/cache/archives/partial && touch /opt/trixie-apt/status
        echo 'deb [arch=arm64] http://deb.debian.org/debian trixie main' > /opt/trixie-apt/sources.list
        A='-o Dir::Etc::SourceList=/opt/trixie-apt/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=/opt/trixie-apt/lists -o Dir::State::Status=/opt/trixie-apt/status -o Dir::Cache=/opt/trixie-apt/cache -o APT::Architecture=arm64 -o APT::Architectures=arm64 ${APT_OPTS[*]}'
        apt-get \$A update -qq
        cd /opt/trixie-apt/cache && apt-get \$A download -qq libc6 libc6-dev linux-libc-dev libgcc-s1 libgcc-14-dev libstdc++6 libstdc++-14-dev \
            liblz4-1 liblz4-dev libturbojpeg0 libturbojpeg0-dev libspng0 libspng-dev zlib1g zlib1g-dev libxxhash0 libxxhash-dev \
            libasan8 libtsan2 libubsan1 libhwasan0 liblsan0 libitm1 libatomic1 libgomp1 2>&1 | grep -v unsandboxed || true
        mkdir -p $TRIXIE && for d in /opt/trixie-apt/cache/*.deb; do dpkg-deb -x \$d $TRIXIE; done
        ln -sfn usr/lib $TRIXIE/lib && ln -sfn $A64/usr/libexec/swift/lib/swift_static $TRIXIE/usr/lib/swift_static
        cp -r /usr/include/xsimd $TRIXIE/usr/include/xsimd
        # What every Debian 13 / Raspberry Pi OS trixie system has, and nothing else: the
        # userland the board folder is checked on.
        mkdir -p $RUNTIME_ROOT && for p in libc6_ libstdc++6_ libgcc-s1_ liblz4-1_ libxxhash0_ zlib1g_; do
            dpkg-deb -x /opt/trixie-apt/cache/\$p*.deb $RUNTIME_ROOT; done
        ln -sfn usr/lib $RUNTIME_ROOT/lib"
    local b=$ROOT/opt/sdk/trixie-aarch64.artifactbundle
    $SUDO mkdir -p "$b/sdk"
    echo '{ "schemaVersion": "1.0", "artifacts": { "debian-trixie-aarch64": { "type": "swiftSDK", "version": "6.2.3",
  "variants": [{ "path": "sdk", "supportedTriples": ["x86_64-pc-linux-gnu", "x86_64-unknown-linux-gnu"] }] } } }' | $SUDO tee "$b/info.json" >/dev/null
    echo "{ \"schemaVersion\": \"4.0\", \"targetTriples\": { \"$TRIPLE\": { \"sdkRootPath\": \"$TRIXIE\",
  \"swiftResourcesPath\": \"$A64/usr/libexec/swift/lib/swift\",
  \"swiftStaticResourcesPath\": \"$A64/usr/libexec/swift/lib/swift_static\", \"toolsetPaths\": [\"toolset.json\"] } } }" | $SUDO tee "$b/sdk/swift-sdk.json" >/dev/null
    $SUDO cp "$ROOT/opt/sdk/aarch64.artifactbundle/sdk/toolset.json" "$b/sdk/"
    in_root "swift sdk list | grep -q debian-trixie-aarch64 || swift sdk install /opt/sdk/trixie-aarch64.artifactbundle >/dev/null"
}

dist() {
    local dir=${1:-dist/aarch64}
    local soname
    soname=libvitedge.so.$(sed -n 's/^#define VIT_EDGE_ABI_VERSION \([0-9]*\)/\1/p' Sources/VitEdgeC/include/vit_edge.h)
    sync_tree
    [ -d "$ROOT$RUNTIME_ROOT/lib" ] || make_trixie_sysroot
    local t0=$SECONDS
    in_root "cd /src && env PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=$TRIXIE PKG_CONFIG_LIBDIR=$TRIXIE/usr/lib/aarch64-linux-gnu/pkgconfig \
        swift build -c release --product vit-edge --swift-sdk debian-trixie-aarch64 --static-swift-stdlib \
        -Xlinker -rpath -Xlinker '\$ORIGIN/lib' --scratch-path /src/.build-trixie > /tmp/dist.log 2>&1; rc=\$?; grep -E 'error:|Build complete' /tmp/dist.log | tail -20; exit \$rc"
    # The C library (docs/API.md): Swift runtime linked in, only vit_* exported. (The
    # driver looks for static-stdlib-args.lnk in the resource folder it is given: the
    # static one, which SwiftPM's --static-swift-stdlib passes only for executables.)
    in_root "cd /src && env PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=$TRIXIE PKG_CONFIG_LIBDIR=$TRIXIE/usr/lib/aarch64-linux-gnu/pkgconfig \
        swift build -c release --product vitedge --swift-sdk debian-trixie-aarch64 -Xswiftc -static-stdlib -Xlinker -soname=$soname \
        -Xswiftc -resource-dir -Xswiftc $A64/usr/libexec/swift/lib/swift_static \
        -Xlinker --version-script=/src/Sources/VitEdgeC/exports.map --scratch-path /src/.build-trixie > /tmp/dist-lib.log 2>&1; rc=\$?; grep -E 'error:|Build complete' /tmp/dist-lib.log | tail -20; exit \$rc"
    echo "aarch64 dist build: $((SECONDS - t0)) s"
    rm -rf "$dir" && mkdir -p "$dir/lib/pkgconfig" "$dir/include" "$dir/examples"
    in_root "/usr/libexec/swift/bin/llvm-objcopy --strip-all /src/.build-trixie/$TRIPLE/release/vit-edge /tmp/vit-edge.stripped \
        && /usr/libexec/swift/bin/llvm-objcopy --strip-unneeded /src/.build-trixie/$TRIPLE/release/libvitedge.so /tmp/libvitedge.so"
    cp "$ROOT/tmp/vit-edge.stripped" "$dir/vit-edge"
    cp "$ROOT/tmp/libvitedge.so" "$dir/lib/$soname"
    ln -sf "$soname" "$dir/lib/libvitedge.so"
    cp Sources/VitEdgeC/include/vit_edge.h Sources/VitEdgeC/include/vit_edge.hpp "$dir/include/"
    tools/write_pc.sh --relocatable > "$dir/lib/pkgconfig/vitedge.pc"
    cp examples/c/classify.c "$dir/examples/"
    # The image codecs travel with it (found through the binary's RUNPATH $ORIGIN/lib);
    # what stays outside is on every trixie system.
    for l in libturbojpeg.so.0 libspng.so.0; do cp -L "$ROOT$TRIXIE/usr/lib/aarch64-linux-gnu/$l" "$dir/lib/$l"; done
    cp models/mnist-vit.vitq models/mnist-vit-int8.vitq models/photos/digit7.jpg "$dir/"
    local glibc libs
    glibc=$(readelf -V --wide "$dir/vit-edge" "$dir"/lib/*.so* | grep -o 'GLIBC_2\.[0-9]*' | sort -V | uniq | tail -1)
    libs=$(readelf -d "$dir/vit-edge" | awk '/NEEDED/ {print $5}' | tr -d '[]' | tr '\n' ' ')
    cat > "$dir/README.txt" <<EOF
vit-edge for 64-bit ARM Linux boards (Raspberry Pi 4 and 5, other ARMv8-A boards).

Runs on Debian 13 (trixie) arm64, Raspberry Pi OS trixie (64-bit) and later: it needs
$glibc or newer. Not on Debian 12 / Raspberry Pi OS bookworm (glibc 2.36) or Ubuntu
22.04 / JetPack 6 (glibc 2.35): the Swift runtime linked into it needs glibc 2.38.

  ./vit-edge run mnist-vit-int8.vitq digit7.jpg
  ./vit-edge info mnist-vit-int8.vitq        # the kernels chosen for this CPU

The C API (docs/API.md): lib/libvitedge.so and include/vit_edge.h (C++: vit_edge.hpp),
with a pkg-config file (give pkg-config this folder's absolute path):

  cc examples/classify.c \$(PKG_CONFIG_PATH=\$PWD/lib/pkgconfig pkg-config --cflags --libs vitedge) -lm -o classify
  ./classify mnist-vit-int8.vitq digit7.jpg

Nothing to install: the Swift runtime is linked in, libturbojpeg and libspng are in lib/,
and the rest ($libs) is on every such system.
EOF
    echo "aarch64 dist: $dir ($(du -sh "$dir" | cut -f1) in all, binary $(du -h "$dir/vit-edge" | cut -f1), needs $glibc; NEEDED: $libs)"
    check_dist "$dir"
}

# The folder on a userland of only what every trixie system has (no codecs, no Swift),
# on both CPUs: the 12 sample digits as the x86 build classifies them.
check_dist() {
    local dir=$1 native=$REPO/.build/release/vit-edge status=0
    for cpu in cortex-a72 cortex-a76; do
        for m in mnist-vit mnist-vit-int8; do
            qemu-aarch64 -cpu $cpu -L "$ROOT$RUNTIME_ROOT" "$dir/vit-edge" run "$dir/$m.vitq" models/samples/*.pgm "$dir/digit7.jpg" \
                --json --top-k 1 > "$REPO/.build-aarch64/dist-$cpu-$m.jsonl" || status=1
            if [ -x "$native" ]; then
                "$native" run "models/$m.vitq" models/samples/*.pgm "$dir/digit7.jpg" --json --top-k 1 > "$REPO/.build-aarch64/dist-x86-$m.jsonl"
                # Same label for every image; probabilities within 1e-5 (fp32) or 5e-3 (int8:
                # the fp32 steps between int8 layers differ by ulps between ISAs, which can
                # move an activation across a quantization step: 8.2e-5 against a Zen 4's
                # VNNI route, 1.2e-3 against a Zen 3's AVX2 route).
                local tol=1e-5; [ "$m" = mnist-vit-int8 ] && tol=5e-3
                paste -d '\n' "$REPO/.build-aarch64/dist-x86-$m.jsonl" "$REPO/.build-aarch64/dist-$cpu-$m.jsonl" \
                    | sed 's/.*"label":"\([^"]*\)","probability":\([-0-9.e]*\).*/\1 \2/' \
                    | awk -v what="$cpu $m" -v tol=$tol 'NR % 2 { l = $1; p = $2; next }
                        { n++; if ($1 != l) bad++; d = $2 - p; if (d < 0) d = -d; if (d > max) max = d }
                        END { printf "  %s (trixie userland): %d images, %d labels differ from x86, max |probability diff| %.2g\n", what, n, bad, max;
                              exit (bad > 0 || max > tol + 0 || n != 13) }' || status=1
            fi
        done
    done
    # The C example built against the folder's library and header (as a board user would,
    # here cross-compiled against the trixie sysroot) prints what the folder's CLI prints.
    in_root "/usr/libexec/swift/bin/clang --target=aarch64-linux-gnu --sysroot=$TRIXIE -fuse-ld=lld -O2 -std=c11 \
        -I/src/Sources/VitEdgeC/include /src/examples/c/classify.c -L/src/.build-trixie/$TRIPLE/release -lvitedge -lm \
        -Wl,-rpath,'\$ORIGIN/lib' -o /tmp/classify-example" || status=1
    cp "$ROOT/tmp/classify-example" "$dir/classify-example"
    for cpu in cortex-a72 cortex-a76; do
        if (cd "$dir" && cmp <(qemu-aarch64 -cpu $cpu -L "$ROOT$RUNTIME_ROOT" ./classify-example mnist-vit-int8.vitq digit7.jpg) \
                             <(qemu-aarch64 -cpu $cpu -L "$ROOT$RUNTIME_ROOT" ./vit-edge run mnist-vit-int8.vitq digit7.jpg)); then
            echo "  $cpu: the C example against lib/libvitedge.so prints what vit-edge run prints"
        else
            echo "  $cpu: the C example against lib/libvitedge.so differs from vit-edge run"; status=1
        fi
    done
    rm -f "$dir/classify-example"
    # Peak memory of one run under qemu (the emulator's own memory included).
    /usr/bin/time -f "  peak RSS of run on the int8 model under qemu (emulator included): %M KiB" \
        qemu-aarch64 -cpu cortex-a72 -L "$ROOT$RUNTIME_ROOT" "$dir/vit-edge" run "$dir/mnist-vit-int8.vitq" "$dir/digit7.jpg" > /dev/null
    return $status
}

sync_tree() {
    # The working tree (tracked and untracked, not ignored), as it is now. The source
    # folders are emptied first so a file deleted or moved here is gone there too (tar
    # keeps modification times, so the build stays incremental).
    $SUDO mkdir -p "$ROOT/src"
    $SUDO rm -rf "$ROOT/src/Sources" "$ROOT/src/Tests" "$ROOT/src/Fuzz" "$ROOT/src/Benchmarks"
    git ls-files -co --exclude-standard -z | tar --null -cf - -T - | $SUDO tar -xf - -C "$ROOT/src"
}

build() {
    sync_tree
    local t0=$SECONDS
    in_root "cd /src && swift build -c release --build-tests --disable-swift-testing -Xswiftc -enable-testing \
        --swift-sdk debian-sid-aarch64 > /tmp/build.log 2>&1; rc=\$?; grep -E 'error:|Build complete' /tmp/build.log | tail -20; exit \$rc"
    echo "aarch64 build: $((SECONDS - t0)) s"
    [ -x "$OUT/vit-edge" ] && [ -x "$OUT/vit-edgePackageTests.xctest" ] || { echo "aarch64 build failed"; exit 1; }
}

qemu() {  # qemu() CPU PROGRAM ARGS...
    local cpu=$1; shift
    qemu-aarch64 -cpu "$cpu" -L "$ROOT" -E LD_LIBRARY_PATH=$RUNTIME "$@"
}

run_tests() {
    # The CLI tests start vit-edge as a child: through this wrapper (qemu in front of it; a
    # host script, which the emulated process can exec as the kernel runs it natively).
    local wrapper=$REPO/.build-aarch64/vit-edge-qemu.sh
    cat > "$wrapper" <<EOF
#!/bin/sh
exec qemu-aarch64 -cpu "\${VIT_EDGE_QEMU_CPU:-cortex-a72}" -L "$ROOT" -E LD_LIBRARY_PATH=$RUNTIME "$OUT/vit-edge" "\$@"
EOF
    chmod +x "$wrapper"
    # The CPUs run side by side (each qemu mostly uses one core), each into its own log.
    local t0=$SECONDS pids=() status=0
    for cpu in "$@"; do
        VIT_EDGE_EMULATED=1 VIT_EDGE_BINARY=$wrapper VIT_EDGE_QEMU_CPU=$cpu \
            qemu "$cpu" "$OUT/vit-edgePackageTests.xctest" > "$REPO/.build-aarch64/test-$cpu.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        local cpu=${@:$((i + 1)):1} rc=0
        wait "${pids[$i]}" || rc=$?
        echo "== aarch64 test suite on qemu -cpu $cpu: exit $rc (log: .build-aarch64/test-$cpu.log)"
        grep -E "^Test Case .* failed|error:|^emulated:|Test skipped|Executed [0-9]+ tests" "$REPO/.build-aarch64/test-$cpu.log" | sort | uniq | tail -25
        [ "$rc" = 0 ] || status=1
    done
    echo "== aarch64 tests: $((SECONDS - t0)) s"
    return $status
}

# A trixie arm64 userland with Debian's python3, python3-numpy, python3-pip and
# python3-pytest (their .debs unpacked, not installed), for the aarch64 wheel.
PYROOT=/opt/trixie-python
make_python_userland() {
    [ -d "$ROOT$RUNTIME_ROOT/lib" ] || make_trixie_sysroot
    in_root "set -e
        A='-o Dir::Etc::SourceList=/opt/trixie-apt/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=/opt/trixie-apt/lists -o Dir::State::Status=/opt/trixie-apt/status -o Dir::Cache=/opt/trixie-apt/cache -o APT::Architecture=arm64 -o APT::Architectures=arm64 -o Debug::NoLocking=1 ${APT_OPTS[*]}'
        apt-get \$A update -qq
        apt-get \$A install -d -y -qq --no-install-recommends python3 python3-numpy python3-pip python3-pytest > /tmp/python-debs.log 2>&1 \
            || { cat /tmp/python-debs.log; exit 1; }
        rm -rf $PYROOT && mkdir -p $PYROOT && for d in /opt/trixie-apt/cache/archives/*.deb; do dpkg-deb -x \$d $PYROOT; done
        ln -sfn usr/lib $PYROOT/lib
        # What update-alternatives would link at install: the reference BLAS and LAPACK.
        cd $PYROOT/usr/lib/aarch64-linux-gnu && ln -sfn blas/libblas.so.3 libblas.so.3 && ln -sfn lapack/liblapack.so.3 liblapack.so.3"
    echo "aarch64 python userland: $ROOT$PYROOT ($(du -sh "$ROOT$PYROOT" | cut -f1))"
}

# The aarch64 wheel installed with pip into that userland and python/tests run there under
# qemu on each CPU, against the board folder's vit-edge (a subset: VITEDGE_SUBSET=1).
test_wheel() {
    local wheel status=0
    wheel=$(ls "$REPO"/dist/wheels/vitedge-*_aarch64.whl 2>/dev/null | head -1)
    [ -n "$wheel" ] && [ -x "$REPO/dist/aarch64/vit-edge" ] || { echo "test-wheel: make dist-aarch64 and make wheel first"; return 1; }
    [ -x "$ROOT$PYROOT/usr/bin/python3" ] || make_python_userland
    local py=$ROOT$PYROOT/usr/bin/python3 site=$REPO/.build-aarch64/wheel-site
    rm -rf "$site"
    qemu-aarch64 -cpu cortex-a72 -L "$ROOT$PYROOT" "$py" -m pip install -q --no-deps --no-index --no-compile \
        --disable-pip-version-check --target "$site" "$wheel" || return 1
    for cpu in "$@"; do
        local cli=$REPO/.build-aarch64/vit-edge-$cpu
        printf '#!/bin/sh\nexec qemu-aarch64 -cpu %s -L "%s" "%s" "$@"\n' "$cpu" "$ROOT$RUNTIME_ROOT" "$REPO/dist/aarch64/vit-edge" > "$cli"
        chmod +x "$cli"
        if (cd "$REPO/python/tests" && PYTHONPATH="$site" VITEDGE_SUBSET=1 VITEDGE_EXPECT_INSTALLED= VITEDGE_CLI="$cli" VITEDGE_REPO="$REPO" \
                qemu-aarch64 -cpu "$cpu" -L "$ROOT$PYROOT" "$py" -m pytest -q -p no:cacheprovider .); then
            echo "  $cpu: the aarch64 wheel's tests passed (subset: 3 sample digits, no threads test)"
        else
            echo "  $cpu: the aarch64 wheel's tests FAILED"; status=1
        fi
    done
    return $status
}

case "${1:-}" in
    root) make_root ;;
    build) build ;;
    test) shift; run_tests "$@" ;;
    run) shift; cpu=$1; shift
        # The board folder's binary on trixie's base libraries only, as on a Pi.
        [ -x dist/aarch64/vit-edge ] || dist dist/aarch64 >&2
        qemu-aarch64 -cpu "$cpu" -L "$ROOT$RUNTIME_ROOT" dist/aarch64/vit-edge "$@" ;;
    dist) shift; dist "$@" ;;
    test-wheel) shift; test_wheel "$@" ;;
    python-userland) make_python_userland ;;
    *) echo "usage: $0 root | build | test CPU... | run CPU ARGS... | dist [DIR] | test-wheel CPU..."; exit 64 ;;
esac
