// The CLI11 front end of `myoexo`: parses, runs one subcommand, turns an Error into stderr + exit code.
#include <CLI/CLI.hpp>

#include <ostream>

#include <cstdint>

#include "app/app.hpp"
#include "app/evaluate.hpp"
#include "core/paths.hpp"

namespace myoexo::app {

namespace {

// --bandpass LOW HIGH as two doubles, or absent.
void add_bandpass(CLI::App* sub, std::vector<double>& values, int& order) {
  sub->add_option("--bandpass", values, "Butterworth band-pass edges LOW HIGH in Hz (0 < LOW < HIGH < rate/2)")
      ->expected(2)
      ->type_name("LOW HIGH")
      ->default_str("");
  sub->add_option("--order", order, "Butterworth order per edge (1..8)")->check(CLI::Range(1, 8));
}

void copy_bandpass(const std::vector<double>& values, std::optional<double>& low, std::optional<double>& high) {
  if (values.size() == 2) low = values[0], high = values[1];
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"myoexo: leg surface-EMG tools (read, filter, spectrograms, features, reports).\n"
               "Data sets are found with --data, else $" + std::string(kDataEnvVar) +
                   ", else ../shared/datasets.",
               "myoexo"};
  app.option_defaults()->always_capture_default();
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the subcommand
  app.set_version_flag("--version", "myoexo 0.1.0");

  std::string data_dir;
  bool quiet = false;
  app.add_option("--data", data_dir, "Data-set root (holds uci-lower-limb/); default: $" + std::string(kDataEnvVar) +
                                         ", else ../shared/datasets")
      ->type_name("DIR")
      ->default_str("");
  app.add_flag("-q,--quiet", quiet, "No progress lines on stderr");

  // info
  InfoOptions info;
  std::string info_path;
  auto* info_cmd = app.add_subcommand("info", "Subjects, classes, channels, rates, durations, skipped rows and "
                                              "duplicates of a folder or one file");
  info_cmd->add_option("PATH", info_path, "Folder or recording file (relative paths are also tried below --data)")
      ->required();
  info_cmd->add_flag("--json", info.json, "Print JSON instead of a table");

  // filter
  FilterOptions filt;
  std::string filt_in, filt_out;
  std::vector<double> filt_band;
  double notch_hz = 0;
  auto* filter_cmd = app.add_subcommand("filter", "Band-pass / notch filter a recording and write it (CSV or EDF)");
  filter_cmd->add_option("FILE", filt_in, "Recording to filter")->required();
  add_bandpass(filter_cmd, filt_band, filt.order);
  auto* notch_opt = filter_cmd->add_option("--notch", notch_hz, "Mains notch centre in Hz (e.g. 50 or 60)")
                        ->default_str("");
  filter_cmd->add_option("--notch-q", filt.notch_q, "Notch quality factor (centre / bandwidth)");
  filter_cmd->add_flag("--zero-phase", filt.zero_phase, "Zero-phase (forward-backward, offline only) instead of causal");
  filter_cmd->add_option("--channels", filt.channels, "Channels to filter (comma-separated); default: every "
                                                      "non-angle channel, others are copied unchanged")
      ->delimiter(',')
      ->default_str("");
  filter_cmd->add_option("--out", filt_out, "Output file: .csv/.tsv/.txt -> CSV, .edf/.bdf -> EDF")->required();

  // spectrogram
  SpectrogramOptions spec;
  std::string spec_in, spec_prefix;
  std::vector<double> spec_band;
  double spec_fmax = 0;
  auto* spec_cmd = app.add_subcommand("spectrogram", "Spectrogram of one channel: PREFIX.png (heat map) and "
                                                      "PREFIX.csv (time_s, frequency_hz, power_db)");
  spec_cmd->add_option("FILE", spec_in, "Recording")->required();
  spec_cmd->add_option("--channel", spec.channel, "Channel name (e.g. RF)")->required();
  spec_cmd->add_option("--nperseg", spec.nperseg, "Samples per segment")->check(CLI::Range(8, 1 << 20));
  spec_cmd->add_option("--noverlap", spec.noverlap, "Overlapping samples between segments (< nperseg)");
  spec_cmd->add_option("--window", spec.window, "Window: hann or hamming")->check(CLI::IsMember({"hann", "hamming"}));
  add_bandpass(spec_cmd, spec_band, spec.order);
  auto* fmax_opt = spec_cmd->add_option("--max-freq", spec_fmax, "Crop the plot at this frequency in Hz")
                       ->default_str("");
  spec_cmd->add_option("--title", spec.title, "Plot title (default: file and channel)");
  spec_cmd->add_option("--out", spec_prefix, "Output prefix: writes PREFIX.png and PREFIX.csv")->required();

