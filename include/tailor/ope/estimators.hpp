// tailor/ope/estimators.hpp — off-policy value estimators for logged bandit data, with
// influence-function standard errors, normal and bootstrap intervals, and paired differences.
//
// Data: rows i = 1..n with context xᵢ, logged action aᵢ, reward rᵢ and logging propensity
// π₀ᵢ = π₀(aᵢ | xᵢ); a target policy π; optionally a reward model q̂(x, a) (cross-fitted, see
// ope/nuisance.hpp). Write ρᵢ = π(aᵢ | xᵢ)/π₀ᵢ (importance weight), q̂ᵢ = q̂(xᵢ, aᵢ) and
// D̂ᵢ = Σₐ π(a | xᵢ) q̂(xᵢ, a) (the model's value of π at xᵢ). The estimators of
// V(π) = E[Σₐ π(a | x) r(a)]:
//   IPS        (1/n) Σ ρᵢ rᵢ                       Horvitz & Thompson, JASA 1952; Precup, Sutton &
//                                                  Singh, ICML 2000
//   SNIPS      Σ ρᵢ rᵢ / Σ ρᵢ                      Swaminathan & Joachims, "The self-normalized
//                                                  estimator for counterfactual learning",
//                                                  NeurIPS 2015
//   DM         (1/n) Σ D̂ᵢ                          the direct method (e.g. Beygelzimer & Langford,
//                                                  KDD 2009)
//   DR         (1/n) Σ [D̂ᵢ + ρᵢ (rᵢ − q̂ᵢ)]         Dudík, Langford & Li, "Doubly robust policy
//                                                  evaluation and learning", ICML 2011
//   SNDR       (1/n) Σ D̂ᵢ + Σ ρᵢ(rᵢ − q̂ᵢ) / Σ ρᵢ   self-normalized DR (the correction term
//                                                  normalized as in SNIPS; the form used by the
//                                                  Open Bandit Pipeline, Saito et al. 2021)
//   Switch-DR  (1/n) Σ [D̂ᵢ + ρᵢ (rᵢ − q̂ᵢ) 1{ρᵢ ≤ τ}]   Wang, Agarwal & Dudík, "Optimal and
//                                                  adaptive off-policy evaluation in contextual
//                                                  bandits", ICML 2017: DR where the weight is
//                                                  at most τ, the model (DM) where it is larger
//   DRos       (1/n) Σ [D̂ᵢ + ρ̃ᵢ (rᵢ − q̂ᵢ)],  ρ̃ᵢ = λρᵢ/(ρᵢ² + λ)   Su, Dimakopoulou,
//                                                  Krishnamurthy & Dudík, "Doubly robust
//                                                  off-policy evaluation with shrinkage",
//                                                  ICML 2020 (optimistic shrinkage; λ = ∞ is DR,
//                                                  λ = 0 is DM)
// Every estimator has the form  V̂ = mean(bᵢ) + Σ aᵢ / Σ dᵢ  (dᵢ = 1 except for the
// self-normalized ones, where dᵢ = ρᵢ), kept as per-row Scores. Its influence function (delta
// method for the ratio) is
//     φᵢ = (bᵢ − b̄) + (aᵢ − R dᵢ)/d̄,   R = Σa/Σd,
// and std_error = √(Σφᵢ² / (n(n − 1))). Nuisances are treated as fixed (they are cross-fitted,
// so the DR-type influence functions are the efficient ones when q̂ and π₀ are right; for DM
// the interval ignores the model's estimation error and is optimistic).
// Differences V̂(π₁) − V̂(π₂) on the same rows use the paired influence functions φ¹ − φ²
// (one sample, so the covariance between the two values is accounted for).
// Bootstrap (Efron & Tibshirani 1993, percentile method): resample the n rows with replacement
// B times, recompute V̂ (or the difference) from the per-row scores, and take the empirical
// (1 ± level)/2 quantiles (linear interpolation between order statistics). Resample b draws
// from tailor::Rng(seed, b), so the result is bit-identical for every num_threads.
// Cost: scores O(n) (O(n·K) for stochastic policies); bootstrap O(B·n).
// estimate_value (and Scores::estimate) make ONE pass over the rows: per block of 256 rows the
// terms go to L1-resident buffers and are folded into running means and centred co-moments
// (exact two-pass within the block, Chan–Golub–LeVeque pairwise merge across blocks), from which
// V̂ and Σφ² follow in closed form — no n-long vectors, no second pass, no Σx² − n x̄²
// cancellation. The row loop is specialized at compile time on estimator and policy kind.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"
#include "tailor/ope/policy.hpp"

