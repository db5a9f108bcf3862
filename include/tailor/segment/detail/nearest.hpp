// tailor/segment/detail/nearest.hpp — fused nearest-center kernels for K-Means.
//
// The squared distance of a row x to a center c is ‖x‖² − 2·x·c + ‖c‖² (the expansion
// scikit-learn's lloyd evaluates through BLAS). The argmin over centers needs only
// ‖c‖² − 2·x·c, so one micro-kernel computes the dot products of a chunk of rows with every
// center and takes the argmin while the products are still in registers: no n × k distance
// matrix is written, and X is read in place (column-major, no packing copy).
//
// Micro-kernel: kChunkRows consecutive rows (contiguous in each column of a column-major X) ×
// 4 centers at a time, accumulated over the p features in order. Each product is a sum over
// features in feature order whatever the chunk width, so results depend neither on the
// instruction set's vector width nor on the thread count. Centers are packed once per
// iteration as p × k4 (k rounded up to a multiple of 4; padding centers have ‖c‖² = +∞ and are
// never chosen).
//
// The Lloyd pass (lloyd_pass) assigns every row and moves the per-cluster weighted sums by the
// rows that change cluster in the same sweep — one read of X per iteration instead of two.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/parallel.hpp"
#include "tailor/core/types.hpp"
#include "tailor/segment/detail/blocked.hpp"

namespace tailor::segment::detail {

/// Rows per micro-kernel call (one column of a chunk is one 64-byte cache line).
inline constexpr Index kChunkRows = 8;
/// Lanes kept per center and feature in PackedCenters::splat (the widest kernel's vector).
inline constexpr Index kSplat = 4;
/// Rows ahead at which each column is prefetched: p columns are p concurrent streams, more
/// than the hardware prefetchers follow.
inline constexpr Index kPrefetchRows = 128;

/// Centers packed for the micro-kernel: splat[(l·k4 + j)·kSplat + e] = C(j, l) for every lane e
/// (a broadcast is one load, no shuffle); norm[j] = ‖c_j‖², +∞ for the padding centers.
struct PackedCenters {
  Index k = 0;
  Index k4 = 0;
  Index p = 0;
  std::vector<double> splat;
  std::vector<double> norm;

  PackedCenters() = default;
  explicit PackedCenters(const Matrix& C) { pack(C); }

