#!/usr/bin/env python3
"""The on-GPU check of --target cuda, in two steps.

  prepare DIR   (on a machine with kiln built and the CUDA toolkit; no GPU
                needed; the code is scripts/gpu_check_prepare.py, the lists
                below are here) compiles, for CUDA (sm_90 by default):
                - one model per transformer architecture of the e2e suite,
                  at fp32 and under --precision fp16 and bf16, with the CPU
                  build's outputs on fixed inputs as the reference (GPT-2
                  with a KV cache also as a decode step, see MORE_SHAPES);
                - at fp32 only (CHECKED_FP32): MobileNetV3-small and
                  test/e2e/ort_contrib.py's models (ONNX Runtime's
                  fused-op forms: BERT, GPT-2 attention, GroupQueryAttention
                  with rotary, FusedConv chains) at its shapes;
                - test/e2e/cuda_matmul.py's awkward-shape matmuls at fp32,
                  fp16 and bf16 (the tensor-core kernel: this is what checks
                  mma.sync's fragment order), with numpy references that
                  round the operands as the kernel does;
                - test/e2e/attention_long.py's attention blocks at its
                  (Sq, Sk) pairs: the fused attention's decode kernel
                  (Sq <= 8) and rows kernel, with float64 references; and
                  the tensor-core rows kernel (--gpu-mma-attention, ATTN_MMA:
                  fp16 and bf16, head dims 64 and 128) on inputs drawn
                  rounded to the precision, within attention_long's
                  tolerance for it; the e2e models at fp16 with it too;
                - the same matmul cases whose operands the pipelined
                  tensor-core kernel takes, built with each --gpu-mma-tile
                  (TILES) at fp16 and with the largest at bf16; and
                  cuda_matmul.py's long-k cases with --gpu-split-k
                  (SPLIT_CHECKS);
                - MatMuls at BERT-base's GEMM shapes (M = batch 8 x seq 128)
                  with constant weights (stored at the kernel's precision,
                  as in a model), at every precision and, at fp16 and bf16,
                  with each --gpu-mma-tile too (the FFN's down projection,
                  K = 4 N, with --gpu-split-k 2 and 4 as well: SPLIT_TILES);
                - BERT-base, one layer (hidden 768, 12 heads, 3072, with
                  the embeddings and the pooler) and the whole 12 layers, at
                  fp32 and fp16, and at fp16 with pipelined tiles (the
                  layer with each of BERT_TILES, the whole model with
                  WHOLE_TILES; a build's name is RxC [l] [kS] [a]: see
                  tile_args);
                - a causal attention of LLaMA-7B's shape (32 heads of 128,
                  seq 512, batch 4): the rows kernel at fp32, the
                  tensor-core kernel at fp16, against PyTorch's
                  scaled_dot_product_attention; a decode step's attention
                  (one query row, 32 heads of 128, 4096 keys: the decode
                  kernel's keys in 4 parts, flash-decoding) at fp32,
                  against the same. The GEMMs and BERTs are only timed: their
                  weights files (the whole model's are 440 MB, too big to
                  carry) are written as zeros by `run`, since a kernel's
                  time does not depend on the values.
                Everything is packed into DIR/bundle.tar.xz (the folder a
                device run carries holds at most 64 MiB).
  run DIR       (on the GPU machine: numpy; PyTorch for the anchors) unpacks
                DIR/bundle.tar.xz if it is there, then runs
                each check in its own process (a crash or a hang fails that
                check only; with KILN_GPU_CHECK_FAILURES=DIR a failing
                check's outputs are saved there; with PyTorch each check
                also runs on CUDA tensors, which must give the host run's
                outputs bit for bit, and a second and third run from host
                arrays, the first made into a CUDA graph and the second
                launching it, must give the first run's outputs bit for
                bit), then times the GEMMs and the BERT-base
                models, kiln's kernels by CUDA events (KILN_PROFILE=1) and
                the BERTs' whole kiln_run from host arrays and on CUDA
                tensors, GRAPH_TIMED's whole kiln_run with CUDA graphs
                and with KILN_GPU_GRAPHS=0, against PyTorch on the
                same GPU (cuBLAS; eager and
                torch.compile). Prints tables; exits 1 on a mismatch.

Tolerances: fp32 builds within 1e-4 x max(1, max|ref|) of the reference;
fp16/bf16 builds of whole models cosine >= 0.999 against the fp32 CPU
build; the matmul cases at every precision within the fp32 tolerance of
their rounded reference. scripts/gpu-check.sh runs both steps.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
import kiln  # noqa: E402

SHAPE = {"batch": 3, "seq": 16, "past_seq": 5}
# What `prepare` leaves in DIR: everything, in one archive.
BUNDLE = "bundle.tar.xz"
# BERT-base's GEMMs at batch 8 x seq 128: QKV/output projections, FFN.
GEMMS = [("proj", 1024, 768, 768), ("ffn_up", 1024, 768, 3072),
         ("ffn_down", 1024, 3072, 768)]
PRECISIONS = ["fp32", "fp16", "bf16"]
# The pipelined tensor-core kernel's tiles (kiln compile --gpu-mma-tile),
# timed against the default 64 x 64 kernel; the whole BERT-base is built
# with WHOLE_TILES only (3 MB of library each).
TILES = ["64x64", "64x128", "128x64", "128x128"]
# and each with its fragments loaded by ldmatrix ("RxCl": --gpu-mma-ldmatrix)
TILES += [t + "l" for t in TILES]
# "a": --gpu-mma-attention (alone: with the 64 x 64 matmul kernel).
TILES += ["a", "128x64la"]
GEMM_TILES = [t for t in TILES if not t.endswith("a")]
# "kS": --gpu-split-k S, which splits only deep, narrow matmuls (K >= 2 N:
# of GEMMS, the FFN's down projection): timed there, and in the BERTs.
SPLIT_TILES = ["64x64lk2", "64x64lk4", "128x64lk2", "128x64lk4"]
BERT_TILES = TILES + ["64x64lk2a", "128x64lk4a"]
WHOLE_TILES = ["64x64", "128x64l", "a", "128x64la", "128x64lk4a"]
# cuda_matmul.py's split-k cases, checked with these builds.
SPLIT_CHECKS = [("fp16", "64x64lk3"), ("bf16", "128x128lk2")]
TILE_SPEC = re.compile(r"^(\d+x\d+)?(l?)(?:k(\d))?(a?)$")


def gemm_tiles(k, n):
    """The pipelined builds a GEMM of K x N is timed with."""
    return GEMM_TILES + (SPLIT_TILES if k >= 2 * n else [])
# The tensor-core attention's checks: (precision, head dim, attention_long
# models, (Sq, Sk) pairs). Fewer than the fp32 kernel's: their inputs take
# megabytes, and Sq <= 8 runs the decode kernel, checked at fp32.
ATTN_MMA = [("fp16", 64, ["mha", "causal", "gqa", "pad_neginf"], [(9, 70), (77, 200)]),
            ("bf16", 128, ["mha", "causal"], [(9, 70), (77, 200)])]
# The timed attention: batch, heads, seq (causal, Sq = Sk), head dim.
ATTN_TIMED = [4, 32, 512, 128]
# Timed with and without CUDA graphs (KILN_GPU_GRAPHS=0): whole kiln_run.
GRAPH_TIMED = ["bert_base_layer.fp16", "bert_base_layer.fp32", "bert_base.fp16",
               "gemm_proj.fp16", "attn_decode_4096.fp32"]
# A decode step's attention: batch, heads, query rows, cached keys, head
# dim (32 heads of LLaMA-7B on 4096 cached tokens: the keys in 4 parts,
# 128 blocks).
ATTN_DECODE = [1, 32, 1, 4096, 128]
# cuda_matmul.py's cases whose operands the pipelined kernel takes.
PIPELINED_CASES = ["gemm_bias_slice", "matmul_k100_n136", "matmul_k8_n8",
                   "matmul_k256_n128", "batched_k20_n40"]
# One model per transformer architecture of the e2e suite: with the opset
# variants and the CNNs (ResNet-18 alone has 42 MB of weights) the folder
# would not fit the 64 MiB a device run can carry; test/e2e/cuda.test
# compiles all of them and checks their tiling on the CPU.
CHECKED = ["bert_op13", "gpt2_kv", "llama_outer", "llama_kv", "vit", "transformer_encoder"]
# Checked at fp32 only: MobileNetV3-small (convolution chains: a biased
# convolution feeding an unpadded one computed wrong values until
# 2026-12-05, caught emulated; ResNet-18's 43 MB of random weights would
# not fit the 64 MiB a device run carries) and ONNX Runtime's fused-op
# forms (test/e2e/ort_contrib.py's models at its shapes, as "ort_<name>",
# ort_fused being a FusedConv chain of that kind).
CHECKED_FP32 = ["mobilenet_v3_small"]
# Shapes checked besides SHAPE: few query rows (Sq <= 8) take the fused
# attention's decode kernel, more its rows kernel. GPT-2 with a KV cache as
# a decode step (one query row, 41 keys: two warps' chunks) and as a 5-row
# chunk on 105 keys (four warps' chunks; its positions stop at 128); LLaMA
# at 7 rows; LLaMA with a KV cache (its run-time causal mask is the causal
# flag) as a decode step on 40 cached tokens.
MORE_SHAPES = {"gpt2_kv": [{"batch": 3, "seq": 1, "past_seq": 40},
                           {"batch": 2, "seq": 5, "past_seq": 100}],
               "llama_kv": [{"batch": 2, "seq": 1, "past_seq": 40}],
               "llama_outer": [{"batch": 2, "seq": 7}]}


BERTS = [("bert_base_layer", 1), ("bert_base", 12)]


def bert_config(layers):
    sys.path.insert(0, os.path.join(ROOT, "test", "models"))
    import export_models as em
    return em, em.BERT_BASE._replace(vocab=1000, layers=layers)


def compare(got, ref, cosine, tol=1e-4):
    """(ok, max error or lowest cosine, what failed)."""
    worst, bad = 0.0, []
    for k, r in ref.items():
        g = got.get(k)
        if g is None or g.shape != r.shape:
            bad.append(f"{k}: shape {None if g is None else g.shape} != {r.shape}")
            continue
        if not r.size:
            continue
        g64, r64 = g.astype(np.float64).ravel(), r.astype(np.float64).ravel()
        if not np.all(np.isfinite(g64)):
            bad.append(f"{k}: not finite")
            continue
        if cosine and r.dtype.kind == "f":
            c = float(g64 @ r64 / max(np.linalg.norm(g64) * np.linalg.norm(r64), 1e-30))
            worst = max(worst, 1 - c)
            if c < 0.999:
                bad.append(f"{k}: cosine {c:.5f}")
        else:
            e = float(np.abs(g64 - r64).max())
            t = tol * max(1.0, float(np.abs(r64).max()))
            worst = worst if cosine else max(worst, e)
            if e > t:
                bad.append(f"{k}: {e:.3g} > {t:.3g}")
    return not bad, worst, "; ".join(bad)


def one(args):
    """Runs one check (a child process of `run`) and prints a JSON line."""
    entry = json.load(open(os.path.join(args.dir, "manifest.json")))["checks"][args.name]
    feeds = dict(np.load(os.path.join(args.dir, entry["data"] + ".inputs.npz")))
    ref = dict(np.load(os.path.join(args.dir, entry["data"] + ".ref.npz")))
    model = kiln.load(os.path.join(args.dir, entry["so"]))
    got = model.run(feeds)
    ok, worst, why = compare(got, ref, entry["cosine"], entry.get("tol", 1e-4))
    # The second run makes the run's launches a CUDA graph, the third
    # launches it (lib/Runtime/cuda_graph.c): the same kernels, so the same
    # bits (KILN_GPU_GRAPHS=0 in the environment checks direct launches).
    for k in (2, 3):
        again = model.run(feeds)
        same = all(np.array_equal(again[n], v, equal_nan=v.dtype.kind == "f")
                   for n, v in got.items())
        if ok and not same:
            ok, why = False, f"run {k} (CUDA graph) differs from run 1"
    # The same run with inputs and outputs in GPU memory must give the same
    # bits (the runtime copies device to device instead of host to device).
    dev_why = device_io_mismatch(model, feeds, got)
    if ok and dev_why:
        ok, why = False, dev_why
    if not ok and os.environ.get("KILN_GPU_CHECK_FAILURES"):
        out = os.environ["KILN_GPU_CHECK_FAILURES"]
        os.makedirs(out, exist_ok=True)
        np.savez(os.path.join(out, args.name + ".got.npz"), **got)
    print(json.dumps({"ok": ok, "worst": worst, "why": why}))
    return 0


def torch_cuda():
    """PyTorch when it sees a GPU, else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def device_io(torch, model, feeds, like):
    """The feeds as CUDA tensors, and CUDA output buffers shaped as `like`."""
    dfeeds = {k: torch.from_numpy(np.ascontiguousarray(v)).cuda() for k, v in feeds.items()}
    douts = {k: torch.empty(v.shape, dtype=getattr(torch, v.dtype.name), device="cuda")
             for k, v in like.items()}
    return dfeeds, douts


