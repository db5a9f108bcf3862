// tailor/core/metrics.hpp — prediction metrics (weighted) and the adjusted Rand index.
//
//   roc_auc      area under the ROC curve = the weighted Mann–Whitney statistic
//                P(score⁺ > score⁻) + ½·P(score⁺ = score⁻) (Hanley & McNeil, Radiology 1982),
//                computed in one pass over the rows sorted by score: O(n log n).
//   log_loss     −Σ wᵢ [yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)] / Σ wᵢ with p clipped to [ε, 1 − ε].
//   brier_score  Σ wᵢ (pᵢ − yᵢ)² / Σ wᵢ (Brier, Monthly Weather Review 1950).
//   mse/rmse/mae/r2/accuracy  the usual weighted means; r2 = 1 − SS_res / SS_tot about the
//                weighted mean of y_true.
//   adjusted_rand_index  Hubert & Arabie (Journal of Classification 1985), from the
//                contingency table of the two labelings: O(n log n).
// CTR evaluation:
//   normalized_entropy  log_loss / H(p̄), H(p̄) = −(p̄ log p̄ + (1 − p̄) log(1 − p̄)), p̄ = Σ wᵢ yᵢ / Σ wᵢ
//                the (weighted) base rate (He et al., "Practical lessons from predicting clicks on
//                ads at Facebook", ADKDD 2014). < 1 beats predicting the base rate for every row.
//   calibration_ratio  Σ wᵢ pᵢ / Σ wᵢ yᵢ, expected over observed clicks (1 when calibrated in the
//                mean; He et al. 2014).
//   group_auc    Σ_g n_g AUC_g / Σ_g n_g over the groups (e.g. users) holding both classes, n_g the
//                group's impressions or weight (Zhou et al., "Deep Interest Network for
//                click-through rate prediction", KDD 2018): O(n log n).
//   reliability_bins  mean prediction vs observed rate in equal-count (quantile) bins of the
//                predictions, the data of a reliability diagram (DeGroot & Fienberg, The
//                Statistician 1983): O(n log n).
// All other metrics are O(n). Weights of length 0 mean unit weights; otherwise they must be
// finite, ≥ 0 and not all zero; integer weights act as repeated rows (for reliability_bins only
// where no bin edge cuts a row's weight). Every input is checked:
// shapes (ShapeMismatch) and values (DataError), with messages naming the function, the argument
// and the position.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::metrics {

