// Tests for ope/evaluate.hpp: the report agrees with the single-estimator functions, baseline
// differences, bootstrap determinism, bad input; and the Open Bandit Dataset validation
// ([realdata]): the Bernoulli-TS policy's click rate estimated from the uniform-random logs,
// compared with the BTS logs' on-policy click rate.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tailor/core/random.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/ope/evaluate.hpp"
#include "tailor/ope/nuisance.hpp"

using namespace tailor;
using tailor::ope::Estimator;

namespace {

// Binary-action logged data: treat (a = 1) with probability e(x) = 0.2 + 0.6·σ(x₀); reward
// r = x₀ + a·(0.5 + x₁) + noise, so the optimal rule treats when x₁ > −0.5.
struct Binary {
  Eigen::MatrixXd X;
  IndexVector action;
  Eigen::VectorXd reward;
  Eigen::VectorXd propensity;
  Eigen::MatrixXd q;  // true E[r | x, a]
};

Binary make_binary(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Binary b{Eigen::MatrixXd(n, 2), IndexVector(n), Eigen::VectorXd(n), Eigen::VectorXd(n),
           Eigen::MatrixXd(n, 2)};
  for (Index i = 0; i < n; ++i) {
    b.X(i, 0) = rng.normal();
    b.X(i, 1) = rng.normal();
    const double e = 0.2 + 0.6 / (1.0 + std::exp(-b.X(i, 0)));
    b.action[i] = rng.bernoulli(e) ? 1 : 0;
    b.propensity[i] = b.action[i] == 1 ? e : 1.0 - e;
    b.q(i, 0) = b.X(i, 0);
    b.q(i, 1) = b.X(i, 0) + 0.5 + b.X(i, 1);
    b.reward[i] = b.q(i, b.action[i]) + rng.normal();
  }
  return b;
}

}  // namespace

TEST_CASE("evaluate() reports every policy and estimator with intervals", "[ope]") {
  const Binary b = make_binary(2000, 21);
  const BanditData data(b.X, b.action, b.reward, b.propensity, 2);
  const Eigen::VectorXd tau = b.q.col(1) - b.q.col(0);
  const std::vector<ope::NamedPolicy> policies = {
      {"learned", ope::TargetPolicy::from_score_threshold(tau, 0.0)},
      {"treat-all", ope::TargetPolicy::treat_all(2000)},
      {"treat-none", ope::TargetPolicy::treat_none(2000)}};
  const ope::EvaluationOptions options{.nuisances = {.reward = b.q},
                                       .num_bootstrap = 200,
                                       .seed = 5,
                                       .num_threads = 1,
                                       .baseline = "treat-all"};
  const ope::EvaluationReport report = ope::evaluate(data, policies, options);
  CHECK(report.values.size() == 3 * 7);
  CHECK(report.differences.size() == 2 * 7);
  for (const Estimator e : ope::kAllEstimators) {
    for (const auto& named : policies) {
      const auto& entry = report.value(named.name, e);
      const Estimate direct = ope::estimate_value(e, data, named.policy, options.nuisances);
      CHECK(entry.estimate.value == direct.value);
      CHECK(entry.estimate.std_error == direct.std_error);
      CHECK(entry.normal_interval.lower == direct.confidence_interval(0.95).lower);
      REQUIRE(entry.bootstrap_interval);
      CHECK(entry.bootstrap_interval->contains(entry.estimate.value));
    }
    const auto& diff = report.difference("learned", e);
    CHECK(diff.policy == "learned - treat-all");
    const Estimate direct =
        ope::difference(ope::estimator_scores(e, data, policies[0].policy, options.nuisances),
                        ope::estimator_scores(e, data, policies[1].policy, options.nuisances));
    CHECK(diff.estimate.value == direct.value);
    CHECK(diff.estimate.std_error == direct.std_error);
  }
  // The learned rule (treat when x₁ > −0.5) beats treat-all: E[(0.5 + x₁)⁻] ≈ 0.198 per row.
  const auto& dr_gain = report.difference("learned", Estimator::dr);
  CHECK(dr_gain.estimate.value == Approx(0.198).margin(4 * dr_gain.estimate.std_error));
  CHECK(dr_gain.normal_interval.lower > 0.0);
  CHECK(dr_gain.bootstrap_interval->lower > 0.0);
  // Pairing makes the difference far more precise than the two values separately.
  CHECK(dr_gain.estimate.std_error < report.value("learned", Estimator::dr).estimate.std_error);
  // The printed table names every policy and estimator.
  const std::string table = report.to_string();
  CHECK(table.find("95% normal CI") != std::string::npos);
  CHECK(table.find("learned - treat-all") != std::string::npos);
  CHECK(table.find("Switch-DR") != std::string::npos);
  // Bootstrap intervals do not depend on the thread count.
  ope::EvaluationOptions threaded = options;
  threaded.num_threads = 4;
  const auto again = ope::evaluate(data, policies, threaded);
  for (std::size_t k = 0; k < report.values.size(); ++k) {
    CHECK(again.values[k].bootstrap_interval->lower == report.values[k].bootstrap_interval->lower);
    CHECK(again.values[k].bootstrap_interval->upper == report.values[k].bootstrap_interval->upper);
  }
  // Without a reward model the default estimators are IPS and SNIPS, without bootstrap.
  const auto plain = ope::evaluate(data, policies);
  CHECK(plain.values.size() == 3 * 2);
  CHECK_FALSE(plain.values[0].bootstrap_interval);
  CHECK(plain.differences.empty());
}