  void pack(const Matrix& C) {
    k = C.rows();
    p = C.cols();
    k4 = (k + 3) / 4 * 4;
    splat.assign(static_cast<std::size_t>(p * k4 * kSplat), 0.0);
    norm.assign(static_cast<std::size_t>(k4), std::numeric_limits<double>::infinity());
    for (Index j = 0; j < k; ++j) {
      double s = 0.0;
      for (Index l = 0; l < p; ++l) {
        for (Index e = 0; e < kSplat; ++e)
          splat[static_cast<std::size_t>((l * k4 + j) * kSplat + e)] = C(j, l);
        s += C(j, l) * C(j, l);
      }
      norm[static_cast<std::size_t>(j)] = s;
    }
  }
};

namespace kernel {

// The micro-kernel, written once over a vector type V of W doubles (GCC/Clang vector
// extensions): kChunkRows / W / Halves registers of rows × 4 centers of accumulators, updated
// feature by feature with a separate multiply and add. Every lane computes
// acc = ((0 + x₀c₀) + x₁c₁) + …, in feature order, with IEEE multiplies and adds and no fused
// multiply-add unless the whole build enables it (-march=native): the SSE2 and AVX versions
// return bit-identical products, so the runtime dispatch below never changes a result.
using V2 = double __attribute__((vector_size(2 * sizeof(double))));
using V4 = double __attribute__((vector_size(4 * sizeof(double))));

template <class V, int W>
[[gnu::always_inline]] inline void products(const double* x, Index ld, const double* splat,
                                            Index k4, Index p, Index g, Index row0,
                                            double (&out)[4][kChunkRows]) {
  constexpr int kRegs = 2;  // registers of rows per pass: 4 × 2 accumulators stay in registers
  V acc[4][kRegs];
  for (auto& row : acc)
    for (V& v : row) v = V{};
  for (Index l = 0; l < p; ++l) {
    const double* xl = x + l * ld + row0;
    if (g == 0 && row0 == 0) __builtin_prefetch(xl + kPrefetchRows);
    V xv[kRegs];
    for (int h = 0; h < kRegs; ++h) std::memcpy(&xv[h], xl + W * h, sizeof(V));
    const double* cl = splat + (l * k4 + g) * kSplat;
    for (int q = 0; q < 4; ++q) {
      V cq;
      std::memcpy(&cq, cl + q * kSplat, sizeof(V));
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__clang__)
      // GCC: one load per center, kept in a register for both multiplies (it would otherwise
      // fold a load into each multiply; the kernel is load-bound). Clang rejects a 256-bit
      // operand here and schedules the loads well without it.
      asm("" : "+x"(cq));
#endif
      for (int h = 0; h < kRegs; ++h) acc[q][h] += cq * xv[h];
    }
  }
  for (int q = 0; q < 4; ++q)
    for (int h = 0; h < kRegs; ++h) std::memcpy(&out[q][row0 + W * h], &acc[q][h], sizeof(V));
}

/// Baseline x86-64: two passes of 4 rows in SSE2 registers.
[[gnu::noinline]] inline void products_sse2(const double* x, Index ld, const double* splat,
                                            Index k4, Index p, Index g,
                                            double (&out)[4][kChunkRows]) {
  products<V2, 2>(x, ld, splat, k4, p, g, 0, out);
  products<V2, 2>(x, ld, splat, k4, p, g, 4, out);
}

#if defined(__x86_64__) || defined(__i386__)
/// AVX: one pass of 8 rows in 256-bit registers (compiled for AVX whatever the build's flags;
/// called only where the CPU has it).
[[gnu::noinline, gnu::target("avx")]] inline void products_avx(const double* x, Index ld,
                                                               const double* splat, Index k4,
                                                               Index p, Index g,
                                                               double (&out)[4][kChunkRows]) {
  products<V4, 4>(x, ld, splat, k4, p, g, 0, out);
}

inline bool cpu_has_avx() {
  static const bool has = __builtin_cpu_supports("avx");
  return has;
}
#endif

}  // namespace kernel

/// Dot products of kChunkRows rows (column stride ld) with centers g..g+3:
/// out[q][r] = Σ_l x[l·ld + r]·c[l][g+q], accumulated in feature order (see kernel).
inline void chunk_products(const double* x, Index ld, const PackedCenters& c, Index g,
                           double (&out)[4][kChunkRows]) {
#if defined(__AVX__)
  kernel::products<kernel::V4, 4>(x, ld, c.splat.data(), c.k4, c.p, g, 0, out);
#elif defined(__x86_64__) || defined(__i386__)
  if (kernel::cpu_has_avx()) {
    kernel::products_avx(x, ld, c.splat.data(), c.k4, c.p, g, out);
  } else {
    kernel::products_sse2(x, ld, c.splat.data(), c.k4, c.p, g, out);
  }
#else
  kernel::products_sse2(x, ld, c.splat.data(), c.k4, c.p, g, out);
#endif
}

/// Nearest center of kChunkRows rows starting at x (column stride ld): label, the value
/// ‖c‖² − 2·x·c of the nearest (d1) and, when kSecond, of the second nearest (d2). Ties go to
/// the lowest center index.
template <bool kSecond>
inline void nearest_chunk(const double* x, Index ld, const PackedCenters& c, Index* label,
                          double* d1, double* d2) {
  double best[kChunkRows], second[kChunkRows];
  Index arg[kChunkRows];
  for (Index r = 0; r < kChunkRows; ++r) {
    best[r] = std::numeric_limits<double>::infinity();
    second[r] = best[r];
    arg[r] = 0;
  }
  double acc[4][kChunkRows];
  for (Index g = 0; g < c.k4; g += 4) {
    chunk_products(x, ld, c, g, acc);
    for (Index q = 0; q < 4; ++q) {
      const double cn = c.norm[static_cast<std::size_t>(g + q)];
      for (Index r = 0; r < kChunkRows; ++r) {
        const double d = cn - 2.0 * acc[q][r];
        const bool closer = d < best[r];
        if constexpr (kSecond) second[r] = closer ? best[r] : std::min(second[r], d);
        arg[r] = closer ? g + q : arg[r];
        best[r] = closer ? d : best[r];
      }
    }
  }
  for (Index r = 0; r < kChunkRows; ++r) {
    label[r] = arg[r];
    d1[r] = best[r];
    if constexpr (kSecond) d2[r] = second[r];
  }
}

