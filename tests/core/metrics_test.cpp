// Tests for tailor/core/metrics.hpp against hand-computed values (arithmetic in comments).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "tailor/core/metrics.hpp"
#include "tailor/core/random.hpp"

using tailor::Index;
namespace metrics = tailor::metrics;

namespace {
Eigen::VectorXd vec(std::initializer_list<double> values) {
  Eigen::VectorXd v(static_cast<Index>(values.size()));
  Index i = 0;
  for (double x : values) v[i++] = x;
  return v;
}

// O(n²) definition of the weighted AUC, as a reference for the O(n log n) sweep.
double brute_force_auc(const Eigen::VectorXd& y, const Eigen::VectorXd& s,
                       const Eigen::VectorXd& w) {
  double num = 0.0;
  double pos = 0.0;
  double neg = 0.0;
  for (Index i = 0; i < y.size(); ++i) {
    if (y[i] == 1.0) pos += w[i];
    if (y[i] == 0.0) neg += w[i];
    for (Index j = 0; j < y.size(); ++j) {
      if (y[i] != 1.0 || y[j] != 0.0) continue;
      const double credit = s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
      num += w[i] * w[j] * credit;
    }
  }
  return num / (pos * neg);
}
}  // namespace

TEST_CASE("roc_auc matches the Mann-Whitney count with ties as one half", "[metrics]") {
  const Eigen::VectorXd y = vec({1, 0, 1, 0, 1});
  const Eigen::VectorXd s = vec({0.9, 0.3, 0.5, 0.5, 0.2});
  // Positive scores {0.9, 0.5, 0.2}, negative {0.3, 0.5}. Pairs (pos, neg):
  // (0.9,0.3)=1 (0.9,0.5)=1 (0.5,0.3)=1 (0.5,0.5)=½ (0.2,0.3)=0 (0.2,0.5)=0 → 3.5 / 6.
  CHECK(metrics::roc_auc(y, s) == Approx(3.5 / 6.0).epsilon(1e-15));

  // Weights [2,1,1,3,1]: positives 0.9→2, 0.5→1, 0.2→1 (W⁺ = 4); negatives 0.3→1, 0.5→3 (W⁻ = 4).
  // Σ w⁺w⁻·credit = 2·1·1 + 2·3·1 + 1·1·1 + 1·3·½ = 2 + 6 + 1 + 1.5 = 10.5 → 10.5 / 16.
  CHECK(metrics::roc_auc(y, s, vec({2, 1, 1, 3, 1})) == Approx(10.5 / 16.0).epsilon(1e-15));

  // Perfect, reversed and all-tied rankings.
  CHECK(metrics::roc_auc(vec({0, 0, 1, 1}), vec({1, 2, 3, 4})) == 1.0);
  CHECK(metrics::roc_auc(vec({0, 0, 1, 1}), vec({4, 3, 2, 1})) == 0.0);
  CHECK(metrics::roc_auc(vec({0, 1, 0, 1}), vec({7, 7, 7, 7})) == 0.5);

  // Integer weights equal repeated rows: weight 3 on row 1 == row 1 three times.
  CHECK(metrics::roc_auc(vec({1, 0, 1}), vec({0.2, 0.4, 0.6}), vec({1, 3, 1})) ==
        Approx(metrics::roc_auc(vec({1, 0, 0, 0, 1}), vec({0.2, 0.4, 0.4, 0.4, 0.6}))));
}

TEST_CASE("roc_auc equals the O(n^2) definition on random data with many ties", "[metrics]") {
  tailor::Rng rng(11);
  const Index n = 300;
  Eigen::VectorXd y(n), s(n), w(n);
  for (Index i = 0; i < n; ++i) {
    y[i] = rng.bernoulli(0.3) ? 1.0 : 0.0;
    s[i] = static_cast<double>(rng.uniform_index(20)) + (y[i] == 1.0 ? 3.0 : 0.0);
    w[i] = rng.uniform(0.0, 2.0);
  }
  CHECK(metrics::roc_auc(y, s, w) == Approx(brute_force_auc(y, s, w)).epsilon(1e-12));
  CHECK(metrics::roc_auc(y, s) ==
        Approx(brute_force_auc(y, s, Eigen::VectorXd::Ones(n))).epsilon(1e-12));
}

