// Runs ONNX Runtime (onnxruntime-node, CPU) over every sample of a .npy dataset, in
// batches along the first axis, and writes output 0 of all of them as one float32 .npy.
// Used to check pith's exports (e.g. an int8 QDQ model) against ORT on the same data.
// usage: node ort_predict.js MODEL.onnx DATA.npy OUT.npy [BATCH=100] [THREADS=1]
// Prints one JSON line: {"samples","seconds","ms_per_sample"}.
'use strict';
const { readNpy, writeNpyFloat32 } = require('./npy');

const ort = require(process.env.PITH_ORT_MODULE || 'onnxruntime-node');

async function main() {
  const [model, dataFile, outFile, batchArg, threadsArg] = process.argv.slice(2);
  if (!outFile) throw new Error('usage: node ort_predict.js MODEL.onnx DATA.npy OUT.npy [BATCH] [THREADS]');
  const batch = Number(batchArg || 100), threads = Number(threadsArg || 1);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const { type, shape, data } = readNpy(dataFile);
  if (type !== 'float32') throw new Error(`${dataFile}: expected float32 data, got ${type}`);
  const n = shape[0], per = data.length / n;
  let out = null, outPer = 0, outShape = null;
  const t0 = process.hrtime.bigint();
  for (let s = 0; s < n; s += batch) {
    const b = Math.min(batch, n - s);
    const x = new ort.Tensor('float32', data.subarray(s * per, (s + b) * per), [b, ...shape.slice(1)]);
    const y = (await session.run({ [session.inputNames[0]]: x }))[session.outputNames[0]];
    if (!out) {
      outPer = y.data.length / b;
      outShape = [n, ...y.dims.slice(1)];
      out = new Float32Array(n * outPer);
    }
    out.set(y.data, s * outPer);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  writeNpyFloat32(outFile, outShape, out);
  console.log(JSON.stringify({ samples: n, seconds, ms_per_sample: 1e3 * seconds / n }));
}

main().catch(e => { console.error(`ort_predict: ${e.message}`); process.exit(1); });
