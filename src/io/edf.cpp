// EDF/EDF+/BDF: read through libbiosig, written by hand.
//
// Why the writer does not use biosig's swrite (libbiosig 2.5, tried first with a trial round trip):
// (1) it converts physical to digital values by truncation toward zero, not rounding, so the
// round-trip error is up to one full quantisation step instead of half; (2) it marks files "EDF+C" but writes
// no "EDF Annotations" signal, which the EDF+ specification requires (EDFbrowser and EDFlib reject such
// files); (3) it maps units through ISO 11073 codes and drops any it does not know ("deg" becomes "?");
// (4) on allocation failure or an unknown data type it calls exit(). EDF is a fixed 256-byte-per-signal
// ASCII header plus little-endian integers, so writing it directly is short and fully under our control.
// Reading stays with biosig, which copes with the many EDF/BDF dialects clinical recorders produce.
//
// Quantisation: each channel's physical range is the data's [min, max] rounded outward to the 8 characters
// the header allows, and samples are rounded to the nearest of (DigMax - DigMin) steps, so a round trip is
// exact to within half a step: |x_read - x| <= (PhysMax - PhysMin) / (DigMax - DigMin) / 2
// (65535 steps for EDF's 16 bits, 16777215 for BDF's 24 bits).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <cctype>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "io/io.hpp"
#include "io/text.hpp"

#include <biosig.h>
// biosig-dev.h may define isfinite (and, in some versions, min/max) as macros; they break the std:: names.
#undef isfinite
#undef min
#undef max

namespace myoexo::io {

namespace {

constexpr double kEdfDigMin = -32768.0, kEdfDigMax = 32767.0;
constexpr double kBdfDigMin = -8388608.0, kBdfDigMax = 8388607.0;
constexpr int kAnnotationSamples = 30;  // 60 bytes per record for the EDF+ time-keeping annotation
constexpr const char* kLabelChannel = "label";

// A header field: left-aligned, space-padded (or cut) to `width` ASCII characters.
void put_field(std::string& out, std::string_view value, std::size_t width) {
  std::string v(value.substr(0, width));
  for (char& c : v)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '_';
  out += v;
  out.append(width - v.size(), ' ');
}

// `v` as at most 8 characters of fixed-point text, rounded down (or up) so that the text's value stays
// on the outer side of v. Empty when |v| does not fit in 8 characters.
std::string edf_number(double v, bool round_down) {
  for (int d = 7; d >= 0; --d) {
    const double scale = std::pow(10.0, d);
    double k = round_down ? std::floor(v * scale) : std::ceil(v * scale);
    for (int guard = 0; guard < 4; ++guard) {
      char buf[48];
      std::snprintf(buf, sizeof buf, "%.*f", d, k / scale);
      const double back = std::strtod(buf, nullptr);
      if (round_down ? back <= v : back >= v) {
        if (std::strlen(buf) <= 8) return buf;
        break;
      }
      k += round_down ? -1.0 : 1.0;
    }
  }
  return {};
}

std::string trim_copy(const char* s, std::size_t n) {
  std::string_view v(s, strnlen(s, n));
  return std::string(detail::trim(v));
}

// Record duration and samples per record: records must be whole (EDF has no partial record), at most 1 s
// long, and the duration must be exact in the header's 8 characters.
bool choose_records(std::size_t n, double rate_hz, std::size_t& spr, std::string& duration) {
  const std::size_t max_spr = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1.0, std::floor(rate_hz))));
  for (std::size_t s = max_spr; s >= 1; --s) {
    if (n % s != 0) continue;
    const double dur = static_cast<double>(s) / rate_hz;
    for (int d = 7; d >= 0; --d) {
      char buf[48];
      std::snprintf(buf, sizeof buf, "%.*f", d, dur);
      if (std::strlen(buf) > 8) continue;
      const double back = std::strtod(buf, nullptr);
      if (back > 0 && std::abs(static_cast<double>(s) / back - rate_hz) <= 1e-9 * rate_hz) {
        spr = s;
        duration = buf;
        return true;
      }
      break;
    }
  }
  return false;
}

struct Scaling {
  double phys_min, phys_max, dig_min, dig_max;
  std::string phys_min_text, phys_max_text;
};

// An EDF+ onset or duration: decimal seconds, up to 9 decimals, trailing zeros dropped ("12.5", "3").
std::string tal_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9f", v);
  std::string t(buf);
  while (t.back() == '0') t.pop_back();
  if (t.back() == '.') t.pop_back();
  return t;
}

