// Tests for the S/T/X/R/DR meta-learners (cate/*_learner.hpp) on simulated data with a known
// effect, using linear base learners (which are correctly specified here, so recovery is
// tight and the test is fast).
#include <catch2/catch.hpp>

#include <cmath>

#include "tailor/cate/dr_learner.hpp"
#include "tailor/cate/r_learner.hpp"
#include "tailor/cate/s_learner.hpp"
#include "tailor/cate/t_learner.hpp"
#include "tailor/cate/x_learner.hpp"
#include "tailor/core/random.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/ridge.hpp"

using namespace tailor;
using Ridge = learn::Ridge;
using Logistic = learn::LogisticRegression;

namespace {

struct Sim {
  Matrix X;
  Vector w, y, tau, e;
};

// Y = 1 + x0 + 2 x1 − x2 + W·τ(x) + N(0, 0.5²), τ(x) = 1 + x0 − 0.5 x1,
// e(x) = logistic(0.6 x0 − 0.4 x2): confounded through x0 (which also moves τ).
Sim simulate(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Sim s;
  s.X.resize(n, 4);
  s.w.resize(n);
  s.y.resize(n);
  s.tau.resize(n);
  s.e.resize(n);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 4; ++j) s.X(i, j) = rng.normal();
    const double x0 = s.X(i, 0), x1 = s.X(i, 1), x2 = s.X(i, 2);
    s.e[i] = 1.0 / (1.0 + std::exp(-(0.6 * x0 - 0.4 * x2)));
    s.w[i] = rng.bernoulli(s.e[i]) ? 1.0 : 0.0;
    s.tau[i] = 1.0 + x0 - 0.5 * x1;
    s.y[i] = 1.0 + x0 + 2.0 * x1 - x2 + s.w[i] * s.tau[i] + 0.5 * rng.normal();
  }
  return s;
}

double rmse(const Vector& a, const Vector& b) { return std::sqrt((a - b).squaredNorm() / a.size()); }

const Ridge kRidge({.alpha = 1e-3});
const Logistic kLogistic{};

}  // namespace

TEST_CASE("meta-learners recover a linear heterogeneous effect", "[cate]") {
  const Sim train = simulate(4000, 1);
  const Sim test = simulate(2000, 2);
  const CausalData data(train.X, train.w, train.y);
  const cate::MetaLearnerParams params{.num_folds = 5, .seed = 7, .num_threads = 2};

  const auto t_model = cate::TLearner<Ridge, Logistic>(params, kRidge, kLogistic).fit(data);
  const auto x_model = cate::XLearner<Ridge, Logistic>(params, kRidge, kLogistic).fit(data);
  const auto r_model = cate::RLearner<Ridge, Logistic>(params, kRidge, kLogistic).fit(data);
  const auto dr_model = cate::DRLearner<Ridge, Logistic>(params, kRidge, kLogistic).fit(data);
  // Noise sd 0.5, n = 4000, 5 parameters per arm: estimation error of τ̂ is O(0.5·√(5/2000)).
  CHECK(rmse(t_model.predict(test.X), test.tau) < 0.06);
  CHECK(rmse(x_model.predict(test.X), test.tau) < 0.06);
  CHECK(rmse(r_model.predict(test.X), test.tau) < 0.10);
  CHECK(rmse(dr_model.predict(test.X), test.tau) < 0.10);

  // The S-learner with a linear model has no interaction: it recovers only the average effect.
  const auto s_model = cate::SLearner<Ridge, Logistic>(params, kRidge, kLogistic).fit(data);
  const Vector s_tau = s_model.predict(test.X);
  CHECK((s_tau.array() - s_tau[0]).abs().maxCoeff() < 1e-9);
  CHECK(s_tau[0] == Approx(train.tau.mean()).margin(0.1));

  // AIPW average effects cover the sample truth (ATE and ATT) within 4 standard errors.
  const double true_ate = train.tau.mean();
  double true_att = 0.0;
  for (Index i = 0; i < train.w.size(); ++i) true_att += train.w[i] * train.tau[i];
  true_att /= train.w.sum();
  for (const cate::EffectSummary* m :
       {static_cast<const cate::EffectSummary*>(&t_model), static_cast<const cate::EffectSummary*>(&dr_model)}) {
    const Estimate ate = m->average_effect();
    const Estimate att = m->average_effect(cate::TargetSample::treated);
    CHECK(std::abs(ate.value - true_ate) < 4 * ate.std_error);
    CHECK(std::abs(att.value - true_att) < 4 * att.std_error);
    CHECK(ate.std_error > 0.005);
    CHECK(ate.std_error < 0.05);
  }
  CHECK_FALSE(t_model.diagnostics().poor);
  CHECK(t_model.diagnostics().propensity_auc > 0.6);
  CHECK(t_model.diagnostics().propensity_auc < 0.8);
}

