// tailor/core/estimate.hpp — Estimate {value, std_error}: a point estimate with its standard
// error, normal-theory confidence intervals and two-sided p-values: CI = value ± z_{1-α/2}·se,
// p = 2·(1 − Φ(|value − null| / se)), with Φ from Boost.Math (the project's statistics library;
// included here and only where a distribution is needed, so headers without inference do not
// pay for it).
#pragma once

#include <cmath>
#include <limits>

#include <boost/math/distributions/normal.hpp>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor {

namespace detail {
/// z_{1-α/2} for a two-sided interval of coverage `level` in (0, 1).
inline double normal_critical_value(double level) {
  check_param(level > 0.0 && level < 1.0, "Estimate", "level", level, "a value in (0, 1)");
  const boost::math::normal standard;
  return boost::math::quantile(standard, 0.5 + level / 2.0);
}
}  // namespace detail

/// A point estimate with its (asymptotic) standard error.
struct Estimate {
  double value = 0.0;
  double std_error = 0.0;

  /// Normal-theory interval value ± z_{1-α/2}·std_error, level = 1 − α (default 95%).
  Interval confidence_interval(double level = 0.95) const {
    const double z = detail::normal_critical_value(level);
    return {value - z * std_error, value + z * std_error};
  }

  /// (value − null) / std_error; ±inf when std_error is 0 and value ≠ null, 0 when both 0.
  double z_statistic(double null_value = 0.0) const {
    const double diff = value - null_value;
    if (std_error > 0.0) return diff / std_error;
    if (diff == 0.0) return 0.0;
    return diff > 0 ? std::numeric_limits<double>::infinity()
                    : -std::numeric_limits<double>::infinity();
  }

  /// Two-sided p-value of H0: effect == null_value, 2·(1 − Φ(|z|)).
  double p_value(double null_value = 0.0) const {
    const double z = std::abs(z_statistic(null_value));
    if (std::isinf(z)) return 0.0;
    const boost::math::normal standard;
    return 2.0 * boost::math::cdf(boost::math::complement(standard, z));
  }
};

}  // namespace tailor
