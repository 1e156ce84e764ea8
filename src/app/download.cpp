// `myoexo download uci-lower-limb [--dest DIR] [--url URL] [--timeout-s 30]`: fetch, unpack, check.
//
// Bounded waits everywhere: cpp-httplib's connect timeout covers an unreachable host, its read timeout a
// server that goes silent, and the content/progress callbacks cancel a transfer that trickles on past
// max_total_s. Name resolution uses the system resolver (its own timeouts, a few seconds).
#include <httplib.h>
#include <zip.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include "app/common.hpp"
#include "core/paths.hpp"

namespace myoexo::app {

namespace fs = std::filesystem;

namespace {

struct ParsedUrl {
  std::string scheme_host_port;  // "https://archive.ics.uci.edu" (what httplib::Client takes)
  std::string path;              // "/static/public/278/..."
};

Result<ParsedUrl> parse_url(const std::string& url) {
  const auto sep = url.find("://");
  if (sep == std::string::npos) return make_error(ErrorCode::invalid_argument, "--url '" + url + "' has no scheme (http:// or https://)");
  const std::string scheme = ascii_lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https")
    return make_error(ErrorCode::invalid_argument, "--url '" + url + "': only http:// and https:// are supported");
  const auto slash = url.find('/', sep + 3);
  ParsedUrl p;
  p.scheme_host_port = url.substr(0, slash);
  p.path = slash == std::string::npos ? "/" : url.substr(slash);
  if (p.scheme_host_port.size() <= sep + 3) return make_error(ErrorCode::invalid_argument, "--url '" + url + "' has no host");
  return p;
}

std::string megabytes(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", double(bytes) / 1e6);
  return buf;
}

std::string explain(httplib::Error e, const std::string& url, double timeout_s) {
  using E = httplib::Error;
  switch (e) {
    case E::Connection:
      return "cannot connect to " + url + " (no network, host not found or connection refused)";
    case E::ConnectionTimeout:
      return "no connection to " + url + " within " + format_double(timeout_s) + " s (no network?)";
    case E::Read:
      return "reading from " + url + " failed or timed out (no data for " + format_double(timeout_s) + " s)";
    case E::SSLConnection:
    case E::SSLServerVerification:
    case E::SSLLoadingCerts:
      return "TLS failure talking to " + url + " (" + httplib::to_string(e) + "; are ca-certificates installed?)";
    case E::ExceedRedirectCount:
      return "too many redirects from " + url;
    default:
      return "download of " + url + " failed: " + httplib::to_string(e);
  }
}

// Downloads `url` into `file`. Status: network on every transport/HTTP failure.
Status fetch(const Context& ctx, const std::string& url, const fs::path& file, double timeout_s, double max_total_s) {
  auto parsed = parse_url(url);
  if (!parsed) return parsed.error();
  httplib::Client client(parsed->scheme_host_port);
  if (!client.is_valid()) return make_error(ErrorCode::invalid_argument, "--url '" + url + "' is not a valid URL");
  const auto sec = static_cast<time_t>(timeout_s);
  const auto usec = static_cast<time_t>((timeout_s - double(sec)) * 1e6);
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
  client.set_follow_location(true);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  client.enable_server_certificate_verification(true);
  std::error_code ec;
  if (fs::exists("/etc/ssl/certs/ca-certificates.crt", ec)) client.set_ca_cert_path("/etc/ssl/certs/ca-certificates.crt");
#endif

  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(ErrorCode::io, file.string(), 0, "cannot be opened for writing");

  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(max_total_s));
  auto last_print = start;
  int status = 0;
  std::string reason;
  bool deadline_hit = false, write_failed = false;
  std::uint64_t received = 0;

