// pricing_benchmark — synthetic control: one fit and the in-space placebo loop on Proposition 99
// (TAILOR_DATA_DIR/prop99; 38 donors, 19 pre-periods), and all 1,001 placebo fits of a synthetic
// panel with 1,000 donors × 100 periods (80 pre-periods) on 1 and 2 threads. The peer,
// benchmarks/peers/scipy_synthetic_control.py, runs scipy's NNLS formulation on the same shapes.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "tailor/core/random.hpp"
#include "tailor/io/panel_csv.hpp"
#include "tailor/pricing.hpp"

namespace fs = std::filesystem;
using namespace tailor;
using namespace tailor::pricing;

namespace {

const Panel* prop99() {
  static const std::unique_ptr<Panel> panel = []() -> std::unique_ptr<Panel> {
    const char* root = std::getenv("TAILOR_DATA_DIR");
    const fs::path file =
        root != nullptr ? fs::path(root) / "prop99" / "california_prop99.csv" : fs::path();
    if (root == nullptr || !fs::exists(file)) return nullptr;
    return std::make_unique<Panel>(io::read_panel_csv(file));
  }();
  return panel.get();
}

/// 1,000 random-walk donors and one treated unit over 100 periods, treated from period 80.
const Panel& large_panel() {
  static const Panel panel = [] {
    const Index donors = 1000, T = 100, start = 80;
    Rng rng(3);
    Matrix y(donors + 1, T);
    for (Index u = 0; u <= donors; ++u) {
      double level = 50.0 + 10.0 * rng.normal();
      for (Index t = 0; t < T; ++t) {
        level += rng.normal();
        y(u, t) = level;
      }
    }
    Eigen::MatrixXi d = Eigen::MatrixXi::Zero(donors + 1, T);
    d.row(0).tail(T - start).setOnes();
    std::vector<std::string> names;
    for (Index u = 0; u <= donors; ++u) names.push_back(fmt::format("u{}", u));
    std::vector<double> periods;
    for (Index t = 0; t < T; ++t) periods.push_back(static_cast<double>(t));
    return Panel(names, periods, y, d);
  }();
  return panel;
}

void BM_SyntheticControlProp99(benchmark::State& state) {
  const Panel* panel = prop99();
  if (panel == nullptr) {
    state.SkipWithError("TAILOR_DATA_DIR/prop99 not found");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(SyntheticControl().fit(*panel).att);
  state.SetItemsProcessed(state.iterations());
}

void BM_PlaceboProp99(benchmark::State& state) {
  const Panel* panel = prop99();
  if (panel == nullptr) {
    state.SkipWithError("TAILOR_DATA_DIR/prop99 not found");
    return;
  }
  const SyntheticControl sc({.num_threads = state.range(0)});
  for (auto _ : state) benchmark::DoNotOptimize(placebo_test(*panel, sc).rank);
  state.SetItemsProcessed(state.iterations() * panel->num_units());  // fits per second
}

/// ADH's seven predictors with V optimised per fit, California and its 38 placebos.
void BM_PlaceboProp99Predictors(benchmark::State& state) {
  const Panel* panel = prop99();
  if (panel == nullptr) {
    state.SkipWithError("TAILOR_DATA_DIR/prop99 not found");
    return;
  }
  const fs::path file = fs::path(std::getenv("TAILOR_DATA_DIR")) / "prop99" / "adh_predictors.csv";
  const Matrix x = io::read_unit_table(file, *panel).values;
  const SyntheticControl sc({.num_threads = state.range(0), .predictors = Predictors{.values = x}});
  for (auto _ : state) benchmark::DoNotOptimize(placebo_test(*panel, sc).rank);
  state.SetItemsProcessed(state.iterations() * panel->num_units());
}

void BM_PlaceboLarge(benchmark::State& state) {
  const Panel& panel = large_panel();
  const SyntheticControl sc({.num_threads = state.range(0)});
  for (auto _ : state) benchmark::DoNotOptimize(placebo_test(panel, sc).rank);
  state.SetItemsProcessed(state.iterations() * panel.num_units());
}

}  // namespace

BENCHMARK(BM_SyntheticControlProp99)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_PlaceboProp99)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PlaceboProp99Predictors)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PlaceboLarge)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
