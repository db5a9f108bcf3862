// tailor/segment/quality.hpp — internal cluster-quality indices: silhouette, Calinski–Harabasz,
// Davies–Bouldin (Euclidean distance).
//
//   silhouette (Rousseeuw, J. Comput. Appl. Math. 1987): for row i in cluster A,
//     a(i) = mean distance to the other rows of A, b(i) = min over clusters B ≠ A of the mean
//     distance to the rows of B, s(i) = (b − a) / max(a, b), and s(i) = 0 when |A| = 1.
//     The score is the mean of s(i). Exact: all n rows, O(n²·p) time (distances by GEMM in
//     tiles, O(tile²) memory). Sampled (n > max_exact_rows): s(i) is computed exactly, against
//     all n rows, for `sample_size` rows drawn without replacement with Rng(seed); their mean is
//     an unbiased estimate of the full-data score, O(sample_size·n·p).
//   Calinski–Harabasz (Comm. Statistics 1974): [B / (m − 1)] / [W / (n − m)], with
//     B = Σ_c n_c‖x̄_c − x̄‖² and W = Σᵢ ‖xᵢ − x̄_{c(i)}‖²; 1 when W = 0 (as scikit-learn). O(n·p).
//   Davies–Bouldin (IEEE PAMI 1979): (1/m) Σ_c max_{d≠c} (S_c + S_d) / ‖x̄_c − x̄_d‖ with
//     S_c = mean distance of cluster c's rows to x̄_c; pairs with coinciding centroids are skipped,
//     and the score is 0 when all S_c are 0. Lower is better. O(n·p + m²·p).
// Labels are any non-negative integers (only equality matters); m = number of distinct labels
// must satisfy 2 ≤ m ≤ n − 1.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"

namespace tailor::segment {

struct SilhouetteParams {
  Index max_exact_rows = 5000;  ///< n up to this: exact score over all rows
  Index sample_size = 2000;     ///< rows scored when n > max_exact_rows (≥ 1)
  std::uint64_t seed = 0;       ///< chooses the sampled rows
  Index num_threads = 0;        ///< 0 = all cores
};

namespace detail {

/// Checks X and labels and maps labels to codes 0..m−1 (in increasing label order).
inline Index cluster_codes(std::string_view context, const MatrixRef& X,
                           std::span<const Index> labels, std::vector<Index>& codes) {
  check_nonempty(context, "X", X.rows());
  check_finite(context, "X", X);
  if (static_cast<Index>(labels.size()) != X.rows()) {
    raise<ShapeMismatch>("{}: labels has {} entries, expected {} (the rows of X)", context,
                         labels.size(), X.rows());
  }
  std::vector<Index> distinct(labels.begin(), labels.end());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0) {
      raise<DataError>("{}: labels[{}] = {}, expected a label >= 0", context, i, labels[i]);
    }
  }
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const auto m = static_cast<Index>(distinct.size());
  if (m < 2 || m > X.rows() - 1) {
    raise<InvalidArgument>("{}: labels have {} distinct values, expected between 2 and n - 1 = {}",
                           context, m, X.rows() - 1);
  }
  codes.resize(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    codes[i] = static_cast<Index>(std::lower_bound(distinct.begin(), distinct.end(), labels[i]) -
                                  distinct.begin());
  }
  return m;
}

/// Cluster sizes and centroids (m × p) for codes 0..m−1.
inline void centroids(const MatrixRef& X, const std::vector<Index>& codes, Index m, Vector& size,
                      Matrix& center) {
  size = Vector::Zero(m);
  center = Matrix::Zero(m, X.cols());
  for (Index j = 0; j < X.cols(); ++j)
    for (Index i = 0; i < X.rows(); ++i) center(codes[static_cast<std::size_t>(i)], j) += X(i, j);
  for (Index i = 0; i < X.rows(); ++i) size[codes[static_cast<std::size_t>(i)]] += 1.0;
  for (Index c = 0; c < m; ++c) center.row(c) /= size[c];
}

