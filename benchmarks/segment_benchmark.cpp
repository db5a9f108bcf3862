// segment_benchmark — throughput of segment::Nmf, KMeans (Lloyd, Hamerly) and MiniBatchKMeans,
// plus a peer mode that fits a CSV with settings matched to benchmarks/peers/sklearn_segment.py.
//
// Benchmarks (Google Benchmark, items_per_second = rows × iterations / s for NMF and rows / s
// for K-Means fits) on planted data: n rows, p = 20, X = W·H + noise with W drawn around 8
// prototypes (non-negative, clustered), generated with tailor::Rng.
// BM_BootstrapStability times B = 50 K-Means refits (+ predictions) on n = 100,000.
// Peer mode: `segment_benchmark --peer_csv=data.csv --peer_out=tailor.json [--threads=2]`
// reads a numeric CSV (header line, comma-separated), fits NMF (k = 8, nndsvda, HALS, 200
// iterations, tol 0) and K-Means (k = 8, n_init = 4, k-means++, Lloyd and Hamerly) and writes
// objective, inertia, median wall and CPU seconds of --repeats fits as JSON (--skip_nmf: K-Means
// only); `--write_csv=F --rows=N --cols=P` writes the planted data.
// Scale mode: `segment_benchmark --scale --rows=N --cols=P --method=lloyd|hamerly|minibatch
// [--threads=2]` fits planted data generated in memory and prints seconds and peak resident
// memory against the input's size (JSON).
// BM_StabilityScan: bootstrap stability (B = 50) for k = 2..8 on n = 100,000.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "process_stats.hpp"
#include "tailor/core/random.hpp"
#include "tailor/segment/kmeans.hpp"
#include "tailor/segment/nmf.hpp"
#include "tailor/segment/stability.hpp"

namespace {

using tailor::Index;
using tailor::Matrix;

Matrix planted(Index n, Index p, Index k, std::uint64_t seed) {
  tailor::Rng rng(seed);
  Matrix H(k, p), proto(k, k);
  for (Index j = 0; j < p; ++j)
    for (Index c = 0; c < k; ++c) H(c, j) = rng.uniform();
  for (Index a = 0; a < k; ++a)
    for (Index c = 0; c < k; ++c) proto(a, c) = a == c ? 2.0 : 0.3 * rng.uniform();
  Matrix X(n, p);
  Eigen::RowVectorXd w(k);
  for (Index i = 0; i < n; ++i) {
    const Index s = static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(k)));
    for (Index c = 0; c < k; ++c) w[c] = std::max(0.0, proto(s, c) + 0.2 * rng.normal());
    X.row(i) = w * H;
    for (Index j = 0; j < p; ++j) X(i, j) = std::max(0.0, X(i, j) + 0.05 * rng.normal());
  }
  return X;
}

const Matrix& data(Index n) {
  static std::vector<std::pair<Index, Matrix>> cache;
  for (auto& [rows, X] : cache)
    if (rows == n) return X;
  cache.emplace_back(n, planted(n, 20, 8, 42));
  return cache.back().second;
}

