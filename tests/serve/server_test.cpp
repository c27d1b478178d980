// pith serve over loopback: every route, every kind of bad request (a 4xx with a JSON
// message, and the server keeps serving), versions uploaded and rolled back, deadlines,
// and a soak of 10,000 requests with resident memory checked flat.
#include "serve/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <stb/stb_image_write.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "artifact/signature.h"
#include "core/npy.h"
#include "serve/monitor.h"
#include "serve/test_models.h"

// The soak test checks RSS under AddressSanitizer too: a small quarantine keeps freed
// blocks from looking like growth (ASan reads this hook at start-up).
extern "C" const char* __asan_default_options() { return "quarantine_size_mb=16:detect_leaks=1"; }

namespace pith::serve {
namespace {

using nlohmann::json;
using serve_test::temp_dir;
using serve_test::write_model;
using ::testing::HasSubstr;

// input [1,1,8,8] -> Flatten -> Gemm 64x3 -> logits: a classifier that takes an image.
Graph image_classifier() {
  Graph g;
  g.name = "img";
  g.opset = 13;
  g.inputs.push_back(test_util::info("image", {Dim{1, ""}, Dim{1, ""}, Dim{8, ""}, Dim{8, ""}}));
  g.outputs.push_back(test_util::info("logits", {Dim{1, ""}, Dim{3, ""}}));
  g.initializers["w"] = test_util::uniform_tensor({3, 64}, 8, -1.f, 1.f);
  g.nodes.push_back(test_util::make_node("Flatten", "flatten", {"image"}, {"f"}));
  g.nodes.push_back(test_util::make_node("Gemm", "fc", {"f", "w"}, {"logits"}, {{"transB", test_util::attr_int(1)}}));
  return g;
}

std::string png_bytes(int w, int h, uint8_t shade) {
  std::vector<uint8_t> pixels(size_t(w * h));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(shade + i);
  std::string out;
  stbi_write_png_to_func(
      [](void* ctx, void* data, int n) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), size_t(n)); },
      &out, w, h, 1, pixels.data(), w);
  return out;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

