// The `myoexo` program: everything is in myoexo_app (run_cli) so tests run exactly this.
#include <iostream>
#include <string>
#include <vector>

#include "app/app.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  return myoexo::app::run_cli(args, std::cout, std::cerr);
}
