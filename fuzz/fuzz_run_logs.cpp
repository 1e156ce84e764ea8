// libFuzzer target: the readers of a finished run's logs (the console's review mode). Any bytes as run_log.csv,
// decisions.csv or events.csv: never crashes; a log that reads has columns of one length, times in order, and no
// more rows than the cap allows (plus the mode changes decimation keeps).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "console/run_logs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  using myoexo::console::parse_decisions_log;
  using myoexo::console::parse_events_log;
  using myoexo::console::parse_run_log;
  switch (data[0] % 3) {
    case 0: {
      const std::size_t cap = 1 + data[0] / 3;  // small caps exercise the decimation
      auto j = parse_run_log(text, "run_log.csv", cap);
      if (!j) break;
      const auto& tk = (*j)["ticks"];
      const std::size_t n = tk["t"].size();
      for (const char* k : {"hip_sp", "knee_sp", "hip_q", "knee_q", "hip_tau", "knee_tau", "mode", "active", "decision"})
        if (tk[k].size() != n) std::abort();
      for (std::size_t i = 1; i < n; ++i)
        if (!(tk["t"][i - 1].get<double>() <= tk["t"][i].get<double>())) std::abort();
      if (n > (*j)["ticks_in_log"].get<std::size_t>()) std::abort();
      break;
    }
    case 1: {
      auto j = parse_decisions_log(text, "decisions.csv");
      if (!j) break;
      const std::size_t n = (*j)["t"].size();
      if ((*j)["class"].size() != n || (*j)["rejected"].size() != n) std::abort();
      for (const auto& p : (*j)["p"])
        if (p.size() != n) std::abort();
      break;
    }
    default: {
      auto j = parse_events_log(text, "events.csv");
      if (j && (*j)["events"].size() > 20000) std::abort();
      break;
    }
  }
  return 0;
}
