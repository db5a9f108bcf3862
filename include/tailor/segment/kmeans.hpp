// tailor/segment/kmeans.hpp — weighted K-Means (Lloyd or Hamerly) and mini-batch K-Means.
//
// Minimizes the inertia Σᵢ wᵢ‖xᵢ − c_{a(i)}‖² over k centers.
//   init        greedy k-means++ (Arthur & Vassilvitskii, SODA 2007): each new center is the
//               best of 2 + ⌊ln k⌋ candidates drawn ∝ w·D² (the greedy variant scikit-learn
//               uses), O(n·p·k·log k); or `random`: k distinct rows chosen uniformly.
//   lloyd       assignment by the fused kernel of detail/nearest.hpp: argmin_j ‖c_j‖² − 2·x·c_j
//               (‖x‖² is common to all j) computed for 8 rows × 4 centers at a time in registers,
//               reading X in place — one n×p×k product per iteration and no n × k distance
//               matrix; the per-cluster sums move only by the rows that change cluster.
//   hamerly     Hamerly (SDM 2010): per point an upper bound u on the distance to its center and
//               a lower bound l on the distance to every other center; a point whose
//               u ≤ max(l, ½·min_{j'≠a} ‖c_a − c_j'‖) cannot change cluster and is skipped (by
//               chunks of 8 rows). Bounds drift by the centers' moves. Pays off when there are
//               many iterations and k is moderate (32 Gaussian blobs, n = 10⁵, p = 20, one
//               thread: 1.8× faster than lloyd at k = 32; on par at k = 8, where few iterations
//               run, and at k = 64, where one lower bound prunes little); extra memory 2n.
// Stopping (as scikit-learn): labels unchanged between two iterations, or the total squared
// center shift Σ_j ‖Δc_j‖² ≤ tol · mean_j Var(X_{·j}); after a tol stop the labels are
// recomputed against the final centers.
// Empty clusters: after an assignment, each empty cluster takes the point (of positive weight)
// farthest from its current center — the largest contributor to the inertia — as its new
// center (ties: lowest row index); that point moves to the empty cluster.
// Restarts: n_init independent runs, run r drawing from Rng(seed, r); the lowest inertia wins,
// ties going to the lowest r. With enough rows the restarts run in lockstep groups (each pass
// reads a row block once for the whole group) spread over the threads by row blocks, else side
// by side. Row-blocked reductions make every result bit-identical for every num_threads and
// grouping. A warm start (initial_centers) replaces init by given centers for a single run.
// MiniBatchKMeans (Sculley, WWW 2010): each step draws batch_size rows with replacement, assigns
// them, and moves each center to the running weighted mean of all rows it has received:
// c ← (v·c + Σ_batch w x) / (v + Σ_batch w), v += Σ_batch w. O(batch·p·k) per step; it stops
// after max_iter passes' worth of steps, or when the smoothed batch inertia has not improved for
// max_no_improvement steps, or (tol > 0) when the squared center shift ≤ tol·mean Var.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <limits>
#include <ostream>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/segment/detail/blocked.hpp"
#include "tailor/segment/detail/nearest.hpp"

