// Throughput of UpliftForest fit and predict (items_per_second = rows/s) on a randomized
// binary-outcome experiment with p = 20 uniform features, treated share 1/2, control response
// 0.3 + 0.1·x1 and uplift +0.2 where x0 > 0, −0.1 elsewhere; the held-out correlation of τ̂
// with the true uplift is reported as a counter.
//
// Arguments: fit/{rows}/{criterion 0..3 = KL, ED, ChiSquared, CTS}. TAILOR_UPLIFT_TREES
// (default 100) and TAILOR_UPLIFT_THREADS (default 2) set the forest; the other options are
// UpliftForest's defaults (sample_fraction 0.5, mtry min(10, p), min_node_size 100, max_depth
// 10, 10 rows per arm per leaf). Peak memory: run one benchmark under /usr/bin/time -v, e.g.
//   /usr/bin/time -v uplift_benchmark --benchmark_filter='Fit/1000000/0'
// (the 1M × 20 input alone is 160 MB of doubles).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <utility>
#include <vector>

#include "tailor/core/data.hpp"
#include "tailor/core/random.hpp"
#include "tailor/uplift/uplift_forest.hpp"

namespace {

constexpr tailor::Index kFeatures = 20;

struct Data {
  tailor::Matrix X;
  tailor::Vector w, y, tau;
};

Data experiment(tailor::Index n, std::uint64_t seed) {
  tailor::Rng rng(seed);
  Data d{tailor::Matrix(n, kFeatures), tailor::Vector(n), tailor::Vector(n), tailor::Vector(n)};
  for (tailor::Index i = 0; i < n; ++i) {
    for (tailor::Index j = 0; j < kFeatures; ++j) d.X(i, j) = rng.uniform(-1.0, 1.0);
    d.w[i] = rng.bernoulli(0.5) ? 1.0 : 0.0;
    d.tau[i] = d.X(i, 0) > 0.0 ? 0.2 : -0.1;
    d.y[i] = rng.bernoulli(0.3 + 0.1 * d.X(i, 1) + d.w[i] * d.tau[i]) ? 1.0 : 0.0;
  }
  return d;
}

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v ? std::atol(v) : fallback;
}

/// Training data with n rows (cached per n), or the fixed 20,000-row test set.
const Data& dataset(bool test, tailor::Index n) {
  static std::vector<std::pair<tailor::Index, Data>> cache[2];
  const tailor::Index key = test ? 20'000 : n;
  for (auto& [k, d] : cache[test]) {
    if (k == key) return d;
  }
  cache[test].push_back({key, experiment(key, test ? 2 : 1)});
  return cache[test].back().second;
}

tailor::uplift::UpliftForest forest(tailor::uplift::UpliftCriterion criterion) {
  return tailor::uplift::UpliftForest(
      {.forest = {.num_trees = env_or("TAILOR_UPLIFT_TREES", 100),
                  .seed = 42,
                  .num_threads = env_or("TAILOR_UPLIFT_THREADS", 2)},
       .criterion = criterion});
}

double correlation(const tailor::Vector& a, const tailor::Vector& b) {
  const Eigen::ArrayXd x = a.array() - a.mean();
  const Eigen::ArrayXd z = b.array() - b.mean();
  return (x * z).sum() / std::sqrt((x * x).sum() * (z * z).sum());
}

void BM_UpliftForestFit(benchmark::State& state) {
  const Data& train = dataset(false, state.range(0));
  const Data& test = dataset(true, 0);
  const tailor::CausalData data(train.X, train.w, train.y);
  const auto criterion = static_cast<tailor::uplift::UpliftCriterion>(state.range(1));
  const auto estimator = forest(criterion);
  double rho = 0.0;
  for (auto _ : state) {
    auto model = estimator.fit(data);
    state.PauseTiming();
    rho = correlation(model.predict(test.X), test.tau);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * train.X.rows());
  state.SetLabel(std::string(tailor::uplift::to_string(criterion)));
  state.counters["rows"] = static_cast<double>(train.X.rows());
  state.counters["trees"] = static_cast<double>(estimator.forest_params().num_trees);
  state.counters["threads"] = static_cast<double>(estimator.forest_params().num_threads);
  state.counters["test_corr"] = rho;
}

void BM_UpliftForestPredict(benchmark::State& state) {
  const Data& train = dataset(false, state.range(0));
  const Data& test = dataset(true, 0);
  const auto model = forest(tailor::uplift::UpliftCriterion::KL)
                         .fit(tailor::CausalData(train.X, train.w, train.y));
  for (auto _ : state) benchmark::DoNotOptimize(model.predict(test.X));
  state.SetItemsProcessed(state.iterations() * test.X.rows());
  state.counters["rows"] = static_cast<double>(test.X.rows());
}

}  // namespace

BENCHMARK(BM_UpliftForestFit)
    ->ArgsProduct({{200'000}, {0, 1, 2, 3}})
    ->Args({1'000'000, 0})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_UpliftForestPredict)->Arg(200'000)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