TEST_CASE("roc_auc rejects bad input with precise messages", "[metrics]") {
  const Eigen::VectorXd y = vec({1, 0, 1});
  const Eigen::VectorXd s = vec({0.1, 0.2, 0.3});
  CHECK_THROWS_WITH(metrics::roc_auc(vec({1, 1, 1}), s),
                    Catch::Contains("roc_auc") && Catch::Contains("negative weight 0"));
  CHECK_THROWS_AS(metrics::roc_auc(vec({0, 0, 0}), s), tailor::DataError);
  // A class present only with zero weight is absent for the AUC.
  CHECK_THROWS_AS(metrics::roc_auc(y, s, vec({1, 0, 1})), tailor::DataError);
  CHECK_THROWS_WITH(metrics::roc_auc(vec({1, 0.5, 0}), s),
                    Catch::Contains("roc_auc: y_true[1] = 0.5, expected 0 or 1"));
  CHECK_THROWS_AS(metrics::roc_auc(y, vec({0.1, 0.2})), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(metrics::roc_auc(y, vec({0.1, 0.2})),
                    Catch::Contains("roc_auc: score has 2 entries, expected 3"));
  CHECK_THROWS_WITH(metrics::roc_auc(y, vec({0.1, NAN, 0.3})),
                    Catch::Contains("roc_auc: score[1] = nan, expected a finite value"));
  CHECK_THROWS_WITH(metrics::roc_auc(y, s, vec({1, 1})),
                    Catch::Contains("roc_auc: weights has 2 rows, expected 3"));
  CHECK_THROWS_WITH(metrics::roc_auc(y, s, vec({1, -1, 1})),
                    Catch::Contains("roc_auc: weights[1] = -1, expected a value >= 0"));
  CHECK_THROWS_WITH(metrics::roc_auc(y, s, vec({0, 0, 0})),
                    Catch::Contains("roc_auc: weights sum to 0"));
  CHECK_THROWS_WITH(metrics::roc_auc(Eigen::VectorXd(), Eigen::VectorXd()),
                    Catch::Contains("roc_auc: y_true has 0 entries, expected at least 1"));
}

TEST_CASE("log_loss and brier_score by hand", "[metrics]") {
  const Eigen::VectorXd y = vec({1, 0, 1});
  const Eigen::VectorXd p = vec({0.8, 0.4, 0.5});
  // Per-row losses −ln 0.8 = 0.22314355, −ln(1 − 0.4) = 0.51082562, −ln 0.5 = 0.69314718;
  // mean = 1.42711636 / 3 = 0.47570545.
  CHECK(metrics::log_loss(y, p) == Approx(0.4757054519).epsilon(1e-9));
  // Weights [1,2,1]: (0.22314355 + 2·0.51082562 + 0.69314718) / 4 = 1.93794198 / 4 = 0.48448549.
  CHECK(metrics::log_loss(y, p, vec({1, 2, 1})) == Approx(0.4844854949).epsilon(1e-9));
  // p = 0 for a positive is clipped to eps: −ln(1e-15) = 34.5387764; p = 1 for a negative too.
  CHECK(metrics::log_loss(vec({1}), vec({0.0})) == Approx(34.5387763949).epsilon(1e-9));
  CHECK(metrics::log_loss(vec({0}), vec({1.0}), Eigen::VectorXd(), 1e-3) ==
        Approx(6.9077552790).epsilon(1e-9));  // −ln(1e-3)
  CHECK(metrics::log_loss(vec({1, 0}), vec({1.0, 0.0})) < 1e-14);

  // Brier: (0.8−1)² + (0.4−0)² + (0.5−1)² = 0.04 + 0.16 + 0.25 = 0.45; /3 = 0.15.
  CHECK(metrics::brier_score(y, p) == Approx(0.15).epsilon(1e-14));
  // Weights [1,2,1]: (0.04 + 0.32 + 0.25) / 4 = 0.1525.
  CHECK(metrics::brier_score(y, p, vec({1, 2, 1})) == Approx(0.1525).epsilon(1e-14));

  CHECK_THROWS_WITH(metrics::log_loss(y, vec({0.8, 1.2, 0.5})),
                    Catch::Contains("log_loss: prob[1] = 1.2, expected a probability in [0, 1]"));
  CHECK_THROWS_WITH(metrics::log_loss(vec({1, 2, 0}), p),
                    Catch::Contains("log_loss: y_true[1] = 2, expected 0 or 1"));
  CHECK_THROWS_WITH(metrics::log_loss(y, p, Eigen::VectorXd(), 0.0),
                    Catch::Contains("log_loss: eps = 0, expected a value in (0, 0.5)"));
  CHECK_THROWS_AS(metrics::log_loss(y, p, Eigen::VectorXd(), 0.0), tailor::InvalidArgument);
  CHECK_THROWS_WITH(metrics::brier_score(y, vec({0.8, -0.1, 0.5})),
                    Catch::Contains("brier_score: prob[1] = -0.1, expected a probability"));
  CHECK_THROWS_AS(metrics::brier_score(y, vec({0.8, 0.5})), tailor::ShapeMismatch);
}

TEST_CASE("mse, rmse, mae, r2 and accuracy by hand", "[metrics]") {
  const Eigen::VectorXd y = vec({1, 2, 3, 4});
  const Eigen::VectorXd yhat = vec({1.5, 2, 2, 5});
  // Errors 0.5, 0, −1, 1 → squares 0.25, 0, 1, 1 (sum 2.25), absolute 0.5, 0, 1, 1 (sum 2.5).
  CHECK(metrics::mse(y, yhat) == Approx(0.5625).epsilon(1e-15));  // 2.25 / 4
  CHECK(metrics::rmse(y, yhat) == Approx(0.75).epsilon(1e-15));   // √0.5625
  CHECK(metrics::mae(y, yhat) == Approx(0.625).epsilon(1e-15));   // 2.5 / 4
  // ȳ = 2.5, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5, SS_res = 2.25 → R² = 1 − 0.45 = 0.55.
  CHECK(metrics::r2(y, yhat) == Approx(0.55).epsilon(1e-14));

  const Eigen::VectorXd w = vec({2, 1, 1, 0});
  // Weighted: Σw = 4; Σw·e² = 2·0.25 + 0 + 1 + 0 = 1.5 → mse 0.375; Σw·|e| = 1 + 0 + 1 = 2 → 0.5.
  CHECK(metrics::mse(y, yhat, w) == Approx(0.375).epsilon(1e-15));
  CHECK(metrics::rmse(y, yhat, w) == Approx(std::sqrt(0.375)).epsilon(1e-15));
  CHECK(metrics::mae(y, yhat, w) == Approx(0.5).epsilon(1e-15));
  // ȳ_w = (2·1 + 2 + 3) / 4 = 1.75; SS_tot = 2·0.75² + 0.25² + 1.25² = 1.125 + 0.0625 + 1.5625
  // = 2.75; SS_res = 1.5 → R² = 1 − 1.5 / 2.75 = 0.4545…
  CHECK(metrics::r2(y, yhat, w) == Approx(1.0 - 1.5 / 2.75).epsilon(1e-14));
  // Predicting the mean gives 0; a perfect prediction 1; worse than the mean is negative.
  CHECK(metrics::r2(y, Eigen::VectorXd::Constant(4, 2.5)) == Approx(0.0).margin(1e-15));
  CHECK(metrics::r2(y, y) == 1.0);
  CHECK(metrics::r2(y, vec({4, 3, 2, 1})) == Approx(1.0 - 20.0 / 5.0));  // SS_res = 9+1+1+9
  // Constant y_true: SS_tot = 0 → 1 when perfect, 0 otherwise (documented convention).
  CHECK(metrics::r2(vec({3, 3}), vec({3, 3})) == 1.0);
  CHECK(metrics::r2(vec({3, 3}), vec({3, 4})) == 0.0);

  // Accuracy: y = [0,1,2,1], ŷ = [0,2,2,1] → 3 of 4; weights [1,3,1,1] → (1+0+1+1)/6 = 0.5.
  CHECK(metrics::accuracy(vec({0, 1, 2, 1}), vec({0, 2, 2, 1})) == 0.75);
  CHECK(metrics::accuracy(vec({0, 1, 2, 1}), vec({0, 2, 2, 1}), vec({1, 3, 1, 1})) == 0.5);

  CHECK_THROWS_WITH(metrics::rmse(y, vec({1, 2, INFINITY, 4})),
                    Catch::Contains("rmse: y_pred[2] = inf, expected a finite value"));
  CHECK_THROWS_WITH(
      metrics::mae(y, vec({1, 2})),
      Catch::Contains("mae: y_pred has 2 entries, expected 4 (the length of y_true)"));
  CHECK_THROWS_WITH(metrics::r2(vec({NAN, 1}), vec({1, 1})),
                    Catch::Contains("r2: y_true[0] = nan, expected a finite value"));
  CHECK_THROWS_AS(metrics::mse(y, yhat, vec({1, 1, 1})), tailor::ShapeMismatch);
  CHECK_THROWS_AS(metrics::accuracy(y, yhat, vec({1, 1, -2, 1})), tailor::DataError);
}

TEST_CASE("adjusted_rand_index by hand", "[metrics]") {
  using V = std::vector<Index>;
  // a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]. Contingency rows a0: (2,1,0), a1: (0,1,2).
  // Σ C(nᵢⱼ,2) = 1 + 0 + 0 + 1 = 2; A = C(3,2)+C(3,2) = 6; B = 3·C(2,2) = 3; C(6,2) = 15.
  // E = 6·3/15 = 1.2; max = (6 + 3)/2 = 4.5; ARI = (2 − 1.2)/(4.5 − 1.2) = 0.8/3.3.
  const V a = {0, 0, 0, 1, 1, 1};
  const V b = {0, 0, 1, 1, 2, 2};
  CHECK(metrics::adjusted_rand_index(a, b) == Approx(0.8 / 3.3).epsilon(1e-14));
  CHECK(metrics::adjusted_rand_index(b, a) == Approx(0.8 / 3.3).epsilon(1e-14));  // symmetric

  // Arbitrary label values: only the partition matters.
  const V a_renamed = {70, 70, 70, 3, 3, 3};
  const V b_renamed = {1000000007, 1000000007, 5, 5, 0, 0};
  CHECK(metrics::adjusted_rand_index(a_renamed, b_renamed) == Approx(0.8 / 3.3).epsilon(1e-14));
  CHECK(metrics::adjusted_rand_index(V{5, 5, 9, 9, 1}, V{0, 0, 7, 7, 100}) == 1.0);

  // a = [0,0,1,1], b = [0,1,0,1]: every cell 1 → index 0; A = B = 2; C(4,2) = 6;
  // E = 4/6; max = 2 → ARI = (0 − 2/3)/(2 − 2/3) = −0.5.
  CHECK(metrics::adjusted_rand_index(V{0, 0, 1, 1}, V{0, 1, 0, 1}) == Approx(-0.5));

  // Degenerate cases (documented): both one cluster, both all singletons, n = 1 → 1.
  CHECK(metrics::adjusted_rand_index(V{4, 4, 4, 4}, V{2, 2, 2, 2}) == 1.0);
  CHECK(metrics::adjusted_rand_index(V{0, 1, 2, 3}, V{3, 2, 1, 0}) == 1.0);
  CHECK(metrics::adjusted_rand_index(V{8}, V{0}) == 1.0);
  // One cluster against singletons: A = 6, B = 0 → E = 0, index 0, max 3 → 0.
  CHECK(metrics::adjusted_rand_index(V{0, 0, 0, 0}, V{0, 1, 2, 3}) == 0.0);
  // One cluster against [0,0,1,1]: index = 1 + 1 = 2, A = 6, B = 2, E = 12/6 = 2 → 0.
  CHECK(metrics::adjusted_rand_index(V{0, 0, 0, 0}, V{0, 0, 1, 1}) == Approx(0.0).margin(1e-15));
  // Large one-cluster labelings stay exact (A·B/C(n,2) would round for n = 10⁵).
  CHECK(metrics::adjusted_rand_index(V(100000, 1), V(100000, 2)) == 1.0);
}

TEST_CASE("adjusted_rand_index is near 0 for independent labelings", "[metrics]") {
  tailor::Rng rng(5);
  const std::size_t n = 20000;
  std::vector<Index> a(n), b(n);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = static_cast<Index>(rng.uniform_index(4));
    b[i] = static_cast<Index>(rng.uniform_index(5));
  }
  // E[ARI] = 0 under the permutation model; sd here is O(1/n).
  CHECK(std::abs(metrics::adjusted_rand_index(a, b)) < 2e-3);
}

