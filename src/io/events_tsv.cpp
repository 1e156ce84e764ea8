// BIDS events sidecars (<stem>_events.tsv: onset, duration, trial_type) and their per-sample labels.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "io/io.hpp"

namespace myoexo::io {

namespace fs = std::filesystem;

fs::path events_sidecar_path(const fs::path& recording) {
  return recording.parent_path() / (recording.stem().string() + "_events.tsv");
}

bool is_bids_sidecar(const fs::path& path) {
  const std::string name = path.filename().string();
  auto ends = [&](const std::string& s) { return name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
  return ends("_events.tsv") || ends("_events.partial.tsv") || ends("_channels.tsv") || ends("_emg.json");
}

Status write_events_tsv(const fs::path& path, std::span<const Event> events) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << "onset\tduration\ttrial_type\n";
    char line[64];
    for (const auto& e : events) {
      std::snprintf(line, sizeof line, "%.6f\t%.6f\t", e.onset_s, e.duration_s);
      f << line << e.label << '\n';
    }
    f.flush();
    if (!f) return make_error(ErrorCode::io, tmp.string(), 0, "cannot be written");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);  // whole or not at all
  if (ec) return make_error(ErrorCode::io, path.string(), 0, "cannot be written: " + ec.message());
  return {};
}

Result<std::vector<Event>> read_events_tsv(const fs::path& path) {
  std::ifstream f(path);
  if (!f) return make_error(ErrorCode::io, path.string(), 0, "cannot be read");
  std::string line;
  if (!std::getline(f, line)) return make_error(ErrorCode::parse, path.string(), 1, "empty: expected a header row");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> head;
  {
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) head.push_back(c);
  }
  const auto col = [&](const char* n) { return int(std::find(head.begin(), head.end(), n) - head.begin()); };
  const int on = col("onset"), du = col("duration"), ty = col("trial_type");
  if (on >= int(head.size()) || du >= int(head.size()) || ty >= int(head.size()))
    return make_error(ErrorCode::parse, path.string(), 1, "the header must name onset, duration and trial_type");
  std::vector<Event> out;
  for (std::size_t ln = 2; std::getline(f, line); ++ln) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) cells.push_back(c);
    if (cells.size() != head.size())
      return make_error(ErrorCode::parse, path.string(), ln,
                        std::to_string(cells.size()) + " fields, the header has " + std::to_string(head.size()));
    Event e;
    char* endp = nullptr;
    e.onset_s = std::strtod(cells[std::size_t(on)].c_str(), &endp);
    const bool onset_ok = endp && *endp == '\0' && !cells[std::size_t(on)].empty();
    e.duration_s = std::strtod(cells[std::size_t(du)].c_str(), &endp);
    const bool duration_ok = endp && *endp == '\0' && !cells[std::size_t(du)].empty();
    if (!onset_ok || !duration_ok || !std::isfinite(e.onset_s) || !std::isfinite(e.duration_s) || e.onset_s < 0 ||
        e.duration_s <= 0)
      return make_error(ErrorCode::parse, path.string(), ln, "onset must be a number >= 0 and duration > 0");
    e.label = cells[std::size_t(ty)];
    if (e.label.empty() || e.label == "n/a") return make_error(ErrorCode::parse, path.string(), ln, "trial_type is empty");
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Event> events_from_labels(const Recording& rec) {
  std::vector<Event> out;
  if (!(rec.sample_rate_hz > 0) || rec.sample_labels.size() != rec.n_samples) return out;
  for (std::size_t i = 0; i < rec.n_samples;) {
    const int id = rec.sample_labels[i];
    std::size_t j = i + 1;
    while (j < rec.n_samples && rec.sample_labels[j] == id) ++j;
    if (id >= 0) {
      const std::string name = std::size_t(id) < rec.label_names.size() && !rec.label_names[std::size_t(id)].empty()
                                   ? rec.label_names[std::size_t(id)]
                                   : "class" + std::to_string(id);
      out.push_back({double(i) / rec.sample_rate_hz, double(j - i) / rec.sample_rate_hz, name});
    }
    i = j;
  }
  return out;
}

Status apply_events(Recording& rec, std::span<const Event> events, const std::string& where) {
  if (!(rec.sample_rate_hz > 0)) return make_error(ErrorCode::invalid_argument, where, 0, "the recording has no rate");
  std::vector<Event> sorted(events.begin(), events.end());
  std::sort(sorted.begin(), sorted.end(), [](const Event& a, const Event& b) { return a.onset_s < b.onset_s; });
  const double half = 0.5 / rec.sample_rate_hz, end_s = rec.duration_s();
  std::vector<std::string> names;
  for (const auto& e : sorted)
    if (std::find(names.begin(), names.end(), e.label) == names.end()) names.push_back(e.label);
  std::sort(names.begin(), names.end());
  std::vector<int> labels(rec.n_samples, -1);
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const Event& e = sorted[i];
    if (!std::isfinite(e.onset_s) || !std::isfinite(e.duration_s) || e.duration_s < 0)
      return make_error(ErrorCode::invalid_argument, where, 0,
                        "the event '" + e.label + "' has no finite onset and duration >= 0");
    if (e.onset_s < -half)
      return make_error(ErrorCode::invalid_argument, where, 0,
                        "the event '" + e.label + "' at " + std::to_string(e.onset_s) +
                            " s starts before the recording's first sample");
    if (e.onset_s + e.duration_s > end_s + half)
      return make_error(ErrorCode::invalid_argument, where, 0,
                        "the event '" + e.label + "' at " + std::to_string(e.onset_s) + " s runs past the recording's end (" +
                            std::to_string(end_s) + " s)");
    if (i > 0 && e.onset_s < sorted[i - 1].onset_s + sorted[i - 1].duration_s - half)
      return make_error(ErrorCode::invalid_argument, where, 0,
                        "the events '" + sorted[i - 1].label + "' and '" + e.label + "' overlap at " +
                            std::to_string(e.onset_s) + " s");
    const int id = int(std::find(names.begin(), names.end(), e.label) - names.begin());
    const auto first = std::size_t(std::max(0.0, std::ceil(e.onset_s * rec.sample_rate_hz - 1e-9)));
    const auto last = std::min(rec.n_samples, std::size_t(std::ceil((e.onset_s + e.duration_s) * rec.sample_rate_hz - 1e-9)));
    for (std::size_t s = first; s < last; ++s) labels[s] = id;
  }
  rec.sample_labels = std::move(labels);
  rec.label_names = std::move(names);
  rec.label.clear();
  return {};
}

}  // namespace myoexo::io
