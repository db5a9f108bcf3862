// tailor/uplift/curves.hpp — uplift (cumulative gain), Qini and cumulative-lift curves of a
// targeting score, their areas, and the normalized scores of scikit-uplift and CausalML.
//
// Rows are ranked by decreasing score; S(x) is the top of the ranking holding population x
// (x = Σ vᵢ over its rows, vᵢ the sample weight, 1 by default). For every prefix S the mean
// effect τ̂(S) is estimated from the outcomes y, the treatment w ∈ {0, 1} and, for
// observational data, propensities eᵢ = P(W = 1 | xᵢ) and outcome predictions μ̂₀, μ̂₁:
//
//   difference_in_means (randomized data; no propensity given)
//        τ̂(S) = Σ_S v w y / Σ_S v w − Σ_S v (1−w) y / Σ_S v (1−w)
//   ipw  (propensity given, no outcome models) — the self-normalized (Hájek) IPW contrast
//        τ̂(S) = Σ_S aᵀ y / Σ_S aᵀ − Σ_S aᶜ y / Σ_S aᶜ,  aᵀ = v w / e,  aᶜ = v (1−w)/(1−e)
//   doubly_robust  (propensity and μ̂₀, μ̂₁ given) — augmented, self-normalized
//        τ̂(S) = Σ_S v (μ̂₁ − μ̂₀) / Σ_S v + Σ_S aᵀ (y − μ̂₁) / Σ_S aᵀ − Σ_S aᶜ (y − μ̂₀) / Σ_S aᶜ
//        (Robins, Rotnitzky & Zhao 1994; a ratio form of the AIPW score mean, so a constant e
//        and arm-constant μ̂ give back difference_in_means exactly).
// With a constant propensity, ipw equals difference_in_means exactly (e cancels in each ratio).
// The nuisances are taken as given (cross-fit them: uplift/nuisance.hpp).
//
// Curves (the value at population x of the prefix S(x)):
//   uplift_curve      U(x) = x · τ̂(S(x))          scikit-uplift uplift_curve, CausalML get_cumgain
//                     (= (Y_T/N_T − Y_C/N_C)(N_T + N_C) for randomized data; Rzepakowski &
//                     Jaroszewicz 2012, Gutierrez & Gérardy 2016 §4.1). cumulative_gain_curve is
//                     the same curve under CausalML's name.
//   qini_curve        Q(x) = n_T(S) · τ̂(S(x)),  n_T(S) = Σ_S v w   (Radcliffe 2007; randomized:
//                     Y_T − Y_C · N_T / N_C; scikit-uplift qini_curve, CausalML get_qini)
//   lift_curve        L(x) = τ̂(S(x))            (CausalML get_cumlift)
// Empty arms: a prefix may hold no treated or no control rows. EmptyArm::zero (default,
// scikit-uplift) takes the empty arm's term as 0 (so Q = Y_T while no control row has been
// seen, U = x·Y_T/N_T). EmptyArm::interpolate (CausalML) leaves those points undefined and fills
// them by linear interpolation in x between the defined neighbours, starting from (0, 0): for
// U the lift L is interpolated and U = x·L; Q is defined as 0 while no treated row has been seen
// and interpolated while no control row has been seen.
//
// Ties: rows with equal scores cannot be ordered by the score, so a curve has one knot per
// group of tied scores (at the population after the whole group) and is linear between knots:
// the expected curve over random orders of the tied rows, to first order, and exactly what
// scikit-uplift (threshold_indices) and roc_auc-style trapezoids do. CausalML ranks ties in an
// arbitrary order; with distinct scores the knots are every row and both agree.
//
// Areas and scores (trapezoid rule over the knots, x from 0 to N = Σ v):
//   area_under_curve(c)        ∫₀ᴺ c(x) dx               (scikit-uplift's un-normalized auuc/auqc)
//   area_above_random(c)       ∫₀ᴺ c(x) dx − N·c(N)/2    (area between the curve and the random
//                                                          straight line from (0, 0) to (N, c(N)))
//   uplift_auc_score           area_above_random(U) / area_above_random(U*)   (scikit-uplift)
//   qini_auc_score             area_above_random(Q) / area_above_random(Q*)   (scikit-uplift; the
//                              Qini coefficient of Radcliffe 2007)
//     U*, Q*: the perfect curves below (perfect_uplift_curve, perfect_qini_curve).
//   causalml_auuc_score        (1/(n+1)) Σ_{j=0..n} U(x_j) / |U(N)|            (CausalML
//                              auuc_score(normalize=True)); x_j the population after j rows
//   causalml_qini_score        (1/(n+1)) Σ_{j=0..n} [Q(x_j) − Q(N)·x_j/N] / |Q(N)|
//                              (CausalML qini_score(normalize=True): the normalized Qini curve
//                              minus its theoretical random straight line, averaged over rows)
// Perfect curves (the ranking an oracle of the individual outcomes would use):
//   perfect_qini_curve, negative_effect = true: rank by y·(2w − 1) (treated responders first,
//     control responders last); negative_effect = false (binary y only): the three-point curve
//     (0, 0), (Q(N), Q(N)), (N, Q(N)) — every incremental responder found first (scikit-uplift).
//   perfect_uplift_curve: binary y — scikit-uplift's rank 2·1[y = w] + (y if #control
//     responders > #treated non-responders else w); continuous y — rank by y·(2w − 1) (no closed
//     form optimum exists; the normalized score can then exceed 1).
//   The same estimator (difference in means / IPW / DR) evaluates the perfect ranking.
//
// Complexity: O(n log n) for the sort, then O(n) per curve; memory O(n).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::uplift {