TEST_CASE("evaluate() rejects bad input with clear messages", "[ope]") {
  const Binary b = make_binary(50, 22);
  const BanditData data(b.X, b.action, b.reward, b.propensity, 2);
  const std::vector<ope::NamedPolicy> policies = {{"all", ope::TargetPolicy::treat_all(50)},
                                                  {"none", ope::TargetPolicy::treat_none(50)}};
  CHECK_THROWS_WITH(ope::evaluate(data, {}), Catch::Contains("no policies, expected at least 1"));
  CHECK_THROWS_WITH(ope::evaluate(data, {policies[0], policies[0]}),
                    Catch::Contains("policies[0] and policies[1] are both named 'all'"));
  CHECK_THROWS_WITH(ope::evaluate(data, {{"", ope::TargetPolicy::treat_all(50)}}),
                    Catch::Contains("policies[0] has an empty name"));
  CHECK_THROWS_WITH(ope::evaluate(data, policies, {.baseline = "some"}),
                    Catch::Contains("baseline = 'some', expected one of the policy names"));
  CHECK_THROWS_WITH(
      ope::evaluate(data, policies, {.num_bootstrap = 1}),
      Catch::Contains("num_bootstrap = 1, expected 0 (no bootstrap) or 2 to 1000000"));
  CHECK_THROWS_WITH(ope::evaluate(data, policies, {.level = 0.0}),
                    Catch::Contains("level = 0, expected a value in (0, 1)"));
  CHECK_THROWS_WITH(ope::evaluate(data, policies, {.estimators = {Estimator::dm}}),
                    Catch::Contains("DM needs a reward model"));
  CHECK_THROWS_WITH(ope::evaluate(data, {{"short", ope::TargetPolicy::treat_all(10)}}),
                    Catch::Contains("policy has 10 rows, expected 50"));
  const auto report = ope::evaluate(data, policies);
  CHECK_THROWS_WITH(report.value("other", Estimator::ips),
                    Catch::Contains("no value for policy 'other' and IPS"));
  CHECK_THROWS_WITH(report.difference("all", Estimator::ips),
                    Catch::Contains("no difference for policy 'all' and IPS"));
}

