#!/usr/bin/env python3
"""Inputs and outputs in GPU memory through the C API and the Python API,
against the stand-in libcuda.so.1 (stub_libcuda.c, on LD_LIBRARY_PATH).

usage: cuda_device_io.py MODEL.so STUB_LOG
       cuda_device_io.py RELU.so STUB_LOG inplace

MODEL.so is dev.onnxtxt of cuda_shim.test compiled with --target cuda:
Y = Identity(X) (no kernel: the staged input is the output) and S =
Slice(X) (a kernel, which the stub does not run). X and Y are "device"
memory from the stub's cuMemAlloc_v2 (plain host memory that the stub
remembers as device memory), handed over as objects with
__cuda_array_interface__, as PyTorch CUDA tensors are. Prints what it
checked; the lit test checks the copies' directions in the stub's log.

With `inplace`, RELU.so is Y = Relu(X), whose X only a kernel reads and
whose Y only a kernel writes: a device X aligned to 256 bytes is read in
place (no copy in the log), one that is not is staged as before; a device
buffer for Y aligned to 256 bytes is written in place by the kernel (no
copy), one that is not gets a copy from the workspace.
"""
import ctypes
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
import kiln  # noqa: E402


class DeviceArray:
    """A block of the stub's device memory seen as a CUDA array."""

    def __init__(self, cuda, shape, dtype):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.nbytes = int(np.prod(self.shape)) * self.dtype.itemsize
        ptr = ctypes.c_ulonglong()
        assert cuda.cuMemAlloc_v2(ctypes.byref(ptr), ctypes.c_size_t(self.nbytes)) == 0
        self.ptr = ptr.value
        self.__cuda_array_interface__ = {"shape": self.shape, "typestr": self.dtype.str,
                                         "data": (self.ptr, False), "strides": None,
                                         "version": 3}

    # The stub's device memory is host memory: the test reads and writes it
    # directly (a real device pointer would need a copy).
    def view(self):
        buf = (ctypes.c_char * self.nbytes).from_address(self.ptr)
        return np.frombuffer(buf, dtype=self.dtype).reshape(self.shape)


def inplace(m, cuda, log):
    x = DeviceArray(cuda, (64, 4), np.float32)
    open(log, "a").write("--- aligned\n")
    m.run({"X": x})
    # The same memory 4 bytes on: no longer 256-byte aligned.
    x.__cuda_array_interface__ = dict(x.__cuda_array_interface__, data=(x.ptr + 4, False),
                                      shape=(63, 4))
    open(log, "a").write("--- unaligned\n")
    m.run({"X": x})
    print("in place: ran")
    x = DeviceArray(cuda, (64, 4), np.float32)
    y = DeviceArray(cuda, (64, 4), np.float32)
    open(log, "a").write("--- output aligned\n")
    out = m.run({"X": x}, outputs={"Y": y})
    assert out["Y"] is y
    y_off = DeviceArray(cuda, (65, 4), np.float32)
    y_off.__cuda_array_interface__ = dict(y_off.__cuda_array_interface__,
                                          data=(y_off.ptr + 16, False), shape=(64, 4))
    y_off.shape = (64, 4)
    open(log, "a").write("--- output unaligned\n")
    out = m.run({"X": x}, outputs={"Y": y_off})
    assert out["Y"] is y_off
    print("output in place: ran")


def main():
    model_path, log = sys.argv[1], sys.argv[2]
    m = kiln.load(model_path)
    # The model's first run opens the driver and makes its context current;
    # cuMemAlloc needs it current on this thread too.
    x_host = np.arange(12, dtype=np.float32).reshape(3, 4)
    m.run({"X": x_host})
    cuda = ctypes.CDLL("libcuda.so.1")
    ctx = ctypes.c_void_p()
    assert cuda.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), 0) == 0
    assert cuda.cuCtxSetCurrent(ctx) == 0
    if sys.argv[3:] == ["inplace"]:
        return inplace(m, cuda, log)

    x = DeviceArray(cuda, (3, 4), np.float32)
    x.view()[...] = x_host + 100
    y = DeviceArray(cuda, (3, 4), np.float32)
    open(log, "a").write("--- device run\n")
    out = m.run({"X": x}, outputs={"Y": y})
    assert out["Y"] is y
    assert np.array_equal(y.view(), x_host + 100), y.view()
    assert isinstance(out["S"], np.ndarray) and out["S"].shape == (3, 2)
    print("device input, device output Y: ok")

    # A host buffer for Y, written in place.
    y_host = np.zeros((3, 4), np.float32)
    out = m.run({"X": x}, outputs={"Y": y_host})
    assert out["Y"] is y_host and np.array_equal(y_host, x_host + 100)
    print("device input, host buffer Y: ok")

    # A device buffer too small is refused before anything is copied to it.
    small = DeviceArray(cuda, (2, 4), np.float32)
    try:
        m.run({"X": x}, outputs={"Y": small})
        print("small buffer: NOT refused")
    except kiln.KilnError as e:
        print("small buffer:", e)
    # A non-contiguous GPU array is refused by the Python API.
    x.__cuda_array_interface__ = dict(x.__cuda_array_interface__, strides=(4, 12))
    try:
        m.run({"X": x})
        print("strided: NOT refused")
    except kiln.KilnError as e:
        print("strided:", e)


if __name__ == "__main__":
    main()
