// tailor/uplift/uplift_forest.hpp — uplift random forests with divergence split criteria
// (Rzepakowski & Jaroszewicz, "Decision trees for uplift modeling with single and multiple
// treatments", KAIS 32, 2012: KL, Euclidean (ED) and chi-squared) and contextual treatment
// selection (CTS; Zhao, Fang & Simchi-Levi, "Uplift modeling with multiple treatments and
// general response types", SDM 2017), the forests CausalML users know as
// UpliftRandomForestClassifier(evaluationFunction = 'KL' | 'ED' | 'Chi' | 'CTS'). They run on the
// shared histogram tree engine (learn/tree/trainer.hpp): only the relabeling (per-row channels)
// and the splitting rule are specific to uplift.
//
// Channels. With unit weights row i contributes c_i = [T_i, T_i·y_i, (1 − T_i)·y_i], so a node's
// sums s = [n, n_T, S_T, S_C] give n_C = n − n_T and the arm means μ_T = S_T / n_T,
// μ_C = S_C / n_C. With sample weights v_i the channels are [T_i, v_i T_i, v_i T_i y_i,
// v_i (1 − T_i), v_i (1 − T_i) y_i]: unweighted treated count (for min_treated_per_leaf /
// min_control_per_leaf), weighted arm totals W_T, W_C and outcome sums. All are plain sums, so
// the engine's histogram subtraction applies unchanged.
//
// Node value V and split gain. For a node with arm means p = μ_T, q = μ_C (probabilities for a
// binary outcome) and a split into children a ∈ {L, R} holding weight N_a = W_T(a) + W_C(a) of
// the parent's N:
//   KL          V = p log(p/q̃) + (1 − p) log((1 − p)/(1 − q̃))             (0 log 0 = 0)
//   ED          V = Σ_k (P^T_k − P^C_k)² = 2 (p − q)²  (binary: over the classes y = 0, 1;
//               continuous y: the same 2(μ_T − μ_C)², so one formula serves both)
//   ChiSquared  V = Σ_k (P^T_k − P^C_k)² / P^C_k = (p − q)² / (q̃ (1 − q̃))
//   CTS         V = max(μ_T, μ_C)  (the expected outcome of the better arm; Zhao et al. eq. 3)
//   gain        Δ = Σ_a (N_a / N) V(a) − V(parent)                 (R&J eq. 7; Zhao et al. Δμ)
// q̃ = clamp(q, ε, 1 − ε) with ε = 10⁻⁶ keeps KL and χ² finite when a control child is pure
// (CausalML clips the control probability the same way). KL and χ² need y ∈ {0, 1}; ED and CTS
// take any real outcome. A node splits on the best candidate iff Δ > 0 and both children keep
// ≥ min_node_size rows, ≥ min_treated_per_leaf treated and ≥ min_control_per_leaf control rows.
// Optional normalization (normalize = true, not for CTS) divides Δ by R&J's split penalty
// (their eqs. 8 and 9), with π_T = W_T/N, π_C = W_C/N of the parent and a_T = W_T(L)/W_T,
// a_C = W_C(L)/W_C the shares of each arm sent left:
//   KL          I = H(π_T, π_C)·KL(a_T : a_C) + π_T H(a_T) + π_C H(a_C) + 1/2
//   ED, χ²      J = Gini(π_T, π_C)·D(a_T : a_C) + π_T Gini(a_T) + π_C Gini(a_C) + 1/2
// (H the entropy in nats, Gini(a) = 2a(1 − a), D the criterion's own divergence of the two
// Bernoulli split distributions). It penalizes splits that separate the arms or are very
// uneven. CausalML normalizes by default with a variant of I (an α = 0.9 mix and +0.1
// smoothing of counts); here normalization is off by default.
// Shrinkage (CausalML's n_reg, Rzepakowski & Jaroszewicz §4's Laplace-style correction toward
// the parent): when scoring a split, each child's arm means are pulled toward the parent's,
//   μ̃_T(a) = (S_T(a) + n_reg μ_T(P)) / (W_T(a) + n_reg),   μ̃_C(a) likewise,
// so a child's divergence counts only as far as its arm sizes support it; V(P) uses the
// parent's own means (CausalML also shrinks the parent toward the grandparent, which the
// engine's rule, seeing a node and its children only, does not; that term is the same for every
// candidate split of a node and only moves the Δ > 0 stopping point). n_reg = 0 turns it off.
// Leaf predictions use the unshrunk means, as CausalML's do.
//
// Leaves keep [n, channel sums], so prediction never revisits training rows: tree t gives
// μ̂_T,t(x), μ̂_C,t(x) from the leaf of x, and the forest averages over the trees whose leaf holds
// both arms (with honesty, an estimation leaf may lack one; min_treated/control_per_leaf apply
// to splitting rows):
//   τ̂(x) = (1/T_x) Σ_t [μ̂_T,t(x) − μ̂_C,t(x)].
// A row with T_x = 0 gets the training sample's arm means (recorded at fit).
// Complexity: fit O(T · m · depth · (mtry + C)) with m = sample_fraction·n, C = 3 (5 weighted),
// plus O(n·p log B) binning; predict O(n · T · depth); memory n·p bytes of bins, C·n doubles of
// channels, per worker thread ~ 5n + (8C + 8)·m bytes of engine buffers, 16 bytes per node
// (n = 10⁶, p = 20: peak RSS 278 MB = 1.74× the 160 MB input at 2 threads;
// benchmarks/uplift_benchmark).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <limits>
#include <ostream>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/binning.hpp"
#include "tailor/learn/tree/forest.hpp"
#include "tailor/learn/tree/forest_params.hpp"
#include "tailor/learn/tree/splitting_rule.hpp"
#include "tailor/learn/tree/trainer.hpp"

