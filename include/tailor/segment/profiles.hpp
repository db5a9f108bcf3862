// tailor/segment/profiles.hpp — what each segment looks like, in the terms a marketer reads.
//
// For every segment s (each distinct label, in increasing label order) and every column j
// (the input features, then optionally the NMF factors):
//   size, share = n_s / n
//   mean_sj                         the segment mean
//   lift_sj = mean_sj / mean_j      vs the population mean (NaN when mean_j = 0)
//   smd_sj  = (mean_sj − mean_rest,j) / pooled_sd_j, the standardized mean difference of the
//             segment vs all other rows (Cohen's d), pooled_sd² = ((n_s − 1)·v_s + (n_r − 1)·v_r)
//             / (n_s + n_r − 2) with sample variances v; 0 when both the difference and the pooled
//             SD are 0, ±inf when only the SD is 0, NaN when there is no other segment or
//             n_s + n_r − 2 = 0.
//   top_features: the top_k input features (not factors) by |smd| (NaN last; ties: lower index).
// Two passes over the data: O(n·p + S·p·log p) time, O(S·p) memory.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::segment {

struct ProfileParams {
  Index top_k = 5;  ///< distinguishing features listed per segment (≥ 0)
};

struct SegmentProfile {
  Index label = 0;  ///< the segment's label value
  Index size = 0;
  double share = 0.0;
  Vector mean;  ///< per column (features, then factors)
  Vector lift;
  Vector smd;
  std::vector<Index> top_features;  ///< column indices into column_names, by |smd| descending
};

struct SegmentProfiles {
  std::vector<std::string> column_names;  ///< features, then factors
  Index num_features = 0;                 ///< the first num_features columns are input features
  Vector population_mean;
  std::vector<SegmentProfile> segments;
};

namespace detail {

inline void check_columns(std::string_view context, std::string_view what, const MatrixRef& M,
                          std::span<const std::string> names, Index rows) {
  if (static_cast<Index>(names.size()) != M.cols()) {
    raise<ShapeMismatch>("{}: {} names has {} entries, expected {} (its columns)", context, what,
                         names.size(), M.cols());
  }
  check_rows(context, what, M.rows(), rows, "the length of labels");
  check_finite(context, what, M);
}

}  // namespace detail

