// tailor/policy/policy_tree.hpp — policy learning by tree search on doubly-robust reward scores.
//
// Given features X (n × p) and reward scores Γ (n × K, e.g. the AIPW scores of policy/scores.hpp,
// Γ(i, a) = μ̂_a(xᵢ) + 1{Wᵢ = a}(Yᵢ − μ̂_a(xᵢ)) / ê_a(xᵢ)), PolicyTree finds the depth-d decision
// tree π maximizing the empirical welfare  Σᵢ Γ(i, π(xᵢ))  (Athey & Wager, "Policy Learning With
// Observational Data", Econometrica 89(1), 2021; exact tree search as in Sverdrup,
// Kanodia, Zhou, Athey & Wager, "policytree", JOSS 2020). Splits are "x_j ≤ t → left"; every
// leaf holds at least min_node_size training rows.
//
// Split candidates. Feature j is reduced to B_j ≤ max_bins quantile bins by learn::BinMapper
// (bin b holds u_j(b−1) < x ≤ u_j(b), u_j(b) the midpoint between adjacent distinct values);
// max_bins = 0 keeps one bin per distinct value (every distinct split, as policytree's
// split.step = 1). Split "bin ≤ b" on training rows is exactly "x_j ≤ u_j(b)" on raw values, so
// the fitted thresholds are the u_j(b).
//
// Exact search (greedy = false). Let H_S[k][c][a] = Σ_{i∈S, bin_k(i)=c} Γ(i, a) be the score
// histogram of a row set S. The best depth-1 tree on S is read off H_S by one cumulative sweep
// over the bins of every feature: for split (k, c) the value is
//   max_a L[a] + max_a (T[a] − L[a]),  L = Σ_{c'≤c} H_S[k][c'],  T = Σ_{i∈S} Γ(i, ·),
// so it costs O(Σ_k B_k · K) once H_S is known — independent of |S|. For depth 2, fix the root
// feature j and sweep the root bin b upward, adding the rows of bin b (rows pre-sorted by bin_j)
// to H_left; after each b the best left subtree is one depth-1 sweep of H_left. A second,
// downward sweep builds H_right the same way (no subtraction, so no cancellation). Per root
// feature: O(n · p · K) histogram updates + O(B_j · Σ_k B_k · K) for the sweeps; in total
//   O(n · p² · K + p² · B² · K)      (B = max bins per feature),
// and the dominating term for large n is the first, linear in n; the second does not grow with
// n. Depth d ≥ 3 recurses: every root split (p · B of them) solves both sides exactly at depth
// d − 1, so the cost is O((p · B)^{d−2} · (n · p² · K + p² · B² · K)) — exponential in d
// (allowed, documented, slow for large B; use small max_bins or greedy for d ≥ 3).
// Root features are searched in parallel (tailor::parallel_for); results are reduced in feature
// order, so the tree is identical for every num_threads. Ties: the leaf beats a split of equal
// value; among splits the lowest feature, then the lowest threshold, then the lowest action wins.
//
// Greedy search (greedy = true, any depth): the best depth-1 split at the root, then recursively
// in each child — each level touches every row once: O(d · n · p · K + 2^d · p · B · K), serial;
// no optimality guarantee (it can miss interactions such as XOR that no single split reveals).
//
// After either search, a split whose subtrees all recommend the same action is replaced by a
// leaf (identical predictions and value; simpler rules). Binning costs O(n · p · log n).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/binning.hpp"

namespace tailor::policy {

/// Settings of PolicyTree (validated by its constructor).
struct PolicyTreeParams {
  int depth = 2;            ///< tree depth, 1..20 (exact search is exponential beyond 2)
  int max_bins = 64;        ///< split candidates per feature (quantile bins), 2..256; 0 = every
                            ///< distinct value
  Index min_node_size = 1;  ///< fewest training rows in any leaf, >= 1
  bool greedy = false;      ///< false: exact search; true: recursive best depth-1 splits
  int num_threads = 0;      ///< threads for the exact search over root features; 0 = all cores
};

/// A fitted policy tree (immutable; predict is const and thread-safe).
class PolicyTreeModel {
 public:
  /// One node; node 0 is the root. Internal nodes send x[feature] <= threshold to `left`.
  struct Node {
    bool leaf = true;
    Index feature = -1;      ///< split feature (internal nodes), -1 for leaves
    double threshold = 0.0;  ///< split threshold (internal nodes)
    Index left = -1;         ///< child for x[feature] <= threshold, -1 for leaves
    Index right = -1;        ///< child for x[feature] > threshold, -1 for leaves
    Index action = -1;       ///< recommended action 0..K−1 (leaves), -1 for internal nodes
    Index size = 0;          ///< training rows reaching the node
    bool operator==(const Node&) const = default;
  };

