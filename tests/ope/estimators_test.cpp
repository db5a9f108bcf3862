// Tests for ope/estimators.hpp: hand-computed values on tiny data, interval coverage over
// repeated simulated draws with a known policy value, double robustness of DR, bootstrap
// determinism across thread counts, bad input, and the fused one-pass estimate_value against the
// materialized scores (bit-identical) and the two-step formulas (also under a 1e6 offset).
#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

#include <catch2/catch.hpp>

#include "tailor/core/random.hpp"
#include "tailor/learn/ridge.hpp"
#include "tailor/ope/estimators.hpp"
#include "tailor/ope/nuisance.hpp"

using namespace tailor;
using tailor::ope::Estimator;

namespace {

// ---- tiny hand-computed example (n = 4, K = 2) ----
// ρ = π(aᵢ|xᵢ)/π₀ᵢ = [0.4, 1.6, 2, 1.25]; D̂ = Σₐ π q̂ = [1.8, 0.7, 1, 2]; r − q̂(aᵢ) = [0, −1, 1, 1].
struct Tiny {
  Eigen::MatrixXd X = Eigen::MatrixXd(4, 0);
  IndexVector action = (IndexVector(4) << 0, 1, 1, 0).finished();
  Eigen::VectorXd reward = (Eigen::VectorXd(4) << 1, 0, 2, 3).finished();
  Eigen::VectorXd propensity = (Eigen::VectorXd(4) << 0.5, 0.25, 0.5, 0.8).finished();
  Eigen::MatrixXd pi = (Eigen::MatrixXd(4, 2) << 0.2, 0.8, 0.6, 0.4, 0.0, 1.0, 1.0, 0.0).finished();
  Eigen::MatrixXd q = (Eigen::MatrixXd(4, 2) << 1, 2, 0.5, 1, 1, 1, 2, 0).finished();
};

// ---- simulation with a known policy value (K = 3 actions, p = 2 features) ----
constexpr Index kActions = 3;
const std::array<double, kActions> kIntercept = {1.0, 1.5, 0.5};
const std::array<std::array<double, 2>, kActions> kSlope = {{{0.5, 0.0}, {-1.0, 0.5}, {1.0, 1.0}}};
const std::array<std::array<double, 2>, kActions> kLogging = {
    {{0.0, 0.0}, {1.0, -0.5}, {-1.0, 1.0}}};
const std::array<std::array<double, 2>, kActions> kTarget = {
    {{0.0, 1.0}, {1.0, 0.0}, {-1.0, -1.0}}};

double mean_reward(double x0, double x1, Index a) {
  return kIntercept[a] + kSlope[a][0] * x0 + kSlope[a][1] * x1;
}

// softmax(scale · xᵀg) mixed with uniform: (1 − mix)·softmax + mix/K.
std::array<double, kActions> softmax_policy(double x0, double x1,
                                            const std::array<std::array<double, 2>, kActions>& g,
                                            double scale, double mix) {
  std::array<double, kActions> p{};
  double total = 0.0;
  for (Index a = 0; a < kActions; ++a) {
    p[a] = std::exp(scale * (g[a][0] * x0 + g[a][1] * x1));
    total += p[a];
  }
  for (auto& v : p) v = (1.0 - mix) * v / total + mix / kActions;
  return p;
}

// Logging: 0.7·softmax + 0.1 (propensities ≥ 0.1). Target (stochastic): softmax(2·xᵀg).
// Target (deterministic): the optimal action argmaxₐ μ(x, a).
std::array<double, kActions> logging_policy(double x0, double x1) {
  return softmax_policy(x0, x1, kLogging, 1.0, 0.3);
}
std::array<double, kActions> stochastic_target(double x0, double x1) {
  return softmax_policy(x0, x1, kTarget, 2.0, 0.0);
}
Index best_action(double x0, double x1) {
  Index best = 0;
  for (Index a = 1; a < kActions; ++a) {
    if (mean_reward(x0, x1, a) > mean_reward(x0, x1, best)) best = a;
  }
  return best;
}

struct Simulated {
  Eigen::MatrixXd X;
  IndexVector action;
  Eigen::VectorXd reward;
  Eigen::VectorXd propensity;
  Eigen::MatrixXd true_q;      // μ(xᵢ, a)
  Eigen::MatrixXd stochastic;  // target probabilities
  IndexVector deterministic;   // target actions
};

Simulated simulate(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Simulated s;
  s.X.resize(n, 2);
  s.action.resize(n);
  s.reward.resize(n);
  s.propensity.resize(n);
  s.true_q.resize(n, kActions);
  s.stochastic.resize(n, kActions);
  s.deterministic.resize(n);
  for (Index i = 0; i < n; ++i) {
    const double x0 = rng.normal();
    const double x1 = rng.normal();
    s.X(i, 0) = x0;
    s.X(i, 1) = x1;
    const auto logging = logging_policy(x0, x1);
    const Index a = rng.categorical(logging);
    s.action[i] = a;
    s.propensity[i] = logging[a];
    s.reward[i] = mean_reward(x0, x1, a) + rng.normal();
    const auto target = stochastic_target(x0, x1);
    for (Index b = 0; b < kActions; ++b) {
      s.true_q(i, b) = mean_reward(x0, x1, b);
      s.stochastic(i, b) = target[b];
    }
    s.deterministic[i] = best_action(x0, x1);
  }
  return s;
}

// True values V(π) = E_x[Σₐ π(a|x) μ(x, a)] by Monte Carlo over 10⁶ noise-free contexts
// (Monte Carlo se ≈ 0.001, 40× below the estimators' se at n = 2,000).
std::array<double, 2> true_values() {
  static const std::array<double, 2> values = [] {
    Rng rng(987654321);
    const Index m = 1'000'000;
    double stochastic = 0.0, deterministic = 0.0;
    for (Index i = 0; i < m; ++i) {
      const double x0 = rng.normal();
      const double x1 = rng.normal();
      const auto target = stochastic_target(x0, x1);
      for (Index a = 0; a < kActions; ++a) stochastic += target[a] * mean_reward(x0, x1, a);
      deterministic += mean_reward(x0, x1, best_action(x0, x1));
    }
    return std::array<double, 2>{stochastic / m, deterministic / m};
  }();
  return values;
}

}  // namespace