namespace tailor::ope {

/// The off-policy estimators (see the header comment for formulas and references).
enum class Estimator { ips, snips, dm, dr, sndr, switch_dr, dr_os };

/// All estimators, in declaration order.
inline constexpr std::array<Estimator, 7> kAllEstimators = {
    Estimator::ips,  Estimator::snips,     Estimator::dm,   Estimator::dr,
    Estimator::sndr, Estimator::switch_dr, Estimator::dr_os};

/// Short name: "IPS", "SNIPS", "DM", "DR", "SNDR", "Switch-DR", "DRos".
inline std::string_view estimator_name(Estimator estimator) {
  switch (estimator) {
    case Estimator::ips:
      return "IPS";
    case Estimator::snips:
      return "SNIPS";
    case Estimator::dm:
      return "DM";
    case Estimator::dr:
      return "DR";
    case Estimator::sndr:
      return "SNDR";
    case Estimator::switch_dr:
      return "Switch-DR";
    case Estimator::dr_os:
      return "DRos";
  }
  return "?";
}

/// Whether the estimator uses a reward model q̂ (all but IPS and SNIPS).
inline bool needs_reward_model(Estimator estimator) {
  return estimator != Estimator::ips && estimator != Estimator::snips;
}

/// Tuning of the estimators. Defaults are documented per field.
struct EstimatorParams {
  /// Switch-DR threshold τ > 0 on importance weights ρ: rows with ρ > τ use the model only.
  /// Default 10 (+∞ turns Switch-DR into DR).
  double switch_threshold = 10.0;
  /// DRos shrinkage λ ≥ 0: ρ̃ = λρ/(ρ² + λ). Default 100 (ρ̃ ≈ ρ for ρ ≲ 3, at most 5).
  /// +∞ gives DR, 0 gives DM.
  double shrinkage_lambda = 100.0;
  /// Propensities below this are raised to it before weighting (clipping, weights ≤ 1/floor);
  /// in [0, 1]. Default 0: logged propensities are used as given (they are exact, and
  /// clipping them biases the estimate); estimate_logging_propensity clips its own estimates.
  double min_propensity = 0.0;
};

/// Nuisance inputs shared by the estimators. Empty members mean "absent".
struct Nuisances {
  /// π₀(aᵢ | xᵢ) of the logged action (e.g. from estimate_logging_propensity), each in (0, 1].
  /// Empty (default): the data's logged propensities.
  Eigen::VectorXd propensity = Eigen::VectorXd();
  /// q̂(xᵢ, a), n × K (e.g. from cross_fit_reward_model). Required by every estimator but IPS
  /// and SNIPS.
  Eigen::MatrixXd reward = Eigen::MatrixXd();
};

namespace detail {

/// Rows per block of the fused passes: a block's per-row terms sit in small L1-resident buffers.
inline constexpr Index kScoreBlock = 256;

/// Σₖ term(k) over k < m in four interleaved lanes, combined as (l₀ + l₁) + (l₂ + l₃): a fixed
/// summation order (so the result does not depend on where the buffers live) that the compiler
/// can keep in vector registers.
template <class Term>
inline double lane_sum(Index m, Term&& term) {
  double l0 = 0.0, l1 = 0.0, l2 = 0.0, l3 = 0.0;
  Index k = 0;
  for (; k + 4 <= m; k += 4) {
    l0 += term(k);
    l1 += term(k + 1);
    l2 += term(k + 2);
    l3 += term(k + 3);
  }
  for (; k < m; ++k) l0 += term(k);
  return (l0 + l1) + (l2 + l3);
}

/// Running count, means and centred co-moments of C per-row terms, updated one block at a time,
/// so that a value and its influence-function variance come from ONE pass over the rows.
/// Inside a block the moments are exact two-pass ones (the block mean first, then
/// Σ(x − x̄)(y − ȳ) over the buffered block); blocks are merged with the pairwise update of Chan,
/// Golub & LeVeque ("Algorithms for computing the sample variance", Am. Stat. 1983): with
/// δ = x̄_B − x̄_A,  n = n_A + n_B,  x̄ = x̄_A + δ n_B/n,  C_xy = C_xy,A + C_xy,B + δ_x δ_y n_A n_B/n.
/// This is as accurate as a two-pass computation over all rows (no Σx² − n x̄² cancellation).
/// C = 1 holds ψ = b + a; C = 3 holds (b, a, d) for the self-normalized estimators.
template <int C>
struct ScoreMoments {
  static constexpr int kPairs = C * (C + 1) / 2;
  double count = 0.0;
  std::array<double, C> mean{};
  /// Upper triangle, row by row: (0,0), (0,1), …, (0,C−1), (1,1), …, (C−1,C−1).
  std::array<double, kPairs> comoment{};