void put_le(std::string& out, long v, int bytes) {
  for (int b = 0; b < bytes; ++b) out += static_cast<char>((static_cast<unsigned long>(v) >> (8 * b)) & 0xff);
}

// A temporary file removed on destruction.
struct TempFile {
  std::string path;
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// Copies the header (with the record count set to `records`) and the first `records` complete records.
Status make_repaired_copy(const std::filesystem::path& src, std::string header, std::size_t records,
                          std::size_t record_bytes, const char* suffix, TempFile& out) {
  if (records > 99999999)  // the header's 8 characters cannot state more
    return make_error(ErrorCode::unsupported, src.string(), 0,
                      "a truncated EDF of " + std::to_string(records) + " complete data records cannot be repaired "
                      "(an EDF header states at most 99999999)");
  std::string tmpl = (std::filesystem::temp_directory_path() / "myoexo_edf_XXXXXX").string() + suffix;
  const int fd = ::mkstemps(tmpl.data(), static_cast<int>(std::strlen(suffix)));
  if (fd < 0) return make_error(ErrorCode::io, src.string(), 0, "cannot create a temporary file to repair a truncated EDF");
  ::close(fd);
  out.path = tmpl;
  std::string count = std::to_string(records);
  count.resize(8, ' ');
  header.replace(236, 8, count);
  std::ifstream in(src, std::ios::binary);
  std::ofstream o(out.path, std::ios::binary | std::ios::trunc);
  if (!in || !o) return make_error(ErrorCode::io, src.string(), 0, "cannot copy a truncated EDF for repair");
  o.write(header.data(), static_cast<std::streamsize>(header.size()));
  in.seekg(static_cast<std::streamoff>(header.size()));
  std::vector<char> buf(record_bytes);
  for (std::size_t k = 0; k < records; ++k) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    o.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  }
  o.flush();
  if (!in || !o) return make_error(ErrorCode::io, src.string(), 0, "copying a truncated EDF for repair failed");
  return {};
}

}  // namespace

// The EDF+ annotations of a file: every TAL of every "EDF Annotations" signal in the first `n_records` data
// records (record_bytes each, after the header), onsets relative to the first record's time-keeping onset.
// Time-keeping TALs (no text) are skipped. Errors: parse naming the data record and what is wrong.
Result<std::vector<Event>> read_edf_annotations(const std::filesystem::path& path, const std::string& head,
                                                std::size_t n_records, std::size_t record_bytes) {
  const std::string file = path.string();
  const std::size_t ns = head.size() / 256 - 1;
  std::vector<std::size_t> offset, length;  // of each annotation signal within a record
  std::size_t at = 0;
  for (std::size_t k = 0; k < ns; ++k) {
    const std::size_t spr = static_cast<std::size_t>(std::strtol(head.substr(256 + ns * 216 + k * 8, 8).c_str(), nullptr, 10));
    if (trim_copy(head.data() + 256 + k * 16, 16) == "EDF Annotations") {
      offset.push_back(at);
      length.push_back(2 * spr);
    }
    at += 2 * spr;
  }
  std::vector<Event> out;
  if (offset.empty()) return out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::io, file, 0, "cannot open for reading");
  std::string rec(record_bytes, '\0');
  bool have_start = false;
  double start_s = 0.0;
  for (std::size_t r = 0; r < n_records; ++r) {
    in.seekg(static_cast<std::streamoff>(head.size() + r * record_bytes));
    in.read(rec.data(), static_cast<std::streamsize>(record_bytes));
    if (in.gcount() != static_cast<std::streamsize>(record_bytes)) break;
    for (std::size_t a = 0; a < offset.size(); ++a) {
      const std::string_view b(rec.data() + offset[a], length[a]);
      auto bad = [&](const std::string& why) {
        return make_error(ErrorCode::parse, file, 0,
                          "EDF+ annotations of data record " + std::to_string(r + 1) + ": " + why);
      };
      bool first_tal = true;
      for (std::size_t i = 0; i < b.size();) {
        if (b[i] == '\0') {  // padding after the last TAL
          ++i;
          continue;
        }
        const std::size_t end = b.find('\0', i);
        if (end == std::string_view::npos) return bad("a TAL is not terminated");
        const std::string_view tal = b.substr(i, end - i);
        i = end + 1;
        if (tal.size() < 3 || (tal[0] != '+' && tal[0] != '-') || tal.back() != '\x14')
          return bad("a TAL does not start with an onset or end with 0x14");
        const std::size_t stamp_end = tal.find('\x14');
        std::string_view stamp = tal.substr(0, stamp_end);
        std::string_view dur;
        if (const auto d = stamp.find('\x15'); d != std::string_view::npos) {
          dur = stamp.substr(d + 1);
          stamp = stamp.substr(0, d);
        }
        auto number = [](std::string_view t, bool sign, double& v) {
          if (t.empty() || t.size() > 40) return false;
          const std::string z(t);
          for (std::size_t q = 0; q < z.size(); ++q)
            if (!(std::isdigit(static_cast<unsigned char>(z[q])) || z[q] == '.' || (sign && q == 0 && (z[q] == '+' || z[q] == '-'))))
              return false;
          char* e = nullptr;
          v = std::strtod(z.c_str(), &e);
          return e == z.c_str() + z.size() && std::isfinite(v);
        };
        double onset = 0.0, duration = 0.0;
        if (!number(stamp, true, onset)) return bad("onset '" + std::string(stamp) + "' is not a number");
        if (!dur.empty() && !number(dur, false, duration)) return bad("duration '" + std::string(dur) + "' is not a number");
        if (first_tal && a == 0 && !have_start) {
          have_start = true;
          start_s = onset;
        }
        first_tal = false;
        // Texts: between the 0x14 after the stamp and the final 0x14.
        std::size_t t = stamp_end + 1;
        while (t < tal.size()) {
          const std::size_t next = tal.find('\x14', t);
          if (next == std::string_view::npos) break;
          if (next > t) out.push_back({onset - start_s, duration, std::string(tal.substr(t, next - t))});
          t = next + 1;
        }
      }
    }
  }
  return out;
}

