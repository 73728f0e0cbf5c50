# lit configuration for kiln: FileCheck tests of the dialect, passes and the
# ONNX importer, plus the exported-model and node-test suites.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "kiln"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%kiln_src", config.kiln_src_root))
config.substitutions.append(("%kiln_lib", os.path.join(config.kiln_obj_root, "lib")))
config.substitutions.append(("%python", "/usr/bin/python3"))

llvm_config.with_system_environment(["HOME", "TMPDIR", "KILN_POISON_FREED"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.kiln_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["kiln", "kiln-opt"], tool_dirs)

# The runtime's AVX-512 kernels (Winograd convolutions) run where the CPU has
# AVX-512F and VL; tests of them alone require this feature.
try:
    with open("/proc/cpuinfo") as _f:
        _flags = next((l.split(":", 1)[1].split() for l in _f
                       if l.startswith("flags")), [])
    if "avx512f" in _flags and "avx512vl" in _flags:
        config.available_features.add("avx512")
except OSError:
    pass

# --target cuda needs the CUDA toolkit (ptxas, libdevice); no GPU is needed.
_cuda = os.environ.get("CUDA_PATH", "/usr/local/cuda")
if os.path.exists(os.path.join(_cuda, "bin", "ptxas")) and os.path.exists(
        os.path.join(_cuda, "nvvm", "libdevice", "libdevice.10.bc")):
    config.available_features.add("cuda-toolkit")
llvm_config.with_system_environment(["CUDA_PATH"])
