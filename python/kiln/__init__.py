"""kiln: run compiled ONNX models from Python.

    import kiln
    kiln.compile("model.onnx", "model.so", input_shape="batch=1,seq=128")
    m = kiln.load("model.so")
    outputs = m.run({"input_ids": ids, "attention_mask": mask})

`load` and `run` need only numpy and the compiled MODEL.so (its C API,
kiln/runtime.h); `compile` runs the `kiln` command-line compiler.
"""

import ctypes
import os
import shutil
import subprocess

import numpy as np

__all__ = ["compile", "load", "Model", "KilnError"]

MAX_RANK = 8

# kiln_dtype values, in the order of kiln/runtime.h.
_DTYPES = [np.float32, np.float64, np.float16, None, np.int8, np.int16,
           np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
           np.bool_]


class KilnError(RuntimeError):
    """An error reported by the kiln compiler or a compiled model."""


class _TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32), ("dims", ctypes.POINTER(ctypes.c_int64)),
                ("dim_names", ctypes.POINTER(ctypes.c_char_p))]


class _Tensor(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("rank", ctypes.c_int32),
                ("dims", ctypes.c_int64 * MAX_RANK), ("data", ctypes.c_void_p),
                ("capacity", ctypes.c_size_t)]


class _Options(ctypes.Structure):
    _fields_ = [("num_threads", ctypes.c_int32)]


def _find_kiln():
    here = os.path.dirname(os.path.abspath(__file__))
    candidate = os.path.join(here, "..", "..", "build", "bin", "kiln")
    if os.path.exists(candidate):
        return os.path.abspath(candidate)
    found = shutil.which("kiln")
    if not found:
        raise KilnError("cannot find the kiln compiler (build it, or put it on PATH)")
    return found


