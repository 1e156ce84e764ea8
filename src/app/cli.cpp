// The CLI11 front end of `myoexo`: parses, runs one subcommand, turns an Error into stderr + exit code.
#include <CLI/CLI.hpp>
#include <functional>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include <ostream>

#include <cstdint>

#include "app/app.hpp"
#include "app/evaluate.hpp"
#include "app/sweep.hpp"
#ifdef MYOEXO_HAVE_TORCH
#include "app/train_cmd.hpp"
#endif
#include "core/paths.hpp"
#include "io/io.hpp"

namespace myoexo::app {

namespace {

// CLI11's Range / PositiveNumber / NonNegativeNumber let "nan" through (every comparison with NaN is false): every
// floating-point option checks this first.
const CLI::Validator kFiniteNumber(
    [](std::string& v) {
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      return std::isfinite(x) ? std::string() : "must be a finite number, got '" + v + "'";
    },
    "FINITE");

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

// --bandpass LOW HIGH and --denoise wavelet|none for the commands that prepare training data (evaluate, train).
struct FrontEndCli {
  std::vector<double> band;
  std::string denoise;
};
void add_front_end_options(CLI::App* sub, FrontEndCli& f) {
  sub->add_option("--bandpass", f.band, "Causal Butterworth band-pass LOW HIGH in Hz instead of the model's (e.g. "
                                        "20 150: the reference system's band; default 20 450)")
      ->expected(2)
      ->type_name("LOW HIGH")
      ->check(kFiniteNumber)
      ->default_str("");
  sub->add_option("--denoise", f.denoise, "Wavelet denoising after the band-pass: wavelet (db4, 4 levels, 128-sample "
                                          "blocks every 16 samples, 32 samples of delay) or none; default: the model's")
      ->check(CLI::IsMember({"wavelet", "none"}))
      ->default_str("");
}
FrontEndOverride front_end_override(const FrontEndCli& f) {
  FrontEndOverride o;
  copy_bandpass(f.band, o.band_low_hz, o.band_high_hz);
  if (!f.denoise.empty()) o.wavelet = f.denoise == "wavelet";
  return o;
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
  app.set_version_flag("--version", std::function<std::string()>([] {
    const auto resources = find_resource_dir();
    return std::string("myoexo ") + MYOEXO_VERSION + "\nresources: " +
           (resources ? resources->string() : std::string("none found (set $") + kResourcesEnvVar + ")") +
           "\ncompiled for: " + MYOEXO_CPU_TARGET;
  }));

  std::string data_dir;
  bool quiet = false;
  bool json_out = false;  // --json on evaluate, run/serve, predict
  const std::string json_help = "Print the result as one JSON document on stdout (the written metrics/summary) "
                                "instead of the lines for a person";
  app.add_option("--data", data_dir, "Data-set root (holds uci-lower-limb/); default: $" + std::string(kDataEnvVar) +
                                         ", else ../shared/datasets")
      ->type_name("DIR")
      ->default_str("");
  app.add_flag("-q,--quiet", quiet, "No progress lines on stderr");
  double csv_rate = 0.0;
  app.add_option("--csv-rate", csv_rate, "Sampling rate (Hz) of CSV/text recordings without a header row (channels "
                                         "are then ch1..chN); '%' and '#' lines are comments in any CSV")
      ->check(CLI::PositiveNumber)
      ->default_str("");

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
  auto* rep_cmd = app.add_subcommand("report", "The main job: summarises the data set, draws a spectrogram per "
                                               "movement, evaluates the LDA baseline and the CNN under protocol "
                                               "UCI-LL v1, estimates the knee angle, replays a held-out recording "
                                               "through the real-time chain into the simulated exoskeleton, and "
                                               "writes it all, with the plots, to a folder (summary.md)");
  rep_cmd->add_option("--out", rep_out, "Report folder (created if missing)");
  rep_cmd->add_option("--dataset", rep.dataset, "Data set folder below the data root");
  rep_cmd->add_option("--channel", rep.channel, "Channel of the spectrograms");
  rep_cmd->add_option("--subject", rep.subject, "Subject of the spectrograms (default: first with every class)");

  bool rep_no_replay = false;
  rep_cmd->add_flag("--no-replay", rep_no_replay, "Skip the replay step (LDA + MuJoCo simulation)");
  bool rep_no_cnn = false;
  rep_cmd->add_flag("--no-cnn", rep_no_cnn, "Skip the CNN step (training under W, P and L)");
  rep_cmd->add_option("--cnn-epochs", rep.cnn_epochs, "CNN epochs under W and P")->check(CLI::Range(1, 10000));
  rep_cmd->add_option("--cnn-epochs-loso", rep.cnn_epochs_loso, "CNN epochs under L")->check(CLI::Range(1, 10000));
  rep_cmd->add_flag("--quick", rep.quick, "CI-sized run: CNN for 2 epochs (L: 1), W/L folds of one subject only");

  // run
  RunCommandOptions run;
  std::string run_replay, run_model, run_out = run.out_dir.string(), run_sim, run_save;
  std::vector<std::string> run_train_on;
  auto* run_cmd = app.add_subcommand("run", "Replay a recording through the whole chain (filter, windows, LDA, "
                                            "intents, trajectories, controller, safety supervisor) into the "
                                            "MuJoCo exoskeleton (or live from a board with --port); writes "
                                            "run_log.csv, events.csv, summary.json, PNGs. `myoexo serve` = run "
                                            "--console: the same, watched and stopped from a browser");
  auto* replay_opt = run_cmd->add_option("--replay", run_replay, "Recording to replay");
  auto* port_opt = run_cmd->add_option("--port", run.port, "Or: a live serial board (firmware/PROTOCOL.md) whose "
                                                           "channels are the model's, in order; needs --seconds");
  auto* zmq_opt = run_cmd->add_option("--zmq", run.zmq_in, "Or: EMG from a ZeroMQ publisher (docs/streams.md; e.g. "
                                                          "tcp://127.0.0.1:5556) in the model's channels and unit; "
                                                          "needs --seconds and --rate");
  replay_opt->excludes(port_opt);
  port_opt->excludes(replay_opt);
  zmq_opt->excludes(replay_opt)->excludes(port_opt);
  run_cmd->add_option("--publish", run.publish, "Publish decisions, control ticks (100/s), safety events and the EMG "
                                                "on ZeroMQ at this endpoint while running (e.g. tcp://127.0.0.1:5556; "
                                                "docs/streams.md)");
  run_cmd->add_option("--publish-wait", run.publish_wait_s, "--publish: wait this long (s) before starting, so "
                                                             "subscribers see the stream from its start")
      ->check(CLI::Range(0.0, 60.0));
  run_cmd->add_option("--rate", run.port_rate_hz, "--port, --zmq: the stream's sampling rate in Hz")
      ->check(kFiniteNumber)->check(CLI::PositiveNumber);
  run_cmd->add_option("--baud", run.baud, "--port: serial baud rate (300..4000000)")->check(CLI::Range(300, 4000000));
  auto* model_opt = run_cmd->add_option("--model", run_model, "Model to use: a pipeline-model JSON, a bare LDA JSON, "
                                                              "or a LibTorch network file (`myoexo train`; its channels, "
                                                              "filter and windows configure the stream)");
  auto* train_opt = run_cmd->add_option("--train-on", run_train_on, "Folders/files to fit the LDA on first (the "
                                                                 "replayed subject is left out)")
                        ->delimiter(',');
  model_opt->excludes(train_opt);
  train_opt->excludes(model_opt);
  run_cmd->add_flag("--include-same-subject", run.include_same_subject,
                    "With --train-on: also train on the replayed subject's other recordings");
  run_cmd->add_flag("--proportional", run.proportional,
                    "During lift and lower the knee follows the knee angle estimated from EMG (through the same "
                    "safety supervisor); with --train-on a knee-angle regressor is trained on the goniometer too");
  run_cmd->add_flag("--knee-angle", run.knee_angle, "With --train-on: also train the knee-angle regressor (estimates "
                                                    "logged and plotted, followed only with --proportional)");
  run_cmd->add_option("--knee-lead-ms", run.knee_angle_lead_ms, "Knee-angle regressor: estimate the angle this far "
                                                                "after the window's end (0..500 ms)")
      ->check(kFiniteNumber)->check(CLI::Range(0.0, 500.0));
  run_cmd->add_option("--knee-model", run.knee_model,
                      "With --train-on: the knee-angle regressor: ridge (on the LDA's feature row; default), trees "
                      "(gradient-boosted trees on the log RMS of 20 x 50-sample segments of the filtered window and "
                      "its past; needs --lda-context 750) or a network config (cnn1d_context, a .toml): a one-output "
                      "network on the filtered window and the past samples the LDA's context keeps (--lda-context "
                      "must cover them)");
  run_cmd->add_option("--knee-epochs", run.knee_epochs, "With a network --knee-model: training epochs (default: the "
                                                        "config's)")
      ->check(CLI::Range(1, 100000));
  run_cmd->add_option("--lda-context", run.lda_context,
                      "With --train-on: train the lda_context LDA of `evaluate` (log-amplitude MAV WL ZC SSC RMS AR "
                      "over the window, plus the same over the window and N past samples, clipped at the stream "
                      "start; 750 is the declared variant); 0 = the plain HTD LDA")
      ->check(CLI::Range(0, 4000));
  auto* save_opt = run_cmd->add_option("--save-model", run_save, "Write the pipeline model used to this JSON file");
  run_cmd->add_option("--out", run_out, "Output folder (created if missing)");
  run_cmd->add_option("--sim-model", run_sim, "MuJoCo MJCF file (default: models/exo_leg.xml of the source tree)")
      ->default_str("");
  run_cmd->add_option("--control-hz", run.control_hz, "Control rate in Hz (a multiple of the model timestep)")
      ->check(kFiniteNumber)->check(CLI::Range(100.0, 5000.0));
  run_cmd->add_option("--chunk", run.chunk_frames, "Frames per replay read")->check(CLI::Range(1, 1000000));
  run_cmd->add_flag("--realtime", run.realtime,
                    "Pace the replay in real time on the wall clock, the control loop on its own thread (default: as "
                    "fast as possible, in stream time)");
  std::string run_board;
  run_cmd->add_option("--board", run_board,
                      "Board profile TOML (ADC bits, reference volts, gain, raw/env output, offset) saying what an ADC "
                      "code is; default for --port: MyoWare 2.0 RAW on a 5 V Arduino Uno (configs/boards/)")
      ->check(CLI::ExistingFile);
  run_cmd->add_flag("--console", run.console,
                    "Serve the operator console (`myoexo serve` = run --console): live EMG, electrode quality, "
                    "decoder, exoskeleton, timing and an emergency stop in the browser; a replay is paced in real time");
  run_cmd->add_option("--http-port", run.console_port, "--console: HTTP port (0 = any free port)")
      ->check(CLI::Range(0, 65535));
  run_cmd->add_option("--bind", run.console_bind, "--console: address to listen on (a non-loopback address needs "
                                                  "--allow-remote)");
  run_cmd->add_flag("--allow-remote", run.console_allow_remote, "--console: allow a non-loopback --bind");
  run_cmd->add_option("--cues", run.cues, "--console: a cue protocol TOML (configs/cues/): the console prompts each "
                                          "movement; a recording started from it is labelled with the cues (EDF+ "
                                          "annotations, BIDS _events.tsv) and ends with the protocol")
      ->check(CLI::ExistingFile);
  run_cmd->add_option("--token", run.console_token, "--console: the session token (default: a fresh random one)");
  run_cmd->add_option("--input-unit", run.input_unit,
                      "Unit of a replayed recording that states none (mV, V, uV, adc); the model's unit is never guessed");
  run_cmd->add_option("--seconds", run.seconds, "Replay (or, with --port, stream) at most this much (0 = all; --port: "
                                                 "required, at most 4 h)")
      ->check(kFiniteNumber)->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--fault", run.faults, "Inject a fault KIND:START_S:DURATION_S[:CHANNEL]; KIND = nan_burst, "
                                             "flat_line, saturation, dropped_chunk, stall, out_of_order (repeatable)")
      ->default_str("");
  run_cmd->add_option("--random-faults", run.random_faults, "Also inject this many random faults of every kind "
                                                            "(0..10000)")
      ->check(CLI::Range(0, 10000));
  run_cmd->add_option("--fault-seed", run.fault_seed, "Seed of the random faults (0..2^64-1)")
      ->check(CLI::Validator(
          [](std::string& v) {  // CLI11 would wrap "-1" into 2^64-1: refuse a sign or anything but digits
            const bool ok = !v.empty() && v.size() <= 20 &&
                            v.find_first_not_of("0123456789") == std::string::npos &&
                            (v.size() < 20 || v <= "18446744073709551615");
            return ok ? std::string() : "must be an integer in [0, 18446744073709551615], got '" + v + "'";
          },
          "UINT64"));
  run_cmd->add_option("--reject", run.rejection_threshold, "Rejection threshold: max probability below -> rest")
      ->check(kFiniteNumber)->check(CLI::Range(0.0, 1.0));
  run_cmd->add_option("--vote", run.vote_window, "Majority vote over this many decisions")->check(CLI::Range(1, 64));
  run_cmd->add_option("--dwell", run.min_dwell, "Decisions a new label must win before the output switches")
      ->check(CLI::Range(1, 1000));
  run_cmd->add_flag("--no-plots", [&run](std::int64_t) { run.plots = false; }, "Skip the PNG plots");
  run_cmd->add_flag("--json", json_out, json_help);