namespace detail {

/// Checks that `a` and `b` are non-empty, of equal length, finite, and that `weights` is empty
/// or a valid weight vector of the same length.
inline void check_pair(std::string_view context, std::string_view name_a, const VectorRef& a,
                       std::string_view name_b, const VectorRef& b, const VectorRef& weights) {
  if (a.size() == 0) {
    raise<DataError>("{}: {} has 0 entries, expected at least 1", context, name_a);
  }
  if (b.size() != a.size()) {
    raise<ShapeMismatch>("{}: {} has {} entries, expected {} (the length of {})", context, name_b,
                         b.size(), a.size(), name_a);
  }
  check_finite(context, name_a, a);
  check_finite(context, name_b, b);
  check_weights(context, "weights", weights, a.size(), fmt::format("the length of {}", name_a));
}

/// Throws DataError unless every entry of `y` is exactly 0 or 1.
inline void check_binary(std::string_view context, std::string_view name, const VectorRef& y) {
  for (Index i = 0; i < y.size(); ++i) {
    if (y[i] != 0.0 && y[i] != 1.0) {
      raise<DataError>("{}: {}[{}] = {}, expected 0 or 1", context, name, i, y[i]);
    }
  }
}

/// Throws DataError unless every entry of `p` lies in [0, 1].
inline void check_probability(std::string_view context, std::string_view name, const VectorRef& p) {
  for (Index i = 0; i < p.size(); ++i) {
    if (!(p[i] >= 0.0 && p[i] <= 1.0)) {
      raise<DataError>("{}: {}[{}] = {}, expected a probability in [0, 1]", context, name, i, p[i]);
    }
  }
}

inline double weight_at(const VectorRef& weights, Index i) {
  return weights.size() == 0 ? 1.0 : weights[i];
}

/// Σ wᵢ·values[i] / Σ wᵢ.
inline double weighted_mean(const VectorRef& values, const VectorRef& weights) {
  if (weights.size() == 0) return values.mean();
  return values.dot(weights) / weights.sum();
}

/// C(x, 2) = x(x − 1)/2 as a double (exact while x(x − 1) < 2⁵³, i.e. x below ~9.5·10⁷).
inline double pairs(double x) {
  return 0.5 * x * (x - 1.0);
}

/// Relabels arbitrary labels to 0..R-1 in increasing label order; returns R.
inline Index compress_labels(std::span<const Index> labels, std::vector<Index>& codes) {
  std::vector<Index> sorted(labels.begin(), labels.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  codes.resize(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    codes[i] = static_cast<Index>(std::lower_bound(sorted.begin(), sorted.end(), labels[i]) -
                                  sorted.begin());
  }
  return static_cast<Index>(sorted.size());
}

/// Weighted Mann–Whitney sums of one set of rows: AUC = concordant / (positive · negative).
struct AucSums {
  double concordant = 0.0;  // Σ w⁺ w⁻ (1[s⁺ > s⁻] + ½·1[s⁺ = s⁻])
  double positive = 0.0;    // W₁, the weight of the rows with y = 1
  double negative = 0.0;    // W₀, the weight of the rows with y = 0
};

/// One pass over the rows `order`, sorted by increasing score (inputs already checked). Walks
/// groups of equal score in increasing order: a positive in a group beats all negative weight
/// seen in earlier groups and ties with the negatives of its own group.
inline AucSums auc_sums(const VectorRef& y_true, const VectorRef& score, const VectorRef& weights,
                        std::span<const Index> order) {
  AucSums sums;
  double negative_below = 0.0;  // negative weight with a strictly smaller score
  std::size_t start = 0;
  while (start < order.size()) {
    std::size_t stop = start;
    double group_positive = 0.0;
    double group_negative = 0.0;
    const double s = score[order[start]];
    while (stop < order.size() && score[order[stop]] == s) {
      const Index i = order[stop];
      const double w = weight_at(weights, i);
      (y_true[i] == 1.0 ? group_positive : group_negative) += w;
      ++stop;
    }
    sums.concordant += group_positive * (negative_below + 0.5 * group_negative);
    negative_below += group_negative;
    sums.positive += group_positive;
    start = stop;
  }
  sums.negative = negative_below;
  return sums;
}

/// Weighted mean of −[y log p + (1 − y) log(1 − p)] with p clipped to [eps, 1 − eps] (inputs
/// already checked).
inline double mean_log_loss(const VectorRef& y_true, const VectorRef& prob,
                            const VectorRef& weights, double eps) {
  Eigen::VectorXd loss(y_true.size());
  for (Index i = 0; i < y_true.size(); ++i) {
    const double p = std::clamp(prob[i], eps, 1.0 - eps);
    loss[i] = -(y_true[i] == 1.0 ? std::log(p) : std::log1p(-p));
  }
  return weighted_mean(loss, weights);
}

/// Weights W₁ = Σ wᵢ yᵢ and W₀ = Σ wᵢ (1 − yᵢ) of the two classes of a checked 0/1 vector.
inline std::pair<double, double> class_weights(const VectorRef& y_true, const VectorRef& weights) {
  double positive = 0.0;
  double negative = 0.0;
  for (Index i = 0; i < y_true.size(); ++i) {
    (y_true[i] == 1.0 ? positive : negative) += weight_at(weights, i);
  }
  return {positive, negative};
}

}  // namespace detail

/// Weighted area under the ROC curve of `score` for binary `y_true` ∈ {0, 1}.
/// AUC = Σ_{i:y=1} Σ_{j:y=0} wᵢ wⱼ (1[sᵢ > sⱼ] + ½·1[sᵢ = sⱼ]) / (W₁ W₀), so tied scores count
/// one half (Mann–Whitney). Throws DataError when a class is absent (or has zero total weight),
/// y_true is not 0/1, or any input is non-finite; ShapeMismatch on unequal lengths.
inline double roc_auc(const VectorRef& y_true, const VectorRef& score,
                      const VectorRef& weights = Eigen::VectorXd()) {
  constexpr std::string_view kContext = "roc_auc";
  detail::check_pair(kContext, "y_true", y_true, "score", score, weights);
  detail::check_binary(kContext, "y_true", y_true);
  const Index n = y_true.size();
  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return score[a] < score[b]; });
  const detail::AucSums sums = detail::auc_sums(y_true, score, weights, order);
  if (!(sums.positive > 0.0) || !(sums.negative > 0.0)) {
    raise<DataError>(
        "roc_auc: y_true has positive weight {} and negative weight {}, expected both classes "
        "present with positive weight",
        sums.positive, sums.negative);
  }
  return sums.concordant / (sums.positive * sums.negative);
}

