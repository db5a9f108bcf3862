// Tests for policy/report.hpp: per-group effects on hand-computed data, agreement with
// tailor::cate's AIPW average effect, a simulation with known per-group effects (one negative,
// found by sleeping_dogs), interval coverage, and bad-input messages.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "tailor/cate/average_effect.hpp"
#include "tailor/core/random.hpp"
#include "tailor/policy/report.hpp"
#include "tailor/policy/scores.hpp"

using namespace tailor;
using policy::effects_by_group;
using policy::GroupEffect;
using policy::sleeping_dogs;

namespace {
// Labels need not be contiguous: groups 2, 4, 7, 9.
//   group 2: [−2, −4, −6]  mean −4, sd 2,  se 2/√3
//   group 4: [2, −2]       mean 0,  sd 2√2, se 2
//   group 7: [1, 3]        mean 2,  sd √2, se 1
//   group 9: [5]           one row, no variance
const Vector kScores{{1.0, -2.0, 3.0, -4.0, -6.0, 5.0, 2.0, -2.0}};
const IndexVector kGroups{{7, 2, 7, 2, 2, 9, 4, 4}};

// One simulated experiment: groups 0..3 with true effects kTrue, W ~ Bernoulli(e(x)),
// Y = μ₀(x) + W·τ_g + N(0, 1); AIPW scores with the true nuisances.
const double kTrue[4] = {1.0, 0.5, -0.6, 0.8};
struct Simulated {
  Vector scores;
  IndexVector group;
};
Simulated simulate(Rng& rng, Index n) {
  Vector y(n), w(n), mu0(n), mu1(n), e(n);
  IndexVector group(n);
  for (Index i = 0; i < n; ++i) {
    const double x = rng.uniform();
    group[i] = i % 4;
    e[i] = 0.3 + 0.4 * x;
    w[i] = rng.bernoulli(e[i]) ? 1.0 : 0.0;
    mu0[i] = 1.0 + 2.0 * x;
    mu1[i] = mu0[i] + kTrue[group[i]];
    y[i] = mu0[i] + w[i] * kTrue[group[i]] + rng.normal();
  }
  const Matrix g = policy::double_robust_scores(y, w, mu0, mu1, e);
  return {g.col(1) - g.col(0), group};
}
}  // namespace

TEST_CASE("effects_by_group matches hand computation", "[policy]") {
  const std::vector<GroupEffect> effects = effects_by_group(kScores, kGroups);
  REQUIRE(effects.size() == 4);
  CHECK(effects[0].group == 2);
  CHECK(effects[1].group == 4);
  CHECK(effects[2].group == 7);
  CHECK(effects[3].group == 9);
  CHECK(effects[0].size == 3);
  CHECK(effects[1].size == 2);
  CHECK(effects[2].size == 2);
  CHECK(effects[3].size == 1);

  // z_{0.975} = 1.959963985: group 2 −4 ± 2.2631715 = [−6.2631715, −1.7368285].
  CHECK(effects[0].effect.value == Approx(-4.0));
  CHECK(effects[0].effect.std_error == Approx(1.1547005384));
  CHECK(effects[0].interval.lower == Approx(-6.2631714682));
  CHECK(effects[0].interval.upper == Approx(-1.7368285318));
  CHECK(effects[0].significantly_negative);
  CHECK_FALSE(effects[0].significantly_positive);
  // group 4: 0 ± 3.9199280 — neither.
  CHECK(effects[1].effect.value == Approx(0.0).margin(1e-15));
  CHECK(effects[1].effect.std_error == Approx(2.0));
  CHECK(effects[1].interval.upper == Approx(3.9199279691));
  CHECK_FALSE(effects[1].significantly_negative);
  CHECK_FALSE(effects[1].significantly_positive);
  // group 7: 2 ± 1.959963985 = [0.0400360, 3.9599640] — significantly positive, barely.
  CHECK(effects[2].effect.value == Approx(2.0));
  CHECK(effects[2].effect.std_error == Approx(1.0));
  CHECK(effects[2].interval.lower == Approx(0.0400360155));
  CHECK(effects[2].significantly_positive);
  CHECK_FALSE(effects[2].significantly_negative);
  // group 9: one row — value 5, infinite se, unbounded interval, never flagged.
  CHECK(effects[3].effect.value == 5.0);
  CHECK(std::isinf(effects[3].effect.std_error));
  CHECK(effects[3].interval.lower == -std::numeric_limits<double>::infinity());
  CHECK(effects[3].interval.upper == std::numeric_limits<double>::infinity());
  CHECK_FALSE(effects[3].significantly_negative);
  CHECK_FALSE(effects[3].significantly_positive);

  // At level 0.5 (z = 0.6744898) group 7 is 2 ± 0.67449 and group 4 still straddles 0.
  const std::vector<GroupEffect> half = effects_by_group(kScores, kGroups, 0.5);
  CHECK(half[2].interval.lower == Approx(1.3255102498));
  CHECK(half[1].interval.lower == Approx(-1.3489795004));
  // At level 0.99 (z = 2.5758293) group 7's interval [−0.576, 4.576] includes 0.
  const std::vector<GroupEffect> strict = effects_by_group(kScores, kGroups, 0.99);
  CHECK_FALSE(strict[2].significantly_positive);
  CHECK(strict[0].significantly_negative);  // −4 + 2.5758·1.1547 = −1.026 < 0
}

