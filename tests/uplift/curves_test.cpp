// Tests for uplift/curves.hpp: hand-computed curves and scores on tiny data, ties, the IPW/DR
// estimators, perfect/random scores, peer formulas (benchmarks/peers/uplift_metrics_peer.py)
// and bad input.
#include "tailor/uplift/curves.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

#include <filesystem>
#include <map>
#include <string>

#include "tailor/core/random.hpp"
#include "tailor/io/csv.hpp"

using namespace tailor;
using namespace tailor::uplift;

namespace {

// Six rows, ranked by score in row order:
//   row  score  w  y
//    0    0.9   1  1
//    1    0.8   0  0
//    2    0.7   1  1
//    3    0.6   0  1
//    4    0.5   1  0
//    5    0.4   0  0
// Prefix k: treated (responders/count), control (responders/count), lift = Y_T/N_T − Y_C/N_C
//   k=1: T 1/1, C none -> lift 1 (empty arm = 0);  U = 1·1 = 1;    Q = N_T·lift = 1
//   k=2: T 1/1, C 0/1  -> lift 1;                   U = 2;          Q = 1
//   k=3: T 2/2, C 0/1  -> lift 1;                   U = 3;          Q = 2
//   k=4: T 2/2, C 1/2  -> lift 1/2;                 U = 2;          Q = 1
//   k=5: T 2/3, C 1/2  -> lift 1/6;                 U = 5/6;        Q = 1/2
//   k=6: T 2/3, C 1/3  -> lift 1/3;                 U = 2;          Q = 1
struct Tiny {
  Vector y{{1, 0, 1, 1, 0, 0}};
  Vector w{{1, 0, 1, 0, 1, 0}};
  Vector score{{0.9, 0.8, 0.7, 0.6, 0.5, 0.4}};
};

Vector vec(std::initializer_list<double> v) {
  Vector out(static_cast<Index>(v.size()));
  Index i = 0;
  for (double x : v) out[i++] = x;
  return out;
}

void check_curve(const Curve& c, const Vector& x, const Vector& value) {
  REQUIRE(c.num_knots() == x.size());
  for (Index k = 0; k < x.size(); ++k) {
    CHECK(c.population[k] == Approx(x[k]));
    CHECK(c.value[k] == Approx(value[k]));
  }
}

}  // namespace

TEST_CASE("curves: hand-computed uplift, Qini and lift curves", "[uplift]") {
  Tiny d;
  const Vector x = vec({0, 1, 2, 3, 4, 5, 6});
  check_curve(uplift_curve(d.y, d.w, d.score), x, vec({0, 1, 2, 3, 2, 5.0 / 6, 2}));
  check_curve(cumulative_gain_curve(d.y, d.w, d.score), x, vec({0, 1, 2, 3, 2, 5.0 / 6, 2}));
  check_curve(qini_curve(d.y, d.w, d.score), x, vec({0, 1, 1, 2, 1, 0.5, 1}));
  check_curve(lift_curve(d.y, d.w, d.score), x, vec({0, 1, 1, 1, 0.5, 1.0 / 6, 1.0 / 3}));
  // Areas (trapezoids): U: 0.5 + 1.5 + 2.5 + 2.5 + 17/12 + 17/12 = 59/6; the random line
  // from (0,0) to (6, 2) has area 6, so 23/6 above random. Q: 0.5+1+1.5+1.5+0.75+0.75 = 6,
  // random 3.
  CHECK(area_under_curve(uplift_curve(d.y, d.w, d.score)) == Approx(59.0 / 6));
  CHECK(area_above_random(uplift_curve(d.y, d.w, d.score)) == Approx(23.0 / 6));
  CHECK(area_under_curve(qini_curve(d.y, d.w, d.score)) == Approx(6.0));
  CHECK(area_above_random(qini_curve(d.y, d.w, d.score)) == Approx(3.0));
}

