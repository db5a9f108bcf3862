// tailor/uplift/uplift_at_k.hpp — the effect in a slice of the ranking: uplift@k (top share k)
// and uplift by bin (deciles by default), with linearized standard errors.
//
// Rows are ranked by decreasing score as in uplift/curves.hpp and the slice's effect τ̂ uses the
// same estimator (difference in means, self-normalized IPW or doubly robust, chosen by the
// EvaluationOptions):  τ̂ = (M₁ − M₀)/N + B_T/A_T − B_C/A_C over the slice's rows, with
// M_a = Σ v μ̂_a, N = Σ v, A_T = Σ v w/e, B_T = Σ (v w/e)(y − μ̂₁), A_C, B_C likewise for control.
// Strategies (scikit-uplift's names):
//   overall   the slice is a share of the whole ranking's population; each arm's mean is taken
//             over the slice's rows of that arm (scikit-uplift uplift_at_k(strategy='overall'),
//             uplift_by_percentile(strategy='overall')).
//   by_group  the treated and control rows are ranked separately; each arm's mean is taken over
//             the slice's share of that arm's own population (strategy='by_group').
// Ties and shares that cut a row: population is measured by Σ v. A tie group (or a single row)
// that straddles a slice boundary enters the slice with the fraction of its population that
// falls inside, every row of the group with that same fraction — the average over all orders
// of the tied rows. With distinct scores and n·k (or n / num_bins) whole numbers this is exactly
// scikit-uplift's top int(n·k) rows / np.array_split bins.
// Standard error: the delta-method (linearization) variance of the ratio estimator,
//   Var τ̂ ≈ Σᵢ φᵢ²,  φᵢ = fᵢ [ (v(μ̂₁ − μ̂₀)ᵢ − vᵢ(M₁ − M₀)/N)/N + (b_Tᵢ − a_Tᵢ B_T/A_T)/A_T
//                              − (b_Cᵢ − a_Cᵢ B_C/A_C)/A_C ],
// fᵢ the row's membership fraction. For randomized binary outcomes this is scikit-uplift's
// √(p_T(1 − p_T)/n_T + p_C(1 − p_C)/n_C); nuisances are treated as fixed.
// An arm with no rows in the slice makes its mean, the uplift and the error NaN.
// Complexity: O(n log n) sort, then O(n) per slice (O(n·num_bins) at most for all bins).
#pragma once

#include <cmath>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/types.hpp"
#include "tailor/uplift/curves.hpp"

namespace tailor::uplift {

/// How a slice is cut (see the header comment).
enum class SliceStrategy { overall, by_group };

/// The effect estimated in one slice of the ranking.
struct SliceEstimate {
  double lower_share = 0;  ///< the slice covers shares [lower_share, upper_share) of the ranking
  double upper_share = 0;
  double population = 0;    ///< Σ v over the slice (both arms)
  double n_treated = 0;     ///< Σ v w over the slice
  double n_control = 0;     ///< Σ v (1 − w) over the slice
  double mean_treated = 0;  ///< estimated mean outcome under treatment
  double mean_control = 0;  ///< estimated mean outcome under control
  double uplift = 0;        ///< mean_treated − mean_control
  double std_error = 0;     ///< linearized standard error of uplift
};

namespace detail {

enum class Measure { all, treated, control };

inline double measure_of(const RowTerms& t, Measure m) {
  switch (m) {
    case Measure::treated:
      return t.treated;
    case Measure::control:
      return t.v - t.treated;
    case Measure::all:
    default:
      return t.v;
  }
}

/// Calls visit(row, fraction) for every row with a positive share of its tie group's `measure`
/// inside [lo, hi) (rows outside the measure, e.g. control rows for Measure::treated, skipped).
template <class F>
void visit_slice(const Ranking& r, Measure measure, double lo, double hi, F&& visit) {
  double start = 0.0;
  Index group_start = 0;
  for (const Index end : r.group_end) {
    double size = 0.0;
    for (Index p = group_start; p < end; ++p) {
      size += measure_of(r.terms[static_cast<std::size_t>(r.order[static_cast<std::size_t>(p)])],
                         measure);
    }
    const double overlap = std::min(hi, start + size) - std::max(lo, start);
    if (size > 0.0 && overlap > 0.0) {
      const double fraction = std::min(1.0, overlap / size);
      for (Index p = group_start; p < end; ++p) {
        const Index i = r.order[static_cast<std::size_t>(p)];
        if (measure_of(r.terms[static_cast<std::size_t>(i)], measure) > 0.0) visit(i, fraction);
      }
    }
    start += size;
    group_start = end;
    if (start >= hi) break;
  }
}

/// Σ φᵢ² of the header comment for the rows visited, given the slice sums.
struct SliceAccumulator {
  RowTerms sums;
  std::vector<std::pair<Index, double>> rows;
};

inline SliceAccumulator collect(const Ranking& r, Measure measure, double lo, double hi) {
  SliceAccumulator acc;
  visit_slice(r, measure, lo, hi, [&](Index i, double f) {
    acc.sums.add(r.terms[static_cast<std::size_t>(i)], f);
    acc.rows.emplace_back(i, f);
  });
  return acc;
}

inline double linearized_variance(const Ranking& r,
                                  const std::vector<std::pair<Index, double>>& rows,
                                  const RowTerms& s) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!(s.a_t > 0.0) || !(s.a_c > 0.0) || !(s.v > 0.0)) return nan;
  const double dm = (s.m1 - s.m0) / s.v;
  const double mean_t = s.b_t / s.a_t;
  const double mean_c = s.b_c / s.a_c;
  double var = 0.0;
  for (const auto& [i, f] : rows) {
    const RowTerms& t = r.terms[static_cast<std::size_t>(i)];
    const double phi = f * ((t.m1 - t.m0 - t.v * dm) / s.v + (t.b_t - t.a_t * mean_t) / s.a_t -
                            (t.b_c - t.a_c * mean_c) / s.a_c);
    var += phi * phi;
  }
  return var;
}

