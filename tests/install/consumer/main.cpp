// Uses the installed headers and libraries: designs the field's default band-pass, filters an impulse in one
// call and in chunks of 7 (they must agree exactly), and prints the impulse response for a comparison with SciPy.
#include <cstdio>
#include <vector>

#include "dsp/dsp.hpp"
#include "session/session.hpp"

int main() {
  auto design = myoexo::dsp::design_bandpass(4, 20.0, 450.0, 1000.0);
  if (!design) {
    std::fprintf(stderr, "%s\n", design.error().message().c_str());
    return 1;
  }
  std::vector<double> impulse(64, 0.0), whole(64), chunked(64);
  impulse[0] = 1.0;
  auto a = myoexo::dsp::SosFilter::create(*design, 1);
  auto b = myoexo::dsp::SosFilter::create(*design, 1);
  if (!a || !b || !a->process(impulse, whole)) return 1;
  for (std::size_t i = 0; i < impulse.size(); i += 7) {
    const std::size_t n = std::min<std::size_t>(7, impulse.size() - i);
    if (!b->process(std::span(impulse).subspan(i, n), std::span(chunked).subspan(i, n))) return 1;
  }
  if (whole != chunked) {
    std::fprintf(stderr, "chunked filtering differs from one call\n");
    return 1;
  }
  std::printf("# %s\n", design->describe().c_str());
  for (double v : whole) std::printf("%.17g\n", v);
  // The session stage links too (its spec type is enough to prove the headers and libraries resolve).
  myoexo::session::SessionSpec spec;
  std::fprintf(stderr, "session control rate by default: %.0f Hz\n", spec.control_hz);
  return 0;
}
