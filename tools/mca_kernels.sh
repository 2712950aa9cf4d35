#!/bin/bash
# llvm-mca on the inner loop of every NEON microkernel (make mca): compiles the kernels
# for ARM64, cuts each kernel's innermost loop out of the assembly, and prints cycles
# per iteration, multiply-adds per cycle (counted from the instructions: smull/smlal 8,
# sdot 16, fmla .4s 4) and the share of the core's peak. The peak of each instruction on
# each core is llvm-mca's own figure for a block of 24 independent ones, so a kernel is
# judged by the same model that times it. Estimates, not measurements: LLVM has no
# Cortex-A72 model (cortex-a57 stands in for a Pi 4's A72) and no Cortex-A76 one
# (neoverse-n1, the server core built on the A76, stands in for a Pi 5). The N1 model
# exists from LLVM 17 on (Debian 12's LLVM 14 and 16 map neoverse-n1 to the A57 model):
# MCA defaults to the newest llvm-mca-NN installed (make mca installs llvm-19).
# Last, estimates for ViT-Ti/16, ViT-S/16 and ncnn's benchmark ViT-B/32 at 384: their
# multiply-adds divided by the loop rates at a clock.
set -euo pipefail
cd "$(dirname "$0")/.."
CXX="${CXX_A64:-clang++ --target=aarch64-linux-gnu}"
source tools/mca_common.sh
out=.build/mca
mkdir -p $out
flags="-O2 -std=c++17 -DNDEBUG -ISources/VitKernels/include -ISources/VitKernels"
$CXX $flags -march=armv8-a -S Sources/VitKernels/qs8_gemm__neon.cpp -o $out/qs8_neon.s
$CXX $flags -march=armv8.2-a+dotprod -S Sources/VitKernels/qs8_gemm__neon.cpp -o $out/qs8_neondot.s
$CXX $flags -march=armv8-a -S Sources/VitKernels/f32_gemm__xsimd.cpp -o $out/f32_xsimd.s
$CXX $flags -march=armv8-a -S Sources/VitKernels/u8_resample__neon.cpp -o $out/resample_neon.s
$CXX $flags -march=armv8-a -S Sources/VitKernels/u8_yuv420_rgb__neon.cpp -o $out/yuv_neon.s

loop() { mca_loop "$1" "$2" "$3" '^[ \t]*(b\.[a-z]+|cbnz|cbz)[ \t]'; }

# Does this llvm-mca have its own Neoverse N1 model? (LLVM 14 and 16 map it to the A57 one.)
printf 'smull v0.8h, v1.8b, v2.8b\n' > $out/probe.s
n1_real=1
if $MCA -mtriple=aarch64-linux-gnu -mcpu=neoverse-n1 -iterations=1 $out/probe.s 2>/dev/null | grep -q A57Unit; then n1_real=0; fi
cpus="cortex-a57"
[ $n1_real = 1 ] && cpus="cortex-a57 neoverse-n1"

cycles() {  # cpu file -> cycles per iteration
    $MCA -mtriple=aarch64-linux-gnu -mcpu=$1 -mattr=+dotprod -iterations=1000 "$2" 2>/dev/null | awk '/^Total Cycles:/ {print $3 / 1000}'
}

# The peak of one instruction: 24 independent accumulators, no loads, no dependency
# between them but each on itself (what a microkernel's accumulators are).
peak() {  # cpu instruction-template macs-per-instruction -> MACs per cycle
    local f=$out/peak.$RANDOM.s
    for i in $(seq 0 23); do printf "$2\n" $i; done > $f
    awk -v c="$(cycles $1 $f)" -v m="$3" 'BEGIN { printf "%.2f", 24 * m / c }'
    rm -f $f
}
declare -A PEAK
for cpu in $cpus; do
    PEAK[$cpu.fmla]=$(peak $cpu 'fmla v%d.4s, v30.4s, v31.4s' 4)
    PEAK[$cpu.smlal]=$(peak $cpu 'smlal v%d.8h, v30.8b, v31.8b' 8)
    [ $cpu != cortex-a57 ] && PEAK[$cpu.sdot]=$(peak $cpu 'sdot v%d.4s, v30.16b, v31.16b' 16)