namespace tailor::uplift {

/// Split criterion of an uplift tree (see the header comment for the formulas).
enum class UpliftCriterion : std::uint8_t {
  KL = 0,          ///< Kullback–Leibler divergence; binary y
  ED = 1,          ///< squared Euclidean distance; binary or continuous y
  ChiSquared = 2,  ///< chi-squared divergence; binary y
  CTS = 3,         ///< contextual treatment selection (best arm's mean); binary or continuous y
};

/// "KL", "ED", "ChiSquared" or "CTS".
inline std::string_view to_string(UpliftCriterion criterion) {
  switch (criterion) {
    case UpliftCriterion::KL:
      return "KL";
    case UpliftCriterion::ED:
      return "ED";
    case UpliftCriterion::ChiSquared:
      return "ChiSquared";
    case UpliftCriterion::CTS:
      return "CTS";
  }
  return "unknown";
}

/// Options of UpliftForest. Defaults follow CausalML's UpliftRandomForestClassifier where it
/// has one (min_samples_leaf = 100, min_samples_treatment = 10, max_depth = 10,
/// max_features = 10, honesty off), and subsample half of the rows per tree as grf does.
struct UpliftForestParams {
  /// The shared tree settings, with CausalML's uplift-forest defaults for unset fields
  /// (UpliftForest::kDefaults): 100 trees, mtry min(10, p), min_node_size 100 splitting rows in
  /// each child, max_depth 10, no honesty (set honesty = true for Wager & Athey's honest trees:
  /// splits from a honesty_fraction part of each tree's sample, leaf means from the rest), 256
  /// bins. The uplift forest keeps no out-of-bag predictions (compute_oob is ignored).
  learn::ForestParams forest = {};
  UpliftCriterion criterion = UpliftCriterion::KL;
  /// Divide the gain by R&J's split penalty I(A) (KL) / J(A) (ED, χ²); ignored for CTS.
  bool normalize = false;
  Index min_treated_per_leaf = 10;  ///< minimum treated splitting rows in each child
  Index min_control_per_leaf = 10;  ///< minimum control splitting rows in each child
  /// Shrinks children's arm means toward the parent's when scoring splits, with the weight of
  /// n_reg rows (CausalML's n_reg; its forest default 10); 0 = off. Must be finite and ≥ 0.
  double n_reg = 10.0;
};

namespace detail {

/// Arm totals of a node read from its statistics [n, channel sums].
struct ArmSums {
  double count_treated = 0.0;  ///< rows (unweighted)
  double count_control = 0.0;
  double weight_treated = 0.0;  ///< W_T = Σ v T
  double weight_control = 0.0;
  double sum_treated = 0.0;  ///< S_T = Σ v T y
  double sum_control = 0.0;
};

/// Per-row channels; see the header comment.
struct UpliftRelabeling {
  VectorRef w;
  VectorRef y;
  VectorRef weights;  ///< length 0 = unit weights (3 channels), else 5 channels
  Index num_channels() const { return weights.size() == 0 ? 3 : 5; }
  Index num_rows() const { return y.size(); }
  void channels(Index i, double* out) const {
    const double t = w[i];
    if (weights.size() == 0) {
      out[0] = t;
      out[1] = t * y[i];
      out[2] = (1.0 - t) * y[i];
      return;
    }
    const double v = weights[i];
    out[0] = t;
    out[1] = v * t;
    out[2] = v * t * y[i];
    out[3] = v * (1.0 - t);
    out[4] = v * (1.0 - t) * y[i];
  }
};

inline constexpr double kProbabilityClip = 1e-6;

inline ArmSums arm_sums(const double* s, bool weighted) {
  ArmSums a;
  a.count_treated = s[1];
  a.count_control = s[0] - s[1];
  if (!weighted) {
    a.weight_treated = a.count_treated;
    a.weight_control = a.count_control;
    a.sum_treated = s[2];
    a.sum_control = s[3];
  } else {
    a.weight_treated = s[2];
    a.sum_treated = s[3];
    a.weight_control = s[4];
    a.sum_control = s[5];
  }
  return a;
}

/// The uplift forest's prediction strategy (learn/tree/prediction_strategy.hpp): per row, the
/// mean over the trees whose leaf holds both arms of the leaf's treated and control means;
/// output [μ̂_C(x), μ̂_T(x)], or the training arm means when no tree qualifies.
struct ArmMeans {
  static constexpr Index kBlockRows = 2048;
  static constexpr bool kKeepsLeaves = false;
  bool weighted = false;
  double fallback_treated = 0.0;
  double fallback_control = 0.0;

