// Named feature sets from TOML (toml++) and the CLI's --set resolution.
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <toml++/toml.h>

#include "features/features.hpp"

namespace myoexo::features {

namespace {

std::size_t line_of(const toml::node& n) { return static_cast<std::size_t>(n.source().begin.line); }

// Reads an optional number (integer or float) into `out`; an error when present but not a number.
Status read_number(const toml::table& t, std::string_view key, double& out, const std::string& file) {
  const toml::node* n = t.get(key);
  if (!n) return {};
  if (auto v = n->value<double>()) {
    out = *v;
    return {};
  }
  // Appended piecewise: g++ 12 raises a false -Wrestrict on "'" + std::string(...) (GCC bug 105329).
  std::string reason(1, '\'');
  reason += key;
  reason += "' must be a number";
  return make_error(ErrorCode::parse, file, line_of(*n), std::move(reason));
}

Status read_overrides(const toml::table& t, FeatureSpec& spec, const std::string& file) {
  for (auto [key, target] : {std::pair<std::string_view, double*>{"zc", &spec.thresholds.zc},
                             {"ssc", &spec.thresholds.ssc},
                             {"wamp", &spec.thresholds.wamp},
                             {"sample_rate_hz", &spec.sample_rate_hz}}) {
    if (Status s = read_number(t, key, *target, file); !s) return s;
  }
  if (const toml::node* n = t.get("ar_order")) {
    auto v = n->value<int64_t>();
    if (!v || *v < 1 || *v > 32)
      return make_error(ErrorCode::parse, file, line_of(*n), "'ar_order' must be an integer in 1..32");
    spec.ar_order = static_cast<int>(*v);
  }
  for (auto [key, v] : {std::pair<const char*, double>{"zc", spec.thresholds.zc},
                        {"ssc", spec.thresholds.ssc},
                        {"wamp", spec.thresholds.wamp},
                        {"sample_rate_hz", spec.sample_rate_hz}}) {
    if (!(v >= 0.0) || !std::isfinite(v)) {
      const toml::node* n = t.get(key);
      std::string reason(1, '\'');
      reason += key;
      reason += "' must be finite and >= 0";
      return make_error(ErrorCode::parse, file, n ? line_of(*n) : 0, std::move(reason));
    }
  }
  return {};
}

}  // namespace

Result<FeatureConfig> parse_feature_config(std::string_view toml_text, const std::string& display_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, display_name);
  } catch (const toml::parse_error& e) {
    return make_error(ErrorCode::parse, display_name, static_cast<std::size_t>(e.source().begin.line),
                      std::string(e.description()));
  }
  FeatureSpec defaults;
  if (const toml::node* th = root.get("thresholds")) {
    const toml::table* t = th->as_table();
    if (!t) return make_error(ErrorCode::parse, display_name, line_of(*th), "[thresholds] must be a table");
    if (Status s = read_overrides(*t, defaults, display_name); !s) return s.error();
  }
  FeatureConfig config;
  const toml::node* sets_node = root.get("sets");
  if (!sets_node) return make_error(ErrorCode::empty, display_name, 0, "no [sets.<name>] table");
  const toml::table* sets = sets_node->as_table();
  if (!sets) return make_error(ErrorCode::parse, display_name, line_of(*sets_node), "'sets' must be a table");
  for (const auto& [key, node] : *sets) {
    const std::string name(key.str());
    const toml::table* t = node.as_table();
    if (!t) return make_error(ErrorCode::parse, display_name, line_of(node), "sets." + name + " must be a table");
    FeatureSpec spec = defaults;
    if (Status s = read_overrides(*t, spec, display_name); !s) return s.error();
    const toml::node* fnode = t->get("features");
    const toml::array* arr = fnode ? fnode->as_array() : nullptr;
    if (!arr)
      return make_error(ErrorCode::parse, display_name, line_of(fnode ? *fnode : node),
                        "sets." + name + " needs features = [\"NAME\", ...]");
    spec.names.clear();
    for (const auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s) return make_error(ErrorCode::parse, display_name, line_of(item), "feature names must be strings");
      spec.names.push_back(*s);
    }
    if (auto ok = expand_feature_names(spec.names, spec.ar_order); !ok) {
      Error e = ok.error();
      e.file = display_name;
      e.line = line_of(*fnode);
      e.reason = "sets." + name + ": " + e.reason;
      return e;
    }
    config.sets.emplace(name, std::move(spec));
  }
  if (config.sets.empty()) return make_error(ErrorCode::empty, display_name, 0, "no feature sets defined");
  return config;
}

Result<FeatureConfig> load_feature_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::io, path.string(), 0, "cannot open feature config");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_feature_config(ss.str(), path.string());
}

Result<FeatureSpec> make_feature_spec(std::string_view selection, const FeatureConfig* config) {
  const std::string sel(selection);
  if (config) {
    if (auto it = config->sets.find(sel); it != config->sets.end()) return it->second;
  }
  FeatureSpec spec;
  spec.names.clear();
  std::size_t start = 0;
  while (start <= sel.size()) {
    std::size_t comma = sel.find(',', start);
    if (comma == std::string::npos) comma = sel.size();
    std::string item = sel.substr(start, comma - start);
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    item = b == std::string::npos ? std::string() : item.substr(b, e - b + 1);
    if (item.empty())
      return make_error(ErrorCode::invalid_argument, "empty feature name in selection '" + sel + "'");
    spec.names.push_back(item);
    start = comma + 1;
  }
  if (auto ok = expand_feature_names(spec.names, spec.ar_order); !ok) return ok.error();
  return spec;
}

}  // namespace myoexo::features