  /// Adds m ≥ 1 rows; term c of row k is columns[c][k].
  void add_block(const std::array<const double*, C>& columns, Index m) {
    const auto block_count = static_cast<double>(m);
    std::array<double, C> block_mean;
    for (int c = 0; c < C; ++c) {
      const double* x = columns[c];
      block_mean[c] = lane_sum(m, [x](Index k) { return x[k]; }) / block_count;
    }
    std::array<double, kPairs> block_comoment;
    int pair = 0;
    for (int r = 0; r < C; ++r) {
      for (int s = r; s < C; ++s, ++pair) {
        const double* x = columns[r];
        const double* y = columns[s];
        const double mx = block_mean[r];
        const double my = block_mean[s];
        block_comoment[pair] =
            lane_sum(m, [x, y, mx, my](Index k) { return (x[k] - mx) * (y[k] - my); });
      }
    }
    if (count == 0.0) {
      count = block_count;
      mean = block_mean;
      comoment = block_comoment;
      return;
    }
    const double total = count + block_count;
    const double weight = count * block_count / total;
    const double share = block_count / total;
    std::array<double, C> delta;
    for (int c = 0; c < C; ++c) delta[c] = block_mean[c] - mean[c];
    pair = 0;
    for (int r = 0; r < C; ++r) {
      for (int s = r; s < C; ++s, ++pair) {
        comoment[pair] += block_comoment[pair] + delta[r] * delta[s] * weight;
      }
    }
    for (int c = 0; c < C; ++c) mean[c] += delta[c] * share;
    count = total;
  }
};

/// {V̂, se} from the moments of ψ = b + a (estimators with dᵢ = 1): V̂ = ψ̄, Σφ² = Σ(ψ − ψ̄)².
inline Estimate finish_estimate(const ScoreMoments<1>& m) {
  if (m.count == 0.0) return {std::numeric_limits<double>::quiet_NaN(), 0.0};
  const double se =
      m.count < 2.0 ? 0.0 : std::sqrt(std::max(m.comoment[0], 0.0) / (m.count * (m.count - 1.0)));
  return {m.mean[0], se};
}

/// {V̂, se} from the moments of (b, a, d) (self-normalized): V̂ = b̄ + R, R = ā/d̄, and with
/// φ = (b − b̄) + ((a − ā) − R(d − d̄))/d̄ (because ā = R d̄),
///   Σφ² = C_bb + 2(C_ba − R C_bd)/d̄ + (C_aa − 2R C_ad + R² C_dd)/d̄².
inline Estimate finish_estimate(const ScoreMoments<3>& m) {
  if (m.count == 0.0) return {std::numeric_limits<double>::quiet_NaN(), 0.0};
  const double d_mean = m.mean[2];
  const double ratio = m.mean[1] / d_mean;
  const auto& c = m.comoment;  // bb, ba, bd, aa, ad, dd
  const double sum_sq = c[0] + 2.0 * (c[1] - ratio * c[2]) / d_mean +
                        (c[3] - 2.0 * ratio * c[4] + ratio * ratio * c[5]) / (d_mean * d_mean);
  const double se =
      m.count < 2.0 ? 0.0 : std::sqrt(std::max(sum_sq, 0.0) / (m.count * (m.count - 1.0)));
  return {m.mean[0] + ratio, se};
}

}  // namespace detail

/// Per-row terms of an estimator: V̂ = mean(direct) + Σ numerator / Σ denominator.
/// An empty `direct` means 0 for every row, an empty `denominator` means 1 for every row.
struct Scores {
  Eigen::VectorXd direct = Eigen::VectorXd();
  Eigen::VectorXd numerator = Eigen::VectorXd();
  Eigen::VectorXd denominator = Eigen::VectorXd();