json tensor_json(const Tensor& t) {
  std::vector<float> v(t.data<float>(), t.data<float>() + t.numel());
  return {{"shape", t.shape()}, {"data", v}};
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = temp_dir("server");
    models = dir + "/models";
    std::filesystem::create_directories(models);
    write_model(test_util::small_cnn(), models + "/cnn.pith");
    write_model(image_classifier(), models + "/img.pith");
    write_model(serve_test::heavy_cnn(), models + "/heavy.pith");
    std::ofstream(models + "/img.json") << R"({"input_pipeline": {"channels": 1, "height": 8, "width": 8},
      "output_pipeline": {"kind": "classification", "softmax": true, "top_k": 2, "labels": ["a", "b", "c"]}})";
    std::ofstream(models + "/heavy.json") << R"({"cache": false})";
  }
  void TearDown() override {
    stop();
    std::filesystem::remove_all(dir);
  }

  void start(ServerConfig config = {}) {
    config.models_dir = models;
    config.port = 0;
    server = std::make_unique<Server>(config);
    server->load_models();
    port = server->bind();
    thread = std::thread([this] { server->listen(); });
    client = std::make_unique<httplib::Client>("127.0.0.1", port);
    client->set_read_timeout(30);
    for (int i = 0; i < 200 && !client->Get("/healthz"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void stop() {
    if (!server) return;
    server->stop();
    thread.join();
    server.reset();
  }
  // The server still answers, and the error was a JSON message.
  void expect_error(const httplib::Result& r, int code, const std::string& message) {
    ASSERT_TRUE(r) << "no response";
    EXPECT_EQ(r->status, code) << r->body;
    const json j = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r->body;
    EXPECT_THAT(j.value("error", ""), HasSubstr(message));
    auto health = client->Get("/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
  }
  httplib::Result predict(const std::string& model, const json& body) {
    return client->Post(("/v1/models/" + model + ":predict").c_str(), body.dump(), "application/json");
  }

  std::string dir, models;
  std::unique_ptr<Server> server;
  std::thread thread;
  int port = 0;
  std::unique_ptr<httplib::Client> client;
};

TEST_F(ServerTest, EveryRouteAnswers) {
  start();
  auto health = client->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(json::parse(health->body)["models"], 3);

  auto list = client->Get("/v1/models");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  EXPECT_EQ(json::parse(list->body)["models"].size(), 3u);
  auto one = client->Get("/v1/models/cnn");
  ASSERT_TRUE(one);
  const json status = json::parse(one->body);
  EXPECT_EQ(status["deployment_id"], "cnn:v1");
  EXPECT_EQ(status["inputs"][0]["shape"], json::parse(R"(["N", 2, 12, 12])"));

  // JSON tensors: the answer equals a Session's, with id, version and latency.
  const Tensor x = test_util::images(1, 5);
  auto r = predict("cnn", {{"inputs", {{"input", tensor_json(x)}}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json answer = json::parse(r->body);
  Session session(std::make_shared<const Graph>(test_util::small_cnn()));
  const Tensor expected = session.run({{"input", x}})[0];
  ASSERT_EQ(answer["outputs"]["logits"]["data"].size(), 5u);
  for (int k = 0; k < 5; ++k)
    EXPECT_FLOAT_EQ(answer["outputs"]["logits"]["data"][k].get<float>(), expected.data<float>()[k]);
  EXPECT_EQ(answer["deployment_id"], "cnn:v1");
  EXPECT_EQ(answer["version"], 1);
  EXPECT_GT(answer["latency_ms"].get<double>(), 0);

  // .npy bytes; the repeat comes from the cache.
  auto npy = client->Post("/v1/models/cnn:predict", serialize_npy(x), "application/x-npy");
  ASSERT_TRUE(npy);
  EXPECT_EQ(npy->status, 200);
  EXPECT_TRUE(json::parse(npy->body)["cached"].get<bool>());

  // An image through the input pipeline, answered through the output pipeline.
  auto img = client->Post("/v1/models/img:predict", png_bytes(8, 8, 10), "image/png");
  ASSERT_TRUE(img);
  ASSERT_EQ(img->status, 200) << img->body;
  const json classes = json::parse(img->body)["classes"];
  ASSERT_EQ(classes.size(), 2u);
  EXPECT_GE(classes[0]["score"].get<double>(), classes[1]["score"].get<double>());
  EXPECT_THAT(classes[0]["label"].get<std::string>(), ::testing::AnyOf("a", "b", "c"));
  // ... or raw on request.
  auto raw = client->Post("/v1/models/img:predict?output=raw", png_bytes(8, 8, 10), "image/png");
  ASSERT_TRUE(raw);
  EXPECT_TRUE(json::parse(raw->body).contains("outputs"));

  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->get_header_value("Content-Type"), HasSubstr("text/plain"));
  EXPECT_THAT(metrics->body, HasSubstr("pith_requests_total{model=\"cnn\",outcome=\"ok\"} 2"));
  EXPECT_THAT(metrics->body, HasSubstr("pith_cache_hits_total{model=\"cnn\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("pith_process_resident_memory_bytes"));
}

TEST_F(ServerTest, UploadSwapsVersionsAndRollbackRestores) {
  start();
  const std::string v2 = read_bytes(write_model(test_util::small_cnn(), dir + "/v2.pith", {{"release", "two"}}));
  auto up = client->Post("/v1/models/cnn/versions", v2, "application/octet-stream");
  ASSERT_TRUE(up);
  ASSERT_EQ(up->status, 201) << up->body;
  EXPECT_EQ(json::parse(up->body)["deployment_id"], "cnn:v2");
  EXPECT_TRUE(std::filesystem::exists(models + "/cnn/2.pith"));
  auto r = predict("cnn", {{"inputs", {{"input", tensor_json(test_util::images(1, 6))}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["version"], 2);
  auto status = json::parse(client->Get("/v1/models/cnn")->body);
  EXPECT_EQ(status["metadata"]["release"], "two");
  EXPECT_EQ(status["versions"][0]["status"], "standby");

  auto back = client->Post("/v1/models/cnn/rollback", "", "application/json");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, 200);
  EXPECT_EQ(json::parse(back->body)["version"], 1);
  expect_error(client->Post("/v1/models/cnn/rollback", "", "application/json"), 409, "no previous version");

  // A restarted server finds both versions on disk: the newest live.
  stop();
  start();
  EXPECT_EQ(json::parse(client->Get("/v1/models/cnn")->body)["version"], 2);
}

TEST_F(ServerTest, BadRequestsGetAMessageAndTheServerKeepsServing) {
  ServerConfig config;
  config.max_body_bytes = 1 << 20;
  start(config);
  const json good = {{"inputs", {{"input", tensor_json(test_util::images(1, 5))}}}};
  expect_error(client->Post("/v1/models/cnn:predict", "{\"inputs\": [1, 2", "application/json"), 400, "malformed JSON");
  expect_error(predict("cnn", {{"inputs", {{"input", {{"shape", {1, 2, 24, 6}}, {"data", std::vector<float>(288)}}}}}}),
               400, "expected shape");
  expect_error(predict("cnn", {{"inputs", {{"input", {{"shape", {2}}, {"data", {1, 2, 3}}}}}}}), 400,
               "holds 2 elements");
  const int64_t huge = int64_t(1) << 40;  // a product that overflows int64 must not slip through
  expect_error(predict("cnn", {{"inputs", {{"input", {{"shape", {huge, huge, huge}}, {"data", {1}}}}}}}), 400,
               "holds more elements");
  expect_error(predict("cnn", {{"inputs", {{"picture", tensor_json(test_util::images(1, 5))}}}}), 400,
               "unexpected input 'picture'");
  expect_error(predict("cnn", {{"input", 1}}), 400, "needs \"inputs\"");
  expect_error(client->Post("/v1/models/cnn:predict", {{"X-Deadline-Ms", "soon"}}, good.dump(), "application/json"),
               400, "X-Deadline-Ms must be a positive number of milliseconds, got 'soon'");
  expect_error(client->Post("/v1/models/cnn:predict?deadline_ms=-3", good.dump(), "application/json"), 400,
               "deadline_ms must be a positive number");
  expect_error(predict("cnn", {{"inputs", good["inputs"]}, {"deadline_ms", 0}}), 400,
               "\"deadline_ms\" must be a positive");
  expect_error(predict("nope", good), 404, "no model named 'nope'");
  expect_error(client->Get("/v1/models/nope"), 404, "no model named 'nope'");
  expect_error(client->Get("/v2/anything"), 404, "no route");
  expect_error(client->Post("/v1/models/cnn:predict", std::string(2 << 20, 'x'), "application/json"), 413,
               "over the server's limit");
  expect_error(client->Post("/v1/models/img:predict", std::string("\x89PNG\r\n\x1a\nbroken"), "image/png"), 400,
               "corrupt image");
  expect_error(client->Post("/v1/models/cnn:predict", png_bytes(8, 8, 1), "image/png"), 400,
               "declares no input pipeline");
  expect_error(client->Post("/v1/models/cnn:predict", "abc", "text/plain"), 400, "unsupported Content-Type");
  expect_error(client->Post("/v1/models/cnn/versions", "not an artifact", "application/octet-stream"), 400,
               "not a .pith artifact");
  std::string corrupt = read_bytes(models + "/cnn.pith");
  corrupt[corrupt.size() / 2] ^= 0x5a;
  expect_error(client->Post("/v1/models/cnn/versions", corrupt, "application/octet-stream"), 400, "corrupt");
  EXPECT_FALSE(std::filesystem::exists(models + "/cnn/2.pith"));  // the failed upload left nothing
  // Still version 1, still answering.
  auto r = predict("cnn", good);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["version"], 1);
}

TEST_F(ServerTest, UploadsMustBeSignedWhenTheServerHasAKey) {
  artifact::generate_keypair(dir + "/k");
  for (auto name : {"cnn", "img", "heavy"}) artifact::sign_file(models + "/" + name + ".pith", dir + "/k.key");
  ServerConfig config;
  config.defaults.public_key_file = dir + "/k.pub";
  start(config);
  const std::string unsigned_v2 = read_bytes(write_model(test_util::small_cnn(), dir + "/v2.pith"));
  expect_error(client->Post("/v1/models/cnn/versions", unsigned_v2, "application/octet-stream"), 400, "not signed");
  artifact::generate_keypair(dir + "/other");
  artifact::sign_file(dir + "/v2.pith", dir + "/other.key");
  expect_error(client->Post("/v1/models/cnn/versions", read_bytes(dir + "/v2.pith"), "application/octet-stream"), 400,
               "another key");
  artifact::sign_file(dir + "/v2.pith", dir + "/k.key");
  auto ok = client->Post("/v1/models/cnn/versions", read_bytes(dir + "/v2.pith"), "application/octet-stream");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
}

TEST_F(ServerTest, DeadlineOverHttpIs504AndTheNextRequestSucceeds) {
  start();
  const std::string x = serialize_npy(test_util::uniform_tensor({1, 64, 56, 56}, 2));
  httplib::Headers late{{"X-Deadline-Ms", "1"}};
  auto r = client->Post("/v1/models/heavy:predict", late, x, "application/x-npy");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504) << r->body;
  EXPECT_THAT(r->body, HasSubstr("deadline exceeded"));
  auto ok = client->Post("/v1/models/heavy:predict", x, "application/x-npy");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

// 10,000 requests: every one answered, and the server's resident memory flat between
// the first 2,000 and the rest (under AddressSanitizer, LeakSanitizer checks at exit).
TEST_F(ServerTest, TenThousandRequestsKeepMemoryFlat) {
  std::ofstream(models + "/cnn.json") << R"({"cache": false})";
  start();
  const std::string body = json{{"inputs", {{"input", tensor_json(test_util::images(1, 5))}}}}.dump();
  int failures = 0;
  uint64_t rss_warm = 0;
  for (int i = 0; i < 10000; ++i) {
    auto r = client->Post("/v1/models/cnn:predict", body, "application/json");
    failures += !r || r->status != 200;
    if (i == 1999) rss_warm = process_stats().resident_bytes;
  }
  const uint64_t rss_end = process_stats().resident_bytes;
  std::printf("RSS after 2,000 requests %.1f MiB, after 10,000 %.1f MiB\n", double(rss_warm) / 1048576.0,
              double(rss_end) / 1048576.0);
  EXPECT_EQ(failures, 0);
  EXPECT_LT(double(rss_end), double(rss_warm) * 1.05 + 4e6) << rss_warm << " -> " << rss_end;
  EXPECT_EQ(server->engine().status("cnn").monitor.ok, 10000u);
}

}  // namespace
}  // namespace pith::serve
