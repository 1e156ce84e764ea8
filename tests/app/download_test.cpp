// `myoexo download`: only against a local cpp-httplib server on 127.0.0.1 (never the network): a good zip
// (direct and via redirect), a wrapper folder, 404, a refused port, a stalling server, a non-zip, zip slip.
#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zip.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "app/app_test_util.hpp"

using myoexo::test::fresh_dir;
using myoexo::test::run_myoexo;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Builds a zip with libzip: `files` maps member names to contents ("dir/" names make folders).
std::string make_zip(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& files) {
  int err = 0;
  zip_t* z = zip_open(path.string().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  EXPECT_NE(z, nullptr);
  for (const auto& [name, data] : files) {
    if (name.back() == '/') {
      zip_dir_add(z, name.c_str(), ZIP_FL_ENC_UTF_8);
      continue;
    }
    zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
    EXPECT_GE(zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8), 0) << name;
  }
  EXPECT_EQ(zip_close(z), 0);  // copies the buffers: `files` must live until here
  return slurp(path);
}

/// A UCI-like archive: optional wrapper folder, A_TXT/ and N_TXT/ with two small recordings.
std::string uci_zip(const fs::path& work, const std::string& wrapper) {
  const auto tmp = work / "src";
  fs::create_directories(tmp);
  myoexo::test::write_uci_file(tmp / "1Amar.txt", 500);
  myoexo::test::write_uci_file(tmp / "1Nmar.txt", 500);
  return make_zip(work / "uci.zip", {{wrapper + "A_TXT/1Amar.txt", slurp(tmp / "1Amar.txt")},
                                     {wrapper + "N_TXT/1Nmar.txt", slurp(tmp / "1Nmar.txt")},
                                     {wrapper + "BDSEMG_eng.txt", "description"}});
}

