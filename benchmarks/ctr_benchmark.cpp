// ctr_benchmark — throughput of the CTR models (samples/s for training and prediction, and the
// latency of single-row predict_one), plus a peer mode that trains on the CSVs of
// ../shared/peers/gen_data.py ctr with the PyTorch peer's settings and prints one JSON line
// (benchmarks/peers/run_ctr_peer.sh runs both sides on the same files).
//
//   ctr_benchmark [--benchmark_...]                 Google Benchmark on a generated 20-field world
//   ctr_benchmark --peer_train=train.csv --peer_test=test.csv [--model=fm|lr|deepfm|widedeep|ipnn|
//                 esmm|escm2_ips|escm2_dr|shared_bottom|mmoe|ple] [--threads=2] [--repeats=3]
//                 [--epochs=1] [--lr=0.001] [--dim=16] [--batch=4096]
// The multi-task models use the CSV's click and conversion columns with the peer's architecture
// (torch_ctr.py's docstring): funnel models two 400-400-400 towers (three for DR); Shared-Bottom,
// MMoE (4 experts) and PLE (2 levels, 2 shared + 2 per-task experts) with 256-128 experts and
// 128 towers on the tasks click and conversion.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "process_stats.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/ctr/deepfm.hpp"
#include "tailor/ctr/fm.hpp"
#include "tailor/ctr/linear.hpp"
#include "tailor/ctr/multitask.hpp"
#include "tailor/ctr/pnn.hpp"
#include "tailor/ctr/wide_deep.hpp"
#include "tailor/datasets/ctr_worlds.hpp"
#include "tailor/io/csv.hpp"

namespace ctr = tailor::ctr;
using tailor::Index;

