// Throughput of PolicyTree fit (items_per_second = rows/s): exact depth-2 search on n rows,
// p = 10 features, K = 2 actions, with max_bins split candidates per feature; plus exact depth 3
// (small n, few bins: it is exponential in depth) and greedy depth 4 for comparison.
//
// Data: X standard normal; Γ(i, a) = μ_a(xᵢ) + N(0, 1) with μ_1 − μ_0 = 1 on
// {x0 > 0.3, x2 <= −0.2} ∪ {x0 <= 0.3, x4 > 0.5} and −0.5 elsewhere (a planted depth-2 rule).
// TAILOR_POLICY_THREADS (default 2) sets num_threads. Counters: rows, bins, training_value.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <utility>

#include "tailor/core/random.hpp"
#include "tailor/policy/policy_tree.hpp"

namespace {

struct Data {
  tailor::Matrix X;
  tailor::Matrix scores;
};

const Data& dataset(tailor::Index n) {
  static std::map<tailor::Index, Data> cache;
  auto found = cache.find(n);
  if (found != cache.end()) return found->second;
  const tailor::Index p = 10;
  tailor::Rng rng(2021);
  Data d{tailor::Matrix(n, p), tailor::Matrix(n, 2)};
  for (tailor::Index i = 0; i < n; ++i) {
    for (tailor::Index j = 0; j < p; ++j) d.X(i, j) = rng.normal();
    const auto x = d.X.row(i);
    const bool benefit = x[0] > 0.3 ? x[2] <= -0.2 : x[4] > 0.5;
    d.scores(i, 0) = rng.normal();
    d.scores(i, 1) = (benefit ? 1.0 : -0.5) + rng.normal();
  }
  return cache.emplace(n, std::move(d)).first->second;
}

int threads() {
  const char* v = std::getenv("TAILOR_POLICY_THREADS");
  return v ? std::atoi(v) : 2;
}

void run(benchmark::State& state, const tailor::policy::PolicyTreeParams& params) {
  const Data& data = dataset(state.range(0));
  const tailor::policy::PolicyTree tree(params);
  double value = 0.0;
  for (auto _ : state) {
    auto model = tree.fit(data.X, data.scores);
    value = model.training_value();
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations() * data.X.rows());
  state.counters["rows"] = static_cast<double>(data.X.rows());
  state.counters["bins"] = static_cast<double>(params.max_bins);
  state.counters["threads"] = static_cast<double>(params.num_threads);
  state.counters["training_value"] = value;
}

/// Arguments: rows, max_bins.
void BM_PolicyTreeExactDepth2(benchmark::State& state) {
  run(state, {.depth = 2,
              .max_bins = static_cast<int>(state.range(1)),
              .min_node_size = 1,
              .num_threads = threads()});
}

void BM_PolicyTreeExactDepth3(benchmark::State& state) {
  run(state, {.depth = 3,
              .max_bins = static_cast<int>(state.range(1)),
              .min_node_size = 1,
              .num_threads = threads()});
}

void BM_PolicyTreeGreedyDepth4(benchmark::State& state) {
  run(state, {.depth = 4,
              .max_bins = static_cast<int>(state.range(1)),
              .min_node_size = 1,
              .greedy = true,
              .num_threads = threads()});
}

}  // namespace

BENCHMARK(BM_PolicyTreeExactDepth2)
    ->Args({10'000, 64})
    ->Args({100'000, 64})
    ->Args({100'000, 256})
    ->Args({1'000'000, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_PolicyTreeExactDepth3)
    ->Args({10'000, 16})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_PolicyTreeGreedyDepth4)
    ->Args({100'000, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