TEST_CASE("estimators match hand-computed values on tiny data", "[ope]") {
  const Tiny t;
  const BanditData data(t.X, t.action, t.reward, t.propensity, 2);
  const auto policy = ope::TargetPolicy::stochastic(t.pi);
  const ope::Nuisances nuisances{.reward = t.q};
  const ope::EstimatorParams params{.switch_threshold = 1.5, .shrinkage_lambda = 1.0};
  auto est = [&](Estimator e) { return ope::estimate_value(e, data, policy, nuisances, params); };

  CHECK(est(Estimator::ips).value == Approx(8.15 / 4));
  CHECK(est(Estimator::ips).std_error == Approx(1.0652415610242276));
  CHECK(est(Estimator::snips).value == Approx(8.15 / 5.25));
  CHECK(est(Estimator::snips).std_error == Approx(0.7056693384007688));
  CHECK(est(Estimator::dm).value == Approx(1.375));
  CHECK(est(Estimator::dm).std_error == Approx(0.31191612120354834));
  CHECK(est(Estimator::dr).value == Approx(1.7875));
  CHECK(est(Estimator::dr).std_error == Approx(0.9500822332829932));
  CHECK(est(Estimator::sndr).value == Approx(1.375 + 1.65 / 5.25));
  CHECK(est(Estimator::sndr).std_error == Approx(0.7840133159698631));
  CHECK(est(Estimator::switch_dr).value == Approx(1.6875));  // rows with ρ ≤ 1.5: ρ = 0.4, 1.25
  CHECK(est(Estimator::dr_os).value == Approx(1.4845916689503973));
  // IPS/SNIPS need no reward model; normal interval is value ± 1.96·se.
  const Estimate ips = ope::estimate_value(Estimator::ips, data, policy);
  CHECK(ips.value == Approx(2.0375));
  CHECK(ips.confidence_interval().upper == Approx(2.0375 + 1.959963984540054 * 1.0652415610242276));
}

