// dtr_simulation — dynamic treatment regimes on two simulated designs with exact truths
// (datasets/dtr_designs.hpp):
//   A  one decision; Y = 1 + X + β₂X² + A(0.5 − X) + ε, P(A = 1 | X) = expit(X). With β₂ ≠ 0 the
//      linear Q-function's main effect is wrong and Q-learning's rule is biased (its contrast
//      slope has the wrong sign at β₂ = 1); A-learning, with the propensity model right, is not.
//   B  two decisions, the second depending on the first; ψ21 = 0 makes both Q-functions linear,
//      ψ21 = 1 makes stage 1 nonlinear (forest Q-functions then).
// For each design: the true optimal value, Q- and A-learning coefficients with 95% intervals,
// the exact value of every learned regime (closed form or quadrature), and its IPW and AIPW
// estimates with intervals on an independent evaluation sample. Writes dtr_report.html (the
// tables and the learned decision rules against the truth) and dtr_results.csv.
// Usage: dtr_simulation [--n 20000] [--beta2 1] [--psi21 0] [--seed 1] [--trees 300]
//                       [--threads 0] [--out dtr_simulation_out] [--quiet]
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/example_support.hpp"
#include "tailor/datasets/dtr_designs.hpp"
#include "tailor/dtr.hpp"
#include "tailor/learn/regression_forest.hpp"

namespace fs = std::filesystem;
namespace dtr = tailor::dtr;
namespace datasets = tailor::datasets;
using tailor::Estimate;
using tailor::Index;
using tailor::Matrix;
using tailor::Vector;
using tailor_examples::html_escape;
using tailor_examples::svg_chart;
using Series = std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>>;

