// Tests for uplift/uplift_forest.hpp: hand-computed split gains of every criterion (and R&J's
// normalization) on a tiny node; recovery of a planted step uplift on randomized binary and
// continuous data (correlation with the truth, Qini against the oracle and a random ranking);
// determinism across seeds and thread counts; save/load; bad input.
#include "tailor/uplift/uplift_forest.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "tailor/core/random.hpp"
#include "tailor/uplift/curves.hpp"

using namespace tailor;
using namespace tailor::uplift;

namespace {

/// Sums [n, n_T, S_T, S_C] of a node with the given arm counts and positive outcomes.
std::array<double, 4> node(double treated, double treated_positive, double control,
                           double control_positive) {
  return {treated + control, treated, treated_positive, control_positive};
}

struct Simulated {
  Matrix X;
  Vector w, y, tau;
};

/// p_C(x) = 0.3 (+0.1·x1 for a little prognostic signal), uplift +0.2 for x0 > 0 else −0.1.
/// Binary outcomes, or continuous y = 1 + x1 + τ(x)·w + N(0, 1) with τ = ±(1, 0.5).
Simulated simulate(Index n, std::uint64_t seed, bool binary) {
  Rng rng(seed);
  Simulated d{Matrix(n, 5), Vector(n), Vector(n), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 5; ++j) d.X(i, j) = rng.uniform(-1.0, 1.0);
    d.w[i] = rng.bernoulli(0.5) ? 1.0 : 0.0;
    if (binary) {
      d.tau[i] = d.X(i, 0) > 0.0 ? 0.2 : -0.1;
      const double p = 0.3 + 0.1 * d.X(i, 1) + d.w[i] * d.tau[i];
      d.y[i] = rng.bernoulli(p) ? 1.0 : 0.0;
    } else {
      d.tau[i] = d.X(i, 0) > 0.0 ? 1.0 : -0.5;
      d.y[i] = 1.0 + d.X(i, 1) + d.w[i] * d.tau[i] + rng.normal();
    }
  }
  return d;
}

double correlation(const Vector& a, const Vector& b) {
  const Eigen::ArrayXd x = a.array() - a.mean();
  const Eigen::ArrayXd z = b.array() - b.mean();
  return (x * z).sum() / std::sqrt((x * x).sum() * (z * z).sum());
}

bool identical(const Vector& a, const Vector& b) {
  return a.size() == b.size() && (a.array() == b.array()).all();
}

UpliftForestParams small_params(UpliftCriterion criterion) {
  return {
      .forest = {.num_trees = 40, .min_node_size = 40, .max_depth = 6, .seed = 7, .num_threads = 2},
      .criterion = criterion,
      .min_treated_per_leaf = 10,
      .min_control_per_leaf = 10};
}

}  // namespace

