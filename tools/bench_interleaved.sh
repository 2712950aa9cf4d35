#!/bin/bash
# Median latency of several models (or builds) timed in interleaved rounds on one pinned
# core, so a noisy host's drift hits every row alike. Each round runs `vit-edge bench`
# once per model; the median of the rounds' p50 is printed.
#
#   tools/bench_interleaved.sh [-b BINARY]... [-r ROUNDS] [-i ITERATIONS] -- MODEL... [-- BENCH ARGS...]
#   tools/bench_interleaved.sh -r 5 -i 20 -- vit-ti.vitq vit-ti-int8.vitq vit-ti-w7.vitq -- --kernels avx2 --threads 1
# With several -b (e.g. an older build), every model is timed with every binary.
set -euo pipefail
bins=(); rounds=5; iters=20
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case "$1" in
        -b) bins+=("$2"); shift 2 ;;
        -r) rounds="$2"; shift 2 ;;
        -i) iters="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
done
shift
models=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do models+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#bins[@]} -eq 0 ] && bins=(.build/release/vit-edge)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 0; r < rounds; r++)); do
    for b in "${!bins[@]}"; do
        for m in "${!models[@]}"; do
            taskset -c 1 "${bins[$b]}" bench "${models[$m]}" --iterations "$iters" --json "$@" \
                | sed -n 's/.*"p50":\([0-9.eE+-]*\).*/\1/p' >> "$tmp/$b-$m"
        done
    done
done
for b in "${!bins[@]}"; do
    for m in "${!models[@]}"; do
        printf '%-40s %-40s median p50 %s ms\n' "${bins[$b]}" "${models[$m]}" "$(sort -g "$tmp/$b-$m" | sed -n "$(( (rounds + 1) / 2 ))p")"
    done
done