  // record
  RecordOptions recopt;
  std::string rec_out;
  auto* rec_cmd = app.add_subcommand("record", "Record a live serial EMG session (firmware/PROTOCOL.md) to CSV or EDF");
  rec_cmd->add_option("--port", recopt.port, "Serial device, e.g. /dev/ttyACM0 or /dev/rfcomm0")->required();
  rec_cmd->add_option("--channels", recopt.channels, "Channels per frame (as the firmware)")->check(CLI::Range(1, 16));
  rec_cmd->add_option("--rate", recopt.rate_hz, "Sampling rate of the firmware in Hz")
      ->check(kFiniteNumber)->check(CLI::PositiveNumber);
  rec_cmd->add_option("--baud", recopt.baud, "Serial baud rate (300..4000000)")->check(CLI::Range(300, 4000000));
  auto* rec_seconds_opt = rec_cmd->add_option("--seconds", recopt.seconds, "Stream time to record (0 = until the board stops or Ctrl-C)")
      ->check(kFiniteNumber)->check(CLI::NonNegativeNumber);
  rec_cmd->add_option("--out", rec_out, "Output file: .csv, .edf or .bdf")->required();
  rec_cmd->add_flag("--force", recopt.force, "Overwrite the output file if it exists (refused otherwise)");
  rec_cmd->add_option("--subject", recopt.subject, "The person's code (EDF+ header, e.g. P01; letters, digits, - and _)")
      ->check([](const std::string& v) {
        for (char c : v)
          if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
            return std::string("letters, digits, - and _ only");
        return std::string();
      })
      ->default_str("");
  rec_cmd->add_option("--cues", recopt.cues,
                      "Cue protocol TOML (configs/cues/): prompt each movement on the terminal when its time comes and "
                      "label every sample (BIDS sidecars beside --out: _events.tsv, _channels.tsv, _emg.json); "
                      "--seconds defaults to the protocol's length")
      ->check(CLI::ExistingFile);
  rec_cmd->add_option("--board", recopt.board,
                      "Board profile TOML (configs/boards/): record millivolts at the skin instead of raw ADC codes")
      ->check(CLI::ExistingFile);

