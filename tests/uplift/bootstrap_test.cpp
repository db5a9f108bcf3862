// Tests for uplift/bootstrap.hpp: bands contain the point curve, determinism across seeds and
// thread counts, metric intervals, bad options; [realdata] Hillstrom e-mail experiment with a
// T-learner score (Qini coefficient with its bootstrap interval, uplift by decile).
#include "tailor/uplift/bootstrap.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tailor/core/random.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/learn/gradient_boosting.hpp"
#include "tailor/learn/ridge.hpp"
#include "tailor/uplift/uplift_at_k.hpp"

using namespace tailor;
using namespace tailor::uplift;

namespace {
struct Randomized {
  Vector y, w, score, tau;
};
// Randomized binary outcome, P(Y = 1) = 0.3 + W·τ(x), τ(x) = 0.2x, score = τ + noise.
Randomized make_randomized(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Randomized d;
  d.y.resize(n), d.w.resize(n), d.score.resize(n), d.tau.resize(n);
  for (Index i = 0; i < n; ++i) {
    const double x = rng.uniform(-1.0, 1.0);
    d.tau[i] = 0.2 * x;
    d.w[i] = rng.bernoulli(0.5) ? 1.0 : 0.0;
    d.y[i] = rng.bernoulli(0.3 + d.w[i] * d.tau[i]) ? 1.0 : 0.0;
    d.score[i] = d.tau[i] + 0.1 * rng.normal();
  }
  return d;
}
}  // namespace

TEST_CASE("bootstrap_curve_band: contains the point curve and is deterministic", "[uplift]") {
  const Randomized d = make_randomized(3000, 1);
  const BootstrapOptions opts{
      .num_resamples = 60, .num_grid_points = 21, .seed = 7, .num_threads = 1};
  const CurveBand band = bootstrap_curve_band(CurveKind::qini, d.y, d.w, d.score, {}, opts);
  REQUIRE(band.share.size() == 21);
  const Curve point = qini_curve(d.y, d.w, d.score);
  for (Index g = 0; g < 21; ++g) {
    INFO("share " << band.share[g]);
    CHECK(band.value[g] == Approx(point.at_fraction(band.share[g])));
    CHECK(band.lower[g] <= band.value[g] + 1e-12);
    CHECK(band.value[g] <= band.upper[g] + 1e-12);
    CHECK(band.std_error[g] >= 0.0);
  }
  CHECK(band.value[0] == 0.0);  // every resample starts at (0, 0)
  CHECK(band.upper[0] == 0.0);
  CHECK(band.std_error[10] > 0.0);
  // The band's width at the end matches the binomial standard error of N_T·ATE roughly:
  // sd(Q(N)) ≈ N_T·√(p(1−p)(1/N_T + 1/N_C)) ≈ 1500·√(0.21·(2/1500)) ≈ 25.
  CHECK(band.std_error[20] > 10.0);
  CHECK(band.std_error[20] < 50.0);
  // Same seed → identical bits; 1, 2 and 4 threads agree bit for bit.
  for (Index threads : {2, 4}) {
    BootstrapOptions o = opts;
    o.num_threads = threads;
    const CurveBand other = bootstrap_curve_band(CurveKind::qini, d.y, d.w, d.score, {}, o);
    CHECK(other.lower == band.lower);
    CHECK(other.upper == band.upper);
    CHECK(other.std_error == band.std_error);
  }
  BootstrapOptions reseeded = opts;
  reseeded.seed = 8;
  CHECK(bootstrap_curve_band(CurveKind::qini, d.y, d.w, d.score, {}, reseeded).upper != band.upper);
}

TEST_CASE("bootstrap_metric: Qini coefficient interval, deterministic across threads", "[uplift]") {
  const Randomized d = make_randomized(3000, 2);
  auto qini = [](const VectorRef& y, const VectorRef& w, const VectorRef& s,
                 const EvaluationOptions& o) { return qini_auc_score(y, w, s, o); };
  const BootstrapOptions opts{.num_resamples = 50, .seed = 3, .num_threads = 1};
  const BootstrapResult r1 = bootstrap_metric(qini, d.y, d.w, d.score, {}, opts);
  CHECK(r1.value == qini_auc_score(d.y, d.w, d.score));
  CHECK(r1.replicates.size() == 50);
  CHECK(r1.interval.contains(r1.value));
  CHECK(r1.std_error > 0.0);
  CHECK(r1.interval.lower > 0.0);  // the informative score beats random at this n
  BootstrapOptions threaded = opts;
  threaded.num_threads = 3;
  const BootstrapResult r3 = bootstrap_metric(qini, d.y, d.w, d.score, {}, threaded);
  CHECK(r3.replicates == r1.replicates);
  CHECK(r3.interval.lower == r1.interval.lower);
  // IPW with a constant propensity resamples to the same replicates as the randomized version
  // (up to rounding), since the estimators agree on every resample.
  const BootstrapResult ipw =
      bootstrap_metric(qini, d.y, d.w, d.score, {.propensity = Vector::Constant(3000, 0.4)}, opts);
  for (Index b = 0; b < 50; ++b) CHECK(ipw.replicates[b] == Approx(r1.replicates[b]));
}

