// tailor/learn/tree/splitting_rule.hpp — the pluggable pieces of the tree engine (DESIGN §7,
// after grf's SplittingRule / RelabelingStrategy): what each training row contributes, and how
// a candidate split is scored from summed contributions.
//
// Relabeling: every row i gets a vector of C "channels" c_i (computed once per fit), e.g.
// [w_i, w_i·y_i] for regression or [w_i, w_i·1{y_i = k}] for classes. The trainer sums
// s = [count, Σ c_i] per bin (histograms) and per node; a split rule only sees such sums.
// This is how per-node pseudo-outcomes stay compatible with histogram subtraction: grf's
// causal relabeling ρ_i = (W_i − W̄_P)((Y_i − Ȳ_P) − τ̂_P (W_i − W̄_P)) / Var_P(W) uses node
// constants (W̄_P, Ȳ_P, τ̂_P, Var_P(W)) that are functions of the parent's sums, and is affine in
// the per-row moments (w, wW, wY, wWY, wW²). So Σ_{i∈L} w_i ρ_i is a linear combination of the
// child's channel sums: a causal rule takes those five channels (plus a treated-count channel
// for per-child minimum treated/control counts and grf's imbalance penalty) and computes the
// criterion (Σ_L wρ)²/W_L + (Σ_R wρ)²/W_R from s_P, s_L, s_R; histograms of raw channels are
// node-independent, so the larger child's histogram is still parent − smaller child.
//
// A SplittingRule provides
//   num_channels()             C, must match the relabeling;
//   can_split(s_P)             false for nodes that cannot improve (a pure class node);
//   split_score(s_P, s_L, s_R) any score increasing in the gain, −inf when inadmissible;
//                              called once per candidate boundary, so it must be cheap;
//   split_gain(s_P, s_L, s_R)  the impurity decrease of the best candidate; split iff > 0.
// The trainer itself enforces min_node_size on the count slot s[0].
// Complexity: O(1) per candidate for regression, O(K) for K classes.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::learn::tree {

template <class R>
concept SplittingRule = std::copy_constructible<R> && requires(const R& rule, const double* s) {
  { rule.num_channels() } -> std::convertible_to<Index>;
  { rule.can_split(s) } -> std::convertible_to<bool>;
  { rule.split_score(s, s, s) } -> std::convertible_to<double>;
  { rule.split_gain(s, s, s) } -> std::convertible_to<double>;
};

/// Optional extension: a rule that also needs, in every node P, how many of P's rows have a
/// key at or above a threshold that depends on P itself (grf's causal rule: rows whose centered
/// treatment Z is ≥ the node's mean Z̄_P). Such a count is not a sum of fixed per-row channels,
/// so histograms cannot carry it; the trainer passes it in slot S = 1 + C of the parent's, left
/// and right arrays given to can_split / split_score / split_gain.
///   counts_per_node()     whether to count (a run-time option of the rule);
///   node_threshold(s_P)   the node's threshold;
///   row_key(c_i)          the key of the row with channels c_i;
///   node_flag_proxy()     a slot q ≥ 1 whose channel c_i[q − 1] is 0/1 and marks the rows at
///                         or above the threshold in most nodes (causal: 1{W = 1}).
/// The trainer keeps bounds on the keys of proxy-0 and proxy-1 rows (computed in a node that
/// needed a pass, inherited by its descendants). When they show that the proxy equals the flag
/// on every row, slot q of the histograms already holds the per-bin counts; otherwise one pass
/// over the node's rows flags them and each scanned feature sums the flags per bin.
/// With bootstrap a row counts its multiplicity (like the channels; s[0] counts distinct rows).
/// Cost: O(1) per node while the bounds decide, else O(rows) plus O(rows) per scanned feature.
template <class R>
concept NodeCountingRule = SplittingRule<R> && requires(const R& rule, const double* s) {
  { rule.counts_per_node() } -> std::convertible_to<bool>;
  { rule.node_threshold(s) } -> std::convertible_to<double>;
  { rule.row_key(s) } -> std::convertible_to<double>;
  { rule.node_flag_proxy() } -> std::convertible_to<Index>;
};

/// Per-row channels c_i ∈ R^C, written by channels(i, out) for i in [0, num_rows()).
template <class R>
concept Relabeling = requires(const R& relabeling, Index row, double* out) {
  { relabeling.num_channels() } -> std::convertible_to<Index>;
  { relabeling.num_rows() } -> std::convertible_to<Index>;
  relabeling.channels(row, out);
};

