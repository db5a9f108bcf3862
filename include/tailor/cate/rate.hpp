// tailor/cate/rate.hpp — the rank-weighted average treatment effect (RATE) of a treatment
// prioritization rule, with its Targeting Operator Characteristic (TOC) curve and bootstrap
// standard errors (Yadlowsky, Fleming, Shah, Brunskill & Wager, "Evaluating treatment
// prioritization rules via rank-weighted average treatment effects", JASA 2024; the estimator of
// grf's rank_average_treatment_effect).
//
// A priority score S(x) ranks units (higher = treat first). With doubly-robust scores Γᵢ (the
// AIPW scores of cate/average_effect.hpp, E[Γ | X] = τ(X)) computed on rows the priority was NOT
// learned from, and the rows sorted by decreasing priority, Γ₍₁₎, …, Γ₍ₙ₎:
//     TOC(j/n) = (1/j) Σ_{i≤j} Γ₍ᵢ₎ − Γ̄      (the effect among the top j/n, minus the ATE)
//     RATE     = ∫₀¹ α(q) TOC(q) dq, estimated by the Riemann sum over the n positions:
//  AUTOC, α(q) = 1 (TOC(q) already averages τ over the top q, i.e. weights 1/q on ∫₀^q τ):
//     (1/n) Σⱼ TOC(j/n) = Σᵢ Γ₍ᵢ₎ (H_n − H_{i−1})/n − Γ̄   (harmonic rank weights, Hₖ = Σ_{l≤k} 1/l)
//  Qini, α(q) = q:
//     (1/n) Σⱼ (j/n) TOC(j/n).
// Both are 0 for a priority that is independent of τ(X) and positive when it ranks high-effect
// units first. AUTOC stresses the top of the ranking; Qini weights all shares more evenly.
//
// Ties: rows with equal priority (exact equality) form a group and each row's Γ is replaced by
// the group's (weighted) mean Γ before the cumulative sums — the expected TOC under a random
// order within the group, as grf does. So the result does not depend on how ties are ordered,
// and a constant priority gives RATE = 0.
//
// Sample weights vᵢ ≥ 0 (grf's convention): each row is one position at the cumulative weight
// Cᵢ = Σ_{k≤i} v₍ₖ₎ of total V; TOC at that position is Σ_{k≤i} v₍ₖ₎Γ₍ₖ₎ / Cᵢ − Γ̄_v, and the
// RATE is the v-weighted mean over rows of α(Cᵢ/V)·TOC. Unit weights give the formulas above.
// (An integer weight is therefore one position of that mass, not that many duplicated rows.)
// TOC(q) on a grid is read at the first position whose cumulative share Cᵢ/V reaches q (for unit
// weights: the top ⌈q·n⌉ rows).
//
// Standard errors: the nonparametric bootstrap. Replicate b draws n rows with replacement using
// tailor::Rng(seed, b) and re-evaluates the estimator on that resample (duplicated rows are
// ties, so they are averaged with their copies; the sort is done once, a replicate only
// changes multiplicities). SE = sample SD of the B replicates. Replicates run in parallel and
// depend only on b, so results are identical for every num_threads. Comparing two priority
// rules uses the same resample for both (paired bootstrap), which is what makes the SE of the
// difference small when the rules are correlated. (grf uses a clustered half-sample bootstrap;
// clusters are not supported here.)
//
// Cost: O(n log n) for the sort plus O(B·(n + |q|)) for the bootstrap; O(n) memory per thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string_view>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"

