#!/bin/bash
# llvm-mca on the inner loop of every NEON microkernel (make mca): compiles the kernels
# for ARM64, cuts each kernel's innermost loop out of the assembly, and prints cycles
# per iteration, multiply-adds per cycle (counted from the instructions: smull/smlal 8,
# sdot 16, fmla .4s 4) and the share of the core's peak. Estimates, not measurements:
# LLVM has no Cortex-A72 model (cortex-a57 stands in for a Pi 4's A72); a Neoverse N1
# model (for a Pi 5's A76) exists only in newer LLVM than Debian 12's 14, which maps
# neoverse-n1 to the A57 model too: such results are marked and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
CXX="${CXX_A64:-clang++ --target=aarch64-linux-gnu}"
MCA="${MCA:-llvm-mca}"
out=.build/mca
mkdir -p $out
flags="-O2 -std=c++17 -DNDEBUG -ISources/VitKernels/include -ISources/VitKernels"
$CXX $flags -march=armv8-a -S Sources/VitKernels/qs8_gemm__neon.cpp -o $out/qs8_neon.s
$CXX $flags -march=armv8.2-a+dotprod -S Sources/VitKernels/qs8_gemm__neon.cpp -o $out/qs8_neondot.s
$CXX $flags -march=armv8-a -S Sources/VitKernels/f32_gemm__xsimd.cpp -o $out/f32_xsimd.s

# The innermost loop (first one holding `key`) of the function whose label matches `fn`.
loop() {  # file fn key
    awk -v fn="$2" -v key="$3" '
        !inside && $0 ~ "^(" fn ")[^: \t]*:" { inside = 1; next }
        inside && /^\.Lfunc_end/ { exit }
        inside && /This Inner Loop Header/ { buf = ""; collecting = 1 }
        inside && collecting { buf = buf $0 "\n" }
        inside && collecting && /^[ \t]*(b\.[a-z]+|cbnz|cbz)[ \t]/ {
            collecting = 0
            if (buf ~ key) { printf "%s", buf; exit }
        }' "$1"
}

# Does this llvm-mca have its own Neoverse N1 model? (LLVM 14 maps it to the A57 one.)
printf 'smull v0.8h, v1.8b, v2.8b\n' > $out/probe.s
n1_real=1
if $MCA -mtriple=aarch64-linux-gnu -mcpu=neoverse-n1 -iterations=1 $out/probe.s 2>/dev/null | grep -q A57Unit; then n1_real=0; fi

report() {  # name file fn key peak-macs-per-cycle-a57
    local body=$out/$1.loop.s
    loop "$2" "$3" "$4" > "$body"
    if [ ! -s "$body" ]; then echo "$1: loop not found"; return; fi
    local macs
    macs=$(awk '/^[ \t]*(smull2?|smlal2?)[ \t]/ {m += 8} /^[ \t]*sdot[ \t]/ {m += 16} /^[ \t]*fmla[ \t].*\.4s/ {m += 4} END {print m + 0}' "$body")
    if [ "$4" = sdot ] && [ $n1_real = 0 ]; then
        # No timing model for an A76 here: report the loop's size instead.
        awk -v n="$1" -v m="$macs" -v ins="$(grep -c '^[[:space:]]*[a-z]' "$body")" -v r="$(grep -c '^[[:space:]]*ld1r' "$body")" 'BEGIN {
            printf "%-28s %-12s %3d instructions (%d ld1r) per %d MACs: %.1f instructions per 1024 MACs (not timed)\n", n, "(no model)", ins, r, m, 1024 * ins / m }'
        return
    fi
    for cpu in cortex-a57 neoverse-n1; do
        if [ "$cpu" = neoverse-n1 ] && [ $n1_real = 0 ]; then continue; fi
        if [ "$cpu" = cortex-a57 ] && [ "$4" = sdot ]; then continue; fi
        local cycles
        cycles=$($MCA -mtriple=aarch64-linux-gnu -mcpu=$cpu -iterations=1000 "$body" 2>/dev/null | awk '/^Total Cycles:/ {print $3}')
        awk -v n="$1" -v c="$cpu" -v cy="$cycles" -v m="$macs" -v p="$5" -v ins="$(grep -c '^[[:space:]]*[a-z]' "$body")" 'BEGIN {
            per = cy / 1000; rate = m / per
            printf "%-28s %-12s %3d instructions, %5.1f cycles/iteration, %4d MACs: %5.2f MAC/cycle (%3.0f%% of %g)\n", n, c, ins, per, m, rate, 100 * rate / p, p }'
    done
}

echo "llvm-mca $($MCA --version | awk '/LLVM version/ {print $NF}'); peak per cycle of the A57 model: fp32 4 MACs (FMLA .4s), int8 8 MACs (one SMULL/SMLAL a cycle)"
[ $n1_real = 0 ] && echo "(this llvm-mca has no Neoverse N1 model: the dot-product kernel's A76 estimate needs a newer LLVM)"
report "f32 4x16 xsimd (NEON fmla)" $out/f32_xsimd.s '_ZN12_GLOBAL__N_17ukernelILi4E' 'fmla' 4
report "qs8 4x16 neon (smull+addp)" $out/qs8_neon.s '_ZN12_GLOBAL__N_112ukernel_neonILi4E' 'smull' 8
report "qs8 2x8c16 neon (smlal2)" $out/qs8_neon.s 'vk_qs8_gemm_2x8c16__neon' 'smlal2' 8
# sdot is ARMv8.2: the A57 model cannot time it; only a real N1 model can (else: its size).
report "qs8 4x16 neondot (sdot)" $out/qs8_neondot.s '_ZN12_GLOBAL__N_111ukernel_dotILi4E' 'sdot' 32
