#include "io/text.hpp"

#include <fstream>

namespace myoexo::io::detail {

Result<std::string> read_file_bytes(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  const std::string name = path.string();
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return make_error(ErrorCode::io, name, 0, "no such file");
  if (fs::is_directory(st)) return make_error(ErrorCode::io, name, 0, "is a folder, not a file");
  if (!fs::is_regular_file(st)) return make_error(ErrorCode::io, name, 0, "not a regular file");
  const auto size = fs::file_size(path, ec);
  if (ec) return make_error(ErrorCode::io, name, 0, "cannot stat: " + ec.message());
  if (size > kMaxFileBytes)
    return make_error(ErrorCode::unsupported, name, 0,
                      "file is " + std::to_string(size) + " bytes; readers load at most " +
                          std::to_string(kMaxFileBytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::io, name, 0, "cannot open for reading (permissions?)");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (in.gcount() != static_cast<std::streamsize>(size))
    return make_error(ErrorCode::io, name, 0, "read failed or file changed while reading");
  return bytes;
}

}  // namespace myoexo::io::detail