TEST_CASE("UpliftSplittingRule: hand-computed gains for every criterion", "[uplift]") {
  // Parent: treated 8 (3 responders), control 12 (5). Left: treated 4 (3), control 4 (1);
  // right: treated 4 (0), control 8 (4). Left holds N_L/N = 8/20 of the rows.
  const auto P = node(8, 3, 12, 5);
  const auto L = node(4, 3, 4, 1);
  const auto R = node(4, 0, 8, 4);
  const double pP = 3.0 / 8, qP = 5.0 / 12;  // parent arm means
  // Children: left p = 3/4, q = 1/4; right p = 0, q = 1/2.
  const double wL = 0.4, wR = 0.6;
  using Rule = uplift::detail::UpliftSplittingRule;
  auto gain = [&](UpliftCriterion c, bool normalize = false) {
    const Rule rule{.criterion = c, .normalize = normalize};
    return rule.split_gain(P.data(), L.data(), R.data());
  };
  auto kl = [](double p, double q) {
    return (p > 0 ? p * std::log(p / q) : 0.0) +
           (p < 1 ? (1 - p) * std::log((1 - p) / (1 - q)) : 0.0);
  };
  // KL: right child p = 0, q = 1/2 gives log 2.
  const double kl_gain =
      wL * (0.75 * std::log(3.0) + 0.25 * std::log(1.0 / 3.0)) + wR * std::log(2.0) - kl(pP, qP);
  CHECK(gain(UpliftCriterion::KL) == Approx(kl_gain).epsilon(1e-12));
  // ED: 2(p − q)².
  const double ed_gain = wL * 2 * 0.25 + wR * 2 * 0.25 - 2 * (pP - qP) * (pP - qP);
  CHECK(gain(UpliftCriterion::ED) == Approx(ed_gain).epsilon(1e-12));
  // χ²: (p − q)²/(q(1 − q)): left 0.25/0.1875 = 4/3, right 0.25/0.25 = 1.
  const double chi_gain = wL * 4.0 / 3.0 + wR * 1.0 - (pP - qP) * (pP - qP) / (qP * (1 - qP));
  CHECK(gain(UpliftCriterion::ChiSquared) == Approx(chi_gain).epsilon(1e-12));
  // CTS: max arm mean: 0.4·0.75 + 0.6·0.5 − max(3/8, 5/12) = 0.6 − 5/12.
  CHECK(gain(UpliftCriterion::CTS) == Approx(0.6 - 5.0 / 12).epsilon(1e-12));

  // R&J normalization: π_T = 8/20, a_T = 4/8 of the treated and a_C = 4/12 of the controls go
  // left; I = H(π)·KL(a_T : a_C) + π_T H(a_T) + π_C H(a_C) + 1/2 (nats).
  auto H = [](double a) { return -a * std::log(a) - (1 - a) * std::log(1 - a); };
  const double pi_t = 0.4, pi_c = 0.6, a_t = 0.5, a_c = 1.0 / 3;
  const double I = H(pi_t) * kl(a_t, a_c) + pi_t * H(a_t) + pi_c * H(a_c) + 0.5;
  CHECK(gain(UpliftCriterion::KL, true) == Approx(kl_gain / I).epsilon(1e-12));
  auto G = [](double a) { return 2 * a * (1 - a); };
  const double J_ed = G(pi_t) * 2 * (a_t - a_c) * (a_t - a_c) + pi_t * G(a_t) + pi_c * G(a_c) + 0.5;
  CHECK(gain(UpliftCriterion::ED, true) == Approx(ed_gain / J_ed).epsilon(1e-12));
  const double J_chi =
      G(pi_t) * (a_t - a_c) * (a_t - a_c) / (a_c * (1 - a_c)) + pi_t * G(a_t) + pi_c * G(a_c) + 0.5;
  CHECK(gain(UpliftCriterion::ChiSquared, true) == Approx(chi_gain / J_chi).epsilon(1e-12));
  CHECK(gain(UpliftCriterion::CTS, true) == gain(UpliftCriterion::CTS));  // never normalized

  // n_reg shrinks each child's arm means toward the parent's (pP, qP) by n_reg rows. With
  // n_reg = 4: left p̃ = (3 + 4·3/8)/(4 + 4) = 9/16, q̃ = (1 + 4·5/12)/(4 + 4) = 1/3; right
  // p̃ = (0 + 3/2)/(4 + 4) = 3/16, q̃ = (4 + 5/3)/(8 + 4) = 17/36. The child shares and V(P) stay.
  {
    const double pl = 9.0 / 16, ql = 1.0 / 3, pr = 3.0 / 16, qr = 17.0 / 36;
    const double shrunk_ed =
        wL * 2 * (pl - ql) * (pl - ql) + wR * 2 * (pr - qr) * (pr - qr) - 2 * (pP - qP) * (pP - qP);
    const Rule shrunk{.criterion = UpliftCriterion::ED, .n_reg = 4.0};
    CHECK(shrunk.split_gain(P.data(), L.data(), R.data()) == Approx(shrunk_ed).epsilon(1e-12));
    CHECK(shrunk_ed < ed_gain);
    const double shrunk_kl = wL * kl(pl, ql) + wR * kl(pr, qr) - kl(pP, qP);
    const Rule shrunk_kl_rule{.criterion = UpliftCriterion::KL, .n_reg = 4.0};
    CHECK(shrunk_kl_rule.split_gain(P.data(), L.data(), R.data()) ==
          Approx(shrunk_kl).epsilon(1e-12));
    // Infinite shrinkage leaves the children equal to the parent: no gain.
    const Rule flat{.criterion = UpliftCriterion::ED, .n_reg = 1e12};
    CHECK(flat.split_gain(P.data(), L.data(), R.data()) == Approx(0.0).margin(1e-9));
  }

  // A child below min_treated / min_control is inadmissible; a parent that cannot feed two
  // children with 5 treated each may not split.
  const Rule strict{.criterion = UpliftCriterion::KL, .min_treated = 5, .min_control = 1};
  CHECK(strict.split_gain(P.data(), L.data(), R.data()) ==
        -std::numeric_limits<double>::infinity());
  CHECK_FALSE(strict.can_split(P.data()));
  const Rule control_strict{.criterion = UpliftCriterion::ED, .min_treated = 1, .min_control = 5};
  CHECK(control_strict.split_gain(P.data(), L.data(), R.data()) ==
        -std::numeric_limits<double>::infinity());
  CHECK(Rule{}.can_split(P.data()));

  // Identical children (same arm means as the parent) gain exactly 0 under every criterion.
  const auto half = node(4, 2, 6, 3);
  const auto whole = node(8, 4, 12, 6);
  for (auto c : {UpliftCriterion::KL, UpliftCriterion::ED, UpliftCriterion::ChiSquared,
                 UpliftCriterion::CTS}) {
    CHECK(Rule{.criterion = c}.split_gain(whole.data(), half.data(), half.data()) ==
          Approx(0.0).margin(1e-15));
  }

  // Weighted statistics [n, n_T, W_T, S_T, W_C, S_C] with every weight 2 give the same gains.
  auto weighted = [](const std::array<double, 4>& s) {
    const double n_t = s[1], n_c = s[0] - s[1];
    return std::array<double, 6>{s[0], n_t, 2 * n_t, 2 * s[2], 2 * n_c, 2 * s[3]};
  };
  const auto Pw = weighted(P), Lw = weighted(L), Rw = weighted(R);
  for (auto c : {UpliftCriterion::KL, UpliftCriterion::ED, UpliftCriterion::ChiSquared,
                 UpliftCriterion::CTS}) {
    const Rule rule{.criterion = c, .weighted = true};
    CHECK(rule.split_gain(Pw.data(), Lw.data(), Rw.data()) == Approx(gain(c)).epsilon(1e-12));
  }

  // The relabeling writes those channels.
  const Vector w = (Vector(3) << 1, 0, 1).finished();
  const Vector y = (Vector(3) << 1, 1, 0).finished();
  const Vector v = (Vector(3) << 2, 3, 4).finished();
  double c[5] = {-1, -1, -1, -1, -1};
  uplift::detail::UpliftRelabeling{w, y, Vector()}.channels(1, c);
  CHECK((c[0] == 0.0 && c[1] == 0.0 && c[2] == 1.0));
  uplift::detail::UpliftRelabeling{w, y, v}.channels(0, c);
  CHECK((c[0] == 1.0 && c[1] == 2.0 && c[2] == 2.0 && c[3] == 0.0 && c[4] == 0.0));
}

