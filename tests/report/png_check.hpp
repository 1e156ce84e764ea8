// Test helper: reads a PNG's signature and IHDR chunk (width, height) without a PNG library.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>

namespace myoexo::test {

struct PngHeader {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
};

/// The IHDR width/height when `path` starts with the 8-byte PNG signature followed by an IHDR chunk.
inline std::optional<PngHeader> read_png_header(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<unsigned char, 24> b{};
  if (!in.read(reinterpret_cast<char*>(b.data()), b.size())) return std::nullopt;
  static constexpr std::array<unsigned char, 8> sig{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  for (std::size_t i = 0; i < sig.size(); ++i)
    if (b[i] != sig[i]) return std::nullopt;
  if (b[12] != 'I' || b[13] != 'H' || b[14] != 'D' || b[15] != 'R') return std::nullopt;
  auto be32 = [&](std::size_t o) {
    return (std::uint32_t(b[o]) << 24) | (std::uint32_t(b[o + 1]) << 16) | (std::uint32_t(b[o + 2]) << 8) |
           std::uint32_t(b[o + 3]);
  };
  return PngHeader{be32(16), be32(20)};
}

}  // namespace myoexo::test
