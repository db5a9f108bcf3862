// tailor/pricing/panel.hpp — a balanced panel of units × periods with an absorbing treatment, the
// input of synthetic control and difference-in-differences.
//
// Built from a long table (one row per unit and period: unit name, period, outcome, treated 0/1,
// as in shared/data/prop99) or from a units × periods matrix. Validated once: every unit observed
// in every period exactly once (balanced), finite outcomes, treated exactly 0 or 1, treatment
// absorbing (a unit never returns to control), at least one pre-treatment period for every
// treated unit and at least two never-treated units (the donors). Units keep the order of first
// appearance; periods are sorted. Errors name the unit and period.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::pricing {

class Panel {
 public:
  /// outcome and treated are units × periods; periods must be strictly increasing.
  Panel(std::vector<std::string> units, std::vector<double> periods, Matrix outcome,
        Eigen::MatrixXi treated)
      : units_(std::move(units)),
        periods_(std::move(periods)),
        outcome_(std::move(outcome)),
        treated_(std::move(treated)) {
    validate();
  }

  /// From a long table: one row per (unit, period).
  static Panel from_long(const std::vector<std::string>& unit, const Vector& period,
                         const Vector& outcome, const Vector& treated) {
    constexpr std::string_view c = "Panel";
    const auto n = static_cast<Index>(unit.size());
    check_nonempty(c, "unit", n);
    check_rows(c, "period", period.size(), n, "the rows of unit");
    check_rows(c, "outcome", outcome.size(), n, "the rows of unit");
    check_rows(c, "treated", treated.size(), n, "the rows of unit");
    check_finite(c, "period", period);
    std::vector<std::string> names;
    std::unordered_map<std::string, Index> unit_index;
    std::vector<double> periods(period.begin(), period.end());
    std::sort(periods.begin(), periods.end());
    periods.erase(std::unique(periods.begin(), periods.end()), periods.end());
    for (Index i = 0; i < n; ++i) {
      if (unit_index.emplace(unit[static_cast<std::size_t>(i)], static_cast<Index>(names.size()))
              .second) {
        names.push_back(unit[static_cast<std::size_t>(i)]);
      }
    }
    const auto units = static_cast<Index>(names.size());
    const auto T = static_cast<Index>(periods.size());
    Matrix y = Matrix::Constant(units, T, std::nan(""));
    Eigen::MatrixXi d = Eigen::MatrixXi::Constant(units, T, -1);
    for (Index i = 0; i < n; ++i) {
      const Index u = unit_index[unit[static_cast<std::size_t>(i)]];
      const auto t = static_cast<Index>(
          std::lower_bound(periods.begin(), periods.end(), period[i]) - periods.begin());
      if (d(u, t) != -1) {
        raise<DataError>(
            "{}: unit '{}' has period {} twice (rows before {}), expected one row per "
            "unit and period",
            c, names[static_cast<std::size_t>(u)], period[i], i);
      }
      if (!(treated[i] == 0.0 || treated[i] == 1.0)) {
        raise<DataError>("{}: treated[{}] = {}, expected 0 or 1", c, i, treated[i]);
      }
      y(u, t) = outcome[i];
      d(u, t) = treated[i] == 1.0 ? 1 : 0;
    }
    for (Index u = 0; u < units; ++u) {
      for (Index t = 0; t < T; ++t) {
        if (d(u, t) == -1) {
          raise<DataError>("{}: unit '{}' has no row for period {}, expected a balanced panel", c,
                           names[static_cast<std::size_t>(u)],
                           periods[static_cast<std::size_t>(t)]);
        }
      }
    }
    return Panel(std::move(names), std::move(periods), std::move(y), std::move(d));
  }

  Index num_units() const { return outcome_.rows(); }
  Index num_periods() const { return outcome_.cols(); }
  const std::vector<std::string>& units() const { return units_; }
  const std::vector<double>& periods() const { return periods_; }
  /// units × periods.
  const Matrix& outcome() const { return outcome_; }
  const Eigen::MatrixXi& treated() const { return treated_; }