/// How an arm that has no rows in a prefix of the ranking is treated (see the header comment).
enum class EmptyArm {
  zero,         ///< the empty arm's mean counts as 0 (scikit-uplift)
  interpolate,  ///< undefined points are linearly interpolated (CausalML)
};

/// Which curve: uplift U(x), Qini Q(x) or cumulative lift L(x) (see the header comment).
enum class CurveKind { uplift, qini, lift };

/// Which estimator of τ̂(S) the options select.
enum class Estimator { difference_in_means, ipw, doubly_robust };

/// What the curves are estimated from, beyond (y, w, score). Vectors of length 0 are absent.
struct EvaluationOptions {
  /// eᵢ = P(W = 1 | xᵢ) in (0, 1). Absent: randomized data, difference in means.
  Vector propensity = Vector();
  /// μ̂₀(xᵢ), μ̂₁(xᵢ): outcome predictions under control / treatment (both or neither; they need
  /// a propensity). Present: the doubly-robust estimator.
  Vector mu0 = Vector();
  Vector mu1 = Vector();
  /// Non-negative sample weights vᵢ (not all zero). Absent: unit weights.
  Vector sample_weights = Vector();
  EmptyArm empty_arm = EmptyArm::zero;
};

/// The estimator `options` select.
inline Estimator estimator_of(const EvaluationOptions& options) {
  if (options.propensity.size() == 0) return Estimator::difference_in_means;
  return options.mu0.size() == 0 ? Estimator::ipw : Estimator::doubly_robust;
}

/// A piecewise-linear curve through knots (population[k], value[k]); population[0] = 0 and
/// value[0] = 0, population increasing, population[last] = N = Σ v.
struct Curve {
  Vector population;
  Vector value;

  Index num_knots() const { return population.size(); }
  double total_population() const { return population[population.size() - 1]; }
  /// The value at the end (the whole population targeted).
  double final_value() const { return value[value.size() - 1]; }
  /// The curve at population x ∈ [0, N], linear between knots.
  double at(double x) const {
    const Index k = num_knots();
    if (x <= population[0]) return value[0];
    if (x >= population[k - 1]) return value[k - 1];
    const auto* begin = population.data();
    const Index hi = static_cast<Index>(std::upper_bound(begin, begin + k, x) - begin);
    const Index lo = hi - 1;
    const double span = population[hi] - population[lo];
    const double t = span > 0.0 ? (x - population[lo]) / span : 1.0;
    return value[lo] + t * (value[hi] - value[lo]);
  }
  /// The curve at the share f ∈ [0, 1] of the population.
  double at_fraction(double f) const { return at(f * total_population()); }
};