  /// The recommended action of every row of X (X must have num_features() columns, finite).
  IndexVector predict(const MatrixRef& X) const {
    if (X.cols() != num_features_) {
      raise<ShapeMismatch>(
          "PolicyTreeModel::predict: X has {} columns, expected {} (the training features)",
          X.cols(), num_features_);
    }
    check_finite("PolicyTreeModel::predict", "X", X);
    IndexVector actions(X.rows());
    for (Index i = 0; i < X.rows(); ++i) actions[i] = nodes_[leaf_of(X, i)].action;
    return actions;
  }

  /// Mean Γ(i, π(xᵢ)) over the training rows: the in-sample estimate of the policy's value.
  double training_value() const { return training_value_; }

  /// The rules as indented text; `feature_names` (one per feature) defaults to x0, x1, ...
  std::string describe(const std::vector<std::string>& feature_names = {}) const {
    if (!feature_names.empty() && static_cast<Index>(feature_names.size()) != num_features_) {
      raise<InvalidArgument>(
          "PolicyTreeModel::describe: feature_names has {} names, expected {} (one per feature)",
          feature_names.size(), num_features_);
    }
    std::string text;
    describe_node(0, 0, feature_names, text);
    return text;
  }

  const std::vector<Node>& nodes() const { return nodes_; }
  Index num_features() const { return num_features_; }
  Index num_actions() const { return num_actions_; }
  /// Number of splits on the longest root-to-leaf path (0 for a single leaf).
  Index depth() const { return node_depth(0); }