  ReviewOptions rv;
  std::string rv_dir;
  auto* rv_cmd = app.add_subcommand("review", "Open a finished run (the --out folder of `run` / `serve`) in the "
                                              "console and scrub through it: angles, decisions, supervisor mode, "
                                              "events, the leg at any moment");
  rv_cmd->add_option("DIR", rv_dir, "The run's output folder (run_log.csv, decisions.csv, events.csv, "
                                    "summary.json)")->required();
  rv_cmd->add_option("--http-port", rv.port, "HTTP port (0 = any free port)")->check(CLI::Range(0, 65535));
  rv_cmd->add_option("--bind", rv.bind, "Address to listen on (a non-loopback address needs --allow-remote)");
  rv_cmd->add_flag("--allow-remote", rv.allow_remote, "Allow a non-loopback --bind");
  rv_cmd->add_option("--seconds", rv.seconds, "Serve this long, then exit (0 = until Ctrl-C)")
      ->check(kFiniteNumber)->check(CLI::NonNegativeNumber);

  EvaluateOptions ev;
  std::string ev_out = ev.out_dir.string(), ev_data;
  bool ev_no_plots = false;
  auto* ev_cmd = app.add_subcommand("evaluate", "Protocols W/P/L (UCI-LL v1) with a model: metrics.json, summary.md, "
                                                "confusion and per-class PNGs, one spectrogram per class");
  ev_cmd->add_option("--protocol", ev.protocol, "W (within), P (pooled), L (loso) or all");
  ev_cmd->add_option("--model", ev.model, "lda (HTD, the peers' baseline), lda_context (log-HTD + 750 past samples, "
                                          "a declared variant), a network config name (cnn1d, cnn1d_context, lstm, "
                                          "cnn_lstm, spectrogram_cnn: configs/NAME.toml) or a network config (.toml); with --target "
                                          "knee_angle also ridge (the default) and trees (gradient-boosted trees on "
                                          "the log RMS of 20 x 50-sample segments per channel) and person_trees "
                                          "(trees pooled over every subject's training part with a subject "
                                          "indicator, averaged with the person's own trees; under W the other "
                                          "subjects' training parts join each fold)");
  std::size_t ev_epochs = 0, ev_epochs_l = 0;
  auto* ev_epochs_opt = ev_cmd->add_option("--epochs", ev_epochs, "Networks: epochs for W and P (default: the "
                                                                  "config's [train] epochs)")
                            ->check(CLI::Range(1, 100000));
  auto* ev_epochs_l_opt = ev_cmd->add_option("--epochs-loso", ev_epochs_l, "Networks: epochs for L (default: as --epochs)")
                              ->check(CLI::Range(1, 100000));
  ev_cmd->add_option("--seeds", ev.seeds, "Networks: repeat every protocol with each seed (seed spread), e.g. 1,2,3")
      ->delimiter(',');
  ev_cmd->add_option("--jobs", ev.jobs, "Networks: folds trained at once, one thread each (0 = cores, max 4)")
      ->check(CLI::Range(0, 64));
  ev_cmd->add_option("--features", ev.features, "lda, lda_context: feature set (HTD, TDAR, TDPSD, a list such as "
                                                "RMS,WL,AR)");
  ev_cmd->add_option("--threshold", ev.zc_ssc_threshold, "lda, lda_context: ZC and SSC threshold in the data's "
                                                       "unit (mV here); default 0.005 for lda (the scikit-learn baseline's), "
                                                       "0 for lda_context (as declared)")
      ->check(kFiniteNumber)
      ->check(CLI::Range(0.0, 1e6))
      ->default_str("");
  ev_cmd->add_option("--save-loso-models", ev.save_loso_models, "Networks: keep the L model of these held-out "
                                                               "subjects (or all) as OUT/models/L_<subject>.pt")
      ->delimiter(',');
  ev_cmd->add_option("--context", ev.context, "Networks: past samples each window's input adds (declared variant, "
                                              "0..4000; never reaches before the test part)")
      ->check(CLI::Range(0, 4000));
  auto* ev_data_opt = ev_cmd->add_option("--dataset", ev_data, "Data-set folder (default: <data root>/uci-lower-limb)")
                          ->type_name("DIR")->default_str("");
  ev_cmd->add_option("--out", ev_out, "Output folder (created if missing)");
  ev_cmd->add_option("--subject", ev.subjects, "Held-out subject(s) for W and L, or the subjects to test a --model-file on (default: all)");
  ev_cmd->add_flag("--no-plots", ev_no_plots, "metrics.json and summary.md only");
  ev_cmd->add_flag("--json", json_out, json_help);
  ev_cmd->add_option("--target", ev.target, "class (the movement) or knee_angle (continuous knee angle from the "
                                            "goniometer channel, protocols W and L, per movement and pooled)")
      ->check(CLI::IsMember({"class", "knee_angle"}));
  ev_cmd->add_option("--lead-ms", ev.lead_ms, "knee_angle: estimate the angle this long after the window's last "
                                              "sample (0..500 ms)")
      ->check(kFiniteNumber)->check(CLI::Range(0.0, 500.0));
  ev_cmd->add_option("--angle-convention", ev.angle_convention, "knee_angle: detect (negate recordings that read "
                                                                "flexion-negative), flexion_positive or "
                                                                "flexion_negative (refuse recordings that disagree)")
      ->check(CLI::IsMember({"detect", "flexion_positive", "flexion_negative"}));
  ev_cmd->add_option("--smoothing-ms", ev.smoothing_ms, "knee_angle: causal first-order smoothing of the estimates "
                                                      "(time constant, ms; the live chain applies the same)")
      ->check(kFiniteNumber)->check(CLI::Range(0.0, 5000.0));
  double ev_alpha = 1.0;
  auto* ev_alpha_opt = ev_cmd->add_option("--alpha", ev_alpha, "knee_angle: ridge penalty on the standardised features "
                                                               "(default: chosen per fold from 0.1-1000 by inner "
                                                               "validation on the training windows)")
                           ->check(kFiniteNumber)->check(CLI::NonNegativeNumber)->default_str("");
  std::string ev_shard;
  auto* ev_shard_opt = ev_cmd->add_option("--shard", ev_shard, "Run shard I of N (0-based) of the task list (one task "
                                                               "per seed, protocol and fold): records in OUT/tasks, "
                                                               "no report; `myoexo merge` combines the shards")
                           ->type_name("I/N");
  ev_cmd->add_flag("--resume", ev.resume, "Keep the finished tasks of an interrupted run with the same settings in "
                                          "OUT/tasks and run only the rest");
  FrontEndCli ev_front;
  add_front_end_options(ev_cmd, ev_front);
  MergeOptions mg;
  std::string mg_out = "evaluation", mg_data;
  bool mg_no_plots = false;
  auto* mg_cmd = app.add_subcommand("merge", "Combine the task records of `evaluate --shard` runs into the report one "
                                             "whole run writes (metrics.json, summary.md, plots)");
  mg_cmd->add_option("shards", mg.shards, "The shards' output folders (or their tasks/ folders)")
      ->required()
      ->type_name("DIR...");
  mg_cmd->add_option("--out", mg_out, "Output folder of the report (created if missing)");
  auto* mg_data_opt = mg_cmd->add_option("--dataset", mg_data, "Data-set folder (default: where the shards read it)")
                          ->type_name("DIR")->default_str("");
  mg_cmd->add_flag("--no-plots", mg_no_plots, "metrics.json and summary.md only");
  mg_cmd->add_flag("--json", json_out, json_help);
  SweepOptions sw;
  std::string sw_file, sw_out = "sweep", sw_data, sw_shard;
  bool sw_plots = false;
  auto* sw_cmd = app.add_subcommand("sweep", "A grid of evaluation settings from a TOML file (models, feature sets, "
                                             "band-passes, wavelet stage, context, epochs, thresholds; seeds and "
                                             "protocols), one evaluation folder each and a results table sorted best "
                                             "first; resumable, shardable, shared across MPI ranks");
  sw_cmd->add_option("file", sw_file, "The sweep file (docs/cluster.md; configs/sweeps/)")->required()->type_name("SWEEP.toml");
  sw_cmd->add_option("--out", sw_out, "Output folder (created if missing; an earlier sweep's records there are kept)");
  auto* sw_data_opt = sw_cmd->add_option("--dataset", sw_data, "Data-set folder (default: <data root>/uci-lower-limb)")
                          ->type_name("DIR")->default_str("");
  auto* sw_shard_opt = sw_cmd->add_option("--shard", sw_shard, "Run shard I of N of every setting's tasks (records "
                                                               "only); the same command without --shard then writes "
                                                               "the table")
                           ->type_name("I/N");
  sw_cmd->add_flag("--plots", sw_plots, "Also draw each setting's confusion and per-class PNGs");
  sw_cmd->add_flag("--json", json_out, json_help);
  std::string ev_model_file;
  auto* ev_model_file_opt = ev_cmd->add_option("--model-file", ev_model_file, "A trained model file (`myoexo train`: "
                                                 "pipeline-model JSON or network): score it window by window on the "
                                                 "--subject recordings (default: all) it was not trained on, instead "
                                                 "of running the protocols")
                                ->type_name("FILE")->default_str("");

#ifdef MYOEXO_HAVE_TORCH
  // train / predict / calibrate (LibTorch networks)
  TrainCommandOptions tr;
  std::string tr_data, tr_out = tr.out.string(), tr_history, tr_ts;
  std::size_t tr_epochs = 0;
  int tr_threads = 1;
  std::uint64_t tr_seed = 0;
  bool tr_no_plots = false;
  auto* tr_cmd = app.add_subcommand("train", "Train a network (config file: [input], [model], [train]) on whole "
                                             "recordings: model file, history CSV, accuracy/loss PNGs");
  auto* tr_config_opt = tr_cmd->add_option("--config", tr.config, "Network config: a name (cnn1d, lstm, cnn_lstm, "
                                            "spectrogram_cnn, paper: configs/NAME.toml) or a .toml file");
  auto* tr_model_opt = tr_cmd->add_option("--model", tr.model, "What to train: lda (HTD) or lda_context (log-amplitude "
                                            "features over the window and --context past samples), written as a "
                                            "pipeline-model JSON; or a network config name (cnn1d, lstm, cnn_lstm, "
                                            "spectrogram_cnn: as --config NAME), written as a LibTorch model file. "
                                            "Both carry the signal unit, class -> intent map and provenance; `run`, "
                                            "`predict` and `evaluate --model-file` read either")
                           ->default_str("");
  tr_cmd->add_option("--context", tr.context_samples, "lda_context: past samples in the context block")
      ->check(CLI::Range(1, 4000));
  tr_cmd->add_option("--knee-model", tr.knee_model, "lda, lda_context: also train a knee-angle regressor on the "
                                                    "goniometer of the same recordings (proportional mode): ridge, "
                                                    "trees or a network config (cnn1d_context); trees and "
                                                    "cnn1d_context read the window and 750 past samples (lda_context "
                                                    "with --context 750)")
      ->default_str("");
  tr_cmd->add_option("--knee-person", tr.knee_person, "With --knee-model trees: the knee-angle trees of this subject "
                                                      "(a subject id of the training recordings, e.g. a new person "
                                                      "recorded beside a base data set): trees pooled over every "
                                                      "subject with a subject indicator, fixed at this person and "
                                                      "averaged with trees on their own recordings")
      ->default_str("");
  std::size_t tr_knee_epochs = 0;
  auto* tr_knee_epochs_opt = tr_cmd->add_option("--knee-epochs", tr_knee_epochs, "A network --knee-model: epochs "
                                                                                 "(default: the config's)")
                                 ->check(CLI::Range(1, 100000))->default_str("");
  tr_model_opt->excludes(tr_config_opt);
  auto* tr_data_opt = tr_cmd->add_option("--dataset", tr_data, "Data-set folder (default: <data root>/uci-lower-limb)")
                          ->type_name("DIR")->default_str("");
  tr_cmd->add_option("--subject", tr.subjects, "Subjects to train on (default: all)")->delimiter(',')->default_str("");
  tr_cmd->add_option("--exclude-subject", tr.exclude_subjects, "Subjects to leave out")->delimiter(',')->default_str("");
  tr_cmd->add_option("--channels", tr.channels, "lda, lda_context: channels to train on, in order (default: RF,BF,VM,ST "
                                                 "when the data has them, else every non-angle channel of the data)")
      ->default_str("");
  auto* tr_epochs_opt = tr_cmd->add_option("--epochs", tr_epochs, "Epochs (default: the config's [train] epochs)")
                            ->check(CLI::Range(1, 100000))->default_str("");
  auto* tr_threads_opt = tr_cmd->add_option("--threads", tr_threads, "LibTorch threads (default: the config's; 0 = "
                                                                     "LibTorch's default)")
                             ->check(CLI::Range(0, 256))->default_str("");
  auto* tr_seed_opt = tr_cmd->add_option("--seed", tr_seed, "Seed (default: the config's)")->default_str("");
  tr_cmd->add_option("--out", tr_out, "Model file (weights, architecture, normalisation, channels, filter, classes)");
  auto* tr_history_opt = tr_cmd->add_option("--history", tr_history, "History CSV (default: <out stem>_history.csv)")
                             ->default_str("");
  auto* tr_ts_opt = tr_cmd->add_option("--torchscript", tr_ts, "Also export a TorchScript module (torch.jit.load)")
                        ->default_str("");
  tr_cmd->add_flag("--no-plots", tr_no_plots, "Skip the accuracy/loss PNGs");
  FrontEndCli tr_front;
  add_front_end_options(tr_cmd, tr_front);
  std::string tr_init;
  auto* tr_init_opt = tr_cmd->add_option("--init", tr_init, "Start from this network model file's weights (fine-tune "
                                                             "every layer) instead of a fresh network; channels, "
                                                             "window and classes must match the data")
                          ->check(CLI::ExistingFile);

