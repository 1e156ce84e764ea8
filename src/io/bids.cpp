// BIDS-EMG sidecars beside a recording, read back: <stem>_channels.tsv (name, type, units, sampling_frequency,
// status) and <stem>_emg.json (SamplingFrequency, RecordingDuration, ...). They state what the samples are; a
// recording that says otherwise is refused, never guessed (units are explicit from the ADC code to the model).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "io/io.hpp"
#include "io/text.hpp"

namespace myoexo::io {

namespace fs = std::filesystem;

namespace {

fs::path sidecar(const fs::path& recording, const std::string& suffix) {
  return recording.parent_path() / (recording.stem().string() + suffix);
}

std::vector<std::string> split_tabs(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string c; std::getline(ss, c, '\t');) out.push_back(c);
  if (!line.empty() && line.back() == '\t') out.emplace_back();
  return out;
}

// "µV" and "uV" are the same unit (BIDS allows both spellings).
std::string canonical_unit(std::string u) {
  const std::string micro = "\xC2\xB5";
  if (u.compare(0, micro.size(), micro) != 0) return u;
  std::string out(1, 'u');
  out.append(u, micro.size(), std::string::npos);
  return out;
}

bool same_rate(double a, double b) { return std::fabs(a - b) <= 1e-6 * std::max(std::fabs(a), std::fabs(b)); }

}  // namespace

Result<std::optional<BidsSidecars>> read_bids_sidecars(const fs::path& recording) {
  BidsSidecars out;
  bool any = false;
  std::error_code ec;
  const fs::path channels = sidecar(recording, "_channels.tsv"), emg = sidecar(recording, "_emg.json");
  if (fs::is_regular_file(channels, ec)) {
    any = true;
    out.channels_file = channels.string();
    std::ifstream f(channels);
    if (!f) return make_error(ErrorCode::io, channels.string(), 0, "cannot be read");
    std::string line;
    if (!std::getline(f, line)) return make_error(ErrorCode::parse, channels.string(), 1, "empty: expected a header row");
    const auto head = split_tabs(line);
    auto col = [&](const char* n) {
      const auto it = std::find(head.begin(), head.end(), n);
      return it == head.end() ? -1 : int(it - head.begin());
    };
    const int name = col("name"), type = col("type"), units = col("units"), rate = col("sampling_frequency"),
              status = col("status");
    if (name < 0 || type < 0 || units < 0)
      return make_error(ErrorCode::parse, channels.string(), 1, "the header must name name, type and units (BIDS)");
    for (std::size_t ln = 2; std::getline(f, line); ++ln) {
      if (line.empty() || line == "\r") continue;
      const auto cells = split_tabs(line);
      if (cells.size() != head.size())
        return make_error(ErrorCode::parse, channels.string(), ln,
                          std::to_string(cells.size()) + " fields, the header has " + std::to_string(head.size()));
      BidsChannel c;
      c.name = cells[std::size_t(name)];
      c.type = cells[std::size_t(type)];
      c.units = cells[std::size_t(units)] == "n/a" ? "" : cells[std::size_t(units)];
      if (c.name.empty()) return make_error(ErrorCode::parse, channels.string(), ln, "a channel without a name");
      if (rate >= 0 && cells[std::size_t(rate)] != "n/a") {
        double hz = 0;
        if (!detail::parse_finite(cells[std::size_t(rate)], hz) || !(hz > 0))
          return make_error(ErrorCode::parse, channels.string(), ln,
                            "sampling_frequency '" + cells[std::size_t(rate)] + "' is not a positive number");
        c.sampling_frequency_hz = hz;
      }
      if (status >= 0) c.status = cells[std::size_t(status)];
      if (std::any_of(out.channels.begin(), out.channels.end(), [&](const BidsChannel& o) { return o.name == c.name; }))
        return make_error(ErrorCode::parse, channels.string(), ln, "channel '" + c.name + "' is listed twice");
      out.channels.push_back(std::move(c));
    }
  }
  if (fs::is_regular_file(emg, ec)) {
    any = true;
    out.emg_file = emg.string();
    std::ifstream f(emg);
    std::stringstream ss;
    ss << f.rdbuf();
    const auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return make_error(ErrorCode::parse, emg.string(), 0, "is not a JSON object");
    if (j.contains("SamplingFrequency")) {
      const auto& v = j["SamplingFrequency"];
      if (!v.is_number() || !(v.get<double>() > 0) || !std::isfinite(v.get<double>()))
        return make_error(ErrorCode::parse, emg.string(), 0, "SamplingFrequency must be a positive number (Hz)");
      out.sampling_frequency_hz = v.get<double>();
    }
    if (j.contains("RecordingDuration") && j["RecordingDuration"].is_number())
      out.recording_duration_s = j["RecordingDuration"].get<double>();
    if (j.contains("TaskName") && j["TaskName"].is_string()) out.task = j["TaskName"].get<std::string>();
  }
  // The rate: _emg.json and every channel row must agree.
  for (const auto& c : out.channels) {
    if (!c.sampling_frequency_hz) continue;
    if (out.sampling_frequency_hz && !same_rate(*out.sampling_frequency_hz, *c.sampling_frequency_hz))
      return make_error(ErrorCode::mismatch, out.channels_file, 0,
                        "channel '" + c.name + "' is sampled at " + std::to_string(*c.sampling_frequency_hz) + " Hz, " +
                            (out.emg_file.empty() ? "another row" : "_emg.json") + " says " +
                            std::to_string(*out.sampling_frequency_hz) + " Hz");
    if (!out.sampling_frequency_hz) out.sampling_frequency_hz = c.sampling_frequency_hz;
  }
  if (!any) return std::optional<BidsSidecars>();
  return std::optional<BidsSidecars>(std::move(out));
}