  /// Index of a unit by name (InvalidArgument when absent).
  Index unit_index(std::string_view name) const {
    for (std::size_t u = 0; u < units_.size(); ++u) {
      if (units_[u] == name) return static_cast<Index>(u);
    }
    raise<InvalidArgument>("Panel: no unit named '{}'", name);
  }
  /// Units treated in some period, and units never treated (the donor pool).
  std::vector<Index> treated_units() const { return select(true); }
  std::vector<Index> control_units() const { return select(false); }
  /// The first treated period shared by every treated unit (one cohort); InvalidArgument naming
  /// `context` when no unit is treated or the treated units start in different periods.
  Index cohort_start(std::string_view context) const {
    const auto treated = treated_units();
    if (treated.empty()) raise<InvalidArgument>("{}: no treated unit", context);
    const Index start = treatment_start(treated[0]);
    for (const Index u : treated) {
      if (treatment_start(u) != start) {
        raise<InvalidArgument>("{}: treated units start in different periods, expected one cohort",
                               context);
      }
    }
    return start;
  }
  /// The one treated unit; InvalidArgument naming `context` unless exactly one is treated.
  Index single_treated_unit(std::string_view context) const {
    const auto treated = treated_units();
    if (treated.size() != 1) {
      raise<InvalidArgument>("{}: the panel has {} treated units, expected 1", context,
                             treated.size());
    }
    return treated[0];
  }
  /// First treated period of a unit (num_periods() when never treated).
  Index treatment_start(Index unit) const {
    for (Index t = 0; t < num_periods(); ++t) {
      if (treated_(unit, t) == 1) return t;
    }
    return num_periods();
  }

 private:
  std::vector<Index> select(bool ever_treated) const {
    std::vector<Index> out;
    for (Index u = 0; u < num_units(); ++u) {
      if ((treatment_start(u) < num_periods()) == ever_treated) out.push_back(u);
    }
    return out;
  }

  void validate() const {
    constexpr std::string_view c = "Panel";
    check_nonempty(c, "outcome", outcome_.rows());
    check_rows(c, "units", static_cast<Index>(units_.size()), outcome_.rows(),
               "the rows of outcome");
    if (static_cast<Index>(periods_.size()) != outcome_.cols()) {
      raise<ShapeMismatch>("{}: {} periods for an outcome with {} columns", c, periods_.size(),
                           outcome_.cols());
    }
    if (treated_.rows() != outcome_.rows() || treated_.cols() != outcome_.cols()) {
      raise<ShapeMismatch>("{}: treated is {} x {}, expected {} x {}", c, treated_.rows(),
                           treated_.cols(), outcome_.rows(), outcome_.cols());
    }
    for (std::size_t t = 1; t < periods_.size(); ++t) {
      if (!(periods_[t] > periods_[t - 1])) {
        raise<DataError>("{}: periods[{}] = {} after {}, expected strictly increasing periods", c,
                         t, periods_[t], periods_[t - 1]);
      }
    }
    for (Index u = 0; u < num_units(); ++u) {
      for (Index t = 0; t < num_periods(); ++t) {
        if (!std::isfinite(outcome_(u, t))) {
          raise<DataError>("{}: outcome of '{}' in period {} = {}, expected a finite value", c,
                           units_[static_cast<std::size_t>(u)],
                           periods_[static_cast<std::size_t>(t)], outcome_(u, t));
        }
        const int d = treated_(u, t);
        if (d != 0 && d != 1) {
          raise<DataError>("{}: treated of '{}' in period {} = {}, expected 0 or 1", c,
                           units_[static_cast<std::size_t>(u)],
                           periods_[static_cast<std::size_t>(t)], d);
        }
        if (t > 0 && treated_(u, t - 1) == 1 && d == 0) {
          raise<DataError>(
              "{}: '{}' reverts to control in period {}, expected an absorbing "
              "treatment",
              c, units_[static_cast<std::size_t>(u)], periods_[static_cast<std::size_t>(t)]);
        }
      }
      if (treated_(u, 0) == 1) {
        raise<DataError>(
            "{}: '{}' is treated from the first period, expected at least one "
            "pre-treatment period",
            c, units_[static_cast<std::size_t>(u)]);
      }
    }
    const auto donors = control_units().size();
    if (donors < 2) {
      raise<DataError>("{}: {} never-treated unit{}, expected at least 2 donors", c, donors,
                       donors == 1 ? "" : "s");
    }
  }

  std::vector<std::string> units_;
  std::vector<double> periods_;
  Matrix outcome_;
  Eigen::MatrixXi treated_;
};

}  // namespace tailor::pricing