TEST_CASE("Switch-DR and DRos reach DR and DM at their limits", "[ope]") {
  const Tiny t;
  const BanditData data(t.X, t.action, t.reward, t.propensity, 2);
  const auto policy = ope::TargetPolicy::stochastic(t.pi);
  const ope::Nuisances nuisances{.reward = t.q};
  const double inf = std::numeric_limits<double>::infinity();
  const double dr = ope::estimate_value(Estimator::dr, data, policy, nuisances).value;
  const double dm = ope::estimate_value(Estimator::dm, data, policy, nuisances).value;
  CHECK(
      ope::estimate_value(Estimator::switch_dr, data, policy, nuisances, {.switch_threshold = inf})
          .value == dr);
  CHECK(
      ope::estimate_value(Estimator::switch_dr, data, policy, nuisances, {.switch_threshold = 0.1})
          .value == dm);
  CHECK(ope::estimate_value(Estimator::dr_os, data, policy, nuisances, {.shrinkage_lambda = inf})
            .value == dr);
  CHECK(ope::estimate_value(Estimator::dr_os, data, policy, nuisances, {.shrinkage_lambda = 0.0})
            .value == dm);
  // A propensity floor of 0.5 raises π₀ = 0.25 to 0.5: ρ₁ = 0.8 instead of 1.6.
  const double clipped =
      ope::estimate_value(Estimator::ips, data, policy, {}, {.min_propensity = 0.5}).value;
  CHECK(clipped == Approx(2.0375));  // row 1 has reward 0, so IPS is unchanged...
  const double dr_clipped =
      ope::estimate_value(Estimator::dr, data, policy, nuisances, {.min_propensity = 0.5}).value;
  CHECK(dr_clipped == Approx(1.375 + (0.0 - 0.8 + 2.0 + 1.25) / 4));  // ...but DR moves
}

TEST_CASE("paired differences use the difference of influence functions", "[ope]") {
  const Tiny t;
  const BanditData data(t.X, t.action, t.reward, t.propensity, 2);
  const auto stochastic = ope::TargetPolicy::stochastic(t.pi);
  const auto all = ope::TargetPolicy::treat_all(4);
  const ope::Nuisances nuisances{.reward = t.q};
  const auto a = ope::estimator_scores(Estimator::dr, data, stochastic, nuisances);
  const auto b = ope::estimator_scores(Estimator::dr, data, all, nuisances);
  const Estimate d = ope::difference(a, b);
  CHECK(d.value == Approx(a.value() - b.value()));
  // Row terms of DR are Γᵢ; the difference's se is the se of Γᵢ(π₁) − Γᵢ(π₂).
  Eigen::VectorXd gamma(4);
  for (Index i = 0; i < 4; ++i)
    gamma[i] = a.direct[i] + a.numerator[i] - b.direct[i] - b.numerator[i];
  const double se = std::sqrt((gamma.array() - gamma.mean()).square().sum() / (4.0 * 3.0));
  CHECK(d.std_error == Approx(se));
  // A policy minus itself is exactly 0 with se 0.
  const Estimate zero = ope::difference(a, a);
  CHECK(zero.value == 0.0);
  CHECK(zero.std_error == 0.0);
  CHECK_THROWS_WITH(ope::difference(a, ope::Scores{.numerator = Eigen::VectorXd::Ones(3)}),
                    Catch::Contains("second has 3 rows, expected 4"));
}