Status apply_bids_sidecars(Recording& rec, const BidsSidecars& s) {
  const std::string rate_file = !s.emg_file.empty() ? s.emg_file : s.channels_file;
  if (s.sampling_frequency_hz && !same_rate(*s.sampling_frequency_hz, rec.sample_rate_hz))
    return make_error(ErrorCode::mismatch, rate_file, 0,
                      "says " + std::to_string(*s.sampling_frequency_hz) + " Hz, but the recording is sampled at " +
                          std::to_string(rec.sample_rate_hz) + " Hz");
  if (!s.channels.empty()) {
    // A file without a header row has generic names (ch1, ch2, ...): the sidecar names them, in order.
    bool generic = rec.channel_names.size() == s.channels.size();
    for (std::size_t c = 0; c < rec.channel_names.size() && generic; ++c)
      generic = rec.channel_names[c] == "ch" + std::to_string(c + 1);
    if (generic)
      for (std::size_t c = 0; c < rec.channel_names.size(); ++c) rec.channel_names[c] = s.channels[c].name;
    rec.channel_units.resize(rec.channel_names.size());
    for (const auto& b : s.channels) {
      const auto it = std::find(rec.channel_names.begin(), rec.channel_names.end(), b.name);
      if (it == rec.channel_names.end()) {
        std::string names;
        for (const auto& n : rec.channel_names) names += (names.empty() ? "" : ", ") + n;
        return make_error(ErrorCode::mismatch, s.channels_file, 0,
                          "channel '" + b.name + "' is not in the recording (its channels: " + names + ")");
      }
      std::string& unit = rec.channel_units[std::size_t(it - rec.channel_names.begin())];
      if (unit.empty()) {
        unit = b.units;
      } else if (!b.units.empty() && canonical_unit(unit) != canonical_unit(b.units)) {
        return make_error(ErrorCode::mismatch, s.channels_file, 0,
                          "channel '" + b.name + "' is in " + b.units + " here, but the recording says " + unit);
      }
      if (b.status == "bad") rec.warnings.push_back("channel '" + b.name + "' is marked bad in " + s.channels_file);
    }
  }
  if (s.recording_duration_s && std::fabs(*s.recording_duration_s - rec.duration_s()) > 1.0)
    rec.warnings.push_back(rate_file + " gives a duration of " + std::to_string(*s.recording_duration_s) +
                           " s, the recording holds " + std::to_string(rec.duration_s()) + " s");
  return {};
}

Status write_bids_sidecars(const fs::path& recording, const BidsRecordingDescription& d) {
  if (d.units.size() != d.channels.size())
    return make_error(ErrorCode::invalid_argument, recording.string(), 0, "BIDS sidecars: one unit per channel");
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.17g", d.sample_rate_hz);
  const fs::path channels = sidecar(recording, "_channels.tsv"), emg = sidecar(recording, "_emg.json");
  {
    std::ofstream f(channels, std::ios::trunc);
    f << "name\ttype\tunits\tsampling_frequency\n";
    for (std::size_t c = 0; c < d.channels.size(); ++c)
      f << d.channels[c] << "\tEMG\t" << (d.units[c].empty() ? "n/a" : d.units[c]) << '\t' << rate << '\n';
    if (!f) return make_error(ErrorCode::io, channels.string(), 0, "cannot be written");
  }
  nlohmann::json j;
  j["TaskName"] = d.task;
  j["SamplingFrequency"] = d.sample_rate_hz;
  j["EMGChannelCount"] = d.channels.size();
  j["RecordingDuration"] = d.duration_s;
  j["RecordingType"] = "continuous";
  j["EMGReference"] = "n/a";
  j["SoftwareFilters"] = "n/a";
  j["Manufacturer"] = d.manufacturer;
  std::ofstream f(emg, std::ios::trunc);
  f << j.dump(2) << '\n';
  if (!f) return make_error(ErrorCode::io, emg.string(), 0, "cannot be written");
  return {};
}

}  // namespace myoexo::io
