// Tests of bidding/auction_log.hpp, landscape.hpp, bidders.hpp, replay.hpp and pacing.hpp:
// hand-computed replays under both protocols, the published iPinYou 2997 rows (Mcpc, linear),
// the landscape figures, ORTB's closed forms against the Lagrangian condition, sweep == replay,
// determinism over threads, tuning, pacing, and bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <vector>

#include "tailor/bidding/auction_log.hpp"
#include "tailor/bidding/bidders.hpp"
#include "tailor/bidding/landscape.hpp"
#include "tailor/bidding/pacing.hpp"
#include "tailor/bidding/replay.hpp"
#include "tailor/datasets/auction_streams.hpp"
#include "tailor/io/rlb_dp.hpp"

namespace fs = std::filesystem;
using namespace tailor;
using namespace tailor::bidding;

namespace {

fs::path campaign_2997() {
  const char* root = std::getenv("TAILOR_DATA_DIR");
  if (root == nullptr) return {};
  const fs::path dir = fs::path(root) / "ipinyou_rlb" / "2997";
  return fs::exists(dir / "test.theta.txt") ? dir : fs::path();
}

AuctionLog small_log() {
  return AuctionLog({1, 0, 1, 0, 1}, {4, 3, 1, 5, 0}, {0.1, 0.2, 0.3, 0.4, 0.5});
}

/// A stationary stream with heterogeneous CTRs and prices roughly uniform on 1..150.
datasets::AuctionStream stationary_stream(Index n, std::uint64_t seed, double pctr_noise = 0.0) {
  std::vector<double> pdf(151, 1.0);
  pdf[0] = 0.0;
  return datasets::draw_auction_stream({.num_auctions = n,
                                        .price_pdf = pdf,
                                        .mean_ctr = 0.002,
                                        .ctr_sigma = 1.0,
                                        .max_ctr = 0.2,
                                        .pctr_noise = pctr_noise,
                                        .seed = seed});
}

}  // namespace

TEST_CASE("AuctionLog validates its columns once", "[bidding][auction_log]") {
  const AuctionLog log = small_log();
  CHECK(log.size() == 5);
  CHECK(log.total_clicks() == 3);
  CHECK(log.total_cost() == 13);
  CHECK(log.max_price() == 5);
  CHECK(log.slice(1, 2).price()[0] == 3);

  REQUIRE_THROWS_WITH(AuctionLog({0, 1}, {3, -3}, {0.1, 0.2}),
                      Catch::Contains("price[1] = -3, expected a non-negative integer"));
  REQUIRE_THROWS_WITH(AuctionLog({0, 1}, {3, 3}, {0.1, 1.5}),
                      Catch::Contains("pctr[1] = 1.5, expected a probability in [0, 1]"));
  REQUIRE_THROWS_WITH(AuctionLog({0, 1}, {3, 3}, {std::nan(""), 0.5}),
                      Catch::Contains("pctr[0] = nan"));
  REQUIRE_THROWS_WITH(AuctionLog({0, 2}, {3, 3}, {0.1, 0.5}),
                      Catch::Contains("click[1] = 2, expected 0 or 1"));
  REQUIRE_THROWS_AS(AuctionLog({0, 1}, {3}, {0.1, 0.5}), ShapeMismatch);
  REQUIRE_THROWS_AS(AuctionLog({}, {}, {}), DataError);
  REQUIRE_THROWS_WITH(AuctionLog({0, 1}, {3, 3}, {0.1, 0.5}, {2.0, 1.0}),
                      Catch::Contains("time[1] = 1 < time[0] = 2"));
  const Eigen::VectorXd c = Eigen::VectorXd::Zero(2), p = Eigen::VectorXd::Constant(2, 0.5);
  REQUIRE_THROWS_WITH(AuctionLog::from_columns(c, Eigen::Vector2d(3.0, 2.5), p),
                      Catch::Contains("price[1] = 2.5, expected a non-negative integer"));
  REQUIRE_THROWS_WITH(AuctionLog::from_columns(Eigen::Vector2d(0.0, 0.5), c, p),
                      Catch::Contains("click[1] = 0.5"));
}