Status write_edf(const Recording& rec, const std::filesystem::path& path) {
  const std::string file = path.string();
  std::string ext = detail::lower(path.extension().string());
  const bool bdf = ext == ".bdf";
  if (!bdf && ext != ".edf")
    return make_error(ErrorCode::invalid_argument, file, 0, "write_edf needs a .edf or .bdf file name");
  const std::size_t n_ch = rec.n_channels();
  const std::size_t n = rec.n_samples;
  if (n_ch == 0 || n == 0) return make_error(ErrorCode::invalid_argument, file, 0, "recording is empty");
  if (rec.samples.size() != n_ch * n)
    return make_error(ErrorCode::invalid_argument, file, 0, "samples.size() != channels x n_samples");
  if (!(std::isfinite(rec.sample_rate_hz) && rec.sample_rate_hz > 0))
    return make_error(ErrorCode::invalid_argument, file, 0, "sample_rate_hz must be finite and > 0");
  const bool labels = !rec.sample_labels.empty();
  if (labels && rec.sample_labels.size() != n)
    return make_error(ErrorCode::invalid_argument, file, 0, "sample_labels.size() != n_samples");

  std::size_t spr = 0;
  std::string duration;
  if (!choose_records(n, rec.sample_rate_hz, spr, duration))
    return make_error(ErrorCode::unsupported, file, 0,
                      "sample rate " + std::to_string(rec.sample_rate_hz) +
                          " Hz cannot be written as whole EDF records of an exactly representable duration");
  const std::size_t n_rec = n / spr;
  if (n_rec > 99999999) return make_error(ErrorCode::unsupported, file, 0, "too many records for an EDF header");

  const double dig_min = bdf ? kBdfDigMin : kEdfDigMin, dig_max = bdf ? kBdfDigMax : kEdfDigMax;
  std::vector<Scaling> sc;
  for (std::size_t c = 0; c < n_ch; ++c) {
    const auto ch = rec.channel(c);
    double lo = ch[0], hi = ch[0];
    for (double v : ch) {
      if (!std::isfinite(v))
        return make_error(ErrorCode::invalid_argument, file, 0, "channel " + rec.channel_names[c] + " holds NaN/Inf");
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {  // a constant channel still needs PhysMin < PhysMax
      lo -= std::max(1.0, std::abs(lo) * 1e-3);
      hi += std::max(1.0, std::abs(hi) * 1e-3);
    }
    Scaling s{0, 0, dig_min, dig_max, edf_number(lo, true), edf_number(hi, false)};
    if (s.phys_min_text.empty() || s.phys_max_text.empty())
      return make_error(ErrorCode::unsupported, file, 0,
                        "channel " + rec.channel_names[c] + " exceeds the 8-character EDF physical range");
    // Quantise with exactly the numbers a reader will see in the header.
    s.phys_min = std::strtod(s.phys_min_text.c_str(), nullptr);
    s.phys_max = std::strtod(s.phys_max_text.c_str(), nullptr);
    sc.push_back(std::move(s));
  }
  // EDF+ keeps named labels as annotations (what other EDF readers show); unnamed ids and BDF use a channel.
  const bool label_channel = labels && (bdf || rec.label_names.empty());
  std::vector<std::vector<std::string>> tals(n_rec);  // annotation TALs per data record (EDF+ only)
  std::size_t ann_samples = kAnnotationSamples;
  if (!bdf) {
    std::vector<Event> events = rec.annotations;
    if (labels && !label_channel)
      for (auto& e : events_from_labels(rec)) events.push_back(std::move(e));
    const double rec_s = static_cast<double>(spr) / rec.sample_rate_hz;
    std::vector<std::size_t> bytes(n_rec, 24);  // the time-keeping TAL: "+<onset>\x14\x14\0"
    for (const auto& e : events) {
      if (!std::isfinite(e.onset_s) || !std::isfinite(e.duration_s) || e.onset_s < 0 || e.duration_s < 0)
        return make_error(ErrorCode::invalid_argument, file, 0, "annotation '" + e.label + "' has a bad onset or duration");
      std::string text = e.label;
      for (char& ch : text)
        if (ch == '\x14' || ch == '\x15' || ch == '\0') ch = ' ';  // TAL separators cannot appear in a text
      std::string tal = "+" + tal_number(e.onset_s);
      if (e.duration_s > 0) tal += "\x15" + tal_number(e.duration_s);
      tal += "\x14" + text + "\x14";
      tal += '\0';
      const auto k = std::min<std::size_t>(n_rec - 1, static_cast<std::size_t>(std::floor(e.onset_s / rec_s + 1e-9)));
      bytes[k] += tal.size();
      tals[k].push_back(std::move(tal));
    }
    for (std::size_t b : bytes) ann_samples = std::max(ann_samples, (b + 1) / 2);
    if (ann_samples > 99999999 / 2)
      return make_error(ErrorCode::unsupported, file, 0, "too many annotations in one data record");
  }
  if (label_channel) {
    const auto [mn, mx] = std::minmax_element(rec.sample_labels.begin(), rec.sample_labels.end());
    const double lo = *mn, hi = std::max<double>(*mx, *mn + 1);  // digital range must not be empty
    if (lo < dig_min || hi > dig_max)
      return make_error(ErrorCode::unsupported, file, 0, "sample labels exceed the digital range");
    // Physical == digital: the class ids round-trip exactly.
    sc.push_back(Scaling{lo, hi, lo, hi, std::to_string(static_cast<long>(lo)), std::to_string(static_cast<long>(hi))});
  }
  const std::size_t n_sig = sc.size() + (bdf ? 0 : 1);  // + the EDF+ annotation signal

  // ---- header ----
  std::string h;
  if (bdf) {
    h += '\xff';
    put_field(h, "BIOSEMI", 7);
  } else {
    put_field(h, "0", 8);
  }
  std::string patient = rec.subject_id.empty() ? "X" : rec.subject_id;
  std::replace(patient.begin(), patient.end(), ' ', '_');
  put_field(h, patient + " X X X", 80);  // EDF+: code sex birthdate name
  std::string admin = rec.label.empty() ? "X" : rec.label;
  std::replace(admin.begin(), admin.end(), ' ', '_');
  // The start (UTC) when the recording knows it; else the EDF+ convention for "not recorded".
  std::string startdate = "X", date = "01.01.85", clock = "00.00.00";
  if (rec.start_utc_ms) {
    const std::time_t t = static_cast<std::time_t>(*rec.start_utc_ms / 1000);
    std::tm tm{};
    if (::gmtime_r(&t, &tm) && tm.tm_year + 1900 >= 1985 && tm.tm_year + 1900 <= 2084) {
      static const char* const kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
      char b[32];
      std::snprintf(b, sizeof b, "%02d-%s-%04d", tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900);
      startdate = b;
      std::snprintf(b, sizeof b, "%02d.%02d.%02d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year % 100);
      date = b;
      std::snprintf(b, sizeof b, "%02d.%02d.%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
      clock = b;
    }
  }
  put_field(h, "Startdate " + startdate + " " + admin + " X myoexo", 80);  // EDF+: startdate admin technician equipment
  put_field(h, date, 8);
  put_field(h, clock, 8);
  put_field(h, std::to_string(256 * (n_sig + 1)), 8);
  put_field(h, bdf ? "24BIT" : "EDF+C", 44);
  put_field(h, std::to_string(n_rec), 8);
  put_field(h, duration, 8);
  put_field(h, std::to_string(n_sig), 4);

  auto for_signals = [&](auto&& field) {
    for (std::size_t c = 0; c < sc.size(); ++c) field(c, false);
    if (!bdf) field(sc.size(), true);
  };
  for_signals([&](std::size_t c, bool ann) {
    put_field(h, ann ? "EDF Annotations" : (c < n_ch ? rec.channel_names[c] : kLabelChannel), 16);
  });
  for_signals([&](std::size_t, bool) { put_field(h, "", 80); });  // transducer
  for_signals([&](std::size_t c, bool ann) {
    put_field(h, (ann || c >= n_ch || rec.channel_units.size() != n_ch) ? "" : rec.channel_units[c], 8);
  });
  for_signals([&](std::size_t c, bool ann) { put_field(h, ann ? "-1" : sc[c].phys_min_text, 8); });
  for_signals([&](std::size_t c, bool ann) { put_field(h, ann ? "1" : sc[c].phys_max_text, 8); });
  for_signals([&](std::size_t c, bool ann) {
    put_field(h, ann ? "-32768" : std::to_string(static_cast<long>(sc[c].dig_min)), 8);
  });
  for_signals([&](std::size_t c, bool ann) {
    put_field(h, ann ? "32767" : std::to_string(static_cast<long>(sc[c].dig_max)), 8);
  });
  for_signals([&](std::size_t, bool) { put_field(h, "", 80); });  // prefiltering
  for_signals([&](std::size_t, bool ann) { put_field(h, std::to_string(ann ? ann_samples : spr), 8); });
  for_signals([&](std::size_t, bool) { put_field(h, "", 32); });

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(ErrorCode::io, file, 0, "cannot open for writing");
  out.write(h.data(), static_cast<std::streamsize>(h.size()));

  // ---- data records ----
  const int bytes = bdf ? 3 : 2;
  std::string r;
  const double dur_s = std::strtod(duration.c_str(), nullptr);
  const auto dot = duration.find('.');
  const int dur_decimals = dot == std::string::npos ? 0 : static_cast<int>(duration.size() - dot - 1);
  for (std::size_t k = 0; k < n_rec; ++k) {
    r.clear();
    for (std::size_t c = 0; c < sc.size(); ++c) {
      const Scaling& s = sc[c];
      const double gain = (s.dig_max - s.dig_min) / (s.phys_max - s.phys_min);
      for (std::size_t i = k * spr; i < (k + 1) * spr; ++i) {
        const double x = c < n_ch ? rec.samples[c * n + i] : static_cast<double>(rec.sample_labels[i]);
        double d = std::round((x - s.phys_min) * gain + s.dig_min);
        d = std::clamp(d, s.dig_min, s.dig_max);
        put_le(r, static_cast<long>(d), bytes);
      }
    }
    if (!bdf) {  // EDF+ time-keeping annotation: "+<onset>\x14\x14\0", zero padded
      // Onsets are whole multiples of the duration, printed with its decimals so they stay exact.
      char tal[64];
      const int len = std::snprintf(tal, sizeof tal, "+%.*f", dur_decimals, static_cast<double>(k) * dur_s);
      std::string a(tal, static_cast<std::size_t>(std::max(0, len)));
      if (a.find('.') != std::string::npos) {
        while (a.back() == '0') a.pop_back();
        if (a.back() == '.') a.pop_back();
      }
      a += "\x14\x14";
      a += '\0';
      for (const auto& tal : tals[k]) a += tal;
      a.resize(2 * ann_samples, '\0');
      r += a;
    }
    out.write(r.data(), static_cast<std::streamsize>(r.size()));
  }
  out.flush();
  if (!out) return make_error(ErrorCode::io, file, 0, "write failed (disk full?)");
  return {};
}

// The header's start date and time (dd.mm.yy, hh.mm.ss; EDF+ gives the four-digit year in "Startdate dd-MMM-yyyy"),
// taken as UTC (this program writes UTC). Unset when the EDF+ field says "Startdate X" (not recorded) or a field
// is not a date.
static std::optional<std::int64_t> edf_start_utc_ms(const std::string& head) {
  if (head.size() < 184) return std::nullopt;
  const std::string recording = head.substr(88, 80);
  if (recording.rfind("Startdate X", 0) == 0) return std::nullopt;
  int d = 0, mo = 0, y = 0, hh = 0, mi = 0, ss = 0;
  if (std::sscanf(head.substr(168, 8).c_str(), "%2d.%2d.%2d", &d, &mo, &y) != 3 ||
      std::sscanf(head.substr(176, 8).c_str(), "%2d.%2d.%2d", &hh, &mi, &ss) != 3)
    return std::nullopt;
  int year = y >= 85 ? 1900 + y : 2000 + y;
  int full_year = 0;
  char month[4] = {0};
  int day = 0;
  if (std::sscanf(recording.c_str(), "Startdate %2d-%3[A-Za-z]-%4d", &day, month, &full_year) == 3) year = full_year;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = hh;
  tm.tm_min = mi;
  tm.tm_sec = ss;
  const std::time_t t = ::timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::int64_t(t) * 1000;
}

Result<Recording> read_edf(const std::filesystem::path& path) {
  const std::string file = path.string();
  // Check what we can before handing the file to biosig: it is a C library with global error state, and
  // giving it an arbitrary file is the wrong place to discover that the path is a folder.
  std::string head;
  {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (ec || !fs::exists(st)) return make_error(ErrorCode::io, file, 0, "no such file");
    if (!fs::is_regular_file(st)) return make_error(ErrorCode::io, file, 0, "not a regular file");
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(ErrorCode::io, file, 0, "cannot open for reading");
    head.resize(256);
    in.read(head.data(), 256);
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (head.size() < 256) return make_error(ErrorCode::parse, file, 0, "shorter than an EDF header (256 bytes)");
    if (head.compare(0, 8, "0       ") != 0 && head.compare(0, 8, "\xff" "BIOSEMI") != 0)
      return make_error(ErrorCode::parse, file, 0, "not an EDF/BDF file (version field)");
    const long ns = std::strtol(head.substr(252, 4).c_str(), nullptr, 10);
    if (ns <= 0 || ns > 4096) return make_error(ErrorCode::parse, file, 0, "EDF header: bad signal count");
    head.resize(256 * static_cast<std::size_t>(ns + 1));
    in.read(head.data() + 256, static_cast<std::streamsize>(256 * ns));
    if (in.gcount() != static_cast<std::streamsize>(256 * ns))
      return make_error(ErrorCode::parse, file, 0, "EDF header truncated");
  }
  const std::size_t ns_raw = (head.size() / 256) - 1;

  // A recording cut short (recorder crash, partial copy) keeps its header's record count, and biosig 2.5
  // reads past a heap buffer when it scans the EDF+ annotations of such a file (AddressSanitizer found it).
  // So the complete records are copied to a temporary file whose header states their true number, and
  // biosig reads that: nothing recorded is lost, and biosig only ever sees consistent files.
  std::vector<std::string> warnings;
  std::vector<Event> annotations;  // EDF+ annotations with text
  TempFile temp;
  std::string open_name = file;
  {
    const bool bdf_bytes = head.compare(0, 8, "\xff" "BIOSEMI") == 0;
    std::size_t record_bytes = 0;
    // biosig returns every signal at the common rate: spr_common (the least common multiple of the signals'
    // samples per record) rows per record. Rates that are not multiples of each other (997, 1009, 1013) make that
    // a billion rows from a few kilobytes of file, so it is bounded before biosig allocates anything.
    constexpr std::uint64_t kMaxCommonSpr = std::uint64_t{1} << 24;
    std::uint64_t spr_common = 1;
    std::size_t n_signals = 0;
    for (std::size_t k = 0; k < ns_raw; ++k) {
      const long spr_k = std::strtol(head.substr(256 + ns_raw * 216 + k * 8, 8).c_str(), nullptr, 10);
      if (spr_k < 0 || spr_k > (1L << 24)) return make_error(ErrorCode::parse, file, 0, "EDF header: bad samples per record");
      record_bytes += static_cast<std::size_t>(spr_k) * (bdf_bytes ? 3 : 2);
      const std::string label = trim_copy(head.data() + 256 + k * 16, 16);
      if (spr_k == 0 || detail::istarts_with(label, "EDF Annotations") || detail::istarts_with(label, "BDF Annotations"))
        continue;
      ++n_signals;
      spr_common = std::lcm(spr_common, static_cast<std::uint64_t>(spr_k));  // both <= 2^24: no overflow
      if (spr_common > kMaxCommonSpr)
        return make_error(ErrorCode::unsupported, file, 0,
                          "EDF header: the signals' samples per record have no common rate within 2^24 samples per "
                          "record (signal " + std::to_string(k + 1) + ", " + std::to_string(spr_k) +
                              " samples per record): every signal would be resampled to it");
    }
    if (record_bytes == 0) return make_error(ErrorCode::parse, file, 0, "EDF header: records hold no samples");
    const long declared = std::strtol(head.substr(236, 8).c_str(), nullptr, 10);  // -1: unknown (still recording)
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return make_error(ErrorCode::io, file, 0, "cannot stat: " + ec.message());
    const std::size_t fits = static_cast<std::size_t>((size - head.size()) / record_bytes);
    if (fits == 0) return make_error(ErrorCode::empty, file, 0, "EDF file holds no complete data record");
    {
      // What biosig will hand back (rows x signals doubles, and the recording's copy of them): refused beyond
      // 2^31 values (16 GiB) with the reason, instead of a process killed for memory.
      const std::uint64_t n_read = declared < 0 ? fits : std::min<std::uint64_t>(fits, std::uint64_t(declared));
      const long double values = static_cast<long double>(spr_common) * n_read * std::max<std::size_t>(n_signals, 1);
      if (values > static_cast<long double>(std::uint64_t{1} << 31))
        return make_error(ErrorCode::unsupported, file, 0,
                          "EDF file would read as " + std::to_string(static_cast<std::uint64_t>(values)) +
                              " values at the signals' common rate (" + std::to_string(spr_common) +
                              " samples per record): more than this reader holds in memory (2^31)");
    }
    if (!bdf_bytes) {
      const std::size_t n_records = declared < 0 ? fits : std::min(fits, static_cast<std::size_t>(declared));
      auto ann = read_edf_annotations(path, head, n_records, record_bytes);
      if (!ann) return ann.error();
      annotations = std::move(*ann);
    }
    if (declared < 0 || static_cast<std::size_t>(declared) > fits) {
      if (declared >= 0)
        warnings.push_back("file holds " + std::to_string(fits) + " of " + std::to_string(declared) +
                           " data records declared in its header (truncated)");
      auto made = make_repaired_copy(path, head, fits, record_bytes, bdf_bytes ? ".bdf" : ".edf", temp);
      if (!made.ok()) return made.error();
      open_name = temp.path;
    }
  }

  HDRTYPE* hdr = constructHDR(0, 0);
  if (!hdr) return make_error(ErrorCode::io, file, 0, "biosig: out of memory");
  hdr->FLAG.OVERFLOWDETECTION = 0;  // values at the digital limits are data, not NaN
  hdr->FLAG.UCAL = 0;               // physical units
  hdr = sopen(open_name.c_str(), "r", hdr);
  struct Closer {
    HDRTYPE* h;
    ~Closer() {
      if (h) {
        sclose(h);
        destructHDR(h);
      }
    }
  } closer{hdr};
  if (!hdr) return make_error(ErrorCode::io, file, 0, "biosig could not open the file");
  if (biosig_check_error(hdr)) {
    char* msg = biosig_get_errormsg(hdr);
    std::string m = msg ? msg : "unknown biosig error";
    std::free(msg);
    return make_error(ErrorCode::parse, file, 0, "biosig: " + m);
  }
  const auto type = biosig_get_filetype(hdr);
  if (type != ::EDF && type != ::BDF)
    return make_error(ErrorCode::unsupported, file, 0, "biosig reads this as another format than EDF/BDF");

  Recording rec;
  rec.source_path = path;
  rec.warnings = std::move(warnings);
  rec.start_utc_ms = edf_start_utc_ms(head);
  rec.sample_rate_hz = biosig_get_samplerate(hdr);
  if (!(std::isfinite(rec.sample_rate_hz) && rec.sample_rate_hz > 0))
    return make_error(ErrorCode::parse, file, 0, "EDF header gives no usable sample rate");

  const long ns = biosig_get_number_of_channels(hdr);
  std::vector<int> role;  // per biosig channel: -1 off, 0 signal, 1 label
  for (long k = 0; k < ns; ++k) {
    CHANNEL_TYPE* ch = biosig_get_channel(hdr, static_cast<int>(k));
    const char* raw_label = biosig_channel_get_label(ch);
    const std::string label = raw_label ? std::string(detail::trim(raw_label)) : std::string();
    const bool annotations = detail::istarts_with(label, "EDF Annotations") ||
                             detail::istarts_with(label, "BDF Annotations") || ch->SPR == 0;
    if (annotations) {
      ch->OnOff = 0;
      role.push_back(-1);
      continue;
    }
    ch->OnOff = 1;
    if (label == kLabelChannel) {
      role.push_back(1);
      continue;
    }
    role.push_back(0);
    rec.channel_names.push_back(label);
    std::string unit = biosig_channel_get_physdim(ch) ? biosig_channel_get_physdim(ch) : "";
    if ((unit == "?" || unit.empty()) && static_cast<std::size_t>(k) < ns_raw) {
      // biosig knows only ISO 11073 units; the header's own 8 characters keep e.g. "deg".
      unit = trim_copy(head.data() + 256 + ns_raw * 96 + static_cast<std::size_t>(k) * 8, 8);
    }
    if (unit == "?") unit.clear();
    rec.channel_units.push_back(unit);
    if (std::abs(biosig_get_channel_samplerate(hdr, static_cast<int>(k)) - rec.sample_rate_hz) >
        1e-9 * rec.sample_rate_hz)
      rec.warnings.push_back("channel " + label + " is sampled below " + std::to_string(rec.sample_rate_hz) +
                             " Hz; biosig repeated its samples to the common rate");
  }
  if (rec.channel_names.empty()) return make_error(ErrorCode::empty, file, 0, "EDF file holds no signal channel");

  hdr->FLAG.ROW_BASED_CHANNELS = 0;  // block[c * rows + i]: channel-major, like Recording
  const size_t n_rec = biosig_get_number_of_records(hdr);
  const size_t got = sread(nullptr, 0, n_rec, hdr);
  if (biosig_check_error(hdr)) {
    char* msg = biosig_get_errormsg(hdr);
    std::string m = msg ? msg : "unknown biosig error";
    std::free(msg);
    return make_error(ErrorCode::parse, file, 0, "biosig: " + m);
  }
  biosig_data_type* block = nullptr;
  size_t rows = 0, cols = 0;
  biosig_get_datablock(hdr, &block, &rows, &cols);
  const std::size_t n_on = static_cast<std::size_t>(std::count_if(role.begin(), role.end(), [](int r) { return r >= 0; }));
  if (got == 0 || !block || rows == 0) return make_error(ErrorCode::empty, file, 0, "EDF file holds no data records");
  if (cols != n_on)
    return make_error(ErrorCode::mismatch, file, 0, "biosig returned " + std::to_string(cols) + " channels, expected " +
                                                        std::to_string(n_on));

  const std::size_t n_ch = rec.channel_names.size();
  rec.n_samples = rows;
  rec.samples.resize(n_ch * rows);
  std::size_t col = 0, out_c = 0;
  for (int r : role) {
    if (r < 0) continue;
    const double* src = block + col * rows;
    if (r == 0) {
      for (std::size_t i = 0; i < rows; ++i) {
        if (!std::isfinite(src[i]))
          return make_error(ErrorCode::parse, file, 0, "non-finite sample in channel " + rec.channel_names[out_c]);
        rec.samples[out_c * rows + i] = src[i];
      }
      ++out_c;
    } else {
      rec.sample_labels.resize(rows);
      for (std::size_t i = 0; i < rows; ++i)
        rec.sample_labels[i] = std::isfinite(src[i]) ? static_cast<int>(std::lround(src[i])) : 0;
    }
    ++col;
  }
  // Our writer keeps the subject in the EDF+ patient code and the per-file label in the admin code.
  const std::string pid = trim_copy(head.data() + 8, 80);
  if (auto sp = pid.find(' '); sp != std::string::npos && pid.substr(0, sp) != "X") rec.subject_id = pid.substr(0, sp);
  const std::string rid = trim_copy(head.data() + 88, 80);
  if (detail::istarts_with(rid, "Startdate ")) {
    // "Startdate <date> <admin> <technician> <equipment>"
    std::vector<std::string> tok;
    std::size_t i = 0;
    while (i < rid.size()) {
      const auto j = rid.find(' ', i);
      tok.push_back(rid.substr(i, j == std::string::npos ? std::string::npos : j - i));
      if (j == std::string::npos) break;
      i = j + 1;
    }
    if (tok.size() >= 5 && tok[4] == "myoexo" && tok[2] != "X") rec.label = tok[2];
  }
  // EDF+ annotations: intervals are class labels (unless a label channel already gave them), instants are notes.
  {
    std::vector<Event> intervals;
    for (auto& e : annotations) (e.duration_s > 0 ? intervals : rec.annotations).push_back(std::move(e));
    if (!intervals.empty() && rec.sample_labels.empty())
      if (auto s = apply_events(rec, intervals, file); !s) return s.error();
  }
  return rec;
}

}  // namespace myoexo::io
