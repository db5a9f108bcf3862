// Tests of bidding/rlb.hpp (and datasets/auction_streams.hpp): a DP solved by hand, the binary
// search against the published linear scan, the published iPinYou 2997 RLB and SS-MDP rows and
// V_999(1969), a Monte-Carlo check of the value function on streams drawn from the MDP's own
// model, save/load, determinism and bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <vector>

#include "tailor/bidding/landscape.hpp"
#include "tailor/bidding/replay.hpp"
#include "tailor/bidding/rlb.hpp"
#include "tailor/core/random.hpp"
#include "tailor/datasets/auction_streams.hpp"
#include "tailor/io/rlb_dp.hpp"

namespace fs = std::filesystem;
using namespace tailor;
using namespace tailor::bidding;

namespace {

/// rlb-dp's bid: scan δ = 1, 2, ... and stop at the first failure.
int scan_bid(const RlbValueFunction& v, Index n, std::int64_t b, double theta) {
  const auto row = v.row(n - 1);
  int a = 0;
  for (std::int64_t d = 1; d <= std::min<std::int64_t>(b, v.max_bid()); ++d) {
    if (!(theta + (row[static_cast<std::size_t>(b - d)] - row[static_cast<std::size_t>(b)]) >= 0.0))
      break;
    a = static_cast<int>(d);
  }
  return a;
}

/// A market-price histogram shaped like iPinYou's: a spike at 6, a decaying tail to 300.
std::vector<std::int64_t> synthetic_counts() {
  std::vector<std::int64_t> counts(301);
  for (int p = 0; p <= 300; ++p) {
    counts[static_cast<std::size_t>(p)] = p < 4 ? 0 : std::llround(3000.0 * std::exp(-p / 60.0));
  }
  counts[6] += 30'000;
  return counts;
}

}  // namespace

TEST_CASE("RLB value function of a tiny MDP, by hand", "[bidding][rlb]") {
  // N = 3, B = 2, prices 0 or 1 with probability 1/2, θ_avg = 0.1:
  // V_1 = [0, 0.1, 0.1] (the early stop fills b = 2), V_2 = [0, 0.15, 0.2].
  const std::vector<double> pdf = {0.5, 0.5};
  const auto v = RlbValueFunction::solve(3, 2, 0.1, pdf);
  CHECK(v.value(0, 2) == 0.0);
  CHECK(v.value(1, 1) == Approx(0.1));
  CHECK(v.value(1, 2) == Approx(0.1));
  CHECK(v.value(2, 1) == Approx(0.15));
  CHECK(v.value(2, 2) == Approx(0.2));
  CHECK(v.value(2, 0) == 0.0);
  // n = 3 left, b = 2: δ = 1 needs θ + V_2(1) − V_2(2) = θ − 0.05 >= 0.
  CHECK(v.bid(3, 2, 0.1) == 1);
  CHECK(v.bid(3, 2, 0.04) == 0);
  CHECK(v.bid(1, 2, 0.0) == 1);  // V_0 ≡ 0: any θ >= 0 bids the most it can
  CHECK(v.memory_bytes() == 3 * 3 * sizeof(double));

  REQUIRE_THROWS_WITH(v.bid(4, 2, 0.1), Catch::Contains("outside the solved table"));
  REQUIRE_THROWS_WITH(v.bid(1, 3, 0.1), Catch::Contains("outside the solved table"));
  REQUIRE_THROWS_WITH(RlbValueFunction::solve(0, 2, 0.1, pdf),
                      Catch::Contains("episode_length = 0"));
  REQUIRE_THROWS_WITH(RlbValueFunction::solve(3, -1, 0.1, pdf), Catch::Contains("budget = -1"));
  REQUIRE_THROWS_WITH(RlbValueFunction::solve(3, 2, 1.5, pdf), Catch::Contains("theta_avg = 1.5"));
  const std::vector<double> bad = {0.5, std::nan("")};
  REQUIRE_THROWS_WITH(RlbValueFunction::solve(3, 2, 0.1, bad),
                      Catch::Contains("market_price_pdf[1] = nan"));
  REQUIRE_THROWS_WITH(RlbValueFunction::solve(1 << 20, 1 << 20, 0.1, pdf),
                      Catch::Contains("at most"));
  REQUIRE_THROWS_AS(RlbBidder(nullptr), InvalidArgument);
}

