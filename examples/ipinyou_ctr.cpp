// ipinyou_ctr — click-through-rate models on iPinYou impression logs: sparse logistic
// regression, a factorization machine, Wide&Deep, DeepFM and PNN, trained with tailor's one
// mini-batch trainer, compared on the test days.
//
// Data (one of):
//   default          synthetic logs in the make-ipinyou-data schema (io::synthetic, with the true
//                    pCTR of every impression, so the table gains an "oracle" row)
//   --data DIR       make-ipinyou-data campaign logs: DIR/train.log.txt and DIR/test.log.txt
//   --libfm DIR      libFM files with a feature index: DIR/featindex.fm.txt, train.fm.txt,
//                    test.fm.txt (e.g. ../shared/data/ipinyou_fm_sample)
// The last 10% of the training rows (in time order) validate each epoch; the best epoch is kept.
// Prints a table (test AUC, log-loss, normalized entropy, calibration ratio Σp/Σy, training
// samples/s, model bytes) and writes to --out:
//   ctr_report.html          ROC curves, reliability diagram, validation learning curves
//   ctr_metrics.csv          the table
//   <model>.theta.txt        per test impression "click market_price pCTR" (the rlb-dp format
//                            the bidding module reads; logs only: libFM files have no prices)
//   <model>.tailor           the fitted model (feature encoder inside) for serving
// Usage: ipinyou_ctr [--data DIR | --libfm DIR] [--impressions 200000] [--epochs 3]
//                    [--models lr,fm,widedeep,deepfm,pnn] [--hidden 400,400,400] [--dim 16]
//                    [--threads 0] [--seed 1] [--out ipinyou_ctr_out] [--quiet]
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "common/example_support.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/ctr/deepfm.hpp"
#include "tailor/ctr/fm.hpp"
#include "tailor/ctr/linear.hpp"
#include "tailor/ctr/pnn.hpp"
#include "tailor/ctr/wide_deep.hpp"
#include "tailor/io/ipinyou.hpp"
#include "tailor/io/libsvm.hpp"
#include "tailor/io/synthetic.hpp"

namespace fs = std::filesystem;
namespace ctr = tailor::ctr;
using tailor::Index;
using tailor_examples::html_escape;
using tailor_examples::svg_chart;

namespace {

struct Dataset {
  ctr::FeatureSpace space;
  ctr::SparseFeatures train;
  Eigen::VectorXf train_click;
  ctr::SparseFeatures test;
  Eigen::VectorXf test_click;
  Eigen::VectorXf test_price;      ///< empty for libFM input
  Eigen::VectorXd test_true_pctr;  ///< empty unless synthetic
  std::string description;
};

struct Result {
  std::string name;
  Eigen::VectorXd p;
  double auc = 0, log_loss = 0, entropy = 0, calibration = 0;
  double samples_per_second = 0;
  std::size_t bytes = 0;
  std::vector<double> validation_log_loss;
};

Dataset load(const std::string& data_dir, const std::string& libfm_dir, Index impressions,
             std::uint64_t seed, tailor_examples::ScratchDir& scratch, bool quiet) {
  Dataset d;
  if (!libfm_dir.empty()) {
    const fs::path dir(libfm_dir);
    auto index = tailor::io::read_featindex(dir / "featindex.fm.txt");
    auto train = tailor::io::read_libfm(dir / "train.fm.txt", index);
    auto test = tailor::io::read_libfm(dir / "test.fm.txt", index);
    d.space = std::move(index.space);
    d.train = std::move(train.features);
    d.train_click = std::move(train.click);
    d.test = std::move(test.features);
    d.test_click = std::move(test.click);
    d.description = fmt::format("libFM files in {}", dir.string());
    return d;
  }
  fs::path dir(data_dir);
  if (data_dir.empty()) {
    dir = scratch.create("ipinyou_ctr");
    if (!quiet)
      fmt::print(stderr, "generating {} synthetic impressions (seed {}) ...\n", impressions, seed);
    const auto synthetic =
        tailor::io::synthetic::generate_ipinyou({.num_impressions = impressions, .seed = seed});
    tailor::io::synthetic::write_ipinyou(synthetic, dir);
    const auto n_test = static_cast<Index>(synthetic.impressions.size()) - synthetic.num_train;
    d.test_true_pctr.resize(n_test);
    for (Index i = 0; i < n_test; ++i) {
      d.test_true_pctr[i] =
          synthetic.impressions[static_cast<std::size_t>(synthetic.num_train + i)].pctr_true;
    }
    d.description =
        fmt::format("{} synthetic iPinYou-schema impressions (seed {})", impressions, seed);
  } else {
    d.description = fmt::format("make-ipinyou-data logs in {}", dir.string());
  }
  auto logs = tailor::io::read_ipinyou(dir);
  d.space = std::move(logs.space);
  d.train = std::move(logs.train_features);
  d.train_click = std::move(logs.train_click);
  d.test = std::move(logs.test_features);
  d.test_click = std::move(logs.test_click);
  d.test_price = std::move(logs.test_payprice);
  if (d.test_true_pctr.size() > 0 && d.test_true_pctr.size() != d.test_click.size()) {
    d.test_true_pctr.resize(0);  // the truth does not line up: leave the oracle out
  }
  return d;
}

/// Points of the ROC curve (false-positive rate, true-positive rate), at most ~200.
std::vector<std::pair<double, double>> roc_points(const Eigen::VectorXd& p,
                                                  const Eigen::VectorXf& y) {
  std::vector<Index> order(static_cast<std::size_t>(p.size()));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return p[a] > p[b]; });
  const double positives = y.cast<double>().sum();
  const double negatives = static_cast<double>(y.size()) - positives;
  std::vector<std::pair<double, double>> points{{0.0, 0.0}};
  double tp = 0, fp = 0;
  const std::size_t step = std::max<std::size_t>(1, order.size() / 200);
  for (std::size_t r = 0; r < order.size(); ++r) {
    if (y[order[r]] == 1.0f)
      tp += 1;
    else
      fp += 1;
    if ((r + 1) % step == 0 || r + 1 == order.size())
      points.emplace_back(fp / negatives, tp / positives);
  }
  return points;
}

