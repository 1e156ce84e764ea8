// myoexo._core — the Python binding (pybind11) of the stages a Python user drives: reading recordings, the causal
// and zero-phase Butterworth filters, windowed features, LDA, trained models (probabilities per window), the
// streaming pipeline fed chunk by chunk, and the evaluation protocols. Every call goes to the same C++ objects the
// program runs; nothing is re-implemented here. Errors become Python exceptions carrying the file, line and reason
// (ValueError for bad arguments and mismatches, OSError for files, RuntimeError otherwise).
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstring>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/app.hpp"
#include "app/evaluate.hpp"
#include "app/model_file.hpp"
#include "dsp/dsp.hpp"
#include "eval/protocol.hpp"
#include "features/features.hpp"
#include "io/io.hpp"
#include "models/lda.hpp"
#include "realtime/pipeline.hpp"
#include "app/run.hpp"
#include "control/control.hpp"
#include "core/paths.hpp"
#include "hw/mock_exo.hpp"
#include "realtime/replay_source.hpp"
#include "session/drivers.hpp"
#include "session/model.hpp"
#include "session/session.hpp"
#ifdef MYOEXO_HAVE_SIM
#include "sim/mujoco_exo.hpp"
#endif

namespace py = pybind11;
using namespace myoexo;

namespace {

[[noreturn]] void raise(const Error& e) {
  const std::string m = e.message();
  switch (e.code) {
    case ErrorCode::invalid_argument:
    case ErrorCode::mismatch:
      throw py::value_error(m);
    case ErrorCode::io:
      PyErr_SetString(PyExc_OSError, m.c_str());
      throw py::error_already_set();
    default:
      throw std::runtime_error(m);
  }
}
template <typename T>
T take(Result<T>&& r) {
  if (!r) raise(r.error());
  return std::move(*r);
}
void check(const Status& s) {
  if (!s) raise(s.error());
}

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

// ---- recordings -------------------------------------------------------------------------------------------

// A Recording owned by Python; its samples are exposed without a copy ([channels x samples], channel-major).
using RecordingPtr = std::shared_ptr<io::Recording>;

py::array_t<double> recording_data(const RecordingPtr& r) {
  py::object owner = py::cast(r);
  return py::array_t<double>({r->n_channels(), r->n_samples}, {r->n_samples * sizeof(double), sizeof(double)},
                             r->samples.data(), owner);
}

RecordingPtr make_recording(const Array& data, double rate, std::vector<std::string> names,
                            std::vector<std::string> units, std::vector<int> labels,
                            std::vector<std::string> label_names, std::string subject, std::string label) {
  if (data.ndim() != 2) throw py::value_error("data must be 2-D: [channels, samples]");
  auto r = std::make_shared<io::Recording>();
  const std::size_t nch = std::size_t(data.shape(0)), n = std::size_t(data.shape(1));
  if (!(rate > 0)) throw py::value_error("sample_rate_hz must be > 0");
  if (names.empty())
    for (std::size_t c = 0; c < nch; ++c) names.push_back("ch" + std::to_string(c));
  if (names.size() != nch) throw py::value_error("channel_names must name each of the " + std::to_string(nch) + " channels");
  if (units.empty()) units.assign(nch, "");
  if (units.size() != nch) throw py::value_error("channel_units must give a unit per channel");
  if (!labels.empty() && labels.size() != n) throw py::value_error("labels must have one entry per sample");
  r->sample_rate_hz = rate;
  r->channel_names = std::move(names);
  r->channel_units = std::move(units);
  r->n_samples = n;
  r->samples.assign(data.data(), data.data() + nch * n);
  r->sample_labels = std::move(labels);
  r->label_names = std::move(label_names);
  r->subject_id = std::move(subject);
  r->label = std::move(label);
  return r;
}

// ---- filters ------------------------------------------------------------------------------------------------

dsp::SosDesign design_from(const Array& sos, double fs) {
  if (sos.ndim() != 2 || sos.shape(1) != 6) throw py::value_error("sos must be [sections, 6] (scipy's layout)");
  dsp::SosDesign d;
  d.sample_rate_hz = fs;
  for (py::ssize_t s = 0; s < sos.shape(0); ++s) {
    std::array<double, 6> row{};
    for (int k = 0; k < 6; ++k) row[std::size_t(k)] = sos.at(s, k);
    d.sections.push_back(row);
  }
  return d;
}

Array sos_array(const dsp::SosDesign& d) {
  Array out({py::ssize_t(d.sections.size()), py::ssize_t(6)});
  auto m = out.mutable_unchecked<2>();
  for (std::size_t s = 0; s < d.sections.size(); ++s)
    for (int k = 0; k < 6; ++k) m(py::ssize_t(s), k) = d.sections[s][std::size_t(k)];
  return out;
}

dsp::SosDesign butter(int order, py::object cutoff, std::string btype, double fs) {
  dsp::FilterKind kind;
  if (btype == "bandpass") kind = dsp::FilterKind::bandpass;
  else if (btype == "bandstop") kind = dsp::FilterKind::bandstop;
  else if (btype == "lowpass") kind = dsp::FilterKind::lowpass;
  else if (btype == "highpass") kind = dsp::FilterKind::highpass;
  else throw py::value_error("btype must be bandpass, bandstop, lowpass or highpass, not '" + btype + "'");
  if (kind == dsp::FilterKind::bandpass || kind == dsp::FilterKind::bandstop) {
    auto edges = cutoff.cast<std::vector<double>>();
    if (edges.size() != 2) throw py::value_error(btype + " needs two edges [low, high]");
    return take(dsp::design_butterworth(kind, order, edges[0], edges[1], fs));
  }
  return take(dsp::design_butterworth(kind, order, cutoff.cast<double>(), fs));
}

// A causal filter with state, fed [frames, channels] chunks: any chunking gives the output of one call.
class PyFilter {
 public:
  PyFilter(const Array& sos, std::size_t channels, double fs)
      : filter_(take(dsp::SosFilter::create(design_from(sos, fs), channels))) {}
  Array process(const Array& x) {
    const std::size_t nch = filter_.channels();
    if (!((x.ndim() == 2 && std::size_t(x.shape(1)) == nch) || (x.ndim() == 1 && nch == 1)))
      throw py::value_error("chunk must be [frames, " + std::to_string(nch) + "] (frames x channels)");
    Array out(x.request().shape);
    check(filter_.process(std::span<const double>(x.data(), std::size_t(x.size())),
                          std::span<double>(out.mutable_data(), std::size_t(out.size()))));
    return out;
  }
  void reset() { filter_.reset(); }
  std::size_t channels() const { return filter_.channels(); }

