// myoexo::io — internal helpers shared by the text readers (not part of the public API).
//
// Why a hand-rolled line cursor and std::from_chars instead of iostreams: a 69 s lower-limb file is 2.4 MB
// of numbers and must parse in a few ms; from_chars is locale-free, allocation-free and reports exactly
// where a token stops (so `7.5V` is caught rather than silently read as 7.5).
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "core/error.hpp"
#include "io/recording.hpp"

namespace myoexo::io::detail {

/// Longest line any text reader accepts. Real rows are < 200 bytes; a longer line is not a row of numbers
/// but a wrong file (or an attack), and refusing it bounds the work a header split can cause.
inline constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;

/// Largest file the readers load into memory (the biggest real recording is 3.9 MB).
inline constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t{1} << 30;

/// How many skipped line numbers a Recording keeps (Recording::skipped_lines).
inline constexpr std::size_t kMaxSkippedLinesKept = 100;

/// Splits text into lines ending in "\n", "\r\n" or a lone "\r"; the terminator is not part of the line.
/// A final line without terminator is returned too; text ending in a terminator yields no extra empty line.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) noexcept : p_(text.data()), end_(text.data() + text.size()) {}

  /// Next line (1-based number in line_number()); false at the end of the text.
  bool next(std::string_view& line) noexcept {
    if (p_ >= end_) return false;
    const std::size_t rem = static_cast<std::size_t>(end_ - p_);
    const char* nl = static_cast<const char*>(std::memchr(p_, '\n', rem));
    const std::size_t span = nl ? static_cast<std::size_t>(nl - p_) : rem;
    const char* cr = static_cast<const char*>(std::memchr(p_, '\r', span));
    const char* stop;
    const char* resume;
    if (cr) {
      stop = cr;
      resume = (cr + 1 < end_ && cr[1] == '\n') ? cr + 2 : cr + 1;
    } else {
      stop = p_ + span;
      resume = nl ? nl + 1 : end_;
    }
    line = std::string_view(p_, static_cast<std::size_t>(stop - p_));
    p_ = resume;
    ++line_no_;
    return true;
  }
  std::size_t line_number() const noexcept { return line_no_; }
  std::size_t bytes_left() const noexcept { return static_cast<std::size_t>(end_ - p_); }

 private:
  const char* p_;
  const char* end_;
  std::size_t line_no_ = 0;
};

inline bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (is_space(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

inline bool is_blank(std::string_view s) noexcept { return trim(s).empty(); }

inline char to_lower_ascii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower_ascii(c);
  return out;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower_ascii(a[i]) != to_lower_ascii(b[i])) return false;
  return true;
}

inline bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

/// True when the line holds a byte no text file of ours contains (control characters other than tab).
inline bool has_binary(std::string_view s) noexcept {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t') return true;
    if (u == 0x7f) return true;
  }
  return false;
}

