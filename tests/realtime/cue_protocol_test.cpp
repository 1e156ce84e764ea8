// Cue protocols: the schedule a person follows while a labelled session is recorded, and the files that say it.
#include "realtime/cue_protocol.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace myoexo::realtime {
namespace {

namespace fs = std::filesystem;

fs::path write(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("myoexo_cues_" + std::to_string(::getpid()) + "_" + name + ".toml");
  std::ofstream(p) << text;
  return p;
}

const char* kTwoMovements =
    "lead_in_s = 2\nrest_s = 1\nrandomise = true\nseed = 7\n"
    "[[movement]]\nname = \"leg lift\"\nprompt = \"Lift the leg\"\nrepetitions = 3\nduration_s = 2\n"
    "[[movement]]\nname = \"leg descent\"\nrepetitions = 2\nduration_s = 1.5\n";

TEST(CueProtocol, ScheduleIsBackToBackWithRestAfterEveryMovement) {
  auto p = load_cue_protocol(write("two", kTwoMovements));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->movements[1].prompt, "leg descent") << "the prompt defaults to the name";
  const auto s = cue_schedule(*p);
  // lead-in + (3 lifts + 2 descents) each followed by a rest.
  ASSERT_EQ(s.size(), 1u + 2u * 5u);
  EXPECT_EQ(s[0].label, kRestLabel);
  EXPECT_DOUBLE_EQ(s[0].duration_s, 2.0);
  std::map<std::string, int> count;
  double t = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    EXPECT_DOUBLE_EQ(s[i].onset_s, t) << i;
    t += s[i].duration_s;
    ++count[s[i].label];
    if (i > 0 && s[i].label != kRestLabel) EXPECT_EQ(s[i + 1].label, kRestLabel) << "rest after every movement";
  }
  EXPECT_EQ(count["leg lift"], 3);
  EXPECT_EQ(count["leg descent"], 2);
  EXPECT_DOUBLE_EQ(cue_schedule_end_s(s), 2 + 3 * 2 + 2 * 1.5 + 5 * 1);
  // The same seed gives the same order; the last round holds only the movement with more repetitions.
  const auto again = cue_schedule(*p);
  for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i].label, again[i].label);
  EXPECT_EQ(s[s.size() - 2].label, "leg lift");
}

TEST(CueProtocol, TheCueInForceAndTheLabelsOnAFilesTimeLine) {
  auto p = load_cue_protocol(write("labels", kTwoMovements));
  ASSERT_TRUE(p) << p.error().message();
  const auto s = cue_schedule(*p);
  EXPECT_EQ(cue_at(s, -1.0), 0u);
  EXPECT_EQ(cue_at(s, 0.0), 0u);
  EXPECT_EQ(cue_at(s, 1.999), 0u);
  EXPECT_EQ(cue_at(s, 2.0), 1u) << "a cue starts at its onset";
  EXPECT_EQ(cue_at(s, s[5].onset_s + 0.01), 5u);
  EXPECT_EQ(cue_at(s, cue_schedule_end_s(s)), s.size()) << "after the end: none";
  // Cut at 3 s (lead-in 2 s, then 1 s of the first movement): two intervals, the second cut short.
  auto e = cue_label_events(s, 3.0);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].label, kRestLabel);
  EXPECT_DOUBLE_EQ(e[1].onset_s, 2.0);
  EXPECT_DOUBLE_EQ(e[1].duration_s, 1.0);
  EXPECT_EQ(e[1].label, s[1].label);
  // The whole schedule covers its length; a time line that lost 0.5 s in a gap at 2.5 s is shorter by that much.
  const double end = cue_schedule_end_s(s);
  double total = 0;
  for (const auto& ev : cue_label_events(s, end)) total += ev.duration_s;
  EXPECT_NEAR(total, end, 1e-9);
  const auto lost = [](double t) { return t >= 2.5 ? t - 0.5 : std::min(t, 2.5); };
  total = 0;
  for (const auto& ev : cue_label_events(s, end, lost)) total += ev.duration_s;
  EXPECT_NEAR(total, end - 0.5, 1e-9);
}

TEST(CueProtocol, BadFilesAreErrorsNamingFileAndLine) {
  struct Case {
    const char* text;
    const char* says;
    std::size_t line;
  };
  const Case cases[] = {
      {"lead_in_s = 1\ncolour = 3\n[[movement]]\nname = \"a\"\n", "unknown key 'colour'", 2},
      {"[[movement]]\nname = \"a\"\nduration_s = 0\n", "'duration_s' must be a number > 0", 3},
      {"[[movement]]\nname = \"a\"\nduration_s = -2\n", "'duration_s' must be a number > 0", 3},
      {"rest_s = -1\n[[movement]]\nname = \"a\"\n", "'rest_s' must be a number >= 0", 1},
      {"[[movement]]\nname = \"a\"\nrepetitions = 0\n", "'repetitions' must be an integer", 3},
      {"[[movement]]\nname = \"a\"\nspeed = 2\n", "unknown key 'speed' in [[movement]]", 3},
      {"[[movement]]\nname = \"rest\"\n", "'rest' is the label between movements", 1},
      {"[[movement]]\nname = \"a\"\n[[movement]]\nname = \"a\"\n", "listed twice", 3},
      {"lead_in_s = 1\n", "no [[movement]]", 0},
      {"lead_in_s = = 1\n", "", 1},
  };
  int i = 0;
  for (const Case& c : cases) {
    const fs::path f = write("bad" + std::to_string(i++), c.text);
    auto p = load_cue_protocol(f);
    ASSERT_FALSE(p) << c.text;
    EXPECT_NE(p.error().message().find(c.says), std::string::npos) << p.error().message();
    EXPECT_EQ(p.error().line, c.line) << p.error().message();
    EXPECT_EQ(p.error().file, f.string());
  }
}

}  // namespace
}  // namespace myoexo::realtime
