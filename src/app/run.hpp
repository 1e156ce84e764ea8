// myoexo::app — `myoexo run`, a host of session::Session: it picks the source (a replayed recording or a serial
// board), the back-end (MuJoCo or the mock) and the clock, and writes the logs and plots. Internal to the app
// (the CLI and the report step call it).
//
// Clocks: a fast replay runs in stream time (session::run_stream_clock: deterministic; a decision reaches the
// controller at the first control tick at or after its window end; nothing sleeps). A board, or a replay paced
// in real time (--realtime), runs on the wall clock (session::run_wall_clock: the control loop ticks on its own
// thread at control_hz, the stream on another). Compute time and latency are measured on the steady clock.
//
// Data-set label -> intent (UCI lower-limb, documented in docs and summary.json):
//   gait     (<k>mar, walking)                  -> gait
//   standing (<k>pie, knee flexion while standing) -> lift  (flexion towards the lift target)
//   sitting  (<k>sen, leg extension from sitting)  -> lower (extension back to the straight, neutral leg)
//   rejected decisions (max probability < threshold) -> rest
// Class names that already are intent names (rest, lift, lower, gait, hold) map to themselves.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "app/app.hpp"
#include "app/model_file.hpp"
#include "core/error.hpp"
#include "features/features.hpp"
#include "io/recording.hpp"
#include "models/classifier.hpp"
#include "models/lda.hpp"
#include "session/model.hpp"
#include "realtime/replay_source.hpp"
#include "session/session.hpp"

namespace myoexo::app {

/// The model a run uses: session::PipelineModel (session/model.hpp), an LDA pipeline model or a LibTorch network.
using session::PipelineModel;
using session::model_class_names;
using session::pipeline_model_to_json;
using session::save_pipeline_model;
using session::load_pipeline_model;
using session::lda_context_model;
using session::train_pipeline_model;
using session::load_training_recordings;
using session::prepare_channels;
using session::describe_model_filter;

/// Live runs are bounded: every tick is kept for the log's summary and plots.
inline constexpr double kMaxLiveSeconds = 4 * 3600.0;

/// What a run did, typed (summary.json holds the same and more, for files and other programs).
struct RunSummary {
  std::string recording;                               ///< file name (or the port)
  double control_hz = 0.0;
  std::string actuators;                               ///< "mujoco" | "mock"
  double sim_time_s = 0.0;                             ///< time of the last tick
  std::map<std::string, std::size_t> intents;          ///< decisions per intent
  std::optional<std::string> expected_intent;          ///< the recording's own intent, when its label maps to one
  double expected_fraction_of_decisions = 0.0;
  std::map<std::string, double> supervisor_mode_time_s;
  std::size_t events_logged = 0;
  std::map<std::string, std::size_t> events_by_reason;
  std::uint64_t setpoint_limit_violations = 0;
  realtime::DurationSummary compute;                   ///< per decision
  session::SessionStats session;                       ///< counters and timing of the session (arrival -> command, ...)
  nlohmann::json json;                                 ///< summary.json as written
};

/// A --fault text "KIND:START_S:DURATION_S[:CHANNEL]" (KIND: nan_burst, flat_line, saturation, dropped_chunk,
/// stall, out_of_order) as a replay fault. Errors: invalid_argument naming the text.
Result<realtime::FaultEvent> parse_fault(const std::string& text);

/// Runs the whole chain for `opt` on `model`; writes the outputs into opt.out_dir.
Result<RunSummary> run_chain(const Context& ctx, const RunCommandOptions& opt, const PipelineModel& model);

}  // namespace myoexo::app
