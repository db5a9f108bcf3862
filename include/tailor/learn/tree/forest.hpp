// tailor/learn/tree/forest.hpp — the fitted forest shared by every tree-based learner: trees of
// binary splits whose leaves keep sufficient statistics (grf's "prediction strategy" data).
//
// Each leaf ℓ of tree t stores s_tℓ = [n_tℓ, Σ_{i∈ℓ} c_i] : the number of (estimation) samples
// and the sums of the relabeling channels c_i ∈ R^C (e.g. [w_i, w_i·y_i] for regression). A
// prediction at x never revisits training rows: it averages the leaf means over trees,
//   m(x) = (1/T_x) Σ_t s_{t,ℓ_t(x)}[1:] / n_{t,ℓ_t(x)},
// which is grf's forest-weighted average with α_i(x) = (1/T_x) Σ_t 1{i ∈ ℓ_t(x)} / n_{t,ℓ_t(x)}
// (Athey, Tibshirani & Wager, "Generalized random forests", Ann. Statist. 2019, eq. (3)), so
// Σ_i α_i(x) c_i = m(x). A model maps m(x) to its output: regression Σα w y / Σα w = m₁/m₀,
// class probabilities m_{1+k}/m₀. Trees left without estimation samples by honesty (T_x counts
// the others) are skipped, as grf does.
// Nodes are stored in preorder (left child = node + 1) and split on raw values, x_j ≤ threshold
// with threshold = u_j(b) of the BinMapper (learn/binning.hpp); the bin b is kept too, so rows
// that are already binned route with one code compare (code ≤ b).
// Split-frequency importance follows grf's variable_importance(): per depth d = 1..D, the share
// of splits at depth d on feature j, weighted by d^(−decay) and normalized by Σ_d d^(−decay).
// Complexity: prediction O(n · T · depth · C); memory 16 bytes per node + 8·(C+1) per leaf.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/binning.hpp"
#include "tailor/learn/tree/prediction_strategy.hpp"

namespace tailor::learn::tree {

/// One node of a tree. Internal: go to node + 1 when x[feature] <= threshold, else to `next`.
/// Leaf: `split == kLeaf` and `next` is the leaf's index in Tree::leaf_stats.
struct Node {
  static constexpr std::uint32_t kLeaf = 0xFFFFFFFFu;
  double threshold = 0.0;
  std::uint32_t split = kLeaf;  ///< feature << kBinBits | bin, or kLeaf
  std::uint32_t next = 0;

  static constexpr int kBinBits = 12;  ///< bins 0..4095 (learn::kMaxBins)
  static std::uint32_t encode(Index feature, Index bin) {
    return static_cast<std::uint32_t>(feature) << kBinBits | static_cast<std::uint32_t>(bin);
  }
  bool is_leaf() const { return split == kLeaf; }
  Index feature() const { return static_cast<Index>(split >> kBinBits); }
  BinCode bin() const { return static_cast<BinCode>(split & ((1u << kBinBits) - 1)); }
};
static_assert(kMaxBins <= (Index{1} << Node::kBinBits));

/// Features must number fewer than this (20 bits; feature 2^20 − 1 with bin 4095 is kLeaf).
inline constexpr Index kMaxFeatures = Index{1} << (32 - Node::kBinBits);
/// Most trees a forest may have (ForestParams::num_trees; a model file's tree count).
inline constexpr Index kMaxTrees = 1'000'000;

/// One tree: nodes in preorder and per-leaf statistics [count, channel sums] (stats_width each).
/// A tree with no nodes had no estimation samples at all and contributes to no prediction.
struct Tree {
  std::vector<Node> nodes;
  std::vector<double> leaf_stats;

  bool empty() const { return nodes.empty(); }

  /// Leaf index for a row given by raw values x[0..p).
  std::uint32_t leaf_of(const double* x) const {
    const Node* node = nodes.data();
    while (!node->is_leaf()) {
      node = x[node->feature()] <= node->threshold ? node + 1 : nodes.data() + node->next;
    }
    return node->next;
  }