  log_line(ctx, "downloading " + url);
  auto result = client.Get(
      parsed->path, httplib::Headers{{"User-Agent", "myoexo-download/0.1"}},
      [&](const httplib::Response& res) {
        status = res.status;
        reason = res.reason;
        return res.status == 200;  // anything else: stop, report the status below
      },
      [&](const char* data, std::size_t n) {
        out.write(data, static_cast<std::streamsize>(n));
        received += n;
        if (!out) return write_failed = true, false;
        if (std::chrono::steady_clock::now() > deadline) return deadline_hit = true, false;
        return true;
      },
      [&](std::uint64_t current, std::uint64_t total) {
        const auto now = std::chrono::steady_clock::now();
        if (now > deadline) return deadline_hit = true, false;
        if (!ctx.quiet && now - last_print >= std::chrono::seconds(1)) {
          last_print = now;
          ctx.err << "myoexo: downloaded " << megabytes(current);
          if (total > 0) ctx.err << " of " << megabytes(total) << " (" << (100 * current / total) << " %)";
          ctx.err << '\n' << std::flush;
        }
        return true;
      });
  out.close();
  if (write_failed) return make_error(ErrorCode::io, file.string(), 0, "write failed (disk full?)");
  if (deadline_hit)
    return make_error(ErrorCode::network, "download of " + url + " timed out: not finished after " +
                                              format_double(max_total_s) + " s (" + megabytes(received) + " received)");
  if (status != 0 && status != 200)
    return make_error(ErrorCode::network, "server answered HTTP " + std::to_string(status) + " " + reason + " for " + url);
  if (!result) return make_error(ErrorCode::network, explain(result.error(), url, timeout_s));
  if (result->status != 200)
    return make_error(ErrorCode::network, "server answered HTTP " + std::to_string(result->status) + " for " + url);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char buf[96];
  std::snprintf(buf, sizeof buf, "downloaded %s in %.1f s", megabytes(received).c_str(), took);
  log_line(ctx, buf);
  return {};
}

// A member name is safe when it is relative and never climbs out of the target ("zip slip").
bool safe_member_name(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.front() == '\\' || name.find(':') != std::string::npos) return false;
  const fs::path p(name);
  for (const auto& part : p)
    if (part == "..") return false;
  return true;
}

Status unzip(const fs::path& zip_path, const fs::path& dest, std::ostream& log) {
  int err = 0;
  zip_t* za = zip_open(zip_path.string().c_str(), ZIP_RDONLY, &err);
  if (!za) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string why = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    return make_error(ErrorCode::parse, zip_path.string(), 0, "is not a readable zip archive: " + why);
  }
  struct Closer {
    zip_t* z;
    ~Closer() { zip_discard(z); }
  } closer{za};
  constexpr std::uint64_t kMaxTotalBytes = 4ull << 30;  // a zip bomb stops here, the real set is ~30 MB
  std::uint64_t total = 0;
  const zip_int64_t n = zip_get_num_entries(za, 0);
  std::vector<char> buf(1 << 16);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME)) continue;
    const std::string name = st.name;
    if (!safe_member_name(name))
      return make_error(ErrorCode::parse, zip_path.string(), 0, "unsafe member name '" + name + "' (absolute or '..')");
    const fs::path target = dest / fs::path(name);
    std::error_code ec;
    if (name.back() == '/') {
      fs::create_directories(target, ec);
      continue;
    }
    fs::create_directories(target.parent_path(), ec);
    zip_file_t* zf = zip_fopen_index(za, static_cast<zip_uint64_t>(i), 0);
    if (!zf) return make_error(ErrorCode::parse, zip_path.string(), 0, "cannot open member '" + name + "'");
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    if (!out) {
      zip_fclose(zf);
      return make_error(ErrorCode::io, target.string(), 0, "cannot be written");
    }
    zip_int64_t got = 0;
    while ((got = zip_fread(zf, buf.data(), buf.size())) > 0) {
      total += static_cast<std::uint64_t>(got);
      if (total > kMaxTotalBytes) {
        zip_fclose(zf);
        return make_error(ErrorCode::parse, zip_path.string(), 0, "unpacks to more than 4 GB: refused");
      }
      out.write(buf.data(), got);
    }
    zip_fclose(zf);
    if (got < 0) return make_error(ErrorCode::parse, zip_path.string(), 0, "member '" + name + "' is corrupt");
    if (!out) return make_error(ErrorCode::io, target.string(), 0, "write failed (disk full?)");
  }
  log << "myoexo: unpacked " << n << " entries (" << megabytes(total) << ")\n";
  return {};
}

bool has_txt(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && ascii_lower(e.path().extension().string()) == ".txt") return true;
  return false;
}

std::optional<fs::path> child_named(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory(ec) && ascii_lower(e.path().filename().string()) == ascii_lower(name)) return e.path();
  return std::nullopt;
}

bool has_layout(const fs::path& dir) {
  auto a = child_named(dir, "A_TXT"), n = child_named(dir, "N_TXT");
  return a && n && has_txt(*a) && has_txt(*n);
}

std::string listing(const fs::path& dir) {
  std::string s;
  std::error_code ec;
  std::size_t k = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (++k > 12) {
      s += ", ...";
      break;
    }
    s += (s.empty() ? "" : ", ") + e.path().filename().string() + (e.is_directory(ec) ? "/" : "");
  }
  return s.empty() ? "nothing" : s;
}

}  // namespace

std::optional<fs::path> find_uci_lower_limb_layout(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return std::nullopt;
  if (has_layout(root)) return root;
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory(ec) && has_layout(e.path())) return e.path();
  return std::nullopt;
}

