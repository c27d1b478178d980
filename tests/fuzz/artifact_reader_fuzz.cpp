// libFuzzer target for the .pith reader: any bytes, read as an artifact file, must either
// read or end in pith::Error, never crash, hang or touch memory out of bounds (built with
// AddressSanitizer and UBSan by scripts/fuzz-artifact.sh). When the input starts with a
// plausible header, its model checksum is recomputed first, so that mutations get past the
// checksum into the FlatBuffers verifier and the reader's own bounds checks.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "artifact/artifact.h"

#define XXH_INLINE_ALL  // header-only xxHash, as the reader uses it
#include <xxhash.h>

namespace {

const std::string& scratch_path() {
  static const std::string p = "/tmp/pith_fuzz_" + std::to_string(::getpid()) + ".pith";
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  pith::artifact::Header h;
  if (bytes.size() >= sizeof h) {
    std::memcpy(&h, bytes.data(), sizeof h);
    if (h.model_offset == sizeof h && h.model_size <= bytes.size() - sizeof h) {
      h.model_xxhash64 = XXH64(bytes.data() + sizeof h, h.model_size, 0);
      std::memcpy(bytes.data(), &h, sizeof h);
    }
  }
  FILE* f = std::fopen(scratch_path().c_str(), "wb");
  if (!f) return 0;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  try {
    pith::artifact::Artifact a = pith::artifact::read_file(scratch_path());
    // Every tensor handed out must be readable end to end.
    volatile unsigned char sink = 0;
    for (auto& [name, t] : a.graph.initializers)
      for (size_t i = 0; i < t.nbytes(); i += 16) sink = sink ^ static_cast<const unsigned char*>(t.raw())[i];
  } catch (const pith::Error&) {
  }
  return 0;
}
