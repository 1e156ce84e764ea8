// `myoexo info PATH [--json]`: what a folder or a file holds.
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <system_error>

#include "app/common.hpp"
#include "app/model_file.hpp"
#include "control/intent.hpp"
#include "app/info_json.hpp"
#include "io/io.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

std::string display_path(const fs::path& p, const fs::path& root) {
  if (root.empty()) return p.string();
  std::error_code ec;
  auto rel = fs::relative(p, root, ec);
  return ec || rel.empty() ? p.string() : rel.string();
}

json recording_json(const io::Recording& r, const fs::path& root) {
  json j;
  j["path"] = display_path(r.source_path, root);
  j["subject"] = r.subject_id;
  j["group"] = r.group;
  j["class"] = r.label;
  j["session"] = r.session;
  j["channels"] = r.channel_names;
  j["units"] = r.channel_units;
  j["sample_rate_hz"] = r.sample_rate_hz;
  j["n_samples"] = r.n_samples;
  j["duration_s"] = r.duration_s();
  j["rows_skipped"] = r.rows_skipped;
  j["skipped_lines"] = r.skipped_lines;
  j["warnings"] = r.warnings;
  if (!r.label_names.empty()) j["label_names"] = r.label_names;
  return j;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string join(const std::vector<std::string>& v, const char* sep = " ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

}  // namespace

json dataset_info_json(const fs::path& path, const std::vector<io::Recording>& recs,
                       const std::vector<io::DuplicatePair>& dups, const std::vector<Error>& unreadable,
                       bool is_folder) {
  const fs::path root = is_folder ? path : fs::path();
  std::set<std::string> subjects, classes;
  std::vector<std::string> channels;
  std::set<double> rates;
  double total_s = 0;
  std::size_t skipped = 0;
  std::map<std::string, std::map<std::string, int>> by_subject;
  for (const auto& r : recs) {
    if (!r.subject_id.empty()) subjects.insert(r.subject_id);
    if (!r.label.empty()) classes.insert(r.label);
    for (const auto& name : r.label_names)
      if (!name.empty()) classes.insert(name);
    for (const auto& c : r.channel_names)
      if (std::find(channels.begin(), channels.end(), c) == channels.end()) channels.push_back(c);
    rates.insert(r.sample_rate_hz);
    total_s += r.duration_s();
    skipped += r.rows_skipped;
    by_subject[r.subject_id.empty() ? "?" : r.subject_id][r.label.empty() ? "(per-sample)" : r.label] += 1;
  }
  json j;
  j["path"] = path.string();
  j["kind"] = is_folder ? "folder" : "file";
  j["n_recordings"] = recs.size();
  std::vector<std::string> subject_list(subjects.begin(), subjects.end());
  std::sort(subject_list.begin(), subject_list.end(), subject_less);
  j["subjects"] = subject_list;
  j["classes"] = std::vector<std::string>(classes.begin(), classes.end());
  j["channels"] = channels;
  j["sample_rates_hz"] = std::vector<double>(rates.begin(), rates.end());
  j["total_duration_s"] = total_s;
  j["rows_skipped"] = skipped;
  json d = json::array();
  for (const auto& p : dups) d.push_back({{"first", display_path(p.first, root)}, {"second", display_path(p.second, root)}});
  j["duplicates"] = d;
  json u = json::array();
  for (const auto& e : unreadable)
    u.push_back({{"file", display_path(e.file, root)}, {"line", e.line}, {"code", error_code_name(e.code)},
                 {"reason", e.reason}});
  j["unreadable"] = u;
  j["by_subject"] = by_subject;
  json rj = json::array();
  std::vector<std::size_t> order(recs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return subject_less(recs[a].subject_id, recs[b].subject_id);
  });
  for (std::size_t i : order) rj.push_back(recording_json(recs[i], root));
  j["recordings"] = rj;
  return j;
}

