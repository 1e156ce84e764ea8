// Shared helpers for the dsp tests: fixture loading with a skip when missing, the UCI rows the fixtures use.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/test_data.hpp"

namespace myoexo::dsp::test {

inline bool has_fixture(const std::string& name) {
  return std::filesystem::exists(myoexo::test::fixture_dir() / (name + ".npy"));
}
inline myoexo::test::NpyArray fixture(const std::string& name) {
  return myoexo::test::load_npy(myoexo::test::fixture_dir() / (name + ".npy"));
}

/// An error for RecordProperty: "1.2e-13".
inline std::string fmt_err(double e) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", e);
  return b;
}

/// max |a - b| / scale over all elements.
inline double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}
inline double max_abs(const std::vector<double>& a) {
  double m = 0.0;
  for (double v : a) m = std::max(m, std::abs(v));
  return m;
}

/// The first n complete rows of a UCI lower-limb text file, 4 EMG columns, channel-major [4 x n] — the
/// same rule as scripts/fixtures_dsp.py: after the header (up to the first blank line), a row is complete
/// when its first 5 TAB-separated fields all parse as finite numbers.
inline std::vector<double> read_uci_emg(const std::filesystem::path& path, std::size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::vector<double>> rows;
  std::string line;
  bool in_header = true;
  while (rows.size() < n && std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (in_header) {
      if (line.find_first_not_of(" \t") == std::string::npos) in_header = false;
      continue;
    }
    std::vector<double> vals;
    std::size_t start = 0;
    bool ok = true;
    for (int k = 0; k < 5; ++k) {
      std::size_t end = line.find('\t', start);
      std::string tok = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
      char* e = nullptr;
      double v = std::strtod(tok.c_str(), &e);
      if (tok.empty() || e != tok.c_str() + tok.size() || !std::isfinite(v)) {
        ok = false;
        break;
      }
      vals.push_back(v);
      if (end == std::string::npos) {
        if (k < 4) ok = false;
        break;
      }
      start = end + 1;
    }
    if (ok && vals.size() == 5) rows.push_back({vals[0], vals[1], vals[2], vals[3]});
  }
  std::vector<double> out(4 * rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t c = 0; c < 4; ++c) out[c * rows.size() + i] = rows[i][c];
  return out;
}

}  // namespace myoexo::dsp::test