TEST_CASE("UpliftForest: recovers a planted step uplift (binary outcome)", "[uplift]") {
  const Simulated train = simulate(6000, 1, true);
  const Simulated test = simulate(6000, 2, true);
  const CausalData data(train.X, train.w, train.y);
  // A random ranking's Qini, the yardstick "better than random" is measured against.
  Rng rng(3);
  Vector random_score(test.X.rows());
  for (Index i = 0; i < random_score.size(); ++i) random_score[i] = rng.uniform();
  const double oracle = qini_auc_score(test.y, test.w, test.tau);
  const double random = qini_auc_score(test.y, test.w, random_score);
  INFO("oracle Qini " << oracle << ", random " << random);
  REQUIRE(oracle > 0.05);
  for (auto c : {UpliftCriterion::KL, UpliftCriterion::ED, UpliftCriterion::ChiSquared,
                 UpliftCriterion::CTS}) {
    for (bool normalize : {false, true}) {
      if (normalize && c == UpliftCriterion::CTS) continue;
      auto params = small_params(c);
      params.normalize = normalize;
      const auto model = UpliftForest(params).fit(data);
      const Vector tau_hat = model.predict(test.X);
      const double rho = correlation(tau_hat, test.tau);
      const double qini = qini_auc_score(test.y, test.w, tau_hat);
      INFO(to_string(c) << (normalize ? " normalized" : "") << ": corr " << rho << ", Qini " << qini
                        << ", mean above " << tau_hat.mean());
      CHECK(rho > 0.7);
      CHECK(qini > 0.7 * oracle);
      CHECK(qini > random + 0.5 * (oracle - random));
      // The two regions' mean predictions are near +0.2 and −0.1.
      double above = 0.0, below = 0.0;
      Index num_above = 0;
      for (Index i = 0; i < tau_hat.size(); ++i) {
        if (test.X(i, 0) > 0.0) {
          above += tau_hat[i];
          ++num_above;
        } else {
          below += tau_hat[i];
        }
      }
      CHECK(above / num_above == Approx(0.2).margin(0.06));
      CHECK(below / (tau_hat.size() - num_above) == Approx(-0.1).margin(0.06));
      // Arm means are probabilities, and predict = treated − control.
      const Matrix arms = model.predict_arms(test.X.topRows(50));
      CHECK((arms.array() >= 0.0).all());
      CHECK((arms.array() <= 1.0).all());
      CHECK(identical(Vector(arms.col(1) - arms.col(0)), Vector(tau_hat.head(50))));
    }
  }
}

