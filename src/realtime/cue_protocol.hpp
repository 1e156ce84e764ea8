// myoexo::realtime — a cue protocol: which movements a person is asked to make while a session is recorded, how
// often, for how long, with rest between, in a fixed or shuffled order. `myoexo record --cues FILE` prompts each
// cue when its stream time comes and labels every sample with the cue it fell in, so a new person's recording is a
// training set.
//
// File (TOML):
//   lead_in_s = 5          # rest before the first movement (>= 0)
//   rest_s = 4             # rest after each movement (>= 0)
//   randomise = true       # shuffle the movements within each round (round k = the k-th repetition of each)
//   seed = 1               # of the shuffle
//   [[movement]]
//   name = "leg lift"      # the label of its samples (not "rest")
//   prompt = "Lift the straight leg"   # optional: what the terminal says (default: the name)
//   repetitions = 5        # >= 1
//   duration_s = 3         # > 0
// Unknown keys, durations <= 0, repetitions < 1, a movement named "rest" or twice are errors naming file and line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "io/recording.hpp"

namespace myoexo::realtime {

/// The label of the samples between movements.
inline constexpr const char* kRestLabel = "rest";

struct CueMovement {
  std::string name;    ///< label of the samples
  std::string prompt;  ///< what the person is told (default: name)
  std::size_t repetitions = 1;
  double duration_s = 3.0;
};

struct CueProtocol {
  double lead_in_s = 5.0;
  double rest_s = 4.0;
  bool randomise = true;
  std::uint64_t seed = 1;
  std::vector<CueMovement> movements;
};

/// One interval of the schedule: a movement or a rest.
struct Cue {
  double onset_s = 0.0;  ///< stream time it starts
  double duration_s = 0.0;
  std::string label;     ///< a movement's name or kRestLabel
  std::string prompt;
};

/// Reads and checks a protocol file (see above). Errors: io, parse (syntax, unknown keys, types), invalid_argument
/// (values), each naming the file and line.
Result<CueProtocol> load_cue_protocol(const std::filesystem::path& path);

/// The whole session from stream time 0: the lead-in rest, then each movement cue followed by its rest, back to
/// back (rests of 0 s left out). Deterministic for a given protocol (the shuffle uses its seed).
std::vector<Cue> cue_schedule(const CueProtocol& protocol);

/// The stream time the schedule ends.
double cue_schedule_end_s(const std::vector<Cue>& schedule) noexcept;

/// The index of the cue in force at stream time `t_s` (schedule.size() once it has ended; 0 before it starts).
std::size_t cue_at(const std::vector<Cue>& schedule, double t_s) noexcept;

/// The schedule's cues up to stream time `end_s` as labelled intervals on a file's time line (what the EDF+
/// annotations and the BIDS _events.tsv hold): `to_file_s` maps a stream time to the file's (none = the same:
/// the file holds the stream from time 0 without gaps). Intervals that come to nothing on the file are left out.
std::vector<io::Event> cue_label_events(const std::vector<Cue>& schedule, double end_s,
                                        const std::function<double(double)>& to_file_s = {});

/// A recording that runs a cue protocol from its first sample (the console's guided recording): which frames of each
/// chunk belong to it (the protocol's end ends it), the stream's gaps (time the file does not hold), the cue in force
/// and the labels on the file's time line. Times: "schedule time" = stream time since the recording's first sample.
class CueRecording {
 public:
  explicit CueRecording(std::vector<Cue> schedule);

  struct Chunk {
    std::size_t keep = 0;      ///< the first `keep` frames belong to the recording (the rest is past its end)
    double lost_s = 0.0;       ///< stream time lost just before this chunk (> 0: a gap to annotate in the file)
  };
  /// The next chunk that reached the host: `frames` frames from stream time `first_sample_s` at `rate_hz`. The first
  /// call starts the protocol. A chunk that starts before the previous one ended (time going backwards) is kept
  /// where the file is (no negative gap).
  Chunk add_chunk(double first_sample_s, std::size_t frames, double rate_hz);

  bool started() const noexcept { return started_; }
  /// The protocol's end has been recorded.
  bool finished() const noexcept { return started_ && elapsed_s() >= length_s_ - 1e-9; }
  /// Schedule time reached (the end of the last frame kept).
  double elapsed_s() const noexcept { return started_ ? next_s_ - t0_ : 0.0; }
  /// The cue in force now (schedule().size() once finished).
  std::size_t current() const noexcept { return cue_at(schedule_, elapsed_s()); }
  const std::vector<Cue>& schedule() const noexcept { return schedule_; }
  double length_s() const noexcept { return length_s_; }
  /// A schedule time on the file's time line: the time lost in earlier gaps taken out; inside a gap, where the gap
  /// is in the file.
  double file_s(double schedule_s) const noexcept;
  /// The cues recorded so far as labelled intervals on the file's time line.
  std::vector<io::Event> labels() const;

 private:
  std::vector<Cue> schedule_;
  double length_s_ = 0.0;
  bool started_ = false;
  double t0_ = 0.0, next_s_ = 0.0;
  std::vector<std::pair<double, double>> gaps_;  // [start, end) in schedule time
};

}  // namespace myoexo::realtime
