// NetworkSpec: validation, TOML parsing and the JSON form stored in model files (torch-free).
#include "models/torch/network_spec.hpp"
#include "models/front_end_settings.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

namespace myoexo::models {

const char* arch_kind_name(ArchKind kind) noexcept {
  switch (kind) {
    case ArchKind::cnn1d: return "cnn1d";
    case ArchKind::spectrogram_cnn: return "spectrogram_cnn";
    case ArchKind::lstm: return "lstm";
    case ArchKind::cnn_lstm: return "cnn_lstm";
  }
  return "?";
}

namespace {

bool arch_kind_from_name(std::string_view name, ArchKind& out) {
  for (ArchKind k : {ArchKind::cnn1d, ArchKind::spectrogram_cnn, ArchKind::lstm, ArchKind::cnn_lstm})
    if (name == arch_kind_name(k)) {
      out = k;
      return true;
    }
  return false;
}

std::size_t spectrogram_frames(std::size_t length, std::size_t nperseg, std::size_t noverlap) {
  if (nperseg == 0 || noverlap >= nperseg || length < nperseg) return 0;
  return 1 + (length - nperseg) / (nperseg - noverlap);
}

Error invalid(std::string reason) { return make_error(ErrorCode::invalid_argument, std::move(reason)); }

}  // namespace

std::vector<std::size_t> network_input_shape(const InputSpec& input, const ArchConfig& arch) {
  if (arch.kind == ArchKind::spectrogram_cnn)
    return {input.n_channels(), spectrogram_frames(input.window_length, arch.nperseg, arch.noverlap),
            arch.nperseg / 2 + 1};
  return {input.n_channels(), input.window_length};
}

Status validate_network_spec(const NetworkSpec& spec) {
  const InputSpec& in = spec.input;
  const ArchConfig& a = spec.arch;
  if (!(in.sample_rate_hz > 0) || !std::isfinite(in.sample_rate_hz))
    return invalid("input.sample_rate_hz must be > 0");
  if (in.channel_names.empty()) return invalid("input.channels must name at least one channel");
  if (in.window_length == 0) return invalid("input.window_length must be >= 1");
  if (in.window_increment == 0) return invalid("input.window_increment must be >= 1");
  if (!spec.normalisation.mean.empty() || !spec.normalisation.std.empty()) {
    if (spec.normalisation.mean.size() != in.n_channels() || spec.normalisation.std.size() != in.n_channels())
      return invalid("normalisation needs one mean and one std per channel");
    for (double s : spec.normalisation.std)
      if (!(s > 0) || !std::isfinite(s)) return invalid("normalisation std must be finite and > 0");
    for (double m : spec.normalisation.mean)
      if (!std::isfinite(m)) return invalid("normalisation mean must be finite");
  }
  if (!(a.dropout >= 0.0 && a.dropout < 1.0)) return invalid("model.dropout must be in [0, 1)");
  for (std::size_t u : a.dense_units)
    if (u == 0) return invalid("model.dense_units entries must be >= 1");
  const bool convs = a.kind != ArchKind::lstm;
  if (convs) {
    if (a.filters.empty()) return invalid("model.filters needs at least one block");
    for (std::size_t f : a.filters)
      if (f == 0) return invalid("model.filters entries must be >= 1");
    if (a.kernel_size == 0 || a.kernel_size % 2 == 0) return invalid("model.kernel_size must be odd (same padding)");
    if (a.pool_size == 0) return invalid("model.pool_size must be >= 1");
  }
  auto after_pools = [&](std::size_t n) {
    for (std::size_t b = 0; b < a.filters.size(); ++b) n /= a.pool_size;
    return n;
  };
  switch (a.kind) {
    case ArchKind::cnn1d:
      if (after_pools(in.window_length) == 0)
        return invalid("model: " + std::to_string(a.filters.size()) + " pooling blocks shrink a " +
                       std::to_string(in.window_length) + "-sample window to nothing");
      break;
    case ArchKind::spectrogram_cnn: {
      if (a.nperseg < 2 || a.noverlap >= a.nperseg) return invalid("model.nperseg >= 2 and noverlap < nperseg");
      if (a.nperseg > in.window_length) return invalid("model.nperseg exceeds input.window_length");
      if (!(a.power_floor > 0)) return invalid("model.power_floor must be > 0");
      auto shape = network_input_shape(in, a);
      if (after_pools(shape[1]) == 0 || after_pools(shape[2]) == 0)
        return invalid("model: pooling shrinks the " + std::to_string(shape[1]) + " x " + std::to_string(shape[2]) +
                       " spectrogram to nothing");
      break;
    }
    case ArchKind::lstm:
    case ArchKind::cnn_lstm:
      if (a.frame_length == 0 || a.frame_step == 0) return invalid("model.frame_length and frame_step must be >= 1");
      if (a.frame_length > in.window_length) return invalid("model.frame_length exceeds input.window_length");
      if (a.hidden_size == 0 || a.num_layers == 0) return invalid("model.hidden_size and num_layers must be >= 1");
      if (a.kind == ArchKind::cnn_lstm && after_pools(a.frame_length) == 0)
        return invalid("model: pooling shrinks a " + std::to_string(a.frame_length) + "-sample frame to nothing");
      break;
  }
  return {};
}

// ---------------------------------------------------------------- TOML

namespace {

struct TomlReader {
  const std::string& file;
  std::optional<Error> error;

