// prop99_synthetic_control — California's Proposition 99 (1988 tobacco tax) by difference in
// differences, synthetic control (exact QP, and synthdid's early-stopped mode), synthetic DiD,
// with in-space placebos, an in-time placebo and leave-one-out (Abadie, Diamond & Hainmueller
// 2010; Arkhangelsky et al. 2021).
//
// Data: --data FILE, a long `State;Year;PacksPerCapita;treated` table (default
// ../shared/data/prop99/california_prop99.csv beside the checkout, or TAILOR_DATA_DIR/prop99);
// --predictors FILE adds the V-weighted fit on ADH's predictors (`State;<k predictor columns>`,
// e.g. prop99/adh_predictors.csv). Prints the estimates, the donor weights, the gap by year, the
// placebo ranks with p-values, the in-time placebo and leave-one-out range; writes
// prop99_report.html (gap and placebo plots) and prop99_gaps.csv to --out.
// Usage: prop99_synthetic_control [--data FILE] [--predictors FILE] [--in-time-year 1980]
//                                 [--threads 0] [--out prop99_out] [--quiet]
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "common/example_support.hpp"
#include "tailor/io/panel_csv.hpp"
#include "tailor/pricing.hpp"

namespace fs = std::filesystem;
namespace pricing = tailor::pricing;
using tailor::Index;
using tailor::Matrix;
using tailor_examples::html_escape;
using tailor_examples::svg_chart;
using Series = std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>>;

