// Tests of dtr/sequential_data.hpp, q_learning.hpp and a_learning.hpp on designs with exact
// truths (datasets/dtr_designs.hpp): Q-learning's coefficients and plug-in value, its documented
// failure under a misspecified main effect (design A, β₂ = 1) where A-learning stays consistent,
// nonparametric Q-functions whose regret falls with n, several actions, determinism, bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "tailor/core/random.hpp"
#include "tailor/datasets/dtr_designs.hpp"
#include "tailor/dtr/a_learning.hpp"
#include "tailor/dtr/q_learning.hpp"
#include "tailor/dtr/sequential_data.hpp"
#include "tailor/learn/ridge.hpp"

using namespace tailor;
using namespace tailor::dtr;

namespace {

/// Design B's stage-2 contrast enters through X2 and A1 only (columns 1 and 2 of H₂).
LinearQLearning design_b_q_learning() {
  return LinearQLearning(
      {.stages = {StageDesign{}, StageDesign{.contrast_columns = std::vector<Index>{1, 2}}}});
}

}  // namespace

TEST_CASE("SequentialData rejects bad input with named rows", "[dtr][data]") {
  const Matrix h = Matrix::Random(6, 2);
  const Eigen::VectorXi a = (Eigen::VectorXi(6) << 0, 1, 0, 1, 1, 0).finished();
  const Vector y = Vector::Ones(6);
  CHECK_NOTHROW(SequentialData({{.history = h, .action = a}}, y));
  Eigen::VectorXi bad = a;
  bad[3] = 2;
  REQUIRE_THROWS_WITH(SequentialData({{.history = h, .action = bad}}, y),
                      Catch::Contains("stage 1 action[3] = 2, expected an action in 0..1"));
  REQUIRE_THROWS_WITH(SequentialData({{.history = h, .action = Eigen::VectorXi::Zero(6)}}, y),
                      Catch::Contains("takes only one value"));
  REQUIRE_THROWS_AS(SequentialData({{.history = h.topRows(5), .action = a}}, y), ShapeMismatch);
  Vector p = Vector::Constant(6, 0.5);
  p[2] = 1.0;
  REQUIRE_THROWS_WITH(
      SequentialData({{.history = h, .action = a, .propensity = p}}, y),
      Catch::Contains("stage 1 propensity[2] = 1, expected a probability in (0, 1)"));
  Matrix nan_h = h;
  nan_h(4, 1) = std::nan("");
  REQUIRE_THROWS_WITH(SequentialData({{.history = nan_h, .action = a}}, y),
                      Catch::Contains("stage 1 history(4, 1) = nan"));
  REQUIRE_THROWS_WITH(SequentialData({{.history = h, .action = a}, {.history = h, .action = a}},
                                     Matrix(Matrix::Ones(6, 3))),
                      Catch::Contains("rewards has 3 columns, expected 2"));
  const SequentialData two({{.history = h, .action = a}, {.history = h, .action = a}}, y);
  CHECK(two.rewards().col(0).isZero());
  CHECK(two.outcome() == y);
  REQUIRE_THROWS_AS(Regime({StageRule{}}), InvalidArgument);
}

