// Test helpers: where the real data sets and the SciPy fixtures are, and a .npy reader.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/paths.hpp"

namespace myoexo::test {

/// The data-set root ($MYOEXO_DATA or ../shared/datasets); tests that need real data GTEST_SKIP when absent.
inline std::optional<std::filesystem::path> data_root() { return myoexo::find_dataset_root(); }

/// Folder the fixture scripts write to (CTest fixture `scipy_fixtures` fills it before the tests run).
inline std::filesystem::path fixture_dir() {
#ifdef MYOEXO_FIXTURE_DIR
  return std::filesystem::path(MYOEXO_FIXTURE_DIR);
#else
  return std::filesystem::path("fixtures");
#endif
}

/// A NumPy array read from a .npy file (version 1/2, little-endian '<f8', '<f4', '<i8', '<i4', C order).
struct NpyArray {
  std::vector<std::size_t> shape;
  std::vector<double> data;  ///< converted to double, C order
  std::size_t size() const { return data.size(); }
  double operator[](std::size_t i) const { return data[i]; }
};

inline NpyArray load_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open fixture " + path.string() + " (run scripts/make_fixtures.py)");
  char magic[6];
  in.read(magic, 6);
  if (std::memcmp(magic, "\x93NUMPY", 6) != 0) throw std::runtime_error("not a .npy file: " + path.string());
  unsigned char ver[2];
  in.read(reinterpret_cast<char*>(ver), 2);
  std::uint32_t header_len = 0;
  if (ver[0] == 1) {
    unsigned char hl[2];
    in.read(reinterpret_cast<char*>(hl), 2);
    header_len = hl[0] | (hl[1] << 8);
  } else {
    unsigned char hl[4];
    in.read(reinterpret_cast<char*>(hl), 4);
    header_len = hl[0] | (hl[1] << 8) | (hl[2] << 16) | (std::uint32_t(hl[3]) << 24);
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  if (header.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error("fixture must be C order: " + path.string());
  std::string descr;
  if (auto p = header.find("'descr': '"); p != std::string::npos) descr = header.substr(p + 10, 3);
  NpyArray arr;
  auto sp = header.find("'shape': (");
  auto se = header.find(')', sp);
  std::string shape_str = header.substr(sp + 10, se - sp - 10);
  std::size_t count = 1;
  for (std::size_t i = 0; i < shape_str.size();) {
    while (i < shape_str.size() && (shape_str[i] < '0' || shape_str[i] > '9')) ++i;
    if (i >= shape_str.size()) break;
    std::size_t j = i;
    while (j < shape_str.size() && shape_str[j] >= '0' && shape_str[j] <= '9') ++j;
    arr.shape.push_back(std::stoull(shape_str.substr(i, j - i)));
    count *= arr.shape.back();
    i = j;
  }
  arr.data.resize(count);
  auto read_as = [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> tmp(count);
    in.read(reinterpret_cast<char*>(tmp.data()), static_cast<std::streamsize>(count * sizeof(T)));
    for (std::size_t i = 0; i < count; ++i) arr.data[i] = static_cast<double>(tmp[i]);
  };
  if (descr == "<f8") read_as(double{});
  else if (descr == "<f4") read_as(float{});
  else if (descr == "<i8") read_as(std::int64_t{});
  else if (descr == "<i4") read_as(std::int32_t{});
  else throw std::runtime_error("unsupported dtype " + descr + " in " + path.string());
  if (!in) throw std::runtime_error("truncated fixture " + path.string());
  return arr;
}

/// max |a-b| / max(|b|, floor): the relative error measure the tests state tolerances in.
inline double max_rel_error(const double* a, const double* b, std::size_t n, double floor = 1e-300) {
  double worst = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double denom = std::max(std::abs(b[i]), floor);
    worst = std::max(worst, std::abs(a[i] - b[i]) / denom);
  }
  return worst;
}

}  // namespace myoexo::test
