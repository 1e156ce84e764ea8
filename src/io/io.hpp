// myoexo::io — public header of the acquisition stage: file readers/writers and data-set views.
//
// Every reader returns Result<Recording>: bad input gives a typed Error naming the file and line, never a
// crash, a hang or an exception. Incomplete/corrupt data rows are skipped and counted
// (Recording::rows_skipped) where the format allows it; structural problems (no data, no header, wrong
// column count on every row) are errors.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "io/recording.hpp"

namespace myoexo::io {

// ---- UCI "EMG dataset in Lower Limb" (id 278) --------------------------------------------------------------

/// Movement classes of the lower-limb set, from the file-name suffix.
/// mar (marcha) -> "gait", sen (sentado) -> "sitting" (leg extension from sitting),
/// pie (de pie) -> "standing" (knee flexion while standing).
std::string uci_lower_limb_label(std::string_view suffix);

/// Maps a header channel name (Spanish or short code, any case) to RF/BF/VM/ST/FX; "" if unknown.
std::string uci_lower_limb_channel_code(std::string_view header_name);

/// Reads one `<k>{A|N}{mar|sen|pie}.txt` file. Channels RF, BF, VM, ST, FX (the 6th "Digitals combined"
/// column, where present, is dropped). subject_id = "<k><A|N>", group = "abnormal"/"normal", label from
/// the suffix, 1000 Hz. Works on bytes read from anywhere (`parse_*` takes the text and a display name).
Result<Recording> read_uci_lower_limb(const std::filesystem::path& path);
Result<Recording> parse_uci_lower_limb(std::string_view text, const std::string& display_name);

// ---- UCI "EMG data for gestures" (id 481) -------------------------------------------------------------------

/// Reads one gestures file: 8 channels "ch1".."ch8", per-sample labels (0 unmarked .. 7), reduced from the
/// ~1 kHz repeated rows to the Myo's real 200 Hz stream. subject_id from the parent folder name, session
/// from the file-name prefix.
/// The reduction samples-and-holds on a 5 ms grid from the first time stamp (sample k = last row stamped
/// <= t0 + 5k ms), so duration and labels follow the time column; see uci_gestures.cpp for why not
/// de-duplication. Rows with corrupt values, a class outside 0..7 or a non-increasing stamp are skipped and
/// counted; a gap over 100 ms between stamps is a parse error (lost data is not invented).
Result<Recording> read_uci_gestures(const std::filesystem::path& path);
Result<Recording> parse_uci_gestures(std::string_view text, const std::string& display_name);

// ---- Generic delimited text -----------------------------------------------------------------------------

struct CsvOptions {
  std::optional<double> sample_rate_hz;   ///< if unset, derived from a time column
  std::string time_column = "";           ///< name of the time column; "" = auto ("time", "t", "time_s", "time_ms")
  double time_scale_s = 0.0;              ///< seconds per time unit; 0 = auto (by name suffix/median step)
  std::string label_column = "";          ///< name of a per-sample integer label column ("" = auto: "class"/"label")
  /// The rate of a file that states none: one without a header row (its first row holds numbers; channels are then
  /// ch1..chN) or one with a header but no time column. Unset: such a file is refused with a reason. (A time column
  /// and sample_rate_hz win over it.) Lines starting with '%' or '#' are comments in any file.
  std::optional<double> headerless_rate_hz;
};

/// The rate read_recording() gives a CSV without a header row (`myoexo --csv-rate HZ`); 0 = none (refused).
void set_headerless_csv_rate(double hz) noexcept;

/// Reads a CSV or TSV (delimiter detected from the header row) whose first row names the channels.
Result<Recording> read_csv(const std::filesystem::path& path, const CsvOptions& options = {});
Result<Recording> parse_csv(std::string_view text, const std::string& display_name, const CsvOptions& options = {});

/// Writes a header row of channel names then one row per sample (comma-separated, full precision).
/// The first column is `time_s` (i / rate) so that read_csv recovers the rate; a unit is written as
/// "name [unit]"; a `label` column follows when the recording has per-sample labels. Values are the
/// shortest decimal that reads back bit-identically (write_csv -> read_csv is exact).
Status write_csv(const Recording& rec, const std::filesystem::path& path);

// ---- EDF / EDF+ / BDF (libbiosig) ----------------------------------------------------------------------------

/// Reads EDF, EDF+ or BDF through libbiosig, in physical units. A channel named "label" becomes
/// Recording::sample_labels (how write_edf stores unnamed class ids). EDF+ annotations (read from the file's
/// annotation signal by hand): those with a duration label the samples they cover (as an events sidecar does;
/// overlapping ones or ones past the end are errors), those without one are kept in Recording::annotations.
/// A malformed annotation record is a parse error naming the data record.
Result<Recording> read_edf(const std::filesystem::path& path);
/// Writes EDF+ (".edf") or BDF (".bdf", 24-bit) chosen by the extension; physical ranges from the data.
/// EDF+: named per-sample labels become annotations (onset, duration, class name: what MNE and EDFbrowser show),
/// unnamed ids a "label" channel; Recording::annotations are written as they are. BDF keeps a "label" channel.
/// Written by hand, not by biosig (edf.cpp says why). Round-trip error per sample is at most half a
/// quantisation step, (PhysMax - PhysMin) / (DigMax - DigMin) / 2, with [PhysMin, PhysMax] the channel's data
/// range rounded outward to 8 characters and 65535 (EDF) or 16777215 (BDF) steps.
Status write_edf(const Recording& rec, const std::filesystem::path& path);

// ---- XDF (Lab Streaming Layer, LabRecorder) -------------------------------------------------------------------

/// Reads an XDF file: the EMG is the numeric stream of type "EMG" (else the only numeric stream with a rate), its
/// channels named and united from the stream header (microvolts -> "uV", millivolts -> "mV", volts -> "V"); every
/// string (marker) stream becomes Recording::annotations at its time on the EMG's time line. Samples are kept
/// contiguous: a jump in the EMG's time stamps is reported in Recording::warnings, never filled in. Clock-offset
/// chunks are not applied (streams of one machine share its clock). Errors: parse (naming the byte offset), empty
/// (no numeric stream), invalid_argument (several numeric streams and none of type EMG).
Result<Recording> read_xdf(const std::filesystem::path& path);
Result<Recording> parse_xdf(std::string_view bytes, const std::string& display_name);

// ---- Any file -----------------------------------------------------------------------------------------------

enum class FileFormat { uci_lower_limb, uci_gestures, csv, edf, xdf, unknown };
const char* file_format_name(FileFormat f) noexcept;

/// Sniffs the format from the extension and the first bytes.
FileFormat detect_format(const std::filesystem::path& path);

/// Reads any supported file (format detected).
Result<Recording> read_recording(const std::filesystem::path& path);

/// Writes a recording in the format the extension names (.csv/.tsv/.txt -> CSV, .edf/.bdf -> EDF).
Status write_recording(const Recording& rec, const std::filesystem::path& path);

// ---- Events (BIDS sidecars) ---------------------------------------------------------------------------------

/// `<dir>/<stem>_events.tsv` for a recording `<dir>/<stem>.<ext>`.
std::filesystem::path events_sidecar_path(const std::filesystem::path& recording);
/// Whether a file is a BIDS sidecar (`_events.tsv`, `_channels.tsv`, `_emg.json`, or the `_events.partial.tsv` of a
/// recording in progress) rather than a recording.
bool is_bids_sidecar(const std::filesystem::path& path);
/// Writes onset, duration, trial_type (tab-separated, seconds) through a temporary file renamed into place.
Status write_events_tsv(const std::filesystem::path& path, std::span<const Event> events);
/// Reads an events.tsv (columns found by name). Errors: io, parse (file and line: missing columns, bad numbers,
/// duration <= 0, empty trial_type).
Result<std::vector<Event>> read_events_tsv(const std::filesystem::path& path);
/// One row of a BIDS `_channels.tsv`.
struct BidsChannel {
  std::string name, type, units;                ///< units "" when "n/a"
  std::optional<double> sampling_frequency_hz;
  std::string status;                           ///< "good", "bad" or ""
};

/// What the BIDS sidecars beside a recording state (`<stem>_channels.tsv`, `<stem>_emg.json`).
struct BidsSidecars {
  std::string channels_file, emg_file;          ///< paths of the sidecars found ("" when absent)
  std::vector<BidsChannel> channels;
  std::optional<double> sampling_frequency_hz;  ///< _emg.json's, or the channel rows' (they must agree)
  std::optional<double> recording_duration_s;
  std::string task;
};

/// The sidecars beside `recording` (nullopt when it has none). Errors: io, parse (file and line: missing name / type
/// / units columns, bad numbers, a channel listed twice, JSON that is not an object), mismatch (rates that disagree).
Result<std::optional<BidsSidecars>> read_bids_sidecars(const std::filesystem::path& recording);
/// Checks a recording against its sidecars and fills what it lacks: the rate must agree; every channel row must name
/// a channel of the recording (a file without a header row takes the rows' names in order) and its unit must agree
/// (µV = uV) or fills an unknown one; `bad` channels and a duration off by more than 1 s become warnings. Errors:
/// mismatch naming the sidecar.
Status apply_bids_sidecars(Recording& rec, const BidsSidecars& sidecars);

/// What a recorder states beside a recording it wrote (the inverse of read_bids_sidecars).
struct BidsRecordingDescription {
  std::string task;                      ///< TaskName (e.g. the cue protocol's name)
  double sample_rate_hz = 0.0;
  std::vector<std::string> channels, units;  ///< one unit per channel ("" = n/a)
  double duration_s = 0.0;
  std::string manufacturer = "n/a";
};
/// Writes `<stem>_channels.tsv` (name, type EMG, units, sampling_frequency) and `<stem>_emg.json` (TaskName,
/// SamplingFrequency, EMGChannelCount, RecordingDuration, RecordingType, EMGReference, SoftwareFilters,
/// Manufacturer) beside `recording`. Errors: io naming the file, invalid_argument (a unit list of another length).
Status write_bids_sidecars(const std::filesystem::path& recording, const BidsRecordingDescription& d);

/// The labelled runs of rec.sample_labels as events (ids < 0 skipped; names from label_names, else "class<id>").
std::vector<Event> events_from_labels(const Recording& rec);
/// Per-sample labels from events (label_names sorted, samples outside every event -1); clears the per-file label.
/// Errors: invalid_argument naming `where` for overlapping events or one that runs past the recording's end.
Status apply_events(Recording& rec, std::span<const Event> events, const std::string& where);

// ---- Data-set view ------------------------------------------------------------------------------------------

/// Two files whose sample data are identical (compared by content hash, then exactly).
struct DuplicatePair {
  std::filesystem::path first;
  std::filesystem::path second;
};

/// A folder of recordings, grouped by subject and class.
struct Dataset {
  std::filesystem::path root;
  std::vector<Recording> recordings;                         ///< sorted by (subject, label, path)
  std::vector<DuplicatePair> duplicates;                     ///< content-identical files (both kept here)
  std::vector<Error> unreadable;                             ///< files that looked like recordings but failed

  std::vector<std::string> subjects() const;                 ///< sorted, unique
  std::vector<std::string> labels() const;                   ///< sorted, unique (per-file labels)
  /// Indices into `recordings` for one subject (all labels).
  std::vector<std::size_t> by_subject(const std::string& subject) const;
  /// subject -> label -> indices.
  std::map<std::string, std::map<std::string, std::vector<std::size_t>>> grouped() const;
};

/// Loads every recording below `root` (recursively; files of unknown format are ignored). An error when
/// the folder does not exist (ErrorCode::io) or holds no readable recording (ErrorCode::empty, naming the
/// first unreadable file if any). `.txt` files count as CSV only when they look like one (a header row then
/// a row of as many numbers), so data-set descriptions and READMEs are ignored rather than "unreadable".
Result<Dataset> load_dataset(const std::filesystem::path& root);

/// Finds content-identical recordings (same channels and samples) among `recs`.
std::vector<DuplicatePair> find_duplicates(const std::vector<Recording>& recs);

}  // namespace myoexo::io
