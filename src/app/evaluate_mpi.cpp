// The task list of an evaluation on MPI ranks: rank 0 coordinates (on its main thread, the only one that calls MPI:
// MPI_THREAD_FUNNELED) and computes on a second thread; the other ranks compute and ask rank 0 before each task.
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "app/evaluate_tasks.hpp"

#ifdef MYOEXO_HAVE_MPI
// The C API only: Open MPI's header would otherwise pull in its removed C++ bindings.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace myoexo::app {

namespace {

// What a launcher sets in every rank's environment (Open MPI's mpirun, PMI / PMIx as used by srun).
int launched_world_size() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* v = std::getenv(var); v && *v) return std::atoi(v);
  return 1;
}

}  // namespace

#ifndef MYOEXO_HAVE_MPI

Result<bool> mpi_world_active() {
  if (launched_world_size() > 1)
    return make_error(ErrorCode::unsupported, "started by mpirun with " + std::to_string(launched_world_size()) +
                                                  " ranks, but this build has no MPI (libopenmpi-dev and cmake "
                                                  "-DMYOEXO_WITH_MPI=ON): every rank would run the whole evaluation. "
                                                  "Use --shard I/N instead, or a build with MPI");
  return false;
}
int mpi_rank() { return 0; }
int mpi_size() { return 1; }
void mpi_shutdown(bool) {}
Result<MpiTaskStats> mpi_run_tasks(const std::vector<TaskKey>&, const nlohmann::json&, std::size_t,
                                   const std::filesystem::path&, std::vector<std::optional<TaskRecord>>&,
                                   const std::function<Status(TaskBroker&)>&,
                                   const std::function<void(const std::string&)>&) {
  return make_error(ErrorCode::unsupported, "this build has no MPI");
}

#else

