// tailor/cate/causal_forest.hpp — causal forests (Wager & Athey, JASA 2018) as generalized
// random forests (Athey, Tibshirani & Wager, "Generalized random forests", Ann. Statist. 2019),
// following grf's causal_forest on tailor's histogram tree engine.
//
// 1. Orthogonalization (GRF §6.2): out-of-bag Ŷ(x) = E[Y | X = x] and Ŵ(x) = E[W | X = x] from
//    two honest regression forests of max(50, num_trees/4) trees (grf's defaults), or supplied
//    vectors; known propensities of the data are used as Ŵ. The forest is grown on the centered
//    Zᵢ = Wᵢ − Ŵᵢ and Ỹᵢ = Yᵢ − Ŷᵢ.
// 2. Splits maximize grf's gradient criterion on the pseudo-outcomes ρᵢ, with at least
//    min_node_size rows on each side of the parent's mean Z per child, alpha and the imbalance
//    penalty
//    (detail/causal_splitting.hpp); honesty, sample_fraction, mtry as in grf.
// 3. Prediction by forest weights αᵢ(x) = (1/T) Σ_t 1{i ∈ L_t(x)}/|L_t(x)| (GRF eq. (3)),
//    computed from leaf sufficient statistics, not row lists: each leaf keeps
//    [n, Σw, ΣwZ, ΣwỸ, ΣwZỸ, ΣwZ²] of its estimation rows, so the α-weighted moments are tree
//    averages of leaf means (a_W, a_Z, a_Y, a_ZY, a_ZZ), and the local moment equation gives
//        τ̂(x) = (a_ZY a_W − a_Y a_Z) / (a_ZZ a_W − a_Z²),   μ̂(x) = (a_Y − a_Z τ̂)/a_W.
// 4. Variance by the bootstrap of little bags (GRF §4, grf's ci.group.size = 2): trees come in
//    groups of ℓ that share one half-sample. With the per-tree influence values
//        ρ_b = (a_W ψ_b,1 − a_Z ψ_b,2) / (a_ZZ a_W − a_Z²),
//        ψ_b,1 = v_ZY − v_ZZ τ̂ − v_Z μ̂,  ψ_b,2 = v_Y − v_Z τ̂ − v_W μ̂  (v = tree b's leaf means),
//    the between-group variance of the group means V_B and the total variance V_T give the
//    within-group noise (V_T − V_B)/(ℓ − 1), and σ̂² = V_B − noise, made non-negative by grf's
//    objective-Bayes correction (a uniform prior on [0, ∞) for the true variance with a normal
//    likelihood of standard error max(V_B, noise)·√(2/G), i.e. the posterior mean
//    m + s·φ(m/s)/Φ(m/s) with m = V_B − noise). Intervals are τ̂ ± z_{1−α/2} σ̂.
// 5. Out-of-bag τ̂ for the training rows (trees whose sample left the row out), AIPW average
//    effects with grf's doubly-robust scores μ̂_w(x) = Ŷ(x) + (w − Ŵ(x)) τ̂_oob(x)
//    (cate/average_effect.hpp), overlap diagnostics of Ŵ (cate/overlap.hpp), split-frequency
//    importance, grf's best_linear_projection and test_calibration (HC3 least squares),
//    versioned save/load.
// Every tree uses random stream (seed, tree), every prediction row sums its trees in tree order,
// so results are bit-identical for any num_threads.
// Complexity: fit O(T · m · depth · (mtry + C)) with m = sample_fraction·n (plus the two nuisance
// forests); prediction O(n · T · depth); memory 16 bytes per node + 56 bytes per leaf.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <istream>
#include <limits>
#include <numbers>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Cholesky>

#include "tailor/cate/average_effect.hpp"
#include "tailor/cate/detail/causal_splitting.hpp"
#include "tailor/cate/effect_summary.hpp"
#include "tailor/cate/overlap.hpp"
#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/binning.hpp"
#include "tailor/learn/regression_forest.hpp"
#include "tailor/learn/tree/forest.hpp"
#include "tailor/learn/tree/forest_params.hpp"
#include "tailor/learn/tree/trainer.hpp"

