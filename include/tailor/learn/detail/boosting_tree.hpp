// tailor/learn/detail/boosting_tree.hpp — the regression trees of GradientBoosting and the
// histogram grower that fits one of them to per-row gradients and hessians.
//
// Each tree is a second-order (Newton) step on the loss (Friedman, Ann. Statist. 2001; Chen &
// Guestrin, "XGBoost", KDD 2016): with G, H the sums of gradients and hessians of a node's rows
// and λ the L2 regularization, splitting the node into L and R gains
//     gain = G_L²/(H_L + λ) + G_R²/(H_R + λ) − G²/(H + λ)
// (twice the decrease of the second-order objective), and a leaf predicts the shrunk Newton step
//     value = −learning_rate · G/(H + λ).
// Features are pre-binned (learn/binning.hpp), so the best split of a node is one scan over a
// per-feature histogram of (Σg, Σh, count) by bin (LightGBM: Ke et al., NeurIPS 2017). After a
// split, only the smaller child's histogram is built from its rows; the larger child's is the
// parent's minus the smaller's (the sibling-subtraction trick), so a level costs at most half of
// its rows. Growth is best-first (leaf-wise): the leaf with the largest gain is split next, until
// max_leaf_nodes leaves exist or no leaf has a positive gain, with max_depth and
// min_samples_leaf limits — with max_leaf_nodes unlimited this grows the same tree as depth-wise
// growth, so one grower serves both modes (as in scikit-learn's HistGradientBoosting).
//
// Per-row gradients/hessians are float pairs (as in scikit-learn and LightGBM; sums are double,
// and a cell's (Σg, Σh) is updated with one two-lane vector add). With unit hessians (unweighted
// squared error) Σh is the bin's row count, so no count array is updated; with general hessians
// the root's counts, the same for every tree on all rows and features, are counted once. Codes
// are kept row-major for histograms and column-major for partitions (2·n·p bytes in all).
//
// Threads and determinism: the order of every floating-point sum depends only on the node's row
// count, never on num_threads, so trees are bit-identical for every thread count. A node of at
// most kHistogramChunkRows rows sums each bin over its rows in order (with several threads, the
// features are split into one group per thread); a larger node sums fixed chunks of rows into
// partial histograms in parallel and adds them in chunk order. Partitions are stable, hence
// unique, and run one block per thread. Small nodes run on the calling thread.
// Complexity per tree: O(R·p') for histograms, R ≤ Σ over splits of the smaller child's rows
// (≈ n·depth/2, n for the root), O(n·depth) for partitions, O(leaves·p'·B) for split scans,
// p' the features sampled for the tree, B ≤ 256 bins. Memory: one p'·256 histogram (20 bytes a
// bin) per open leaf, plus at most kMaxChunks partial histograms.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <queue>
#include <span>
#include <vector>

#include "tailor/core/parallel.hpp"
#include "tailor/core/types.hpp"

namespace tailor::learn::detail {

/// A fitted tree in flat form. Internal node k sends row x to children_[k] when
/// x[feature] <= threshold (equivalently bin <= split_bin) and to children_[k] + 1 otherwise;
/// leaves have feature -1 and carry `value` (already multiplied by the learning rate).
struct BoostingTree {
  std::vector<std::int32_t> feature;
  std::vector<std::uint8_t> split_bin;
  std::vector<double> threshold;
  std::vector<std::int32_t> left_child;
  std::vector<double> value;

  Index num_nodes() const { return static_cast<Index>(feature.size()); }
  Index num_leaves() const {
    return static_cast<Index>(std::count(feature.begin(), feature.end(), -1));
  }

  /// Adds one node (a leaf until split) and returns its index.
  std::int32_t add_node() {
    feature.push_back(-1);
    split_bin.push_back(0);
    threshold.push_back(0.0);
    left_child.push_back(-1);
    value.push_back(0.0);
    return static_cast<std::int32_t>(feature.size()) - 1;
  }

  /// Value for a row given by an accessor x(j) on raw feature values.
  template <class Row>
  double predict_raw_row(const Row& x) const {
    std::int32_t k = 0;
    while (feature[static_cast<std::size_t>(k)] >= 0) {
      const auto s = static_cast<std::size_t>(k);
      k = left_child[s] + (x(feature[s]) <= threshold[s] ? 0 : 1);
    }
    return value[static_cast<std::size_t>(k)];
  }

