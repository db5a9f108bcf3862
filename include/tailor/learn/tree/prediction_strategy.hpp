// tailor/learn/tree/prediction_strategy.hpp — the third pluggable piece of the tree engine, beside
// the splitting rule and the relabeling (grf's PredictionStrategy): what a forest prediction
// accumulates per row from each tree's leaf, and how it finishes.
//
// Forest::predict(X, strategy, ...) walks rows in blocks of P::kBlockRows (in parallel), routes
// the block through every non-empty tree, and for each row calls, in tree order,
//   accumulate(leaf, acc)   leaf = the tree's leaf statistics [n, channel sums] (learn/tree/
//                           forest.hpp); acc = the row's accumulator of accumulator_width()
//                           doubles (zero at the start); returns whether the tree counts;
// then once per row
//   finish(acc, used, leaf_of, out)   used = trees that counted; out = output_width() doubles;
//                           leaf_of(t) = tree t's leaf statistics for the row (nullptr for an
//                           empty tree), available when P::kKeepsLeaves (a second pass, e.g. the
//                           causal forest's little-bags variance; the engine then keeps the
//                           T × block leaf indices).
// Every row sums its trees in tree order, so predictions are bit-identical for any num_threads.
// A model keeps only its moment equation: MeanLeafStatistics (regression, class probabilities)
// below, the causal forest's local moment solve (cate/causal_forest.hpp), the uplift forest's
// arm means (uplift/uplift_forest.hpp).
#pragma once

#include <concepts>
#include <limits>

#include "tailor/core/types.hpp"

namespace tailor::learn::tree {

/// See the header comment.
template <class P>
concept PredictionStrategy = requires(const P& p, const double* leaf, double* acc) {
  { P::kBlockRows } -> std::convertible_to<Index>;
  { P::kKeepsLeaves } -> std::convertible_to<bool>;
  { p.accumulator_width() } -> std::convertible_to<Index>;
  { p.output_width() } -> std::convertible_to<Index>;
  { p.accumulate(leaf, acc) } -> std::same_as<bool>;
};

/// The tree-averaged leaf means m(x) = (1/T_x) Σ_t s_t[1:] / n_t (learn/tree/forest.hpp): one
/// output per channel, NaN when no tree has the row. Regression and classification forests map
/// m(x) to their outputs.
struct MeanLeafStatistics {
  static constexpr Index kBlockRows = 2048;  ///< large blocks: a tree stays in cache for many rows
  static constexpr bool kKeepsLeaves = false;
  Index num_channels = 0;

  Index accumulator_width() const { return num_channels; }
  Index output_width() const { return num_channels; }
  bool accumulate(const double* leaf, double* acc) const {
    const double inv = 1.0 / leaf[0];
    for (Index c = 0; c < num_channels; ++c) acc[c] += leaf[1 + c] * inv;
    return true;
  }
  template <class LeafOfRow>
  void finish(const double* acc, Index used, const LeafOfRow&, double* out) const {
    const double scale =
        used > 0 ? 1.0 / static_cast<double>(used) : std::numeric_limits<double>::quiet_NaN();
    for (Index c = 0; c < num_channels; ++c) out[c] = acc[c] * scale;
  }
};

}  // namespace tailor::learn::tree
