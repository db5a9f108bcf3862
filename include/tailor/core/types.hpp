// tailor/core/types.hpp — Eigen aliases, Index and Interval. Estimate {value, std_error} lives
// in core/estimate.hpp, the one core header that includes Boost.Math.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"

namespace tailor {

using Index = Eigen::Index;

template <class T>
using MatrixX = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;  // column-major
template <class T>
using VectorX = Eigen::Matrix<T, Eigen::Dynamic, 1>;

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;
using MatrixF = Eigen::MatrixXf;
using VectorF = Eigen::VectorXf;
using IndexVector = VectorX<Index>;

/// Read-only views that bind to any compatible Eigen expression without copying.
using MatrixRef = Eigen::Ref<const Eigen::MatrixXd>;
using VectorRef = Eigen::Ref<const Eigen::VectorXd>;
template <class T>
using MatrixRefT = Eigen::Ref<const MatrixX<T>>;
template <class T>
using VectorRefT = Eigen::Ref<const VectorX<T>>;

/// A closed interval [lower, upper].
struct Interval {
  double lower = 0.0;
  double upper = 0.0;
  bool contains(double x) const { return lower <= x && x <= upper; }
  double width() const { return upper - lower; }
};

}  // namespace tailor
