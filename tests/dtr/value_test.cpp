// Tests of dtr/value.hpp: IPW and AIPW values of a fixed regime in design B cover its exact value
// at the nominal rate with AIPW tighter than IPW; the hand-computable one-stage case; paired
// comparisons; known propensities; bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "tailor/datasets/dtr_designs.hpp"
#include "tailor/dtr/q_learning.hpp"
#include "tailor/dtr/value.hpp"

using namespace tailor;
using namespace tailor::dtr;

namespace {

/// (1{X1 < 0}, 1{X2 > 0}) on design B's histories.
Regime fixed_regime() {
  return Regime({[](const Matrix& h) { return (h.col(0).array() < 0.0).cast<int>().eval(); },
                 [](const Matrix& h) { return (h.col(1).array() > 0.0).cast<int>().eval(); }});
}

}  // namespace

TEST_CASE("IPW and AIPW of one stage by hand", "[dtr][value]") {
  // Two units per action; known propensity 0.5; the regime treats everyone.
  const Matrix h = (Matrix(4, 1) << 0.0, 1.0, 2.0, 3.0).finished();
  const Eigen::VectorXi a = (Eigen::VectorXi(4) << 1, 0, 1, 0).finished();
  const Vector y = (Vector(4) << 4.0, 1.0, 6.0, 3.0).finished();
  const SequentialData data({{.history = h, .action = a, .propensity = Vector::Constant(4, 0.5)}},
                            y);
  const Regime treat = Regime::constant(1, 1);
  // IPW: (4/0.5 + 0 + 6/0.5 + 0) / 4 = 5.
  const Matrix p = observed_propensities(data);
  CHECK(p.col(0) == Vector::Constant(4, 0.5));
  const LinearQModel q = fit_regime_q_functions(data, treat);
  const RegimeValue v = regime_value(data, treat, p, q);
  CHECK(v.ipw.value == Approx(5.0));
  // AIPW = mean[C·Y/π + (1 − C/π)·Q(h, 1)], Q the regime's fitted Q-function.
  const Vector q1 = q.q_values(0, h).col(1);
  double expected = 0.0;
  for (Index i = 0; i < 4; ++i) {
    const double c = a[i] == 1 ? 2.0 : 0.0;
    expected += (c * y[i] + (1.0 - c) * q1[i]) / 4.0;
  }
  CHECK(v.aipw.value == Approx(expected));
  REQUIRE_THROWS_AS(regime_value(data, treat, Matrix::Constant(3, 1, 0.5), q), ShapeMismatch);
  REQUIRE_THROWS_WITH(regime_value(data, Regime::constant(1, 5), p, q),
                      Catch::Contains("expected 0..1"));
  REQUIRE_THROWS_WITH(evaluate_regime(data, Regime::constant(2, 1)),
                      Catch::Contains("regime stages = 2"));
}

TEST_CASE("design B: IPW and AIPW intervals of a fixed regime cover its exact value",
          "[dtr][value][coverage]") {
  const datasets::DesignBParams psi;
  const Regime regime = fixed_regime();
  const double truth = 1.4763320931;
  CHECK(datasets::dtr_design_b_value(regime, psi) == Approx(truth).margin(1e-5));
  constexpr int kDraws = 200;
  int ipw_cover = 0, aipw_cover = 0;
  double ipw_se = 0.0, aipw_se = 0.0;
  for (int draw = 0; draw < kDraws; ++draw) {
    const auto sample =
        datasets::dtr_design_b(1'000, psi, 1'000 + static_cast<std::uint64_t>(draw));
    const RegimeValue v = evaluate_regime(sample.data, regime);
    const auto ci = v.ipw.confidence_interval(0.95);
    const auto ca = v.aipw.confidence_interval(0.95);
    ipw_cover += ci.lower <= truth && truth <= ci.upper;
    aipw_cover += ca.lower <= truth && truth <= ca.upper;
    ipw_se += v.ipw.std_error / kDraws;
    aipw_se += v.aipw.std_error / kDraws;
  }
  INFO("IPW covers " << ipw_cover << ", AIPW " << aipw_cover << " of " << kDraws);
  CHECK(ipw_cover >= 180);
  CHECK(ipw_cover <= 194);
  CHECK(aipw_cover >= 180);
  CHECK(aipw_cover <= 194);
  CHECK(aipw_se < ipw_se);
}

TEST_CASE("paired comparison of regimes; the learned regime beats treat-none",
          "[dtr][value][compare]") {
  const datasets::DesignBParams psi;
  const auto train = datasets::dtr_design_b(5'000, psi, 31);
  const auto test = datasets::dtr_design_b(5'000, psi, 32);
  const LinearQModel q =
      LinearQLearning(
          {.stages = {StageDesign{}, StageDesign{.contrast_columns = std::vector<Index>{1, 2}}}})
          .fit(train.data);
  const Regime none = Regime::constant(2, 0);
  const RegimeComparison diff = compare_regimes(test.data, q.regime(), none);
  const double true_diff = 1.5 + 0.5 * 0.3989422804014327 - datasets::dtr_design_b_value(none, psi);
  CHECK(diff.aipw.confidence_interval().lower > 0.0);
  CHECK(std::fabs(diff.aipw.value - true_diff) <= 3.0 * diff.aipw.std_error);
  CHECK(std::fabs(diff.ipw.value - true_diff) <= 3.0 * diff.ipw.std_error);
  // With the true propensities the IPW term uses them as given.
  std::vector<Stage> stages = test.data.stages();
  stages[0].propensity = test.true_propensity.col(0);
  stages[1].propensity = test.true_propensity.col(1);
  const SequentialData known(stages, test.data.outcome());
  CHECK(observed_propensities(known) == test.true_propensity);
  const RegimeValue v = evaluate_regime(known, q.regime());
  CHECK(std::fabs(v.ipw.value - (1.5 + 0.5 * 0.3989422804014327)) <= 4.0 * v.ipw.std_error);
}
