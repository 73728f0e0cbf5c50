#!/usr/bin/env python3
"""The on-GPU check of --target cuda, in two steps.

  prepare DIR   (on a machine with kiln built and the CUDA toolkit; no GPU
                needed) exports the e2e models, compiles each for the CPU and
                for CUDA (sm_90 by default), runs the CPU build on fixed
                inputs and saves inputs and outputs; also compiles a
                BERT-base-width layer (hidden 768, 12 heads, 3072, one layer:
                the whole BERT-base is 440 MB, too big to carry) and three
                MatMuls at BERT-base's GEMM shapes (M = batch 8 x seq 128).
  run DIR       (on the GPU machine: needs numpy, and PyTorch for the
                anchors) runs every CUDA library on the saved inputs against
                the CPU outputs (max|err| <= 1e-4 x max(1, max|ref|)), then
                times the BERT-base layer (batch 8, seq 128) and the GEMMs
                against PyTorch on the same GPU (cuBLAS; eager and
                torch.compile, fp32 and fp16). Prints tables; exits 1 on a
                mismatch.

scripts/gpu-check.sh runs both. Without a GPU, `run` reports the runtime's
error for each model and exits 1.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
import kiln  # noqa: E402

SHAPE = {"batch": 3, "seq": 16, "past_seq": 5}
GEMMS = [("qkv_out", 1024, 768, 768), ("ffn_up", 1024, 768, 3072)]
# One model per transformer architecture of the e2e suite: with the opset
# variants and the CNNs (ResNet-18 alone has 42 MB of weights) the folder
# would not fit the 64 MiB a device run can carry; test/e2e/cuda.test
# compiles all of them and checks their tiling on the CPU.
CHECKED = ["bert_op13", "gpt2_kv", "llama_outer", "vit", "transformer_encoder"]


def feeds_for(model, shape, rng):
    sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
    from run_e2e import make_inputs
    return make_inputs(model, shape, rng)


def export_extra(out):
    """The BERT-base-width layer and the GEMM models."""
    import torch
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    sys.path.insert(0, os.path.join(ROOT, "test", "models"))
    import export_models as em
    cfg = em.BERT_BASE._replace(vocab=1000, layers=1)
    spec = em.MODELS["bert_base"]._replace(builder=lambda: em.Bert(cfg))
    em.export_one("bert_base_layer", out, spec)
    rng = np.random.default_rng(0)
    for name, m, k, n in GEMMS:
        w = numpy_helper.from_array((rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32), "W")
        g = helper.make_graph(
            [helper.make_node("MatMul", ["X", "W"], ["Y"])], name,
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["M", k])],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["M", n])], [w])
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]),
                  os.path.join(out, f"gemm_{name}.onnx"))


def prepare(args):
    models = os.path.join(args.dir, "models")
    os.makedirs(models, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "test", "models", "export_models.py"),
                    models], check=True, stdout=subprocess.DEVNULL)
    export_extra(models)
    manifest = {}
    for f in sorted(os.listdir(models)):
        if not f.endswith(".onnx"):
            continue
        name = f[:-5]
        if name not in CHECKED and not name.startswith(("gemm_", "bert_base_layer")):
            continue
        onnx_path = os.path.join(models, f)
        cuda_so = os.path.join(args.dir, name + ".cuda.so")
        cpu_so = os.path.join(args.dir, "cpu", name + ".so")
        os.makedirs(os.path.dirname(cpu_so), exist_ok=True)
        kiln.compile(onnx_path, cuda_so, kiln=args.kiln, target="cuda", gpu=args.gpu)
        entry = {"so": os.path.basename(cuda_so)}
        if not name.startswith(("gemm_", "bert_base_layer")):
            kiln.compile(onnx_path, cpu_so, kiln=args.kiln)
            cpu = kiln.load(cpu_so)
            feeds = feeds_for(cpu, SHAPE, np.random.default_rng(0))
            ref = cpu.run(feeds)
            cpu.close()
            np.savez(os.path.join(args.dir, name + ".inputs.npz"), **feeds)
            np.savez(os.path.join(args.dir, name + ".ref.npz"), **ref)
            entry["check"] = True
        manifest[name] = entry
        print(f"prepared {name}", flush=True)
    json.dump({"gpu": args.gpu, "models": manifest}, open(os.path.join(args.dir, "manifest.json"), "w"))
    # Only what `run` needs travels to the GPU machine.
    subprocess.run(["rm", "-rf", models, os.path.join(args.dir, "cpu")], check=True)
    total = sum(os.path.getsize(os.path.join(args.dir, f)) for f in os.listdir(args.dir))
    print(f"{args.dir}: {total / 2**20:.1f} MiB to carry to the GPU machine")


def median_ms(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def run(args):
    manifest = json.load(open(os.path.join(args.dir, "manifest.json")))
    failed = 0
    print(f"{'model':26} {'max|err|':>10} {'tol':>9} {'ms':>8}  status")
    loaded = {}
    for name, entry in manifest["models"].items():
        so = os.path.join(args.dir, entry["so"])
        try:
            model = kiln.load(so)
            loaded[name] = model
        except Exception as e:
            print(f"{name:26} {'-':>10} {'-':>9} {'-':>8}  FAIL: {e}")
            failed += 1
            continue
        if not entry.get("check"):
            continue
        feeds = dict(np.load(os.path.join(args.dir, name + ".inputs.npz")))
        ref = dict(np.load(os.path.join(args.dir, name + ".ref.npz")))
        try:
            got = model.run(feeds)
            err = tol = 0.0
            bad = []
            for k, r in ref.items():
                t = 1e-4 * max(1.0, float(np.abs(r).max()) if r.size else 1.0)
                e = float(np.abs(got[k].astype(np.float64) - r).max()) if r.size else 0.0
                if got[k].shape != r.shape or not np.isfinite(e) or e > t:
                    bad.append(f"{k}: {e:.3g} > {t:.3g}")
                err, tol = max(err, e), max(tol, t)
            ms = median_ms(lambda: model.run(feeds), args.runs)
            status = "ok" if not bad else "FAIL: " + "; ".join(bad)
        except Exception as e:
            err = tol = ms = float("nan")
            status = f"FAIL: {e}"
        failed += status != "ok"
        print(f"{name:26} {err:10.3g} {tol:9.3g} {ms:8.3f}  {status}", flush=True)
    print(f"gpu-check: {sum(1 for e in manifest['models'].values() if e.get('check')) - failed} "
          f"matched the CPU build, {failed} failed")
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
    print(f"\nGPU: {torch.cuda.get_device_name(0)}, PyTorch {torch.__version__}")
    print(f"{'GEMM (M x K x N)':34} {'kiln ms':>9} {'cuBLAS fp32':>12} {'cuBLAS tf32':>12} {'cuBLAS fp16':>12} {'kiln/fp32':>10}")
    for name, m, k, n in GEMMS:
        model = loaded.get("gemm_" + name)
        x = np.random.default_rng(1).standard_normal((m, k)).astype(np.float32)
        kms = median_ms(lambda: model.run({"X": x}), args.runs) if model else float("nan")
        a = torch.randn(m, k, device=dev)
        b = torch.randn(k, n, device=dev)

        def torch_ms(a, b):
            def f():
                torch.matmul(a, b)
                torch.cuda.synchronize()
            return median_ms(f, args.runs)
        torch.backends.cuda.matmul.allow_tf32 = False
        f32 = torch_ms(a, b)
        torch.backends.cuda.matmul.allow_tf32 = True
        tf32 = torch_ms(a, b)
        torch.backends.cuda.matmul.allow_tf32 = False
        f16 = torch_ms(a.half(), b.half())
        print(f"{name + f' ({m}x{k}x{n})':34} {kms:9.3f} {f32:12.3f} {tf32:12.3f} {f16:12.3f} {kms / f32:10.2f}")
    sys.path.insert(0, os.path.join(ROOT, "test", "models"))
    import export_models as em
    cfg = em.BERT_BASE._replace(vocab=1000, layers=1)
    net = em.Bert(cfg).eval().to(dev)
    ids = torch.randint(0, 1000, (8, 128), device=dev)
    mask = torch.ones(8, 128, dtype=torch.int64, device=dev)
    types = torch.zeros(8, 128, dtype=torch.int64, device=dev)
    feeds = {"input_ids": ids.cpu().numpy(), "attention_mask": mask.cpu().numpy(),
             "token_type_ids": types.cpu().numpy()}
    layer = loaded.get("bert_base_layer")
    kms = median_ms(lambda: layer.run(feeds), args.runs) if layer else float("nan")
    rows = [("kiln --target cuda (fp32)", kms)]
    with torch.no_grad():
        for label, dtype, comp in [("torch eager fp32", torch.float32, False),
                                   ("torch eager fp16", torch.float16, False),
                                   ("torch.compile fp16", torch.float16, True)]:
            m = net.to(dtype)
            fn = torch.compile(m) if comp else m

            def f():
                fn(ids, mask, types)
                torch.cuda.synchronize()
            rows.append((label, median_ms(f, args.runs)))
    print("\nBERT-base layer (hidden 768, 12 heads, 3072), batch 8, seq 128 (12 layers ~ 12x):")
    for label, ms in rows:
        print(f"  {label:28} {ms:9.3f} ms")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["prepare", "run"])
    ap.add_argument("dir")
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "bin", "kiln"))
    ap.add_argument("--gpu", default="sm_90")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch anchors")
    args = ap.parse_args()
    return prepare(args) if args.mode == "prepare" else run(args)


if __name__ == "__main__":
    sys.exit(main())
