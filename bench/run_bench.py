#!/usr/bin/env python3
"""Speed of kiln-compiled models next to ONNX Runtime, alternating, in one run.

For each model: compile with kiln (defaults, dims dynamic as exported), make
one set of inputs at the model's benchmark shape, start ONNX Runtime (npm
onnxruntime-node, CPU EP, all graph optimizations) on the same inputs in a
helper process (bench/ort_server.js), then alternate: R rounds of N kiln runs
and N ORT runs, both warm, at the same thread count (each phase after a
0.2 s pause and one untimed run, so neither side's spinning pool threads
compete with the other's timed runs). Prints both medians over
all timed runs, their ratio kiln / ORT (lower is better for kiln), the
geomean of the ratios, and the largest output difference relative to the
output's max. Not a test: numbers depend on the machine; quote medians.

    /usr/bin/python3 bench/make_models.py /tmp/bm
    /usr/bin/python3 bench/run_bench.py --models /tmp/bm --threads 1 2
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "test", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "test", "models"))
import kiln  # noqa: E402
import onnx  # noqa: E402
from quantize_dynamic import quantize_dynamic  # noqa: E402
from quantize_static_qdq import calibrate, calibration_feeds, quantize_static_qdq  # noqa: E402
from run_e2e import make_inputs, run_ort  # noqa: E402

# Benchmark shapes (symbolic dim -> extent), by model-name prefix.
PAUSE_S = float(os.environ.get("KILN_BENCH_PAUSE", "0.2"))

SHAPES = {
    "bert_base_b8": {"batch": 8, "seq": 128},
    "bert": {"batch": 1, "seq": 128},
    "gpt2_4x256_decode": {"batch": 1, "seq": 1, "past_seq": 512},
    "gpt2_4x256_ort_decode": {"batch": 1, "seq": 1, "past_seq": 512, "total_seq": 513},
    "gpt2_8x1024_decode": {"batch": 1, "seq": 1, "past_seq": 512},
    "gpt2": {"batch": 1, "seq": 8, "past_seq": 16},
    "llama_decode": {"batch": 1, "seq": 1, "past_seq": 128},
    "llama_8x1024_decode": {"batch": 1, "seq": 1, "past_seq": 512},
    "llama_8x1024_decode_b4": {"batch": 4, "seq": 1, "past_seq": 512},
    "llama_8x1024_prefill": {"batch": 1, "seq": 128, "past_seq": 0},
    "gpt2_8x1024_decode_b4": {"batch": 4, "seq": 1, "past_seq": 512},
    "llama": {"batch": 1, "seq": 128},
    "vit": {"batch": 1},
    "transformer_encoder": {"batch": 2, "seq": 50},
    "resnet18_224_b8": {"batch": 8},
    "mobilenet_v3_small_224_b8": {"batch": 8},
    "resnet50_224_b8": {"batch": 8},
    "efficientnet_b0_224_b8": {"batch": 8},
    "mobilenet_v2_224_b8": {"batch": 8},
    "resnet": {"batch": 1},
    "regnet": {"batch": 1},
    "resnext": {"batch": 1},
    "shufflenet": {"batch": 1},
    "swin": {"batch": 1},
    "efficientnet": {"batch": 1},
    "mobilenet": {"batch": 1},
    "deeplab": {"batch": 1},
    "lraspp": {"batch": 1},
    "densenet": {"batch": 1},
    "inception": {"batch": 1},
    "alexnet": {"batch": 1},
    "mlp": {"batch": 1, "seq": 64},
}


def shape_for(name):
    for prefix in sorted(SHAPES, key=len, reverse=True):
        if name.startswith(prefix):
            return SHAPES[prefix]
    return {"batch": 1, "seq": 128}


def save_inputs(feeds, ind):
    os.makedirs(ind, exist_ok=True)
    manifest = {}
    for i, (name, a) in enumerate(feeds.items()):
        f = f"in{i}.bin"
        a.tofile(os.path.join(ind, f))
        manifest[name] = {"dtype": str(a.dtype) if a.dtype != np.bool_ else "bool",
                          "dims": list(a.shape), "file": f}
    json.dump(manifest, open(os.path.join(ind, "manifest.json"), "w"))


def bench_one(name, onnx_path, shape, threads, rounds, runs, workdir, kiln_bin, node,
              check, precision="fp32", quantize="none"):
    # One library per thread count: a second dlopen of the same path would
    # return the first, whose thread pool is already sized.
    so = os.path.join(workdir, f"{name}_t{threads}.so")
    # With --quantize int8 (kiln quantizes the fp32 model) or ort-int8
    # (kiln compiles ORT's int8 file as it is), ORT runs its own int8 form
    # of the model: what its quantize_dynamic writes
    # (test/models/quantize_dynamic.py).
    ort_path = onnx_path
    if quantize in ("ort-qdq", "int8-static"):
        # ORT's quantize_static QDQ form, calibrated by ORT on 2 random
        # input sets at the benchmark shape; ort-qdq: both runtimes run that
        # file; int8-static: kiln calibrates the fp32 model on the same
        # inputs itself (kiln calibrate) and compiles --quantize int8-static
        ort_path = os.path.join(workdir, name + "_qdq.onnx")
        fp32 = onnx.load(onnx_path)
        feeds_list = calibration_feeds(fp32, shape, 2)
        # CNNs: their convolutions too, per output channel (ORT's
        # quantize_static form with Conv; kiln's int8-static takes them too)
        import quantize_static_qdq as qsq
        cnn = any(n.op_type == "Conv" for n in fp32.graph.node)
        qsq.CONVS = cnn
        if not os.path.exists(ort_path):
            calib_dir = os.path.join(workdir, name + "_calib")
            ranges = calibrate(fp32, feeds_list,
                               lambda p, f: run_ort(p, f, calib_dir, node))
            qmodel, _ = quantize_static_qdq(onnx.load(onnx_path), ranges, per_channel=cnn)
            onnx.save(qmodel, ort_path)
        samples = os.path.join(workdir, name + "_samples.npz")
        np.savez(samples, **{k: np.stack([f[k] for f in feeds_list]) for k in feeds_list[0]})
        calibration = os.path.join(workdir, name + "_ranges.json")
        if quantize == "int8-static" and not os.path.exists(calibration):
            kiln.calibrate(onnx_path, calibration, samples=samples, kiln=kiln_bin)
    elif quantize != "none":
        ort_path = os.path.join(workdir, name + "_qdyn.onnx")
        if not os.path.exists(ort_path):
            qmodel, _ = quantize_dynamic(onnx.load(onnx_path))
            onnx.save(qmodel, ort_path)
    t0 = time.perf_counter()
    if quantize in ("ort-int8", "ort-qdq"):
        kiln.compile(ort_path, so, kiln=kiln_bin, precision=precision)
    elif quantize == "int8-static":
        kiln.compile(onnx_path, so, kiln=kiln_bin, quantize=quantize,
                     calibration=calibration)
    else:
        kiln.compile(onnx_path, so, kiln=kiln_bin, precision=precision, quantize=quantize)
    compile_s = time.perf_counter() - t0
    model = kiln.load(so, threads=threads)
    feeds = make_inputs(model, shape, np.random.default_rng(0))
    ind = os.path.join(workdir, name + "_in")
    save_inputs(feeds, ind)
    err = float("nan")
    if check:
        ref = run_ort(onnx_path, feeds, os.path.join(workdir, name + "_chk"), node)
        got = model.run(feeds)
        err = 0.0
        cos = 1.0
        for k, r in ref.items():
            g = got[k]
            scale = max(float(np.max(np.abs(r))), 1e-30) if r.size else 1.0
            if r.size:
                err = max(err, float(np.max(np.abs(g.astype(np.float64) - r))) / scale)
                gd, rd = g.ravel().astype(np.float64), r.ravel().astype(np.float64)
                den = max(float(np.linalg.norm(gd) * np.linalg.norm(rd)), 1e-300)
                cos = min(cos, float(gd @ rd) / den)
        if precision != "fp32" or quantize != "none":
            err = cos  # reported as the cosine column
    ort = subprocess.Popen([node, os.path.join(HERE, "ort_server.js"), ort_path, ind,
                            "--threads", str(threads)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if ort.stdout.readline().strip() != "ready":
        raise RuntimeError("ort_server did not start")
    model.run(feeds)  # warm-up
    ks, os_ = [], []
    for _ in range(rounds):
        # Each side starts a phase after a pause and one untimed run: both
        # runtimes' pool threads spin for a while after a run, and would
        # otherwise compete with the other side's first runs.
        time.sleep(PAUSE_S)
        model.run(feeds)
        for _ in range(runs):
            t = time.perf_counter()
            model.run(feeds)
            ks.append((time.perf_counter() - t) * 1e3)
        time.sleep(PAUSE_S)
        ort.stdin.write(f"{runs}\n")
        ort.stdin.flush()
        os_.extend(json.loads(ort.stdout.readline()))
    ort.stdin.write("0\n")
    ort.stdin.close()
    ort.wait()
    model.close()
    wbytes = os.path.getsize(so + ".weights") if os.path.exists(so + ".weights") else 0
    return float(np.median(os_)), float(np.median(ks)), compile_s, err, wbytes


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", required=True, help="folder of .onnx files")
    ap.add_argument("--kiln", default=os.path.join(HERE, "..", "build", "bin", "kiln"))
    ap.add_argument("--node", default="node")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=5, help="runs per round and side")
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                    help="kiln's precision (ORT runs fp32); bf16 rows report the "
                         "smallest per-output cosine to ORT instead of max rel. diff")
    ap.add_argument("--quantize", default="none",
                    choices=["none", "int8", "int8-static", "ort-int8", "ort-qdq"],
                    help="int8: kiln compiles the fp32 model with --quantize int8; "
                         "ort-int8: kiln compiles ORT's int8 file as it is. Either way "
                         "ORT runs the model in the form its quantize_dynamic writes "
                         "(int8 MatMulInteger). ort-qdq: both run the QDQ form of "
                         "quantize_static (test/models/quantize_static_qdq.py); "
                         "int8-static: ORT runs that QDQ form, kiln the fp32 model "
                         "with --quantize int8-static from kiln calibrate's ranges on "
                         "the same calibration inputs. The "
                         "accuracy column is kiln's cosine to ORT fp32")
    ap.add_argument("--no-check", action="store_true",
                    help="skip the comparison of outputs with ORT")
    args = ap.parse_args()
    names = sorted(f[:-5] for f in os.listdir(args.models) if f.endswith(".onnx"))
    if args.only:
        names = [n for n in names if n in args.only]
    print(f"rounds: {args.rounds} x {args.runs} runs per side, alternating; "
          f"ratio = kiln median / ORT median")
    lowp = args.precision != "fp32" or args.quantize != "none"
    acc = "cosine to ORT fp32" if lowp else "max rel. diff"
    print(f"kiln precision: {args.precision}, quantize: {args.quantize}"
          + (" (both run ORT's quantize_static QDQ form)" if args.quantize == "ort-qdq"
             else " (ORT: its quantize_static QDQ form)" if args.quantize == "int8-static"
             else " (ORT: its quantize_dynamic int8 form"
             + (", which kiln compiles too)" if args.quantize == "ort-int8" else ")")
             if args.quantize != "none" else ""))
    print(f"| model | shape | threads | ORT ms | kiln ms | kiln / ORT | {acc} | compile s "
          "| kiln weights GB/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    ratios = {t: [] for t in args.threads}
    with tempfile.TemporaryDirectory() as tmp:
        for threads in args.threads:
            for name in names:
                shape = shape_for(name)
                o, k, cs, err, wbytes = bench_one(name, os.path.join(args.models, name + ".onnx"),
                                          shape, threads, args.rounds, args.runs, tmp,
                                          args.kiln, args.node, not args.no_check,
                                          args.precision, args.quantize)
                ratios[threads].append(k / o)
                sh = ",".join(f"{a}={b}" for a, b in shape.items())
                # Weight streaming rate of decode steps (one new token): the
                # weights file's bytes over kiln's median time.
                gbs = f"{wbytes / (k * 1e-3) / 1e9:.1f}" if shape.get("seq") == 1 else ""
                accs = f"{err:.6f}" if lowp else f"{err:.1e}"
                print(f"| {name} | {sh} | {threads} | {o:.3f} | {k:.3f} | {k / o:.2f} | "
                      f"{accs} | {cs:.1f} | {gbs} |", flush=True)
    for t, r in ratios.items():
        if r:
            g = math.exp(sum(math.log(x) for x in r) / len(r))
            print(f"geomean kiln / ORT at {t} thread(s): {g:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