  /// Versioned binary save (header "policy::PolicyTree" v1; core/serialization.hpp).
  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, kVersion);
    out.write(num_features_);
    out.write(num_actions_);
    out.write(training_value_);
    std::vector<std::uint8_t> leaf;
    std::vector<Index> feature, left, right, action, size;
    std::vector<double> threshold;
    for (const Node& node : nodes_) {
      leaf.push_back(node.leaf ? 1 : 0);
      feature.push_back(node.feature);
      threshold.push_back(node.threshold);
      left.push_back(node.left);
      right.push_back(node.right);
      action.push_back(node.action);
      size.push_back(node.size);
    }
    out.write(leaf);
    out.write(feature);
    out.write(threshold);
    out.write(left);
    out.write(right);
    out.write(action);
    out.write(size);
  }

  /// Loads what save wrote; corrupt or foreign data throws FormatError.
  static PolicyTreeModel load(BinaryReader& in) {
    in.read_header(kTypeTag, kVersion);
    PolicyTreeModel model;
    model.num_features_ = in.read<Index>("num_features");
    model.num_actions_ = in.read<Index>("num_actions");
    model.training_value_ = in.read<double>("training_value");
    const auto leaf = in.read<std::vector<std::uint8_t>>("node leaf flags");
    const auto feature = in.read<std::vector<Index>>("node features");
    const auto threshold = in.read<std::vector<double>>("node thresholds");
    const auto left = in.read<std::vector<Index>>("node left children");
    const auto right = in.read<std::vector<Index>>("node right children");
    const auto action = in.read<std::vector<Index>>("node actions");
    const auto size = in.read<std::vector<Index>>("node sizes");
    const std::size_t count = leaf.size();
    if (count == 0 || feature.size() != count || threshold.size() != count ||
        left.size() != count || right.size() != count || action.size() != count ||
        size.size() != count) {
      raise<FormatError>("{}: policy::PolicyTree node arrays are inconsistent", in.context());
    }
    if (model.num_features_ < 1 || model.num_actions_ < 2 ||
        !std::isfinite(model.training_value_)) {
      raise<FormatError>("{}: policy::PolicyTree header values are invalid", in.context());
    }
    const auto n = static_cast<Index>(count);
    std::vector<int> parents(count, 0);
    for (std::size_t t = 0; t < count; ++t) {
      Node node{leaf[t] == 1, feature[t], threshold[t], left[t], right[t], action[t], size[t]};
      const auto self = static_cast<Index>(t);
      // Children come after their parent, so prediction always terminates.
      const bool ok =
          leaf[t] <= 1 && node.size >= 0 &&
          (node.leaf ? (node.action >= 0 && node.action < model.num_actions_)
                     : (node.feature >= 0 && node.feature < model.num_features_ &&
                        std::isfinite(node.threshold) && node.left > self && node.left < n &&
                        node.right > self && node.right < n && node.left != node.right));
      if (!ok) {
        raise<FormatError>("{}: policy::PolicyTree node {} is invalid", in.context(), t);
      }
      if (!node.leaf) {
        ++parents[static_cast<std::size_t>(node.left)];
        ++parents[static_cast<std::size_t>(node.right)];
      }
      model.nodes_.push_back(node);
    }
    for (std::size_t t = 1; t < count; ++t) {
      if (parents[t] != 1) {
        raise<FormatError>("{}: policy::PolicyTree node {} has {} parents", in.context(), t,
                           parents[t]);
      }
    }
    return model;
  }

 private:
  friend class PolicyTree;
  static constexpr std::string_view kTypeTag = "policy::PolicyTree";
  static constexpr std::uint32_t kVersion = 1;

  PolicyTreeModel() = default;
  PolicyTreeModel(std::vector<Node> nodes, Index num_features, Index num_actions)
      : nodes_(std::move(nodes)), num_features_(num_features), num_actions_(num_actions) {}

  Index leaf_of(const MatrixRef& X, Index row) const {
    Index t = 0;
    while (!nodes_[static_cast<std::size_t>(t)].leaf) {
      const Node& node = nodes_[static_cast<std::size_t>(t)];
      t = X(row, node.feature) <= node.threshold ? node.left : node.right;
    }
    return t;
  }

  Index node_depth(Index t) const {
    const Node& node = nodes_[static_cast<std::size_t>(t)];
    if (node.leaf) return 0;
    return 1 + std::max(node_depth(node.left), node_depth(node.right));
  }

  void describe_node(Index t, int indent, const std::vector<std::string>& names,
                     std::string& text) const {
    const Node& node = nodes_[static_cast<std::size_t>(t)];
    const std::string pad(static_cast<std::size_t>(2 * indent), ' ');
    if (node.leaf) {
      text += fmt::format("{}action {}  (n = {})\n", pad, node.action, node.size);
      return;
    }
    const std::string name = names.empty() ? fmt::format("x{}", node.feature)
                                           : names[static_cast<std::size_t>(node.feature)];
    text += fmt::format("{}{} <= {:.6g}:\n", pad, name, node.threshold);
    describe_node(node.left, indent + 1, names, text);
    text += fmt::format("{}{} > {:.6g}:\n", pad, name, node.threshold);
    describe_node(node.right, indent + 1, names, text);
  }

  std::vector<Node> nodes_;
  Index num_features_ = 0;
  Index num_actions_ = 0;
  double training_value_ = 0.0;
};

namespace detail {

/// Binned features (row-major codes, so one row's bins are adjacent for histogram updates) and
/// row-major scores.
struct PolicyTreeData {
  Index rows = 0;
  Index features = 0;
  Index actions = 0;
  std::vector<Index> offsets;        // bins of feature k: [offsets[k], offsets[k+1])
  std::vector<double> bounds;        // upper bound of every bin (the last of a feature +inf)
  std::vector<std::uint32_t> codes;  // rows × features, row-major
  std::vector<double> gamma;         // rows × actions, row-major

