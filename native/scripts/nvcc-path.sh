#!/bin/sh
# Prints nvcc's path when it is on the PATH and the CUDA static runtime is found beside it;
# nothing otherwise (the build then has no CUDA twin).
if command -v nvcc >/dev/null 2>&1 && [ -n "$(sh "$(dirname "$0")/cuda-home.sh")" ]; then command -v nvcc; fi
