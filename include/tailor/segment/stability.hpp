// tailor/segment/stability.hpp — bootstrap stability of a clustering and a k-selection report.
//
// Stability (in the spirit of Hennig, Comput. Stat. Data Anal. 2007; Lange et al., Neural
// Computation 2004): refit the clusterer on B bootstrap resamples of the rows (resample b drawn
// with Rng(seed, b), the fits run in parallel over b) and compare partitions by the adjusted
// Rand index (Hubert & Arabie 1985) on the rows the resample contains (≈ 63.2% of them), each
// labelled by predict():
//   reference = full_fit  ARI(full-data fit, fit on resample b) on the rows of resample b;
//   reference = pairs     ARI(fit on b, fit on b+1 mod B) on the rows present in both.
// Reported: the B ARIs, their mean and the percentile interval at `level` (type-7 quantiles).
// Cost: (B + 1) fits plus B predictions on n rows; memory O(B·n) labels plus one resample per
// worker thread. Option warm_start: resample fits start from the full-data centers (one run,
// no seeding) — a documented change of what is measured, never a silent one.
// k-selection: for k = k_min..k_max one fit on all rows reports inertia, silhouette,
// Calinski–Harabasz and Davies–Bouldin (computed in the clustering space: model.embed(X) when
// the model has it, else X) and the bootstrap stability above.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <mutex>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"
#include "tailor/segment/kmeans.hpp"
#include "tailor/segment/quality.hpp"