  Index num_bins(Index k) const {
    return offsets[static_cast<std::size_t>(k) + 1] - offsets[static_cast<std::size_t>(k)];
  }
  std::uint32_t code(Index i, Index k) const {
    return codes[static_cast<std::size_t>(i * features + k)];
  }
  const double* scores(Index i) const { return gamma.data() + i * actions; }
};

/// Bounds of one feature with one bin per distinct value (midpoints, as learn::BinMapper).
inline std::vector<double> distinct_value_bounds(const MatrixRef& X, Index j) {
  std::vector<double> values(X.col(j).begin(), X.col(j).end());
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::vector<double> bounds;
  for (std::size_t k = 0; k + 1 < values.size(); ++k) {
    const double a = values[k];
    const double b = values[k + 1];
    const double mid = a + (b - a) / 2.0;
    bounds.push_back(mid < b && std::isfinite(mid) ? mid : a);
  }
  bounds.push_back(std::numeric_limits<double>::infinity());
  return bounds;
}

inline PolicyTreeData bin_policy_data(const MatrixRef& X, const MatrixRef& scores, int max_bins,
                                      Index num_threads) {
  PolicyTreeData data;
  data.rows = X.rows();
  data.features = X.cols();
  data.actions = scores.cols();
  const Index n = data.rows;
  const Index p = data.features;
  std::vector<std::vector<double>> bounds(static_cast<std::size_t>(p));
  if (max_bins > 0) {
    // Quantiles on all rows (no subsample), so the search sees the data's own quantiles; one
    // BinMapper per column so the features are binned in parallel.
    parallel_for(0, p, num_threads, [&](Index j) {
      const auto mapper = learn::BinMapper::fit(
          X.col(j), {.max_bins = max_bins, .max_sample_rows = std::max<Index>(n, 1), .seed = 0});
      for (Index b = 0; b < mapper.num_bins(0); ++b) {
        bounds[static_cast<std::size_t>(j)].push_back(mapper.upper_bound_unchecked(0, b));
      }
    });
  } else {
    parallel_for(0, p, num_threads, [&](Index j) {
      bounds[static_cast<std::size_t>(j)] = distinct_value_bounds(X, j);
    });
  }
  data.offsets.assign(1, 0);
  for (Index j = 0; j < p; ++j) {
    const auto& b = bounds[static_cast<std::size_t>(j)];
    data.bounds.insert(data.bounds.end(), b.begin(), b.end());
    data.offsets.push_back(static_cast<Index>(data.bounds.size()));
  }
  data.codes.resize(static_cast<std::size_t>(n * p));
  parallel_for(0, p, num_threads, [&](Index j) {
    const double* first = data.bounds.data() + data.offsets[static_cast<std::size_t>(j)];
    const double* last = data.bounds.data() + data.offsets[static_cast<std::size_t>(j) + 1] - 1;
    for (Index i = 0; i < n; ++i) {
      // First bin whose upper bound is >= x (the last bound is +inf).
      data.codes[static_cast<std::size_t>(i * p + j)] =
          static_cast<std::uint32_t>(std::lower_bound(first, last, X(i, j)) - first);
    }
  });
  data.gamma.resize(static_cast<std::size_t>(n * data.actions));
  for (Index i = 0; i < n; ++i) {
    for (Index a = 0; a < data.actions; ++a)
      data.gamma[static_cast<std::size_t>(i * data.actions + a)] = scores(i, a);
  }
  return data;
}

/// A tree under construction: splits on bins; node 0 is the root.
struct BuildNode {
  bool leaf = true;
  Index feature = -1;
  Index bin = -1;  // rows with bin <= `bin` go left
  Index action = -1;
  Index left = -1;
  Index right = -1;
};

struct Subtree {
  double value = -std::numeric_limits<double>::infinity();  // Σ Γ(i, π(xᵢ)) over its rows
  std::vector<BuildNode> nodes;
};

/// Best depth-≤1 tree of a row set: a leaf, or one split with a leaf on each side.
struct Depth1Choice {
  double value = -std::numeric_limits<double>::infinity();
  bool leaf = true;
  Index action = -1;  // leaf
  Index feature = -1;
  Index bin = -1;
  Index left_action = -1;
  Index right_action = -1;
};

/// Score histogram H[k][c][a] and counts of a row set, with its totals.
class ScoreHistogram {
 public:
  explicit ScoreHistogram(const PolicyTreeData& data)
      : data_(&data),
        sums_(static_cast<std::size_t>(data.offsets.back() * data.actions), 0.0),
        counts_(static_cast<std::size_t>(data.offsets.back()), 0),
        total_(static_cast<std::size_t>(data.actions), 0.0),
        left_(static_cast<std::size_t>(data.actions), 0.0) {}

  void clear() {
    std::fill(sums_.begin(), sums_.end(), 0.0);
    std::fill(counts_.begin(), counts_.end(), 0);
    std::fill(total_.begin(), total_.end(), 0.0);
    count_ = 0;
  }

