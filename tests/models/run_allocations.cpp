// Counts the heap allocations of one Session::run (after the runs that plan memory and
// pack weights): replaces the global operator new with a counting one.
// usage: pith_run_allocations MODEL.onnx INPUT.npy [THREADS] [TRACE_N]
// Prints "N allocations"; with TRACE_N, the stacks of the first N on stderr.
#include <execinfo.h>

#include <cstdio>
#include <cstdlib>
#include <new>

#include "core/npy.h"
#include "onnx/import.h"
#include "passes/passes.h"
#include "runtime/session.h"

namespace {
long g_count = 0;
long g_trace = 0;
bool g_on = false;
void* counted(size_t n) {
  if (g_on) {
    ++g_count;
    if (g_count <= g_trace) {
      g_on = false;
      void* bt[16];
      int k = backtrace(bt, 16);
      backtrace_symbols_fd(bt, k, 2);
      std::fprintf(stderr, "---- %zu bytes\n", n);
      g_on = true;
    }
  }
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(size_t n) { return counted(n); }
void* operator new[](size_t n) { return counted(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

using namespace pith;

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  auto graph = std::make_shared<Graph>(onnx_import::import_file(argv[1]));
  optimize(*graph);
  SessionOptions options;
  options.threads = argc > 3 ? std::atoi(argv[3]) : 1;
  g_trace = argc > 4 ? std::atol(argv[4]) : 0;
  Session session(graph, options);
  std::vector<Tensor> inputs{read_npy(argv[2])}, outputs;
  for (int i = 0; i < 3; ++i) session.run(inputs, outputs);
  g_on = true;
  session.run(inputs, outputs);
  g_on = false;
  std::printf("%ld allocations\n", g_count);
  return 0;
}