void write_report(const fs::path& path, const Dataset& d, const std::vector<Result>& results,
                  const std::optional<double>& oracle_auc) {
  std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>> roc, reliability,
      curves;
  double max_rate = 0.0, max_loss = 0.0;
  std::size_t max_epochs = 1;
  for (const auto& r : results) {
    roc.emplace_back(r.name, roc_points(r.p, d.test_click));
    const auto bins = tailor::metrics::reliability_bins(d.test_click.cast<double>(), r.p, 10);
    std::vector<std::pair<double, double>> points;
    for (Index b = 0; b < bins.mean_predicted.size(); ++b) {
      points.emplace_back(bins.mean_predicted[b], bins.observed_rate[b]);
      max_rate = std::max({max_rate, bins.mean_predicted[b], bins.observed_rate[b]});
    }
    reliability.emplace_back(r.name, points);
    std::vector<std::pair<double, double>> curve;
    for (std::size_t e = 0; e < r.validation_log_loss.size(); ++e) {
      curve.emplace_back(static_cast<double>(e + 1), r.validation_log_loss[e]);
      max_loss = std::max(max_loss, r.validation_log_loss[e]);
    }
    max_epochs = std::max(max_epochs, r.validation_log_loss.size());
    curves.emplace_back(r.name, curve);
  }
  std::ofstream out(path);
  out << "<!doctype html><html><head><meta charset='utf-8'><title>tailor: iPinYou CTR</title>"
         "<style>body{font-family:sans-serif;margin:2em}td,th{padding:3px 10px;text-align:right}"
         "th{background:#eee}</style></head><body>\n";
  out << "<h1>Click-through-rate models</h1>\n<p>" << html_escape(d.description) << ": "
      << d.train.num_rows() << " training and " << d.test.num_rows() << " test impressions, "
      << d.space.num_fields() << " fields, " << d.space.num_rows() << " table rows.</p>\n";
  out << "<table><tr><th>model</th><th>test AUC</th><th>log-loss</th><th>normalized entropy</th>"
         "<th>Σp/Σy</th><th>train samples/s</th><th>model bytes</th></tr>\n";
  if (oracle_auc)
    out << fmt::format("<tr><td>oracle (true pCTR)</td><td>{:.4f}</td><td colspan=5></td></tr>\n",
                       *oracle_auc);
  for (const auto& r : results) {
    out << fmt::format(
        "<tr><td>{}</td><td>{:.4f}</td><td>{:.5f}</td><td>{:.4f}</td><td>{:.3f}</td><td>{:.0f}</"
        "td><td>{}</td></tr>\n",
        html_escape(r.name), r.auc, r.log_loss, r.entropy, r.calibration, r.samples_per_second,
        r.bytes);
  }
  out << "</table>\n";
  out << svg_chart("ROC curves (test)", "false-positive rate", "true-positive rate", roc, 1.0, 1.0,
                   true);
  out << svg_chart("Reliability (10 equal-count bins)", "mean predicted pCTR", "observed CTR",
                   reliability, max_rate * 1.05 + 1e-9, max_rate * 1.05 + 1e-9, true);
  out << svg_chart("Validation log-loss per epoch", "epoch", "log-loss", curves,
                   static_cast<double>(max_epochs), max_loss * 1.05 + 1e-9, false);
  out << "</body></html>\n";
}

