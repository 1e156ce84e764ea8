// myoexo::app — the `myoexo` command-line program as a library: one function per subcommand plus the
// CLI11 front end (`run_cli`), so tests drive exactly what a user runs.
//
// Conventions at this edge (and only here): rates in Hz and durations in s as a person types them; results
// go to `out` (stdout), progress and diagnostics to `err` (stderr); a failed command returns an Error which
// run_cli prints as "myoexo: error: ..." and turns into a non-zero exit code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace myoexo::app {

/// Exit codes of `myoexo`.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,  ///< the command ran and failed (bad file, network, ...)
  kExitUsage = 2,    ///< the command line itself is wrong (CLI11 parse/validation errors)
};

/// Where a command writes: results to `out`, progress/diagnostics to `err`.
struct Context {
  std::ostream& out;
  std::ostream& err;
  std::optional<std::string> data_dir;  ///< --data; unset = $MYOEXO_DATA, then ../shared/datasets
  bool quiet = false;                   ///< --quiet: no progress lines on err
  /// --json (evaluate, run, serve, predict): stdout carries one JSON document, the command's result (the same
  /// content as the metrics.json / summary.json it writes), instead of the lines for a person.
  bool json = false;
};

/// For --json: prints the JSON file a command wrote to ctx.out (error io when it cannot be read).
Status print_json_file(const Context& ctx, const std::filesystem::path& file);

/// The data-set root for this invocation (myoexo::find_dataset_root with --data as override).
std::optional<std::filesystem::path> resolve_data_root(const Context& ctx);

/// A path given on the command line: used as is when it exists; else, when relative and a data root is
/// known, `<data root>/path` if that exists (so `myoexo info uci-lower-limb` works); else as given (the
/// reader then reports it missing).
std::filesystem::path resolve_input_path(const Context& ctx, const std::filesystem::path& path);

// ---- info ---------------------------------------------------------------------------------------------------

struct InfoOptions {
  std::filesystem::path path;  ///< a folder (every recording below it) or one file
  bool json = false;           ///< JSON (one object) instead of the human table
};

/// Prints subjects, classes, channels, rates, durations, skipped rows, duplicates and unreadable files.
/// JSON keys: path, kind ("folder"|"file"), n_recordings, subjects, classes, channels, sample_rates_hz,
/// total_duration_s, rows_skipped, duplicates [{first, second}], unreadable [{file, line, code, reason}],
/// by_subject {subject: {class: n}}, recordings [{path, subject, group, class, session, channels, units,
/// sample_rate_hz, n_samples, duration_s, rows_skipped, skipped_lines, warnings}].
Status run_info(const Context& ctx, const InfoOptions& opt);

// ---- filter -------------------------------------------------------------------------------------------------

struct FilterOptions {
  std::filesystem::path input;
  std::filesystem::path output;              ///< .csv/.tsv/.txt -> CSV, .edf/.bdf -> EDF (io::write_recording)
  std::optional<double> bandpass_low_hz;     ///< both edges or neither; 0 < low < high < fs/2
  std::optional<double> bandpass_high_hz;
  int order = 4;                             ///< Butterworth order per edge, 1..8
  std::optional<double> notch_hz;            ///< mains notch centre, 0 < notch < fs/2
  double notch_q = 30.0;                     ///< notch quality factor (> 0)
  bool zero_phase = false;                   ///< sosfiltfilt (offline only) instead of the causal filter
  /// Channels to filter; empty = every channel whose unit is not an angle ("deg"), i.e. the EMG channels.
  /// The others are copied unchanged (a knee angle is not band-passed).
  std::vector<std::string> channels;
};

/// Reads `input`, filters the chosen channels (causal SosFilter by default) and writes `output`.
Status run_filter(const Context& ctx, const FilterOptions& opt);

// ---- spectrogram --------------------------------------------------------------------------------------------

