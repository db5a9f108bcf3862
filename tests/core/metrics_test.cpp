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