namespace detail {

/// Per-row terms, each already multiplied by the row's sample weight vᵢ (so a bootstrap count or
/// a fractional membership simply scales them).
struct RowTerms {
  double v = 0;        ///< vᵢ (population)
  double treated = 0;  ///< vᵢ wᵢ (treated count, scales the Qini curve)
  double a_t = 0;      ///< vᵢ wᵢ / eᵢ
  double b_t = 0;      ///< a_t · (yᵢ − μ̂₁ᵢ)
  double a_c = 0;      ///< vᵢ (1 − wᵢ) / (1 − eᵢ)
  double b_c = 0;      ///< a_c · (yᵢ − μ̂₀ᵢ)
  double m1 = 0;       ///< vᵢ μ̂₁ᵢ
  double m0 = 0;       ///< vᵢ μ̂₀ᵢ
  double b2_t = 0;     ///< a_t · (yᵢ − μ̂₁ᵢ)², for the linearized variance of a bin
  double b2_c = 0;

  void add(const RowTerms& r, double scale = 1.0) {
    v += scale * r.v;
    treated += scale * r.treated;
    a_t += scale * r.a_t;
    b_t += scale * r.b_t;
    a_c += scale * r.a_c;
    b_c += scale * r.b_c;
    m1 += scale * r.m1;
    m0 += scale * r.m0;
    b2_t += scale * r.b2_t;
    b2_c += scale * r.b2_c;
  }
  bool has_treated() const { return a_t > 0.0; }
  bool has_control() const { return a_c > 0.0; }
  /// Estimated mean outcome of each arm and their contrast over the summed rows; an arm without
  /// rows contributes 0 (EmptyArm::zero).
  double mean_treated() const { return (v > 0.0 ? m1 / v : 0.0) + (a_t > 0.0 ? b_t / a_t : 0.0); }
  double mean_control() const { return (v > 0.0 ? m0 / v : 0.0) + (a_c > 0.0 ? b_c / a_c : 0.0); }
  double lift() const { return mean_treated() - mean_control(); }
};

/// Checks a binary treatment vector and returns the number of its rows.
inline void check_treatment(std::string_view context, const VectorRef& w) {
  for (Index i = 0; i < w.size(); ++i) {
    if (w[i] != 0.0 && w[i] != 1.0) {
      raise<DataError>("{}: w[{}] = {}, expected 0 or 1", context, i, w[i]);
    }
  }
}

inline void check_optional(std::string_view context, std::string_view name, const Vector& v,
                           Index n) {
  if (v.size() != 0 && v.size() != n) {
    raise<ShapeMismatch>("{}: {} has {} rows, expected {} (the length of y) or 0 (absent)", context,
                         name, v.size(), n);
  }
  check_finite(context, name, v);
}

/// Validates (y, w, score, options); throws with messages naming the function and position.
inline void validate_inputs(std::string_view context, const VectorRef& y, const VectorRef& w,
                            const VectorRef& score, const EvaluationOptions& options) {
  const Index n = y.size();
  check_nonempty(context, "y", n);
  check_rows(context, "w", w.size(), n, "the length of y");
  check_rows(context, "score", score.size(), n, "the length of y");
  check_finite(context, "y", y);
  check_finite(context, "w", w);
  check_finite(context, "score", score);
  check_treatment(context, w);
  check_optional(context, "propensity", options.propensity, n);
  check_optional(context, "mu0", options.mu0, n);
  check_optional(context, "mu1", options.mu1, n);
  check_weights(context, "sample_weights", options.sample_weights, n);
  if ((options.mu0.size() == 0) != (options.mu1.size() == 0)) {
    raise<InvalidArgument>(
        "{}: mu0 has {} rows and mu1 {}, expected both outcome predictions or neither", context,
        options.mu0.size(), options.mu1.size());
  }
  if (options.mu0.size() != 0 && options.propensity.size() == 0) {
    raise<InvalidArgument>(
        "{}: mu0/mu1 given without propensity, expected a propensity for the doubly-robust "
        "estimator",
        context);
  }
  for (Index i = 0; i < options.propensity.size(); ++i) {
    const double e = options.propensity[i];
    if (!(e > 0.0 && e < 1.0)) {
      raise<DataError>("{}: propensity[{}] = {}, expected a value strictly between 0 and 1",
                       context, i, e);
    }
  }
  double weight_treated = 0.0;
  double weight_control = 0.0;
  for (Index i = 0; i < n; ++i) {
    const double v = options.sample_weights.size() == 0 ? 1.0 : options.sample_weights[i];
    (w[i] == 1.0 ? weight_treated : weight_control) += v;
  }
  if (!(weight_treated > 0.0) || !(weight_control > 0.0)) {
    raise<DataError>(
        "{}: the treated arm (w = 1) has weight {} and the control arm (w = 0) {}, expected "
        "both arms present with positive weight",
        context, weight_treated, weight_control);
  }
}

/// The terms of row i (with unit multiplier).
inline RowTerms row_terms(Index i, const VectorRef& y, const VectorRef& w,
                          const EvaluationOptions& o) {
  RowTerms r;
  r.v = o.sample_weights.size() == 0 ? 1.0 : o.sample_weights[i];
  const double e = o.propensity.size() == 0 ? 0.5 : o.propensity[i];
  const double mu1 = o.mu1.size() == 0 ? 0.0 : o.mu1[i];
  const double mu0 = o.mu0.size() == 0 ? 0.0 : o.mu0[i];
  // Randomized data: any constant e gives the same ratios; 0.5 keeps the terms symmetric.
  if (w[i] == 1.0) {
    r.treated = r.v;
    r.a_t = r.v / e;
    r.b_t = r.a_t * (y[i] - mu1);
    r.b2_t = r.b_t * (y[i] - mu1);
  } else {
    r.a_c = r.v / (1.0 - e);
    r.b_c = r.a_c * (y[i] - mu0);
    r.b2_c = r.b_c * (y[i] - mu0);
  }
  r.m1 = r.v * mu1;
  r.m0 = r.v * mu0;
  return r;
}

/// Rows ranked by decreasing score (ties by increasing row index, so the order is fixed), cut
/// into groups of equal score, with each row's terms.
struct Ranking {
  std::vector<Index> order;
  std::vector<Index> group_end;  ///< exclusive end (position in `order`) of each tie group
  std::vector<RowTerms> terms;   ///< terms[i] of row i (not of position i)
  RowTerms total;
};

inline Ranking rank_rows(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                         const EvaluationOptions& options) {
  const Index n = y.size();
  Ranking r;
  r.order.resize(static_cast<std::size_t>(n));
  std::iota(r.order.begin(), r.order.end(), Index{0});
  std::stable_sort(r.order.begin(), r.order.end(),
                   [&](Index a, Index b) { return score[a] > score[b]; });
  for (std::size_t p = 1; p <= r.order.size(); ++p) {
    if (p == r.order.size() || score[r.order[p]] != score[r.order[p - 1]]) {
      r.group_end.push_back(static_cast<Index>(p));
    }
  }
  r.terms.resize(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    r.terms[static_cast<std::size_t>(i)] = row_terms(i, y, w, options);
    r.total.add(r.terms[static_cast<std::size_t>(i)]);
  }
  return r;
}

/// Cumulative sums at the end of every tie group with positive population (groups of zero
/// weight add no knot). Element 0 is the empty prefix.
inline std::vector<RowTerms> cumulative_sums(const Ranking& r) {
  std::vector<RowTerms> sums(1);
  RowTerms running;
  Index start = 0;
  for (const Index end : r.group_end) {
    RowTerms group;
    for (Index p = start; p < end; ++p) {
      group.add(r.terms[static_cast<std::size_t>(r.order[static_cast<std::size_t>(p)])]);
    }
    start = end;
    if (!(group.v > 0.0)) continue;
    running.add(group);
    sums.push_back(running);
  }
  return sums;
}

/// Fills the NaN entries of `value` by linear interpolation in `x` between defined neighbours
/// (value[0] is defined); trailing NaNs take the last defined value.
inline void interpolate_undefined(const Vector& x, Vector& value) {
  const Index k = value.size();
  Index last = 0;
  for (Index i = 1; i < k; ++i) {
    if (std::isnan(value[i])) continue;
    for (Index j = last + 1; j < i; ++j) {
      const double t = (x[j] - x[last]) / (x[i] - x[last]);
      value[j] = value[last] + t * (value[i] - value[last]);
    }
    last = i;
  }
  for (Index j = last + 1; j < k; ++j) value[j] = value[last];
}

inline Curve curve_from_sums(const std::vector<RowTerms>& sums, CurveKind kind, EmptyArm rule) {
  const Index k = static_cast<Index>(sums.size());
  Curve c;
  c.population.resize(k);
  c.value.resize(k);
  Vector lift(k);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (Index j = 0; j < k; ++j) {
    const RowTerms& s = sums[static_cast<std::size_t>(j)];
    c.population[j] = s.v;
    const bool defined = s.has_treated() && s.has_control();
    lift[j] = (j == 0) ? 0.0 : (rule == EmptyArm::zero || defined ? s.lift() : nan);
  }
  if (kind == CurveKind::qini) {
    for (Index j = 0; j < k; ++j) {
      const RowTerms& s = sums[static_cast<std::size_t>(j)];
      // Q = n_T·τ̂ is 0 while no treated row has been seen, whatever the rule.
      c.value[j] = s.treated > 0.0 ? s.treated * lift[j] : 0.0;
    }
    if (rule == EmptyArm::interpolate) interpolate_undefined(c.population, c.value);
    return c;
  }
  if (rule == EmptyArm::interpolate) interpolate_undefined(c.population, lift);
  c.value = kind == CurveKind::lift ? lift : Vector(c.population.cwiseProduct(lift));
  return c;
}

inline Curve compute_curve(std::string_view context, CurveKind kind, const VectorRef& y,
                           const VectorRef& w, const VectorRef& score,
                           const EvaluationOptions& options) {
  validate_inputs(context, y, w, score, options);
  return curve_from_sums(cumulative_sums(rank_rows(y, w, score, options)), kind, options.empty_arm);
}

/// True when every y is 0 or 1.
inline bool is_binary(const VectorRef& y) {
  for (Index i = 0; i < y.size(); ++i) {
    if (y[i] != 0.0 && y[i] != 1.0) return false;
  }
  return true;
}

/// Population after each row of the ranking (x₀ = 0, …, x_n = N), for CausalML's row averages.
inline Vector row_positions(const Ranking& r) {
  Vector x(static_cast<Index>(r.order.size()) + 1);
  x[0] = 0.0;
  double running = 0.0;
  // Positions within a tie group follow the group's rows in ranking order; the curve is linear
  // inside the group, so any within-group order gives the same x-values' curve values.
  for (std::size_t p = 0; p < r.order.size(); ++p) {
    running += r.terms[static_cast<std::size_t>(r.order[p])].v;
    x[static_cast<Index>(p) + 1] = running;
  }
  return x;
}

}  // namespace detail

