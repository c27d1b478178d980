// Times ONNX Runtime (onnxruntime-node, CPU) on one model, the way `pith bench` times
// pith: warm-up runs, then `iterations` timed runs of session.run on the same input.
// usage: node ort_bench.js MODEL.onnx INPUT.npy THREADS WARMUP ITERATIONS
// Prints one JSON line: {"median_ms","min_ms","p90_ms","peak_rss_bytes","create_ms"}.
'use strict';
const npy = require('./npy');

const ortPath = process.env.PITH_ORT_MODULE || 'onnxruntime-node';
const ort = require(ortPath);

function readNpy(file) {
  const { type, shape, data } = npy.readNpy(file);
  return new ort.Tensor(type, data, shape);
}

async function main() {
  const [model, input, threads, warmup, iterations] = process.argv.slice(2);
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const createMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const feeds = { [session.inputNames[0]]: readNpy(input) };
  for (let i = 0; i < Number(warmup); ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(iterations); ++i) {
    const s = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  times.sort((a, b) => a - b);
  const n = times.length;
  const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  const p90 = times[Math.min(n - 1, Math.round(0.9 * (n - 1)))];
  const rss = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ median_ms: median, min_ms: times[0], p90_ms: p90, peak_rss_bytes: rss, create_ms: createMs }));
}

main().catch(e => { console.error(e.message || e); process.exit(1); });
