// myoexo::realtime — Recorder: writes a live session to disk as it arrives, losing no sample that reached
// the host intact, and flushing periodically so that a crash loses at most the last flush interval.
//
// Format: CSV is always written incrementally (header `time_s,<channel>...`, one row per frame, the stream
// time of each frame first so gaps are visible; `nan` for non-finite samples) and io::read_csv reads it
// back. When the output path ends in .edf/.bdf the CSV goes to `<path>.partial.csv` while recording and
// finish() converts it with io::write_recording (EDF+ has no gaps: intact frames are written back to back and
// each gap is an EDF+ annotation at the place it happened; labels given with set_labels become EDF+ annotations
// too), then removes the partial file. A crash leaves the partial CSV.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/recording.hpp"

namespace myoexo::realtime {

struct RecorderOptions {
  double flush_interval_s = 1.0;  ///< wall-clock seconds between flushes to the OS (> 0)
  bool sync_to_disk = false;      ///< also fdatasync at each flush (survives power loss, costs latency)
  std::string subject;            ///< written to the EDF+ header's patient code ("" = unknown)
};

class Recorder {
 public:
  /// Creates (truncates) the output. channel_units may be empty or one per channel. Errors: io (cannot
  /// create the file), invalid_argument (no channels, rate <= 0, bad extension, bad flush interval).
  static Result<Recorder> create(const std::filesystem::path& path, std::vector<std::string> channel_names,
                                 std::vector<std::string> channel_units, double sample_rate_hz,
                                 const RecorderOptions& options = {});

  Recorder(Recorder&&) noexcept;
  Recorder& operator=(Recorder&&) noexcept;
  ~Recorder();  ///< finish()es if still open (errors then ignored)

  /// Appends interleaved frames ([frames x channels]); frame j is stamped first_sample_s + j / rate.
  /// Flushes when the flush interval has passed. Error io on a write failure.
  Status append(std::span<const double> frames, double first_sample_s);
  /// Pushes buffered rows to the OS now (and to disk if sync_to_disk).
  Status flush();
  /// A note on the file's time line (onset in seconds of recorded samples, e.g. "gap: 120 samples lost"), kept as
  /// an EDF+ annotation by the conversion (a CSV output has nowhere to keep it).
  void annotate(io::Event note) { notes_.push_back(std::move(note)); }
  /// Labelled intervals (onsets in seconds of recorded samples) the EDF+ conversion writes as annotations.
  void set_labels(std::vector<io::Event> labels) { labels_ = std::move(labels); }
  /// Seconds of samples written so far: where a note about "now" goes on the file's time line.
  double written_s() const noexcept { return double(frames_written_) / rate_hz_; }
  /// Flushes, closes and (for .edf/.bdf) converts. Idempotent.
  Status finish();

  std::uint64_t frames_written() const noexcept { return frames_written_; }
  std::uint64_t flushes() const noexcept { return flushes_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  /// The file being appended to now (the CSV, or the partial CSV of an EDF output).
  const std::filesystem::path& csv_path() const noexcept { return csv_path_; }

 private:
  Recorder() = default;
  std::filesystem::path path_, csv_path_;
  std::vector<std::string> names_, units_;
  double rate_hz_ = 0.0;
  RecorderOptions options_;
  std::FILE* file_ = nullptr;
  bool convert_edf_ = false;
  std::int64_t last_flush_ns_ = 0;
  std::int64_t start_utc_ms_ = 0;  // wall clock at create(): the recording's start in the EDF+ header
  std::uint64_t frames_written_ = 0;
  std::uint64_t flushes_ = 0;
  std::vector<char> line_;  // one formatted row
  std::vector<io::Event> notes_, labels_;
};

}  // namespace myoexo::realtime