// ---------------------------------------------------------------------------------------------
// Open Bandit Dataset (Saito et al., NeurIPS 2021 Datasets & Benchmarks), small sample.
//
// Protocol (OBP's "evaluation of OPE"): the evaluation policy is Bernoulli Thompson Sampling with
// ZOZOTOWN's production Beta(α, β) priors (prior_bts.yaml); the logs come from the uniform-random
// policy; the ground truth is the on-policy click rate of the BTS logs (clicks / rows).
// Position handling, as in OBP: each logged row is one slot of a 3-item list and is a bandit
// round whose context includes its position. BTS's action distribution is, per position,
// π_e(item | position) = P(item is ranked at that position when the items are sorted by
// θ ~ Beta(α, β), descending) — estimated by Monte Carlo over 100,000 draws of θ (OBP's
// BernoulliTS.compute_batch_action_dist, n_sim = 100,000). The random logger puts each item at
// each position with probability 1/K (the propensity_score column). The value estimated is the
// expected click per slot, averaged over the logged positions, which is what the on-policy rate
// measures. Reward model: logistic regression on [position one-hot, item one-hot] (pooled
// encoding), cross-fitted with 5 folds.
// The prior-based BTS is what OBP evaluates, but production BTS updated its Beta parameters in
// batches during the logged week, so the logged BTS propensities agree with it only loosely
// (correlation ≈ 0.56 for men, ≈ 0.05 for women). We therefore also evaluate the policy BTS
// actually ran on average over the week, estimated by the empirical item-by-position
// frequencies of the BTS logs ("bts-logged"). Both are checked against the on-policy rate
// within three joint standard errors; the relative errors are printed.
// ---------------------------------------------------------------------------------------------
namespace {

std::filesystem::path obd_dir() {
  const char* dir = std::getenv("TAILOR_DATA_DIR");
  return dir ? std::filesystem::path(dir) / "obd" : std::filesystem::path();
}

// Reads `campaign: alpha: [...] beta: [...]` from prior_bts.yaml (the file's simple layout:
// campaign keys at column 0, "  alpha:"/"  beta:" keys, "    - value" items).
std::map<std::string, std::vector<double>> read_prior(const std::filesystem::path& path,
                                                      const std::string& campaign) {
  std::ifstream in(path);
  std::map<std::string, std::vector<double>> prior;
  std::string line, current_campaign, current_key;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] != ' ') {
      current_campaign = line.substr(0, line.find(':'));
    } else if (line.find('-') == std::string::npos) {
      const auto start = line.find_first_not_of(' ');
      current_key = line.substr(start, line.find(':') - start);
    } else if (current_campaign == campaign) {
      prior[current_key].push_back(std::stod(line.substr(line.find('-') + 1)));
    }
  }
  return prior;
}

// Monte Carlo BTS action distribution: column p = distribution of the item ranked p-th.
Eigen::MatrixXd bts_action_distribution(const std::vector<double>& alpha,
                                        const std::vector<double>& beta, Index num_positions,
                                        Index num_draws, std::uint64_t seed) {
  const auto num_items = static_cast<Index>(alpha.size());
  Eigen::MatrixXd counts = Eigen::MatrixXd::Zero(num_items, num_positions);
  Rng rng(seed);
  std::vector<double> theta(static_cast<std::size_t>(num_items));
  std::vector<Index> order(static_cast<std::size_t>(num_items));
  for (Index draw = 0; draw < num_draws; ++draw) {
    for (Index k = 0; k < num_items; ++k) {
      theta[static_cast<std::size_t>(k)] =
          rng.beta(alpha[static_cast<std::size_t>(k)], beta[static_cast<std::size_t>(k)]);
      order[static_cast<std::size_t>(k)] = k;
    }
    std::partial_sort(
        order.begin(), order.begin() + num_positions, order.end(), [&](Index a, Index b) {
          return theta[static_cast<std::size_t>(a)] > theta[static_cast<std::size_t>(b)];
        });
    for (Index p = 0; p < num_positions; ++p) counts(order[static_cast<std::size_t>(p)], p) += 1.0;
  }
  return counts / static_cast<double>(num_draws);
}

}  // namespace

