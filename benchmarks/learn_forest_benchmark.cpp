// Throughput of RegressionForest fit and predict (items_per_second = rows/s) on Friedman #1
// (p = 10, noise sd 1), plus held-out RMSE as a counter.
//
// Data: by default generated here (tailor::Rng). To compare with scikit-learn on the SAME rows,
// benchmarks/peers/make_friedman.py writes train/test CSVs; point TAILOR_FOREST_TRAIN and
// TAILOR_FOREST_TEST at them (header line, then x0..x{p-1},y per line) — run_forest_comparison.sh
// does all of it. TAILOR_FOREST_TREES (default 100) and TAILOR_FOREST_THREADS (default 2) set the
// forest; settings match sklearn RandomForestRegressor(min_samples_leaf=5, max_features=1/3,
// bootstrap=True): bootstrap, sample_fraction 1, mtry ⌊p/3⌋, min_node_size 5, no honesty.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tailor/core/random.hpp"
#include "tailor/learn/regression_forest.hpp"

namespace {

struct Data {
  tailor::Matrix X;
  tailor::Vector y;
};

/// Friedman #1 on p ≥ 5 uniform features (only x₀..x₄ matter), noise sd 1.
Data friedman1(tailor::Index n, std::uint64_t seed, tailor::Index p = 10) {
  tailor::Rng rng(seed);
  Data d{tailor::Matrix(n, p), tailor::Vector(n)};
  for (tailor::Index i = 0; i < n; ++i) {
    for (tailor::Index j = 0; j < p; ++j) d.X(i, j) = rng.uniform();
    const auto x = d.X.row(i);
    d.y[i] = 10.0 * std::sin(std::numbers::pi * x[0] * x[1]) + 20.0 * (x[2] - 0.5) * (x[2] - 0.5) +
             10.0 * x[3] + 5.0 * x[4] + rng.normal();
  }
  return d;
}

/// Reads a numeric CSV with one header line; the last column is y.
Data read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> values;
    const char* s = line.c_str();
    char* end = nullptr;
    while (*s) {
      values.push_back(std::strtod(s, &end));
      s = *end == ',' ? end + 1 : end;
      if (*end == '\0') break;
    }
    rows.push_back(std::move(values));
  }
  const auto n = static_cast<tailor::Index>(rows.size());
  const auto p = static_cast<tailor::Index>(rows.at(0).size()) - 1;
  Data d{tailor::Matrix(n, p), tailor::Vector(n)};
  for (tailor::Index i = 0; i < n; ++i) {
    for (tailor::Index j = 0; j < p; ++j) d.X(i, j) = rows[i][j];
    d.y[i] = rows[i][p];
  }
  return d;
}

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v ? std::atol(v) : fallback;
}