/// Calls f(x, ld, first_row, count) for the chunks of rows lo..hi of column-major X; the last,
/// partial chunk is copied into a zero-padded kChunkRows × p buffer so the kernel always reads
/// full chunks. `tail` is that buffer (resized here).
template <class F>
inline void for_each_chunk(const MatrixRef& X, Index lo, Index hi, std::vector<double>& tail,
                           F&& f) {
  const Index ld = X.outerStride();
  const Index p = X.cols();
  Index i = lo;
  for (; i + kChunkRows <= hi; i += kChunkRows) f(X.data() + i, ld, i, kChunkRows);
  if (i < hi) {
    const Index m = hi - i;
    tail.assign(static_cast<std::size_t>(kChunkRows * p), 0.0);
    for (Index l = 0; l < p; ++l)
      for (Index r = 0; r < m; ++r)
        tail[static_cast<std::size_t>(l * kChunkRows + r)] = X(i + r, l);
    f(tail.data(), kChunkRows, i, m);
  }
}

/// Nearest center of rows lo..hi of X: labels[i − lo], and when requested the squared
/// distances to the nearest (best[i − lo]) and second-nearest (second[i − lo]) center,
/// ‖x‖² + value clamped at 0 — those need x2[i − lo], the rows' squared norms.
inline void nearest_rows(const MatrixRef& X, Index lo, Index hi, const PackedCenters& c,
                         Index* labels, const double* x2, double* best, double* second) {
  std::vector<double> tail;
  for_each_chunk(X, lo, hi, tail, [&](const double* x, Index ld, Index i, Index m) {
    Index lab[kChunkRows];
    double d1[kChunkRows] = {}, d2[kChunkRows] = {};
    if (second) {
      nearest_chunk<true>(x, ld, c, lab, d1, d2);
    } else {
      nearest_chunk<false>(x, ld, c, lab, d1, d2);
    }
    const Index o = i - lo;
    for (Index r = 0; r < m; ++r) labels[o + r] = lab[r];
    if (best)
      for (Index r = 0; r < m; ++r) best[o + r] = std::max(0.0, x2[o + r] + d1[r]);
    if (second)
      for (Index r = 0; r < m; ++r) second[o + r] = std::max(0.0, x2[o + r] + d2[r]);
  });
}

/// Products of rows lo..hi of X with every packed row: A(i − lo, j) = x_i · c_j ((hi − lo) × k),
/// by the same micro-kernel (NMF's X·Hᵀ uses it with the components as the packed rows).
inline void block_products(const MatrixRef& X, Index lo, Index hi, const PackedCenters& c,
                           Matrix& A) {
  A.resize(hi - lo, c.k);
  std::vector<double> tail;
  for_each_chunk(X, lo, hi, tail, [&](const double* x, Index ld, Index i, Index m) {
    double acc[4][kChunkRows];
    for (Index g = 0; g < c.k4; g += 4) {
      chunk_products(x, ld, c, g, acc);
      for (Index q = 0; q < 4 && g + q < c.k; ++q)
        for (Index r = 0; r < m; ++r) A(i - lo + r, g + q) = acc[q][r];
    }
  });
}

/// Adds w_i·x_i to column labels[i] of part ((p + 1) × k, column-major; the last row holds the
/// weight) for rows lo..hi, in row order.
inline void accumulate_rows(const MatrixRef& X, const Vector& w, const Index* labels, Index lo,
                            Index hi, Matrix& part) {
  const Index p = X.cols();
  const Index ld = X.outerStride();
  const double* x = X.data();
  for (Index i = lo; i < hi; ++i) {
    double* col = part.data() + labels[i] * (p + 1);
    const double wi = w[i];
    for (Index l = 0; l < p; ++l) col[l] += wi * x[l * ld + i];
    col[p] += wi;
  }
}

