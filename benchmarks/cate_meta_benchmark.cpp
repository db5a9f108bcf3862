// Meta-learners against scikit-learn on Nie & Wager (2021, Biometrika, §6) setup A: fit seconds
// (real time) and test √PEHE = √mean(τ̂ − τ)² (counter sqrt_pehe) of the X-learner (Künzel et al.
// 2019) and the 5-fold DR-learner (Kennedy 2023) with
//   forest   learn::RegressionForest / ClassificationForest, 200 trees, min_node_size 5, tailor's
//            other defaults (grf: sample_fraction 0.5, honesty, mtry = min(⌈√p + 20⌉, p) = p);
//   boosting learn::GradientBoostingRegressor / Classifier with scikit-learn HGB's defaults
//            (100 iterations, rate 0.1, 31 leaves, 20 rows per leaf, early stopping above 10,000
//            rows);
// and, as candidates for the best tailor learner, the R-learner with boosting, the DR- and
// R-learners with a slower, more regularized boosted effect model (learning rate 0.05, 300
// iterations, 7 leaves, 200 rows per leaf), and the causal forest (grf defaults;
// TAILOR_META_CF_TREES trees, default 2000). Counters: sqrt_pehe, fit_cpu_s (CPU seconds of the
// whole process during fit, all threads), predict_s, n_train.
// The X-learner here also cross-fits the K-fold nuisances behind its AIPW average effects and
// overlap diagnostics (meta_learner_common.hpp), work the sklearn peer does not do; the
// *OutOfBag cases take those nuisances out of bag instead (NuisanceFit::out_of_bag: the
// X-learner then fits 5 forests, as the peer does; the DR-learner 3 + 1 instead of 15 + 1).
//
// Data: TAILOR_META_PREFIX=P reads P_train.csv and P_test.csv (benchmarks/peers/
// make_nie_wager_a.py: columns x1..x6, w, y, tau, e) so scikit-learn
// (benchmarks/peers/sklearn_meta_learners.py) sees the same rows —
// benchmarks/peers/run_meta_learner_comparison.sh does both. Without it, setup A is generated
// here (tailor::Rng, the formulas of cate_benchmark.cpp) with TAILOR_META_N training rows
// (default 10,000) and 10,000 test rows. TAILOR_META_THREADS (default 2) threads.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <string>

#include "process_stats.hpp"
#include "tailor/cate/causal_forest.hpp"
#include "tailor/cate/dr_learner.hpp"
#include "tailor/cate/r_learner.hpp"
#include "tailor/cate/x_learner.hpp"
#include "tailor/core/random.hpp"
#include "tailor/datasets/causal_designs.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/learn/classification_forest.hpp"
#include "tailor/learn/gradient_boosting.hpp"
#include "tailor/learn/regression_forest.hpp"

namespace {

using tailor::Index;
using Sim = tailor::datasets::CausalDesign;
Sim nie_wager_a(Index n, std::uint64_t seed) {
  return tailor::datasets::nie_wager(tailor::datasets::NieWagerSetup::A, n, 6, 1.0, seed);
}
namespace learn = tailor::learn;
namespace cate = tailor::cate;

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v ? std::atol(v) : fallback;
}

Index threads() {
  return env_or("TAILOR_META_THREADS", 2);
}

Sim read_sim(const std::string& path) {
  const tailor::io::Table table = tailor::io::read_csv(path);
  return {table.to_matrix({"x1", "x2", "x3", "x4", "x5", "x6"}), table.numeric("w"),
          table.numeric("y"), table.numeric("tau"), table.numeric("e")};
}

