"""kiln: run compiled ONNX models from Python.

    import kiln
    kiln.compile("model.onnx", "model.so", input_shape="batch=1,seq=128")
    m = kiln.load("model.so")
    outputs = m.run({"input_ids": ids, "attention_mask": mask})

`load` and `run` need only numpy and the compiled MODEL.so (its C API,
kiln/runtime.h); `compile` runs the `kiln` command-line compiler. For a
model compiled with --target cuda, inputs and caller output buffers may be
GPU arrays (__cuda_array_interface__: PyTorch CUDA tensors, CuPy):

    y = torch.empty(1, 128, 768, device="cuda")
    m.run({"input_ids": ids.cuda()}, outputs={"last_hidden_state": y})

numpy has no bfloat16: a bfloat16 input takes its bit patterns as a uint16
array (kiln.to_bfloat16 rounds float arrays to them) or an ml_dtypes
bfloat16 array; bfloat16 outputs come back as uint16 bit patterns
(kiln.from_bfloat16 widens them to float32), as ONNX's test data stores them.
"""

import ctypes
import os
import shutil
import subprocess

import numpy as np

__all__ = ["compile", "load", "Model", "KilnError", "to_bfloat16", "from_bfloat16"]

MAX_RANK = 8

# kiln_dtype values, in the order of kiln/runtime.h.
_DTYPES = [np.float32, np.float64, np.float16, None, np.int8, np.int16,
           np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
           np.bool_]
_BF16 = 3  # kiln_dtype of bfloat16: uint16 bit patterns on the numpy side


def to_bfloat16(x):
    """Rounds a float array to bfloat16 (to nearest, ties to even; NaN stays
    NaN) and returns its bit patterns as uint16, what a bfloat16 input takes."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = ((u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1)))
               >> np.uint32(16)).astype(np.uint16)
    nan = (u & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000)
    quiet = ((u >> np.uint32(16)) | np.uint32(0x40)).astype(np.uint16)
    return np.where(nan, quiet, rounded)


def from_bfloat16(bits):
    """Widens bfloat16 bit patterns (uint16, as bfloat16 outputs come back)
    to float32, exactly."""
    b = np.ascontiguousarray(bits)
    if b.dtype.itemsize != 2:
        raise KilnError(f"bfloat16 bit patterns are 2 bytes a value, got {b.dtype}")
    return (b.view(np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def _dtype_name(code):
    return "bfloat16" if code == _BF16 else _DTYPES[code]


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
            result.append({"name": info.name.decode(), "dtype": _dtype_name(info.dtype),
                           "dims": dims})
        return result

    def run(self, feeds, outputs=None):
        """Runs the model on a dict of arrays; returns a dict by output name.

        Inputs are numpy arrays (or anything np.asarray takes) or, for a model
        compiled with --target cuda, GPU arrays exposing
        __cuda_array_interface__ (PyTorch CUDA tensors, CuPy), which the GPU
        reads directly. `outputs` may map output names to caller buffers, C
        contiguous numpy or GPU arrays of the output's dtype and shape (GPU
        ones only for a CUDA model); those outputs are written in place and
        returned as given (a buffer large enough but of another shape is an
        error after the run; one sharing memory with an input is refused).
        Other outputs come back as new numpy arrays.
        """
        ins = (_Tensor * max(1, len(self.inputs)))()
        keep = []
        for i, info in enumerate(self.inputs):
            if info["name"] not in feeds:
                raise KilnError(f"missing input '{info['name']}'")
            _describe(ins[i], feeds[info["name"]], f"input '{info['name']}'", keep, True,
                      info["dtype"])
        outs = (_Tensor * max(1, len(self.outputs)))()
        given = outputs or {}
        unknown = set(given) - {info["name"] for info in self.outputs}
        if unknown:
            raise KilnError(f"no output named '{sorted(unknown)[0]}'")
        for i, info in enumerate(self.outputs):
            if info["name"] in given:
                _describe(outs[i], given[info["name"]], f"output '{info['name']}'", keep, False,
                          info["dtype"])
        status = self._lib.kiln_run(self._handle, ins, len(self.inputs), outs, len(self.outputs))
        owned = [info["name"] in given for info in self.outputs]
        try:
            if status != 0:
                raise KilnError(self._lib.kiln_last_error().decode())
            result = {}
            for i, info in enumerate(self.outputs):
                if info["name"] in given:
                    buf = given[info["name"]]
                    got = tuple(outs[i].dims[d] for d in range(outs[i].rank))
                    if got != tuple(buf.shape):
                        raise KilnError(f"output '{info['name']}' has shape {list(got)}, "
                                        f"its buffer {list(buf.shape)}")
                    result[info["name"]] = buf
                    continue
                t = outs[i]
                shape = tuple(t.dims[d] for d in range(t.rank))
                dtype = np.dtype(np.uint16 if t.dtype == _BF16 else _DTYPES[t.dtype])
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


def _describe(t, value, what, keep, is_input, expected):
    """Fills the kiln_tensor `t` from a numpy or GPU array (keeping what must
    stay alive in `keep`). Inputs that are not arrays go through np.asarray;
    caller output buffers must already be C-contiguous arrays. `expected`
    is the model's dtype there ("bfloat16" takes uint16 bit patterns or an
    ml_dtypes bfloat16 array)."""
    cai = getattr(value, "__cuda_array_interface__", None)
    if cai is not None:
        shape = tuple(cai["shape"])
        dtype = np.dtype(cai["typestr"])
        strides = cai.get("strides")
        if strides is not None and tuple(strides) != _dense_strides(shape, dtype.itemsize):
            raise KilnError(f"{what}: the GPU array is not C-contiguous")
        data = cai["data"][0]
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    else:
        if is_input:
            value = np.asarray(value)
            if not value.flags.c_contiguous:
                value = value.copy(order="C")
        elif not isinstance(value, np.ndarray) or not value.flags.c_contiguous or \
                not value.flags.writeable:
            raise KilnError(f"{what}: a buffer must be a writable C-contiguous "
                            "numpy array or a GPU array")
        shape, dtype, data, nbytes = value.shape, value.dtype, value.ctypes.data, value.nbytes
    keep.append(value)
    if len(shape) > MAX_RANK:
        raise KilnError(f"{what} has rank {len(shape)} > {MAX_RANK}")
    if expected == "bfloat16" and dtype.itemsize == 2 and dtype.name in ("uint16", "bfloat16"):
        code = _BF16
    elif expected == "bfloat16" and dtype.kind == "f":
        raise KilnError(f"{what} is bfloat16, got {dtype}: pass kiln.to_bfloat16(x) "
                        "(its bit patterns as uint16) or an ml_dtypes bfloat16 array")
    else:
        code = next((k for k, d in enumerate(_DTYPES) if d is not None and dtype == d), -1)
    if code < 0:
        raise KilnError(f"{what}: unsupported dtype {dtype}")
    t.dtype = code
    t.rank = len(shape)
    for d, e in enumerate(shape):
        t.dims[d] = e
    t.data = data
    t.capacity = nbytes


def _dense_strides(shape, itemsize):
    strides, step = [], itemsize
    for e in reversed(shape):
        strides.append(step)
        step *= e
    return tuple(reversed(strides))


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