/// Weighted mean binary cross-entropy; `prob` must lie in [0, 1] and is clipped to [eps, 1 − eps]
/// so that log 0 never occurs. y_true ∈ {0, 1}. eps must lie in (0, 0.5).
inline double log_loss(const VectorRef& y_true, const VectorRef& prob,
                       const VectorRef& weights = Eigen::VectorXd(), double eps = 1e-15) {
  constexpr std::string_view kContext = "log_loss";
  check_param(eps > 0.0 && eps < 0.5, kContext, "eps", eps, "a value in (0, 0.5)");
  detail::check_pair(kContext, "y_true", y_true, "prob", prob, weights);
  detail::check_binary(kContext, "y_true", y_true);
  detail::check_probability(kContext, "prob", prob);
  return detail::mean_log_loss(y_true, prob, weights, eps);
}

/// Weighted mean of (prob − y_true)², y_true ∈ {0, 1}, prob ∈ [0, 1].
inline double brier_score(const VectorRef& y_true, const VectorRef& prob,
                          const VectorRef& weights = Eigen::VectorXd()) {
  constexpr std::string_view kContext = "brier_score";
  detail::check_pair(kContext, "y_true", y_true, "prob", prob, weights);
  detail::check_binary(kContext, "y_true", y_true);
  detail::check_probability(kContext, "prob", prob);
  return detail::weighted_mean((prob - y_true).array().square().matrix(), weights);
}

/// Normalized entropy (He et al., ADKDD 2014): the weighted log_loss over the entropy of the
/// weighted base rate p̄ = Σ wᵢ yᵢ / Σ wᵢ,
///   NE = log_loss(y, p, w) / H(p̄),   H(p̄) = −(p̄ log p̄ + (1 − p̄) log(1 − p̄)),
/// i.e. the log loss relative to that of predicting p̄ for every row: 1 for that constant
/// predictor, lower is better, and unlike log_loss it does not improve just because the base rate
/// is far from ½. `prob` is clipped to [eps, 1 − eps] exactly as in log_loss; p̄ is not. Throws
/// DataError when only one class has positive weight (H(p̄) = 0), y_true is not 0/1, prob is
/// outside [0, 1] or any input is non-finite; ShapeMismatch on unequal lengths; InvalidArgument
/// for eps outside (0, 0.5).
inline double normalized_entropy(const VectorRef& y_true, const VectorRef& prob,
                                 const VectorRef& weights = Eigen::VectorXd(), double eps = 1e-15) {
  constexpr std::string_view kContext = "normalized_entropy";
  check_param(eps > 0.0 && eps < 0.5, kContext, "eps", eps, "a value in (0, 0.5)");
  detail::check_pair(kContext, "y_true", y_true, "prob", prob, weights);
  detail::check_binary(kContext, "y_true", y_true);
  detail::check_probability(kContext, "prob", prob);
  const auto [positive, negative] = detail::class_weights(y_true, weights);
  const double base_rate = positive / (positive + negative);
  // Tested on p̄ itself, so that a class whose weight vanishes next to the other's (p̄ rounding
  // to 0 or 1) is caught too instead of giving 0·log 0 = NaN.
  if (!(base_rate > 0.0 && base_rate < 1.0)) {
    raise<DataError>(
        "{}: y_true has positive weight {} and negative weight {}, expected both classes present "
        "with positive weight (the base-rate entropy is 0)",
        kContext, positive, negative);
  }
  const double entropy =
      -(base_rate * std::log(base_rate) + (1.0 - base_rate) * std::log1p(-base_rate));
  return detail::mean_log_loss(y_true, prob, weights, eps) / entropy;
}