  PredictOptions pr;
  std::string pr_model, pr_input, pr_out;
  auto* pr_cmd = app.add_subcommand("predict", "Classify every window of a recording with a trained model: CSV of "
                                               "window times, predicted class and class probabilities");
  pr_cmd->add_option("--model", pr_model, "Model file written by `myoexo train` (a network, or an LDA pipeline-model "
                                          "JSON)")->required();
  pr_cmd->add_option("--input", pr_input, "Recording (any format `myoexo info` reads)")->required();
  auto* pr_out_opt = pr_cmd->add_option("--out", pr_out, "Predictions CSV (default: summary only)")->default_str("");
  pr_cmd->add_option("--batch", pr.batch, "Windows per inference call")->check(CLI::Range(1, 1 << 20));
  pr_cmd->add_flag("--json", json_out, json_help);

  CalibrateOptions cal;
  std::string cal_data, cal_out = cal.out_dir.string();
  std::size_t cal_epochs = 0;
  double cal_lr = 0;
  bool cal_no_plots = false;
  auto* cal_cmd = app.add_subcommand("calibrate", "Transfer learning: adapt leave-one-subject-out networks to each "
                                                  "held-out person with their first N s; calibration.json/.md/.png");
  cal_cmd->add_option("--config", cal.config, "Network config: a name (configs/NAME.toml) or a .toml file");
  auto* cal_data_opt = cal_cmd->add_option("--dataset", cal_data, "Data-set folder (default: <data root>/uci-lower-limb)")
                           ->type_name("DIR")->default_str("");
  cal_cmd->add_option("--subject", cal.subjects, "Held-out subjects (default: all)")->delimiter(',')->default_str("");
  cal_cmd->add_option("--train-subject", cal.train_subjects, "Subjects the LOSO models train on (default: every "
                                                             "other subject)")
      ->delimiter(',')->default_str("");
  cal_cmd->add_option("--seconds", cal.seconds, "Calibration seconds per recording, e.g. 2,5,10,20")->delimiter(',');
  auto* cal_modes_opt = cal_cmd->add_option("--modes", cal.modes, "Fine-tuning modes: head, full (with --model: one, "
                                                                  "default full)")->delimiter(',');
  auto* cal_epochs_opt = cal_cmd->add_option("--epochs", cal_epochs, "LOSO base epochs (default: the config's)")
                             ->check(CLI::Range(1, 100000))->default_str("");
  cal_cmd->add_option("--fine-tune-epochs", cal.fine_tune_epochs, "Fine-tuning epochs")->check(CLI::Range(1, 100000));
  auto* cal_lr_opt = cal_cmd->add_option("--fine-tune-lr", cal_lr, "Fine-tuning learning rate (default: the config's)")
                         ->check(kFiniteNumber)->check(CLI::PositiveNumber)->default_str("");
  cal_cmd->add_option("--jobs", cal.jobs, "Subjects processed at once, one thread each (0 = cores, max 4)")
      ->check(CLI::Range(0, 64));
  cal_cmd->add_option("--out", cal_out, "Output folder (created if missing); with --model: the calibrated model file "
                                        "(.pt for a network, .json for LDA)");
  std::string cal_loso;
  auto* cal_loso_opt = cal_cmd->add_option("--loso-models", cal_loso, "Folder of L_<subject>.pt models (`evaluate "
                                                                      "--protocol L --save-loso-models all`) to start "
                                                                      "from instead of training them");
  cal_cmd->add_flag("--no-plots", cal_no_plots, "calibration.json and calibration.md only");
  double cal_test_from = 0;
  auto* cal_test_from_opt = cal_cmd->add_option("--test-from", cal_test_from, "With --model: score on the windows after "
                                                                              "this many seconds (default: --seconds)")
                                ->check(kFiniteNumber)->check(CLI::PositiveNumber);
  auto* cal_lda_method_opt =
      cal_cmd->add_option("--lda-method", cal.lda_method, "With an LDA --model: refit (the discriminant fitted on the "
                                                          "person's windows alone) or adapt (class means and covariance "
                                                          "moved towards the person's)")
          ->check(CLI::IsMember({"refit", "adapt"}));
  auto* cal_base_weight_opt =
      cal_cmd->add_option("--base-weight", cal.base_weight_windows, "With --lda-method adapt: how many of the person's "
                                                                    "windows the base model weighs as much as")
          ->check(kFiniteNumber)->check(CLI::NonNegativeNumber);
  std::string cal_model;
  auto* cal_model_opt = cal_cmd->add_option(
      "--model", cal_model,
      "Calibrate this model (a network .pt: fine-tuned; an LDA .json: refitted or adapted) to the person in --dataset/--subject "
      "with the first --seconds of each recording, and write the calibrated model to --out FILE (`run` loads it); "
      "the rest of each recording scores both")->check(CLI::ExistingFile);
#endif

