#include "core/paths.hpp"

#include <cstdlib>

namespace myoexo {

std::optional<std::filesystem::path> find_dataset_root(const std::optional<std::string>& override_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (override_path && !override_path->empty()) return fs::path(*override_path);
  if (const char* env = std::getenv(kDataEnvVar); env != nullptr && *env != '\0') return fs::path(env);
  const fs::path cwd_default = fs::path("..") / "shared" / "datasets";
  if (fs::is_directory(cwd_default, ec)) return cwd_default;
#ifdef MYOEXO_SOURCE_DIR
  const fs::path src_default = fs::path(MYOEXO_SOURCE_DIR) / ".." / "shared" / "datasets";
  if (fs::is_directory(src_default, ec)) return fs::weakly_canonical(src_default, ec);
#endif
  return std::nullopt;
}

}  // namespace myoexo