namespace {

fs::path default_data() {
  if (const char* root = std::getenv("TAILOR_DATA_DIR")) {
    return fs::path(root) / "prop99" / "california_prop99.csv";
  }
  return fs::path(TAILOR_EXAMPLE_DATA_DIR) / ".." / ".." / ".." / "shared" / "data" / "prop99" /
         "california_prop99.csv";
}

std::string weights_text(const pricing::Panel& panel, const pricing::SyntheticControlModel& m) {
  std::vector<std::pair<double, std::string>> w;
  for (std::size_t j = 0; j < m.donors.size(); ++j) {
    if (m.weights[static_cast<Index>(j)] > 1e-6) {
      w.emplace_back(m.weights[static_cast<Index>(j)],
                     panel.units()[static_cast<std::size_t>(m.donors[j])]);
    }
  }
  std::sort(w.rbegin(), w.rend());
  std::string out;
  for (const auto& [weight, name] : w) out += fmt::format(" {} {:.4f}", name, weight);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Proposition 99: synthetic control, synthetic DiD and placebo inference"};
  std::string data, predictors_file, out_dir = "prop99_out";
  double in_time_year = 1980;
  Index threads = 0;
  bool quiet = false;
  app.add_option("--data", data, "long table State;Year;PacksPerCapita;treated");
  app.add_option("--predictors", predictors_file,
                 "State;<predictors> table for the V-weighted fit");
  app.add_option("--in-time-year", in_time_year, "fake treatment year of the in-time placebo");
  app.add_option("--threads", threads, "threads of the placebo loops (0 = all cores)");
  app.add_option("--out", out_dir, "output directory");
  app.add_flag("--quiet", quiet, "no output on stdout");
  CLI11_PARSE(app, argc, argv);
  try {
    const fs::path file = data.empty() ? default_data() : fs::path(data);
    const pricing::Panel panel = tailor::io::read_panel_csv(file);
    fs::create_directories(out_dir);
    const pricing::SyntheticControl sc({.num_threads = threads});
    const pricing::PlaceboTest placebo = pricing::placebo_test(panel, sc);
    const pricing::SyntheticControlModel& m = placebo.treated;
    const auto sdid = pricing::synthetic_did(panel);
    const auto synthdid_sc =
        pricing::synthetic_did(panel, pricing::SyntheticDidMode::synthetic_control);
    const double did = pricing::difference_in_differences(panel);
    const auto& periods = panel.periods();
    const auto year_index = static_cast<Index>(
        std::lower_bound(periods.begin(), periods.end(), in_time_year) - periods.begin());
    const auto early = pricing::in_time_placebo(panel, year_index, sc);
    const auto loo = pricing::leave_one_out(panel, sc);
    double loo_min = m.att, loo_max = m.att;
    for (const auto& l : loo) {
      loo_min = std::min(loo_min, l.att);
      loo_max = std::max(loo_max, l.att);
    }
    std::string text = fmt::format(
        "{}: {} units x {} periods, {} treated from {}\n\n"
        "difference in differences        {:9.4f}\n"
        "synthetic control (exact QP)     {:9.4f}   pre-RMSPE {:.3f}, KKT violation {:.1e}\n"
        "synthetic control (synthdid)     {:9.4f}\n"
        "synthetic DiD                    {:9.4f}\n\n"
        "donor weights (exact QP):{}\n",
        file.filename().string(), panel.num_units(), panel.num_periods(),
        panel.units()[static_cast<std::size_t>(m.unit)], periods[static_cast<std::size_t>(m.start)],
        did, m.att, m.pre_rmspe, m.kkt_violation, synthdid_sc.tau, sdid.tau,
        weights_text(panel, m));
    text += fmt::format("in-space placebos (post/pre MSPE ratio): rank {} of {}, p = {:.4f}\n",
                        placebo.rank, placebo.compared, placebo.p_value);
    for (const double cutoff : {20.0, 5.0, 2.0}) {
      const auto cut = pricing::placebo_test(panel, sc, cutoff);
      text += fmt::format(
          "  placebos with pre-MSPE <= {:>2} x California's: rank {} of {}, p = {:.4f}\n", cutoff,
          cut.rank, cut.compared, cut.p_value);
    }
    text += fmt::format("in-time placebo ({}): mean gap {:.3f} over {}-{}\n",
                        periods[static_cast<std::size_t>(year_index)], early.att,
                        periods[static_cast<std::size_t>(year_index)],
                        periods[static_cast<std::size_t>(m.start) - 1]);
    text += fmt::format("leave-one-out over {} donors: ATT from {:.3f} to {:.3f}\n", loo.size(),
                        loo_min, loo_max);
    if (!predictors_file.empty()) {
      const auto predictors = tailor::io::read_unit_table(predictors_file, panel);
      const std::vector<std::string>& columns = predictors.names;
      const Matrix& x = predictors.values;
      const pricing::SyntheticControl with_v(
          {.num_threads = threads, .predictors = pricing::Predictors{.values = x}});
      const auto vp = pricing::placebo_test(panel, with_v);
      text += fmt::format(
          "\nwith {} predictors (V optimised): ATT {:.4f}, pre-RMSPE {:.3f}\n"
          "  donor weights:{}\n  placebo rank {} of {}, p = {:.4f}\n",
          columns.size(), vp.treated.att, vp.treated.pre_rmspe, weights_text(panel, vp.treated),
          vp.rank, vp.compared, vp.p_value);
    }
    text += "\nyear   California  synthetic        gap\n";
    std::ofstream csv(fs::path(out_dir) / "prop99_gaps.csv");
    csv << "year,treated,synthetic,gap\n";
    for (Index t = 0; t < panel.num_periods(); ++t) {
      const double treated = panel.outcome()(m.unit, t);
      text += fmt::format("{:.0f} {:11.2f} {:10.2f} {:10.2f}\n",
                          periods[static_cast<std::size_t>(t)], treated, m.synthetic[t], m.gap[t]);
      csv << fmt::format("{},{},{},{}\n", periods[static_cast<std::size_t>(t)], treated,
                         m.synthetic[t], m.gap[t]);
    }
    if (!quiet) fmt::print("{}", text);

    // Report: paths (shifted to start at 0 for the chart) and placebo gaps.
    const double y0 = periods.front();
    const double x_max = periods.back() - y0;
    Series paths = {{"California", {}}, {"synthetic California", {}}};
    double y_max = 0.0;
    for (Index t = 0; t < panel.num_periods(); ++t) {
      paths[0].second.emplace_back(periods[static_cast<std::size_t>(t)] - y0,
                                   panel.outcome()(m.unit, t));
      paths[1].second.emplace_back(periods[static_cast<std::size_t>(t)] - y0, m.synthetic[t]);
      y_max = std::max({y_max, panel.outcome()(m.unit, t), m.synthetic[t]});
    }
    Series gaps;  // gap + 60 so the chart's axis starts at 0
    gaps.emplace_back("California", std::vector<std::pair<double, double>>{});
    for (Index t = 0; t < panel.num_periods(); ++t) {
      gaps[0].second.emplace_back(periods[static_cast<std::size_t>(t)] - y0, m.gap[t] + 60.0);
    }
    for (const auto& p : placebo.placebos) {
      if (p.pre_rmspe * p.pre_rmspe > 5.0 * m.pre_rmspe * m.pre_rmspe) continue;
      std::vector<std::pair<double, double>> pts;
      for (Index t = 0; t < panel.num_periods(); ++t) {
        pts.emplace_back(periods[static_cast<std::size_t>(t)] - y0,
                         std::clamp(p.gap[t] + 60.0, 0.0, 120.0));
      }
      gaps.emplace_back(gaps.size() == 1 ? "placebos (pre-MSPE <= 5x)" : "", pts);
    }
    std::ofstream html(fs::path(out_dir) / "prop99_report.html");
    html << "<!doctype html><html><head><meta charset='utf-8'><title>tailor: Proposition 99"
            "</title><style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;"
            "padding:1em}</style></head><body>\n<h1>Proposition 99</h1>\n<pre>"
         << html_escape(text) << "</pre>\n"
         << svg_chart(fmt::format("Cigarette packs per capita ({} = 0)", y0), "years", "packs",
                      paths, x_max, y_max * 1.05, false)
         << svg_chart("Gaps: California (first line) and placebos (+60 on the axis)", "years",
                      "gap + 60", gaps, x_max, 120.0, false)
         << "</body></html>\n";
    if (!quiet) fmt::print("\nwrote {}/prop99_report.html and prop99_gaps.csv\n", out_dir);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "prop99_synthetic_control: {}\n", e.what());
    return 1;
  }
}
