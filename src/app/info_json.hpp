// The `info` numbers as JSON, shared by `myoexo info --json` and the report's dataset.json (internal).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "app/app.hpp"
#include "io/io.hpp"

namespace myoexo::app {

/// Summary of `recs` (see run_info for the keys). Paths are shown relative to `path` when is_folder.
nlohmann::ordered_json dataset_info_json(const std::filesystem::path& path, const std::vector<io::Recording>& recs,
                                         const std::vector<io::DuplicatePair>& dups,
                                         const std::vector<Error>& unreadable, bool is_folder);

/// Reads a folder (io::load_dataset) or one file (io::read_recording) and summarises it.
Result<nlohmann::ordered_json> collect_info(const Context& ctx, const std::filesystem::path& path);

}  // namespace myoexo::app
