# Shared by tools/mca_kernels.sh (NEON) and tools/mca_x86.sh: which llvm-mca, and how an
# inner loop is cut out of clang's assembly. Sourced, not run.

# MCA: the newest /usr/bin/llvm-mca-NN unless set (make mca installs llvm-19).
if [ -z "${MCA:-}" ]; then
    MCA=$(ls /usr/bin/llvm-mca-[0-9]* 2>/dev/null | sort -t- -k3 -n | tail -1)
    MCA=${MCA:-llvm-mca}
fi

# The innermost loop (first one holding `key`) of the function whose label matches `fn`:
# from clang's "Inner Loop Header" comment to the first conditional branch matching
# `branch` (an awk regex: the architecture's conditional branches).
mca_loop() {  # file fn key branch
    awk -v fn="$2" -v key="$3" -v br="$4" '
        !inside && $0 ~ "^(" fn ")[^: \t]*:" { inside = 1; next }
        inside && /^\.Lfunc_end/ { exit }
        inside && /This Inner Loop Header/ { buf = ""; collecting = 1 }
        inside && collecting { buf = buf $0 "\n" }
        inside && collecting && $0 ~ br {
            collecting = 0
            if (buf ~ key) { printf "%s", buf; exit }
        }' "$1"
}