  /// Value for a row of bin codes (row-major, one byte per feature).
  double predict_binned_row(const std::uint8_t* codes) const {
    std::int32_t k = 0;
    while (feature[static_cast<std::size_t>(k)] >= 0) {
      const auto s = static_cast<std::size_t>(k);
      k = left_child[s] + (codes[feature[s]] <= split_bin[s] ? 0 : 1);
    }
    return value[static_cast<std::size_t>(k)];
  }
};

/// A row's gradient and hessian, stored as a float pair as in scikit-learn and LightGBM: half
/// the memory traffic of doubles, one cache line per row; histogram sums are in double.
struct GradientPair {
  float gradient = 0.0f;
  float hessian = 0.0f;
};

/// Hints the CPU to load `address` soon (rows of deep nodes are scattered over memory).
inline void prefetch(const void* address) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(address);
#else
  (void)address;
#endif
}

/// Settings of one tree (validated by GradientBoosting).
struct BoostingGrowerParams {
  Index max_leaf_nodes = 31;  ///< 0 = unlimited
  Index max_depth = 0;        ///< 0 = unlimited
  Index min_samples_leaf = 20;
  double l2_regularization = 0.0;
  double min_hessian_to_split = 1e-3;  ///< each child needs Σh at least this (scikit-learn's)
  double learning_rate = 0.1;
  Index num_threads = 1;
};

/// One histogram cell: Σ gradient and Σ hessian of a bin's rows, 16 bytes, updated as one pair
/// (add_to_cell). The bins' row counts live in a parallel uint32 array.
struct alignas(16) HistogramCell {
  double sum_gradient = 0.0;
  double sum_hessian = 0.0;
};

/// cell += (g, h) with one two-lane vector add where the compiler has vector extensions (one
/// 16-byte load, add and store instead of two of each; measured 5.2 against 7.6 ns per row of
/// 10 features). Each lane is the same IEEE addition as the scalar code, so the sums are
/// identical either way.
inline void add_to_cell(HistogramCell& cell, double g, double h) {
#if defined(__GNUC__) || defined(__clang__)
  using Pair = double __attribute__((vector_size(16)));
  Pair sum;
  std::memcpy(&sum, static_cast<const void*>(&cell), sizeof sum);
  sum += Pair{g, h};
  std::memcpy(static_cast<void*>(&cell), &sum, sizeof sum);
#else
  cell.sum_gradient += g;
  cell.sum_hessian += h;
#endif
}

/// A histogram: cells and counts of num_active_features × 256 bins.
struct HistogramView {
  HistogramCell* cells;
  std::uint32_t* counts;  ///< nullptr: sum (g, h) only, the counts are filled in elsewhere
};

/// Grows boosting trees on row-major bin codes; reuses its buffers from tree to tree.
class BoostingTreeGrower {
 public:
  using RowVector = std::vector<std::uint32_t>;
  static constexpr Index kBinsPerFeature = 256;
  /// Below this many (row, feature) updates a histogram is built on the calling thread.
  static constexpr Index kParallelHistogramWork = 16384;
  /// Nodes with more rows build their histogram from per-chunk partials (build_histogram).
  static constexpr Index kHistogramChunkRows = 16384;
  /// At most this many chunks (and partial histograms) per node.
  static constexpr Index kMaxChunks = 16;
  /// Below this many rows a node is partitioned on the calling thread.
  static constexpr Index kParallelPartitionRows = 4096;
  /// Features a histogram pass updates per row read (bounds the per-pass working set:
  /// kMaxGroupFeatures × 5 KiB of histogram).
  static constexpr Index kMaxGroupFeatures = 32;

