// dtr_benchmark — dynamic treatment regimes at n = 10^5..10^6 on design B (two stages, p <= 4
// history columns): linear Q-learning (both stages, with the stacked sandwich), A-learning,
// and the IPW/AIPW value terms of a fixed regime given the nuisances (rows/s). The peer,
// benchmarks/peers/numpy_q_learning.py, runs two-stage linear Q-learning with numpy least
// squares on the same design. Single-threaded code paths (Eigen's GEMMs may use more threads only
// when built with OpenMP, which tailor's targets are not).
#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "tailor/datasets/dtr_designs.hpp"
#include "tailor/dtr.hpp"

using namespace tailor;
using namespace tailor::dtr;

namespace {

const datasets::DtrSample& sample(Index n) {
  static std::map<Index, std::unique_ptr<datasets::DtrSample>> cache;
  auto& slot = cache[n];
  if (!slot) {
    slot = std::make_unique<datasets::DtrSample>(
        datasets::dtr_design_b(n, datasets::DesignBParams{}, 42));
  }
  return *slot;
}

LinearQLearning q_learning() {
  return LinearQLearning(
      {.stages = {StageDesign{}, StageDesign{.contrast_columns = std::vector<Index>{1, 2}}}});
}

void BM_LinearQLearning(benchmark::State& state) {
  const auto& s = sample(state.range(0));
  const auto learner = q_learning();
  for (auto _ : state) {
    const LinearQModel m = learner.fit(s.data);
    benchmark::DoNotOptimize(m.value().value);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_ALearning(benchmark::State& state) {
  const auto& s = sample(state.range(0));
  const ALearning learner(
      {.stages = {StageDesign{}, StageDesign{.contrast_columns = std::vector<Index>{1, 2}}}});
  for (auto _ : state) {
    const ALearningModel m = learner.fit(s.data);
    benchmark::DoNotOptimize(m.contrast(0, 0).value);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

/// The value terms of a fixed regime given fitted nuisances (propensities, Q^d): the streaming
/// part of evaluate_regime.
void BM_RegimeValueTerms(benchmark::State& state) {
  const auto& s = sample(state.range(0));
  const Regime regime(
      {[](const Matrix& h) { return (h.col(0).array() < 0.0).cast<int>().eval(); },
       [](const Matrix& h) { return (h.col(1).array() > 0.0).cast<int>().eval(); }});
  const Matrix p = observed_propensities(s.data);
  const LinearQModel q = fit_regime_q_functions(s.data, regime);
  for (auto _ : state) {
    const RegimeValue v = regime_value(s.data, regime, p, q);
    benchmark::DoNotOptimize(v.aipw.value);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

/// The whole evaluate_regime: propensity models, Q^d, terms and corrections.
void BM_EvaluateRegime(benchmark::State& state) {
  const auto& s = sample(state.range(0));
  const Regime regime(
      {[](const Matrix& h) { return (h.col(0).array() < 0.0).cast<int>().eval(); },
       [](const Matrix& h) { return (h.col(1).array() > 0.0).cast<int>().eval(); }});
  for (auto _ : state) {
    const RegimeValue v = evaluate_regime(s.data, regime);
    benchmark::DoNotOptimize(v.aipw.value);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace

BENCHMARK(BM_LinearQLearning)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_ALearning)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RegimeValueTerms)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EvaluateRegime)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
