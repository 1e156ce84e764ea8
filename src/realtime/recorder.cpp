#include "realtime/recorder.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <utility>

#include "io/io.hpp"
#include "realtime/timing.hpp"

namespace myoexo::realtime {

namespace {
std::string lower_ext(const std::filesystem::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}

void append_double(std::vector<char>& line, double v) {
  if (!std::isfinite(v)) {
    const char* s = std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
    line.insert(line.end(), s, s + std::char_traits<char>::length(s));
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest text that round-trips
  line.insert(line.end(), buf, r.ptr);
}
}  // namespace

Result<Recorder> Recorder::create(const std::filesystem::path& path, std::vector<std::string> channel_names,
                                  std::vector<std::string> channel_units, double sample_rate_hz,
                                  const RecorderOptions& options) {
  if (channel_names.empty()) return make_error(ErrorCode::invalid_argument, path.string(), 0, "recorder: no channels");
  if (!channel_units.empty() && channel_units.size() != channel_names.size())
    return make_error(ErrorCode::invalid_argument, path.string(), 0, "recorder: one unit per channel expected");
  if (!(sample_rate_hz > 0) || !std::isfinite(sample_rate_hz))
    return make_error(ErrorCode::invalid_argument, path.string(), 0, "recorder: sample_rate_hz must be > 0");
  if (!(options.flush_interval_s > 0))
    return make_error(ErrorCode::invalid_argument, path.string(), 0, "recorder: flush_interval_s must be > 0");
  const std::string ext = lower_ext(path);
  Recorder r;
  r.path_ = path;
  if (ext == ".edf" || ext == ".bdf") {
    r.convert_edf_ = true;
    r.csv_path_ = path;
    r.csv_path_ += ".partial.csv";
  } else if (ext == ".csv" || ext == ".txt" || ext.empty()) {
    r.csv_path_ = path;
  } else {
    return make_error(ErrorCode::invalid_argument, path.string(), 0,
                      "recorder: extension must be .csv, .edf or .bdf, got '" + ext + "'");
  }
  r.names_ = std::move(channel_names);
  r.units_ = std::move(channel_units);
  if (r.units_.empty()) r.units_.assign(r.names_.size(), "");
  r.rate_hz_ = sample_rate_hz;
  r.options_ = options;
  r.file_ = std::fopen(r.csv_path_.c_str(), "wb");
  if (!r.file_) return make_error(ErrorCode::io, r.csv_path_.string(), 0, "recorder: cannot create file");
  std::string header = "time_s";
  // "name [unit]", as the CSV reader takes it back: a replay of the file knows what its numbers are.
  for (std::size_t c = 0; c < r.names_.size(); ++c)
    header += "," + r.names_[c] + (r.units_[c].empty() ? std::string() : " [" + r.units_[c] + "]");
  header += "\n";
  if (std::fwrite(header.data(), 1, header.size(), r.file_) != header.size())
    return make_error(ErrorCode::io, r.csv_path_.string(), 0, "recorder: write failed");
  r.line_.reserve(32 * (r.names_.size() + 1));
  r.last_flush_ns_ = steady_now_ns();
  r.start_utc_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  return r;
}

Recorder::Recorder(Recorder&& o) noexcept { *this = std::move(o); }

Recorder& Recorder::operator=(Recorder&& o) noexcept {
  if (this != &o) {
    if (file_) (void)finish();
    path_ = std::move(o.path_);
    csv_path_ = std::move(o.csv_path_);
    names_ = std::move(o.names_);
    units_ = std::move(o.units_);
    rate_hz_ = o.rate_hz_;
    options_ = o.options_;
    file_ = std::exchange(o.file_, nullptr);
    convert_edf_ = o.convert_edf_;
    last_flush_ns_ = o.last_flush_ns_;
    start_utc_ms_ = o.start_utc_ms_;
    frames_written_ = o.frames_written_;
    flushes_ = o.flushes_;
    line_ = std::move(o.line_);
    notes_ = std::move(o.notes_);
    labels_ = std::move(o.labels_);
  }
  return *this;
}

Recorder::~Recorder() {
  if (file_) (void)finish();
}

Status Recorder::append(std::span<const double> frames, double first_sample_s) {
  if (!file_) return make_error(ErrorCode::io, csv_path_.string(), 0, "recorder: already finished");
  const std::size_t nch = names_.size();
  const std::size_t n = frames.size() / nch;
  for (std::size_t j = 0; j < n; ++j) {
    line_.clear();
    append_double(line_, first_sample_s + static_cast<double>(j) / rate_hz_);
    for (std::size_t c = 0; c < nch; ++c) {
      line_.push_back(',');
      append_double(line_, frames[j * nch + c]);
    }
    line_.push_back('\n');
    if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size())
      return make_error(ErrorCode::io, csv_path_.string(), 0, "recorder: write failed (disk full?)");
    ++frames_written_;
  }
  if (static_cast<double>(steady_now_ns() - last_flush_ns_) * 1e-9 >= options_.flush_interval_s) return flush();
  return {};
}

Status Recorder::flush() {
  if (!file_) return {};
  if (std::fflush(file_) != 0) return make_error(ErrorCode::io, csv_path_.string(), 0, "recorder: flush failed");
  if (options_.sync_to_disk) (void)::fdatasync(::fileno(file_));
  last_flush_ns_ = steady_now_ns();
  ++flushes_;
  return {};
}

Status Recorder::finish() {
  if (!file_) return {};
  Status s = flush();
  if (std::fclose(file_) != 0 && s) s = make_error(ErrorCode::io, csv_path_.string(), 0, "recorder: close failed");
  file_ = nullptr;
  if (!s || !convert_edf_) return s;

  io::CsvOptions opt;
  opt.sample_rate_hz = rate_hz_;
  opt.time_column = "time_s";
  auto rec = io::read_csv(csv_path_, opt);
  if (!rec) return rec.error();
  rec->channel_units = units_;
  rec->sample_rate_hz = rate_hz_;
  rec->subject_id = options_.subject;
  rec->start_utc_ms = start_utc_ms_;  // the EDF+ header's start date and time
  rec->annotations = notes_;
  // Labels that do not fit the recording must not cost the recording: it is written unlabelled and the error
  // says why.
  Status labelled;
  if (!labels_.empty()) {
    labelled = io::apply_events(*rec, labels_, path_.string());
    if (!labelled) {
      rec->sample_labels.clear();
      rec->label_names.clear();
    }
  }
  Status w = io::write_recording(*rec, path_);
  if (!w) return w;
  std::error_code ec;
  std::filesystem::remove(csv_path_, ec);
  if (!labelled)
    return make_error(ErrorCode::invalid_argument, path_.string(), 0,
                      "written without its labels: " + labelled.error().message());
  return {};
}

}  // namespace myoexo::realtime
