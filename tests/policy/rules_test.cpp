// Tests for policy/rules.hpp: threshold rules, the multi-action argmax policy and the value of a
// policy under doubly-robust scores, on hand-computed cases; bad-input messages.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "tailor/core/random.hpp"
#include "tailor/policy/rules.hpp"

using namespace tailor;
using policy::argmax_policy;
using policy::policy_value;
using policy::policy_value_estimate;
using policy::treat_if_above;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("treat_if_above treats exactly the units whose effect exceeds the cost", "[policy]") {
  const Vector tau{{0.5, -1.0, 2.0, 1.0}};
  CHECK(treat_if_above(tau) == IndexVector{{1, 0, 1, 1}});
  // Strict inequality: τ̂ = cost (unit 3) only breaks even and stays untreated.
  CHECK(treat_if_above(tau, 1.0) == IndexVector{{0, 0, 1, 0}});
  CHECK(treat_if_above(tau, -5.0) == IndexVector{{1, 1, 1, 1}});
  // Per-unit costs: 0.5 > 0.4, −1 > −2 (a subsidy), 2 > 2 is false, 1 > 0.
  const Vector costs{{0.4, -2.0, 2.0, 0.0}};
  CHECK(treat_if_above(tau, costs) == IndexVector{{1, 1, 0, 1}});
}

TEST_CASE("treat_if_above rejects bad input with clear messages", "[policy]") {
  const Vector tau{{0.5, -1.0, kNaN, 1.0}};
  CHECK_THROWS_AS(treat_if_above(tau), DataError);
  CHECK_THROWS_WITH(treat_if_above(tau),
                    Catch::Contains("treat_if_above: tau[2] = nan, expected a finite value"));
  const Vector ok{{0.5, -1.0, 2.0, 1.0}};
  CHECK_THROWS_AS(treat_if_above(ok, kInf), InvalidArgument);
  CHECK_THROWS_WITH(treat_if_above(ok, kInf),
                    Catch::Contains("treat_if_above: cost = inf, expected a finite value"));
  const Vector short_costs{{1.0, 2.0, 3.0}};
  CHECK_THROWS_AS(treat_if_above(ok, short_costs), ShapeMismatch);
  CHECK_THROWS_WITH(treat_if_above(ok, short_costs),
                    Catch::Contains("treat_if_above: costs has 3 rows, expected 4 (the length "
                                    "of tau)"));
  const Vector nan_costs{{1.0, kNaN, 3.0, 0.0}};
  CHECK_THROWS_WITH(treat_if_above(ok, nan_costs),
                    Catch::Contains("costs[1] = nan, expected a finite value"));
  const Vector empty;
  CHECK_THROWS_AS(treat_if_above(empty), DataError);
  CHECK_THROWS_WITH(treat_if_above(empty),
                    Catch::Contains("treat_if_above: tau has 0 rows, expected at least 1"));
  CHECK_THROWS_WITH(treat_if_above(empty, empty), Catch::Contains("tau has 0 rows"));
}

TEST_CASE("argmax_policy picks the best action per row, ties to the lowest", "[policy]") {
  const Matrix scores{
      {3.0, 2.0, 3.0}, {4.0, 4.0, 6.0}, {0.0, 3.5, 2.0}, {-1.0, -1.0, -1.0}, {-2.0, -0.5, -0.5}};
  CHECK(argmax_policy(scores) == IndexVector{{0, 2, 1, 0, 1}});
  const Matrix one_action{{5.0}, {-2.0}};
  CHECK(argmax_policy(one_action) == IndexVector{{0, 0}});
}

TEST_CASE("policy_value is the mean score of the chosen actions", "[policy]") {
  const Matrix scores{{3.0, 2.0, 3.0}, {4.0, 4.0, 6.0}, {0.0, 3.5, 2.0}};
  const IndexVector actions{{0, 2, 1}};
  // (3 + 6 + 3.5) / 3
  CHECK(policy_value(scores, actions) == Approx(12.5 / 3.0));
  // sd([3, 6, 3.5]) = 1.6072751, se = sd/√3 = 0.9279607
  const Estimate value = policy_value_estimate(scores, actions);
  CHECK(value.value == Approx(4.1666666667));
  CHECK(value.std_error == Approx(0.9279607271));
  CHECK(policy_value(scores, IndexVector{{1, 1, 0}}) == Approx(6.0 / 3.0));
  // One row: the value is defined, its variance is not.
  const Matrix row{{1.0, 2.0}};
  const Estimate single = policy_value_estimate(row, IndexVector{{1}});
  CHECK(single.value == 2.0);
  CHECK(std::isinf(single.std_error));
}

