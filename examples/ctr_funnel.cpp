// ctr_funnel — conversion-rate models on an impression → click → conversion funnel: a naive CVR
// model trained on clicked rows, ESMM, ESCM² (IPS and DR), and the multi-task MMoE and PLE
// (tasks: click and click ∧ conversion), trained by tailor's one mini-batch trainer.
//
// Data (one of):
//   default    a generated funnel (datasets::CtrWorld: hidden factorization-machine logits, CVR
//              weights correlated with CTR weights, the true pCTR and pCVR of EVERY impression),
//              so the table also reports the bias of mean pCVR over all impressions against the
//              truth — the sample selection bias that ESMM and ESCM² address — and the AUC of pCVR
//              against conversions drawn from the true pCVR on all impressions (what a CVR model
//              should rank, clicked or not);
//   --data TRAIN --test TEST   Ali-CCP-schema (click, purchase, id columns, D* numeric columns) or
//              AliExpress-schema (search_id, categorical_*, numerical_*, click, conversion) CSVs,
//              e.g. ../shared/data/ali_ccp_sample; numeric columns are bucketed by the Criteo
//              winners' rule (io/ctr_csv.hpp), the others are vocabulary fields fitted on TRAIN.
//              Real logs have no truth: the bias and entire-space columns are n/a.
// Prints per model: CTR AUC, CVR AUC on clicked test rows, CTCVR AUC, mean pCVR − mean true pCVR
// over all test impressions, "entire-space" CVR AUC, training samples/s; writes to --out:
//   funnel_metrics.csv     the table
//   funnel_report.html     the table, calibration of pCVR by pCTR decile (mean pCVR and mean
//                          true pCVR per decile), and the MMoE/PLE gate utilisation per task
// Usage: ctr_funnel [--data TRAIN.csv --test TEST.csv] [--rows 300000] [--test-rows 100000]
// [--fields 12] [--max-cardinality 20000]
//                   [--epochs 1] [--dim 16] [--hidden 128,64] [--models naive,esmm,ips,dr,mmoe,ple]
//                   [--seed 1] [--threads 0] [--out ctr_funnel_out] [--quiet]
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/example_support.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/random.hpp"
#include "tailor/ctr/multitask.hpp"
#include "tailor/datasets/ctr_worlds.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/io/ctr_csv.hpp"

namespace fs = std::filesystem;
namespace ctr = tailor::ctr;
namespace datasets = tailor::datasets;
using tailor::Index;
using tailor_examples::html_escape;
using tailor_examples::svg_chart;

