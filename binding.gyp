{
  "variables": {
    "skyvox_nvcc%": "<!(sh native/scripts/nvcc-path.sh)",
    "skyvox_cuda_home%": "<!(sh native/scripts/cuda-home.sh)"
  },
  "targets": [
    {
      "target_name": "skyvox_native",
      "sources": ["native/src/motion.cpp", "native/src/motion_rows.cpp", "native/src/voxel.cpp", "native/src/render.cpp", "native/src/naive.cpp", "native/src/addon.cpp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/include"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["skyvox_nvcc!=''", {
          "sources": ["native/src/motion_cuda.cu", "native/src/voxel_cuda.cu"],
          "rules": [
            {
              "rule_name": "nvcc",
              "extension": "cu",
              "inputs": ["native/src/cuda_common.cuh", "native/src/motion_cuda.hpp", "native/src/voxel_cuda.hpp", "native/src/cuda_status.hpp", "native/src/voxel_walk.hpp"],
              "outputs": ["<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"],
              "action": ["<(skyvox_nvcc)", "<!@(sh native/scripts/nvcc-flags.sh)", "-c", "<(RULE_INPUT_PATH)", "-o", "<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"],
              "message": "nvcc <(RULE_INPUT_PATH)",
              "process_outputs_as_sources": 1
            }
          ],
          "libraries": ["-L<(skyvox_cuda_home)/lib64", "-lcudart_static", "-ldl", "-lrt"]
        }, {
          "sources": ["native/src/cuda_none.cpp"]
        }]
      ]
    }
  ]
}