  Error at(const toml::node& node, std::string reason) {
    return make_error(ErrorCode::parse, file, node.source().begin.line, std::move(reason));
  }
  void fail(const toml::node& node, std::string reason) {
    if (!error) error = at(node, std::move(reason));
  }
  void get(const toml::table& t, const char* key, std::size_t& out) {
    if (const toml::node* n = t.get(key)) {
      auto v = n->value<int64_t>();
      if (!v || *v < 0) return fail(*n, std::string(key) + " must be a non-negative integer");
      out = static_cast<std::size_t>(*v);
    }
  }
  void get(const toml::table& t, const char* key, int& out) {
    if (const toml::node* n = t.get(key)) {
      auto v = n->value<int64_t>();
      if (!v) return fail(*n, std::string(key) + " must be an integer");
      out = static_cast<int>(*v);
    }
  }
  void get(const toml::table& t, const char* key, double& out) {
    if (const toml::node* n = t.get(key)) {
      auto v = n->value<double>();  // integers convert
      if (!v) return fail(*n, std::string(key) + " must be a number");
      out = *v;
    }
  }
  void get(const toml::table& t, const char* key, bool& out) {
    if (const toml::node* n = t.get(key)) {
      auto v = n->value<bool>();
      if (!v) return fail(*n, std::string(key) + " must be true or false");
      out = *v;
    }
  }
  void get(const toml::table& t, const char* key, std::string& out) {
    if (const toml::node* n = t.get(key)) {
      auto v = n->value<std::string>();
      if (!v) return fail(*n, std::string(key) + " must be a string");
      out = *v;
    }
  }
  void get(const toml::table& t, const char* key, std::vector<std::string>& out) {
    if (const toml::node* n = t.get(key)) {
      const toml::array* arr = n->as_array();
      if (!arr) return fail(*n, std::string(key) + " must be an array of strings");
      out.clear();
      for (const toml::node& e : *arr) {
        auto v = e.value<std::string>();
        if (!v) return fail(e, std::string(key) + " must be an array of strings");
        out.push_back(*v);
      }
    }
  }
  void get(const toml::table& t, const char* key, std::vector<std::size_t>& out) {
    if (const toml::node* n = t.get(key)) {
      const toml::array* arr = n->as_array();
      if (!arr) return fail(*n, std::string(key) + " must be an array of integers");
      out.clear();
      for (const toml::node& e : *arr) {
        auto v = e.value<int64_t>();
        if (!v || *v < 0) return fail(e, std::string(key) + " must be an array of non-negative integers");
        out.push_back(static_cast<std::size_t>(*v));
      }
    }
  }
  void reject_unknown(const toml::table& t, std::initializer_list<std::string_view> known, const char* table) {
    for (const auto& [k, v] : t) {
      bool ok = false;
      for (auto name : known) ok = ok || k.str() == name;
      if (!ok) fail(v, std::string("unknown key '") + std::string(k.str()) + "' in [" + table + "]");
    }
  }
};

}  // namespace

Result<NetworkSpec> parse_network_spec(std::string_view toml_text, const std::string& display_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, display_name);
  } catch (const toml::parse_error& e) {
    return make_error(ErrorCode::parse, display_name, e.source().begin.line, std::string(e.description()));
  }
  NetworkSpec spec;
  TomlReader r{display_name, std::nullopt};
  if (const toml::table* in = root["input"].as_table()) {
    r.reject_unknown(*in,
                     {"sample_rate_hz", "channels", "window_length", "window_increment", "classes", "filter", "denoise",
                      "class_map"},
                     "input");
    r.get(*in, "sample_rate_hz", spec.input.sample_rate_hz);
    r.get(*in, "channels", spec.input.channel_names);
    r.get(*in, "window_length", spec.input.window_length);
    r.get(*in, "window_increment", spec.input.window_increment);
    r.get(*in, "classes", spec.class_names);
    if (const toml::table* f = (*in)["filter"].as_table()) {
      r.reject_unknown(*f, {"kind", "order", "low_hz", "high_hz", "causal"}, "input.filter");
      r.get(*f, "kind", spec.input.filter.kind);
      r.get(*f, "order", spec.input.filter.order);
      r.get(*f, "low_hz", spec.input.filter.low_hz);
      r.get(*f, "high_hz", spec.input.filter.high_hz);
      r.get(*f, "causal", spec.input.filter.causal);
    }
    if (const toml::node* cm = in->get("class_map")) {
      if (const toml::table* t = cm->as_table()) {
        for (const auto& [key, v] : *t) {
          if (auto name = v.value_exact<std::string>(); name && !name->empty())
            spec.input.class_map.emplace_back(std::string(key.str()), *name);
          else
            r.fail(v, "input.class_map." + std::string(key.str()) + " must be a non-empty string (the model's name)");
        }
      } else {
        r.fail(*cm, "input.class_map must be a table: data-set class = \"model's class name\"");
      }
    }
    if (const toml::node* dn = in->get("denoise")) {
      // [input.denoise]: the same keys as the model file's JSON object, read by the one shared reader.
      const toml::table* d = dn->as_table();
      nlohmann::json j = nlohmann::json::object();
      if (!d) {
        r.fail(*dn, "input.denoise must be a table");
      } else {
        for (const auto& [key, v] : *d) {
          if (auto i = v.value_exact<int64_t>()) j[std::string(key.str())] = *i;
          else if (auto x = v.value_exact<double>()) j[std::string(key.str())] = *x;
          else if (auto t = v.value_exact<std::string>()) j[std::string(key.str())] = *t;
          else r.fail(v, "input.denoise." + std::string(key.str()) + " must be a number or a string");
        }
        auto w = wavelet_stream_from_json(j, display_name);
        if (!w) r.fail(*dn, w.error().message());
        else spec.input.filter.denoise = *w;
      }
    }
  }
  if (const toml::table* m = root["model"].as_table()) {
    r.reject_unknown(*m,
                     {"arch", "filters", "kernel_size", "pool_size", "conv_bias", "dense_units", "dropout",
                      "frame_length", "frame_step", "hidden_size", "num_layers", "nperseg", "noverlap",
                      "power_floor"},
                     "model");
    ArchConfig& a = spec.arch;
    if (const toml::node* n = m->get("arch")) {
      auto v = n->value<std::string>();
      if (!v || !arch_kind_from_name(*v, a.kind))
        r.fail(*n, "model.arch must be one of cnn1d, spectrogram_cnn, lstm, cnn_lstm");
    }
    r.get(*m, "filters", a.filters);
    r.get(*m, "kernel_size", a.kernel_size);
    r.get(*m, "pool_size", a.pool_size);
    r.get(*m, "conv_bias", a.conv_bias);
    r.get(*m, "dense_units", a.dense_units);
    r.get(*m, "dropout", a.dropout);
    r.get(*m, "frame_length", a.frame_length);
    r.get(*m, "frame_step", a.frame_step);
    r.get(*m, "hidden_size", a.hidden_size);
    r.get(*m, "num_layers", a.num_layers);
    r.get(*m, "nperseg", a.nperseg);
    r.get(*m, "noverlap", a.noverlap);
    r.get(*m, "power_floor", a.power_floor);
  }
  if (r.error) return *r.error;
  if (Status s = validate_network_spec(spec); !s) {
    Error e = s.error();
    e.file = display_name;
    return e;
  }
  return spec;
}

