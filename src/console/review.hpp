// myoexo::console — reviewing a finished run in the console: the run's own logs (run_log.csv: every control tick;
// decisions.csv: every decision with its class probabilities; events.csv: the safety log; summary.json) read back
// and served to the same page, which then shows the whole run and scrubs through it (a cursor on every plot, the
// leg, the supervisor mode, the active intent and the events up to the cursor).
//
// The logs are read as what they are, files a run may have left half-written (a killed process): a last line
// without its newline is dropped and counted; any other malformed line is an error naming the file and line.
// Ticks beyond max_ticks are decimated (every k-th row; mode changes are kept, so no hold or stop disappears).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "console/run_logs.hpp"
#include "core/error.hpp"

namespace myoexo::console {

struct ReviewOptions {
  std::string bind = "127.0.0.1";
  int port = 8765;            ///< 0 = any free port
  bool allow_remote = false;  ///< required to bind anything but a loopback address
};

/// Serves the console page in review mode: GET / (the page), GET /api/info ({"mode":"review", ...}), GET
/// /api/review (load_run_review's JSON). Read-only: there is nothing to command.
class ReviewServer {
 public:
  /// Reads the run (load_run_review) and validates the options. Does not listen yet.
  static Result<std::unique_ptr<ReviewServer>> create(const ReviewOptions& options, const std::filesystem::path& dir);
  ~ReviewServer();
  ReviewServer(const ReviewServer&) = delete;
  ReviewServer& operator=(const ReviewServer&) = delete;
  /// Binds and serves on a thread of its own. Errors: io (the address or port cannot be bound).
  Status start();
  void stop();
  int port() const noexcept { return port_; }
  std::string url() const;
  const nlohmann::json& review() const noexcept { return review_; }

 private:
  ReviewServer() = default;
  ReviewOptions opt_;
  nlohmann::json review_;
  std::string review_text_;
  int port_ = 0;
  struct Http;
  std::unique_ptr<Http> http_;
  std::thread thread_;
};

}  // namespace myoexo::console