def compile(model, output, input_shape=None, cpu="native", kiln=None, precision="fp32",
            quantize="none", group_size=128, target="cpu", gpu="sm_90", extra_args=(),
            keep_fp32=(), calibration=None):
    """Compiles the ONNX `model` into the shared library `output`.
    precision: "fp32", "bf16" (dense layers' weights in bf16, fp32
    accumulation) or "fp16" (dense layers' weights in fp16, widened to fp32
    in registers). quantize: "none", "int4" (weight-only, 4 bits per group
    of `group_size` values of k), or "int8" (dense layers' weights in
    int8 per output column, activations quantized per row at run time), or
    "int8-static" (the same weights, activations quantized per tensor with
    the ranges in `calibration`: the JSON `calibrate` writes, or an .npz of
    sample inputs).
    keep_fp32: ONNX node names (MatMul, Gemm) whose weights stay fp32
    under a lower precision or quantization.
    target: "cpu", or "cuda" (NVIDIA GPU kernels for the SM architecture
    `gpu`, run through the CUDA driver). extra_args: more `kiln compile`
    flags, passed as they are."""
    cmd = [kiln or _find_kiln(), "compile", str(model), "-o", str(output), "--cpu", cpu]
    if precision != "fp32":
        cmd += ["--precision", precision]
    if quantize != "none":
        cmd += ["--quantize", quantize]
    if quantize == "int4":
        cmd += ["--group-size", str(group_size)]
    if keep_fp32:
        cmd += ["--keep-fp32", ",".join(keep_fp32)]
    if calibration is not None:
        cmd += ["--calibration", str(calibration)]
    if target != "cpu":
        cmd += ["--target", target, "--gpu", gpu]
    cmd += list(extra_args)
    if input_shape:
        if isinstance(input_shape, dict):
            input_shape = ",".join(
                f"{k}={'x'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                for k, v in input_shape.items())
        cmd += ["--input-shape", input_shape]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise KilnError(p.stderr.strip() or f"kiln compile failed ({p.returncode})")
    return output


def calibrate(model, output, samples=None, method="minmax", percentile=99.999,
              random_samples=8, input_shape=None, kiln=None, threads=0):
    """Measures the input ranges of the ONNX `model`'s dense layers (MatMul
    and Gemm nodes with constant weights) over `samples` (.npz paths, each
    input with an optional leading sample dim; None: `random_samples`
    random inputs at `input_shape`) and writes them to `output` (JSON), for
    compile(..., quantize="int8-static", calibration=output). method:
    "minmax", "percentile" (clipped at `percentile` at both ends) or
    "entropy" (KL-divergence threshold). Returns `output`."""
    cmd = [kiln or _find_kiln(), "calibrate", str(model), "-o", str(output),
           "--method", method, "--percentile", str(percentile),
           "--random-samples", str(random_samples), "--threads", str(threads)]
    if samples:
        if isinstance(samples, (str, os.PathLike)):
            samples = [samples]
        cmd += ["--samples", ",".join(str(s) for s in samples)]
    if input_shape:
        if isinstance(input_shape, dict):
            input_shape = ",".join(f"{k}={v}" for k, v in input_shape.items())
        cmd += ["--input-shape", input_shape]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise KilnError(p.stderr.strip() or f"kiln calibrate failed ({p.returncode})")
    return output


class Model:
    """A loaded MODEL.so."""

    def __init__(self, path, threads=0):
        self._handle = None
        try:
            self._lib = ctypes.CDLL(os.path.abspath(path), mode=ctypes.RTLD_LOCAL)
            lib = self._lib
            lib.kiln_open
        except (OSError, AttributeError) as e:
            raise KilnError(f"cannot load '{path}' as a kiln model: {e}") from None
        lib.kiln_open.argtypes = [ctypes.POINTER(_Options), ctypes.POINTER(ctypes.c_void_p)]
        lib.kiln_close.argtypes = [ctypes.c_void_p]
        lib.kiln_num_inputs.argtypes = [ctypes.c_void_p]
        lib.kiln_num_inputs.restype = ctypes.c_size_t
        lib.kiln_num_outputs.argtypes = [ctypes.c_void_p]
        lib.kiln_num_outputs.restype = ctypes.c_size_t
        for fn in (lib.kiln_input_info, lib.kiln_output_info):
            fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(_TensorInfo)]
        lib.kiln_run.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Tensor), ctypes.c_size_t,
                                 ctypes.POINTER(_Tensor), ctypes.c_size_t]
        lib.kiln_free.argtypes = [ctypes.c_void_p]
        lib.kiln_last_error.restype = ctypes.c_char_p
        handle = ctypes.c_void_p()
        opts = _Options(threads)
        if lib.kiln_open(ctypes.byref(opts), ctypes.byref(handle)) != 0:
            raise KilnError(lib.kiln_last_error().decode())
        self._handle = handle
        self.inputs = self._infos(lib.kiln_num_inputs, lib.kiln_input_info)
        self.outputs = self._infos(lib.kiln_num_outputs, lib.kiln_output_info)

    def _infos(self, count, info_fn):
        result = []
        for i in range(count(self._handle)):
            info = _TensorInfo()
            info_fn(self._handle, i, ctypes.byref(info))
            dims = []
            for d in range(info.rank):
                e = info.dims[d]
                dims.append(e if e >= 0 else (info.dim_names[d].decode() or None))
            result.append({"name": info.name.decode(), "dtype": _DTYPES[info.dtype],
                           "dims": dims})
        return result

    def run(self, feeds):
        """Runs the model on a dict of numpy arrays; returns a dict by output name."""
        ins = (_Tensor * max(1, len(self.inputs)))()
        keep = []
        for i, info in enumerate(self.inputs):
            if info["name"] not in feeds:
                raise KilnError(f"missing input '{info['name']}'")
            a = np.asarray(feeds[info["name"]])
            if not a.flags.c_contiguous:
                a = a.copy(order="C")
            if a.ndim > MAX_RANK:
                raise KilnError(f"input '{info['name']}' has rank {a.ndim} > {MAX_RANK}")
            keep.append(a)
            code = next((k for k, t in enumerate(_DTYPES) if t is not None and a.dtype == t), -1)
            ins[i].dtype = code
            ins[i].rank = a.ndim
            for d, e in enumerate(a.shape):
                ins[i].dims[d] = e
            ins[i].data = a.ctypes.data
            ins[i].capacity = a.nbytes
        outs = (_Tensor * max(1, len(self.outputs)))()
        status = self._lib.kiln_run(self._handle, ins, len(self.inputs), outs, len(self.outputs))
        owned = [False] * len(self.outputs)
        try:
            if status != 0:
                raise KilnError(self._lib.kiln_last_error().decode())
            result = {}
            for i, info in enumerate(self.outputs):
                t = outs[i]
                shape = tuple(t.dims[d] for d in range(t.rank))
                dtype = np.dtype(_DTYPES[t.dtype])
                # The array owns the runtime's buffer (no copy); kiln_free
                # takes it back when the array is collected.
                result[info["name"]] = np.asarray(_OwnedBuffer(self._lib, t.data, shape, dtype))
                owned[i] = True
            return result
        finally:
            for i in range(len(self.outputs)):
                if outs[i].data and not owned[i]:
                    self._lib.kiln_free(outs[i].data)

    def close(self):
        if self._handle:
            self._lib.kiln_close(self._handle)
            self._handle = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _OwnedBuffer:
    """An output buffer of kiln_run seen as a numpy array (through
    __array_interface__); freed with kiln_free when the last array on it goes."""

    def __init__(self, lib, ptr, shape, dtype):
        self._lib, self._ptr = lib, ptr
        self.__array_interface__ = {"data": (ptr, False), "shape": shape,
                                    "typestr": dtype.str, "version": 3}

    def __del__(self):
        if self._ptr:
            self._lib.kiln_free(self._ptr)
            self._ptr = None


def load(path, threads=0):
    """Loads a compiled MODEL.so."""
    return Model(path, threads)
