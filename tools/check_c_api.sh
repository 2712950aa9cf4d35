#!/bin/bash
# The C API end to end (run by `make test`): builds the C and C++ examples and the C tests
# against libvitedge.so, runs the bad-input and threads tests, and checks that the C, C++
# and Python (ctypes) examples print exactly what `vit-edge run` prints, for every shipped
# model, on the sample digits and photos. Needs `swift build -c release --product vit-edge`
# and `--product vitedge` first. LIB_DIR / OUT / CC override where things are.
set -euo pipefail
cd "$(dirname "$0")/.."
LIB_DIR=${LIB_DIR:-.build/release}
OUT=${OUT:-.build/capi}
CC=${CC:-clang}
CXX=${CXX:-clang++}
CFLAGS=${CFLAGS:--O2}
INC=Sources/VitEdgeC/include
LINK=(-L"$LIB_DIR" -lvitedge -lm -lpthread -Wl,-rpath,"$PWD/$LIB_DIR")
mkdir -p "$OUT"

$CC $CFLAGS -Wall -Wextra -Werror -std=c11 -I$INC examples/c/classify.c "${LINK[@]}" -o "$OUT/classify"
$CXX $CFLAGS -Wall -Wextra -Werror -std=c++17 -I$INC examples/cpp/classify.cpp "${LINK[@]}" -o "$OUT/classify-cpp"
$CC $CFLAGS -g -Wall -Wextra -Werror -std=c11 -I$INC Tests/CAPI/bad_input.c "${LINK[@]}" -o "$OUT/bad_input"
$CC $CFLAGS -g -Wall -Wextra -Werror -std=c11 -I$INC Tests/CAPI/threads.c "${LINK[@]}" -o "$OUT/threads"
# The header is C89-clean too (a C library's header is included by old code bases).
echo '#include "vit_edge.h"' | $CC -x c -std=c89 -pedantic -Wall -Werror -I$INC -fsyntax-only -

# Every function the header declares is exported by the library, and nothing else is.
declared=$(grep -oE '\bvit_[a-z0-9_]+\(' $INC/vit_edge.h | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$LIB_DIR/libvitedge.so" | awk '$2 == "T" && $3 ~ /^vit_/ {print $3}' | sort -u)
if [ "$declared" != "$exported" ]; then
    echo "check_c_api: vit_edge.h and libvitedge.so disagree:"; diff <(echo "$declared") <(echo "$exported") || true; exit 1
fi

"$OUT/bad_input"
"$OUT/threads" models/mnist-vit-int8.vitq models/samples/*.pgm models/photos/*

# One version: the CLI's --version, vit_edge_version() and Engine.version.
cli_version=$(.build/release/vit-edge --version)
c_version=$(python3 -c "import ctypes; l = ctypes.CDLL('$LIB_DIR/libvitedge.so'); l.vit_edge_version.restype = ctypes.c_char_p; print(l.vit_edge_version().decode())")
[ "$cli_version" = "$c_version" ] || { echo "check_c_api: vit-edge --version says $cli_version, vit_edge_version() $c_version"; exit 1; }

images=(models/samples/*.pgm models/photos/*)
for model in models/mnist-vit.vitq models/mnist-vit-int8.vitq models/mnist-mixer-int8.vitq; do
    expected=$(.build/release/vit-edge run "$model" "${images[@]}" --top-k 3 --threads 1)
    for program in "$OUT/classify" "$OUT/classify-cpp" "python3 examples/python/classify.py"; do
        got=$(VIT_EDGE_LIB="$LIB_DIR/libvitedge.so" $program "$model" --top-k 3 "${images[@]}")
        if [ "$got" != "$expected" ]; then
            echo "check_c_api: $program $model differs from vit-edge run:"; diff <(echo "$expected") <(echo "$got") || true; exit 1
        fi
    done
    echo "check_c_api: C, C++ and Python examples print what vit-edge run prints ($model, ${#images[@]} images)"
done