struct SpectrogramOptions {
  std::filesystem::path input;
  std::string channel;                  ///< channel name (canonical, e.g. RF); required
  std::size_t nperseg = 256;            ///< samples per segment (>= 8)
  std::size_t noverlap = 128;           ///< overlap (< nperseg)
  std::string window = "hann";          ///< "hann" or "hamming"
  std::optional<double> bandpass_low_hz;   ///< optional causal band-pass before the transform
  std::optional<double> bandpass_high_hz;
  int order = 4;
  std::optional<double> max_freq_hz;    ///< crop the plot's frequency axis (the CSV keeps every bin)
  std::filesystem::path out_prefix;     ///< writes <prefix>.png and <prefix>.csv
  std::string title;                    ///< plot title; "" = "<file> - channel <name>"
};

/// Writes `<prefix>.png` (heat map: time s, frequency Hz, dB colour bar) and `<prefix>.csv` (long format:
/// time_s,frequency_hz,power_db; PSD scaling, one-sided, as scipy.signal.spectrogram's defaults except
/// the window/nperseg/noverlap chosen here).
Status run_spectrogram(const Context& ctx, const SpectrogramOptions& opt);

// ---- features -----------------------------------------------------------------------------------------------

struct FeaturesOptions {
  std::filesystem::path input;
  std::string set = "HTD";              ///< set name from --config, group name, acronym or comma list
  std::size_t window = 250;             ///< samples per window (>= 3)
  std::size_t increment = 50;           ///< samples between window starts (>= 1)
  std::optional<double> bandpass_low_hz;
  std::optional<double> bandpass_high_hz;
  int order = 4;
  std::optional<std::filesystem::path> config;  ///< TOML with named sets (features::load_feature_config)
  std::vector<std::string> channels;    ///< channels to use; empty = every EMG (non-"deg") channel
  std::filesystem::path output;         ///< CSV: window_start, then <channel>_<feature> columns
};

/// One row per complete window: the window's first sample (0-based), then every feature of every channel.
Status run_features(const Context& ctx, const FeaturesOptions& opt);

// ---- download -----------------------------------------------------------------------------------------------

inline constexpr const char* kUciLowerLimbUrl =
    "https://archive.ics.uci.edu/static/public/278/emg+dataset+in+lower+limb.zip";

struct DownloadOptions {
  std::string dataset = "uci-lower-limb";   ///< the only one known so far
  std::optional<std::filesystem::path> dest;  ///< folder receiving <dataset>/; unset = data root or ../shared/datasets
  std::string url = kUciLowerLimbUrl;       ///< http:// or https://
  double timeout_s = 30.0;                  ///< connect timeout and longest silence while reading (0.1..3600)
  double max_total_s = 900.0;               ///< upper bound on the whole transfer (>= timeout_s)
  bool force = false;                       ///< replace an existing, valid copy
  /// Use this local zip instead of downloading (a copy fetched elsewhere); url/timeouts are then unused.
  std::optional<std::filesystem::path> from_zip;
};

/// Downloads the zip (following redirects), unpacks it with libzip into `<dest>/<dataset>` and checks the
/// layout (A_TXT/ and N_TXT/ holding *.txt; one extra top-level folder, or a zip inside the zip, is
/// tolerated). Never hangs: every network wait is bounded by timeout_s and the whole transfer by
/// max_total_s. Errors: network (no route, refused, timeout, HTTP status), io, parse (not a zip / wrong
/// layout), invalid_argument (bad URL/options).
Status run_download(const Context& ctx, const DownloadOptions& opt);

/// The unpacking and layout check of run_download on a local zip (exposed for tests and offline use):
/// unpacks `zip_path` into `dest_dir` (which must not exist yet) and checks the UCI lower-limb layout.
Status unpack_uci_lower_limb(const std::filesystem::path& zip_path, const std::filesystem::path& dest_dir,
                             std::ostream& log);

/// Where A_TXT and N_TXT (each with >= 1 *.txt file, names matched case-insensitively) are: `root` itself,
/// or one folder below it. nullopt when the layout is not there.
std::optional<std::filesystem::path> find_uci_lower_limb_layout(const std::filesystem::path& root);

// ---- report (the main job) ----------------------------------------------------------------------------------

