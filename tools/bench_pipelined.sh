#!/bin/bash
# Whole-process times of `embed` and `eval` over a folder of photos, on one and two
# threads, for one or more binaries, in interleaved rounds; prints the median per case.
#   tools/bench_pipelined.sh [-b BINARY]... [-r ROUNDS] MODEL PHOTO_FOLDER
# eval reads PHOTO_FOLDER's photos as class 0 (a folder evalset/0 is made beside it).
set -euo pipefail
bins=(); rounds=5
while [ $# -gt 0 ]; do
    case "$1" in
        -b) bins+=("$2"); shift 2 ;;
        -r) rounds="$2"; shift 2 ;;
        *) break ;;
    esac
done
[ $# -eq 2 ] || { echo "usage: $0 [-b BINARY]... [-r ROUNDS] MODEL PHOTO_FOLDER" >&2; exit 64; }
model=$1; photos=$2
[ ${#bins[@]} -eq 0 ] && bins=(.build/release/vit-edge)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/evalset/0" && cp "$photos"/* "$tmp/evalset/0/"
declare -A times
now() { date +%s.%N; }
for ((r = 0; r < rounds; r++)); do
    for b in "${bins[@]}"; do
        for t in 1 2; do
            s=$(now); "$b" embed "$model" "$photos" --threads $t -o "$tmp/e.npy" > /dev/null 2>&1; e=$(now)
            times["embed $t $b"]+="$(echo "$e - $s" | bc) "
            s=$(now); "$b" eval "$model" --images "$tmp/evalset" --threads $t > /dev/null 2>&1; e=$(now)
            times["eval $t $b"]+="$(echo "$e - $s" | bc) "
        done
    done
done
for k in "${!times[@]}"; do
    printf '%-60s median %.3f s\n' "$k" "$(echo ${times[$k]} | tr ' ' '\n' | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')"
done | sort
