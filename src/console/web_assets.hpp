// myoexo::console — the console page's files, built into the program (cmake/embed_files.cmake): the page works on
// an offline lab machine with nothing installed beside the program.
#pragma once

#include <string_view>

namespace httplib {
class Server;
}

namespace myoexo::console {

/// The bytes served at `url` ("/", "/console.js", "/uPlot.iife.min.js", "/uPlot.min.css"); empty when absent.
std::string_view web_asset(std::string_view url);

/// Registers GET routes for the page and its files on `server` (the live console and the review serve the same page).
void serve_web_assets(httplib::Server& server);

}  // namespace myoexo::console
