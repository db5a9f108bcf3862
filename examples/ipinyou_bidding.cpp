// ipinyou_bidding — budget-constrained real-time bidding replayed on iPinYou auctions: Mcpc,
// linear, ORTB1, ORTB2, RLB and SS-MDP under rlb-dp's protocol (episodes of N auctions, budget
// B = int(CPM_train · c0 · N) each, bids capped at 300 and at the budget left, ties win), with
// the bid landscape, the RLB dynamic program's time, replay throughput, budget pacing, and an
// HTML report.
//
// Data (one of):
//   default           the bundled synthetic iPinYou sample (examples/data/ipinyou,
//   make-ipinyou-data
//                     schema): a logistic regression trained on train.log.txt gives the pCTR of
//                     every impression; truth_impressions.csv holds the true CTR, so the table
//                     gains oracle rows (linear and RLB bidding on the true CTR)
//   --data DIR        the same from other make-ipinyou-data logs (truth file optional)
//   --campaign DIR    an rlb-dp campaign directory (DIR/info.json and DIR/test.theta.txt, e.g.
//                     ../shared/data/ipinyou_rlb/2997); DIR/train.theta.txt, when present, is the
//                     tuning stream. The published table beside DIR (or --published FILE) adds
//                     a "published" column and marks identical rows with "=".
//   --pctr FILE       the test auctions with another model's pCTR, e.g. ipinyou_ctr's
//                     <model>.theta.txt ("click market_price pCTR" lines)
// b0 (linear) and λ (ORTB) are tuned on the training stream (one sweep each); without one they
// are tuned on the test stream itself and the rows are marked "*" (optimistic). --b0 fixes b0
// (rlb-dp tuned b0 = 10 for campaign 2997).
// Writes to --out: bidding_report.html (landscape, fitted winning functions, spend curves by
// bidder, paced spend), bidding_results.csv (the table).
// Usage: ipinyou_bidding [--campaign DIR | --data DIR] [--pctr FILE] [--published FILE]
//                        [--c0 0.03125] [--episode 1000] [--b0 B] [--threads 0]
//                        [--out ipinyou_bidding_out] [--quiet]
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/example_support.hpp"
#include "tailor/bidding.hpp"
#include "tailor/ctr/linear.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/io/ipinyou.hpp"
#include "tailor/io/rlb_dp.hpp"

namespace fs = std::filesystem;
namespace bidding = tailor::bidding;
using tailor::Index;
using tailor_examples::html_escape;
using tailor_examples::svg_chart;
using Series = std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>>;

