// myoexo::console — the console page's files, built into the program (cmake/embed_files.cmake): the page works on
// an offline lab machine with nothing installed beside the program.
#pragma once

#include <string_view>

namespace myoexo::console {

/// The bytes served at `url` ("/", "/console.js", "/uPlot.iife.min.js", "/uPlot.min.css"); empty when absent.
std::string_view web_asset(std::string_view url);

}  // namespace myoexo::console