namespace tailor::cate {

/// Settings of CausalForest (grf's causal_forest defaults). The tree settings are the shared
/// learn::ForestParams, with the causal forest's defaults for unset fields (kDefaults): 2000
/// trees (a multiple of ci_group_size), grf's Poisson(mtry) features per split, honesty,
/// min_node_size 5 (with stabilize_splits also the minimum number of rows with Z = W − Ŵ below,
/// and at or above, the parent's mean Z per child: grf's rule), sample_fraction 0.5 (at most 0.5
/// when ci_group_size ≥ 2: each tree subsamples its group's half-sample), and max_bins by n:
/// ⌊n/100⌋ rounded up to a power of two in [256, 1024] (grf splits at every distinct value; at
/// n = 10⁵ 256 bins left √PEHE ~1% above grf's where 1024 matched it). forest.bootstrap must stay
/// false and forest.compute_oob true (the little bags and the out-of-bag τ̂ need them).
struct CausalForestParams {
  learn::ForestParams forest = {};
  /// Trees per half-sample for the little-bags variance (grf: 2); 1 = no variance estimates.
  Index ci_group_size = 2;
  /// Each child's treatment variation Σw(Z − Z̄)² must be ≥ alpha × the parent's, in [0, 0.25).
  double alpha = 0.05;
  double imbalance_penalty = 0.0;  ///< λ ≥ 0: splits pay λ(1/size_L + 1/size_R)
  bool stabilize_splits = true;    ///< balance children in Z (grf's default)
  /// Trees of each nuisance regression forest (Ŷ, Ŵ); 0 = grf's max(50, num_trees/4).
  Index nuisance_num_trees = 0;
  double propensity_clip = 0.01;  ///< Ŵ clipped into [clip, 1 − clip] for AIPW weights
  double overlap_epsilon = 0.05;  ///< band of OverlapDiagnostics::share_outside
};

/// Optional user-supplied nuisance estimates for the training rows (length 0 = estimate).
struct CausalForestNuisances {
  Vector outcome = Vector();     ///< Ŷ(xᵢ) = E[Y | X = xᵢ], preferably out-of-fold
  Vector propensity = Vector();  ///< Ŵ(xᵢ) = P(W = 1 | X = xᵢ) ∈ [0, 1]
};

/// Point estimates, standard errors and a normal-theory interval per row.
struct EffectIntervals {
  Vector estimate;
  Vector std_error;
  Vector lower;
  Vector upper;
};

namespace detail {

/// grf's objective-Bayes debiasing of the little-bags variance (see the header comment).
inline double debias_variance(double var_between, double group_noise, double num_groups) {
  const double initial = var_between - group_noise;
  const double se = std::max(var_between, group_noise) * std::sqrt(2.0 / num_groups);
  if (!(se > 1e-10)) return std::max(initial, 0.0);
  const double ratio = initial / se;
  const double density = std::exp(-0.5 * ratio * ratio) / std::sqrt(2.0 * std::numbers::pi);
  const double mass = 0.5 * std::erfc(-ratio / std::numbers::sqrt2);
  return initial + se * density / mass;
}

/// τ̂ and μ̂ from forest-averaged leaf means a = [a_W, a_Z, a_Y, a_ZY, a_ZZ].
struct LocalSolution {
  double tau;
  double main_effect;
  double jacobian;  ///< a_ZZ a_W − a_Z²
};
inline LocalSolution solve_local_moments(const double* a) {
  const double jacobian = a[4] * a[0] - a[1] * a[1];
  const double tau = (a[3] * a[0] - a[2] * a[1]) / jacobian;
  return {tau, (a[2] - a[1] * tau) / a[0], jacobian};
}

/// Weighted least squares of y on the columns of A (no intercept added) with HC3 standard errors
/// (MacKinnon & White 1985): β = (AᵀVA)⁻¹AᵀVy, Var(β) = (AᵀVA)⁻¹ [Σ vᵢ² aᵢaᵢᵀ eᵢ²/(1 − hᵢ)²]
/// (AᵀVA)⁻¹ with leverages hᵢ = vᵢ aᵢᵀ(AᵀVA)⁻¹aᵢ; weights of length 0 mean 1.
inline std::vector<Estimate> least_squares_hc3(const MatrixRef& A, const VectorRef& y,
                                               const VectorRef& weights, std::string_view context) {
  const Index n = A.rows();
  const Index k = A.cols();
  const Vector v = weights.size() == 0 ? Vector::Ones(n) : Vector(weights);
  const Matrix gram = A.transpose() * v.asDiagonal() * A;
  const Eigen::LDLT<Matrix> solver(gram);
  if (solver.info() != Eigen::Success || !(solver.vectorD().array() > 1e-12 * gram.trace()).all()) {
    raise<DataError>("{}: the regressors are collinear (or constant), expected a full-rank design",
                     context);
  }
  const Vector beta = solver.solve(A.transpose() * v.asDiagonal() * y);
  const Vector residual = y - A * beta;
  const Matrix inverse = solver.solve(Matrix::Identity(k, k));
  Matrix meat = Matrix::Zero(k, k);
  for (Index i = 0; i < n; ++i) {
    if (v[i] == 0.0) continue;
    const Vector a = A.row(i).transpose();
    const double leverage = std::min(v[i] * a.dot(inverse * a), 1.0 - 1e-12);
    const double u = v[i] * residual[i] / (1.0 - leverage);
    meat.noalias() += (u * u) * a * a.transpose();
  }
  const Matrix covariance = inverse * meat * inverse;
  std::vector<Estimate> out(static_cast<std::size_t>(k));
  for (Index j = 0; j < k; ++j) {
    out[static_cast<std::size_t>(j)] = {beta[j], std::sqrt(std::max(covariance(j, j), 0.0))};
  }
  return out;
}

}  // namespace detail

namespace detail {

/// The causal forest's prediction strategy (learn/tree/prediction_strategy.hpp): accumulate the
/// leaf means a = [a_W, a_Z, a_Y, a_ZY, a_ZZ] over the trees, solve the local moment equation
/// for τ̂(x) and, with kVariance, run the little-bags variance (step 4 of the header comment) as
/// a second pass over the row's leaves. Output [τ̂, σ̂²] (σ̂² only with kVariance); NaN when no
/// tree (or no complete group) has the row.
template <bool kVariance>
struct LocalMoments {
  static constexpr Index kBlockRows = 64;  ///< the T × rows leaf indices stay in cache
  static constexpr bool kKeepsLeaves = kVariance;
  Index ci_group_size = 1;
  Index num_trees = 0;

