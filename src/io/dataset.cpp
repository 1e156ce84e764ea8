// Format detection, read/write dispatch, the folder view (Dataset) and duplicate detection.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "io/io.hpp"
#include "io/text.hpp"

namespace myoexo::io {

namespace {

namespace fs = std::filesystem;
using detail::iequals;
using detail::trim;

std::vector<std::string_view> split_any(std::string_view line, char delim) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  for (;;) {
    const auto j = line.find(delim, i);
    out.push_back(trim(line.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i)));
    if (j == std::string_view::npos || out.size() > 4096) return out;
    i = j + 1;
  }
}

char guess_delim(std::string_view line) {
  if (line.find('\t') != std::string_view::npos) return '\t';
  if (line.find(',') != std::string_view::npos) return ',';
  if (line.find(';') != std::string_view::npos) return ';';
  return ',';
}

// A ".txt" is taken for a CSV only when it looks like one: a header row of >= 2 names, then a row of as many
// numbers. This keeps READMEs and data-set descriptions (BDSEMG_eng.txt) out of `Dataset::unreadable`.
// The rate given for CSV files without a header row (0 = none: such files are not recognised by content).
std::atomic<double> g_headerless_csv_rate{0.0};

bool is_comment_line(std::string_view l) {
  const std::string_view t = trim(l);
  return !t.empty() && (t.front() == '%' || t.front() == '#');
}

bool looks_like_csv(std::string_view head) {
  detail::LineCursor cur(detail::strip_bom(head));
  std::string_view l1, l2;
  while (cur.next(l1) && is_comment_line(l1)) {
  }
  if (is_comment_line(l1) || !cur.next(l2)) return false;
  if (detail::has_binary(l1) || detail::has_binary(l2)) return false;
  const char d = guess_delim(l1);
  const auto h = split_any(l1, d);
  const auto r = split_any(l2, d);
  if (r.size() != h.size() || (h.size() < 2 && g_headerless_csv_rate.load() <= 0)) return false;
  double v = 0;
  bool header_numeric = true;
  for (auto f : h) header_numeric = header_numeric && detail::parse_finite(f, v);
  if (header_numeric && g_headerless_csv_rate.load() <= 0) return false;  // numbers only: a CSV only with a rate
  for (auto f : r)
    if (!detail::parse_finite(f, v)) return false;
  return true;
}

bool looks_like_gestures_header(std::string_view line) {
  const auto f = split_any(line, guess_delim(line));
  return f.size() >= 3 && iequals(f.front(), "time") && iequals(f.back(), "class") &&
         detail::istarts_with(f[1], "channel");
}

// 64-bit mix over the sample bits (and shape/names): identical recordings hash equal; a collision only
// costs an exact comparison.
std::uint64_t content_hash(const Recording& r) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ (r.n_samples * 0x100000001B3ull) ^ r.n_channels();
  auto mix = [&h](std::uint64_t w) {
    h ^= w + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
  };
  for (const auto& n : r.channel_names)
    for (char c : n) mix(static_cast<unsigned char>(c));
  for (double v : r.samples) {
    std::uint64_t w;
    std::memcpy(&w, &v, sizeof w);
    mix(w);
  }
  return h;
}

bool same_content(const Recording& a, const Recording& b) {
  return a.n_samples == b.n_samples && a.channel_names == b.channel_names && a.samples.size() == b.samples.size() &&
         (a.samples.empty() ||
          std::memcmp(a.samples.data(), b.samples.data(), a.samples.size() * sizeof(double)) == 0);
}

}  // namespace

const char* file_format_name(FileFormat f) noexcept {
  switch (f) {
    case FileFormat::uci_lower_limb: return "uci-lower-limb";
    case FileFormat::uci_gestures: return "uci-gestures";
    case FileFormat::csv: return "csv";
    case FileFormat::edf: return "edf";
    case FileFormat::xdf: return "xdf";
    case FileFormat::unknown: return "unknown";
  }
  return "unknown";
}

FileFormat detect_format(const fs::path& path) {
  const std::string ext = detail::lower(path.extension().string());
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return FileFormat::unknown;
  std::string head(4096, '\0');
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return FileFormat::unknown;
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
  }
  if (head.compare(0, 4, "XDF:") == 0) return FileFormat::xdf;
  if (ext == ".edf" || ext == ".bdf") return FileFormat::edf;
  if (head.compare(0, 8, "\xff" "BIOSEMI") == 0) return FileFormat::edf;
  if (head.size() >= 256 && head.compare(0, 8, "0       ") == 0) return FileFormat::edf;

  detail::LineCursor cur(detail::strip_bom(head));
  std::string_view first;
  if (!cur.next(first)) return (ext == ".csv" || ext == ".tsv") ? FileFormat::csv : FileFormat::unknown;
  if (detail::istarts_with(trim(first), "File Name:")) return FileFormat::uci_lower_limb;
  if (looks_like_gestures_header(first)) return FileFormat::uci_gestures;
  if (ext == ".csv" || ext == ".tsv") return FileFormat::csv;
  if ((ext == ".txt" || ext == ".dat") && looks_like_csv(head)) return FileFormat::csv;
  return FileFormat::unknown;
}

void set_headerless_csv_rate(double hz) noexcept { g_headerless_csv_rate.store(hz > 0 ? hz : 0.0); }

