#include "app/evaluate_tasks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

namespace myoexo::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "myoexo evaluation task 1";

// NaN (an epoch without validation) is written as null and read back as NaN.
json series_to_json(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(std::isfinite(x) ? json(x) : json());
  return a;
}

std::vector<double> series_from_json(const json& a) {
  std::vector<double> v;
  for (const auto& x : a) v.push_back(x.is_number() ? x.get<double>() : std::numeric_limits<double>::quiet_NaN());
  return v;
}

// "options.model: 'lda' here, 'cnn1d' in the record" for the first difference between two run objects.
std::string first_difference(const json& here, const json& there, const std::string& path = "") {
  if (here.is_object() && there.is_object()) {
    for (const auto& [k, v] : here.items()) {
      const std::string p = path.empty() ? k : path + "." + k;
      if (!there.contains(k)) return p + " is missing from the record";
      if (v != there[k]) return first_difference(v, there[k], p);
    }
    for (const auto& [k, v] : there.items())
      if (!here.contains(k)) return (path.empty() ? k : path + "." + k) + " is only in the record";
  }
  return path + ": " + here.dump() + " in this run, " + there.dump() + " in the record";
}

Result<json> read_json_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return make_error(ErrorCode::io, file.string(), 0, "cannot be opened");
  std::stringstream s;
  s << in.rdbuf();
  json j = json::parse(s.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(ErrorCode::parse, file.string(), 0, "is not a task record (not a JSON object; damaged?)");
  if (j.value("format", "") != kFormat)
    return make_error(ErrorCode::parse, file.string(), 0, std::string("is not a task record (format is not '") +
                                                              kFormat + "')");
  return j;
}

std::vector<fs::path> record_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file(ec) && name.rfind("task_", 0) == 0 && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Result<ShardSpec> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  auto bad = [&] {
    return make_error(ErrorCode::invalid_argument, "--shard '" + text + "': expected I/N with 0 <= I < N, e.g. 0/4 "
                                                   "(the first of four shards)");
  };
  if (slash == std::string::npos || slash == 0 || slash + 1 >= text.size()) return bad();
  const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
  auto digits = [](const std::string& s) {
    return s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(a) || !digits(b)) return bad();
  ShardSpec s{std::stoul(a), std::stoul(b)};
  if (s.count == 0 || s.index >= s.count) return bad();
  return s;
}

std::vector<TaskKey> make_task_list(const std::vector<std::uint64_t>& seeds, const std::vector<eval::Protocol>& protocols,
                                    const std::vector<std::string>& held_out) {
  std::vector<TaskKey> tasks;
  for (std::size_t si = 0; si < seeds.size(); ++si)
    for (eval::Protocol p : protocols) {
      const std::vector<std::string> pooled{"pooled"};
      const auto& folds = p == eval::Protocol::pooled ? pooled : held_out;
      for (std::size_t f = 0; f < folds.size(); ++f) tasks.push_back({tasks.size(), si, seeds[si], p, f, folds[f]});
    }
  return tasks;
}