namespace tailor::segment {

enum class KMeansInit : std::uint8_t { kmeans_plus_plus = 0, random = 1 };
enum class KMeansAlgorithm : std::uint8_t { lloyd = 0, hamerly = 1 };

struct KMeansParams {
  Index num_clusters = 8;  ///< k ≥ 1, at most the number of rows
  Index n_init = 10;       ///< restarts (scikit-learn's classic default)
  Index max_iter = 300;    ///< iterations per restart (≥ 1)
  double tol = 1e-4;       ///< relative to the mean feature variance (≥ 0)
  KMeansInit init = KMeansInit::kmeans_plus_plus;
  KMeansAlgorithm algorithm = KMeansAlgorithm::lloyd;
  std::uint64_t seed = 0;
  Index num_threads = 0;  ///< 0 = all cores
  /// Optional k × p starting centers (a warm start): when set, `init` is not used and n_init
  /// must be 1 (every restart would start from the same centers).
  Matrix initial_centers = Matrix();
};

struct MiniBatchKMeansParams {
  Index num_clusters = 8;         ///< k ≥ 1
  Index batch_size = 1024;        ///< rows per step (≥ 1)
  Index max_iter = 100;           ///< passes over the data: steps = ⌈max_iter·n / batch_size⌉
  Index max_no_improvement = 10;  ///< steps without a better smoothed inertia before stopping
                                  ///< (0 disables)
  double tol = 0.0;               ///< center-shift stop as in KMeans; 0 disables
  Index n_init = 3;               ///< k-means++ candidates, best on a validation sample
  Index init_size = 0;            ///< rows per init sample; 0 = max(3·batch_size, 3·k)
  double reassignment_ratio = 0.01;  ///< every 10 steps, centers with weight < ratio·max are
                                     ///< moved to random batch rows (0 disables)
  KMeansInit init = KMeansInit::kmeans_plus_plus;
  std::uint64_t seed = 0;
  Index num_threads = 0;
};

/// Documented maxima of the K-Means count parameters: a mistyped value gets an InvalidArgument
/// naming the limit, never an overflow or a huge allocation.
inline constexpr Index kMaxClusters = Index{1} << 20;   ///< num_clusters
inline constexpr Index kMaxRestarts = 10'000;           ///< n_init
inline constexpr Index kMaxIterations = 1'000'000;      ///< max_iter (mini-batch: passes)
inline constexpr Index kMaxBatchRows = Index{1} << 30;  ///< batch_size, init_size

namespace detail {

/// Rows per thread from which K-Means runs restarts in lockstep groups parallel over row blocks
/// rather than side by side.
inline constexpr Index kParallelRowsPerThread = 4 * kRowBlock;

/// Validated sample weights (length 0 → all ones).
inline Vector kmeans_weights(std::string_view context, const VectorRef& weights, Index n) {
  if (weights.size() == 0) return Vector::Ones(n);
  check_weights(context, "weights", weights, n);
  return weights;
}

inline void check_kmeans_data(std::string_view context, const MatrixRef& X, Index k) {
  check_nonempty(context, "X", X.rows());
  if (X.cols() == 0) {
    raise<DataError>("{}: X has 0 columns, expected at least 1", context);
  }
  check_finite(context, "X", X);
  check_magnitude(context, "X", X, 1e150, "squared distances overflow beyond it; rescale X");
  if (k > X.rows()) {
    raise<InvalidArgument>("{}: num_clusters = {}, expected at most the number of rows of X ({})",
                           context, k, X.rows());
  }
}

/// tol · mean_j Var(X_{·j}) (unweighted, as scikit-learn).
inline double absolute_tolerance(const MatrixRef& X, double tol) {
  if (tol == 0.0) return 0.0;
  double total = 0.0;
  for (Index j = 0; j < X.cols(); ++j) {
    const double m = X.col(j).mean();
    total += (X.col(j).array() - m).square().mean();
  }
  return tol * total / static_cast<double>(X.cols());
}

/// Nearest center of every row (fused kernel, detail/nearest.hpp) and, when `best` is
/// non-null, the squared distance to it. Ties go to the lowest center index.
inline void assign_nearest(const MatrixRef& X, const Matrix& C, Index num_threads,
                           std::vector<Index>& labels, Vector* best) {
  const Index n = X.rows();
  const PackedCenters packed(C);
  labels.resize(static_cast<std::size_t>(n));
  if (best) best->resize(n);
  parallel_for_blocks(0, n, kRowBlock, num_threads, [&](Index, Index lo, Index hi) {
    Vector x2;
    if (best) x2 = X.middleRows(lo, hi - lo).rowwise().squaredNorm();
    nearest_rows(X, lo, hi, packed, labels.data() + lo, best ? x2.data() : nullptr,
                 best ? best->data() + lo : nullptr, nullptr);
  });
}

/// Weighted sums of the rows per cluster (k × p) and total weight per cluster (k).
inline void cluster_sums(const MatrixRef& X, const Vector& w, const std::vector<Index>& labels,
                         Index k, Index num_threads, Matrix& sums, Vector& weight) {
  const Index p = X.cols();
  const Matrix total = blocked_sum(X.rows(), p + 1, k, num_threads, [&](Index lo, Index hi) {
    Matrix part = Matrix::Zero(p + 1, k);
    accumulate_rows(X, w, labels.data(), lo, hi, part);
    return part;
  });
  sums = total.topRows(p).transpose();
  weight = total.row(p).transpose();
}

/// Σ over rows lo..hi of wᵢ ‖xᵢ − c_{a(i)}‖², computed from differences (no cancellation).
inline double inertia_block(const MatrixRef& X, const Vector& w, const Matrix& C,
                            const std::vector<Index>& labels, Index lo, Index hi) {
  Vector d = Vector::Zero(hi - lo);
  for (Index j = 0; j < X.cols(); ++j) {
    for (Index i = lo; i < hi; ++i) {
      const double diff = X(i, j) - C(labels[static_cast<std::size_t>(i)], j);
      d[i - lo] += diff * diff;
    }
  }
  return w.segment(lo, hi - lo).dot(d);
}

/// Σ wᵢ ‖xᵢ − c_{a(i)}‖² over all rows, blocks added in block order.
inline double weighted_inertia(const MatrixRef& X, const Vector& w, const Matrix& C,
                               const std::vector<Index>& labels, Index num_threads) {
  return blocked_scalar_sum(X.rows(), num_threads, [&](Index lo, Index hi) {
    return inertia_block(X, w, C, labels, lo, hi);
  });
}

/// Moves the farthest points into empty clusters (see the header). Updates sums, weight and
/// labels; returns the relocated rows.
inline std::vector<Index> repair_empty_clusters(const MatrixRef& X, const Vector& w,
                                                const Matrix& C, std::vector<Index>& labels,
                                                ClusterSums& cluster) {
  Matrix& sums = cluster.sums;
  Vector& weight = cluster.weight;
  std::vector<Index> moved;
  std::vector<Index> empty;
  for (Index j = 0; j < weight.size(); ++j)
    if (!(weight[j] > 0.0)) empty.push_back(j);
  if (empty.empty()) return moved;
  const Index n = X.rows();
  Vector dist = Vector::Zero(n);
  for (Index j = 0; j < X.cols(); ++j) {
    for (Index i = 0; i < n; ++i) {
      const double diff = X(i, j) - C(labels[static_cast<std::size_t>(i)], j);
      dist[i] += diff * diff;
    }
  }
  std::vector<Index> order;
  for (Index i = 0; i < n; ++i)
    if (w[i] > 0.0) order.push_back(i);
  const std::size_t take = std::min(empty.size(), order.size());
  std::partial_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(take), order.end(),
      [&](Index a, Index b) { return dist[a] > dist[b] || (dist[a] == dist[b] && a < b); });
  for (std::size_t e = 0; e < take; ++e) {
    const Index i = order[e];
    const Index from = labels[static_cast<std::size_t>(i)];
    const Index to = empty[e];
    sums.row(from) -= w[i] * X.row(i);
    weight[from] -= w[i];
    sums.row(to) = w[i] * X.row(i);
    weight[to] = w[i];
    if (--cluster.positive[static_cast<std::size_t>(from)] == 0) {  // w[i] > 0
      sums.row(from).setZero();
      weight[from] = 0.0;
    }
    cluster.positive[static_cast<std::size_t>(to)] = 1;
    labels[static_cast<std::size_t>(i)] = to;
    moved.push_back(i);
  }
  return moved;
}

/// Index of the first cumulative weight ≥ r (clipped to the last row).
inline Index search_cumulative(const std::vector<double>& cumulative, double r) {
  const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), r);
  const auto idx = static_cast<Index>(it - cumulative.begin());
  return std::min<Index>(idx, static_cast<Index>(cumulative.size()) - 1);
}