  /// Leaf indices of `count` rows stored row-major in x (stride p). Eight rows descend in
  /// lockstep so that their cache misses on the node array overlap (a traversal is a chain of
  /// dependent loads; interleaving independent chains hides the memory latency).
  void leaves_of(const double* x, Index p, Index count, std::uint32_t* out) const {
    constexpr Index kLanes = 8;
    const Node* base = nodes.data();
    for (Index r0 = 0; r0 < count; r0 += kLanes) {
      const Index lanes = std::min(kLanes, count - r0);
      const Node* cursor[kLanes];
      for (Index l = 0; l < lanes; ++l) cursor[l] = base;
      bool active = true;
      while (active) {
        active = false;
        for (Index l = 0; l < lanes; ++l) {
          const Node* node = cursor[l];
          if (node->is_leaf()) continue;
          active = true;
          cursor[l] =
              x[(r0 + l) * p + node->feature()] <= node->threshold ? node + 1 : base + node->next;
        }
      }
      for (Index l = 0; l < lanes; ++l) out[r0 + l] = cursor[l]->next;
    }
  }

  /// Leaf index for row i of a binned matrix.
  std::uint32_t leaf_of(const BinnedMatrix& X, Index i) const {
    const Node* node = nodes.data();
    while (!node->is_leaf()) {
      node = X.column(node->feature())[i] <= node->bin() ? node + 1 : nodes.data() + node->next;
    }
    return node->next;
  }
};

/// The fitted trees with their leaf statistics.
class Forest {
 public:
  Forest() = default;
  Forest(Index num_features, Index num_channels, std::vector<Tree> trees)
      : num_features_(num_features), num_channels_(num_channels), trees_(std::move(trees)) {}

  Index num_trees() const { return static_cast<Index>(trees_.size()); }
  /// Trees with at least one node (a tree whose estimation sample was empty has none).
  Index num_nonempty_trees() const {
    return static_cast<Index>(std::count_if(trees_.begin(), trees_.end(),
                                            [](const Tree& t) { return !t.nodes.empty(); }));
  }
  Index num_features() const { return num_features_; }
  /// C: channels per leaf (the leaf stats hold 1 + C values: count, then the sums).
  Index num_channels() const { return num_channels_; }
  const std::vector<Tree>& trees() const { return trees_; }

  /// The prediction of `strategy` (learn/tree/prediction_strategy.hpp) for every row of X: an
  /// n × strategy.output_width() matrix. Rows are processed in blocks in parallel; each row
  /// sums its trees in tree order, so results do not depend on num_threads. `context` names
  /// the caller in error messages (X with the wrong columns: ShapeMismatch; non-finite:
  /// DataError).
  template <PredictionStrategy P>
  Matrix predict(const MatrixRef& X, const P& strategy, Index num_threads,
                 std::string_view context = "Forest::predict") const {
    if (X.cols() != num_features_) {
      raise<ShapeMismatch>("{}: X has {} columns, expected {}", context, X.cols(), num_features_);
    }
    check_finite(context, "X", X);
    const Index n = X.rows();
    const Index p = num_features_;
    const Index S = num_channels_ + 1;
    const Index A = strategy.accumulator_width();
    const Index O = strategy.output_width();
    const Index T = num_trees();
    Matrix out(n, O);
    parallel_for_blocks(0, n, P::kBlockRows, num_threads, [&](Index, Index lo, Index hi) {
      const Index rows = hi - lo;
      // Row-major copy of the block so a traversal reads one contiguous row.
      std::vector<double> x(static_cast<std::size_t>(rows * p));
      for (Index j = 0; j < p; ++j) {
        for (Index r = 0; r < rows; ++r) x[static_cast<std::size_t>(r * p + j)] = X(lo + r, j);
      }
      std::vector<double> acc(static_cast<std::size_t>(rows * A), 0.0);
      std::vector<Index> used(static_cast<std::size_t>(rows), 0);
      std::vector<std::uint32_t> leaves(static_cast<std::size_t>(rows));
      // With kKeepsLeaves: row r's leaf statistics in tree t at [t·rows + r] (nullptr: empty
      // tree), written contiguously tree by tree.
      std::vector<const double*> kept(P::kKeepsLeaves ? static_cast<std::size_t>(rows * T) : 0,
                                      nullptr);
      for (Index t = 0; t < T; ++t) {
        const Tree& tree = trees_[static_cast<std::size_t>(t)];
        if (tree.empty()) continue;
        tree.leaves_of(x.data(), p, rows, leaves.data());
        for (Index r = 0; r < rows; ++r) {
          const double* stats = tree.leaf_stats.data() +
                                static_cast<std::size_t>(leaves[static_cast<std::size_t>(r)]) *
                                    static_cast<std::size_t>(S);
          if constexpr (P::kKeepsLeaves) kept[static_cast<std::size_t>(t * rows + r)] = stats;
          if (strategy.accumulate(stats, acc.data() + r * A)) ++used[static_cast<std::size_t>(r)];
        }
      }
      std::vector<double> row_out(static_cast<std::size_t>(O));
      for (Index r = 0; r < rows; ++r) {
        const double* const* row_leaves = P::kKeepsLeaves ? kept.data() + r : nullptr;
        const auto leaf_of = [row_leaves, rows](Index t) -> const double* {
          return row_leaves ? row_leaves[t * rows] : nullptr;  // nullptr without kKeepsLeaves
        };
        strategy.finish(acc.data() + r * A, used[static_cast<std::size_t>(r)], leaf_of,
                        row_out.data());
        for (Index c = 0; c < O; ++c) out(lo + r, c) = row_out[static_cast<std::size_t>(c)];
      }
    });
    return out;
  }