  Index accumulator_width() const { return 2; }  ///< [Σ treated means, Σ control means]
  Index output_width() const { return 2; }
  bool accumulate(const double* leaf, double* acc) const {
    const ArmSums a = arm_sums(leaf, weighted);
    if (!(a.weight_treated > 0.0) || !(a.weight_control > 0.0)) return false;
    acc[0] += a.sum_treated / a.weight_treated;
    acc[1] += a.sum_control / a.weight_control;
    return true;
  }
  template <class LeafOfRow>
  void finish(const double* acc, Index used, const LeafOfRow&, double* out) const {
    if (used == 0) {
      out[0] = fallback_control;
      out[1] = fallback_treated;
      return;
    }
    const double inv = 1.0 / static_cast<double>(used);
    out[0] = acc[1] * inv;
    out[1] = acc[0] * inv;
  }
};

/// x log(x / y) with 0 log 0 = 0.
inline double x_log_ratio(double x, double y) {
  return x > 0.0 ? x * std::log(x / y) : 0.0;
}

/// KL(Bernoulli(p) : Bernoulli(q)) with q clipped to [ε, 1 − ε].
inline double bernoulli_kl(double p, double q) {
  const double qc = std::clamp(q, kProbabilityClip, 1.0 - kProbabilityClip);
  return x_log_ratio(p, qc) + x_log_ratio(1.0 - p, 1.0 - qc);
}

/// χ²(Bernoulli(p) : Bernoulli(q)) = (p − q)² / (q (1 − q)), q clipped to [ε, 1 − ε].
inline double bernoulli_chi_squared(double p, double q) {
  const double qc = std::clamp(q, kProbabilityClip, 1.0 - kProbabilityClip);
  return (p - q) * (p - q) / (qc * (1.0 - qc));
}

/// Binary entropy in nats.
inline double bernoulli_entropy(double a) {
  double h = 0.0;
  if (a > 0.0) h -= a * std::log(a);
  if (a < 1.0) h -= (1.0 - a) * std::log(1.0 - a);
  return h;
}

/// The uplift splitting rule (SplittingRule concept of learn/tree/splitting_rule.hpp).
struct UpliftSplittingRule {
  UpliftCriterion criterion = UpliftCriterion::KL;
  bool weighted = false;  ///< statistics with 5 channels (sample weights) instead of 3
  bool normalize = false;
  double min_treated = 1.0;  ///< per child, splitting rows
  double min_control = 1.0;
  double n_reg = 0.0;  ///< shrinkage of the children's arm means toward the parent's (rows)