/// The training (test = false) or test rows, loaded once.
const Sim& dataset(bool test) {
  static const std::array<Sim, 2> sims = [] {
    if (const char* prefix = std::getenv("TAILOR_META_PREFIX")) {
      return std::array<Sim, 2>{read_sim(std::string(prefix) + "_train.csv"),
                                read_sim(std::string(prefix) + "_test.csv")};
    }
    return std::array<Sim, 2>{nie_wager_a(env_or("TAILOR_META_N", 10'000), 1),
                              nie_wager_a(10'000, 2)};
  }();
  return sims[test ? 1 : 0];
}

learn::RegressionForest forest_regressor(bool compute_oob = false) {
  return learn::RegressionForest({.num_trees = 200,
                                  .min_node_size = 5,
                                  .compute_oob = compute_oob,
                                  .seed = 1,
                                  .num_threads = threads()});
}

learn::ClassificationForest forest_classifier(bool compute_oob = false) {
  return learn::ClassificationForest({.forest = {.num_trees = 200,
                                                 .min_node_size = 5,
                                                 .compute_oob = compute_oob,
                                                 .seed = 2,
                                                 .num_threads = threads()}});
}

learn::GradientBoostingRegressor boosting_regressor() {
  return learn::GradientBoostingRegressor({.seed = 3, .num_threads = threads()});
}

learn::GradientBoostingClassifier boosting_classifier() {
  return learn::GradientBoostingClassifier({.seed = 4, .num_threads = threads()});
}

/// A slower, more regularized boosted effect model for the noisy second-stage targets.
learn::GradientBoostingRegressor smooth_effect() {
  return learn::GradientBoostingRegressor({.learning_rate = 0.05,
                                           .max_iter = 300,
                                           .max_leaf_nodes = 7,
                                           .min_samples_leaf = 200,
                                           .seed = 5,
                                           .num_threads = threads()});
}

cate::MetaLearnerParams meta_params() {
  return {.num_folds = 5, .seed = 6, .num_threads = threads()};
}

/// Out-of-bag nuisances: one fit per nuisance (meta_learner_common.hpp).
cate::MetaLearnerParams out_of_bag_params() {
  return {.nuisance_fit = cate::NuisanceFit::out_of_bag, .seed = 6, .num_threads = threads()};
}

using tailor_bench::process_cpu_seconds;

/// Fits `estimator` once per iteration on the training rows; reports test √PEHE and the
/// prediction seconds.
template <class Estimator>
void run(benchmark::State& state, const Estimator& estimator) {
  const Sim& train = dataset(false);
  const Sim& test = dataset(true);
  const tailor::CausalData data(train.X, train.w, train.y);
  double pehe = 0.0, predict_seconds = 0.0, fit_cpu_seconds = 0.0;
  for (auto _ : state) {
    const double cpu_start = process_cpu_seconds();
    const auto model = estimator.fit(data);
    fit_cpu_seconds = process_cpu_seconds() - cpu_start;
    state.PauseTiming();
    const auto start = std::chrono::steady_clock::now();
    const tailor::Vector tau = model.predict(test.X);
    predict_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    pehe = std::sqrt((tau - test.tau).squaredNorm() / static_cast<double>(tau.size()));
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * train.X.rows());
  state.counters["sqrt_pehe"] = pehe;
  state.counters["predict_s"] = predict_seconds;
  state.counters["fit_cpu_s"] = fit_cpu_seconds;
  state.counters["n_train"] = static_cast<double>(train.X.rows());
}

void BM_XLearnerForest(benchmark::State& state) {
  run(state, cate::XLearner<learn::RegressionForest, learn::ClassificationForest>(
                 meta_params(), forest_regressor(), forest_classifier()));
}
void BM_DRLearnerForest(benchmark::State& state) {
  run(state, cate::DRLearner<learn::RegressionForest, learn::ClassificationForest>(
                 meta_params(), forest_regressor(), forest_classifier()));
}
void BM_XLearnerForestOutOfBag(benchmark::State& state) {
  run(state, cate::XLearner<learn::RegressionForest, learn::ClassificationForest>(
                 out_of_bag_params(), forest_regressor(true), forest_classifier(true)));
}
void BM_DRLearnerForestOutOfBag(benchmark::State& state) {
  run(state, cate::DRLearner<learn::RegressionForest, learn::ClassificationForest>(
                 out_of_bag_params(), forest_regressor(true), forest_classifier(true)));
}
void BM_XLearnerBoosting(benchmark::State& state) {
  run(state, cate::XLearner<learn::GradientBoostingRegressor, learn::GradientBoostingClassifier>(
                 meta_params(), boosting_regressor(), boosting_classifier()));
}
void BM_DRLearnerBoosting(benchmark::State& state) {
  run(state, cate::DRLearner<learn::GradientBoostingRegressor, learn::GradientBoostingClassifier>(
                 meta_params(), boosting_regressor(), boosting_classifier()));
}
void BM_RLearnerBoosting(benchmark::State& state) {
  run(state, cate::RLearner<learn::GradientBoostingRegressor, learn::GradientBoostingClassifier>(
                 meta_params(), boosting_regressor(), boosting_classifier()));
}
void BM_DRLearnerBoostingSmoothEffect(benchmark::State& state) {
  run(state, cate::DRLearner<learn::GradientBoostingRegressor, learn::GradientBoostingClassifier>(
                 meta_params(), boosting_regressor(), boosting_classifier(), smooth_effect()));
}
void BM_RLearnerBoostingSmoothEffect(benchmark::State& state) {
  run(state, cate::RLearner<learn::GradientBoostingRegressor, learn::GradientBoostingClassifier>(
                 meta_params(), boosting_regressor(), boosting_classifier(), smooth_effect()));
}
void BM_CausalForest(benchmark::State& state) {
  run(state, cate::CausalForest({.forest = {.num_trees = env_or("TAILOR_META_CF_TREES", 2000),
                                            .seed = 7,
                                            .num_threads = threads()}}));
}

}  // namespace

#define TAILOR_META_BENCHMARK(name) \
  BENCHMARK(name)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime()

TAILOR_META_BENCHMARK(BM_XLearnerForest);
TAILOR_META_BENCHMARK(BM_DRLearnerForest);
TAILOR_META_BENCHMARK(BM_XLearnerForestOutOfBag);
TAILOR_META_BENCHMARK(BM_DRLearnerForestOutOfBag);
TAILOR_META_BENCHMARK(BM_XLearnerBoosting);
TAILOR_META_BENCHMARK(BM_DRLearnerBoosting);
TAILOR_META_BENCHMARK(BM_RLearnerBoosting);
TAILOR_META_BENCHMARK(BM_DRLearnerBoostingSmoothEffect);
TAILOR_META_BENCHMARK(BM_RLearnerBoostingSmoothEffect);
TAILOR_META_BENCHMARK(BM_CausalForest);

BENCHMARK_MAIN();