/// Candidates per greedy k-means++ step: 2 + ⌊ln k⌋ (as scikit-learn).
inline Index seeding_trials(Index k) {
  return 2 + static_cast<Index>(std::log(static_cast<double>(k)));
}

/// Greedy k-means++ (see the header) for several restarts in lockstep, restart r drawing from
/// *rngs[r]: each step's pass over X evaluates every restart's candidates, so a row block is
/// read from memory once for all of them. Each restart's centers are the same as when it runs
/// alone. x2 holds the rows' squared norms. Returns k × p centers per restart.
inline std::vector<Matrix> kmeans_plus_plus_batch(const MatrixRef& X, const Vector& x2,
                                                  const Vector& w, Index k,
                                                  const std::vector<Rng*>& rngs,
                                                  Index num_threads) {
  const Index n = X.rows();
  const Index p = X.cols();
  const Index trials = seeding_trials(k);
  const std::size_t R = rngs.size();
  std::vector<Matrix> centers(R, Matrix(k, p));
  // Per restart: the squared distance of every row to its nearest center so far (closest);
  // seeding_step evaluates the candidates against it, filling dmin (n × |cand|) with
  // min(closest, d²) and returning the potentials Σ w·min(closest, d²).
  std::vector<Vector> closest(R, Vector::Constant(n, std::numeric_limits<double>::infinity()));
  std::vector<Matrix> dmin(R, Matrix(n, trials));
  std::vector<std::vector<Index>> cand(R);
  std::vector<double> potential(R, 0.0);
  std::vector<double> cumulative(static_cast<std::size_t>(n));
  auto prefix = [&](const Vector& values) {
    double s = 0.0;
    for (Index i = 0; i < n; ++i) {
      s += values[i];
      cumulative[static_cast<std::size_t>(i)] = s;
    }
    return s;
  };
  // pots[r][t], block partials added in block order (as blocked_sum).
  auto potentials = [&] {
    std::vector<PackedCenters> packed(R);
    for (std::size_t r = 0; r < R; ++r) {
      const auto m = static_cast<Index>(cand[r].size());
      Matrix rows(m, p);
      for (Index t = 0; t < m; ++t) rows.row(t) = X.row(cand[r][static_cast<std::size_t>(t)]);
      packed[r].pack(rows);
    }
    const Index blocks = num_blocks(0, n, kRowBlock);
    std::vector<std::vector<double>> part(static_cast<std::size_t>(blocks));
    parallel_for_blocks(0, n, kRowBlock, num_threads, [&](Index b, Index lo, Index hi) {
      std::vector<double>& mine = part[static_cast<std::size_t>(b)];
      mine.assign(R * static_cast<std::size_t>(trials), 0.0);
      for (std::size_t r = 0; r < R; ++r)
        seeding_step(X, x2, w, lo, hi, packed[r], closest[r], dmin[r],
                     mine.data() + r * static_cast<std::size_t>(trials));
    });
    std::vector<Vector> pots(R, Vector::Zero(trials));
    for (const auto& mine : part)
      for (std::size_t r = 0; r < R; ++r)
        for (Index t = 0; t < trials; ++t)
          pots[r][t] += mine[r * static_cast<std::size_t>(trials) + static_cast<std::size_t>(t)];
    return pots;
  };
  // First center ∝ weight.
  const double total_weight = prefix(w);
  for (std::size_t r = 0; r < R; ++r) {
    const Index first = search_cumulative(cumulative, rngs[r]->uniform() * total_weight);
    centers[r].row(0) = X.row(first);
    cand[r] = {first};
  }
  std::vector<Vector> pots = potentials();
  for (std::size_t r = 0; r < R; ++r) {
    potential[r] = pots[r][0];
    closest[r] = dmin[r].col(0);
  }
  for (Index c = 1; c < k; ++c) {
    for (std::size_t r = 0; r < R; ++r) {
      prefix(w.cwiseProduct(closest[r]));
      cand[r].resize(static_cast<std::size_t>(trials));
      for (auto& id : cand[r])
        id = search_cumulative(cumulative, rngs[r]->uniform() * potential[r]);
    }
    pots = potentials();
    for (std::size_t r = 0; r < R; ++r) {
      Index best = 0;
      for (Index t = 1; t < trials; ++t)
        if (pots[r][t] < pots[r][best]) best = t;
      potential[r] = pots[r][best];
      closest[r] = dmin[r].col(best);
      centers[r].row(c) = X.row(cand[r][static_cast<std::size_t>(best)]);
    }
  }
  return centers;
}

