// load_session: a signed artifact opens and runs as the graph it holds; with a public key,
// unsigned, other-key and tampered artifacts are refused before a Session exists.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "artifact/artifact.h"
#include "artifact/session_loader.h"
#include "artifact/signature.h"
#include "test_util/small_cnn.h"

namespace pith::artifact {
namespace {

using namespace test_util;
namespace fs = std::filesystem;

TEST(LoadSession, SignedArtifactsOpenAndOthersAreRefused) {
  const fs::path dir = fs::temp_directory_path() / ("pith_load_session_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string model = (dir / "m.pith").string(), key = (dir / "k").string(), other = (dir / "o").string();
  const Graph g = small_cnn();
  WriteOptions wo;
  wo.metadata = {{"name", "small"}};
  write_file(g, model, wo);
  generate_keypair(key);
  generate_keypair(other);

  LoadedModel unsigned_ok = load_session(model);  // no key: accepted
  EXPECT_EQ(unsigned_ok.metadata.at("name"), "small");
  EXPECT_THROW(load_session(model, {key + ".pub", {}}), Error);  // unsigned, key required

  sign_file(model, key + ".key");
  LoadedModel m = load_session(model, {key + ".pub", {}});
  const Tensor x = images(4, 3);
  Session direct(std::make_shared<Graph>(g));
  const Tensor want = direct.run({{"input", x}})[0].clone();
  const Tensor got = m.session->run({{"input", x}})[0];
  ASSERT_EQ(got.nbytes(), want.nbytes());
  EXPECT_EQ(std::memcmp(got.raw(), want.raw(), got.nbytes()), 0);

  EXPECT_THROW(load_session(model, {other + ".pub", {}}), Error);  // someone else's key
  {
    std::fstream f(model, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');  // tampered after signing
  }
  try {
    load_session(model, {key + ".pub", {}});
    FAIL() << "a tampered artifact opened";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(model), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pith::artifact
