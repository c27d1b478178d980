// The .pith artifact: one file holding a Graph, its tensors and metadata, made to be
// memory-mapped and used without copying.
//
// Layout (little-endian):
//   Header (48 bytes, below) at offset 0
//   the FlatBuffers Model (src/artifact/pith.fbs) at header.model_offset; from format
//   version 2, when header.model_raw_size is not 0, a zstd frame that decodes to it (written
//   with --entropy: a small model's graph description is most of its file)
//   zero padding to a multiple of 64
//   segments from header.segments_offset, each at a multiple of 64 (Model.segments: offset
//   from segments_offset, stored and raw size, compression, xxHash64 of the stored
//   bytes); a tensor is stored raw, as a palette (b-bit indices plus a float codebook,
//   pith.fbs) when it is float32 with at most 256 distinct values, in 4-bit blocks with
//   float16 scales when it holds exactly such values (core/block_q4.h), or in 16 bits when
//   its float32 values are all exact halves; today one segment holds every
//   tensor, each tensor 64-byte aligned inside it (16 for tensors under 1 KiB)
// The reader checks the magic and format version, the model's xxHash64 and runs the
// FlatBuffers verifier, bounds-checks every segment and tensor reference, checks every
// segment's xxHash64, and decodes zstd segments into owned memory; uncompressed tensors
// view the mapping. Every problem is a pith::Error naming the file and what is wrong.
// A signed artifact carries a trailer after the segments (signature.h), which reading ignores.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ir/graph.h"

namespace pith::artifact {

constexpr char kMagic[4] = {'P', 'I', 'T', 'H'};
// Version 1: the model is stored plain. Version 2 (written only when it is zstd-coded) adds
// Header::model_raw_size. This reader reads both.
constexpr uint32_t kFormatVersion = 2;
constexpr uint32_t kFormatVersionPlainModel = 1;

struct Header {
  char magic[4];
  uint32_t format_version;
  uint64_t model_offset;     // of the FlatBuffers Model
  uint64_t model_size;       // bytes as stored
  uint64_t model_xxhash64;   // of the stored bytes
  uint64_t segments_offset;  // first segment (64-aligned)
  uint64_t model_raw_size;   // version 2: 0, or the decoded size of a zstd-coded model; version 1: unused
};
static_assert(sizeof(Header) == 48, "the header is 48 bytes on every platform");

struct WriteOptions {
  bool zstd = false;  // entropy-code the tensor segment and the model
  int zstd_level = 19;
  // Short internal value names (the model's inputs and outputs keep theirs), no node names.
  bool short_names = false;
  std::map<std::string, std::string> metadata;
};

struct WriteStats {
  uint64_t file_bytes = 0;
  uint64_t tensor_bytes = 0;          // the tensor segment (tensors raw or coded, before zstd)
  uint64_t stored_tensor_bytes = 0;   // the segment as stored (after zstd, when on)
  uint64_t decoded_tensor_bytes = 0;  // float32 bytes of the coded tensors, which loading decodes
  uint64_t model_bytes = 0;           // the FlatBuffers model (graph, tensor table, metadata)
  uint64_t stored_model_bytes = 0;    // as stored (after zstd, when it helps)
  int64_t parameters = 0;             // elements of every tensor
};

// Writes g to path through a temporary file renamed into place when complete.
WriteStats write_file(const Graph& g, const std::string& path, const WriteOptions& options = {});

struct Artifact {
  Graph graph;
  std::map<std::string, std::string> metadata;
  uint32_t format_version = 0;
  bool compressed = false;  // a segment or the model is zstd-coded
};

// Maps and verifies path; the graph's tensors keep the mapping alive.
Artifact read_file(const std::string& path);

// True when the file starts with the .pith magic.
bool looks_like_artifact(const std::string& path);

}  // namespace pith::artifact