  Index num_channels() const { return weighted ? 5 : 3; }

  /// V(node) of the header comment for arm means p (treated) and q (control).
  static double node_value(UpliftCriterion criterion, double p, double q) {
    switch (criterion) {
      case UpliftCriterion::KL:
        return bernoulli_kl(p, q);
      case UpliftCriterion::ED:
        return 2.0 * (p - q) * (p - q);
      case UpliftCriterion::ChiSquared:
        return bernoulli_chi_squared(p, q);
      case UpliftCriterion::CTS:
        return std::max(p, q);
    }
    return 0.0;
  }

  /// A node may split only if it can give both children enough rows of each arm.
  bool can_split(const double* s) const {
    const ArmSums a = arm_sums(s, weighted);
    return a.count_treated >= 2.0 * min_treated && a.count_control >= 2.0 * min_control &&
           a.weight_treated > 0.0 && a.weight_control > 0.0;
  }

  double split_score(const double* parent, const double* left, const double* right) const {
    return split_gain(parent, left, right);
  }

  /// Δ (normalized when asked), or −inf when a child lacks treated/control rows.
  double split_gain(const double* parent, const double* left, const double* right) const {
    const ArmSums P = arm_sums(parent, weighted);
    const ArmSums L = arm_sums(left, weighted);
    const ArmSums R = arm_sums(right, weighted);
    if (L.count_treated < min_treated || L.count_control < min_control ||
        R.count_treated < min_treated || R.count_control < min_control ||
        !(L.weight_treated > 0.0) || !(L.weight_control > 0.0) || !(R.weight_treated > 0.0) ||
        !(R.weight_control > 0.0)) {
      return learn::tree::detail::kMinusInfinity;
    }
    const double n_left = L.weight_treated + L.weight_control;
    const double n_right = R.weight_treated + R.weight_control;
    const double n_parent = n_left + n_right;
    const double p_parent = P.sum_treated / P.weight_treated;
    const double q_parent = P.sum_control / P.weight_control;
    const double gain = (n_left * shrunk_value(L, p_parent, q_parent) +
                         n_right * shrunk_value(R, p_parent, q_parent)) /
                            n_parent -
                        node_value(criterion, p_parent, q_parent);
    if (!normalize || criterion == UpliftCriterion::CTS) return gain;
    return gain / split_penalty(P, L);
  }

  /// R&J's I(A) (KL) or J(A) (ED, χ²) for the split sending L of the parent P left.
  double split_penalty(const ArmSums& P, const ArmSums& L) const {
    const double total = P.weight_treated + P.weight_control;
    const double pi_t = P.weight_treated / total;
    const double pi_c = P.weight_control / total;
    const double a_t = L.weight_treated / P.weight_treated;
    const double a_c = L.weight_control / P.weight_control;
    if (criterion == UpliftCriterion::KL) {
      return bernoulli_entropy(pi_t) * bernoulli_kl(a_t, a_c) + pi_t * bernoulli_entropy(a_t) +
             pi_c * bernoulli_entropy(a_c) + 0.5;
    }
    auto gini = [](double a) { return 2.0 * a * (1.0 - a); };
    return gini(pi_t) * node_value(criterion, a_t, a_c) + pi_t * gini(a_t) + pi_c * gini(a_c) + 0.5;
  }