  // features
  FeaturesOptions feat;
  std::string feat_in, feat_out, feat_config;
  std::vector<double> feat_band;
  auto* feat_cmd = app.add_subcommand("features", "Per-window features: one CSV row per window (window_start, "
                                                  "then <channel>_<feature> columns)");
  feat_cmd->add_option("FILE", feat_in, "Recording")->required();
  feat_cmd->add_option("--set", feat.set, "Feature set: a --config set, a group (HTD, TDAR, TDPSD, AR, HJORTH, "
                                          "SPECTRAL, ALL), an acronym or a comma list");
  feat_cmd->add_option("--window", feat.window, "Window length in samples")->check(CLI::Range(3, 1 << 24));
  feat_cmd->add_option("--increment", feat.increment, "Samples between window starts")->check(CLI::Range(1, 1 << 24));
  add_bandpass(feat_cmd, feat_band, feat.order);
  auto* config_opt = feat_cmd->add_option("--config", feat_config, "TOML file with named feature sets")
                         ->default_str("");
  feat_cmd->add_option("--channels", feat.channels, "Channels (comma-separated); default: every non-angle channel")
      ->delimiter(',')
      ->default_str("");
  feat_cmd->add_option("--out", feat_out, "Output CSV")->required();

  // download
  DownloadOptions dl;
  std::string dl_dest;
  auto* dl_cmd = app.add_subcommand("download", "Download and unpack a public data set (needs internet)");
  dl_cmd->add_option("DATASET", dl.dataset, "Data set: uci-lower-limb")->required()->check(CLI::IsMember({"uci-lower-limb"}));
  auto* dest_opt = dl_cmd->add_option("--dest", dl_dest, "Folder receiving DATASET/ (default: --data, $" +
                                                              std::string(kDataEnvVar) + ", else ../shared/datasets)")
                       ->default_str("");
  dl_cmd->add_option("--url", dl.url, "Where to fetch the zip from");
  dl_cmd->add_option("--timeout-s", dl.timeout_s, "Connect timeout and longest silence while reading, s");
  dl_cmd->add_option("--max-total-s", dl.max_total_s, "Upper bound on the whole transfer, s");
  dl_cmd->add_flag("--force", dl.force, "Download again even if a valid copy is present");
  std::string dl_zip;
  auto* zip_opt = dl_cmd->add_option("--from-zip", dl_zip, "Unpack and check this local zip instead of downloading "
                                                           "(for machines without internet)")
                      ->type_name("FILE")
                      ->default_str("");

  // report
  ReportOptions rep;
  std::string rep_out = rep.out_dir.string();
  auto* rep_cmd = app.add_subcommand("report", "The main job: data-set summary and per-class spectrograms in a "
                                               "folder, linked from summary.md");
  rep_cmd->add_option("--out", rep_out, "Report folder (created if missing)");
  rep_cmd->add_option("--dataset", rep.dataset, "Data set folder below the data root");
  rep_cmd->add_option("--channel", rep.channel, "Channel of the spectrograms");
  rep_cmd->add_option("--subject", rep.subject, "Subject of the spectrograms (default: first with every class)");

  bool rep_no_replay = false;
  rep_cmd->add_flag("--no-replay", rep_no_replay, "Skip the replay step (LDA + MuJoCo simulation)");

