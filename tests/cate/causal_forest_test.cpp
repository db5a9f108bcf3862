// Tests for cate/causal_forest.hpp: recovery of known effects on the Wager–Athey and Nie–Wager
// setup A designs, little-bags interval coverage, the exact local moment solution, AIPW,
// bad input, determinism across thread counts, and save/load.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>
#include <vector>

#include "tailor/cate/causal_forest.hpp"
#include "tailor/core/random.hpp"
#include "tailor/datasets/causal_designs.hpp"

using namespace tailor;
using cate::CausalForest;

namespace {

using Sim = datasets::CausalDesign;

Sim wager_athey(Index n, Index p, std::uint64_t seed) {
  return datasets::wager_athey(n, p, 1.0, seed);
}

Sim nie_wager_a(Index n, Index p, double sigma, std::uint64_t seed) {
  return datasets::nie_wager(datasets::NieWagerSetup::A, n, p, sigma, seed);
}

double rmse(const Vector& a, const Vector& b) {
  return std::sqrt((a - b).squaredNorm() / static_cast<double>(a.size()));
}

bool identical(const Vector& a, const Vector& b) {
  if (a.size() != b.size()) return false;
  for (Index i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i]) && !(std::isnan(a[i]) && std::isnan(b[i]))) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("causal forest: Wager-Athey design, accuracy and 95% interval coverage", "[cate]") {
  // p = 5 (W&A use 2..8) keeps the test fast; at n = 2000 the little-bags intervals of 1000 trees
  // cover τ for ~92% of test points (grf reaches 0.92 at n = 10,000, p = 10).
  const Sim train = wager_athey(2000, 5, 11);
  const Sim test = wager_athey(500, 5, 12);
  const CausalData data(train.X, train.w, train.y);
  const auto model =
      CausalForest({.forest = {.num_trees = 1000, .seed = 3, .num_threads = 2}}).fit(data);
  const cate::EffectIntervals band = model.predict_interval(test.X, 0.95);

  // τ ranges over [1, 4] with sd ≈ 0.8; the forest's error is mostly smoothing bias at the
  // sigmoid's steps.
  const double error = rmse(band.estimate, test.tau);
  CHECK(error < 0.25);
  double covered = 0.0;
  for (Index i = 0; i < test.tau.size(); ++i) {
    covered += band.lower[i] <= test.tau[i] && test.tau[i] <= band.upper[i] ? 1.0 : 0.0;
  }
  const double coverage = covered / static_cast<double>(test.tau.size());
  CHECK(coverage >= 0.85);
  CHECK(coverage <= 0.99);
  CHECK(band.std_error.minCoeff() > 0.0);
  CHECK(band.std_error.allFinite());
  CHECK((band.upper - band.lower - 2.0 * 1.959963984540054 * band.std_error).cwiseAbs().maxCoeff() <
        1e-9);
  // A narrower level gives a narrower band around the same estimates.
  const cate::EffectIntervals band50 = model.predict_interval(test.X, 0.5);
  CHECK(identical(band50.estimate, band.estimate));
  CHECK(((band50.upper - band50.lower).array() < (band.upper - band.lower).array()).all());
  CHECK((model.predict_variance(test.X).array().sqrt() - band.std_error.array()).abs().maxCoeff() <
        1e-12);

  // Out-of-bag predictions for the training rows are as accurate as test predictions.
  CHECK(rmse(model.oob_predictions(), train.tau) < 0.25);
  // Only x₁ and x₂ move τ (the main effect is 0): they dominate the split frequencies.
  const Vector importance = model.variable_importance();
  CHECK(importance.sum() == Approx(1.0));
  CHECK(std::min(importance[0], importance[1]) > 2.0 * importance.tail(3).maxCoeff());

  // AIPW ATE covers the sample average effect; e = 0.5 exactly, so Ŵ stays near 0.5.
  const Estimate ate = model.average_effect();
  CHECK(std::abs(ate.value - train.tau.mean()) < 4.0 * ate.std_error);
  CHECK(ate.std_error < 0.1);
  CHECK(std::abs(model.treatment_estimates().mean() - 0.5) < 0.03);
  CHECK_FALSE(model.diagnostics().poor);
  CHECK(model.diagnostics().propensity_auc < 0.7);
}

