// Reading a finished run's logs back for the console's review mode: what a person scrubbing the run must be able
// to trust (every hold and stop is kept when ticks are decimated; a cut-short last line is left out and counted;
// a malformed line is refused with its file and line).
#include "console/review.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace myoexo::console {
namespace {

namespace fs = std::filesystem;

const char* kHeader =
    "time_s,intent,confidence,active_intent,supervisor_mode,hip_desired_deg,knee_desired_deg,hip_setpoint_deg,"
    "knee_setpoint_deg,hip_deg,knee_deg,hip_torque_nm,knee_torque_nm,sensor_faults,safety_events,decision_delay_ms,"
    "knee_reference_deg\n";

std::string row(double t, const char* mode, const char* active = "rest", double knee = 5.0) {
  char b[256];
  std::snprintf(b, sizeof b, "%.4f,rest,0.0000,%s,%s,0,0,0,%.4f,0,%.4f,0.1,-0.1,0,0,,\n", t, active, mode, knee, knee);
  return b;
}

TEST(RunReview, DecimationKeepsEveryModeChange) {
  std::string log = kHeader;
  for (int i = 0; i < 10000; ++i) log += row(i * 0.001, i == 5003 ? "hold" : "normal");  // a one-tick hold
  auto j = parse_run_log(log, "run_log.csv", 1000);
  ASSERT_TRUE(j) << j.error().message();
  EXPECT_EQ((*j)["tick_stride"].get<std::size_t>(), 10u);
  EXPECT_EQ((*j)["ticks_in_log"].get<std::size_t>(), 10000u);
  const auto& modes = (*j)["ticks"]["mode"];
  const auto& t = (*j)["ticks"]["t"];
  std::size_t holds = 0;
  for (std::size_t i = 0; i < modes.size(); ++i)
    if (modes[i] == "hold") {
      ++holds;
      EXPECT_NEAR(t[i].get<double>(), 5.003, 1e-9);
    }
  EXPECT_EQ(holds, 1u) << "the one-tick hold survives decimation";
  EXPECT_LE(modes.size(), 1003u);
  for (std::size_t i = 1; i < t.size(); ++i) EXPECT_LT(t[i - 1].get<double>(), t[i].get<double>());
  EXPECT_TRUE((*j)["ticks"]["knee_ref"].is_null()) << "no recorded knee in this log";
}

TEST(RunReview, ACutShortLastLineIsLeftOutAndCounted) {
  std::string log = std::string(kHeader) + row(0.0, "hold") + row(0.002, "normal") + "0.0040,rest,0.00";
  auto j = parse_run_log(log, "run_log.csv", 0);
  ASSERT_TRUE(j) << j.error().message();
  EXPECT_EQ((*j)["ticks"]["t"].size(), 2u);
  EXPECT_EQ((*j)["truncated_lines"].get<std::size_t>(), 1u);
  EXPECT_EQ((*j)["ticks"]["mode"][1], "normal");
  EXPECT_DOUBLE_EQ((*j)["ticks"]["knee_q"][1].get<double>(), 5.0);
}

TEST(RunReview, AMalformedLineIsRefusedWithItsLine) {
  std::string log = std::string(kHeader) + row(0.0, "hold") + "0.002,rest,0,rest,normal\n" + row(0.004, "normal");
  auto j = parse_run_log(log, "run_log.csv", 0);
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, ErrorCode::parse);
  EXPECT_EQ(j.error().line, 3u);
  EXPECT_NE(j.error().reason.find("fields"), std::string::npos) << j.error().reason;
  std::string bad_number = std::string(kHeader) + row(0.0, "hold");
  bad_number += "0.002,rest,0.0,rest,normal,0,0,0,5,0,five,0,0,0,0,,\n";
  auto k = parse_run_log(bad_number, "run_log.csv", 0);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().line, 3u);
  EXPECT_NE(k.error().reason.find("knee_deg"), std::string::npos) << k.error().reason;
  auto no_header = parse_run_log("", "run_log.csv", 0);
  ASSERT_FALSE(no_header);
  auto missing = parse_run_log("time_s,intent\n0,rest\n", "run_log.csv", 0);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().reason.find("active_intent"), std::string::npos) << missing.error().reason;
}

TEST(RunReview, DecisionsAndEventsReadBack) {
  auto d = parse_decisions_log(
      "window_end_s,class,probability,rejected,nonfinite_input,intent,confidence,p_gait,p_rest,compute_us\n"
      "0.2490,gait,0.95,0,0,gait,0.95,0.95,0.05,30\n0.2990,rest,0.60,1,0,rest,0,0.40,0.60,31\n",
      "decisions.csv");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ((*d)["classes"], (std::vector<std::string>{"gait", "rest"}));
  EXPECT_EQ((*d)["t"].size(), 2u);
  EXPECT_EQ((*d)["rejected"][1], true);
  EXPECT_DOUBLE_EQ((*d)["p"][0][1].get<double>(), 0.40);
  auto e = parse_events_log("time_s,reason,joint,value,limit\n0.000000,watchdog,,inf,0.3\n1.5,position_limit,knee,1.2,1.1\n",
                            "events.csv");
  ASSERT_TRUE(e) << e.error().message();
  ASSERT_EQ((*e)["events"].size(), 2u);
  EXPECT_EQ((*e)["events"][0]["reason"], "watchdog");
  EXPECT_TRUE((*e)["events"][0]["value"].is_null()) << "an infinite age is shown as no value";
  EXPECT_DOUBLE_EQ((*e)["events"][1]["t"].get<double>(), 1.5);
}

TEST(RunReview, AFolderWithoutARunLogIsRefused) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("myoexo_review_empty_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto j = load_run_review(dir);
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, ErrorCode::io);
  EXPECT_NE(j.error().reason.find("missing"), std::string::npos) << j.error().reason;
  auto none = load_run_review(dir / "nope");
  ASSERT_FALSE(none);
  // With only a run log (a run killed before its summary), it opens and says the summary is missing.
  std::ofstream(dir / "run_log.csv") << kHeader << row(0.0, "hold") << row(0.002, "normal");
  auto ok = load_run_review(dir);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ((*ok)["mode"], "review");
  EXPECT_TRUE((*ok)["decisions"].is_null());
  EXPECT_NE((*ok)["summary"]["error"].get<std::string>().find("summary.json"), std::string::npos);
}

TEST(RunReview, TheServerRefusesNonLoopbackWithoutPermission) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("myoexo_review_bind_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "run_log.csv") << kHeader << row(0.0, "hold");
  ReviewOptions o;
  o.bind = "0.0.0.0";
  auto s = ReviewServer::create(o, dir);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace myoexo::console
