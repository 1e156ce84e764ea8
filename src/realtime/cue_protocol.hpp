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

}  // namespace myoexo::realtime
