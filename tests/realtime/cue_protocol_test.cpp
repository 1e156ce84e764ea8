// Cue protocols: the schedule a person follows while a labelled session is recorded, and the files that say it.
#include "realtime/cue_protocol.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
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

TEST(CueProtocol, ARecordingRunsTheProtocolAcrossGapsAndEndsWithIt) {
  // 1 s rest, 2 s "lift", 1 s rest, 2 s "lower", 1 s rest: 7 s. Chunks of 50 frames at 1 kHz, as a board's.
  auto p = load_cue_protocol(write("rec", "lead_in_s = 1\nrest_s = 1\nrandomise = false\n"
                                          "[[movement]]\nname = \"lift\"\nrepetitions = 1\nduration_s = 2\n"
                                          "[[movement]]\nname = \"lower\"\nrepetitions = 1\nduration_s = 2\n"));
  ASSERT_TRUE(p) << p.error().message();
  CueRecording rec(cue_schedule(*p));
  EXPECT_FALSE(rec.started());
  const double fs = 1000.0, t0 = 12.345;  // the stream had been running before Record
  std::size_t kept = 0;
  double lost = 0;
  double t = t0;
  int chunks = 0;
  while (!rec.finished() && chunks < 1000) {
    if (std::abs(t - (t0 + 2.5)) < 1e-9) t += 0.3;   // 300 frames lost inside "lift" (2.5-2.8 s)
    if (std::abs(t - (t0 + 3.95)) < 1e-9) t += 0.1;  // 100 frames lost across rest -> "lower" at 4 s (3.95-4.05 s)
    const auto c = rec.add_chunk(t, 50, fs);
    kept += c.keep;
    lost += c.lost_s;
    t += 0.05;
    ++chunks;
  }
  ASSERT_TRUE(rec.finished());
  EXPECT_NEAR(lost, 0.4, 1e-9);
  EXPECT_EQ(kept, 6600u) << "7 s of schedule, 0.4 s of it lost: the file holds 6.6 s, none past the end";
  EXPECT_EQ(rec.current(), rec.schedule().size());
  EXPECT_EQ(rec.add_chunk(t, 50, fs).keep, 0u) << "after the end nothing more is the recording's";
  const auto labels = rec.labels();
  ASSERT_EQ(labels.size(), 5u);
  const char* names[] = {"rest", "lift", "rest", "lower", "rest"};
  // On the file's time line: lift (1-3 s) loses 0.3 s; the gap at 3.95-4.05 s takes 0.05 s of the rest before
  // "lower" and 0.05 s of "lower", which starts where the gap is in the file.
  const double onsets[] = {0.0, 1.0, 2.7, 3.65, 5.6}, durations[] = {1.0, 1.7, 0.95, 1.95, 1.0};
  double total = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(labels[i].label, names[i]);
    EXPECT_NEAR(labels[i].onset_s, onsets[i], 1e-9) << i;
    EXPECT_NEAR(labels[i].duration_s, durations[i], 1e-9) << i;
    total += labels[i].duration_s;
  }
  EXPECT_NEAR(total, kept / fs, 1e-9) << "the labels cover the file exactly";
  // A time inside a gap maps to where the gap is in the file; time going backwards makes no negative gap.
  EXPECT_NEAR(rec.file_s(2.6), 2.5, 1e-12);
  EXPECT_NEAR(rec.file_s(4.0), 3.65, 1e-12);
  CueRecording back(cue_schedule(*p));
  (void)back.add_chunk(5.0, 50, fs);
  const auto c = back.add_chunk(4.0, 50, fs);
  EXPECT_EQ(c.lost_s, 0.0);
  EXPECT_EQ(c.keep, 50u);
  EXPECT_NEAR(back.elapsed_s(), 0.1, 1e-12);
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
      // A name is a field of the events sidecar and an annotation: a tab or a line break would make the recording
      // unreadable, "n/a" is BIDS's missing value; a day is the longest cue.
      {"[[movement]]\nname = \"leg\\tlift\"\n", "control character", 2},
      {"[[movement]]\nname = \"leg\\nlift\"\n", "control character", 2},
      {"[[movement]]\nname = \"n/a\"\n", "nor be \"n/a\"", 2},
      {"[[movement]]\nname = \"a\"\nduration_s = 1e20\n", "<= 86400", 3},
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
