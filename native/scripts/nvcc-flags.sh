#!/bin/sh
# nvcc's flags for the CUDA twin, shared by the standalone Makefile and binding.gyp.
# -fmad=false: no fused multiply-adds, so the GPU's floats are the CPU pass's bit for bit.
# Code for Ampere (sm_80) and Hopper (sm_90: H100/H200), and PTX the driver compiles for newer
# GPUs; SKYVOX_CUDA_ARCH replaces the list (e.g. "-gencode arch=compute_89,code=sm_89").
echo "-std=c++17 -O3 -fmad=false ${SKYVOX_CUDA_ARCH:--gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90} -Xcompiler -fPIC"
