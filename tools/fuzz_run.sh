#!/bin/bash
# One libFuzzer target of `make fuzz`: fuzz_run.sh TARGET:CORPUS SECONDS RUNS SEED
# Starts from a copy of the committed seeds, prints its summary in one piece (targets run
# side by side, FUZZ_JOBS at a time) and fails if the target left a crash, OOM or timeout input.
set -u
target=${1%%:*} corpus=${1#*:} seconds=$2 runs=$3 seed=$4
rm -rf ".build-fuzz/corpus-$corpus" .build-fuzz/artifacts/"$target"-*
cp -r "Fuzz/Corpus/$corpus" ".build-fuzz/corpus-$corpus"
t0=$SECONDS
summary=$(SWIFT_BACKTRACE=enable=no ".build-fuzz/build/release/$target" -max_total_time="$seconds" -runs="$runs" -seed="$seed" \
    -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix=".build-fuzz/artifacts/$target-" ".build-fuzz/corpus-$corpus" 2>&1 \
    | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY|==[0-9]+==ERROR)")
printf 'fuzz %s (%d s, up to %s)\n%s\n' "$target" $((SECONDS - t0)) "$seconds" "$summary"
if ls .build-fuzz/artifacts/"$target"-* > /dev/null 2>&1; then
    echo "fuzz $target: FAILED, see .build-fuzz/artifacts"
    exit 1
fi
