// tailor/core/sample_mean.hpp — the estimate of a mean of per-unit terms (scores, influence
// functions): the sample mean with standard error sd/√n (sd with n − 1). One helper for the
// policy values (policy/rules.hpp) and the regime values (dtr/value.hpp). O(n), two passes.
#pragma once

#include <cmath>
#include <limits>

#include <Eigen/Core>

#include "tailor/core/estimate.hpp"
#include "tailor/core/types.hpp"

namespace tailor {

/// Mean of value(i) over i < n with its standard error sd/√n (+inf when n < 2).
template <class Value>
Estimate mean_estimate(Index n, Value&& value) {
  double sum = 0.0;
  for (Index i = 0; i < n; ++i) sum += value(i);
  const double mean = sum / static_cast<double>(n);
  if (n < 2) return Estimate{mean, std::numeric_limits<double>::infinity()};
  double ss = 0.0;
  for (Index i = 0; i < n; ++i) {
    const double d = value(i) - mean;
    ss += d * d;
  }
  const double sd = std::sqrt(ss / static_cast<double>(n - 1));
  return Estimate{mean, sd / std::sqrt(static_cast<double>(n))};
}

/// Mean of the entries of `terms` with its standard error.
inline Estimate mean_estimate(const Eigen::Ref<const Eigen::VectorXd>& terms) {
  return mean_estimate(terms.size(), [&](Index i) { return terms[i]; });
}

}  // namespace tailor
