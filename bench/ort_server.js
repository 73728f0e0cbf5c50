// ONNX Runtime side of bench/run_bench.py: loads one model and its inputs,
// then, for each line "N" on stdin, runs the model once untimed and N times
// timed, and prints the timed runs in ms as a JSON array. Lets the bench alternate kiln and ORT in
// rounds on a warm session.
// usage: node ort_server.js MODEL.onnx IN_DIR --threads N
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const ort = require(path.join(__dirname, '..', 'test', 'e2e', 'node_modules', 'onnxruntime-node'));

const TYPED = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array,
  int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array,
  uint64: BigUint64Array, bool: Uint8Array,
};

async function main() {
  const [model, inDir, ...rest] = process.argv.slice(2);
  const ti = rest.indexOf('--threads');
  const threads = ti >= 0 ? Number(rest[ti + 1]) : 0;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const manifest = JSON.parse(fs.readFileSync(path.join(inDir, 'manifest.json')));
  const feeds = {};
  for (const [name, t] of Object.entries(manifest)) {
    const buf = fs.readFileSync(path.join(inDir, t.file));
    const Ctor = TYPED[t.dtype];
    const data = new Ctor(buf.buffer, buf.byteOffset, buf.byteLength / Ctor.BYTES_PER_ELEMENT);
    feeds[name] = new ort.Tensor(t.dtype, t.dtype === 'bool' ? Uint8Array.from(data) : data, t.dims);
  }
  await session.run(feeds); // warm-up
  console.log('ready');
  const rl = readline.createInterface({input: process.stdin});
  for await (const line of rl) {
    const n = Number(line.trim());
    if (!(n > 0)) break;
    const ms = [];
    await session.run(feeds); // untimed: wakes this side's thread pool
    for (let i = 0; i < n; ++i) {
      const s = process.hrtime.bigint();
      await session.run(feeds);
      ms.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    console.log(JSON.stringify(ms));
  }
}
main().catch((e) => { console.error('ort_server: ' + e.message); process.exit(1); });