TEST_CASE("UpliftForest: n_reg changes the splits, not the answer", "[uplift]") {
  // The default shrinks by 10 rows (CausalML's forest default); off (0) and strong (100) grow
  // other trees, and all recover the planted step.
  const Simulated train = simulate(6000, 1, true);
  const Simulated test = simulate(3000, 2, true);
  const CausalData data(train.X, train.w, train.y);
  CHECK(UpliftForestParams{}.n_reg == 10.0);
  std::vector<Vector> fits;
  for (double n_reg : {0.0, 10.0, 100.0}) {
    auto params = small_params(UpliftCriterion::KL);
    params.n_reg = n_reg;
    fits.push_back(UpliftForest(params).fit(data).predict(test.X));
    const double rho = correlation(fits.back(), test.tau);
    INFO("n_reg " << n_reg << ": corr " << rho);
    CHECK(rho > 0.7);
  }
  CHECK_FALSE(identical(fits[0], fits[1]));
  CHECK_FALSE(identical(fits[1], fits[2]));
}

TEST_CASE("UpliftForest: ED and CTS on a continuous outcome, honest trees", "[uplift]") {
  const Simulated train = simulate(4000, 4, false);
  const Simulated test = simulate(2000, 5, false);
  const CausalData data(train.X, train.w, train.y);
  for (auto c : {UpliftCriterion::ED, UpliftCriterion::CTS}) {
    for (bool honesty : {false, true}) {
      auto params = small_params(c);
      params.forest.honesty = honesty;
      const Vector tau_hat = UpliftForest(params).fit(data).predict(test.X);
      INFO(to_string(c) << (honesty ? " honest" : "") << ": corr "
                        << correlation(tau_hat, test.tau));
      CHECK(correlation(tau_hat, test.tau) > 0.7);
      CHECK(qini_auc_score(test.y, test.w, tau_hat) >
            0.5 * qini_auc_score(test.y, test.w, test.tau));
    }
  }
  // Unit sample weights change nothing but the channel layout.
  const Vector ones = Vector::Ones(train.y.size());
  const CausalData weighted(train.X, train.w, train.y, {.sample_weights = ones});
  const auto params = small_params(UpliftCriterion::ED);
  CHECK(identical(UpliftForest(params).fit(weighted).predict(test.X),
                  UpliftForest(params).fit(data).predict(test.X)));
}

TEST_CASE("UpliftForest: deterministic for a seed and any num_threads; save/load", "[uplift]") {
  const Simulated train = simulate(3000, 6, true);
  const CausalData data(train.X, train.w, train.y);
  Vector v(train.y.size());
  Rng rng(9);
  for (Index i = 0; i < v.size(); ++i) v[i] = rng.uniform(0.5, 2.0);
  const CausalData weighted(train.X, train.w, train.y, {.sample_weights = v});
  for (auto c : {UpliftCriterion::KL, UpliftCriterion::CTS}) {
    auto params = small_params(c);
    params.forest.honesty = c == UpliftCriterion::CTS;
    params.forest.num_threads = 1;
    const Vector one = UpliftForest(params).fit(data).predict(train.X);
    params.forest.num_threads = 2;
    const Vector two = UpliftForest(params).fit(data).predict(train.X);
    params.forest.num_threads = 4;
    const auto model = UpliftForest(params).fit(data);
    CHECK(identical(one, two));
    CHECK(identical(one, model.predict(train.X)));
    params.forest.seed = 8;
    CHECK_FALSE(identical(one, UpliftForest(params).fit(data).predict(train.X)));

    std::stringstream buffer;
    tailor::save(model, buffer);
    const auto loaded = tailor::load<UpliftForestModel>(buffer);
    CHECK(loaded.num_trees() == 40);
    CHECK(loaded.criterion() == c);
    CHECK(identical(loaded.predict(train.X), one));
    CHECK(loaded.fallback_treated_mean() == model.fallback_treated_mean());

    // Weighted fits are as deterministic and round-trip as well.
    params.forest.seed = 7;
    const auto weighted_model = UpliftForest(params).fit(weighted);
    params.forest.num_threads = 1;
    CHECK(identical(UpliftForest(params).fit(weighted).predict(train.X),
                    weighted_model.predict(train.X)));
    std::stringstream weighted_buffer;
    tailor::save(weighted_model, weighted_buffer);
    CHECK(identical(tailor::load<UpliftForestModel>(weighted_buffer).predict(train.X),
                    weighted_model.predict(train.X)));

    // A truncated file throws FormatError.
    const std::string bytes = buffer.str();
    std::stringstream truncated(bytes.substr(0, bytes.size() / 2));
    CHECK_THROWS_AS(tailor::load<UpliftForestModel>(truncated), FormatError);
  }
}