TEST_CASE(
    "design A: linear Q-learning is biased under a misspecified main effect, A-learning is "
    "not",
    "[dtr][q_learning][a_learning]") {
  // β₂ = 1: Q-learning on (1, X, A, AX) has population contrast slope +0.692389 (the wrong sign);
  // A-learning with the (correct) logistic propensity model recovers ψ = (0.5, −1).
  double q_slope = 0.0, a_slope = 0.0, a_value = 0.0;
  constexpr int kDraws = 4;
  for (int draw = 0; draw < kDraws; ++draw) {
    const auto sample = datasets::dtr_design_a(20'000, 1.0, 100 + static_cast<std::uint64_t>(draw));
    const LinearQModel q = LinearQLearning().fit(sample.data);
    const ALearningModel a = ALearning().fit(sample.data);
    q_slope += q.stage(0).coefficients()[3] / kDraws;
    a_slope += a.contrast(0, 1).value / kDraws;
    a_value += datasets::dtr_design_a_linear_rule_value(1.0, a.contrast(0, 0).value,
                                                        a.contrast(0, 1).value) /
               kDraws;
  }
  CHECK(q_slope == Approx(0.692389).margin(0.05));
  CHECK(a_slope == Approx(-1.0).margin(0.02));
  CHECK(a_value >= 2.65);
  CHECK(datasets::dtr_design_a_optimal_value(1.0) == Approx(2.6977965574).epsilon(1e-10));

  // β₂ = 0: both are consistent; A-learning's sandwich error is honest (|ψ̂ − ψ| < 4 SE).
  const auto sample = datasets::dtr_design_a(20'000, 0.0, 7);
  const LinearQModel q = LinearQLearning().fit(sample.data);
  CHECK(q.stage(0).coefficients()[3] ==
        Approx(-1.0).margin(4 * q.stage(0).coefficient(3).std_error));
  const ALearningModel a = ALearning().fit(sample.data);
  CHECK(std::fabs(a.contrast(0, 1).value + 1.0) < 4 * a.contrast(0, 1).std_error);
  CHECK(std::fabs(a.contrast(0, 0).value - 0.5) < 4 * a.contrast(0, 0).std_error);
  // Known propensities give the same kind of answer.
  std::vector<Stage> stages = sample.data.stages();
  stages[0].propensity = sample.true_propensity.col(0);
  const ALearningModel known = ALearning().fit(SequentialData(stages, sample.data.outcome()));
  CHECK(known.stage(0).propensity_known);
  CHECK(known.contrast(0, 1).value == Approx(-1.0).margin(4 * known.contrast(0, 1).std_error));
  // The regime acts where the blip is positive.
  const Matrix x = (Matrix(3, 1) << -1.0, 0.4, 2.0).finished();
  CHECK(a.decide(0, x) == (Eigen::VectorXi(3) << 1, 1, 0).finished());
}

TEST_CASE("design B: two-stage linear Q-learning recovers both stages", "[dtr][q_learning]") {
  const datasets::DesignBParams psi;  // (0.5, 0, −1): both Q-functions linear
  const auto sample = datasets::dtr_design_b(20'000, psi, 11);
  const LinearQModel q = design_b_q_learning().fit(sample.data);
  // Stage 2 on (1, X1, X2, A1, A1X1 | A2: 1, X2, A1); stage 1 on (1, X1 | A1: 1, X1).
  const std::vector<double> stage2 = {1.0, 1.0, 0.5, 0.25, -0.5, 0.5, 0.0, -1.0};
  const std::vector<double> stage1 = {1.5, 1.25, 0.0, -0.5};
  REQUIRE(q.stage(1).coefficients().size() == 8);
  REQUIRE(q.stage(0).coefficients().size() == 4);
  for (Index j = 0; j < 8; ++j) {
    INFO("stage 2 coefficient " << j);
    CHECK(std::fabs(q.stage(1).coefficients()[j] - stage2[static_cast<std::size_t>(j)]) <=
          3.0 * q.stage(1).coefficient(j).std_error);
  }
  for (Index j = 0; j < 4; ++j) {
    INFO("stage 1 coefficient " << j);
    CHECK(std::fabs(q.stage(0).coefficients()[j] - stage1[static_cast<std::size_t>(j)]) <=
          3.0 * q.stage(0).coefficient(j).std_error);
  }
  const double v_star = 1.5 + 0.5 * 0.3989422804014327;
  CHECK(v_star == Approx(1.6994711402).epsilon(1e-10));
  CHECK(std::fabs(q.value().value - v_star) <= 3.0 * q.value().std_error);
  // Q at given actions in one pass equals the full Q matrix picked.
  const Matrix& h2 = sample.data.stage(1).history;
  const Eigen::VectorXi a2 = sample.data.stage(1).action;
  const Vector one_pass = q.q_at(1, h2, a2);
  const Matrix full = q.q_values(1, h2);
  for (Index i = 0; i < h2.rows(); i += 97) {
    CHECK(one_pass[i] == Approx(full(i, a2[i])).epsilon(1e-12));
  }
  // The learned regime is (nearly) optimal: its exact value.
  CHECK(datasets::dtr_design_b_value(q.regime(), psi) >= v_star - 0.005);
  CHECK(datasets::dtr_design_b_value(datasets::dtr_design_b_optimal_regime(psi), psi) ==
        Approx(v_star).margin(1e-5));
  const ALearningModel a =
      ALearning(
          {.stages = {StageDesign{}, StageDesign{.contrast_columns = std::vector<Index>{1, 2}}}})
          .fit(sample.data);
  CHECK(std::fabs(a.contrast(1, 2).value + 1.0) <= 4.0 * a.contrast(1, 2).std_error);
  CHECK(std::fabs(a.contrast(0, 1).value + 0.5) <= 4.0 * a.contrast(0, 1).std_error);
  REQUIRE_THROWS_WITH(
      LinearQLearning(
          {.stages = {StageDesign{.main_columns = std::vector<Index>{3}}, StageDesign{}}})
          .fit(sample.data),
      Catch::Contains("stage 1 main column 3 is out of range"));
}

TEST_CASE("nonparametric Q-learning: regret falls with n on a nonlinear stage 1",
          "[dtr][q_learning][forest]") {
  // ψ2 = (0.5, 1, −1): stage 1's Q-function involves Φ and φ, so linear models are wrong.
  const datasets::DesignBParams psi{.psi20 = 0.5, .psi21 = 1.0, .psi22 = -1.0};
  const dtr::Regime optimal = datasets::dtr_design_b_optimal_regime(psi);
  const double v_star = datasets::dtr_design_b_value(optimal, psi, 400);
  const QLearning<learn::RegressionForest> forests(
      {.learner = learn::RegressionForest({.num_trees = 200, .seed = 3, .num_threads = 2})});
  std::vector<double> regret;
  for (const Index n : {Index{2'000}, Index{20'000}}) {
    const auto sample = datasets::dtr_design_b(n, psi, 21);
    const auto model = forests.fit(sample.data);
    regret.push_back(v_star - datasets::dtr_design_b_value(model.regime(), psi, 400));
  }
  INFO("regret " << regret[0] << " then " << regret[1]);
  CHECK(regret[1] < regret[0]);
  CHECK(regret[1] < 0.05);
  // Identical for any thread count.
  const auto sample = datasets::dtr_design_b(3'000, psi, 5);
  const QLearning<learn::RegressionForest> one(
      {.learner = learn::RegressionForest({.num_trees = 50, .seed = 3, .num_threads = 1})});
  const QLearning<learn::RegressionForest> two(
      {.learner = learn::RegressionForest({.num_trees = 50, .seed = 3, .num_threads = 2})});
  const Matrix h2 = sample.data.stage(1).history;
  CHECK(one.fit(sample.data).q_values(1, h2) == two.fit(sample.data).q_values(1, h2));
}

TEST_CASE("Q-learning with three actions and known propensities", "[dtr][q_learning]") {
  // Y = X + 1{A=1}(1 − X) + 1{A=2}(0.5 + X) + noise, A uniform on {0, 1, 2}.
  Rng rng(9);
  const Index n = 6'000;
  Matrix x(n, 1);
  Eigen::VectorXi a(n);
  Vector y(n);
  for (Index i = 0; i < n; ++i) {
    x(i, 0) = rng.normal();
    a[i] = static_cast<int>(rng.uniform_index(3));
    y[i] = x(i, 0) + (a[i] == 1 ? 1.0 - x(i, 0) : 0.0) + (a[i] == 2 ? 0.5 + x(i, 0) : 0.0) +
           rng.normal();
  }
  const SequentialData data(
      {{.history = x, .action = a, .num_actions = 3, .propensity = Vector::Constant(n, 1.0 / 3.0)}},
      y);
  const LinearQModel q = LinearQLearning().fit(data);
  const std::vector<double> truth = {0.0, 1.0, 1.0, -1.0, 0.5, 1.0};
  for (Index j = 0; j < 6; ++j) {
    INFO("coefficient " << j);
    CHECK(std::fabs(q.stage(0).coefficients()[j] - truth[static_cast<std::size_t>(j)]) <=
          3.5 * q.stage(0).coefficient(j).std_error);
  }
  const Matrix probe = (Matrix(3, 1) << -2.0, 0.0, 2.0).finished();
  CHECK(q.decide(0, probe) == (Eigen::VectorXi(3) << 1, 1, 2).finished());
  REQUIRE_THROWS_WITH(ALearning().fit(data), Catch::Contains("expected 2"));
}

TEST_CASE("the stage least squares is learn::Ridge's estimator", "[dtr][q_learning]") {
  Rng rng(4);
  Matrix d(500, 4);
  Vector y(500);
  for (Index i = 0; i < 500; ++i) {
    d.row(i) << 1.0, rng.normal(), rng.normal() * 3.0 + 1.0, rng.uniform();
    y[i] = 2.0 - d(i, 1) + 0.5 * d(i, 2) + rng.normal();
  }
  for (const double alpha : {0.0, 2.5}) {
    Matrix gram;
    const Vector theta = dtr::detail::least_squares(d, y, alpha, gram);
    const auto ridge = learn::Ridge({.alpha = alpha, .fit_intercept = true}).fit(d.rightCols(3), y);
    CHECK(theta[0] == Approx(ridge.intercept()).epsilon(1e-10));
    for (Index j = 0; j < 3; ++j)
      CHECK(theta[j + 1] == Approx(ridge.coefficients()[j]).epsilon(1e-10));
  }
}
