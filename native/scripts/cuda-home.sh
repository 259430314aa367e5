#!/bin/sh
# Prints the CUDA toolkit directory that holds the static runtime (lib64/libcudart_static.a):
# $CUDA_HOME, $CUDA_PATH, nvcc's own directory's parent, or /usr/local/cuda. Nothing if none.
nvcc_dir=$(dirname "$(readlink -f "$(command -v nvcc 2>/dev/null || echo /nonexistent)")")
for d in "$CUDA_HOME" "$CUDA_PATH" "$nvcc_dir/.." /usr/local/cuda; do
  if [ -n "$d" ] && [ -f "$d/lib64/libcudart_static.a" ]; then
    (cd "$d" && pwd)
    exit 0
  fi
done
