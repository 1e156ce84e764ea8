// Reading a finished run's logs (run_log.csv, decisions.csv, events.csv, summary.json) back as JSON for the
// console's review mode (see review.hpp). Torch-free and server-free: the parsers are fuzzed on their own.
#include "console/run_logs.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <system_error>
#include <vector>

namespace myoexo::console {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxEvents = 20000;

// The file's lines without their line ends. A last line without '\n' is a write cut short (a killed run): it is
// left out and counted in `truncated`.
std::vector<std::string_view> split_lines(const std::string& text, std::size_t& truncated) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      ++truncated;
      break;
    }
    std::string_view line(text.data() + pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = nl + 1;
  }
  return lines;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> f;
  std::size_t pos = 0;
  while (true) {
    const std::size_t c = line.find(',', pos);
    f.push_back(line.substr(pos, c == std::string_view::npos ? std::string_view::npos : c - pos));
    if (c == std::string_view::npos) break;
    pos = c + 1;
  }
  return f;
}

// A number, or NaN for an empty field; nullopt for anything else. "inf"/"-inf"/"nan" are accepted (the safety
// log writes an infinite age).
std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  if (s == "nan" || s == "-nan") return std::numeric_limits<double>::quiet_NaN();
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

struct Columns {
  std::vector<std::string> names;
  int find(const std::string& n) const {
    const auto it = std::find(names.begin(), names.end(), n);
    return it == names.end() ? -1 : int(it - names.begin());
  }
};

Result<Columns> read_header(const std::vector<std::string_view>& lines, const std::string& name,
                            std::initializer_list<const char*> required) {
  if (lines.empty()) return make_error(ErrorCode::parse, name, 1, "is empty (no header line)");
  Columns c;
  for (auto f : split_fields(lines[0])) c.names.emplace_back(f);
  for (const char* r : required)
    if (c.find(r) < 0) return make_error(ErrorCode::parse, name, 1, std::string("has no column '") + r + "'");
  return c;
}

Status check_field_count(const std::vector<std::string_view>& fields, const Columns& cols, const std::string& name,
                         std::size_t line) {
  if (fields.size() == cols.names.size()) return {};
  return make_error(ErrorCode::parse, name, line,
                    "has " + std::to_string(fields.size()) + " fields; the header has " +
                        std::to_string(cols.names.size()));
}

Result<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error(ErrorCode::io, p.string(), 0, "cannot be opened");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<json> parse_run_log(const std::string& text, const std::string& name, std::size_t max_ticks) {
  std::size_t truncated = 0;
  const auto lines = split_lines(text, truncated);
  auto cols = read_header(lines, name,
                          {"time_s", "intent", "active_intent", "supervisor_mode", "hip_setpoint_deg",
                           "knee_setpoint_deg", "hip_deg", "knee_deg", "hip_torque_nm", "knee_torque_nm"});
  if (!cols) return cols.error();
  const int i_t = cols->find("time_s"), i_dec = cols->find("intent"), i_act = cols->find("active_intent"),
            i_mode = cols->find("supervisor_mode"), i_hsp = cols->find("hip_setpoint_deg"),
            i_ksp = cols->find("knee_setpoint_deg"), i_hq = cols->find("hip_deg"), i_kq = cols->find("knee_deg"),
            i_ht = cols->find("hip_torque_nm"), i_kt = cols->find("knee_torque_nm"),
            i_ref = cols->find("knee_reference_deg"), i_sf = cols->find("sensor_faults"),
            i_est = cols->find("knee_estimate_deg");
  const std::size_t n_rows = lines.size() - 1;
  const std::size_t stride = max_ticks == 0 ? 1 : std::max<std::size_t>(1, (n_rows + max_ticks - 1) / max_ticks);
  json t = json::array(), hsp = json::array(), ksp = json::array(), hq = json::array(), kq = json::array(),
       ht = json::array(), kt = json::array(), ref = json::array(), mode = json::array(), act = json::array(),
       dec = json::array(), sf = json::array(), est = json::array();
  bool any_ref = false, any_est = false;
  std::string last_mode, last_active;
  double last_t = -std::numeric_limits<double>::infinity();
  for (std::size_t r = 1; r < lines.size(); ++r) {
    if (lines[r].empty()) continue;
    const auto f = split_fields(lines[r]);
    if (auto bad = check_field_count(f, *cols, name, r + 1); !bad) return bad.error();
    auto num = [&](int i) -> Result<double> {
      const auto v = parse_number(f[std::size_t(i)]);
      if (!v) return make_error(ErrorCode::parse, name, r + 1,
                                "column " + cols->names[std::size_t(i)] + " is not a number: '" +
                                    std::string(f[std::size_t(i)]) + "'");
      return *v;
    };
    auto time = num(i_t);
    if (!time) return time.error();
    if (!std::isfinite(*time)) return make_error(ErrorCode::parse, name, r + 1, "time_s is not a finite number");
    const std::string m(f[std::size_t(i_mode)]), a(f[std::size_t(i_act)]);
    // Every stride-th row, and every row where the mode or the active intent changes (a hold or a stop never
    // disappears in the decimation), in time order.
    const bool keep = (r - 1) % stride == 0 || m != last_mode || a != last_active;
    last_mode = m;
    last_active = a;
    if (!keep || *time < last_t) continue;
    last_t = *time;
    double v[6];
    const int idx[6] = {i_hsp, i_ksp, i_hq, i_kq, i_ht, i_kt};
    for (int k = 0; k < 6; ++k) {
      auto x = num(idx[k]);
      if (!x) return x.error();
      v[k] = *x;
    }
    t.push_back(*time);
    hsp.push_back(number_or_null(v[0]));
    ksp.push_back(number_or_null(v[1]));
    hq.push_back(number_or_null(v[2]));
    kq.push_back(number_or_null(v[3]));
    ht.push_back(number_or_null(v[4]));
    kt.push_back(number_or_null(v[5]));
    mode.push_back(m);
    act.push_back(a);
    dec.push_back(std::string(f[std::size_t(i_dec)]));
    if (i_sf >= 0) {
      auto x = num(i_sf);
      if (!x) return x.error();
      sf.push_back(std::isfinite(*x) ? json(std::int64_t(*x)) : json(0));
    }
    if (i_ref >= 0) {
      auto x = num(i_ref);
      if (!x) return x.error();
      any_ref = any_ref || std::isfinite(*x);
      ref.push_back(number_or_null(*x));
    }
    if (i_est >= 0) {
      auto x = num(i_est);
      if (!x) return x.error();
      any_est = any_est || std::isfinite(*x);
      est.push_back(number_or_null(*x));
    }
  }
  json out;
  out["ticks"] = {{"t", t},       {"hip_sp", hsp}, {"knee_sp", ksp}, {"hip_q", hq},       {"knee_q", kq},
                  {"hip_tau", ht}, {"knee_tau", kt}, {"mode", mode},  {"active", act},     {"decision", dec},
                  {"sensor_faults", sf}, {"knee_ref", any_ref ? ref : json(nullptr)},
                  {"knee_est", any_est ? est : json(nullptr)}};
  out["tick_stride"] = stride;
  out["ticks_in_log"] = n_rows;
  out["truncated_lines"] = truncated;
  return out;
}