/// Train/test data for n training rows (from the CSVs when given, else generated).
const Data& dataset(bool test, tailor::Index n) {
  static std::vector<std::pair<tailor::Index, Data>> cache[2];
  const char* path = std::getenv(test ? "TAILOR_FOREST_TEST" : "TAILOR_FOREST_TRAIN");
  const tailor::Index key = path ? -1 : n;
  for (auto& [k, d] : cache[test]) {
    if (k == key) return d;
  }
  cache[test].push_back({key, path ? read_csv(path) : friedman1(test ? 20'000 : n, test ? 2 : 1)});
  return cache[test].back().second;
}

tailor::learn::RegressionForest sklearn_matched_forest() {
  return tailor::learn::RegressionForest({.num_trees = env_or("TAILOR_FOREST_TREES", 100),
                                          .mtry = 3,
                                          .sample_fraction = 1.0,
                                          .bootstrap = true,
                                          .min_node_size = 5,
                                          .honesty = false,
                                          .compute_oob = false,
                                          .seed = 42,
                                          .num_threads = env_or("TAILOR_FOREST_THREADS", 2)});
}

double rmse(const tailor::Vector& a, const tailor::Vector& b) {
  return std::sqrt((a - b).squaredNorm() / static_cast<double>(a.size()));
}

void BM_RegressionForestFit(benchmark::State& state) {
  const Data& train = dataset(false, state.range(0));
  const Data& test = dataset(true, state.range(0));
  const auto forest = sklearn_matched_forest();
  double error = 0.0;
  for (auto _ : state) {
    auto model = forest.fit(train.X, train.y);
    state.PauseTiming();
    error = rmse(model.predict(test.X), test.y);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * train.X.rows());
  state.counters["rows"] = static_cast<double>(train.X.rows());
  state.counters["trees"] = static_cast<double>(forest.forest_params().num_trees);
  state.counters["test_rmse"] = error;
}

void BM_RegressionForestPredict(benchmark::State& state) {
  const Data& train = dataset(false, state.range(0));
  const Data& test = dataset(true, state.range(0));
  // Fitted once and kept across repetitions (a 500-tree fit would otherwise be repeated, untimed,
  // for every repetition).
  static const auto model = sklearn_matched_forest().fit(train.X, train.y);
  for (auto _ : state) {
    benchmark::DoNotOptimize(model.predict(test.X));
  }
  state.SetItemsProcessed(state.iterations() * test.X.rows());
  state.counters["rows"] = static_cast<double>(test.X.rows());
}

void BM_RegressionForestFitHonest(benchmark::State& state) {
  // grf defaults: honesty, subsampling 0.5, mtry = p; with OOB predictions.
  const Data& train = dataset(false, state.range(0));
  const tailor::learn::RegressionForest forest({.num_trees = env_or("TAILOR_FOREST_TREES", 100),
                                                .seed = 42,
                                                .num_threads = env_or("TAILOR_FOREST_THREADS", 2)});
  for (auto _ : state) benchmark::DoNotOptimize(forest.fit(train.X, train.y));
  state.SetItemsProcessed(state.iterations() * train.X.rows());
}

/// Peak-memory case (issue "Base learners": peak RSS < 2 GB): ONE fit of a default-parameter
/// (grf-style: honesty, sample_fraction 0.5, min_node_size 5) forest of TAILOR_FOREST_TREES
/// (default 100) trees on Friedman #1 with p = 20 (x₅..x₁₉ pure noise), n rows. Registered only
/// when TAILOR_FOREST_MEMORY_ROWS = n is set; run it alone under /usr/bin/time -v, e.g.
///   TAILOR_FOREST_MEMORY_ROWS=1000000 TAILOR_FOREST_TREES=500
///     /usr/bin/time -v learn_forest_benchmark --benchmark_filter=FitMemory
/// TAILOR_FOREST_MTRY overrides mtry (default 0 = the library default, min(⌈√p + 20⌉, p)); it
/// changes the split search time, hardly the tree sizes that dominate memory.
/// Peak RSS includes the 160 MB design matrix itself (1M × 20 doubles).
void BM_RegressionForestFitMemory(benchmark::State& state) {
  const Data train = friedman1(state.range(0), 7, 20);
  const tailor::learn::RegressionForest forest({.num_trees = env_or("TAILOR_FOREST_TREES", 100),
                                                .mtry = env_or("TAILOR_FOREST_MTRY", 0),
                                                .seed = 42,
                                                .num_threads = env_or("TAILOR_FOREST_THREADS", 2)});
  for (auto _ : state) {
    auto model = forest.fit(train.X, train.y);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations() * train.X.rows());
  state.counters["rows"] = static_cast<double>(train.X.rows());
  state.counters["features"] = static_cast<double>(train.X.cols());
  state.counters["trees"] = static_cast<double>(forest.forest_params().num_trees);
}

[[maybe_unused]] const bool kMemoryCaseRegistered = [] {
  const long rows = env_or("TAILOR_FOREST_MEMORY_ROWS", 0);
  if (rows > 0) {
    benchmark::RegisterBenchmark("BM_RegressionForestFitMemory", BM_RegressionForestFitMemory)
        ->Arg(rows)
        ->Iterations(1)
        ->Unit(benchmark::kSecond)
        ->UseRealTime();
  }
  return rows > 0;
}();

}  // namespace

BENCHMARK(BM_RegressionForestFit)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_RegressionForestPredict)->Arg(100'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RegressionForestFitHonest)->Arg(100'000)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
