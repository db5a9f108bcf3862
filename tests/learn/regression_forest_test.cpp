#include "tailor/learn/regression_forest.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <numbers>
#include <sstream>

#include "tailor/core/random.hpp"
#include "tailor/learn/concepts.hpp"

using tailor::Index;
using tailor::Matrix;
using tailor::Vector;
using tailor::learn::RegressionForest;
using tailor::learn::RegressionForestModel;

static_assert(tailor::learn::Regressor<RegressionForest>);

namespace {

/// Friedman #1: y = 10 sin(π x1 x2) + 20 (x3 − 1/2)² + 10 x4 + 5 x5 + σε, x ~ U[0,1]^p.
struct Friedman {
  Matrix X;
  Vector y;
  Vector truth;
};
Friedman friedman1(Index n, Index p, double noise, std::uint64_t seed) {
  tailor::Rng rng(seed);
  REQUIRE(p >= 5);
  Friedman d{Matrix(n, p), Vector(n), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) d.X(i, j) = rng.uniform();
    const auto x = d.X.row(i);
    d.truth[i] = 10.0 * std::sin(std::numbers::pi * x[0] * x[1]) +
                 20.0 * (x[2] - 0.5) * (x[2] - 0.5) + 10.0 * x[3] + 5.0 * x[4];
    d.y[i] = d.truth[i] + noise * rng.normal();
  }
  return d;
}

double r_squared(const Vector& truth, const Vector& prediction) {
  const double mean = truth.mean();
  return 1.0 - (truth - prediction).squaredNorm() / (truth.array() - mean).square().sum();
}