TEST_CASE("Open Bandit Dataset: BTS click rate from the random policy's logs", "[realdata]") {
  const std::filesystem::path dir = obd_dir();
  if (dir.empty() || !std::filesystem::exists(dir / "prior_bts.yaml")) {
    WARN("TAILOR_DATA_DIR/obd not found; skipping the Open Bandit Dataset validation");
    return;
  }
  for (const std::string campaign : {"men", "women"}) {
    const auto prior = read_prior(dir / "prior_bts.yaml", campaign);
    REQUIRE(prior.count("alpha") == 1);
    REQUIRE(prior.at("alpha").size() == prior.at("beta").size());
    const auto num_items = static_cast<Index>(prior.at("alpha").size());
    const io::CsvOptions csv{.columns = {"item_id", "position", "click", "propensity_score"}};
    const io::Table random_log = io::read_csv(dir / "random" / campaign / (campaign + ".csv"), csv);
    const io::Table bts_log = io::read_csv(dir / "bts" / campaign / (campaign + ".csv"), csv);

    // Ground truth: on-policy click rate of the BTS logs, with its binomial se.
    const Eigen::VectorXd& bts_click = bts_log.numeric("click");
    const double truth = bts_click.mean();
    const double truth_se = std::sqrt(truth * (1 - truth) / static_cast<double>(bts_click.size()));

    const Eigen::MatrixXd distribution =
        bts_action_distribution(prior.at("alpha"), prior.at("beta"), 3, 100'000, 2021);
    REQUIRE((distribution.colwise().sum().array() - 1.0).abs().maxCoeff() < 1e-9);

    // Sanity check of the reproduced BTS policy against the logged BTS propensities
    // (production BTS was updated during the week, so they agree only roughly).
    const Eigen::VectorXd& bts_item = bts_log.numeric("item_id");
    const Eigen::VectorXd& bts_position = bts_log.numeric("position");
    const Eigen::VectorXd& bts_propensity = bts_log.numeric("propensity_score");
    Eigen::VectorXd reproduced(bts_item.size());
    for (Index i = 0; i < bts_item.size(); ++i) {
      reproduced[i] =
          distribution(static_cast<Index>(bts_item[i]), static_cast<Index>(bts_position[i]) - 1);
    }
    const double correlation =
        ((reproduced.array() - reproduced.mean()) *
         (bts_propensity.array() - bts_propensity.mean()))
            .mean() /
        std::sqrt((reproduced.array() - reproduced.mean()).square().mean() *
                  (bts_propensity.array() - bts_propensity.mean()).square().mean());

    // The policy BTS actually ran during the week (its parameters were updated in batches):
    // the empirical frequency of each item at each position in the BTS logs.
    Eigen::MatrixXd empirical = Eigen::MatrixXd::Zero(num_items, 3);
    for (Index i = 0; i < bts_item.size(); ++i) {
      empirical(static_cast<Index>(bts_item[i]), static_cast<Index>(bts_position[i]) - 1) += 1.0;
    }
    empirical.array().rowwise() /= empirical.colwise().sum().array();

    // Bandit data from the random logs: context = position one-hot; action = item.
    const Index n = static_cast<Index>(random_log.num_rows());
    const Eigen::VectorXd& item = random_log.numeric("item_id");
    const Eigen::VectorXd& position = random_log.numeric("position");
    Eigen::MatrixXd X = Eigen::MatrixXd::Zero(n, 3);
    IndexVector action(n);
    Eigen::MatrixXd prior_policy(n, num_items);
    Eigen::MatrixXd empirical_policy(n, num_items);
    for (Index i = 0; i < n; ++i) {
      const auto p = static_cast<Index>(position[i]) - 1;
      X(i, p) = 1.0;
      action[i] = static_cast<Index>(item[i]);
      prior_policy.row(i) = distribution.col(p).transpose();
      empirical_policy.row(i) = empirical.col(p).transpose();
    }
    const BanditData data(X, action, random_log.numeric("click"),
                          random_log.numeric("propensity_score"), num_items);
    const ope::Nuisances nuisances{
        .reward = ope::cross_fit_reward_model(learn::LogisticRegression({.alpha = 1.0}), data,
                                              {.num_folds = 5, .seed = 12345})};
    const std::vector<ope::NamedPolicy> policies = {
        {"bts-prior", ope::TargetPolicy::stochastic(prior_policy)},
        {"bts-logged", ope::TargetPolicy::stochastic(empirical_policy)}};
    const auto report = ope::evaluate(
        data, policies, {.nuisances = nuisances, .num_bootstrap = 500, .seed = 12345});

    std::printf(
        "OBD %s: on-policy BTS click rate %.5f (se %.5f); random logs' rate %.5f; "
        "corr(prior-BTS probability, logged BTS propensity) = %.3f\n",
        campaign.c_str(), truth, truth_se, data.reward().mean(), correlation);
    std::printf("  %-10s %-9s %9s %9s %21s %21s %8s\n", "policy", "estimator", "value", "se",
                "95% normal CI", "95% bootstrap CI", "rel.err");
    for (const auto& entry : report.values) {
      const double relative_error = std::abs(entry.estimate.value - truth) / truth;
      std::printf("  %-10s %-9s %9.5f %9.5f [%8.5f, %8.5f] [%8.5f, %8.5f] %8.3f\n",
                  entry.policy.c_str(), std::string(ope::estimator_name(entry.estimator)).c_str(),
                  entry.estimate.value, entry.estimate.std_error, entry.normal_interval.lower,
                  entry.normal_interval.upper, entry.bootstrap_interval->lower,
                  entry.bootstrap_interval->upper, relative_error);
      INFO(campaign << " " << entry.policy << " " << ope::estimator_name(entry.estimator)
                    << " estimate " << entry.estimate.value << " vs on-policy " << truth);
      // The estimate and the on-policy rate agree within their joint sampling error.
      const double joint_se = std::hypot(entry.estimate.std_error, truth_se);
      CHECK(std::abs(entry.estimate.value - truth) < 3.0 * joint_se);
    }
  }
}