TEST_CASE("RLB bids by binary search equal the published scan; save/load; progress",
          "[bidding][rlb]") {
  const BidLandscape landscape(synthetic_counts());
  const auto pdf = landscape.market_price_pdf();
  std::vector<Index> rounds;
  const auto v = RlbValueFunction::solve(200, 400, 0.0044, pdf,
                                         [&](const Progress& p) { rounds.push_back(p.done); });
  CHECK(rounds.front() == 0);
  CHECK(rounds.back() == 199);
  Rng rng(5);
  int beyond_scan = 0;  // bids past the first 64 steps take the bisection
  for (int k = 0; k < 20'000; ++k) {
    const auto n = static_cast<Index>(1 + rng.uniform_index(200));
    const auto b = static_cast<std::int64_t>(rng.uniform_index(401));
    const double theta = 0.02 * rng.uniform() * rng.uniform();
    const int expected = scan_bid(v, n, b, theta);
    REQUIRE(v.bid(n, b, theta) == expected);
    beyond_scan += expected > 64 && expected < std::min<std::int64_t>(b, 300);
  }
  CHECK(beyond_scan >= 100);
  // Save and load: identical table, identical bids.
  std::stringstream file;
  save(v, file);
  const auto again = load<RlbValueFunction>(file);
  CHECK(again.episode_length() == 200);
  CHECK(again.budget() == 400);
  for (Index n = 0; n < 200; n += 37) {
    for (std::int64_t b = 0; b <= 400; b += 13) CHECK(again.value(n, b) == v.value(n, b));
  }
  std::stringstream saved;
  save(v, saved);
  std::string bytes = saved.str();
  bytes.resize(bytes.size() / 2);
  std::stringstream truncated(bytes);
  REQUIRE_THROWS_AS(load<RlbValueFunction>(truncated), FormatError);
}

TEST_CASE("SS-MDP earns V_{N-1}(B) clicks per episode on streams drawn from its own model",
          "[bidding][rlb][simulation]") {
  // Prices i.i.d. from the smoothed density the DP assumes, every auction worth θ_avg, clicks
  // Bernoulli(θ_avg): the mean clicks per episode estimate the value of the start state.
  const BidLandscape landscape(synthetic_counts());
  const auto pdf = landscape.market_price_pdf();
  const double theta_avg = 0.005;
  const Index N = 200;
  const std::int64_t B = 500;
  const auto v =
      std::make_shared<const RlbValueFunction>(RlbValueFunction::solve(N, B, theta_avg, pdf));
  const Index episodes = 4000;
  const auto stream = datasets::draw_auction_stream(
      {.num_auctions = N * episodes, .price_pdf = pdf, .mean_ctr = theta_avg, .seed = 17});
  const AuctionLog log(stream.click, stream.price, stream.pctr);
  const ReplayParams params{.episode_length = N, .budget = B};
  const ReplayResult r = replay(log, RlbBidder::ss_mdp(v), params);
  double mean = 0.0, sq = 0.0;
  for (const auto& e : r.episodes) mean += static_cast<double>(e.clicks);
  mean /= static_cast<double>(episodes);
  for (const auto& e : r.episodes) sq += std::pow(static_cast<double>(e.clicks) - mean, 2);
  const double se =
      std::sqrt(sq / static_cast<double>(episodes - 1) / static_cast<double>(episodes));
  INFO("mean " << mean << " V " << v->value(N - 1, B) << " se " << se);
  CHECK(std::fabs(mean - v->value(N - 1, B)) <= 3.0 * se);
  // Identical for any thread count.
  ReplayParams one = params;
  one.num_threads = 1;
  const ReplayResult r1 = replay(log, RlbBidder::ss_mdp(v), one);
  CHECK(r1.clicks == r.clicks);
  CHECK(r1.cost == r.cost);
  CHECK(r1.impressions == r.impressions);
}

TEST_CASE("iPinYou 2997: the published RLB and SS-MDP rows from tailor's DP and replay",
          "[bidding][rlb][realdata]") {
  const char* root = std::getenv("TAILOR_DATA_DIR");
  const fs::path dir = root != nullptr ? fs::path(root) / "ipinyou_rlb" / "2997" : fs::path();
  if (root == nullptr || !fs::exists(dir / "test.theta.txt")) {
    WARN("TAILOR_DATA_DIR/ipinyou_rlb/2997 not found; skipping the published RLB rows");
    return;
  }
  const AuctionLog log = io::read_auction_log(dir / "test.theta.txt");
  const CampaignInfo info = io::read_campaign_info(dir / "info.json");
  const ReplayParams params = ReplayParams::rlb_dp(info, 1.0 / 32.0, 1000);
  const auto pdf = BidLandscape::from(info).market_price_pdf();
  const auto v = std::make_shared<const RlbValueFunction>(
      RlbValueFunction::solve(1000, params.budget, info.ctr_train(), pdf));
  CHECK(v->value(999, 1969) == Approx(1.0282246653938076).epsilon(1e-12));
  CHECK(v->memory_bytes() <= 16'000'000);

  const ReplayResult rlb = replay(log, RlbBidder(v), params);
  CHECK(rlb.impressions == 39'680);
  CHECK(rlb.clicks == 78);
  CHECK(rlb.cost == 304'375);
  const ReplayResult ss = replay(log, RlbBidder::ss_mdp(v), params);
  CHECK(ss.impressions == 40'395);
  CHECK(ss.clicks == 80);
  CHECK(ss.cost == 306'637);
}
