// An evaluation as a list of independent tasks, one per (seed, protocol, fold), in a fixed order, and the record
// each finished task leaves on disk (OUT/tasks/task_<n>.json). The records are what lets one evaluation be split
// across processes or machines (`evaluate --shard i/n`, then `myoexo merge`) and continue after a crash
// (`evaluate --resume`): the report is always assembled from the records, in task order, so it does not depend on
// which process ran which task or in which order they finished.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "eval/protocol.hpp"
#include "eval/usage_metrics.hpp"

namespace myoexo::app {

/// Shard `index` of `count` (0-based): the tasks whose number n has n % count == index.
struct ShardSpec {
  std::size_t index = 0;
  std::size_t count = 1;
  bool whole() const noexcept { return count == 1; }
  bool owns(std::size_t task) const noexcept { return task % count == index; }
};

/// "I/N" with 0 <= I < N (N >= 1). Errors: invalid_argument naming the text.
Result<ShardSpec> parse_shard(const std::string& text);

/// Per-epoch curves of one trained fold (torch-free copy of train::TrainHistory's series).
struct FoldCurves {
  std::string fold;
  std::size_t index = 0;  ///< the fold's place in its protocol
  std::vector<double> train_loss, val_loss, train_accuracy, val_accuracy;
  std::size_t best_epoch = 0;
};

/// Where a task sits in the run: task = its number in the list (seeds outermost, then protocols, then folds).
struct TaskKey {
  std::size_t task = 0;
  std::size_t seed_index = 0;
  std::uint64_t seed = 0;
  eval::Protocol protocol = eval::Protocol::pooled;
  std::size_t fold = 0;
  std::string fold_name;
};

/// What one finished task leaves behind.
struct TaskRecord {
  TaskKey key;
  eval::FoldScore score;                           ///< metrics rebuilt from the confusion when read back
  std::vector<eval::DecisionSequence> decisions;   ///< the post-processed test streams (first seed only)
  std::optional<FoldCurves> curves;                ///< networks, first seed
};

/// The task list: for each seed, for each protocol, its folds (W and L: one per held-out subject, P: "pooled").
std::vector<TaskKey> make_task_list(const std::vector<std::uint64_t>& seeds, const std::vector<eval::Protocol>& protocols,
                                    const std::vector<std::string>& held_out);

/// A fingerprint of prepared data (names, subjects, labels, sizes and every sample's bits), as 16 hex digits: two
/// processes agree on it only when they prepared the same numbers.
std::string data_fingerprint(const eval::PreparedData& data);

/// A record as JSON ({"format", "run", "task", "protocol", "fold", ..., "confusion", "decisions", "curves"}), and
/// back: the run must equal `run` (data_path aside) and the task must be the one `tasks` lists (else mismatch /
/// invalid_argument naming `source`); damaged content is a parse error naming `source`.
nlohmann::json task_record_to_json(const TaskRecord& record, const nlohmann::json& run);
Result<TaskRecord> task_record_from_json(const nlohmann::json& j, const nlohmann::json& run,
                                         const std::vector<TaskKey>& tasks, std::size_t n_classes,
                                         const std::string& source);

/// Writes OUT_DIR/tasks/task_<n>.json atomically (a temporary file renamed), with `run` (what identifies the run:
/// its options and data fingerprint) so a record is never mixed into another run.
Status write_task_record(const std::filesystem::path& tasks_dir, const TaskRecord& record, const nlohmann::json& run);

/// The records of `tasks_dir` (task_*.json). Each must carry a `run` equal to `run` (else mismatch, naming the file
/// and the first differing setting) and a task that `tasks` lists under the same protocol and fold (else
/// invalid_argument). A damaged file is an error naming it. Missing folder = no records.
Result<std::vector<TaskRecord>> read_task_records(const std::filesystem::path& tasks_dir, const nlohmann::json& run,
                                                  const std::vector<TaskKey>& tasks, std::size_t n_classes);

/// The `run` object of the first task record found in `tasks_dir` (for `myoexo merge`, which takes the options
/// from the shards). Errors: empty (no record), io/parse errors naming the file.
Result<nlohmann::json> read_run_of_first_record(const std::filesystem::path& tasks_dir);

/// Who decides whether this process runs a task and where its result goes: this process alone (every task, a
/// shard's share, a resumed run's unfinished ones) or a coordinator handing tasks out one at a time (MPI rank 0).
class TaskBroker {
 public:
  virtual ~TaskBroker() = default;
  /// A cheap hint before a protocol starts: could this process run the task? (false = skip without asking)
  virtual bool wanted(std::size_t task) = 0;
  /// Asked just before a task starts: true = this process runs it now (no other will).
  virtual bool claim(std::size_t task) = 0;
  /// A claimed task finished; an error stops this process's work (a coordinator hands the task out again).
  virtual Status done(TaskRecord record) = 0;
};

/// The task folder of a shard's output folder: DIR/tasks, or DIR itself when it holds task_*.json.
std::filesystem::path tasks_folder(const std::filesystem::path& dir);

// ---- MPI (builds with MYOEXO_WITH_MPI and Open MPI; elsewhere these say "one process") ------------------------

/// True when this process was started by mpirun / srun with more than one rank; initialises MPI on the first call.
/// Errors: unsupported when started so but this build has no MPI (every rank would run the whole evaluation).
Result<bool> mpi_world_active();
/// This process's rank (0 without MPI) and the number of ranks (1).
int mpi_rank();
int mpi_size();
/// At exit: MPI_Finalize when MPI was initialised (ok = true), else MPI_Abort so that mpirun stops every rank
/// instead of leaving the others waiting for one that failed.
void mpi_shutdown(bool ok);

struct MpiTaskStats {
  std::size_t handed_back = 0;     ///< tasks a rank lost and another ran
  std::size_t run_on_rank0 = 0;    ///< tasks the coordinator ran itself
  double wall_seconds = 0.0;       ///< from the first task handed out to the last record
};

/// Runs the task list on every rank: each rank calls `compute` with a broker whose claim asks rank 0 (dynamic
/// scheduling: a task goes to the first rank that asks for it), and rank 0, which also computes on a second
/// thread, keeps every record (records[t], written to tasks_dir as it arrives). A rank whose task fails reports it
/// and stops; the task is handed to the next rank that asks, or run by rank 0 at the end. On ranks other than 0
/// `records` stays empty. Tasks that already have a record (a resumed run) are never handed out.
/// Test hook: MYOEXO_TEST_LOSE_TASK=R makes rank R (> 0) fail its first task, as a crashed fold would.
Result<MpiTaskStats> mpi_run_tasks(const std::vector<TaskKey>& tasks, const nlohmann::json& run, std::size_t n_classes,
                                   const std::filesystem::path& tasks_dir,
                                   std::vector<std::optional<TaskRecord>>& records,
                                   const std::function<Status(TaskBroker&)>& compute,
                                   const std::function<void(const std::string&)>& log);

}  // namespace myoexo::app
