#!/usr/bin/env bash
# Fuzzes the .pith reader with libFuzzer for a bounded time (PITH_FUZZ_SECONDS, default 60):
# clang with -fsanitize=fuzzer,address,undefined builds tests/fuzz/artifact_reader_fuzz.cpp
# with the reader and what it needs (src/artifact/reader.cpp, src/core, src/ir), seeded with
# artifacts of every encoding that the release pith writes from a tiny model. A crash, a
# sanitizer report, a leak or a hang fails the run (and leaves the input in build/fuzz).
# scripts/test.sh calls this after the sanitizer pass; PITH_SKIP_FUZZ=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${PITH_FUZZ_SECONDS:-60}
out=build/fuzz
pith=build/release/pith
[ -x "$pith" ] || { echo "fuzz-artifact: build the release preset first ($pith)"; exit 1; }
mkdir -p "$out/generated/artifact" "$out/seeds" "$out/corpus"

echo "== libFuzzer build of the artifact reader"
flatc --cpp --scoped-enums -o "$out/generated/artifact" src/artifact/pith.fbs
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -pthread \
  -Isrc -I"$out/generated" tests/fuzz/artifact_reader_fuzz.cpp src/artifact/reader.cpp \
  src/core/*.cpp src/ir/*.cpp -lzstd -o "$out/artifact_reader_fuzz"

echo "== seeds: a tiny model in every encoding"
/usr/bin/python3 - "$out/seeds/tiny.onnx" <<'PY'
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
rng = np.random.default_rng(0)
inits = [numpy_helper.from_array(rng.uniform(-1, 1, s).astype(np.float32), n)
         for n, s in [("w1", (4, 1, 3, 3)), ("b1", (4,)), ("w2", (10, 256)), ("b2", (10,))]]
nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("Flatten", ["r"], ["f"]),
         helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], transB=1)]
g = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], inits)
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
np.save(sys.argv[1].replace(".onnx", "_x.npy"), rng.uniform(0, 1, (16, 1, 8, 8)).astype(np.float32))
PY
tiny="$out/seeds/tiny.onnx"
calib="$out/seeds/tiny_x.npy"
$pith compress "$tiny" -o "$out/seeds/raw.pith" >/dev/null
$pith compress "$tiny" -o "$out/seeds/zstd.pith" --entropy >/dev/null
$pith compress "$tiny" -o "$out/seeds/int8.pith" --quantize int8 --calibration "$calib" >/dev/null 2>&1
$pith compress "$tiny" -o "$out/seeds/int4.pith" --quantize int4 >/dev/null
$pith compress "$tiny" -o "$out/seeds/fp16.pith" --quantize fp16 >/dev/null
$pith compress "$tiny" -o "$out/seeds/cluster.pith" --cluster 16 --entropy >/dev/null
rm -f "$out/seeds/tiny.onnx" "$calib"

echo "== fuzzing the reader for ${seconds} s"
"$out/artifact_reader_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -seed=1 \
  -artifact_prefix="$out/" "$out/corpus" "$out/seeds" 2>&1 | tail -n 4