/// Greedy k-means++ for one restart (see kmeans_plus_plus_batch).
inline Matrix kmeans_plus_plus(const MatrixRef& X, const Vector& x2, const Vector& w, Index k,
                               Rng& rng, Index num_threads) {
  return std::move(kmeans_plus_plus_batch(X, x2, w, k, {&rng}, num_threads).front());
}

/// Result of one K-Means run.
struct KMeansRun {
  Matrix centers;
  std::vector<Index> labels;
  double inertia = 0.0;
  Index iterations = 0;
  bool converged = false;
};

/// Bytes per row of one restart's state while it seeds (the largest phase): the nearest
/// distance so far and the candidates' distances, 1 + (2 + ⌊ln k⌋) doubles.
inline Index restart_bytes_per_row(Index k) {
  return static_cast<Index>(sizeof(double)) * (1 + seeding_trials(k));
}

/// Restarts first .. first + count − 1 in lockstep: seeding and every assignment pass read each
/// row block once for all the restarts still iterating (the block stays in cache between them;
/// K-Means at p ≳ 20 is bound by memory traffic, not arithmetic). Each restart's arithmetic is
/// the same as when it runs alone, so results do not depend on how restarts are grouped.
inline std::vector<KMeansRun> kmeans_batch(const MatrixRef& X, const Vector& x2, const Vector& w,
                                           const KMeansParams& params, double abs_tol,
                                           std::uint64_t first, Index count, Index num_threads) {
  const Index n = X.rows();
  const Index k = params.num_clusters;
  const auto R = static_cast<std::size_t>(count);
  const bool hamerly = params.algorithm == KMeansAlgorithm::hamerly;
  std::vector<KMeansRun> runs(R);
  std::vector<Rng> rngs;
  for (std::size_t r = 0; r < R; ++r) rngs.emplace_back(params.seed, first + r);
  if (params.initial_centers.size() > 0) {
    for (auto& run : runs) run.centers = params.initial_centers;
  } else if (params.init == KMeansInit::kmeans_plus_plus) {
    std::vector<Rng*> pointers;
    for (auto& rng : rngs) pointers.push_back(&rng);
    std::vector<Matrix> centers = kmeans_plus_plus_batch(X, x2, w, k, pointers, num_threads);
    for (std::size_t r = 0; r < R; ++r) runs[r].centers = std::move(centers[r]);
  } else {
    for (std::size_t r = 0; r < R; ++r) {
      const auto rows = sample_without_replacement(n, k, rngs[r]);
      runs[r].centers.resize(k, X.cols());
      for (Index c = 0; c < k; ++c)
        runs[r].centers.row(c) = X.row(rows[static_cast<std::size_t>(c)]);
    }
  }
  struct State {
    Vector upper, lower;  // Hamerly bounds (distances, not squared)
    Vector half_gap;      // Hamerly: s_j = ½ min_{j'≠j} ‖c_j − c_j'‖
    PackedCenters packed;
    ClusterSums cluster;  // follows the labels (detail/nearest.hpp)
    bool strict = false;
    bool done = false;
  };
  std::vector<State> state(R);
  for (Index it = 1; it <= params.max_iter; ++it) {
    // Assignment step for every running restart, fused with its per-cluster sums.
    std::vector<AssignJob> jobs;
    std::vector<std::size_t> owner;
    for (std::size_t r = 0; r < R; ++r) {
      State& s = state[r];
      if (s.done) continue;
      const Matrix& C = runs[r].centers;
      s.packed.pack(C);
      AssignJob job{.centers = &s.packed, .labels = &runs[r].labels, .sums = &s.cluster};
      if (hamerly) {
        s.half_gap = Vector::Constant(k, std::numeric_limits<double>::infinity());
        for (Index a = 0; a < k; ++a)
          for (Index b = a + 1; b < k; ++b) {
            const double d = 0.5 * (C.row(a) - C.row(b)).norm();
            s.half_gap[a] = std::min(s.half_gap[a], d);
            s.half_gap[b] = std::min(s.half_gap[b], d);
          }
        job.half_gap = &s.half_gap;
        job.upper = &s.upper;
        job.lower = &s.lower;
      }
      jobs.push_back(std::move(job));
      owner.push_back(r);
    }
    if (jobs.empty()) break;
    assign_pass(X, x2, w, jobs, num_threads);
    // Update step, restart by restart.
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      const std::size_t r = owner[j];
      State& s = state[r];
      KMeansRun& run = runs[r];
      Matrix& C = run.centers;
      std::vector<Index>& labels = run.labels;
      const std::vector<Index> moved = repair_empty_clusters(X, w, C, labels, s.cluster);
      const Matrix& sums = s.cluster.sums;
      const Vector& weight = s.cluster.weight;
      Matrix updated = C;
      for (Index c = 0; c < k; ++c)
        if (weight[c] > 0.0) updated.row(c) = sums.row(c) / weight[c];
      run.iterations = it;
      if (moved.empty() && jobs[j].changed == 0) {
        s.strict = s.done = true;
        run.converged = true;
        C = std::move(updated);
        continue;
      }
      const Vector shift = (updated - C).rowwise().norm();
      const double shift_total = shift.squaredNorm();
      if (hamerly) {
        // Bounds follow the centers: u grows by its center's move, l shrinks by the largest
        // move of any other center.
        Index top = 0;
        for (Index c = 1; c < k; ++c)
          if (shift[c] > shift[top]) top = c;
        double runner_up = 0.0;
        for (Index c = 0; c < k; ++c)
          if (c != top) runner_up = std::max(runner_up, shift[c]);
        for (Index i = 0; i < n; ++i) {
          const Index a = labels[static_cast<std::size_t>(i)];
          s.upper[i] += shift[a];
          s.lower[i] -= a == top ? runner_up : shift[top];
        }
        for (Index i : moved) {
          s.upper[i] = 0.0;  // the row is its new cluster's center
          s.lower[i] = 0.0;
        }
      }
      C = std::move(updated);
      if (shift_total <= abs_tol) {
        run.converged = true;
        s.done = true;
      }
    }
  }
  // Runs that did not stop on unchanged labels are relabelled against their final centers;
  // then every run's inertia, one sweep over the row blocks for all of them.
  const Index blocks = num_blocks(0, n, kRowBlock);
  std::vector<std::vector<double>> part(R, std::vector<double>(static_cast<std::size_t>(blocks)));
  for (std::size_t r = 0; r < R; ++r) {
    if (!state[r].strict) state[r].packed.pack(runs[r].centers);
    runs[r].labels.resize(static_cast<std::size_t>(n));
  }
  parallel_for_blocks(0, n, kRowBlock, num_threads, [&](Index b, Index lo, Index hi) {
    for (std::size_t r = 0; r < R; ++r) {
      if (!state[r].strict)
        nearest_rows(X, lo, hi, state[r].packed, runs[r].labels.data() + lo, nullptr, nullptr,
                     nullptr);
      part[r][static_cast<std::size_t>(b)] =
          inertia_block(X, w, runs[r].centers, runs[r].labels, lo, hi);
    }
  });
  for (std::size_t r = 0; r < R; ++r) {
    double total = 0.0;
    for (double v : part[r]) total += v;
    runs[r].inertia = total;
  }
  return runs;
}

}  // namespace detail