/// The score that ranks rows as the perfect Qini curve does: y·(2w − 1).
inline Vector perfect_qini_score(const VectorRef& y, const VectorRef& w) {
  return (y.array() * (2.0 * w.array() - 1.0)).matrix();
}

/// The score that ranks rows as the perfect uplift curve does (see the header comment).
inline Vector perfect_uplift_score(const VectorRef& y, const VectorRef& w) {
  if (!detail::is_binary(y)) return perfect_qini_score(y, w);
  Index control_responders = 0;
  Index treated_nonresponders = 0;
  for (Index i = 0; i < y.size(); ++i) {
    control_responders += (y[i] == 1.0 && w[i] == 0.0) ? 1 : 0;
    treated_nonresponders += (y[i] == 0.0 && w[i] == 1.0) ? 1 : 0;
  }
  const bool by_outcome = control_responders > treated_nonresponders;
  Vector s(y.size());
  for (Index i = 0; i < y.size(); ++i) {
    s[i] = 2.0 * (y[i] == w[i] ? 1.0 : 0.0) + (by_outcome ? y[i] : w[i]);
  }
  return s;
}

/// Uplift curve U(x) = x·τ̂(S(x)) (scikit-uplift uplift_curve, CausalML get_cumgain).
/// Throws ShapeMismatch on unequal lengths; DataError on non-finite values, w not 0/1, an arm
/// without rows of positive weight, negative weights or a propensity outside (0, 1);
/// InvalidArgument when only one of mu0/mu1 is given or they are given without a propensity.
inline Curve uplift_curve(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                          const EvaluationOptions& options = {}) {
  return detail::compute_curve("uplift_curve", CurveKind::uplift, y, w, score, options);
}