 private:
  dsp::SosFilter filter_;
};

Array sosfiltfilt(const Array& sos, const Array& x, double fs) {
  // [channels, samples] or [samples]: channel-major, as the C++ call takes.
  const std::size_t nch = x.ndim() == 2 ? std::size_t(x.shape(0)) : 1;
  if (x.ndim() != 1 && x.ndim() != 2) throw py::value_error("x must be [samples] or [channels, samples]");
  Array out(x.request().shape);
  check(dsp::sosfiltfilt(design_from(sos, fs), std::span<const double>(x.data(), std::size_t(x.size())), nch,
                         std::span<double>(out.mutable_data(), std::size_t(out.size()))));
  return out;
}

// ---- features and LDA ---------------------------------------------------------------------------------------

py::dict window_features(const RecordingPtr& rec, const std::string& features, std::size_t window,
                         std::size_t increment, std::vector<std::string> channels) {
  auto spec = take(features::make_feature_spec(features));
  auto m = take(features::extract_features(*rec, spec, window, increment, channels));
  Array values({py::ssize_t(m.n_rows()), py::ssize_t(m.n_cols())});
  std::memcpy(values.mutable_data(), m.values.data(), m.values.size() * sizeof(double));
  py::dict d;
  d["values"] = values;
  d["columns"] = m.column_names;
  py::array_t<std::int64_t> starts{static_cast<py::ssize_t>(m.window_starts.size())};
  for (std::size_t i = 0; i < m.window_starts.size(); ++i) starts.mutable_data()[i] = std::int64_t(m.window_starts[i]);
  d["window_starts"] = starts;
  d["window"] = m.window_len;
  d["increment"] = m.increment;
  return d;
}

models::LdaClassifier lda_fit(const Array& x, const py::array_t<int, py::array::c_style | py::array::forcecast>& y,
                              std::vector<std::string> classes, std::string solver, py::object shrinkage) {
  if (x.ndim() != 2) throw py::value_error("X must be [rows, features]");
  if (y.ndim() != 1 || y.shape(0) != x.shape(0)) throw py::value_error("y must hold one label per row of X");
  models::LdaOptions o;
  if (solver == "svd") o.solver = models::LdaSolver::svd;
  else if (solver == "lsqr") o.solver = models::LdaSolver::lsqr;
  else if (solver == "eigen") o.solver = models::LdaSolver::eigen;
  else throw py::value_error("solver must be svd, lsqr or eigen");
  if (!shrinkage.is_none()) {
    if (py::isinstance<py::str>(shrinkage)) {
      if (shrinkage.cast<std::string>() != "auto") throw py::value_error("shrinkage must be None, 'auto' or a number in [0, 1]");
      o.shrinkage = models::LdaShrinkage::ledoit_wolf;
    } else {
      o.shrinkage = models::LdaShrinkage::fixed;
      o.shrinkage_value = shrinkage.cast<double>();
    }
  }
  std::span<const int> labels(y.data(), std::size_t(y.size()));
  if (classes.empty()) {
    int k = 0;
    for (int v : labels) k = std::max(k, v + 1);
    for (int c = 0; c < k; ++c) classes.push_back(std::to_string(c));
  }
  return take(models::LdaClassifier::fit(x.data(), std::size_t(x.shape(0)), std::size_t(x.shape(1)), labels,
                                         std::move(classes), {}, o));
}

Array lda_predict_proba(models::LdaClassifier& lda, const Array& x) {
  if (x.ndim() != 2) throw py::value_error("X must be [rows, features]");
  Array out({x.shape(0), py::ssize_t(lda.n_classes())});
  check(lda.predict_proba(x.data(), std::size_t(x.shape(0)), std::size_t(x.shape(1)), out.mutable_data()));
  return out;
}

// ---- trained models and the streaming pipeline ----------------------------------------------------------------

using ModelPtr = std::shared_ptr<session::PipelineModel>;

py::dict model_predict_recording(const ModelPtr& m, const RecordingPtr& rec) {
  auto w = take(app::model_window_probabilities(*m, *rec));
  const std::size_t k = w.classes.size();
  Array probs({py::ssize_t(w.n_windows), py::ssize_t(k)});
  std::memcpy(probs.mutable_data(), w.probs.data(), w.probs.size() * sizeof(double));
  py::array_t<std::int64_t> starts{static_cast<py::ssize_t>(w.n_windows)};
  for (std::size_t i = 0; i < w.n_windows; ++i) starts.mutable_data()[i] = std::int64_t(i * w.inc);
  py::dict d;
  d["classes"] = w.classes;
  d["probabilities"] = probs;
  d["window_starts"] = starts;
  d["window"] = w.len;
  d["increment"] = w.inc;
  return d;
}

// The live chain's pipeline on a loaded model: frames in, decisions out, chunk by chunk.
class PyPipeline {
 public:
  PyPipeline(const ModelPtr& m, double rejection_threshold, std::size_t vote_window) : model_(m) {
    realtime::PostProcessOptions post;
    post.rejection_threshold = rejection_threshold;
    post.vote_window = vote_window;
    auto spec = take(session::pipeline_spec_for(*m, m->sample_rate_hz, post));
    std::unique_ptr<models::Classifier> clf;
    if (m->network)
      throw py::value_error("the streaming pipeline in Python runs the LDA family; a network model predicts with "
                            "Model.predict_proba(recording)");
    clf = std::make_unique<models::LdaClassifier>(m->lda);
    classes_ = session::model_class_names(*m);
    pipe_.emplace(take(realtime::StreamingPipeline::create(std::move(spec), std::move(clf))));
    nch_ = m->channels.size();
  }