/// Fitted centers; immutable, const methods are thread-safe.
class KMeansModel {
 public:
  KMeansModel() = default;

  const Matrix& centers() const { return centers_; }  ///< k × p
  Index num_clusters() const { return centers_.rows(); }
  /// Cluster of every training row (0..k−1).
  const std::vector<Index>& labels() const { return labels_; }
  /// Σ wᵢ ‖xᵢ − c_{a(i)}‖² on the training rows.
  double inertia() const { return inertia_; }
  /// Iterations (mini-batch: steps) of the winning run.
  Index iterations() const { return iterations_; }
  bool converged() const { return converged_; }
  /// Inertia of every restart (KMeans), in restart order; empty for mini-batch.
  const std::vector<double>& restart_inertia() const { return restart_inertia_; }

  /// Nearest center of each row (ties: lowest index). O(n·p·k).
  std::vector<Index> predict(const MatrixRef& X) const {
    check_input("KMeansModel::predict", X);
    std::vector<Index> labels;
    detail::assign_nearest(X, centers_, num_threads_, labels, nullptr);
    return labels;
  }

  /// Euclidean distance of each row to each center (n × k).
  Matrix transform(const MatrixRef& X) const {
    check_input("KMeansModel::transform", X);
    const Index k = centers_.rows();
    const Vector c_norm = centers_.rowwise().squaredNorm();
    Matrix out = detail::blocked_product(X, centers_.transpose(), num_threads_);
    const Vector x_norm = detail::row_squared_norms(X, num_threads_);
    for (Index j = 0; j < k; ++j)
      out.col(j) = ((-2.0 * out.col(j)).array() + x_norm.array() + c_norm[j]).cwiseMax(0.0).sqrt();
    return out;
  }

  /// Inertia of new rows against these centers, Σ wᵢ min_j ‖xᵢ − c_j‖².
  double score(const MatrixRef& X, const VectorRef& weights = Vector()) const {
    check_input("KMeansModel::score", X);
    const Vector w = detail::kmeans_weights("KMeansModel::score", weights, X.rows());
    return detail::weighted_inertia(X, w, centers_, predict(X), num_threads_);
  }