namespace tailor::cate {

/// Which weighting of the TOC curve the RATE integrates.
enum class RateTarget {
  autoc,  ///< area under the TOC curve, (1/n) Σ TOC(j/n): emphasizes the top of the ranking
  qini,   ///< Qini coefficient, (1/n) Σ (j/n) TOC(j/n): weights all treated shares evenly
};

/// Settings of a RATE evaluation.
struct RateParams {
  RateTarget target = RateTarget::autoc;
  /// Treated shares q at which the TOC curve is reported: strictly increasing, in (0, 1]
  /// (grf's default grid 0.1, 0.2, …, 1).
  std::vector<double> q_grid = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  Index num_bootstrap = 200;  ///< bootstrap replicates for the standard errors (≥ 2)
  std::uint64_t seed = 0;     ///< replicate b uses Rng(seed, b)
  Index num_threads = 0;  ///< replicates in parallel (0 = all cores); results do not depend on it
};

/// A RATE with its TOC curve.
struct RateResult {
  RateTarget target = RateTarget::autoc;
  Estimate estimate;           ///< RATE (AUTOC or Qini) with its bootstrap standard error
  std::vector<double> q;       ///< the treated shares of the TOC grid
  Vector toc;                  ///< TOC(q) for each q
  Vector toc_std_error;        ///< bootstrap standard error of TOC(q)
  Vector bootstrap_estimates;  ///< the B replicate RATEs (for percentile intervals, diagnostics)
};

/// Two priority rules evaluated on the same scores, with a paired bootstrap.
struct RateComparison {
  Estimate difference;  ///< RATE(first) − RATE(second), paired-bootstrap standard error
  RateResult first;     ///< RATE of priority_a
  RateResult second;    ///< RATE of priority_b
};

namespace detail {

/// Rows sorted by decreasing priority (ties by row index, for determinism) and the end positions
/// of the tie groups in that order.
struct RateOrder {
  std::vector<Index> rows;
  std::vector<Index> group_end;  // exclusive end (into rows) of each group of equal priority
};

inline RateOrder rate_order(const VectorRef& priority) {
  const Index n = priority.size();
  RateOrder order;
  order.rows.resize(static_cast<std::size_t>(n));
  std::iota(order.rows.begin(), order.rows.end(), Index{0});
  std::stable_sort(order.rows.begin(), order.rows.end(),
                   [&](Index a, Index b) { return priority[a] > priority[b]; });
  for (Index k = 1; k <= n; ++k) {
    if (k == n || priority[order.rows[static_cast<std::size_t>(k)]] !=
                      priority[order.rows[static_cast<std::size_t>(k - 1)]]) {
      order.group_end.push_back(k);
    }
  }
  return order;
}

/// AUTOC, Qini and TOC on the grid for one (re)sample.
struct RateCurve {
  double autoc = 0.0;
  double qini = 0.0;
  Vector toc;
  bool valid = false;  // false when the (re)sample has no positive weight
  double value(RateTarget target) const { return target == RateTarget::qini ? qini : autoc; }
};

/// Evaluates the curve where row i appears multiplicity[i] times (nullptr: once) with weight
/// weights[i] (length 0: 1). Every copy is one position; tie groups use their weighted mean.
inline RateCurve rate_curve(const RateOrder& order, const VectorRef& scores,
                            const VectorRef& weights, const std::uint32_t* multiplicity,
                            const std::vector<double>& q_grid) {
  const bool weighted = weights.size() != 0;
  auto weight = [&](Index i) { return weighted ? weights[i] : 1.0; };
  auto copies = [&](Index i) { return multiplicity ? multiplicity[i] : std::uint32_t{1}; };

  double total_weight = 0.0, total_score = 0.0;
  for (Index i : order.rows) {
    const double mass = copies(i) * weight(i);
    total_weight += mass;
    total_score += mass * scores[i];
  }
  RateCurve curve;
  curve.toc = Vector::Zero(static_cast<Index>(q_grid.size()));
  if (!(total_weight > 0.0)) return curve;
  const double mean = total_score / total_weight;

  // A share q is reached once the cumulative weight is within rounding of q·V.
  constexpr double kShareTolerance = 1e-12;
  std::size_t next_q = 0;
  double cumulative_weight = 0.0, cumulative_score = 0.0, last_toc = 0.0;
  double autoc = 0.0, qini = 0.0;
  Index begin = 0;
  for (Index end : order.group_end) {
    double group_weight = 0.0, group_score = 0.0;
    for (Index k = begin; k < end; ++k) {
      const Index i = order.rows[static_cast<std::size_t>(k)];
      const double mass = copies(i) * weight(i);
      group_weight += mass;
      group_score += mass * scores[i];
    }
    if (group_weight > 0.0) {
      const double group_mean = group_score / group_weight;
      for (Index k = begin; k < end; ++k) {
        const Index i = order.rows[static_cast<std::size_t>(k)];
        const double v = weight(i);
        if (!(v > 0.0)) continue;
        for (std::uint32_t c = copies(i); c > 0; --c) {
          cumulative_weight += v;
          cumulative_score += v * group_mean;
          last_toc = cumulative_score / cumulative_weight - mean;
          autoc += v * last_toc;
          qini += v * (cumulative_weight / total_weight) * last_toc;
          while (next_q < q_grid.size() &&
                 cumulative_weight >= q_grid[next_q] * total_weight * (1.0 - kShareTolerance)) {
            curve.toc[static_cast<Index>(next_q++)] = last_toc;
          }
        }
      }
    }
    begin = end;
  }
  for (; next_q < q_grid.size(); ++next_q) curve.toc[static_cast<Index>(next_q)] = last_toc;
  curve.autoc = autoc / total_weight;
  curve.qini = qini / total_weight;
  curve.valid = true;
  return curve;
}

/// Sample standard deviation (denominator B − 1) of each column of `replicates` (B × k).
inline Vector column_sd(const Matrix& replicates) {
  const Index b = replicates.rows();
  Vector sd(replicates.cols());
  for (Index j = 0; j < replicates.cols(); ++j) {
    const double mean = replicates.col(j).mean();
    sd[j] =
        std::sqrt((replicates.col(j).array() - mean).square().sum() / static_cast<double>(b - 1));
  }
  return sd;
}

/// Draws the multiplicities of one bootstrap resample of n rows (redrawn in the rare case the
/// resample holds only zero-weight rows).
inline void draw_resample(Rng& rng, const VectorRef& weights, std::vector<std::uint32_t>& counts) {
  const auto n = static_cast<std::uint64_t>(counts.size());
  while (true) {
    std::fill(counts.begin(), counts.end(), 0u);
    bool positive = weights.size() == 0;
    for (std::uint64_t t = 0; t < n; ++t) {
      const std::uint64_t i = rng.uniform_index(n);
      ++counts[i];
      if (!positive && weights[static_cast<Index>(i)] > 0.0) positive = true;
    }
    if (positive) return;
  }
}

}  // namespace detail

/// Evaluates treatment prioritization rules by their RATE (see the header comment).
class RankAverageTreatmentEffect {
 public:
  /// Validates `params`; InvalidArgument names the field and the expected value.
  explicit RankAverageTreatmentEffect(RateParams params = {}) : params_(std::move(params)) {
    check_param(params_.target == RateTarget::autoc || params_.target == RateTarget::qini, kContext,
                "target", static_cast<int>(params_.target), "autoc or qini");
    check_count(kContext, "num_bootstrap", params_.num_bootstrap, 2, limits::kMaxResamples);
    check_param(params_.num_threads >= 0, kContext, "num_threads", params_.num_threads,
                "0 (all cores) or a positive count");
    if (params_.q_grid.empty()) {
      raise<InvalidArgument>("{}: q_grid is empty, expected at least one share in (0, 1]",
                             kContext);
    }
    for (std::size_t k = 0; k < params_.q_grid.size(); ++k) {
      const double q = params_.q_grid[k];
      if (!(q > 0.0 && q <= 1.0)) {
        raise<InvalidArgument>("{}: q_grid[{}] = {}, expected a value in (0, 1]", kContext, k, q);
      }
      if (k > 0 && !(q > params_.q_grid[k - 1])) {
        raise<InvalidArgument>(
            "{}: q_grid[{}] = {}, expected a value greater than q_grid[{}] = {} (strictly "
            "increasing)",
            kContext, k, q, k - 1, params_.q_grid[k - 1]);
      }
    }
  }

