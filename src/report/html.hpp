// myoexo::report — the HTML page of a report: its Markdown (what `myoexo report` and `evaluate` write) rendered
// with cmark-gfm (GitHub's CommonMark, with its table extension), the PNG figures it shows embedded as data URIs so
// the one file opens anywhere (mailed, copied, offline), links to other Markdown pages pointed at their HTML pages,
// and a small style sheet for tables and figures. Offline use only (reads files, allocates).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace myoexo::report {

struct HtmlPageOptions {
  std::string title = "myoexo report";
  /// Figures (relative PNG paths below the page's folder) are embedded as data URIs; false links them instead.
  bool embed_images = true;
  /// Links to "x.md" become "x.html" (the pages write_html_page wrote beside them).
  bool link_html_pages = true;
};

/// The HTML body of a Markdown text (GitHub tables, no raw HTML passed through). `base_dir` is where relative image
/// paths are read from for embedding. Errors: io (an image it should embed cannot be read, naming it).
Result<std::string> markdown_to_html(std::string_view markdown, const std::filesystem::path& base_dir,
                                     const HtmlPageOptions& options = {});

/// Reads `markdown_file`, renders it and writes a whole page (head, style, body) to `html_file`. Errors: io.
Status write_html_page(const std::filesystem::path& markdown_file, const std::filesystem::path& html_file,
                       const HtmlPageOptions& options = {});

}  // namespace myoexo::report
