// Reading a finished run's logs back for the console's review mode (see review.hpp).
#include "console/review.hpp"

#include <httplib.h>


#include "console/console.hpp"
#include "console/web_assets.hpp"

namespace myoexo::console {

namespace fs = std::filesystem;
using nlohmann::json;

struct ReviewServer::Http {
  httplib::Server server;
};

// ---------------------------------------------------------------- server

Result<std::unique_ptr<ReviewServer>> ReviewServer::create(const ReviewOptions& options, const fs::path& dir) {
  if (!is_loopback_address(options.bind) && !options.allow_remote)
    return make_error(ErrorCode::invalid_argument,
                      "review: refusing to bind " + options.bind +
                          ", which is not a loopback address (anyone who reaches it could read the run); pass "
                          "--allow-remote to do it on purpose");
  if (options.port < 0 || options.port > 65535)
    return make_error(ErrorCode::invalid_argument, "review: port must be in [0, 65535]");
  auto review = load_run_review(dir);
  if (!review) return review.error();
  std::unique_ptr<ReviewServer> s(new ReviewServer());
  s->opt_ = options;
  s->review_ = std::move(*review);
  s->review_text_ = s->review_.dump();
  s->http_ = std::make_unique<Http>();
  return s;
}

ReviewServer::~ReviewServer() { stop(); }

Status ReviewServer::start() {
  httplib::Server& svr = http_->server;
  svr.set_read_timeout(5, 0);
  svr.set_write_timeout(30, 0);
  serve_web_assets(svr);
  const json info{{"mode", "review"},
                  {"run", review_["run"]},
                  {"classes", review_["classes"]},
                  {"class_intents", review_["class_intents"]},
                  {"rejection_threshold", review_["rejection_threshold"]},
                  {"reference_knee", !review_["ticks"]["knee_ref"].is_null()},
                  {"knee_estimate", review_["ticks"].contains("knee_est") && !review_["ticks"]["knee_est"].is_null()},
                  {"summary", review_["summary"]}};
  svr.Get("/api/info", [text = info.dump()](const httplib::Request&, httplib::Response& res) {
    res.set_content(text, "application/json");
  });
  svr.Get("/api/review", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(review_text_, "application/json");
  });
  svr.Post("/api/command", [](const httplib::Request&, httplib::Response& res) {
    res.status = 409;
    res.set_content("{\"error\":\"this console reviews a finished run: there is no session to command\"}",
                    "application/json");
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content("{\"error\":\"" + std::to_string(res.status) + "\"}", "application/json");
  });
  port_ = opt_.port == 0 ? svr.bind_to_any_port(opt_.bind) : (svr.bind_to_port(opt_.bind, opt_.port) ? opt_.port : -1);
  if (port_ <= 0)
    return make_error(ErrorCode::io, "review: cannot listen on " + opt_.bind + ":" + std::to_string(opt_.port) +
                                         " (in use, or not an address of this machine)");
  thread_ = std::thread([this] { http_->server.listen_after_bind(); });
  return {};
}

void ReviewServer::stop() {
  if (http_) http_->server.stop();
  if (thread_.joinable()) thread_.join();
}

std::string ReviewServer::url() const {
  const std::string host = opt_.bind.find(':') != std::string::npos ? "[" + opt_.bind + "]" : opt_.bind;
  return "http://" + host + ":" + std::to_string(port_) + "/";
}

}  // namespace myoexo::console