namespace {

std::string interval(const Estimate& e) {
  const auto ci = e.confidence_interval(0.95);
  return fmt::format("{:8.4f} [{:.4f}, {:.4f}]", e.value, ci.lower, ci.upper);
}

struct RegimeRow {
  std::string design, name;
  double exact = 0;
  dtr::RegimeValue estimate;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Dynamic treatment regimes on simulated designs with exact truths"};
  Index n = 20000, trees = 300, threads = 0;
  double beta2 = 1.0, psi21 = 0.0;
  std::uint64_t seed = 1;
  std::string out_dir = "dtr_simulation_out";
  bool quiet = false;
  app.add_option("--n", n, "units per sample (training and evaluation)")
      ->check(CLI::Range(200, 100000000));
  app.add_option("--beta2", beta2, "design A's quadratic main effect");
  app.add_option("--psi21", psi21, "design B's stage-2 contrast slope in X2");
  app.add_option("--seed", seed, "seed of the draws");
  app.add_option("--trees", trees, "trees of the forest Q-functions (design B)")
      ->check(CLI::Range(10, 100000));
  app.add_option("--threads", threads, "threads of the forests (0 = all cores)");
  app.add_option("--out", out_dir, "output directory");
  app.add_flag("--quiet", quiet, "no table on stdout");
  CLI11_PARSE(app, argc, argv);
  try {
    fs::create_directories(out_dir);
    std::string text;
    std::vector<RegimeRow> rows;
    std::string charts;

    // Design A.
    {
      const auto train = datasets::dtr_design_a(n, beta2, seed);
      const auto test = datasets::dtr_design_a(n, beta2, seed + 1000);
      const dtr::LinearQModel q = dtr::LinearQLearning().fit(train.data);
      const dtr::ALearningModel a = dtr::ALearning().fit(train.data);
      const double v_star = datasets::dtr_design_a_optimal_value(beta2);
      text += fmt::format("Design A (n = {}, β₂ = {}): optimal rule 1{{X < 0.5}}, V* = {:.6f}\n", n,
                          beta2, v_star);
      text += fmt::format("  Q-learning contrast (1, X): {}  {}\n",
                          interval(q.stage(0).coefficient(2)), interval(q.stage(0).coefficient(3)));
      text += fmt::format("  A-learning contrast (1, X): {}  {}\n", interval(a.contrast(0, 0)),
                          interval(a.contrast(0, 1)));
      text += "  truth                     :   0.5000                      -1.0000\n";
      rows.push_back({"A", "Q-learning",
                      datasets::dtr_design_a_linear_rule_value(beta2, q.stage(0).coefficients()[2],
                                                               q.stage(0).coefficients()[3]),
                      dtr::evaluate_regime(test.data, q.regime())});
      rows.push_back({"A", "A-learning",
                      datasets::dtr_design_a_linear_rule_value(beta2, a.contrast(0, 0).value,
                                                               a.contrast(0, 1).value),
                      dtr::evaluate_regime(test.data, a.regime())});
      rows.push_back({"A", "treat all", datasets::dtr_design_a_linear_rule_value(beta2, 1.0, 0.0),
                      dtr::evaluate_regime(test.data, dtr::Regime::constant(1, 1))});
      rows.push_back({"A", "optimal (truth)", v_star,
                      dtr::evaluate_regime(test.data, dtr::Regime({[](const Matrix& h) {
                                             return (h.col(0).array() < 0.5).cast<int>().eval();
                                           }}))});
      std::vector<std::pair<double, double>> truth, qb, ab;
      for (int i = 0; i <= 60; ++i) {
        const double x = -3.0 + 0.1 * i;
        truth.emplace_back(x, 0.5 - x);
        qb.emplace_back(x, q.stage(0).coefficients()[2] + q.stage(0).coefficients()[3] * x);
        ab.emplace_back(x, a.contrast(0, 0).value + a.contrast(0, 1).value * x);
      }
      // svg_chart plots from 0: shift x by +3 and the contrast by +3.5 (labels say so).
      Series blips;
      for (auto [name, pts] : {std::pair{"truth 0.5 − x", truth}, std::pair{"Q-learning", qb},
                               std::pair{"A-learning", ab}}) {
        for (auto& [x, y] : pts) {
          x += 3.0;
          y += 3.5;
        }
        blips.emplace_back(name, pts);
      }
      charts += svg_chart("Design A: treatment contrast by x (x + 3 on the axis, contrast + 3.5)",
                          "x + 3", "contrast + 3.5", blips, 6.0, 7.0, false);
    }

    // Design B.
    {
      const datasets::DesignBParams psi{.psi20 = 0.5, .psi21 = psi21, .psi22 = -1.0};
      const auto train = datasets::dtr_design_b(n, psi, seed + 1);
      const auto test = datasets::dtr_design_b(n, psi, seed + 2000);
      const std::vector<dtr::StageDesign> design = {
          dtr::StageDesign{}, dtr::StageDesign{.contrast_columns = std::vector<Index>{1, 2}}};
      const dtr::LinearQModel q = dtr::LinearQLearning({.stages = design}).fit(train.data);
      const dtr::ALearningModel a = dtr::ALearning({.stages = design}).fit(train.data);
      const dtr::QLearning<tailor::learn::RegressionForest> forest_learner(
          {.learner = tailor::learn::RegressionForest(
               {.num_trees = trees, .seed = seed, .num_threads = threads})});
      const auto forest = forest_learner.fit(train.data);
      const dtr::Regime optimal = datasets::dtr_design_b_optimal_regime(psi);
      const double v_star = datasets::dtr_design_b_value(optimal, psi);
      text +=
          fmt::format("\nDesign B (n = {}, ψ2 = (0.5, {}, −1)): V* = {:.6f}\n", n, psi21, v_star);
      const char* names2[] = {"1", "X1", "X2", "A1", "A1·X1", "A2", "A2·X2", "A2·A1"};
      text += "  Q-learning stage 2:";
      for (Index j = 0; j < 8; ++j) {
        text += fmt::format(" {}={:.3f}±{:.3f}", names2[j], q.stage(1).coefficients()[j],
                            1.96 * q.stage(1).coefficient(j).std_error);
      }
      const char* names1[] = {"1", "X1", "A1", "A1·X1"};
      text += "\n  Q-learning stage 1:";
      for (Index j = 0; j < 4; ++j) {
        text += fmt::format(" {}={:.3f}±{:.3f}", names1[j], q.stage(0).coefficients()[j],
                            1.96 * q.stage(0).coefficient(j).std_error);
      }
      text += fmt::format(
          "\n  A-learning contrasts: stage 2 (1, X2, A1) = ({:.3f}, {:.3f}, {:.3f}), "
          "stage 1 (1, X1) = ({:.3f}, {:.3f})\n",
          a.contrast(1, 0).value, a.contrast(1, 1).value, a.contrast(1, 2).value,
          a.contrast(0, 0).value, a.contrast(0, 1).value);
      if (psi21 == 0.0) {
        text +=
            "  truth: stage 2 = (1, 1, 0.5, 0.25, −0.5, 0.5, 0, −1), stage 1 = (1.5, 1.25, 0, "
            "−0.5)\n";
      }
      const dtr::Regime fixed(
          {[](const Matrix& h) { return (h.col(0).array() < 0.0).cast<int>().eval(); },
           [](const Matrix& h) { return (h.col(1).array() > 0.0).cast<int>().eval(); }});
      rows.push_back({"B", "linear Q-learning", datasets::dtr_design_b_value(q.regime(), psi),
                      dtr::evaluate_regime(test.data, q.regime())});
      rows.push_back({"B", "A-learning", datasets::dtr_design_b_value(a.regime(), psi),
                      dtr::evaluate_regime(test.data, a.regime())});
      rows.push_back({"B", "forest Q-learning",
                      datasets::dtr_design_b_value(forest.regime(), psi, 400),
                      dtr::evaluate_regime(test.data, forest.regime())});
      rows.push_back({"B", "fixed (1{X1<0}, 1{X2>0})", datasets::dtr_design_b_value(fixed, psi),
                      dtr::evaluate_regime(test.data, fixed)});
      rows.push_back({"B", "optimal (truth)", v_star, dtr::evaluate_regime(test.data, optimal)});
      // Stage-1 rule: share treated by X1 for each learner against the truth.
      Series rule;
      Matrix grid(121, 1);
      for (Index i = 0; i < 121; ++i) grid(i, 0) = -3.0 + 0.05 * static_cast<double>(i);
      for (const auto& [name, regime] : {std::pair<std::string, dtr::Regime>{"truth", optimal},
                                         {"linear Q", q.regime()},
                                         {"A-learning", a.regime()},
                                         {"forest Q", forest.regime()}}) {
        const Eigen::VectorXi d = regime.actions(0, grid);
        std::vector<std::pair<double, double>> pts;
        for (Index i = 0; i < 121; ++i)
          pts.emplace_back(grid(i, 0) + 3.0, d[i] + 0.02 * static_cast<double>(rule.size()));
        rule.emplace_back(name, pts);
      }
      charts += svg_chart("Design B: stage-1 decision by X1 (X1 + 3 on the axis; 1 = treat)",
                          "X1 + 3", "action", rule, 6.0, 1.2, false);
    }

    std::string table = fmt::format("\n{:<6} {:<26} {:>11} {:>34} {:>34}\n", "design", "regime",
                                    "exact value", "IPW [95% CI]", "AIPW [95% CI]");
    std::ofstream csv(fs::path(out_dir) / "dtr_results.csv");
    csv << "design,regime,exact_value,ipw,ipw_se,aipw,aipw_se\n";
    for (const auto& r : rows) {
      table += fmt::format("{:<6} {:<26} {:>11.4f} {:>34} {:>34}\n", r.design, r.name, r.exact,
                           interval(r.estimate.ipw), interval(r.estimate.aipw));
      csv << fmt::format("{},\"{}\",{:.6f},{:.6f},{:.6f},{:.6f},{:.6f}\n", r.design, r.name,
                         r.exact, r.estimate.ipw.value, r.estimate.ipw.std_error,
                         r.estimate.aipw.value, r.estimate.aipw.std_error);
    }
    text += table;
    text +=
        "(IPW/AIPW on an independent sample of the same size; exact values by closed form or "
        "quadrature)\n";
    if (!quiet) fmt::print("{}", text);
    std::ofstream html(fs::path(out_dir) / "dtr_report.html");
    html << "<!doctype html><html><head><meta charset='utf-8'><title>tailor: dynamic treatment "
            "regimes</title><style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;"
            "padding:1em}</style></head><body>\n<h1>Dynamic treatment regimes</h1>\n<pre>"
         << html_escape(text) << "</pre>\n"
         << charts << "</body></html>\n";
    if (!quiet) fmt::print("\nwrote {}/dtr_report.html and dtr_results.csv\n", out_dir);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "dtr_simulation: {}\n", e.what());
    return 1;
  }
}
