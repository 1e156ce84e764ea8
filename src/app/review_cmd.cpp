// `myoexo review DIR`: a finished run's logs in the console page, scrubbed in the browser.
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "app/app.hpp"
#include "app/common.hpp"
#include "console/review.hpp"

namespace myoexo::app {

namespace {
std::atomic<bool> g_review_stop{false};
extern "C" void on_review_sigint(int) { g_review_stop.store(true); }
}  // namespace

Status run_review(const Context& ctx, const ReviewOptions& opt) {
  if (!(opt.seconds >= 0.0)) return make_error(ErrorCode::invalid_argument, "--seconds must be >= 0");
  const std::filesystem::path dir = resolve_input_path(ctx, opt.run_dir);
  console::ReviewOptions ro;
  ro.bind = opt.bind;
  ro.port = opt.port;
  ro.allow_remote = opt.allow_remote;
  auto server = console::ReviewServer::create(ro, dir);
  if (!server) return server.error();
  const auto& r = (*server)->review();
  if (auto s = (*server)->start(); !s) return s;
  const std::size_t ticks = r["ticks_in_log"].get<std::size_t>();
  const auto& t = r["ticks"]["t"];
  ctx.out << "review: " << (*server)->url() << " (" << ticks << " control ticks"
          << (t.empty() ? std::string() : ", " + format_double(std::round(t.back().get<double>() * 100) / 100) + " s")
          << ", " << (r["decisions"].is_null() ? 0 : r["decisions"]["t"].size()) << " decisions, "
          << r["events"].size() << " safety events";
  if (r["truncated_lines"].get<std::size_t>() > 0)
    ctx.out << "; " << r["truncated_lines"].get<std::size_t>() << " cut-short last line(s) left out";
  ctx.out << ")\n";
  ctx.out << "review: Ctrl-C ends it\n";
  ctx.out.flush();
  g_review_stop.store(false);
  auto previous = std::signal(SIGINT, on_review_sigint);
  const auto t0 = std::chrono::steady_clock::now();
  while (!g_review_stop.load()) {
    if (opt.seconds > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= opt.seconds)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::signal(SIGINT, previous);
  (*server)->stop();
  ctx.out << "review: closed\n";
  return {};
}

}  // namespace myoexo::app
