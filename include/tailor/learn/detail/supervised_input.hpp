// tailor/learn/detail/supervised_input.hpp — the input checks shared by Ridge,
// LogisticRegression and GradientBoosting: shapes, finiteness, sample weights, 0/1 labels.
//
// A weights vector of length 0 means unit weights (learn/concepts.hpp); otherwise weights must
// be finite, >= 0 and have a positive sum. Every check is O(n·p).
#pragma once

#include <string_view>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::learn::detail {

/// Checks X (non-empty, finite), y (n rows, finite) and weights (empty or n finite values
/// >= 0 with a positive sum). Throws DataError / ShapeMismatch naming `context`.
inline void check_supervised_input(std::string_view context, const MatrixRef& X, const VectorRef& y,
                                   const VectorRef& weights) {
  check_nonempty(context, "X", X.rows());
  if (X.cols() < 1) {
    raise<ShapeMismatch>("{}: X has 0 columns, expected at least 1", context);
  }
  check_rows(context, "y", y.size(), X.rows(), "the rows of X");
  check_finite(context, "X", X);
  check_finite(context, "y", y);
  check_weights(context, "weights", weights, X.rows());
}

/// Checks that every y[i] is 0 or 1 and that both classes carry positive weight.
inline void check_binary_labels(std::string_view context, const VectorRef& y,
                                const VectorRef& weights) {
  double weight_of[2] = {0.0, 0.0};
  for (Index i = 0; i < y.size(); ++i) {
    if (y[i] != 0.0 && y[i] != 1.0) {
      raise<DataError>("{}: y[{}] = {}, expected 0 or 1", context, i, y[i]);
    }
    weight_of[y[i] == 1.0 ? 1 : 0] += weights.size() == 0 ? 1.0 : weights[i];
  }
  for (int k = 0; k < 2; ++k) {
    if (!(weight_of[k] > 0.0)) {
      raise<DataError>(
          "{}: class {} has total weight 0, expected both classes 0 and 1 to be present", context,
          k);
    }
  }
}

/// Checks that new data has the number of features the model was fitted on.
inline void check_num_features(std::string_view context, const MatrixRef& X,
                               Index expected_features) {
  if (X.cols() != expected_features) {
    raise<ShapeMismatch>("{}: X has {} columns, expected {} (the fitted features)", context,
                         X.cols(), expected_features);
  }
}

}  // namespace tailor::learn::detail