namespace {

bool g_initialised = false;

enum Tag : int { kClaim = 1, kReply, kDone, kFailed, kFinished };

void send_text(const std::string& text, int to, int tag) {
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

std::string receive_text(const MPI_Status& probed) {
  int n = 0;
  MPI_Get_count(&probed, MPI_CHAR, &n);
  std::string buf(static_cast<std::size_t>(n), '\0');
  MPI_Recv(buf.data(), n, MPI_CHAR, probed.MPI_SOURCE, probed.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return buf;
}

// A rank other than 0: every claim is a question to rank 0, every result a message to it.
class WorkerBroker final : public TaskBroker {
 public:
  explicit WorkerBroker(const nlohmann::json& run) : run_(run) {
    if (const char* v = std::getenv("MYOEXO_TEST_LOSE_TASK"); v && std::atoi(v) == mpi_rank()) lose_first_ = true;
  }
  bool wanted(std::size_t) override { return !failed_; }
  bool claim(std::size_t task) override {
    if (failed_) return false;  // after a failure this rank takes no more tasks: it reports and stops
    send_text(std::to_string(task), 0, kClaim);
    int granted = 0;
    MPI_Recv(&granted, 1, MPI_INT, 0, kReply, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (granted) current_ = task;
    return granted != 0;
  }
  Status done(TaskRecord record) override {
    current_.reset();
    if (lose_first_) {
      lose_first_ = false;
      failed_ = record.key.task;
      return make_error(ErrorCode::io, "rank " + std::to_string(mpi_rank()) + " lost task " +
                                           std::to_string(record.key.task) + " (MYOEXO_TEST_LOSE_TASK)");
    }
    send_text(task_record_to_json(record, run_).dump(), 0, kDone);
    return {};
  }
  /// The task this rank failed: one whose result it could not hand over, or one claimed and never finished.
  std::optional<std::size_t> failed_task() const { return failed_ ? failed_ : current_; }

 private:
  const nlohmann::json& run_;
  std::optional<std::size_t> current_, failed_;
  bool lose_first_ = false;
};

// Rank 0's shared book of who runs what; its own computing thread and the coordinating main thread both use it.
struct Book {
  std::mutex mutex;
  std::vector<std::optional<TaskRecord>>* records = nullptr;
  std::vector<int> owner;  // rank running the task, -1 = free
  std::filesystem::path tasks_dir;
  const nlohmann::json* run = nullptr;
  Status write_status;

  bool free(std::size_t t) const { return !(*records)[t] && owner[t] < 0; }
  bool take(std::size_t t, int rank) {
    std::lock_guard<std::mutex> lock(mutex);
    if (t >= owner.size() || !free(t)) return false;
    owner[t] = rank;
    return true;
  }
  Status keep(TaskRecord record) {
    auto w = write_task_record(tasks_dir, record, *run);
    std::lock_guard<std::mutex> lock(mutex);
    const std::size_t t = record.key.task;
    (*records)[t] = std::move(record);
    if (!w && write_status) write_status = w;
    return w;
  }
};

class CoordinatorBroker final : public TaskBroker {
 public:
  explicit CoordinatorBroker(Book& book) : book_(book) {}
  bool wanted(std::size_t task) override {
    std::lock_guard<std::mutex> lock(book_.mutex);
    return book_.free(task);
  }
  bool claim(std::size_t task) override { return book_.take(task, 0) && (++ran_, true); }
  Status done(TaskRecord record) override { return book_.keep(std::move(record)); }
  std::size_t ran() const { return ran_; }

 private:
  Book& book_;
  std::size_t ran_ = 0;
};

}  // namespace

Result<bool> mpi_world_active() {
  if (launched_world_size() <= 1) return false;
  if (!g_initialised) {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      return make_error(ErrorCode::unsupported, "MPI_Init_thread failed");
    g_initialised = true;
    if (provided < MPI_THREAD_FUNNELED)
      return make_error(ErrorCode::unsupported, "this MPI library cannot run a second thread beside MPI calls");
  }
  return mpi_size() > 1;
}

int mpi_rank() {
  int r = 0;
  if (g_initialised) MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int mpi_size() {
  int n = 1;
  if (g_initialised) MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

void mpi_shutdown(bool ok) {
  if (!g_initialised) return;
  g_initialised = false;
  if (ok) {
    MPI_Finalize();
  } else {
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

Result<MpiTaskStats> mpi_run_tasks(const std::vector<TaskKey>& tasks, const nlohmann::json& run, std::size_t n_classes,
                                   const std::filesystem::path& tasks_dir,
                                   std::vector<std::optional<TaskRecord>>& records,
                                   const std::function<Status(TaskBroker&)>& compute,
                                   const std::function<void(const std::string&)>& log) {
  MpiTaskStats stats;
  const int rank = mpi_rank(), size = mpi_size();
  if (rank != 0) {
    WorkerBroker broker(run);
    Status s = compute(broker);
    if (!s) {
      if (auto t = broker.failed_task()) {
        send_text(nlohmann::json{{"task", *t}, {"reason", s.error().message()}}.dump(), 0, kFailed);
        log("rank " + std::to_string(rank) + ": task " + std::to_string(*t) + " failed (" + s.error().message() +
            "); rank 0 hands it out again");
      } else {
        send_text("", 0, kFinished);
        return s.error();  // failed outside a task: nothing to hand back (main aborts the job)
      }
    }
    send_text("", 0, kFinished);
    return stats;
  }

  Book book;
  book.records = &records;
  book.owner.assign(tasks.size(), -1);
  book.tasks_dir = tasks_dir;
  book.run = &run;
  CoordinatorBroker own(book);
  const auto t0 = std::chrono::steady_clock::now();
  Status own_status;
  bool own_finished = false;
  std::mutex own_mutex;
  std::thread worker([&] {
    Status s = compute(own);
    std::lock_guard<std::mutex> lock(own_mutex);
    own_status = s;
    own_finished = true;
  });
  int finished = 0;
  Status fatal;
  while (finished < size - 1) {
    int flag = 0;
    MPI_Status probed;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &probed);
    if (!flag) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    const int from = probed.MPI_SOURCE;
    const std::string text = receive_text(probed);
    switch (probed.MPI_TAG) {
      case kClaim: {
        const std::size_t t = std::strtoull(text.c_str(), nullptr, 10);
        int granted = book.take(t, from) ? 1 : 0;
        MPI_Send(&granted, 1, MPI_INT, from, kReply, MPI_COMM_WORLD);
        break;
      }
      case kDone: {
        const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
        auto rec = task_record_from_json(j, run, tasks, n_classes, "rank " + std::to_string(from));
        if (!rec) {
          if (fatal) fatal = rec.error();
          break;
        }
        (void)book.keep(std::move(*rec));
        break;
      }
      case kFailed: {
        const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
        const std::size_t t = j.value("task", std::size_t(0));
        {
          std::lock_guard<std::mutex> lock(book.mutex);
          if (t < book.owner.size() && !records[t]) book.owner[t] = -1;
        }
        ++stats.handed_back;
        log("task " + std::to_string(t) + " (" + eval::protocol_code(tasks[t].protocol) + " " + tasks[t].fold_name +
            ") failed on rank " + std::to_string(from) + ": " + j.value("reason", std::string("?")) +
            "; it is handed out again");
        break;
      }
      case kFinished: ++finished; break;
      default: break;
    }
  }
  worker.join();
  if (!own_status) return own_status.error();
  if (!fatal) return fatal.error();
  if (!book.write_status) return book.write_status.error();
  // Tasks handed back after every rank had passed them: rank 0 runs them now.
  std::size_t left = 0;
  for (std::size_t t = 0; t < tasks.size(); ++t) left += !records[t];
  if (left > 0) {
    log("rank 0 runs the " + std::to_string(left) + " task(s) no other rank finished");
    {
      std::lock_guard<std::mutex> lock(book.mutex);
      for (std::size_t t = 0; t < tasks.size(); ++t)
        if (!records[t]) book.owner[t] = -1;
    }
    if (Status s = compute(own); !s) return s.error();
  }
  stats.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stats.run_on_rank0 = own.ran();
  return stats;
}

#endif

}  // namespace myoexo::app
