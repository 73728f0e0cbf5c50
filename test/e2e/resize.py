#!/usr/bin/env python3
"""Resize through kiln against ONNX Runtime on the same file.

Models:
  torch_bicubic     F.interpolate(scale_factor=2, mode="bicubic") (cubic,
                    A = -0.75, half_pixel / pytorch_half_pixel)
  torch_bicubic_ac  bicubic with align_corners=True, to a given size
  torch_bilinear_ac bilinear with align_corners=True, scale 1.5
  torch_nearest     nearest, scale 0.5 (downsampling)
  runtime_scales    onnx.helper: Resize(linear) whose scales are a graph
                    input, read at run time
  cubic_exclude     onnx.helper: cubic, A = -0.5, exclude_outside,
                    downsampling by 0.6
  torch_bilinear_size  bilinear to a size with the batch dynamic (the
                    sizes as Concat(Slice(Shape(x)), [H, W]): DeepLabV3's)
  torch_nearest_up  nearest, scale 3 (asymmetric, floor)
  nearest_ceil_hp, nearest_tfnn, linear_pytorch_hp, linear_asym_down
                    onnx.helper: the resize kernel's other coordinate
                    transformations and nearest modes (these and the two
                    above also compiled for x86-64: the portable rows)
  grid_*            F.grid_sample (GridSample, opset 16) with a grid input
                    reaching past [-1, 1]: bicubic + reflection, bilinear +
                    border + align_corners, nearest + zeros
Each runs on a [2, 3, 9, 7] input; prints `name max|err| ok`.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
import kiln  # noqa: E402
from run_e2e import run_ort  # noqa: E402

SHAPE = (2, 3, 9, 7)


GRID_MODES = {"grid_bicubic_reflect": ("bicubic", "reflection", False),
              "grid_bilinear_border_ac": ("bilinear", "border", True),
              "grid_nearest_zeros": ("nearest", "zeros", False),
              "grid_bicubic_border_ac": ("bicubic", "border", True),
              "grid_bilinear_reflect": ("bilinear", "reflection", False)}


# (mode, coordinate transformation, nearest mode, scales, sizes): the
# runtime's resize kernel's other modes
HELPER_MODES = {
    "nearest_ceil_hp": ("nearest", "half_pixel", "round_prefer_ceil",
                        [1.0, 1.0, 2.5, 1.5], None),
    "nearest_tfnn": ("nearest", "tf_half_pixel_for_nn", "ceil", None, [2, 3, 4, 11]),
    "linear_pytorch_hp": ("linear", "pytorch_half_pixel", "floor", None, [2, 3, 1, 5]),
    "linear_asym_down": ("linear", "asymmetric", "floor", [1.0, 1.0, 0.6, 0.8], None),
}


def export_torch(kind, path):
    import torch
    import torch.nn.functional as F
    if kind in GRID_MODES:
        mode, pad, ac = GRID_MODES[kind]

        class G(torch.nn.Module):
            def forward(self, x, grid):
                return F.grid_sample(x, grid, mode=mode, padding_mode=pad, align_corners=ac)
        torch.onnx.export(G().eval(), (torch.randn(*SHAPE), torch.rand(2, 5, 6, 2)), path,
                          input_names=["x", "grid"], output_names=["y"], opset_version=16)
        return

    class M(torch.nn.Module):
        def forward(self, x):
            if kind == "torch_bicubic":
                return F.interpolate(x, scale_factor=2.0, mode="bicubic")
            if kind == "torch_bicubic_ac":
                return F.interpolate(x, size=(13, 5), mode="bicubic", align_corners=True)
            if kind == "torch_bilinear_ac":
                return F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True)
            if kind == "torch_bilinear_size":
                return F.interpolate(x, size=(31, 23), mode="bilinear", align_corners=False)
            if kind == "torch_nearest_up":
                return F.interpolate(x, scale_factor=3.0, mode="nearest")
            return F.interpolate(x, scale_factor=0.5, mode="nearest")
    # batch dynamic: the sizes form is Concat(Slice(Shape(x), 0, 2), [H, W])
    torch.onnx.export(M().eval(), (torch.randn(*SHAPE),), path, input_names=["x"],
                      output_names=["y"], opset_version=13,
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}
                      if kind == "torch_bilinear_size" else None)


def helper_model(kind):
    vi = helper.make_tensor_value_info
    if kind == "runtime_scales":
        node = helper.make_node("Resize", ["x", "", "scales"], ["y"], name="rs", mode="linear")
        inputs = [vi("x", TensorProto.FLOAT, list(SHAPE)), vi("scales", TensorProto.FLOAT, [4])]
        inits = []
    elif kind in HELPER_MODES:
        mode, ctm, nm, scales, sizes = HELPER_MODES[kind]
        ins = ["x", "", "s"] if scales else ["x", "", "", "sz"]
        node = helper.make_node("Resize", ins, ["y"], name=kind, mode=mode,
                                coordinate_transformation_mode=ctm, nearest_mode=nm)
        inputs = [vi("x", TensorProto.FLOAT, list(SHAPE))]
        inits = [helper.make_tensor("s", TensorProto.FLOAT, [4], scales) if scales else
                 helper.make_tensor("sz", TensorProto.INT64, [4], sizes)]
    else:
        node = helper.make_node("Resize", ["x", "", "s"], ["y"], name="ce", mode="cubic",
                                cubic_coeff_a=-0.5, exclude_outside=1)
        inputs = [vi("x", TensorProto.FLOAT, list(SHAPE))]
        inits = [helper.make_tensor("s", TensorProto.FLOAT, [4], [1.0, 1.0, 0.6, 0.6])]
    g = helper.make_graph([node], kind, inputs, [vi("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--node", default="node")
    args = ap.parse_args()
    names = ["torch_bicubic", "torch_bicubic_ac", "torch_bilinear_ac", "torch_nearest",
             "torch_bilinear_size", "torch_nearest_up", "runtime_scales",
             "cubic_exclude"] + list(HELPER_MODES) + list(GRID_MODES)
    rng = np.random.default_rng(3)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = os.path.join(tmp, name + ".onnx")
            if name.startswith("torch_") or name in GRID_MODES:
                export_torch(name, path)
            else:
                onnx.save(helper_model(name), path)
            feeds = {"x": rng.standard_normal(SHAPE).astype(np.float32)}
            if name in GRID_MODES:
                feeds["grid"] = rng.uniform(-1.3, 1.3, (2, 5, 6, 2)).astype(np.float32)
            if name == "runtime_scales":
                feeds["scales"] = np.array([1.0, 1.0, 1.7, 0.6], np.float32)
            ref = run_ort(path, feeds, os.path.join(tmp, "ort"), args.node)["y"]
            # the kernel's AVX-512 gathers and its portable rows too
            cpus = ["native", "x86-64"] if name in HELPER_MODES or name in (
                "torch_bilinear_size", "torch_nearest_up") else ["native"]
            for cpu in cpus:
                so = os.path.join(tmp, f"{name}_{cpu}.so")
                kiln.compile(path, so, kiln=args.kiln, cpu=cpu)
                model = kiln.load(so)
                got = model.run(feeds)["y"]
                ok = got.shape == ref.shape and float(np.abs(got - ref).max()) <= \
                    1e-5 * max(1.0, float(np.abs(ref).max()))
                err = float(np.abs(got - ref).max()) if got.shape == ref.shape else float("nan")
                failed += not ok
                tag = "" if cpu == "native" else f" cpu={cpu}"
                print(f"{name}{tag} shape={list(ref.shape)} max|err| {err:.3g} "
                      f"{'ok' if ok else 'FAIL'}")
                model.close()
    print(f"resize: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
