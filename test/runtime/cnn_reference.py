"""numpy reference for make_cnn_model.py's CNN (batch_head.test).
usage: cnn_reference.py MODEL.onnx N INPUTS.npz REFERENCE.npz
Writes N random images as INPUTS.npz (key X) and the model's Y for them,
computed in float64, as REFERENCE.npz."""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

model, n, inputs, reference = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
w = {i.name: numpy_helper.to_array(i).astype(np.float64)
     for i in onnx.load(model).graph.initializer}
x = np.random.default_rng(1).standard_normal((n, 8, 20, 20)).astype(np.float32)
xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
c1 = sum(np.einsum("nchw,oc->nohw", xp[:, :, ky:ky + 20, kx:kx + 20], w["W1"][:, :, ky, kx])
         for ky in range(3) for kx in range(3)) + w["B1"][None, :, None, None]
c2 = np.einsum("nchw,oc->nohw", np.maximum(c1, 0), w["W2"][:, :, 0, 0])
f = (c2 + c1).mean(axis=(2, 3))
if "WH1" in w:
    y = np.maximum(f @ w["WH1"] + w["BH1"], 0) @ w["WH2"] + w["BH2"]
else:
    y = f @ w["WG"] + w["BG"]
np.savez(inputs, X=x)
np.savez(reference, Y=y)