TEST_CASE("curves: hand-computed perfect curves and normalized scores", "[uplift]") {
  Tiny d;
  // Perfect Qini ranks by y(2w−1): rows {0,2} (1), then {1,4,5} (0, tied), then {3} (−1).
  //   x=2: T 2/2, C none -> Q = 2;  x=5: T 2/3, C 0/2 -> Q = 3·2/3 = 2;  x=6: Q = 1.
  //   area = 2 + 6 + 1.5 = 9.5, above random 9.5 − 3 = 6.5  => qini_auc_score = 3/6.5 = 6/13.
  check_curve(perfect_qini_curve(d.y, d.w), vec({0, 2, 5, 6}), vec({0, 2, 2, 1}));
  CHECK(qini_auc_score(d.y, d.w, d.score) == Approx(6.0 / 13));
  CHECK(qini_coefficient(d.y, d.w, d.score) == Approx(6.0 / 13));
  // Perfect uplift: 1 control responder (row 3) is not more than 1 treated non-responder
  // (row 4), so rank by 2·1[y = w] + w: rows {0,2} (3), {1,5} (2), {4} (1), {3} (0).
  //   x=2: U = 2·1 = 2;  x=4: T 2/2, C 0/2 -> U = 4;  x=5: T 2/3, C 0/2 -> U = 10/3;  x=6: 2
  //   area = 2 + 6 + 11/3 + 8/3 = 43/3, above random 25/3 => uplift_auc_score = (23/6)/(25/3).
  check_curve(perfect_uplift_curve(d.y, d.w), vec({0, 2, 4, 5, 6}), vec({0, 2, 4, 10.0 / 3, 2}));
  CHECK(uplift_auc_score(d.y, d.w, d.score) == Approx(23.0 / 50));
  // negative_effect = false: (0,0), (Q(N), Q(N)), (N, Q(N)) with Q(N) = 1: area 0.5 + 5 = 5.5,
  // above random 2.5 => 3/2.5.
  check_curve(perfect_qini_curve(d.y, d.w, {}, false), vec({0, 1, 6}), vec({0, 1, 1}));
  CHECK(qini_auc_score(d.y, d.w, d.score, {}, false) == Approx(3.0 / 2.5));
  // CausalML (EmptyArm::interpolate): the lift at k=1 is undefined (no control row) and is
  // interpolated between (0, 0) and (2, 1): 1/2, so U(1) = 1/2 and
  //   auuc = (0 + 0.5 + 2 + 3 + 2 + 5/6 + 2) / |U(6)| / 7 = (31/3)/2/7 = 31/42.
  // Q(1) is undefined too -> 1/2; Σ Q = 6, the random line sums to 21/6, so
  //   qini = (6 − 3.5)/7 = 5/14.
  EvaluationOptions cm{.empty_arm = EmptyArm::interpolate};
  CHECK(causalml_auuc_score(d.y, d.w, d.score, cm) == Approx(31.0 / 42));
  CHECK(causalml_qini_score(d.y, d.w, d.score, cm) == Approx(5.0 / 14));
  // EmptyArm::zero keeps U(1) = 1: (65/6)/2/7.
  CHECK(causalml_auuc_score(d.y, d.w, d.score) == Approx(65.0 / 84));
}

TEST_CASE("curves: tied scores give one knot per tie group, independent of row order", "[uplift]") {
  Tiny d;
  d.score[2] = 0.8;  // rows 1 and 2 tied: the knot at k = 2 disappears
  const Curve c = uplift_curve(d.y, d.w, d.score);
  check_curve(c, vec({0, 1, 3, 4, 5, 6}), vec({0, 1, 3, 2, 5.0 / 6, 2}));
  CHECK(c.at(2.0) == Approx(2.0));  // linear inside the tie group
  // Swap the tied rows' positions in the input: the same curve, bit for bit.
  Vector y2 = d.y, w2 = d.w, s2 = d.score;
  std::swap(y2[1], y2[2]);
  std::swap(w2[1], w2[2]);
  const Curve c2 = uplift_curve(y2, w2, s2);
  CHECK(c2.population == c.population);
  CHECK(c2.value == c.value);
  // All scores equal: a single segment from (0, 0) to (N, U(N)); area above random is 0.
  const Vector flat = Vector::Constant(6, 1.0);
  const Curve c3 = qini_curve(d.y, d.w, flat);
  CHECK(c3.num_knots() == 2);
  CHECK(area_above_random(c3) == Approx(0.0).margin(1e-12));
}

