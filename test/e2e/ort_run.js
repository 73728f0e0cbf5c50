// Runs an ONNX model with ONNX Runtime (CPU) for kiln's end-to-end tests.
// usage: node ort_run.js MODEL.onnx IN_DIR OUT_DIR [--threads N] [--bench N]
//        [--config KEY=VALUE]... [--literal]
// IN_DIR/manifest.json maps input names to {dtype, dims, file}; raw
// little-endian data files sit next to it. Outputs are written the same way.
// With --bench N, prints the median ms of N runs after a warm-up. With
// --literal, graph optimizations are off: each node runs as the ONNX spec
// defines it (a QDQ model's Q, DQ and float Conv, not ORT's fused int8
// kernels), the reference for the quantized graph's own arithmetic.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const TYPED = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, int8: Int8Array,
  int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array,
  uint64: BigUint64Array, bool: Uint8Array,
};

// A CPU session with all graph optimizations at `threads` intra-op threads
// (0: ORT's default), and session config entries {'a.b': value} (e.g.
// session.qdq_matmulnbits_accuracy_level). Shared with bench/ort_server.js.
function openSession(model, threads, config = {}, level = 'all') {
  const extra = {};
  for (const [key, value] of Object.entries(config)) {
    const parts = key.split('.');
    let node = extra;
    for (const p of parts.slice(0, -1))
      node = node[p] = node[p] || {};
    node[parts[parts.length - 1]] = value;
  }
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: level, extra,
  });
}

// The feeds described by IN_DIR/manifest.json.
function loadFeeds(inDir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(inDir, 'manifest.json')));
  const feeds = {};
  for (const [name, t] of Object.entries(manifest)) {
    const buf = fs.readFileSync(path.join(inDir, t.file));
    const Ctor = TYPED[t.dtype];
    const data = new Ctor(buf.buffer, buf.byteOffset, buf.byteLength / Ctor.BYTES_PER_ELEMENT);
    feeds[name] = new ort.Tensor(t.dtype, t.dtype === 'bool' ? Uint8Array.from(data) : data, t.dims);
  }
  return feeds;
}

async function main() {
  const [model, inDir, outDir, ...rest] = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = rest.indexOf(name);
    return i >= 0 ? Number(rest[i + 1]) : dflt;
  };
  const threads = opt('--threads', 0), bench = opt('--bench', 0);
  const config = {};
  rest.forEach((a, i) => {
    if (a === '--config') {
      const kv = rest[i + 1], eq = kv.indexOf('=');
      config[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  });
  const session = await openSession(model, threads, config,
                                    rest.includes('--literal') ? 'disabled' : 'all');
  const feeds = loadFeeds(inDir);
  let results = await session.run(feeds);
  if (bench > 0) {
    const ms = [];
    for (let i = 0; i < bench; ++i) {
      const s = process.hrtime.bigint();
      results = await session.run(feeds);
      ms.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    ms.sort((a, b) => a - b);
    console.log(JSON.stringify({median_ms: ms[Math.floor(ms.length / 2)], min_ms: ms[0], max_ms: ms[ms.length - 1]}));
  }
  if (outDir) {
    fs.mkdirSync(outDir, {recursive: true});
    const out = {};
    for (const [name, t] of Object.entries(results)) {
      const file = name.replace(/[^A-Za-z0-9_.-]/g, '_') + '.bin';
      fs.writeFileSync(path.join(outDir, file), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      out[name] = {dtype: t.type, dims: t.dims, file};
    }
    fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(out));
  }
}
module.exports = {openSession, loadFeeds};
if (require.main === module)
  main().catch((e) => { console.error('ort_run: ' + e.message); process.exit(1); });
