// Reader for the UCI "EMG data for gestures" (id 481) files.
//
// Layout: CRLF, TAB-separated, header row `time channel1 .. channel8 class`; time in ms; EMG = Myo int8 x 1e-5;
// class 0 (unmarked) .. 7. Rows are stamped about every 1 ms but the Myo streams at 200 Hz.
//
// 200 Hz reduction — resample on the time stamps, not de-duplicate runs. What the data show (all 10 files):
// runs of identical rows start only ~100 times per second, in pairs 1-2 ms apart every ~20 ms (the logger
// received two-sample BLE packets and kept each value until the next), with run lengths anywhere from 1 to 30
// rows. De-duplicating runs therefore yields ~100 values/s at irregular times: calling that "200 Hz" would halve
// every duration and shift the per-sample labels against the time column, and two genuinely equal consecutive
// samples would merge. Instead we sample-and-hold on a 5 ms grid starting at the first stamp: output sample k is
// the last row stamped at or before t0 + 5k ms (the value the logger itself showed then). Duration and labels
// stay aligned with the time column to within one sample; values the logger never received show up as held
// repeats, exactly as in the file, rather than being invented by interpolation.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "io/io.hpp"
#include "io/text.hpp"

namespace myoexo::io {

namespace {

using detail::iequals;
using detail::trim;

constexpr double kMyoRateHz = 200.0;
constexpr double kGridStepMs = 1000.0 / kMyoRateHz;
// Largest gap between consecutive stamps we bridge by holding (the real files' largest is 18 ms). A longer
// gap means the logger lost data; holding across it would fabricate a flat signal, so it is an error.
constexpr double kMaxGapMs = 100.0;
constexpr double kMaxAbsTimeMs = 1e12;
constexpr std::size_t kMaxChannels = 64;
constexpr int kMaxClass = 7;

std::size_t split(std::string_view line, char delim, std::string_view* out, std::size_t max_fields) {
  std::size_t n = 0;
  const char* p = line.data();
  const char* e = p + line.size();
  for (;;) {
    const char* d = static_cast<const char*>(std::memchr(p, delim, static_cast<std::size_t>(e - p)));
    if (!d) d = e;
    if (n == max_fields) return max_fields + 1;  // too many
    out[n++] = std::string_view(p, static_cast<std::size_t>(d - p));
    if (d == e) return n;
    p = d + 1;
  }
}

}  // namespace

Result<Recording> read_uci_gestures(const std::filesystem::path& path) {
  auto bytes = detail::read_file_bytes(path);
  if (!bytes) return bytes.error();
  auto rec = parse_uci_gestures(*bytes, path.string());
  if (rec) rec->source_path = path;
  return rec;
}

Result<Recording> parse_uci_gestures(std::string_view text, const std::string& display_name) {
  const std::string& file = display_name;
  text = detail::strip_bom(text);
  if (detail::is_blank(text)) return make_error(ErrorCode::empty, file, 1, "file is empty");

  detail::LineCursor cur(text);
  std::string_view line;
  cur.next(line);
  if (line.size() > detail::kMaxLineBytes) return detail::line_too_long(file, 1, line.size());
  const char delim = line.find('\t') != std::string_view::npos ? '\t' : ',';

  std::array<std::string_view, kMaxChannels + 2> f{};
  const std::size_t n_head = split(line, delim, f.data(), f.size());
  if (n_head > f.size() || n_head < 3 || !iequals(trim(f[0]), "time") || !iequals(trim(f[n_head - 1]), "class"))
    return make_error(ErrorCode::parse, file, 1,
                      "not a UCI gestures file: header must be 'time', 1-64 channel columns, 'class'");
  const std::size_t n_cols = n_head;
  const std::size_t n_ch = n_cols - 2;

  Recording rec;
  rec.sample_rate_hz = kMyoRateHz;
  for (std::size_t c = 0; c < n_ch; ++c) {
    rec.channel_names.push_back("ch" + std::to_string(c + 1));
    rec.channel_units.emplace_back();  // Myo int8 counts x 1e-5: no physical unit is documented
  }
  rec.label_names = {"unmarked",         "rest", "fist", "wrist_flexion", "wrist_extension", "radial_deviation",
                     "ulnar_deviation", "extended_palm"};

  // Rows are ~5x denser than the output; each needs >= 2 bytes per column.
  const std::size_t upper = cur.bytes_left() / (2 * n_cols) / 4 + 16;
  std::vector<std::vector<double>> data(n_ch);
  for (auto& v : data) v.reserve(upper);
  rec.sample_labels.reserve(upper);

  std::array<double, kMaxChannels> held{};
  int held_class = 0;
  bool have_row = false;
  double t0 = 0.0, t_prev = 0.0;
  std::size_t k = 0;  // next grid index
  std::size_t rows = 0;
  const std::size_t first_data_line = 2;

  auto emit_until = [&](double t_exclusive) {
    while (t0 + static_cast<double>(k) * kGridStepMs < t_exclusive) {
      for (std::size_t c = 0; c < n_ch; ++c) data[c].push_back(held[c]);
      rec.sample_labels.push_back(held_class);
      ++k;
    }
  };

  std::array<double, kMaxChannels> vals{};
  while (cur.next(line)) {
    const std::size_t ln = cur.line_number();
    if (line.size() > detail::kMaxLineBytes) return detail::line_too_long(file, ln, line.size());
    // One pass: each number must end at the delimiter (or, for the class, at the line end).
    double t = 0.0, cls_d = -1.0;
    const char* p = line.data();
    const char* e = p + line.size();
    bool ok = true;
    for (std::size_t col = 0; col < n_cols; ++col) {
      double v = 0.0;
      const char* q = detail::parse_number_prefix(p, e, v);
      const bool last = col + 1 == n_cols;
      if (!q || (last ? q != e : (q == e || *q != delim))) {
        ok = false;
        break;
      }
      if (col == 0)
        t = v;
      else if (last)
        cls_d = v;
      else
        vals[col - 1] = v;
      p = q + 1;
    }
    // Range-check before the cast: converting an out-of-range double to int is undefined behaviour.
    ok = ok && cls_d >= 0.0 && cls_d <= kMaxClass && cls_d == std::floor(cls_d);
    const int cls = ok ? static_cast<int>(cls_d) : 0;
    // A stamp beyond +-1e12 ms (31 years) is a corrupt token; within it, grid arithmetic stays exact.
    if (ok && std::abs(t) > kMaxAbsTimeMs) ok = false;
    if (ok && have_row && !(t > t_prev)) ok = false;  // stamps must increase; a repeated/backward stamp is corrupt
    if (!ok) {
      detail::note_skipped(rec, ln);
      continue;
    }
    if (!have_row) {
      t0 = t;
      have_row = true;
    } else {
      if (t - t_prev > kMaxGapMs)
        return make_error(ErrorCode::parse, file, ln,
                          "time jumps by " + std::to_string(t - t_prev) + " ms (more than " +
                              std::to_string(kMaxGapMs) + "): the logger lost data here");
      emit_until(t);
    }
    for (std::size_t c = 0; c < n_ch; ++c) held[c] = vals[c];
    held_class = cls;
    t_prev = t;
    ++rows;
  }

  if (rows == 0 && rec.rows_skipped == 0)
    return make_error(ErrorCode::empty, file, first_data_line, "header only: no data rows");
  if (rows == 0)
    return make_error(ErrorCode::parse, file, rec.skipped_lines.front(),
                      "no complete data row (" + std::to_string(rec.rows_skipped) + " incomplete or corrupt rows)");
  if (rec.rows_skipped > rows)
    return make_error(ErrorCode::parse, file, rec.skipped_lines.front(),
                      std::to_string(rec.rows_skipped) + " of " + std::to_string(rec.rows_skipped + rows) +
                          " rows are incomplete or corrupt: not a usable recording");
  // Last row: it holds until its own stamp (inclusive), so grid points <= t_last are emitted.
  emit_until(std::nextafter(t_prev, std::numeric_limits<double>::infinity()));

  rec.n_samples = rec.sample_labels.size();
  rec.samples.resize(n_ch * rec.n_samples);
  for (std::size_t c = 0; c < n_ch; ++c)
    std::copy(data[c].begin(), data[c].end(), rec.samples.begin() + static_cast<std::ptrdiff_t>(c * rec.n_samples));

  const std::filesystem::path p(display_name);
  rec.subject_id = p.parent_path().filename().string();
  const std::string fname = p.filename().string();
  if (auto us = fname.find('_'); us != std::string::npos) rec.session = fname.substr(0, us);
  return rec;
}

}  // namespace myoexo::io
