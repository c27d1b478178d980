#include "artifact/signature.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/file_io.h"

namespace pith::artifact {

namespace {

constexpr char kSigMagic[4] = {'P', 'S', 'I', 'G'};

void init_sodium() { PITH_CHECK(sodium_init() >= 0, "libsodium failed to initialize"); }

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  PITH_CHECK(f, path, ": cannot open file");
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

std::string read_key(const std::string& path, size_t size, const char* what) {
  const std::string k = read_all(path);
  PITH_CHECK(k.size() == size, path, ": not a ", what, " (", k.size(), " bytes; expected ", size,
             "; make keys with pith keygen)");
  return k;
}

// The trailer at the end of bytes, if there is a well-formed one.
bool find_trailer(const std::string& bytes, SignatureTrailer& t) {
  if (bytes.size() < sizeof t) return false;
  std::memcpy(&t, bytes.data() + bytes.size() - sizeof t, sizeof t);
  return std::memcmp(t.magic, kSigMagic, 4) == 0 && t.version == 1 && t.signed_size == bytes.size() - sizeof t;
}

}  // namespace

void generate_keypair(const std::string& name) {
  init_sodium();
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  const std::string secret = name + ".key";
  write_file_atomically(secret, {std::string_view(reinterpret_cast<const char*>(sk), sizeof sk)});
  ::chmod(secret.c_str(), 0600);
  write_file_atomically(name + ".pub", {std::string_view(reinterpret_cast<const char*>(pk), sizeof pk)});
  sodium_memzero(sk, sizeof sk);
}

void sign_file(const std::string& path, const std::string& secret_key_file) {
  init_sodium();
  std::string bytes = read_all(path);
  SignatureTrailer t{};
  if (find_trailer(bytes, t)) bytes.resize(size_t(t.signed_size));  // re-sign: drop the old trailer
  PITH_CHECK(bytes.size() >= 4 && std::memcmp(bytes.data(), "PITH", 4) == 0, path, ": not a .pith artifact");
  const std::string sk = read_key(secret_key_file, crypto_sign_SECRETKEYBYTES, "secret key");
  std::memcpy(t.magic, kSigMagic, 4);
  t.version = 1;
  crypto_sign_ed25519_sk_to_pk(t.public_key, reinterpret_cast<const unsigned char*>(sk.data()));
  crypto_sign_detached(t.signature, nullptr, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                       reinterpret_cast<const unsigned char*>(sk.data()));
  t.signed_size = bytes.size();
  write_file_atomically(path, {bytes, std::string_view(reinterpret_cast<const char*>(&t), sizeof t)});
}

SignatureStatus check_signature(const std::string& path, const std::string& public_key_file) {
  init_sodium();
  const std::string pk = read_key(public_key_file, crypto_sign_PUBLICKEYBYTES, "public key");
  const std::string bytes = read_all(path);
  SignatureTrailer t{};
  if (!find_trailer(bytes, t)) return SignatureStatus::Unsigned;
  if (std::memcmp(t.public_key, pk.data(), pk.size()) != 0) return SignatureStatus::OtherKey;
  const int ok = crypto_sign_verify_detached(t.signature, reinterpret_cast<const unsigned char*>(bytes.data()),
                                             size_t(t.signed_size), reinterpret_cast<const unsigned char*>(pk.data()));
  return ok == 0 ? SignatureStatus::Valid : SignatureStatus::Invalid;
}

void require_signature(const std::string& path, const std::string& public_key_file) {
  switch (check_signature(path, public_key_file)) {
    case SignatureStatus::Valid:
      return;
    case SignatureStatus::Unsigned:
      fail(path, ": not signed (a signature by ", public_key_file, " is required)");
    case SignatureStatus::OtherKey:
      fail(path, ": signed by another key than ", public_key_file);
    case SignatureStatus::Invalid:
      fail(path, ": the signature does not match the contents (modified after signing?)");
  }
}

uint64_t unsigned_size(const std::string& path) {
  const uint64_t size = std::filesystem::file_size(path);
  if (size < sizeof(SignatureTrailer)) return size;
  std::ifstream f(path, std::ios::binary);
  SignatureTrailer t{};
  f.seekg(std::streamoff(size - sizeof t));
  if (!f.read(reinterpret_cast<char*>(&t), sizeof t)) return size;
  const bool ok = std::memcmp(t.magic, kSigMagic, 4) == 0 && t.version == 1 && t.signed_size == size - sizeof t;
  return ok ? t.signed_size : size;
}

}  // namespace pith::artifact
