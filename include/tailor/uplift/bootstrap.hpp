// tailor/uplift/bootstrap.hpp — bootstrap bands for uplift/Qini/lift curves and bootstrap
// intervals for any scalar uplift metric (Qini coefficient, AUUC, uplift@k, ...).
//
// Nonparametric bootstrap (Efron & Tibshirani 1993): resample b = 0..B−1 draws n rows with
// replacement from the stream Rng(seed, b) (core/random.hpp), carrying each row's score,
// propensity, outcome predictions and weight along (the nuisances are held fixed), and
// recomputes the statistic. Curves are compared on a common grid of population shares
// f = 0, 1/(G−1), …, 1 (a resample's curve is read at f·N_b, linear between its knots).
//   band / interval   percentile method: the (1−level)/2 and (1+level)/2 quantiles of the
//                     replicates (linear interpolation between order statistics, Hyndman & Fan
//                     type 7)
//   std_error         the standard deviation of the replicates (divisor B − 1)
// Resamples run in parallel (parallel_for over b); each writes only its own slot and the
// quantiles are taken afterwards, so results are bit-identical for every num_threads.
// A resample that loses an arm entirely raises DataError naming the resample.
// Complexity: O(B · n log n) time (each resample re-sorts), O(B · G + n) memory for bands.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"
#include "tailor/uplift/curves.hpp"

