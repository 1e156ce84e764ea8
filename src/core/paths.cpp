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

std::optional<std::filesystem::path> find_resource_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const char* env = std::getenv(kResourcesEnvVar); env != nullptr && *env != '\0') return fs::path(env);
  // /proc/self/exe: the program itself, wherever it was installed or copied (argv[0] may be a bare name).
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "myoexo";
    if (fs::is_directory(installed / "configs", ec)) return installed;
  }
#ifdef MYOEXO_SOURCE_DIR
  const fs::path source = fs::path(MYOEXO_SOURCE_DIR);
  if (fs::is_directory(source / "configs", ec)) return source;
#endif
  return std::nullopt;
}

std::filesystem::path resource_path(const std::filesystem::path& relative) {
  const auto dir = find_resource_dir();
  return dir ? *dir / relative : relative;
}

}  // namespace myoexo