  /// Leaf index of every row of X in every tree (n × T; −1 for an empty tree), for forest
  /// weights α_i(x) or per-tree estimates (e.g. grf's little-bag variance) built on top.
  MatrixX<std::int64_t> leaf_indices(const MatrixRef& X, Index num_threads) const {
    if (X.cols() != num_features_) {
      raise<ShapeMismatch>("Forest::leaf_indices: X has {} columns, expected {}", X.cols(),
                           num_features_);
    }
    check_finite("Forest::leaf_indices", "X", X);
    MatrixX<std::int64_t> out(X.rows(), num_trees());
    parallel_for(0, X.rows(), num_threads, [&](Index i) {
      std::vector<double> x(static_cast<std::size_t>(num_features_));
      for (Index j = 0; j < num_features_; ++j) x[static_cast<std::size_t>(j)] = X(i, j);
      for (Index t = 0; t < num_trees(); ++t) {
        const Tree& tree = trees_[static_cast<std::size_t>(t)];
        out(i, t) = tree.empty() ? -1 : static_cast<std::int64_t>(tree.leaf_of(x.data()));
      }
    });
    return out;
  }

  /// [count, channel sums] of leaf `leaf` of tree `t`.
  const double* leaf_statistics(Index t, Index leaf) const {
    return trees_[static_cast<std::size_t>(t)].leaf_stats.data() + leaf * (num_channels_ + 1);
  }

  /// Number of splits on each feature at depths 1..max_depth (max_depth × p; root = depth 1).
  Matrix split_frequencies(Index max_depth) const {
    check_param(max_depth >= 1, "Forest::split_frequencies", "max_depth", max_depth, "at least 1");
    Matrix counts = Matrix::Zero(max_depth, num_features_);
    std::vector<std::pair<std::uint32_t, Index>> stack;
    for (const Tree& tree : trees_) {
      if (tree.empty()) continue;
      stack.assign(1, {0u, 0});
      while (!stack.empty()) {
        const auto [index, depth] = stack.back();
        stack.pop_back();
        const Node& node = tree.nodes[index];
        if (node.is_leaf() || depth >= max_depth) continue;
        counts(depth, node.feature()) += 1.0;
        stack.push_back({node.next, depth + 1});
        stack.push_back({index + 1, depth + 1});
      }
    }
    return counts;
  }

  /// grf-style importance: Σ_d d^(−decay)·share_d(j) / Σ_d d^(−decay), with share_d(j) the
  /// fraction of depth-d splits on feature j (depths 1..max_depth). Sums to 1 when any split.
  Vector variable_importance(double decay_exponent = 2.0, Index max_depth = 4) const {
    check_param(decay_exponent >= 0.0 && std::isfinite(decay_exponent),
                "Forest::variable_importance", "decay_exponent", decay_exponent,
                "a finite value >= 0");
    const Matrix counts = split_frequencies(max_depth);
    Vector importance = Vector::Zero(num_features_);
    double total_weight = 0.0;
    for (Index d = 0; d < max_depth; ++d) {
      const double weight = std::pow(static_cast<double>(d + 1), -decay_exponent);
      total_weight += weight;
      const double splits = counts.row(d).sum();
      if (splits > 0) importance += weight * counts.row(d).transpose() / splits;
    }
    return importance / total_weight;
  }