/// The curve of `kind` (uplift_curve, qini_curve or lift_curve).
inline Curve curve(CurveKind kind, const VectorRef& y, const VectorRef& w, const VectorRef& score,
                   const EvaluationOptions& options = {}) {
  return detail::compute_curve("curve", kind, y, w, score, options);
}

/// CausalML's name for the uplift curve: cumulative gain = cumulative lift × population.
inline Curve cumulative_gain_curve(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                                   const EvaluationOptions& options = {}) {
  return detail::compute_curve("cumulative_gain_curve", CurveKind::uplift, y, w, score, options);
}

/// Qini curve Q(x) = n_T(S(x))·τ̂(S(x)) (Radcliffe 2007). Same exceptions as uplift_curve.
inline Curve qini_curve(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                        const EvaluationOptions& options = {}) {
  return detail::compute_curve("qini_curve", CurveKind::qini, y, w, score, options);
}

/// Cumulative lift L(x) = τ̂(S(x)) (CausalML get_cumlift); L at x = 0 is set to 0.
inline Curve lift_curve(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                        const EvaluationOptions& options = {}) {
  return detail::compute_curve("lift_curve", CurveKind::lift, y, w, score, options);
}

/// The uplift curve of the perfect ranking (see the header comment).
inline Curve perfect_uplift_curve(const VectorRef& y, const VectorRef& w,
                                  const EvaluationOptions& options = {}) {
  constexpr std::string_view kContext = "perfect_uplift_curve";
  detail::validate_inputs(kContext, y, w, y, options);
  const Vector s = perfect_uplift_score(y, w);
  return detail::compute_curve(kContext, CurveKind::uplift, y, w, s, options);
}