  const RateParams& params() const { return params_; }

  /// RATE of the rule `priority` (higher = treat first) given doubly-robust scores Γ, with
  /// optional sample weights (length 0 = unit weights).
  RateResult evaluate(const VectorRef& priority, const VectorRef& dr_scores,
                      const VectorRef& sample_weights = Vector()) const {
    check_inputs(dr_scores, sample_weights);
    check_priority("priority", priority, dr_scores.size());
    const detail::RateOrder order = detail::rate_order(priority);
    const std::vector<const detail::RateOrder*> orders{&order};
    return std::move(run(orders, dr_scores, sample_weights).front());
  }

  /// RATE(priority_a) − RATE(priority_b) on the same scores, with a paired bootstrap.
  RateComparison compare(const VectorRef& priority_a, const VectorRef& priority_b,
                         const VectorRef& dr_scores,
                         const VectorRef& sample_weights = Vector()) const {
    check_inputs(dr_scores, sample_weights);
    check_priority("priority_a", priority_a, dr_scores.size());
    check_priority("priority_b", priority_b, dr_scores.size());
    const detail::RateOrder order_a = detail::rate_order(priority_a);
    const detail::RateOrder order_b = detail::rate_order(priority_b);
    const std::vector<const detail::RateOrder*> orders{&order_a, &order_b};
    std::vector<RateResult> results = run(orders, dr_scores, sample_weights);
    RateComparison comparison;
    const Vector diffs = results[0].bootstrap_estimates - results[1].bootstrap_estimates;
    comparison.difference.value = results[0].estimate.value - results[1].estimate.value;
    comparison.difference.std_error = detail::column_sd(diffs)[0];
    comparison.first = std::move(results[0]);
    comparison.second = std::move(results[1]);
    return comparison;
  }

