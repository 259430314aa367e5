#!/usr/bin/env bash
# Builds the standalone native test/bench program (no Node needed) and prints its JSON:
# parity checks and timings of every kernel on this machine, the CUDA twin's against the CPU
# pass where a device answers. Run it on a GPU machine too:
#   bash native/scripts/device-check.sh [--quick]
# A machine without nvcc runs the program built elsewhere (make -C native there; it links the
# CUDA runtime and libstdc++ statically), carried over in native/build/.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v nvcc >/dev/null 2>&1 || [ ! -x build/skyvox-native-test ]; then
  make -s build/skyvox-native-test >&2
fi
gpu="none"
if command -v nvidia-smi >/dev/null 2>&1; then gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1 || echo unknown); fi
nvcc_version="absent"
if command -v nvcc >/dev/null 2>&1; then nvcc_version=$(nvcc --version | tail -1); fi
echo "{\"host\":\"$(hostname)\",\"cpus\":$(nproc),\"gpu\":\"$gpu\",\"nvcc\":\"$nvcc_version\",\"result\":$(./build/skyvox-native-test "$@")}"