  /// `codes`: n × num_features row-major bin codes (histograms read a row's codes together);
  /// `column_codes`: the same codes column-major (partitions read one feature);
  /// `num_bins[j]`: bins of feature j; bounds of feature j at bin_upper_bounds[bound_offsets[j]].
  BoostingTreeGrower(const std::uint8_t* codes, const std::uint8_t* column_codes, Index num_rows,
                     Index num_features, std::vector<Index> num_bins,
                     std::vector<double> bin_upper_bounds, std::vector<Index> bound_offsets,
                     const BoostingGrowerParams& params)
      : codes_(codes),
        column_codes_(column_codes),
        num_rows_(num_rows),
        num_features_(num_features),
        num_bins_(std::move(num_bins)),
        bin_upper_bounds_(std::move(bin_upper_bounds)),
        bound_offsets_(std::move(bound_offsets)),
        params_(params),
        rows_(static_cast<std::size_t>(num_rows)),
        scratch_right_(static_cast<std::size_t>(num_rows)) {}

  /// A leaf of the last grown tree: its value and its rows rows()[begin, end).
  struct LeafRange {
    Index begin = 0;
    Index end = 0;
    double value = 0.0;
  };

  /// Grows one tree on the rows `sample` (sorted, distinct) using only `features` (sorted,
  /// distinct). `gradients` are indexed by row. `unit_hessian`: every hessian is exactly 1
  /// (unweighted squared error), so Σh = count and the hessians are not summed. Returns the
  /// tree; leaf_ranges() and rows() then describe which rows each leaf received.
  BoostingTree grow(std::span<const std::uint32_t> sample, std::span<const Index> features,
                    const GradientPair* gradients, bool unit_hessian = false) {
    gradients_ = gradients;
    unit_hessian_ = unit_hessian;
    features_.assign(features.begin(), features.end());
    const Index num_active = static_cast<Index>(features_.size());
    hist_size_ = num_active * kBinsPerFeature;
    std::copy(sample.begin(), sample.end(), rows_.begin());
    const Index n = static_cast<Index>(sample.size());

    BoostingTree tree;
    nodes_.clear();
    leaves_.clear();
    free_slots_.clear();
    slots_in_use_ = 0;
    OpenNode root;
    root.begin = 0;
    root.end = n;
    root.depth = 0;
    root.tree_node = tree.add_node();
    root.hist_slot = acquire_slot();
    // The root's bin counts are the same for every tree fitted on all rows and all features, so
    // with general hessians (where counts are a second array to update) they are counted once
    // and reused: the root histogram then only sums (g, h).
    const bool full_root = !unit_hessian_ && n == num_rows_ && num_active == num_features_;
    if (full_root && root_counts_.size() == static_cast<std::size_t>(hist_size_)) {
      const HistogramView hist = histogram(root.hist_slot);
      build_histogram(root.begin, root.end, {hist.cells, nullptr});
      std::copy(root_counts_.begin(), root_counts_.end(), hist.counts);
    } else {
      build_histogram(root.begin, root.end, histogram(root.hist_slot));
      if (full_root) {
        const std::uint32_t* counts = histogram(root.hist_slot).counts;
        root_counts_.assign(counts, counts + hist_size_);
      }
    }
    // Node totals from the first active feature's histogram (every feature's bins sum to them).
    const HistogramCell* h0 = histogram(root.hist_slot).cells;
    for (Index b = 0; b < kBinsPerFeature; ++b) {
      root.sum_gradient += h0[b].sum_gradient;
      root.sum_hessian += h0[b].sum_hessian;
    }
    root.count = n;

    // Best-first: a max-heap of splittable leaves by gain; ties go to the older node.
    auto by_gain = [this](Index a, Index b) {
      const auto& x = nodes_[static_cast<std::size_t>(a)];
      const auto& y = nodes_[static_cast<std::size_t>(b)];
      if (x.split.gain != y.split.gain) return x.split.gain < y.split.gain;
      return a > b;
    };
    std::priority_queue<Index, std::vector<Index>, decltype(by_gain)> heap(by_gain);
    nodes_.push_back(root);
    Index num_leaves = 1;
    const Index max_leaves =
        params_.max_leaf_nodes > 0 ? params_.max_leaf_nodes : std::numeric_limits<Index>::max();
    auto consider = [&](Index id) {
      OpenNode& node = nodes_[static_cast<std::size_t>(id)];
      if (node.hist_slot >= 0 && can_split(node) && num_leaves < max_leaves) {
        find_best_split(node);
      }
      if (node.split.feature >= 0) {
        heap.push(id);
      } else {
        finish_leaf(node, tree);
      }
    };
    consider(0);
    while (!heap.empty() && num_leaves < max_leaves) {
      const Index id = heap.top();
      heap.pop();
      split_node(id, tree, num_leaves + 1 < max_leaves);
      ++num_leaves;
      const Index left_id = static_cast<Index>(nodes_.size()) - 2;
      consider(left_id);
      consider(left_id + 1);
    }
    while (!heap.empty()) {  // leaf budget exhausted: the remaining candidates become leaves
      finish_leaf(nodes_[static_cast<std::size_t>(heap.top())], tree);
      heap.pop();
    }
    return tree;
  }