inline SliceEstimate estimate_slice(const Ranking& r, SliceStrategy strategy, double lo_share,
                                    double hi_share) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  SliceEstimate out;
  out.lower_share = lo_share;
  out.upper_share = hi_share;
  RowTerms sums;
  std::vector<std::pair<Index, double>> rows;
  if (strategy == SliceStrategy::overall) {
    const double total = r.total.v;
    auto acc = collect(r, Measure::all, lo_share * total, hi_share * total);
    sums = acc.sums;
    rows = std::move(acc.rows);
    out.mean_treated = sums.a_t > 0.0 ? sums.mean_treated() : nan;
    out.mean_control = sums.a_c > 0.0 ? sums.mean_control() : nan;
  } else {
    const double total_t = r.total.treated;
    const double total_c = r.total.v - r.total.treated;
    auto acc_t = collect(r, Measure::treated, lo_share * total_t, hi_share * total_t);
    auto acc_c = collect(r, Measure::control, lo_share * total_c, hi_share * total_c);
    // Each arm's μ̂ term is averaged over that arm's own rows (by_group ranks arms apart).
    const RowTerms& st = acc_t.sums;
    const RowTerms& sc = acc_c.sums;
    out.mean_treated = st.a_t > 0.0 ? st.m1 / st.v + st.b_t / st.a_t : nan;
    out.mean_control = sc.a_c > 0.0 ? sc.m0 / sc.v + sc.b_c / sc.a_c : nan;
    // Variance: the two arms are disjoint row sets; linearize each arm's mean separately.
    double var = 0.0;
    if (st.a_t > 0.0 && sc.a_c > 0.0) {
      for (const auto& [i, f] : acc_t.rows) {
        const RowTerms& t = r.terms[static_cast<std::size_t>(i)];
        const double phi =
            f * ((t.m1 - t.v * st.m1 / st.v) / st.v + (t.b_t - t.a_t * st.b_t / st.a_t) / st.a_t);
        var += phi * phi;
      }
      for (const auto& [i, f] : acc_c.rows) {
        const RowTerms& t = r.terms[static_cast<std::size_t>(i)];
        const double phi =
            f * ((t.m0 - t.v * sc.m0 / sc.v) / sc.v + (t.b_c - t.a_c * sc.b_c / sc.a_c) / sc.a_c);
        var += phi * phi;
      }
    } else {
      var = nan;
    }
    out.population = st.v + sc.v;
    out.n_treated = st.treated;
    out.n_control = sc.v - sc.treated;
    out.uplift = out.mean_treated - out.mean_control;
    out.std_error = std::sqrt(var);
    return out;
  }
  out.population = sums.v;
  out.n_treated = sums.treated;
  out.n_control = sums.v - sums.treated;
  out.uplift = out.mean_treated - out.mean_control;
  out.std_error = std::sqrt(linearized_variance(r, rows, sums));
  return out;
}

}  // namespace detail

/// The effect among the top share k ∈ (0, 1] of the ranking (scikit-uplift uplift_at_k).
/// Throws InvalidArgument for k outside (0, 1], plus the input errors of uplift_curve.
inline SliceEstimate uplift_at_k(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                                 double k, SliceStrategy strategy = SliceStrategy::overall,
                                 const EvaluationOptions& options = {}) {
  constexpr std::string_view kContext = "uplift_at_k";
  check_param(k > 0.0 && k <= 1.0, kContext, "k", k, "a share in (0, 1]");
  detail::validate_inputs(kContext, y, w, score, options);
  const detail::Ranking r = detail::rank_rows(y, w, score, options);
  return detail::estimate_slice(r, strategy, 0.0, k);
}

/// The effect in each of num_bins equal-population slices of the ranking, best-scored first
/// (num_bins = 10: uplift by decile; scikit-uplift uplift_by_percentile). Throws
/// InvalidArgument when num_bins < 1, plus the input errors of uplift_curve.
inline std::vector<SliceEstimate> uplift_by_bin(const VectorRef& y, const VectorRef& w,
                                                const VectorRef& score, Index num_bins = 10,
                                                SliceStrategy strategy = SliceStrategy::overall,
                                                const EvaluationOptions& options = {}) {
  constexpr std::string_view kContext = "uplift_by_bin";
  check_count(kContext, "num_bins", num_bins, 1, limits::kMaxBins);
  detail::validate_inputs(kContext, y, w, score, options);
  const detail::Ranking r = detail::rank_rows(y, w, score, options);
  std::vector<SliceEstimate> bins;
  bins.reserve(static_cast<std::size_t>(num_bins));
  const double B = static_cast<double>(num_bins);
  for (Index b = 0; b < num_bins; ++b) {
    const double lo = static_cast<double>(b) / B;
    const double hi = b + 1 == num_bins ? 1.0 : static_cast<double>(b + 1) / B;
    bins.push_back(detail::estimate_slice(r, strategy, lo, hi));
  }
  return bins;
}

}  // namespace tailor::uplift