  Index accumulator_width() const { return 5; }
  Index output_width() const { return kVariance ? 2 : 1; }
  bool accumulate(const double* s, double* a) const {
    const double inv = 1.0 / s[kCount];
    for (Index q = 0; q < 5; ++q) a[q] += s[1 + q] * inv;
    return true;
  }
  template <class LeafOfRow>
  void finish(const double* sums, Index used, const LeafOfRow& leaf_of, double* out) const {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    if (used == 0) {
      out[0] = kNaN;
      if constexpr (kVariance) out[1] = kNaN;
      return;
    }
    double a[5];
    for (Index q = 0; q < 5; ++q) a[q] = sums[q] / static_cast<double>(used);
    const LocalSolution sol = solve_local_moments(a);
    out[0] = sol.tau;
    if constexpr (kVariance) {
      // Bootstrap of little bags over the groups whose trees are all non-empty.
      const Index ell = ci_group_size;
      double good = 0.0, rho_squared = 0.0, group_squared = 0.0;
      for (Index g = 0; g < num_trees / ell; ++g) {
        bool complete = true;
        for (Index j = 0; j < ell; ++j) complete = complete && leaf_of(g * ell + j) != nullptr;
        if (!complete) continue;
        good += 1.0;
        double group_rho = 0.0;
        for (Index j = 0; j < ell; ++j) {
          const double* s = leaf_of(g * ell + j);  // a load from the row's kept leaves
          const double inv = 1.0 / s[kCount];
          const double vw = s[kWeight] * inv, vz = s[kZ] * inv, vy = s[kY] * inv;
          const double vzy = s[kZY] * inv, vzz = s[kZZ] * inv;
          const double psi1 = vzy - vzz * sol.tau - vz * sol.main_effect;
          const double psi2 = vy - vz * sol.tau - vw * sol.main_effect;
          const double rho = (a[0] * psi1 - a[1] * psi2) / sol.jacobian;
          rho_squared += rho * rho;
          group_rho += rho;
        }
        group_rho /= static_cast<double>(ell);
        group_squared += group_rho * group_rho;
      }
      if (good == 0.0) {
        out[1] = kNaN;
        return;
      }
      const double var_between = group_squared / good;
      const double var_total = rho_squared / (good * static_cast<double>(ell));
      const double group_noise = (var_total - var_between) / static_cast<double>(ell - 1);
      out[1] = debias_variance(var_between, group_noise, good);
    }
  }
};

}  // namespace detail

/// A fitted causal forest (immutable; prediction is const and thread-safe).
/// The training summary (nuisances, overlap diagnostics, AIPW average effects, doubly-robust
/// scores) comes from EffectSummary (cate/effect_summary.hpp), as for the meta-learners; its
/// nuisances are grf's μ̂_w(x) = Ŷ(x) + (w − Ŵ(x)) τ̂_oob(x) and the clipped Ŵ.
class CausalForestModel : public EffectSummary {
 public:
  /// Assembled by CausalForest::fit and load; not meant to be called directly.
  CausalForestModel(learn::tree::Forest forest, Index ci_group_size, Vector y, Vector w,
                    Vector sample_weights, Vector outcome_estimates, Vector treatment_estimates,
                    Vector oob_predictions, double propensity_clip, OverlapDiagnostics diagnostics,
                    Index num_threads)
      : EffectSummary(
            std::move(y), std::move(w), std::move(sample_weights),
            grf_nuisances(outcome_estimates, treatment_estimates, oob_predictions, propensity_clip),
            std::move(diagnostics)),
        forest_(std::move(forest)),
        ci_group_size_(ci_group_size),
        outcome_estimates_(std::move(outcome_estimates)),
        treatment_estimates_(std::move(treatment_estimates)),
        oob_predictions_(std::move(oob_predictions)),
        propensity_clip_(propensity_clip),
        num_threads_(num_threads) {}