  const std::vector<LeafRange>& leaf_ranges() const { return leaves_; }
  const RowVector& rows() const { return rows_; }

 private:
  struct Split {
    double gain = 0.0;
    Index feature = -1;  ///< index into features_ (active features); -1: no valid split
    Index bin = 0;
    double left_gradient = 0.0;
    double left_hessian = 0.0;
    Index left_count = 0;
  };

  struct OpenNode {
    Index begin = 0;
    Index end = 0;
    Index depth = 0;
    double sum_gradient = 0.0;
    double sum_hessian = 0.0;
    Index count = 0;
    Index hist_slot = -1;
    std::int32_t tree_node = 0;
    Split split;
  };

  HistogramView histogram(Index slot) {
    const auto offset = static_cast<std::size_t>(slot * hist_size_);
    return {histogram_cells_.data() + offset, histogram_counts_.data() + offset};
  }

  Index acquire_slot() {
    if (!free_slots_.empty()) {
      const Index slot = free_slots_.back();
      free_slots_.pop_back();
      return slot;
    }
    const Index slot = slots_in_use_++;
    const auto needed = static_cast<std::size_t>(slots_in_use_ * hist_size_);
    if (histogram_cells_.size() < needed) {
      histogram_cells_.resize(needed);
      histogram_counts_.resize(needed);
    }
    return slot;
  }

  void release_slot(Index& slot) {
    if (slot >= 0) free_slots_.push_back(slot);
    slot = -1;
  }

  bool can_split(const OpenNode& node) const {
    if (params_.max_depth > 0 && node.depth >= params_.max_depth) return false;
    if (node.count < 2 * params_.min_samples_leaf || node.count < 2) return false;
    return node.sum_hessian >= 2.0 * params_.min_hessian_to_split;
  }

  void finish_leaf(OpenNode& node, BoostingTree& tree) {
    const double value =
        -params_.learning_rate * node.sum_gradient / (node.sum_hessian + params_.l2_regularization);
    tree.value[static_cast<std::size_t>(node.tree_node)] = value;
    leaves_.push_back({node.begin, node.end, value});
    release_slot(node.hist_slot);
  }

  /// Histogram of rows_[begin, end). How the sums are ordered depends only on the node's row
  /// count, never on num_threads, so trees are bit-identical for every thread count:
  ///  * up to kHistogramChunkRows rows: every feature's bins are summed over the rows in their
  ///    order; with several threads the features are split into one group per thread (each
  ///    group reads the rows for its features);
  ///  * more rows: the rows are cut into chunks of max(kHistogramChunkRows, rows/kMaxChunks)
  ///    rows, each chunk gets its own partial histogram (chunks run in parallel, each reading
  ///    its own rows once: large nodes are bound by the memory traffic of the scattered rows,
  ///    which splitting features would duplicate), and the partials are added in chunk order.
  void build_histogram(Index begin, Index end, HistogramView out) {
    const Index num_active = static_cast<Index>(features_.size());
    const Index threads = params_.num_threads;
    const Index rows = end - begin;
    if (rows > kHistogramChunkRows) {
      build_chunked_histogram(begin, end, out);
      return;
    }
    const bool parallel = threads > 1 && rows * num_active >= kParallelHistogramWork;
    const Index groups = parallel ? std::min(num_active, threads) : 1;
    const Index per_group = (num_active + groups - 1) / groups;
    parallel_for_blocks(0, num_active, per_group, threads, [&](Index, Index lo, Index hi) {
      clear_and_accumulate(begin, end, lo, hi, out);
    });
  }

