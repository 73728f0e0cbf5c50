// Per-node times from ONNX Runtime's own profiler (CPU EP, all graph
// optimizations), to set kiln's `kiln run --profile` table against.
// usage: node bench/ort_profile.js MODEL.onnx NAME=D0xD1x... [NAME=...]
//          [--threads N] [--runs N] [--by-op] [--order]
// Inputs are float32 random values of the given shapes; NAME=DIMS:int64
// gives an int64 input of ones (token ids, masks). Prints the mean
// microseconds per run of each node (or of each op type with --by-op),
// largest first (--order: in the order they first ran), then the total.
'use strict';
const path = require('path');
const fs = require('fs');
const os = require('os');
const ort = require(path.join(__dirname, '..', 'test', 'e2e', 'node_modules', 'onnxruntime-node'));

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const model = args[0];
  const threads = opt('--threads', 1), runs = opt('--runs', 20);
  const byOp = args.includes('--by-op');
  const feeds = {};
  for (const a of args.slice(1)) {
    const m = /^([^=-][^=]*)=([0-9x]+)(:int64)?$/.exec(a);
    if (!m) continue;
    const dims = m[2].split('x').map(Number);
    const n = dims.reduce((p, d) => p * d, 1);
    feeds[m[1]] = m[3]
      ? new ort.Tensor('int64', new BigInt64Array(n).fill(1n), dims)
      : new ort.Tensor('float32', new Float32Array(n).map(() => Math.random()), dims);
  }
  const prefix = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ortprof-')), 'p');
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    enableProfiling: true, profileFilePrefix: prefix});
  for (let i = 0; i < runs; ++i) await s.run(feeds);
  s.endProfiling();
  const dir = path.dirname(prefix);
  const file = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))[0];
  const events = JSON.parse(fs.readFileSync(path.join(dir, file)));
  fs.rmSync(dir, {recursive: true});
  const us = new Map(), count = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const key = byOp ? e.args.op_name : `${e.args.op_name} ${e.name.slice(0, -12)}`;
    us.set(key, (us.get(key) || 0) + e.dur);
    count.set(key, (count.get(key) || 0) + 1);
  }
  let total = 0;
  const order = args.includes("--order");
  for (const [k, v] of order ? [...us] : [...us].sort((a, b) => b[1] - a[1])) {
    total += v;
    console.log(`${(v / runs).toFixed(1).padStart(10)} us  ${String(count.get(k) / runs).padStart(4)}x  ${k}`);
  }
  console.log(`total ${(total / runs).toFixed(1)} us per run (${runs} runs, ${threads} thread(s))`);
}
main().catch((e) => { console.error('ort_profile: ' + e.message); process.exit(1); });