/// s(i) for the rows `rows` of X against all rows.
inline Vector silhouette_of_rows(const MatrixRef& X, const std::vector<Index>& codes, Index m,
                                 const std::vector<Index>& rows, Index num_threads) {
  const Index n = X.rows();
  const auto s = static_cast<Index>(rows.size());
  Vector size = Vector::Zero(m);
  for (Index i = 0; i < n; ++i) size[codes[static_cast<std::size_t>(i)]] += 1.0;
  const Vector x_norm = X.rowwise().squaredNorm();
  Vector out(s);
  constexpr Index kTile = 256;
  constexpr Index kInner = 2048;
  parallel_for_blocks(0, s, kTile, num_threads, [&](Index, Index lo, Index hi) {
    Matrix S(hi - lo, X.cols());
    for (Index t = lo; t < hi; ++t) S.row(t - lo) = X.row(rows[static_cast<std::size_t>(t)]);
    Matrix dist_sum = Matrix::Zero(hi - lo, m);
    Matrix G;
    for (Index b = 0; b < n; b += kInner) {
      const Index e = std::min(n, b + kInner);
      G.noalias() = S * X.middleRows(b, e - b).transpose();
      for (Index j = b; j < e; ++j) {
        const Index c = codes[static_cast<std::size_t>(j)];
        for (Index t = lo; t < hi; ++t) {
          const Index i = rows[static_cast<std::size_t>(t)];
          if (i == j) continue;
          const double d2 = x_norm[i] + x_norm[j] - 2.0 * G(t - lo, j - b);
          dist_sum(t - lo, c) += std::sqrt(std::max(0.0, d2));
        }
      }
    }
    for (Index t = lo; t < hi; ++t) {
      const Index i = rows[static_cast<std::size_t>(t)];
      const Index own = codes[static_cast<std::size_t>(i)];
      if (size[own] <= 1.0) {
        out[t] = 0.0;
        continue;
      }
      const double a = dist_sum(t - lo, own) / (size[own] - 1.0);
      double b_min = std::numeric_limits<double>::infinity();
      for (Index c = 0; c < m; ++c)
        if (c != own && size[c] > 0.0) b_min = std::min(b_min, dist_sum(t - lo, c) / size[c]);
      const double denom = std::max(a, b_min);
      out[t] = denom > 0.0 ? (b_min - a) / denom : 0.0;
    }
  });
  return out;
}

}  // namespace detail

/// s(i) for every row (exact, O(n²·p)).
inline Vector silhouette_samples(const MatrixRef& X, std::span<const Index> labels,
                                 Index num_threads = 0) {
  std::vector<Index> codes;
  const Index m = detail::cluster_codes("silhouette_samples", X, labels, codes);
  std::vector<Index> rows(static_cast<std::size_t>(X.rows()));
  for (Index i = 0; i < X.rows(); ++i) rows[static_cast<std::size_t>(i)] = i;
  return detail::silhouette_of_rows(X, codes, m, rows, num_threads);
}

/// Mean silhouette: exact when n ≤ max_exact_rows, else the mean over a seeded sample of rows
/// (each scored against all rows). In [−1, 1]; higher is better.
inline double silhouette_score(const MatrixRef& X, std::span<const Index> labels,
                               const SilhouetteParams& params = {}) {
  constexpr std::string_view c = "silhouette_score";
  check_param(params.max_exact_rows >= 0, c, "max_exact_rows", params.max_exact_rows,
              "a value >= 0");
  check_param(params.sample_size >= 1, c, "sample_size", params.sample_size, "at least 1");
  std::vector<Index> codes;
  const Index m = detail::cluster_codes(c, X, labels, codes);
  const Index n = X.rows();
  std::vector<Index> rows;
  if (n <= params.max_exact_rows || params.sample_size >= n) {
    rows.resize(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
  } else {
    Rng rng(params.seed);
    rows = sample_without_replacement(n, params.sample_size, rng);
    std::sort(rows.begin(), rows.end());
  }
  return detail::silhouette_of_rows(X, codes, m, rows, params.num_threads).mean();
}

/// Calinski–Harabasz variance ratio (higher is better).
inline double calinski_harabasz_score(const MatrixRef& X, std::span<const Index> labels) {
  std::vector<Index> codes;
  const Index m = detail::cluster_codes("calinski_harabasz_score", X, labels, codes);
  Vector size;
  Matrix center;
  detail::centroids(X, codes, m, size, center);
  const Eigen::RowVectorXd mean = X.colwise().mean();
  double between = 0.0;
  for (Index c = 0; c < m; ++c) between += size[c] * (center.row(c) - mean).squaredNorm();
  double within = 0.0;
  for (Index j = 0; j < X.cols(); ++j)
    for (Index i = 0; i < X.rows(); ++i) {
      const double d = X(i, j) - center(codes[static_cast<std::size_t>(i)], j);
      within += d * d;
    }
  if (within == 0.0) return 1.0;
  const auto n = static_cast<double>(X.rows());
  return between * (n - static_cast<double>(m)) / (within * (static_cast<double>(m) - 1.0));
}

/// Davies–Bouldin index (lower is better; 0 is perfectly compact, separated clusters).
inline double davies_bouldin_score(const MatrixRef& X, std::span<const Index> labels) {
  std::vector<Index> codes;
  const Index m = detail::cluster_codes("davies_bouldin_score", X, labels, codes);
  Vector size;
  Matrix center;
  detail::centroids(X, codes, m, size, center);
  Vector spread = Vector::Zero(m);
  for (Index i = 0; i < X.rows(); ++i) {
    const Index c = codes[static_cast<std::size_t>(i)];
    spread[c] += (X.row(i) - center.row(c)).norm();
  }
  spread = spread.cwiseQuotient(size);
  if (spread.isZero(0.0)) return 0.0;
  double total = 0.0;
  for (Index c = 0; c < m; ++c) {
    double worst = 0.0;
    for (Index d = 0; d < m; ++d) {
      if (d == c) continue;
      const double gap = (center.row(c) - center.row(d)).norm();
      if (gap > 0.0) worst = std::max(worst, (spread[c] + spread[d]) / gap);
    }
    total += worst;
  }
  return total / static_cast<double>(m);
}

}  // namespace tailor::segment
