#!/bin/bash
# The peer engines of tools/bench_peers.py, one venv each under .venv-peers/ (they share
# the system's torch 2.13.0+cpu, timm and numpy through --system-site-packages; each adds
# what its engine needs: litert-torch brings jax and the LiteRT converter and quantizer,
# ExecuTorch torchao). Versions pinned: the ones docs/BENCHMARKS.md was measured with.
#   tools/peers_env.sh [litert] [executorch] [openvino]     (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
engines=("$@")
[ ${#engines[@]} -eq 0 ] && engines=(litert executorch openvino)
for e in "${engines[@]}"; do
    case $e in
        litert) pkgs="litert-torch==0.10.0 ai-edge-litert==2.3.0" ;;
        executorch) pkgs="executorch==1.5.1" ;;
        openvino) pkgs="openvino==2026.4.1 nncf==3.4.0" ;;
        *) echo "unknown engine $e (litert, executorch, openvino)" >&2; exit 2 ;;
    esac
    [ -x .venv-peers/$e/bin/python ] || python3 -m venv --system-site-packages .venv-peers/$e
    # torch stays the system's CPU build: pinning it keeps pip from fetching the CUDA one.
    .venv-peers/$e/bin/pip install -q $pkgs "torch==$(python3 -c 'import torch; print(torch.__version__.split("+")[0])')"
    echo "$e: .venv-peers/$e ready"
done