namespace {

struct Streams {
  bidding::CampaignInfo info;
  std::optional<bidding::AuctionLog> train;  ///< the tuning stream, when there is one
  std::optional<bidding::AuctionLog> test;
  std::optional<bidding::AuctionLog> train_truth, test_truth;  ///< true CTR (synthetic data)
  std::string campaign;  ///< rlb-dp campaign id (the directory name), for the published table
  std::string description;
};

std::vector<double> to_vector(const Eigen::VectorXf& v) {
  return {v.data(), v.data() + v.size()};
}

/// A make-ipinyou-data campaign: LR pCTR for train (in-sample) and test, prices, true CTR.
Streams load_logs(const fs::path& dir, Index threads, bool quiet) {
  Streams s;
  if (!quiet)
    fmt::print(stderr, "reading {} and training a logistic regression ...\n", dir.string());
  const auto logs = tailor::io::read_ipinyou(dir);
  const auto train_log = tailor::io::read_ipinyou_log(dir / "train.log.txt", logs.space);
  const tailor::ctr::CtrData train(logs.space, logs.train_features, logs.train_click);
  const auto model =
      tailor::ctr::SparseLogisticRegression({.solver = tailor::ctr::LogisticSolver::lbfgs,
                                             .training = {.num_threads = threads},
                                             .lbfgs = {.l2 = 100.0}})
          .fit(train);
  const auto make = [](const Eigen::VectorXf& click, const Eigen::VectorXf& price,
                       const std::vector<double>& pctr) {
    return bidding::AuctionLog::from_columns(
        click.cast<double>(), price.cast<double>(),
        Eigen::Map<const Eigen::VectorXd>(pctr.data(), static_cast<Index>(pctr.size())));
  };
  const auto train_p = to_vector(model.predict(logs.train_features, threads));
  const auto test_p = to_vector(model.predict(logs.test_features, threads));
  s.train = make(train_log.click, train_log.payprice, train_p);
  s.test = make(logs.test_click, logs.test_payprice, test_p);
  s.info = bidding::CampaignInfo::from_log(*s.train);
  const fs::path truth = dir / "truth_impressions.csv";
  if (fs::exists(truth)) {
    const auto table = tailor::io::read_csv(truth, {.string_columns = {"bidid"}});
    std::unordered_map<std::string, double> by_bid;
    const auto& ids = table.strings("bidid");
    const auto& p = table.numeric("pctr_true");
    for (std::size_t i = 0; i < ids.size(); ++i) by_bid[ids[i]] = p[static_cast<Index>(i)];
    const auto lookup =
        [&](const std::vector<std::string>& bids) -> std::optional<std::vector<double>> {
      std::vector<double> out;
      for (const auto& b : bids) {
        const auto it = by_bid.find(b);
        if (it == by_bid.end()) return std::nullopt;
        out.push_back(it->second);
      }
      return out;
    };
    const auto train_true = lookup(train_log.bidid);
    const auto test_true = lookup(logs.test_bidid);
    if (train_true && test_true) {
      s.train_truth = s.train->with_pctr(*train_true);
      s.test_truth = s.test->with_pctr(*test_true);
    }
  }
  s.description = fmt::format(
      "make-ipinyou-data logs in {}: {} training and {} test impressions, "
      "pCTR from an L2 logistic regression",
      dir.string(), s.train->size(), s.test->size());
  return s;
}

/// An rlb-dp campaign directory.
Streams load_campaign(const fs::path& dir) {
  Streams s;
  s.info = tailor::io::read_campaign_info(dir / "info.json");
  s.test = tailor::io::read_auction_log(dir / "test.theta.txt");
  if (fs::exists(dir / "train.theta.txt"))
    s.train = tailor::io::read_auction_log(dir / "train.theta.txt");
  s.campaign = fs::path(dir).lexically_normal().filename().string();
  if (s.campaign.empty())
    s.campaign = fs::path(dir).lexically_normal().parent_path().filename().string();
  s.description = fmt::format("rlb-dp campaign {} ({}): {} test auctions, {} training impressions",
                              s.campaign, dir.string(), s.test->size(), s.info.imp_train);
  return s;
}

struct Published {
  std::int64_t impressions = 0, clicks = 0, cost = 0;
};

/// Rows "ipinyou, camp=C, algo=A, N=1000, c0=0.03125 <tab> objective auction imp click cost ...".
std::map<std::string, Published> read_published(const fs::path& path, const std::string& campaign,
                                                Index episode, double c0) {
  std::map<std::string, Published> rows;
  std::ifstream in(path);
  std::string line;
  const std::string want_setting = fmt::format("camp={}, ", campaign);
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos || line.find(want_setting) == std::string::npos) continue;
    const std::string setting = line.substr(0, tab);
    const auto field = [&](const std::string& key) {
      const auto at = setting.find(key + "=");
      if (at == std::string::npos) return std::string();
      const auto end = setting.find(',', at);
      std::string v =
          setting.substr(at + key.size() + 1,
                         end == std::string::npos ? std::string::npos : end - at - key.size() - 1);
      while (!v.empty() && v.back() == ' ') v.pop_back();
      return v;
    };
    if (field("N") != std::to_string(episode) || std::fabs(std::stod(field("c0")) - c0) > 1e-12)
      continue;
    std::istringstream values(line.substr(tab + 1));
    long long objective = 0, auctions = 0;
    Published p;
    values >> objective >> auctions >> p.impressions >> p.clicks >> p.cost;
    if (values) rows[field("algo")] = p;
  }
  return rows;
}

