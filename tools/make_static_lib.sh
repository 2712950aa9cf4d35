#!/bin/bash
# libvitedge.a for C programs: SwiftPM's static library product (VitEdgeC and everything
# under it) partially linked with the Swift runtime's static archives and swiftrt.o (which
# registers the Swift metadata sections) into one object, every symbol but vit_* made
# local, in one archive. A C program then links it like any C library:
#   cc app.c libvitedge.a -lstdc++ -lm -ldl -lpthread -llz4 -lturbojpeg -lspng
#   tools/make_static_lib.sh IN.a OUT.a
set -euo pipefail
in=$1 out=$2
swift=$(readlink -f "$(command -v "${SWIFT:-swift}")")
runtime=${SWIFT_STATIC:-$(dirname "$swift")/../lib/swift_static/linux}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ld -r -o "$tmp/vitedge.o" --whole-archive "$in" --no-whole-archive "$runtime/$(uname -m)/swiftrt.o" \
    -L"$runtime" -lswiftCore -lswift_Concurrency -lswift_StringProcessing -lswift_RegexParser -lswiftGlibc \
    -lswift_Builtin_float -ldispatch -lBlocksRuntime
objcopy --wildcard --keep-global-symbol='vit_*' "$tmp/vitedge.o"
rm -f "$out"
ar rcs "$out" "$tmp/vitedge.o"
