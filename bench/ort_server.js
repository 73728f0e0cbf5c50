// ONNX Runtime side of bench/run_bench.py: loads one model and its inputs,
// then, for each line "N" on stdin, runs the model once untimed and N times
// timed, and prints the timed runs in ms as a JSON array. Lets the bench alternate kiln and ORT in
// rounds on a warm session.
// usage: node ort_server.js MODEL.onnx IN_DIR --threads N
'use strict';
const path = require('path');
const readline = require('readline');
const {openSession, loadFeeds} = require(path.join(__dirname, '..', 'test', 'e2e', 'ort_run.js'));

async function main() {
  const [model, inDir, ...rest] = process.argv.slice(2);
  const ti = rest.indexOf('--threads');
  const session = await openSession(model, ti >= 0 ? Number(rest[ti + 1]) : 0);
  const feeds = loadFeeds(inDir);
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