  /// Zeroes active features [first, last) of `hist` and adds rows_[begin, end) into them.
  void clear_and_accumulate(Index begin, Index end, Index first, Index last,
                            HistogramView hist) const {
    const auto lo = static_cast<std::size_t>(first * kBinsPerFeature);
    const auto hi = static_cast<std::size_t>(last * kBinsPerFeature);
    std::fill(hist.cells + lo, hist.cells + hi, HistogramCell{});
    if (unit_hessian_) {
      accumulate(begin, end, first, last, hist);
      if (hist.counts) set_counts_from_hessians(hist, first, last);
    } else {
      if (hist.counts) std::fill(hist.counts + lo, hist.counts + hi, 0u);
      accumulate(begin, end, first, last, hist);
    }
  }

  void build_chunked_histogram(Index begin, Index end, HistogramView out) {
    const Index num_active = static_cast<Index>(features_.size());
    const Index threads = params_.num_threads;
    const Index rows = end - begin;
    const Index chunk_rows = std::max(kHistogramChunkRows, (rows + kMaxChunks - 1) / kMaxChunks);
    const Index chunks = num_blocks(begin, end, chunk_rows);
    const auto size = static_cast<std::size_t>(hist_size_);
    if (partial_cells_.size() < static_cast<std::size_t>(chunks) * size) {
      partial_cells_.resize(static_cast<std::size_t>(chunks) * size);
      partial_counts_.resize(static_cast<std::size_t>(chunks) * size);
    }
    parallel_for_blocks(begin, end, chunk_rows, threads, [&](Index c, Index lo, Index hi) {
      const std::size_t offset = static_cast<std::size_t>(c) * size;
      clear_and_accumulate(
          lo, hi, 0, num_active,
          {partial_cells_.data() + offset, out.counts ? partial_counts_.data() + offset : nullptr});
    });
    // Partials added in chunk order, one feature's bins per task.
    parallel_for_blocks(0, num_active, 1, threads, [&](Index, Index lo, Index hi) {
      for (Index t = lo; t < hi; ++t) {
        const auto first = static_cast<std::size_t>(t * kBinsPerFeature);
        const auto bins = static_cast<std::size_t>(active_bins(t));
        HistogramCell* cell = out.cells + first;
        std::copy(partial_cells_.data() + first, partial_cells_.data() + first + kBinsPerFeature,
                  cell);
        for (Index c = 1; c < chunks; ++c) {
          const HistogramCell* src =
              partial_cells_.data() + static_cast<std::size_t>(c) * size + first;
          for (std::size_t b = 0; b < bins; ++b) {
            add_to_cell(cell[b], src[b].sum_gradient, src[b].sum_hessian);
          }
        }
        if (!out.counts) continue;
        std::uint32_t* count = out.counts + first;
        std::copy(partial_counts_.data() + first, partial_counts_.data() + first + kBinsPerFeature,
                  count);
        for (Index c = 1; c < chunks; ++c) {
          const std::uint32_t* src =
              partial_counts_.data() + static_cast<std::size_t>(c) * size + first;
          for (std::size_t b = 0; b < bins; ++b) count[b] += src[b];
        }
      }
    });
  }

  /// With unit hessians Σh of a bin is its row count (exact in double below 2⁵³): the counts of
  /// active features [first, last) are read off it.
  void set_counts_from_hessians(HistogramView hist, Index first, Index last) const {
    for (auto b = static_cast<std::size_t>(first * kBinsPerFeature);
         b < static_cast<std::size_t>(last * kBinsPerFeature); ++b) {
      hist.counts[b] = static_cast<std::uint32_t>(hist.cells[b].sum_hessian);
    }
  }

  Index active_bins(Index t) const {
    return num_bins_[static_cast<std::size_t>(features_[static_cast<std::size_t>(t)])];
  }

