// bidding_benchmark — replay throughput (auctions/s) of Mcpc, linear and RLB bidders, the
// 300-value b0 sweep, and the RLB dynamic program, side by side with the plain Python replay in
// benchmarks/peers/python_replay.py (run both: benchmarks/peers/run_bidding_peer.sh).
//
// Data: iPinYou campaign 2997 from TAILOR_DATA_DIR/ipinyou_rlb (156,063 auctions; N = 1000,
// c0 = 1/32, B = 1969) when present, else a synthetic stream from a 2997-like price histogram;
// and synthetic streams of 10^6..10^8 auctions drawn i.i.d. from the same histogram
// (datasets::draw_auction_stream, generated once per size and kept for the process).
// Every replay reports items_per_second = auctions per second of wall time (UseRealTime) for the
// thread count in the benchmark's name; "per core" figures divide by it.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "tailor/bidding.hpp"
#include "tailor/datasets/auction_streams.hpp"
#include "tailor/io/rlb_dp.hpp"

namespace fs = std::filesystem;
using namespace tailor;
using namespace tailor::bidding;

namespace {

struct Campaign {
  CampaignInfo info;
  std::unique_ptr<AuctionLog> log;
  bool real = false;
};

/// A 2997-like histogram when the real campaign is absent.
CampaignInfo synthetic_info() {
  CampaignInfo info;
  info.price_counter_train.assign(301, 0);
  std::int64_t imp = 0, cost = 0;
  for (int p = 4; p <= 300; ++p) {
    const auto c = static_cast<std::int64_t>(3000.0 * std::exp(-p / 60.0)) + (p == 6 ? 36000 : 0);
    info.price_counter_train[static_cast<std::size_t>(p)] = c;
    imp += c;
    cost += c * p;
  }
  info.imp_train = imp;
  info.cost_train = cost;
  info.clk_train = imp * 44 / 10000;
  return info;
}

const Campaign& campaign() {
  static const Campaign c = [] {
    Campaign out;
    const char* root = std::getenv("TAILOR_DATA_DIR");
    const fs::path dir = root != nullptr ? fs::path(root) / "ipinyou_rlb" / "2997" : fs::path();
    if (root != nullptr && fs::exists(dir / "test.theta.txt")) {
      out.info = io::read_campaign_info(dir / "info.json");
      out.log = std::make_unique<AuctionLog>(io::read_auction_log(dir / "test.theta.txt"));
      out.real = true;
    } else {
      out.info = synthetic_info();
      const auto pdf = BidLandscape::from(out.info).market_price_pdf();
      auto s = datasets::draw_auction_stream({.num_auctions = 156'063,
                                              .price_pdf = pdf,
                                              .mean_ctr = out.info.ctr_train(),
                                              .ctr_sigma = 1.0,
                                              .seed = 2997});
      out.log =
          std::make_unique<AuctionLog>(std::move(s.click), std::move(s.price), std::move(s.pctr));
    }
    return out;
  }();
  return c;
}

/// Synthetic stream of n auctions with the campaign's price histogram, kept for the process.
const AuctionLog& stream(Index n) {
  static std::map<Index, std::unique_ptr<AuctionLog>> cache;
  auto& slot = cache[n];
  if (!slot) {
    const auto pdf = BidLandscape::from(campaign().info).market_price_pdf();
    auto s = datasets::draw_auction_stream({.num_auctions = n,
                                            .price_pdf = pdf,
                                            .mean_ctr = campaign().info.ctr_train(),
                                            .ctr_sigma = 1.0,
                                            .max_ctr = 0.5,
                                            .seed = 7});
    s.true_ctr = {};
    slot = std::make_unique<AuctionLog>(std::move(s.click), std::move(s.price), std::move(s.pctr));
  }
  return *slot;
}

ReplayParams params(Index threads) {
  ReplayParams p = ReplayParams::rlb_dp(campaign().info, 1.0 / 32.0, 1000);
  p.num_threads = threads;
  return p;
}

std::shared_ptr<const RlbValueFunction> value_function() {
  static const auto v = std::make_shared<const RlbValueFunction>(
      RlbValueFunction::solve(1000, params(1).budget, campaign().info.ctr_train(),
                              BidLandscape::from(campaign().info).market_price_pdf()));
  return v;
}

template <class B>
void run_replay(benchmark::State& state, const AuctionLog& log, const B& bidder, Index threads) {
  const ReplayParams p = params(threads);
  std::int64_t clicks = 0;
  for (auto _ : state) {
    const ReplayResult r = replay(log, bidder, p);
    clicks = r.clicks;
    benchmark::DoNotOptimize(clicks);
  }
  state.SetItemsProcessed(state.iterations() * log.size());
  state.counters["clicks"] = static_cast<double>(clicks);
  state.counters["threads"] = static_cast<double>(threads);
}

// Args: {auctions (0 = campaign 2997), threads}.
const AuctionLog& log_for(const benchmark::State& state) {
  return state.range(0) == 0 ? *campaign().log : stream(state.range(0));
}

void BM_ReplayMcpc(benchmark::State& state) {
  run_replay(state, log_for(state), McpcBidder::from(campaign().info), state.range(1));
}
void BM_ReplayLinear(benchmark::State& state) {
  run_replay(state, log_for(state), LinearBidder::from(campaign().info, 10.0), state.range(1));
}
void BM_ReplayRlb(benchmark::State& state) {
  const RlbBidder bidder(value_function());
  run_replay(state, log_for(state), bidder, state.range(1));
}

/// The 300-value b0 sweep of the linear bidder in one pass.
void BM_SweepLinear300(benchmark::State& state) {
  const AuctionLog& log = log_for(state);
  std::vector<LinearBidder> bidders;
  for (int b0 = 1; b0 <= 300; ++b0) bidders.push_back(LinearBidder::from(campaign().info, b0));
  const ReplayParams p = params(state.range(1));
  for (auto _ : state) {
    const auto r = sweep(log, std::span<const LinearBidder>(bidders), p);
    benchmark::DoNotOptimize(r.data());
  }
  state.SetItemsProcessed(state.iterations() * log.size() * 300);
  state.counters["threads"] = static_cast<double>(state.range(1));
}

/// The RLB DP for N = 1000 and the campaign's B (one core).
void BM_RlbSolve(benchmark::State& state) {
  const auto pdf = BidLandscape::from(campaign().info).market_price_pdf();
  const std::int64_t budget = params(1).budget;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const auto v = RlbValueFunction::solve(1000, budget, campaign().info.ctr_train(), pdf);
    bytes = v.memory_bytes();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["table_MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["real_data"] = campaign().real ? 1.0 : 0.0;
}

}  // namespace

/// {auctions, threads} of the Mcpc and linear replays: the campaign, 10^6, 10^8 on 1 and 2.
void replay_sizes(benchmark::internal::Benchmark* b) {
  b->Args({0, 1})->Args({1'000'000, 1})->Args({100'000'000, 1})->Args({100'000'000, 2});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK(BM_ReplayMcpc)->Apply(replay_sizes);
BENCHMARK(BM_ReplayLinear)->Apply(replay_sizes);
BENCHMARK(BM_ReplayRlb)
    ->Args({0, 1})
    ->Args({10'000'000, 1})
    ->Args({10'000'000, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_SweepLinear300)
    ->Args({0, 1})
    ->Args({0, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_RlbSolve)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
