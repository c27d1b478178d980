// The serving engine: answers, errors, deadlines, cancellation, backpressure, hot swaps,
// rollbacks (asked for and automatic), the result cache, the fallback and micro-batching.
#include "serve/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <thread>

#include "artifact/signature.h"
#include "runtime/session.h"
#include "serve/test_models.h"

namespace pith::serve {
namespace {

using serve_test::temp_dir;
using serve_test::write_model;
using ::testing::HasSubstr;

#if defined(__SANITIZE_ADDRESS__)
constexpr double kSlack = 5.0;  // sanitized code runs several times slower
#else
constexpr double kSlack = 1.0;
#endif

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = temp_dir("engine");
    cnn = write_model(test_util::small_cnn(), dir + "/cnn.pith");
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::map<std::string, Tensor> cnn_input(uint32_t seed, int64_t n = 1) {
    return {{"input", test_util::images(n, seed)}};
  }

  std::string dir, cnn;
};

TEST_F(EngineTest, AnswersLikeASessionWithIdVersionAndTimestamp) {
  Engine engine;
  EXPECT_EQ(engine.deploy(cnn, {.name = "cnn"}), "cnn:v1");
  const auto inputs = cnn_input(1);
  const auto before = std::chrono::system_clock::now();
  InferResult r = engine.infer("cnn", inputs);
  Session reference(std::make_shared<const Graph>(test_util::small_cnn()));
  const auto expected = reference.run(inputs);
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_TRUE(same_bytes(r.outputs[0], expected[0]));
  EXPECT_EQ(r.output_names, std::vector<std::string>{"logits"});
  EXPECT_EQ(r.deployment_id, "cnn:v1");
  EXPECT_EQ(r.version, 1);
  EXPECT_GE(r.timestamp, before);
  EXPECT_GT(r.latency_ms, 0);
  EXPECT_FALSE(r.cached);
  // The id names the model too.
  EXPECT_TRUE(same_bytes(engine.infer("cnn:v1", cnn_input(2)).outputs[0], reference.run(cnn_input(2))[0]));
}

TEST_F(EngineTest, BadRequestsAreInvalidArgumentOrNotFound) {
  Engine engine;
  engine.deploy(cnn, {.name = "cnn"});
  auto status_of = [&](auto&& f) {
    try {
      f();
    } catch (const ServeError& e) {
      return std::make_pair(e.status(), std::string(e.what()));
    }
    return std::make_pair(Status::Ok, std::string());
  };
  auto [s1, m1] = status_of([&] { engine.infer("nope", cnn_input(1)); });
  EXPECT_EQ(s1, Status::NotFound);
  EXPECT_THAT(m1, HasSubstr("no model named 'nope'"));
  auto [s2, m2] = status_of([&] { engine.infer("cnn", {{"input", Tensor(DType::Float32, {1, 3, 12, 12})}}); });
  EXPECT_EQ(s2, Status::InvalidArgument);
  EXPECT_THAT(m2, HasSubstr("expected shape"));
  auto [s3, m3] = status_of([&] { engine.infer("cnn", {{"x", Tensor(DType::Float32, {1})}}); });
  EXPECT_EQ(s3, Status::InvalidArgument);
  auto [s4, m4] = status_of([&] { engine.deploy(dir + "/missing.pith", {.name = "m"}); });
  EXPECT_EQ(s4, Status::InvalidArgument);
  EXPECT_FALSE(engine.has_model("m"));  // a failed first deploy leaves nothing behind
  auto [s5, m5] = status_of([&] { engine.deploy(cnn, {.name = "bad/name"}); });
  EXPECT_EQ(s5, Status::InvalidArgument);
  // Still serving.
  EXPECT_EQ(engine.infer("cnn", cnn_input(3)).version, 1);
}

// A 1 ms deadline on a model that needs several: DeadlineExceeded promptly, every time,
// and the next request without a deadline succeeds on the same Session.
TEST_F(EngineTest, DeadlineEndsALongRunPromptlyAndTheSessionStaysUsable) {
  const std::string heavy = write_model(serve_test::heavy_cnn(), dir + "/heavy.pith");
  Engine engine;
  engine.deploy(heavy, {.name = "heavy", .cache = false});
  std::map<std::string, Tensor> x{{"x", test_util::uniform_tensor({1, 64, 56, 56}, 3)}};
  const auto t0 = Clock::now();
  const Tensor full = engine.infer("heavy", x).outputs[0];
  const double full_ms = ms_since(t0);
  std::vector<double> answered_ms;
  for (int i = 0; i < 10; ++i) {
    const auto start = Clock::now();
    try {
      engine.infer("heavy", x, start + std::chrono::milliseconds(1));
      ADD_FAILURE() << "a " << full_ms << " ms model answered within a 1 ms deadline";
    } catch (const ServeError& e) {
      EXPECT_EQ(e.status(), Status::DeadlineExceeded) << e.what();
    }
    answered_ms.push_back(ms_since(start));
    EXPECT_TRUE(same_bytes(engine.infer("heavy", x).outputs[0], full));  // usable, and right
  }
  // Within 2 ms of the call. CTest runs another test beside this one on two cores, so the
  // caller's wake-up may wait for a time slice now and then: the bound holds for 8 of the
  // 10 here (bench/serve_load.py measures every request on a quiet machine), and none may
  // come near the full run.
  std::sort(answered_ms.begin(), answered_ms.end());
  EXPECT_LT(answered_ms[7], 2.0 * kSlack) << "full run " << full_ms << " ms";
  EXPECT_LT(answered_ms[9], std::max(full_ms, 10.0 * kSlack)) << "full run " << full_ms << " ms";
  const ModelStatus s = engine.status("heavy");
  EXPECT_EQ(s.monitor.timeouts, 10u);
}

// Inside a Session: the run itself stops at the deadline, between tiles of one long op.
TEST_F(EngineTest, SessionRunStopsInsideALongOperator) {
  Graph g = serve_test::heavy_cnn();
  Session session(std::make_shared<const Graph>(g));
  std::map<std::string, Tensor> x{{"x", test_util::uniform_tensor({1, 64, 56, 56}, 4)}};
  session.run(x);
  const auto t0 = Clock::now();
  session.run(x);
  const double full_ms = ms_since(t0);
  RunControl control;
  control.deadline = Clock::now() + std::chrono::microseconds(300);
  const auto start = Clock::now();
  EXPECT_THROW(session.run(x, control), Interrupted);
  // Stopped inside the first of three convolutions, not after it (relative: time slices
  // taken by a neighbouring test stretch both runs alike).
  EXPECT_LT(ms_since(start), full_ms / 2) << "full run " << full_ms << " ms";
  std::atomic<bool> cancel{true};
  RunControl cancelled;
  cancelled.cancel = &cancel;
  try {
    session.run(x, cancelled);
    ADD_FAILURE() << "a cancelled run finished";
  } catch (const Interrupted& e) {
    EXPECT_EQ(e.reason(), Interrupted::Reason::Cancelled);
  }
  EXPECT_NO_THROW(session.run(x));
}

TEST_F(EngineTest, CancelFlagEndsTheRequest) {
  const std::string heavy = write_model(serve_test::heavy_cnn(), dir + "/heavy.pith");
  Engine engine;
  engine.deploy(heavy, {.name = "heavy", .cache = false});
  std::map<std::string, Tensor> x{{"x", test_util::uniform_tensor({1, 64, 56, 56}, 3)}};
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    cancel = true;
  });
  try {
    engine.infer("heavy", x, Clock::time_point::max(), &cancel);
    ADD_FAILURE() << "not cancelled";
  } catch (const ServeError& e) {
    EXPECT_EQ(e.status(), Status::Cancelled);
  }
  canceller.join();
  EXPECT_NO_THROW(engine.infer("heavy", x));
}

