// Reader for the UCI "EMG dataset in Lower Limb" (id 278) text files.
//
// Layout (see ../shared/datasets/README.md): CRLF, TAB-separated, no column-name row.
//   File Name: 9Amar.log
//   Channel 1: 'Recto femoral', 32080 values, engineering units: mV, no filters.
//   ... one line per channel (5) ...
//   Digitals combined (event=16, d=8, c=4, b=2, a=1): 32080 values, .     <- only in some files (9A, 11A)
//   <blank line>
//   0.0022<TAB>0.0007<TAB>-0.0068<TAB>-0.0015<TAB>-1.4<TAB>31             <- 6th column only with "Digitals"
// The column roles come from the header lines, in order; the digital column is dropped.
// Rows that are not complete (FX-only rows `\t\t\t\t7.5`, the tab-only last line) or hold a corrupt token
// (`7.5V`) are skipped and counted, never fatal: the recorder wrote them, but they carry no EMG.
#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "io/io.hpp"
#include "io/text.hpp"

namespace myoexo::io {

namespace {

using detail::iequals;
using detail::istarts_with;
using detail::trim;

constexpr std::size_t kMaxHeaderLines = 64;  // the real header is 6-7 lines
constexpr std::size_t kMaxColumns = 32;      // the MWX8 has 8 analog + 4 digital inputs

struct Column {
  bool keep = true;          // false: the "Digitals combined" column
  std::string code;          // RF/BF/VM/ST/FX
  std::string unit;          // from "engineering units: mV"
  std::size_t declared = 0;  // "N values" (0 = not given)
};

// "Channel 4: 'Recto Femoral', 12973 values, engineering units: mV, no filters." -> Column.
Result<Column> parse_channel_line(std::string_view line, const std::string& file, std::size_t line_no) {
  Column col;
  const auto q1 = line.find('\'');
  const auto q2 = q1 == std::string_view::npos ? q1 : line.find('\'', q1 + 1);
  if (q2 == std::string_view::npos)
    return make_error(ErrorCode::parse, file, line_no, "channel line without a quoted name: '" +
                                                           std::string(line.substr(0, 80)) + "'");
  const std::string_view name = line.substr(q1 + 1, q2 - q1 - 1);
  col.code = uci_lower_limb_channel_code(name);
  if (col.code.empty())
    return make_error(ErrorCode::parse, file, line_no, "unknown channel name '" + std::string(name) +
                                                           "' (expected RF/BF/VM/ST/FX or the Spanish names)");
  std::string_view rest = line.substr(q2 + 1);
  if (auto comma = rest.find(','); comma != std::string_view::npos) {
    std::string_view count = trim(rest.substr(comma + 1));
    std::size_t n = 0;
    auto [ptr, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
    if (ec == std::errc{} && ptr != count.data()) col.declared = n;
  }
  constexpr std::string_view kUnits = "engineering units:";
  if (auto u = rest.find(kUnits); u != std::string_view::npos) {
    std::string_view unit = rest.substr(u + kUnits.size());
    unit = trim(unit.substr(0, unit.find(',')));
    col.unit = std::string(unit);
  }
  return col;
}

// "<k>{A|N}{mar|sen|pie}" from the file name; fields stay empty when the name does not follow it.
void parse_file_name(const std::string& display_name, Recording& rec) {
  const std::string stem = std::filesystem::path(display_name).stem().string();
  std::size_t i = 0;
  while (i < stem.size() && stem[i] >= '0' && stem[i] <= '9') ++i;
  const bool ok = i > 0 && i + 4 == stem.size() &&
                  (detail::to_lower_ascii(stem[i]) == 'a' || detail::to_lower_ascii(stem[i]) == 'n') &&
                  !uci_lower_limb_label(std::string_view(stem).substr(i + 1)).empty();
  if (!ok) {
    rec.warnings.push_back("file name '" + std::filesystem::path(display_name).filename().string() +
                           "' does not follow <k>{A|N}{mar|sen|pie}.txt: subject and movement unknown");
    return;
  }
  const char g = detail::to_lower_ascii(stem[i]);
  rec.subject_id = stem.substr(0, i) + (g == 'a' ? "A" : "N");
  rec.group = g == 'a' ? "abnormal" : "normal";
  rec.label = uci_lower_limb_label(std::string_view(stem).substr(i + 1));
}

}  // namespace

std::string uci_lower_limb_label(std::string_view suffix) {
  if (iequals(suffix, "mar")) return "gait";
  if (iequals(suffix, "sen")) return "sitting";
  if (iequals(suffix, "pie")) return "standing";
  return "";
}

std::string uci_lower_limb_channel_code(std::string_view header_name) {
  std::string_view n = trim(header_name);
  // "EMG Semitendinoso": the recorder prefixes some names with the modality.
  if (istarts_with(n, "emg ")) n = trim(n.substr(4));
  for (const char* code : {"RF", "BF", "VM", "ST", "FX"})
    if (iequals(n, code)) return code;
  // Prefixes cover Spanish and English spellings: Recto/Rectus femoral(is), Biceps femoral/femoris,
  // Vasto/Vastus medial(is)/interno/internus, Semitendinoso/-us, Flexo(-Extension)/Flexion/knee flexion.
  if (istarts_with(n, "rect")) return "RF";
  if (istarts_with(n, "bicep") || istarts_with(n, "bícep")) return "BF";
  if (istarts_with(n, "vast")) return "VM";
  if (istarts_with(n, "semit")) return "ST";
  if (istarts_with(n, "flex") || istarts_with(n, "knee flex")) return "FX";
  return "";
}

Result<Recording> read_uci_lower_limb(const std::filesystem::path& path) {
  auto bytes = detail::read_file_bytes(path);
  if (!bytes) return bytes.error();
  auto rec = parse_uci_lower_limb(*bytes, path.string());
  if (rec) rec->source_path = path;
  return rec;
}

Result<Recording> parse_uci_lower_limb(std::string_view text, const std::string& display_name) {
  const std::string& file = display_name;
  text = detail::strip_bom(text);
  if (detail::is_blank(text)) return make_error(ErrorCode::empty, file, 1, "file is empty");

  detail::LineCursor cur(text);
  std::string_view line;

  // ---- header ----
  cur.next(line);
  if (line.size() > detail::kMaxLineBytes) return detail::line_too_long(file, 1, line.size());
  if (!istarts_with(trim(line), "File Name:"))
    return make_error(ErrorCode::parse, file, 1, "not a UCI lower-limb file: line 1 does not start with 'File Name:'");

  std::vector<Column> cols;
  bool header_done = false;
  while (cur.next(line)) {
    const std::size_t ln = cur.line_number();
    if (line.size() > detail::kMaxLineBytes) return detail::line_too_long(file, ln, line.size());
    if (detail::is_blank(line)) {
      header_done = true;
      break;
    }
    if (ln > kMaxHeaderLines)
      return make_error(ErrorCode::parse, file, ln, "no blank line ends the header within " +
                                                        std::to_string(kMaxHeaderLines) + " lines");
    if (detail::has_binary(line)) return make_error(ErrorCode::parse, file, ln, "binary bytes in the header");
    const std::string_view t = trim(line);
    if (istarts_with(t, "Channel")) {
      auto col = parse_channel_line(t, file, ln);
      if (!col) return col.error();
      for (const auto& c : cols)
        if (c.keep && c.code == col->code)
          return make_error(ErrorCode::parse, file, ln, "channel " + col->code + " appears twice in the header");
      cols.push_back(std::move(*col));
    } else if (istarts_with(t, "Digitals")) {
      // The MWX8's combined digital inputs (constant 31 in the real files): a column, but not a signal.
      Column c;
      c.keep = false;
      cols.push_back(c);
    } else {
      return make_error(ErrorCode::parse, file, ln, "unexpected header line '" + std::string(t.substr(0, 80)) +
                                                        "' (expected 'Channel n: ...' or 'Digitals ...')");
    }
    if (cols.size() > kMaxColumns)
      return make_error(ErrorCode::parse, file, ln, "more than " + std::to_string(kMaxColumns) + " columns");
  }
  if (cols.empty() || std::none_of(cols.begin(), cols.end(), [](const Column& c) { return c.keep; }))
    return make_error(ErrorCode::parse, file, cur.line_number(), "header names no channel");
  if (!header_done)
    return make_error(ErrorCode::empty, file, cur.line_number(), "header only: no blank line and no data rows");

  Recording rec;
  rec.sample_rate_hz = 1000.0;  // Biometrics DataLOG MWX8 at 1 kHz (BDSEMG_eng.txt, 3.2)
  std::size_t declared = 0;
  for (const auto& c : cols) {
    if (!c.keep) continue;
    rec.channel_names.push_back(c.code);
    rec.channel_units.push_back(c.unit);
    declared = std::max(declared, c.declared);
  }
  const std::size_t n_cols = cols.size();
  const std::size_t n_ch = rec.channel_names.size();
  std::array<bool, kMaxColumns> keep{};
  for (std::size_t c = 0; c < n_cols; ++c) keep[c] = cols[c].keep;

  // The declared count sizes the buffers only up to what the remaining bytes could hold (each row needs at
  // least 2 bytes per column), so a lying header cannot make us allocate more than the file justifies.
  const std::size_t upper = cur.bytes_left() / (2 * n_cols) + 1;
  // Rows go straight into the channel-major buffer at stride `cap`; if the file holds more rows than
  // declared, the buffer grows (doubling) and the channels are re-laid out; at the end they are compacted.
  std::size_t cap = std::max<std::size_t>(16, std::min(declared > 0 ? declared + 1 : upper, upper));
  rec.samples.resize(n_ch * cap);

  // ---- data rows ----
  const std::size_t first_data_line = cur.line_number() + 1;
  std::array<double, kMaxColumns> vals{};
  std::size_t kept = 0;
  while (cur.next(line)) {
    const std::size_t ln = cur.line_number();
    if (line.size() > detail::kMaxLineBytes) return detail::line_too_long(file, ln, line.size());
    // One pass per row: each number is parsed where it stands and must end at a TAB or the line end.
    const char* p = line.data();
    const char* e = p + line.size();
    std::size_t col = 0, k = 0;
    bool ok = true;
    for (;;) {
      if (col >= n_cols) {
        ok = false;
        break;
      }
      const char* q;
      if (keep[col]) {
        q = detail::parse_number_prefix(p, e, vals[k++]);
        if (!q || (q != e && *q != '\t')) {
          ok = false;
          break;
        }
      } else {
        q = static_cast<const char*>(std::memchr(p, '\t', static_cast<std::size_t>(e - p)));
        if (!q) q = e;
      }
      ++col;
      if (q == e) break;
      p = q + 1;
    }
    if (!ok || col != n_cols) {
      detail::note_skipped(rec, ln);
      continue;
    }
    if (kept == cap) {
      // Plain doubling: bounded by the rows actually parsed (at most 2x), so it needs no byte-count bound —
      // rows can be shorter than 2 bytes per column (an empty skipped column, a lone CR), and a bound from
      // that estimate could stop the buffer from growing.
      const std::size_t new_cap = 2 * cap;
      std::vector<double> grown(n_ch * new_cap);
      for (std::size_t c = 0; c < n_ch; ++c)
        std::copy_n(rec.samples.begin() + static_cast<std::ptrdiff_t>(c * cap), kept,
                    grown.begin() + static_cast<std::ptrdiff_t>(c * new_cap));
      rec.samples.swap(grown);
      cap = new_cap;
    }
    double* out = rec.samples.data() + kept;
    for (std::size_t c = 0; c < n_ch; ++c) out[c * cap] = vals[c];
    ++kept;
  }

  if (kept == 0 && rec.rows_skipped == 0)
    return make_error(ErrorCode::empty, file, first_data_line, "header only: no data rows");
  if (kept == 0)
    return make_error(ErrorCode::parse, file, rec.skipped_lines.front(),
                      "no complete data row (" + std::to_string(rec.rows_skipped) + " incomplete or corrupt rows, " +
                          std::to_string(n_cols) + " columns expected)");
  if (rec.rows_skipped > kept)
    return make_error(ErrorCode::parse, file, rec.skipped_lines.front(),
                      std::to_string(rec.rows_skipped) + " of " + std::to_string(rec.rows_skipped + kept) +
                          " rows are incomplete or corrupt (" + std::to_string(n_cols) +
                          " tab-separated numbers expected): not a usable recording");

  // "N values" is a cross-check only: FX may declare its 50 Hz count (held to 1 kHz in the data), and a
  // header can be stale, so the data rows decide the length and a disagreement is reported, not obeyed.
  if (declared > 0 && declared != kept)
    rec.warnings.push_back("header declares " + std::to_string(declared) + " values per channel, file holds " +
                           std::to_string(kept) + " complete rows");

  rec.n_samples = kept;
  // Compact stride cap -> kept in place: channel c moves down (c * kept <= c * cap), copy_n goes forward.
  for (std::size_t c = 1; c < n_ch; ++c) {
    const auto src = rec.samples.begin() + static_cast<std::ptrdiff_t>(c * cap);
    std::copy(src, src + static_cast<std::ptrdiff_t>(kept), rec.samples.begin() + static_cast<std::ptrdiff_t>(c * kept));
  }
  rec.samples.resize(n_ch * kept);
  if (cap > 2 * kept) rec.samples.shrink_to_fit();  // only when a lying header made us over-allocate
  parse_file_name(display_name, rec);
  return rec;
}

}  // namespace myoexo::io