struct ReportOptions {
  std::filesystem::path out_dir = "report";   ///< created if missing
  std::string dataset = "uci-lower-limb";     ///< folder below the data root
  std::string channel = "RF";                 ///< channel of the per-class spectrograms
  std::string subject;                        ///< "" = the first subject (sorted) that has every class
  double band_low_hz = 20.0;                  ///< causal Butterworth band-pass before the spectrograms
  double band_high_hz = 450.0;
  int order = 4;
  bool replay = true;                         ///< step 3: LDA on the other subjects, replay into MuJoCo
  std::string replay_file = "1Amar";          ///< stem of the recording replayed (else the first gait file)
  /// CNN step (builds with LibTorch only): configs/cnn1d.toml under W and P (cnn_epochs) and L
  /// (cnn_epochs_loso), the Python baselines' budget; the L model of the replayed subject is saved for the replay.
  bool cnn = true;
  std::size_t cnn_epochs = 30;
  std::size_t cnn_epochs_loso = 10;
  /// CI-sized main job: CNN with 2 epochs (L: 1) and W/L folds for two subjects only; the report says so.
  bool quick = false;
};

/// The README's main job, as a sequence of steps writing into out_dir:
///   1. dataset.json — the `info --json` of the data set;
///   2. spectrogram_<class>.png/.csv — channel RF of one subject per movement class, band-passed causally;
///   3. replay/ — one recording (replay_file) replayed like `myoexo run` with an LDA trained on every other
///      subject (out-of-subject) into the MuJoCo exoskeleton: its plots and summary lines;
///   4. summary.md — links the files above with a few lines of text.
/// Prints where the report is on `out`. Later stages append steps (train, evaluate, replay).
Status run_report(const Context& ctx, const ReportOptions& opt);

// ---- run / record ---------------------------------------------------------------------------------
struct RunCommandOptions {
  std::filesystem::path replay;                     ///< recording to replay (any format read_recording knows)
  std::string port;                                 ///< or: a live serial board (firmware/PROTOCOL.md), its
                                                    ///< channels taken as the model's, in order
  double port_rate_hz = 1000.0;                     ///< the board's (or the ZeroMQ stream's) sampling rate
  int baud = 115200;
  /// or: EMG from a ZeroMQ publisher (stream/stream.hpp, "myoexo.emg"), in the model's channels, order and unit
  std::string zmq_in;
  /// Publish decisions, ticks, safety events and EMG on ZeroMQ at this endpoint while the run goes on ("" = no)
  std::string publish;
  double publish_wait_s = 0.0;                      ///< wait this long after binding before the run starts
  std::optional<std::filesystem::path> model;       ///< pipeline-model JSON or bare LDA JSON (see app/run.hpp)
  std::vector<std::filesystem::path> train_on;      ///< or: fit an LDA on these folders/files first
  bool include_same_subject = false;                ///< train_on: keep the replayed subject's recordings
  /// train_on: > 0 trains `evaluate --model lda_context`'s LDA (log-amplitude MAV WL ZC SSC RMS AR1-4 over the
  /// window plus a block over the window and this many past samples, clipped at the stream start); 0 = HTD.
  std::size_t lda_context = 0;
  std::optional<std::filesystem::path> save_model;  ///< write the (trained) pipeline model here
  /// Proportional knee: during lift and lower the knee follows the knee angle the model estimates from EMG (the
  /// model needs a knee-angle regressor; with train_on one is trained on the same recordings' goniometer).
  bool proportional = false;
  /// train_on: also train the knee-angle regressor (implied by proportional), predicting this far ahead [ms].
  bool knee_angle = false;
  double knee_angle_lead_ms = 0.0;
  /// train_on: the knee-angle regressor: "ridge" (on the LDA's feature row) or a network config (e.g.
  /// "cnn1d_context": the filtered window and its past, which the LDA's context must cover).
  std::string knee_model = "ridge";
  std::optional<std::size_t> knee_epochs;  ///< network knee model: overrides its config's epochs
  std::filesystem::path out_dir = "run";            ///< run_log.csv, events.csv, summary.json, *.png
  std::filesystem::path sim_model;                  ///< MJCF; "" = models/exo_leg.xml of the source tree
  double control_hz = 500.0;                        ///< control rate; the model timestep must divide its period
  std::size_t chunk_frames = 50;                    ///< frames per replay read (>= 1)
  bool realtime = false;                            ///< pace the replay in real time on the wall clock (else as fast
                                                    ///< as possible, in stream time)
  std::filesystem::path board;                      ///< board profile TOML; "" = MyoWare 2.0 RAW on a 5 V Uno (--port)
  std::string input_unit;                           ///< unit of a replayed recording that states none
  /// The operator console in the browser (`myoexo serve` = run with it): telemetry and commands over HTTP on
  /// console_bind:console_port (0 = any free port); a replay is then paced in real time.
  bool console = false;
  std::string console_bind = "127.0.0.1";
  int console_port = 8765;
  bool console_allow_remote = false;
  std::string console_token;                        ///< "" = a fresh random token, printed at start
  /// With console: a cue protocol TOML (configs/cues/). The console shows it; a recording started from the console
  /// runs it from its first sample, is written as EDF+ with every sample's cue as annotations (and a BIDS
  /// _events.tsv beside it), and ends with the protocol.
  std::filesystem::path cues;
  double seconds = 0.0;                             ///< replay at most this much stream time (0 = all)
  /// Injected faults "KIND:START_S:DURATION_S[:CHANNEL]" (KIND = nan_burst, flat_line, saturation,
  /// dropped_chunk, stall, out_of_order; CHANNEL index, default all).
  std::vector<std::string> faults;
  std::size_t random_faults = 0;                    ///< plus this many random faults of every kind
  std::uint64_t fault_seed = 1;
  double rejection_threshold = 0.9;                 ///< post-processing (see realtime::PostProcessOptions)
  std::size_t vote_window = 5;
  std::size_t min_dwell = 1;
  bool plots = true;
};
/// `myoexo run`: replay (or a live serial board, then --seconds is required and time is the wall clock) -> pipeline -> intents -> state machine -> trajectories -> controller -> supervisor ->
/// MuJoCo, writing out_dir/run_log.csv, events.csv, summary.json and PNG plots.
Status run_run(const Context& ctx, const RunCommandOptions& opt);