  // frames: [frames, channels] in the model's unit and channel order. Returns a dict of arrays, one entry per
  // decision the chunk completed.
  py::dict process(const Array& frames) {
    if (frames.ndim() != 2 || std::size_t(frames.shape(1)) != nch_)
      throw py::value_error("frames must be [frames, " + std::to_string(nch_) + "] in the model's channel order");
    decisions_.clear();
    realtime::ChunkTiming timing;
    timing.first_sample_s = double(frames_seen_) / model_->sample_rate_hz;
    check(pipe_->process(std::span<const double>(frames.data(), std::size_t(frames.size())), timing,
                         [&](const realtime::Decision& d) { decisions_.push_back(d); }));
    frames_seen_ += std::size_t(frames.shape(0));
    const std::size_t n = decisions_.size(), k = classes_.size();
    const auto len = static_cast<py::ssize_t>(n);
    py::array_t<std::int64_t> window{len}, raw{len};
    py::array_t<bool> rejected{len};
    Array probs({len, py::ssize_t(k)}), end_s{len}, knee{len};
    py::list intents;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& d = decisions_[i];
      window.mutable_data()[i] = std::int64_t(d.window_start_sample);
      raw.mutable_data()[i] = d.raw_class;
      rejected.mutable_data()[i] = d.rejected;
      end_s.mutable_data()[i] = d.intent.window_end_s;
      knee.mutable_data()[i] = d.knee_angle_deg;
      for (std::size_t c = 0; c < k; ++c) probs.mutable_data()[i * k + c] = c < d.n_probabilities ? d.probabilities[c] : 0.0;
      intents.append(control::intent_label_name(d.intent.label));
    }
    py::dict out;
    out["window_start"] = window;
    out["window_end_s"] = end_s;
    out["raw_class"] = raw;
    out["probabilities"] = probs;
    out["rejected"] = rejected;
    out["intent"] = intents;
    out["knee_angle_deg"] = knee;
    return out;
  }
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  ModelPtr model_;
  std::optional<realtime::StreamingPipeline> pipe_;
  std::vector<std::string> classes_;
  std::vector<realtime::Decision> decisions_;
  std::size_t nch_ = 0, frames_seen_ = 0;
};

