// Helpers shared by the LibTorch tests: .npy writing, a scratch folder, Python's torch.jit.load round trip.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace myoexo::test {

/// Writes a float32 C-order .npy (what torch.from_numpy gives a float32 tensor from).
inline void save_npy_f32(const std::filesystem::path& path, const std::vector<float>& data,
                         const std::vector<std::size_t>& shape) {
  std::string dims;
  for (std::size_t d : shape) dims += std::to_string(d) + ", ";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const std::uint16_t len = static_cast<std::uint16_t>(header.size());
  out.put(char(len & 0xff));
  out.put(char(len >> 8));
  out << header;
  out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size() * sizeof(float)));
}

/// A fresh folder under the system temp dir, removed on destruction.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(const std::string& tag) {
    path = std::filesystem::temp_directory_path() / ("myoexo_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// Debian's python3-torch, the one the TorchScript export promises to work with.
inline bool python_torch_available() {
  return std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") == 0;
}

/// For each (module.pt, input.npy, output.npy): torch.jit.load(module)(from_numpy(input)) -> output (float64).
/// Returns the shell's exit status (0 = ok).
inline int run_torchscript_in_python(const std::vector<std::filesystem::path>& triples) {
  std::string cmd =
      "/usr/bin/python3 -c \"import sys, numpy as np, torch\n"
      "a = sys.argv[1:]\n"
      "for i in range(0, len(a), 3):\n"
      "    m = torch.jit.load(a[i])\n"
      "    with torch.no_grad():\n"
      "        y = m(torch.from_numpy(np.load(a[i + 1])))\n"
      "    np.save(a[i + 2], y.numpy().astype(np.float64))\n\"";
  for (const auto& p : triples) cmd += " '" + p.string() + "'";
  return std::system(cmd.c_str());
}

}  // namespace myoexo::test