// One worker, a queue of one: a burst gets some answers and some immediate rejections.
TEST_F(EngineTest, FullQueueRejectsAtOnce) {
  const std::string heavy = write_model(serve_test::heavy_cnn(), dir + "/heavy.pith");
  std::map<std::string, Tensor> x{{"x", test_util::uniform_tensor({1, 64, 56, 56}, 3)}};
  // Rejected without waiting: sooner than any answer, which needs a whole run. That is a
  // race between threads on a machine that may be loaded (two cores, a parallel ctest),
  // so the timing gets three tries; the counts must hold on every one.
  bool sooner = false;
  double slowest_rejection = 0, fastest_answer = 1e9;
  for (int attempt = 0; attempt < 3 && !sooner; ++attempt) {
    Engine engine;
    engine.deploy(heavy, {.name = "heavy", .workers = 1, .queue_capacity = 1, .cache = false});
    std::vector<std::future<std::pair<Status, double>>> calls;
    for (int i = 0; i < 6; ++i) {
      calls.push_back(std::async(std::launch::async, [&] {
        const auto start = Clock::now();
        try {
          engine.infer("heavy", x);
          return std::make_pair(Status::Ok, ms_since(start));
        } catch (const ServeError& e) {
          return std::make_pair(e.status(), ms_since(start));
        }
      }));
    }
    int ok = 0, rejected = 0;
    slowest_rejection = 0;
    fastest_answer = 1e9;
    for (auto& c : calls) {
      auto [status, ms] = c.get();
      if (status == Status::Ok) {
        ++ok;
        fastest_answer = std::min(fastest_answer, ms);
      }
      if (status == Status::Unavailable) {
        ++rejected;
        slowest_rejection = std::max(slowest_rejection, ms);
      }
    }
    EXPECT_GE(ok, 1);
    EXPECT_GE(rejected, 1);
    EXPECT_EQ(ok + rejected, 6);
    EXPECT_EQ(engine.status("heavy").monitor.rejected, uint64_t(rejected));
    sooner = slowest_rejection < fastest_answer;
  }
  EXPECT_TRUE(sooner) << "slowest rejection " << slowest_rejection << " ms, fastest answer " << fastest_answer << " ms";
}