TEST_CASE("intervals cover the true policy value at the nominal rate", "[ope][simulation]") {
  const auto truth = true_values();
  const Index num_draws = 200;
  const Index n = 2000;
  // Switch-DR's τ = 4 makes it differ from DR (weights go up to 10 here).
  const ope::EstimatorParams params{.switch_threshold = 4.0};
  std::array<std::array<int, 7>, 2> covered{};
  int bootstrap_covered = 0;
  std::array<double, 7> sum_error{};
  for (Index draw = 0; draw < num_draws; ++draw) {
    const Simulated s = simulate(n, 1000 + static_cast<std::uint64_t>(draw));
    const BanditData data(s.X, s.action, s.reward, s.propensity, kActions);
    const ope::Nuisances nuisances{
        .reward = ope::cross_fit_reward_model(learn::Ridge({.alpha = 1e-6}), data,
                                              {.seed = static_cast<std::uint64_t>(draw),
                                               .num_threads = 1,
                                               .encoding = ope::RewardModelEncoding::per_action})};
    const std::array<ope::TargetPolicy, 2> policies = {
        ope::TargetPolicy::stochastic(s.stochastic),
        ope::TargetPolicy::deterministic(s.deterministic, kActions)};
    for (std::size_t p = 0; p < 2; ++p) {
      for (std::size_t e = 0; e < ope::kAllEstimators.size(); ++e) {
        const auto scores =
            ope::estimator_scores(ope::kAllEstimators[e], data, policies[p], nuisances, params);
        const Estimate estimate = scores.estimate();
        covered[p][e] += estimate.confidence_interval(0.95).contains(truth[p]) ? 1 : 0;
        if (p == 0) sum_error[e] += estimate.value - truth[p];
        if (p == 0 && ope::kAllEstimators[e] == Estimator::dr) {
          const auto boot = ope::bootstrap_interval(
              scores,
              {.num_resamples = 200, .seed = static_cast<std::uint64_t>(draw), .num_threads = 1});
          bootstrap_covered += boot.interval.contains(truth[p]) ? 1 : 0;
        }
      }
    }
  }
  const char* names[2] = {"stochastic", "deterministic"};
  for (std::size_t p = 0; p < 2; ++p) {
    std::printf("coverage of 95%% normal intervals, %s target (V = %.4f), %d draws of n = %d:\n",
                names[p], truth[p], static_cast<int>(num_draws), static_cast<int>(n));
    for (std::size_t e = 0; e < ope::kAllEstimators.size(); ++e) {
      const double rate = covered[p][e] / static_cast<double>(num_draws);
      std::printf("  %-9s %.3f\n", std::string(ope::estimator_name(ope::kAllEstimators[e])).c_str(),
                  rate);
      INFO(names[p] << " " << ope::estimator_name(ope::kAllEstimators[e]) << " coverage " << rate);
      switch (ope::kAllEstimators[e]) {
        case Estimator::dm:
          // DM's plug-in se ignores the reward model's estimation error, so it undercovers
          // (measured 0.77 / 0.60); only a floor is checked.
          CHECK(rate >= 0.5);
          break;
        case Estimator::switch_dr:
        case Estimator::dr_os:
          // Partly model-based (rows with ρ > τ, or shrunk weights): somewhat optimistic too.
          CHECK(rate >= 0.80);
          CHECK(rate <= 0.99);
          break;
        default:  // IPS, SNIPS, DR, SNDR: unbiased, influence-function se is right
          CHECK(rate >= 0.90);
          CHECK(rate <= 0.99);
      }
    }
  }
  const double boot_rate = bootstrap_covered / static_cast<double>(num_draws);
  std::printf("coverage of 95%% percentile bootstrap (B = 200) for DR, stochastic target: %.3f\n",
              boot_rate);
  CHECK(boot_rate >= 0.88);
  CHECK(boot_rate <= 0.99);
  // Mean error over the draws: every estimator is (close to) unbiased with a correct model.
  for (std::size_t e = 0; e < ope::kAllEstimators.size(); ++e) {
    INFO(ope::estimator_name(ope::kAllEstimators[e]));
    CHECK(std::abs(sum_error[e] / num_draws) < 0.02);
  }
}