  /// τ̂(x) for every row of X.
  Vector predict(const MatrixRef& X) const {
    Vector tau;
    predict_rows(X, &tau, nullptr, "CausalForestModel::predict");
    return tau;
  }

  /// Little-bags variance estimates σ̂²(x) (requires ci_group_size ≥ 2).
  Vector predict_variance(const MatrixRef& X) const {
    Vector tau, variance;
    predict_rows(X, &tau, &variance, "CausalForestModel::predict_variance");
    return variance;
  }

  /// τ̂(x), σ̂(x) and the interval τ̂ ± z σ̂ of coverage `level` (requires ci_group_size ≥ 2).
  EffectIntervals predict_interval(const MatrixRef& X, double level = 0.95) const {
    check_param(level > 0.0 && level < 1.0, "CausalForestModel::predict_interval", "level", level,
                "a value in (0, 1)");
    EffectIntervals out;
    Vector variance;
    predict_rows(X, &out.estimate, &variance, "CausalForestModel::predict_interval");
    const double z = tailor::detail::normal_critical_value(level);
    out.std_error = variance.array().sqrt().matrix();
    out.lower = out.estimate - z * out.std_error;
    out.upper = out.estimate + z * out.std_error;
    return out;
  }

  /// Out-of-bag τ̂ for the training rows (a row that every tree sampled, possible only with very
  /// few trees, gets the full forest's τ̂).
  const Vector& oob_predictions() const { return oob_predictions_; }
  /// Ŷ(xᵢ) and Ŵ(xᵢ) used to center the training rows (out-of-bag or supplied/known).
  const Vector& outcome_estimates() const { return outcome_estimates_; }
  const Vector& treatment_estimates() const { return treatment_estimates_; }