struct Row {
  std::string name;
  std::string published_key;  ///< rlb-dp's algo name, or empty
  bidding::ReplayResult result;
  double seconds = 0;
  bool tuned_on_test = false;
  std::string parameter;
};

/// Average share of the episode budget spent by each position of the full episodes.
template <class B>
std::vector<std::pair<double, double>> spend_curve(const bidding::AuctionLog& log, const B& bidder,
                                                   const bidding::ReplayParams& params) {
  const Index n = params.episode_length;
  std::vector<double> spent(static_cast<std::size_t>(n) + 1, 0.0);
  const Index full = log.size() / n;
  if (full == 0 || params.budget == 0) return {};
  bidding::ReplayParams one = params;
  one.num_threads = 1;
  const auto recording = [&](double pctr, const bidding::AuctionState& s) {
    if (s.episode < full) {
      spent[static_cast<std::size_t>(n - s.auctions_left)] +=
          static_cast<double>(params.budget - s.budget_left);
    }
    return bidder(pctr, s);
  };
  const auto r = bidding::replay(log, recording, one);
  for (Index e = 0; e < full; ++e)
    spent[static_cast<std::size_t>(n)] +=
        static_cast<double>(r.episodes[static_cast<std::size_t>(e)].cost);
  std::vector<std::pair<double, double>> points;
  const Index step = std::max<Index>(1, n / 100);
  for (Index t = 0; t <= n; t += step) {
    points.emplace_back(static_cast<double>(t), spent[static_cast<std::size_t>(t)] /
                                                    static_cast<double>(full) /
                                                    static_cast<double>(params.budget));
  }
  return points;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Budget-constrained bidding replayed on iPinYou auctions"};
  std::string campaign_dir, data_dir, pctr_file, published_file, out_dir = "ipinyou_bidding_out";
  double c0 = 1.0 / 32.0;
  Index episode = 1000, threads = 0;
  std::optional<double> fixed_b0;
  bool quiet = false;
  app.add_option("--campaign", campaign_dir,
                 "rlb-dp campaign directory (info.json, test.theta.txt)");
  app.add_option("--data", data_dir,
                 "make-ipinyou-data campaign logs (train.log.txt, test.log.txt)");
  app.add_option("--pctr", pctr_file,
                 "test auctions with another model's pCTR (click price pCTR lines)");
  app.add_option("--published", published_file, "rlb-dp's published bid-performance table");
  app.add_option("--c0", c0, "budget per auction as a share of the training CPM")
      ->check(CLI::PositiveNumber);
  app.add_option("--episode", episode, "auctions per episode (N)")->check(CLI::Range(1, 100000));
  app.add_option("--b0", fixed_b0, "linear bidder's base bid (default: tuned)");
  app.add_option("--threads", threads, "threads (0 = all cores)");
  app.add_option("--out", out_dir, "output directory");
  app.add_flag("--quiet", quiet, "no table on stdout");
  CLI11_PARSE(app, argc, argv);
  try {
    Streams s = !campaign_dir.empty()
                    ? load_campaign(campaign_dir)
                    : load_logs(data_dir.empty() ? fs::path(TAILOR_EXAMPLE_DATA_DIR) / "ipinyou"
                                                 : fs::path(data_dir),
                                threads, quiet);
    if (!pctr_file.empty()) {
      s.test = tailor::io::read_auction_log(pctr_file);
      if (s.test_truth && s.test_truth->size() != s.test->size()) s.test_truth.reset();
      s.description += fmt::format("; test pCTR from {}", pctr_file);
    }
    if (published_file.empty() && !campaign_dir.empty()) {
      const fs::path guess = fs::path(campaign_dir).lexically_normal().parent_path() /
                             "published_bid_performance_N1000_c0_0.03125.txt";
      if (fs::exists(guess)) published_file = guess.string();
    }
    const auto published = published_file.empty()
                               ? std::map<std::string, Published>{}
                               : read_published(published_file, s.campaign, episode, c0);
    fs::create_directories(out_dir);

    bidding::ReplayParams params = bidding::ReplayParams::rlb_dp(s.info, c0, episode);
    params.num_threads = threads;
    const bidding::AuctionLog& test = *s.test;
    const bool has_train = s.train.has_value();
    const bidding::AuctionLog& tuning = has_train ? *s.train : test;
    const double theta_avg = s.info.ctr_train();

    // Landscape and ORTB constants.
    const bidding::BidLandscape landscape = bidding::BidLandscape::from(s.info);
    const double c1 = landscape.fit_winning_function(bidding::WinningFunction::ortb1);
    const double c2 = landscape.fit_winning_function(bidding::WinningFunction::ortb2);

    // Tuning (one sweep per bidder family).
    std::vector<double> b0_grid;
    for (int b0 = 1; b0 <= 300; ++b0) b0_grid.push_back(b0);
    const auto tune_b0 = [&](const bidding::AuctionLog& log) {
      return fixed_b0 ? *fixed_b0 : bidding::tune_linear_b0(log, theta_avg, b0_grid, params).best;
    };
    const double b0 = tune_b0(tuning);
    const auto lambda_grid =
        bidding::log_grid(c1 * theta_avg / (4.0 * 300.0 * 300.0), 4.0 * c1 * theta_avg, 200);
    const double lambda1 =
        bidding::tune_ortb_lambda(tuning, bidding::WinningFunction::ortb1, c1, lambda_grid, params)
            .best;
    const auto lambda_grid2 =
        bidding::log_grid(c2 * theta_avg / (4.0 * 300.0 * 300.0), 4.0 * c2 * theta_avg, 200);
    const double lambda2 =
        bidding::tune_ortb_lambda(tuning, bidding::WinningFunction::ortb2, c2, lambda_grid2, params)
            .best;

    // The RLB dynamic program.
    const auto dp_start = std::chrono::steady_clock::now();
    const auto value =
        std::make_shared<const bidding::RlbValueFunction>(bidding::RlbValueFunction::solve(
            episode, params.budget, theta_avg, landscape.market_price_pdf()));
    const double dp_seconds = tailor_examples::seconds_since(dp_start);

    std::vector<Row> rows;
    Series spend;
    const auto run = [&](const std::string& name, const std::string& key, const auto& bidder,
                         const bidding::AuctionLog& log, bool tuned, std::string parameter) {
      const auto start = std::chrono::steady_clock::now();
      Row row{name, key, bidding::replay(log, bidder, params), 0.0, tuned, std::move(parameter)};
      row.seconds = tailor_examples::seconds_since(start);
      rows.push_back(std::move(row));
      auto curve = spend_curve(log, bidder, params);
      if (!curve.empty()) spend.emplace_back(name, std::move(curve));
    };
    const bool tuned_on_test = !has_train;
    run("Mcpc", "mcpc", bidding::McpcBidder::from(s.info), test, false,
        fmt::format("cpc {:.1f}", s.info.cpc_train()));
    run("linear", "lin_bid", bidding::LinearBidder(b0, theta_avg), test, tuned_on_test && !fixed_b0,
        fmt::format("b0 {}", b0));
    run("ORTB1", "", bidding::OrtbBidder(bidding::WinningFunction::ortb1, c1, lambda1), test,
        tuned_on_test, fmt::format("c {:.1f}, λ {:.3g}", c1, lambda1));
    run("ORTB2", "", bidding::OrtbBidder(bidding::WinningFunction::ortb2, c2, lambda2), test,
        tuned_on_test, fmt::format("c {:.1f}, λ {:.3g}", c2, lambda2));
    run("RLB", "rlb", bidding::RlbBidder(value), test, false, "θ = pCTR");
    run("SS-MDP", "ss_mdp", bidding::RlbBidder::ss_mdp(value), test, false, "θ = θ_avg");
    if (s.test_truth) {
      const double b0_true = s.train_truth ? tune_b0(*s.train_truth) : b0;
      run("linear (true CTR)", "", bidding::LinearBidder(b0_true, theta_avg), *s.test_truth, false,
          fmt::format("b0 {}", b0_true));
      run("RLB (true CTR)", "", bidding::RlbBidder(value), *s.test_truth, false, "θ = true CTR");
    }

    // Pacing: one budget for the whole test log (B per episode's worth of auctions), linear bids.
    const auto episodes = (test.size() + episode - 1) / episode;
    const std::int64_t day_budget = params.budget * episodes;
    const bidding::LinearBidder pacing_base(b0, theta_avg);
    Series paced;
    std::string pacing_text;
    for (const auto& [label, controller, fixed] :
         {std::tuple{"unpaced", bidding::PacingController::multiplicative, true},
          std::tuple{"multiplicative", bidding::PacingController::multiplicative, false},
          std::tuple{"PID", bidding::PacingController::pid, false}}) {
      bidding::PacingParams pp{.budget = day_budget, .num_slots = 96, .controller = controller};
      if (fixed) pp.min_multiplier = pp.max_multiplier = 1.0;
      const auto r = bidding::pace(test, pacing_base, pp);
      std::vector<std::pair<double, double>> points{{0.0, 0.0}};
      for (std::size_t k = 0; k < r.cumulative_spend.size(); ++k) {
        points.emplace_back(
            static_cast<double>(k + 1) / 96.0,
            static_cast<double>(r.cumulative_spend[k]) / static_cast<double>(day_budget));
      }
      paced.emplace_back(label, points);
      pacing_text += fmt::format(
          "{:<15} spent {:>5.1f}% of {}, {} clicks, largest gap to even "
          "spend {:.1f}% of the budget\n",
          label, 100.0 * static_cast<double>(r.totals.cost) / static_cast<double>(day_budget),
          day_budget, r.totals.clicks, 100.0 * r.max_deviation(day_budget));
    }
    paced.emplace_back("even", std::vector<std::pair<double, double>>{{0.0, 0.0}, {1.0, 1.0}});

    // Table.
    std::ofstream csv(fs::path(out_dir) / "bidding_results.csv");
    csv << "bidder,parameter,auctions,impressions,clicks,cost,win_rate,cpm,ecpc,tuned_on_test,"
           "published_identical\n";
    std::string table = fmt::format("{:<18} {:>8} {:>8} {:>6} {:>9} {:>8} {:>7} {:>7}  {:<24} {}\n",
                                    "bidder", "auctions", "imps", "clicks", "cost", "win-rate",
                                    "CPM", "eCPC", "published imps/clk/cost", "parameter");
    for (const auto& r : rows) {
      std::string pub;
      std::string identical;
      if (const auto it = published.find(r.published_key);
          !r.published_key.empty() && it != published.end()) {
        const bool same = it->second.impressions == r.result.impressions &&
                          it->second.clicks == r.result.clicks && it->second.cost == r.result.cost;
        pub = fmt::format("{} {}/{}/{}", same ? "=" : "≠", it->second.impressions,
                          it->second.clicks, it->second.cost);
        identical = same ? "yes" : "no";
      }
      const std::string name = r.name + (r.tuned_on_test ? " *" : "");
      table += fmt::format(
          "{:<18} {:>8} {:>8} {:>6} {:>9} {:>7.2f}% {:>7.2f} {:>7.2f}  {:<24} {}\n", name,
          r.result.auctions, r.result.impressions, r.result.clicks, r.result.cost,
          100.0 * r.result.win_rate(), r.result.cpm(), r.result.ecpc(), pub, r.parameter);
      csv << fmt::format("{},\"{}\",{},{},{},{},{:.6f},{:.4f},{:.4f},{},{}\n", r.name, r.parameter,
                         r.result.auctions, r.result.impressions, r.result.clicks, r.result.cost,
                         r.result.win_rate(), r.result.cpm(), r.result.ecpc(), r.tuned_on_test,
                         identical);
    }
    std::string notes =
        fmt::format("N = {}, c0 = {:.6g}, B = {} per episode, θ_avg = {:.6g}, CPM_train = {:.3f}\n",
                    episode, c0, params.budget, theta_avg, s.info.cpm_train());
    if (!has_train && !fixed_b0) {
      notes +=
          "* tuned on the test stream (no training stream): optimistic. rlb-dp tuned b0 = 10 "
          "for campaign 2997 on its training stream; --b0 10 reproduces that row.\n";
    }
    notes += fmt::format("RLB dynamic program: {:.3f} s, table {:.1f} MB\n", dp_seconds,
                         static_cast<double>(value->memory_bytes()) / 1e6);
    for (const auto& r : rows) {
      if (r.result.auctions < 100'000) {
        notes += fmt::format("replay {:<18} (under 100,000 auctions: not timed)\n", r.name);
        continue;
      }
      notes +=
          fmt::format("replay {:<18} {:>8.1f} M auctions/s\n", r.name,
                      static_cast<double>(r.result.auctions) / std::max(r.seconds, 1e-9) / 1e6);
    }
    std::string landscape_text = "landscape W(b) (share of training prices <= b):";
    for (const int b : {5, 10, 25, 50, 100, 200, 300}) {
      landscape_text += fmt::format(" W({})={:.4f}", b, landscape.win_probability(b));
    }
    landscape_text +=
        fmt::format("\nfitted winning functions: ORTB1 c = {:.2f}, ORTB2 c = {:.2f}\n", c1, c2);
    if (!quiet) {
      fmt::print("{}\n\n{}\n{}\n{}\nbudget pacing over the whole test log (linear bids):\n{}",
                 s.description, table, notes, landscape_text, pacing_text);
    }

    // Report.
    Series win, cost;
    std::vector<std::pair<double, double>> w_emp, w1, w2, cost_curve;
    for (int b = 0; b <= landscape.max_price(); ++b) {
      w_emp.emplace_back(b, landscape.win_probability(b));
      w1.emplace_back(b, bidding::ortb1_win_rate(b, c1));
      w2.emplace_back(b, bidding::ortb2_win_rate(b, c2));
      cost_curve.emplace_back(b, landscape.expected_cost(b));
    }
    win = {{"empirical", w_emp}, {"ORTB1 fit", w1}, {"ORTB2 fit", w2}};
    cost = {{"E[cost] per auction", cost_curve}};
    double max_cost = 1e-9;
    for (const auto& [x, y] : cost_curve) max_cost = std::max(max_cost, y);
    std::ofstream html(fs::path(out_dir) / "bidding_report.html");
    html
        << "<!doctype html><html><head><meta charset='utf-8'><title>tailor: iPinYou bidding</title>"
           "<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em}"
           "</style></head><body>\n<h1>Budget-constrained bidding</h1>\n<p>"
        << html_escape(s.description) << "</p>\n<pre>" << html_escape(table) << "\n"
        << html_escape(notes) << "\n"
        << html_escape(landscape_text) << "</pre>\n";
    html << svg_chart("Win probability by bid (training prices)", "bid", "W(b)", win,
                      static_cast<double>(landscape.max_price()), 1.0, false);
    html << svg_chart("Expected cost per auction by bid", "bid", "cost", cost,
                      static_cast<double>(landscape.max_price()), max_cost * 1.05, false);
    html << svg_chart("Spend within an episode (average of full episodes)", "auction in episode",
                      "share of B spent", spend, static_cast<double>(episode), 1.0, false);
    html << "<h2>Budget pacing</h2><pre>" << html_escape(pacing_text) << "</pre>\n";
    html << svg_chart("Cumulative spend over the log", "share of the log", "share of the budget",
                      paced, 1.0, 1.0, false);
    html << "</body></html>\n";
    if (!quiet) fmt::print("\nwrote {}/bidding_report.html and bidding_results.csv\n", out_dir);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "ipinyou_bidding: {}\n", e.what());
    return 1;
  }
}