 private:
  /// V of a child with its arm means shrunk toward the parent's (p, q) by n_reg rows.
  double shrunk_value(const ArmSums& a, double p, double q) const {
    return node_value(criterion, (a.sum_treated + n_reg * p) / (a.weight_treated + n_reg),
                      (a.sum_control + n_reg * q) / (a.weight_control + n_reg));
  }
};

static_assert(learn::tree::SplittingRule<UpliftSplittingRule>);
static_assert(learn::tree::Relabeling<UpliftRelabeling>);

}  // namespace detail

/// A fitted uplift forest (immutable; predict is const and thread-safe).
class UpliftForestModel {
 public:
  /// Assembled by UpliftForest::fit and load; not meant to be called directly.
  UpliftForestModel(learn::tree::Forest forest, UpliftCriterion criterion, bool weighted,
                    double fallback_treated, double fallback_control, Index num_threads)
      : forest_(std::move(forest)),
        criterion_(criterion),
        weighted_(weighted),
        fallback_treated_(fallback_treated),
        fallback_control_(fallback_control),
        num_threads_(num_threads) {}

  /// τ̂(x) = μ̂_T(x) − μ̂_C(x) for every row of X (tree-averaged; see the header comment).
  Vector predict(const MatrixRef& X) const {
    const Matrix arms = predict_arms(X, "UpliftForestModel::predict");
    return arms.col(1) - arms.col(0);
  }

  /// n × 2: column 0 the control mean μ̂_C(x), column 1 the treated mean μ̂_T(x) (response
  /// probabilities for a binary outcome), averaged over the trees whose leaf holds both arms.
  Matrix predict_arms(const MatrixRef& X,
                      std::string_view context = "UpliftForestModel::predict_arms") const {
    return forest_.predict(X,
                           detail::ArmMeans{.weighted = weighted_,
                                            .fallback_treated = fallback_treated_,
                                            .fallback_control = fallback_control_},
                           num_threads_, context);
  }

  /// grf-style split-frequency importance (depths 1..max_depth weighted by d^−decay).
  Vector variable_importance(double decay_exponent = 2.0, Index max_depth = 4) const {
    return forest_.variable_importance(decay_exponent, max_depth);
  }

  const learn::tree::Forest& forest() const { return forest_; }
  Index num_trees() const { return forest_.num_trees(); }
  Index num_features() const { return forest_.num_features(); }
  UpliftCriterion criterion() const { return criterion_; }
  /// The training sample's (weighted) arm means, used where no tree has both arms.
  double fallback_treated_mean() const { return fallback_treated_; }
  double fallback_control_mean() const { return fallback_control_; }

  /// Versioned binary save (header "uplift::UpliftForest" v1; core/serialization.hpp).
  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, kVersion);
    forest_.save(out);
    out.write(static_cast<std::int64_t>(criterion_));
    out.write(weighted_);
    out.write(fallback_treated_);
    out.write(fallback_control_);
  }

  /// Loads what save wrote; corrupt or foreign data throws FormatError. Predictions use all
  /// cores (num_threads = 0); they are identical for any thread count.
  static UpliftForestModel load(BinaryReader& in) {
    in.read_header(kTypeTag, kVersion);
    learn::tree::Forest forest = learn::tree::Forest::load(in);
    const std::string& where = in.context();
    const auto criterion = in.read<std::int64_t>("criterion");
    if (criterion < 0 || criterion > static_cast<std::int64_t>(UpliftCriterion::CTS)) {
      raise<FormatError>("{}: criterion = {}, expected 0..3", where, criterion);
    }
    const bool weighted = in.read<bool>("weighted");
    const Index channels = weighted ? 5 : 3;
    if (forest.num_channels() != channels) {
      raise<FormatError>("{}: uplift forest has {} channels, expected {}", where,
                         forest.num_channels(), channels);
    }
    const auto treated = in.read<double>("fallback_treated");
    const auto control = in.read<double>("fallback_control");
    if (!std::isfinite(treated) || !std::isfinite(control)) {
      raise<FormatError>("{}: fallback arm means are not finite", where);
    }
    return UpliftForestModel(std::move(forest), static_cast<UpliftCriterion>(criterion), weighted,
                             treated, control, 0);
  }

 private:
  static constexpr std::string_view kTypeTag = "uplift::UpliftForest";
  static constexpr std::uint32_t kVersion = 1;

  learn::tree::Forest forest_;
  UpliftCriterion criterion_ = UpliftCriterion::KL;
  bool weighted_ = false;
  double fallback_treated_ = 0.0;
  double fallback_control_ = 0.0;
  Index num_threads_ = 0;
};