Result<NetworkSpec> load_network_spec(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::io, path.string(), 0, "cannot open the config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_network_spec(ss.str(), path.string());
}

// ---------------------------------------------------------------- JSON

std::string network_spec_to_json(const NetworkSpec& spec) {
  using nlohmann::json;
  const InputSpec& in = spec.input;
  const ArchConfig& a = spec.arch;
  json j;
  j["input"] = {{"sample_rate_hz", in.sample_rate_hz},
                {"channels", in.channel_names},
                {"window_length", in.window_length},
                {"window_increment", in.window_increment},
                {"filter",
                 {{"kind", in.filter.kind},
                  {"order", in.filter.order},
                  {"low_hz", in.filter.low_hz},
                  {"high_hz", in.filter.high_hz},
                  {"causal", in.filter.causal}}}};
  if (in.filter.denoise) j["input"]["denoise"] = wavelet_stream_to_json(*in.filter.denoise);
  if (!in.class_map.empty()) {
    json cm = json::array();
    for (const auto& [from, to] : in.class_map) cm.push_back({from, to});
    j["input"]["class_map"] = cm;
  }
  j["model"] = {{"arch", arch_kind_name(a.kind)}, {"filters", a.filters},         {"kernel_size", a.kernel_size},
                {"pool_size", a.pool_size},       {"conv_bias", a.conv_bias},     {"dense_units", a.dense_units},
                {"dropout", a.dropout},           {"frame_length", a.frame_length}, {"frame_step", a.frame_step},
                {"hidden_size", a.hidden_size},   {"num_layers", a.num_layers},   {"nperseg", a.nperseg},
                {"noverlap", a.noverlap},         {"power_floor", a.power_floor}};
  j["classes"] = spec.class_names;
  j["normalisation"] = {{"mean", spec.normalisation.mean}, {"std", spec.normalisation.std}};
  j["notes"] = spec.notes;
  const ModelCard& c = spec.card;
  json ci = json::object();
  for (const auto& [cls, intent] : c.class_intents) ci[cls] = intent;
  j["card"] = {{"signal_unit", c.signal_unit},
               {"class_intents", ci},
               {"trained_on", c.trained_on},
               {"adapted_from", c.adapted_from},
               {"provenance",
                {{"program", c.provenance.program},
                 {"version", c.provenance.version},
                 {"commit", c.provenance.commit},
                 {"created_utc", c.provenance.created_utc}}}};
  return j.dump(1);
}