// ---- a replay session -------------------------------------------------------------------------------------------

// The live chain on a recording, in stream time, into the simulated exoskeleton (or the mock actuators): the
// session the program's `run` hosts, driven here. Returns columns (the Python side makes structured arrays).
py::dict replay(const ModelPtr& m, const RecordingPtr& rec, double seconds, std::vector<std::string> faults,
                bool proportional, const std::string& backend, double rejection_threshold, std::size_t vote_window,
                double control_hz) {
  if (!(control_hz >= 100 && control_hz <= 5000)) throw py::value_error("control_hz must be in [100, 5000]");
  const std::size_t nch = m->channels.size();
  double full_scale = 0.0;
  for (const auto& name : m->channels) {
    const int c = rec->channel_index(name);
    if (c < 0) throw py::value_error("the recording has no channel " + name + " (the model needs them, in order)");
    for (double x : rec->channel(std::size_t(c)))
      if (std::isfinite(x)) full_scale = std::max(full_scale, std::abs(x));
  }
  realtime::ReplayOptions ro;
  ro.channels = m->channels;
  for (const auto& f : faults) ro.faults.push_back(take(app::parse_fault(f)));
  auto src = take(realtime::ReplaySource::create(*rec, ro));

  std::unique_ptr<control::ExoHardware> hw;
  double dt = 0.002;
  if (backend == "mujoco") {
#ifdef MYOEXO_HAVE_SIM
    // The control rate as a whole number of the model's steps (as `myoexo run --control-hz`).
    const auto mjcf = resource_path("models/exo_leg.xml");
    auto exo = take(sim::MujocoExo::load_file(mjcf));
    const double sub = 1.0 / (control_hz * exo->control_period_s());
    if (std::abs(sub - std::round(sub)) > 1e-6 || std::round(sub) < 1)
      throw py::value_error("control_hz: the period must be a multiple of the model's timestep " +
                            std::to_string(exo->control_period_s()) + " s");
    sim::MujocoExoSpec es;
    es.substeps = int(std::round(sub));
    if (es.substeps != 1) exo = take(sim::MujocoExo::load_file(mjcf, es));
    dt = exo->control_period_s();
    hw = std::move(exo);
#else
    throw py::value_error("this build has no MuJoCo: backend='mock'");
#endif
  } else if (backend == "mock") {
    hw = std::make_unique<hw::MockExo>();
    dt = 1.0 / control_hz;
  } else {
    throw py::value_error("backend must be 'mujoco' or 'mock'");
  }
  session::SessionSpec ss;
  ss.control_hz = 1.0 / dt;
  ss.loop.proportional.enabled = proportional;
  ss.post.rejection_threshold = rejection_threshold;
  ss.post.vote_window = vote_window;
  ss.full_scale = full_scale;
  ss.clock = session::SessionClock::stream;
  ss.emg_tap_seconds = 0.0;
  auto sess = take(session::Session::create(ss, std::make_shared<const session::PipelineModel>(*m),
                                            std::make_unique<realtime::ReplaySource>(std::move(src)), *hw));
  check(sess->configure());
  std::vector<session::TickTelemetry> ticks;
  std::vector<realtime::Decision> decisions;
  std::vector<control::SafetyEvent> events;
  session::DriverOptions dopt;
  dopt.duration_s = seconds;
  dopt.service = [&] {
    session::TickTelemetry t;
    while (sess->pop_telemetry(t)) ticks.push_back(t);
    realtime::Decision d;
    while (sess->pop_decision(d)) decisions.push_back(d);
    (void)sess->flush_events([&](const control::SafetyEvent& e) { events.push_back(e); });
  };
  check(sess->activate(0.0));
  Result<session::DriverReport> drv = [&] {
    py::gil_scoped_release release;
    return session::run_stream_clock(*sess, dopt);
  }();
  (void)sess->deactivate();
  dopt.service();
  if (!drv) raise(drv.error());

  const auto col = [](std::size_t n) { return Array{static_cast<py::ssize_t>(n)}; };
  const std::size_t n = ticks.size();
  Array t_s = col(n), hip_set = col(n), knee_set = col(n), hip = col(n), knee = col(n), hip_tau = col(n),
        knee_tau = col(n), knee_est = col(n), conf = col(n);
  py::array_t<std::int32_t> faults_col{static_cast<py::ssize_t>(n)};
  py::array_t<bool> following{static_cast<py::ssize_t>(n)};
  py::list mode, active, decision;
  constexpr double deg = 180.0 / M_PI;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& t = ticks[i];
    t_s.mutable_data()[i] = t.t_s;
    hip_set.mutable_data()[i] = t.setpoint[0] * deg;
    knee_set.mutable_data()[i] = t.setpoint[1] * deg;
    hip.mutable_data()[i] = t.q[0] * deg;
    knee.mutable_data()[i] = t.q[1] * deg;
    hip_tau.mutable_data()[i] = t.tau[0];
    knee_tau.mutable_data()[i] = t.tau[1];
    knee_est.mutable_data()[i] = t.knee_estimate_deg;
    conf.mutable_data()[i] = t.confidence;
    faults_col.mutable_data()[i] = std::int32_t(t.sensor_faults);
    following.mutable_data()[i] = t.following;
    mode.append(control::supervisor_mode_name(t.mode));
    active.append(control::intent_label_name(t.active));
    decision.append(control::intent_label_name(t.decision));
  }
  py::dict tick_cols;
  tick_cols["t_s"] = t_s;
  tick_cols["mode"] = mode;
  tick_cols["decision"] = decision;
  tick_cols["confidence"] = conf;
  tick_cols["active_intent"] = active;
  tick_cols["hip_setpoint_deg"] = hip_set;
  tick_cols["knee_setpoint_deg"] = knee_set;
  tick_cols["hip_deg"] = hip;
  tick_cols["knee_deg"] = knee;
  tick_cols["hip_torque_nm"] = hip_tau;
  tick_cols["knee_torque_nm"] = knee_tau;
  tick_cols["sensor_faults"] = faults_col;
  tick_cols["knee_estimate_deg"] = knee_est;
  tick_cols["following"] = following;

  const auto classes = session::model_class_names(*m);
  const std::size_t nd = decisions.size();
  Array end_s = col(nd), prob = col(nd);
  py::array_t<bool> rejected{static_cast<py::ssize_t>(nd)};
  py::list klass, intent;
  for (std::size_t i = 0; i < nd; ++i) {
    const auto& d = decisions[i];
    end_s.mutable_data()[i] = d.intent.window_end_s;
    prob.mutable_data()[i] = d.raw_probability;
    rejected.mutable_data()[i] = d.rejected;
    klass.append(d.raw_class >= 0 && std::size_t(d.raw_class) < classes.size() ? classes[std::size_t(d.raw_class)]
                                                                                : std::string());
    intent.append(control::intent_label_name(d.intent.label));
  }
  py::dict dec_cols;
  dec_cols["window_end_s"] = end_s;
  dec_cols["class"] = klass;
  dec_cols["probability"] = prob;
  dec_cols["rejected"] = rejected;
  dec_cols["intent"] = intent;

  py::list ev;
  for (const auto& e : events) {
    py::dict d;
    d["t_s"] = e.t_s;
    d["reason"] = control::safety_reason_name(e.reason);
    d["joint"] = e.joint;
    d["value"] = e.value;
    d["limit"] = e.limit;
    ev.append(d);
  }
  py::dict out;
  out["ticks"] = tick_cols;
  out["decisions"] = dec_cols;
  out["events"] = ev;
  out["control_hz"] = 1.0 / dt;
  out["backend"] = backend;
  out["channels"] = nch;
  return out;
}