TEST_CASE("the argmax policy has the largest value among all policies", "[policy]") {
  // V̂(π) = mean Γ(i, πᵢ) is maximized row by row, so no policy beats argmax_policy.
  Rng rng(3);
  const Index n = 200, num_actions = 4;
  Matrix scores(n, num_actions);
  for (Index i = 0; i < n; ++i) {
    for (Index a = 0; a < num_actions; ++a) scores(i, a) = rng.normal();
  }
  const IndexVector best = argmax_policy(scores);
  const double best_value = policy_value(scores, best);
  CHECK(best_value == Approx(scores.rowwise().maxCoeff().mean()));
  for (int trial = 0; trial < 200; ++trial) {
    IndexVector other(n);
    for (Index i = 0; i < n; ++i) other[i] = static_cast<Index>(rng.uniform_index(num_actions));
    CHECK(policy_value(scores, other) <= best_value);
  }
}

TEST_CASE("argmax_policy and policy_value reject bad input with clear messages", "[policy]") {
  Matrix scores{{3.0, 2.0, 3.0}, {4.0, 4.0, 6.0}, {0.0, 3.5, 2.0}};
  const IndexVector actions{{0, 3, 1}};
  CHECK_THROWS_AS(policy_value(scores, actions), DataError);
  CHECK_THROWS_WITH(policy_value(scores, actions),
                    Catch::Contains("policy_value: actions[1] = 3, expected an action in 0..2"));
  CHECK_THROWS_WITH(policy_value_estimate(scores, IndexVector{{0, 0, -1}}),
                    Catch::Contains("policy_value_estimate: actions[2] = -1, expected an action "
                                    "in 0..2"));
  CHECK_THROWS_AS(policy_value(scores, IndexVector{{0, 1}}), ShapeMismatch);
  CHECK_THROWS_WITH(policy_value(scores, IndexVector{{0, 1}}),
                    Catch::Contains("actions has 2 rows, expected 3 (the rows of scores)"));
  const Matrix no_columns(3, 0);
  CHECK_THROWS_AS(argmax_policy(no_columns), InvalidArgument);
  CHECK_THROWS_WITH(argmax_policy(no_columns),
                    Catch::Contains("argmax_policy: scores has 0 columns, expected at least 1"));
  const Matrix no_rows(0, 3);
  CHECK_THROWS_AS(argmax_policy(no_rows), DataError);
  CHECK_THROWS_WITH(argmax_policy(no_rows),
                    Catch::Contains("argmax_policy: scores has 0 rows, expected at least 1"));
  scores(2, 1) = kNaN;
  CHECK_THROWS_AS(argmax_policy(scores), DataError);
  CHECK_THROWS_WITH(argmax_policy(scores),
                    Catch::Contains("argmax_policy: scores(2, 1) = nan, expected a finite value"));
  CHECK_THROWS_WITH(policy_value(scores, IndexVector{{0, 0, 0}}),
                    Catch::Contains("policy_value: scores(2, 1) = nan"));
}

TEST_CASE("policy_value_difference is the paired difference of two policies' values", "[policy]") {
  // Γ rows: the difference per row is [1, 2, 3, 6] for a = 1 vs b = 0 → mean 3, sd √(14/3).
  const Matrix scores{{0.0, 1.0}, {1.0, 3.0}, {2.0, 5.0}, {-1.0, 5.0}};
  const IndexVector ones = IndexVector::Ones(4), zeros = IndexVector::Zero(4);
  const Estimate d = policy::policy_value_difference(scores, ones, zeros);
  CHECK(d.value == Approx(3.0));
  CHECK(d.std_error == Approx(std::sqrt(14.0 / 3.0) / 2.0));
  CHECK(d.value == Approx(policy_value(scores, ones) - policy_value(scores, zeros)));
  // A policy against itself: zero with zero standard error.
  const Estimate same = policy::policy_value_difference(scores, ones, ones);
  CHECK(same.value == 0.0);
  CHECK(same.std_error == 0.0);
  CHECK_THROWS_WITH(policy::policy_value_difference(scores, ones, IndexVector{{0, 1, 2, 0}}),
                    Catch::Contains("policy_value_difference: actions[2] = 2"));
  CHECK_THROWS_AS(policy::policy_value_difference(scores, ones, IndexVector::Zero(3)),
                  ShapeMismatch);
}