std::vector<Index> parse_list(const std::string& text) {
  std::vector<Index> values;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) values.push_back(std::stol(text.substr(start, end - start)));
    start = end + 1;
  }
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"CTR models on iPinYou logs: LR, FM, Wide&Deep, DeepFM, PNN"};
  std::string data_dir, libfm_dir, out_dir = "ipinyou_ctr_out",
                                   models = "lr,fm,widedeep,deepfm,pnn",
                                   hidden_text = "400,400,400";
  Index impressions = 200000, epochs = 3, dim = 16, threads = 0;
  std::uint64_t seed = 1;
  bool quiet = false;
  app.add_option("--data", data_dir,
                 "make-ipinyou-data campaign directory (train.log.txt, test.log.txt)");
  app.add_option("--libfm", libfm_dir,
                 "libFM directory (featindex.fm.txt, train.fm.txt, test.fm.txt)");
  app.add_option("--impressions", impressions, "synthetic impressions when no data is given")
      ->check(CLI::Range(2000, 100000000));
  app.add_option("--epochs", epochs, "most epochs (early stopping on the validation rows)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--models", models, "comma-separated: lr, fm, widedeep, deepfm, pnn");
  app.add_option("--hidden", hidden_text, "hidden layer widths of the deep models");
  app.add_option("--dim", dim, "embedding dimension")->check(CLI::Range(1, 1024));
  app.add_option("--threads", threads, "threads (0 = all cores)");
  app.add_option("--seed", seed, "seed of the data generator and the models");
  app.add_option("--out", out_dir, "output directory");
  app.add_flag("--quiet", quiet, "no progress output");
  CLI11_PARSE(app, argc, argv);
  try {
    tailor_examples::ScratchDir scratch;
    const Dataset d = load(data_dir, libfm_dir, impressions, seed, scratch, quiet);
    fs::create_directories(out_dir);
    // Validation: the last 10% of the training rows (logs are in time order).
    const Index n = d.train.num_rows();
    const Index n_valid = std::max<Index>(1, n / 10);
    std::vector<Index> fit_rows(static_cast<std::size_t>(n - n_valid)),
        valid_rows(static_cast<std::size_t>(n_valid));
    std::iota(fit_rows.begin(), fit_rows.end(), Index{0});
    std::iota(valid_rows.begin(), valid_rows.end(), n - n_valid);
    auto pick = [&](const std::vector<Index>& rows) {
      Eigen::VectorXf click(static_cast<Index>(rows.size()));
      for (std::size_t r = 0; r < rows.size(); ++r)
        click[static_cast<Index>(r)] = d.train_click[rows[r]];
      return ctr::CtrData(d.space, d.train.select(rows), std::move(click));
    };
    const ctr::CtrData train = pick(fit_rows);
    const ctr::CtrData valid = pick(valid_rows);
    const ctr::CtrData test(d.space, d.test, d.test_click);
    if (!quiet) {
      fmt::print(
          "{}\n{} training rows ({} clicks), {} validation, {} test ({} clicks); {} fields, {} "
          "table rows\n\n",
          d.description, train.num_rows(), train.num_clicks(), valid.num_rows(), test.num_rows(),
          test.num_clicks(), d.space.num_fields(), d.space.num_rows());
    }
    const std::vector<Index> hidden = parse_list(hidden_text);
    const ctr::TrainingParams training{
        .epochs = epochs,
        .batch_size = 256,
        .optimizer = {.learning_rate = 1e-3f, .l2 = 1e-4f},
        .seed = seed,
        .num_threads = threads,
        .patience = 1,
        .progress =
            quiet ? tailor::ProgressCallback{} : tailor::ProgressCallback{tailor::ProgressBar{}}};
    std::vector<Result> results;
    const Eigen::VectorXd y = test.click().cast<double>();
    auto record = [&](const std::string& name, const auto& model, double seconds) {
      Result r;
      r.name = name;
      r.p = model.predict(test, threads).template cast<double>();
      r.auc = tailor::metrics::roc_auc(y, r.p);
      r.log_loss = tailor::metrics::log_loss(y, r.p);
      r.entropy = tailor::metrics::normalized_entropy(y, r.p);
      r.calibration = tailor::metrics::calibration_ratio(y, r.p);
      r.samples_per_second =
          seconds > 0
              ? static_cast<double>(train.num_rows()) *
                    static_cast<double>(std::max<std::size_t>(1, model.history().epochs.size())) /
                    seconds
              : 0.0;
      r.bytes = model.memory_bytes();
      for (const auto& e : model.history().epochs)
        r.validation_log_loss.push_back(e.validation_log_loss);
      std::ofstream file(fs::path(out_dir) / (name + ".tailor"), std::ios::binary);
      tailor::save(model, file);
      if (d.test_price.size() == test.num_rows()) {
        std::ofstream theta(fs::path(out_dir) / (name + ".theta.txt"));
        for (Index i = 0; i < test.num_rows(); ++i) {
          theta << fmt::format("{} {} {:.8g}\n", static_cast<int>(test.click()[i]),
                               static_cast<long>(d.test_price[i]), r.p[i]);
        }
      }
      results.push_back(std::move(r));
    };
    auto timed_fit = [&](const auto& estimator) {
      const auto start = std::chrono::steady_clock::now();
      auto model = estimator.fit(train, {.validation = &valid});
      return std::make_pair(std::move(model), tailor_examples::seconds_since(start));
    };
    for (const auto& name : [&] {
           std::vector<std::string> names;
           std::size_t start = 0;
           while (start < models.size()) {
             std::size_t end = models.find(',', start);
             if (end == std::string::npos) end = models.size();
             if (end > start) names.push_back(models.substr(start, end - start));
             start = end + 1;
           }
           return names;
         }()) {
      if (!quiet) fmt::print(stderr, "training {} ...\n", name);
      if (name == "lr") {
        // The exact L2-penalised optimum (strong penalty: most fields are high-cardinality ids).
        auto [model, s] =
            timed_fit(ctr::SparseLogisticRegression({.solver = ctr::LogisticSolver::lbfgs,
                                                     .training = {.num_threads = threads},
                                                     .lbfgs = {.l2 = 100.0}}));
        record("lr", model, s);
      } else if (name == "fm") {
        auto [model, s] =
            timed_fit(ctr::FactorizationMachine({.embedding_dim = dim, .training = training}));
        record("fm", model, s);
      } else if (name == "widedeep") {
        auto [model, s] = timed_fit(
            ctr::WideDeep({.embedding_dim = dim, .hidden = hidden, .training = training}));
        record("widedeep", model, s);
      } else if (name == "deepfm") {
        auto [model, s] =
            timed_fit(ctr::DeepFM({.embedding_dim = dim, .hidden = hidden, .training = training}));
        record("deepfm", model, s);
      } else if (name == "pnn") {
        auto [model, s] =
            timed_fit(ctr::PNN({.embedding_dim = dim, .hidden = hidden, .training = training}));
        record("pnn", model, s);
      } else {
        fmt::print(stderr, "ipinyou_ctr: unknown model '{}' (lr, fm, widedeep, deepfm, pnn)\n",
                   name);
        return 2;
      }
    }
    std::optional<double> oracle;
    if (d.test_true_pctr.size() == test.num_rows())
      oracle = tailor::metrics::roc_auc(y, d.test_true_pctr);
    std::ofstream csv(fs::path(out_dir) / "ctr_metrics.csv");
    csv << "model,test_auc,log_loss,normalized_entropy,calibration_ratio,train_samples_per_s,model_"
           "bytes\n";
    if (!quiet) {
      fmt::print("{:<12} {:>9} {:>9} {:>8} {:>7} {:>14} {:>12}\n", "model", "test AUC", "log-loss",
                 "NE", "Σp/Σy", "train rows/s", "bytes");
      if (oracle) fmt::print("{:<12} {:>9.4f}\n", "oracle", *oracle);
    }
    for (const auto& r : results) {
      csv << fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6f},{:.0f},{}\n", r.name, r.auc, r.log_loss,
                         r.entropy, r.calibration, r.samples_per_second, r.bytes);
      if (!quiet) {
        fmt::print("{:<12} {:>9.4f} {:>9.5f} {:>8.4f} {:>7.3f} {:>14.0f} {:>12}\n", r.name, r.auc,
                   r.log_loss, r.entropy, r.calibration, r.samples_per_second, r.bytes);
      }
    }
    write_report(fs::path(out_dir) / "ctr_report.html", d, results, oracle);
    if (!quiet)
      fmt::print(
          "\nwrote {}/ctr_report.html, ctr_metrics.csv, <model>.theta.txt and <model>.tailor\n",
          out_dir);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "ipinyou_ctr: {}\n", e.what());
    return 1;
  }
}