bool bit_identical(const Vector& a, const Vector& b) {
  if (a.size() != b.size()) return false;
  for (Index i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("RegressionForest recovers Friedman #1", "[regression_forest]") {
  const auto train = friedman1(2000, 10, 1.0, 1);
  const auto test = friedman1(1000, 10, 0.0, 2);
  SECTION("honest grf defaults") {
    const RegressionForest forest({.num_trees = 100, .seed = 3, .num_threads = 2});
    const auto model = forest.fit(train.X, train.y);
    const double r2 = r_squared(test.truth, model.predict(test.X));
    // A forest of 100 honest trees on 2000 rows reaches about 0.84 (seed 3: 0.841).
    CHECK(r2 > 0.80);
    // OOB predictions are close to the held-out quality on the noisy training targets.
    const double oob_r2 = r_squared(train.truth, model.oob_predictions());
    CHECK(oob_r2 > 0.78);
  }
  SECTION("grf's Poisson(mtry) features per split: another forest, as accurate") {
    const RegressionForest plain({.num_trees = 100, .seed = 3, .num_threads = 2});
    const RegressionForest poisson(
        {.num_trees = 100, .poisson_mtry = true, .seed = 3, .num_threads = 2});
    const Eigen::VectorXd p_plain = plain.fit(train.X, train.y).predict(test.X);
    const auto model = poisson.fit(train.X, train.y);
    const Eigen::VectorXd p_poisson = model.predict(test.X);
    CHECK(p_plain != p_poisson);
    CHECK(r_squared(test.truth, p_poisson) > 0.80);
    RegressionForest::Params one_thread = poisson.params();
    one_thread.num_threads = 1;
    CHECK(RegressionForest(one_thread).fit(train.X, train.y).predict(test.X) == p_poisson);
  }
  SECTION("Breiman/sklearn-style: bootstrap, mtry = p/3, no honesty") {
    const RegressionForest forest({.num_trees = 100,
                                   .mtry = 3,
                                   .sample_fraction = 1.0,
                                   .bootstrap = true,
                                   .honesty = false,
                                   .seed = 3,
                                   .num_threads = 2});
    const auto model = forest.fit(train.X, train.y);
    CHECK(r_squared(test.truth, model.predict(test.X)) > 0.80);
  }
  SECTION("variable importance ranks the five informative features first") {
    const RegressionForest forest({.num_trees = 50, .seed = 4, .num_threads = 2});
    const auto model = forest.fit(train.X, train.y);
    const Vector importance = model.variable_importance();
    CHECK(importance.sum() == Approx(1.0));
    const double weakest_informative = importance.head(5).minCoeff();
    const double strongest_noise = importance.tail(5).maxCoeff();
    CHECK(weakest_informative > strongest_noise);
  }
}

TEST_CASE("RegressionForest: honest leaves take values only from the estimation half",
          "[regression_forest]") {
  // A binary feature forces the tree structure: one split x <= 0.5, two leaves. Baseline
  // y = 10·x. Adding a spike of 1e6 to row k changes a leaf value iff k is an estimation row;
  // a splitting row's y cannot reach any leaf. The halves depend only on (seed, tree, n), so
  // the same rows are estimation rows in every refit: exactly n/2 spikes must move a leaf,
  // each by 1e6 / (that leaf's estimation count), and the other n/2 must change nothing.
  const Index n = 40;
  Matrix X(n, 1);
  Vector y(n);
  for (Index i = 0; i < n; ++i) {
    X(i, 0) = static_cast<double>(i % 2);
    y[i] = 10.0 * X(i, 0);
  }
  const RegressionForest one_tree({.num_trees = 1,
                                   .sample_fraction = 1.0,
                                   .min_node_size = 1,
                                   .compute_oob = false,
                                   .seed = 9,
                                   .num_threads = 1});
  const auto base = one_tree.fit(X, y);
  const Vector base_prediction = base.predict(X);
  REQUIRE(base.forest().trees().at(0).nodes.size() == 3);  // the one split was made
  CHECK(base_prediction[0] == 0.0);
  CHECK(base_prediction[1] == 10.0);
  const auto& stats = base.forest().trees().at(0).leaf_stats;  // [n, Σw, Σwy] per leaf
  CHECK(stats[0] + stats[3] == Approx(n / 2.0));               // only estimation rows counted

  Index moved = 0;
  for (Index k = 0; k < n; ++k) {
    Vector spiked = y;
    spiked[k] += 1e6;
    const Vector prediction = one_tree.fit(X, spiked).predict(X);
    const Index other = 1 - k % 2;  // a row in the other leaf
    CHECK(prediction[other] == base_prediction[other]);
    if (prediction[k] != base_prediction[k]) {
      ++moved;
      const double leaf_count = stats[static_cast<std::size_t>(3 * (k % 2))];
      CHECK(prediction[k] - base_prediction[k] == Approx(1e6 / leaf_count));
    }
  }
  CHECK(moved == n / 2);
}

TEST_CASE("RegressionForest: out-of-bag predictions never use the row's own trees",
          "[regression_forest]") {
  // Trees that did not sample row k never saw y[k]; so OOB[k] must be bit-identical with and
  // without a huge spike at y[k], while the in-sample prediction at k moves.
  const auto train = friedman1(300, 5, 1.0, 21);
  for (const bool honesty : {true, false}) {
    const RegressionForest forest({.num_trees = 40,
                                   .sample_fraction = honesty ? 0.5 : 1.0,
                                   .bootstrap = !honesty,
                                   .honesty = honesty,
                                   .seed = 5,
                                   .num_threads = 2});
    const Index k = 123;
    Vector spiked = train.y;
    spiked[k] = 1e8;
    const auto base = forest.fit(train.X, train.y);
    const auto with_spike = forest.fit(train.X, spiked);
    REQUIRE(std::isfinite(base.oob_predictions()[k]));
    CHECK(with_spike.oob_predictions()[k] == base.oob_predictions()[k]);
    CHECK(std::abs(with_spike.predict(train.X.row(k))[0] - base.predict(train.X.row(k))[0]) > 1e4);
    // Other rows' OOB predictions do feel the spike through trees that sampled k.
    CHECK((with_spike.oob_predictions() - base.oob_predictions()).cwiseAbs().maxCoeff() > 1e4);
  }
}

TEST_CASE("RegressionForest: determinism across thread counts and seeds", "[regression_forest]") {
  const auto train = friedman1(500, 6, 1.0, 31);
  const auto test = friedman1(200, 6, 0.0, 32);
  auto fit = [&](Index threads, std::uint64_t seed, bool bootstrap) {
    return RegressionForest({.num_trees = 24,
                             .sample_fraction = bootstrap ? 1.0 : 0.5,
                             .bootstrap = bootstrap,
                             .honesty = !bootstrap,
                             .seed = seed,
                             .num_threads = threads})
        .fit(train.X, train.y);
  };
  for (const bool bootstrap : {false, true}) {
    const auto one = fit(1, 7, bootstrap);
    const auto two = fit(2, 7, bootstrap);
    const auto four = fit(4, 7, bootstrap);
    CHECK(bit_identical(one.predict(test.X), two.predict(test.X)));
    CHECK(bit_identical(one.predict(test.X), four.predict(test.X)));
    CHECK(bit_identical(one.oob_predictions(), two.oob_predictions()));
    CHECK(bit_identical(one.oob_predictions(), four.oob_predictions()));
    CHECK_FALSE(bit_identical(one.predict(test.X), fit(1, 8, bootstrap).predict(test.X)));
  }
}

TEST_CASE("RegressionForest: save -> load gives identical predictions", "[regression_forest]") {
  const auto train = friedman1(300, 5, 1.0, 41);
  const auto model =
      RegressionForest({.num_trees = 10, .seed = 1, .num_threads = 1}).fit(train.X, train.y);
  std::stringstream stream;
  tailor::save(model, stream);
  const auto loaded = tailor::load<RegressionForestModel>(stream);
  CHECK(bit_identical(model.predict(train.X), loaded.predict(train.X)));
  CHECK(bit_identical(model.oob_predictions(), loaded.oob_predictions()));
  CHECK(loaded.num_trees() == 10);
  CHECK((loaded.variable_importance() - model.variable_importance()).norm() == 0.0);

  // Corrupt data throws FormatError: truncation and a flipped child index.
  const std::string bytes = stream.str();
  std::stringstream truncated(bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_AS(tailor::load<RegressionForestModel>(truncated), tailor::FormatError);
  std::stringstream wrong("not a model at all, definitely not");
  CHECK_THROWS_AS(tailor::load<RegressionForestModel>(wrong), tailor::FormatError);
}

TEST_CASE("RegressionForest: one ForestParams, defaults applied once", "[regression_forest]") {
  const auto defaults = RegressionForest().forest_params();
  CHECK(defaults.num_trees == 500);
  CHECK(defaults.min_node_size == 5);
  CHECK(defaults.max_depth == 0);
  CHECK(defaults.honesty);
  CHECK(defaults.max_bins == 256);
  CHECK_FALSE(defaults.poisson_mtry);
  CHECK(defaults.resolve_mtry(4, "test") == 4);  // grf: min(ceil(sqrt(p) + 20), p)
  CHECK(defaults.resolve_mtry(900, "test") == 50);
  CHECK_THROWS_WITH(RegressionForest({.mtry = 5}).fit(Matrix::Zero(10, 3), Vector::Zero(10)),
                    Catch::Contains("RegressionForest: mtry = 5, expected at most the 3 features"));
}

TEST_CASE("RegressionForest: bad input", "[regression_forest]") {
  using tailor::DataError;
  using tailor::InvalidArgument;
  using tailor::ShapeMismatch;
  CHECK_THROWS_WITH(
      RegressionForest({.num_trees = 0}),
      Catch::Contains("RegressionForest: num_trees = 0, expected between 1 and 1000000"));
  CHECK_THROWS_WITH(RegressionForest({.sample_fraction = 1.5}),
                    Catch::Contains("sample_fraction = 1.5, expected a value in (0, 1]"));
  CHECK_THROWS_WITH(RegressionForest({.min_node_size = 0}),
                    Catch::Contains("min_node_size = 0, expected 1 to 2147483647"));
  CHECK_THROWS_WITH(RegressionForest({.honesty_fraction = 1.0}),
                    Catch::Contains("honesty_fraction = 1, expected a value in (0, 1)"));
  CHECK_THROWS_AS(RegressionForest({.max_bins = 4097}), InvalidArgument);
  CHECK_THROWS_AS(RegressionForest({.mtry = -1}), InvalidArgument);
  CHECK_THROWS_AS(RegressionForest({.max_depth = -2}), InvalidArgument);

  const auto d = friedman1(50, 5, 1.0, 51);
  const RegressionForest forest({.num_trees = 2, .num_threads = 1});
  CHECK_THROWS_WITH(RegressionForest({.mtry = 6}).fit(d.X, d.y),
                    Catch::Contains("mtry = 6, expected at most the 5 features of X"));
  CHECK_THROWS_WITH(forest.fit(d.X, d.y.head(49)),
                    Catch::Contains("RegressionForest: y has 49 rows, expected 50"));
  Vector bad_y = d.y;
  bad_y[7] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(forest.fit(d.X, bad_y), Catch::Contains("y[7] = inf, expected a finite"));
  Matrix bad_X = d.X;
  bad_X(3, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(forest.fit(bad_X, d.y), Catch::Contains("X(3, 2) = nan"));
  Vector weights = Vector::Ones(50);
  weights[4] = -1.0;
  CHECK_THROWS_WITH(forest.fit(d.X, d.y, weights),
                    Catch::Contains("weights[4] = -1, expected a value >= 0"));
  CHECK_THROWS_WITH(forest.fit(d.X, d.y, Vector::Zero(50)), Catch::Contains("weights sum to 0"));
  CHECK_THROWS_AS(forest.fit(d.X, d.y, Vector::Ones(3)), ShapeMismatch);
  CHECK_THROWS_AS(forest.fit(Matrix(0, 3), Vector(0)), DataError);
  // Absurd counts are refused before anything is allocated.
  CHECK_THROWS_WITH(RegressionForest({.num_trees = std::int64_t{1} << 62}),
                    Catch::Contains("num_trees = 4611686018427387904, expected between 1 and"));
  // X with no columns (it used to pass, with mtry clamped to [1, 0]).
  CHECK_THROWS_WITH(forest.fit(Matrix(50, 0), d.y),
                    Catch::Contains("X has 50 rows and 0 columns, expected at least 1 feature"));
  // One or two rows leave every honest tree without estimation rows: an error naming that,
  // not a model that predicts NaN.
  CHECK_THROWS_WITH(forest.fit(d.X.topRows(1), d.y.head(1)),
                    Catch::Contains("none of the 2 trees received estimation rows"));
  // The memory estimate is checked before anything is allocated (default limit 64 GiB).
  const std::uint64_t saved_limit = tailor::memory_limit();
  tailor::set_memory_limit(std::uint64_t{1} << 16);
  CHECK_THROWS_WITH(RegressionForest({.num_trees = 2000}).fit(d.X, d.y),
                    Catch::Contains("2000 trees on 50 rows with 2 channels need about") &&
                        Catch::Contains("KiB, above the memory limit of 64.0 KiB"));
  tailor::set_memory_limit(saved_limit);
  CHECK(tailor::memory_limit() == std::uint64_t{64} << 30);
  for (const Index rows : {2, 3}) {  // fits that succeed predict finite values everywhere
    try {
      const auto tiny = forest.fit(d.X.topRows(rows), d.y.head(rows));
      CHECK(tiny.predict(d.X).allFinite());
    } catch (const DataError& e) {
      CHECK_THAT(e.what(), Catch::Contains("received estimation rows"));
    }
  }
  const auto model = forest.fit(d.X, d.y);
  CHECK_THROWS_WITH(model.predict(Matrix::Zero(2, 2)),
                    Catch::Contains("RegressionForestModel::predict: X has 2 columns, expected 5"));
}

TEST_CASE("RegressionForest: sample weights act like replicated rows", "[regression_forest]") {
  // A constant target per half with weight 3 on the right: no split can change the leaf means
  // on pure halves, so predictions equal the group values exactly; and the weighted mean of a
  // leaf holding both groups uses the weights.
  const Index n = 60;
  Matrix X(n, 1);
  Vector y(n);
  Vector w(n);
  for (Index i = 0; i < n; ++i) {
    X(i, 0) = 0.0;  // one constant feature: the tree is a single leaf
    y[i] = i < 30 ? 1.0 : 2.0;
    w[i] = i < 30 ? 1.0 : 3.0;
  }
  const auto model =
      RegressionForest(
          {.num_trees = 5, .sample_fraction = 1.0, .honesty = false, .seed = 2, .num_threads = 1})
          .fit(X, y, w);
  // Weighted mean (30·1 + 90·2) / 120 = 1.75.
  CHECK(model.predict(X.topRows(1))[0] == Approx(1.75));
}

TEST_CASE("RegressionForest: prebuilt bins and progress", "[regression_forest]") {
  const auto train = friedman1(400, 5, 1.0, 61);
  // Fitting on a prebuilt BinnedMatrix gives the same model as binning inside fit.
  const auto binned = tailor::learn::BinnedMatrix::build(train.X, {.max_bins = 256, .seed = 4}, 1);
  std::vector<Index> reports;
  std::mutex mutex;
  const RegressionForest forest(
      {.num_trees = 12, .seed = 4, .num_threads = 2, .progress = [&](const tailor::Progress& p) {
         std::lock_guard lock(mutex);
         CHECK(p.stage == "trees");
         CHECK(p.total == 12);
         reports.push_back(p.done);
       }});
  const auto from_bins = forest.fit(binned, train.y);
  const auto from_matrix = forest.fit(train.X, train.y);
  CHECK(bit_identical(from_bins.predict(train.X), from_matrix.predict(train.X)));
  REQUIRE(reports.size() == 24);
  std::sort(reports.begin(), reports.end());
  CHECK(reports.back() == 12);
}