  // run
  RunCommandOptions run;
  std::string run_replay, run_model, run_out = run.out_dir.string(), run_sim, run_save;
  std::vector<std::string> run_train;
  auto* run_cmd = app.add_subcommand("run", "Replay a recording through the whole chain (filter, windows, LDA, "
                                            "intents, trajectories, controller, safety supervisor) into the "
                                            "MuJoCo exoskeleton; writes run_log.csv, events.csv, summary.json, PNGs");
  auto* replay_opt = run_cmd->add_option("--replay", run_replay, "Recording to replay");
  auto* port_opt = run_cmd->add_option("--port", run.port, "Or: a live serial board (firmware/PROTOCOL.md) whose "
                                                           "channels are the model's, in order; needs --seconds");
  replay_opt->excludes(port_opt);
  port_opt->excludes(replay_opt);
  run_cmd->add_option("--rate", run.port_rate_hz, "--port: the board's sampling rate in Hz")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--baud", run.baud, "--port: serial baud rate")->check(CLI::PositiveNumber);
  auto* model_opt = run_cmd->add_option("--model", run_model, "Pipeline model JSON (or a bare LDA JSON) to use");
  auto* train_opt = run_cmd->add_option("--train-on", run_train, "Folders/files to fit the LDA on first (the "
                                                                 "replayed subject is left out)")
                        ->delimiter(',');
  model_opt->excludes(train_opt);
  train_opt->excludes(model_opt);
  run_cmd->add_flag("--include-same-subject", run.include_same_subject,
                    "With --train-on: also train on the replayed subject's other recordings");
  auto* save_opt = run_cmd->add_option("--save-model", run_save, "Write the pipeline model used to this JSON file");
  run_cmd->add_option("--out", run_out, "Output folder (created if missing)");
  run_cmd->add_option("--sim-model", run_sim, "MuJoCo MJCF file (default: models/exo_leg.xml of the source tree)")
      ->default_str("");
  run_cmd->add_option("--control-hz", run.control_hz, "Control rate in Hz (a multiple of the model timestep)")
      ->check(CLI::Range(100.0, 5000.0));
  run_cmd->add_option("--chunk", run.chunk_frames, "Frames per replay read")->check(CLI::Range(1, 1000000));
  run_cmd->add_flag("--realtime", run.realtime, "Pace the replay in real time (default: as fast as possible)");
  run_cmd->add_option("--seconds", run.seconds, "Replay at most this much of the recording (0 = all)")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--fault", run.faults, "Inject a fault KIND:START_S:DURATION_S[:CHANNEL]; KIND = nan_burst, "
                                             "flat_line, saturation, dropped_chunk, stall, out_of_order (repeatable)")
      ->default_str("");
  run_cmd->add_option("--random-faults", run.random_faults, "Also inject this many random faults of every kind");
  run_cmd->add_option("--fault-seed", run.fault_seed, "Seed of the random faults");
  run_cmd->add_option("--reject", run.rejection_threshold, "Rejection threshold: max probability below -> rest")
      ->check(CLI::Range(0.0, 1.0));
  run_cmd->add_option("--vote", run.vote_window, "Majority vote over this many decisions")->check(CLI::Range(1, 64));
  run_cmd->add_option("--dwell", run.min_dwell, "Decisions a new label must win before the output switches")
      ->check(CLI::Range(1, 1000));
  run_cmd->add_flag("--no-plots", [&run](std::int64_t) { run.plots = false; }, "Skip the PNG plots");