  Index num_rows() const { return numerator.size(); }

  /// The point estimate V̂.
  double value() const {
    const auto n = static_cast<double>(num_rows());
    const double b = direct.size() ? direct.sum() / n : 0.0;
    const double d = denominator.size() ? denominator.sum() : n;
    return b + numerator.sum() / d;
  }

  /// Influence values φᵢ (mean zero): V̂ − V ≈ mean(φ).
  Eigen::VectorXd influence() const {
    const Index n = num_rows();
    const double d_sum = denominator.size() ? denominator.sum() : static_cast<double>(n);
    const double ratio = numerator.sum() / d_sum;
    const double d_mean = d_sum / static_cast<double>(n);
    Eigen::VectorXd phi(n);
    if (denominator.size()) {
      phi = (numerator.array() - ratio * denominator.array()) / d_mean;
    } else {
      phi = numerator.array() - ratio;
    }
    if (direct.size()) phi.array() += direct.array() - direct.mean();
    return phi;
  }

  /// {V̂, √(Σφ²/(n(n − 1)))}; std_error 0 when n = 1. One pass over the rows (block moments,
  /// see detail::ScoreMoments); equal to {value(), std_error_of(influence())} up to rounding, and
  /// bit-identical to estimate_value() for scores from estimator_scores().
  Estimate estimate() const {
    const Index n = num_rows();
    alignas(64) std::array<double, detail::kScoreBlock> buffer;
    alignas(64) static constexpr std::array<double, detail::kScoreBlock> kZeros{};
    if (denominator.size() == 0) {
      detail::ScoreMoments<1> moments;
      for (Index begin = 0; begin < n; begin += detail::kScoreBlock) {
        const Index m = std::min(detail::kScoreBlock, n - begin);
        const double* a = numerator.data() + begin;
        if (direct.size()) {
          const double* b = direct.data() + begin;
          for (Index k = 0; k < m; ++k) buffer[k] = b[k] + a[k];
          moments.add_block({buffer.data()}, m);
        } else {
          moments.add_block({a}, m);
        }
      }
      return detail::finish_estimate(moments);
    }
    detail::ScoreMoments<3> moments;
    for (Index begin = 0; begin < n; begin += detail::kScoreBlock) {
      const Index m = std::min(detail::kScoreBlock, n - begin);
      moments.add_block({direct.size() ? direct.data() + begin : kZeros.data(),
                         numerator.data() + begin, denominator.data() + begin},
                        m);
    }
    return detail::finish_estimate(moments);
  }