/// Parses the longest number at the start of [p, e) like std::from_chars(general) and returns the
/// pointer past it, or nullptr when there is no number or it is not finite. A leading '+' is accepted
/// (from_chars does not). NaN/Inf are rejected: no sensor produces them and they would poison every
/// filter downstream.
///
/// Why not just from_chars: libstdc++ 12's double from_chars measured ~100 ns per token here, a third of
/// the budget for a 69 s lower-limb file. Decimal tokens of <= 19 significant digits and |exponent| <= 22
/// take Clinger's exact fast path (mantissa and 10^k are exact doubles, so one IEEE multiply or divide is
/// correctly rounded: the result is bit-identical to from_chars); everything else falls back to from_chars.
inline const char* parse_number_prefix(const char* p, const char* e, double& out) noexcept {
  static constexpr double kPow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const char* start = p;
  if (p < e && *p == '+') {
    ++p;
    if (p == e || *p == '-' || *p == '+') return nullptr;
    start = p;
  }
  auto slow = [&]() -> const char* {
    auto [ptr, ec] = std::from_chars(start, e, out, std::chars_format::general);
    if (ec != std::errc{} || !std::isfinite(out)) return nullptr;
    return ptr;
  };
  bool neg = false;
  if (p < e && *p == '-') {
    neg = true;
    ++p;
  }
  std::uint64_t m = 0;
  int nd = 0, frac = 0;
  bool any = false;
  for (; p < e && static_cast<unsigned>(*p - '0') < 10u; ++p) {
    if (nd >= 19) return slow();
    m = m * 10 + static_cast<unsigned>(*p - '0');
    nd += m != 0;
    any = true;
  }
  if (p < e && *p == '.') {
    ++p;
    for (; p < e && static_cast<unsigned>(*p - '0') < 10u; ++p) {
      if (nd >= 19) return slow();
      m = m * 10 + static_cast<unsigned>(*p - '0');
      nd += m != 0;
      ++frac;
      any = true;
    }
  }
  if (!any) return slow();  // "nan", "inf", ".", "" ... : from_chars decides (and finiteness rejects)
  int ex = 0;
  if (p < e && (*p == 'e' || *p == 'E')) {
    const char* q = p + 1;
    bool eneg = false;
    if (q < e && (*q == '+' || *q == '-')) {
      eneg = *q == '-';
      ++q;
    }
    if (q < e && static_cast<unsigned>(*q - '0') < 10u) {
      for (; q < e && static_cast<unsigned>(*q - '0') < 10u; ++q)
        if (ex < 100000) ex = ex * 10 + (*q - '0');
      ex = eneg ? -ex : ex;
      p = q;
    }  // else "1e" / "1e+": the number ends before the 'e', as in from_chars
  }
  const int e10 = ex - frac;
  if (m <= (std::uint64_t{1} << 53) && e10 >= -22 && e10 <= 22) {
    double v = static_cast<double>(m);
    v = e10 < 0 ? v / kPow10[-e10] : v * kPow10[e10];
    out = neg ? -v : v;
    return p;
  }
  return slow();
}

/// Parses a whole token as a finite double: no surrounding junk ("7.5V" fails), no NaN/Inf.
inline bool parse_finite(std::string_view tok, double& out) noexcept {
  if (tok.empty()) return false;
  const char* e = tok.data() + tok.size();
  return parse_number_prefix(tok.data(), e, out) == e;
}

/// Parses a whole token as an int (a decimal integer, optionally written "3.0").
inline bool parse_int(std::string_view tok, int& out) noexcept {
  if (tok.empty()) return false;
  auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), out);
  if (ec == std::errc{} && ptr == tok.data() + tok.size()) return true;
  double d = 0;
  if (!parse_finite(tok, d) || d != std::floor(d) || d < -2147483648.0 || d > 2147483647.0) return false;
  out = static_cast<int>(d);
  return true;
}

/// Records a skipped row (count and the first kMaxSkippedLinesKept line numbers).
inline void note_skipped(Recording& rec, std::size_t line_no) {
  ++rec.rows_skipped;
  if (rec.skipped_lines.size() < kMaxSkippedLinesKept) rec.skipped_lines.push_back(line_no);
}

/// Reads a whole file as bytes. Errors (ErrorCode::io, line 0): missing, a directory, unreadable, too big.
Result<std::string> read_file_bytes(const std::filesystem::path& path);

/// Error for a line over kMaxLineBytes.
inline Error line_too_long(const std::string& file, std::size_t line_no, std::size_t bytes) {
  return make_error(ErrorCode::parse, file, line_no,
                    "line is " + std::to_string(bytes) + " bytes long (limit " + std::to_string(kMaxLineBytes) +
                        "): not a row of samples");
}

/// Shortest decimal text that reads back to exactly `v` (std::to_chars round-trip guarantee).
inline void append_double(std::string& out, double v) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec == std::errc{}) out.append(buf, ptr);
}

/// The CSV writer behind write_csv (',') and write_recording for .tsv ('\t'): a `time_s` column, the channels
/// ("name [unit]") and a `label` column when the recording has per-sample labels.
Status write_delimited(const Recording& rec, const std::filesystem::path& path, char delim);

/// Removes a UTF-8 byte-order mark.
inline std::string_view strip_bom(std::string_view s) noexcept {
  if (s.size() >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  return s;
}

}  // namespace myoexo::io::detail
