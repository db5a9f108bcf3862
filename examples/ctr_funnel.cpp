// ctr_funnel — conversion-rate models on an impression → click → conversion funnel: a naive CVR
// model trained on clicked rows, ESMM, ESCM² (IPS and DR), and the multi-task MMoE and PLE
// (tasks: click and click ∧ conversion), trained by tailor's one mini-batch trainer.
//
// Data: a generated funnel (datasets::CtrWorld: hidden factorization-machine logits, CVR weights
// correlated with CTR weights, the true pCTR and pCVR of EVERY impression), so the table also
// reports the bias of mean pCVR over all impressions against the truth — the sample selection
// bias that ESMM and ESCM² address — and the AUC of pCVR against conversions drawn from the true
// pCVR on all impressions (what a CVR model should rank, clicked or not).
// Prints per model: CTR AUC, CVR AUC on clicked test rows, CTCVR AUC, mean pCVR − mean true pCVR
// over all test impressions, "entire-space" CVR AUC, training samples/s; writes to --out:
//   funnel_metrics.csv     the table
//   funnel_report.html     the table, calibration of pCVR by pCTR decile (mean pCVR and mean
//                          true pCVR per decile), and the MMoE/PLE gate utilisation per task
// Usage: ctr_funnel [--rows 300000] [--test-rows 100000] [--fields 12] [--max-cardinality 20000]
//                   [--epochs 1] [--dim 16] [--hidden 128,64] [--models naive,esmm,ips,dr,mmoe,ple]
//                   [--seed 1] [--threads 0] [--out ctr_funnel_out] [--quiet]
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "common/example_support.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/random.hpp"
#include "tailor/ctr/multitask.hpp"
#include "tailor/datasets/ctr_worlds.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Conversion-rate models on a generated funnel: naive CVR, ESMM, ESCM², MMoE, PLE"};
  Index rows = 300000, test_rows = 100000, fields = 12, max_card = 20000, epochs = 1, dim = 16,
        threads = 0;
  std::uint64_t seed = 1;
  std::string hidden_text = "128,64", models_text = "naive,esmm,ips,dr,mmoe,ple",
              out = "ctr_funnel_out";
  bool quiet = false;
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
    datasets::CtrWorldSetup setup;
    setup.num_fields = fields;
    setup.max_cardinality = max_card;
    setup.click_rate = click_rate;
    setup.correlation = correlation;
    setup.seed = seed;
    setup.num_threads = threads;
    const datasets::CtrWorld world(setup);
    const auto train = world.sample(rows, 1);
    const auto test = world.sample(test_rows, 2);
    std::vector<std::string> names;
    for (Index f = 0; f < fields; ++f) names.push_back(fmt::format("f{}", f));
    const auto space = ctr::integer_space(names, world.cardinalities());
    const auto train_data = ctr::MultiTaskData::funnel(space, ctr::encode_ids(space, train.ids),
                                                       train.click, train.conversion);
    const auto test_x = ctr::encode_ids(space, test.ids);
    // Entire-space conversions: drawn from the true pCVR for every test impression.
    Eigen::VectorXd converted_all(test_rows);
    tailor::Rng rng(seed, 77);
    for (Index i = 0; i < test_rows; ++i) converted_all[i] = rng.uniform() < test.p_conversion[i];
    const Eigen::VectorXd click = test.click.cast<double>();
    const Eigen::VectorXd conversion = test.conversion.cast<double>();
    const double true_pcvr = test.p_conversion.mean();
    // Deciles of the true pCTR, for the calibration chart.
    std::vector<Index> order(static_cast<std::size_t>(test_rows));
    std::iota(order.begin(), order.end(), Index{0});
    std::sort(order.begin(), order.end(),
              [&](Index a, Index b) { return test.p_click[a] < test.p_click[b]; });
    auto by_decile = [&](const Eigen::VectorXd& v) {
      std::vector<std::pair<double, double>> points;
      for (Index d = 0; d < 10; ++d) {
        const Index lo = d * test_rows / 10, hi = (d + 1) * test_rows / 10;
        double sum = 0;
        for (Index k = lo; k < hi; ++k) sum += v[order[static_cast<std::size_t>(k)]];
        points.emplace_back(static_cast<double>(d) + 0.5, sum / static_cast<double>(hi - lo));
      }
      return points;
    };
    if (!quiet) {
      fmt::print(
          "world: {} fields, {} train / {} test impressions; CTR {:.4f}, CVR among clicks "
          "{:.4f}, mean true pCVR over all impressions {:.4f}\n",
          fields, rows, test_rows, train.click.mean(), train.conversion.sum() / train.click.sum(),
          true_pcvr);
    }
    ctr::TrainingParams training{
        .epochs = epochs, .batch_size = batch, .seed = seed, .num_threads = threads};
    std::vector<Row> table;
    Row oracle;
    oracle.model = "oracle (true pCTR, pCVR)";
    oracle.auc_ctr = auc(click, test.p_click);
    std::vector<double> cy, cp;
    for (Index i = 0; i < test_rows; ++i) {
      if (click[i] == 1.0) {
        cy.push_back(conversion[i]);
        cp.push_back(test.p_conversion[i]);
      }
    }
    auto clicked_auc = [&](const Eigen::VectorXd& p) {
      std::vector<double> s;
      for (Index i = 0; i < test_rows; ++i)
        if (click[i] == 1.0) s.push_back(p[i]);
      return auc(Eigen::Map<const Eigen::VectorXd>(cy.data(), static_cast<Index>(cy.size())),
                 Eigen::Map<const Eigen::VectorXd>(s.data(), static_cast<Index>(s.size())));
    };
    oracle.auc_cvr_clicked = clicked_auc(test.p_conversion);
    oracle.auc_ctcvr = auc(conversion, test.p_click.cwiseProduct(test.p_conversion));
    oracle.auc_cvr_all = auc(converted_all, test.p_conversion);
    oracle.calibration = by_decile(test.p_conversion);
    table.push_back(oracle);

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
      row.auc_ctr = auc(click, pctr);
      row.auc_cvr_clicked = clicked_auc(pcvr);
      row.auc_ctcvr = auc(conversion, pctcvr);
      row.pcvr_bias = pcvr.mean() - true_pcvr;
      row.auc_cvr_all = auc(converted_all, pcvr);
      row.calibration = by_decile(pcvr);
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