namespace {

struct Split {
  ctr::CtrData train;
  ctr::CtrData test;
};

/// A generated world with the peer's shape (20 fields, cardinalities 10 … 100,000).
const Split& generated(Index n) {
  static std::vector<std::pair<Index, std::unique_ptr<Split>>> cache;
  for (const auto& [rows, split] : cache) {
    if (rows == n) return *split;
  }
  const tailor::datasets::CtrWorld world({.seed = 0});
  std::vector<std::string> names;
  for (Index f = 0; f < static_cast<Index>(world.cardinalities().size()); ++f) {
    names.push_back(fmt::format("f{}", f));
  }
  const ctr::FeatureSpace space = ctr::integer_space(names, world.cardinalities());
  auto make = [&](Index rows, std::uint64_t stream) {
    auto sample = world.sample(rows, stream);
    return ctr::CtrData(space, ctr::encode_ids(space, sample.ids), std::move(sample.click));
  };
  auto split = std::make_unique<Split>(Split{make(n, 1), make(std::max<Index>(n / 5, 1000), 2)});
  cache.emplace_back(n, std::move(split));
  return *cache.back().second;
}

ctr::FactorizationMachine peer_fm(Index threads, Index epochs = 1, float lr = 1e-3f, Index dim = 16,
                                  Index batch = 4096) {
  return ctr::FactorizationMachine({.embedding_dim = dim,
                                    .training = {.epochs = epochs,
                                                 .batch_size = batch,
                                                 .optimizer = {.learning_rate = lr},
                                                 .seed = 0,
                                                 .num_threads = threads}});
}

void BM_FmTrain(benchmark::State& state) {
  const auto& data = generated(state.range(0));
  const auto fm = peer_fm(state.range(1));
  for (auto _ : state) {
    auto model = fm.fit(data.train);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations() * data.train.num_rows());
  state.counters["threads"] = static_cast<double>(state.range(1));
}
BENCHMARK(BM_FmTrain)
    ->Args({200000, 1})
    ->Args({200000, 2})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_FmPredict(benchmark::State& state) {
  const auto& data = generated(200000);
  static const auto model = peer_fm(2).fit(data.train);
  for (auto _ : state) {
    auto p = model.predict(data.test.features(), state.range(0));
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations() * data.test.num_rows());
}
BENCHMARK(BM_FmPredict)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

/// Single-row serving latency: predict_one on the test rows in turn.
template <class Model>
void predict_one_loop(benchmark::State& state, const Model& model, const ctr::SparseFeatures& x) {
  const Index n = x.num_rows();
  Index i = 0;
  for (auto _ : state) {
    const float p = model.predict_one(x.row(i));
    benchmark::DoNotOptimize(p);
    i = i + 1 == n ? 0 : i + 1;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_FmPredictOne(benchmark::State& state) {
  const auto& data = generated(200000);
  static const auto model = peer_fm(2).fit(data.train);
  predict_one_loop(state, model, data.test.features());
}
BENCHMARK(BM_FmPredictOne);

void BM_DeepFMTrain(benchmark::State& state) {
  const auto& data = generated(50000);
  const ctr::DeepFM deepfm({.training = {.num_threads = state.range(0)}});
  for (auto _ : state) {
    auto model = deepfm.fit(data.train);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations() * data.train.num_rows());
  // 2.69 MFLOP per sample for the 400-400-400 MLP (forward + backward with input gradients).
  state.counters["GFLOPs"] = benchmark::Counter(
      2.69e6 * static_cast<double>(data.train.num_rows()) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DeepFMTrain)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_DeepFMPredict(benchmark::State& state) {
  const auto& data = generated(50000);
  static const auto model = ctr::DeepFM({.training = {.num_threads = 2}}).fit(data.train);
  for (auto _ : state) {
    auto p = model.predict(data.test.features(), state.range(0));
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations() * data.test.num_rows());
}
BENCHMARK(BM_DeepFMPredict)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_DeepFMPredictOne(benchmark::State& state) {
  const auto& data = generated(50000);
  static const auto model = ctr::DeepFM({.training = {.num_threads = 2}}).fit(data.train);
  predict_one_loop(state, model, data.test.features());
}
BENCHMARK(BM_DeepFMPredictOne);

void BM_LogisticFtrlTrain(benchmark::State& state) {
  const auto& data = generated(200000);
  const ctr::SparseLogisticRegression lr({.training = {.num_threads = state.range(0)}});
  for (auto _ : state) {
    auto model = lr.fit(data.train);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations() * data.train.num_rows());
}
BENCHMARK(BM_LogisticFtrlTrain)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

/// The generated world as a funnel (click, conversion).
const ctr::MultiTaskData& generated_funnel(Index n) {
  static std::vector<std::pair<Index, std::unique_ptr<ctr::MultiTaskData>>> cache;
  for (const auto& [rows, data] : cache) {
    if (rows == n) return *data;
  }
  const tailor::datasets::CtrWorld world({.seed = 0});
  std::vector<std::string> names;
  for (Index f = 0; f < static_cast<Index>(world.cardinalities().size()); ++f) {
    names.push_back(fmt::format("f{}", f));
  }
  const ctr::FeatureSpace space = ctr::integer_space(names, world.cardinalities());
  const auto sample = world.sample(n, 1);
  cache.emplace_back(
      n, std::make_unique<ctr::MultiTaskData>(ctr::MultiTaskData::funnel(
             space, ctr::encode_ids(space, sample.ids), sample.click, sample.conversion)));
  return *cache.back().second;
}

void BM_EsmmTrain(benchmark::State& state) {
  const auto& data = generated_funnel(50000);
  const ctr::Esmm esmm({.training = {.num_threads = state.range(0)}});
  for (auto _ : state) {
    auto model = esmm.fit(data);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations() * data.num_rows());
}
BENCHMARK(BM_EsmmTrain)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_MmoeTrain(benchmark::State& state) {
  const auto& data = generated_funnel(50000);
  const ctr::Mmoe mmoe({.training = {.num_threads = state.range(0)}});
  for (auto _ : state) {
    auto model = mmoe.fit(data);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations() * data.num_rows());
}
BENCHMARK(BM_MmoeTrain)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---- peer mode --------------------------------------------------------------------------------

/// gen_data.py's CSV (f0..f{F-1}, click, conversion) → id matrix and clicks.
struct IdColumns {
  Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> ids;
  Eigen::VectorXf click;
  Eigen::VectorXf conversion;  ///< empty when the file has none
  std::vector<std::string> names;
};

IdColumns read_ids(const std::string& path) {
  const tailor::io::Table table = tailor::io::read_csv(path);
  IdColumns out;
  for (const auto& name : table.column_names()) {
    if (name.size() > 1 && name[0] == 'f' &&
        name.find_first_not_of("0123456789", 1) == std::string::npos) {
      out.names.push_back(name);
    }
  }
  const auto n = static_cast<Index>(table.num_rows());
  out.ids.resize(n, static_cast<Index>(out.names.size()));
  for (std::size_t f = 0; f < out.names.size(); ++f) {
    const Eigen::VectorXd& column = table.numeric(out.names[f]);
    for (Index i = 0; i < n; ++i)
      out.ids(i, static_cast<Index>(f)) = static_cast<std::int32_t>(column[i]);
  }
  out.click = table.numeric("click").cast<float>();
  const auto& columns = table.column_names();
  if (std::find(columns.begin(), columns.end(), "conversion") != columns.end())
    out.conversion = table.numeric("conversion").cast<float>();
  return out;
}

#ifdef __AVX2__
constexpr bool kAvx2 = true;  // built with TAILOR_NATIVE (or another AVX2 flag)
#else
constexpr bool kAvx2 = false;
#endif

using tailor_bench::peak_rss_mib;

template <class F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool is_multitask(const std::string& model) {
  return model == "esmm" || model == "escm2_ips" || model == "escm2_dr" ||
         model == "shared_bottom" || model == "mmoe" || model == "ple";
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// The multi-task side of the peer comparison: one JSON line with the rates and the test AUCs.
int peer_multitask(const std::string& train_path, const std::string& test_path,
                   const std::string& model, Index threads, Index repeats, Index epochs, float lr,
                   Index dim, Index batch) {
  IdColumns train_ids = read_ids(train_path);
  IdColumns test_ids = read_ids(test_path);
  if (train_ids.conversion.size() == 0 || test_ids.conversion.size() == 0) {
    fmt::print(stderr, "--model={} needs a conversion column\n", model);
    return 2;
  }
  std::vector<Index> cardinalities;
  for (Index f = 0; f < train_ids.ids.cols(); ++f)
    cardinalities.push_back(static_cast<Index>(train_ids.ids.col(f).maxCoeff()) + 1);
  const ctr::FeatureSpace space = ctr::integer_space(train_ids.names, cardinalities);
  const auto train = ctr::MultiTaskData::funnel(space, ctr::encode_ids(space, train_ids.ids),
                                                train_ids.click, train_ids.conversion);
  const auto test_x = ctr::encode_ids(space, test_ids.ids);
  const ctr::TrainingParams training{.epochs = epochs,
                                     .batch_size = batch,
                                     .optimizer = {.learning_rate = lr},
                                     .seed = 0,
                                     .num_threads = threads};
  std::vector<double> train_rates, predict_rates;
  Eigen::VectorXd pctr, pctcvr, pcvr;
  for (Index r = 0; r < repeats; ++r) {
    double train_s = 0.0, predict_s = 0.0;
    if (model == "esmm" || model == "escm2_ips" || model == "escm2_dr") {
      std::optional<ctr::FunnelModel> fitted;
      train_s = seconds([&] {
        if (model == "esmm") {
          fitted.emplace(ctr::Esmm({.embedding_dim = dim, .training = training}).fit(train));
        } else {
          fitted.emplace(ctr::Escm2({.embedding_dim = dim,
                                     .counterfactual = model == "escm2_ips"
                                                           ? ctr::Counterfactual::ips
                                                           : ctr::Counterfactual::doubly_robust,
                                     .training = training})
                             .fit(train));
        }
      });
      ctr::FunnelPrediction p;
      predict_s = seconds([&] { p = fitted->predict(test_x, threads); });
      pctr = p.pctr.cast<double>();
      pcvr = p.pcvr.cast<double>();
      pctcvr = p.pctcvr.cast<double>();
    } else {
      std::optional<ctr::MultiTaskModel> fitted;
      train_s = seconds([&] {
        if (model == "shared_bottom") {
          fitted.emplace(
              ctr::SharedBottom({.embedding_dim = dim, .training = training}).fit(train));
        } else if (model == "mmoe") {
          fitted.emplace(ctr::Mmoe({.embedding_dim = dim, .training = training}).fit(train));
        } else {
          fitted.emplace(ctr::Ple({.embedding_dim = dim, .training = training}).fit(train));
        }
      });
      ctr::RowMatrixXf p;
      predict_s = seconds([&] { p = fitted->predict(test_x, threads); });
      pctr = p.col(0).cast<double>();
      pctcvr = p.col(1).cast<double>();
      pcvr.resize(0);
    }
    train_rates.push_back(static_cast<double>(train.num_rows()) / train_s);
    predict_rates.push_back(static_cast<double>(test_x.num_rows()) / predict_s);
  }
  const Eigen::VectorXd click = test_ids.click.cast<double>();
  const Eigen::VectorXd conversion = test_ids.conversion.cast<double>();
  std::string cvr_fields;
  if (pcvr.size() > 0) {
    std::vector<double> s, y;
    for (Index i = 0; i < click.size(); ++i) {
      if (click[i] != 1.0) continue;
      s.push_back(pcvr[i]);
      y.push_back(conversion[i]);
    }
    const double auc_cvr = tailor::metrics::roc_auc(
        Eigen::Map<const Eigen::VectorXd>(y.data(), static_cast<Index>(y.size())),
        Eigen::Map<const Eigen::VectorXd>(s.data(), static_cast<Index>(s.size())));
    cvr_fields =
        fmt::format(", \"auc_cvr_clicked\": {:.6f}, \"mean_pcvr\": {:.6f}", auc_cvr, pcvr.mean());
  }
  fmt::print(
      "{{\"side\": \"tailor\", \"model\": \"{}\", \"optimizer\": \"lazy_adam\", \"avx2\": {}, "
      "\"n_train\": {}, \"n_test\": {}, \"threads\": {}, \"train_samples_per_s\": {:.0f}, "
      "\"train_samples_per_s_each\": [{:.0f}], \"predict_samples_per_s\": {:.0f}, "
      "\"auc_click\": {:.6f}, \"auc_ctcvr\": {:.6f}, \"logloss_click\": {:.6f}, "
      "\"logloss_ctcvr\": {:.6f}{}, \"peak_rss_mib\": {:.1f}}}\n",
      model, kAvx2, train.num_rows(), test_x.num_rows(), threads, median_of(train_rates),
      fmt::join(train_rates, ", "), median_of(predict_rates), tailor::metrics::roc_auc(click, pctr),
      tailor::metrics::roc_auc(conversion, pctcvr), tailor::metrics::log_loss(click, pctr),
      tailor::metrics::log_loss(conversion, pctcvr), cvr_fields, peak_rss_mib());
  return 0;
}

int peer_mode(const std::string& train_path, const std::string& test_path, const std::string& model,
              Index threads, Index repeats, Index epochs, float lr, Index dim, Index batch) {
  if (is_multitask(model))
    return peer_multitask(train_path, test_path, model, threads, repeats, epochs, lr, dim, batch);
  IdColumns train_ids = read_ids(train_path);
  IdColumns test_ids = read_ids(test_path);
  std::vector<Index> cardinalities;
  for (Index f = 0; f < train_ids.ids.cols(); ++f) {
    cardinalities.push_back(static_cast<Index>(train_ids.ids.col(f).maxCoeff()) + 1);
  }
  const ctr::FeatureSpace space = ctr::integer_space(train_ids.names, cardinalities);
  const ctr::CtrData train(space, ctr::encode_ids(space, train_ids.ids),
                           std::move(train_ids.click));
  const ctr::CtrData test(space, ctr::encode_ids(space, test_ids.ids), std::move(test_ids.click));
  train_ids.ids.resize(0, 0);
  test_ids.ids.resize(0, 0);
  std::vector<double> train_rates, predict_rates;
  double auc = 0.0, log_loss = 0.0, mean_pred = 0.0;
  for (Index r = 0; r < repeats; ++r) {
    Eigen::VectorXf p;
    double train_s = 0.0, predict_s = 0.0;
    if (model == "lr") {
      const ctr::SparseLogisticRegression lr_model(
          {.training = {.epochs = epochs,
                        .batch_size = batch,
                        .optimizer = {.kind = ctr::OptimizerKind::adam, .learning_rate = lr},
                        .seed = 0,
                        .num_threads = threads}});
      std::optional<ctr::SparseLogisticRegressionModel> fitted;
      train_s = seconds([&] { fitted.emplace(lr_model.fit(train)); });
      predict_s = seconds([&] { p = fitted->predict(test, threads); });
    } else if (model == "fm") {
      const auto fm = peer_fm(threads, epochs, lr, dim, batch);
      std::optional<ctr::FactorizationMachineModel> fitted;
      train_s = seconds([&] { fitted.emplace(fm.fit(train)); });
      predict_s = seconds([&] { p = fitted->predict(test, threads); });
    } else {
      const ctr::TrainingParams training{.epochs = epochs,
                                         .batch_size = batch,
                                         .optimizer = {.learning_rate = lr},
                                         .seed = 0,
                                         .num_threads = threads};
      auto run = [&](const auto& estimator) {
        std::optional<std::decay_t<decltype(estimator.fit(train))>> fitted;
        train_s = seconds([&] { fitted.emplace(estimator.fit(train)); });
        predict_s = seconds([&] { p = fitted->predict(test, threads); });
      };
      if (model == "deepfm") {
        run(ctr::DeepFM({.embedding_dim = dim, .training = training}));
      } else if (model == "widedeep") {
        run(ctr::WideDeep({.embedding_dim = dim, .training = training}));
      } else if (model == "ipnn") {
        run(ctr::PNN({.embedding_dim = dim, .training = training}));
      } else {
        fmt::print(stderr, "unknown --model={} (lr, fm, deepfm, widedeep, ipnn)\n", model);
        return 2;
      }
    }
    train_rates.push_back(static_cast<double>(train.num_rows()) / train_s);
    predict_rates.push_back(static_cast<double>(test.num_rows()) / predict_s);
    const Eigen::VectorXd pd = p.cast<double>();
    const Eigen::VectorXd y = test.click().cast<double>();
    auc = tailor::metrics::roc_auc(y, pd);
    log_loss = tailor::metrics::log_loss(y, pd);
    mean_pred = pd.mean();
  }
  fmt::print(
      "{{\"side\": \"tailor\", \"model\": \"{}\", \"optimizer\": \"lazy_adam\", \"avx2\": {}, "
      "\"n_train\": {}, "
      "\"n_test\": {}, \"threads\": {}, \"train_samples_per_s\": {:.0f}, "
      "\"train_samples_per_s_each\": [{:.0f}], \"predict_samples_per_s\": {:.0f}, "
      "\"test_auc\": {:.6f}, \"test_logloss\": {:.6f}, \"mean_pred\": {:.6f}, \"ctr\": {:.6f}, "
      "\"peak_rss_mib\": {:.1f}}}\n",
      model, kAvx2, train.num_rows(), test.num_rows(), threads, median_of(train_rates),
      fmt::join(train_rates, ", "), median_of(predict_rates), auc, log_loss, mean_pred,
      test.click().cast<double>().mean(), peak_rss_mib());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string train, test, model = "fm";
  Index threads = 2, repeats = 3, epochs = 1, dim = 16, batch = 4096;
  float lr = 1e-3f;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view key) { return std::string(arg.substr(key.size())); };
    if (arg.starts_with("--peer_train=")) train = value("--peer_train=");
    if (arg.starts_with("--peer_test=")) test = value("--peer_test=");
    if (arg.starts_with("--model=")) model = value("--model=");
    if (arg.starts_with("--threads=")) threads = std::stol(value("--threads="));
    if (arg.starts_with("--repeats=")) repeats = std::stol(value("--repeats="));
    if (arg.starts_with("--epochs=")) epochs = std::stol(value("--epochs="));
    if (arg.starts_with("--dim=")) dim = std::stol(value("--dim="));
    if (arg.starts_with("--batch=")) batch = std::stol(value("--batch="));
    if (arg.starts_with("--lr=")) lr = std::stof(value("--lr="));
  }
  if (!train.empty())
    return peer_mode(train, test, model, threads, repeats, epochs, lr, dim, batch);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