  /// Writes the model (type "segment::KMeansModel" v2; tailor::save). Runtime settings
  /// (num_threads) are not written: a loaded model uses all cores.
  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, kVersion);
    write_payload(out);
  }
  /// Reads version 2 or 1 (whose num_threads is skipped); corrupt data throws FormatError.
  static KMeansModel load(BinaryReader& in) {
    return read_payload(in, in.read_header(kTypeTag, kVersion));
  }

 private:
  friend class SegmenterModel;  // reads version-1 Segmenter files, whose K-Means had no header

  void write_payload(BinaryWriter& w) const {
    w.write(centers_);
    w.write(std::vector<std::int64_t>(labels_.begin(), labels_.end()));
    w.write(inertia_);
    w.write(iterations_);
    w.write(converged_);
    w.write(restart_inertia_);
  }
  static KMeansModel read_payload(BinaryReader& r, std::uint32_t version) {
    KMeansModel m;
    m.centers_ = r.read<Matrix>("centers");
    const auto labels = r.read<std::vector<std::int64_t>>("labels");
    m.labels_.assign(labels.begin(), labels.end());
    m.inertia_ = r.read<double>("inertia");
    m.iterations_ = r.read<Index>("iterations");
    m.converged_ = r.read<bool>("converged");
    m.restart_inertia_ = r.read<std::vector<double>>("restart_inertia");
    if (version == 1) (void)r.read<Index>("num_threads");  // a runtime setting, not kept
    m.num_threads_ = 0;
    bool ok = m.centers_.rows() >= 1 && m.centers_.cols() >= 1;
    for (Index l : m.labels_) ok = ok && l >= 0 && l < m.centers_.rows();
    if (!ok) {
      raise<FormatError>("{}: inconsistent segment::KMeansModel payload", r.where());
    }
    // Values, not only structure: a NaN centre would load and label every row 0 silently.
    bool finite = m.centers_.allFinite() && std::isfinite(m.inertia_) && m.inertia_ >= 0.0;
    for (const double v : m.restart_inertia_) finite = finite && std::isfinite(v);
    if (!finite) {
      raise<FormatError>("{}: segment::KMeansModel has non-finite centres or inertia", r.where());
    }
    return m;
  }

  friend class KMeans;
  friend class MiniBatchKMeans;
  static constexpr std::string_view kTypeTag = "segment::KMeansModel";
  static constexpr std::uint32_t kVersion = 2;

  void check_input(std::string_view context, const MatrixRef& X) const {
    if (X.cols() != centers_.cols()) {
      raise<ShapeMismatch>("{}: X has {} columns, expected {} (the model's features)", context,
                           X.cols(), centers_.cols());
    }
    check_finite(context, "X", X);
    check_magnitude(context, "X", X, 1e150, "squared distances overflow beyond it; rescale X");
  }

  Matrix centers_;
  std::vector<Index> labels_;
  double inertia_ = 0.0;
  Index iterations_ = 0;
  bool converged_ = false;
  std::vector<double> restart_inertia_;
  Index num_threads_ = 0;
};

/// K-Means estimator (Lloyd or Hamerly, k-means++ or random init, parallel restarts).
class KMeans {
 public:
  explicit KMeans(KMeansParams params = {}) : params_(std::move(params)) {
    constexpr std::string_view c = "KMeans";
    check_param(params_.num_clusters >= 1 && params_.num_clusters <= kMaxClusters, c,
                "num_clusters", params_.num_clusters, "between 1 and 2^20");
    check_param(params_.n_init >= 1 && params_.n_init <= kMaxRestarts, c, "n_init", params_.n_init,
                "between 1 and 10000");
    check_param(params_.max_iter >= 1 && params_.max_iter <= kMaxIterations, c, "max_iter",
                params_.max_iter, "between 1 and 1000000");
    check_param(params_.tol >= 0.0 && std::isfinite(params_.tol), c, "tol", params_.tol,
                "a finite value >= 0");
    check_param(params_.num_threads >= 0 && params_.num_threads <= kMaxThreads, c, "num_threads",
                params_.num_threads, "0 (all cores) or a positive count up to 4096");
    check_param(static_cast<std::uint8_t>(params_.init) <= 1, c, "init",
                static_cast<int>(params_.init), "kmeans_plus_plus or random");
    check_param(static_cast<std::uint8_t>(params_.algorithm) <= 1, c, "algorithm",
                static_cast<int>(params_.algorithm), "lloyd or hamerly");
    if (params_.initial_centers.size() > 0) {
      if (params_.initial_centers.rows() != params_.num_clusters) {
        raise<ShapeMismatch>("{}: initial_centers has {} rows, expected num_clusters = {}", c,
                             params_.initial_centers.rows(), params_.num_clusters);
      }
      check_finite(c, "initial_centers", params_.initial_centers);
      check_param(params_.n_init == 1, c, "n_init", params_.n_init,
                  "1 when initial_centers are given");
    }
  }

  const KMeansParams& params() const { return params_; }

  /// The same settings started from `model`'s centers with one run (a warm start; used by
  /// bootstrap_stability's warm_start option).
  KMeans warm_started(const KMeansModel& model) const {
    KMeansParams p = params_;
    p.initial_centers = model.centers();
    p.n_init = 1;
    return KMeans(std::move(p));
  }