TEST_F(EngineTest, HotSwapUnderLoadFailsNoRequest) {
  const std::string v2 = write_model(test_util::small_cnn(), dir + "/cnn2.pith");
  Engine engine;
  engine.deploy(cnn, {.name = "cnn", .workers = 2, .cache = false});
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, answered{0}, on_v2{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (uint32_t i = 0; !stop; ++i) {
        try {
          InferResult r = engine.infer("cnn", cnn_input(uint32_t(c) * 1000 + i));
          ++answered;
          on_v2 += r.version == 2;
        } catch (const std::exception& e) {
          ++failures;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(engine.deploy(v2, {.name = "cnn", .workers = 2, .cache = false}), "cnn:v2");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GT(answered, 0);
  EXPECT_GT(on_v2, 0);
  const ModelStatus s = engine.status("cnn");
  EXPECT_EQ(s.version, 2);
  ASSERT_EQ(s.versions.size(), 2u);
  EXPECT_EQ(s.versions[0].status, "standby");
  EXPECT_EQ(s.versions[1].status, "live");
}

TEST_F(EngineTest, RollbackOnRequestAndAutomaticallyOnErrors) {
  const std::string good = write_model(serve_test::gather_model(100), dir + "/good.pith");
  const std::string bad = write_model(serve_test::gather_model(1), dir + "/bad.pith");
  Engine engine;
  engine.deploy(good, {.name = "g"});
  EXPECT_FALSE(engine.rollback("g"));                 // nothing before v1
  engine.deploy(bad, {.name = "g", .cache = false});  // passes its smoke run (index 0)
  EXPECT_TRUE(engine.rollback("g"));
  EXPECT_EQ(engine.status("g").version, 1);

  engine.deploy(bad, {.name = "g", .cache = false});
  EXPECT_EQ(engine.status("g").version, 3);
  std::map<std::string, Tensor> x{{"indices", Tensor::from_vector<int64_t>({7}, {1})}};
  int internal = 0;
  for (int i = 0; i < 20; ++i) {
    try {
      InferResult r = engine.infer("g", x);
      EXPECT_EQ(r.version, 1);  // after the automatic rollback
    } catch (const ServeError& e) {
      EXPECT_EQ(e.status(), Status::Internal);
      EXPECT_THAT(e.what(), HasSubstr("g:v3"));
      ++internal;
    }
  }
  EXPECT_EQ(internal, 10);  // the tenth failure in the probation rolls back
  const ModelStatus s = engine.status("g");
  EXPECT_EQ(s.version, 1);
  EXPECT_THAT(s.events.back(), HasSubstr("rolled back automatically from g:v3 to g:v1"));
}

TEST_F(EngineTest, CacheAnswersARepeatedInputTwentyTimesFaster) {
  // Six layers (a 20 ms miss against a hit of a quarter of a millisecond alone): under a
  // parallel test run the best of three layers' hits was once only 15 times faster.
  const std::string heavy = write_model(serve_test::heavy_cnn(6), dir + "/heavy.pith");
  Engine engine;
  engine.deploy(heavy, {.name = "heavy"});
  std::map<std::string, Tensor> x{{"x", test_util::uniform_tensor({1, 64, 56, 56}, 9)}};
  const InferResult miss = engine.infer("heavy", x);
  EXPECT_FALSE(miss.cached);
  double best_hit = 1e9;
  constexpr unsigned kHits = 20;
  for (unsigned i = 0; i < kHits; ++i) {
    const InferResult hit = engine.infer("heavy", x);
    EXPECT_TRUE(hit.cached);
    EXPECT_TRUE(same_bytes(hit.outputs[0], miss.outputs[0]));
    best_hit = std::min(best_hit, hit.latency_ms);
  }
  EXPECT_GT(miss.latency_ms, 20 * best_hit) << "miss " << miss.latency_ms << " ms, hit " << best_hit << " ms";
  // A different input misses; a new version never answers from the old one's entries.
  x["x"].data<float>()[0] += 1;
  EXPECT_FALSE(engine.infer("heavy", x).cached);
  engine.deploy(heavy, {.name = "heavy"});
  EXPECT_FALSE(engine.infer("heavy", x).cached);
  const ModelStatus s = engine.status("heavy");
  EXPECT_EQ(s.monitor.cache_hits, kHits);
  EXPECT_EQ(s.monitor.cache_misses, 3u);
}

TEST_F(EngineTest, FallbackServesWhileThePrimaryIsOverBudgetAndTheSwitchIsVisible) {
  const std::string heavy = write_model(serve_test::heavy_cnn(), dir + "/heavy.pith");
  Graph small = serve_test::heavy_cnn();  // same interface, one cheap layer: y = relu(x)
  small.nodes.clear();
  small.initializers.clear();
  small.nodes.push_back(test_util::make_node("Relu", "relu", {"x"}, {"y"}));
  const std::string light = write_model(small, dir + "/light.pith");
  Engine engine;
  engine.deploy(heavy, {.name = "m", .cache = false, .fallback_artifact = light, .latency_budget_ms = 0.5});
  std::map<std::string, Tensor> x{{"x", test_util::uniform_tensor({1, 64, 56, 56}, 3)}};
  EXPECT_FALSE(engine.infer("m", x).fallback);  // no latencies known yet: the primary
  int fallback = 0;
  for (int i = 0; i < 20; ++i) fallback += engine.infer("m", x).fallback;
  EXPECT_GE(fallback, 15);  // every 8th still probes the primary
  const ModelStatus s = engine.status("m");
  EXPECT_TRUE(s.has_fallback);
  EXPECT_TRUE(s.fallback_active);
  EXPECT_GE(s.fallback_switches, 1u);
  EXPECT_THAT(s.last_switch_reason, HasSubstr("over the budget"));
  EXPECT_EQ(s.monitor.fallback_requests, uint64_t(fallback));
}

TEST_F(EngineTest, MicroBatchingJoinsRequestsAndSplitsTheAnswers) {
  Engine engine;
  engine.deploy(
      cnn,
      {.name = "cnn", .workers = 1, .max_batch = 4, .max_batch_wait = std::chrono::milliseconds(20), .cache = false});
  Session reference(std::make_shared<const Graph>(test_util::small_cnn()));
  std::vector<std::future<InferResult>> calls;
  for (uint32_t i = 0; i < 4; ++i)
    calls.push_back(std::async(std::launch::async, [&, i] { return engine.infer("cnn", cnn_input(100 + i)); }));
  for (uint32_t i = 0; i < 4; ++i) {
    InferResult r = calls[i].get();
    ASSERT_EQ(r.outputs[0].shape(), (Shape{1, 5}));
    const auto expected = reference.run(cnn_input(100 + i));
    for (int64_t k = 0; k < 5; ++k) EXPECT_NEAR(r.outputs[0].data<float>()[k], expected[0].data<float>()[k], 1e-5);
  }
  // A model with a fixed batch cannot be batched: said at deploy time.
  const std::string heavy = write_model(serve_test::heavy_cnn(), dir + "/heavy.pith");
  try {
    engine.deploy(heavy, {.name = "h", .max_batch = 4});
    ADD_FAILURE() << "fixed-batch model accepted for micro-batching";
  } catch (const ServeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("first dimension free"));
  }
}

TEST_F(EngineTest, LatencyBudgetAndSignatureAreCheckedAtDeploy) {
  const std::string heavy = write_model(serve_test::heavy_cnn(), dir + "/heavy.pith");
  Engine engine;
  try {
    engine.deploy(heavy, {.name = "h", .max_latency_ms = 0.01});
    ADD_FAILURE() << "a slow model passed a 0.01 ms budget";
  } catch (const ServeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("over the latency budget"));
  }
  artifact::generate_keypair(dir + "/k");
  try {
    engine.deploy(cnn, {.name = "c", .public_key_file = dir + "/k.pub"});
    ADD_FAILURE() << "an unsigned artifact was accepted";
  } catch (const ServeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not signed"));
  }
  artifact::sign_file(cnn, dir + "/k.key");
  EXPECT_EQ(engine.deploy(cnn, {.name = "c", .public_key_file = dir + "/k.pub"}), "c:v1");
}

}  // namespace
}  // namespace pith::serve