TEST_CASE("sleeping_dogs lists the significantly negative groups, most negative first",
          "[policy]") {
  const std::vector<GroupEffect> dogs = sleeping_dogs(kScores, kGroups);
  REQUIRE(dogs.size() == 1);
  CHECK(dogs[0].group == 2);
  CHECK(dogs[0].effect.value == Approx(-4.0));

  // Two negative groups: 5 ([−1, −1.2, −0.8], mean −1) and 3 ([−3, −3.5, −2.5], mean −3).
  const Vector scores{{-1.0, -3.0, -1.2, -3.5, -0.8, -2.5, 4.0, 6.0}};
  const IndexVector group{{5, 3, 5, 3, 5, 3, 0, 0}};
  const std::vector<GroupEffect> two = sleeping_dogs(scores, group);
  REQUIRE(two.size() == 2);
  CHECK(two[0].group == 3);
  CHECK(two[0].effect.value == Approx(-3.0));
  CHECK(two[1].group == 5);
  CHECK(two[1].effect.value == Approx(-1.0));
  // All positive: no sleeping dogs.
  const Vector positive{{1.0, 2.0, 3.0, 4.0}};
  CHECK(sleeping_dogs(positive, IndexVector{{0, 0, 1, 1}}).empty());
}

TEST_CASE("one group reproduces the AIPW average effect and its standard error", "[policy]") {
  Rng rng(19);
  const Index n = 400;
  Vector y(n), w(n), mu0(n), mu1(n), e(n);
  for (Index i = 0; i < n; ++i) {
    e[i] = rng.uniform(0.1, 0.9);
    w[i] = rng.bernoulli(e[i]) ? 1.0 : 0.0;
    mu0[i] = rng.normal();
    mu1[i] = rng.normal(0.5, 1.0);
    y[i] = rng.normal(0.3 * w[i], 1.5);
  }
  const cate::NuisanceEstimates nu{mu0, mu1, e};
  const Vector scores = cate::aipw_scores(y, w, nu);
  IndexVector group(n);
  std::vector<Index> odd_rows;
  for (Index i = 0; i < n; ++i) {
    group[i] = i % 2;
    if (i % 2 == 1) odd_rows.push_back(i);
  }
  const Estimate all = cate::aipw_average_effect(y, w, nu);
  const std::vector<GroupEffect> one = effects_by_group(scores, IndexVector::Zero(n));
  REQUIRE(one.size() == 1);
  CHECK(one[0].effect.value == Approx(all.value).margin(1e-12));
  CHECK(one[0].effect.std_error == Approx(all.std_error).epsilon(1e-10));
  // The odd group equals the AIPW effect on those rows.
  const Estimate odd = cate::aipw_average_effect(y, w, nu, cate::TargetSample::all, odd_rows);
  const std::vector<GroupEffect> halves = effects_by_group(scores, group);
  CHECK(halves[1].effect.value == Approx(odd.value).margin(1e-12));
  CHECK(halves[1].effect.std_error == Approx(odd.std_error).epsilon(1e-10));
}