def device_io_mismatch(model, feeds, got):
    """"" when a run on CUDA tensors gives `got` bit for bit (or PyTorch
    sees no GPU), else why not."""
    torch = torch_cuda()
    if torch is None:
        return ""
    try:
        dfeeds, douts = device_io(torch, model, feeds, got)
        model.run(dfeeds, outputs=douts)
        torch.cuda.synchronize()
        for k, v in got.items():
            d = douts[k].cpu().numpy()
            if not np.array_equal(d, v, equal_nan=v.dtype.kind == "f"):
                return f"device I/O: output '{k}' differs from the host run"
    except Exception as e:  # noqa: BLE001 - a failure of the path under test
        return f"device I/O: {type(e).__name__}: {str(e)[:200]}"
    return ""


def time_one(args):
    """Times one library (a child process of `run`): prints the median wall
    time of kiln_run from host arrays and, when PyTorch sees the GPU, with
    inputs and outputs in GPU memory (CUDA tensors)."""
    entry = json.load(open(os.path.join(args.dir, "manifest.json")))["timings"][args.name]
    model = kiln.load(os.path.join(args.dir, entry["so"]))
    rng = np.random.default_rng(1)
    if entry.get("gemm"):
        m, k, n = entry["gemm"]
        feeds = {"X": rng.standard_normal((m, k)).astype(np.float32)}
    elif entry.get("attn"):
        shape = entry["attn"]
        feeds = {x: rng.standard_normal(shape).astype(np.float32) for x in "qkv"}
    elif entry.get("attn_decode"):
        b_, h_, sq_, sk_, d_ = entry["attn_decode"]
        feeds = {"q": rng.standard_normal((b_, h_, sq_, d_)).astype(np.float32)}
        for x in "kv":
            feeds[x] = rng.standard_normal((b_, h_, sk_, d_)).astype(np.float32)
    else:
        feeds = {"input_ids": rng.integers(0, 1000, (8, 128)).astype(np.int64),
                 "attention_mask": np.ones((8, 128), np.int64),
                 "token_type_ids": np.zeros((8, 128), np.int64)}
    like = model.run(feeds)
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        model.run(feeds)
        times.append((time.perf_counter() - t) * 1e3)
    result = {"wall_ms": statistics.median(times)}
    torch = torch_cuda()
    if torch is not None:
        dfeeds, douts = device_io(torch, model, feeds, like)
        model.run(dfeeds, outputs=douts)
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            model.run(dfeeds, outputs=douts)
            times.append((time.perf_counter() - t) * 1e3)
        result["device_wall_ms"] = statistics.median(times)
    print(json.dumps(result), flush=True)
    return 0


