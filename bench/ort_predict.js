// Runs ONNX Runtime (onnxruntime-node, CPU) over every sample of a .npy dataset, in
// batches along the first axis, and writes output 0 of all of them as one float32 .npy.
// Used to check pith's exports (e.g. an int8 QDQ model) against ORT on the same data.
// usage: node ort_predict.js MODEL.onnx DATA.npy OUT.npy [BATCH=100] [THREADS=1]
// Prints one JSON line: {"samples","seconds","ms_per_sample"}.
'use strict';
const fs = require('fs');

const ort = require(process.env.PITH_ORT_MODULE || 'onnxruntime-node');

function readNpyFloat32(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (descr !== '<f4') throw new Error(`${file}: expected float32 data, got ${descr}`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  const copy = Buffer.from(buf.subarray(start + headerLen));  // aligned copy
  return { shape, data: new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4) };
}

function writeNpyFloat32(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const [model, dataFile, outFile, batchArg, threadsArg] = process.argv.slice(2);
  if (!outFile) throw new Error('usage: node ort_predict.js MODEL.onnx DATA.npy OUT.npy [BATCH] [THREADS]');
  const batch = Number(batchArg || 100), threads = Number(threadsArg || 1);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const { shape, data } = readNpyFloat32(dataFile);
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