Result<json> collect_info(const Context& ctx, const fs::path& given) {
  const fs::path path = resolve_input_path(ctx, given);
  std::error_code ec;
  if (!fs::exists(path, ec))
    return make_error(ErrorCode::io, path.string(), 0, "does not exist (neither as given nor below the data root)");
  if (fs::is_directory(path, ec)) {
    log_line(ctx, "reading every recording below " + path.string() + " ...");
    auto ds = io::load_dataset(path);
    if (!ds) return ds.error();
    return dataset_info_json(path, ds->recordings, ds->duplicates, ds->unreadable, true);
  }
  auto rec = io::read_recording(path);
  if (!rec) return rec.error();
  return dataset_info_json(path, {rec.value()}, {}, {}, false);
}

// A model file's description: what it expects (rate, channels, unit, filter, windows), what it says (classes and
// the intent each drives) and where it came from.
json model_info_json(const fs::path& path, const session::PipelineModel& m) {
  json j;
  j["path"] = path.string();
  j["kind"] = "model";
  j["classifier"] = model_classifier_name(m);
  j["container"] = m.network ? "myoexo-torch-model" : "myoexo-pipeline-model";
  j["sample_rate_hz"] = m.sample_rate_hz;
  j["channels"] = m.channels;
  j["signal_unit"] = m.signal_unit;
  j["filter"] = session::describe_model_filter(m) + (m.network_trained_zero_phase ? " (trained zero-phase)" : "");
  j["window_samples"] = m.window_len;
  j["increment_samples"] = m.increment;
  if (!m.network) {
    j["features"] = m.features.names;
    j["context_samples"] = m.context_samples;
  }
  j["classes"] = session::model_class_names(m);
  json ci = json::object();
  if (auto intents = session::model_class_intents(m)) {
    const auto& names = session::model_class_names(m);
    for (std::size_t c = 0; c < names.size() && c < intents->size(); ++c)
      ci[names[c]] = control::intent_label_name((*intents)[c]);
  } else {
    j["class_intents_error"] = intents.error().reason;
  }
  j["class_intents"] = ci;
  j["trained_on"] = m.trained_on;
  if (!m.adapted_from.empty()) j["adapted_from"] = m.adapted_from;
  j["provenance"] = {{"program", m.provenance.program},
                     {"version", m.provenance.version},
                     {"commit", m.provenance.commit},
                     {"created_utc", m.provenance.created_utc}};
  return j;
}

Status print_model_info(const Context& ctx, const json& j, bool as_json) {
  if (as_json) {
    ctx.out << j.dump(2) << '\n';
    return {};
  }
  auto& o = ctx.out;
  auto strings = [](const json& a) { return a.get<std::vector<std::string>>(); };
  o << j["path"].get<std::string>() << ": " << j["classifier"].get<std::string>() << " model ("
    << j["container"].get<std::string>() << ")\n";
  o << "  rate        " << format_double(j["sample_rate_hz"].get<double>()) << " Hz\n";
  o << "  channels    " << join(strings(j["channels"])) << " (in " << j["signal_unit"].get<std::string>() << ")\n";
  o << "  filter      " << j["filter"].get<std::string>() << '\n';
  o << "  windows     " << j["window_samples"].get<std::size_t>() << " samples every "
    << j["increment_samples"].get<std::size_t>();
  if (j.contains("context_samples") && j["context_samples"].get<std::size_t>() > 0)
    o << ", + " << j["context_samples"].get<std::size_t>() << " past samples of context";
  o << '\n';
  if (j.contains("features")) o << "  features    " << join(strings(j["features"])) << '\n';
  o << "  classes     ";
  bool first = true;
  for (const auto& c : strings(j["classes"])) {
    o << (first ? "" : ", ") << c;
    if (j["class_intents"].contains(c)) o << " -> " << j["class_intents"][c].get<std::string>();
    first = false;
  }
  o << '\n';
  if (j.contains("class_intents_error"))
    o << "  intents     none: " << j["class_intents_error"].get<std::string>() << " (offline use only)\n";
  const auto n_files = j["trained_on"].size();
  o << "  trained on  " << n_files << " recording(s)\n";
  if (j.contains("adapted_from")) o << "  adapted     from " << j["adapted_from"].get<std::string>() << '\n';
  const json& p = j["provenance"];
  const std::string version = p["version"].get<std::string>();
  o << "  written by  "
    << (version.empty() ? std::string("unknown (a file from before models carried provenance)")
                        : p["program"].get<std::string>() + " " + version +
                              (p["commit"].get<std::string>().empty() ? "" : " (" + p["commit"].get<std::string>() + ")") +
                              ", " + p["created_utc"].get<std::string>())
    << '\n';
  return {};
}

