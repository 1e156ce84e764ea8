#include "app/sweep.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "app/common.hpp"
#include "features/features.hpp"
#include "io/io.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;

namespace {

// The grid's axes in the order of a setting's name and the table's columns.
const std::vector<std::string> kAxes = {"model", "features", "threshold", "bandpass", "wavelet", "context", "epochs"};

bool is_lda(const std::string& model) { return ascii_lower(model) == "lda" || ascii_lower(model) == "lda_context"; }

// Which axes a model uses: lda the features and threshold; lda_context those and the context; networks the
// context and epochs; every model the band-pass and the wavelet stage.
bool applies(const std::string& axis, const std::string& model) {
  if (axis == "model" || axis == "bandpass" || axis == "wavelet") return true;
  if (axis == "features" || axis == "threshold") return is_lda(model);
  if (axis == "context") return ascii_lower(model) == "lda_context" || (!is_lda(model) && model.find('+') == std::string::npos);
  if (axis == "epochs") return !is_lda(model);
  return false;
}

std::size_t line_of(const toml::node& n) { return std::size_t(n.source().begin.line); }

// One grid value: how it shows in names and tables, and what it sets.
struct AxisValue {
  std::string text;                                  // "HTD", "20-450", "750"
  std::function<void(EvaluateOptions&)> apply;
};

std::string trimmed_number(double v) { return format_double(v); }

Result<nlohmann::json> read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return make_error(ErrorCode::io, file.string(), 0, "cannot be opened");
  std::stringstream s;
  s << in.rdbuf();
  auto j = nlohmann::json::parse(s.str(), nullptr, false);
  if (j.is_discarded()) return make_error(ErrorCode::parse, file.string(), 0, "is not JSON");
  return j;
}

}  // namespace

