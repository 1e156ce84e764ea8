// The `myoexo` program: everything is in myoexo_app (run_cli) so tests run exactly this.
#include <iostream>
#include <string>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "app/app.hpp"
#include "app/evaluate_tasks.hpp"

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // Training allocates and frees tensor buffers of up to tens of MB every batch. glibc serves blocks that large with
  // a fresh mmap each time, and every page of it faults on first touch; with folds training on several threads of
  // one process those faults also contend for the process's memory-map lock. Keeping blocks up to 256 MiB on the
  // heap, reused instead of returned to the system, measured 4-5 % faster for two folds on two threads (CNN1d, L,
  // 2 folds, 10 epochs, runs interleaved: 36.4 / 37.0 s without, 35.2 / 34.8 s with; identical results).
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
  std::vector<std::string> args(argv, argv + argc);
  const int code = myoexo::app::run_cli(args, std::cout, std::cerr);
  // Under mpirun: a rank that failed stops the whole job rather than leave the others waiting for it.
  std::cout.flush();
  std::cerr.flush();
  myoexo::app::mpi_shutdown(code == 0);
  return code;
}