TEST_CASE("DR is consistent when either the reward model or the propensity is right",
          "[ope][simulation]") {
  const auto truth = true_values();
  const Simulated s = simulate(200'000, 77);
  const BanditData data(s.X, s.action, s.reward, s.propensity, kActions);
  const auto policy = ope::TargetPolicy::stochastic(s.stochastic);
  // Wrong reward model: intercepts only (ignores x, on which logging depends).
  Eigen::MatrixXd wrong_q(s.X.rows(), kActions);
  for (Index a = 0; a < kActions; ++a) wrong_q.col(a).setConstant(kIntercept[a]);
  // Wrong propensities: uniform 1/3 although logging depends on x.
  const Eigen::VectorXd wrong_propensity = Eigen::VectorXd::Constant(s.X.rows(), 1.0 / 3.0);

  SECTION("wrong reward model, right propensities") {
    const ope::Nuisances nuisances{.reward = wrong_q};
    const Estimate dr = ope::estimate_value(Estimator::dr, data, policy, nuisances);
    const Estimate dm = ope::estimate_value(Estimator::dm, data, policy, nuisances);
    CHECK(std::abs(dr.value - truth[0]) < 4 * dr.std_error);
    CHECK(std::abs(dm.value - truth[0]) > 20 * dr.std_error);  // the model alone is biased
  }
  SECTION("right reward model, wrong propensities") {
    const ope::Nuisances nuisances{.propensity = wrong_propensity, .reward = s.true_q};
    const Estimate dr = ope::estimate_value(Estimator::dr, data, policy, nuisances);
    const Estimate ips = ope::estimate_value(Estimator::ips, data, policy, nuisances);
    CHECK(std::abs(dr.value - truth[0]) < 4 * dr.std_error);
    CHECK(std::abs(ips.value - truth[0]) > 20 * dr.std_error);  // weighting alone is biased
  }
  SECTION("both wrong: DR is biased too") {
    const ope::Nuisances nuisances{.propensity = wrong_propensity, .reward = wrong_q};
    const Estimate dr = ope::estimate_value(Estimator::dr, data, policy, nuisances);
    CHECK(std::abs(dr.value - truth[0]) > 10 * dr.std_error);
  }
}

TEST_CASE("bootstrap is deterministic and identical for every num_threads", "[ope]") {
  const Simulated s = simulate(3000, 5);
  const BanditData data(s.X, s.action, s.reward, s.propensity, kActions);
  const auto policy = ope::TargetPolicy::stochastic(s.stochastic);
  const auto other = ope::TargetPolicy::deterministic(s.deterministic, kActions);
  const ope::Nuisances nuisances{.reward = s.true_q};
  const auto a = ope::estimator_scores(Estimator::sndr, data, policy, nuisances);
  const auto b = ope::estimator_scores(Estimator::sndr, data, other, nuisances);
  auto run = [&](Index threads, std::uint64_t seed) {
    return ope::bootstrap_difference_interval(
        a, b, {.num_resamples = 300, .seed = seed, .num_threads = threads});
  };
  const auto one = run(1, 11);
  for (Index threads : {2, 4}) {
    const auto many = run(threads, 11);
    CHECK(many.replicates == one.replicates);
    CHECK(many.interval.lower == one.interval.lower);
    CHECK(many.interval.upper == one.interval.upper);
  }
  CHECK(run(1, 12).replicates != one.replicates);
  // The interval contains the point estimate and its width is close to the normal one.
  const Estimate d = ope::difference(a, b);
  CHECK(one.interval.contains(d.value));
  CHECK(one.std_error == Approx(d.std_error).epsilon(0.15));
  // Percentile interval = type-7 quantiles of the replicates.
  std::vector<double> sorted(one.replicates.data(), one.replicates.data() + 300);
  std::sort(sorted.begin(), sorted.end());
  const double position = 0.025 * 299;
  const auto lo = static_cast<std::size_t>(position);
  CHECK(one.interval.lower ==
        Approx(sorted[lo] + (position - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo])));
}