Result<SweepPlan> load_sweep(const fs::path& path) {
  const std::string file = path.string();
  toml::table t;
  try {
    t = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    const std::string what(e.description());
    if (!fs::exists(path)) return make_error(ErrorCode::io, file, 0, "cannot be opened");
    return make_error(ErrorCode::parse, file, std::size_t(e.source().begin.line), what);
  }
  auto bad = [&](const toml::node& n, const std::string& why) { return make_error(ErrorCode::invalid_argument, file, line_of(n), why); };
  auto non_empty_array = [&](const toml::node& n, const std::string& key) -> Result<const toml::array*> {
    const toml::array* a = n.as_array();
    if (!a) return make_error(ErrorCode::parse, file, line_of(n), "'" + key + "' must be a list, e.g. " + key + " = [...]");
    if (a->empty()) return make_error(ErrorCode::invalid_argument, file, line_of(n), "'" + key + "' is an empty list");
    return a;
  };

  SweepPlan plan;
  EvaluateOptions base;
  base.plots = false;
  std::string protocols = "all";
  const toml::table* grid = nullptr;
  for (const auto& [k, node] : t) {
    const std::string key(k.str());
    if (key == "protocols") {
      auto a = non_empty_array(node, key);
      if (!a) return a.error();
      std::string list;
      for (const auto& v : **a) {
        if (!v.is_string()) return make_error(ErrorCode::parse, file, line_of(v), "'protocols' holds names: \"W\", \"P\", \"L\"");
        if (!list.empty()) list += ',';
        list += *v.value<std::string>();
      }
      protocols = list;
      if (auto p = parse_protocols(list); !p) return bad(node, p.error().reason);
    } else if (key == "subjects") {
      auto a = non_empty_array(node, key);
      if (!a) return a.error();
      for (const auto& v : **a) {
        if (!v.is_string()) return make_error(ErrorCode::parse, file, line_of(v), "'subjects' holds names such as \"1A\"");
        base.subjects.push_back(*v.value<std::string>());
      }
    } else if (key == "seeds") {
      auto a = non_empty_array(node, key);
      if (!a) return a.error();
      for (const auto& v : **a) {
        const auto s = v.value<std::int64_t>();
        if (!v.is_integer() || !s || *s < 0) return bad(v, "'seeds' holds integers >= 0");
        base.seeds.push_back(std::uint64_t(*s));
      }
    } else if (key == "grid") {
      grid = node.as_table();
      if (!grid) return make_error(ErrorCode::parse, file, line_of(node), "'grid' must be a table: [grid]");
    } else {
      return make_error(ErrorCode::parse, file, line_of(node),
                        "unknown key '" + key + "' (known: protocols, subjects, seeds, [grid])");
    }
  }
  base.protocol = protocols;
  auto parsed_protocols = parse_protocols(protocols);
  if (!parsed_protocols) return parsed_protocols.error();
  plan.protocols = *parsed_protocols;
  if (!grid) return make_error(ErrorCode::invalid_argument, file, 0, "no [grid] table: at least grid.model = [...]");

  std::map<std::string, std::vector<AxisValue>> values;
  std::map<std::string, std::size_t> axis_line;
  for (const auto& [k, node] : *grid) {
    const std::string key(k.str());
    if (std::find(kAxes.begin(), kAxes.end(), key) == kAxes.end())
      return make_error(ErrorCode::parse, file, line_of(node),
                        "unknown key '" + key + "' in [grid] (known: model, features, threshold, bandpass, wavelet, "
                        "context, epochs)");
    auto a = non_empty_array(node, "grid." + key);
    if (!a) return a.error();
    axis_line[key] = line_of(node);
    std::set<std::string> seen;
    for (const auto& v : **a) {
      AxisValue av;
      if (key == "model" || key == "features") {
        if (!v.is_string() || v.value<std::string>()->empty())
          return make_error(ErrorCode::parse, file, line_of(v), "grid." + key + " holds non-empty names");
        const std::string s = *v.value<std::string>();
        if (key == "model") {
          if (auto c = check_protocol_model(s); !c) return bad(v, "grid.model: " + c.error().reason);
          av = {s, [s](EvaluateOptions& o) { o.model = s; }};
        } else {
          if (auto f = features::make_feature_spec(s); !f) return bad(v, "grid.features: " + f.error().reason);
          av = {s, [s](EvaluateOptions& o) { o.features = s; }};
        }
      } else if (key == "threshold") {
        const auto x = v.value<double>();
        if (!x || !std::isfinite(*x) || *x < 0) return bad(v, "grid.threshold holds numbers >= 0 (the data's unit)");
        const double th = *x;
        av = {trimmed_number(th), [th](EvaluateOptions& o) { o.zc_ssc_threshold = th; }};
      } else if (key == "bandpass") {
        const toml::array* pair = v.as_array();
        const auto lo = pair && pair->size() == 2 ? (*pair)[0].value<double>() : std::nullopt;
        const auto hi = pair && pair->size() == 2 ? (*pair)[1].value<double>() : std::nullopt;
        if (!lo || !hi) return make_error(ErrorCode::parse, file, line_of(v), "grid.bandpass holds [LOW, HIGH] pairs in Hz");
        if (!(std::isfinite(*lo) && std::isfinite(*hi) && *lo > 0 && *lo < *hi))
          return bad(v, "grid.bandpass [" + trimmed_number(*lo) + ", " + trimmed_number(*hi) + "]: needs 0 < LOW < HIGH");
        const double l = *lo, h = *hi;
        av = {trimmed_number(l) + "-" + trimmed_number(h), [l, h](EvaluateOptions& o) {
                o.front_end.band_low_hz = l;
                o.front_end.band_high_hz = h;
              }};
      } else if (key == "wavelet") {
        if (!v.is_boolean()) return make_error(ErrorCode::parse, file, line_of(v), "grid.wavelet holds true / false");
        const bool w = *v.value<bool>();
        av = {w ? "wavelet" : "none", [w](EvaluateOptions& o) { o.front_end.wavelet = w; }};
      } else if (key == "context" || key == "epochs") {
        const auto x = v.value<std::int64_t>();
        const std::int64_t lo = key == "context" ? 0 : 1, hi = key == "context" ? 4000 : 100000;
        if (!v.is_integer() || !x || *x < lo || *x > hi)
          return bad(v, "grid." + key + " holds integers in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
        const std::size_t n = std::size_t(*x);
        if (key == "context") av = {std::to_string(n), [n](EvaluateOptions& o) { o.context = n; }};
        else av = {std::to_string(n), [n](EvaluateOptions& o) { o.epochs = n; }};
      }
      if (!seen.insert(av.text).second) return bad(v, "grid." + key + " lists '" + av.text + "' twice");
      values[key].push_back(std::move(av));
    }
  }
  if (!values.count("model")) return make_error(ErrorCode::invalid_argument, file, 0, "[grid] needs model = [...]");
  for (const auto& axis : kAxes) {
    if (!values.count(axis)) continue;
    plan.axes.push_back(axis);
    bool used = false;
    for (const auto& m : values["model"]) used = used || applies(axis, m.text);
    if (!used)
      return make_error(ErrorCode::invalid_argument, file, axis_line[axis],
                        "grid." + axis + " applies to " +
                            (axis == "epochs" ? std::string("networks") : axis == "context" ? std::string("lda_context and networks") : std::string("lda and lda_context")) +
                            ", and no model of grid.model is one");
  }

  // Each setting is a whole evaluation (minutes to hours): a grid of more than 10000 is a mistake, refused before
  // it is expanded (and before the name check below, quadratic in the settings, could take hours of its own).
  constexpr std::size_t kMaxSettings = 10000;
  std::size_t n_settings = 0;
  for (const auto& m : values["model"]) {
    std::size_t n = 1;
    for (const auto& axis : plan.axes)
      if (axis != "model" && applies(axis, m.text)) n = std::min(n * values[axis].size(), kMaxSettings + 1);
    n_settings = std::min(n_settings + n, kMaxSettings + 1);
  }
  if (n_settings > kMaxSettings)
    return make_error(ErrorCode::invalid_argument, file, 0,
                      "[grid] expands to more than " + std::to_string(kMaxSettings) +
                          " settings, each a whole evaluation: split it into several sweeps");

  // Every model with every value of the axes it uses.
  const std::map<std::string, std::string> short_name = {{"features", "f"}, {"threshold", "thr"}, {"bandpass", "bp"},
                                                         {"wavelet", "wl"}, {"context", "ctx"}, {"epochs", "ep"}};
  for (const auto& m : values["model"]) {
    std::vector<std::string> used;
    for (const auto& axis : plan.axes)
      if (axis != "model" && applies(axis, m.text)) used.push_back(axis);
    std::vector<std::size_t> pick(used.size(), 0);
    while (true) {
      SweepSetting s;
      s.options = base;
      m.apply(s.options);
      s.name = file_name_part(m.text);
      s.values.push_back({"model", m.text});
      for (std::size_t i = 0; i < used.size(); ++i) {
        const AxisValue& v = values[used[i]][pick[i]];
        v.apply(s.options);
        s.name += "-" + short_name.at(used[i]) + "_" + file_name_part(v.text);
        s.values.push_back({used[i], v.text});
      }
      if (std::any_of(plan.settings.begin(), plan.settings.end(), [&](const SweepSetting& o) { return o.name == s.name; }))
        return make_error(ErrorCode::invalid_argument, file, 0, "two settings are both '" + s.name + "'");
      plan.settings.push_back(std::move(s));
      std::size_t i = 0;
      while (i < pick.size() && ++pick[i] == values[used[i]].size()) pick[i++] = 0;
      if (i == pick.size()) break;
    }
  }
  return plan;
}

Status run_sweep(const Context& ctx, const SweepOptions& opt) {
  auto plan = load_sweep(opt.file);
  if (!plan) return plan.error();
  auto ds = load_data_folder(ctx, opt.data);
  if (!ds) return ds.error();
  // A band the data cannot carry fails here, before hours of other settings have run.
  double rate = 0;
  for (const auto& r : ds->recordings) rate = std::max(rate, r.sample_rate_hz);
  for (const auto& s : plan->settings)
    if (s.options.front_end.band_high_hz && *s.options.front_end.band_high_hz >= rate / 2)
      return make_error(ErrorCode::invalid_argument, opt.file.string(), 0,
                        "setting '" + s.name + "': the band-pass reaches " + format_double(*s.options.front_end.band_high_hz) +
                            " Hz, at or above the data's Nyquist frequency (" + format_double(rate / 2) + " Hz)");
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir, ec))
    return make_error(ErrorCode::io, opt.out_dir.string(), 0, "cannot create the output folder");

  struct Row {
    const SweepSetting* setting = nullptr;
    std::map<eval::Protocol, const eval::ProtocolScores*> scores;
    std::map<std::string, double> spread;  // per protocol code: max - min of the mean over seeds
    EvaluateOutcome outcome;
  };
  std::vector<Row> rows;
  rows.reserve(plan->settings.size());
  std::size_t tasks_run = 0, tasks_kept = 0, tasks_total = 0;
  bool partial = false;
  for (std::size_t i = 0; i < plan->settings.size(); ++i) {
    const SweepSetting& s = plan->settings[i];
    EvaluateOptions e = s.options;
    e.data = opt.data;
    e.out_dir = opt.out_dir / s.name;
    e.plots = opt.plots;
    e.resume = true;  // what an earlier, interrupted sweep finished is not redone
    e.shard = opt.shard;
    log_line(ctx, "setting " + std::to_string(i + 1) + "/" + std::to_string(plan->settings.size()) + ": " + s.name);
    auto o = evaluate_recordings(ctx, ds->recordings, e);
    if (!o) {
      Error err = o.error();
      err.reason = "sweep setting '" + s.name + "': " + err.reason;
      return err;
    }
    tasks_run += o->tasks_run;
    tasks_kept += o->tasks_reused;
    tasks_total += o->tasks_total;
    if (o->partial) {
      partial = true;
      continue;
    }
    Row row;
    row.setting = &s;
    row.outcome = std::move(*o);
    if (auto m = read_json(e.out_dir / "metrics.json"); m && m->contains("seed_runs")) {
      for (const auto p : plan->protocols) {
        const std::string code = eval::protocol_code(p);
        double lo = 2, hi = -1;
        for (const auto& run : (*m)["seed_runs"])
          if (run.contains(code)) {
            lo = std::min(lo, run[code]["mean_accuracy"].get<double>());
            hi = std::max(hi, run[code]["mean_accuracy"].get<double>());
          }
        if (hi >= lo) row.spread[code] = hi - lo;
      }
    }
    rows.push_back(std::move(row));
  }
  if (partial) {
    if (!opt.shard.whole())
      ctx.out << "sweep shard " << opt.shard.index << "/" << opt.shard.count << ": " << tasks_run << " task(s) run, "
              << tasks_kept << " kept from earlier, of " << tasks_total << " in " << plan->settings.size()
              << " settings; records in " << fs::absolute(opt.out_dir).lexically_normal().string()
              << "/<setting>/tasks\nwhen every shard has finished: myoexo sweep " << opt.file.string() << " --out "
              << opt.out_dir.string() << " (writes the table from the records)\n";
    return {};  // a shard, or an MPI rank other than 0
  }
  for (auto& r : rows)
    for (const auto& p : r.outcome.result.protocols) r.scores[p.protocol] = &p;

  // Best first by the mean accuracy of the last protocol (L when it ran: the new-person case).
  const eval::Protocol key = plan->protocols.back();
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    return a.scores.at(key)->mean_accuracy > b.scores.at(key)->mean_accuracy;
  });
  const bool seeds = std::any_of(rows.begin(), rows.end(), [](const Row& r) { return !r.spread.empty(); });
  double task_seconds = 0, longest = 0;
  for (const auto& r : rows) {
    task_seconds += r.outcome.task_seconds;
    longest = std::max(longest, r.outcome.longest_task_seconds);
  }

  std::vector<std::string> md = {"# myoexo sweep: " + opt.file.filename().string(), ""};
  {
    std::string protos;
    for (auto p : plan->protocols) protos += (protos.empty() ? "" : ", ") + std::string(eval::protocol_code(p));
    md.push_back(std::to_string(rows.size()) + " settings, protocols " + protos + ", " +
                 std::to_string(rows.empty() ? 0 : rows.front().outcome.result.subjects.size()) +
                 " subjects; sorted by the " + eval::protocol_code(key) + " mean accuracy, best first. Each setting's "
                 "full report is in its folder (summary.md, metrics.json). Worst = the held-out subject with the "
                 "lowest accuracy." + (seeds ? " Seed spread = max - min of the mean over the seeds." : ""));
    md.push_back("");
  }
  std::string head = "| # |", rule = "|---|";
  for (const auto& a : plan->axes) {
    head += " " + a + " |";
    rule += "---|";
  }
  for (auto p : plan->protocols) {
    const std::string c = eval::protocol_code(p);
    head += " " + c + " mean | " + (p == eval::Protocol::pooled ? std::string("") : c + " worst |");
    rule += p == eval::Protocol::pooled ? "---|" : "---|---|";
    if (seeds) {
      head += " " + c + " seed spread |";
      rule += "---|";
    }
  }
  head += " folder |";
  rule += "---|";
  md.push_back(head);
  md.push_back(rule);
  nlohmann::json js = nlohmann::json::array();
  std::ostringstream csv;
  csv << "rank";
  for (const auto& a : plan->axes) csv << ',' << a;
  for (auto p : plan->protocols) {
    const std::string c = eval::protocol_code(p);
    csv << ',' << c << "_mean," << c << "_min," << c << "_worst_subject," << c << "_seed_spread";
  }
  csv << ",folder\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::string line = "| " + std::to_string(i + 1) + " |";
    csv << i + 1;
    nlohmann::json jr{{"rank", i + 1}, {"folder", r.setting->name}};
    for (const auto& a : plan->axes) {
      std::string v = "—";
      for (const auto& [axis, text] : r.setting->values)
        if (axis == a) v = text;
      line += " " + v + " |";
      csv << ",\"" << (v == "—" ? "" : v) << '"';
      jr[a] = v == "—" ? nlohmann::json() : nlohmann::json(v);
    }
    for (auto p : plan->protocols) {
      const std::string c = eval::protocol_code(p);
      const eval::ProtocolScores* s = r.scores.at(p);
      line += " " + format_percent(s->mean_accuracy) + " |";
      if (p != eval::Protocol::pooled) line += " " + format_percent(s->min_accuracy) + " (" + s->min_fold + ") |";
      const auto sp = r.spread.find(c);
      if (seeds) line += sp != r.spread.end() ? " " + format_double(std::round(1000.0 * sp->second) / 10.0) + " points |" : " — |";
      csv << ',' << s->mean_accuracy << ',' << s->min_accuracy << ",\"" << s->min_fold << "\","
          << (sp != r.spread.end() ? std::to_string(sp->second) : std::string());
      jr[c] = {{"mean_accuracy", s->mean_accuracy}, {"min_accuracy", s->min_accuracy}, {"worst_subject", s->min_fold},
               {"seed_spread", sp != r.spread.end() ? nlohmann::json(sp->second) : nlohmann::json()}};
    }
    line += " [" + r.setting->name + "](" + r.setting->name + "/summary.md) |";
    csv << ",\"" << r.setting->name << "\"\n";
    md.push_back(line);
    js.push_back(std::move(jr));
  }
  md.push_back("");
  // What the same kind of work costs at scale, from this sweep's own task times.
  if (tasks_total > 0) {
    const double mean = task_seconds / double(tasks_total);
    auto wall = [&](double cores) {
      const double s = std::max(1000.0 * mean / cores, longest);
      char t[32];
      if (s < 120) std::snprintf(t, sizeof t, "%.0f s", s);
      else if (s < 7200) std::snprintf(t, sizeof t, "%.0f min", s / 60);
      else std::snprintf(t, sizeof t, "%.1f h", s / 3600);
      return std::string(t);
    };
    char b[512];
    std::snprintf(b, sizeof b, "Compute: %zu tasks (%zu run now, %zu kept from an earlier run), %.1f s of task time in "
                  "all, %.2f s per task on average, the longest %.1f s. From these task times, 1,000 such tasks would "
                  "take about %s on 8 cores and %s on 64 (task time / cores, at least the longest task; each rank's "
                  "data loading and the hand-out of tasks come on top, see docs/cluster.md).",
                  tasks_total, tasks_run, tasks_kept, task_seconds, mean, longest, wall(8).c_str(), wall(64).c_str());
    md.push_back(b);
    md.push_back("");
  }
  {
    std::ofstream out(opt.out_dir / "sweep.md", std::ios::trunc);
    for (const auto& l : md) out << l << '\n';
    if (!out) return make_error(ErrorCode::io, (opt.out_dir / "sweep.md").string(), 0, "cannot be written");
  }
  {
    std::ofstream out(opt.out_dir / "sweep.csv", std::ios::trunc);
    out << csv.str();
    if (!out) return make_error(ErrorCode::io, (opt.out_dir / "sweep.csv").string(), 0, "cannot be written");
  }
  {
    std::ofstream out(opt.out_dir / "sweep.json", std::ios::trunc);
    out << nlohmann::json{{"file", opt.file.string()}, {"sorted_by", std::string(eval::protocol_code(key)) + " mean_accuracy"},
                          {"tasks", tasks_total}, {"task_seconds", task_seconds}, {"settings", js}}
               .dump(2)
        << '\n';
    if (!out) return make_error(ErrorCode::io, (opt.out_dir / "sweep.json").string(), 0, "cannot be written");
  }
  if (ctx.json) return print_json_file(ctx, opt.out_dir / "sweep.json");
  for (std::size_t i = 2; i < md.size(); ++i) ctx.out << md[i] << '\n';
  ctx.out << "sweep written to " << fs::absolute(opt.out_dir).lexically_normal().string() << " (open sweep.md)\n";
  return {};
}

}  // namespace myoexo::app