TEST_CASE("UpliftForest: bad input", "[uplift]") {
  const Simulated train = simulate(400, 10, true);
  Vector y = train.y;
  y[3] = 0.5;
  const CausalData continuous(train.X, train.w, y);
  CHECK_THROWS_WITH(UpliftForest({.criterion = UpliftCriterion::KL}).fit(continuous),
                    Catch::Contains("UpliftForest: y[3] = 0.5, expected 0 or 1") &&
                        Catch::Contains("criterion KL"));
  CHECK_THROWS_AS(UpliftForest({.criterion = UpliftCriterion::ChiSquared}).fit(continuous),
                  DataError);
  CHECK_NOTHROW(
      UpliftForest({.forest = {.num_trees = 2}, .criterion = UpliftCriterion::ED}).fit(continuous));
  CHECK_NOTHROW(UpliftForest({.forest = {.num_trees = 2}, .criterion = UpliftCriterion::CTS})
                    .fit(continuous));

  // One arm empty, NaN: rejected by CausalData before the forest sees them.
  const Vector all_treated = Vector::Ones(train.y.size());
  CHECK_THROWS_WITH(CausalData(train.X, all_treated, train.y),
                    Catch::Contains("w is constant") && Catch::Contains("expected both treated"));
  Matrix X_nan = train.X;
  X_nan(5, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(CausalData(X_nan, train.w, train.y),
                    Catch::Contains("CausalData: X(5, 2) = nan, expected a finite value"));

  // Options. Unset forest fields keep the uplift forest's (CausalML's) defaults.
  const auto defaults = UpliftForest({.forest = {.seed = 3}}).forest_params();
  CHECK(defaults.num_trees == 100);
  CHECK(defaults.min_node_size == 100);
  CHECK(defaults.max_depth == 10);
  CHECK_FALSE(defaults.honesty);
  CHECK(defaults.resolve_mtry(50, "test") == 10);
  CHECK(defaults.seed == 3);
  CHECK_THROWS_WITH(
      UpliftForest({.forest = {.num_trees = 0}}),
      Catch::Contains("UpliftForest: forest.num_trees = 0, expected between 1 and 1000000"));
  CHECK_THROWS_WITH(UpliftForest({.min_treated_per_leaf = 0}),
                    Catch::Contains("min_treated_per_leaf = 0, expected at least 1"));
  CHECK_THROWS_WITH(UpliftForest({.min_control_per_leaf = -1}),
                    Catch::Contains("min_control_per_leaf = -1"));
  CHECK_THROWS_WITH(UpliftForest({.forest = {.sample_fraction = 1.5}}),
                    Catch::Contains("sample_fraction = 1.5, expected a value in (0, 1]"));
  CHECK_THROWS_WITH(UpliftForest({.forest = {.honesty_fraction = 1.0}}),
                    Catch::Contains("honesty_fraction"));
  CHECK_THROWS_WITH(UpliftForest({.forest = {.max_bins = 1}}), Catch::Contains("max_bins = 1"));
  CHECK_THROWS_WITH(UpliftForest({.n_reg = -1.0}),
                    Catch::Contains("UpliftForest: n_reg = -1, expected a finite value >= 0"));
  CHECK_THROWS_WITH(UpliftForest({.n_reg = std::numeric_limits<double>::quiet_NaN()}),
                    Catch::Contains("n_reg = nan"));
  CHECK_THROWS_WITH(UpliftForest({.criterion = static_cast<UpliftCriterion>(7)}),
                    Catch::Contains("criterion = 7, expected KL, ED, ChiSquared or CTS"));
  const CausalData data(train.X, train.w, train.y);
  CHECK_THROWS_WITH(UpliftForest({.forest = {.mtry = 6}}).fit(data),
                    Catch::Contains("mtry = 6, expected at most the 5 features of X"));

  // Prediction input.
  const auto model = UpliftForest({.forest = {.num_trees = 3, .min_node_size = 20}}).fit(data);
  CHECK_THROWS_WITH(model.predict(Matrix::Zero(2, 4)),
                    Catch::Contains("UpliftForestModel::predict: X has 4 columns, expected 5"));
  Matrix test_nan = Matrix::Zero(3, 5);
  test_nan(1, 4) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(model.predict(test_nan),
                    Catch::Contains("UpliftForestModel::predict: X(1, 4) = inf"));
  std::stringstream garbage("not a model");
  CHECK_THROWS_AS(tailor::load<UpliftForestModel>(garbage), FormatError);
}