TEST_CASE("bootstrap: bad options and resamples that lose an arm", "[uplift]") {
  const Randomized d = make_randomized(200, 4);
  CHECK_THROWS_WITH(
      bootstrap_curve_band(CurveKind::uplift, d.y, d.w, d.score, {}, {.num_resamples = 1}),
      Catch::Contains("bootstrap_curve_band: num_resamples = 1, expected 2 to 1000000"));
  CHECK_THROWS_WITH(bootstrap_curve_band(CurveKind::uplift, d.y, d.w, d.score, {}, {.level = 1.0}),
                    Catch::Contains("level = 1, expected a value in (0, 1)"));
  CHECK_THROWS_WITH(
      bootstrap_curve_band(CurveKind::uplift, d.y, d.w, d.score, {}, {.num_grid_points = 1}),
      Catch::Contains("num_grid_points = 1, expected 2 to 10000000"));
  CHECK_THROWS_AS(
      bootstrap_curve_band(CurveKind::uplift, d.y, d.w, d.score, {}, {.num_threads = -1}),
      InvalidArgument);
  // One treated row among six: most resamples have no treated row.
  const Vector y{{1, 0, 1, 0, 1, 0}};
  const Vector w{{1, 0, 0, 0, 0, 0}};
  const Vector s{{6, 5, 4, 3, 2, 1}};
  CHECK_THROWS_WITH(bootstrap_curve_band(CurveKind::uplift, y, w, s, {}, {.num_threads = 1}),
                    Catch::Contains("bootstrap_curve_band: bootstrap resample"));
  CHECK_THROWS_AS(bootstrap_curve_band(CurveKind::uplift, y, w, s, {}, {.num_threads = 1}),
                  DataError);
}

