// Throughput of GradientBoostingRegressor / GradientBoostingClassifier fit and predict
// (items_per_second = rows/s), with the held-out RMSE / log-loss as counters.
//
// Data: with TAILOR_BOOSTING_PREFIX set, the CSVs PREFIX_{reg,clf}_{train,test}.csv written by
// benchmarks/peers/make_boosting_data.py (the same rows scikit-learn's peer reads; see
// benchmarks/peers/run_boosting_comparison.sh); otherwise the same two models are generated
// here with tailor::Rng (n_train = 100,000, n_test = 20,000, p = 10).
// Settings match the peer's HistGradientBoosting*(max_iter=100, learning_rate=0.1,
// max_leaf_nodes=31, min_samples_leaf=20, l2_regularization=0, max_bins=255,
// early_stopping=False); TAILOR_BOOSTING_THREADS (default 2) sets num_threads.
// Each fit is timed once per repetition (Iterations(1)); run with --benchmark_repetitions=3
// and read the medians.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "tailor/core/random.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/learn/gradient_boosting.hpp"

namespace {

using tailor::Index;
using tailor::Matrix;
using tailor::Vector;

struct Split {
  Matrix X;
  Vector y;
};
struct Task {
  Split train;
  Split test;
};

Split generate(bool classification, Index n, tailor::Rng& rng) {
  Split s{Matrix(n, 10), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 10; ++j) s.X(i, j) = classification ? rng.normal() : rng.uniform();
    const auto x = s.X.row(i);
    if (classification) {
      const double eta = x[0] - x[1] + 0.5 * x[2] * x[2] + 0.5 * std::sin(2.0 * x[3]) - 0.5;
      s.y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-eta)) ? 1.0 : 0.0;
    } else {
      s.y[i] = 10.0 * std::sin(std::numbers::pi * x[0] * x[1]) +
               20.0 * (x[2] - 0.5) * (x[2] - 0.5) + 10.0 * x[3] + 5.0 * x[4] + rng.normal();
    }
  }
  return s;
}

Split read(const std::string& path) {
  const tailor::io::Table table = tailor::io::read_csv(path);
  std::vector<std::string> features;
  for (const auto& name : table.column_names()) {
    if (name != "y") features.push_back(name);
  }
  return {table.to_matrix(features), table.numeric("y")};
}

/// The data of "reg" or "clf", read or generated once.
const Task& task(const std::string& name) {
  static std::map<std::string, Task> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  Task t;
  if (const char* prefix = std::getenv("TAILOR_BOOSTING_PREFIX")) {
    t.train = read(std::string(prefix) + "_" + name + "_train.csv");
    t.test = read(std::string(prefix) + "_" + name + "_test.csv");
  } else {
    tailor::Rng rng(name == "clf" ? 2 : 1);
    t.train = generate(name == "clf", 100'000, rng);
    t.test = generate(name == "clf", 20'000, rng);
  }
  return cache.emplace(name, std::move(t)).first->second;
}

tailor::learn::GradientBoostingParams params() {
  const char* threads = std::getenv("TAILOR_BOOSTING_THREADS");
  return {.learning_rate = 0.1,
          .max_iter = 100,
          .max_leaf_nodes = 31,
          .min_samples_leaf = 20,
          .l2_regularization = 0.0,
          .max_bins = 255,
          .early_stopping = tailor::learn::EarlyStopping::disabled,
          .seed = 0,
          .num_threads = threads ? std::atol(threads) : 2};
}

double rmse(const Vector& pred, const Vector& y) {
  return std::sqrt((pred - y).squaredNorm() / static_cast<double>(y.size()));
}

double log_loss(const Vector& p, const Vector& y) {
  double s = 0.0;
  for (Index i = 0; i < y.size(); ++i) {
    const double q = std::clamp(p[i], 1e-15, 1.0 - 1e-15);
    s -= y[i] * std::log(q) + (1.0 - y[i]) * std::log(1.0 - q);
  }
  return s / static_cast<double>(y.size());
}

void BM_BoostingRegressorFit(benchmark::State& state) {
  const Task& t = task("reg");
  const tailor::learn::GradientBoostingRegressor learner(params());
  Vector pred;
  for (auto _ : state) {
    auto model = learner.fit(t.train.X, t.train.y, Vector());
    state.PauseTiming();
    pred = model.predict(t.test.X);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * t.train.X.rows());
  state.counters["rmse"] = rmse(pred, t.test.y);
  state.counters["n_train"] = static_cast<double>(t.train.X.rows());
}

void BM_BoostingRegressorPredict(benchmark::State& state) {
  const Task& t = task("reg");
  const auto model =
      tailor::learn::GradientBoostingRegressor(params()).fit(t.train.X, t.train.y, Vector());
  for (auto _ : state) benchmark::DoNotOptimize(model.predict(t.test.X));
  state.SetItemsProcessed(state.iterations() * t.test.X.rows());
}

void BM_BoostingClassifierFit(benchmark::State& state) {
  const Task& t = task("clf");
  const tailor::learn::GradientBoostingClassifier learner(params());
  Vector prob;
  for (auto _ : state) {
    auto model = learner.fit(t.train.X, t.train.y, Vector());
    state.PauseTiming();
    prob = model.predict(t.test.X);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * t.train.X.rows());
  state.counters["log_loss"] = log_loss(prob, t.test.y);
  state.counters["n_train"] = static_cast<double>(t.train.X.rows());
}

void BM_BoostingClassifierPredict(benchmark::State& state) {
  const Task& t = task("clf");
  const auto model =
      tailor::learn::GradientBoostingClassifier(params()).fit(t.train.X, t.train.y, Vector());
  for (auto _ : state) benchmark::DoNotOptimize(model.predict_proba(t.test.X));
  state.SetItemsProcessed(state.iterations() * t.test.X.rows());
}

}  // namespace

BENCHMARK(BM_BoostingRegressorFit)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_BoostingRegressorPredict)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BoostingClassifierFit)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_BoostingClassifierPredict)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