/// Calibration ratio Σ wᵢ pᵢ / Σ wᵢ yᵢ: expected over observed clicks (He et al., ADKDD 2014).
/// 1 when the predictions are calibrated in the mean, > 1 when they over-predict; it says
/// nothing about where calibration fails (see reliability_bins). Throws DataError when
/// Σ wᵢ yᵢ = 0 (no positive row with positive weight), y_true is not 0/1, prob is outside
/// [0, 1] or any input is non-finite; ShapeMismatch on unequal lengths.
inline double calibration_ratio(const VectorRef& y_true, const VectorRef& prob,
                                const VectorRef& weights = Eigen::VectorXd()) {
  constexpr std::string_view kContext = "calibration_ratio";
  detail::check_pair(kContext, "y_true", y_true, "prob", prob, weights);
  detail::check_binary(kContext, "y_true", y_true);
  detail::check_probability(kContext, "prob", prob);
  const bool unit = weights.size() == 0;
  const double observed = unit ? y_true.sum() : y_true.dot(weights);
  const double expected = unit ? prob.sum() : prob.dot(weights);
  if (!(observed > 0.0)) {
    raise<DataError>(
        "{}: y_true has positive weight {}, expected at least one positive (y = 1) with positive "
        "weight",
        kContext, observed);
  }
  return expected / observed;
}

/// Group AUC (Zhou et al., "Deep Interest Network for click-through rate prediction", KDD 2018):
/// the AUC within each group (e.g. a user), averaged with the group's size as weight,
///   GAUC = Σ_g n_g AUC_g / Σ_g n_g,
/// n_g the number of rows (impressions) of group g, or its total weight Σ_{i∈g} wᵢ when weights
/// are given; AUC_g is roc_auc on the group's rows (weighted, ties counting one half). Groups in
/// which a class is absent or has zero weight have no AUC and are skipped. Group ids are
/// arbitrary integers; only equality matters. Throws DataError when no group holds both classes
/// with positive weight, y_true is not 0/1 or any input is non-finite; ShapeMismatch on unequal
/// lengths. O(n log n).
inline double group_auc(const VectorRef& y_true, const VectorRef& score,
                        std::span<const Index> groups,
                        const VectorRef& weights = Eigen::VectorXd()) {
  constexpr std::string_view kContext = "group_auc";
  detail::check_pair(kContext, "y_true", y_true, "score", score, weights);
  detail::check_binary(kContext, "y_true", y_true);
  if (static_cast<Index>(groups.size()) != y_true.size()) {
    raise<ShapeMismatch>("{}: groups has {} entries, expected {} (the length of y_true)", kContext,
                         groups.size(), y_true.size());
  }
  const auto group_of = [&](Index i) { return groups[static_cast<std::size_t>(i)]; };
  // Rows sorted by (group, score): each group is then a run sorted by score, as auc_sums needs.
  std::vector<Index> order(static_cast<std::size_t>(y_true.size()));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index a, Index b) {
    return group_of(a) < group_of(b) || (group_of(a) == group_of(b) && score[a] < score[b]);
  });
  const std::span<const Index> sorted(order);
  double weighted_auc = 0.0;  // Σ_g n_g AUC_g over the groups with both classes
  double total_size = 0.0;    // Σ_g n_g over the same groups
  std::size_t num_groups = 0;
  for (std::size_t start = 0; start < sorted.size();) {
    std::size_t stop = start;
    const Index g = group_of(sorted[start]);
    while (stop < sorted.size() && group_of(sorted[stop]) == g) ++stop;
    ++num_groups;
    const detail::AucSums sums =
        detail::auc_sums(y_true, score, weights, sorted.subspan(start, stop - start));
    if (sums.positive > 0.0 && sums.negative > 0.0) {
      // n_g = W₁ + W₀: the row count with unit weights, the group's weight otherwise.
      const double size = sums.positive + sums.negative;
      weighted_auc += size * (sums.concordant / (sums.positive * sums.negative));
      total_size += size;
    }
    start = stop;
  }
  if (!(total_size > 0.0)) {
    raise<DataError>(
        "{}: none of the {} groups has both classes of y_true with positive weight, expected at "
        "least one",
        kContext, num_groups);
  }
  return weighted_auc / total_size;
}

