// Tests for the meta-learners' out-of-bag nuisances (MetaLearnerParams::nuisance_fit =
// NuisanceFit::out_of_bag, cate/meta_learner_common.hpp): the summary's μ̂₀, μ̂₁, ê are exactly
// the forests' out-of-bag predictions on their own arm and plain predictions on the other; the
// T/X-learners reuse those fits; CATE and AIPW effects recover a known truth as well as
// cross-fitting does; thread-count invariance; save/load; the errors for learners without
// out-of-bag predictions, compute_oob = false and rows that no tree left out.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>

#include "tailor/cate/dr_learner.hpp"
#include "tailor/cate/r_learner.hpp"
#include "tailor/cate/s_learner.hpp"
#include "tailor/cate/t_learner.hpp"
#include "tailor/cate/x_learner.hpp"
#include "tailor/core/random.hpp"
#include "tailor/learn/classification_forest.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/regression_forest.hpp"
#include "tailor/learn/ridge.hpp"

using namespace tailor;
using Forest = learn::RegressionForest;
using ForestClassifier = learn::ClassificationForest;
using cate::NuisanceFit;

namespace {

struct Sim {
  Matrix X;
  Vector w, y, tau;
};

// τ(x) = 1 + max(x₀, 0), e(x) = logistic(0.8 x₀) (confounded through x₀, which also moves τ),
// Y = x₁ + max(x₂, 0) + 0.5 x₀ + W τ(x) + N(0, 0.5²).
Sim simulate(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Sim s{Matrix(n, 4), Vector(n), Vector(n), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 4; ++j) s.X(i, j) = rng.normal();
    const double x0 = s.X(i, 0);
    s.w[i] = rng.bernoulli(1.0 / (1.0 + std::exp(-0.8 * x0))) ? 1.0 : 0.0;
    s.tau[i] = 1.0 + std::max(x0, 0.0);
    s.y[i] =
        s.X(i, 1) + std::max(s.X(i, 2), 0.0) + 0.5 * x0 + s.w[i] * s.tau[i] + 0.5 * rng.normal();
  }
  return s;
}

double rmse(const Vector& a, const Vector& b) {
  return std::sqrt((a - b).squaredNorm() / a.size());
}

Forest forest(Index threads, Index trees = 60) {
  return Forest({.num_trees = trees, .min_node_size = 5, .seed = 1, .num_threads = threads});
}
ForestClassifier classifier(Index threads, Index trees = 60) {
  return ForestClassifier(
      {.forest = {.num_trees = trees, .min_node_size = 5, .seed = 2, .num_threads = threads}});
}
cate::MetaLearnerParams oob_params(Index threads) {
  return {.nuisance_fit = NuisanceFit::out_of_bag, .seed = 3, .num_threads = threads};
}

}  // namespace

TEST_CASE("out-of-bag nuisances are the forests' own out-of-bag predictions", "[cate]") {
  const Sim s = simulate(800, 1);
  const CausalData data(s.X, s.w, s.y);
  const auto model =
      cate::TLearner<Forest, ForestClassifier>(oob_params(2), forest(2), classifier(2)).fit(data);

  // The same fits by hand: μ̂₀ on the controls, μ̂₁ on the treated, ê on all rows.
  std::vector<Index> control, treated;
  for (Index i = 0; i < s.w.size(); ++i) (s.w[i] == 1.0 ? treated : control).push_back(i);
  const auto mu0 = forest(2).fit(s.X(control, Eigen::all), s.y(control));
  const auto mu1 = forest(2).fit(s.X(treated, Eigen::all), s.y(treated));
  const auto e = classifier(2).fit(s.X, s.w);
  const Vector mu0_treated = mu0.predict(s.X(treated, Eigen::all));
  const Vector mu1_control = mu1.predict(s.X(control, Eigen::all));

  const auto& nu = model.nuisances();
  for (std::size_t k = 0; k < control.size(); ++k) {
    const Index i = control[k];
    REQUIRE(nu.mu0[i] == mu0.oob_predictions()[static_cast<Index>(k)]);
    REQUIRE(nu.mu1[i] == mu1_control[static_cast<Index>(k)]);
  }
  for (std::size_t k = 0; k < treated.size(); ++k) {
    const Index i = treated[k];
    REQUIRE(nu.mu1[i] == mu1.oob_predictions()[static_cast<Index>(k)]);
    REQUIRE(nu.mu0[i] == mu0_treated[static_cast<Index>(k)]);
  }
  const Vector e_oob = e.oob_proba().col(1);
  CHECK(nu.propensity == cate::clip_propensity(e_oob, 0.01));
  // Out of bag, not in sample: the in-sample fit of μ̂₀ on its own rows differs.
  CHECK(nu.mu0(control) != mu0.predict(s.X(control, Eigen::all)));

  // The T-learner's arm models are those same fits.
  CHECK(model.predict(s.X) == Vector(mu1.predict(s.X) - mu0.predict(s.X)));
}