TEST_CASE("replay under the rlb_dp protocol, by hand", "[bidding][replay]") {
  // Episodes of 2 auctions with budget 6, bids capped at 4 and at the budget left, ties win.
  ReplayParams params{.episode_length = 2, .budget = 6, .max_bid = 4, .num_threads = 1};
  std::vector<Index> auctions_left;
  const auto bid_five = [&](double, const AuctionState& s) {
    auctions_left.push_back(s.auctions_left);
    return 5;
  };
  const ReplayResult r = replay(small_log(), bid_five, params);
  // Episode 0: bid 4 >= 4 wins (budget 2), then bid min(4, 2) < 3 loses. Episode 1: 4 >= 1
  // wins, 4 < 5 loses. Episode 2 (partial): 4 >= 0 wins.
  CHECK(r.auctions == 5);
  CHECK(r.impressions == 3);
  CHECK(r.clicks == 3);
  CHECK(r.cost == 5);
  REQUIRE(r.episodes.size() == 3);
  CHECK(r.episodes[0].cost == 4);
  CHECK(r.episodes[2].impressions == 1);
  // The partial episode still counts auctions left from N = 2, as rlb-dp does.
  CHECK(auctions_left == std::vector<Index>{2, 1, 2, 1, 2});
  CHECK(r.win_rate() == Approx(0.6));
  CHECK(r.cpm() == Approx(5.0 / 3.0));

  // Ties lose: 4 vs 4 loses, then 4 > 3, 4 > 1 and 4 > 0 win.
  params.ties_win = false;
  const ReplayResult strict = replay(small_log(), ConstantBidder{4}, params);
  CHECK(strict.impressions == 3);
  CHECK(strict.cost == 4);
}

TEST_CASE("replay under the optimal_rtb protocol stops after the overspending win",
          "[bidding][replay]") {
  const AuctionLog log = small_log();  // prices 4 3 1 5 0, total cost 13
  // Budget int(13 / 4.33) = 3; bid 5 > price wins; no cap; stop once the cost exceeds 3.
  const ReplayParams params = ReplayParams::optimal_rtb(log, 13.0 / 3.0);
  CHECK(params.budget == 3);
  const ReplayResult r = replay(log, ConstantBidder{5}, params);
  // Auction 0: 5 > 4 wins, cost 4 > 3: stop after it.
  CHECK(r.auctions == 1);
  CHECK(r.impressions == 1);
  CHECK(r.cost == 4);
  const ReplayResult r2 = replay(log, ConstantBidder{4}, params);
  // 4 > 4 loses; 4 > 3 wins (cost 3, not over); 4 > 1 wins (cost 4 > 3): stop.
  CHECK(r2.auctions == 3);
  CHECK(r2.impressions == 2);
  CHECK(r2.cost == 4);
  CHECK(r2.clicks == 1);
}

TEST_CASE("bidders truncate like the published code", "[bidding][bidders]") {
  const AuctionState s;
  CHECK(McpcBidder(1000.0)(0.0109, s) == 10);
  CHECK(LinearBidder(10.0, 0.002)(0.0039, s) == 19);
  CHECK(truncate_bid(-0.5) == 0);
  CHECK(truncate_bid(1e30) == std::numeric_limits<int>::max());
  CHECK(truncate_bid(std::nan("")) == 0);
  REQUIRE_THROWS_WITH(LinearBidder(10.0, 0.0), Catch::Contains("theta_avg = 0"));
  REQUIRE_THROWS_WITH(McpcBidder(-1.0), Catch::Contains("cpc = -1"));
  REQUIRE_THROWS_WITH(OrtbBidder(WinningFunction::ortb1, 50.0, 0.0), Catch::Contains("lambda = 0"));
}