Result<Recording> read_recording(const fs::path& path) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return make_error(ErrorCode::io, path.string(), 0, "no such file");
  if (fs::is_directory(st)) return make_error(ErrorCode::io, path.string(), 0, "is a folder, not a file");
  const FileFormat format = detect_format(path);
  if (format == FileFormat::uci_lower_limb) return read_uci_lower_limb(path);
  if (format == FileFormat::uci_gestures) return read_uci_gestures(path);
  if (format == FileFormat::xdf) return read_xdf(path);
  if (format == FileFormat::unknown)
    return make_error(ErrorCode::unsupported, path.string(), 0,
                      "unrecognised format (expected UCI lower-limb/gestures text, CSV/TSV with a header row, EDF/BDF, XDF)");
  // BIDS sidecars (`myoexo record` writes them) state the rate and units: a file without a header row needs no
  // --csv-rate then, and a recording that disagrees with them is refused.
  auto sidecars = read_bids_sidecars(path);
  if (!sidecars) return sidecars.error();
  CsvOptions csv;
  if (const double hz = g_headerless_csv_rate.load(); hz > 0) csv.headerless_rate_hz = hz;
  else if (*sidecars && (*sidecars)->sampling_frequency_hz) csv.headerless_rate_hz = *(*sidecars)->sampling_frequency_hz;
  Result<Recording> rec = format == FileFormat::csv ? read_csv(path, csv) : read_edf(path);
  if (!rec) return rec;
  if (*sidecars)
    if (auto s = apply_bids_sidecars(*rec, **sidecars); !s) return s.error();
  // A labelled recording (`myoexo record --cues`): its events sidecar labels every sample.
  const fs::path events = events_sidecar_path(path);
  if (fs::is_regular_file(events, ec)) {
    auto ev = read_events_tsv(events);
    if (!ev) return ev.error();
    if (auto s = apply_events(*rec, *ev, events.string()); !s) return s.error();
  }
  return rec;
}

Status write_recording(const Recording& rec, const fs::path& path) {
  const std::string ext = detail::lower(path.extension().string());
  if (ext == ".csv" || ext == ".txt") return detail::write_delimited(rec, path, ',');
  if (ext == ".tsv") return detail::write_delimited(rec, path, '\t');
  if (ext == ".edf" || ext == ".bdf") return write_edf(rec, path);
  return make_error(ErrorCode::unsupported, path.string(), 0,
                    "cannot tell the format from the extension '" + ext + "' (use .csv, .tsv, .edf or .bdf)");
}

std::vector<std::string> Dataset::subjects() const {
  std::set<std::string> s;
  for (const auto& r : recordings)
    if (!r.subject_id.empty()) s.insert(r.subject_id);
  return {s.begin(), s.end()};
}

std::vector<std::string> Dataset::labels() const {
  std::set<std::string> s;
  for (const auto& r : recordings)
    if (!r.label.empty()) s.insert(r.label);
  return {s.begin(), s.end()};
}

std::vector<std::size_t> Dataset::by_subject(const std::string& subject) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < recordings.size(); ++i)
    if (recordings[i].subject_id == subject) out.push_back(i);
  return out;
}

std::map<std::string, std::map<std::string, std::vector<std::size_t>>> Dataset::grouped() const {
  std::map<std::string, std::map<std::string, std::vector<std::size_t>>> g;
  for (std::size_t i = 0; i < recordings.size(); ++i)
    g[recordings[i].subject_id][recordings[i].label].push_back(i);
  return g;
}

Result<Dataset> load_dataset(const fs::path& root) {
  const std::string name = root.string();
  std::error_code ec;
  const auto st = fs::status(root, ec);
  if (ec || !fs::exists(st)) return make_error(ErrorCode::io, name, 0, "no such folder");
  if (!fs::is_directory(st)) return make_error(ErrorCode::io, name, 0, "not a folder");

  std::vector<fs::path> files;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) return make_error(ErrorCode::io, name, 0, "cannot list folder: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return make_error(ErrorCode::io, name, 0, "cannot list folder: " + ec.message());
    std::error_code fe;
    if (it->is_regular_file(fe)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());

  Dataset ds;
  ds.root = root;
  std::size_t ignored = 0;
  for (const auto& f : files) {
    if (detect_format(f) == FileFormat::unknown || is_bids_sidecar(f)) {
      ++ignored;
      continue;
    }
    auto rec = read_recording(f);
    if (rec)
      ds.recordings.push_back(std::move(*rec));
    else
      ds.unreadable.push_back(rec.error());
  }
  if (ds.recordings.empty()) {
    std::string why = "no readable recording below this folder (" + std::to_string(files.size()) + " files, " +
                      std::to_string(ignored) + " of unknown format, " + std::to_string(ds.unreadable.size()) +
                      " unreadable)";
    if (!ds.unreadable.empty()) why += "; first: " + ds.unreadable.front().message();
    return make_error(ErrorCode::empty, name, 0, why);
  }
  std::sort(ds.recordings.begin(), ds.recordings.end(), [](const Recording& a, const Recording& b) {
    return std::tie(a.subject_id, a.label, a.source_path) < std::tie(b.subject_id, b.label, b.source_path);
  });
  ds.duplicates = find_duplicates(ds.recordings);
  return ds;
}

std::vector<DuplicatePair> find_duplicates(const std::vector<Recording>& recs) {
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> buckets;
  for (std::size_t i = 0; i < recs.size(); ++i) buckets[content_hash(recs[i])].push_back(i);
  std::vector<std::pair<std::size_t, std::size_t>> idx;
  for (const auto& [h, members] : buckets) {
    // Within a bucket, pair each recording with the first earlier one it equals exactly.
    for (std::size_t a = 1; a < members.size(); ++a)
      for (std::size_t b = 0; b < a; ++b)
        if (same_content(recs[members[b]], recs[members[a]])) {
          idx.emplace_back(members[b], members[a]);
          break;
        }
  }
  std::sort(idx.begin(), idx.end());
  std::vector<DuplicatePair> out;
  for (auto [a, b] : idx) out.push_back({recs[a].source_path, recs[b].source_path});
  return out;
}

}  // namespace myoexo::io