  /// grf-style split-frequency importance (depths 1..max_depth weighted by d^−decay).
  Vector variable_importance(double decay_exponent = 2.0, Index max_depth = 4) const {
    return forest_.variable_importance(decay_exponent, max_depth);
  }

  // diagnostics(), nuisances(), average_effect(...) and doubly_robust_scores() come from
  // EffectSummary.

  /// grf's best_linear_projection: the doubly-robust scores Γᵢ regressed on [1, A] (weighted
  /// by the sample weights) with HC3 standard errors, i.e. the best linear approximation
  /// β₀ + Aβ of τ(x) (Semenova & Chernozhukov 2021). Returns [intercept, one per column of A].
  /// A: one row per training row (e.g. chosen covariates); empty (n × 0) gives the ATE alone.
  std::vector<Estimate> best_linear_projection(const MatrixRef& A) const {
    constexpr const char* kContext = "CausalForestModel::best_linear_projection";
    check_rows(kContext, "A", A.rows(), training_y().size(), "the training rows");
    check_finite(kContext, "A", A);
    Matrix design(A.rows(), A.cols() + 1);
    design.col(0).setOnes();
    design.rightCols(A.cols()) = A;
    return detail::least_squares_hc3(design, doubly_robust_scores(), training_weights(), kContext);
  }

  /// grf's test_calibration: Y − Ŷ regressed (no intercept, HC3) on the "mean forest prediction"
  /// (W − Ŵ)·τ̄ and the "differential forest prediction" (W − Ŵ)(τ̂_oob − τ̄), τ̄ the (weighted)
  /// mean of τ̂_oob. A mean coefficient of 1 says the average effect is right; a differential
  /// coefficient of 1 that the heterogeneity is, and one significantly > 0 (one-sided: z > 1.645)
  /// that there is heterogeneity at all. Returns [mean, differential].
  std::vector<Estimate> test_calibration() const {
    constexpr const char* kContext = "CausalForestModel::test_calibration";
    const Vector& weights = training_weights();
    const Index n = training_y().size();
    const double mean_tau = weights.size() == 0 ? oob_predictions_.mean()
                                                : weights.dot(oob_predictions_) / weights.sum();
    Matrix design(n, 2);
    const Vector z = training_w() - treatment_estimates_;
    design.col(0) = z * mean_tau;
    design.col(1) = z.cwiseProduct((oob_predictions_.array() - mean_tau).matrix());
    return detail::least_squares_hc3(design, training_y() - outcome_estimates_, weights, kContext);
  }

  const learn::tree::Forest& forest() const { return forest_; }
  Index num_trees() const { return forest_.num_trees(); }
  Index num_features() const { return forest_.num_features(); }
  Index ci_group_size() const { return ci_group_size_; }

