// Ed25519 signatures of .pith artifacts (libsodium). A signed artifact ends with a
// 112-byte trailer after the bytes it signs:
//   char magic[4] = "PSIG"; uint32 version = 1; uint8 public_key[32]; uint8 signature[64];
//   uint64 signed_size   (the file's length before the trailer)
// The signature covers those signed_size bytes, the whole artifact as written, so any
// change to the header, model or segments invalidates it. Keys are raw libsodium keys:
// a 64-byte secret key file and a 32-byte public key file.
#pragma once

#include <cstdint>
#include <string>

namespace pith::artifact {

struct SignatureTrailer {
  char magic[4];
  uint32_t version;
  uint8_t public_key[32];
  uint8_t signature[64];
  uint64_t signed_size;
};
static_assert(sizeof(SignatureTrailer) == 112, "the signature trailer is 112 bytes on every platform");

// Writes NAME.key (secret, mode 0600) and NAME.pub (public).
void generate_keypair(const std::string& name);

// Signs path in place (through a temporary file); an existing signature is replaced.
void sign_file(const std::string& path, const std::string& secret_key_file);

enum class SignatureStatus { Valid, Unsigned, Invalid, OtherKey };

// Checks path's signature against the public key in public_key_file.
SignatureStatus check_signature(const std::string& path, const std::string& public_key_file);

// Throws an Error naming path unless it is signed by the key in public_key_file.
void require_signature(const std::string& path, const std::string& public_key_file);

// Bytes of the artifact proper: the file's size minus a trailer if there is one.
uint64_t unsigned_size(const std::string& path);

}  // namespace pith::artifact