// ---- review ---------------------------------------------------------------------------------------------------

struct ReviewOptions {
  std::filesystem::path run_dir;        ///< the --out folder of a finished `run` / `serve`
  int port = 8765;                      ///< 0 = any free port
  std::string bind = "127.0.0.1";
  bool allow_remote = false;
  double seconds = 0.0;                 ///< serve this long, then exit; 0 = until Ctrl-C
};

/// `myoexo review DIR`: the console in review mode over a finished run's logs (run_log.csv, decisions.csv,
/// events.csv, summary.json): the whole run on every plot, scrubbed with a slider. Prints the URL; serves until
/// Ctrl-C (or `seconds`). Errors: io (not a run folder, port in use), parse (a malformed log line),
/// invalid_argument (a non-loopback address without allow_remote).
Status run_review(const Context& ctx, const ReviewOptions& opt);

struct RecordOptions {
  std::string port;                     ///< serial device, e.g. /dev/ttyACM0, /dev/rfcomm0
  std::size_t channels = 4;             ///< 1..16, must match the firmware
  double rate_hz = 1000.0;              ///< the firmware's sampling rate
  int baud = 115200;
  double seconds = 10.0;                ///< stream time to record (0 = until the board stops / Ctrl-C)
  std::filesystem::path output;         ///< .csv or .edf/.bdf
  std::filesystem::path board;          ///< board profile TOML: record mV at the skin instead of ADC codes
  std::filesystem::path cues;           ///< cue protocol TOML: prompt the movements and label every sample
  std::string subject;                  ///< the person's code, kept in an EDF+ header ("" = unknown)
  bool force = false;                   ///< overwrite an existing output file (refused otherwise)
};
/// `myoexo record`: SerialSource -> record_session (reconnects, loses no intact sample).
Status run_record(const Context& ctx, const RecordOptions& opt);

// ---- front end ----------------------------------------------------------------------------------------------

/// Parses `args` (args[0] is the program name) with CLI11 and runs the chosen subcommand.
/// Returns the process exit code (ExitCode). `--help` prints every option with its default to `out`.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace myoexo::app