  /// Fits X (n × p, finite) with optional sample weights (length 0 = unit weights).
  KMeansModel fit(const MatrixRef& X, const VectorRef& weights = Vector()) const {
    constexpr std::string_view c = "KMeans";
    detail::check_kmeans_data(c, X, params_.num_clusters);
    if (params_.initial_centers.size() > 0 && params_.initial_centers.cols() != X.cols()) {
      raise<ShapeMismatch>("{}: initial_centers has {} columns, expected {} (the columns of X)", c,
                           params_.initial_centers.cols(), X.cols());
    }
    const Vector w = detail::kmeans_weights(c, weights, X.rows());
    const double abs_tol = detail::absolute_tolerance(X, params_.tol);
    const Vector x2 = detail::row_squared_norms(X, params_.num_threads);
    const Index n_init = params_.n_init;
    KMeansModel model;
    detail::KMeansRun best;
    best.inertia = std::numeric_limits<double>::infinity();
    // Keeps the lowest inertia (ties: the earlier restart) and every restart's inertia.
    auto keep = [&](std::vector<detail::KMeansRun>& runs) {
      for (auto& run : runs) {
        model.restart_inertia_.push_back(run.inertia);
        if (model.restart_inertia_.size() == 1 || run.inertia < best.inertia) best = std::move(run);
      }
    };
    // With enough row blocks to share, the restarts run in lockstep groups spread over the
    // threads by row blocks (each block of X is read once per pass for the whole group), the
    // group as large as memory allows: the restarts' working state stays within half the size
    // of X. With few rows, the restarts run side by side, each one's blocks serially. Each
    // restart's arithmetic is the same either way, so the results are too.
    if (X.rows() / detail::kParallelRowsPerThread >= resolve_num_threads(params_.num_threads)) {
      const Index per_restart = detail::restart_bytes_per_row(params_.num_clusters);
      // Half of X's 8p bytes per row.
      const Index group = std::clamp<Index>(4 * X.cols() / per_restart, 1, n_init);
      for (Index r = 0; r < n_init; r += group) {
        auto runs = detail::kmeans_batch(X, x2, w, params_, abs_tol, static_cast<std::uint64_t>(r),
                                         std::min(group, n_init - r), params_.num_threads);
        keep(runs);
      }
    } else {
      std::vector<detail::KMeansRun> runs(static_cast<std::size_t>(n_init));
      parallel_for(0, n_init, params_.num_threads, [&](Index r) {
        runs[static_cast<std::size_t>(r)] =
            std::move(detail::kmeans_batch(X, x2, w, params_, abs_tol,
                                           static_cast<std::uint64_t>(r), 1, params_.num_threads)
                          .front());
      });
      keep(runs);
    }
    model.centers_ = std::move(best.centers);
    model.labels_ = std::move(best.labels);
    model.inertia_ = best.inertia;
    model.iterations_ = best.iterations;
    model.converged_ = best.converged;
    model.num_threads_ = params_.num_threads;
    return model;
  }

 private:
  KMeansParams params_;
};

/// Mini-batch K-Means for very many rows (see the header).
class MiniBatchKMeans {
 public:
  explicit MiniBatchKMeans(MiniBatchKMeansParams params = {}) : params_(params) {
    constexpr std::string_view c = "MiniBatchKMeans";
    check_param(params_.num_clusters >= 1 && params_.num_clusters <= kMaxClusters, c,
                "num_clusters", params_.num_clusters, "between 1 and 2^20");
    check_param(params_.batch_size >= 1 && params_.batch_size <= kMaxBatchRows, c, "batch_size",
                params_.batch_size, "between 1 and 2^30");
    check_param(params_.max_iter >= 1 && params_.max_iter <= kMaxIterations, c, "max_iter",
                params_.max_iter, "between 1 and 1000000");
    check_count(c, "max_no_improvement", params_.max_no_improvement, 0, limits::kMaxIterations,
                "0 (never stop early) to 10000000");
    check_param(params_.tol >= 0.0 && std::isfinite(params_.tol), c, "tol", params_.tol,
                "a finite value >= 0");
    check_param(params_.n_init >= 1 && params_.n_init <= kMaxRestarts, c, "n_init", params_.n_init,
                "between 1 and 10000");
    check_param(params_.init_size >= 0 && params_.init_size <= kMaxBatchRows, c, "init_size",
                params_.init_size, "between 0 and 2^30");
    check_param(params_.reassignment_ratio >= 0.0 && params_.reassignment_ratio <= 1.0, c,
                "reassignment_ratio", params_.reassignment_ratio, "a value in [0, 1]");
    check_param(params_.num_threads >= 0 && params_.num_threads <= kMaxThreads, c, "num_threads",
                params_.num_threads, "0 (all cores) or a positive count up to 4096");
    check_param(static_cast<std::uint8_t>(params_.init) <= 1, c, "init",
                static_cast<int>(params_.init), "kmeans_plus_plus or random");
  }

  const MiniBatchKMeansParams& params() const { return params_; }