TEST_CASE("out-of-bag meta-learners recover a known effect as well as cross-fitting", "[cate]") {
  const Sim train = simulate(3000, 2);
  const Sim test = simulate(2000, 3);
  const CausalData data(train.X, train.w, train.y);
  const cate::MetaLearnerParams cross{.num_folds = 5, .seed = 3, .num_threads = 2};
  const double true_ate = train.tau.mean();
  // The trivial estimator: the true ATE everywhere (knows what no method knows).
  const double trivial = rmse(Vector::Constant(test.tau.size(), test.tau.mean()), test.tau);

  const auto x_oob =
      cate::XLearner<Forest, ForestClassifier>(oob_params(2), forest(2), classifier(2)).fit(data);
  const auto x_cross =
      cate::XLearner<Forest, ForestClassifier>(cross, forest(2), classifier(2)).fit(data);
  const double x_oob_rmse = rmse(x_oob.predict(test.X), test.tau);
  const double x_cross_rmse = rmse(x_cross.predict(test.X), test.tau);
  INFO("X-learner RMSE: out of bag " << x_oob_rmse << ", cross-fit " << x_cross_rmse << ", trivial "
                                     << trivial);
  CHECK(x_oob_rmse < 0.3 * trivial);
  // The X-learner's τ̂ does not depend on the nuisance mode (same stage-1 fits): only the
  // summary does.
  CHECK(x_oob.predict(test.X) == x_cross.predict(test.X));

  const auto t_oob =
      cate::TLearner<Forest, ForestClassifier>(oob_params(2), forest(2), classifier(2)).fit(data);
  const auto r_oob =
      cate::RLearner<Forest, ForestClassifier>(oob_params(2), forest(2), classifier(2)).fit(data);
  const auto dr_oob =
      cate::DRLearner<Forest, ForestClassifier>(oob_params(2), forest(2), classifier(2)).fit(data);
  const auto dr_cross =
      cate::DRLearner<Forest, ForestClassifier>(cross, forest(2), classifier(2)).fit(data);
  const auto s_oob =
      cate::SLearner<Forest, ForestClassifier>(oob_params(2), forest(2), classifier(2)).fit(data);
  const double dr_oob_rmse = rmse(dr_oob.predict(test.X), test.tau);
  const double dr_cross_rmse = rmse(dr_cross.predict(test.X), test.tau);
  const double r_oob_rmse = rmse(r_oob.predict(test.X), test.tau);
  INFO("DR RMSE: out of bag " << dr_oob_rmse << ", cross-fit " << dr_cross_rmse << "; R "
                              << r_oob_rmse);
  CHECK(dr_oob_rmse < 0.4 * trivial);
  CHECK(dr_oob_rmse < 1.25 * dr_cross_rmse);
  CHECK(r_oob_rmse < 0.4 * trivial);
  CHECK(rmse(t_oob.predict(test.X), test.tau) <
        0.6 * trivial);  // 0.26: forest T-learners are biased

  // AIPW ATEs from out-of-bag nuisances cover the sample truth and agree with cross-fitting.
  const Estimate cross_ate = dr_cross.average_effect();
  for (const cate::EffectSummary* m : {static_cast<const cate::EffectSummary*>(&x_oob),
                                       static_cast<const cate::EffectSummary*>(&t_oob),
                                       static_cast<const cate::EffectSummary*>(&r_oob),
                                       static_cast<const cate::EffectSummary*>(&dr_oob),
                                       static_cast<const cate::EffectSummary*>(&s_oob)}) {
    const Estimate ate = m->average_effect();
    INFO("ATE " << ate.value << " ± " << ate.std_error << ", truth " << true_ate);
    CHECK(std::abs(ate.value - true_ate) < 4 * ate.std_error);
    CHECK(std::abs(ate.value - cross_ate.value) < 2 * cross_ate.std_error);
    CHECK(ate.std_error > 0.01);
    CHECK(ate.std_error < 0.1);
  }
  // Every out-of-bag model carries the same summary (the same three nuisance fits).
  CHECK(x_oob.nuisances().mu0 == dr_oob.nuisances().mu0);
  CHECK(t_oob.nuisances().propensity == s_oob.nuisances().propensity);
  CHECK(x_oob.diagnostics().propensity_auc > 0.6);
}