/// Reliability-diagram data: per bin of predictions, in increasing order of prediction.
struct ReliabilityBins {
  Eigen::VectorXd mean_predicted;  ///< Σ wᵢ pᵢ / Σ wᵢ over the bin's rows
  Eigen::VectorXd observed_rate;   ///< Σ wᵢ yᵢ / Σ wᵢ over the bin's rows
  Eigen::VectorXd weight;          ///< Σ wᵢ over the bin's rows (the row count without weights)
};

/// Reliability diagram (DeGroot & Fienberg, The Statistician 1983) over equal-count (quantile)
/// bins of the predictions: for a calibrated model observed_rate ≈ mean_predicted in every bin.
/// Equal-width bins on [0, 1] are useless for CTR, where nearly every p is ≈ 0.01 and lands in
/// the first bin. The rows, sorted by prob (ties by row index), are cut into B = num_bins runs
/// of equal total weight W / B: row j, with weight wⱼ and weight Cⱼ before it, goes to bin
/// ⌊B (Cⱼ + wⱼ/2) / W⌋ (where its weight's midpoint falls). Without weights the bins hold
/// ⌊n/B⌋ or ⌈n/B⌉ rows, none is empty, and when n < num_bins each row is its own bin (n bins).
/// Rows are never split, so tied predictions may straddle a bin edge, and a bin that receives
/// no weight is dropped: with weights a row heavier than W / B can leave a bin empty and there
/// may be fewer than num_bins bins. Integer weights equal repeated rows whenever no bin edge
/// falls inside a row's weight. Throws InvalidArgument for num_bins < 1; DataError when y_true
/// is not 0/1, prob is outside [0, 1] or any input is non-finite; ShapeMismatch on unequal
/// lengths. O(n log n) time, O(n) memory.
inline ReliabilityBins reliability_bins(const VectorRef& y_true, const VectorRef& prob,
                                        Index num_bins,
                                        const VectorRef& weights = Eigen::VectorXd()) {
  constexpr std::string_view kContext = "reliability_bins";
  check_count(kContext, "num_bins", num_bins, 1, limits::kMaxBins);
  detail::check_pair(kContext, "y_true", y_true, "prob", prob, weights);
  detail::check_binary(kContext, "y_true", y_true);
  detail::check_probability(kContext, "prob", prob);
  const Index n = y_true.size();
  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(),
            [&](Index a, Index b) { return prob[a] < prob[b] || (prob[a] == prob[b] && a < b); });
  const double total = weights.size() == 0 ? static_cast<double>(n) : weights.sum();
  const auto bins = static_cast<double>(num_bins);
  // Bin sums, appended as the sweep reaches each new bin (bin numbers never decrease), so memory
  // is O(min(n, num_bins)) whatever num_bins is.
  std::vector<double> sum_w;
  std::vector<double> sum_wp;
  std::vector<double> sum_wy;
  const auto drop_weightless_last = [&] {
    if (!sum_w.empty() && !(sum_w.back() > 0.0)) {
      sum_w.pop_back();
      sum_wp.pop_back();
      sum_wy.pop_back();
    }
  };
  Index current = -1;
  double before = 0.0;  // Cⱼ
  for (const Index i : order) {
    const double w = detail::weight_at(weights, i);
    // B (Cⱼ + wⱼ/2) / W, multiplied before dividing: for unit weights B (j + ½) is exact (below
    // 2⁵³) and the one rounding of the division cannot cross an integer, so the floor is exact.
    const double position = bins * (before + 0.5 * w) / total;
    // Clamped to [current, B − 1]: zero-weight rows at the end sit at B, and rounding in Cⱼ
    // must not move a row back to an earlier bin.
    const Index raw = position < bins ? static_cast<Index>(position) : num_bins - 1;
    const Index bin = std::max(current, std::min(num_bins - 1, raw));
    if (bin != current) {
      drop_weightless_last();
      sum_w.push_back(0.0);
      sum_wp.push_back(0.0);
      sum_wy.push_back(0.0);
      current = bin;
    }
    sum_w.back() += w;
    sum_wp.back() += w * prob[i];
    sum_wy.back() += w * y_true[i];
    before += w;
  }
  drop_weightless_last();
  const auto num_kept = static_cast<Index>(sum_w.size());
  ReliabilityBins result;
  result.mean_predicted.resize(num_kept);
  result.observed_rate.resize(num_kept);
  result.weight.resize(num_kept);
  for (Index k = 0; k < num_kept; ++k) {
    const auto b = static_cast<std::size_t>(k);
    result.mean_predicted[k] = sum_wp[b] / sum_w[b];
    result.observed_rate[k] = sum_wy[b] / sum_w[b];
    result.weight[k] = sum_w[b];
  }
  return result;
}