Result<NetworkSpec> network_spec_from_json(std::string_view json_text, const std::string& display_name) {
  using nlohmann::json;
  NetworkSpec spec;
  try {
    json j = json::parse(json_text);
    const json& in = j.at("input");
    spec.input.sample_rate_hz = in.at("sample_rate_hz").get<double>();
    spec.input.channel_names = in.at("channels").get<std::vector<std::string>>();
    spec.input.window_length = in.at("window_length").get<std::size_t>();
    spec.input.window_increment = in.at("window_increment").get<std::size_t>();
    const json& f = in.at("filter");
    spec.input.filter.kind = f.at("kind").get<std::string>();
    spec.input.filter.order = f.at("order").get<int>();
    spec.input.filter.low_hz = f.at("low_hz").get<double>();
    spec.input.filter.high_hz = f.at("high_hz").get<double>();
    spec.input.filter.causal = f.at("causal").get<bool>();
    if (in.contains("class_map"))
      for (const auto& pair : in.at("class_map"))
        spec.input.class_map.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
    if (in.contains("denoise")) {
      auto w = wavelet_stream_from_json(in.at("denoise"), display_name);
      if (!w) return w.error();
      spec.input.filter.denoise = *w;
    }
    const json& m = j.at("model");
    ArchConfig& a = spec.arch;
    if (!arch_kind_from_name(m.at("arch").get<std::string>(), a.kind))
      return make_error(ErrorCode::parse, display_name, 0, "unknown model.arch '" + m.at("arch").get<std::string>() + "'");
    a.filters = m.at("filters").get<std::vector<std::size_t>>();
    a.kernel_size = m.at("kernel_size").get<std::size_t>();
    a.pool_size = m.at("pool_size").get<std::size_t>();
    a.conv_bias = m.at("conv_bias").get<bool>();
    a.dense_units = m.at("dense_units").get<std::vector<std::size_t>>();
    a.dropout = m.at("dropout").get<double>();
    a.frame_length = m.at("frame_length").get<std::size_t>();
    a.frame_step = m.at("frame_step").get<std::size_t>();
    a.hidden_size = m.at("hidden_size").get<std::size_t>();
    a.num_layers = m.at("num_layers").get<std::size_t>();
    a.nperseg = m.at("nperseg").get<std::size_t>();
    a.noverlap = m.at("noverlap").get<std::size_t>();
    a.power_floor = m.at("power_floor").get<double>();
    spec.class_names = j.at("classes").get<std::vector<std::string>>();
    spec.normalisation.mean = j.at("normalisation").at("mean").get<std::vector<double>>();
    spec.normalisation.std = j.at("normalisation").at("std").get<std::vector<double>>();
    spec.notes = j.value("notes", std::string{});
    if (j.contains("card")) {
      const json& c = j.at("card");
      ModelCard& card = spec.card;
      card.signal_unit = c.at("signal_unit").get<std::string>();
      if (card.signal_unit.empty())
        return make_error(ErrorCode::parse, display_name, 0, "model card: signal_unit is empty");
      for (const auto& [cls, intent] : c.at("class_intents").items()) {
        if (!intent.is_string())
          return make_error(ErrorCode::parse, display_name, 0,
                            "model card: class_intents[\"" + cls + "\"] must be an intent name, got " + intent.dump());
        card.class_intents.emplace_back(cls, intent.get<std::string>());
      }
      card.trained_on = c.value("trained_on", std::vector<std::string>{});
      if (c.contains("adapted_from") && c["adapted_from"].is_string()) card.adapted_from = c["adapted_from"].get<std::string>();
      if (c.contains("provenance")) {
        const json& p = c.at("provenance");
        card.provenance = {p.value("program", ""), p.value("version", ""), p.value("commit", ""),
                           p.value("created_utc", "")};
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::parse, display_name, 0, std::string("model metadata: ") + e.what());
  }
  if (Status s = validate_network_spec(spec); !s) {
    Error e = s.error();
    e.file = display_name;
    return e;
  }
  return spec;
}

}  // namespace myoexo::models