TEST_CASE("bootstrap: Hillstrom e-mail experiment, T-learner Qini with bootstrap band",
          "[uplift][realdata]") {
  const char* dir = std::getenv("TAILOR_DATA_DIR");
  const auto path = std::filesystem::path(dir ? dir : "") / "hillstrom" / "hillstrom.csv";
  if (dir == nullptr || !std::filesystem::exists(path)) {
    WARN("TAILOR_DATA_DIR/hillstrom/hillstrom.csv not found; skipping the Hillstrom checks");
    return;
  }
  const io::Table t = io::read_csv(path);
  const auto& segment = t.strings("segment");
  const auto& zip = t.strings("zip_code");
  const auto& channel = t.strings("channel");
  const Index n_all = static_cast<Index>(t.num_rows());
  REQUIRE(n_all == 64000);
  // Features: recency, log(1 + history), mens, womens, newbie, zip and channel dummies.
  Matrix X_all(n_all, 9);
  for (Index i = 0; i < n_all; ++i) {
    const auto r = static_cast<std::size_t>(i);
    X_all(i, 0) = t.numeric("recency")[i];
    X_all(i, 1) = std::log1p(t.numeric("history")[i]);
    X_all(i, 2) = t.numeric("mens")[i];
    X_all(i, 3) = t.numeric("womens")[i];
    X_all(i, 4) = t.numeric("newbie")[i];
    X_all(i, 5) = zip[r] == "Urban" ? 1.0 : 0.0;
    X_all(i, 6) = zip[r] == "Rural" ? 1.0 : 0.0;
    X_all(i, 7) = channel[r] == "Web" ? 1.0 : 0.0;
    X_all(i, 8) = channel[r] == "Phone" ? 1.0 : 0.0;
  }
  Rng split_rng(2008);
  std::vector<bool> is_test(static_cast<std::size_t>(n_all));
  for (auto&& b : is_test) b = split_rng.bernoulli(0.5);

  for (const std::string arm : {"Mens E-Mail", "Womens E-Mail"}) {
    // Rows of this arm and of the control arm; train/test halves.
    std::vector<Index> train, test;
    for (Index i = 0; i < n_all; ++i) {
      const auto& s = segment[static_cast<std::size_t>(i)];
      if (s != arm && s != "No E-Mail") continue;
      (is_test[static_cast<std::size_t>(i)] ? test : train).push_back(i);
    }
    auto rows_of = [&](const std::vector<Index>& rows, const Eigen::VectorXd& v) {
      Vector out(static_cast<Index>(rows.size()));
      for (std::size_t k = 0; k < rows.size(); ++k) out[static_cast<Index>(k)] = v[rows[k]];
      return out;
    };
    Vector w_full(n_all);
    for (Index i = 0; i < n_all; ++i) {
      w_full[i] = segment[static_cast<std::size_t>(i)] == arm ? 1.0 : 0.0;
    }
    const Vector w_test = rows_of(test, w_full);
    for (const std::string outcome : {"visit", "conversion", "spend"}) {
      const Vector y_test = rows_of(test, t.numeric(outcome));
      // The whole-sample lift is the difference in means (the ATE of a randomized test).
      double sum_t = 0, sum_c = 0, n_t = 0, n_c = 0;
      for (Index i = 0; i < y_test.size(); ++i) {
        (w_test[i] == 1.0 ? sum_t : sum_c) += y_test[i];
        (w_test[i] == 1.0 ? n_t : n_c) += 1.0;
      }
      const double ate = lift_curve(y_test, w_test, Vector::Zero(y_test.size())).final_value();
      CHECK(ate == Approx(sum_t / n_t - sum_c / n_c));
      if (outcome != "visit") {
        fmt::print("Hillstrom {:13s} {:10s} test-half ATE {:+.5f}\n", arm, outcome, ate);
        continue;
      }
      // T-learner on the training half: ridge per arm, score = μ̂₁(x) − μ̂₀(x).
      std::vector<Index> train_t, train_c;
      for (Index i : train) (w_full[i] == 1.0 ? train_t : train_c).push_back(i);
      auto take_X = [&](const std::vector<Index>& rows) {
        Matrix out(static_cast<Index>(rows.size()), X_all.cols());
        for (std::size_t k = 0; k < rows.size(); ++k)
          out.row(static_cast<Index>(k)) = X_all.row(rows[k]);
        return out;
      };
      const Matrix X_test = take_X(test);
      const learn::GradientBoostingRegressor gbm({.learning_rate = 0.1,
                                                  .max_iter = 40,
                                                  .max_leaf_nodes = 8,
                                                  .min_samples_leaf = 200,
                                                  .early_stopping = learn::EarlyStopping::disabled,
                                                  .seed = 1,
                                                  .num_threads = 0});
      const learn::Ridge ridge;
      const Vector y_full = t.numeric(outcome);
      const Vector score_ridge =
          ridge.fit(take_X(train_t), rows_of(train_t, y_full), Vector()).predict(X_test) -
          ridge.fit(take_X(train_c), rows_of(train_c, y_full), Vector()).predict(X_test);
      const Vector score_gbm =
          gbm.fit(take_X(train_t), rows_of(train_t, y_full), Vector()).predict(X_test) -
          gbm.fit(take_X(train_c), rows_of(train_c, y_full), Vector()).predict(X_test);
      auto qini = [](const VectorRef& y, const VectorRef& w, const VectorRef& s,
                     const EvaluationOptions& o) { return qini_auc_score(y, w, s, o); };
      const BootstrapOptions boot{.num_resamples = 100, .seed = 11};
      for (const auto& [name, score] :
           {std::pair<std::string, const Vector*>{"ridge", &score_ridge},
            std::pair<std::string, const Vector*>{"gbm", &score_gbm}}) {
        const BootstrapResult q = bootstrap_metric(qini, y_test, w_test, *score, {}, boot);
        const double auuc = uplift_auc_score(y_test, w_test, *score);
        const auto deciles = uplift_by_bin(y_test, w_test, *score, 10);
        fmt::print(
            "Hillstrom {:13s} visit ATE {:+.5f}  T-learner({}) qini_auc_score {:+.4f} "
            "[{:+.4f}, {:+.4f}] (bootstrap se {:.4f}), uplift_auc_score {:+.4f}, "
            "uplift@30% {:+.4f}\n",
            arm, ate, name, q.value, q.interval.lower, q.interval.upper, q.std_error, auuc,
            uplift_at_k(y_test, w_test, *score, 0.3).uplift);
        std::string line = "  uplift by decile (visit):";
        for (const auto& b : deciles) line += fmt::format(" {:+.3f}", b.uplift);
        fmt::print("{}\n", line);
        // The women's e-mail has heterogeneous effects on visits that a model fitted on the
        // other half finds: its Qini coefficient's bootstrap interval lies above 0. The men's
        // e-mail effect is nearly homogeneous (deciles all ≈ +0.07), so its interval covers 0
        // (measured: ridge +0.016 [−0.001, +0.030]); only the point estimate is positive.
        if (arm == "Womens E-Mail") {
          CHECK(q.interval.lower > 0.0);
        } else {
          CHECK(q.value > 0.0);
        }
      }
      // The men's e-mail raises visits by about 7.7 points, the women's by about 4.5 (README).
      CHECK(ate == Approx(arm == "Mens E-Mail" ? 0.0766 : 0.0452).margin(0.01));
    }
  }
}
