// XDF (Lab Streaming Layer's file format, what LabRecorder writes), read by hand with pugixml for the XML headers.
//
// Why not Debian's libxdf (0.99.8): on a valid file it reads past its own heap buffers (strlen on an unterminated
// chunk copy, seen under AddressSanitizer), stores every sample as float, and has no error path for a damaged file.
// The format is small: "XDF:" then chunks [length-of-length byte, length, tag u16, content]; this reader checks
// every length against what is left before it reads, so any byte string is either a recording or an Error.
#include <pugixml.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string_view>

#include "io/io.hpp"
#include "io/text.hpp"

namespace myoexo::io {

namespace {

// The XDF sample formats that carry numbers, with their sizes.
std::size_t value_bytes(std::string_view format) {
  if (format == "float32" || format == "int32") return 4;
  if (format == "double64" || format == "int64") return 8;
  if (format == "int16") return 2;
  if (format == "int8") return 1;
  return 0;  // "string" or unknown
}

double read_value(const std::uint8_t* p, std::string_view format) {
  if (format == "float32") {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  if (format == "double64") {
    double v;
    std::memcpy(&v, p, 8);
    return v;
  }
  if (format == "int32") {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  if (format == "int64") {
    std::int64_t v;
    std::memcpy(&v, p, 8);
    return double(v);
  }
  if (format == "int16") {
    std::int16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  std::int8_t v;
  std::memcpy(&v, p, 1);
  return v;
}

// The unit names LSL applications write, in the names this program uses.
std::string canonical_unit(std::string u) {
  std::string l = detail::lower(u);
  if (l == "microvolts" || l == "microvolt" || l == "uv" || u == "\xC2\xB5V" || u == "\xCE\xBCV") return "uV";
  if (l == "millivolts" || l == "millivolt" || l == "mv") return "mV";
  if (l == "volts" || l == "volt" || l == "v") return "V";
  if (l == "degrees" || l == "degree" || l == "deg") return "deg";
  return u;
}

struct Stream {
  std::uint32_t id = 0;
  std::string name, type, format;
  std::size_t channels = 0;
  double srate = 0.0;
  std::vector<std::string> labels, units;
  std::vector<double> values;      // numeric: [samples x channels]
  std::vector<std::string> texts;  // string: one per sample (first channel)
  std::vector<double> stamps;      // one per sample
  double last_stamp = std::nan("");
  std::size_t samples() const { return stamps.size(); }
};

// A bounds-checked cursor over the file's bytes.
class Cursor {
 public:
  Cursor(const std::uint8_t* p, std::size_t n) : p_(p), end_(p + n) {}
  std::size_t left() const { return std::size_t(end_ - p_); }
  bool take(void* out, std::size_t n) {
    if (left() < n) return false;
    std::memcpy(out, p_, n);
    p_ += n;
    return true;
  }
  bool skip(std::size_t n) {
    if (left() < n) return false;
    p_ += n;
    return true;
  }
  const std::uint8_t* here() const { return p_; }
  // A variable-length count: one byte saying 1, 4 or 8, then the count in that many bytes.
  bool varlen(std::uint64_t& v) {
    std::uint8_t nb = 0;
    if (!take(&nb, 1)) return false;
    v = 0;
    if (nb == 1) {
      std::uint8_t x;
      if (!take(&x, 1)) return false;
      v = x;
    } else if (nb == 4) {
      std::uint32_t x;
      if (!take(&x, 4)) return false;
      v = x;
    } else if (nb == 8) {
      if (!take(&v, 8)) return false;
    } else {
      return false;
    }
    return true;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace

Result<Recording> parse_xdf(std::string_view bytes, const std::string& name) {
  auto bad = [&](std::size_t offset, const std::string& why) {
    return make_error(ErrorCode::parse, name, 0, "byte " + std::to_string(offset) + ": " + why);
  };
  const auto* base = reinterpret_cast<const std::uint8_t*>(bytes.data());
  if (bytes.size() < 4 || bytes.substr(0, 4) != "XDF:") return bad(0, "not an XDF file (no \"XDF:\" at the start)");
  Cursor file(base + 4, bytes.size() - 4);
  std::map<std::uint32_t, Stream> streams;
  std::vector<std::uint32_t> order;  // streams in header order
  std::size_t chunks = 0;
  while (file.left() > 0) {
    const std::size_t at = std::size_t(file.here() - base);
    std::uint64_t length = 0;
    if (!file.varlen(length)) return bad(at, "a chunk's length is cut short or has a bad length size");
    std::uint16_t tag = 0;
    if (length < 2 || length - 2 > file.left() - std::min<std::size_t>(file.left(), 2) || !file.take(&tag, 2))
      return bad(at, "a chunk of " + std::to_string(length) + " bytes runs past the end of the file");
    Cursor c(file.here(), std::size_t(length - 2));
    file.skip(std::size_t(length - 2));
    ++chunks;
    if (tag == 1 || tag == 5 || tag == 4) continue;  // file header, boundary, clock offset (not applied: see io.hpp)
    std::uint32_t id = 0;
    if (tag == 2 || tag == 3 || tag == 6) {
      if (!c.take(&id, 4)) return bad(at, "a stream chunk without its stream id");
    } else {
      continue;  // unknown tags are skipped, as the format says
    }
    if (tag == 2) {
      if (streams.count(id)) return bad(at, "stream " + std::to_string(id) + " has two headers");
      pugi::xml_document doc;
      if (!doc.load_buffer(c.here(), c.left()))
        return bad(at, "the header of stream " + std::to_string(id) + " is not XML");
      const pugi::xml_node info = doc.child("info");
      Stream s;
      s.id = id;
      s.name = info.child_value("name");
      s.type = info.child_value("type");
      s.format = info.child_value("channel_format");
      const long long nch = std::atoll(info.child_value("channel_count"));
      s.srate = std::atof(info.child_value("nominal_srate"));
      if (nch < 1 || nch > 4096) return bad(at, "stream " + std::to_string(id) + " has " + std::to_string(nch) + " channels");
      if (!std::isfinite(s.srate) || s.srate < 0 || s.srate > 1e6)
        return bad(at, "stream " + std::to_string(id) + " has a nominal rate of " + info.child_value("nominal_srate"));
      if (value_bytes(s.format) == 0 && s.format != "string")
        return bad(at, "stream " + std::to_string(id) + " has channel format '" + s.format + "'");
      s.channels = std::size_t(nch);
      for (pugi::xml_node ch : info.child("desc").child("channels").children("channel")) {
        s.labels.emplace_back(ch.child_value("label"));
        s.units.push_back(canonical_unit(ch.child_value("unit")));
      }
      s.labels.resize(s.channels);
      s.units.resize(s.channels);
      for (std::size_t k = 0; k < s.channels; ++k)
        if (s.labels[k].empty()) s.labels[k] = "ch" + std::to_string(k + 1);
      order.push_back(id);
      streams.emplace(id, std::move(s));
      continue;
    }
    if (tag == 6) continue;  // footer: counts the header already allows us to check
    auto it = streams.find(id);
    if (it == streams.end()) return bad(at, "samples of stream " + std::to_string(id) + " before its header");
    Stream& s = it->second;
    std::uint64_t n = 0;
    if (!c.varlen(n)) return bad(at, "a samples chunk without its sample count");
    const std::size_t vb = value_bytes(s.format);
    // Each sample needs at least its time-stamp byte and its values: a count the chunk cannot hold is refused
    // before anything is sized from it.
    const std::size_t min_sample = 1 + (vb ? vb * s.channels : s.channels * 2);
    if (n > c.left() / min_sample) return bad(at, std::to_string(n) + " samples cannot fit in the chunk");
    for (std::uint64_t k = 0; k < n; ++k) {
      std::uint8_t stamp_bytes = 0;
      if (!c.take(&stamp_bytes, 1)) return bad(at, "a sample is cut short");
      double stamp = 0;
      if (stamp_bytes == 8) {
        if (!c.take(&stamp, 8)) return bad(at, "a sample's time stamp is cut short");
        if (!std::isfinite(stamp)) return bad(at, "a sample's time stamp is not a number");
      } else if (stamp_bytes == 0) {
        if (std::isnan(s.last_stamp)) return bad(at, "the first sample of stream " + std::to_string(id) + " has no time stamp");
        stamp = s.last_stamp + (s.srate > 0 ? 1.0 / s.srate : 0.0);
      } else {
        return bad(at, "a time stamp of " + std::to_string(stamp_bytes) + " bytes (0 or 8 expected)");
      }
      s.last_stamp = stamp;
      s.stamps.push_back(stamp);
      if (vb) {
        if (c.left() < vb * s.channels) return bad(at, "a sample's values are cut short");
        for (std::size_t ch = 0; ch < s.channels; ++ch) {
          const double v = read_value(c.here() + ch * vb, s.format);
          if (!std::isfinite(v))
            return bad(at, "stream '" + s.name + "': sample " + std::to_string(s.samples() - 1) + " of channel " +
                               s.labels.at(ch) + " is not a finite number");
          s.values.push_back(v);
        }
        c.skip(vb * s.channels);
      } else {
        for (std::size_t ch = 0; ch < s.channels; ++ch) {
          std::uint64_t len = 0;
          if (!c.varlen(len) || len > c.left()) return bad(at, "a string sample is cut short");
          if (ch == 0) s.texts.emplace_back(reinterpret_cast<const char*>(c.here()), std::size_t(len));
          c.skip(std::size_t(len));
        }
      }
    }
  }

  // The EMG: the first numeric stream of type EMG, else the only numeric stream with a rate.
  const Stream* emg = nullptr;
  std::size_t numeric = 0;
  for (std::uint32_t id : order) {
    const Stream& s = streams.at(id);
    if (value_bytes(s.format) == 0 || s.srate <= 0) continue;
    ++numeric;
    if (!emg && detail::lower(s.type) == "emg") emg = &s;
  }
  if (!emg && numeric == 1)
    for (std::uint32_t id : order)
      if (value_bytes(streams.at(id).format) && streams.at(id).srate > 0) emg = &streams.at(id);
  if (!emg)
    return make_error(numeric == 0 ? ErrorCode::empty : ErrorCode::invalid_argument, name, 0,
                      numeric == 0 ? "no numeric stream with a sampling rate (" + std::to_string(streams.size()) +
                                         " streams, " + std::to_string(chunks) + " chunks)"
                                   : std::to_string(numeric) + " numeric streams and none of type EMG: cannot tell "
                                                               "which is the EMG");
  if (emg->samples() == 0) return make_error(ErrorCode::empty, name, 0, "the EMG stream '" + emg->name + "' has no samples");

  Recording rec;
  rec.source_path = name;
  rec.sample_rate_hz = emg->srate;
  rec.channel_names = emg->labels;
  rec.channel_units = emg->units;
  rec.n_samples = emg->samples();
  rec.samples.resize(emg->channels * rec.n_samples);
  for (std::size_t i = 0; i < rec.n_samples; ++i)
    for (std::size_t c = 0; c < emg->channels; ++c) rec.samples[c * rec.n_samples + i] = emg->values[i * emg->channels + c];
  // Lost samples are not invented: a jump in the time stamps is reported.
  const double t0 = emg->stamps.front(), step = 1.0 / emg->srate;
  std::size_t gaps = 0;
  for (std::size_t i = 1; i < emg->stamps.size(); ++i)
    if (const double jump = emg->stamps[i] - emg->stamps[i - 1]; !(jump <= 1.5 * step)) {
      if (++gaps > 10) continue;
      // A damaged time stamp can be infinite or absurd: the count is only spelled out when it is a count.
      const double missing = jump / step - 1.0;
      rec.warnings.push_back("stream '" + emg->name + "': " +
                             (std::isfinite(missing) && missing < 1e12
                                  ? std::to_string(static_cast<long long>(std::llround(missing))) + " samples missing"
                                  : std::string("time stamps jump by an implausible amount")) +
                             " at " + std::to_string(emg->stamps[i - 1] - t0) + " s (kept contiguous)");
    }
  if (gaps > 10) rec.warnings.push_back(std::to_string(gaps) + " gaps in the EMG stream's time stamps in all");
  // Markers (string streams): annotations at their time on the EMG's time line.
  for (std::uint32_t id : order) {
    const Stream& s = streams.at(id);
    if (s.format != "string") continue;
    for (std::size_t k = 0; k < s.texts.size(); ++k) {
      const double onset = s.stamps[k] - t0;
      if (!(onset >= 0 && onset <= rec.duration_s())) continue;  // NaN stamps land here too
      rec.annotations.push_back(Event{onset, 0.0, s.texts[k]});
    }
  }
  std::sort(rec.annotations.begin(), rec.annotations.end(),
            [](const Event& a, const Event& b) { return a.onset_s < b.onset_s; });
  return rec;
}

Result<Recording> read_xdf(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::io, path.string(), 0, "cannot be opened");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto rec = parse_xdf(bytes, path.string());
  if (rec) rec->source_path = path;
  return rec;
}

}  // namespace myoexo::io
