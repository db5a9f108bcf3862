// tailor/policy/report.hpp — average effects per group (segment, cluster, policy leaf) with
// normal-theory intervals, and the "sleeping dogs": groups that treatment significantly harms
// (Radcliffe & Surry, "Real-world uplift modelling with significance-based uplift trees", 2011,
// call customers whom a campaign drives away sleeping dogs).
//
// Given per-row effect scores sᵢ — typically the AIPW scores Γᵢ of tailor::cate::aipw_scores
// (or Γ(i, 1) − Γ(i, 0) from policy/scores.hpp), whose mean over any fixed set of rows is a
// doubly-robust estimate of the average effect there — the estimate for group g with n_g rows is
//     τ̂_g = (1/n_g) Σ_{i ∈ g} sᵢ,   se_g = sd_g / √n_g,   sd_g² = Σ_{i ∈ g} (sᵢ − τ̂_g)² / (n_g −
//     1),
// the influence-function standard error of a mean (for one group this equals
// tailor::cate::aipw_average_effect's), and the interval τ̂_g ± z_{1−α/2}·se_g at level 1 − α.
// A group is significantly negative (positive) when its whole interval lies below (above) 0.
// The groups must be fixed before looking at the outcomes (e.g. segments from covariates only);
// groups chosen by the same scores make the intervals too narrow.
//
// Groups are arbitrary non-negative integer labels (they need not be contiguous); the result has
// one entry per label that occurs, in increasing label order. A group of a single row has no
// variance estimate: its std_error is +inf, its interval (−inf, +inf) and it is never flagged.
// Cost O(n log n) (the labels are sorted once), O(G) memory for G groups.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/types.hpp"

namespace tailor::policy {

/// The estimated average effect of one group.
struct GroupEffect {
  Index group = 0;                      ///< the group's label
  Index size = 0;                       ///< n_g, rows in the group
  Estimate effect;                      ///< {τ̂_g, se_g}; se_g = +inf when n_g = 1
  Interval interval;                    ///< τ̂_g ± z·se_g at the requested level
  bool significantly_negative = false;  ///< interval.upper < 0
  bool significantly_positive = false;  ///< interval.lower > 0
};

namespace detail {

inline std::vector<GroupEffect> effects_by_group(std::string_view context, const VectorRef& scores,
                                                 const Eigen::Ref<const IndexVector>& group,
                                                 double level) {
  check_param(level > 0.0 && level < 1.0, context, "level", level, "a value in (0, 1)");
  const Index n = scores.size();
  check_nonempty(context, "scores", n);
  check_rows(context, "group", group.size(), n, "the length of scores");
  check_finite(context, "scores", scores);
  for (Index i = 0; i < n; ++i) {
    if (group[i] < 0) {
      raise<DataError>("{}: group[{}] = {}, expected a non-negative label", context, i, group[i]);
    }
  }
  std::vector<Index> labels(group.data(), group.data() + n);
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  const auto slot_of = [&](Index label) {
    return static_cast<std::size_t>(std::lower_bound(labels.begin(), labels.end(), label) -
                                    labels.begin());
  };

  // Two passes (mean, then squared deviations) for a numerically stable variance.
  const std::size_t num_groups = labels.size();
  std::vector<double> sum(num_groups, 0.0), squares(num_groups, 0.0);
  std::vector<Index> count(num_groups, 0);
  std::vector<std::size_t> slot(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    const std::size_t g = slot_of(group[i]);
    slot[static_cast<std::size_t>(i)] = g;
    sum[g] += scores[i];
    ++count[g];
  }
  std::vector<double> mean(num_groups);
  for (std::size_t g = 0; g < num_groups; ++g) mean[g] = sum[g] / static_cast<double>(count[g]);
  for (Index i = 0; i < n; ++i) {
    const std::size_t g = slot[static_cast<std::size_t>(i)];
    const double d = scores[i] - mean[g];
    squares[g] += d * d;
  }

  const double z = tailor::detail::normal_critical_value(level);
  std::vector<GroupEffect> effects(num_groups);
  for (std::size_t g = 0; g < num_groups; ++g) {
    GroupEffect& e = effects[g];
    e.group = labels[g];
    e.size = count[g];
    const double size = static_cast<double>(count[g]);
    const double std_error = count[g] >= 2 ? std::sqrt(squares[g] / (size - 1.0)) / std::sqrt(size)
                                           : std::numeric_limits<double>::infinity();
    e.effect = Estimate{mean[g], std_error};
    e.interval = Interval{mean[g] - z * std_error, mean[g] + z * std_error};
    e.significantly_negative = e.interval.upper < 0.0;
    e.significantly_positive = e.interval.lower > 0.0;
  }
  return effects;
}

}  // namespace detail

/// One GroupEffect per label occurring in `group` (increasing label order), from per-row effect
/// scores (see the header comment). Throws InvalidArgument for a level outside (0, 1)
/// ("effects_by_group: level = 1.5, expected a value in (0, 1)"); DataError for no rows, a
/// non-finite score or a negative label ("effects_by_group: group[3] = -1, expected a
/// non-negative label"); ShapeMismatch when group and scores differ in length.
inline std::vector<GroupEffect> effects_by_group(const VectorRef& scores,
                                                 const Eigen::Ref<const IndexVector>& group,
                                                 double level = 0.95) {
  return detail::effects_by_group("effects_by_group", scores, group, level);
}

/// The significantly negative groups of effects_by_group (interval entirely below 0), most
/// negative estimate first (ties: lower label first). Same checks, messages start with
/// "sleeping_dogs".
inline std::vector<GroupEffect> sleeping_dogs(const VectorRef& scores,
                                              const Eigen::Ref<const IndexVector>& group,
                                              double level = 0.95) {
  std::vector<GroupEffect> effects =
      detail::effects_by_group("sleeping_dogs", scores, group, level);
  std::erase_if(effects, [](const GroupEffect& e) { return !e.significantly_negative; });
  std::sort(effects.begin(), effects.end(), [](const GroupEffect& a, const GroupEffect& b) {
    return a.effect.value < b.effect.value ||
           (a.effect.value == b.effect.value && a.group < b.group);
  });
  return effects;
}

}  // namespace tailor::policy