  /// Versioned binary save (header "cate::CausalForest" v1; core/serialization.hpp).
  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, kVersion);
    forest_.save(out);
    out.write(static_cast<std::int64_t>(ci_group_size_));
    out.write(propensity_clip_);
    out.write(training_y());
    out.write(training_w());
    out.write(training_weights());
    out.write(outcome_estimates_);
    out.write(treatment_estimates_);
    out.write(oob_predictions_);
    detail::write_overlap(out, diagnostics());
  }

  /// Loads what save wrote; corrupt or foreign data throws FormatError. Predictions use all
  /// cores (num_threads = 0); they are identical for any thread count.
  static CausalForestModel load(BinaryReader& in) {
    in.read_header(kTypeTag, kVersion);
    learn::tree::Forest forest = learn::tree::Forest::load(in);
    const std::string& where = in.context();
    if (forest.num_channels() != detail::kCausalWidth - 1) {
      raise<FormatError>("{}: causal forest has {} channels, expected {}", where,
                         forest.num_channels(), detail::kCausalWidth - 1);
    }
    const auto group = in.read<std::int64_t>("ci_group_size");
    if (group < 1 || forest.num_trees() % group != 0) {
      raise<FormatError>("{}: ci_group_size = {}, expected a divisor (>= 1) of the {} trees", where,
                         group, forest.num_trees());
    }
    const auto clip = in.read<double>("propensity_clip");
    if (!(clip >= 0.0 && clip < 0.5)) {
      raise<FormatError>("{}: propensity_clip = {}, expected a value in [0, 0.5)", where, clip);
    }
    Vector y = in.read<Vector>("y");
    Vector w = in.read<Vector>("w");
    Vector weights = in.read<Vector>("sample_weights");
    Vector outcome = in.read<Vector>("outcome_estimates");
    Vector treatment = in.read<Vector>("treatment_estimates");
    Vector oob = in.read<Vector>("oob_predictions");
    const Index n = y.size();
    if (n < 1 || w.size() != n || (weights.size() != 0 && weights.size() != n) ||
        outcome.size() != n || treatment.size() != n || oob.size() != n) {
      raise<FormatError>("{}: training vectors have inconsistent lengths", where);
    }
    for (Index i = 0; i < n; ++i) {
      if (!(treatment[i] >= 0.0 && treatment[i] <= 1.0) || !(w[i] == 0.0 || w[i] == 1.0)) {
        raise<FormatError>("{}: training row {} is corrupt", where, i);
      }
    }
    OverlapDiagnostics d = detail::read_overlap(in);
    return CausalForestModel(std::move(forest), static_cast<Index>(group), std::move(y),
                             std::move(w), std::move(weights), std::move(outcome),
                             std::move(treatment), std::move(oob), clip, std::move(d), 0);
  }

 private:
  static constexpr std::string_view kTypeTag = "cate::CausalForest";
  static constexpr std::uint32_t kVersion = 1;

  /// grf's doubly-robust nuisances: μ̂_w(x) = Ŷ(x) + (w − Ŵ(x)) τ̂(x) with out-of-bag τ̂, and
  /// the clipped Ŵ.
  static NuisanceEstimates grf_nuisances(const Vector& outcome, const Vector& treatment,
                                         const Vector& oob, double clip) {
    const auto& e = treatment.array();
    const auto& tau = oob.array();
    return {.mu0 = (outcome.array() - e * tau).matrix(),
            .mu1 = (outcome.array() + (1.0 - e) * tau).matrix(),
            .propensity = clip_propensity(treatment, clip)};
  }

  /// τ̂ (and σ̂² when `variance` is given) for the rows of X, through the engine's prediction
  /// strategy (detail::LocalMoments).
  void predict_rows(const MatrixRef& X, Vector* tau, Vector* variance,
                    std::string_view context) const {
    if (variance && ci_group_size_ < 2) {
      raise<InvalidArgument>(
          "{}: the forest was grown with ci_group_size = {}, expected >= 2 for variance "
          "estimates",
          context, ci_group_size_);
    }
    if (variance) {
      const Matrix out =
          forest_.predict(X,
                          detail::LocalMoments<true>{.ci_group_size = ci_group_size_,
                                                     .num_trees = forest_.num_trees()},
                          num_threads_, context);
      *tau = out.col(0);
      *variance = out.col(1);
    } else {
      *tau = forest_
                 .predict(X,
                          detail::LocalMoments<false>{.ci_group_size = ci_group_size_,
                                                      .num_trees = forest_.num_trees()},
                          num_threads_, context)
                 .col(0);
    }
  }

  learn::tree::Forest forest_;
  Index ci_group_size_ = 1;
  Vector outcome_estimates_, treatment_estimates_, oob_predictions_;
  double propensity_clip_ = 0.01;
  Index num_threads_ = 0;
};

/// The causal forest estimator (grf's causal_forest).
class CausalForest {
 public:
  using Params = CausalForestParams;
  using Model = CausalForestModel;

  static constexpr learn::ForestDefaults kDefaults{
      .num_trees = 2000, .max_bins = 0, .poisson_mtry = true};