TEST_CASE("estimators reject bad input with clear messages", "[ope]") {
  const Tiny t;
  const BanditData data(t.X, t.action, t.reward, t.propensity, 2);
  const auto policy = ope::TargetPolicy::stochastic(t.pi);
  const ope::Nuisances nuisances{.reward = t.q};

  // Logged propensities 0 or > 1 are rejected by BanditData; supplied ones here.
  Eigen::VectorXd zero = t.propensity;
  zero[2] = 0.0;
  CHECK_THROWS_WITH(BanditData(t.X, t.action, t.reward, zero, 2),
                    Catch::Contains("propensity[2] = 0, expected a probability in (0, 1]"));
  Eigen::VectorXd big = t.propensity;
  big[1] = 1.5;
  CHECK_THROWS_AS(ope::estimate_value(Estimator::ips, data, policy, {.propensity = big}),
                  DataError);
  CHECK_THROWS_WITH(
      ope::estimate_value(Estimator::ips, data, policy, {.propensity = big}),
      Catch::Contains("nuisances.propensity[1] = 1.5, expected a probability in (0, 1]"));
  CHECK_THROWS_WITH(ope::estimate_value(Estimator::ips, data, policy, {.propensity = zero}),
                    Catch::Contains("nuisances.propensity[2] = 0"));
  CHECK_THROWS_AS(ope::estimate_value(Estimator::ips, data, policy,
                                      {.propensity = Eigen::VectorXd::Constant(3, 0.5)}),
                  ShapeMismatch);
  // Shape mismatches between policy, reward model and data.
  CHECK_THROWS_WITH(ope::estimate_value(Estimator::ips, data, ope::TargetPolicy::treat_all(3)),
                    Catch::Contains("policy has 3 rows, expected 4 (the rows of the data)"));
  CHECK_THROWS_WITH(ope::estimate_value(Estimator::ips, data, ope::TargetPolicy::constant(4, 0, 3)),
                    Catch::Contains("policy has 3 actions, expected 2 (the actions of the data)"));
  CHECK_THROWS_WITH(
      ope::estimate_value(Estimator::dr, data, policy, {.reward = Eigen::MatrixXd::Zero(4, 3)}),
      Catch::Contains("nuisances.reward has 3 columns, expected 2"));
  CHECK_THROWS_WITH(
      ope::estimate_value(Estimator::dr, data, policy, {.reward = Eigen::MatrixXd::Zero(5, 2)}),
      Catch::Contains("nuisances.reward has 5 rows, expected 4"));
  Eigen::MatrixXd nan_q = t.q;
  nan_q(1, 1) = std::nan("");
  CHECK_THROWS_AS(ope::estimate_value(Estimator::dr, data, policy, {.reward = nan_q}), DataError);
  // Model-based estimators need a reward model.
  CHECK_THROWS_WITH(ope::estimate_value(Estimator::dr, data, policy),
                    Catch::Contains("DR needs a reward model, but nuisances.reward is empty"));
  // Parameters.
  CHECK_THROWS_WITH(
      ope::estimate_value(Estimator::switch_dr, data, policy, nuisances, {.switch_threshold = 0.0}),
      Catch::Contains("switch_threshold = 0, expected a value > 0"));
  CHECK_THROWS_WITH(
      ope::estimate_value(Estimator::dr_os, data, policy, nuisances, {.shrinkage_lambda = -1.0}),
      Catch::Contains("shrinkage_lambda = -1"));
  CHECK_THROWS_WITH(ope::estimate_value(Estimator::ips, data, policy, {}, {.min_propensity = 1.5}),
                    Catch::Contains("min_propensity = 1.5, expected a value in [0, 1]"));
  // Self-normalization with no weight on any logged action.
  const auto never = ope::TargetPolicy::deterministic((IndexVector(4) << 1, 0, 0, 1).finished(), 2);
  CHECK_THROWS_WITH(ope::estimate_value(Estimator::snips, data, never),
                    Catch::Contains("SNIPS is undefined"));
  CHECK(ope::estimate_value(Estimator::ips, data, never).value == 0.0);
  // Bootstrap options.
  const auto scores = ope::estimator_scores(Estimator::ips, data, policy);
  CHECK_THROWS_WITH(ope::bootstrap_interval(scores, {.num_resamples = 1}),
                    Catch::Contains("num_resamples = 1, expected 2 to 1000000"));
  CHECK_THROWS_WITH(ope::bootstrap_interval(scores, {.level = 1.0}),
                    Catch::Contains("level = 1, expected a value in (0, 1)"));
  CHECK_THROWS_AS(ope::bootstrap_interval(scores, {.num_threads = -1}), InvalidArgument);
}

