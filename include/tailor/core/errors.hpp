// tailor/core/errors.hpp — the exception hierarchy (DESIGN §4) and the checks that raise it.
//
// Every error tailor throws derives from tailor::Error (a std::runtime_error). Messages say
// what, where and what was expected: "CausalData: w[17] = 0.5, expected 0 or 1".
#pragma once

#include <cmath>
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

}  // namespace tailor
