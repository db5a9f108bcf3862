// Tests for ope/nuisance.hpp: cross-fitted reward models (pooled and per action, regressor and
// classifier learners), estimated logging propensities with clipping, determinism, bad input.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "tailor/core/random.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/ridge.hpp"
#include "tailor/ope/nuisance.hpp"

using namespace tailor;

namespace {

// Logged data with K = 3 actions, linear rewards μ(x, a) = a + x₀·(a − 1) + noise and logging
// probabilities depending on x₀.
struct Logged {
  Eigen::MatrixXd X;
  IndexVector action;
  Eigen::VectorXd reward;
  Eigen::VectorXd propensity;
  Eigen::MatrixXd mu;
};

Logged make_logged(Index n, std::uint64_t seed, bool binary_reward = false) {
  Rng rng(seed);
  Logged d{Eigen::MatrixXd(n, 2), IndexVector(n), Eigen::VectorXd(n), Eigen::VectorXd(n),
           Eigen::MatrixXd(n, 3)};
  for (Index i = 0; i < n; ++i) {
    const double x0 = rng.normal();
    d.X(i, 0) = x0;
    d.X(i, 1) = rng.normal();
    const double e = 1.0 / (1.0 + std::exp(-x0));
    const std::vector<double> p = {0.5 * (1 - e) + 0.1, 0.5 * e + 0.1, 0.3};
    const Index a = rng.categorical(p);
    d.action[i] = a;
    d.propensity[i] = p[static_cast<std::size_t>(a)];
    for (Index b = 0; b < 3; ++b) {
      const double linear = static_cast<double>(b) + x0 * static_cast<double>(b - 1);
      d.mu(i, b) = binary_reward ? 1.0 / (1.0 + std::exp(-(linear - 1.0))) : linear;
    }
    d.reward[i] =
        binary_reward ? (rng.bernoulli(d.mu(i, a)) ? 1.0 : 0.0) : d.mu(i, a) + 0.5 * rng.normal();
  }
  return d;
}

// A multi-class classifier that ignores X: class frequencies of its training labels.
struct FrequencyModel {
  Eigen::VectorXd frequency;
  Eigen::MatrixXd predict_proba(const MatrixRef& X) const {
    return frequency.transpose().replicate(X.rows(), 1);
  }
  Index num_classes() const { return frequency.size(); }
};
struct FrequencyClassifier {
  FrequencyModel fit(const MatrixRef&, const VectorRef& y, const VectorRef&) const {
    Eigen::VectorXd counts = Eigen::VectorXd::Zero(static_cast<Index>(y.maxCoeff()) + 1);
    for (Index i = 0; i < y.size(); ++i) counts[static_cast<Index>(y[i])] += 1.0;
    return {counts / static_cast<double>(y.size())};
  }
};
static_assert(learn::Classifier<FrequencyClassifier>);

}  // namespace

TEST_CASE("reward model predictions are out of fold", "[ope]") {
  const Logged d = make_logged(400, 3);
  const BanditData data(d.X, d.action, d.reward, d.propensity, 3);
  const learn::Ridge ridge({.alpha = 0.5});
  const ope::RewardModelOptions options{.num_folds = 4, .seed = 9, .num_threads = 1};
  const Eigen::MatrixXd q = ope::cross_fit_reward_model(ridge, data, options);
  REQUIRE(q.rows() == 400);
  REQUIRE(q.cols() == 3);
  // Rebuild fold 2's model by hand: pooled features [x, one-hot(a)], fitted without fold 2.
  const Folds folds = kfold(400, 4, 9);
  const std::vector<Index> train = folds.train_rows(2);
  Eigen::MatrixXd features = Eigen::MatrixXd::Zero(static_cast<Index>(train.size()), 5);
  Eigen::VectorXd y(static_cast<Index>(train.size()));
  for (std::size_t r = 0; r < train.size(); ++r) {
    const auto row = static_cast<Index>(r);
    features(row, 0) = d.X(train[r], 0);
    features(row, 1) = d.X(train[r], 1);
    features(row, 2 + d.action[train[r]]) = 1.0;
    y[row] = d.reward[train[r]];
  }
  const auto model = ridge.fit(features, y);
  for (Index i : folds.test_rows(2)) {
    for (Index a = 0; a < 3; ++a) {
      Eigen::MatrixXd x = Eigen::MatrixXd::Zero(1, 5);
      x(0, 0) = d.X(i, 0);
      x(0, 1) = d.X(i, 1);
      x(0, 2 + a) = 1.0;
      CHECK(q(i, a) == Approx(model.predict(x)[0]).margin(1e-12));
    }
  }
  // Same result for every thread count.
  ope::RewardModelOptions threaded = options;
  threaded.num_threads = 4;
  CHECK(ope::cross_fit_reward_model(ridge, data, threaded) == q);
}

TEST_CASE("per-action reward models recover a linear reward surface", "[ope]") {
  const Logged d = make_logged(6000, 4);
  const BanditData data(d.X, d.action, d.reward, d.propensity, 3);
  const Eigen::MatrixXd q = ope::cross_fit_reward_model(
      learn::Ridge({.alpha = 1e-6}), data, {.encoding = ope::RewardModelEncoding::per_action});
  CHECK((q - d.mu).cwiseAbs().maxCoeff() < 0.15);
  // The pooled linear model cannot represent the action-specific slopes.
  const Eigen::MatrixXd pooled = ope::cross_fit_reward_model(learn::Ridge({.alpha = 1e-6}), data);
  CHECK((pooled - d.mu).cwiseAbs().mean() > 0.3);
}