  void add(Index i) {
    const PolicyTreeData& d = *data_;
    const Index K = d.actions;
    const double* g = d.scores(i);
    const std::uint32_t* codes = d.codes.data() + i * d.features;
    for (Index k = 0; k < d.features; ++k) {
      const Index cell = d.offsets[static_cast<std::size_t>(k)] + codes[k];
      double* h = sums_.data() + cell * K;
      for (Index a = 0; a < K; ++a) h[a] += g[a];
      ++counts_[static_cast<std::size_t>(cell)];
    }
    for (Index a = 0; a < K; ++a) total_[static_cast<std::size_t>(a)] += g[a];
    ++count_;
  }

  Index count() const { return count_; }

  /// The best leaf (argmax of the totals, lowest action on ties).
  Depth1Choice best_leaf() const {
    Depth1Choice choice;
    for (Index a = 0; a < data_->actions; ++a) {
      if (total_[static_cast<std::size_t>(a)] > choice.value) {
        choice.value = total_[static_cast<std::size_t>(a)];
        choice.action = a;
      }
    }
    return choice;
  }

  /// The best depth-≤1 tree on the rows added so far, every leaf with >= min_node_size rows:
  /// one cumulative sweep per feature, O(Σ_k B_k · K).
  Depth1Choice best_depth1(Index min_node_size) {
    Depth1Choice best = best_leaf();
    if (count_ < 2 * min_node_size) return best;
    const PolicyTreeData& d = *data_;
    const Index K = d.actions;
    double* left = left_.data();
    const double* total = total_.data();
    for (Index k = 0; k < d.features; ++k) {
      std::fill(left_.begin(), left_.end(), 0.0);
      Index left_count = 0;
      const Index first = d.offsets[static_cast<std::size_t>(k)];
      const Index bins = d.num_bins(k);
      for (Index c = 0; c + 1 < bins; ++c) {
        const Index cell = first + c;
        const Index cell_count = counts_[static_cast<std::size_t>(cell)];
        if (cell_count == 0) continue;  // same partition as the previous candidate
        const double* h = sums_.data() + cell * K;
        for (Index a = 0; a < K; ++a) left[a] += h[a];
        left_count += cell_count;
        if (left_count < min_node_size) continue;
        if (count_ - left_count < min_node_size) break;
        Index best_left = 0;
        Index best_right = 0;
        double left_value = left[0];
        double right_value = total[0] - left[0];
        for (Index a = 1; a < K; ++a) {
          if (left[a] > left_value) {
            left_value = left[a];
            best_left = a;
          }
          const double r = total[a] - left[a];
          if (r > right_value) {
            right_value = r;
            best_right = a;
          }
        }
        const double value = left_value + right_value;
        if (value > best.value) {
          best = {value, false, -1, k, c, best_left, best_right};
        }
      }
    }
    return best;
  }

 private:
  const PolicyTreeData* data_;
  std::vector<double> sums_;
  std::vector<Index> counts_;
  std::vector<double> total_;
  std::vector<double> left_;  // scratch of best_depth1
  Index count_ = 0;
};

inline Subtree leaf_subtree(Index action, double value) {
  Subtree tree;
  tree.value = value;
  tree.nodes.push_back({true, -1, -1, action, -1, -1});
  return tree;
}

inline Subtree depth1_subtree(const Depth1Choice& choice) {
  if (choice.leaf) return leaf_subtree(choice.action, choice.value);
  Subtree tree;
  tree.value = choice.value;
  tree.nodes.push_back({false, choice.feature, choice.bin, -1, 1, 2});
  tree.nodes.push_back({true, -1, -1, choice.left_action, -1, -1});
  tree.nodes.push_back({true, -1, -1, choice.right_action, -1, -1});
  return tree;
}

/// A split node over two subtrees (their node indices shifted behind the root).
inline Subtree join_subtrees(Index feature, Index bin, const Subtree& left, const Subtree& right) {
  Subtree tree;
  tree.value = left.value + right.value;
  const auto left_size = static_cast<Index>(left.nodes.size());
  tree.nodes.push_back({false, feature, bin, -1, 1, 1 + left_size});
  for (BuildNode node : left.nodes) {
    if (!node.leaf) {
      node.left += 1;
      node.right += 1;
    }
    tree.nodes.push_back(node);
  }
  for (BuildNode node : right.nodes) {
    if (!node.leaf) {
      node.left += 1 + left_size;
      node.right += 1 + left_size;
    }
    tree.nodes.push_back(node);
  }
  return tree;
}

/// The searches of PolicyTree on one binned data set.
class PolicyTreeSearch {
 public:
  PolicyTreeSearch(const PolicyTreeData& data, Index min_node_size, Index num_threads)
      : data_(data), min_node_size_(min_node_size), num_threads_(num_threads) {}