TEST_CASE("adjusted_rand_index rejects bad input", "[metrics]") {
  using V = std::vector<Index>;
  CHECK_THROWS_WITH(metrics::adjusted_rand_index(V{0, 1}, V{0, 1, 1}),
                    Catch::Contains("adjusted_rand_index: labels_b has 3 entries, expected 2"));
  CHECK_THROWS_AS(metrics::adjusted_rand_index(V{0, 1}, V{0, 1, 1}), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(
      metrics::adjusted_rand_index(V{0, -1}, V{0, 1}),
      Catch::Contains("adjusted_rand_index: labels_a[1] = -1, expected a label >= 0"));
  CHECK_THROWS_WITH(metrics::adjusted_rand_index(V{0, 1, 2}, V{0, 1, -3}),
                    Catch::Contains("labels_b[2] = -3"));
  CHECK_THROWS_AS(metrics::adjusted_rand_index(V{}, V{}), tailor::DataError);
}

namespace {
// Repeats row i of `v` w[i] times (w integer): the unweighted data equivalent to weights w.
Eigen::VectorXd repeat_rows(const Eigen::VectorXd& v, const Eigen::VectorXd& w) {
  std::vector<double> out;
  for (Index i = 0; i < v.size(); ++i) {
    for (int k = 0; k < static_cast<int>(w[i]); ++k) out.push_back(v[i]);
  }
  return Eigen::Map<const Eigen::VectorXd>(out.data(), static_cast<Index>(out.size()));
}

std::vector<Index> repeat_groups(const std::vector<Index>& g, const Eigen::VectorXd& w) {
  std::vector<Index> out;
  for (std::size_t i = 0; i < g.size(); ++i) {
    for (int k = 0; k < static_cast<int>(w[static_cast<Index>(i)]); ++k) out.push_back(g[i]);
  }
  return out;
}
}  // namespace

TEST_CASE("normalized_entropy by hand", "[metrics]") {
  // Predicting the base rate p̄ for every row gives NE = 1: y = [1,0,0,0], p̄ = 0.25, log loss
  // = (−ln 0.25 − 3 ln 0.75) / 4 = −(0.25 ln 0.25 + 0.75 ln 0.75) = H(0.25).
  CHECK(metrics::normalized_entropy(vec({1, 0, 0, 0}), Eigen::VectorXd::Constant(4, 0.25)) ==
        Approx(1.0).epsilon(1e-15));
  // Weighted base rate: weights [1,3] on y = [1,0] give p̄ = 0.25 again.
  CHECK(metrics::normalized_entropy(vec({1, 0}), vec({0.25, 0.25}), vec({1, 3})) ==
        Approx(1.0).epsilon(1e-15));

  const Eigen::VectorXd y = vec({1, 0, 1});
  const Eigen::VectorXd p = vec({0.8, 0.4, 0.5});
  // log loss 0.4757054519 (see log_loss above); p̄ = 2/3, H = −(⅔ ln ⅔ + ⅓ ln ⅓) = 0.6365141683;
  // NE = 0.4757054519 / 0.6365141683 = 0.7473603504.
  CHECK(metrics::normalized_entropy(y, p) == Approx(0.7473603504).epsilon(1e-9));
  // Weights [1,2,1]: log loss 0.4844854949, p̄ = 2/4 = ½, H = ln 2 = 0.6931471806 → 0.6989648208.
  const Eigen::VectorXd w = vec({1, 2, 1});
  CHECK(metrics::normalized_entropy(y, p, w) == Approx(0.6989648208).epsilon(1e-9));
  // Integer weights equal repeated rows.
  CHECK(metrics::normalized_entropy(y, p, w) ==
        Approx(metrics::normalized_entropy(repeat_rows(y, w), repeat_rows(p, w))).epsilon(1e-14));
  // Clipping as in log_loss: p = 0 for a positive costs −ln(1e-15); with eps = 1e-3, −ln(1e-3).
  const Eigen::VectorXd y01 = vec({1, 0});
  const Eigen::VectorXd p00 = vec({0.0, 0.0});
  CHECK(metrics::normalized_entropy(y01, p00) ==
        Approx(metrics::log_loss(y01, p00) / std::log(2.0)).epsilon(1e-15));
  CHECK(metrics::normalized_entropy(y01, p00, Eigen::VectorXd(), 1e-3) ==
        Approx((-std::log(1e-3) - std::log1p(-1e-3)) / 2.0 / std::log(2.0)).epsilon(1e-14));
  // A perfect predictor has NE 0 (up to the clipping).
  CHECK(metrics::normalized_entropy(y01, vec({1.0, 0.0})) < 1e-14);
}

TEST_CASE("normalized_entropy rejects bad input", "[metrics]") {
  const Eigen::VectorXd y = vec({1, 0, 1});
  const Eigen::VectorXd p = vec({0.8, 0.4, 0.5});
  // One class: the base-rate entropy is 0.
  CHECK_THROWS_WITH(metrics::normalized_entropy(vec({1, 1, 1}), p),
                    Catch::Contains("normalized_entropy: y_true has positive weight 3 and negative "
                                    "weight 0, expected both classes"));
  CHECK_THROWS_AS(metrics::normalized_entropy(vec({0, 0, 0}), p), tailor::DataError);
  // The negative class present only with zero weight.
  CHECK_THROWS_AS(metrics::normalized_entropy(y, p, vec({1, 0, 1})), tailor::DataError);
  CHECK_THROWS_WITH(
      metrics::normalized_entropy(y, vec({0.8, 1.5, 0.5})),
      Catch::Contains("normalized_entropy: prob[1] = 1.5, expected a probability in [0, 1]"));
  CHECK_THROWS_WITH(metrics::normalized_entropy(y, vec({NAN, 0.4, 0.5})),
                    Catch::Contains("normalized_entropy: prob[0] = nan, expected a finite value"));
  CHECK_THROWS_WITH(metrics::normalized_entropy(vec({1, 0.5, 0}), p),
                    Catch::Contains("normalized_entropy: y_true[1] = 0.5, expected 0 or 1"));
  CHECK_THROWS_AS(metrics::normalized_entropy(y, vec({0.8, 0.4})), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(metrics::normalized_entropy(y, vec({0.8, 0.4})),
                    Catch::Contains("normalized_entropy: prob has 2 entries, expected 3"));
  CHECK_THROWS_WITH(metrics::normalized_entropy(y, p, vec({1, 1})),
                    Catch::Contains("normalized_entropy: weights has 2 rows, expected 3"));
  CHECK_THROWS_AS(metrics::normalized_entropy(y, p, Eigen::VectorXd(), 0.5),
                  tailor::InvalidArgument);
}

TEST_CASE("calibration_ratio by hand", "[metrics]") {
  const Eigen::VectorXd y = vec({1, 0, 1});
  const Eigen::VectorXd p = vec({0.8, 0.4, 0.5});
  // Σp = 0.8 + 0.4 + 0.5 = 1.7 expected clicks, Σy = 2 observed → 0.85.
  CHECK(metrics::calibration_ratio(y, p) == Approx(0.85).epsilon(1e-15));
  // Weights [1,2,1]: Σwp = 0.8 + 0.8 + 0.5 = 2.1, Σwy = 2 → 1.05.
  const Eigen::VectorXd w = vec({1, 2, 1});
  CHECK(metrics::calibration_ratio(y, p, w) == Approx(1.05).epsilon(1e-15));
  CHECK(metrics::calibration_ratio(y, p, w) ==
        Approx(metrics::calibration_ratio(repeat_rows(y, w), repeat_rows(p, w))).epsilon(1e-15));
  // Calibrated in the mean: Σp = 0.3 + 0.7 = 1 = Σy.
  CHECK(metrics::calibration_ratio(vec({0, 1}), vec({0.3, 0.7})) == Approx(1.0).epsilon(1e-15));

  CHECK_THROWS_WITH(metrics::calibration_ratio(vec({0, 0, 0}), p),
                    Catch::Contains("calibration_ratio: y_true has positive weight 0, expected at "
                                    "least one positive"));
  // The only click has zero weight.
  CHECK_THROWS_AS(metrics::calibration_ratio(vec({1, 0}), vec({0.5, 0.5}), vec({0, 1})),
                  tailor::DataError);
  CHECK_THROWS_WITH(metrics::calibration_ratio(vec({1, 2, 0}), p),
                    Catch::Contains("calibration_ratio: y_true[1] = 2, expected 0 or 1"));
  CHECK_THROWS_WITH(
      metrics::calibration_ratio(y, vec({0.8, 0.4, -0.5})),
      Catch::Contains("calibration_ratio: prob[2] = -0.5, expected a probability in [0, 1]"));
  CHECK_THROWS_WITH(metrics::calibration_ratio(vec({1, NAN, 0}), p),
                    Catch::Contains("calibration_ratio: y_true[1] = nan, expected a finite value"));
  CHECK_THROWS_AS(metrics::calibration_ratio(y, vec({0.8})), tailor::ShapeMismatch);
}

TEST_CASE("group_auc by hand", "[metrics]") {
  // Rows interleaved across groups 7, 3 and 5:
  //   group 7: rows 0, 4: y = [1,0], s = [0.9,0.1] → AUC 1, n = 2.
  //   group 3: rows 1, 3, 5, 7: y = [1,0,1,0], s = [0.8,0.6,0.2,0.4]; pairs (pos, neg):
  //            (0.8,0.6)=1 (0.8,0.4)=1 (0.2,0.6)=0 (0.2,0.4)=0 → AUC 2/4 = 0.5, n = 4.
  //   group 5: rows 2, 6: only negatives → skipped.
  // GAUC = (2·1 + 4·0.5) / (2 + 4) = 4/6.
  const Eigen::VectorXd y = vec({1, 1, 0, 0, 0, 1, 0, 0});
  const Eigen::VectorXd s = vec({0.9, 0.8, 0.3, 0.6, 0.1, 0.2, 0.7, 0.4});
  const std::vector<Index> g = {7, 3, 5, 3, 7, 3, 5, 3};
  CHECK(metrics::group_auc(y, s, g) == Approx(4.0 / 6.0).epsilon(1e-15));

  // Weights [1,3,5,1,3,1,5,1]: group 7 has w = [1,3] → AUC 1, n_g = 4. Group 3: positives
  // 0.8→3, 0.2→1 (W₁ = 4), negatives 0.6→1, 0.4→1 (W₀ = 2); concordant = 3·1 + 3·1 = 6 →
  // AUC 6/8 = 0.75, n_g = 6. Group 5 skipped. GAUC = (4·1 + 6·0.75) / 10 = 0.85.
  const Eigen::VectorXd w = vec({1, 3, 5, 1, 3, 1, 5, 1});
  CHECK(metrics::group_auc(y, s, g, w) == Approx(0.85).epsilon(1e-15));
  // Integer weights equal repeated rows (group sizes become weight sums).
  CHECK(metrics::group_auc(y, s, g, w) ==
        Approx(metrics::group_auc(repeat_rows(y, w), repeat_rows(s, w), repeat_groups(g, w)))
            .epsilon(1e-15));
  // Group 7's negative has zero weight: the group is skipped → GAUC = AUC of group 3 = 0.75.
  CHECK(metrics::group_auc(y, s, g, vec({1, 3, 5, 1, 0, 1, 5, 1})) == Approx(0.75).epsilon(1e-15));

  // Ties inside a group count one half, as in roc_auc: y = [1,0,1,0] all tied → 0.5.
  CHECK(metrics::group_auc(vec({1, 0, 1, 0}), vec({2, 2, 2, 2}), std::vector<Index>{1, 1, 1, 1}) ==
        0.5);
  // A single group (ids negative or not: only equality matters) is roc_auc.
  CHECK(metrics::group_auc(y, s, std::vector<Index>(8, -4), w) ==
        Approx(metrics::roc_auc(y, s, w)).epsilon(1e-15));
}

TEST_CASE("group_auc equals the size-weighted mean of per-group roc_auc on random data",
          "[metrics]") {
  tailor::Rng rng(23);
  const Index n = 400;
  const Index num_groups = 6;
  Eigen::VectorXd y(n), s(n), w(n);
  std::vector<Index> g(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    g[static_cast<std::size_t>(i)] = static_cast<Index>(rng.uniform_index(num_groups));
    // Group 0 holds only negatives and must be skipped.
    const bool positive = g[static_cast<std::size_t>(i)] != 0 && rng.bernoulli(0.3);
    y[i] = positive ? 1.0 : 0.0;
    s[i] = static_cast<double>(rng.uniform_index(10)) + (positive ? 2.0 : 0.0);
    w[i] = rng.uniform(0.0, 2.0);
  }
  for (const bool weighted : {false, true}) {
    double num = 0.0;
    double den = 0.0;
    for (Index k = 1; k < num_groups; ++k) {
      std::vector<double> yk, sk, wk;
      for (Index i = 0; i < n; ++i) {
        if (g[static_cast<std::size_t>(i)] != k) continue;
        yk.push_back(y[i]);
        sk.push_back(s[i]);
        wk.push_back(weighted ? w[i] : 1.0);
      }
      const auto m = static_cast<Index>(yk.size());
      const Eigen::Map<const Eigen::VectorXd> ym(yk.data(), m), sm(sk.data(), m), wm(wk.data(), m);
      num += wm.sum() * metrics::roc_auc(ym, sm, wm);
      den += wm.sum();
    }
    const double gauc = weighted ? metrics::group_auc(y, s, g, w) : metrics::group_auc(y, s, g);
    CHECK(gauc == Approx(num / den).epsilon(1e-12));
  }
}

TEST_CASE("group_auc rejects bad input", "[metrics]") {
  const Eigen::VectorXd y = vec({1, 0, 1});
  const Eigen::VectorXd s = vec({0.1, 0.2, 0.3});
  const std::vector<Index> g = {0, 0, 1};
  CHECK_THROWS_AS(metrics::group_auc(y, s, std::vector<Index>{0, 0}), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(
      metrics::group_auc(y, s, std::vector<Index>{0, 0}),
      Catch::Contains("group_auc: groups has 2 entries, expected 3 (the length of y_true)"));
  // No group holds both classes.
  CHECK_THROWS_WITH(metrics::group_auc(y, s, std::vector<Index>{0, 1, 2}),
                    Catch::Contains("group_auc: none of the 3 groups has both classes"));
  CHECK_THROWS_AS(metrics::group_auc(vec({1, 1, 1}), s, g), tailor::DataError);
  // Group 0's negative has zero weight and group 1 is all positive.
  CHECK_THROWS_AS(metrics::group_auc(y, s, g, vec({1, 0, 1})), tailor::DataError);
  CHECK_THROWS_WITH(metrics::group_auc(vec({1, 3, 0}), s, g),
                    Catch::Contains("group_auc: y_true[1] = 3, expected 0 or 1"));
  CHECK_THROWS_WITH(metrics::group_auc(y, vec({0.1, 0.2, NAN}), g),
                    Catch::Contains("group_auc: score[2] = nan, expected a finite value"));
  CHECK_THROWS_WITH(metrics::group_auc(y, vec({0.1}), g),
                    Catch::Contains("group_auc: score has 1 entries, expected 3"));
}

TEST_CASE("reliability_bins by hand", "[metrics]") {
  // 6 rows into 3 bins of 2. Sorted by p: 0.1(y 0) 0.2(1) | 0.3(0) 0.5(0) | 0.6(1) 0.9(1)
  // → mean predicted [0.15, 0.4, 0.75], observed rate [½, 0, 1], weight [2, 2, 2].
  const Eigen::VectorXd y = vec({0, 1, 0, 1, 1, 0});
  const Eigen::VectorXd p = vec({0.1, 0.9, 0.3, 0.2, 0.6, 0.5});
  const metrics::ReliabilityBins bins = metrics::reliability_bins(y, p, 3);
  REQUIRE(bins.weight.size() == 3);
  CHECK(bins.mean_predicted[0] == Approx(0.15).epsilon(1e-15));
  CHECK(bins.mean_predicted[1] == Approx(0.4).epsilon(1e-15));
  CHECK(bins.mean_predicted[2] == Approx(0.75).epsilon(1e-15));
  CHECK(bins.observed_rate == vec({0.5, 0.0, 1.0}));
  CHECK(bins.weight == vec({2, 2, 2}));

  // One bin is the overall means: Σp/6 = 2.6/6, Σy/6 = ½.
  const metrics::ReliabilityBins one = metrics::reliability_bins(y, p, 1);
  REQUIRE(one.weight.size() == 1);
  CHECK(one.mean_predicted[0] == Approx(2.6 / 6.0).epsilon(1e-15));
  CHECK(one.observed_rate[0] == 0.5);
  CHECK(one.weight[0] == 6.0);

  // 7 rows into 3 bins: row j goes to ⌊3(j + ½)/7⌋ = 0,0,1,1,1,2,2 → sizes 2, 3, 2.
  const Eigen::VectorXd p7 = vec({0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07});
  const metrics::ReliabilityBins seven =
      metrics::reliability_bins(vec({0, 0, 0, 1, 0, 1, 0}), p7, 3);
  CHECK(seven.weight == vec({2, 3, 2}));
  CHECK(seven.mean_predicted[1] == Approx(0.04).epsilon(1e-14));
  CHECK(seven.observed_rate[1] == Approx(1.0 / 3.0).epsilon(1e-15));

  // n < num_bins: each row is its own bin (2 bins), in increasing order of prediction.
  const metrics::ReliabilityBins few = metrics::reliability_bins(vec({1, 0}), vec({0.7, 0.2}), 5);
  CHECK(few.mean_predicted == vec({0.2, 0.7}));
  CHECK(few.observed_rate == vec({0.0, 1.0}));
  CHECK(few.weight == vec({1, 1}));

  // Tied predictions are cut by row index: rows {0,1} and {2,3}.
  const metrics::ReliabilityBins tied =
      metrics::reliability_bins(vec({1, 0, 0, 0}), Eigen::VectorXd::Constant(4, 0.01), 2);
  CHECK(tied.observed_rate == vec({0.5, 0.0}));
  CHECK(tied.mean_predicted == vec({0.01, 0.01}));
}

TEST_CASE("reliability_bins with weights", "[metrics]") {
  // Weights [2,1,1,2] (W = 6, bins of weight 2): weight midpoints 1, 2.5, 3.5, 5 → ⌊3·m/6⌋ =
  // 0, 1, 1, 2. Bin 0: p 0.1, y 0; bin 1: p 0.2 (y 1), 0.3 (y 0) → mean 0.25, rate ½; bin 2:
  // p 0.4, y 1.
  const Eigen::VectorXd y = vec({0, 1, 0, 1});
  const Eigen::VectorXd p = vec({0.1, 0.2, 0.3, 0.4});
  const Eigen::VectorXd w = vec({2, 1, 1, 2});
  const metrics::ReliabilityBins bins = metrics::reliability_bins(y, p, 3, w);
  REQUIRE(bins.weight.size() == 3);
  CHECK(bins.mean_predicted[0] == Approx(0.1).epsilon(1e-15));
  CHECK(bins.mean_predicted[1] == Approx(0.25).epsilon(1e-15));
  CHECK(bins.mean_predicted[2] == Approx(0.4).epsilon(1e-15));
  CHECK(bins.observed_rate == vec({0.0, 0.5, 1.0}));
  CHECK(bins.weight == vec({2, 2, 2}));
  // No bin edge cuts a row's weight here, so integer weights equal repeated rows.
  const metrics::ReliabilityBins repeated =
      metrics::reliability_bins(repeat_rows(y, w), repeat_rows(p, w), 3);
  CHECK(repeated.mean_predicted.isApprox(bins.mean_predicted, 1e-15));
  CHECK(repeated.observed_rate == bins.observed_rate);
  CHECK(repeated.weight == bins.weight);

  // A heavy row leaves bins empty, which are dropped: weights [1,1,10], 4 bins (W = 12):
  // midpoints 0.5, 1.5, 7 → ⌊4·m/12⌋ = 0, 0, 2 → two bins.
  const metrics::ReliabilityBins heavy =
      metrics::reliability_bins(vec({0, 1, 0}), vec({0.1, 0.2, 0.3}), 4, vec({1, 1, 10}));
  REQUIRE(heavy.weight.size() == 2);
  CHECK(heavy.mean_predicted[0] == Approx(0.15).epsilon(1e-15));
  CHECK(heavy.mean_predicted[1] == 0.3);
  CHECK(heavy.observed_rate == vec({0.5, 0.0}));
  CHECK(heavy.weight == vec({2, 10}));

  // Bins holding only zero-weight rows are dropped: weights [0,2,0], 3 bins (W = 2): positions
  // 0, 1.5, 3 → bins 0, 1, 2 (clamped); bins 0 and 2 have no weight → one bin, row 1.
  const metrics::ReliabilityBins zero =
      metrics::reliability_bins(vec({0, 1, 0}), vec({0.1, 0.2, 0.3}), 3, vec({0, 2, 0}));
  REQUIRE(zero.weight.size() == 1);
  CHECK(zero.mean_predicted[0] == 0.2);
  CHECK(zero.observed_rate[0] == 1.0);
  CHECK(zero.weight[0] == 2.0);
}

TEST_CASE("reliability_bins rejects bad input", "[metrics]") {
  const Eigen::VectorXd y = vec({1, 0, 1});
  const Eigen::VectorXd p = vec({0.8, 0.4, 0.5});
  CHECK_THROWS_WITH(metrics::reliability_bins(y, p, 0),
                    Catch::Contains("reliability_bins: num_bins = 0, expected 1 to 10000000"));
  CHECK_THROWS_AS(metrics::reliability_bins(y, p, -2), tailor::InvalidArgument);
  CHECK_THROWS_WITH(
      metrics::reliability_bins(y, vec({0.8, 0.4, 1.01}), 2),
      Catch::Contains("reliability_bins: prob[2] = 1.01, expected a probability in [0, 1]"));
  CHECK_THROWS_WITH(metrics::reliability_bins(y, vec({0.8, NAN, 0.5}), 2),
                    Catch::Contains("reliability_bins: prob[1] = nan, expected a finite value"));
  CHECK_THROWS_WITH(metrics::reliability_bins(vec({1, -1, 0}), p, 2),
                    Catch::Contains("reliability_bins: y_true[1] = -1, expected 0 or 1"));
  CHECK_THROWS_AS(metrics::reliability_bins(y, vec({0.8, 0.4}), 2), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(metrics::reliability_bins(y, p, 2, vec({1, 1, 1, 1})),
                    Catch::Contains("reliability_bins: weights has 4 rows, expected 3"));
  CHECK_THROWS_WITH(metrics::reliability_bins(Eigen::VectorXd(), Eigen::VectorXd(), 2),
                    Catch::Contains("reliability_bins: y_true has 0 entries, expected at least 1"));
}