TEST_CASE("ORTB closed forms satisfy the Lagrangian first-order condition",
          "[bidding][bidders][ortb]") {
  // Published values at (θ, c, λ) = (0.001, 50, 5.2e-7).
  CHECK(ortb1_bid(0.001, 50.0, 5.2e-7) == Approx(264.092098).epsilon(1e-9));
  CHECK(ortb2_bid(0.001, 50.0, 5.2e-7) == Approx(200.901150).epsilon(1e-9));
  for (const double theta : {1e-4, 1e-3, 0.02, 0.3}) {
    for (const double c : {5.0, 50.0, 400.0}) {
      for (const double lambda : {1e-8, 5.2e-7, 1e-4}) {
        const double b1 = ortb1_bid(theta, c, lambda);
        const double lhs1 = theta * ortb1_win_rate_derivative(b1, c);
        const double rhs1 =
            lambda * (ortb1_win_rate(b1, c) + b1 * ortb1_win_rate_derivative(b1, c));
        CHECK(std::fabs(lhs1 - rhs1) <= 1e-12 * std::fabs(lhs1));
        const double b2 = ortb2_bid(theta, c, lambda);
        const double lhs2 = theta * ortb2_win_rate_derivative(b2, c);
        const double rhs2 =
            lambda * (ortb2_win_rate(b2, c) + b2 * ortb2_win_rate_derivative(b2, c));
        CHECK(std::fabs(lhs2 - rhs2) <= 1e-12 * std::fabs(lhs2));
      }
    }
  }
}

TEST_CASE("bid landscape: win probability, cost, smoothed density, fitted c",
          "[bidding][landscape]") {
  const BidLandscape small({1, 0, 2, 1});  // prices 0, 2, 2, 3
  CHECK(small.win_probability(1.0) == 0.25);
  CHECK(small.win_probability(2.0) == 0.75);
  CHECK(small.win_probability(2.0, false) == 0.25);
  CHECK(small.win_probability(2.5, false) == 0.75);
  CHECK(small.win_probability(-1.0) == 0.0);
  CHECK(small.win_probability(99.0) == 1.0);
  CHECK(small.expected_cost(2.0) == 1.0);  // (0 + 2 + 2) / 4
  CHECK(small.expected_cost(3.0) == 1.75);
  const auto pdf = small.market_price_pdf();
  CHECK(pdf[1] == 1.0 / 8.0);
  CHECK(pdf[2] == 3.0 / 8.0);
  REQUIRE_THROWS_WITH(BidLandscape({1, -1}), Catch::Contains("counts[1] = -1"));
  REQUIRE_THROWS_AS(BidLandscape({0, 0}), InvalidArgument);

  // A histogram drawn from w(b) = b / (c + b) with c = 40 (the last bin takes the tail).
  std::vector<std::int64_t> counts(301);
  double previous = 0.0;
  for (int b = 0; b <= 300; ++b) {
    const double w = b == 300 ? 1.0 : ortb1_win_rate(b, 40.0);
    counts[static_cast<std::size_t>(b)] = std::llround(1e7 * (w - previous));
    previous = w;
  }
  const double c = BidLandscape(counts).fit_winning_function(WinningFunction::ortb1);
  CHECK(c == Approx(40.0).epsilon(0.05));
}

