// Throughput of the off-policy estimators (items_per_second = logged rows/s, one thread):
// DR and SNDR value + influence-function se for a deterministic binary policy (treat if a score
// is positive) and a stochastic 10-action policy, from precomputed nuisances (reward model q̂ and
// logged propensities), and the percentile bootstrap (rows·resamples/s). Target (issue 6):
// ≥ 50 M rows/s for DR on one core.
#include <benchmark/benchmark.h>

#include "tailor/core/random.hpp"
#include "tailor/ope/estimators.hpp"

namespace {

using tailor::Index;

struct Logged {
  tailor::Matrix X;
  tailor::IndexVector action;
  tailor::Vector reward, propensity;
  tailor::Matrix q;
};

Logged make_logged(Index n, Index num_actions, std::uint64_t seed) {
  tailor::Rng rng(seed);
  Logged d{tailor::Matrix(n, 0), tailor::IndexVector(n), tailor::Vector(n), tailor::Vector(n),
           tailor::Matrix(n, num_actions)};
  for (Index i = 0; i < n; ++i) {
    d.action[i] = static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(num_actions)));
    d.propensity[i] = 1.0 / static_cast<double>(num_actions);
    for (Index a = 0; a < num_actions; ++a) d.q(i, a) = rng.uniform();
    d.reward[i] = d.q(i, d.action[i]) + rng.normal(0.0, 0.1);
  }
  return d;
}

void run_estimator(benchmark::State& state, tailor::ope::Estimator estimator, bool stochastic) {
  const Index n = state.range(0);
  const Index num_actions = stochastic ? 10 : 2;
  const Logged d = make_logged(n, num_actions, 1);
  const tailor::BanditData data(d.X, d.action, d.reward, d.propensity, num_actions);
  tailor::Rng rng(2);
  tailor::Matrix probabilities(n, num_actions);
  tailor::IndexVector actions(n);
  for (Index i = 0; i < n; ++i) {
    double total = 0.0;
    for (Index a = 0; a < num_actions; ++a) total += probabilities(i, a) = rng.uniform();
    probabilities.row(i) /= total;
    actions[i] = rng.bernoulli(0.5) ? 1 : 0;
  }
  const auto policy = stochastic ? tailor::ope::TargetPolicy::stochastic(probabilities)
                                 : tailor::ope::TargetPolicy::deterministic(actions, 2);
  const tailor::ope::Nuisances nuisances{.reward = d.q};
  for (auto _ : state) {
    const tailor::Estimate e = tailor::ope::estimate_value(estimator, data, policy, nuisances);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_DR_Binary(benchmark::State& state) {
  run_estimator(state, tailor::ope::Estimator::dr, false);
}
void BM_SNDR_Binary(benchmark::State& state) {
  run_estimator(state, tailor::ope::Estimator::sndr, false);
}
void BM_DR_Stochastic10(benchmark::State& state) {
  run_estimator(state, tailor::ope::Estimator::dr, true);
}

void BM_Bootstrap_DR(benchmark::State& state) {
  const Index n = state.range(0);
  const Logged d = make_logged(n, 2, 3);
  const tailor::BanditData data(d.X, d.action, d.reward, d.propensity, 2);
  const auto scores = tailor::ope::estimator_scores(
      tailor::ope::Estimator::dr, data, tailor::ope::TargetPolicy::treat_all(n), {.reward = d.q});
  for (auto _ : state) {
    const auto b =
        tailor::ope::bootstrap_interval(scores, {.num_resamples = 100, .num_threads = 1});
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations() * n * 100);
}

}  // namespace

BENCHMARK(BM_DR_Binary)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SNDR_Binary)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DR_Stochastic10)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Bootstrap_DR)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