TEST_CASE("classifier reward models predict P(r = 1)", "[ope]") {
  const Logged d = make_logged(6000, 5, true);
  const BanditData data(d.X, d.action, d.reward, d.propensity, 3);
  const Eigen::MatrixXd q =
      ope::cross_fit_reward_model(learn::LogisticRegression({.alpha = 1e-3}), data,
                                  {.encoding = ope::RewardModelEncoding::per_action});
  CHECK(q.minCoeff() > 0.0);
  CHECK(q.maxCoeff() < 1.0);
  CHECK((q - d.mu).cwiseAbs().maxCoeff() < 0.1);
  // Non-binary rewards are rejected by the classifier.
  const Logged c = make_logged(100, 6);
  const BanditData continuous(c.X, c.action, c.reward, c.propensity, 3);
  CHECK_THROWS_AS(ope::cross_fit_reward_model(learn::LogisticRegression(), continuous), DataError);
}

TEST_CASE("per-action reward models need every action in every training part", "[ope]") {
  Logged d = make_logged(50, 7);
  for (Index i = 0; i < 50; ++i) d.action[i] = i == 10 ? 2 : i % 2;
  const BanditData data(d.X, d.action, d.reward, d.propensity, 3);
  CHECK_THROWS_WITH(ope::cross_fit_reward_model(learn::Ridge(), data,
                                                {.encoding = ope::RewardModelEncoding::per_action}),
                    Catch::Contains("action 2 has no logged rows outside fold"));
  CHECK_THROWS_WITH(ope::cross_fit_reward_model(learn::Ridge(), data, {.num_folds = 1}),
                    Catch::Contains("num_folds = 1, expected 2 to 10000"));
  CHECK_THROWS_AS(ope::cross_fit_reward_model(learn::Ridge(), data, {.num_threads = -1}),
                  InvalidArgument);
}

TEST_CASE("estimated logging propensities: binary and multi-class, cross-fitted, clipped",
          "[ope]") {
  SECTION("binary logistic for K = 2") {
    Rng rng(8);
    const Index n = 5000;
    Eigen::MatrixXd X(n, 1);
    IndexVector action(n);
    Eigen::VectorXd reward = Eigen::VectorXd::Zero(n), logged(n), truth(n);
    for (Index i = 0; i < n; ++i) {
      X(i, 0) = rng.normal();
      const double e = 1.0 / (1.0 + std::exp(-1.5 * X(i, 0)));
      action[i] = rng.bernoulli(e) ? 1 : 0;
      truth[i] = action[i] == 1 ? e : 1 - e;
      logged[i] = 0.5;  // deliberately wrong: the estimate must not use it
    }
    const BanditData data(X, action, reward, logged, 2);
    const Eigen::VectorXd estimated =
        ope::estimate_logging_propensity(learn::LogisticRegression(), data);
    CHECK((estimated - truth).cwiseAbs().mean() < 0.02);
    CHECK(estimated.minCoeff() >= 0.01);
    const Eigen::VectorXd clipped = ope::estimate_logging_propensity(learn::LogisticRegression(),
                                                                     data, {.min_propensity = 0.3});
    CHECK(clipped.minCoeff() == 0.3);
    CHECK(clipped.maxCoeff() <= 1.0);
    CHECK(ope::estimate_logging_propensity(learn::LogisticRegression(), data, {.num_threads = 3}) ==
          estimated);
  }
  SECTION("multi-class classifier for K = 3: out-of-fold frequencies") {
    const Logged d = make_logged(30, 9);
    const BanditData data(d.X, d.action, d.reward, d.propensity, 3);
    const Eigen::VectorXd estimated = ope::estimate_logging_propensity(
        FrequencyClassifier(), data, {.num_folds = 3, .seed = 1, .min_propensity = 1e-9});
    const Folds folds = stratified_kfold(d.action.cast<double>(), 3, 1);
    for (Index i = 0; i < 30; ++i) {
      const std::vector<Index> train = folds.train_rows(folds.fold[static_cast<std::size_t>(i)]);
      double same = 0.0;
      for (Index r : train) same += d.action[r] == d.action[i] ? 1.0 : 0.0;
      CHECK(estimated[i] == Approx(same / static_cast<double>(train.size())));
    }
  }
  SECTION("bad input") {
    const Logged d = make_logged(30, 10);
    const BanditData data(d.X, d.action, d.reward, d.propensity, 3);
    CHECK_THROWS_WITH(
        ope::estimate_logging_propensity(FrequencyClassifier(), data, {.min_propensity = 0.0}),
        Catch::Contains("min_propensity = 0, expected a value in (0, 1]"));
    CHECK_THROWS_WITH(ope::clip_propensity(Eigen::VectorXd::Constant(2, 0.5), 2.0),
                      Catch::Contains("clip_propensity: min_propensity = 2"));
    CHECK(ope::clip_propensity((Eigen::VectorXd(2) << 0.001, 0.7).finished(), 0.05) ==
          (Eigen::VectorXd(2) << 0.05, 0.7).finished());
  }
}