Result<json> parse_decisions_log(const std::string& text, const std::string& name) {
  std::size_t truncated = 0;
  const auto lines = split_lines(text, truncated);
  auto cols = read_header(lines, name, {"window_end_s", "class", "rejected", "intent"});
  if (!cols) return cols.error();
  std::vector<std::string> classes;
  std::vector<int> p_cols;
  for (std::size_t i = 0; i < cols->names.size(); ++i)
    if (cols->names[i].rfind("p_", 0) == 0) {
      classes.push_back(cols->names[i].substr(2));
      p_cols.push_back(int(i));
    }
  const int i_t = cols->find("window_end_s"), i_c = cols->find("class"), i_r = cols->find("rejected"),
            i_i = cols->find("intent");
  json t = json::array(), cls = json::array(), rej = json::array(), intent = json::array();
  json p = json::array();
  for (std::size_t k = 0; k < classes.size(); ++k) p.push_back(json::array());
  for (std::size_t r = 1; r < lines.size(); ++r) {
    if (lines[r].empty()) continue;
    const auto f = split_fields(lines[r]);
    if (auto bad = check_field_count(f, *cols, name, r + 1); !bad) return bad.error();
    const auto time = parse_number(f[std::size_t(i_t)]);
    if (!time || !std::isfinite(*time))
      return make_error(ErrorCode::parse, name, r + 1, "window_end_s is not a finite number");
    const auto rj = parse_number(f[std::size_t(i_r)]);
    if (!rj) return make_error(ErrorCode::parse, name, r + 1, "rejected is not 0 or 1");
    t.push_back(*time);
    cls.push_back(std::string(f[std::size_t(i_c)]));
    rej.push_back(*rj != 0.0);
    intent.push_back(std::string(f[std::size_t(i_i)]));
    for (std::size_t k = 0; k < p_cols.size(); ++k) {
      const auto v = parse_number(f[std::size_t(p_cols[k])]);
      if (!v) return make_error(ErrorCode::parse, name, r + 1, "p_" + classes[k] + " is not a number");
      p[k].push_back(number_or_null(*v));
    }
  }
  return json{{"t", t}, {"class", cls}, {"rejected", rej}, {"intent", intent}, {"p", p}, {"classes", classes},
              {"truncated_lines", truncated}};
}