  /// Adds rows_[begin, end) into the histograms of active features [first, last) of `hist`:
  /// each row's codes are read once and update every one of those features' histograms
  /// (independent updates, good ILP).
  void accumulate(Index begin, Index end, Index first, Index last, HistogramView hist) const {
    // Consecutive feature numbers (every feature used, the usual case) are addressed by a
    // constant offset from the row's first code instead of a table.
    const bool contiguous = features_[static_cast<std::size_t>(last - 1)] -
                                features_[static_cast<std::size_t>(first)] ==
                            last - 1 - first;
    for (Index t0 = first; t0 < last; t0 += kMaxGroupFeatures) {
      const Index t1 = std::min(last, t0 + kMaxGroupFeatures);
      // Counts are kept in their own array only for general hessians, when asked for.
      if (unit_hessian_ || !hist.counts) {
        contiguous ? accumulate_rows<false, true>(begin, end, t0, t1, hist)
                   : accumulate_rows<false, false>(begin, end, t0, t1, hist);
      } else {
        contiguous ? accumulate_rows<true, true>(begin, end, t0, t1, hist)
                   : accumulate_rows<true, false>(begin, end, t0, t1, hist);
      }
    }
  }

  template <bool kCounts, bool kContiguous>
  void accumulate_rows(Index begin, Index end, Index first, Index last, HistogramView hist) const {
    const auto p = static_cast<std::size_t>(num_features_);
    const std::uint32_t* rows = rows_.data();
    // Offsets of the features within a row of codes.
    std::array<std::uint32_t, kMaxGroupFeatures> local{};
    const Index span = last - first;
    for (Index t = 0; t < span; ++t) {
      local[static_cast<std::size_t>(t)] =
          static_cast<std::uint32_t>(features_[static_cast<std::size_t>(first + t)]);
    }
    const std::size_t base = local[0];
    HistogramCell* cells = hist.cells + first * kBinsPerFeature;
    // Only touched with kCounts: counts may be nullptr otherwise (no arithmetic on it then).
    std::uint32_t* counts = kCounts ? hist.counts + first * kBinsPerFeature : nullptr;
    constexpr Index kAhead = 32;  // rows prefetched ahead: hides the latency of scattered rows
    for (Index k = begin; k < end; ++k) {
      if (k + kAhead < end) {
        const std::size_t ahead = rows[k + kAhead];
        prefetch(codes_ + ahead * p + base);
        prefetch(gradients_ + ahead);
      }
      const std::size_t i = rows[k];
      const std::uint8_t* code = codes_ + i * p;
      const double g = gradients_[i].gradient;
      const double h = unit_hessian_ ? 1.0 : gradients_[i].hessian;
      HistogramCell* cell = cells;
      [[maybe_unused]] std::uint32_t* count = counts;
      for (Index t = 0; t < span; ++t, cell += kBinsPerFeature) {
        const std::uint8_t c = kContiguous ? code[base + static_cast<std::size_t>(t)]
                                           : code[local[static_cast<std::size_t>(t)]];
        // Unit hessians: Σh is the bin's row count, so the count is read off it afterwards
        // (set_counts_from_hessians) instead of being kept in a second array here.
        add_to_cell(cell[c], g, h);
        if constexpr (kCounts) {
          ++count[c];
          count += kBinsPerFeature;
        }
      }
    }
  }

  /// Best split of `node` over the active features: the first (feature, bin) with the largest
  /// positive gain whose children both have min_samples_leaf rows and min_hessian_to_split.
  /// (One thread: a scan costs a few microseconds, about what handing it to a second thread
  /// costs; measured no gain from splitting the features over two threads.)
  void find_best_split(OpenNode& node) {
    Split best;
    const Index num_active = static_cast<Index>(features_.size());
    for (Index t = 0; t < num_active; ++t) best_split_of_feature(node, t, best);
    node.split = best;
  }

  /// Scans the bins of active feature t; replaces `best` by the first candidate whose gain is
  /// strictly larger.
  void best_split_of_feature(const OpenNode& node, Index t, Split& best) const {
    const double lambda = params_.l2_regularization;
    const double parent_score = node.sum_gradient * node.sum_gradient / (node.sum_hessian + lambda);
    const auto offset = static_cast<std::size_t>(node.hist_slot * hist_size_ + t * kBinsPerFeature);
    const HistogramCell* cell = histogram_cells_.data() + offset;
    const std::uint32_t* count = histogram_counts_.data() + offset;
    const Index bins = active_bins(t);
    double left_g = 0.0;
    double left_h = 0.0;
    Index left_n = 0;
    for (Index b = 0; b + 1 < bins; ++b) {
      // An empty bin leaves the candidate split equal to the previous one, which cannot be
      // strictly better: skip it (deep nodes span few bins of their split features).
      if (count[b] == 0) continue;
      left_g += cell[b].sum_gradient;
      left_h += cell[b].sum_hessian;
      left_n += count[b];
      const Index right_n = node.count - left_n;
      if (left_n < params_.min_samples_leaf) continue;
      if (right_n < params_.min_samples_leaf) break;
      const double right_h = node.sum_hessian - left_h;
      if (left_h < params_.min_hessian_to_split || right_h < params_.min_hessian_to_split) {
        continue;
      }
      const double right_g = node.sum_gradient - left_g;
      const double gain = left_g * left_g / (left_h + lambda) +
                          right_g * right_g / (right_h + lambda) - parent_score;
      if (gain > best.gain) {
        best = {gain, t, b, left_g, left_h, left_n};
      }
    }
  }