TEST_CASE("causal forest: Nie-Wager setup A with confounding", "[cate]") {
  const Sim train = nie_wager_a(2000, 6, 1.0, 21);
  const Sim test = nie_wager_a(1000, 6, 1.0, 22);
  const CausalData data(train.X, train.w, train.y);
  const auto model =
      CausalForest({.forest = {.num_trees = 500, .seed = 5, .num_threads = 2}}).fit(data);
  const Vector tau = model.predict(test.X);
  // sd(τ) = √(1/24) ≈ 0.204 (the error of predicting the mean); the forest must do much better.
  CHECK(rmse(tau, test.tau) < 0.17);
  CHECK(rmse(model.oob_predictions(), train.tau) < 0.17);
  // Ŵ tracks the true propensity (range [0.1, 0.9]).
  CHECK(rmse(model.treatment_estimates(), train.propensity) < 0.12);
  const auto& d = model.diagnostics();
  CHECK(d.propensity_auc > 0.65);
  CHECK(d.num_treated + d.num_control == 2000);

  // ATE / ATT / ATC within 4 standard errors of the sample truth (τ correlates with e here,
  // so the three differ).
  const double true_ate = train.tau.mean();
  double att = 0.0, atc = 0.0, nt = 0.0;
  for (Index i = 0; i < train.tau.size(); ++i) {
    (train.w[i] == 1.0 ? att : atc) += train.tau[i];
    nt += train.w[i];
  }
  att /= nt;
  atc /= static_cast<double>(train.tau.size()) - nt;
  const Estimate ate = model.average_effect();
  const Estimate att_hat = model.average_effect(cate::TargetSample::treated);
  const Estimate atc_hat = model.average_effect(cate::TargetSample::control);
  CHECK(std::abs(ate.value - true_ate) < 4.0 * ate.std_error);
  CHECK(std::abs(att_hat.value - att) < 4.0 * att_hat.std_error);
  CHECK(std::abs(atc_hat.value - atc) < 4.0 * atc_hat.std_error);
  CHECK(model.doubly_robust_scores().mean() == Approx(ate.value).epsilon(1e-12));
  // A subset: the rows with x₁ > 0.5 have a larger effect than the rest.
  std::vector<Index> high, low;
  for (Index i = 0; i < train.tau.size(); ++i) (train.X(i, 0) > 0.5 ? high : low).push_back(i);
  CHECK(model.average_effect(high).value > model.average_effect(low).value);
  // grf's doubly-robust nuisances μ̂_w = Ŷ + (w − Ŵ)τ̂_oob.
  const auto& nu = model.nuisances();
  CHECK((nu.mu1 - nu.mu0 - model.oob_predictions()).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(nu.propensity.minCoeff() >= 0.01);
}

TEST_CASE("causal forest: best linear projection and calibration test", "[cate]") {
  // Nie–Wager A: τ = 0.5·x₁ + 0.5·x₂ is linear, so the projection on [1, x₁, x₂] is exact.
  const Sim s = nie_wager_a(2000, 6, 1.0, 81);
  const CausalData data(s.X, s.w, s.y);
  const auto model =
      CausalForest({.forest = {.num_trees = 200, .seed = 2, .num_threads = 2}}).fit(data);
  const std::vector<Estimate> blp = model.best_linear_projection(s.X.leftCols(2));
  REQUIRE(blp.size() == 3);
  CHECK(std::abs(blp[0].value) < 4.0 * blp[0].std_error);
  CHECK(std::abs(blp[1].value - 0.5) < 4.0 * blp[1].std_error);
  CHECK(std::abs(blp[2].value - 0.5) < 4.0 * blp[2].std_error);
  // With no covariates the projection is the mean score, the AIPW ATE.
  const std::vector<Estimate> mean_only = model.best_linear_projection(Matrix(2000, 0));
  CHECK(mean_only[0].value == Approx(model.average_effect().value).epsilon(1e-10));
  CHECK_THROWS_WITH(model.best_linear_projection(s.X.topRows(5)),
                    Catch::Contains("A has 5 rows, expected 2000"));
  Matrix collinear(2000, 2);
  collinear.col(0) = s.X.col(0);
  collinear.col(1) = 2.0 * s.X.col(0);
  CHECK_THROWS_WITH(model.best_linear_projection(collinear), Catch::Contains("collinear"));

  // Strong heterogeneity (Wager–Athey): both calibration coefficients near 1, and the
  // differential one clearly positive.
  const Sim wa = wager_athey(2000, 5, 82);
  const auto wa_model = CausalForest({.forest = {.num_trees = 200, .seed = 2, .num_threads = 2}})
                            .fit(CausalData(wa.X, wa.w, wa.y));
  const std::vector<Estimate> calibration = wa_model.test_calibration();
  CHECK(std::abs(calibration[0].value - 1.0) < 4.0 * calibration[0].std_error);
  CHECK(std::abs(calibration[1].value - 1.0) < 4.0 * calibration[1].std_error);
  CHECK(calibration[1].z_statistic() > 3.0);
}

TEST_CASE("causal forest: HC3 least squares by hand", "[cate]") {
  // y = 1 + 2x + e on 4 points; compare with the normal equations and the HC3 sandwich
  // computed term by term.
  Matrix A(4, 2);
  A << 1, 0, 1, 1, 1, 2, 1, 4;
  const Vector y = (Vector(4) << 1.1, 2.9, 5.2, 8.8).finished();
  const Vector v = (Vector(4) << 1.0, 2.0, 1.0, 0.5).finished();
  const auto fit = cate::detail::least_squares_hc3(A, y, v, "test");
  // Normal equations of the weighted fit, solved by Cramer's rule.
  double s0 = 0, s1 = 0, s2 = 0, t0 = 0, t1 = 0;
  for (Index i = 0; i < 4; ++i) {
    s0 += v[i];
    s1 += v[i] * A(i, 1);
    s2 += v[i] * A(i, 1) * A(i, 1);
    t0 += v[i] * y[i];
    t1 += v[i] * A(i, 1) * y[i];
  }
  const double det = s0 * s2 - s1 * s1;
  const double b0 = (s2 * t0 - s1 * t1) / det, b1 = (s0 * t1 - s1 * t0) / det;
  CHECK(fit[0].value == Approx(b0).epsilon(1e-12));
  CHECK(fit[1].value == Approx(b1).epsilon(1e-12));
  // (AᵀVA)⁻¹ = [s2, −s1; −s1, s0]/det.
  double m00 = 0, m01 = 0, m11 = 0;
  for (Index i = 0; i < 4; ++i) {
    const double x = A(i, 1);
    const double h = v[i] * (s2 - 2.0 * s1 * x + s0 * x * x) / det;
    const double u = v[i] * (y[i] - b0 - b1 * x) / (1.0 - h);
    m00 += u * u;
    m01 += u * u * x;
    m11 += u * u * x * x;
  }
  const double i00 = s2 / det, i01 = -s1 / det, i11 = s0 / det;
  const double var0 = i00 * (i00 * m00 + i01 * m01) + i01 * (i00 * m01 + i01 * m11);
  const double var1 = i01 * (i01 * m00 + i11 * m01) + i11 * (i01 * m01 + i11 * m11);
  CHECK(fit[0].std_error == Approx(std::sqrt(var0)).epsilon(1e-10));
  CHECK(fit[1].std_error == Approx(std::sqrt(var1)).epsilon(1e-10));
}

TEST_CASE("causal forest: one-leaf trees solve the local moment equation exactly", "[cate]") {
  // sample_fraction 1, no honesty and min_node_size = n make every tree a single leaf holding all
  // rows, so α_i(x) = 1/n and τ̂ is the OLS slope of Ỹ on Z (with intercept), for every x.
  const Sim s = nie_wager_a(300, 5, 0.5, 31);
  const CausalData data(s.X, s.w, s.y);
  Rng rng(4);
  cate::CausalForestNuisances supplied{Vector(300), Vector(300)};
  for (Index i = 0; i < 300; ++i) {
    supplied.outcome[i] = 0.3 * s.X(i, 3) + 0.1 * rng.normal();
    supplied.propensity[i] = 0.2 + 0.6 * s.X(i, 2);
  }
  const auto model = CausalForest({.forest = {.num_trees = 4,
                                              .sample_fraction = 1.0,
                                              .min_node_size = 300,
                                              .honesty = false},
                                   .ci_group_size = 1})
                         .fit(data, supplied);
  CHECK(identical(model.outcome_estimates(), supplied.outcome));
  CHECK(identical(model.treatment_estimates(), supplied.propensity));
  const Vector z = s.w - supplied.propensity;
  const Vector r = s.y - supplied.outcome;
  const double z_mean = z.mean(), r_mean = r.mean();
  const double slope =
      ((z.array() - z_mean) * (r.array() - r_mean)).sum() / (z.array() - z_mean).square().sum();
  const Vector tau = model.predict(s.X.topRows(10));
  for (Index i = 0; i < 10; ++i) CHECK(tau[i] == Approx(slope).epsilon(1e-10));
  // Every tree sampled every row: out-of-bag falls back to the full forest.
  for (Index i = 0; i < 10; ++i) CHECK(model.oob_predictions()[i] == Approx(slope).epsilon(1e-10));
  // Without little bags there is no variance estimate.
  CHECK_THROWS_WITH(model.predict_interval(s.X.topRows(2)),
                    Catch::Contains("ci_group_size = 1, expected >= 2"));
}

TEST_CASE("causal forest: known propensities are used as W-hat", "[cate]") {
  const Sim s = nie_wager_a(600, 6, 1.0, 41);
  const CausalData data(s.X, s.w, s.y, {.propensity = s.propensity});
  const auto model =
      CausalForest({.forest = {.num_trees = 100, .seed = 1, .num_threads = 2}}).fit(data);
  CHECK(identical(model.treatment_estimates(), s.propensity));
  CHECK(model.diagnostics().min_propensity == Approx(0.1));
}

TEST_CASE("causal forest: little-bags variance debiasing", "[cate]") {
  using cate::detail::debias_variance;
  // Far from 0 the objective-Bayes correction vanishes: V_B − noise.
  CHECK(debias_variance(1.0, 0.1, 1000.0) == Approx(0.9).epsilon(1e-12));
  // Never negative, and positive even when the method-of-moments estimate is negative.
  CHECK(debias_variance(0.1, 0.2, 50.0) > 0.0);
  CHECK(debias_variance(0.1, 0.2, 50.0) < 0.1);
  // Increasing in the between-group variance.
  CHECK(debias_variance(0.3, 0.2, 50.0) > debias_variance(0.2, 0.2, 50.0));
  CHECK(debias_variance(0.0, 0.0, 10.0) == 0.0);
}

TEST_CASE("causal forest: bit-identical for any thread count and after save/load", "[cate]") {
  const Sim s = nie_wager_a(800, 6, 1.0, 51);
  const Sim test = nie_wager_a(200, 6, 1.0, 52);
  const CausalData data(s.X, s.w, s.y);
  auto fit = [&](Index threads, std::uint64_t seed) {
    return CausalForest({.forest = {.num_trees = 60, .seed = seed, .num_threads = threads}})
        .fit(data);
  };
  const auto one = fit(1, 9);
  const auto two = fit(2, 9);
  const auto four = fit(4, 9);
  const cate::EffectIntervals b1 = one.predict_interval(test.X);
  for (const auto* other : {&two, &four}) {
    CHECK(identical(other->predict(test.X), b1.estimate));
    CHECK(identical(other->predict_interval(test.X).std_error, b1.std_error));
    CHECK(identical(other->oob_predictions(), one.oob_predictions()));
    CHECK(identical(other->outcome_estimates(), one.outcome_estimates()));
    CHECK(other->average_effect().value == one.average_effect().value);
  }
  CHECK_FALSE(identical(fit(2, 10).predict(test.X), b1.estimate));

  std::stringstream buffer;
  tailor::save(one, buffer);
  const auto loaded = tailor::load<cate::CausalForestModel>(buffer);
  const cate::EffectIntervals b2 = loaded.predict_interval(test.X);
  CHECK(identical(b2.estimate, b1.estimate));
  CHECK(identical(b2.std_error, b1.std_error));
  CHECK(identical(loaded.oob_predictions(), one.oob_predictions()));
  CHECK(identical(loaded.treatment_estimates(), one.treatment_estimates()));
  CHECK(loaded.average_effect(cate::TargetSample::treated).value ==
        one.average_effect(cate::TargetSample::treated).value);
  CHECK(loaded.average_effect().std_error == one.average_effect().std_error);
  CHECK(loaded.diagnostics().verdict == one.diagnostics().verdict);
  CHECK(loaded.diagnostics().propensity_auc == one.diagnostics().propensity_auc);
  CHECK(identical(loaded.variable_importance(), one.variable_importance()));
  CHECK(loaded.ci_group_size() == 2);

  // Corrupt or foreign input throws FormatError.
  const std::string bytes = buffer.str();
  std::stringstream truncated(bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_AS(tailor::load<cate::CausalForestModel>(truncated), FormatError);
  std::stringstream other;
  tailor::save(learn::RegressionForest({.num_trees = 2}).fit(s.X, s.y), other);
  CHECK_THROWS_AS(tailor::load<cate::CausalForestModel>(other), FormatError);
}

TEST_CASE("causal forest: unset forest fields take the causal forest's defaults", "[cate]") {
  // Setting some shared tree fields must not reset the others to another forest's defaults.
  const auto defaults = CausalForest().forest_params();
  CHECK(defaults.num_trees == 2000);
  CHECK(defaults.poisson_mtry);
  CHECK(defaults.honesty);
  CHECK(defaults.min_node_size == 5);
  CHECK(defaults.max_bins == 0);  // by n
  CHECK(defaults.resolve_max_bins(10'000) == 256);
  CHECK(defaults.resolve_max_bins(100'000) == 1024);
  const auto seeded = CausalForest({.forest = {.seed = 9, .num_threads = 2}}).forest_params();
  CHECK(seeded.num_trees == 2000);
  CHECK(seeded.poisson_mtry);
  CHECK(seeded.seed == 9);
  const auto set =
      CausalForest({.forest = {.num_trees = 50, .poisson_mtry = false}}).forest_params();
  CHECK(set.num_trees == 50);
  CHECK_FALSE(set.poisson_mtry);
}

TEST_CASE("causal forest: bad parameters and input", "[cate]") {
  using P = cate::CausalForestParams;
  CHECK_THROWS_WITH(CausalForest(P{.forest = {.num_trees = 7}}),
                    Catch::Contains("num_trees = 7") && Catch::Contains("ci_group_size = 2"));
  CHECK_THROWS_WITH(CausalForest(P{.forest = {.sample_fraction = 0.6}}),
                    Catch::Contains("sample_fraction = 0.6") && Catch::Contains("(0, 0.5]"));
  CHECK_NOTHROW(CausalForest(P{.forest = {.sample_fraction = 0.6}, .ci_group_size = 1}));
  CHECK_THROWS_WITH(CausalForest(P{.alpha = 0.3}), Catch::Contains("alpha = 0.3"));
  CHECK_THROWS_WITH(CausalForest(P{.imbalance_penalty = -1.0}),
                    Catch::Contains("imbalance_penalty = -1"));
  CHECK_THROWS_WITH(CausalForest(P{.forest = {.honesty_fraction = 1.0}}),
                    Catch::Contains("honesty_fraction = 1"));
  CHECK_THROWS_WITH(CausalForest(P{.propensity_clip = 0.5}),
                    Catch::Contains("propensity_clip = 0.5"));
  CHECK_THROWS_AS(CausalForest(P{.ci_group_size = 0}), InvalidArgument);
  CHECK_THROWS_AS(CausalForest(P{.forest = {.min_node_size = 0}}), InvalidArgument);
  CHECK_THROWS_AS(CausalForest(P{.forest = {.num_threads = -1}}), InvalidArgument);
  CHECK_THROWS_WITH(CausalForest(P{.forest = {.max_bins = 1}}),
                    Catch::Contains("max_bins = 1, expected 0 (auto) or a value in [2, 4096]"));
  CHECK_THROWS_AS(CausalForest(P{.forest = {.max_bins = 4097}}), InvalidArgument);
  CHECK_NOTHROW(CausalForest(P{.forest = {.max_bins = 4096}}));
  CHECK_THROWS_WITH(CausalForest(P{.forest = {.bootstrap = true}}),
                    Catch::Contains("CausalForest: forest.bootstrap = true, expected false"));
  CHECK_THROWS_WITH(CausalForest(P{.forest = {.compute_oob = false}}),
                    Catch::Contains("CausalForest: forest.compute_oob = false, expected true"));

  const Sim s = nie_wager_a(200, 6, 1.0, 61);
  const CausalData data(s.X, s.w, s.y);
  CHECK_THROWS_WITH(CausalForest(P{.forest = {.mtry = 7}}).fit(data),
                    Catch::Contains("mtry = 7, expected at most the 6 features"));
  CHECK_THROWS_WITH(
      CausalForest(P{.forest = {.num_trees = 10}}).fit(data, {.outcome = Vector::Zero(199)}),
      Catch::Contains("supplied outcome has 199 rows, expected 200"));
  Vector bad = Vector::Constant(200, 0.5);
  bad[17] = 1.5;
  CHECK_THROWS_WITH(CausalForest(P{.forest = {.num_trees = 10}}).fit(data, {.propensity = bad}),
                    Catch::Contains("supplied propensity[17] = 1.5, expected a probability"));
  bad[17] = std::nan("");
  CHECK_THROWS_AS(CausalForest(P{.forest = {.num_trees = 10}}).fit(data, {.propensity = bad}),
                  DataError);
  // Treatment that CausalData rejects never reaches the forest (constant w, a lone treated row).
  Vector w_constant = Vector::Ones(200);
  CHECK_THROWS_WITH(CausalData(s.X, w_constant, s.y), Catch::Contains("w is constant"));
  Vector w_single = Vector::Zero(200);
  w_single[3] = 1.0;
  CHECK_THROWS_WITH(CausalData(s.X, w_single, s.y),
                    Catch::Contains("expected at least 2 in each arm"));

  const auto model = CausalForest(P{.forest = {.num_trees = 10}}).fit(data);
  CHECK_THROWS_WITH(model.predict(s.X.leftCols(5)), Catch::Contains("X has 5 columns, expected 6"));
  Matrix with_nan = s.X.topRows(3);
  with_nan(1, 2) = std::nan("");
  CHECK_THROWS_AS(model.predict(with_nan), DataError);
  CHECK_THROWS_WITH(model.predict_interval(s.X, 1.5), Catch::Contains("level = 1.5"));
  CHECK_THROWS_WITH(model.average_effect(std::vector<Index>{}), Catch::Contains("rows is empty"));
}

TEST_CASE("causal forest: progress reports every stage", "[cate]") {
  const Sim s = nie_wager_a(300, 6, 1.0, 71);
  const CausalData data(s.X, s.w, s.y);
  std::vector<std::string> stages;
  Index last_trees = 0;
  const auto model =
      CausalForest({.forest = {.num_trees = 20,
                               .num_threads = 2,
                               .progress =
                                   [&](const Progress& progress) {
                                     if (stages.empty() || stages.back() != progress.stage)
                                       stages.emplace_back(progress.stage);
                                     if (progress.stage == "trees")
                                       last_trees = std::max(last_trees, progress.done);
                                   }},
                    .nuisance_num_trees = 10})
          .fit(data);
  CHECK(stages == std::vector<std::string>{"outcome trees", "treatment trees", "trees"});
  CHECK(last_trees == 20);
  CHECK(model.num_trees() == 20);
}
