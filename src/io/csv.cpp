// Generic CSV/TSV reader and the CSV writer.
//
// Reader rules (each one is a decision the bad-input tests pin down):
// - The first row names the columns; a first row made only of numbers is an error (no header).
// - Delimiter from the header row: TAB if it holds one, else ',', else ';' (else a single column).
// - Header fields may be "quoted" (RFC 4180); "name [unit]" / "name (unit)" sets the channel unit.
// - A time column (named or auto: time, t, time_s, time_ms, timestamp) sets the rate unless one is given;
//   it is not a channel. A label column (auto: class, label) becomes Recording::sample_labels.
// - A data row with the wrong number of fields or a token that is not a finite number (text, NaN, Inf)
//   is skipped and counted; a file with more such rows than good ones, or with none good, is an error.
//   Zero-length lines are ignored (writers often add one at the end).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "io/io.hpp"
#include "io/text.hpp"

namespace myoexo::io {

namespace {

using detail::iequals;
using detail::trim;

constexpr std::size_t kMaxColumns = 4096;

// RFC 4180-style split of a header row ("a","b ""x""",c). Returns false on an unterminated quote.
bool split_quoted(std::string_view line, char delim, std::vector<std::string>& out) {
  out.clear();
  std::size_t i = 0;
  for (;;) {
    std::string field;
    while (i < line.size() && (line[i] == ' ' || (line[i] == '\t' && delim != '\t'))) ++i;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field += line[i++];
      }
      if (!closed) return false;
      while (i < line.size() && line[i] != delim) ++i;  // ignore junk after the closing quote
    } else {
      const std::size_t start = i;
      while (i < line.size() && line[i] != delim) ++i;
      field = std::string(trim(line.substr(start, i - start)));
    }
    out.push_back(std::move(field));
    if (out.size() > kMaxColumns) return true;
    if (i >= line.size()) return true;
    ++i;  // skip the delimiter
  }
}

// TAB if the header holds one outside quotes, else ',', else ';' (else ',': a single column).
char detect_delimiter(std::string_view header) {
  bool in_quotes = false, tab = false, comma = false, semicolon = false;
  for (char c : header) {
    if (c == '"') in_quotes = !in_quotes;
    if (in_quotes) continue;
    tab = tab || c == '\t';
    comma = comma || c == ',';
    semicolon = semicolon || c == ';';
  }
  return tab ? '\t' : comma ? ',' : semicolon ? ';' : ',';
}

// "RF [mV]" -> {"RF", "mV"}; "RF (mV)" -> {"RF", "mV"}; "RF" -> {"RF", ""}.
std::pair<std::string, std::string> split_unit(const std::string& field) {
  std::string_view s = trim(field);
  if (s.size() >= 3 && (s.back() == ']' || s.back() == ')')) {
    const char open = s.back() == ']' ? '[' : '(';
    const auto pos = s.rfind(open);
    if (pos != std::string_view::npos && pos > 0)
      return {std::string(trim(s.substr(0, pos))), std::string(trim(s.substr(pos + 1, s.size() - pos - 2)))};
  }
  return {std::string(s), ""};
}

bool is_time_name(std::string_view n) {
  for (const char* c : {"time", "t", "time_s", "time_ms", "time_us", "timestamp"})
    if (iequals(n, c)) return true;
  return false;
}

bool is_label_name(std::string_view n) { return iequals(n, "class") || iequals(n, "label"); }

// A comment line: its first non-blank character is '%' (MATLAB, OpenBCI) or '#'.
bool is_comment(std::string_view line) {
  const std::string_view t = trim(line);
  return !t.empty() && (t.front() == '%' || t.front() == '#');
}

// Seconds per unit from a unit text or name suffix; 0 = unknown.
double time_scale_from(std::string_view name, std::string_view unit) {
  auto from_unit = [](std::string_view u) -> double {
    if (iequals(u, "s") || iequals(u, "sec")) return 1.0;
    if (iequals(u, "ms")) return 1e-3;
    if (iequals(u, "us") || u == "\xC2\xB5s") return 1e-6;
    return 0.0;
  };
  if (double s = from_unit(unit); s > 0) return s;
  if (auto us = name.rfind('_'); us != std::string_view::npos) return from_unit(name.substr(us + 1));
  return 0.0;
}

// One data field: surrounding spaces and quotes are tolerated.
std::string_view clean_field(std::string_view f) {
  f = trim(f);
  if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = trim(f.substr(1, f.size() - 2));
  return f;
}

