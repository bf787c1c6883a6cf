#!/usr/bin/env bash
# Type-checks the CUDA build (`--features cuda`) on a machine without a GPU or a system
# CUDA toolkit: NVIDIA's CUDA 13.4 compiler wheels from PyPI provide nvcc and headers
# (~130 MB download; candle-kernels compiles its .cu files to PTX at build time, so a real
# nvcc is needed even for `cargo check`). The CPU build is unaffected.
#
# Usage: scripts/check-gpu-build.sh
# Environment: STT_CACHE_DIR (default ~/.cache/stt; the toolkit goes to $STT_CACHE_DIR/cuda-pip),
#   CUDA_COMPUTE_CAP (default 80: no nvidia-smi to ask), CARGO_TARGET_DIR (default target/cuda-check).
#
# Metal (`--features metal`) builds on macOS only: `cargo build --release --features metal`.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${STT_CACHE_DIR:-$HOME/.cache/stt}
CUDA_PIP=$CACHE/cuda-pip
say() { printf 'check-gpu-build: %s\n' "$*" >&2; }

# cudarc 0.19 supports CUDA up to 13.4: pin every wheel of the toolkit.
if [[ ! -x $CUDA_PIP/nvidia/cu13/bin/nvcc ]]; then
    say "installing the CUDA 13.4 compiler wheels into $CUDA_PIP"
    python3 -m pip install --quiet --no-cache-dir --target "$CUDA_PIP" \
        "nvidia-cuda-nvcc==13.4.92" "nvidia-nvvm==13.4.92" "nvidia-cuda-crt==13.4.92" \
        "nvidia-cuda-runtime==13.4.92" "nvidia-cuda-cccl==13.3.4.3.1"
fi
export CUDA_HOME=$CUDA_PIP/nvidia/cu13
export PATH=$CUDA_HOME/bin:$PATH
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-80}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target/cuda-check}
say "$(nvcc --version | tail -1)"
cd "$ROOT"
cargo check --workspace --features stt-server/cuda
say "cargo check --features cuda: ok"