  /// √(Σφᵢ² / (n(n − 1))) for influence values φ.
  static double std_error_of(const Eigen::VectorXd& phi) {
    const auto n = static_cast<double>(phi.size());
    if (phi.size() < 2) return 0.0;
    return std::sqrt(phi.squaredNorm() / (n * (n - 1.0)));
  }
};

namespace detail {

inline void check_estimator_params(const EstimatorParams& params, std::string_view context) {
  check_param(params.switch_threshold > 0.0, context, "switch_threshold", params.switch_threshold,
              "a value > 0 (+inf allowed)");
  check_param(params.shrinkage_lambda >= 0.0, context, "shrinkage_lambda", params.shrinkage_lambda,
              "a value >= 0 (+inf allowed)");
  check_param(params.min_propensity >= 0.0 && params.min_propensity <= 1.0, context,
              "min_propensity", params.min_propensity, "a value in [0, 1]");
}

/// Checks that policy and nuisances fit the data; `need_reward` when q̂ is used. With
/// check_model_values = false the finiteness of q̂ is left to the caller (the fused pass checks
/// it block by block while the block is in cache).
inline void check_estimator_inputs(const BanditData& data, const TargetPolicy& policy,
                                   const Nuisances& nuisances, bool need_reward,
                                   std::string_view context, std::string_view estimator,
                                   bool check_model_values = true) {
  const Index n = data.num_rows();
  const Index num_actions = data.num_actions();
  check_rows(context, "policy", policy.num_rows(), n, "the rows of the data");
  if (policy.num_actions() != num_actions) {
    raise<ShapeMismatch>("{}: policy has {} actions, expected {} (the actions of the data)",
                         context, policy.num_actions(), num_actions);
  }
  const Eigen::VectorXd& p = nuisances.propensity;
  if (p.size() != 0) {
    check_rows(context, "nuisances.propensity", p.size(), n, "the rows of the data; or 0");
    for (Index i = 0; i < n; ++i) {
      if (!(p[i] > 0.0 && p[i] <= 1.0)) {
        raise<DataError>("{}: nuisances.propensity[{}] = {}, expected a probability in (0, 1]",
                         context, i, p[i]);
      }
    }
  }
  const Eigen::MatrixXd& q = nuisances.reward;
  if (need_reward && q.size() == 0) {
    raise<InvalidArgument>(
        "{}: {} needs a reward model, but nuisances.reward is empty (see cross_fit_reward_model)",
        context, estimator);
  }
  if (q.size() != 0) {
    check_rows(context, "nuisances.reward", q.rows(), n, "the rows of the data");
    if (q.cols() != num_actions) {
      raise<ShapeMismatch>("{}: nuisances.reward has {} columns, expected {} (one per action)",
                           context, q.cols(), num_actions);
    }
    if (check_model_values) check_finite(context, "nuisances.reward", q);
  }
}

/// Raw column-major views of what the per-row kernels read (all matrices n × K, leading
/// dimension n).
struct ScoreInputs {
  Index num_rows = 0;
  Index num_actions = 0;
  const Index* action = nullptr;               // logged aᵢ
  const double* reward = nullptr;              // rᵢ
  const double* propensity = nullptr;          // π₀ᵢ
  double floor = 0.0;                          // min_propensity
  const double* model = nullptr;               // q̂(i, a), or nullptr
  const Index* policy_action = nullptr;        // dᵢ (deterministic policies)
  const double* policy_probability = nullptr;  // π(a | xᵢ) (stochastic policies)
  double tau = 0.0;                            // switch_threshold
  double lambda = 0.0;                         // shrinkage_lambda
};

inline ScoreInputs score_inputs(const BanditData& data, const TargetPolicy& policy,
                                const Nuisances& nuisances, const EstimatorParams& params) {
  const bool deterministic = policy.is_deterministic();
  return {.num_rows = data.num_rows(),
          .num_actions = data.num_actions(),
          .action = data.action().data(),
          .reward = data.reward().data(),
          .propensity =
              nuisances.propensity.size() ? nuisances.propensity.data() : data.propensity().data(),
          .floor = params.min_propensity,
          .model = nuisances.reward.size() ? nuisances.reward.data() : nullptr,
          .policy_action = deterministic ? policy.actions().data() : nullptr,
          .policy_probability = deterministic ? nullptr : policy.probabilities().data(),
          .tau = params.switch_threshold,
          .lambda = params.shrinkage_lambda};
}

/// The Scores terms of rows begin..begin+m−1 (see estimator_scores) into direct (model-based
/// estimators), numerator and denominator (self-normalized ones). Policy kind and estimator are
/// template parameters, so the row loop has no dispatch; every term is computed by the same
/// expressions for estimator_scores and the fused estimate_value, hence identical bits.
template <bool Deterministic, Estimator E>
inline void fill_scores(const ScoreInputs& in, Index begin, Index m, double* direct,
                        double* numerator, double* denominator) {
  constexpr bool use_model = E != Estimator::ips && E != Estimator::snips;
  constexpr bool self_normalized = E == Estimator::snips || E == Estimator::sndr;
  const Index n = in.num_rows;
  if constexpr (use_model) {
    // D̂ᵢ = Σₐ π(a | xᵢ) q̂(xᵢ, a), summed over a in order, column by column (contiguous reads).
    if constexpr (Deterministic) {
      for (Index k = 0; k < m; ++k)
        direct[k] = in.model[in.policy_action[begin + k] * n + begin + k];
    } else {
      const double* p0 = in.policy_probability + begin;
      const double* q0 = in.model + begin;
      for (Index k = 0; k < m; ++k) direct[k] = p0[k] * q0[k];
      for (Index a = 1; a < in.num_actions; ++a) {
        const double* pa = in.policy_probability + a * n + begin;
        const double* qa = in.model + a * n + begin;
        for (Index k = 0; k < m; ++k) direct[k] += pa[k] * qa[k];
      }
    }
  }
  for (Index k = 0; k < m; ++k) {
    const Index i = begin + k;
    const Index logged = in.action[i];
    double target_probability;
    if constexpr (Deterministic) {
      target_probability = in.policy_action[i] == logged ? 1.0 : 0.0;
    } else {
      target_probability = in.policy_probability[logged * n + i];
    }
    const double rho = target_probability / std::max(in.propensity[i], in.floor);
    double residual = in.reward[i];
    if constexpr (use_model) residual -= in.model[logged * n + i];
    double a;
    if constexpr (E == Estimator::dm) {
      a = 0.0;
    } else if constexpr (E == Estimator::switch_dr) {
      a = rho <= in.tau ? rho * residual : 0.0;
    } else if constexpr (E == Estimator::dr_os) {
      // ρ̃ = λρ/(ρ² + λ), written as ρ/(ρ²/λ + 1) so that λ = +∞ gives ρ exactly.
      const double shrunk = in.lambda == 0.0 ? 0.0 : rho / (rho * rho / in.lambda + 1.0);
      a = shrunk * residual;
    } else {  // IPS, SNIPS, DR, SNDR
      a = rho * residual;
    }
    numerator[k] = a;
    if constexpr (self_normalized) denominator[k] = rho;
  }
}

/// Calls f(std::bool_constant<deterministic>, std::integral_constant<Estimator, estimator>).
template <class F>
inline decltype(auto) dispatch_kernel(Estimator estimator, bool deterministic, F&& f) {
  auto by_policy = [&](auto e) -> decltype(auto) {
    if (deterministic) return f(std::true_type{}, e);
    return f(std::false_type{}, e);
  };
  using enum Estimator;
  switch (estimator) {
    case ips:
      return by_policy(std::integral_constant<Estimator, ips>{});
    case snips:
      return by_policy(std::integral_constant<Estimator, snips>{});
    case dm:
      return by_policy(std::integral_constant<Estimator, dm>{});
    case dr:
      return by_policy(std::integral_constant<Estimator, dr>{});
    case sndr:
      return by_policy(std::integral_constant<Estimator, sndr>{});
    case switch_dr:
      return by_policy(std::integral_constant<Estimator, switch_dr>{});
    case dr_os:
      break;
  }
  return by_policy(std::integral_constant<Estimator, dr_os>{});
}

inline void raise_no_weight(std::string_view context, std::string_view estimator) {
  raise<DataError>(
      "{}: {} is undefined: the policy gives probability 0 to every logged action (sum of "
      "importance weights = 0), expected a positive sum",
      context, estimator);
}

/// The fused estimate: one pass over the rows, block by block — fill the block's terms
/// (fill_scores), check the block of q̂ is finite, fold the terms into ScoreMoments. No per-row
/// allocation or dispatch, every input read once. Same result as estimator_scores(...).estimate().
template <bool Deterministic, Estimator E>
inline Estimate fused_estimate(const ScoreInputs& in, const Eigen::MatrixXd& model,
                               std::string_view context, std::string_view name) {
  constexpr bool use_model = E != Estimator::ips && E != Estimator::snips;
  constexpr bool self_normalized = E == Estimator::snips || E == Estimator::sndr;
  const Index n = in.num_rows;
  std::array<double, kScoreBlock> direct{};  // stays 0 without a model (the b of SNIPS)
  std::array<double, kScoreBlock> numerator;
  std::array<double, kScoreBlock> denominator;
  std::array<double, kScoreBlock> psi;
  std::conditional_t<self_normalized, ScoreMoments<3>, ScoreMoments<1>> moments;
  bool finite = true;
  for (Index begin = 0; begin < n && finite; begin += kScoreBlock) {
    const Index m = std::min(kScoreBlock, n - begin);
    fill_scores<Deterministic, E>(in, begin, m, direct.data(), numerator.data(),
                                  denominator.data());
    // The whole model must be finite (as estimator_scores checks), read while it is in cache.
    if (model.size() != 0) finite = model.middleRows(begin, m).allFinite();
    if constexpr (self_normalized) {
      moments.add_block({direct.data(), numerator.data(), denominator.data()}, m);
    } else if constexpr (use_model) {
      for (Index k = 0; k < m; ++k) psi[k] = direct[k] + numerator[k];
      moments.add_block({psi.data()}, m);
    } else {
      moments.add_block({numerator.data()}, m);
    }
  }
  if (!finite) check_finite(context, "nuisances.reward", model);  // throws, naming the entry
  if constexpr (self_normalized) {
    if (!(moments.mean[2] > 0.0)) raise_no_weight(context, name);
  }
  return finish_estimate(moments);
}

}  // namespace detail

/// The per-row Scores of `estimator` for `policy` on `data`. Throws ShapeMismatch when the
/// policy or nuisances do not match the data's rows/actions, DataError for propensities outside
/// (0, 1] or a non-finite reward model, InvalidArgument when a model-based estimator has no
/// reward model or params are out of range, and DataError when a self-normalized estimator has
/// Σρᵢ = 0 (the policy puts no probability on any logged action).
inline Scores estimator_scores(Estimator estimator, const BanditData& data,
                               const TargetPolicy& policy, const Nuisances& nuisances = {},
                               const EstimatorParams& params = {}) {
  constexpr std::string_view kContext = "ope::estimator_scores";
  const std::string_view name = estimator_name(estimator);
  detail::check_estimator_params(params, kContext);
  const bool use_model = needs_reward_model(estimator);
  detail::check_estimator_inputs(data, policy, nuisances, use_model, kContext, name);

  const Index n = data.num_rows();
  const detail::ScoreInputs inputs = detail::score_inputs(data, policy, nuisances, params);
  const bool self_normalized = estimator == Estimator::snips || estimator == Estimator::sndr;
  Scores scores;
  if (use_model) scores.direct.resize(n);
  scores.numerator.resize(n);
  if (self_normalized) scores.denominator.resize(n);
  detail::dispatch_kernel(estimator, policy.is_deterministic(), [&](auto deterministic, auto e) {
    detail::fill_scores<decltype(deterministic)::value, decltype(e)::value>(
        inputs, 0, n, scores.direct.data(), scores.numerator.data(), scores.denominator.data());
  });
  if (self_normalized && !(scores.denominator.sum() > 0.0)) detail::raise_no_weight(kContext, name);
  return scores;
}

/// The estimate {V̂, influence-function se} of `estimator` (same checks as estimator_scores).
/// Computed in one fused pass over the rows without materializing the Scores (O(1) extra
/// memory); bit-identical to estimator_scores(...).estimate().
inline Estimate estimate_value(Estimator estimator, const BanditData& data,
                               const TargetPolicy& policy, const Nuisances& nuisances = {},
                               const EstimatorParams& params = {}) {
  constexpr std::string_view kContext = "ope::estimator_scores";
  const std::string_view name = estimator_name(estimator);
  detail::check_estimator_params(params, kContext);
  detail::check_estimator_inputs(data, policy, nuisances, needs_reward_model(estimator), kContext,
                                 name, /*check_model_values=*/false);
  const detail::ScoreInputs inputs = detail::score_inputs(data, policy, nuisances, params);
  return detail::dispatch_kernel(
      estimator, policy.is_deterministic(), [&](auto deterministic, auto e) {
        return detail::fused_estimate<decltype(deterministic)::value, decltype(e)::value>(
            inputs, nuisances.reward, kContext, name);
      });
}

/// V̂(π₁) − V̂(π₂) from the two policies' Scores on the same rows, with the paired
/// influence-function standard error √(Σ(φ¹ᵢ − φ²ᵢ)² / (n(n − 1))). ShapeMismatch when the
/// scores have different lengths.
inline Estimate difference(const Scores& first, const Scores& second) {
  check_rows("ope::difference", "second", second.num_rows(), first.num_rows(), "the rows of first");
  const Eigen::VectorXd phi = first.influence() - second.influence();
  return {first.value() - second.value(), Scores::std_error_of(phi)};
}

/// Options of the percentile bootstrap.
struct BootstrapOptions {
  /// Number of resamples B ≥ 2 (default 1000).
  Index num_resamples = 1000;
  /// Coverage of the interval, in (0, 1) (default 0.95).
  double level = 0.95;
  /// Resample b uses tailor::Rng(seed, b) (default 0).
  std::uint64_t seed = 0;
  /// Threads over resamples, 0 = all cores (default 0); results identical for every value.
  Index num_threads = 0;
};

/// A bootstrap interval with the resampled values it came from.
struct BootstrapInterval {
  Interval interval;           ///< percentile interval
  double std_error = 0.0;      ///< standard deviation of the replicates
  Eigen::VectorXd replicates;  ///< the B resampled estimates, in resample order
};

namespace detail {

/// Quantile q ∈ [0, 1] of sorted values, linear interpolation between order statistics
/// (Hyndman & Fan 1996, type 7).
inline double sorted_quantile(const std::vector<double>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(position));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(lo);
  return sorted[lo] + fraction * (sorted[hi] - sorted[lo]);
}

}  // namespace detail