/// Per-cluster sums that follow the labels: sums (k × p) of w_i·x_i and weight (k) of w_i over
/// the rows of each cluster. A pass moves them by the rows that change cluster only (a row that
/// keeps its label is not read again), so an iteration costs O(moved·p) here instead of
/// O(n·p). Row deltas are accumulated per row block in row order and the blocks added in block
/// order, so the sums are the same for every thread count. Rounding drift is kept in check two
/// ways: a cluster left without a member of positive weight (counted exactly) gets sums and
/// weight of exactly 0, so the empty-cluster rule sees it; and every kRefreshPasses-th pass
/// (and the first) recomputes all sums from scratch.
struct ClusterSums {
  static constexpr Index kRefreshPasses = 16;

  Matrix sums;                  ///< k × p
  Vector weight;                ///< k
  std::vector<Index> positive;  ///< members with w > 0, per cluster
  Index passes = 0;             ///< passes since the last full recomputation

  /// True when the next pass must recompute from scratch.
  bool due() const { return passes == 0 || passes >= kRefreshPasses; }

  void reset(Index k, Index p) {
    sums = Matrix::Zero(k, p);
    weight = Vector::Zero(k);
    positive.assign(static_cast<std::size_t>(k), 0);
    passes = 0;
  }
};

/// Deltas of one row block: (p + 1) × k, column a = Σ ±w_i·(x_i, 1) of the rows entering (+) or
/// leaving (−) cluster a, and the change in positive-weight members. Allocated on first use.
struct BlockDelta {
  Matrix delta;
  std::vector<Index> positive;
  Index changed = 0;  ///< rows whose label changed

  /// Moves row i from cluster `from` (−1: none) to cluster `to`.
  void move(const MatrixRef& X, const Vector& w, Index i, Index from, Index to, Index k) {
    const Index p = X.cols();
    if (delta.size() == 0) {
      delta = Matrix::Zero(p + 1, k);
      positive.assign(static_cast<std::size_t>(k), 0);
    }
    const double wi = w[i];
    const Index ld = X.outerStride();
    const double* x = X.data() + i;
    double* add = delta.data() + to * (p + 1);
    if (from >= 0) {
      double* sub = delta.data() + from * (p + 1);
      for (Index l = 0; l < p; ++l) {
        const double v = wi * x[l * ld];
        add[l] += v;
        sub[l] -= v;
      }
      sub[p] -= wi;
      positive[static_cast<std::size_t>(from)] -= wi > 0.0;
    } else {
      for (Index l = 0; l < p; ++l) add[l] += wi * x[l * ld];
    }
    add[p] += wi;
    positive[static_cast<std::size_t>(to)] += wi > 0.0;
  }
};

/// Adds the block deltas to `sums` in block order; returns the number of rows that changed.
inline Index apply_deltas(const std::vector<BlockDelta>& blocks, ClusterSums& sums) {
  Index changed = 0;
  const Index p = sums.sums.cols();
  for (const BlockDelta& b : blocks) {
    changed += b.changed;
    if (b.delta.size() == 0) continue;
    sums.sums += b.delta.topRows(p).transpose();
    sums.weight += b.delta.row(p).transpose();
    for (std::size_t j = 0; j < b.positive.size(); ++j) sums.positive[j] += b.positive[j];
  }
  for (std::size_t j = 0; j < sums.positive.size(); ++j) {
    if (sums.positive[j] == 0) {
      sums.sums.row(static_cast<Index>(j)).setZero();
      sums.weight[static_cast<Index>(j)] = 0.0;
    }
  }
  ++sums.passes;
  return changed;
}