  // `myoexo serve ...` is `myoexo run --console ...`: the same session, watched and stopped from a browser.
  std::vector<std::string> words = args;
  if (words.size() > 1 && words[1] == "serve") {
    words[1] = "run";
    words.insert(words.begin() + 2, "--console");
  }
  // Every option that takes several values also takes them comma-separated ("--subject 1N,2A" = "--subject 1N 2A").
  const std::function<void(CLI::App*)> split_lists_on_commas = [&](CLI::App* a) {
    for (CLI::Option* o : a->get_options())
      if (o->get_items_expected_max() > 1) o->delimiter(',');
    for (CLI::App* sub : a->get_subcommands([](CLI::App*) { return true; })) split_lists_on_commas(sub);
  };
  split_lists_on_commas(&app);
  app.footer("Exit status: 0 done; 1 the command ran and failed (a bad file, a device, the network; the message "
             "says which file and why); 2 the command line is wrong (an unknown option, a value out of range).");
  // CLI11 wants argv-style input; it never modifies the strings.
  std::vector<const char*> argv;
  argv.reserve(words.size());
  for (const auto& a : words) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e, out, err);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  Context ctx{out, err, data_dir.empty() ? std::nullopt : std::optional<std::string>(data_dir), quiet, json_out};
  io::set_headerless_csv_rate(csv_rate);
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
      rep.cnn = !rep_no_cnn;
      status = run_report(ctx, rep);
    } else if (run_cmd->parsed()) {
      run.replay = run_replay;
      if (model_opt->count() > 0) run.model = run_model;
      for (const auto& t : run_train_on) run.train_on.emplace_back(t);
      if (save_opt->count() > 0) run.save_model = run_save;
      run.out_dir = run_out;
      run.sim_model = run_sim;
      run.board = run_board;
      status = run_run(ctx, run);
    } else if (ev_cmd->parsed()) {
      if (ev_data_opt->count() > 0) ev.data = ev_data;
      if (ev_model_file_opt->count() > 0) ev.model_file = ev_model_file;
      if (ev_alpha_opt->count() > 0) ev.ridge_alpha = ev_alpha;
      if (ev_epochs_opt->count() > 0) ev.epochs = ev_epochs;
      if (ev_epochs_l_opt->count() > 0) ev.epochs_loso = ev_epochs_l;
      ev.out_dir = ev_out;
      ev.front_end = front_end_override(ev_front);
      ev.plots = !ev_no_plots;
      if (ev_shard_opt->count() > 0) {
        auto sh = parse_shard(ev_shard);
        if (!sh) {
          status = sh.error();
        } else {
          ev.shard = *sh;
          status = run_evaluate(ctx, ev);
        }
      } else {
        status = run_evaluate(ctx, ev);
      }
    } else if (sw_cmd->parsed()) {
      sw.file = sw_file;
      sw.out_dir = sw_out;
      if (sw_data_opt->count() > 0) sw.data = sw_data;
      sw.plots = sw_plots;
      if (sw_shard_opt->count() > 0) {
        if (auto sh = parse_shard(sw_shard); sh) {
          sw.shard = *sh;
          status = run_sweep(ctx, sw);
        } else {
          status = sh.error();
        }
      } else {
        status = run_sweep(ctx, sw);
      }
    } else if (mg_cmd->parsed()) {
      mg.out_dir = mg_out;
      if (mg_data_opt->count() > 0) mg.data = mg_data;
      mg.plots = !mg_no_plots;
      status = run_merge(ctx, mg);
    } else if (rv_cmd->parsed()) {
      rv.run_dir = rv_dir;
      status = run_review(ctx, rv);
    } else if (rec_cmd->parsed()) {
      recopt.output = rec_out;
      if (!recopt.cues.empty() && rec_seconds_opt->count() == 0) recopt.seconds = 0;  // the protocol's length
      status = run_record(ctx, recopt);
    }