/// Profiles of the segments `labels` over X (features) and, optionally, factor scores.
inline SegmentProfiles profile_segments(const MatrixRef& X, std::span<const std::string> names,
                                        std::span<const Index> labels, const MatrixRef& factors,
                                        std::span<const std::string> factor_names,
                                        const ProfileParams& params = {}) {
  constexpr std::string_view c = "profile_segments";
  check_param(params.top_k >= 0, c, "top_k", params.top_k, "a value >= 0");
  const auto n = static_cast<Index>(labels.size());
  check_nonempty(c, "labels", n);
  detail::check_columns(c, "X", X, names, n);
  const bool with_factors = factors.cols() > 0 || factors.rows() > 0;
  if (with_factors) detail::check_columns(c, "factors", factors, factor_names, n);
  for (Index i = 0; i < n; ++i) {
    if (labels[static_cast<std::size_t>(i)] < 0) {
      raise<DataError>("{}: labels[{}] = {}, expected a label >= 0", c, i,
                       labels[static_cast<std::size_t>(i)]);
    }
  }
  const Index p = X.cols();
  const Index q = with_factors ? factors.cols() : 0;
  auto value = [&](Index i, Index j) { return j < p ? X(i, j) : factors(i, j - p); };

  std::vector<Index> distinct(labels.begin(), labels.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const auto S = static_cast<Index>(distinct.size());
  std::vector<Index> code(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    code[static_cast<std::size_t>(i)] = static_cast<Index>(
        std::lower_bound(distinct.begin(), distinct.end(), labels[static_cast<std::size_t>(i)]) -
        distinct.begin());
  }

  SegmentProfiles out;
  out.column_names.assign(names.begin(), names.end());
  if (with_factors)
    out.column_names.insert(out.column_names.end(), factor_names.begin(), factor_names.end());
  out.num_features = p;
  const Index cols = p + q;
  // Pass 1: sizes and sums; pass 2: squared deviations about the segment's and the rest's means
  // (two-pass variances avoid the cancellation of Σx² − n·x̄²). Pass 2 is O(n·cols·S).
  Vector size = Vector::Zero(S);
  Matrix sum = Matrix::Zero(S, cols);
  for (Index i = 0; i < n; ++i) size[code[static_cast<std::size_t>(i)]] += 1.0;
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < n; ++i) sum(code[static_cast<std::size_t>(i)], j) += value(i, j);
  const Eigen::RowVectorXd total = sum.colwise().sum();
  out.population_mean = (total / static_cast<double>(n)).transpose();
  Matrix mean(S, cols), rest_mean(S, cols);
  for (Index s = 0; s < S; ++s) {
    mean.row(s) = sum.row(s) / size[s];
    const double rest = static_cast<double>(n) - size[s];
    rest_mean.row(s) = rest > 0 ? Eigen::RowVectorXd((total - sum.row(s)) / rest)
                                : Eigen::RowVectorXd::Constant(cols, 0.0);
  }
  // Σ over own segment (x − mean_s)², and Σ over the rest (x − rest_mean_s)² for every s.
  Matrix ss_own = Matrix::Zero(S, cols), ss_rest = Matrix::Zero(S, cols);
  for (Index j = 0; j < cols; ++j) {
    for (Index i = 0; i < n; ++i) {
      const Index own = code[static_cast<std::size_t>(i)];
      const double x = value(i, j);
      for (Index s = 0; s < S; ++s) {
        if (s == own) {
          const double d = x - mean(s, j);
          ss_own(s, j) += d * d;
        } else {
          const double d = x - rest_mean(s, j);
          ss_rest(s, j) += d * d;
        }
      }
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (Index s = 0; s < S; ++s) {
    SegmentProfile prof;
    prof.label = distinct[static_cast<std::size_t>(s)];
    prof.size = static_cast<Index>(size[s]);
    prof.share = size[s] / static_cast<double>(n);
    prof.mean = mean.row(s).transpose();
    prof.lift.resize(cols);
    prof.smd.resize(cols);
    const double rest = static_cast<double>(n) - size[s];
    const double dof = size[s] + rest - 2.0;
    for (Index j = 0; j < cols; ++j) {
      const double pop = out.population_mean[j];
      prof.lift[j] = pop != 0.0 ? mean(s, j) / pop : nan;
      if (rest <= 0.0 || dof <= 0.0) {
        prof.smd[j] = nan;
        continue;
      }
      const double pooled = std::sqrt((ss_own(s, j) + ss_rest(s, j)) / dof);
      const double diff = mean(s, j) - rest_mean(s, j);
      if (pooled > 0.0) {
        prof.smd[j] = diff / pooled;
      } else {
        prof.smd[j] =
            diff == 0.0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), diff);
      }
    }
    std::vector<Index> order(static_cast<std::size_t>(p));
    for (Index j = 0; j < p; ++j) order[static_cast<std::size_t>(j)] = j;
    auto key = [&](Index j) { return std::isnan(prof.smd[j]) ? -1.0 : std::abs(prof.smd[j]); };
    std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return key(a) > key(b); });
    order.resize(static_cast<std::size_t>(std::min(params.top_k, p)));
    prof.top_features = std::move(order);
    out.segments.push_back(std::move(prof));
  }
  return out;
}

/// Profiles over the input features only.
inline SegmentProfiles profile_segments(const MatrixRef& X, std::span<const std::string> names,
                                        std::span<const Index> labels,
                                        const ProfileParams& params = {}) {
  return profile_segments(X, names, labels, Matrix(0, 0), std::span<const std::string>(), params);
}

}  // namespace tailor::segment