/// Percentile bootstrap interval of Σⱼ cⱼ V̂(partsⱼ) (e.g. c = {1} for one value, {1, −1} for a
/// difference): every resample draws one set of row indices and applies it to all parts, so
/// paired designs stay paired. Throws InvalidArgument for bad options or when parts and
/// coefficients differ in length or are empty, ShapeMismatch when parts differ in rows.
/// A resample in which a self-normalized part has Σdᵢ = 0 contributes 0 for that ratio term.
inline BootstrapInterval bootstrap_interval(std::span<const Scores> parts,
                                            std::span<const double> coefficients,
                                            const BootstrapOptions& options = {}) {
  constexpr std::string_view kContext = "ope::bootstrap_interval";
  check_count(kContext, "num_resamples", options.num_resamples, 2, limits::kMaxResamples);
  check_param(options.level > 0.0 && options.level < 1.0, kContext, "level", options.level,
              "a value in (0, 1)");
  resolve_num_threads(options.num_threads);
  if (parts.empty() || parts.size() != coefficients.size()) {
    raise<InvalidArgument>("{}: {} parts and {} coefficients, expected the same positive number",
                           kContext, parts.size(), coefficients.size());
  }
  const Index n = parts[0].num_rows();
  check_nonempty(kContext, "parts[0]", n);
  for (std::size_t j = 1; j < parts.size(); ++j) {
    check_rows(kContext, "a part", parts[j].num_rows(), n, "the rows of parts[0]");
  }
  const Index num_resamples = options.num_resamples;
  std::vector<double> replicates(static_cast<std::size_t>(num_resamples));
  parallel_for(0, num_resamples, options.num_threads, [&](Index b) {
    Rng rng(options.seed, static_cast<std::uint64_t>(b));
    // Per part: Σ direct, Σ numerator, Σ denominator over the resample.
    std::vector<std::array<double, 3>> sums(parts.size(), {0.0, 0.0, 0.0});
    for (Index draw = 0; draw < n; ++draw) {
      const auto i = static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(n)));
      for (std::size_t j = 0; j < parts.size(); ++j) {
        const Scores& s = parts[j];
        if (s.direct.size()) sums[j][0] += s.direct[i];
        sums[j][1] += s.numerator[i];
        sums[j][2] += s.denominator.size() ? s.denominator[i] : 1.0;
      }
    }
    double value = 0.0;
    for (std::size_t j = 0; j < parts.size(); ++j) {
      const double ratio = sums[j][2] > 0.0 ? sums[j][1] / sums[j][2] : 0.0;
      value += coefficients[j] * (sums[j][0] / static_cast<double>(n) + ratio);
    }
    replicates[static_cast<std::size_t>(b)] = value;
  });
  BootstrapInterval result;
  result.replicates = Eigen::Map<const Eigen::VectorXd>(replicates.data(), num_resamples);
  const double mean = result.replicates.mean();
  result.std_error = std::sqrt((result.replicates.array() - mean).square().sum() /
                               static_cast<double>(num_resamples - 1));
  std::sort(replicates.begin(), replicates.end());
  const double alpha = 1.0 - options.level;
  result.interval = {detail::sorted_quantile(replicates, alpha / 2.0),
                     detail::sorted_quantile(replicates, 1.0 - alpha / 2.0)};
  return result;
}

/// Percentile bootstrap interval of one estimator's value.
inline BootstrapInterval bootstrap_interval(const Scores& scores,
                                            const BootstrapOptions& options = {}) {
  const double one = 1.0;
  return bootstrap_interval(std::span<const Scores>(&scores, 1), std::span<const double>(&one, 1),
                            options);
}

/// Percentile bootstrap interval of V̂(first) − V̂(second) (paired resamples).
inline BootstrapInterval bootstrap_difference_interval(const Scores& first, const Scores& second,
                                                       const BootstrapOptions& options = {}) {
  const std::array<Scores, 2> parts = {first, second};
  const std::array<double, 2> coefficients = {1.0, -1.0};
  return bootstrap_interval(parts, coefficients, options);
}

}  // namespace tailor::ope