#ifdef MYOEXO_HAVE_TORCH
    if (tr_cmd->parsed()) {
      if (tr_data_opt->count() > 0) tr.data = tr_data;
      if (tr_epochs_opt->count() > 0) tr.epochs = tr_epochs;
      if (tr_threads_opt->count() > 0) tr.threads = tr_threads;
      if (tr_seed_opt->count() > 0) tr.seed = tr_seed;
      if (tr_history_opt->count() > 0) tr.history = tr_history;
      if (tr_ts_opt->count() > 0) tr.torchscript = tr_ts;
      tr.out = tr_out;
      tr.front_end = front_end_override(tr_front);
      tr.plots = !tr_no_plots;
      if (tr_init_opt->count() > 0) tr.init = tr_init;
      if (tr_knee_epochs_opt->count() > 0) tr.knee_epochs = tr_knee_epochs;
      status = run_train(ctx, tr);
    } else if (pr_cmd->parsed()) {
      pr.model = pr_model;
      pr.input = pr_input;
      if (pr_out_opt->count() > 0) pr.out = pr_out;
      status = run_predict(ctx, pr);
    } else if (cal_cmd->parsed()) {
      if (cal_data_opt->count() > 0) cal.data = cal_data;
      if (cal_epochs_opt->count() > 0) cal.epochs = cal_epochs;
      if (cal_lr_opt->count() > 0) cal.fine_tune_lr = cal_lr;
      cal.out_dir = cal_out;
      cal.plots = !cal_no_plots;
      if (cal_loso_opt->count() > 0) cal.loso_models = cal_loso;
      if (cal_model_opt->count() == 0 && cal_lda_method_opt->count() + cal_base_weight_opt->count() > 0)
        throw CLI::ValidationError("--lda-method/--base-weight", "need --model (an LDA model to calibrate)");
      if (cal.lda_method != "adapt" && cal_base_weight_opt->count() > 0)
        throw CLI::ValidationError("--base-weight", "needs --lda-method adapt");
      if (cal_model_opt->count() > 0) {
        cal.model = cal_model;
        cal.model_out = cal_out;
        if (cal_modes_opt->count() == 0) cal.modes = {"full"};
        if (cal_test_from_opt->count() > 0) cal.test_from_s = cal_test_from;
      }
      status = run_calibrate(ctx, cal);
    }
#endif
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