namespace detail {
inline constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();
inline double weight_or_one(const VectorRef& weights, Index i) {
  return weights.size() == 0 ? 1.0 : weights[i];
}
}  // namespace detail

/// Regression channels [w_i, w_i·y_i]; weights of length 0 mean 1.
struct RegressionRelabeling {
  VectorRef y;
  VectorRef weights;
  Index num_channels() const { return 2; }
  Index num_rows() const { return y.size(); }
  void channels(Index i, double* out) const {
    const double w = detail::weight_or_one(weights, i);
    out[0] = w;
    out[1] = w * y[i];
  }
};

/// Class channels [w_i, w_i·1{y_i = 0}, ..., w_i·1{y_i = K−1}]; labels are 0..K−1 as doubles.
struct ClassRelabeling {
  VectorRef labels;
  VectorRef weights;
  Index num_classes = 2;
  Index num_channels() const { return 1 + num_classes; }
  Index num_rows() const { return labels.size(); }
  void channels(Index i, double* out) const {
    const double w = detail::weight_or_one(weights, i);
    out[0] = w;
    for (Index k = 0; k < num_classes; ++k) out[1 + k] = 0.0;
    out[1 + static_cast<Index>(labels[i])] = w;
  }
};

/// Weighted variance reduction (CART; grf's RegressionSplittingRule). With s = [n, W, Σwy]:
/// score = (Σ_L wy)²/W_L + (Σ_R wy)²/W_R, and the gain is the between-children sum of squares
/// W_L W_R (ȳ_L − ȳ_R)² / W_P, which is ≥ 0, exactly 0 for equal means and shift invariant.
struct RegressionSplittingRule {
  Index num_channels() const { return 2; }
  bool can_split(const double* node) const { return node[1] > 0.0; }
  double split_score(const double*, const double* left, const double* right) const {
    if (!(left[1] > 0.0) || !(right[1] > 0.0)) return detail::kMinusInfinity;
    return left[2] * left[2] / left[1] + right[2] * right[2] / right[1];
  }
  double split_gain(const double* parent, const double* left, const double* right) const {
    if (!(left[1] > 0.0) || !(right[1] > 0.0)) return detail::kMinusInfinity;
    const double diff = left[2] / left[1] - right[2] / right[1];
    return left[1] * right[1] / parent[1] * diff * diff;
  }
};

/// Class impurity for s = [n, W, S_0, ..., S_{K−1}] (S_k = Σ w·1{y = k}).
/// Gini (grf's probability forest, CART): score = Σ_children Σ_k S_k²/W, gain = score − Σ_k
/// S_{P,k}²/W_P (the decrease of W·Gini). Entropy: score = Σ_children Σ_k S_k log(S_k/W), gain =
/// score − Σ_k S_{P,k} log(S_{P,k}/W_P) (the decrease of W·H, information gain).
struct ClassSplittingRule {
  enum class Criterion : std::uint8_t { gini, entropy };
  Index num_classes = 2;
  Criterion criterion = Criterion::gini;

  Index num_channels() const { return 1 + num_classes; }

  /// A node splits only if it holds weight in at least two classes.
  bool can_split(const double* node) const {
    Index present = 0;
    for (Index k = 0; k < num_classes; ++k) present += node[2 + k] > 0.0 ? 1 : 0;
    return present >= 2;
  }
  double split_score(const double*, const double* left, const double* right) const {
    if (!(left[1] > 0.0) || !(right[1] > 0.0)) return detail::kMinusInfinity;
    return child_score(left) + child_score(right);
  }
  double split_gain(const double* parent, const double* left, const double* right) const {
    if (!(left[1] > 0.0) || !(right[1] > 0.0)) return detail::kMinusInfinity;
    return child_score(left) + child_score(right) - child_score(parent);
  }

 private:
  double child_score(const double* s) const {
    double score = 0.0;
    const double W = s[1];
    if (criterion == Criterion::gini) {
      for (Index k = 0; k < num_classes; ++k) score += s[2 + k] * s[2 + k];
      return score / W;
    }
    for (Index k = 0; k < num_classes; ++k) {
      const double q = s[2 + k];
      if (q > 0.0) score += q * std::log(q / W);
    }
    return score;
  }
};

static_assert(SplittingRule<RegressionSplittingRule>);
static_assert(SplittingRule<ClassSplittingRule>);
static_assert(Relabeling<RegressionRelabeling>);
static_assert(Relabeling<ClassRelabeling>);

}  // namespace tailor::learn::tree