TEST_CASE("out-of-bag meta-learners are identical for any thread count", "[cate]") {
  const Sim s = simulate(600, 4);
  const CausalData data(s.X, s.w, s.y);
  const auto a =
      cate::DRLearner<Forest, ForestClassifier>(oob_params(1), forest(1), classifier(1)).fit(data);
  const auto b =
      cate::DRLearner<Forest, ForestClassifier>(oob_params(3), forest(3), classifier(3)).fit(data);
  CHECK(a.predict(s.X) == b.predict(s.X));
  CHECK(a.nuisances().mu0 == b.nuisances().mu0);
  CHECK(a.nuisances().mu1 == b.nuisances().mu1);
  CHECK(a.nuisances().propensity == b.nuisances().propensity);
  const auto c =
      cate::XLearner<Forest, ForestClassifier>(oob_params(1), forest(1), classifier(1)).fit(data);
  const auto d =
      cate::XLearner<Forest, ForestClassifier>(oob_params(3), forest(3), classifier(3)).fit(data);
  CHECK(c.predict(s.X) == d.predict(s.X));
  CHECK(c.average_effect().value == d.average_effect().value);
}

TEST_CASE("out-of-bag models save and load", "[cate]") {
  const Sim s = simulate(500, 5);
  const CausalData data(s.X, s.w, s.y);
  const auto model =
      cate::XLearner<Forest, ForestClassifier>(oob_params(2), forest(2, 20), classifier(2, 20))
          .fit(data);
  std::stringstream buffer;
  tailor::save(model, buffer);
  const auto loaded = tailor::load<std::remove_cvref_t<decltype(model)>>(buffer);
  CHECK(loaded.predict(s.X) == model.predict(s.X));
  CHECK(loaded.average_effect().value == model.average_effect().value);
  CHECK(loaded.nuisances().mu1 == model.nuisances().mu1);
}

TEST_CASE("out-of-bag nuisances with known propensities fit no classifier", "[cate]") {
  Sim s = simulate(800, 6);
  Rng rng(7);
  for (Index i = 0; i < s.w.size(); ++i) {
    s.w[i] = rng.bernoulli(0.3) ? 1.0 : 0.0;
    s.y[i] = s.X(i, 1) + s.w[i] * s.tau[i] + 0.5 * rng.normal();
  }
  const Vector e = Vector::Constant(s.w.size(), 0.3);
  const CausalData data(s.X, s.w, s.y, {.propensity = e});
  const auto model =
      cate::XLearner<Forest, ForestClassifier>(oob_params(2), forest(2), classifier(2)).fit(data);
  CHECK(model.nuisances().propensity == e);
  const Estimate ate = model.average_effect();
  CHECK(std::abs(ate.value - s.tau.mean()) < 4 * ate.std_error);
}

TEST_CASE("out-of-bag nuisances reject what cannot give them", "[cate]") {
  using Catch::Contains;
  const learn::Ridge ridge({.alpha = 1e-3});
  const learn::LogisticRegression logistic{};
  // Base learners without out-of-bag predictions: refused at construction.
  CHECK_THROWS_AS(
      (cate::XLearner<learn::Ridge, learn::LogisticRegression>(oob_params(1), ridge, logistic)),
      InvalidArgument);
  CHECK_THROWS_WITH(
      (cate::XLearner<learn::Ridge, learn::LogisticRegression>(oob_params(1), ridge, logistic)),
      Contains("XLearner: nuisance_fit = out_of_bag") && Contains("NuisanceFit::cross_fit"));
  CHECK_THROWS_WITH(
      (cate::DRLearner<Forest, learn::LogisticRegression>(oob_params(1), forest(1), logistic)),
      Contains("DRLearner: nuisance_fit = out_of_bag"));
  // A forest told not to compute them.
  const Forest no_oob({.num_trees = 10, .compute_oob = false});
  CHECK_THROWS_AS((cate::TLearner<Forest, ForestClassifier>(oob_params(1), no_oob, classifier(1))),
                  InvalidArgument);
  CHECK_THROWS_WITH(
      (cate::TLearner<Forest, ForestClassifier>(oob_params(1), no_oob, classifier(1))),
      Contains("outcome learner has compute_oob = false"));
  const ForestClassifier no_oob_classifier({.forest = {.num_trees = 10, .compute_oob = false}});
  CHECK_THROWS_WITH(
      (cate::RLearner<Forest, ForestClassifier>(oob_params(1), forest(1), no_oob_classifier)),
      Contains("propensity learner has compute_oob = false"));
  // Cross-fitting still accepts them.
  const cate::MetaLearnerParams cross{.num_folds = 2};
  CHECK_NOTHROW(cate::XLearner<learn::Ridge, learn::LogisticRegression>(cross, ridge, logistic));
  CHECK_NOTHROW(cate::TLearner<Forest, ForestClassifier>(cross, no_oob, no_oob_classifier));

  // One tree samples half the rows: the others have out-of-bag values, these do not.
  const Sim s = simulate(200, 8);
  const CausalData data(s.X, s.w, s.y);
  const cate::DRLearner<Forest, ForestClassifier> one_tree(oob_params(1), forest(1, 1),
                                                           classifier(1, 1));
  CHECK_THROWS_AS(one_tree.fit(data), DataError);
  CHECK_THROWS_WITH(one_tree.fit(data), Contains("no out-of-bag prediction for training row") &&
                                            Contains("more trees"));
}