namespace {

struct Row {
  std::string model;
  double auc_ctr = 0, auc_cvr_clicked = 0, auc_ctcvr = 0, pcvr_bias = 0, auc_cvr_all = 0;
  double samples_per_second = 0;
  std::vector<std::pair<double, double>> calibration;  // (decile, mean pCVR)
  std::string gates;
};

double auc(const Eigen::VectorXd& y, const Eigen::VectorXd& p) {
  return tailor::metrics::roc_auc(y, p);
}

std::vector<Index> parse_list(const std::string& text) {
  std::vector<Index> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(std::stoll(item));
  return out;
}

/// Training funnel, test rows and (for generated data) the truth of every test impression.
struct Funnel {
  std::optional<ctr::MultiTaskData> train;
  ctr::SparseFeatures test_x;
  Eigen::VectorXd click, conversion;
  bool has_truth = false;
  Eigen::VectorXd p_click, p_conversion;
  std::string description;
};

Funnel generated_funnel(const datasets::CtrWorldSetup& setup, Index rows, Index test_rows) {
  const datasets::CtrWorld world(setup);
  const auto train = world.sample(rows, 1);
  const auto test = world.sample(test_rows, 2);
  std::vector<std::string> names;
  for (Index f = 0; f < setup.num_fields; ++f) names.push_back(fmt::format("f{}", f));
  const auto space = ctr::integer_space(names, world.cardinalities());
  Funnel out;
  out.train.emplace(ctr::MultiTaskData::funnel(space, ctr::encode_ids(space, train.ids),
                                               train.click, train.conversion));
  out.test_x = ctr::encode_ids(space, test.ids);
  out.click = test.click.cast<double>();
  out.conversion = test.conversion.cast<double>();
  out.has_truth = true;
  out.p_click = test.p_click;
  out.p_conversion = test.p_conversion;
  out.description = fmt::format(
      "generated world: {} fields, {} train / {} test impressions; CTR {:.4f}, CVR among clicks "
      "{:.4f}, mean true pCVR over all impressions {:.4f}",
      setup.num_fields, rows, test_rows, train.click.mean(),
      train.conversion.sum() / train.click.sum(), test.p_conversion.mean());
  return out;
}

/// Ali-CCP or AliExpress-schema CSVs (see the file comment).
Funnel csv_funnel(const fs::path& train_path, const fs::path& test_path) {
  const tailor::io::Table train_raw = tailor::io::read_csv(train_path);
  const tailor::io::Table test_raw = tailor::io::read_csv(test_path);
  const auto& names = train_raw.column_names();
  const bool ali_ccp = std::find(names.begin(), names.end(), "purchase") != names.end();
  const std::string conversion = ali_ccp ? "purchase" : "conversion";
  tailor::io::CtrColumns columns;
  columns.label = "click";
  for (const auto& name : names) {
    if (name == "click" || name == conversion || name == "search_id") continue;
    const bool numeric = name.rfind("numerical_", 0) == 0 ||
                         (name.size() > 1 && name[0] == 'D' && std::isdigit(name[1]) != 0);
    if (numeric) {
      columns.numeric.push_back(name);
    } else {
      columns.categorical.push_back({.name = name});
    }
  }
  auto [space, train] = tailor::io::read_ctr_csv(train_path, columns);
  auto test = tailor::io::read_ctr_csv(test_path, space, columns);
  Funnel out;
  const Eigen::VectorXf train_conversion = train_raw.numeric(conversion).cast<float>();
  out.train.emplace(
      ctr::MultiTaskData::funnel(space, std::move(train.features), train.click, train_conversion));
  out.test_x = std::move(test.features);
  out.click = test.click.cast<double>();
  out.conversion = test_raw.numeric(conversion);
  out.description = fmt::format(
      "{} ({}-schema): {} fields, {} train / {} test impressions; CTR {:.4f}, CVR among clicks "
      "{:.4f}",
      train_path.string(), ali_ccp ? "Ali-CCP" : "AliExpress", space.num_fields(),
      out.train->num_rows(), out.test_x.num_rows(), train.click.mean(),
      train_conversion.sum() / train.click.sum());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Conversion-rate models on a generated funnel: naive CVR, ESMM, ESCM², MMoE, PLE"};
  Index rows = 300000, test_rows = 100000, fields = 12, max_card = 20000, epochs = 1, dim = 16,
        threads = 0;
  std::uint64_t seed = 1;
  std::string hidden_text = "128,64", models_text = "naive,esmm,ips,dr,mmoe,ple",
              out = "ctr_funnel_out";
  bool quiet = false;
  std::string data_path, test_path;
  app.add_option("--data", data_path, "training CSV (Ali-CCP or AliExpress schema)");
  app.add_option("--test", test_path, "test CSV of the same schema (with --data)");
  float lambda_c = 1.0f, floor = 0.01f;
  double click_rate = 0.03, correlation = 0.5;
  app.add_option("--click-rate", click_rate, "mean true pCTR of the world");
  app.add_option("--correlation", correlation, "correlation of the CTR and CVR weights");
  app.add_option("--counterfactual-weight", lambda_c, "ESCM²'s λ_c");
  app.add_option("--propensity-floor", floor, "ESCM²'s clipping of p̂CTR");
  Index batch = 4096;
  app.add_option("--batch", batch, "mini-batch size");
  app.add_option("--rows", rows, "training impressions");
  app.add_option("--test-rows", test_rows, "test impressions");
  app.add_option("--fields", fields, "categorical fields of the generated world");
  app.add_option("--max-cardinality", max_card, "ids of the largest field");
  app.add_option("--epochs", epochs, "training epochs");
  app.add_option("--dim", dim, "embedding dimension");
  app.add_option("--hidden", hidden_text, "tower widths (funnel models), comma-separated");
  app.add_option("--models", models_text, "naive,esmm,ips,dr,mmoe,ple");
  app.add_option("--seed", seed, "seed of the world and the training");
  app.add_option("--threads", threads, "threads (0 = all cores)");
  app.add_option("--out", out, "output directory");
  app.add_flag("--quiet", quiet, "print the table only");
  CLI11_PARSE(app, argc, argv);

  try {
    const auto hidden = parse_list(hidden_text);
    if (!data_path.empty() && test_path.empty()) {
      throw tailor::InvalidArgument("--data needs --test (a test CSV of the same schema)");
    }
    datasets::CtrWorldSetup setup;
    setup.num_fields = fields;
    setup.max_cardinality = max_card;
    setup.click_rate = click_rate;
    setup.correlation = correlation;
    setup.seed = seed;
    setup.num_threads = threads;
    const Funnel funnel = data_path.empty() ? generated_funnel(setup, rows, test_rows)
                                            : csv_funnel(data_path, test_path);
    const auto& train_data = *funnel.train;
    const auto& test_x = funnel.test_x;
    const Eigen::VectorXd& click = funnel.click;
    const Eigen::VectorXd& conversion = funnel.conversion;
    const Index n_test = test_x.num_rows();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    // Entire-space conversions: drawn from the true pCVR for every test impression.
    Eigen::VectorXd converted_all(n_test);
    tailor::Rng rng(seed, 77);
    if (funnel.has_truth) {
      for (Index i = 0; i < n_test; ++i) converted_all[i] = rng.uniform() < funnel.p_conversion[i];
    }
    const double true_pcvr = funnel.has_truth ? funnel.p_conversion.mean() : nan;
    // Calibration: mean pCVR per decile of the true pCTR (generated data) or of the model's own
    // pCTR (real logs).
    auto by_decile = [&](const Eigen::VectorXd& key, const Eigen::VectorXd& v) {
      std::vector<Index> order(static_cast<std::size_t>(n_test));
      std::iota(order.begin(), order.end(), Index{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](Index a, Index b) { return key[a] < key[b]; });
      std::vector<std::pair<double, double>> points;
      for (Index d = 0; d < 10; ++d) {
        const Index lo = d * n_test / 10, hi = (d + 1) * n_test / 10;
        if (hi <= lo) continue;
        double sum = 0;
        for (Index k = lo; k < hi; ++k) sum += v[order[static_cast<std::size_t>(k)]];
        points.emplace_back(static_cast<double>(d) + 0.5, sum / static_cast<double>(hi - lo));
      }
      return points;
    };
    if (!quiet) fmt::print("{}\n", funnel.description);
    ctr::TrainingParams training{
        .epochs = epochs, .batch_size = batch, .seed = seed, .num_threads = threads};
    std::vector<Row> table;
    std::vector<double> cy;
    for (Index i = 0; i < n_test; ++i)
      if (click[i] == 1.0) cy.push_back(conversion[i]);
    auto clicked_auc = [&](const Eigen::VectorXd& p) {
      std::vector<double> s;
      for (Index i = 0; i < n_test; ++i)
        if (click[i] == 1.0) s.push_back(p[i]);
      const Eigen::Map<const Eigen::VectorXd> y(cy.data(), static_cast<Index>(cy.size()));
      if (y.size() == 0 || y.minCoeff() == y.maxCoeff()) return nan;
      return auc(y, Eigen::Map<const Eigen::VectorXd>(s.data(), static_cast<Index>(s.size())));
    };
    auto safe_auc = [&](const Eigen::VectorXd& y, const Eigen::VectorXd& p) {
      return y.minCoeff() == y.maxCoeff() ? nan : auc(y, p);
    };
    if (funnel.has_truth) {
      Row oracle;
      oracle.model = "oracle (true pCTR, pCVR)";
      oracle.auc_ctr = auc(click, funnel.p_click);
      oracle.auc_cvr_clicked = clicked_auc(funnel.p_conversion);
      oracle.auc_ctcvr = auc(conversion, funnel.p_click.cwiseProduct(funnel.p_conversion));
      oracle.auc_cvr_all = auc(converted_all, funnel.p_conversion);
      oracle.calibration = by_decile(funnel.p_click, funnel.p_conversion);
      table.push_back(oracle);
    }

    std::stringstream models_in(models_text);
    for (std::string name; std::getline(models_in, name, ',');) {
      const auto start = std::chrono::steady_clock::now();
      Row row;
      row.model = name;
      Eigen::VectorXd pctr, pcvr, pctcvr;
      if (name == "mmoe" || name == "ple") {
        const ctr::MultiTaskModel model =
            name == "mmoe" ? ctr::Mmoe({.embedding_dim = dim, .training = training}).fit(train_data)
                           : ctr::Ple({.embedding_dim = dim, .training = training}).fit(train_data);
        row.samples_per_second = model.history().epochs.back().samples_per_second;
        const ctr::RowMatrixXf p = model.predict(test_x, threads);
        pctr = p.col(0).cast<double>();
        pctcvr = p.col(1).cast<double>();
        pcvr = pctcvr.cwiseQuotient(pctr.cwiseMax(1e-12)).cwiseMin(1.0);  // implied
        for (const auto& g : model.gate_report(test_x, threads)) {
          std::string u;
          for (double x : g.utilisation) u += fmt::format("{}{:.2f}", u.empty() ? "" : " ", x);
          row.gates +=
              fmt::format("level {} {}: utilisation [{}], normalised entropy {:.2f}{}; ", g.level,
                          g.branch, u, g.normalised_entropy, g.collapsed ? " (collapsed)" : "");
        }
      } else {
        ctr::FunnelModel model = [&] {
          const ctr::EsmmParams p{
              .embedding_dim = dim, .tower_hidden = hidden, .training = training};
          if (name == "naive") return ctr::ClickedCvr(p).fit(train_data);
          if (name == "esmm") return ctr::Esmm(p).fit(train_data);
          if (name == "ips" || name == "dr") {
            return ctr::Escm2({.embedding_dim = dim,
                               .tower_hidden = hidden,
                               .counterfactual = name == "ips" ? ctr::Counterfactual::ips
                                                               : ctr::Counterfactual::doubly_robust,
                               .counterfactual_weight = lambda_c,
                               .propensity_floor = floor,
                               .training = training})
                .fit(train_data);
          }
          throw tailor::InvalidArgument(fmt::format("--models: unknown model '{}'", name));
        }();
        row.samples_per_second = model.history().epochs.back().samples_per_second;
        const auto p = model.predict(test_x, threads);
        pctr = p.pctr.cast<double>();
        pcvr = p.pcvr.cast<double>();
        pctcvr = p.pctcvr.cast<double>();
        const auto d = model.diagnose(train_data, threads);
        if (d.collapsed) row.gates = "CVR tower collapsed (sd of pCVR or AUC)";
      }
      row.auc_ctr = safe_auc(click, pctr);
      row.auc_cvr_clicked = clicked_auc(pcvr);
      row.auc_ctcvr = safe_auc(conversion, pctcvr);
      row.pcvr_bias = pcvr.mean() - true_pcvr;
      row.auc_cvr_all = funnel.has_truth ? auc(converted_all, pcvr) : nan;
      row.calibration = by_decile(funnel.has_truth ? funnel.p_click : pctr, pcvr);
      if (!quiet) {
        fmt::print("{} trained in {:.1f} s\n", name,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      table.push_back(row);
    }

    fmt::print("{:<26} {:>8} {:>12} {:>10} {:>12} {:>12} {:>12}\n", "model", "CTR AUC",
               "CVR AUC clk", "CTCVR AUC", "pCVR bias", "CVR AUC all", "samples/s");
    for (const auto& r : table) {
      fmt::print("{:<26} {:>8.4f} {:>12.4f} {:>10.4f} {:>+12.4f} {:>12.4f} {:>12.0f}\n", r.model,
                 r.auc_ctr, r.auc_cvr_clicked, r.auc_ctcvr, r.pcvr_bias, r.auc_cvr_all,
                 r.samples_per_second);
      if (!r.gates.empty() && !quiet) fmt::print("    {}\n", r.gates);
    }

    fs::create_directories(out);
    std::ofstream csv(fs::path(out) / "funnel_metrics.csv");
    csv << "model,auc_ctr,auc_cvr_clicked,auc_ctcvr,pcvr_bias,auc_cvr_all,samples_per_second\n";
    for (const auto& r : table) {
      csv << fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.1f}\n", r.model, r.auc_ctr,
                         r.auc_cvr_clicked, r.auc_ctcvr, r.pcvr_bias, r.auc_cvr_all,
                         r.samples_per_second);
    }
    std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>> series;
    double y_max = 0;
    for (const auto& r : table) {
      series.emplace_back(r.model, r.calibration);
      for (const auto& [x, y] : r.calibration) y_max = std::max(y_max, y);
    }
    std::ofstream html(fs::path(out) / "funnel_report.html");
    html
        << "<!doctype html><meta charset=utf-8><title>ctr_funnel</title><h1>Conversion models on a "
           "generated funnel</h1><table border=1 cellpadding=4><tr><th>model<th>CTR AUC<th>CVR AUC "
           "(clicked)<th>CTCVR AUC<th>mean pCVR − truth<th>CVR AUC (all)<th>samples/s<th>notes";
    for (const auto& r : table) {
      html << fmt::format(
          "<tr><td>{}<td>{:.4f}<td>{:.4f}<td>{:.4f}<td>{:+.4f}<td>{:.4f}<td>{:.0f}<td>{}",
          html_escape(r.model), r.auc_ctr, r.auc_cvr_clicked, r.auc_ctcvr, r.pcvr_bias,
          r.auc_cvr_all, r.samples_per_second, html_escape(r.gates));
    }
    html << "</table><h2>Calibration of pCVR by true-pCTR decile</h2>"
         << svg_chart("mean pCVR per decile of the true pCTR", "decile", "mean pCVR", series, 10.0,
                      y_max * 1.1, false)
         << "\n";
    if (!quiet) fmt::print("wrote {}/funnel_metrics.csv and funnel_report.html\n", out);
  } catch (const std::exception& e) {
    fmt::print(stderr, "ctr_funnel: {}\n", e.what());
    return 1;
  }
  return 0;
}