void BM_NmfFit(benchmark::State& state) {
  const Matrix& X = data(state.range(0));
  const tailor::segment::Nmf nmf(
      {.num_components = 8, .tol = 0, .max_iter = 50, .num_threads = state.range(1)});
  for (auto _ : state) {
    auto model = nmf.fit(X);
    benchmark::DoNotOptimize(model.reconstruction_error());
  }
  state.SetItemsProcessed(state.iterations() * X.rows() * 50);
  state.counters["threads"] = static_cast<double>(state.range(1));
}
BENCHMARK(BM_NmfFit)
    ->Args({10'000, 1})
    ->Args({100'000, 1})
    ->Args({100'000, 2})
    ->Unit(benchmark::kMillisecond);

void BM_KMeansFit(benchmark::State& state) {
  const Matrix& X = data(state.range(0));
  const auto algorithm = static_cast<tailor::segment::KMeansAlgorithm>(state.range(2));
  const tailor::segment::KMeans kmeans(
      {.num_clusters = 8, .n_init = 1, .algorithm = algorithm, .num_threads = state.range(1)});
  Index iterations = 0;
  for (auto _ : state) {
    auto model = kmeans.fit(X);
    iterations = model.iterations();
    benchmark::DoNotOptimize(model.inertia());
  }
  state.SetItemsProcessed(state.iterations() * X.rows());
  state.counters["threads"] = static_cast<double>(state.range(1));
  state.counters["lloyd_iterations"] = static_cast<double>(iterations);
}
// Args: rows, threads, algorithm (0 = lloyd, 1 = hamerly).
BENCHMARK(BM_KMeansFit)
    ->Args({10'000, 1, 0})
    ->Args({100'000, 1, 0})
    ->Args({100'000, 2, 0})
    ->Args({100'000, 1, 1})
    ->Args({100'000, 2, 1})
    ->Unit(benchmark::kMillisecond);

void BM_MiniBatchKMeansFit(benchmark::State& state) {
  const Matrix& X = data(state.range(0));
  const tailor::segment::MiniBatchKMeans kmeans({.num_clusters = 8, .batch_size = 1024});
  for (auto _ : state) {
    auto model = kmeans.fit(X);
    benchmark::DoNotOptimize(model.inertia());
  }
  state.SetItemsProcessed(state.iterations() * X.rows());
}
BENCHMARK(BM_MiniBatchKMeansFit)->Args({100'000})->Unit(benchmark::kMillisecond);

// Bootstrap stability, B = 50 resamples of n rows, K-Means k = 8 with one restart per fit.
void BM_BootstrapStability(benchmark::State& state) {
  const Matrix& X = data(state.range(0));
  const tailor::segment::KMeans kmeans({.num_clusters = 8, .n_init = 1});
  double mean_ari = 0;
  for (auto _ : state) {
    const auto report = tailor::segment::bootstrap_stability(
        kmeans, X, {.num_bootstrap = 50, .num_threads = state.range(1)});
    mean_ari = report.mean_ari;
  }
  state.SetItemsProcessed(state.iterations() * X.rows() * 50);
  state.counters["mean_ari"] = mean_ari;
}
BENCHMARK(BM_BootstrapStability)->Args({100'000, 2})->Unit(benchmark::kSecond)->Iterations(1);

// The stability scan of a k-selection: bootstrap stability (B = 50, one K-Means restart per
// fit) for every k = 2..8 on n rows; one iteration = the whole scan.
void BM_StabilityScan(benchmark::State& state) {
  const Matrix& X = data(state.range(0));
  double mean_ari = 0;
  for (auto _ : state) {
    for (Index k = 2; k <= 8; ++k) {
      const tailor::segment::KMeans kmeans({.num_clusters = k, .n_init = 1});
      const auto report = tailor::segment::bootstrap_stability(
          kmeans, X, {.num_bootstrap = 50, .num_threads = state.range(1)});
      if (k == 8) mean_ari = report.mean_ari;
    }
  }
  state.SetItemsProcessed(state.iterations() * X.rows() * 50 * 7);
  state.counters["mean_ari_k8"] = mean_ari;
}
BENCHMARK(BM_StabilityScan)->Args({100'000, 2})->Unit(benchmark::kSecond)->Iterations(1);

Matrix read_numeric_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<double> values;
  Index rows = 0, cols = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Index c = 0;
    const char* s = line.c_str();
    char* end = nullptr;
    while (*s) {
      values.push_back(std::strtod(s, &end));
      ++c;
      s = *end == ',' ? end + 1 : end;
      if (end == s && *s != '\0') break;
    }
    if (cols == 0) cols = c;
    ++rows;
  }
  Matrix X(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) X(i, j) = values[static_cast<std::size_t>(i * cols + j)];
  return X;
}

struct Timing {
  double wall = 0.0;  ///< median wall seconds
  double cpu = 0.0;   ///< median process CPU seconds (all threads)
};

/// Runs f `repeats` times; median wall and CPU seconds.
template <class F>
Timing timed(Index repeats, F&& f) {
  std::vector<double> walls, cpus;
  for (Index r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = tailor_bench::process_cpu_seconds();
    f();
    cpus.push_back(tailor_bench::process_cpu_seconds() - c0);
    walls.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
  };
  return {median(walls), median(cpus)};
}

int peer_mode(const std::string& csv, const std::string& out_path, Index threads, Index repeats,
              bool nmf_too) {
  const Matrix X = read_numeric_csv(csv);
  std::string json = fmt::format("{{\"rows\": {}, \"cols\": {}, \"threads\": {}, \"repeats\": {}",
                                 X.rows(), X.cols(), threads, repeats);
  if (nmf_too) {
    tailor::segment::NmfModel nmf;
    const Timing t = timed(repeats, [&] {
      nmf = tailor::segment::Nmf({.num_components = 8,
                                  .init = tailor::segment::NmfInit::nndsvda,
                                  .tol = 0,
                                  .max_iter = 200,
                                  .num_threads = threads})
                .fit(X);
    });
    const double residual = nmf.reconstruction_error() * nmf.reconstruction_error();
    json += fmt::format(
        ", \"nmf_objective\": {:.17g}, \"nmf_iterations\": {}, \"nmf_seconds\": {:.4f}, "
        "\"nmf_cpu_seconds\": {:.4f}",
        0.5 * residual, nmf.iterations(), t.wall, t.cpu);
  }
  for (const auto algorithm :
       {tailor::segment::KMeansAlgorithm::lloyd, tailor::segment::KMeansAlgorithm::hamerly}) {
    tailor::segment::KMeansModel model;
    const Timing t = timed(repeats, [&] {
      model = tailor::segment::KMeans({.num_clusters = 8,
                                       .n_init = 4,
                                       .algorithm = algorithm,
                                       .seed = 0,
                                       .num_threads = threads})
                  .fit(X);
    });
    const char* name = algorithm == tailor::segment::KMeansAlgorithm::lloyd ? "lloyd" : "hamerly";
    json += fmt::format(
        ", \"kmeans_{0}_inertia\": {1:.17g}, \"kmeans_{0}_seconds\": {2:.4f}, "
        "\"kmeans_{0}_cpu_seconds\": {3:.4f}",
        name, model.inertia(), t.wall, t.cpu);
  }
  std::ofstream out(out_path);
  out << json << "}\n";
  return out ? 0 : 1;
}

/// Current resident set size, bytes (from /proc/self/statm).
double current_rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  double pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

/// Scale mode: planted n × p data generated in memory, one fit (lloyd, hamerly or minibatch;
/// k = 8; K-Means with n_init = 4), wall and CPU seconds, and the peak resident memory against
/// the input's size. Prints one JSON line.
int scale_mode(Index n, Index p, const std::string& method, Index threads) {
  const Matrix X = planted(n, p, 8, 42);
  const double input = static_cast<double>(X.size()) * sizeof(double);
  const double before = current_rss_bytes();
  double inertia = 0;
  Index iterations = 0;
  const Timing t = timed(1, [&] {
    tailor::segment::KMeansModel model;
    if (method == "minibatch") {
      model = tailor::segment::MiniBatchKMeans(
                  {.num_clusters = 8, .batch_size = 4096, .num_threads = threads})
                  .fit(X);
    } else {
      const auto algorithm = method == "hamerly" ? tailor::segment::KMeansAlgorithm::hamerly
                                                 : tailor::segment::KMeansAlgorithm::lloyd;
      model = tailor::segment::KMeans(
                  {.num_clusters = 8, .n_init = 4, .algorithm = algorithm, .num_threads = threads})
                  .fit(X);
    }
    inertia = model.inertia();
    iterations = model.iterations();
  });
  const double peak = tailor_bench::peak_rss_mib() * 1024.0 * 1024.0;
  fmt::print(
      "{{\"rows\": {}, \"cols\": {}, \"method\": \"{}\", \"threads\": {}, \"seconds\": {:.3f}, "
      "\"cpu_seconds\": {:.3f}, \"inertia\": {:.10g}, \"iterations\": {}, \"input_mb\": {:.1f}, "
      "\"rss_before_fit_mb\": {:.1f}, \"peak_rss_mb\": {:.1f}, \"peak_over_input\": {:.3f}, "
      "\"fit_extra_over_input\": {:.3f}}}\n",
      n, p, method, threads, t.wall, t.cpu, inertia, iterations, input / 1e6, before / 1e6,
      peak / 1e6, peak / input, (peak - before) / input);
  return 0;
}

int write_csv_mode(const std::string& path, Index n, Index p) {
  const Matrix X = planted(n, p, 8, 42);
  std::ofstream out(path);
  for (Index j = 0; j < X.cols(); ++j) out << (j ? "," : "") << "x" << j;
  out << "\n";
  for (Index i = 0; i < X.rows(); ++i) {
    for (Index j = 0; j < X.cols(); ++j) out << (j ? "," : "") << fmt::format("{:.17g}", X(i, j));
    out << "\n";
  }
  return out ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string csv, out, write_csv;
  Index threads = 2, rows = 100'000, cols = 20, repeats = 3;
  bool nmf_too = true, scale = false;
  std::string method = "lloyd";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--peer_csv=")) csv = std::string(arg.substr(11));
    if (arg.starts_with("--peer_out=")) out = std::string(arg.substr(11));
    if (arg.starts_with("--threads=")) threads = std::stol(std::string(arg.substr(10)));
    if (arg.starts_with("--write_csv=")) write_csv = std::string(arg.substr(12));
    if (arg.starts_with("--rows=")) rows = std::stol(std::string(arg.substr(7)));
    if (arg.starts_with("--cols=")) cols = std::stol(std::string(arg.substr(7)));
    if (arg.starts_with("--repeats=")) repeats = std::stol(std::string(arg.substr(10)));
    if (arg == "--skip_nmf") nmf_too = false;
    if (arg == "--scale") scale = true;
    if (arg.starts_with("--method=")) method = std::string(arg.substr(9));
  }
  if (!write_csv.empty()) return write_csv_mode(write_csv, rows, cols);
  if (scale) return scale_mode(rows, cols, method, threads);
  if (!csv.empty())
    return peer_mode(csv, out.empty() ? "tailor_segment.json" : out, threads, repeats, nmf_too);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