  // record
  RecordOptions recopt;
  std::string rec_out;
  auto* rec_cmd = app.add_subcommand("record", "Record a live serial EMG session (firmware/PROTOCOL.md) to CSV or EDF");
  rec_cmd->add_option("--port", recopt.port, "Serial device, e.g. /dev/ttyACM0 or /dev/rfcomm0")->required();
  rec_cmd->add_option("--channels", recopt.channels, "Channels per frame (as the firmware)")->check(CLI::Range(1, 16));
  rec_cmd->add_option("--rate", recopt.rate_hz, "Sampling rate of the firmware in Hz")->check(CLI::PositiveNumber);
  rec_cmd->add_option("--baud", recopt.baud, "Serial baud rate")->check(CLI::PositiveNumber);
  rec_cmd->add_option("--seconds", recopt.seconds, "Stream time to record (0 = until the board stops or Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  rec_cmd->add_option("--out", rec_out, "Output file: .csv, .edf or .bdf")->required();

  EvaluateOptions ev;
  std::string ev_out = ev.out_dir.string(), ev_data;
  bool ev_no_plots = false;
  auto* ev_cmd = app.add_subcommand("evaluate", "Protocols W/P/L (UCI-LL v1) with a model: metrics.json, summary.md, "
                                                "confusion and per-class PNGs, one spectrogram per class");
  ev_cmd->add_option("--protocol", ev.protocol, "W, P, L or all");
  ev_cmd->add_option("--model", ev.model, "Model (lda)");
  auto* ev_data_opt = ev_cmd->add_option("--dataset", ev_data, "Data-set folder (default: <data root>/uci-lower-limb)")
                          ->type_name("DIR")->default_str("");
  ev_cmd->add_option("--out", ev_out, "Output folder (created if missing)");
  ev_cmd->add_option("--subject", ev.subjects, "Held-out subject(s) for W and L (default: all)");
  ev_cmd->add_flag("--no-plots", ev_no_plots, "metrics.json and summary.md only");

  // CLI11 wants argv-style input; it never modifies the strings.
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e, out, err);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  Context ctx{out, err, data_dir.empty() ? std::nullopt : std::optional<std::string>(data_dir), quiet};
  Status status;
  try {
    if (info_cmd->parsed()) {
      info.path = info_path;
      status = run_info(ctx, info);
    } else if (filter_cmd->parsed()) {
      filt.input = filt_in;
      filt.output = filt_out;
      copy_bandpass(filt_band, filt.bandpass_low_hz, filt.bandpass_high_hz);
      if (notch_opt->count() > 0) filt.notch_hz = notch_hz;
      status = run_filter(ctx, filt);
    } else if (spec_cmd->parsed()) {
      spec.input = spec_in;
      spec.out_prefix = spec_prefix;
      copy_bandpass(spec_band, spec.bandpass_low_hz, spec.bandpass_high_hz);
      if (fmax_opt->count() > 0) spec.max_freq_hz = spec_fmax;
      status = run_spectrogram(ctx, spec);
    } else if (feat_cmd->parsed()) {
      feat.input = feat_in;
      feat.output = feat_out;
      copy_bandpass(feat_band, feat.bandpass_low_hz, feat.bandpass_high_hz);
      if (config_opt->count() > 0) feat.config = feat_config;
      status = run_features(ctx, feat);
    } else if (dl_cmd->parsed()) {
      if (dest_opt->count() > 0) dl.dest = dl_dest;
      if (zip_opt->count() > 0) dl.from_zip = dl_zip;
      status = run_download(ctx, dl);
    } else if (rep_cmd->parsed()) {
      rep.out_dir = rep_out;
      rep.replay = !rep_no_replay;
      status = run_report(ctx, rep);
    } else if (run_cmd->parsed()) {
      run.replay = run_replay;
      if (model_opt->count() > 0) run.model = run_model;
      for (const auto& t : run_train) run.train_on.emplace_back(t);
      if (save_opt->count() > 0) run.save_model = run_save;
      run.out_dir = run_out;
      run.sim_model = run_sim;
      status = run_run(ctx, run);
    } else if (ev_cmd->parsed()) {
      if (ev_data_opt->count() > 0) ev.data = ev_data;
      ev.out_dir = ev_out;
      ev.plots = !ev_no_plots;
      status = run_evaluate(ctx, ev);
    } else if (rec_cmd->parsed()) {
      recopt.output = rec_out;
      status = run_record(ctx, recopt);
    }
  } catch (const std::exception& e) {
    // Only programmer errors throw; still report them like any failure instead of aborting.
    err << "myoexo: internal error: " << e.what() << '\n';
    return kExitFailure;
  }
  if (!status) {
    err << "myoexo: error: " << status.error().message() << '\n';
    return status.error().code == ErrorCode::invalid_argument ? kExitUsage : kExitFailure;
  }
  return kExitOk;
}

}  // namespace myoexo::app
