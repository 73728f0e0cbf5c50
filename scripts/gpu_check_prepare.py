#!/usr/bin/env python3
"""The `prepare` step of scripts/gpu_check.py (see its docstring): compiles
the checked and timed models for CUDA on a machine with kiln built and the
CUDA toolkit (no GPU needed), with their inputs and CPU references, into
DIR/bundle.tar.xz. The lists of what is built (CHECKED, TILES, GEMMS, ...)
live in gpu_check.py, which the GPU machine runs; `gpu_check.py prepare
DIR` calls prepare() here.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile

import numpy as np

from gpu_check import (ATTN_DECODE, ATTN_MMA, ATTN_TIMED, BERT_TILES, BERTS, BUNDLE, CHECKED,
                       CHECKED_FP32, MORE_SHAPES, PIPELINED_CASES, PRECISIONS,
                       ROOT, SHAPE, SPLIT_CHECKS, TILE_SPEC, TILES, WHOLE_TILES,
                       GEMMS, bert_config, gemm_tiles, kiln)


def tile_args(tile):
    """kiln compile flags of a build name: RxC (--gpu-mma-tile), then l
    (--gpu-mma-ldmatrix), kS (--gpu-split-k S), a (--gpu-mma-attention)."""
    rc, ldm, split, att = TILE_SPEC.match(tile).groups()
    extra = ["--gpu-mma-attention"] if att else []
    extra += ["--gpu-mma-tile", rc] if rc else []
    extra += ["--gpu-mma-ldmatrix"] if ldm else []
    extra += ["--gpu-split-k", split] if split else []
    return extra


def gemm_model(path, k, n):
    """Y = X @ W, W a constant (its weights file becomes zeros in `run`)."""
    from onnx import TensorProto, helper, numpy_helper, save
    w = (np.random.default_rng(3).standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])], "gemm",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["M", k])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["M", n])],
        [numpy_helper.from_array(w, "W")])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def decode_attention_model(path, heads, head_dim):
    """softmax(Q K^T / sqrt(D)) V on [1, heads, Sq, D] and [1, heads, Sk, D]:
    the attention of a decode step without a mask (kiln.attention)."""
    from onnx import TensorProto, helper, numpy_helper, save
    dims = {"q": ["B", heads, "Sq", head_dim], "k": ["B", heads, "Sk", head_dim],
            "v": ["B", heads, "Sk", head_dim]}
    scale = numpy_helper.from_array(np.array(1 / np.sqrt(head_dim), np.float32), "scale")
    g = helper.make_graph(
        [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
         helper.make_node("MatMul", ["q", "kt"], ["qk"]),
         helper.make_node("Mul", ["qk", "scale"], ["s"]),
         helper.make_node("Softmax", ["s"], ["p"], axis=-1),
         helper.make_node("MatMul", ["p", "v"], ["out"])], "decode_attention",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, d) for n, d in dims.items()],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, dims["q"])], [scale])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


# The timed BERT-base models: (name, layers). Vocabulary 1000, as the
# torch anchors' (the embedding gather's time does not depend on it).
def bert_model(out, name="bert_base_layer", layers=1):
    em, cfg = bert_config(layers)
    spec = em.MODELS["bert_base"]._replace(builder=lambda: em.Bert(cfg))
    em.export_one(name, out, spec)
    return os.path.join(out, name + ".onnx")




def prepare(args):
    import cuda_matmul
    from run_e2e import make_inputs
    d = args.dir
    # A fresh DIR: an earlier bundle would be packed into the new one.
    if os.path.isdir(d):
        shutil.rmtree(d)
    models = os.path.join(d, "models")
    os.makedirs(models, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "test", "models", "export_models.py"),
                    models], check=True, stdout=subprocess.DEVNULL)
    checks, timings = {}, {}

    def cuda(onnx_path, name, precision, tile=None):
        so = f"{name}.cuda.so"
        extra = tile_args(tile) if tile else []
        kiln.compile(onnx_path, os.path.join(d, so), kiln=args.kiln, target="cuda",
                     gpu=args.gpu, precision=precision, extra_args=extra)
        return so

    for name in CHECKED:
        path = os.path.join(models, name + ".onnx")
        cpu_so = os.path.join(models, name + ".so")
        kiln.compile(path, cpu_so, kiln=args.kiln)
        cpu = kiln.load(cpu_so)
        datas = []
        for shape in [SHAPE] + MORE_SHAPES.get(name, []):
            data = name if shape is SHAPE else name + "." + "_".join(
                f"{k}{v}" for k, v in shape.items())
            feeds = make_inputs(cpu, shape, np.random.default_rng(0))
            ref = cpu.run(feeds)
            np.savez(os.path.join(d, data + ".inputs.npz"), **feeds)
            np.savez(os.path.join(d, data + ".ref.npz"), **ref)
            datas.append(data)
        cpu.close()
        for p, tile in [(p, None) for p in PRECISIONS] + [("fp16", "a")]:
            key = name if p == "fp32" else f"{name}.{p}" + (".att" if tile else "")
            so = cuda(path, key, p, tile)
            for data in datas:
                check = key + data[len(name):]
                checks[check] = {"so": so, "data": data, "cosine": p != "fp32"}
        print(f"prepared {name}", flush=True)
    import ort_contrib
    extra = [(n, os.path.join(models, n + ".onnx"), None) for n in CHECKED_FP32]
    for name, build, shapes in ort_contrib.CASES:
        path = os.path.join(models, f"ort_{name}.onnx")
        build(path)
        extra.append((f"ort_{name}", path, shapes))
    for name, path, shapes in extra:
        cpu_so = os.path.join(models, name + ".so")
        kiln.compile(path, cpu_so, kiln=args.kiln)
        cpu = kiln.load(cpu_so)
        if shapes is None:
            feeds_list = [("", make_inputs(cpu, SHAPE, np.random.default_rng(0)))]
        else:
            feeds_list = [(f".{i}", f) for i, (_, f) in enumerate(shapes)]
        so = cuda(path, name, "fp32")
        for suffix, feeds in feeds_list:
            data = name + suffix
            np.savez(os.path.join(d, data + ".inputs.npz"), **feeds)
            np.savez(os.path.join(d, data + ".ref.npz"), **cpu.run(feeds))
            checks[data] = {"so": so, "data": data, "cosine": False}
        cpu.close()
    print("prepared the fp32-only checks (CNNs, ONNX Runtime's fused forms)", flush=True)
    rng = np.random.default_rng(7)

    def matmul_case(case, build, k, n, shapes, p, tile=None):
        """cuda_matmul.py's `case` built for CUDA at precision p (with the
        build flags of `tile`), a check per shape against a reference that
        rounds the operands as the kernel does."""
        cuda_matmul.R = cuda_matmul.rounder(p)
        path = os.path.join(models, case + ".onnx")
        ref_fn = build(path, k, n, rng)
        key = f"mm_{case}.{p}" + (f".t{tile}" if tile else "")
        so = cuda(path, key, p, tile)
        cpu_so = os.path.join(models, case + ".so")
        kiln.compile(path, cpu_so, kiln=args.kiln)
        m = kiln.load(cpu_so)
        infos = m.inputs
        m.close()
        for i, dims in enumerate(shapes):
            feeds = {}
            for info in infos:
                shape = [dims[x] if isinstance(x, str) else x for x in info["dims"]]
                feeds[info["name"]] = rng.standard_normal(shape).astype(np.float32)
            data = f"{key}.{i}"
            np.savez(os.path.join(d, data + ".inputs.npz"), **feeds)
            np.savez(os.path.join(d, data + ".ref.npz"), y=ref_fn(feeds).astype(np.float32))
            checks[data] = {"so": so, "data": data, "cosine": False}

    for p in PRECISIONS:
        for case in cuda_matmul.CASES:
            matmul_case(*case, p)
        print(f"prepared the matmul cases at {p}", flush=True)
    # The pipelined kernel on the same inputs and references.
    for p, tile in [("fp16", t) for t in TILES] + [("bf16", "128x128"), ("bf16", "128x128l")]:
        for case in PIPELINED_CASES:
            so = cuda(os.path.join(models, case + ".onnx"), f"mm_{case}.{p}.t{tile}", p, tile)
            for data in [c for c in list(checks) if c.startswith(f"mm_{case}.{p}.")]:
                if checks[data]["so"] == f"mm_{case}.{p}.cuda.so":
                    checks[f"{data}.t{tile}"] = dict(checks[data], so=so)
    # Split k on cuda_matmul's long-k cases.
    for p, tile in SPLIT_CHECKS:
        for case in cuda_matmul.SPLIT_K_CASES:
            matmul_case(*case, p, tile)
    print("prepared the pipelined matmul cases (split k too)", flush=True)
    import attention_long
    import onnx
    for p, head_dim, names, shapes in [("fp32", 16, None, None)] + ATTN_MMA:
        attention_long.PRECISION, attention_long.D = p, head_dim
        for name, build, case, _ in attention_long.MODELS:
            if names and name not in names:
                continue
            path = os.path.join(models, f"attn_{name}.onnx")
            onnx.save(build(), path)
            key = f"attn_{name}" + ("" if p == "fp32" else f".{p}.d{head_dim}")
            so = cuda(path, key, p, "a" if p != "fp32" else None)
            for n, (sq, sk) in enumerate(attention_long.SHAPES):
                if (name == "causal" and (sq > sk or sk > attention_long.MAX_POS)) or \
                        (shapes and (sq, sk) not in shapes):
                    continue
                feeds, ref = case(np.random.default_rng(1000 * n + sq + sk), sq, sk)
                data = f"{key}.{sq}x{sk}"
                np.savez_compressed(os.path.join(d, data + ".inputs.npz"), **feeds)
                np.savez_compressed(os.path.join(d, data + ".ref.npz"),
                                    out=ref.astype(np.float32))
                checks[data] = {"so": so, "data": data, "cosine": False,
                                "tol": attention_long.TOLERANCE[p]}
    # The timed attention (LLaMA-7B's heads, causal).
    b_, h_, s_, d_ = ATTN_TIMED
    attention_long.H, attention_long.D, attention_long.MAX_POS = h_, d_, s_
    path = os.path.join(models, "attn_timed.onnx")
    onnx.save(attention_long.build_causal(), path)
    for p, tile in [("fp32", None), ("fp16", "a"), ("bf16", "a")]:
        key = f"attn_causal_{s_}.{p}"
        timings[key] = {"so": cuda(path, key, p, tile), "attn": ATTN_TIMED, "precision": p}
    attention_long.H, attention_long.D, attention_long.MAX_POS = 4, 16, 512
    # A decode step's attention on a long cache (flash-decoding).
    b_, h_, sq_, sk_, d_ = ATTN_DECODE
    path = os.path.join(models, "attn_decode.onnx")
    decode_attention_model(path, h_, d_)
    key = f"attn_decode_{sk_}.fp32"
    timings[key] = {"so": cuda(path, key, "fp32"), "attn_decode": ATTN_DECODE,
                    "precision": "fp32"}
    print("prepared the attention cases", flush=True)
    for name, m, k, n in GEMMS:
        path = os.path.join(models, f"gemm_{name}.onnx")
        gemm_model(path, k, n)
        for p in PRECISIONS:
            for tile in [None] + (gemm_tiles(k, n) if p != "fp32" else []):
                key = f"gemm_{name}.{p}" + (f".t{tile}" if tile else "")
                timings[key] = {"so": cuda(path, key, p, tile), "gemm": [m, k, n],
                                "precision": p}
    for name, layers in BERTS:
        path = bert_model(models, name, layers)
        for p in ["fp32", "fp16"]:
            for tile in [None] + ((BERT_TILES if layers == 1 else WHOLE_TILES) if p == "fp16" else []):
                key = f"{name}.{p}" + (f".t{tile}" if tile else "")
                timings[key] = {"so": cuda(path, key, p, tile), "bert": layers, "precision": p}
        os.remove(path)
    print("prepared the GEMMs and the BERT-base models", flush=True)
    # Only what `run` needs travels to the GPU machine: a weights file the
    # same as another is left out and linked again by `run`. The timed
    # libraries' weights (random, as torch's anchors') stay here and `run`
    # writes files of zeros of the same sizes: a kernel's time does not
    # depend on the values, and the whole BERT-base's 440 MB (266 MB with
    # fp16 layers) would not fit the 64 MiB a device run carries.
    subprocess.run(["rm", "-rf", models], check=True)
    timed = {e["so"] + ".weights" for e in timings.values()}
    links, seen, zeros = {}, {}, {}
    for f in sorted(os.listdir(d)):
        if f in timed:
            zeros[f] = os.path.getsize(os.path.join(d, f))
            os.remove(os.path.join(d, f))
        elif f.endswith(".weights"):
            with open(os.path.join(d, f), "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            if digest in seen:
                links[f] = seen[digest]
                os.remove(os.path.join(d, f))
            else:
                seen[digest] = f
    json.dump({"gpu": args.gpu, "checks": checks, "timings": timings, "links": links,
               "zeros": zeros},
              open(os.path.join(d, "manifest.json"), "w"), indent=1)
    # One xz archive (each library links the runtime: ~0.6 MB of 0.7 that
    # compress 3x); `run` unpacks it.
    files = sorted(os.listdir(d))
    raw = sum(os.path.getsize(os.path.join(d, f)) for f in files)
    with tarfile.open(os.path.join(d, BUNDLE), "w:xz") as tar:
        for f in files:
            tar.add(os.path.join(d, f), arcname=f)
    for f in files:
        os.remove(os.path.join(d, f))
    total = os.path.getsize(os.path.join(d, BUNDLE))
    print(f"{d}: {len(files)} files, {raw / 2**20:.1f} MiB packed into {BUNDLE}: "
          f"{total / 2**20:.1f} MiB to carry to the GPU machine (at most 64)")
