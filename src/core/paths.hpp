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

}  // namespace myoexo
