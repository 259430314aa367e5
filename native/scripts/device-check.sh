#!/usr/bin/env bash
# Builds the standalone native test/bench program (no Node needed) and prints its JSON:
# parity checks and timings of every kernel on this machine. Run it on a GPU machine too:
#   bash native/scripts/device-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/skyvox-native-test >&2
gpu="none"
if command -v nvidia-smi >/dev/null 2>&1; then gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 || echo unknown); fi
nvcc_version="absent"
if command -v nvcc >/dev/null 2>&1; then nvcc_version=$(nvcc --version | tail -1); fi
echo "{\"host\":\"$(hostname)\",\"cpus\":$(nproc),\"gpu\":\"$gpu\",\"nvcc\":\"$nvcc_version\",\"result\":$(./build/skyvox-native-test "$@")}"