  /// Fits X with optional sample weights. Random streams: init candidate r uses Rng(seed, r),
  /// the validation sample Rng(seed, n_init), the batches Rng(seed, n_init + 1).
  KMeansModel fit(const MatrixRef& X, const VectorRef& weights = Vector()) const {
    constexpr std::string_view c = "MiniBatchKMeans";
    const Index k = params_.num_clusters;
    detail::check_kmeans_data(c, X, k);
    const Vector w = detail::kmeans_weights(c, weights, X.rows());
    const Index n = X.rows();
    const Index p = X.cols();
    const Index threads = params_.num_threads;
    const auto n_init = static_cast<std::uint64_t>(params_.n_init);
    const Index init_size =
        std::min(n, params_.init_size > 0 ? std::max(params_.init_size, k)
                                          : std::max(3 * params_.batch_size, 3 * k));
    auto gather = [&](const std::vector<Index>& rows, Matrix& Xs, Vector& ws) {
      Xs.resize(static_cast<Index>(rows.size()), p);
      ws.resize(static_cast<Index>(rows.size()));
      for (std::size_t t = 0; t < rows.size(); ++t) {
        Xs.row(static_cast<Index>(t)) = X.row(rows[t]);
        ws[static_cast<Index>(t)] = w[rows[t]];
      }
    };
    // Init: the best of n_init candidates on a shared validation sample.
    Matrix Xv;
    Vector wv;
    {
      Rng rng(params_.seed, n_init);
      gather(sample_without_replacement(n, init_size, rng), Xv, wv);
    }
    Matrix C;
    double best_inertia = std::numeric_limits<double>::infinity();
    for (std::uint64_t r = 0; r < n_init; ++r) {
      Rng rng(params_.seed, r);
      Matrix Xi;
      Vector wi;
      gather(sample_without_replacement(n, init_size, rng), Xi, wi);
      if (!(wi.sum() > 0.0)) wi.setOnes();
      Matrix candidate;
      if (params_.init == KMeansInit::kmeans_plus_plus) {
        candidate = detail::kmeans_plus_plus(Xi, detail::row_squared_norms(Xi, threads), wi, k, rng,
                                             threads);
      } else {
        const auto rows = sample_without_replacement(init_size, k, rng);
        candidate.resize(k, p);
        for (Index j = 0; j < k; ++j) candidate.row(j) = Xi.row(rows[static_cast<std::size_t>(j)]);
      }
      std::vector<Index> labels;
      detail::assign_nearest(Xv, candidate, threads, labels, nullptr);
      const double inertia = detail::weighted_inertia(Xv, wv, candidate, labels, threads);
      if (inertia < best_inertia) {
        best_inertia = inertia;
        C = std::move(candidate);
      }
    }

    const double abs_tol = detail::absolute_tolerance(X, params_.tol);
    const Index batch = std::min(params_.batch_size, n);
    // max_iter ≤ 10⁶ keeps max_iter·n far from overflow for any n that fits in memory.
    const Index steps = (params_.max_iter * n + batch - 1) / batch;
    Rng rng(params_.seed, n_init + 1);
    Vector counts = Vector::Zero(k);
    double ewa = 0.0, ewa_best = std::numeric_limits<double>::infinity();
    const double alpha =
        std::min(1.0, 2.0 * static_cast<double>(batch) / (static_cast<double>(n) + 1.0));
    Index no_improvement = 0;
    KMeansModel model;
    Matrix Xb, sums;
    Vector wb, weight, dist;
    std::vector<Index> labels;
    for (Index step = 1; step <= steps; ++step) {
      gather(sample_with_replacement(n, batch, rng), Xb, wb);
      detail::assign_nearest(Xb, C, 1, labels, &dist);
      const double wsum = wb.sum();
      const double batch_inertia = wsum > 0.0 ? wb.dot(dist) / wsum : 0.0;
      detail::cluster_sums(Xb, wb, labels, k, 1, sums, weight);
      Matrix updated = C;
      for (Index j = 0; j < k; ++j) {
        if (weight[j] > 0.0) {
          updated.row(j) = (counts[j] * C.row(j) + sums.row(j)) / (counts[j] + weight[j]);
          counts[j] += weight[j];
        }
      }
      // Random reassignment of starved centers (at most half of them) to batch rows ∝ weight.
      if (params_.reassignment_ratio > 0.0 && step % 10 == 0 && wsum > 0.0) {
        const double limit = params_.reassignment_ratio * counts.maxCoeff();
        std::vector<Index> starved;
        for (Index j = 0; j < k; ++j)
          if (counts[j] < limit) starved.push_back(j);
        std::sort(starved.begin(), starved.end(), [&](Index a, Index b) {
          return counts[a] < counts[b] || (counts[a] == counts[b] && a < b);
        });
        starved.resize(std::min(starved.size(), static_cast<std::size_t>(k / 2)));
        if (!starved.empty()) {
          double floor_count = std::numeric_limits<double>::infinity();
          for (Index j = 0; j < k; ++j)
            if (std::find(starved.begin(), starved.end(), j) == starved.end())
              floor_count = std::min(floor_count, counts[j]);
          std::vector<double> cumulative(static_cast<std::size_t>(batch));
          double s = 0.0;
          for (Index t = 0; t < batch; ++t) cumulative[static_cast<std::size_t>(t)] = (s += wb[t]);
          for (Index j : starved) {
            updated.row(j) = Xb.row(detail::search_cumulative(cumulative, rng.uniform() * s));
            counts[j] = floor_count;
          }
        }
      }
      const double shift = (updated - C).squaredNorm();
      C = std::move(updated);
      model.iterations_ = step;
      if (params_.tol > 0.0 && shift <= abs_tol) {
        model.converged_ = true;
        break;
      }
      ewa = step == 1 ? batch_inertia : ewa * (1.0 - alpha) + batch_inertia * alpha;
      if (ewa < ewa_best) {
        ewa_best = ewa;
        no_improvement = 0;
      } else if (params_.max_no_improvement > 0 && ++no_improvement >= params_.max_no_improvement) {
        model.converged_ = true;
        break;
      }
    }
    detail::assign_nearest(X, C, threads, model.labels_, nullptr);
    model.inertia_ = detail::weighted_inertia(X, w, C, model.labels_, threads);
    model.centers_ = std::move(C);
    model.num_threads_ = threads;
    return model;
  }

 private:
  MiniBatchKMeansParams params_;
};

}  // namespace tailor::segment