/// A loopback HTTP server for one test, stopped (and its stalled handlers released) on destruction.
class LocalServer {
 public:
  LocalServer() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~LocalServer() {
    {
      std::lock_guard<std::mutex> lock(m_);
      released_ = true;
    }
    cv_.notify_all();
    server_.stop();
    thread_.join();
  }
  httplib::Server& server() { return server_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  /// Blocks a handler until the test ends (at most 60 s): a server that accepted and then went silent.
  void stall() {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait_for(lock, std::chrono::seconds(60), [this] { return released_; });
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex m_;
  std::condition_variable cv_;
  bool released_ = false;
};

/// A loopback port nobody listens on: bound to an ephemeral port, then closed again.
int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

}  // namespace

TEST(Download, FetchesUnpacksAndChecksLayoutViaRedirect) {
  const auto work = fresh_dir("w");
  const std::string zip = uci_zip(work, "");
  LocalServer srv;
  srv.server().Get("/data.zip", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(zip, "application/zip");
  });
  srv.server().Get("/moved", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/data.zip"); });
  const auto dest = work / "datasets";
  const auto r = run_myoexo({"download", "uci-lower-limb", "--dest", dest.string(), "--url", srv.url("/moved"),
                             "--timeout-s", "5"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(dest / "uci-lower-limb" / "A_TXT" / "1Amar.txt"));
  EXPECT_TRUE(fs::exists(dest / "uci-lower-limb" / "N_TXT" / "1Nmar.txt"));
  EXPECT_FALSE(fs::exists(dest / "uci-lower-limb.zip.part"));
  EXPECT_NE(r.err.find("downloading"), std::string::npos);  // progress on stderr
  // The result is a data set the app reads.
  const auto info = run_myoexo({"--quiet", "info", (dest / "uci-lower-limb").string(), "--json"});
  EXPECT_EQ(info.rc, 0) << info.err;
  // A second run sees the valid copy and does not fetch again.
  const auto again = run_myoexo({"download", "uci-lower-limb", "--dest", dest.string(), "--url", srv.url("/gone")});
  EXPECT_EQ(again.rc, 0) << again.err;
  EXPECT_NE(again.out.find("already present"), std::string::npos);
}

TEST(Download, ToleratesOneWrapperFolder) {
  const auto work = fresh_dir("w");
  const std::string zip = uci_zip(work, "EMG Physical Action/");
  LocalServer srv;
  srv.server().Get("/d.zip", [&](const httplib::Request&, httplib::Response& res) { res.set_content(zip, "application/zip"); });
  const auto r = run_myoexo({"--data", (work / "root").string(), "download", "uci-lower-limb", "--url",
                             srv.url("/d.zip"), "--timeout-s", "5"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(work / "root" / "uci-lower-limb" / "A_TXT" / "1Amar.txt"));
}

TEST(Download, NotFoundIsAClearNetworkError) {
  const auto work = fresh_dir("w");
  LocalServer srv;
  const auto r = run_myoexo({"download", "uci-lower-limb", "--dest", work.string(), "--url", srv.url("/nothing.zip"),
                             "--timeout-s", "5"});
  EXPECT_EQ(r.rc, myoexo::app::kExitFailure);
  EXPECT_NE(r.err.find("HTTP 404"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(work / "uci-lower-limb"));
  EXPECT_FALSE(fs::exists(work / "uci-lower-limb.zip.part"));
}

TEST(Download, RefusedPortIsAClearNetworkError) {
  const auto work = fresh_dir("w");
  const int port = free_loopback_port();
  ASSERT_GT(port, 0);
  const auto r = run_myoexo({"download", "uci-lower-limb", "--dest", work.string(), "--url",
                             "http://127.0.0.1:" + std::to_string(port) + "/x.zip", "--timeout-s", "2"});
  EXPECT_EQ(r.rc, myoexo::app::kExitFailure);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

TEST(Download, StallingServerTimesOutInsteadOfHanging) {
  const auto work = fresh_dir("w");
  LocalServer srv;
  srv.server().Get("/slow.zip", [&](const httplib::Request&, httplib::Response& res) {
    srv.stall();
    res.set_content("late", "application/zip");
  });
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_myoexo({"download", "uci-lower-limb", "--dest", work.string(), "--url", srv.url("/slow.zip"),
                             "--timeout-s", "1"});
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.rc, myoexo::app::kExitFailure);
  EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
  // Not a timing test: the server would stall for 60 s; returning well before proves the bound works.
  EXPECT_LT(waited, 30.0);
}

TEST(Download, NonZipAndWrongLayoutAreParseErrors) {
  const auto work = fresh_dir("w");
  const std::string wrong = make_zip(work / "wrong.zip", {{"readme.txt", "hello"}, {"data/x.csv", "1,2"}});
  LocalServer srv;
  srv.server().Get("/html", [](const httplib::Request&, httplib::Response& res) { res.set_content("<html>", "text/html"); });
  srv.server().Get("/wrong.zip", [&](const httplib::Request&, httplib::Response& res) { res.set_content(wrong, "application/zip"); });
  auto r = run_myoexo({"download", "uci-lower-limb", "--dest", work.string(), "--url", srv.url("/html")});
  EXPECT_EQ(r.rc, myoexo::app::kExitFailure);
  EXPECT_NE(r.err.find("not a readable zip"), std::string::npos) << r.err;
  r = run_myoexo({"download", "uci-lower-limb", "--dest", work.string(), "--url", srv.url("/wrong.zip")});
  EXPECT_EQ(r.rc, myoexo::app::kExitFailure);
  EXPECT_NE(r.err.find("A_TXT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("readme.txt"), std::string::npos) << r.err;  // says what it found instead
  EXPECT_FALSE(fs::exists(work / "uci-lower-limb"));
}

TEST(Download, ZipSlipMemberIsRefused) {
  const auto work = fresh_dir("w");
  // libzip stores the name as given; the unpacker must refuse to write outside its folder.
  make_zip(work / "evil.zip", {{"../evil.txt", "x"}, {"A_TXT/1Amar.txt", "x"}});
  std::ostringstream log;
  auto s = myoexo::app::unpack_uci_lower_limb(work / "evil.zip", work / "out" / "uci", log);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().reason.find("unsafe"), std::string::npos) << s.error().message();
  EXPECT_FALSE(fs::exists(work / "out" / "evil.txt"));
}

TEST(Download, BadOptionsAreUsageErrors) {
  EXPECT_EQ(run_myoexo({"download", "uci-gestures"}).rc, myoexo::app::kExitUsage);
  const auto work = fresh_dir("w");
  auto r = run_myoexo({"download", "uci-lower-limb", "--dest", work.string(), "--url", "ftp://127.0.0.1/x.zip"});
  EXPECT_EQ(r.rc, myoexo::app::kExitUsage);
  EXPECT_NE(r.err.find("http"), std::string::npos) << r.err;
  r = run_myoexo({"download", "uci-lower-limb", "--dest", work.string(), "--timeout-s", "0"});
  EXPECT_EQ(r.rc, myoexo::app::kExitUsage);
  EXPECT_NE(r.err.find("--timeout-s"), std::string::npos) << r.err;
}

TEST(Download, FromZipUnpacksALocalCopyWithoutNetwork) {
  const auto work = fresh_dir("w");
  uci_zip(work, "wrapper/");
  const auto r = run_myoexo({"download", "uci-lower-limb", "--dest", (work / "d").string(), "--from-zip",
                             (work / "uci.zip").string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(work / "d" / "uci-lower-limb" / "N_TXT" / "1Nmar.txt"));
  EXPECT_TRUE(fs::exists(work / "uci.zip"));  // the user's file is left alone
  const auto missing = run_myoexo({"download", "uci-lower-limb", "--dest", (work / "e").string(), "--from-zip",
                                   (work / "none.zip").string()});
  EXPECT_EQ(missing.rc, myoexo::app::kExitFailure);
  EXPECT_NE(missing.err.find("none.zip"), std::string::npos);
}
