// Tests for cate/average_effect.hpp and cate/overlap.hpp against hand-computed values.
#include <catch2/catch.hpp>

#include <vector>

#include "tailor/cate/average_effect.hpp"
#include "tailor/cate/overlap.hpp"

using namespace tailor;
using cate::TargetSample;

namespace {
// y = [3, 1, 4, 3], w = [1, 0, 1, 0], μ̂₀ = [1, 1, 2, 2], μ̂₁ = [3, 2, 3, 3], ê = [.5, .5, .25, .75]
struct Tiny {
  Vector y{{3.0, 1.0, 4.0, 3.0}};
  Vector w{{1.0, 0.0, 1.0, 0.0}};
  cate::NuisanceEstimates nu{Vector{{1.0, 1.0, 2.0, 2.0}}, Vector{{3.0, 2.0, 3.0, 3.0}},
                             Vector{{0.5, 0.5, 0.25, 0.75}}};
};
}  // namespace

TEST_CASE("AIPW scores and ATE match hand computation", "[cate]") {
  Tiny t;
  // Γ₁ = 3−1 + (3−3)/.5 = 2; Γ₂ = 2−1 − (1−1)/.5 = 1; Γ₃ = 3−2 + (4−3)/.25 = 5;
  // Γ₄ = 3−2 − (3−2)/.25 = −3.
  const Vector scores = cate::aipw_scores(t.y, t.w, t.nu);
  CHECK(scores[0] == Approx(2.0));
  CHECK(scores[1] == Approx(1.0));
  CHECK(scores[2] == Approx(5.0));
  CHECK(scores[3] == Approx(-3.0));
  // ATE = 5/4 = 1.25; φ = [.75, −.25, 3.75, −4.25], Σφ² = 32.75, se = √(32.75·4/3)/4.
  const Estimate ate = cate::aipw_average_effect(t.y, t.w, t.nu);
  CHECK(ate.value == Approx(1.25));
  CHECK(ate.std_error == Approx(1.6520189));
}

TEST_CASE("AIPW ATT and ATC match hand computation", "[cate]") {
  Tiny t;
  // ATT: a = [2, 0, 2, −3·(3−2)] = [2, 0, 2, −3]; Σa/Σw = 1/2; φ = [1.5, 0, 1.5, −3],
  // se = √(13.5·4/3)/2 = √18/2.
  const Estimate att = cate::aipw_average_effect(t.y, t.w, t.nu, TargetSample::treated);
  CHECK(att.value == Approx(0.5));
  CHECK(att.std_error == Approx(2.1213203));
  // ATC: c = [0, −(1−2), 3·(4−3), −(3−3)] = [0, 1, 3, 0]; Σc/Σ(1−w) = 2; φ = [0, −1, 3, −2],
  // se = √(14·4/3)/2.
  const Estimate atc = cate::aipw_average_effect(t.y, t.w, t.nu, TargetSample::control);
  CHECK(atc.value == Approx(2.0));
  CHECK(atc.std_error == Approx(2.1602469));
}

TEST_CASE("AIPW on a subset and with weights", "[cate]") {
  Tiny t;
  const std::vector<Index> rows{0, 2};  // Γ = 2 and 5
  const Estimate sub = cate::aipw_average_effect(t.y, t.w, t.nu, TargetSample::all, rows);
  CHECK(sub.value == Approx(3.5));
  // Integer weights equal duplicated rows in the point estimate.
  const Vector weights{{2.0, 1.0, 1.0, 1.0}};
  const Estimate weighted =
      cate::aipw_average_effect(t.y, t.w, t.nu, TargetSample::all, {}, weights);
  CHECK(weighted.value == Approx((2.0 * 2 + 1 + 5 - 3) / 5.0));
}

TEST_CASE("AIPW rejects bad input", "[cate]") {
  Tiny t;
  t.nu.propensity[1] = 1.0;
  CHECK_THROWS_WITH(cate::aipw_average_effect(t.y, t.w, t.nu),
                    Catch::Contains("propensity[1] = 1, expected a value strictly between 0 and 1"));
  Tiny u;
  u.nu.mu0.resize(3);
  CHECK_THROWS_AS(cate::aipw_average_effect(u.y, u.w, u.nu), ShapeMismatch);
  Tiny v;
  const Vector all_treated{{1.0, 1.0, 1.0, 1.0}};
  CHECK_THROWS_WITH(cate::aipw_average_effect(v.y, all_treated, v.nu, TargetSample::control),
                    Catch::Contains("no control rows"));
}

TEST_CASE("overlap diagnostics match hand computation", "[cate]") {
  const Vector w{{1.0, 0.0, 1.0, 0.0}};
  const Vector e{{0.9, 0.2, 0.6, 0.4}};
  const auto d = cate::diagnose_overlap(w, e, 0.25);
  CHECK(d.propensity_auc == Approx(1.0));  // every treated ê exceeds every control ê
  CHECK(d.min_propensity == Approx(0.2));
  CHECK(d.max_propensity == Approx(0.9));
  CHECK(d.share_outside == Approx(0.5));  // 0.9 and 0.2 fall outside [0.25, 0.75]
  CHECK(d.ess_treated == Approx(25.0 / 13.0));
  CHECK(d.ess_control == Approx(1.96));
  CHECK(d.poor);
  CHECK(d.verdict.find("nearly separable") != std::string::npos);

  const Vector balanced_e = Vector::Constant(4, 0.5);
  const auto ok = cate::diagnose_overlap(w, balanced_e);
  CHECK_FALSE(ok.poor);
  CHECK(ok.propensity_auc == Approx(0.5));
  CHECK(ok.ess_treated == Approx(2.0));

  CHECK(cate::overlap_rows(e, 0.25) == std::vector<Index>{2, 3});
  CHECK(cate::clip_propensity(e, 0.25)[0] == Approx(0.75));
  CHECK_THROWS_AS(cate::clip_propensity(e, 0.6), InvalidArgument);
  const Vector bad{{0.5, 1.5, 0.5, 0.5}};
  CHECK_THROWS_WITH(cate::diagnose_overlap(w, bad), Catch::Contains("propensity[1] = 1.5"));
}