done

declare -A RATE
report() {  # name file fn key peak-kind
    local body=$out/${1// /_}.loop.s
    loop "$2" "$3" "$4" > "$body"
    if [ ! -s "$body" ]; then echo "$1: loop not found"; return; fi
    local macs ins
    macs=$(awk '/^[ \t]*(smull2?|smlal2?)[ \t]/ {m += 8} /^[ \t]*sdot[ \t]/ {m += 16} /^[ \t]*fmla[ \t].*\.4s/ {m += 4} END {print m + 0}' "$body")
    ins=$(grep -c '^[[:space:]]*[a-z]' "$body")
    for cpu in $cpus; do
        local p=${PEAK[$cpu.$5]:-}
        [ -z "$p" ] && continue   # sdot: the A57 model cannot time ARMv8.2
        local cy
        cy=$(cycles $cpu "$body")
        RATE[$1.$cpu]=$(awk -v cy="$cy" -v m="$macs" 'BEGIN { printf "%.2f", m / cy }')
        awk -v n="$1" -v c="$cpu" -v cy="$cy" -v m="$macs" -v p="$p" -v ins="$ins" -v k="$5" 'BEGIN {
            rate = m / cy
            printf "%-28s %-12s %3d instructions, %5.1f cycles/iteration, %4d MACs: %5.2f MAC/cycle (%3.0f%% of %s %.0f)\n", n, c, ins, cy, m, rate, 100 * rate / p, k, p }'
    done
}

echo "llvm-mca $($MCA --version | awk '/LLVM version/ {print $NF}') ($MCA)"
[ $n1_real = 0 ] && echo "(this llvm-mca has no Neoverse N1 model: the dot-product kernel's A76 estimate needs LLVM >= 17, e.g. llvm-19)"
for cpu in $cpus; do
    echo "peak of $cpu (MACs per cycle, 24 independent instructions): fmla .4s ${PEAK[$cpu.fmla]}, smlal .8h ${PEAK[$cpu.smlal]}${PEAK[$cpu.sdot]:+, sdot .4s ${PEAK[$cpu.sdot]}}"
done
report "f32 4x16 xsimd (NEON fmla)" $out/f32_xsimd.s '_ZN12_GLOBAL__N_17ukernelILi4E' 'fmla' fmla
report "qs8 4x16 neon (smull+addp)" $out/qs8_neon.s '_ZN12_GLOBAL__N_112ukernel_neonILi4E' 'smull' smlal
report "qs8 2x8c16 neon (smlal2)" $out/qs8_neon.s 'vk_qs8_gemm_2x8c16__neon' 'smlal2' smlal
report "qs8 4x16 neondot (sdot)" $out/qs8_neondot.s '_ZN12_GLOBAL__N_111ukernel_dotILi4E' 'sdot' sdot

# A ViT's multiply-adds on one image: the blocks' Linear layers (int8 in an int8 model),
# attention's QK^T and PV (fp32 unless --int8-attention) and the patch embedding (fp32);
# the head is negligible. ViT-Ti/16 at 224: 1.046 G, 0.179 G, 0.029 G.
vit_macs() {  # image patch width depth heads mlp -> "linear attention patch"
    awk -v i=$1 -v p=$2 -v d=$3 -v L=$4 -v h=$5 -v m=$6 'BEGIN {
        g = int(i / p); t = g * g + 1
        printf "%.0f %.0f %.0f", L * t * (4 * d * d + 2 * d * m), L * h * t * t * (d / h) * 2, g * g * 3 * p * p * d }'
}