/// Records the new label of row i: counts a change and moves the row in the block's deltas
/// (every row, from "no cluster", when the sums are being recomputed).
inline void relabel(const MatrixRef& X, const Vector& w, Index i, Index& label, Index to, Index k,
                    bool recompute, BlockDelta& delta) {
  if (label != to) ++delta.changed;
  if (recompute) {
    delta.move(X, w, i, -1, to, k);
  } else if (label != to) {
    delta.move(X, w, i, label, to, k);
  }
  label = to;
}

/// One greedy k-means++ step over rows lo..hi (Arthur & Vassilvitskii, SODA 2007): for each
/// candidate t, dmin(i, t) = min(closest[i], ‖x_i − cand_t‖²) and part[t] += Σ w_i·dmin(i, t),
/// rows added in order. (Pruning candidates by the triangle inequality, as Elkan's bounds do
/// for Lloyd, was tried: on clustered data it skipped 2% of the row chunks and cost more than it
/// saved.)
inline void seeding_step(const MatrixRef& X, const Vector& x2, const Vector& w, Index lo, Index hi,
                         const PackedCenters& cand, const Vector& closest, Matrix& dmin,
                         double* part) {
  const Index m = cand.k;
  std::vector<double> tail;
  std::vector<double> sum(static_cast<std::size_t>(cand.k4), 0.0);  // not aliased with dmin
  for_each_chunk(X, lo, hi, tail, [&](const double* x, Index ld, Index i, Index rows) {
    double acc[4][kChunkRows];
    for (Index g = 0; g < cand.k4; g += 4) {
      chunk_products(x, ld, cand, g, acc);
      for (Index q = 0; q < 4 && g + q < m; ++q) {
        const double cn = cand.norm[static_cast<std::size_t>(g + q)];
        double* out = dmin.data() + (g + q) * dmin.rows() + i;
        double s = sum[static_cast<std::size_t>(g + q)];
        for (Index r = 0; r < rows; ++r) {
          const double d = std::max(0.0, x2[i + r] + cn - 2.0 * acc[q][r]);
          out[r] = std::min(closest[i + r], d);
          s += w[i + r] * out[r];
        }
        sum[static_cast<std::size_t>(g + q)] = s;
      }
    }
  });
  for (Index t = 0; t < m; ++t) part[t] += sum[static_cast<std::size_t>(t)];
}

/// One run's side of an assignment pass: its packed centers, labels and cluster sums, and for
/// Hamerly its bounds. assign_pass sweeps the row blocks once for all jobs, so with several
/// restarts in lockstep each block of X is read from memory once and from cache for the others.
struct AssignJob {
  const PackedCenters* centers = nullptr;
  std::vector<Index>* labels = nullptr;  ///< empty before the first pass
  ClusterSums* sums = nullptr;
  const Vector* half_gap = nullptr;  ///< Hamerly only: ½ min_{j'≠j} ‖c_j − c_j'‖
  Vector* upper = nullptr;           ///< Hamerly only: bound on the distance to the own center
  Vector* lower = nullptr;           ///< Hamerly only: bound on the distance to any other
  Index changed = 0;                 ///< result: rows whose label changed

  bool hamerly() const { return upper != nullptr; }

  // Per pass.
  bool all = false;
  bool recompute = false;
  std::vector<BlockDelta> deltas = std::vector<BlockDelta>();
};

/// Lloyd on rows lo..hi: every row gets its nearest center.
inline void lloyd_block(const MatrixRef& X, const Vector& w, AssignJob& job, BlockDelta& delta,
                        Index lo, Index hi) {
  const PackedCenters& c = *job.centers;
  std::vector<Index>& labels = *job.labels;
  std::vector<double> tail;
  for_each_chunk(X, lo, hi, tail, [&](const double* x, Index ld, Index i, Index m) {
    Index lab[kChunkRows];
    double d1[kChunkRows] = {}, d2[kChunkRows] = {};
    nearest_chunk<false>(x, ld, c, lab, d1, d2);
    for (Index r = 0; r < m; ++r)
      relabel(X, w, i + r, labels[static_cast<std::size_t>(i + r)], lab[r], c.k, job.recompute,
              delta);
  });
}

