// Throughput of cate::CausalForest (items_per_second = training rows/s for fit, rows/s for
// prediction with intervals) with grf's defaults (2000 trees, honesty, sample_fraction 0.5,
// min_node_size 5, mtry min(⌈√p + 20⌉, p), ci_group_size 2, 500-tree nuisance forests), end to
// end: binning, the Ŷ and Ŵ forests, the causal forest and its out-of-bag predictions.
// Designs (known τ), test set of 10,000 rows, reported as counters:
//   nie_wager_a   Nie & Wager (2021) setup A, p = 6, σ = 1 (confounded, easy τ = (x₁ + x₂)/2);
//   wager_athey   Wager & Athey (2018), p = 10, e = 0.5, τ = ξ(x₁)ξ(x₂) (sharp heterogeneity).
// Counters: sqrt_pehe = √mean(τ̂ − τ)², coverage = share of test τ inside the 95% intervals.
// Environment: TAILOR_CATE_TREES (default 2000), TAILOR_CATE_THREADS (default 2),
// TAILOR_CATE_LARGE=1 adds n = 100,000.
// grf's figures on these machines (issue #4): Nie–Wager A n = 10,000, 2 threads: 17 s,
// √PEHE 0.134, coverage 0.84; Wager–Athey: 27 s, √PEHE 0.128, coverage 0.92.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <numbers>
#include <utility>

#include "tailor/cate/causal_forest.hpp"
#include "tailor/core/random.hpp"
#include "tailor/datasets/causal_designs.hpp"

namespace {

using tailor::Index;
using Sim = tailor::datasets::CausalDesign;
Sim nie_wager_a(Index n, std::uint64_t seed) {
  return tailor::datasets::nie_wager(tailor::datasets::NieWagerSetup::A, n, 6, 1.0, seed);
}
Sim wager_athey(Index n, std::uint64_t seed) {
  return tailor::datasets::wager_athey(n, 10, 1.0, seed);
}

Sim simulate(int design, Index n, std::uint64_t seed) {
  return design == 0 ? nie_wager_a(n, seed) : wager_athey(n, seed);
}

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v ? std::atol(v) : fallback;
}

tailor::cate::CausalForest make_forest() {
  return tailor::cate::CausalForest({.forest = {.num_trees = env_or("TAILOR_CATE_TREES", 2000),
                                                .seed = 42,
                                                .num_threads = env_or("TAILOR_CATE_THREADS", 2)}});
}

void report_accuracy(benchmark::State& state, const tailor::cate::CausalForestModel& model,
                     const Sim& test) {
  const tailor::cate::EffectIntervals band = model.predict_interval(test.X, 0.95);
  double covered = 0.0;
  for (Index i = 0; i < test.tau.size(); ++i) {
    covered += band.lower[i] <= test.tau[i] && test.tau[i] <= band.upper[i] ? 1.0 : 0.0;
  }
  const auto m = static_cast<double>(test.tau.size());
  state.counters["sqrt_pehe"] = std::sqrt((band.estimate - test.tau).squaredNorm() / m);
  state.counters["coverage"] = covered / m;
  state.counters["mean_std_error"] = band.std_error.mean();
}

/// End to end fit; args: design (0 = Nie–Wager A, 1 = Wager–Athey), n.
void BM_CausalForestFit(benchmark::State& state) {
  const int design = static_cast<int>(state.range(0));
  const Index n = state.range(1);
  const Sim train = simulate(design, n, 1);
  const Sim test = simulate(design, 10'000, 2);
  const tailor::CausalData data(train.X, train.w, train.y);
  const tailor::cate::CausalForest forest = make_forest();
  std::unique_ptr<tailor::cate::CausalForestModel> model;
  for (auto _ : state) {
    model = std::make_unique<tailor::cate::CausalForestModel>(forest.fit(data));
    benchmark::DoNotOptimize(model->oob_predictions().data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(design == 0 ? "nie_wager_a" : "wager_athey");
  report_accuracy(state, *model, test);
}

/// τ̂ with little-bags variance and 95% intervals for `rows` rows (model: Nie–Wager A, n = 10,000).
void BM_CausalForestPredictInterval(benchmark::State& state) {
  static const auto model = [] {
    const Sim train = nie_wager_a(10'000, 1);
    const tailor::CausalData data(train.X, train.w, train.y);
    return make_forest().fit(data);
  }();
  const Index rows = state.range(0);
  const Sim test = nie_wager_a(rows, 3);
  for (auto _ : state) {
    const auto band = model.predict_interval(test.X, 0.95);
    benchmark::DoNotOptimize(band.upper.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);
}

void fit_args(benchmark::internal::Benchmark* b) {
  for (int design : {0, 1}) {
    b->Args({design, 10'000});
    if (env_or("TAILOR_CATE_LARGE", 0) != 0) b->Args({design, 100'000});
  }
}

}  // namespace

BENCHMARK(BM_CausalForestFit)
    ->Apply(fit_args)
    ->ArgNames({"design", "n"})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();
BENCHMARK(BM_CausalForestPredictInterval)
    ->Arg(100'000)
    ->ArgNames({"rows"})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

BENCHMARK_MAIN();