  /// Splits `nodes_[id]`: partitions its rows stably (left rows keep their order, then the
  /// right rows), creates both children, and gives each the histogram it needs.
  void split_node(Index id, BoostingTree& tree, bool children_may_split) {
    OpenNode parent = nodes_[static_cast<std::size_t>(id)];
    const Split& split = parent.split;
    const Index feature = features_[static_cast<std::size_t>(split.feature)];
    const auto bin = static_cast<std::uint8_t>(split.bin);
    const Index mid = partition(parent.begin, parent.end, feature, bin);

    const auto s = static_cast<std::size_t>(parent.tree_node);
    const std::int32_t left_node = tree.add_node();
    tree.add_node();
    tree.feature[s] = static_cast<std::int32_t>(feature);
    tree.split_bin[s] = bin;
    tree.threshold[s] = bin_upper_bounds_[static_cast<std::size_t>(
        bound_offsets_[static_cast<std::size_t>(feature)] + split.bin)];
    tree.left_child[s] = left_node;

    OpenNode left;
    left.begin = parent.begin;
    left.end = mid;
    left.depth = parent.depth + 1;
    left.sum_gradient = split.left_gradient;
    left.sum_hessian = split.left_hessian;
    left.count = split.left_count;
    left.tree_node = left_node;
    OpenNode right;
    right.begin = mid;
    right.end = parent.end;
    right.depth = parent.depth + 1;
    right.sum_gradient = parent.sum_gradient - split.left_gradient;
    right.sum_hessian = parent.sum_hessian - split.left_hessian;
    right.count = parent.count - split.left_count;
    right.tree_node = left_node + 1;

    const bool left_needs = children_may_split && can_split(left);
    const bool right_needs = children_may_split && can_split(right);
    OpenNode& smaller = left.count <= right.count ? left : right;
    OpenNode& larger = left.count <= right.count ? right : left;
    const bool smaller_needs = &smaller == &left ? left_needs : right_needs;
    const bool larger_needs = &larger == &left ? left_needs : right_needs;
    if (larger_needs) {
      // Build the smaller child's histogram, derive the larger's in the parent's slot.
      smaller.hist_slot = acquire_slot();
      build_histogram(smaller.begin, smaller.end, histogram(smaller.hist_slot));
      larger.hist_slot = parent.hist_slot;
      parent.hist_slot = -1;
      subtract(histogram(larger.hist_slot), histogram(smaller.hist_slot));
      if (!smaller_needs) release_slot(smaller.hist_slot);
    } else if (smaller_needs) {
      smaller.hist_slot = parent.hist_slot;  // reuse the slot, rebuild from rows
      parent.hist_slot = -1;
      build_histogram(smaller.begin, smaller.end, histogram(smaller.hist_slot));
    }
    release_slot(parent.hist_slot);
    nodes_[static_cast<std::size_t>(id)].hist_slot = -1;
    nodes_.push_back(left);
    nodes_.push_back(right);
  }

  /// target -= other, bin by bin.
  void subtract(HistogramView target, HistogramView other) const {
    const Index num_active = static_cast<Index>(features_.size());
    for (Index t = 0; t < num_active; ++t) {
      const std::size_t first = static_cast<std::size_t>(t * kBinsPerFeature);
      const auto bins = static_cast<std::size_t>(active_bins(t));
      for (std::size_t b = first; b < first + bins; ++b) {
        target.cells[b].sum_gradient -= other.cells[b].sum_gradient;
        target.cells[b].sum_hessian -= other.cells[b].sum_hessian;
        target.counts[b] -= other.counts[b];
      }
    }
  }

