#!/bin/bash
# The docs as code (make docs-check; CI runs it):
#  1. every shell example in README.md and docs/ (a line starting "$ " inside a code
#     block) runs from the repository root and its output must equal what the docs show,
#     through byexample (a maintained tool for examples inside Markdown; its `<...>`
#     wildcard and `byexample: +pass` mark output that depends on the machine);
#  2. every marked figure equals what its command prints (tools/docs_numbers.py);
#  3. every C and C++ build line in the examples' header comments compiles against an
#     installed tree (make install into a temporary prefix, found with pkg-config) and the
#     program runs from another folder; make uninstall then leaves that prefix empty.
# Needs `make build` and `make dist` first (the Makefile target does both).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=.build/venv-docs
if [ ! -x $venv/bin/byexample ]; then
    python3 -m venv $venv >/dev/null
    $venv/bin/pip install -q --disable-pip-version-check byexample==11.0.0 > .build/venv-docs.log 2>&1 \
        || { cat .build/venv-docs.log; echo "docs_check: could not install byexample (needs PyPI)"; exit 1; }
fi
export PATH="$root/.build/release:$PATH"
t0=$SECONDS

echo "docs_check: examples (byexample)"
$venv/bin/byexample -l shell --timeout 120 --jobs 1 --quiet --show-failures 3 README.md docs/*.md

echo "docs_check: figures (tools/docs_numbers.py)"
python3 tools/docs_numbers.py --check

echo "docs_check: build lines of the examples, against an installed tree"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s install PREFIX="$tmp/prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; exit 1; }
mkdir "$tmp/elsewhere"
cp models/mnist-vit.vitq models/photos/digit7.jpg "$tmp/elsewhere/"
expected=$(cd "$tmp/elsewhere" && "$root/.build/release/vit-edge" run mnist-vit.vitq digit7.jpg)
for src in examples/c/classify.c examples/cpp/classify.cpp; do
    # The line in the header comment that builds with pkg-config, as a user would type it.
    line=$(grep -E '^( \*|//) +(cc|c\+\+) .*pkg-config --cflags --libs vitedge\)' "$src" | head -1 | sed -E 's#^( \*|//) +##')
    [ -n "$line" ] || { echo "docs_check: $src has no pkg-config build line in its header comment"; exit 1; }
    name=$(basename "$src")
    (cd "$tmp/elsewhere" && cp "$root/$src" . && PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" bash -c "$line" \
        && got=$(./classify mnist-vit.vitq digit7.jpg) && [ "$got" = "$expected" ]) \
        || { echo "docs_check: '$line' ($src) did not build, or its program printed other than vit-edge run"; exit 1; }
    rm -f "$tmp/elsewhere/classify"
    echo "  $src: '$line' builds against the installed tree and prints what vit-edge run prints"
done
make -s uninstall PREFIX="$tmp/prefix" > /dev/null
left=$(find "$tmp/prefix" -type f -o -type l)
[ -z "$left" ] || { echo "docs_check: make uninstall left files behind:"; echo "$left"; exit 1; }
echo "  make uninstall removed every file make install wrote"
echo "docs_check: clean ($((SECONDS - t0)) s)"