/// The Qini curve of the perfect ranking; negative_effect = false needs a binary y (else
/// InvalidArgument).
inline Curve perfect_qini_curve(const VectorRef& y, const VectorRef& w,
                                const EvaluationOptions& options = {},
                                bool negative_effect = true) {
  constexpr std::string_view kContext = "perfect_qini_curve";
  detail::validate_inputs(kContext, y, w, y, options);
  const Vector s = perfect_qini_score(y, w);
  if (negative_effect) {
    return detail::compute_curve(kContext, CurveKind::qini, y, w, s, options);
  }
  if (!detail::is_binary(y)) {
    raise<InvalidArgument>(
        "{}: negative_effect = false, expected a binary outcome y (0/1) for the three-point "
        "perfect curve",
        kContext);
  }
  const Curve full = detail::compute_curve(kContext, CurveKind::qini, y, w, s, options);
  const double total = full.total_population();
  const double q = full.final_value();
  Curve c;
  c.population = Vector{{0.0, q, total}};
  c.value = Vector{{0.0, q, q}};
  return c;
}

/// ∫₀ᴺ c(x) dx by the trapezoid rule over the knots.
inline double area_under_curve(const Curve& c) {
  double area = 0.0;
  for (Index k = 1; k < c.num_knots(); ++k) {
    area += 0.5 * (c.population[k] - c.population[k - 1]) * (c.value[k] + c.value[k - 1]);
  }
  return area;
}

