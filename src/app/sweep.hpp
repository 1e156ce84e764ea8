// `myoexo sweep FILE.toml --out DIR`: a grid of evaluation settings (models x feature sets x band-passes x wavelet
// stage x context lengths x epochs x ZC/SSC thresholds, with seeds and protocols) run one after another on data
// loaded once, each as an evaluation in DIR/<setting>/ (its task records make the sweep resumable and shardable,
// and under mpirun every setting's tasks are shared by the ranks), then one results table: a row per setting with
// each protocol's mean, worst subject and seed spread, sorted best first.
//
// The file:
//   protocols = ["W", "L"]          # default: all (W, P, L)
//   subjects = ["1A", "2A"]         # held-out subjects of W and L; default: all
//   seeds = [1, 2, 3]               # networks: one run per seed (the spread); default: the config's seed
//   [grid]
//   model = ["lda", "lda_context", "cnn1d"]          # required
//   features = ["HTD", "MAV,WL,ZC,SSC,RMS,AR"]       # lda models
//   threshold = [0.005, 0.0]                         # lda models: ZC/SSC threshold in the data's unit
//   bandpass = [[20, 450], [20, 150]]                # every model
//   wavelet = [false, true]                          # every model
//   context = [250, 750]                             # lda_context and networks: past samples per window
//   epochs = [10, 30]                                # networks
// An axis a model does not use is left out of that model's settings (lda gets no context, networks no features);
// an axis no model of the grid uses is an error, as are unknown keys, empty lists, bad values and duplicates.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "app/evaluate.hpp"
#include "core/error.hpp"

namespace myoexo::app {

/// One point of the grid: the evaluation it runs and a short name (its folder).
struct SweepSetting {
  std::string name;          ///< e.g. "lda_context-f_HTD-bp_20-150-ctx_750"
  EvaluateOptions options;   ///< out_dir unset
  std::vector<std::pair<std::string, std::string>> values;  ///< (axis, value) for the table, in grid order
};

struct SweepPlan {
  std::vector<eval::Protocol> protocols;
  std::vector<SweepSetting> settings;
  std::vector<std::string> axes;  ///< the grid's axes in file order
};

/// Reads and checks a sweep file. Errors: io, parse (syntax, unknown keys, types: with the line), invalid_argument
/// (empty lists, bad values, an axis no model uses, unknown models or feature sets, duplicate settings).
Result<SweepPlan> load_sweep(const std::filesystem::path& file);

struct SweepOptions {
  std::filesystem::path file;
  std::filesystem::path out_dir = "sweep";
  std::optional<std::filesystem::path> data;  ///< data-set folder; unset = <data root>/uci-lower-limb
  ShardSpec shard;                            ///< run this shard of every setting's tasks (records only)
  bool plots = false;                         ///< each setting's confusion / per-class PNGs
};

/// Runs the sweep (resuming whatever records DIR already holds) and writes DIR/sweep.md, sweep.csv and sweep.json.
Status run_sweep(const Context& ctx, const SweepOptions& opt);

}  // namespace myoexo::app