def child(args, mode, name, env=None, timeout=180):
    cmd = [sys.executable, os.path.abspath(__file__), mode, args.dir, "--name", name,
           "--runs", str(args.runs)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, **(env or {})))
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s", ""
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode or not lines:
        tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        return None, f"exit {p.returncode}: {tail}", p.stderr
    return json.loads(lines[-1]), "", p.stderr


def gpu_ms(profile):
    """Sums the device time per run of the `gpu` rows of a KILN_PROFILE
    table; returns (ms, the number of kernels, the three largest rows)."""
    total, rows = 0.0, []
    for ln in profile.splitlines():
        f = ln.split(None, 5)
        if len(f) == 6 and f[4] == "gpu" and re.match(r"^[0-9.]+$", f[0]):
            total += float(f[0])
            rows.append((float(f[0]), f[5]))
    rows.sort(reverse=True)
    return total, len(rows), rows[:3]


def cuda_event_ms(fn, runs):
    import torch
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    return statistics.median(times)


def run(args):
    bundle = os.path.join(args.dir, BUNDLE)
    if os.path.exists(bundle) and not os.path.exists(os.path.join(args.dir, "manifest.json")):
        with tarfile.open(bundle, "r:xz") as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(args.dir, filter="data")
            else:
                tar.extractall(args.dir)
    manifest = json.load(open(os.path.join(args.dir, "manifest.json")))
    for f, same in manifest.get("links", {}).items():
        if not os.path.exists(os.path.join(args.dir, f)):
            os.symlink(same, os.path.join(args.dir, f))
    for f, size in manifest.get("zeros", {}).items():
        if not os.path.exists(os.path.join(args.dir, f)):
            with open(os.path.join(args.dir, f), "wb") as fh:
                fh.truncate(size)
    try:
        subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,clocks.sm,"
                        "clocks.max.sm", "--format=csv,noheader"], check=False)
    except OSError:
        print("no nvidia-smi")
    failed = 0
    print(f"\n{'check':40} {'worst':>10}  status   (worst: max|err|, or 1 - cosine "
          "for fp16/bf16 models)")
    names = list(manifest["checks"])
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda n: child(args, "one", n), names))
    for name, (res, err, _) in zip(names, results):
        if res is None:
            print(f"{name:40} {'-':>10}  FAIL: {err}")
            failed += 1
        else:
            print(f"{name:40} {res['worst']:10.4g}  {'ok' if res['ok'] else 'FAIL: ' + res['why']}")
            failed += not res["ok"]
    print(f"gpu-check: {len(names) - failed} of {len(names)} checks matched, {failed} failed",
          flush=True)
    kiln_ms = {}
    print(f"\n{'kiln library (KILN_PROFILE=1)':28} {'run ms':>9} {'GPU ms':>9} {'kernels':>7}  "
          "largest kernels")
    for name in manifest["timings"]:
        res, err, prof = child(args, "time", name, env={"KILN_PROFILE": "1"})
        if res is None:
            print(f"{name:28} FAIL: {err}")
            failed += 1
            continue
        ms, count, top = gpu_ms(prof)
        if args.profiles:
            os.makedirs(args.profiles, exist_ok=True)
            with open(os.path.join(args.profiles, name + ".txt"), "w") as f:
                f.write(prof)
        kiln_ms[name] = ms
        tops = "; ".join(f"{t:.3f} {label[:60]}" for t, label in top)
        print(f"{name:28} {res['wall_ms']:9.3f} {ms:9.3f} {count:7d}  {tops}", flush=True)
    # The BERT libraries' whole kiln_run without the profile's events: from
    # host arrays, and on CUDA tensors (what torch.compile's time compares
    # with: its inputs and outputs stay on the GPU).
    kiln_plain, kiln_dev = {}, {}
    for name in manifest["timings"]:
        if not name.startswith("bert"):
            continue
        res, err, _ = child(args, "time", name)
        if res is None:
            print(f"{name:28} (no profile) FAIL: {err}")
            failed += 1
            continue
        kiln_plain[name] = res["wall_ms"]
        if "device_wall_ms" in res:
            kiln_dev[name] = res["device_wall_ms"]
    # Launches as CUDA graphs (the default) against one by one: the whole
    # kiln_run of a few timed libraries (their kernels' time is the same).
    print(f"\n{'kiln_run ms, CUDA graphs':28} {'graphs':>9} {'direct':>9} {'direct/graphs':>14}")
    for name in GRAPH_TIMED:
        if name not in manifest["timings"]:
            continue
        on, err_on, _ = child(args, "time", name)
        off, err_off, _ = child(args, "time", name, env={"KILN_GPU_GRAPHS": "0"})
        if on is None or off is None:
            print(f"{name:28} FAIL: {err_on or err_off}")
            failed += 1
            continue
        print(f"{name:28} {on['wall_ms']:9.3f} {off['wall_ms']:9.3f} "
              f"{off['wall_ms'] / on['wall_ms']:14.2f}", flush=True)
    # The runtime's memory knobs (lib/Runtime/cuda.c) on the fp16 layer.
    name = "bert_base_layer.fp16"
    if name in manifest["timings"]:
        print(f"\n{name} under the runtime's memory knobs:")
        for env in [{"KILN_GPU_HOST_BYTES": "0"}, {"KILN_GPU_HOST_BYTES": "65536"}]:
            res, err, prof = child(args, "time", name, env=dict(env, KILN_PROFILE="1"))
            label = " ".join(f"{k}={v}" for k, v in env.items())
            if res is None:
                print(f"  {label:28} FAIL: {err}")
                continue
            ms, _, top = gpu_ms(prof)
            tops = "; ".join(f"{t:.3f} {lb[:40]}" for t, lb in top)
            print(f"  {label:28} run {res['wall_ms']:7.3f} ms, GPU {ms:7.3f} ms  {tops}", flush=True)
    if args.no_torch:
        return 1 if failed else 0
    try:
        import torch
    except ImportError:
        print("no PyTorch: skipping the anchors")
        return 1 if failed else 0
    if not torch.cuda.is_available():
        print("PyTorch sees no GPU: skipping the anchors")
        return 1 if failed else 0
    dev = torch.device("cuda")
    print(f"\nGPU: {torch.cuda.get_device_name(0)}, PyTorch {torch.__version__}; "
          "all times are device time (CUDA events), medians")
    print("(prec: the 64 x 64 kernel, or pRxC the pipelined kernel with that tile)")
    print(f"{'GEMM (M x K x N)':26} {'prec':>12} {'kiln ms':>9} {'cuBLAS ms':>10} {'kiln TFLOP/s':>13} {'kiln/cuBLAS':>12}")
    for name, m, k, n in GEMMS:
        a = torch.randn(m, k, device=dev)
        b = torch.randn(k, n, device=dev)
        for p in PRECISIONS:
            torch.backends.cuda.matmul.allow_tf32 = False
            dt = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[p]
            aa, bb = a.to(dt), b.to(dt)
            ref = cuda_event_ms(lambda: torch.matmul(aa, bb), args.runs)
            timed = []
            for tile in [None] + (gemm_tiles(k, n) if p != "fp32" else []):
                km = kiln_ms.get(f"gemm_{name}.{p}" + (f".t{tile}" if tile else ""),
                                 float("nan"))
                label = p if tile is None else f"{p} p{tile}"
                timed.append((km, label))
                print(f"{name + f' ({m}x{k}x{n})':26} {label:>12} {km:9.4f} {ref:10.4f} "
                      f"{2 * m * k * n / km / 1e9:13.1f} {ref / km:12.2f}", flush=True)
            if len(timed) > 1 and any(t == t for t, _ in timed):
                km, label = min((t, lb) for t, lb in timed if t == t)
                print(f"{'':26} {'fastest':>12} {label}: {ref / km:.2f} of cuBLAS")
    b_, h_, s_, d_ = ATTN_TIMED
    q, k, v = (torch.randn(b_, h_, s_, d_, device=dev) for _ in range(3))
    print(f"\nCausal attention, batch {b_}, {h_} heads of {d_}, seq {s_} "
          f"({4 * b_ * h_ * s_ * s_ * d_ / 2 / 1e9:.1f} GFLOP without the masked half):")
    for p in PRECISIONS:
        dt = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[p]
        qq, kk, vv = q.to(dt), k.to(dt), v.to(dt)
        ref = cuda_event_ms(lambda: torch.nn.functional.scaled_dot_product_attention(
            qq, kk, vv, is_causal=True), args.runs)
        km = kiln_ms.get(f"attn_causal_{s_}.{p}", float("nan"))
        print(f"  {p}: kiln {km:.4f} ms, torch SDPA {ref:.4f} ms, kiln/torch {ref / km:.2f}")
    b_, h_, sq_, sk_, d_ = ATTN_DECODE
    q = torch.randn(b_, h_, sq_, d_, device=dev)
    k, v = (torch.randn(b_, h_, sk_, d_, device=dev) for _ in range(2))
    ref = cuda_event_ms(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v),
                        args.runs)
    km = kiln_ms.get(f"attn_decode_{sk_}.fp32", float("nan"))
    print(f"\nDecode attention, batch {b_}, {h_} heads of {d_}, {sq_} query row, {sk_} keys, "
          f"fp32 (flash-decoding):\n  kiln {km:.4f} ms (both kernels), torch SDPA {ref:.4f} ms, "
          f"kiln/torch {ref / km:.2f}")
    ids = torch.randint(0, 1000, (8, 128), device=dev)
    mask = torch.ones(8, 128, dtype=torch.int64, device=dev)
    types = torch.zeros(8, 128, dtype=torch.int64, device=dev)
    for name, layers in BERTS:
        em, cfg = bert_config(layers)
        net = em.Bert(cfg).eval().to(dev)
        builds = ["fp32", "fp16"] + [f"fp16.t{t}" for t in BERT_TILES]
        rows = [(f"kiln {p} (GPU kernels)", kiln_ms[f"{name}.{p}"])
                for p in builds if f"{name}.{p}" in kiln_ms]
        rows += [(f"kiln {p} (kiln_run, host arrays)", kiln_plain[f"{name}.{p}"])
                 for p in builds if f"{name}.{p}" in kiln_plain]
        rows += [(f"kiln {p} (kiln_run, CUDA tensors)", kiln_dev[f"{name}.{p}"])
                 for p in builds if f"{name}.{p}" in kiln_dev]
        with torch.no_grad():
            for label, dtype, comp in [("torch eager fp32", torch.float32, False),
                                       ("torch eager fp16 (autocast)", None, False),
                                       ("torch.compile fp16", torch.float16, True)]:
                try:
                    if dtype is None:
                        def fn(*a):
                            with torch.autocast("cuda", dtype=torch.float16):
                                return net(*a)
                    else:
                        mod = net.to(dtype)
                        fn = torch.compile(mod) if comp else mod
                    rows.append((label, cuda_event_ms(lambda: fn(ids, mask, types), args.runs)))
                except Exception as e:  # noqa: BLE001 - report and go on
                    rows.append((f"{label} failed: {type(e).__name__}", float("nan")))
                    print(f"{label}: {type(e).__name__}: {str(e)[:300]}")
        what = "one layer (hidden 768, 12 heads, 3072)" if layers == 1 else f"{layers} layers"
        print(f"\nBERT-base, {what}, with the embeddings and the pooler, batch 8, seq 128:")
        for label, ms in rows:
            print(f"  {label:40} {ms:9.3f} ms")
        del net
        torch.cuda.empty_cache()
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["prepare", "run", "one", "time"])
    ap.add_argument("dir")
    ap.add_argument("--name", help="(one, time) the manifest entry")
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--gpu", default="sm_90")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch anchors")
    ap.add_argument("--profiles", help="(run) save each timed library's KILN_PROFILE table here")
    args = ap.parse_args()
    if args.mode == "prepare":
        from gpu_check_prepare import prepare  # the compiler side only
        return prepare(args)
    return {"run": run, "one": one, "time": time_one}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