  explicit CausalForest(Params params = {})
      : params_(std::move(params)),
        forest_(
            learn::resolve_forest_params(params_.forest, kDefaults, "CausalForest", "forest.")) {
    constexpr const char* kContext = "CausalForest";
    const Params& p = params_;
    const learn::ResolvedForestParams& f = forest_;
    check_param(p.ci_group_size >= 1, kContext, "ci_group_size", p.ci_group_size, "at least 1");
    check_param(f.num_trees % p.ci_group_size == 0, kContext, "forest.num_trees", f.num_trees,
                fmt::format("a positive multiple of ci_group_size = {}", p.ci_group_size));
    check_param(!(p.ci_group_size >= 2 && f.sample_fraction > 0.5), kContext,
                "forest.sample_fraction", f.sample_fraction,
                "a value in (0, 0.5] when ci_group_size >= 2");
    check_param(!f.bootstrap, kContext, "forest.bootstrap", f.bootstrap,
                "false (the little bags subsample without replacement)");
    check_param(f.compute_oob, kContext, "forest.compute_oob", f.compute_oob,
                "true (the training rows' effects are out of bag)");
    check_param(p.alpha >= 0.0 && p.alpha < 0.25, kContext, "alpha", p.alpha,
                "a value in [0, 0.25)");
    check_param(p.imbalance_penalty >= 0.0 && std::isfinite(p.imbalance_penalty), kContext,
                "imbalance_penalty", p.imbalance_penalty, "a finite value >= 0");
    check_count(kContext, "nuisance_num_trees", p.nuisance_num_trees, 0, learn::tree::kMaxTrees,
                "0 (default) or 1 to 1000000");
    check_param(p.propensity_clip >= 0.0 && p.propensity_clip < 0.5, kContext, "propensity_clip",
                p.propensity_clip, "a value in [0, 0.5)");
    check_param(p.overlap_epsilon >= 0.0 && p.overlap_epsilon < 0.5, kContext, "overlap_epsilon",
                p.overlap_epsilon, "a value in [0, 0.5)");
  }

