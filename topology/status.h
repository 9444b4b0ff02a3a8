// Status and Result<T>: the one way every fallible call in Lifeline reports
// an expected failure. Modelled on leveldb::Status; both are [[nodiscard]].
//
// An expected outcome (bad input, a missing file, a full map that was grown)
// is a value. A broken invariant is not: it aborts through LIFELINE_CHECK.
//
// Copyable, movable, not thread-safe beyond what std::string gives.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace lifeline {

class [[nodiscard]] Status {
 public:
  enum class Code { kOk, kInvalidArgument, kNotFound, kCorruption, kIoError, kUnavailable, kRefused };

  Status() = default;
  static Status ok() { return Status(); }
  static Status invalid_argument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status not_found(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status io_error(std::string msg) { return {Code::kIoError, std::move(msg)}; }
  // The peer or service could not be reached; whether it acted is unknown.
  static Status unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  // A rule (jurisdiction, key, limit) forbids the request.
  static Status refused(std::string msg) { return {Code::kRefused, std::move(msg)}; }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The cause in Chinese, for operators (zh-CN first), where the code that
  // failed wrote one; else empty, and message() is all there is.
  const std::string& message_zh() const { return message_zh_; }
  // This failure with its cause also in Chinese:
  //   return Status::invalid_argument("...").with_zh("...");
  Status with_zh(std::string zh) && {
    message_zh_ = std::move(zh);
    return std::move(*this);
  }
  std::string to_string() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;    // kOk or the kind of failure
  std::string message_;      // human-readable cause (English); empty when ok
  std::string message_zh_;   // the same in Chinese; may be empty
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.is_ok()) status_ = Status::invalid_argument("Result built from an ok Status without a value");
  }

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;  // set iff ok
  Status status_;           // ok iff value_ is set
};

inline std::string Status::to_string() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: name = "invalid argument"; break;
    case Code::kNotFound: name = "not found"; break;
    case Code::kCorruption: name = "corruption"; break;
    case Code::kIoError: name = "I/O error"; break;
    case Code::kUnavailable: name = "unavailable"; break;
    case Code::kRefused: name = "refused"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace lifeline

// Aborts with a clear message when an invariant of our own is broken.
#define LIFELINE_CHECK(cond, msg)                                                   \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__, __LINE__, \
                   #cond, std::string(msg).c_str());                                \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)