namespace {
struct Simulated {
  Vector y, w, e, tau, mu0, mu1, x;
};
// Confounded observational data: x ~ U(−1, 1), e(x) = 0.2 + 0.6·1[x > 0]... smooth:
// e(x) = 1/(1 + exp(−2x)), μ₀(x) = 2x, τ(x) = 1 + x, y = μ₀ + w τ + N(0, 1). ATE = 1.
Simulated simulate(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Simulated s;
  s.y.resize(n), s.w.resize(n), s.e.resize(n), s.tau.resize(n), s.mu0.resize(n), s.mu1.resize(n);
  s.x.resize(n);
  for (Index i = 0; i < n; ++i) {
    const double x = rng.uniform(-1.0, 1.0);
    s.x[i] = x;
    s.e[i] = 1.0 / (1.0 + std::exp(-2.0 * x));
    s.w[i] = rng.bernoulli(s.e[i]) ? 1.0 : 0.0;
    s.tau[i] = 1.0 + x;
    s.mu0[i] = 2.0 * x;
    s.mu1[i] = s.mu0[i] + s.tau[i];
    s.y[i] = s.mu0[i] + s.w[i] * s.tau[i] + rng.normal();
  }
  return s;
}
}  // namespace

TEST_CASE("curves: IPW and DR equal difference in means under constant propensities", "[uplift]") {
  const Simulated s = simulate(500, 3);
  Rng rng(9);
  Vector score(500);
  for (Index i = 0; i < 500; ++i) score[i] = rng.uniform();
  const Curve dm = qini_curve(s.y, s.w, score);
  const Curve ipw = qini_curve(s.y, s.w, score, {.propensity = Vector::Constant(500, 0.3)});
  // DR with arm-constant outcome models reduces to the difference in means exactly.
  const Curve dr = qini_curve(s.y, s.w, score,
                              {.propensity = Vector::Constant(500, 0.7),
                               .mu0 = Vector::Constant(500, -0.4),
                               .mu1 = Vector::Constant(500, 2.5)});
  REQUIRE(ipw.num_knots() == dm.num_knots());
  REQUIRE(dr.num_knots() == dm.num_knots());
  for (Index k = 0; k < dm.num_knots(); ++k) {
    CHECK(ipw.value[k] == Approx(dm.value[k]).margin(1e-10));
    CHECK(dr.value[k] == Approx(dm.value[k]).margin(1e-10));
  }
  CHECK(estimator_of({}) == Estimator::difference_in_means);
  CHECK(estimator_of({.propensity = s.e}) == Estimator::ipw);
  CHECK(estimator_of({.propensity = s.e, .mu0 = s.mu0, .mu1 = s.mu1}) == Estimator::doubly_robust);
}

TEST_CASE("curves: IPW and DR remove confounding that biases the difference in means", "[uplift]") {
  const Simulated s = simulate(20000, 11);
  const Vector score = s.tau;  // the oracle ranking
  // Whole-population lift = the ATE estimate (true ATE = 1). Treated units have larger x,
  // hence larger μ₀, so the naive contrast is biased upwards by about 2·(E[x|w=1] − E[x|w=0]).
  const double naive = lift_curve(s.y, s.w, score).final_value();
  const double ipw = lift_curve(s.y, s.w, score, {.propensity = s.e}).final_value();
  const double dr =
      lift_curve(s.y, s.w, score, {.propensity = s.e, .mu0 = s.mu0, .mu1 = s.mu1}).final_value();
  CHECK(naive > 1.5);
  CHECK(ipw == Approx(1.0).margin(0.1));
  CHECK(dr == Approx(1.0).margin(0.05));
  // The top half by τ(x) = 1 + x has true mean effect 1.5 (x ~ U(0, 1)).
  const Curve lift = lift_curve(s.y, s.w, score, {.propensity = s.e, .mu0 = s.mu0, .mu1 = s.mu1});
  CHECK(lift.at_fraction(0.5) == Approx(1.5).margin(0.1));
}