# Time of those multiply-adds at the inner loops' rates above: no epilogue, packing,
# memory stalls or row kernels (LayerNorm, GELU, softmax, quantization: 11% of an fp32 and
# 23% of an int8 ViT-Ti pass on x86, docs/BENCHMARKS.md), so a lower bound for the board.
estimate() {  # board cpu ghz fp32-kernel int8-kernel "linear attention patch"
    local f=${RATE["$4.$2"]:-} q=${RATE["$5.$2"]:-}
    [ -z "$f" ] || [ -z "$q" ] && return
    awk -v b="$1" -v c="$2" -v g="$3" -v f="$f" -v q="$q" -v k="$5" -v macs="$6" 'BEGIN {
        split(macs, m, " "); lin = m[1]; att = m[2]; patch = m[3]; hz = g * 1e9
        tf = (lin + att + patch) / (f * hz) * 1e3; tq = (lin / (q * hz) + (att + patch) / (f * hz)) * 1e3
        ta = ((lin + att) / (q * hz) + patch / (f * hz)) * 1e3
        printf "%-14s %-12s %.1f GHz  fp32 %7.1f ms   int8 (%s) %7.1f ms (%.2fx)   with --int8-attention %7.1f ms (%.2fx)\n", b, c, g, tf, k, tq, tf / tq, ta, tf / ta }'
}
models() {  # the models of the estimate: name, then vit_macs' arguments
    echo "ViT-Ti/16 224x224|224 16 192 12 3 768"
    echo "ViT-S/16 224x224|224 16 384 12 6 1536"
    # ncnn's benchmark/vision_transformer.param (the model behind its Raspberry Pi figures):
    # ViT-B/32 at 384x384, 145 tokens, width 768.
    echo "ViT-B/32 384x384 (ncnn's benchmark model)|384 32 768 12 12 3072"
}
while IFS='|' read -r name shape; do
    macs=$(vit_macs $shape)
    echo "$name, one core, multiply-adds at the inner loop's rate (a lower bound; see docs/ARM64.md):"
    estimate "Raspberry Pi 4" cortex-a57 1.8 "f32 4x16 xsimd (NEON fmla)" "qs8 2x8c16 neon (smlal2)" "$macs"
    estimate "Raspberry Pi 5" neoverse-n1 2.4 "f32 4x16 xsimd (NEON fmla)" "qs8 4x16 neondot (sdot)" "$macs"
done < <(models)

# The image routes (Pillow's resampling passes, YUV rows): cycles per iteration of each
# inner loop, and a 1920x1080 source to a timm 224 input (shorter side to 256, bicubic:
# ~945 source rows, 224 x ~17 taps per row, 3 channels) at those rates. Loops only: no
# per-output folding and clipping, no memory stalls, so a lower bound for the board.
image_loop() {  # name file fn key cpu -> cycles per iteration
    local body=$out/${1// /_}.loop.s
    loop "$2" "$3" "$4" > "$body"
    [ -s "$body" ] && cycles $5 "$body"
}
echo "Image routes (NEON), 1920x1080 -> 224 (timm bicubic crop 0.875), one core, loops only (a lower bound):"
for cpu in $cpus; do
    # the RGB loop (three mla: a group of 4 taps x 3 channels in 12 lanes)
    h=$(image_loop "resample h neon" $out/resample_neon.s vk_u8_resample_h__neon 'mla.*mla.*mla' $cpu)
    v=$(image_loop "resample v neon" $out/resample_neon.s vk_u8_resample_v__neon 'mla' $cpu)
    y=$(image_loop "yuv420 rgb neon" $out/yuv_neon.s vk_u8_yuv420_rgb__neon 'st3' $cpu)
    ghz=1.8; board="Raspberry Pi 4"
    [ $cpu = neoverse-n1 ] && { ghz=2.4; board="Raspberry Pi 5"; }
    awk -v c=$cpu -v b="$board" -v g=$ghz -v h="$h" -v v="$v" -v y="$y" 'BEGIN {
        # horizontal: 945 rows x 224 outputs x 5 groups of 4 taps (12 int32 lanes: RGB of 4 taps)
        th = 945 * 224 * 5 * h / (g * 1e9) * 1e3
        # vertical: each of 945 rows into ~4 output rows of 672 samples, 8 per iteration
        tv = 945 * 4 * 84 * v / (g * 1e9) * 1e3
        # YUV rows (raw frames): 945 rows x ~1680 columns, 16 pixels per iteration
        ty = 945 * 105 * y / (g * 1e9) * 1e3
        printf "%-14s %-12s %.1f GHz  horizontal %.1f cycles/4 taps -> %.1f ms, vertical %.1f cycles/8 -> %.1f ms, YUV %.1f cycles/16 px -> %.1f ms\n", b, c, g, h, th, v, tv, y, ty }'
done