TEST_CASE("sweep equals replay and neither depends on the thread count", "[bidding][replay]") {
  const auto s = stationary_stream(50'000, 3);
  const AuctionLog log(s.click, s.price, s.pctr);
  ReplayParams params{.episode_length = 1000, .budget = 4000, .num_threads = 1};
  std::vector<LinearBidder> bidders;
  for (const double b0 : {5.0, 20.0, 60.0, 200.0}) bidders.emplace_back(b0, 0.002);
  const auto swept = sweep(log, std::span<const LinearBidder>(bidders), params);
  params.num_threads = 2;
  const auto swept2 = sweep(log, std::span<const LinearBidder>(bidders), params);
  for (std::size_t j = 0; j < bidders.size(); ++j) {
    const ReplayResult one = replay(log, bidders[j], params);
    CHECK(swept[j].impressions == one.impressions);
    CHECK(swept[j].clicks == one.clicks);
    CHECK(swept[j].cost == one.cost);
    CHECK(swept[j].auctions == one.auctions);
    CHECK(swept2[j].cost == one.cost);
    params.num_threads = 1;
    CHECK(replay(log, bidders[j], params).cost == one.cost);
    params.num_threads = 2;
  }
  // optimal_rtb (one episode that stops) through sweep as well.
  const ReplayParams rtb = ReplayParams::optimal_rtb(log, 16.0);
  const auto rtb_swept = sweep(log, std::span<const LinearBidder>(bidders), rtb);
  for (std::size_t j = 0; j < bidders.size(); ++j) {
    const ReplayResult one = replay(log, bidders[j], rtb);
    CHECK(rtb_swept[j].auctions == one.auctions);
    CHECK(rtb_swept[j].cost == one.cost);
  }
  REQUIRE_THROWS_WITH(replay(log, ConstantBidder{1}, ReplayParams{.episode_length = -1}),
                      Catch::Contains("episode_length = -1"));
  REQUIRE_THROWS_WITH(replay(log, ConstantBidder{1}, ReplayParams{.budget = -5}),
                      Catch::Contains("budget = -5"));
  REQUIRE_THROWS_WITH(ReplayParams::optimal_rtb(log, 0.0), Catch::Contains("proportion = 0"));
  const CampaignInfo info = CampaignInfo::from_log(log);
  REQUIRE_THROWS_WITH(ReplayParams::rlb_dp(info, 1.0 / 32.0, 0),
                      Catch::Contains("episode_length = 0"));
  REQUIRE_THROWS_WITH(ReplayParams::rlb_dp(info, -1.0), Catch::Contains("c0 = -1"));
  CHECK(info.imp_train == log.size());
  CHECK(info.price_counter_train.size() == 301);
}

TEST_CASE("tuning picks the candidate with the most clicks; true CTR beats a noisy pCTR",
          "[bidding][replay][tuning]") {
  // Same auctions, two pCTR columns: the truth and a log-normal noisy model (τ = 1).
  const auto train = stationary_stream(200'000, 11, 1.0);
  const auto test = stationary_stream(200'000, 12, 1.0);
  const AuctionLog train_true(train.click, train.price, train.true_ctr);
  const AuctionLog train_noisy(train.click, train.price, train.pctr);
  const AuctionLog test_true(test.click, test.price, test.true_ctr);
  const AuctionLog test_noisy(test.click, test.price, test.pctr);
  const ReplayParams params{.episode_length = 1000, .budget = 8000};
  std::vector<double> grid;
  for (int b0 = 2; b0 <= 300; b0 += 2) grid.push_back(b0);
  const TuningResult tuned_true = tune_linear_b0(train_true, 0.002, grid, params);
  const TuningResult tuned_noisy = tune_linear_b0(train_noisy, 0.002, grid, params);
  const auto best = *std::max_element(tuned_true.clicks.begin(), tuned_true.clicks.end());
  CHECK(replay(train_true, LinearBidder(tuned_true.best, 0.002), params).clicks == best);
  const auto clicks_true = replay(test_true, LinearBidder(tuned_true.best, 0.002), params).clicks;
  const auto clicks_noisy =
      replay(test_noisy, LinearBidder(tuned_noisy.best, 0.002), params).clicks;
  CHECK(clicks_true > clicks_noisy);
  REQUIRE_THROWS_WITH(tune_linear_b0(train_true, 0.002, std::vector<double>{1.0, -2.0}, params),
                      Catch::Contains("candidates[1] = -2"));
}

TEST_CASE("pacing spends the budget evenly where the unpaced bidder runs out early",
          "[bidding][pacing]") {
  const auto s = stationary_stream(200'000, 21);
  const AuctionLog log(s.click, s.price, s.pctr);
  const LinearBidder bidder(60.0, 0.002);
  // The unpaced bidder's spend over the whole log, then a budget of a quarter of it.
  const ReplayResult unpaced = replay(log, bidder, ReplayParams{.budget = std::int64_t{1} << 40});
  const std::int64_t budget = unpaced.cost / 4;
  PacingParams off{.budget = budget, .num_slots = 96, .min_multiplier = 1.0, .max_multiplier = 1.0};
  const PacingResult fixed = pace(log, bidder, off);
  CHECK(fixed.cumulative_spend[35] >= budget * 95 / 100);  // exhausted within the first 36 slots
  for (const auto controller : {PacingController::multiplicative, PacingController::pid}) {
    // 96 slots: the first slot, spent before any feedback at 4x the even rate, is 3/96 ahead.
    PacingParams params{.budget = budget, .num_slots = 96, .controller = controller};
    const PacingResult paced = pace(log, bidder, params);
    INFO("controller " << static_cast<int>(controller));
    CHECK(paced.totals.cost <= budget);
    CHECK(paced.totals.cost >= budget * 90 / 100);
    CHECK(paced.max_deviation(budget) <= 0.06);
    CHECK(paced.totals.clicks > fixed.totals.clicks);  // cheaper impressions all day long
  }
  REQUIRE_THROWS_WITH(pace(log, bidder, PacingParams{.budget = 0}), Catch::Contains("budget = 0"));

  // With timestamps, slots cut time, not auction counts: traffic that doubles in the second
  // half of the day still ends each slot at its time.
  std::vector<double> time(s.click.size());
  for (std::size_t i = 0; i < time.size(); ++i) {
    const double u = static_cast<double>(i) / static_cast<double>(time.size());
    time[i] = 86'400.0 * (u < 1.0 / 3.0 ? 1.5 * u : 0.25 + 0.75 * u);  // 1/3 of traffic in 1/2 day
  }
  const AuctionLog timed(s.click, s.price, s.pctr, time);
  const PacingResult by_time = pace(timed, bidder, PacingParams{.budget = budget, .num_slots = 4});
  CHECK(by_time.slot_end.back() == Approx(timed.time().back()));
  CHECK(by_time.slot_end[1] ==
        Approx(timed.time().front() + 0.5 * (timed.time().back() - timed.time().front())));
  CHECK(by_time.totals.auctions == timed.size());
  CHECK(by_time.totals.cost <= budget);
}

TEST_CASE("iPinYou 2997: the published Mcpc and linear rows, landscape figures",
          "[bidding][replay][realdata]") {
  const fs::path dir = campaign_2997();
  if (dir.empty()) {
    WARN("TAILOR_DATA_DIR/ipinyou_rlb/2997 not found; skipping the published-table checks");
    return;
  }
  const AuctionLog log = io::read_auction_log(dir / "test.theta.txt");
  const CampaignInfo info = io::read_campaign_info(dir / "info.json");
  REQUIRE(log.size() == 156'063);
  const ReplayParams params = ReplayParams::rlb_dp(info, 1.0 / 32.0, 1000);
  CHECK(params.budget == 1969);

  const ReplayResult mcpc = replay(log, McpcBidder::from(info), params);
  CHECK(mcpc.auctions == 156'063);
  CHECK(mcpc.impressions == 14'752);
  CHECK(mcpc.clicks == 48);
  CHECK(mcpc.cost == 307'751);
  CHECK(mcpc.ecpc() == Approx(6.41).margin(0.005));

  std::vector<LinearBidder> linear;
  for (int b0 = 1; b0 <= 300; ++b0) linear.push_back(LinearBidder::from(info, b0));
  const auto swept = sweep(log, std::span<const LinearBidder>(linear), params);
  CHECK(swept[9].impressions == 32'208);  // b0 = 10, rlb-dp's tuned value
  CHECK(swept[9].clicks == 71);
  CHECK(swept[9].cost == 203'610);

  ReplayParams ties_lose = params;
  ties_lose.ties_win = false;
  const ReplayResult strict = replay(log, McpcBidder::from(info), ties_lose);
  CHECK(strict.impressions == 15'020);
  CHECK(strict.clicks == 48);
  CHECK(strict.cost == 307'568);

  const BidLandscape landscape = BidLandscape::from(info);
  CHECK(landscape.total() == info.imp_train);
  CHECK(landscape.counts()[6] == 36'178);
  CHECK(landscape.win_probability(6) == Approx(0.1302).margin(5e-5));
  CHECK(landscape.win_probability(50) == Approx(0.5692).margin(5e-5));
  CHECK(landscape.win_probability(100) == Approx(0.7872).margin(5e-5));
}