TEST_CASE("curves: the perfect ranking scores 1 and a random ranking about 0", "[uplift]") {
  // Randomized binary data with heterogeneous effects.
  const Index n = 20000;
  Rng rng(5);
  Vector y(n), w(n), tau(n), noise(n);
  for (Index i = 0; i < n; ++i) {
    const double x = rng.uniform(-1.0, 1.0);
    tau[i] = 0.3 * x;
    w[i] = rng.bernoulli(0.5) ? 1.0 : 0.0;
    y[i] = rng.bernoulli(0.4 + w[i] * tau[i]) ? 1.0 : 0.0;
    noise[i] = rng.uniform();
  }
  CHECK(qini_auc_score(y, w, perfect_qini_score(y, w)) == Approx(1.0));
  CHECK(uplift_auc_score(y, w, perfect_uplift_score(y, w)) == Approx(1.0));
  const double random_qini = qini_auc_score(y, w, noise);
  const double oracle_qini = qini_auc_score(y, w, tau);
  CHECK(std::abs(random_qini) < 0.03);
  CHECK(oracle_qini > 0.05);
  CHECK(oracle_qini < 1.0);
  CHECK(std::abs(uplift_auc_score(y, w, noise)) < 0.03);
  // CausalML divides by |Q(N)| (the total effect), so its random-score value is noisier; the
  // oracle must still beat it clearly.
  CHECK(causalml_qini_score(y, w, tau) > causalml_qini_score(y, w, noise) + 0.1);
}

TEST_CASE("curves: sample weights equal repeated rows", "[uplift]") {
  Tiny d;
  // Row 3 counted twice == weight 2 on row 3.
  Vector y2(7), w2(7), s2(7);
  y2 << 1, 0, 1, 1, 1, 0, 0;
  w2 << 1, 0, 1, 0, 0, 1, 0;
  s2 << 0.9, 0.8, 0.7, 0.6, 0.6, 0.5, 0.4;
  const Curve repeated = uplift_curve(y2, w2, s2);
  const Curve weighted =
      uplift_curve(d.y, d.w, d.score, {.sample_weights = vec({1, 1, 1, 2, 1, 1})});
  CHECK(weighted.population == repeated.population);
  for (Index k = 0; k < repeated.num_knots(); ++k) {
    CHECK(weighted.value[k] == Approx(repeated.value[k]));
  }
}

TEST_CASE("curves: agree with scikit-uplift's and CausalML's formulas (numpy re-implementation)",
          "[uplift]") {
  const char* tests_dir = std::getenv("TAILOR_TEST_SOURCE_DIR");  // set by CTest
  const auto dir = (tests_dir ? std::filesystem::path(tests_dir) / "uplift"
                              : std::filesystem::path(__FILE__).parent_path()) /
                   "data";
  const auto data = io::read_csv(dir / "peer_data.csv");
  const auto expected_table = io::read_csv(dir / "peer_expected.csv");
  std::map<std::string, double> expected;
  for (std::size_t r = 0; r < expected_table.num_rows(); ++r) {
    expected[expected_table.strings("name")[r]] =
        expected_table.numeric("value")[static_cast<Index>(r)];
  }
  const Vector& y = data.numeric("y");
  const Vector& yc = data.numeric("y_continuous");
  const Vector& w = data.numeric("w");
  const Vector& s = data.numeric("score");
  const Vector& st = data.numeric("score_tied");
  CHECK(uplift_auc_score(y, w, s) == Approx(expected.at("sklift_uplift_auc_score")).epsilon(1e-10));
  CHECK(qini_auc_score(y, w, s) == Approx(expected.at("sklift_qini_auc_score")).epsilon(1e-10));
  CHECK(qini_auc_score(y, w, s, {}, false) ==
        Approx(expected.at("sklift_qini_auc_score_no_negative")).epsilon(1e-10));
  CHECK(uplift_auc_score(y, w, st) ==
        Approx(expected.at("sklift_uplift_auc_score_tied")).epsilon(1e-10));
  CHECK(qini_auc_score(y, w, st) ==
        Approx(expected.at("sklift_qini_auc_score_tied")).epsilon(1e-10));
  const EvaluationOptions cm{.empty_arm = EmptyArm::interpolate};
  CHECK(causalml_auuc_score(y, w, s, cm) ==
        Approx(expected.at("causalml_auuc_score")).epsilon(1e-10));
  CHECK(causalml_qini_score(y, w, s, cm) ==
        Approx(expected.at("causalml_qini_score")).epsilon(1e-10));
  CHECK(causalml_auuc_score(yc, w, s, cm) ==
        Approx(expected.at("causalml_auuc_score_continuous")).epsilon(1e-10));
  CHECK(causalml_qini_score(yc, w, s, cm) ==
        Approx(expected.at("causalml_qini_score_continuous")).epsilon(1e-10));
}