  Subtree best_leaf(const std::vector<Index>& rows) const {
    std::vector<double> total(static_cast<std::size_t>(data_.actions), 0.0);
    for (Index i : rows) {
      const double* g = data_.scores(i);
      for (Index a = 0; a < data_.actions; ++a) total[static_cast<std::size_t>(a)] += g[a];
    }
    Index action = 0;
    for (Index a = 1; a < data_.actions; ++a) {
      if (total[static_cast<std::size_t>(a)] > total[static_cast<std::size_t>(action)]) action = a;
    }
    return leaf_subtree(action, total[static_cast<std::size_t>(action)]);
  }

  Depth1Choice best_depth1(const std::vector<Index>& rows) const {
    ScoreHistogram histogram(data_);
    for (Index i : rows) histogram.add(i);
    return histogram.best_depth1(min_node_size_);
  }

  /// Exact best tree of depth <= `depth` on `rows`.
  Subtree exact(const std::vector<Index>& rows, int depth) const {
    if (depth == 1) return depth1_subtree(best_depth1(rows));
    if (depth == 2) return exact_depth2(rows);
    Subtree best = best_leaf(rows);
    const auto n = static_cast<Index>(rows.size());
    if (n < 2 * min_node_size_) return best;
    const Index p = data_.features;
    struct Candidate {
      Subtree tree;
      bool found = false;
    };
    std::vector<Candidate> per_feature(static_cast<std::size_t>(p));
    parallel_for(0, p, num_threads_, [&](Index j) {
      Candidate& result = per_feature[static_cast<std::size_t>(j)];
      std::vector<Index> starts;
      const std::vector<Index> sorted = sort_by_bin(rows, j, starts);
      const Index bins = data_.num_bins(j);
      for (Index b = 0; b + 1 < bins; ++b) {
        const Index left_count = starts[static_cast<std::size_t>(b) + 1];
        if (starts[static_cast<std::size_t>(b) + 1] == starts[static_cast<std::size_t>(b)])
          continue;
        if (left_count < min_node_size_) continue;
        if (n - left_count < min_node_size_) break;
        const std::vector<Index> left(sorted.begin(), sorted.begin() + left_count);
        const std::vector<Index> right(sorted.begin() + left_count, sorted.end());
        Subtree left_tree = exact(left, depth - 1);
        Subtree right_tree = exact(right, depth - 1);
        if (!result.found || left_tree.value + right_tree.value > result.tree.value) {
          result.tree = join_subtrees(j, b, left_tree, right_tree);
          result.found = true;
        }
      }
    });
    for (Candidate& candidate : per_feature) {
      if (candidate.found && candidate.tree.value > best.value) best = std::move(candidate.tree);
    }
    return best;
  }