/// The uplift random forest estimator.
class UpliftForest {
 public:
  using Params = UpliftForestParams;
  using Model = UpliftForestModel;
  using Criterion = UpliftCriterion;

  static constexpr learn::ForestDefaults kDefaults{.num_trees = 100,
                                                   .min_node_size = 100,
                                                   .max_depth = 10,
                                                   .honesty = false,
                                                   .mtry = learn::DefaultMtry::causalml};

  /// Validates the options (InvalidArgument).
  explicit UpliftForest(Params params = {})
      : params_(std::move(params)),
        forest_(
            learn::resolve_forest_params(params_.forest, kDefaults, "UpliftForest", "forest.")) {
    constexpr const char* kContext = "UpliftForest";
    const Params& p = params_;
    check_param(static_cast<int>(p.criterion) <= static_cast<int>(UpliftCriterion::CTS), kContext,
                "criterion", static_cast<int>(p.criterion), "KL, ED, ChiSquared or CTS");
    check_param(p.min_treated_per_leaf >= 1, kContext, "min_treated_per_leaf",
                p.min_treated_per_leaf, "at least 1");
    check_param(p.min_control_per_leaf >= 1, kContext, "min_control_per_leaf",
                p.min_control_per_leaf, "at least 1");
    check_param(std::isfinite(p.n_reg) && p.n_reg >= 0.0, kContext, "n_reg", p.n_reg,
                "a finite value >= 0");
  }

  /// Fits on randomized (or unconfounded) data. Throws DataError when the criterion needs a
  /// binary outcome (KL, ChiSquared) and some y is not 0 or 1; InvalidArgument when mtry
  /// exceeds the features. CausalData has already checked shapes, finiteness and both arms.
  Model fit(const CausalData& data) const {
    constexpr const char* kContext = "UpliftForest";
    const Params& p = params_;
    const Index n = data.num_rows();
    const Index num_features = data.num_features();
    const VectorRef& y = data.y();
    const VectorRef& w = data.w();
    if (p.criterion == UpliftCriterion::KL || p.criterion == UpliftCriterion::ChiSquared) {
      for (Index i = 0; i < n; ++i) {
        if (y[i] != 0.0 && y[i] != 1.0) {
          raise<DataError>(
              "{}: y[{}] = {}, expected 0 or 1 (criterion {} needs a binary outcome; ED and "
              "CTS take continuous ones)",
              kContext, i, y[i], to_string(p.criterion));
        }
      }
    }
    learn::tree::TrainerOptions options = forest_.trainer_options(num_features, kContext);
    options.compute_oob = false;
    const Vector& weights = data.sample_weights();
    const bool weighted = weights.size() != 0;

    // Training arm means: the prediction where no tree has both arms in the leaf.
    double weight_treated = 0.0, weight_control = 0.0, sum_treated = 0.0, sum_control = 0.0;
    for (Index i = 0; i < n; ++i) {
      const double v = weighted ? weights[i] : 1.0;
      if (w[i] == 1.0) {
        weight_treated += v;
        sum_treated += v * y[i];
      } else {
        weight_control += v;
        sum_control += v * y[i];
      }
    }

    const learn::BinnedMatrix binned = learn::BinMapper::fit(data.X(), forest_.binning(n))
                                           .transform(data.X(), forest_.num_threads);
    const detail::UpliftSplittingRule rule{
        .criterion = p.criterion,
        .weighted = weighted,
        .normalize = p.normalize,
        .min_treated = static_cast<double>(p.min_treated_per_leaf),
        .min_control = static_cast<double>(p.min_control_per_leaf),
        .n_reg = p.n_reg};
    learn::tree::TrainedForest trained = learn::tree::train_forest(
        binned, detail::UpliftRelabeling{w, y, weights}, rule, weights, options);
    return Model(std::move(trained.forest), p.criterion, weighted, sum_treated / weight_treated,
                 sum_control / weight_control, forest_.num_threads);
  }

  const Params& params() const { return params_; }
  /// The tree settings with the uplift forest's defaults applied.
  const learn::ResolvedForestParams& forest_params() const { return forest_; }

 private:
  Params params_;
  learn::ResolvedForestParams forest_;
};

}  // namespace tailor::uplift