/// ∫₀ᴺ c(x) dx − N·c(N)/2: the area between the curve and the random-targeting line.
inline double area_above_random(const Curve& c) {
  return area_under_curve(c) - 0.5 * c.total_population() * c.final_value();
}

namespace detail {
inline double normalized_ratio(std::string_view context, double actual, double perfect) {
  if (perfect == 0.0) {
    raise<DataError>(
        "{}: the perfect curve has no area above the random line, expected a non-zero "
        "normalizer",
        context);
  }
  return actual / perfect;
}
}  // namespace detail

/// scikit-uplift's uplift_auc_score: area_above_random(U) / area_above_random(U*).
/// Throws DataError when the perfect curve's area above random is 0.
inline double uplift_auc_score(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                               const EvaluationOptions& options = {}) {
  constexpr std::string_view kContext = "uplift_auc_score";
  const Curve actual = detail::compute_curve(kContext, CurveKind::uplift, y, w, score, options);
  const Curve perfect =
      detail::compute_curve(kContext, CurveKind::uplift, y, w, perfect_uplift_score(y, w), options);
  return detail::normalized_ratio(kContext, area_above_random(actual), area_above_random(perfect));
}

/// scikit-uplift's qini_auc_score, Radcliffe's Qini coefficient:
/// area_above_random(Q) / area_above_random(Q*).
inline double qini_auc_score(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                             const EvaluationOptions& options = {}, bool negative_effect = true) {
  constexpr std::string_view kContext = "qini_auc_score";
  const Curve actual = detail::compute_curve(kContext, CurveKind::qini, y, w, score, options);
  const Curve perfect = perfect_qini_curve(y, w, options, negative_effect);
  return detail::normalized_ratio(kContext, area_above_random(actual), area_above_random(perfect));
}

/// Same as qini_auc_score (the name used in the literature).
inline double qini_coefficient(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                               const EvaluationOptions& options = {}, bool negative_effect = true) {
  return qini_auc_score(y, w, score, options, negative_effect);
}

namespace detail {
inline double causalml_score(std::string_view context, CurveKind kind, const VectorRef& y,
                             const VectorRef& w, const VectorRef& score,
                             const EvaluationOptions& options, bool subtract_random) {
  validate_inputs(context, y, w, score, options);
  const Ranking r = rank_rows(y, w, score, options);
  const Curve c = curve_from_sums(cumulative_sums(r), kind, options.empty_arm);
  const double end = c.final_value();
  if (end == 0.0) {
    raise<DataError>(
        "{}: the curve ends at 0 (no overall effect), expected a non-zero final value to "
        "normalize by",
        context);
  }
  const Vector x = row_positions(r);
  const double total = c.total_population();
  double sum = 0.0;
  for (Index j = 0; j < x.size(); ++j) {
    sum += c.at(x[j]) - (subtract_random ? end * x[j] / total : 0.0);
  }
  return sum / (std::abs(end) * static_cast<double>(x.size()));
}
}  // namespace detail

/// CausalML's auuc_score(normalize=True): the mean over the n + 1 row positions of the uplift
/// (cumulative gain) curve divided by |U(N)|. Throws DataError when U(N) = 0.
inline double causalml_auuc_score(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                                  const EvaluationOptions& options = {}) {
  return detail::causalml_score("causalml_auuc_score", CurveKind::uplift, y, w, score, options,
                                false);
}

/// CausalML's qini_score(normalize=True): the mean over the n + 1 row positions of
/// (Q(x) − Q(N)·x/N) / |Q(N)|. Throws DataError when Q(N) = 0.
inline double causalml_qini_score(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                                  const EvaluationOptions& options = {}) {
  return detail::causalml_score("causalml_qini_score", CurveKind::qini, y, w, score, options, true);
}

}  // namespace tailor::uplift