Result<json> parse_events_log(const std::string& text, const std::string& name) {
  std::size_t truncated = 0;
  const auto lines = split_lines(text, truncated);
  auto cols = read_header(lines, name, {"time_s", "reason"});
  if (!cols) return cols.error();
  const int i_t = cols->find("time_s"), i_r = cols->find("reason"), i_j = cols->find("joint"),
            i_v = cols->find("value"), i_l = cols->find("limit");
  json ev = json::array();
  std::size_t dropped = 0;
  for (std::size_t r = 1; r < lines.size(); ++r) {
    if (lines[r].empty()) continue;
    const auto f = split_fields(lines[r]);
    if (auto bad = check_field_count(f, *cols, name, r + 1); !bad) return bad.error();
    const auto time = parse_number(f[std::size_t(i_t)]);
    if (!time || !std::isfinite(*time)) return make_error(ErrorCode::parse, name, r + 1, "time_s is not a finite number");
    if (ev.size() >= kMaxEvents) {
      ++dropped;
      continue;
    }
    json e{{"t", *time}, {"reason", std::string(f[std::size_t(i_r)])}};
    auto opt_num = [&](int i) -> json {
      if (i < 0) return nullptr;
      const auto v = parse_number(f[std::size_t(i)]);
      return v ? number_or_null(*v) : json(nullptr);
    };
    e["joint"] = opt_num(i_j);
    e["value"] = opt_num(i_v);
    e["limit"] = opt_num(i_l);
    ev.push_back(std::move(e));
  }
  return json{{"events", ev}, {"events_dropped", dropped}, {"truncated_lines", truncated}};
}

Result<json> load_run_review(const fs::path& dir, std::size_t max_ticks) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return make_error(ErrorCode::io, dir.string(), 0, "is not a folder (give the --out folder of a finished run)");
  const fs::path log = dir / "run_log.csv";
  if (!fs::exists(log, ec))
    return make_error(ErrorCode::io, log.string(), 0, "is missing: not the output folder of `myoexo run`/`serve`");
  auto log_text = read_file(log);
  if (!log_text) return log_text.error();
  auto out = parse_run_log(*log_text, log.string(), max_ticks);
  if (!out) return out.error();
  json j = std::move(*out);
  j["mode"] = "review";
  j["run"] = fs::absolute(dir).lexically_normal().string();
  j["decisions"] = nullptr;
  j["events"] = json::array();
  j["classes"] = json::array();
  const fs::path dec = dir / "decisions.csv";
  if (fs::exists(dec, ec)) {
    auto text = read_file(dec);
    if (!text) return text.error();
    auto d = parse_decisions_log(*text, dec.string());
    if (!d) return d.error();
    j["classes"] = (*d)["classes"];
    j["truncated_lines"] = j["truncated_lines"].get<std::size_t>() + (*d)["truncated_lines"].get<std::size_t>();
    j["decisions"] = std::move(*d);
  }
  const fs::path evp = dir / "events.csv";
  if (fs::exists(evp, ec)) {
    auto text = read_file(evp);
    if (!text) return text.error();
    auto e = parse_events_log(*text, evp.string());
    if (!e) return e.error();
    j["events"] = (*e)["events"];
    j["events_dropped"] = (*e)["events_dropped"];
    j["truncated_lines"] = j["truncated_lines"].get<std::size_t>() + (*e)["truncated_lines"].get<std::size_t>();
  }
  // summary.json: what was run (absent when the run was killed before it ended).
  json summary = json::object();
  j["rejection_threshold"] = nullptr;
  j["class_intents"] = json::array();
  const fs::path sp = dir / "summary.json";
  if (fs::exists(sp, ec)) {
    auto text = read_file(sp);
    if (!text) return text.error();
    const json s = json::parse(*text, nullptr, false);
    if (s.is_discarded() || !s.is_object()) {
      summary["error"] = "summary.json is not valid JSON";
    } else {
      for (const char* k : {"recording", "control_hz", "actuators", "supervisor_mode_time_s", "intents", "ticks",
                            "sim_time_s"})
        if (s.contains(k)) summary[k] = s[k];
      if (s.contains("model") && s["model"].is_object())
        for (const char* k : {"kind", "file", "channels", "classes", "filter", "signal_unit"})
          if (s["model"].contains(k)) summary["model"][k] = s["model"][k];
      if (s.contains("post_processing") && s["post_processing"].is_object() &&
          s["post_processing"].contains("rejection_threshold"))
        j["rejection_threshold"] = s["post_processing"]["rejection_threshold"];
      if (s.contains("class_to_intent") && s["class_to_intent"].is_object())
        for (const auto& c : j["classes"])
          j["class_intents"].push_back(c.is_string() && s["class_to_intent"].contains(c.get<std::string>())
                                           ? s["class_to_intent"][c.get<std::string>()]
                                           : json(""));
    }
  } else {
    summary["error"] = "no summary.json (the run did not end normally)";
  }
  j["summary"] = summary;
  return j;
}

}  // namespace myoexo::console
