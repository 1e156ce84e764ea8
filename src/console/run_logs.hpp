// myoexo::console — a finished run's logs read back for review: run_log.csv (every control tick), decisions.csv
// (every decision with its class probabilities), events.csv (the safety log) and summary.json, as one JSON object
// the console page draws. Files a run may have left half-written (a killed process) are read as such: a last line
// without its newline is dropped and counted; any other malformed line is an error naming the file and line.
// Ticks beyond max_ticks are decimated (every k-th row; mode and active-intent changes are kept, so no hold or
// stop disappears).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace myoexo::console {

/// What load_run_review returns, as JSON: {"mode":"review","run","summary"{...},"classes","class_intents",
/// "rejection_threshold","ticks"{"t","hip_sp","knee_sp","hip_q","knee_q","hip_tau","knee_tau","knee_ref"|null,
/// "mode","active","decision","sensor_faults"},"tick_stride","ticks_in_log","decisions"{"t","class","rejected",
/// "intent","p"[class][k]}|null,"events"[{"t","reason","joint","value","limit"}],"truncated_lines"}.
/// Errors: io (no run_log.csv in `dir`, unreadable), parse (a malformed line: file and line number).
Result<nlohmann::json> load_run_review(const std::filesystem::path& dir, std::size_t max_ticks = 100000);

/// Parsers of the three logs, for tests and fuzzing: `text` is the file's content, `name` its name in errors.
Result<nlohmann::json> parse_run_log(const std::string& text, const std::string& name, std::size_t max_ticks);
Result<nlohmann::json> parse_decisions_log(const std::string& text, const std::string& name);
Result<nlohmann::json> parse_events_log(const std::string& text, const std::string& name);

}  // namespace myoexo::console