std::string data_fingerprint(const eval::PreparedData& data) {
  // FNV-1a over 64-bit words: cheap enough for every sample of a data set (about 1 GB/s).
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::uint64_t v) {
    h ^= v;
    h *= 1099511628211ull;
  };
  auto mix_text = [&](const std::string& s) {
    mix(s.size());
    for (unsigned char c : s) mix(c);
  };
  for (const auto& c : data.channel_names) mix_text(c);
  for (const auto& c : data.class_names) mix_text(c);
  for (const auto& s : data.subjects) mix_text(s);
  std::uint64_t rate_bits;
  std::memcpy(&rate_bits, &data.sample_rate_hz, sizeof rate_bits);
  mix(rate_bits);
  for (const auto& r : data.recordings) {
    mix_text(r.name);
    mix(static_cast<std::uint64_t>(r.subject));
    mix(static_cast<std::uint64_t>(r.label));
    mix(r.n_samples);
    for (int l : r.sample_labels) mix(static_cast<std::uint64_t>(l));
    for (double x : r.samples) {
      std::uint64_t bits;
      std::memcpy(&bits, &x, sizeof bits);
      mix(bits);
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

fs::path tasks_folder(const fs::path& dir) {
  if (!record_files(dir).empty()) return dir;
  return dir / "tasks";
}

json task_record_to_json(const TaskRecord& r, const json& run) {
  json j{{"format", kFormat},
         {"run", run},
         {"task", r.key.task},
         {"seed_index", r.key.seed_index},
         {"seed", r.key.seed},
         {"protocol", eval::protocol_code(r.key.protocol)},
         {"fold", r.key.fold},
         {"fold_name", r.key.fold_name},
         {"n_train", r.score.n_train},
         {"n_test", r.score.n_test},
         {"seconds", r.score.seconds},
         {"confusion", r.score.metrics.confusion}};
  json d = json::array();
  for (const auto& s : r.decisions)
    d.push_back({{"subject", s.subject}, {"increment_s", s.increment_s}, {"rest", s.rest}, {"truth", s.truth},
                 {"output", s.output}, {"rejected", s.rejected}});
  j["decisions"] = std::move(d);
  if (r.curves)
    j["curves"] = {{"train_loss", series_to_json(r.curves->train_loss)},
                   {"val_loss", series_to_json(r.curves->val_loss)},
                   {"train_accuracy", series_to_json(r.curves->train_accuracy)},
                   {"val_accuracy", series_to_json(r.curves->val_accuracy)},
                   {"best_epoch", r.curves->best_epoch}};
  return j;
}

Status write_task_record(const fs::path& tasks_dir, const TaskRecord& r, const json& run) {
  std::error_code ec;
  fs::create_directories(tasks_dir, ec);
  const json j = task_record_to_json(r, run);
  char name[32];
  std::snprintf(name, sizeof name, "task_%05zu.json", r.key.task);
  const fs::path file = tasks_dir / name, tmp = tasks_dir / (std::string(name) + ".partial");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << '\n';
    out.flush();
    if (!out) return make_error(ErrorCode::io, tmp.string(), 0, "cannot be written");
  }
  fs::rename(tmp, file, ec);  // a record is either whole or absent, even if the process is killed here
  if (ec) return make_error(ErrorCode::io, file.string(), 0, "cannot be written: " + ec.message());
  return {};
}

Result<json> read_run_of_first_record(const fs::path& tasks_dir) {
  const auto files = record_files(tasks_dir);
  if (files.empty()) return make_error(ErrorCode::empty, tasks_dir.string(), 0, "holds no task records (task_*.json)");
  auto j = read_json_file(files.front());
  if (!j) return j.error();
  if (!j->contains("run") || !(*j)["run"].is_object())
    return make_error(ErrorCode::parse, files.front().string(), 0, "has no run settings");
  return (*j)["run"];
}

Result<TaskRecord> task_record_from_json(const json& j, const json& run, const std::vector<TaskKey>& tasks,
                                         std::size_t n_classes, const std::string& source) {
  // Where the data were read is not part of what a run is (shards may mount the data elsewhere).
  json here = run, there = j.value("run", json::object());
  if (here.is_object()) here.erase("data_path");
  if (there.is_object()) there.erase("data_path");
  if (here != there)
    return make_error(ErrorCode::mismatch, source, 0,
                      "belongs to another run (" + first_difference(here, there) +
                          "); remove it or give this run another --out");
  try {
    TaskRecord r;
    const std::size_t task = j.at("task").get<std::size_t>();
    if (task >= tasks.size())
      return make_error(ErrorCode::invalid_argument, source, 0,
                        "task " + std::to_string(task) + " is not in this run's " + std::to_string(tasks.size()) +
                            " tasks");
    r.key = tasks[task];
    if (j.at("protocol").get<std::string>() != eval::protocol_code(r.key.protocol) ||
        j.at("fold").get<std::size_t>() != r.key.fold || j.at("fold_name").get<std::string>() != r.key.fold_name)
      return make_error(ErrorCode::invalid_argument, source, 0,
                        "task " + std::to_string(task) + " is not protocol " + eval::protocol_code(r.key.protocol) +
                            " fold '" + r.key.fold_name + "' as in this run");
    const auto confusion = j.at("confusion").get<std::vector<std::size_t>>();
    auto m = eval::metrics_from_confusion(confusion, n_classes);
    if (!m) return make_error(ErrorCode::invalid_argument, source, 0, m.error().message());
    r.score = {r.key.fold_name, r.key.fold, j.at("n_train").get<std::size_t>(), j.at("n_test").get<std::size_t>(),
               j.at("seconds").get<double>(), std::move(*m)};
    for (const auto& d : j.at("decisions")) {
      eval::DecisionSequence s;
      s.subject = d.at("subject").get<std::string>();
      s.increment_s = d.at("increment_s").get<double>();
      s.rest = d.at("rest").get<int>();
      s.truth = d.at("truth").get<std::vector<int>>();
      s.output = d.at("output").get<std::vector<int>>();
      s.rejected = d.at("rejected").get<std::vector<std::uint8_t>>();
      r.decisions.push_back(std::move(s));
    }
    if (j.contains("curves")) {
      const json& c = j["curves"];
      r.curves = FoldCurves{r.key.fold_name,
                            r.key.fold,
                            series_from_json(c.at("train_loss")),
                            series_from_json(c.at("val_loss")),
                            series_from_json(c.at("train_accuracy")),
                            series_from_json(c.at("val_accuracy")),
                            c.at("best_epoch").get<std::size_t>()};
    }
    return r;
  } catch (const json::exception& e) {
    return make_error(ErrorCode::parse, source, 0, std::string("is a damaged task record: ") + e.what());
  }
}

Result<std::vector<TaskRecord>> read_task_records(const fs::path& tasks_dir, const json& run,
                                                  const std::vector<TaskKey>& tasks, std::size_t n_classes) {
  std::vector<TaskRecord> out;
  for (const auto& file : record_files(tasks_dir)) {
    auto jr = read_json_file(file);
    if (!jr) return jr.error();
    auto r = task_record_from_json(*jr, run, tasks, n_classes, file.string());
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace myoexo::app
