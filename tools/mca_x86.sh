#!/bin/bash
# llvm-mca on the x86 microkernels' inner loops (make mca, after the NEON ones): the cores
# users have without AVX-512, which this machine is not. For each core model, cycles per
# iteration and multiply-adds per cycle of the AVX2 fp32 GEMM, the AVX2 int8 GEMMs (sign
# trick; 7-bit weights) and the AVX-VNNI int8 GEMM, and each int8 loop's rate over the fp32
# loop's: the int8-versus-fp32 question of the GEMMs on that core, by the model's reckoning.
# Models: znver3 (Zen 3: issue 12's AVX2 host), alderlake (LLVM's Golden Cove P-core model;
# LLVM has no Gracemont model: `gracemont`, the N100's E-core, maps to this same P-core
# model, so no N100 figure is given). MACs counted from the instructions: vfmadd ymm 8,
# vpmaddubsw ymm 32, vpdpbusd ymm 32, vpmaddwd ymm 16 (the int16 experiment,
# tools/experiments/avx2_c2_gemm.cpp). Estimates, not measurements.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/mca_common.sh
out=.build/mca
mkdir -p $out
flags="-O2 -std=c++17 -DNDEBUG -ISources/VitKernels/include -ISources/VitKernels --target=x86_64-linux-gnu"
clang++ $flags -S Sources/VitKernels/qs8_gemm__avx2.cpp -o $out/qs8_avx2.s
clang++ $flags -S Sources/VitKernels/f32_gemm__avx2_fma.cpp -o $out/f32_avx2.s
clang++ $flags -S tools/experiments/avx2_c2_gemm.cpp -o $out/qs8_avx2_c2.s

loop() { mca_loop "$1" "$2" "$3" '^[ \t]*j[a-ln-z][a-z]*[ \t]'; }  # conditional jumps (not jmp)

cycles() {  # cpu file -> cycles per iteration
    $MCA -mtriple=x86_64-linux-gnu -mcpu=$1 -mattr=+avxvnni -iterations=1000 "$2" 2>/dev/null | awk '/^Total Cycles:/ {print $3 / 1000}'
}

declare -A RATE
report() {  # name file fn key [cpus]
    local body=$out/${1// /_}.x86.loop.s
    loop "$2" "$3" "$4" > "$body"
    if [ ! -s "$body" ]; then echo "$1: loop not found"; return; fi
    local macs ins
    # vpmaddwd multiplies only where no vpmaddubsw feeds it (there it sums pairs by 1s).
    macs=$(awk '/^[ \t]*vfmadd[0-9]+ps[ \t].*%ymm/ {m += 8} /^[ \t]*vpmaddubsw[ \t].*%ymm/ {m += 32; ub = 1}
                /^[ \t]*vpmaddwd[ \t].*%ymm/ {w += 16} /^[ \t]*(\{vex\}[ \t]*)?vpdpbusd[ \t].*%ymm/ {m += 32}
                END {print m + (ub ? 0 : w)}' "$body")
    ins=$(grep -c '^[[:space:]]*[a-z{]' "$body")
    for cpu in ${5:-znver3 alderlake}; do
        local cy
        cy=$(cycles $cpu "$body")
        RATE[$1.$cpu]=$(awk -v cy="$cy" -v m="$macs" 'BEGIN { printf "%.2f", m / cy }')
        local f=${RATE["f32 6x16 avx2 (vfmadd).$cpu"]:-}
        awk -v n="$1" -v c="$cpu" -v cy="$cy" -v m="$macs" -v ins="$ins" -v f="$f" 'BEGIN {
            rate = m / cy
            printf "%-33s %-10s %3d instructions, %5.1f cycles/iteration, %4d MACs: %5.2f MAC/cycle", n, c, ins, cy, m, rate
            if (f != "" && n !~ /^f32/) printf " (%.2fx the fp32 loop)", rate / f
            printf "\n" }'
    done
}

echo "x86 cores without AVX-512, llvm-mca $($MCA --version | awk '/LLVM version/ {print $NF}') (estimates: see tools/mca_x86.sh)"
report "f32 6x16 avx2 (vfmadd)" $out/f32_avx2.s '_ZN12_GLOBAL__N_17ukernelILi6E' 'vfmadd'
report "qs8 4x16 avx2 (sign trick)" $out/qs8_avx2.s '_ZN12_GLOBAL__N_112ukernel_avx2ILi4ELb0E' 'vpmaddubsw'
report "qs8 4x16 avx2_w7 (7-bit w)" $out/qs8_avx2.s '_ZN12_GLOBAL__N_112ukernel_avx2ILi4ELb1E' 'vpmaddubsw'
report "qs8 6x16c2 experiment (vpmaddwd)" $out/qs8_avx2_c2.s '_ZN12_GLOBAL__N_115ukernel_c2_avx2ILi6E' 'vpmaddwd'
report "qs8 6x16 avxvnni (vpdpbusd)" $out/qs8_avx2.s '_ZN12_GLOBAL__N_115ukernel_avxvnniILi6E' 'vpdpbusd' alderlake  # Zen 3 has no AVX-VNNI
