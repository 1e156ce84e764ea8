// The `myoexo` program: everything is in myoexo_app (run_cli) so tests run exactly this.
#include <iostream>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "app/evaluate_tasks.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  const int code = myoexo::app::run_cli(args, std::cout, std::cerr);
  // Under mpirun: a rank that failed stops the whole job rather than leave the others waiting for it.
  std::cout.flush();
  std::cerr.flush();
  myoexo::app::mpi_shutdown(code == 0);
  return code;
}