/// Weighted mean squared error Σ wᵢ (ŷᵢ − yᵢ)² / Σ wᵢ.
inline double mse(const VectorRef& y_true, const VectorRef& y_pred,
                  const VectorRef& weights = Eigen::VectorXd()) {
  detail::check_pair("mse", "y_true", y_true, "y_pred", y_pred, weights);
  return detail::weighted_mean((y_pred - y_true).array().square().matrix(), weights);
}

/// Root of the weighted mean squared error.
inline double rmse(const VectorRef& y_true, const VectorRef& y_pred,
                   const VectorRef& weights = Eigen::VectorXd()) {
  detail::check_pair("rmse", "y_true", y_true, "y_pred", y_pred, weights);
  return std::sqrt(detail::weighted_mean((y_pred - y_true).array().square().matrix(), weights));
}

/// Weighted mean absolute error Σ wᵢ |ŷᵢ − yᵢ| / Σ wᵢ.
inline double mae(const VectorRef& y_true, const VectorRef& y_pred,
                  const VectorRef& weights = Eigen::VectorXd()) {
  detail::check_pair("mae", "y_true", y_true, "y_pred", y_pred, weights);
  return detail::weighted_mean((y_pred - y_true).array().abs().matrix(), weights);
}

/// Coefficient of determination 1 − Σ wᵢ (yᵢ − ŷᵢ)² / Σ wᵢ (yᵢ − ȳ_w)², ȳ_w the weighted mean.
/// Can be negative (worse than predicting the mean). When y_true is constant (SS_tot = 0) R² is
/// undefined; we return 1 for a perfect prediction and 0 otherwise (scikit-learn's convention),
/// so the value stays finite.
inline double r2(const VectorRef& y_true, const VectorRef& y_pred,
                 const VectorRef& weights = Eigen::VectorXd()) {
  detail::check_pair("r2", "y_true", y_true, "y_pred", y_pred, weights);
  const double mean = detail::weighted_mean(y_true, weights);
  const double ss_res = detail::weighted_mean((y_pred - y_true).array().square().matrix(), weights);
  const double ss_tot = detail::weighted_mean((y_true.array() - mean).square().matrix(), weights);
  if (ss_tot == 0.0) return ss_res == 0.0 ? 1.0 : 0.0;
  return 1.0 - ss_res / ss_tot;
}

/// Weighted share of rows where y_pred == y_true exactly (labels stored as doubles, e.g. class
/// indices or 0/1).
inline double accuracy(const VectorRef& y_true, const VectorRef& y_pred,
                       const VectorRef& weights = Eigen::VectorXd()) {
  detail::check_pair("accuracy", "y_true", y_true, "y_pred", y_pred, weights);
  return detail::weighted_mean((y_pred.array() == y_true.array()).cast<double>().matrix(), weights);
}