namespace tailor::uplift {

/// Bootstrap settings. Validated by every function that takes them (InvalidArgument).
struct BootstrapOptions {
  Index num_resamples = 200;    ///< B ≥ 2
  double level = 0.95;          ///< coverage of bands and intervals, in (0, 1)
  Index num_grid_points = 101;  ///< G ≥ 2 population shares 0, 1/(G−1), …, 1 for curve bands
  std::uint64_t seed = 0;
  Index num_threads = 0;  ///< 0 = all cores; results are identical for every value
};

/// A curve on a grid of population shares with its pointwise bootstrap band.
struct CurveBand {
  Vector share;  ///< population shares f
  Vector value;  ///< the curve of the full data at f·N
  Vector lower;  ///< percentile band
  Vector upper;
  Vector std_error;  ///< bootstrap standard deviation at each share
};

/// A scalar metric with its bootstrap distribution.
struct BootstrapResult {
  double value = 0;      ///< the metric on the full data
  double std_error = 0;  ///< standard deviation of the replicates
  Interval interval;     ///< percentile interval
  Vector replicates;     ///< the B replicate values, in resample order
};

namespace detail {

inline void validate_bootstrap(std::string_view context, const BootstrapOptions& b) {
  check_count(context, "num_resamples", b.num_resamples, 2, limits::kMaxResamples);
  check_param(b.level > 0.0 && b.level < 1.0, context, "level", b.level, "a value in (0, 1)");
  check_count(context, "num_grid_points", b.num_grid_points, 2, limits::kMaxBins);
  check_param(b.num_threads >= 0, context, "num_threads", b.num_threads,
              "0 (all cores) or a positive count");
}

/// One resample's data (owned).
struct Resample {
  Vector y, w, score;
  EvaluationOptions options;
};

inline Vector take(const Vector& v, const std::vector<Index>& rows) {
  if (v.size() == 0) return Vector();
  Vector out(static_cast<Index>(rows.size()));
  for (std::size_t k = 0; k < rows.size(); ++k) out[static_cast<Index>(k)] = v[rows[k]];
  return out;
}

inline Resample draw_resample(const VectorRef& y, const VectorRef& w, const VectorRef& score,
                              const EvaluationOptions& o, std::uint64_t seed, Index b) {
  Rng rng(seed, static_cast<std::uint64_t>(b));
  const std::vector<Index> rows = bootstrap_indices(y.size(), rng);
  Resample r;
  const Index n = static_cast<Index>(rows.size());
  r.y.resize(n);
  r.w.resize(n);
  r.score.resize(n);
  for (Index k = 0; k < n; ++k) {
    const Index i = rows[static_cast<std::size_t>(k)];
    r.y[k] = y[i];
    r.w[k] = w[i];
    r.score[k] = score[i];
  }
  r.options.propensity = take(o.propensity, rows);
  r.options.mu0 = take(o.mu0, rows);
  r.options.mu1 = take(o.mu1, rows);
  r.options.sample_weights = take(o.sample_weights, rows);
  r.options.empty_arm = o.empty_arm;
  return r;
}

/// Type-7 quantile of sorted values.
inline double sorted_quantile(const std::vector<double>& sorted, double p) {
  const double h = static_cast<double>(sorted.size() - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

inline double sample_sd(const std::vector<double>& values) {
  double mean = 0.0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0.0;
  for (double v : values) ss += (v - mean) * (v - mean);
  return std::sqrt(ss / static_cast<double>(values.size() - 1));
}

/// Runs body(b, resample) for every resample, in parallel; a DataError is re-raised naming b.
template <class F>
void for_each_resample(std::string_view context, const VectorRef& y, const VectorRef& w,
                       const VectorRef& score, const EvaluationOptions& o,
                       const BootstrapOptions& b, F&& body) {
  parallel_for(0, b.num_resamples, b.num_threads, [&](Index r) {
    const Resample data = draw_resample(y, w, score, o, b.seed, r);
    try {
      body(r, data);
    } catch (const DataError& e) {
      raise<DataError>("{}: bootstrap resample {}: {}", context, r, e.what());
    }
  });
}

}  // namespace detail

/// The curve of `kind` with a pointwise percentile band from `bootstrap.num_resamples`
/// resamples. Throws InvalidArgument for bad bootstrap options, the input errors of
/// uplift_curve, and DataError when a resample has an empty arm.
inline CurveBand bootstrap_curve_band(CurveKind kind, const VectorRef& y, const VectorRef& w,
                                      const VectorRef& score, const EvaluationOptions& options = {},
                                      const BootstrapOptions& bootstrap = {}) {
  constexpr std::string_view kContext = "bootstrap_curve_band";
  detail::validate_bootstrap(kContext, bootstrap);
  const Curve full = detail::compute_curve(kContext, kind, y, w, score, options);
  const Index G = bootstrap.num_grid_points;
  const Index B = bootstrap.num_resamples;
  CurveBand band;
  band.share.resize(G);
  band.value.resize(G);
  for (Index g = 0; g < G; ++g) {
    band.share[g] = static_cast<double>(g) / static_cast<double>(G - 1);
    band.value[g] = full.at_fraction(band.share[g]);
  }
  Matrix replicates(G, B);  // column b: resample b on the grid
  detail::for_each_resample(
      kContext, y, w, score, options, bootstrap, [&](Index b, const detail::Resample& data) {
        const Curve c =
            detail::compute_curve(kContext, kind, data.y, data.w, data.score, data.options);
        for (Index g = 0; g < G; ++g) {
          replicates(g, b) = c.at_fraction(band.share[g]);
        }
      });
  band.lower.resize(G);
  band.upper.resize(G);
  band.std_error.resize(G);
  std::vector<double> row(static_cast<std::size_t>(B));
  for (Index g = 0; g < G; ++g) {
    for (Index b = 0; b < B; ++b) row[static_cast<std::size_t>(b)] = replicates(g, b);
    band.std_error[g] = detail::sample_sd(row);
    std::sort(row.begin(), row.end());
    band.lower[g] = detail::sorted_quantile(row, 0.5 - bootstrap.level / 2.0);
    band.upper[g] = detail::sorted_quantile(row, 0.5 + bootstrap.level / 2.0);
  }
  return band;
}

/// Bootstrap distribution of any metric `statistic(y, w, score, options) -> double`, e.g.
/// `[](auto&&... a) { return qini_auc_score(a...); }`. Same exceptions as bootstrap_curve_band
/// plus whatever the statistic throws.
template <class Statistic>
BootstrapResult bootstrap_metric(Statistic&& statistic, const VectorRef& y, const VectorRef& w,
                                 const VectorRef& score, const EvaluationOptions& options = {},
                                 const BootstrapOptions& bootstrap = {}) {
  constexpr std::string_view kContext = "bootstrap_metric";
  detail::validate_bootstrap(kContext, bootstrap);
  detail::validate_inputs(kContext, y, w, score, options);
  BootstrapResult result;
  result.value = statistic(y, w, score, options);
  result.replicates.resize(bootstrap.num_resamples);
  detail::for_each_resample(
      kContext, y, w, score, options, bootstrap, [&](Index b, const detail::Resample& data) {
        result.replicates[b] =
            static_cast<double>(statistic(data.y, data.w, data.score, data.options));
      });
  std::vector<double> sorted(result.replicates.data(),
                             result.replicates.data() + result.replicates.size());
  result.std_error = detail::sample_sd(sorted);
  std::sort(sorted.begin(), sorted.end());
  result.interval = {detail::sorted_quantile(sorted, 0.5 - bootstrap.level / 2.0),
                     detail::sorted_quantile(sorted, 0.5 + bootstrap.level / 2.0)};
  return result;
}

}  // namespace tailor::uplift
