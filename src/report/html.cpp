#include "report/html.hpp"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>
#include <openssl/evp.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>

namespace myoexo::report {

namespace {

namespace fs = std::filesystem;

Result<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error(ErrorCode::io, p.string(), 0, "cannot be read");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), int(bytes.size()));
  out.resize(std::size_t(n));
  return out;
}

bool is_relative_reference(std::string_view url) {
  return !url.empty() && url.find("://") == std::string_view::npos && url.rfind("data:", 0) != 0 &&
         url.front() != '/' && url.front() != '#';
}

struct ParserDeleter {
  void operator()(cmark_parser* p) const noexcept { cmark_parser_free(p); }
};
struct NodeDeleter {
  void operator()(cmark_node* n) const noexcept { cmark_node_free(n); }
};

}  // namespace

Result<std::string> markdown_to_html(std::string_view markdown, const fs::path& base_dir,
                                     const HtmlPageOptions& options) {
  static std::once_flag registered;
  std::call_once(registered, [] { cmark_gfm_core_extensions_ensure_registered(); });
  std::unique_ptr<cmark_parser, ParserDeleter> parser(cmark_parser_new(CMARK_OPT_DEFAULT));
  for (const char* name : {"table", "autolink", "strikethrough"})
    if (cmark_syntax_extension* ext = cmark_find_syntax_extension(name))
      cmark_parser_attach_syntax_extension(parser.get(), ext);
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  std::unique_ptr<cmark_node, NodeDeleter> doc(cmark_parser_finish(parser.get()));

  // Figures embedded, links to Markdown pages pointed at their HTML pages.
  cmark_iter* it = cmark_iter_new(doc.get());
  Status failure;
  for (cmark_event_type ev; (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE;) {
    if (ev != CMARK_EVENT_ENTER) continue;
    cmark_node* node = cmark_iter_get_node(it);
    const cmark_node_type type = cmark_node_get_type(node);
    const char* url_c = cmark_node_get_url(node);
    if (!url_c) continue;
    const std::string url = url_c;
    if (!is_relative_reference(url)) continue;
    if (type == CMARK_NODE_IMAGE && options.embed_images && fs::path(url).extension() == ".png") {
      auto bytes = read_file(base_dir / url);
      if (!bytes) {
        failure = bytes.error();
        break;
      }
      cmark_node_set_url(node, ("data:image/png;base64," + base64(*bytes)).c_str());
    } else if (type == CMARK_NODE_LINK && options.link_html_pages && fs::path(url).extension() == ".md") {
      cmark_node_set_url(node, fs::path(url).replace_extension(".html").string().c_str());
    }
  }
  cmark_iter_free(it);
  if (!failure) return failure.error();

  char* html = cmark_render_html(doc.get(), CMARK_OPT_DEFAULT, cmark_parser_get_syntax_extensions(parser.get()));
  std::string out = html ? html : "";
  cmark_get_default_mem_allocator()->free(html);
  return out;
}

Status write_html_page(const fs::path& markdown_file, const fs::path& html_file, const HtmlPageOptions& options) {
  auto md = read_file(markdown_file);
  if (!md) return md.error();
  auto body = markdown_to_html(*md, markdown_file.parent_path(), options);
  if (!body) return body.error();
  std::string title;
  for (char c : options.title) {  // the title is text: escaped
    if (c == '<') title += "&lt;";
    else if (c == '>') title += "&gt;";
    else if (c == '&') title += "&amp;";
    else title += c;
  }
  std::ofstream out(html_file, std::ios::trunc);
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
      << title
      << "</title>\n<style>\n"
         "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;"
         "padding:0 1.2em;color:#1b1f23}\n"
         "h1,h2,h3{line-height:1.25}h2{border-bottom:1px solid #d0d7de;padding-bottom:.3em;margin-top:2em}\n"
         "table{border-collapse:collapse;margin:1em 0;font-variant-numeric:tabular-nums}\n"
         "th,td{border:1px solid #d0d7de;padding:.35em .7em;text-align:left}th{background:#f6f8fa}\n"
         "tr:nth-child(even) td{background:#fbfcfd}\n"
         "img{max-width:100%;height:auto;display:block;margin:1em 0 .2em}\n"
         "p>em:only-child{display:block;color:#57606a;font-size:.92em;margin-bottom:1.2em}\n"
         "code{background:#f6f8fa;padding:.1em .3em;border-radius:4px;font-size:.9em}\n"
         "</style>\n</head>\n<body>\n"
      << *body << "</body>\n</html>\n";
  if (!out) return make_error(ErrorCode::io, html_file.string(), 0, "cannot be written");
  return {};
}

}  // namespace myoexo::report
