// Helpers for the myoexo app tests: run the CLI in-process, temp folders, synthetic recordings on disk.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "app/app.hpp"

namespace myoexo::test {

struct CliRun {
  int rc = -1;
  std::string out;
  std::string err;
};

/// Runs `myoexo <args...>` exactly as main() would, capturing stdout/stderr.
inline CliRun run_myoexo(std::vector<std::string> args) {
  args.insert(args.begin(), "myoexo");
  std::ostringstream out, err;
  CliRun r;
  r.rc = app::run_cli(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

/// The whole content of a text file ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A fresh empty folder for one test (removed first if a previous run left it).
inline std::filesystem::path fresh_dir(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path d = std::filesystem::path(::testing::TempDir()) / "myoexo_app_test" /
                            (std::string(info->test_suite_name()) + "." + info->name()) / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

/// Writes a UCI lower-limb style file (CRLF, TAB-separated, 5 channels RF BF VM ST FX, 1000 Hz):
/// RF = 0.05 sin(2 pi f t) + noise, other EMG = noise, FX = a slow knee angle in degrees.
inline void write_uci_file(const std::filesystem::path& path, std::size_t n, double rf_hz = 80.0,
                           unsigned seed = 1) {
  std::ofstream f(path, std::ios::binary);
  f << "File Name: " << path.stem().string() << ".log\r\n";
  for (const char* ch : {"RF", "BF", "VM", "ST"})
    f << "Channel " << (ch[0] == 'R' ? 1 : ch[0] == 'B' ? 2 : ch[0] == 'V' ? 3 : 4) << ": '" << ch << "', " << n
      << " values, engineering units: mV, no filters.\r\n";
  f << "Channel 5: 'FX', " << n << " values, engineering units: deg, no filters.\r\n\r\n";
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.01);
  char line[160];
  for (std::size_t i = 0; i < n; ++i) {
    const double t = double(i) / 1000.0;
    std::snprintf(line, sizeof line, "%.4f\t%.4f\t%.4f\t%.4f\t%.1f\r\n",
                  0.05 * std::sin(2 * M_PI * rf_hz * t) + noise(rng), noise(rng), noise(rng), noise(rng),
                  30.0 + 20.0 * std::sin(2 * M_PI * 0.5 * t));
    f << line;
  }
}

/// A small UCI-like data-set folder: subjects 1N and 2A, each with mar/sen/pie files of n samples.
inline std::filesystem::path write_uci_folder(const std::filesystem::path& root, std::size_t n = 3000) {
  std::filesystem::create_directories(root / "N_TXT");
  std::filesystem::create_directories(root / "A_TXT");
  unsigned seed = 1;
  for (const char* s : {"mar", "sen", "pie"}) {
    write_uci_file(root / "N_TXT" / (std::string("1N") + s + ".txt"), n, 60.0 + 20 * seed, seed);
    ++seed;
    write_uci_file(root / "A_TXT" / (std::string("2A") + s + ".txt"), n, 60.0 + 20 * seed, seed);
    ++seed;
  }
  return root;
}

/// Reads a CSV written by the app into header + rows (all numbers).
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
};
inline Table read_table(const std::filesystem::path& path) {
  Table t;
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return t;
  std::stringstream hs(line);
  for (std::string cell; std::getline(hs, cell, ',');) t.header.push_back(cell);
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) row.push_back(std::strtod(cell.c_str(), nullptr));
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace myoexo::test