bool needs_quotes(const std::string& s, char delim) {
  if (s.empty()) return false;
  if (s.front() == ' ' || s.back() == ' ') return true;
  for (char c : s)
    if (c == delim || c == '"' || c == '\n' || c == '\r') return true;
  return false;
}

void append_field(std::string& out, const std::string& s, char delim) {
  if (!needs_quotes(s, delim)) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

Result<Recording> read_csv(const std::filesystem::path& path, const CsvOptions& options) {
  auto bytes = detail::read_file_bytes(path);
  if (!bytes) return bytes.error();
  auto rec = parse_csv(*bytes, path.string(), options);
  if (rec) rec->source_path = path;
  return rec;
}

Result<Recording> parse_csv(std::string_view text, const std::string& display_name, const CsvOptions& options) {
  const std::string& file = display_name;
  if (options.sample_rate_hz && !(std::isfinite(*options.sample_rate_hz) && *options.sample_rate_hz > 0))
    return make_error(ErrorCode::invalid_argument, file, 0, "sample_rate_hz must be finite and > 0");
  if (options.headerless_rate_hz && !(std::isfinite(*options.headerless_rate_hz) && *options.headerless_rate_hz > 0))
    return make_error(ErrorCode::invalid_argument, file, 0, "headerless_rate_hz must be finite and > 0");
  if (!(std::isfinite(options.time_scale_s) && options.time_scale_s >= 0))
    return make_error(ErrorCode::invalid_argument, file, 0, "time_scale_s must be finite and >= 0");

  text = detail::strip_bom(text);
  if (detail::is_blank(text)) return make_error(ErrorCode::empty, file, 1, "file is empty");

  detail::LineCursor cur(text);
  std::string_view line;
  // Comment lines ('%' as MATLAB and OpenBCI write them, or '#') before the header are skipped.
  while (cur.next(line) && is_comment(line)) {
  }
  const std::size_t head_ln = cur.line_number();
  if (is_comment(line)) return make_error(ErrorCode::empty, file, head_ln, "only comment lines");
  if (line.size() > detail::kMaxLineBytes) return detail::line_too_long(file, head_ln, line.size());
  if (detail::has_binary(line)) return make_error(ErrorCode::parse, file, head_ln, "binary bytes in the header row");
  if (detail::is_blank(line)) return make_error(ErrorCode::parse, file, head_ln, "header row is empty");

  const char delim = detect_delimiter(line);
  std::vector<std::string> head;
  if (!split_quoted(line, delim, head))
    return make_error(ErrorCode::parse, file, head_ln, "unterminated quote in header row");
  if (head.size() > kMaxColumns)
    return make_error(ErrorCode::parse, file, head_ln, "more than " + std::to_string(kMaxColumns) + " columns");
  // No header row (the first row holds numbers): channels ch1..chN, the rate must be given.
  bool headerless = false;
  {
    bool all_numeric = true;
    double d = 0;
    for (const auto& h : head) all_numeric = all_numeric && detail::parse_finite(trim(h), d);
    if (all_numeric && !options.headerless_rate_hz)
      return make_error(ErrorCode::parse, file, head_ln,
                        "first row holds numbers, not column names: give the sampling rate of a file without a "
                        "header row (--csv-rate HZ), or add a header row");
    headerless = all_numeric;
  }
  const std::size_t n_cols = head.size();

  std::vector<std::string> names(n_cols), units(n_cols);
  for (std::size_t c = 0; c < n_cols; ++c) {
    auto [n, u] = headerless ? std::pair<std::string, std::string>{"ch" + std::to_string(c + 1), ""} : split_unit(head[c]);
    names[c] = n.empty() ? "col" + std::to_string(c + 1) : n;
    units[c] = u;
  }
  auto find_col = [&](const std::string& wanted, bool (*auto_pred)(std::string_view)) -> long {
    for (std::size_t c = 0; c < n_cols; ++c)
      if (wanted.empty() ? auto_pred(names[c]) : (iequals(names[c], wanted) || iequals(trim(head[c]), wanted)))
        return static_cast<long>(c);
    return -1;
  };
  const long time_col = headerless ? -1 : find_col(options.time_column, is_time_name);
  if (!options.time_column.empty() && time_col < 0)
    return make_error(ErrorCode::mismatch, file, 1, "no column named '" + options.time_column + "'");
  long label_col = headerless ? -1 : find_col(options.label_column, is_label_name);
  if (!options.label_column.empty() && label_col < 0)
    return make_error(ErrorCode::mismatch, file, 1, "no column named '" + options.label_column + "'");
  if (label_col == time_col) label_col = -1;

  Recording rec;
  std::vector<std::size_t> chan_cols;
  for (std::size_t c = 0; c < n_cols; ++c) {
    if (static_cast<long>(c) == time_col || static_cast<long>(c) == label_col) continue;
    for (std::size_t j : chan_cols)
      if (names[j] == names[c])
        return make_error(ErrorCode::parse, file, 1, "column name '" + names[c] + "' appears twice");
    chan_cols.push_back(c);
    rec.channel_names.push_back(names[c]);
    rec.channel_units.push_back(units[c]);
  }
  if (chan_cols.empty()) return make_error(ErrorCode::empty, file, 1, "no channel columns (only time/label)");
  const std::size_t n_ch = chan_cols.size();

  const std::size_t upper = cur.bytes_left() / (2 * n_cols) + 1;
  std::vector<std::vector<double>> data(n_ch);
  for (auto& v : data) v.reserve(upper);
  std::vector<double> times;
  const bool need_time = !options.sample_rate_hz && time_col >= 0;
  if (need_time) times.reserve(upper);

  std::vector<std::string_view> f;
  f.reserve(n_cols + 1);
  std::vector<double> vals(n_cols);
  std::size_t kept = 0;
  bool first_row_is_data = headerless;  // a file without a header row: its first row is the first sample
  while (first_row_is_data || cur.next(line)) {
    first_row_is_data = false;
    const std::size_t ln = cur.line_number();
    if (line.size() > detail::kMaxLineBytes) return detail::line_too_long(file, ln, line.size());
    if (line.empty() || is_comment(line)) continue;
    f.clear();
    const char* p = line.data();
    const char* e = p + line.size();
    for (;;) {
      const char* d = static_cast<const char*>(std::memchr(p, delim, static_cast<std::size_t>(e - p)));
      if (!d) d = e;
      if (f.size() > n_cols) break;
      f.emplace_back(p, static_cast<std::size_t>(d - p));
      if (d == e) break;
      p = d + 1;
    }
    // A trailing delimiter ("1,2,3,") is a common writer habit, not a corrupt row.
    if (f.size() == n_cols + 1 && trim(f.back()).empty()) f.pop_back();
    bool ok = f.size() == n_cols;
    int label = 0;
    for (std::size_t c = 0; ok && c < n_cols; ++c) {
      const std::string_view tok = clean_field(f[c]);
      if (static_cast<long>(c) == label_col)
        ok = detail::parse_int(tok, label);
      else
        ok = detail::parse_finite(tok, vals[c]);
    }
    if (!ok) {
      detail::note_skipped(rec, ln);
      continue;
    }
    for (std::size_t k = 0; k < n_ch; ++k) data[k].push_back(vals[chan_cols[k]]);
    if (label_col >= 0) rec.sample_labels.push_back(label);
    if (need_time) times.push_back(vals[static_cast<std::size_t>(time_col)]);
    ++kept;
  }

  if (kept == 0 && rec.rows_skipped == 0)
    return make_error(ErrorCode::empty, file, head_ln + 1, "header only: no data rows");
  if (kept == 0)
    return make_error(ErrorCode::parse, file, rec.skipped_lines.front(),
                      "no usable data row (" + std::to_string(rec.rows_skipped) +
                          " rows with the wrong field count (" + std::to_string(n_cols) +
                          " expected) or non-numeric values)");
  if (rec.rows_skipped > kept)
    return make_error(ErrorCode::parse, file, rec.skipped_lines.front(),
                      std::to_string(rec.rows_skipped) + " of " + std::to_string(rec.rows_skipped + kept) +
                          " rows have the wrong field count (" + std::to_string(n_cols) +
                          " expected) or non-numeric values: not a usable recording");

  if (options.sample_rate_hz) {
    rec.sample_rate_hz = *options.sample_rate_hz;
  } else if (headerless || (time_col < 0 && options.headerless_rate_hz)) {
    rec.sample_rate_hz = *options.headerless_rate_hz;  // the file states no rate: the one given for that case
  } else if (time_col < 0) {
    return make_error(ErrorCode::invalid_argument, file, 1,
                      "no sample rate: no time column (time, t, time_s, time_ms) and none given");
  } else {
    if (times.size() < 2)
      return make_error(ErrorCode::mismatch, file, 2, "one data row: cannot derive the rate from the time column");
    std::vector<double> steps(times.size() - 1);
    for (std::size_t i = 0; i + 1 < times.size(); ++i) steps[i] = times[i + 1] - times[i];
    auto mid = steps.begin() + static_cast<std::ptrdiff_t>(steps.size() / 2);
    std::nth_element(steps.begin(), mid, steps.end());
    const double step = *mid;  // the median step: robust to a few jittered or dropped stamps
    if (!(step > 0) || !std::isfinite(step))
      return make_error(ErrorCode::parse, file, 2, "time column '" + names[static_cast<std::size_t>(time_col)] +
                                                       "' does not increase");
    double scale = options.time_scale_s > 0
                       ? options.time_scale_s
                       : time_scale_from(names[static_cast<std::size_t>(time_col)], units[static_cast<std::size_t>(time_col)]);
    // No unit given: surface EMG is sampled at 100 Hz .. 20 kHz, so a step above 0.05 can only be
    // milliseconds (>= 20 s per sample is no EMG) and a step below it only seconds.
    if (scale == 0) scale = step > 0.05 ? 1e-3 : 1.0;
    double rate = 1.0 / (step * scale);
    // Printed time stamps (i / rate) carry rounding noise of ~1e-16 relative; snap to the integer rate
    // they came from rather than report 999.9999999999999 Hz.
    if (const double r = std::round(rate); r > 0 && std::abs(rate - r) <= 1e-9 * r) rate = r;
    if (!std::isfinite(rate) || rate <= 0)
      return make_error(ErrorCode::parse, file, 2, "time column gives no usable sample rate");
    rec.sample_rate_hz = rate;
  }

  rec.n_samples = kept;
  rec.samples.resize(n_ch * kept);
  for (std::size_t c = 0; c < n_ch; ++c)
    std::copy(data[c].begin(), data[c].end(), rec.samples.begin() + static_cast<std::ptrdiff_t>(c * kept));
  return rec;
}

namespace detail {

Status write_delimited(const Recording& rec, const std::filesystem::path& path, char delim) {
  const std::string file = path.string();
  const std::size_t n_ch = rec.n_channels();
  if (n_ch == 0) return make_error(ErrorCode::invalid_argument, file, 0, "recording has no channels");
  if (rec.samples.size() != n_ch * rec.n_samples)
    return make_error(ErrorCode::invalid_argument, file, 0, "samples.size() != channels x n_samples");
  if (!(std::isfinite(rec.sample_rate_hz) && rec.sample_rate_hz > 0))
    return make_error(ErrorCode::invalid_argument, file, 0, "sample_rate_hz must be finite and > 0");
  if (!rec.channel_units.empty() && rec.channel_units.size() != n_ch)
    return make_error(ErrorCode::invalid_argument, file, 0, "channel_units.size() != channel_names.size()");
  for (double v : rec.samples)
    if (!std::isfinite(v))
      return make_error(ErrorCode::invalid_argument, file, 0, "recording holds NaN/Inf samples; refusing to write them");
  const bool labels = !rec.sample_labels.empty();
  if (labels && rec.sample_labels.size() != rec.n_samples)
    return make_error(ErrorCode::invalid_argument, file, 0, "sample_labels.size() != n_samples");

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(ErrorCode::io, file, 0, "cannot open for writing");

  std::string buf;
  // A time column keeps the file self-describing: read_csv derives the rate from it, other tools plot it.
  buf += "time_s";
  for (std::size_t c = 0; c < n_ch; ++c) {
    buf += delim;
    std::string name = rec.channel_names[c];
    if (!rec.channel_units.empty() && !rec.channel_units[c].empty()) name += " [" + rec.channel_units[c] + "]";
    append_field(buf, name, delim);
  }
  if (labels) {
    buf += delim;
    buf += "label";
  }
  buf += '\n';
  const std::size_t n = rec.n_samples;
  for (std::size_t i = 0; i < n; ++i) {
    append_double(buf, static_cast<double>(i) / rec.sample_rate_hz);
    for (std::size_t c = 0; c < n_ch; ++c) {
      buf += delim;
      append_double(buf, rec.samples[c * n + i]);
    }
    if (labels) {
      buf += delim;
      buf += std::to_string(rec.sample_labels[i]);
    }
    buf += '\n';
    if (buf.size() > (1u << 20)) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  out.flush();
  if (!out) return make_error(ErrorCode::io, file, 0, "write failed (disk full?)");
  return {};
}

}  // namespace detail

Status write_csv(const Recording& rec, const std::filesystem::path& path) {
  return detail::write_delimited(rec, path, ',');
}

}  // namespace myoexo::io