  /// Exact best tree of depth <= 2 by the two histogram sweeps per root feature (header comment).
  Subtree exact_depth2(const std::vector<Index>& rows) const {
    Subtree best = best_leaf(rows);
    const auto n = static_cast<Index>(rows.size());
    if (n < 2 * min_node_size_) return best;
    const Index p = data_.features;
    struct Candidate {
      double value = -std::numeric_limits<double>::infinity();
      Index bin = -1;
      Depth1Choice left, right;
    };
    std::vector<Candidate> per_feature(static_cast<std::size_t>(p));
    parallel_for(0, p, num_threads_, [&](Index j) {
      std::vector<Index> starts;
      const std::vector<Index> sorted = sort_by_bin(rows, j, starts);
      const Index bins = data_.num_bins(j);
      // Root split candidates b: bin b non-empty and both sides with >= min_node_size rows.
      std::vector<std::uint8_t> valid(static_cast<std::size_t>(bins), 0);
      for (Index b = 0; b + 1 < bins; ++b) {
        const Index left_count = starts[static_cast<std::size_t>(b) + 1];
        valid[static_cast<std::size_t>(b)] =
            starts[static_cast<std::size_t>(b) + 1] > starts[static_cast<std::size_t>(b)] &&
            left_count >= min_node_size_ && n - left_count >= min_node_size_;
      }
      std::vector<Depth1Choice> left_best(static_cast<std::size_t>(bins));
      std::vector<Depth1Choice> right_best(static_cast<std::size_t>(bins));
      ScoreHistogram histogram(data_);
      // Upward sweep: rows with bin_j <= b.
      for (Index b = 0; b + 1 < bins; ++b) {
        for (Index r = starts[static_cast<std::size_t>(b)];
             r < starts[static_cast<std::size_t>(b) + 1]; ++r) {
          histogram.add(sorted[static_cast<std::size_t>(r)]);
        }
        if (valid[static_cast<std::size_t>(b)]) {
          left_best[static_cast<std::size_t>(b)] = histogram.best_depth1(min_node_size_);
        }
      }
      // Downward sweep: rows with bin_j > b.
      histogram.clear();
      for (Index b = bins - 2; b >= 0; --b) {
        for (Index r = starts[static_cast<std::size_t>(b) + 1];
             r < starts[static_cast<std::size_t>(b) + 2]; ++r) {
          histogram.add(sorted[static_cast<std::size_t>(r)]);
        }
        if (valid[static_cast<std::size_t>(b)]) {
          right_best[static_cast<std::size_t>(b)] = histogram.best_depth1(min_node_size_);
        }
      }
      Candidate& result = per_feature[static_cast<std::size_t>(j)];
      for (Index b = 0; b + 1 < bins; ++b) {
        if (!valid[static_cast<std::size_t>(b)]) continue;
        const double value = left_best[static_cast<std::size_t>(b)].value +
                             right_best[static_cast<std::size_t>(b)].value;
        if (value > result.value) {
          result = {value, b, left_best[static_cast<std::size_t>(b)],
                    right_best[static_cast<std::size_t>(b)]};
        }
      }
    });
    for (Index j = 0; j < p; ++j) {
      const Candidate& candidate = per_feature[static_cast<std::size_t>(j)];
      if (candidate.bin >= 0 && candidate.value > best.value) {
        best = join_subtrees(j, candidate.bin, depth1_subtree(candidate.left),
                             depth1_subtree(candidate.right));
      }
    }
    return best;
  }

  /// Greedy tree of depth <= `depth`: the best depth-1 split, then recursively in each child.
  Subtree greedy(const std::vector<Index>& rows, int depth) const {
    const Depth1Choice choice = best_depth1(rows);
    if (depth == 1 || choice.leaf) return depth1_subtree(choice);
    std::vector<Index> left, right;
    for (Index i : rows) {
      (static_cast<Index>(data_.code(i, choice.feature)) <= choice.bin ? left : right).push_back(i);
    }
    return join_subtrees(choice.feature, choice.bin, greedy(left, depth - 1),
                         greedy(right, depth - 1));
  }

 private:
  /// `rows` stably sorted by their bin of feature j (counting sort); starts[b] is the first
  /// position of bin b, starts[B] = |rows|.
  std::vector<Index> sort_by_bin(const std::vector<Index>& rows, Index j,
                                 std::vector<Index>& starts) const {
    const Index bins = data_.num_bins(j);
    starts.assign(static_cast<std::size_t>(bins) + 1, 0);
    for (Index i : rows) ++starts[data_.code(i, j) + 1];
    for (Index b = 0; b < bins; ++b) {
      starts[static_cast<std::size_t>(b) + 1] += starts[static_cast<std::size_t>(b)];
    }
    std::vector<Index> next(starts.begin(), starts.end() - 1);
    std::vector<Index> sorted(rows.size());
    for (Index i : rows) sorted[static_cast<std::size_t>(next[data_.code(i, j)]++)] = i;
    return sorted;
  }

  const PolicyTreeData& data_;
  Index min_node_size_;
  Index num_threads_;
};

/// Replaces every split whose subtrees all recommend one action by a leaf; appends the result
/// in pre-order to `out` and returns its root index there.
inline Index collapse_subtree(const std::vector<BuildNode>& nodes, Index t,
                              std::vector<BuildNode>& out) {
  const BuildNode& node = nodes[static_cast<std::size_t>(t)];
  const auto self = static_cast<Index>(out.size());
  out.push_back(node);
  if (node.leaf) return self;
  const Index left = collapse_subtree(nodes, node.left, out);
  const Index right = collapse_subtree(nodes, node.right, out);
  const BuildNode& l = out[static_cast<std::size_t>(left)];
  const BuildNode& r = out[static_cast<std::size_t>(right)];
  if (l.leaf && r.leaf && l.action == r.action) {
    const Index action = l.action;
    out.resize(static_cast<std::size_t>(self) + 1);
    out.back() = {true, -1, -1, action, -1, -1};
  } else {
    out[static_cast<std::size_t>(self)].left = left;
    out[static_cast<std::size_t>(self)].right = right;
  }
  return self;
}

}  // namespace detail