TEST_CASE("curves: bad input is rejected with messages", "[uplift]") {
  Tiny d;
  Vector bad = d.y;
  bad[2] = std::nan("");
  CHECK_THROWS_WITH(uplift_curve(bad, d.w, d.score),
                    Catch::Contains("uplift_curve: y[2] = nan, expected a finite value"));
  CHECK_THROWS_AS(uplift_curve(bad, d.w, d.score), DataError);
  CHECK_THROWS_WITH(qini_curve(d.y, d.w.head(5), d.score),
                    Catch::Contains("qini_curve: w has 5 rows, expected 6 (the length of y)"));
  CHECK_THROWS_AS(qini_curve(d.y, d.w.head(5), d.score), ShapeMismatch);
  Vector w = d.w;
  w[1] = 0.5;
  CHECK_THROWS_WITH(lift_curve(d.y, w, d.score),
                    Catch::Contains("lift_curve: w[1] = 0.5, expected 0 or 1"));
  CHECK_THROWS_WITH(uplift_curve(d.y, Vector::Ones(6), d.score),
                    Catch::Contains("the control arm (w = 0) 0, expected both arms present"));
  CHECK_THROWS_WITH(uplift_curve(d.y, d.w, d.score, {.sample_weights = vec({0, 1, 0, 1, 0, 1})}),
                    Catch::Contains("the treated arm (w = 1) has weight 0"));
  CHECK_THROWS_WITH(uplift_curve(d.y, d.w, d.score, {.sample_weights = vec({1, 1, -1, 1, 1, 1})}),
                    Catch::Contains("sample_weights[2] = -1, expected a value >= 0"));
  Vector e = Vector::Constant(6, 0.5);
  e[4] = 1.0;
  CHECK_THROWS_WITH(
      uplift_curve(d.y, d.w, d.score, {.propensity = e}),
      Catch::Contains("propensity[4] = 1, expected a value strictly between 0 and 1"));
  CHECK_THROWS_AS(uplift_curve(d.y, d.w, d.score, {.propensity = e}), DataError);
  CHECK_THROWS_WITH(uplift_curve(d.y, d.w, d.score, {.propensity = Vector::Constant(4, 0.5)}),
                    Catch::Contains("propensity has 4 rows, expected 6"));
  CHECK_THROWS_AS(
      uplift_curve(d.y, d.w, d.score, {.propensity = Vector::Constant(6, 0.5), .mu0 = d.y}),
      InvalidArgument);
  CHECK_THROWS_WITH(uplift_curve(d.y, d.w, d.score, {.mu0 = d.y, .mu1 = d.y}),
                    Catch::Contains("mu0/mu1 given without propensity"));
  CHECK_THROWS_WITH(uplift_curve(Vector(), Vector(), Vector()),
                    Catch::Contains("uplift_curve: y has 0 rows, expected at least 1"));
  CHECK_THROWS_WITH(perfect_qini_curve(d.y * 1.5, d.w, {}, false),
                    Catch::Contains("expected a binary outcome"));
  // A curve ending at 0 cannot be normalized CausalML's way.
  const Vector y0{{1, 1, 0, 0}};
  const Vector w0{{1, 0, 1, 0}};
  CHECK_THROWS_WITH(causalml_qini_score(y0, w0, Vector{{4, 3, 2, 1}}),
                    Catch::Contains("causalml_qini_score: the curve ends at 0"));
}
