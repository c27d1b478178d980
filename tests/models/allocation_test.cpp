// Session::run performs no heap allocation once memory is planned: every model in the
// given folders (NAME.onnx with NAME_input.npy, as the zoo test reads them), and the
// bundled Fashion-MNIST CNN quantized to int8, run through Session::run(inputs, outputs)
// with 1 and 2 threads; after three runs (planning, packing, per-thread scratch), five
// more are counted. The count is of the C allocator itself (malloc, calloc, realloc,
// aligned_alloc, posix_memalign; operator new calls malloc), on every thread, so the
// pool's workers and the kernels' aligned scratch count too.
// Prints one line per model and session; exits 1 if any run allocated.
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include "compress/recipe.h"
#include "core/npy.h"
#include "onnx/import.h"
#include "passes/passes.h"
#include "runtime/session.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
inline void count() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

// The C allocator, counted (glibc exports its own under __libc_ names for this purpose).
extern "C" {
void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* memalign(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  count();
  void* p = __libc_memalign(alignment, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
}

namespace fs = std::filesystem;
using namespace pith;

namespace {

// Allocations of runs 4 to 8 of `graph` on `input` (-1 when they did not use the arena).
// Several: which pool thread takes which tile varies from run to run.
long run_allocations(const std::shared_ptr<const Graph>& graph, const Tensor& input, int threads) {
  SessionOptions options;
  options.threads = threads;
  Session session(graph, options);
  std::vector<Tensor> inputs{input}, outputs;
  for (int i = 0; i < 3; ++i) session.run(inputs, outputs);
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 5; ++i) session.run(inputs, outputs);
  g_counting = false;
  if (!session.last_run_stats().used_arena) {
    std::cout << "  (the run did not use the planned arena)\n";
    return -1;
  }
  return g_allocations.load();
}

bool check(const std::string& name, const std::shared_ptr<const Graph>& graph, const Tensor& input) {
  bool ok = true;
  for (int threads : {1, 2}) {
    const long n = run_allocations(graph, input, threads);
    std::cout << (n == 0 ? "PASS " : "FAIL ") << name << " (" << threads << " thread" << (threads > 1 ? "s" : "")
              << "): " << n << " allocations in 5 runs\n";
    ok = ok && n == 0;
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  {  // The counter sees operator new and the C allocator, on other threads too.
    g_allocations = 0;
    g_counting = true;
    auto* volatile boxed = new std::vector<int>(100);
    void* volatile raw = std::aligned_alloc(64, 256);
    std::thread([] { std::free(std::malloc(32)); }).join();
    g_counting = false;
    delete boxed;
    std::free(raw);
    if (g_allocations < 4) {  // the vector object, its elements, the aligned block, the thread's malloc
      std::cout << "FAIL: the allocation counter saw " << g_allocations << " of at least 4 allocations\n";
      return 1;
    }
  }
  int failed = 0, models = 0;
  try {
    for (int a = 1; a < argc; ++a) {
      fs::path dir = argv[a];
      std::vector<fs::path> paths;
      for (auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".onnx" && fs::exists(dir / (e.path().stem().string() + "_input.npy")))
          paths.push_back(e.path());
      std::sort(paths.begin(), paths.end());
      for (auto& path : paths) {
        const std::string stem = path.stem().string();
        auto graph = std::make_shared<Graph>(onnx_import::import_file(path.string()));
        optimize(*graph);
        const Tensor input = read_npy((dir / (stem + "_input.npy")).string());
        failed += !check(stem, graph, input);
        ++models;
        if (stem == "fashion_cnn") {  // and its int8 version (the int8 kernels' paths)
          Recipe int8;
          int8.quantize = "int8";
          auto quantized = std::make_shared<Graph>(apply_recipe(*graph, int8, input).lowered);
          failed += !check(stem + " int8", quantized, input);
          ++models;
        }
      }
    }
  } catch (const std::exception& e) {
    std::cout << "FAIL: " << e.what() << "\n";
    return 1;
  }
  std::cout << models << " models, " << failed << " with allocations\n";
  return failed || models == 0 ? 1 : 0;
}