  /// Versioned binary save (embedded in a model's file) and validated load.
  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, kVersion);
    out.write(static_cast<std::int64_t>(num_features_));
    out.write(static_cast<std::int64_t>(num_channels_));
    out.write(static_cast<std::uint64_t>(trees_.size()));
    std::vector<double> thresholds;
    std::vector<std::uint32_t> splits;
    std::vector<std::uint32_t> nexts;
    for (const Tree& tree : trees_) {
      thresholds.clear();
      splits.clear();
      nexts.clear();
      for (const Node& node : tree.nodes) {
        thresholds.push_back(node.threshold);
        splits.push_back(node.split);
        nexts.push_back(node.next);
      }
      out.write(thresholds);
      out.write(splits);
      out.write(nexts);
      out.write(tree.leaf_stats);
    }
  }

  static Forest load(BinaryReader& in) {
    // Version 1 kept 8 bits of bin (feature << 8 | bin); version 2 keeps 12.
    const std::uint32_t version = in.read_header(kTypeTag, kVersion);
    const auto p = in.read_bounded<std::int64_t>("num_features", 1, kMaxFeatures - 1);
    const auto C = in.read_bounded<std::int64_t>("num_channels", 1, 1'000'000);
    // Each tree needs at least its four u64 lengths; trees are appended as they are read, so a
    // count that lies on a non-seekable stream allocates nothing.
    const std::uint64_t T = in.read_length("num_trees", kMaxTrees, 32);
    const std::string where = in.where();
    std::vector<Tree> trees;
    trees.reserve(static_cast<std::size_t>(in.reserve_limit(T)));
    const auto S = static_cast<std::size_t>(C + 1);
    for (std::uint64_t t = 0; t < T; ++t) {
      auto thresholds = in.read<std::vector<double>>("thresholds");
      auto splits = in.read<std::vector<std::uint32_t>>("splits");
      auto nexts = in.read<std::vector<std::uint32_t>>("children");
      Tree& tree = trees.emplace_back();
      tree.leaf_stats = in.read<std::vector<double>>("leaf statistics");
      const std::size_t num_nodes = thresholds.size();
      if (splits.size() != num_nodes || nexts.size() != num_nodes ||
          tree.leaf_stats.size() % S != 0 ||
          !std::all_of(tree.leaf_stats.begin(), tree.leaf_stats.end(),
                       [](double v) { return std::isfinite(v); })) {
        raise<FormatError>("{}: tree {} has inconsistent array sizes or non-finite leaf statistics",
                           where, t);
      }
      const std::size_t num_leaves = tree.leaf_stats.size() / S;
      tree.nodes.resize(num_nodes);
      for (std::size_t k = 0; k < num_nodes; ++k) {
        Node& node = tree.nodes[k];
        node.threshold = thresholds[k];
        node.split = splits[k];
        if (version == 1 && !node.is_leaf()) {
          const std::uint32_t feature = splits[k] >> 8;  // corrupt if >= p (checked below)
          node.split = feature < static_cast<std::uint32_t>(p)
                           ? Node::encode(feature, splits[k] & 0xFFu)
                           : Node::kLeaf - 1;
        }
        node.next = nexts[k];
        // Structure checks make traversal safe: children point forward (no cycles) and in
        // range, leaves index existing statistics with a positive count, features exist.
        const bool ok = node.is_leaf()
                            ? node.next < num_leaves && tree.leaf_stats[node.next * S] > 0
                            : node.feature() < p && node.next > k + 1 && node.next < num_nodes &&
                                  !std::isnan(node.threshold);
        if (!ok) raise<FormatError>("{}: tree {} node {} is corrupt", where, t, k);
      }
      if (num_nodes > 0 && !tree.nodes.back().is_leaf()) {
        raise<FormatError>("{}: tree {} ends with an internal node", where, t);
      }
    }
    return Forest(p, C, std::move(trees));
  }

 private:
  static constexpr std::string_view kTypeTag = "learn::tree::Forest";
  static constexpr std::uint32_t kVersion = 2;

  Index num_features_ = 0;
  Index num_channels_ = 0;
  std::vector<Tree> trees_;
};

}  // namespace tailor::learn::tree