namespace tailor::segment {

/// A clusterer: a const configuration whose fit(X) returns a model with predict(X) -> labels.
template <class C>
concept Clusterer = requires(const C& clusterer, const MatrixRef& X) {
  { clusterer.fit(X).predict(X) } -> std::convertible_to<std::vector<Index>>;
};

enum class StabilityReference : std::uint8_t { full_fit = 0, pairs = 1 };

struct StabilityParams {
  Index num_bootstrap = 50;  ///< B ≥ 1 (≥ 2 for pairs)
  double level = 0.95;       ///< coverage of the percentile interval, in (0, 1)
  StabilityReference reference = StabilityReference::full_fit;
  std::uint64_t seed = 0;               ///< resample b uses Rng(seed, b)
  Index num_threads = 0;                ///< 0 = all cores (parallel over resamples)
  ProgressCallback progress = nullptr;  ///< stage "bootstrap", done/total resamples
  /// Warm start: each resample's fit starts from the full-data fit's centers with one run
  /// (clusterer.warm_started(model); KMeans has it) instead of its own initialisation and
  /// restarts. Faster (no seeding, few iterations), but it measures a different thing: how
  /// stable the full-data solution's basin is under resampling, not how reproducible the whole
  /// procedure is — expect higher ARIs. Off by default.
  bool warm_start = false;
};

struct StabilityReport {
  std::vector<double> ari;  ///< one ARI per resample (pairs: resample b vs b+1)
  double mean_ari = 0.0;
  Interval interval;  ///< percentile interval of the ARIs at `level`
  double level = 0.95;
};

namespace detail {

/// Type-7 quantile (linear interpolation between order statistics) of sorted values.
inline double sorted_quantile(const std::vector<double>& sorted, double q) {
  const double h = (static_cast<double>(sorted.size()) - 1.0) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

inline void report_progress(const ProgressCallback& callback, std::string_view stage, Index done,
                            Index total) {
  tailor::report(callback, stage, done, total);
}

inline void check_stability_params(const StabilityParams& p) {
  constexpr std::string_view c = "bootstrap_stability";
  check_count(c, "num_bootstrap", p.num_bootstrap, 1, limits::kMaxResamples);
  check_param(p.level > 0.0 && p.level < 1.0, c, "level", p.level, "a value in (0, 1)");
  check_param(p.num_threads >= 0, c, "num_threads", p.num_threads,
              "0 (all cores) or a positive count");
  if (p.reference == StabilityReference::pairs && p.num_bootstrap < 2) {
    raise<InvalidArgument>("{}: num_bootstrap = {}, expected at least 2 for reference = pairs", c,
                           p.num_bootstrap);
  }
}

/// The bootstrap loop, given the full-data fit's labels on X (unused for pairs).
template <Clusterer C>
StabilityReport bootstrap_stability_with(const C& clusterer, const MatrixRef& X,
                                         const StabilityParams& params,
                                         const std::vector<Index>& reference_labels) {
  const Index n = X.rows();
  const Index B = params.num_bootstrap;
  const bool pairs = params.reference == StabilityReference::pairs;
  std::vector<std::vector<Index>> labels(static_cast<std::size_t>(pairs ? B : 0));
  std::vector<std::vector<char>> present(static_cast<std::size_t>(pairs ? B : 0));
  StabilityReport report;
  report.level = params.level;
  report.ari.assign(static_cast<std::size_t>(B), 0.0);
  // Counting and reporting under one lock keeps `done` increasing in the callback.
  std::mutex progress_mutex;
  Index done = 0;
  report_progress(params.progress, "bootstrap", 0, B);
  parallel_for(0, B, params.num_threads, [&](Index b) {
    Rng rng(params.seed, static_cast<std::uint64_t>(b));
    const std::vector<Index> rows = bootstrap_indices(n, rng);
    Matrix resample(n, X.cols());
    for (Index i = 0; i < n; ++i) resample.row(i) = X.row(rows[static_cast<std::size_t>(i)]);
    const auto model = clusterer.fit(resample);
    std::vector<char> in(static_cast<std::size_t>(n), 0);
    for (Index r : rows) in[static_cast<std::size_t>(r)] = 1;
    std::vector<Index> own = model.predict(X);
    if (pairs) {
      labels[static_cast<std::size_t>(b)] = std::move(own);
      present[static_cast<std::size_t>(b)] = std::move(in);
    } else {
      std::vector<Index> a, c;
      for (Index i = 0; i < n; ++i) {
        if (!in[static_cast<std::size_t>(i)]) continue;
        a.push_back(reference_labels[static_cast<std::size_t>(i)]);
        c.push_back(own[static_cast<std::size_t>(i)]);
      }
      report.ari[static_cast<std::size_t>(b)] = metrics::adjusted_rand_index(a, c);
    }
    if (params.progress) {
      std::lock_guard lock(progress_mutex);
      report_progress(params.progress, "bootstrap", ++done, B);
    }
  });
  if (pairs) {
    for (Index b = 0; b < B; ++b) {
      const auto& la = labels[static_cast<std::size_t>(b)];
      const auto& lb = labels[static_cast<std::size_t>((b + 1) % B)];
      const auto& pa = present[static_cast<std::size_t>(b)];
      const auto& pb = present[static_cast<std::size_t>((b + 1) % B)];
      std::vector<Index> a, c;
      for (Index i = 0; i < n; ++i) {
        if (pa[static_cast<std::size_t>(i)] && pb[static_cast<std::size_t>(i)]) {
          a.push_back(la[static_cast<std::size_t>(i)]);
          c.push_back(lb[static_cast<std::size_t>(i)]);
        }
      }
      report.ari[static_cast<std::size_t>(b)] = metrics::adjusted_rand_index(a, c);
    }
  }
  double sum = 0.0;
  for (double v : report.ari) sum += v;
  report.mean_ari = sum / static_cast<double>(B);
  std::vector<double> sorted = report.ari;
  std::sort(sorted.begin(), sorted.end());
  const double tail = (1.0 - params.level) / 2.0;
  report.interval = {sorted_quantile(sorted, tail), sorted_quantile(sorted, 1.0 - tail)};
  return report;
}

}  // namespace detail

namespace detail {

/// The bootstrap loop with the resample clusterer `params` asks for: `clusterer` itself, or
/// with warm_start, clusterer.warm_started(full_model).
template <Clusterer C, class Model>
StabilityReport bootstrap_stability_from(const C& clusterer, const Model& full_model,
                                         const MatrixRef& X, const StabilityParams& params,
                                         const std::vector<Index>& reference_labels) {
  if (!params.warm_start) {
    return bootstrap_stability_with(clusterer, X, params, reference_labels);
  }
  if constexpr (requires { clusterer.warm_started(full_model); }) {
    return bootstrap_stability_with(clusterer.warm_started(full_model), X, params,
                                    reference_labels);
  } else {
    raise<InvalidArgument>(
        "bootstrap_stability: warm_start = true, expected a clusterer with "
        "warm_started(model) (KMeans has it)");
  }
}

}  // namespace detail

/// Bootstrap stability of `clusterer` on X (see the header).
template <Clusterer C>
StabilityReport bootstrap_stability(const C& clusterer, const MatrixRef& X,
                                    const StabilityParams& params = {}) {
  detail::check_stability_params(params);
  check_nonempty("bootstrap_stability", "X", X.rows());
  const bool full_fit = params.reference == StabilityReference::full_fit;
  if (!full_fit && !params.warm_start) {
    return detail::bootstrap_stability_with(clusterer, X, params, {});
  }
  const auto model = clusterer.fit(X);
  std::vector<Index> reference;
  if (full_fit) reference = model.predict(X);
  return detail::bootstrap_stability_from(clusterer, model, X, params, reference);
}

struct KSelectionParams {
  StabilityParams stability = {.num_bootstrap = 20};  ///< its seed/threads/progress are used
  SilhouetteParams silhouette;                        ///< exact or sampled silhouette
};

/// One k of the k-selection report. Quality indices are NaN when the fit used fewer than two
/// (or n) distinct clusters.
struct KSelectionRow {
  Index num_clusters = 0;
  double inertia = 0.0;
  double silhouette = 0.0;
  double calinski_harabasz = 0.0;
  double davies_bouldin = 0.0;
  double stability_mean = 0.0;
  Interval stability_interval;
};

/// k-selection for any clusterer family: make(k) returns the clusterer for k; its model must
/// have inertia(), and may have embed(X) (the space the clusters live in).
template <class MakeClusterer>
requires std::invocable<MakeClusterer&, Index> std::vector<KSelectionRow> k_selection(
    const MatrixRef& X, Index k_min, Index k_max, MakeClusterer&& make,
    const KSelectionParams& params = {}) {
  constexpr std::string_view c = "k_selection";
  check_param(k_min >= 2, c, "k_min", k_min, "at least 2");
  if (k_max < k_min) {
    raise<InvalidArgument>("{}: k_max = {}, expected >= k_min = {}", c, k_max, k_min);
  }
  detail::check_stability_params(params.stability);
  std::vector<KSelectionRow> rows;
  for (Index k = k_min; k <= k_max; ++k) {
    const auto clusterer = make(k);
    const auto model = clusterer.fit(X);
    const std::vector<Index> labels = model.predict(X);
    KSelectionRow row;
    row.num_clusters = k;
    row.inertia = model.inertia();
    std::vector<Index> distinct = labels;
    std::sort(distinct.begin(), distinct.end());
    const auto m =
        static_cast<Index>(std::unique(distinct.begin(), distinct.end()) - distinct.begin());
    if (m >= 2 && m <= X.rows() - 1) {
      auto quality = [&](const MatrixRef& space) {
        row.silhouette = silhouette_score(space, labels, params.silhouette);
        row.calinski_harabasz = calinski_harabasz_score(space, labels);
        row.davies_bouldin = davies_bouldin_score(space, labels);
      };
      if constexpr (requires { model.embed(X); }) {
        quality(model.embed(X));
      } else {
        quality(X);
      }
    } else {
      row.silhouette = row.calinski_harabasz = row.davies_bouldin =
          std::numeric_limits<double>::quiet_NaN();
    }
    const StabilityReport s =
        detail::bootstrap_stability_from(clusterer, model, X, params.stability, labels);
    row.stability_mean = s.mean_ari;
    row.stability_interval = s.interval;
    rows.push_back(row);
  }
  return rows;
}

/// k-selection for K-Means with `base` parameters (num_clusters is replaced by k).
inline std::vector<KSelectionRow> k_selection(const MatrixRef& X, Index k_min, Index k_max,
                                              const KMeansParams& base,
                                              const KSelectionParams& params = {}) {
  return k_selection(
      X, k_min, k_max,
      [&](Index k) {
        KMeansParams p = base;
        p.num_clusters = k;
        return KMeans(p);
      },
      params);
}

}  // namespace tailor::segment
