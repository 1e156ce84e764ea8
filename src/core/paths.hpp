// myoexo::core — where the data sets live. One setting, used by the CLI, the tests and the benchmarks.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace myoexo {

/// Name of the environment variable that points at the data-set folder (the one holding `uci-lower-limb/`).
inline constexpr const char* kDataEnvVar = "MYOEXO_DATA";

/// The data-set root, in this order: `override_path` (a CLI flag) if given; `$MYOEXO_DATA` if set;
/// `../shared/datasets` relative to the current directory if it exists; `<source dir>/../shared/datasets`
/// (the layout of a checkout) if it exists. Returns nullopt when none exists.
std::optional<std::filesystem::path> find_dataset_root(const std::optional<std::string>& override_path = {});

/// Name of the environment variable that points at the resource folder (the one holding `configs/` and
/// `models/exo_leg.xml`).
inline constexpr const char* kResourcesEnvVar = "MYOEXO_RESOURCES";

/// The folder holding the program's resources (`configs/`, `models/`), in this order: `$MYOEXO_RESOURCES` if set;
/// `<folder of the running program>/../share/myoexo` (an installed tree) if it holds `configs/`; the source
/// tree this program was built from (a build folder) if it still holds `configs/`. Returns nullopt when none does.
/// Resources are found beside the program first, so an installed copy never reads a source tree that changed.
std::optional<std::filesystem::path> find_resource_dir();

/// `find_resource_dir() / relative`, or, when no resource folder exists, `relative` itself (so the error a caller
/// reports names the file it looked for).
std::filesystem::path resource_path(const std::filesystem::path& relative);

}  // namespace myoexo