/// Policy learning by (exact or greedy) tree search on reward scores; see the header comment.
class PolicyTree {
 public:
  using Params = PolicyTreeParams;
  using Model = PolicyTreeModel;

  explicit PolicyTree(PolicyTreeParams params = {}) : params_(params) {
    check_param(params_.depth >= 1 && params_.depth <= 20, "PolicyTree", "depth", params_.depth,
                "a value in [1, 20]");
    check_param(params_.max_bins == 0 || (params_.max_bins >= 2 && params_.max_bins <= 256),
                "PolicyTree", "max_bins", params_.max_bins,
                "0 (every distinct value) or a value in [2, 256]");
    check_param(params_.min_node_size >= 1, "PolicyTree", "min_node_size", params_.min_node_size,
                "at least 1");
    check_param(params_.num_threads >= 0, "PolicyTree", "num_threads", params_.num_threads,
                "0 (all cores) or a positive count");
  }

  const PolicyTreeParams& params() const { return params_; }

  /// Fits the tree maximizing Σᵢ scores(i, π(xᵢ)); scores has one column per action (K >= 2).
  /// Throws DataError (X empty, non-finite X or scores), ShapeMismatch (rows of scores != rows
  /// of X), InvalidArgument (no features, K < 2, min_node_size > rows of X).
  PolicyTreeModel fit(const MatrixRef& X, const MatrixRef& scores) const {
    constexpr std::string_view context = "PolicyTree::fit";
    check_nonempty(context, "X", X.rows());
    check_param(X.cols() >= 1, context, "X.cols()", X.cols(), "at least 1 feature");
    check_rows(context, "scores", scores.rows(), X.rows(), "the rows of X");
    check_param(scores.cols() >= 2, context, "scores.cols()", scores.cols(),
                "at least 2 (one column per action)");
    check_finite(context, "X", X);
    check_finite(context, "scores", scores);
    check_param(params_.min_node_size <= X.rows(), context, "min_node_size", params_.min_node_size,
                fmt::format("at most the {} rows of X", X.rows()));

    const detail::PolicyTreeData data =
        detail::bin_policy_data(X, scores, params_.max_bins, params_.num_threads);
    const detail::PolicyTreeSearch search(data, params_.min_node_size, params_.num_threads);
    std::vector<Index> rows(static_cast<std::size_t>(X.rows()));
    for (Index i = 0; i < X.rows(); ++i) rows[static_cast<std::size_t>(i)] = i;
    const detail::Subtree found =
        params_.greedy ? search.greedy(rows, params_.depth) : search.exact(rows, params_.depth);

    std::vector<detail::BuildNode> collapsed;
    detail::collapse_subtree(found.nodes, 0, collapsed);
    std::vector<PolicyTreeModel::Node> nodes;
    for (const detail::BuildNode& b : collapsed) {
      PolicyTreeModel::Node node;
      node.leaf = b.leaf;
      if (b.leaf) {
        node.action = b.action;
      } else {
        node.feature = b.feature;
        node.threshold = data.bounds[static_cast<std::size_t>(
            data.offsets[static_cast<std::size_t>(b.feature)] + b.bin)];
        node.left = b.left;
        node.right = b.right;
      }
      nodes.push_back(node);
    }
    PolicyTreeModel model(std::move(nodes), X.cols(), scores.cols());
    // Node sizes and the value from routing the raw training rows: x <= u_j(b) ⇔ bin <= b, so
    // this is the partition the search scored.
    double value = 0.0;
    for (Index i = 0; i < X.rows(); ++i) {
      Index t = 0;
      while (true) {
        auto& node = model.nodes_[static_cast<std::size_t>(t)];
        ++node.size;
        if (node.leaf) break;
        t = X(i, node.feature) <= node.threshold ? node.left : node.right;
      }
      value += scores(i, model.nodes_[static_cast<std::size_t>(t)].action);
    }
    model.training_value_ = value / static_cast<double>(X.rows());
    return model;
  }

 private:
  PolicyTreeParams params_;
};

}  // namespace tailor::policy
