// Damaged artifacts are refused, never trusted and never crash the reader: for files with
// every tensor encoding (raw, palette, 4-bit blocks, halves; plain and zstd), 100 random
// truncations and 1,000 random bit flips each, then 1,000 flips of the model with its
// checksum recomputed so that they reach the zstd decoder (coded models), the FlatBuffers
// verifier and the reader's bounds checks. A bit flip may only go unnoticed where the format
// carries nothing (a version-1 header's last word, padding before the segments), and then
// the graph read is the original.
// Signed files: any change to the trailer or what it covers is refused. Run under ASan in CI.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "artifact/artifact.h"
#include "artifact/signature.h"
#include "compress/prune.h"
#include "compress/quantize/fp16.h"
#include "compress/quantize/int4.h"
#include "test_util/small_cnn.h"

#define XXH_INLINE_ALL  // header-only xxHash, as the reader uses it
#include <xxhash.h>

namespace pith {
namespace {

using namespace test_util;
namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("pith_tamper_test_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir / name;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

// 0: refused with an Error naming the file; 1: read.
int try_read(const fs::path& p, Graph* out = nullptr) {
  try {
    artifact::Artifact a = artifact::read_file(p.string());
    if (out) *out = std::move(a.graph);
    return 1;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    return 0;
  }
}

bool same_tensors(const Graph& a, const Graph& b) {
  if (a.initializers.size() != b.initializers.size() || a.nodes.size() != b.nodes.size()) return false;
  for (auto& [name, t] : a.initializers) {
    auto it = b.initializers.find(name);
    if (it == b.initializers.end() || it->second.shape() != t.shape() || it->second.nbytes() != t.nbytes() ||
        std::memcmp(it->second.raw(), t.raw(), t.nbytes()) != 0)
      return false;
  }
  return true;
}

// Files covering every tensor encoding, each plain and zstd-coded.
std::vector<fs::path> sample_files() {
  std::vector<std::pair<std::string, Graph>> graphs;
  graphs.push_back({"raw", small_cnn()});
  Graph clustered = small_cnn();
  ClusterOptions c;
  c.clusters = 16;
  cluster_weights(clustered, c);
  graphs.push_back({"palette", clustered});
  Graph int4 = small_cnn();
  quantize_int4_weights(int4, Int4Options{});
  graphs.push_back({"q4", int4});
  Graph half = small_cnn();
  round_weights_to_fp16(half);
  graphs.push_back({"half", half});
  std::vector<fs::path> files;
  for (auto& [name, g] : graphs)
    for (bool zstd : {false, true}) {
      artifact::WriteOptions o;
      o.zstd = zstd;
      o.metadata = {{"name", name}};
      files.push_back(scratch(name + (zstd ? "_zstd" : "") + ".pith"));
      artifact::write_file(g, files.back().string(), o);
    }
  return files;
}

TEST(ArtifactTamper, TruncationsAreAlwaysRefused) {
  std::mt19937_64 rng(1);
  for (const fs::path& good : sample_files()) {
    SCOPED_TRACE(good.filename().string());
    const std::string bytes = read_bytes(good);
    const fs::path bad = scratch("truncated.pith");
    for (int i = 0; i < 100; ++i) {
      const size_t cut = size_t(rng() % bytes.size());
      write_bytes(bad, bytes.substr(0, cut));
      EXPECT_EQ(try_read(bad), 0) << "read a file cut to " << cut << " of " << bytes.size() << " bytes";
    }
  }
}

TEST(ArtifactTamper, BitFlipsAreRefusedUnlessTheyTouchNothing) {
  std::mt19937_64 rng(2);
  for (const fs::path& good : sample_files()) {
    SCOPED_TRACE(good.filename().string());
    const std::string bytes = read_bytes(good);
    artifact::Header h;
    std::memcpy(&h, bytes.data(), sizeof h);
    Graph original;
    ASSERT_EQ(try_read(good, &original), 1);
    const fs::path bad = scratch("flipped.pith");
    int unnoticed = 0;
    for (int i = 0; i < 1000; ++i) {
      const size_t at = size_t(rng() % bytes.size());
      std::string flipped = bytes;
      flipped[at] = char(flipped[at] ^ (1 << (rng() % 8)));
      write_bytes(bad, flipped);
      Graph g;
      if (try_read(bad, &g) == 0) continue;
      ++unnoticed;
      // Version 1 leaves the header's last word unused; version 2 keeps the coded model's size there.
      const bool unused_word = h.format_version == artifact::kFormatVersionPlainModel &&
                               at >= offsetof(artifact::Header, model_raw_size) && at < sizeof h;
      const bool carries_nothing = unused_word || (at >= sizeof h + h.model_size && at < h.segments_offset);
      EXPECT_TRUE(carries_nothing) << "a flip at byte " << at << " was read";
      EXPECT_TRUE(same_tensors(g, original)) << "a flip at byte " << at << " changed the tensors";
    }
    EXPECT_LT(unnoticed, 100);
  }
}

TEST(ArtifactTamper, FlipsBehindAValidChecksumReachTheVerifierAndNeverCrash) {
  std::mt19937_64 rng(3);
  int refused = 0, read = 0;
  for (const fs::path& good : sample_files()) {
    const std::string bytes = read_bytes(good);
    artifact::Header h;
    std::memcpy(&h, bytes.data(), sizeof h);
    const fs::path bad = scratch("rehashed.pith");
    for (int i = 0; i < 1000; ++i) {
      std::string flipped = bytes;
      for (int k = 0, n = 1 + int(rng() % 3); k < n; ++k) {
        const size_t at = sizeof h + size_t(rng() % h.model_size);
        flipped[at] = char(flipped[at] ^ (1 << (rng() % 8)));
      }
      artifact::Header fixed = h;
      fixed.model_xxhash64 = XXH64(flipped.data() + sizeof h, h.model_size, 0);
      std::memcpy(flipped.data(), &fixed, sizeof fixed);
      write_bytes(bad, flipped);
      Graph g;
      if (try_read(bad, &g)) {
        ++read;
        for (auto& [name, t] : g.initializers) {  // every tensor the reader hands out is readable
          volatile unsigned char sink = 0;
          for (size_t b = 0; b < t.nbytes(); b += 64) sink = sink ^ static_cast<const unsigned char*>(t.raw())[b];
        }
      } else {
        ++refused;
      }
    }
  }
  EXPECT_GT(refused, 0);
  std::cout << "flips behind a valid checksum: " << refused << " refused, " << read << " read\n";
}

TEST(ArtifactTamper, SignaturesRefuseAnyChange) {
  const fs::path p = scratch("signed.pith"), other = scratch("other_key");
  artifact::write_file(small_cnn(), p.string());
  const std::string key = scratch("key").string();
  artifact::generate_keypair(key);
  artifact::generate_keypair(other.string());
  artifact::sign_file(p.string(), key + ".key");
  ASSERT_EQ(artifact::check_signature(p.string(), key + ".pub"), artifact::SignatureStatus::Valid);
  EXPECT_EQ(artifact::check_signature(p.string(), other.string() + ".pub"), artifact::SignatureStatus::OtherKey);
  EXPECT_THROW(artifact::require_signature(p.string(), other.string() + ".pub"), Error);
  const std::string bytes = read_bytes(p);
  std::mt19937_64 rng(4);
  const fs::path bad = scratch("signed_flipped.pith");
  for (int i = 0; i < 200; ++i) {
    std::string flipped = bytes;
    // Half the flips in the trailer (key, signature, size), half in what it covers.
    const size_t at = i % 2 ? bytes.size() - 1 - size_t(rng() % sizeof(artifact::SignatureTrailer))
                            : size_t(rng() % (bytes.size() - sizeof(artifact::SignatureTrailer)));
    flipped[at] = char(flipped[at] ^ (1 << (rng() % 8)));
    write_bytes(bad, flipped);
    EXPECT_NE(artifact::check_signature(bad.string(), key + ".pub"), artifact::SignatureStatus::Valid)
        << "flip at " << at;
    EXPECT_THROW(artifact::require_signature(bad.string(), key + ".pub"), Error) << "flip at " << at;
  }
}

}  // namespace
}  // namespace pith