/// Hamerly (SDM 2010) on rows lo..hi: a row whose upper bound exceeds max(lower bound, half the
/// gap from its center to the nearest other center) may have moved (on the first pass, every
/// row). Work goes by chunks of kChunkRows rows read in place: a chunk holding such a row gets
/// the nearest and second-nearest centers of all its rows recomputed (bounds reset to the exact
/// distances); the other chunks keep their labels. (Gathering only the flagged rows was slower:
/// the scattered reads miss the cache, while whole chunks stream.)
inline void hamerly_block(const MatrixRef& X, const Vector& x2, const Vector& w, AssignJob& job,
                          BlockDelta& delta, Index lo, Index hi) {
  const PackedCenters& c = *job.centers;
  std::vector<Index>& labels = *job.labels;
  const Vector& half_gap = *job.half_gap;
  Vector& upper = *job.upper;
  Vector& lower = *job.lower;
  std::vector<double> tail;
  for_each_chunk(X, lo, hi, tail, [&](const double* x, Index ld, Index i, Index m) {
    bool needed = job.all;
    for (Index r = 0; r < m && !needed; ++r) {
      const Index a = labels[static_cast<std::size_t>(i + r)];
      needed = upper[i + r] > std::max(half_gap[a], lower[i + r]);
    }
    if (!needed) {
      if (job.recompute)
        for (Index r = 0; r < m; ++r)
          delta.move(X, w, i + r, -1, labels[static_cast<std::size_t>(i + r)], c.k);
      return;
    }
    Index lab[kChunkRows];
    double d1[kChunkRows] = {}, d2[kChunkRows] = {};
    nearest_chunk<true>(x, ld, c, lab, d1, d2);
    for (Index r = 0; r < m; ++r) {
      relabel(X, w, i + r, labels[static_cast<std::size_t>(i + r)], lab[r], c.k, job.recompute,
              delta);
      upper[i + r] = std::sqrt(std::max(0.0, x2[i + r] + d1[r]));
      lower[i + r] = std::sqrt(std::max(0.0, x2[i + r] + d2[r]));
    }
  });
}

/// One assignment pass for every job (Lloyd or Hamerly each): labels updated in place, sums
/// moved by the rows that change cluster, job.changed set. Each job's arithmetic is the same
/// whatever the other jobs and the thread count.
inline void assign_pass(const MatrixRef& X, const Vector& x2, const Vector& w,
                        std::span<AssignJob> jobs, Index num_threads) {
  const Index n = X.rows();
  const Index blocks = num_blocks(0, n, kRowBlock);
  for (AssignJob& job : jobs) {
    job.all = job.labels->empty();
    if (job.all) job.sums->passes = 0;
    job.recompute = job.sums->due();
    if (job.recompute) job.sums->reset(job.centers->k, X.cols());
    job.labels->resize(static_cast<std::size_t>(n), -1);
    if (job.hamerly()) {
      job.upper->resize(n);
      job.lower->resize(n);
    }
    job.deltas.assign(static_cast<std::size_t>(blocks), BlockDelta());
  }
  parallel_for_blocks(0, n, kRowBlock, num_threads, [&](Index b, Index lo, Index hi) {
    for (AssignJob& job : jobs) {
      BlockDelta& delta = job.deltas[static_cast<std::size_t>(b)];
      if (job.hamerly()) {
        hamerly_block(X, x2, w, job, delta, lo, hi);
      } else {
        lloyd_block(X, w, job, delta, lo, hi);
      }
    }
  });
  for (AssignJob& job : jobs) {
    job.changed = apply_deltas(job.deltas, *job.sums);
    job.deltas.clear();
  }
}

/// One Lloyd pass for a single run (see assign_pass). Returns the rows that changed.
inline Index lloyd_pass(const MatrixRef& X, const Vector& w, const PackedCenters& c,
                        std::vector<Index>& labels, ClusterSums& sums, Index num_threads) {
  AssignJob job{.centers = &c, .labels = &labels, .sums = &sums};
  assign_pass(X, Vector(), w, std::span<AssignJob>(&job, 1), num_threads);
  return job.changed;
}

}  // namespace tailor::segment::detail