/// Adjusted Rand index between two labelings of the same n items (Hubert & Arabie 1985):
///   ARI = (Σᵢⱼ C(nᵢⱼ,2) − A·B / C(n,2)) / (½(A + B) − A·B / C(n,2)),
///   A = Σᵢ C(aᵢ,2), B = Σⱼ C(bⱼ,2),
/// from the contingency table nᵢⱼ with row sums aᵢ and column sums bⱼ. Labels are arbitrary
/// non-negative integers (only equality matters). ARI is 1 for identical partitions (up to
/// renaming), about 0 for independent ones, and can be negative.
/// Degenerate cases: the denominator vanishes only when A = B = C(n,2) (both labelings put
/// everything in one cluster) or A = B = 0 (both make every item its own cluster); the two
/// partitions are then identical and we return 1. The same holds for n = 1. One labeling with a
/// single cluster against any other partition gives exactly 0 (index equals its expectation).
/// Throws ShapeMismatch on unequal lengths, DataError on empty input or negative labels.
/// O(n log n) time, O(n) memory.
inline double adjusted_rand_index(std::span<const Index> labels_a,
                                  std::span<const Index> labels_b) {
  constexpr std::string_view kContext = "adjusted_rand_index";
  if (labels_a.empty()) {
    raise<DataError>("{}: labels_a has 0 entries, expected at least 1", kContext);
  }
  if (labels_b.size() != labels_a.size()) {
    raise<ShapeMismatch>("{}: labels_b has {} entries, expected {} (the length of labels_a)",
                         kContext, labels_b.size(), labels_a.size());
  }
  for (std::size_t i = 0; i < labels_a.size(); ++i) {
    if (labels_a[i] < 0) {
      raise<DataError>("{}: labels_a[{}] = {}, expected a label >= 0", kContext, i, labels_a[i]);
    }
    if (labels_b[i] < 0) {
      raise<DataError>("{}: labels_b[{}] = {}, expected a label >= 0", kContext, i, labels_b[i]);
    }
  }
  const auto n = static_cast<double>(labels_a.size());
  std::vector<Index> codes_a;
  std::vector<Index> codes_b;
  const Index num_a = detail::compress_labels(labels_a, codes_a);
  const Index num_b = detail::compress_labels(labels_b, codes_b);

  // Marginal counts aᵢ, bⱼ and the non-zero cells of the contingency table (by sorting cell
  // codes i·num_b + j, which fit in Index since num_a·num_b ≤ n²).
  std::vector<double> count_a(static_cast<std::size_t>(num_a), 0.0);
  std::vector<double> count_b(static_cast<std::size_t>(num_b), 0.0);
  std::vector<Index> cells(labels_a.size());
  for (std::size_t k = 0; k < labels_a.size(); ++k) {
    count_a[static_cast<std::size_t>(codes_a[k])] += 1.0;
    count_b[static_cast<std::size_t>(codes_b[k])] += 1.0;
    cells[k] = codes_a[k] * num_b + codes_b[k];
  }
  std::sort(cells.begin(), cells.end());
  double index = 0.0;  // Σᵢⱼ C(nᵢⱼ, 2)
  for (std::size_t start = 0; start < cells.size();) {
    std::size_t stop = start;
    while (stop < cells.size() && cells[stop] == cells[start]) ++stop;
    index += detail::pairs(static_cast<double>(stop - start));
    start = stop;
  }
  double sum_a = 0.0;
  double sum_b = 0.0;
  for (double c : count_a) sum_a += detail::pairs(c);
  for (double c : count_b) sum_b += detail::pairs(c);
  const double total_pairs = detail::pairs(n);
  // Degenerate cases (see above): n = 1, both labelings one cluster, or both all singletons.
  // Tested exactly so that rounding in A·B / C(n,2) cannot turn 0/0 into noise.
  if (total_pairs == 0.0) return 1.0;
  if ((sum_a == total_pairs && sum_b == total_pairs) || (sum_a == 0.0 && sum_b == 0.0)) {
    return 1.0;
  }
  const double expected = sum_a * sum_b / total_pairs;
  const double max_index = 0.5 * (sum_a + sum_b);
  const double denominator = max_index - expected;
  // By AM–GM, ½(A + B) ≥ √(AB) ≥ AB / C(n,2), with equality only in the degenerate cases
  // handled above, so the denominator is positive here.
  return (index - expected) / denominator;
}

}  // namespace tailor::metrics