  /// Fits on `data`; `supplied` may give Ŷ and/or Ŵ for the training rows (else estimated;
  /// known propensities of `data` are always used as Ŵ).
  Model fit(const CausalData& data, const CausalForestNuisances& supplied = {}) const {
    constexpr const char* kContext = "CausalForest";
    const Params& p = params_;
    const Index n = data.num_rows();
    // CausalData guarantees both arms (at least 2 rows of positive weight each).
    auto check_supplied = [&](std::string_view name, const Vector& values) {
      if (values.size() == 0) return;
      check_rows(kContext, name, values.size(), n, "the rows of X");
      check_finite(kContext, name, values);
    };
    check_supplied("supplied outcome", supplied.outcome);
    check_supplied("supplied propensity", supplied.propensity);
    for (Index i = 0; i < supplied.propensity.size(); ++i) {
      const double e = supplied.propensity[i];
      if (e < 0.0 || e > 1.0) {
        raise<DataError>("{}: supplied propensity[{}] = {}, expected a probability in [0, 1]",
                         kContext, i, e);
      }
    }
    const learn::ResolvedForestParams& f = forest_;
    const Index mtry = f.resolve_mtry(data.num_features(), kContext);
    const Vector& weights = data.sample_weights();
    const Index max_bins = f.resolve_max_bins(n);
    const learn::BinnedMatrix binned =
        learn::BinMapper::fit(data.X(), f.binning(n)).transform(data.X(), f.num_threads);

    // 1. Nuisances: out-of-bag regression forests (grf's args.orthog), supplied, or known.
    const Index nuisance_trees =
        p.nuisance_num_trees > 0 ? p.nuisance_num_trees : std::max<Index>(50, f.num_trees / 4);
    auto nuisance_forest = [&](const VectorRef& target, std::uint64_t stream,
                               std::string_view stage) {
      learn::ForestParams fp{.num_trees = nuisance_trees,
                             .mtry = mtry,
                             .sample_fraction = f.sample_fraction,
                             .min_node_size = 5,
                             .honesty = true,
                             .honesty_fraction = 0.5,
                             .max_bins = max_bins,
                             .compute_oob = true,
                             .poisson_mtry = false,
                             .seed = Rng(f.seed, stream)(),
                             .num_threads = f.num_threads,
                             .progress = nullptr};
      if (f.progress) {
        fp.progress = [callback = f.progress, stage](const Progress& progress) {
          callback(Progress{stage, progress.done, progress.total});
        };
      }
      const auto model = learn::RegressionForest(fp).fit(binned, target, weights);
      Vector estimate = model.oob_predictions();
      // A row that every tree sampled (vanishingly rare) falls back to the full forest.
      for (Index i = 0; i < n; ++i) {
        if (std::isnan(estimate[i])) {
          estimate[i] = model.predict(data.X().row(i))[0];  // a 1 × p matrix
        }
      }
      return estimate;
    };
    Vector outcome = supplied.outcome.size() != 0 ? supplied.outcome
                                                  : nuisance_forest(data.y(), 1, "outcome trees");
    Vector treatment = data.has_propensity() ? Vector(data.propensity())
                       : supplied.propensity.size() != 0
                           ? supplied.propensity
                           : nuisance_forest(data.w(), 2, "treatment trees");
    OverlapDiagnostics diagnostics =
        diagnose_overlap(data.w(), treatment, p.overlap_epsilon, p.propensity_clip);

    // 2. The causal forest on the centered data.
    const Vector centered_treatment = data.w() - treatment;
    const Vector centered_outcome = data.y() - outcome;
    const detail::CausalSplittingRule rule{.min_node_size = f.min_node_size,
                                           .alpha = p.alpha,
                                           .imbalance_penalty = p.imbalance_penalty,
                                           .stabilize_splits = p.stabilize_splits};
    learn::tree::TrainerOptions options = f.trainer_options(data.num_features(), kContext);
    options.ci_group_size = p.ci_group_size;
    options.progress = nullptr;
    if (f.progress) {
      options.progress = [callback = f.progress](const Progress& progress) {
        callback(Progress{"trees", progress.done, progress.total});
      };
    }
    learn::tree::TrainedForest trained = learn::tree::train_forest(
        binned, detail::CausalRelabeling{centered_treatment, centered_outcome, data.w(), weights},
        rule, weights, options);

    // 3. Out-of-bag τ̂ from the out-of-bag averaged leaf means (columns W, Z, Y, ZY, ZZ, ...).
    Vector oob(n);
    for (Index i = 0; i < n; ++i) {
      double a[5];
      for (Index q = 0; q < 5; ++q) a[q] = trained.oob_mean(i, q);
      oob[i] = trained.oob_num_trees(i) > 0 ? detail::solve_local_moments(a).tau
                                            : std::numeric_limits<double>::quiet_NaN();
    }
    // A row in every tree's sample (only possible with few trees) gets the full forest's τ̂.
    std::vector<Index> missing;
    for (Index i = 0; i < n; ++i) {
      if (std::isnan(oob[i])) missing.push_back(i);
    }
    if (!missing.empty()) {
      const Model full(trained.forest, p.ci_group_size, Vector(data.y()), Vector(data.w()),
                       Vector(weights), outcome, treatment, Vector::Zero(n), p.propensity_clip,
                       diagnostics, f.num_threads);
      const Matrix rows = data.X()(missing, Eigen::all);
      const Vector fill = full.predict(rows);
      for (std::size_t k = 0; k < missing.size(); ++k)
        oob[missing[k]] = fill[static_cast<Index>(k)];
    }
    return Model(std::move(trained.forest), p.ci_group_size, Vector(data.y()), Vector(data.w()),
                 Vector(weights), std::move(outcome), std::move(treatment), std::move(oob),
                 p.propensity_clip, std::move(diagnostics), f.num_threads);
  }

  const Params& params() const { return params_; }
  /// The tree settings with the causal forest's defaults applied.
  const learn::ResolvedForestParams& forest_params() const { return forest_; }

 private:
  Params params_;
  learn::ResolvedForestParams forest_;
};

}  // namespace tailor::cate