Status unpack_uci_lower_limb(const fs::path& zip_path, const fs::path& dest_dir, std::ostream& log) {
  std::error_code ec;
  if (fs::exists(dest_dir, ec)) return make_error(ErrorCode::io, dest_dir.string(), 0, "already exists");
  const fs::path staging = dest_dir.parent_path() / (dest_dir.filename().string() + ".unpacking");
  fs::remove_all(staging, ec);
  if (!fs::create_directories(staging, ec))
    return make_error(ErrorCode::io, staging.string(), 0, "cannot create folder: " + ec.message());
  auto fail = [&](Error e) {
    fs::remove_all(staging, ec);
    return Status(std::move(e));
  };
  if (auto s = unzip(zip_path, staging, log); !s) return fail(s.error());
  auto layout = find_uci_lower_limb_layout(staging);
  if (!layout) {
    // Some archives wrap the data in a second zip: unpack one level of those and look again.
    for (const auto& e : fs::recursive_directory_iterator(staging, ec)) {
      if (!e.is_regular_file(ec) || ascii_lower(e.path().extension().string()) != ".zip") continue;
      const fs::path inner = e.path().parent_path() / (e.path().stem().string() + ".inner");
      if (auto s = unzip(e.path(), inner, log); !s) return fail(s.error());
      if ((layout = find_uci_lower_limb_layout(inner)) || (layout = find_uci_lower_limb_layout(e.path().parent_path()))) break;
    }
  }
  if (!layout)
    return fail(make_error(ErrorCode::parse, zip_path.string(), 0,
                           "does not hold the UCI lower-limb layout (A_TXT/ and N_TXT/ with *.txt files); it holds: " +
                               listing(staging)));
  fs::rename(*layout, dest_dir, ec);
  if (ec) return fail(make_error(ErrorCode::io, dest_dir.string(), 0, "cannot move the unpacked data here: " + ec.message()));
  fs::remove_all(staging, ec);
  return {};
}

Status run_download(const Context& ctx, const DownloadOptions& opt) {
  if (opt.dataset != "uci-lower-limb")
    return make_error(ErrorCode::invalid_argument, "unknown data set '" + opt.dataset + "' (known: uci-lower-limb)");
  if (!(opt.timeout_s >= 0.1 && opt.timeout_s <= 3600))
    return make_error(ErrorCode::invalid_argument, "--timeout-s must be within 0.1..3600 s");
  if (!(opt.max_total_s >= opt.timeout_s))
    return make_error(ErrorCode::invalid_argument, "--max-total-s must be >= --timeout-s");

  fs::path dest_root;
  if (opt.dest) dest_root = *opt.dest;
  else if (ctx.data_dir) dest_root = *ctx.data_dir;
  else if (const char* env = std::getenv(kDataEnvVar); env && *env) dest_root = env;
  else dest_root = "../shared/datasets";
  const fs::path target = dest_root / opt.dataset;

  std::error_code ec;
  if (fs::exists(target, ec)) {
    if (find_uci_lower_limb_layout(target) && !opt.force) {
      ctx.out << target.string() << ": already present (use --force to download again)\n";
      return {};
    }
    if (!opt.force)
      return make_error(ErrorCode::io, target.string(), 0,
                        "exists but does not hold the expected layout; move it away or use --force");
  }
  fs::create_directories(dest_root, ec);
  if (!fs::is_directory(dest_root, ec))
    return make_error(ErrorCode::io, dest_root.string(), 0, "cannot create the destination folder");

  const bool downloaded = !opt.from_zip;
  const fs::path zip_file = downloaded ? dest_root / (opt.dataset + ".zip.part") : *opt.from_zip;
  if (!downloaded && !fs::is_regular_file(zip_file, ec))
    return make_error(ErrorCode::io, zip_file.string(), 0, "does not exist or is not a file");
  if (downloaded) {
    if (auto s = fetch(ctx, opt.url, zip_file, opt.timeout_s, opt.max_total_s); !s) {
      fs::remove(zip_file, ec);
      return Status(make_error(s.error().code, s.error().file, s.error().line,
                               s.error().reason + ". Without internet: fetch " + opt.url +
                                   " elsewhere and run `myoexo download " + opt.dataset + " --from-zip FILE`"));
    }
  }
  const fs::path fresh = dest_root / (opt.dataset + ".new");
  fs::remove_all(fresh, ec);
  std::ostringstream quiet_sink;
  auto unpacked = unpack_uci_lower_limb(zip_file, fresh, ctx.quiet ? quiet_sink : ctx.err);
  if (downloaded) fs::remove(zip_file, ec);
  if (!unpacked) return unpacked;
  if (fs::exists(target, ec)) fs::remove_all(target, ec);
  fs::rename(fresh, target, ec);
  if (ec) return make_error(ErrorCode::io, target.string(), 0, "cannot be created: " + ec.message());
  ctx.out << target.string() << ": UCI lower-limb data set ready (A_TXT/, N_TXT/)\n";
  return {};
}

}  // namespace myoexo::app