 private:
  static constexpr std::string_view kContext = "RankAverageTreatmentEffect";

  static void check_inputs(const VectorRef& dr_scores, const VectorRef& sample_weights) {
    check_nonempty(kContext, "dr_scores", dr_scores.size());
    check_finite(kContext, "dr_scores", dr_scores);
    check_weights(kContext, "sample_weights", sample_weights, dr_scores.size(),
                  "the length of dr_scores");
  }

  static void check_priority(std::string_view name, const VectorRef& priority, Index n) {
    check_rows(kContext, name, priority.size(), n, "the length of dr_scores");
    check_finite(kContext, name, priority);
  }

  /// Point estimates and bootstrap replicates for each order, the same resample for all.
  std::vector<RateResult> run(const std::vector<const detail::RateOrder*>& orders,
                              const VectorRef& scores, const VectorRef& weights) const {
    const Index n = scores.size();
    const Index num_q = static_cast<Index>(params_.q_grid.size());
    const Index num_orders = static_cast<Index>(orders.size());
    const Index B = params_.num_bootstrap;
    // Column layout per order: [rate, toc(q₁), …, toc(q_k)].
    const Index width = 1 + num_q;
    Matrix replicates(B, width * num_orders);
    parallel_for(0, B, params_.num_threads, [&](Index b) {
      Rng rng(params_.seed, static_cast<std::uint64_t>(b));
      std::vector<std::uint32_t> counts(static_cast<std::size_t>(n));
      detail::draw_resample(rng, weights, counts);
      for (Index o = 0; o < num_orders; ++o) {
        const detail::RateCurve curve = detail::rate_curve(
            *orders[static_cast<std::size_t>(o)], scores, weights, counts.data(), params_.q_grid);
        replicates(b, o * width) = curve.value(params_.target);
        replicates.block(b, o * width + 1, 1, num_q) = curve.toc.transpose();
      }
    });
    const Vector sd = detail::column_sd(replicates);
    std::vector<RateResult> results;
    for (Index o = 0; o < num_orders; ++o) {
      const detail::RateCurve curve = detail::rate_curve(*orders[static_cast<std::size_t>(o)],
                                                         scores, weights, nullptr, params_.q_grid);
      RateResult r;
      r.target = params_.target;
      r.estimate = Estimate{curve.value(params_.target), sd[o * width]};
      r.q = params_.q_grid;
      r.toc = curve.toc;
      r.toc_std_error = sd.segment(o * width + 1, num_q);
      r.bootstrap_estimates = replicates.col(o * width);
      results.push_back(std::move(r));
    }
    return results;
  }

  RateParams params_;
};

/// Convenience: RankAverageTreatmentEffect(params).evaluate(priority, dr_scores, sample_weights).
inline RateResult rank_average_treatment_effect(const VectorRef& priority,
                                                const VectorRef& dr_scores,
                                                const RateParams& params = {},
                                                const VectorRef& sample_weights = Vector()) {
  return RankAverageTreatmentEffect(params).evaluate(priority, dr_scores, sample_weights);
}

}  // namespace tailor::cate