  /// Stable partition of rows_[begin, end) by code(feature) <= bin; returns the first right
  /// position. Each block compacts its left rows in place (a row is written at or before the
  /// position it was read from, branch-free) and copies its right rows to scratch; then the
  /// blocks' left runs are moved down next to each other (in block order: each moves toward
  /// lower addresses, past runs already placed), and the right runs are copied after them at
  /// offsets given by prefix sums. A stable partition is unique, so the blocks may follow the
  /// thread count: one block per thread for a large node, one block on the calling thread for
  /// a small one.
  Index partition(Index begin, Index end, Index feature, std::uint8_t bin) {
    const Index rows = end - begin;
    const Index threads = params_.num_threads;
    const Index blocks = threads > 1 && rows >= kParallelPartitionRows ? threads : 1;
    const Index block_size = (rows + blocks - 1) / blocks;
    const Index used_blocks = num_blocks(begin, end, block_size);
    block_left_.assign(static_cast<std::size_t>(used_blocks), 0);
    const std::uint8_t* column =
        column_codes_ + static_cast<std::size_t>(feature) * static_cast<std::size_t>(num_rows_);
    std::uint32_t* io = rows_.data();
    auto split_block = [&](Index b, Index lo, Index hi) {
      std::uint32_t* right = scratch_right_.data() + lo;
      // Branch-free: the row is written to both runs and the left count grows by the
      // comparison's 0/1 (a branch here mispredicts on half the rows; measured 3.2 ns/row).
      Index num_left = 0;
      for (Index k = lo; k < hi; ++k) {
        if (k + 32 < hi) prefetch(column + io[k + 32]);
        const std::uint32_t i = io[k];
        io[lo + num_left] = i;
        right[(k - lo) - num_left] = i;
        num_left += static_cast<Index>(column[i] <= bin);
      }
      block_left_[static_cast<std::size_t>(b)] = num_left;
    };
    parallel_for_blocks(begin, end, block_size, threads, split_block);
    Index total_left = 0;
    block_offsets_.resize(static_cast<std::size_t>(used_blocks));
    for (Index b = 0; b < used_blocks; ++b) {
      const Index num_left = block_left_[static_cast<std::size_t>(b)];
      const Index lo = begin + b * block_size;
      if (b > 0 && num_left > 0) std::copy(io + lo, io + lo + num_left, io + begin + total_left);
      block_offsets_[static_cast<std::size_t>(b)] = total_left;
      total_left += num_left;
    }
    auto place_rights = [&](Index b, Index lo, Index hi) {
      const Index num_left = block_left_[static_cast<std::size_t>(b)];
      // Right rows before this block: (lo − begin) − lefts before it.
      const Index rights_before = (lo - begin) - block_offsets_[static_cast<std::size_t>(b)];
      std::copy(scratch_right_.begin() + lo, scratch_right_.begin() + hi - num_left,
                rows_.begin() + begin + total_left + rights_before);
    };
    parallel_for_blocks(begin, end, block_size, threads, place_rights);
    return begin + total_left;
  }

  const std::uint8_t* codes_;
  const std::uint8_t* column_codes_;
  Index num_rows_;
  Index num_features_;
  std::vector<Index> num_bins_;
  std::vector<double> bin_upper_bounds_;
  std::vector<Index> bound_offsets_;
  BoostingGrowerParams params_;

  const GradientPair* gradients_ = nullptr;
  bool unit_hessian_ = false;
  std::vector<Index> features_;
  Index hist_size_ = 0;
  RowVector rows_;
  RowVector scratch_right_;
  std::vector<HistogramCell> histogram_cells_;
  std::vector<std::uint32_t> histogram_counts_;
  std::vector<HistogramCell> partial_cells_;
  std::vector<std::uint32_t> root_counts_;  ///< counts of a full root (general hessians)
  std::vector<std::uint32_t> partial_counts_;
  std::vector<Index> free_slots_;
  Index slots_in_use_ = 0;
  std::vector<OpenNode> nodes_;
  std::vector<LeafRange> leaves_;
  std::vector<Index> block_left_;
  std::vector<Index> block_offsets_;
};

}  // namespace tailor::learn::detail