Status run_info(const Context& ctx, const InfoOptions& opt) {
  {
    // A model file (a LibTorch archive or a pipeline-model JSON) is described, not read as a recording.
    std::error_code ec;
    const fs::path path = resolve_input_path(ctx, opt.path);
    if (fs::is_regular_file(path, ec) && detect_model_file_kind(path)) {
      auto m = load_model(path);
      if (!m) return m.error();
      return print_model_info(ctx, model_info_json(path, *m), opt.json);
    }
  }
  auto info = collect_info(ctx, opt.path);
  if (!info) return info.error();
  const json& j = info.value();
  if (opt.json) {
    ctx.out << j.dump(2) << '\n';
    return {};
  }
  auto& o = ctx.out;
  auto strings = [](const json& a) { return a.get<std::vector<std::string>>(); };
  o << j["path"].get<std::string>() << ": " << j["n_recordings"].get<std::size_t>() << " recording(s), "
    << j["subjects"].size() << " subject(s), " << j["classes"].size() << " class(es)\n";
  o << "  subjects    " << join(strings(j["subjects"])) << '\n';
  o << "  classes     " << join(strings(j["classes"])) << '\n';
  o << "  channels    " << join(strings(j["channels"])) << '\n';
  std::vector<std::string> rates;
  for (double r : j["sample_rates_hz"]) rates.push_back(format_double(r) + " Hz");
  o << "  rates       " << join(rates, ", ") << '\n';
  double dmin = 1e300, dmax = 0;
  std::size_t files_skipping = 0;
  for (const auto& r : j["recordings"]) {
    dmin = std::min(dmin, r["duration_s"].get<double>());
    dmax = std::max(dmax, r["duration_s"].get<double>());
    if (r["rows_skipped"].get<std::size_t>() > 0) ++files_skipping;
  }
  o << "  duration    " << fixed(j["total_duration_s"].get<double>(), 1) << " s in total";
  if (j["recordings"].size() > 1) o << " (" << fixed(dmin, 1) << " to " << fixed(dmax, 1) << " s per file)";
  o << '\n';
  o << "  skipped     " << j["rows_skipped"].get<std::size_t>() << " incomplete/corrupt row(s) in " << files_skipping
    << " file(s)\n";
  o << "  duplicates  ";
  if (j["duplicates"].empty()) o << "none\n";
  else {
    bool first = true;
    for (const auto& d : j["duplicates"]) {
      o << (first ? "" : "\n              ") << d["first"].get<std::string>() << " == " << d["second"].get<std::string>();
      first = false;
    }
    o << "  (identical data: keep them in the same split)\n";
  }
  o << "  unreadable  ";
  if (j["unreadable"].empty()) o << "none\n";
  else {
    bool first = true;
    for (const auto& u : j["unreadable"]) {
      o << (first ? "" : "\n              ") << u["file"].get<std::string>();
      if (u["line"].get<std::size_t>() > 0) o << ":" << u["line"].get<std::size_t>();
      o << ": " << u["reason"].get<std::string>();
      first = false;
    }
    o << '\n';
  }
  // Per-file table.
  o << '\n';
  char line[512];
  std::snprintf(line, sizeof line, "  %-8s %-10s %-9s %8s %10s %9s %8s  %s\n", "subject", "class", "group", "rate_hz",
                "samples", "duration", "skipped", "file");
  o << line;
  for (const auto& r : j["recordings"]) {
    std::snprintf(line, sizeof line, "  %-8s %-10s %-9s %8s %10zu %8.1fs %8zu  %s\n",
                  r["subject"].get<std::string>().c_str(), r["class"].get<std::string>().c_str(),
                  r["group"].get<std::string>().c_str(), format_double(r["sample_rate_hz"].get<double>()).c_str(),
                  r["n_samples"].get<std::size_t>(), r["duration_s"].get<double>(),
                  r["rows_skipped"].get<std::size_t>(), r["path"].get<std::string>().c_str());
    o << line;
  }
  return {};
}

}  // namespace myoexo::app