// ---- evaluation -------------------------------------------------------------------------------------------------

py::object evaluate(const std::vector<RecordingPtr>& recordings, const std::string& model, const std::string& protocol,
                    std::vector<std::string> subjects, const std::filesystem::path& out_dir, bool plots,
                    bool progress) {
  std::vector<io::Recording> recs;
  recs.reserve(recordings.size());
  for (const auto& r : recordings) recs.push_back(*r);
  std::ostringstream out, err;
  app::Context ctx{out, err, std::nullopt, !progress};
  app::EvaluateOptions opt;
  opt.model = model;
  opt.protocol = protocol;
  opt.subjects = std::move(subjects);
  opt.out_dir = out_dir;
  opt.plots = plots;
  Result<app::EvaluateOutcome> r = [&] {
    py::gil_scoped_release release;  // long work: other Python threads run
    return app::evaluate_recordings(ctx, recs, opt);
  }();
  if (!r) raise(r.error());
  return py::module_::import("json").attr("loads")(eval::evaluation_to_json(r->result).dump());
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "myoexo: leg surface-EMG to exoskeleton commands (the C++ stages, bound with pybind11)";

  py::class_<io::Event>(m, "Event")
      .def_readonly("onset_s", &io::Event::onset_s)
      .def_readonly("duration_s", &io::Event::duration_s)
      .def_readonly("label", &io::Event::label)
      .def("__repr__", [](const io::Event& e) {
        return "Event(onset_s=" + std::to_string(e.onset_s) + ", duration_s=" + std::to_string(e.duration_s) +
               ", label='" + e.label + "')";
      });

  py::class_<io::Recording, RecordingPtr>(m, "Recording",
                                          "A recording: data [channels, samples] (a view, no copy), names, units, "
                                          "rate, labels")
      .def(py::init(&make_recording), py::arg("data"), py::arg("sample_rate_hz"), py::arg("channel_names") = std::vector<std::string>{},
           py::arg("channel_units") = std::vector<std::string>{}, py::arg("labels") = std::vector<int>{},
           py::arg("label_names") = std::vector<std::string>{}, py::arg("subject") = "", py::arg("label") = "")
      .def_property_readonly("data", &recording_data)
      .def_readonly("sample_rate_hz", &io::Recording::sample_rate_hz)
      .def_readonly("channel_names", &io::Recording::channel_names)
      .def_readonly("channel_units", &io::Recording::channel_units)
      .def_readonly("n_samples", &io::Recording::n_samples)
      .def_readonly("subject", &io::Recording::subject_id)
      .def_readonly("group", &io::Recording::group)
      .def_readonly("label", &io::Recording::label)
      .def_property_readonly("labels", [](const io::Recording& r) {
        return py::array_t<int>(py::ssize_t(r.sample_labels.size()), r.sample_labels.data());
      })
      .def_readonly("label_names", &io::Recording::label_names)
      .def_readonly("annotations", &io::Recording::annotations)
      .def_property_readonly("path", [](const io::Recording& r) { return r.source_path.string(); })
      .def_readonly("rows_skipped", &io::Recording::rows_skipped)
      .def_readonly("warnings", &io::Recording::warnings)
      .def("channel", [](const RecordingPtr& r, const std::string& name) {
        const int c = r->channel_index(name);
        if (c < 0) throw py::key_error("no channel '" + name + "'");
        return py::array_t<double>({r->n_samples}, {sizeof(double)}, r->samples.data() + std::size_t(c) * r->n_samples,
                                   py::cast(r));
      }, py::arg("name"))
      .def("__repr__", [](const io::Recording& r) {
        std::string names;
        for (const auto& n : r.channel_names) names += (names.empty() ? "" : ", ") + n;
        return "Recording(" + std::to_string(r.n_channels()) + " channels [" + names + "], " +
               std::to_string(r.n_samples) + " samples at " + std::to_string(int(r.sample_rate_hz)) + " Hz" +
               (r.subject_id.empty() ? "" : ", subject " + r.subject_id) + (r.label.empty() ? "" : ", " + r.label) + ")";
      });

  m.def("read_recording", [](const std::filesystem::path& p, std::optional<double> csv_rate_hz) {
    io::set_headerless_csv_rate(csv_rate_hz.value_or(0.0));
    auto r = io::read_recording(p);
    io::set_headerless_csv_rate(0.0);
    return std::make_shared<io::Recording>(take(std::move(r)));
  }, py::arg("path"), py::arg("csv_rate_hz") = py::none(),
        "Reads a UCI lower-limb text file, UCI gestures, CSV/TSV, EDF/EDF+/BDF or XDF (by content). csv_rate_hz: the "
        "rate of a CSV without a header row.");
  m.def("load_dataset", [](const std::filesystem::path& root) {
    auto d = take(io::load_dataset(root));
    std::vector<RecordingPtr> out;
    for (auto& r : d.recordings) out.push_back(std::make_shared<io::Recording>(std::move(r)));
    return out;
  }, py::arg("root"), "Every recording below a folder (recursively), e.g. uci-lower-limb/.");

  m.def("butter", [](int order, py::object cutoff, std::string btype, double fs) {
    return sos_array(butter(order, cutoff, btype, fs));
  }, py::arg("order"), py::arg("cutoff"), py::arg("btype") = "bandpass", py::arg("fs"),
        "Butterworth design as second-order sections [sections, 6], equal to scipy.signal.butter(..., output='sos').");
  m.def("notch", [](double f0, double q, double fs) { return sos_array(take(dsp::design_notch(f0, q, fs))); },
        py::arg("f0"), py::arg("Q"), py::arg("fs"), "Notch as second-order sections (scipy.signal.iirnotch).");
  m.def("sosfiltfilt", &sosfiltfilt, py::arg("sos"), py::arg("x"), py::arg("fs") = 0.0,
        "Zero-phase filtering of [samples] or [channels, samples], equal to scipy.signal.sosfiltfilt (odd padding).");
  py::class_<PyFilter>(m, "Filter", "Causal filter with state: process() chunks of [frames, channels]; any chunking "
                                    "gives the output of one call (scipy.signal.sosfilt carrying zi).")
      .def(py::init<const Array&, std::size_t, double>(), py::arg("sos"), py::arg("channels") = 1, py::arg("fs") = 0.0)
      .def("process", &PyFilter::process, py::arg("chunk"))
      .def("reset", &PyFilter::reset)
      .def_property_readonly("channels", &PyFilter::channels);

  m.def("window_features", &window_features, py::arg("recording"), py::arg("features") = "HTD",
        py::arg("window") = 250, py::arg("increment") = 50, py::arg("channels") = std::vector<std::string>{},
        "Features of every complete window: {'values': [windows, columns], 'columns', 'window_starts', ...}. "
        "features: a group (HTD, TDAR, TDPSD, ...), acronyms or a comma-separated list.");
  m.def("feature_groups", &features::feature_group_names);

  py::class_<models::LdaClassifier>(m, "LDA", "Linear discriminant analysis equal to scikit-learn's")
      .def_static("fit", &lda_fit, py::arg("X"), py::arg("y"), py::arg("classes") = std::vector<std::string>{},
                  py::arg("solver") = "svd", py::arg("shrinkage") = py::none())
      .def("predict_proba", &lda_predict_proba, py::arg("X"))
      .def("predict", [](models::LdaClassifier& lda, const Array& x) {
        Array p = lda_predict_proba(lda, x);
        py::array_t<int> out(p.shape(0));
        const std::size_t k = lda.n_classes();
        for (py::ssize_t i = 0; i < p.shape(0); ++i) {
          const double* row = p.data() + i * py::ssize_t(k);
          out.mutable_data()[i] = int(std::max_element(row, row + k) - row);
        }
        return out;
      }, py::arg("X"))
      .def_property_readonly("classes", &models::LdaClassifier::class_names)
      .def_property_readonly("coef", [](const models::LdaClassifier& l) {
        Array a({py::ssize_t(l.n_classes()), py::ssize_t(l.n_inputs())});
        std::memcpy(a.mutable_data(), l.coef().data(), l.coef().size() * sizeof(double));
        return a;
      })
      .def_property_readonly("intercept", [](const models::LdaClassifier& l) {
        return Array(py::ssize_t(l.intercept().size()), l.intercept().data());
      })
      .def("to_json", &models::LdaClassifier::to_json);

  py::class_<session::PipelineModel, ModelPtr>(m, "Model", "A trained model file (myoexo train / run --save-model)")
      .def_property_readonly("classes", [](const session::PipelineModel& pm) { return session::model_class_names(pm); })
      .def_readonly("channels", &session::PipelineModel::channels)
      .def_readonly("sample_rate_hz", &session::PipelineModel::sample_rate_hz)
      .def_readonly("signal_unit", &session::PipelineModel::signal_unit)
      .def_readonly("window", &session::PipelineModel::window_len)
      .def_readonly("increment", &session::PipelineModel::increment)
      .def_property_readonly("kind", [](const session::PipelineModel& pm) { return app::model_classifier_name(pm); })
      .def_property_readonly("filter", [](const session::PipelineModel& pm) { return session::describe_model_filter(pm); })
      .def_readonly("trained_on", &session::PipelineModel::trained_on)
      .def("predict_proba", &model_predict_recording, py::arg("recording"),
           "Class probabilities of every window of a recording, as `myoexo predict` computes them: "
           "{'classes', 'probabilities': [windows, classes], 'window_starts', ...}")
      .def("pipeline", [](const ModelPtr& pm, double threshold, std::size_t vote) {
        return std::make_unique<PyPipeline>(pm, threshold, vote);
      }, py::arg("rejection_threshold") = 0.9, py::arg("vote_window") = 5,
           "The live chain's streaming pipeline on this model");
  m.def("_replay", &replay, py::arg("model"), py::arg("recording"), py::arg("seconds") = 0.0,
        py::arg("faults") = std::vector<std::string>{}, py::arg("proportional") = false,
        py::arg("backend") = "mujoco", py::arg("rejection_threshold") = 0.9, py::arg("vote_window") = 5,
        py::arg("control_hz") = 500.0);
  m.def("load_model", [](const std::filesystem::path& p) {
    return std::make_shared<session::PipelineModel>(take(app::load_model(p)));
  }, py::arg("path"));

  py::class_<PyPipeline>(m, "Pipeline", "Streaming pipeline: process() chunks of [frames, channels]; returns the "
                                        "decisions they completed (any chunking gives the same decisions)")
      .def("process", &PyPipeline::process, py::arg("frames"))
      .def_property_readonly("classes", &PyPipeline::classes);

  m.def("evaluate", &evaluate, py::arg("recordings"), py::arg("model") = "lda", py::arg("protocol") = "all",
        py::arg("subjects") = std::vector<std::string>{}, py::arg("out_dir") = std::filesystem::path("evaluation"),
        py::arg("plots") = false, py::arg("progress") = false,
        "Protocol UCI-LL v1 (W, P, L or all) as `myoexo evaluate` runs it; returns metrics.json as a dict (and "
        "writes it, summary.md and, with plots=True, the figures into out_dir).");
}
