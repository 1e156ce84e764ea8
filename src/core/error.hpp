// myoexo::core — the typed error and the Result type every stage returns.
//
// Why not exceptions everywhere: readers and create() functions report bad input as values so that
// callers (the CLI, the live recorder, a fuzzer) decide what to do, and the real-time path never throws.
// The CLI converts an Error into a message and a non-zero exit code at the very edge.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace myoexo {

/// What kind of failure. Stable names: tests and callers switch on them.
enum class ErrorCode {
  invalid_argument,  ///< a parameter outside its documented range
  io,                ///< the path cannot be opened / read / written
  parse,             ///< the content is malformed (line and reason say where and why)
  empty,             ///< the file or folder holds no usable data
  unsupported,       ///< a valid request this build or format cannot serve
  network,           ///< download failures (no route, timeout, bad status)
  mismatch,          ///< data and spec disagree (channels, rate, shape)
};

const char* error_code_name(ErrorCode code) noexcept;

/// A failure with where it happened: `file` is the input path (or empty), `line` the 1-based line number
/// in that file (0 when not about a line), `reason` a sentence for a person.
struct Error {
  ErrorCode code = ErrorCode::invalid_argument;
  std::string file;
  std::size_t line = 0;
  std::string reason;

  /// "parse: data/1Nmar.txt:17: expected 5 columns, found 3"
  std::string message() const;
};

/// Thrown only by `Result::value()` on an error and by code at the CLI edge; carries the Error.
class ErrorException : public std::runtime_error {
 public:
  explicit ErrorException(Error error) : std::runtime_error(error.message()), error_(std::move(error)) {}
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

/// A value or an Error (std::expected is C++23; this is the subset we need).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return std::holds_alternative<T>(v_); }
  explicit operator bool() const noexcept { return ok(); }

  const Error& error() const { return std::get<Error>(v_); }
  T& value() & {
    if (!ok()) throw ErrorException(error());
    return std::get<T>(v_);
  }
  const T& value() const& {
    if (!ok()) throw ErrorException(error());
    return std::get<T>(v_);
  }
  T&& value() && {
    if (!ok()) throw ErrorException(error());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

/// Result<void>: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const { return *error_; }
  void throw_if_error() const {
    if (error_) throw ErrorException(*error_);
  }

 private:
  std::optional<Error> error_;
};

/// Shorthand: make_error(ErrorCode::parse, path, line, "expected 5 columns, found 3").
inline Error make_error(ErrorCode code, std::string file, std::size_t line, std::string reason) {
  return Error{code, std::move(file), line, std::move(reason)};
}
inline Error make_error(ErrorCode code, std::string reason) {
  return Error{code, {}, 0, std::move(reason)};
}

}  // namespace myoexo