TEST_CASE("the fused one-pass estimate equals the materialized scores, also with offsets",
          "[ope]") {
  // n not a multiple of the 256-row block; K = 3; both policy kinds; clipping on.
  const Index n = 1337;
  Rng rng(11);
  Eigen::MatrixXd X(n, 0);
  IndexVector action(n), chosen(n);
  Eigen::VectorXd reward(n), propensity(n);
  Eigen::MatrixXd q(n, kActions), pi(n, kActions);
  for (Index i = 0; i < n; ++i) {
    action[i] = static_cast<Index>(rng.uniform_index(kActions));
    propensity[i] = 0.02 + 0.6 * rng.uniform();
    reward[i] = rng.normal(1.0, 2.0);
    double total = 0.0;
    for (Index a = 0; a < kActions; ++a) {
      q(i, a) = rng.normal(1.0, 1.0);
      total += pi(i, a) = rng.uniform();
    }
    pi.row(i) /= total;
    chosen[i] = static_cast<Index>(rng.uniform_index(kActions));
  }
  const ope::EstimatorParams params{.switch_threshold = 8.0, .min_propensity = 0.05};
  const std::array<ope::TargetPolicy, 2> policies = {
      ope::TargetPolicy::deterministic(chosen, kActions), ope::TargetPolicy::stochastic(pi)};
  // A common offset c on rewards and model: the non-self-normalized values move by exactly c
  // in exact arithmetic and every std_error is unchanged (ψ − ψ̄ does not see c); a naive
  // Σψ² − nψ̄² would lose ~12 of 16 digits at c = 1e6.
  const double offset = 1e6;
  const Eigen::VectorXd reward_shifted = reward.array() + offset;
  const Eigen::MatrixXd q_shifted = q.array() + offset;
  const BanditData data(X, action, reward, propensity, kActions);
  const BanditData data_shifted(X, action, reward_shifted, propensity, kActions);
  for (const auto& policy : policies) {
    for (const Estimator e : ope::kAllEstimators) {
      INFO(
          ope::estimator_name(e) << (policy.is_deterministic() ? " deterministic" : " stochastic"));
      const ope::Scores scores = ope::estimator_scores(e, data, policy, {.reward = q}, params);
      const Estimate fused = ope::estimate_value(e, data, policy, {.reward = q}, params);
      const Estimate from_scores = scores.estimate();
      CHECK(fused.value == from_scores.value);  // same terms, same accumulation: same bits
      CHECK(fused.std_error == from_scores.std_error);
      // Against the textbook two-step formulas (sums, then the explicit influence vector).
      CHECK(fused.value == Approx(scores.value()).epsilon(1e-13));
      CHECK(fused.std_error ==
            Approx(ope::Scores::std_error_of(scores.influence())).epsilon(1e-12));
      const Estimate shifted =
          ope::estimate_value(e, data_shifted, policy, {.reward = q_shifted}, params);
      if (e == Estimator::ips || e == Estimator::snips) {
        continue;  // the offset enters their value and influence function through ρ
      }
      CHECK(shifted.value - offset == Approx(fused.value).margin(1e-6));
      CHECK(shifted.std_error == Approx(fused.std_error).epsilon(1e-7));
    }
  }
}