TEST_CASE("meta-learners are deterministic and thread-count invariant", "[cate]") {
  const Sim train = simulate(600, 3);
  const CausalData data(train.X, train.w, train.y);
  cate::MetaLearnerParams p1{.num_folds = 3, .seed = 11, .num_threads = 1};
  cate::MetaLearnerParams p4 = p1;
  p4.num_threads = 4;
  const auto a = cate::DRLearner<Ridge, Logistic>(p1, kRidge, kLogistic).fit(data);
  const auto b = cate::DRLearner<Ridge, Logistic>(p4, kRidge, kLogistic).fit(data);
  CHECK(a.predict(train.X) == b.predict(train.X));
  CHECK(a.nuisances().propensity == b.nuisances().propensity);
  CHECK(a.average_effect().value == b.average_effect().value);
  const auto c = cate::XLearner<Ridge, Logistic>(p1, kRidge, kLogistic).fit(data);
  const auto d = cate::XLearner<Ridge, Logistic>(p4, kRidge, kLogistic).fit(data);
  CHECK(c.predict(train.X) == d.predict(train.X));
}

TEST_CASE("known propensities are used as given", "[cate]") {
  // A randomized experiment with P(W = 1) = 0.3: supplied propensities replace the classifier.
  Sim s = simulate(1000, 4);
  Rng rng(5);
  for (Index i = 0; i < s.w.size(); ++i) {
    s.w[i] = rng.bernoulli(0.3) ? 1.0 : 0.0;
    s.y[i] = s.X(i, 1) + s.w[i] * s.tau[i] + 0.5 * rng.normal();
  }
  const Vector known = Vector::Constant(s.w.size(), 0.3);
  const CausalData data(s.X, s.w, s.y, CausalDataOptions{.propensity = known});
  const auto model = cate::XLearner<Ridge, Logistic>({}, kRidge, kLogistic).fit(data);
  CHECK((model.nuisances().propensity.array() == 0.3).all());
  CHECK(model.diagnostics().propensity_auc == Approx(0.5));
  CHECK(std::abs(model.average_effect().value - s.tau.mean()) < 4 * model.average_effect().std_error);
}

TEST_CASE("poor overlap is diagnosed and estimates stay finite", "[cate]") {
  // Assignment almost determined by x0: e(x) = logistic(8 x0).
  Sim s = simulate(2000, 6);
  Rng rng(8);
  for (Index i = 0; i < s.w.size(); ++i) {
    s.w[i] = rng.bernoulli(1.0 / (1.0 + std::exp(-8.0 * s.X(i, 0)))) ? 1.0 : 0.0;
    s.y[i] = s.X(i, 0) + s.w[i] * s.tau[i] + 0.5 * rng.normal();
  }
  const CausalData data(s.X, s.w, s.y);
  const auto model = cate::DRLearner<Ridge, Logistic>({}, kRidge, kLogistic).fit(data);
  const auto& d = model.diagnostics();
  CHECK(d.propensity_auc > 0.95);
  CHECK(d.poor);
  CHECK(d.verdict.find("poor overlap") != std::string::npos);
  CHECK(d.num_clipped > 0);
  CHECK(model.predict(s.X).allFinite());
  CHECK(std::isfinite(model.average_effect().value));
  CHECK(model.nuisances().propensity.minCoeff() >= 0.01);
  CHECK(model.nuisances().propensity.maxCoeff() <= 0.99);
}

TEST_CASE("meta-learner parameters are validated", "[cate]") {
  CHECK_THROWS_WITH((cate::TLearner<Ridge, Logistic>({.num_folds = 1}, kRidge, kLogistic)),
                    Catch::Contains("num_folds = 1, expected 2 to 10000"));
  CHECK_THROWS_AS((cate::DRLearner<Ridge, Logistic>({.propensity_clip = 0.5}, kRidge, kLogistic)),
                  InvalidArgument);
  CHECK_THROWS_AS((cate::RLearner<Ridge, Logistic>({.num_threads = -1}, kRidge, kLogistic)),
                  InvalidArgument);
}

TEST_CASE("subset average effects", "[cate]") {
  const Sim train = simulate(3000, 9);
  const CausalData data(train.X, train.w, train.y);
  const auto model = cate::TLearner<Ridge, Logistic>({}, kRidge, kLogistic).fit(data);
  std::vector<Index> high;
  double truth = 0.0;
  for (Index i = 0; i < train.w.size(); ++i) {
    if (train.X(i, 0) > 0.5) {
      high.push_back(i);
      truth += train.tau[i];
    }
  }
  truth /= static_cast<double>(high.size());
  const Estimate sub = model.average_effect(high);
  CHECK(std::abs(sub.value - truth) < 4 * sub.std_error);
  CHECK(sub.value > model.average_effect().value + 0.5);  // τ grows with x0
  CHECK_THROWS_AS(model.average_effect(std::vector<Index>{}), InvalidArgument);
  CHECK_THROWS_WITH(model.average_effect(std::vector<Index>{5000}), Catch::Contains("rows contains 5000"));
}
