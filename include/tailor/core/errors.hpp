// tailor/core/errors.hpp — the exception hierarchy (DESIGN §4) and the checks that raise it.
//
// Every error tailor throws derives from tailor::Error (a std::runtime_error). Messages say
// what, where and what was expected: "CausalData: w[17] = 0.5, expected 0 or 1".
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <Eigen/Core>

namespace tailor {

/// Base of every exception tailor throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A parameter or argument outside its documented domain (num_trees = 0, alpha = -1, ...).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// Inputs whose dimensions disagree (X has 10 rows, y has 9).
class ShapeMismatch : public Error {
 public:
  using Error::Error;
};

/// Data values a method cannot use: NaN/Inf, non-binary treatment, an empty arm, ...
class DataError : public Error {
 public:
  using Error::Error;
};

/// Malformed files: CSV lines, corrupt or truncated model files, wrong magic/version.
class FormatError : public Error {
 public:
  using Error::Error;
};

/// A numerical procedure that failed (singular system, no convergence where it is required).
class NumericalError : public Error {
 public:
  using Error::Error;
};

/// Throws E (a tailor::Error) with a fmt-formatted message: raise<DataError>("{}: w[{}] = {},
/// expected 0 or 1", context, i, w[i]). The format string is checked at compile time.
template <class E, class... Args>
[[noreturn]] void raise(fmt::format_string<Args...> format, Args&&... args) {
  static_assert(std::is_base_of_v<Error, E>, "tailor::raise<E>: E must derive from tailor::Error");
  throw E(fmt::format(format, std::forward<Args>(args)...));
}

/// Throws DataError naming the first non-finite entry of `values`:
/// "CausalData: X(3, 2) = nan, expected a finite value".
template <class Derived>
void check_finite(std::string_view context, std::string_view name,
                  const Eigen::DenseBase<Derived>& values) {
  const auto& v = values.derived();
  if (v.allFinite()) return;
  for (Eigen::Index j = 0; j < v.cols(); ++j) {
    for (Eigen::Index i = 0; i < v.rows(); ++i) {
      const double x = static_cast<double>(v(i, j));
      if (!std::isfinite(x)) {
        if constexpr (Derived::ColsAtCompileTime == 1) {
          raise<DataError>("{}: {}[{}] = {}, expected a finite value", context, name, i, x);
        } else {
          raise<DataError>("{}: {}({}, {}) = {}, expected a finite value", context, name, i, j, x);
        }
      }
    }
  }
}

/// Throws ShapeMismatch unless `actual == expected`:
/// "CausalData: y has 9 rows, expected 10 (the rows of X)".
inline void check_rows(std::string_view context, std::string_view name, Eigen::Index actual,
                       Eigen::Index expected, std::string_view expected_what) {
  if (actual != expected) {
    raise<ShapeMismatch>("{}: {} has {} rows, expected {} ({})", context, name, actual, expected,
                         expected_what);
  }
}

/// Throws DataError when a data set has no rows: "CausalData: X has 0 rows, expected at least 1".
inline void check_nonempty(std::string_view context, std::string_view name, Eigen::Index rows) {
  if (rows <= 0) {
    raise<DataError>("{}: {} has 0 rows, expected at least 1", context, name);
  }
}

/// Checks optional sample weights: length 0 (unit weights) or `n` (else ShapeMismatch:
/// "Ridge::fit: weights has 9 rows, expected 10 (the rows of X) or 0 (unit weights)"), every
/// entry finite and >= 0, and a positive total (else DataError naming the entry or the sum).
/// The one check of weights in tailor.
inline void check_weights(std::string_view context, std::string_view name,
                          const Eigen::Ref<const Eigen::VectorXd>& weights, Eigen::Index n,
                          std::string_view expected_what = "the rows of X") {
  if (weights.size() == 0) return;
  if (weights.size() != n) {
    raise<ShapeMismatch>("{}: {} has {} rows, expected {} ({}) or 0 (unit weights)", context, name,
                         weights.size(), n, expected_what);
  }
  check_finite(context, name, weights);
  for (Eigen::Index i = 0; i < weights.size(); ++i) {
    if (weights[i] < 0.0) {
      raise<DataError>("{}: {}[{}] = {}, expected a value >= 0", context, name, i, weights[i]);
    }
  }
  const double total = weights.sum();
  if (!(total > 0.0)) {
    raise<DataError>("{}: {} sum to {}, expected a positive total", context, name, total);
  }
  if (!std::isfinite(total)) {
    raise<DataError>("{}: {} sum to {}, expected a finite total (rescale the weights)", context,
                     name, total);
  }
}

/// Throws InvalidArgument unless `ok`: "RegressionForest: num_trees = 0, expected at least 1".
template <class T>
void check_param(bool ok, std::string_view context, std::string_view name, const T& value,
                 std::string_view expected) {
  if (!ok) {
    raise<InvalidArgument>("{}: {} = {}, expected {}", context, name, value, expected);
  }
}

/// Documented maxima of count parameters (issue 20): a mistyped 10^12 is an InvalidArgument
/// naming the parameter and its limit, never an allocation of terabytes or an overflow.
namespace limits {
inline constexpr std::int64_t kMaxResamples = 1'000'000;    ///< bootstrap / resample counts
inline constexpr std::int64_t kMaxIterations = 10'000'000;  ///< solver and boosting iterations
inline constexpr std::int64_t kMaxFolds = 10'000;           ///< cross-fitting folds / parts
inline constexpr std::int64_t kMaxBins = 10'000'000;        ///< histogram / curve bins and grids
inline constexpr std::int64_t kMaxComponents = 1 << 20;     ///< latent factors, clusters
inline constexpr std::int64_t kMaxRowCount = (std::int64_t{1} << 31) - 1;  ///< row-count settings
}  // namespace limits

/// The most memory one fit may plan to use (bytes): estimators whose memory grows with products
/// of their sizes (forests: trees × rows) estimate it before allocating and throw
/// InvalidArgument above this limit, instead of being killed. Default 64 GiB; settable for the
/// whole process with set_memory_limit (thread-safe).
inline std::atomic<std::uint64_t>& memory_limit_storage() {
  static std::atomic<std::uint64_t> limit{std::uint64_t{64} << 30};
  return limit;
}
inline void set_memory_limit(std::uint64_t bytes) {
  memory_limit_storage().store(bytes);
}
inline std::uint64_t memory_limit() {
  return memory_limit_storage().load();
}

/// InvalidArgument when `estimated_bytes` exceeds memory_limit(): "train_forest: 1000000
/// trees on 10000000 rows with 2 channels need about 1.2 TiB, above the memory limit of 64.0
/// GiB; use smaller settings, or raise the limit with tailor::set_memory_limit".
inline void check_memory(std::string_view context, std::string_view what, double estimated_bytes) {
  const double limit = static_cast<double>(memory_limit());
  if (estimated_bytes > limit) {
    const auto text = [](double bytes) {
      constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
      int unit = 0;
      while (bytes >= 1024.0 && unit < 6) {
        bytes /= 1024.0;
        ++unit;
      }
      return fmt::format("{:.1f} {}", bytes, kUnits[unit]);
    };
    raise<InvalidArgument>(
        "{}: {} need about {}, above the memory limit of {}; use smaller settings, or raise the "
        "limit with tailor::set_memory_limit",
        context, what, text(estimated_bytes), text(limit));
  }
}

/// Throws DataError naming the first entry of `values` whose magnitude exceeds `limit`:
/// "KMeans: X(3, 1) = 1e+300, expected |value| <= 1e+150 (squared distances overflow beyond
/// it; rescale X)". For methods that square or multiply inputs (distances, Gram matrices), where
/// finite inputs would otherwise produce inf and then NaN without a word.
template <class Derived>
void check_magnitude(std::string_view context, std::string_view name,
                     const Eigen::DenseBase<Derived>& values, double limit,
                     std::string_view reason) {
  const auto& v = values.derived();
  if (v.size() == 0 || v.cwiseAbs().maxCoeff() <= limit) return;
  for (Eigen::Index j = 0; j < v.cols(); ++j) {
    for (Eigen::Index i = 0; i < v.rows(); ++i) {
      if (std::abs(static_cast<double>(v(i, j))) > limit) {
        raise<DataError>("{}: {}({}, {}) = {}, expected |value| <= {} ({})", context, name, i, j,
                         static_cast<double>(v(i, j)), limit, reason);
      }
    }
  }
}

/// InvalidArgument unless lo <= value <= hi: "{context}: {name} = {value}, expected {lo} to
/// {hi}" (with `what` instead of the range when given, e.g. "0 (none) or 2 to 1000000").
inline void check_count(std::string_view context, std::string_view name, std::int64_t value,
                        std::int64_t lo, std::int64_t hi, std::string_view what = {}) {
  if (value < lo || value > hi) {
    if (what.empty()) {
      raise<InvalidArgument>("{}: {} = {}, expected {} to {}", context, name, value, lo, hi);
    }
    raise<InvalidArgument>("{}: {} = {}, expected {}", context, name, value, what);
  }
}

/// a * b for sizes computed from parameters, or InvalidArgument naming `what` when the product
/// of two non-negative values would overflow a signed 64-bit integer.
inline std::int64_t checked_product(std::string_view context, std::string_view what, std::int64_t a,
                                    std::int64_t b) {
  std::int64_t product = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &product)) {
    raise<InvalidArgument>("{}: {} = {} x {} overflows a 64-bit size", context, what, a, b);
  }
  return product;
}

}  // namespace tailor