TEST_CASE("sleeping_dogs finds exactly the group with a negative true effect", "[policy]") {
  Rng rng(42);
  const Simulated sim = simulate(rng, 4000);
  const std::vector<GroupEffect> effects = effects_by_group(sim.scores, sim.group);
  REQUIRE(effects.size() == 4);
  for (Index g = 0; g < 4; ++g) {
    INFO("group " << g << ": " << effects[g].effect.value << " ± " << effects[g].effect.std_error);
    CHECK(effects[g].size == 1000);
    CHECK(effects[g].interval.contains(kTrue[g]));
    CHECK(effects[g].significantly_positive == (kTrue[g] > 0));
    CHECK(effects[g].significantly_negative == (kTrue[g] < 0));
  }
  const std::vector<GroupEffect> dogs = sleeping_dogs(sim.scores, sim.group);
  REQUIRE(dogs.size() == 1);
  CHECK(dogs[0].group == 2);
}

TEST_CASE("group intervals cover the true effects at the nominal rate", "[policy]") {
  // 300 experiments × 4 groups of 100 rows: the share of 90% intervals covering the true effect
  // must be near 0.90 (binomial sd over 1200 intervals ≈ 0.009).
  Rng rng(8);
  int covered = 0, total = 0;
  for (int rep = 0; rep < 300; ++rep) {
    const Simulated sim = simulate(rng, 400);
    for (const GroupEffect& e : effects_by_group(sim.scores, sim.group, 0.90)) {
      covered += e.interval.contains(kTrue[e.group]) ? 1 : 0;
      ++total;
    }
  }
  const double coverage = static_cast<double>(covered) / total;
  INFO("coverage " << coverage);
  CHECK(coverage > 0.87);
  CHECK(coverage < 0.93);
}

TEST_CASE("effects_by_group and sleeping_dogs reject bad input with clear messages", "[policy]") {
  for (double level : {0.0, 1.0, 1.5}) {
    CHECK_THROWS_AS(effects_by_group(kScores, kGroups, level), InvalidArgument);
    CHECK_THROWS_WITH(effects_by_group(kScores, kGroups, level),
                      Catch::Contains(fmt::format(
                          "effects_by_group: level = {}, expected a value in (0, 1)", level)));
  }
  CHECK_THROWS_WITH(sleeping_dogs(kScores, kGroups, 2.0),
                    Catch::Contains("sleeping_dogs: level = 2, expected a value in (0, 1)"));
  IndexVector groups = kGroups;
  groups[3] = -1;
  CHECK_THROWS_AS(effects_by_group(kScores, groups), DataError);
  CHECK_THROWS_WITH(effects_by_group(kScores, groups),
                    Catch::Contains("effects_by_group: group[3] = -1, expected a non-negative "
                                    "label"));
  Vector scores = kScores;
  scores[5] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(sleeping_dogs(scores, kGroups), DataError);
  CHECK_THROWS_WITH(sleeping_dogs(scores, kGroups),
                    Catch::Contains("sleeping_dogs: scores[5] = nan, expected a finite value"));
  const IndexVector short_groups = kGroups.head(7);
  CHECK_THROWS_AS(effects_by_group(kScores, short_groups), ShapeMismatch);
  CHECK_THROWS_WITH(effects_by_group(kScores, short_groups),
                    Catch::Contains("effects_by_group: group has 7 rows, expected 8 (the length "
                                    "of scores)"));
  const Vector empty;
  const IndexVector no_groups;
  CHECK_THROWS_AS(effects_by_group(empty, no_groups), DataError);
  CHECK_THROWS_WITH(effects_by_group(empty, no_groups),
                    Catch::Contains("effects_by_group: scores has 0 rows, expected at least 1"));
}
