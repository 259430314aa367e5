#!/bin/sh
# Prints nvcc's path when it is on the PATH, the CUDA static runtime is found beside it, and it
# compiles a kernel with the build's flags here (a host compiler it does not support fails
# that); nothing otherwise, and the build then has no CUDA twin (saying why on stderr).
here=$(dirname "$0")
command -v nvcc >/dev/null 2>&1 || exit 0
if [ -z "$(sh "$here/cuda-home.sh")" ]; then
  echo "skyvox: nvcc found but not the CUDA static runtime (lib64/libcudart_static.a): building without CUDA" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '__global__ void k(float* a) { a[threadIdx.x] *= 2.0f; }\n' > "$tmp/probe.cu"
# shellcheck disable=SC2046
if nvcc $(sh "$here/nvcc-flags.sh") -c "$tmp/probe.cu" -o "$tmp/probe.o" > "$tmp/log" 2>&1; then
  command -v nvcc
else
  echo "skyvox: nvcc cannot compile here, building without CUDA: $(head -c 400 "$tmp/log")" >&2
fi
