#include "realtime/cue_protocol.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "realtime/toml_file.hpp"

namespace myoexo::realtime {

namespace {

std::size_t line_of(const toml::node& n) { return std::size_t(n.source().begin.line); }

Status number_at_least(const toml::node& node, const std::string& file, const std::string& key, double min, bool strict,
                       double& out) {
  // At most a day: a recording session is hours, and larger values would overflow the schedule's sample counts.
  constexpr double kMaxSeconds = 86400.0;
  const auto v = node.value<double>();
  if (!v || !std::isfinite(*v) || (strict ? !(*v > min) : !(*v >= min)) || *v > kMaxSeconds)
    return make_error(ErrorCode::invalid_argument, file, line_of(node),
                      "'" + key + "' must be a number " + (strict ? "> " : ">= ") + std::to_string(int(min)) +
                          " and <= 86400 (seconds)");
  out = *v;
  return {};
}

}  // namespace

Result<CueProtocol> load_cue_protocol(const std::filesystem::path& path) {
  const std::string file = path.string();
  auto parsed = detail::parse_toml_file(path);
  if (!parsed) return parsed.error();
  const toml::table& t = *parsed;
  CueProtocol p;
  bool any_movement = false;
  for (const auto& [k, node] : t) {
    const std::string key(k.str());
    if (key == "lead_in_s") {
      if (auto s = number_at_least(node, file, key, 0, false, p.lead_in_s); !s) return s.error();
    } else if (key == "rest_s") {
      if (auto s = number_at_least(node, file, key, 0, false, p.rest_s); !s) return s.error();
    } else if (key == "randomise") {
      if (!node.is_boolean()) return make_error(ErrorCode::parse, file, line_of(node), "'randomise' must be true or false");
      p.randomise = *node.value<bool>();
    } else if (key == "seed") {
      const auto v = node.value<std::int64_t>();
      if (!node.is_integer() || !v || *v < 0)
        return make_error(ErrorCode::invalid_argument, file, line_of(node), "'seed' must be an integer >= 0");
      p.seed = std::uint64_t(*v);
    } else if (key == "movement") {
      const toml::array* arr = node.as_array();
      if (!arr || !arr->is_array_of_tables())
        return make_error(ErrorCode::parse, file, line_of(node), "'movement' must be [[movement]] tables");
      any_movement = true;
      for (const toml::node& mn : *arr) {
        const toml::table& mt = *mn.as_table();
        CueMovement m;
        bool named = false;
        for (const auto& [mk, mv] : mt) {
          const std::string mkey(mk.str());
          if (mkey == "name" || mkey == "prompt") {
            const auto s = mv.value<std::string>();
            if (!mv.is_string() || !s || s->empty())
              return make_error(ErrorCode::parse, file, line_of(mv), "'" + mkey + "' must be a non-empty string");
            // A name becomes a field of the BIDS _events.tsv and an EDF+ annotation: no tab, line break or other
            // control character, and not BIDS's "n/a" (a missing value), or the recording would not read back.
            const auto control = [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; };
            if (std::any_of(s->begin(), s->end(), control) || (mkey == "name" && *s == "n/a"))
              return make_error(ErrorCode::invalid_argument, file, line_of(mv),
                                "'" + mkey + "' must not hold a tab, a line break or another control character" +
                                    (mkey == "name" ? std::string(", nor be \"n/a\"") : std::string()));
            (mkey == "name" ? m.name : m.prompt) = *s;
            named |= mkey == "name";
          } else if (mkey == "repetitions") {
            const auto v = mv.value<std::int64_t>();
            if (!mv.is_integer() || !v || *v < 1 || *v > 10000)
              return make_error(ErrorCode::invalid_argument, file, line_of(mv), "'repetitions' must be an integer in [1, 10000]");
            m.repetitions = std::size_t(*v);
          } else if (mkey == "duration_s") {
            if (auto s = number_at_least(mv, file, mkey, 0, true, m.duration_s); !s) return s.error();
          } else {
            return make_error(ErrorCode::parse, file, line_of(mv),
                              "unknown key '" + mkey + "' in [[movement]] (known: name, prompt, repetitions, duration_s)");
          }
        }
        if (!named) return make_error(ErrorCode::parse, file, line_of(mn), "a [[movement]] needs a name");
        if (m.name == kRestLabel)
          return make_error(ErrorCode::invalid_argument, file, line_of(mn), "'rest' is the label between movements");
        if (std::any_of(p.movements.begin(), p.movements.end(), [&](const CueMovement& o) { return o.name == m.name; }))
          return make_error(ErrorCode::invalid_argument, file, line_of(mn), "movement '" + m.name + "' is listed twice");
        if (m.prompt.empty()) m.prompt = m.name;
        p.movements.push_back(std::move(m));
      }
    } else {
      return make_error(ErrorCode::parse, file, line_of(node),
                        "unknown key '" + key + "' (known: lead_in_s, rest_s, randomise, seed, [[movement]])");
    }
  }
  if (!any_movement || p.movements.empty())
    return make_error(ErrorCode::invalid_argument, file, 0, "the protocol has no [[movement]]");
  return p;
}

std::vector<Cue> cue_schedule(const CueProtocol& protocol) {
  std::vector<Cue> out;
  double t = 0.0;
  auto add = [&](double d, const std::string& label, const std::string& prompt) {
    if (!(d > 0)) return;
    out.push_back({t, d, label, prompt});
    t += d;
  };
  add(protocol.lead_in_s, kRestLabel, "rest");
  std::mt19937_64 rng(protocol.seed);
  std::size_t rounds = 0;
  for (const auto& m : protocol.movements) rounds = std::max(rounds, m.repetitions);
  for (std::size_t r = 0; r < rounds; ++r) {
    std::vector<const CueMovement*> round;
    for (const auto& m : protocol.movements)
      if (r < m.repetitions) round.push_back(&m);
    if (protocol.randomise) std::shuffle(round.begin(), round.end(), rng);
    for (const CueMovement* m : round) {
      add(m->duration_s, m->name, m->prompt);
      add(protocol.rest_s, kRestLabel, "rest");
    }
  }
  return out;
}

double cue_schedule_end_s(const std::vector<Cue>& schedule) noexcept {
  return schedule.empty() ? 0.0 : schedule.back().onset_s + schedule.back().duration_s;
}

std::size_t cue_at(const std::vector<Cue>& schedule, double t_s) noexcept {
  // The first cue that has not ended by t_s (cues are back to back and sorted).
  const auto it = std::upper_bound(schedule.begin(), schedule.end(), t_s,
                                   [](double t, const Cue& c) { return t < c.onset_s + c.duration_s; });
  return std::size_t(it - schedule.begin());
}

std::vector<io::Event> cue_label_events(const std::vector<Cue>& schedule, double end_s,
                                        const std::function<double(double)>& to_file_s) {
  std::vector<io::Event> events;
  for (const auto& c : schedule) {
    if (c.onset_s >= end_s) break;
    const double stop = std::min(c.onset_s + c.duration_s, end_s);
    const double a = std::max(0.0, to_file_s ? to_file_s(c.onset_s) : c.onset_s);
    const double b = to_file_s ? to_file_s(stop) : stop;
    if (b > a) events.push_back({a, b - a, c.label});
  }
  return events;
}

CueRecording::CueRecording(std::vector<Cue> schedule)
    : schedule_(std::move(schedule)), length_s_(cue_schedule_end_s(schedule_)) {}

CueRecording::Chunk CueRecording::add_chunk(double first_sample_s, std::size_t frames, double rate_hz) {
  Chunk out;
  if (!started_) {
    started_ = true;
    t0_ = next_s_ = first_sample_s;
  }
  if (finished() || !(rate_hz > 0)) return out;
  double start = next_s_;
  if (first_sample_s > next_s_ + 0.5 / rate_hz) {  // frames lost before this chunk
    out.lost_s = first_sample_s - next_s_;
    gaps_.emplace_back(next_s_ - t0_, first_sample_s - t0_);
    start = first_sample_s;
  }
  // Frames past the protocol's end are not the recording's.
  const double left_s = t0_ + length_s_ - start;
  out.keep = std::min(frames, std::size_t(std::max(0.0, std::ceil(left_s * rate_hz - 1e-9))));
  next_s_ = start + double(out.keep) / rate_hz;
  return out;
}

double CueRecording::file_s(double schedule_s) const noexcept {
  double lost = 0.0;
  for (const auto& [a, b] : gaps_) {
    if (schedule_s >= b) lost += b - a;
    else if (schedule_s > a) return a - lost;  // inside the gap: where it is in the file
    else break;
  }
  return schedule_s - lost;
}

std::vector<io::Event> CueRecording::labels() const {
  return cue_label_events(schedule_, elapsed_s(), [this](double t) { return file_s(t); });
}

}  // namespace myoexo::realtime
