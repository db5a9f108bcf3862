// tailor/bidding/replay.hpp — offline evaluation of bidders by replaying an auction log, and the
// tuning of bidder constants on a training stream.
//
// Each auction of the log is offered to the bidder in order; the bid (truncated to an integer by
// the bidder) is capped at `max_bid` and, when `cap_at_budget`, at the budget left; the bidder
// wins when bid >= market price (`ties_win`) or bid > price, and then pays the market price (a
// second-price auction whose highest competing bid is the logged price). Every choice that
// changes published numbers is a field of ReplayParams, with the two protocols of the
// literature as presets:
//  * rlb_dp (Cai et al., WSDM 2017, as in their code): episodes of N consecutive auctions (the
//    last partial episode too), each starting with budget B = int(CPM_train · c0 · N); bids
//    capped at 300 and at the budget left; ties win.
//  * optimal_rtb (Zhang, Yuan & Wang, KDD 2014, rtb-test.py): one episode over the whole log
//    with budget int(total test cost / proportion); no cap; ties lose; replay stops after the
//    first win that takes the cost over the budget (that auction counts).
// Episodes are independent: replay runs them in parallel and sums their integer counts, so the
// result is identical for every num_threads. sweep() replays many bidders in one pass over the
// log (the auction's columns are read once for all of them).
// Complexity: O(auctions · bidder cost); memory O(episodes) for the per-episode breakdown.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "tailor/bidding/auction_log.hpp"
#include "tailor/bidding/bidders.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/types.hpp"

namespace tailor::bidding {

/// Protocol of a replay. Set the fields, or start from a preset.
struct ReplayParams {
  /// Auctions per episode; 0 = the whole log is one episode.
  Index episode_length = 0;
  /// Budget at the start of every episode (the log's price units).
  std::int64_t budget = 0;
  /// Bids above this are lowered to it (rlb-dp: 300, the largest iPinYou market price).
  int max_bid = 300;
  /// A bid never exceeds the budget left (rlb-dp); otherwise the budget can be overspent by the
  /// last win.
  bool cap_at_budget = true;
  /// bid == market price wins (rlb-dp) or loses (optimal-rtb).
  bool ties_win = true;
  /// End the episode after the first win that takes its cost over the budget (optimal-rtb).
  bool stop_when_over_budget = false;
  /// Threads over episodes (0 = all cores); results do not depend on it.
  Index num_threads = 0;

  /// rlb-dp's protocol: N-auction episodes with B = int(CPM_train · c0 · N).
  static ReplayParams rlb_dp(const CampaignInfo& info, double c0 = 1.0 / 32.0,
                             Index episode_length = 1000) {
    check_param(std::isfinite(c0) && c0 > 0.0, "ReplayParams::rlb_dp", "c0", c0,
                "a finite value > 0");
    check_param(episode_length >= 1, "ReplayParams::rlb_dp", "episode_length", episode_length,
                "at least 1");
    ReplayParams p;
    p.episode_length = episode_length;
    // Python: int(self.cpm * c0 * N), evaluated left to right.
    const double budget = info.cpm_train() * c0 * static_cast<double>(episode_length);
    check_param(budget < 9.0e18, "ReplayParams::rlb_dp", "budget", budget, "below 9e18");
    p.budget = static_cast<std::int64_t>(budget);
    return p;
  }

  /// optimal-rtb's test protocol: budget int(total cost of `log` / proportion), no bid cap,
  /// ties lose, stop after the first win that overspends.
  static ReplayParams optimal_rtb(const AuctionLog& log, double proportion) {
    check_param(std::isfinite(proportion) && proportion > 0.0, "ReplayParams::optimal_rtb",
                "proportion", proportion, "a finite value > 0 (budget = total cost / proportion)");
    ReplayParams p;
    p.episode_length = 0;
    p.budget = static_cast<std::int64_t>(static_cast<double>(log.total_cost()) / proportion);
    p.max_bid = std::numeric_limits<int>::max();
    p.cap_at_budget = false;
    p.ties_win = false;
    p.stop_when_over_budget = true;
    return p;
  }

  void validate(std::string_view context) const {
    check_param(episode_length >= 0, context, "episode_length", episode_length,
                "at least 1, or 0 for one episode over the whole log");
    check_param(budget >= 0, context, "budget", budget, "at least 0");
    check_param(max_bid >= 0, context, "max_bid", max_bid, "at least 0");
    check_param(num_threads >= 0, context, "num_threads", num_threads,
                "at least 0 (0 = all cores)");
  }
};

/// Counts of one episode (or of a whole replay).
struct EpisodeResult {
  Index auctions = 0;  ///< auctions offered (fewer than the episode when replay stopped early)
  std::int64_t impressions = 0;
  std::int64_t clicks = 0;
  std::int64_t cost = 0;
};

/// What a replay measured. Prices are CPM (per 1000 impressions), so the spend in currency is
/// cost / 1000, as in the published tables.
struct ReplayResult {
  Index auctions = 0;
  std::int64_t impressions = 0;
  std::int64_t clicks = 0;
  std::int64_t cost = 0;
  /// Per episode, in log order (empty for sweep results).
  std::vector<EpisodeResult> episodes;

  double win_rate() const {
    return auctions > 0 ? static_cast<double>(impressions) / static_cast<double>(auctions) : 0.0;
  }
  /// Average market price paid: cost / impressions (CPM). NaN without impressions.
  double cpm() const {
    return impressions > 0 ? static_cast<double>(cost) / static_cast<double>(impressions)
                           : std::numeric_limits<double>::quiet_NaN();
  }
  /// Cost per click in currency: cost / 1000 / clicks. NaN without clicks.
  double ecpc() const {
    return clicks > 0 ? static_cast<double>(cost) / 1000.0 / static_cast<double>(clicks)
                      : std::numeric_limits<double>::quiet_NaN();
  }
  void add(const EpisodeResult& e) {
    auctions += e.auctions;
    impressions += e.impressions;
    clicks += e.clicks;
    cost += e.cost;
  }
};

namespace detail {

inline Index episode_count(Index n, const ReplayParams& p) {
  return p.episode_length == 0 ? 1 : (n + p.episode_length - 1) / p.episode_length;
}

/// One episode, auctions [begin, end).
template <Bidder B>
EpisodeResult replay_episode(const AuctionLog& log, const B& bidder, const ReplayParams& p,
                             Index episode, Index begin, Index end) {
  const std::uint8_t* click = log.click().data();
  const std::int32_t* price = log.price().data();
  const double* pctr = log.pctr().data();
  EpisodeResult r;
  AuctionState state;
  state.episode = episode;
  std::int64_t budget_left = p.budget;
  const std::int64_t max_bid = p.max_bid;
  // The episode's nominal end: the last, partial episode still starts with N auctions left
  // (rlb-dp's counter restarts at N), so a bidder that plans by auctions left sees the same
  // states in every episode.
  const Index nominal_end = begin + (p.episode_length == 0 ? end - begin : p.episode_length);
  for (Index i = begin; i < end; ++i) {
    state.auctions_left = nominal_end - i;
    state.budget_left = budget_left;
    state.auction = i;
    std::int64_t bid = static_cast<std::int64_t>(bidder(pctr[i], state));
    bid = std::min(bid, max_bid);
    if (p.cap_at_budget) bid = std::min(bid, budget_left);
    const std::int64_t m = price[i];
    const bool win = p.ties_win ? bid >= m : bid > m;
    ++r.auctions;
    if (win) {
      ++r.impressions;
      r.clicks += click[i];
      r.cost += m;
      budget_left -= m;
      if (p.stop_when_over_budget && r.cost > p.budget) break;
    }
  }
  return r;
}

}  // namespace detail

/// Replays `log` with `bidder` under protocol `params`.
template <Bidder B>
ReplayResult replay(const AuctionLog& log, const B& bidder, const ReplayParams& params) {
  params.validate("replay");
  const Index n = log.size();
  const Index episodes = detail::episode_count(n, params);
  const Index length = params.episode_length == 0 ? n : params.episode_length;
  ReplayResult result;
  result.episodes.resize(static_cast<std::size_t>(episodes));
  parallel_for_blocks(0, episodes, std::max<Index>(1, episodes / 64), params.num_threads,
                      [&](Index, Index lo, Index hi) {
                        for (Index e = lo; e < hi; ++e) {
                          const Index begin = e * length;
                          const Index end = std::min(n, begin + length);
                          result.episodes[static_cast<std::size_t>(e)] =
                              detail::replay_episode(log, bidder, params, e, begin, end);
                        }
                      });
  for (const auto& e : result.episodes) result.add(e);
  return result;
}

/// Replays every bidder of `bidders` over `log` in one pass (each auction is read once for all
/// of them); results[j] equals replay(log, bidders[j], params) without the per-episode breakdown.
template <Bidder B>
std::vector<ReplayResult> sweep(const AuctionLog& log, std::span<const B> bidders,
                                const ReplayParams& params) {
  params.validate("sweep");
  check_param(!bidders.empty(), "sweep", "bidders size", bidders.size(), "at least 1");
  const Index n = log.size();
  const Index episodes = detail::episode_count(n, params);
  const Index length = params.episode_length == 0 ? n : params.episode_length;
  const auto k = bidders.size();
  const Index block = std::max<Index>(1, episodes / 64);
  const Index blocks = num_blocks(0, episodes, block);
  // Totals per (block, bidder); integer sums, so the order of blocks cannot change them.
  std::vector<EpisodeResult> totals(static_cast<std::size_t>(blocks) * k);
  const std::uint8_t* click = log.click().data();
  const std::int32_t* price = log.price().data();
  const double* pctr = log.pctr().data();
  const std::int64_t max_bid = params.max_bid;
  parallel_for_blocks(0, episodes, block, params.num_threads, [&](Index b, Index lo, Index hi) {
    std::vector<std::int64_t> budget_left(k), cost(k);
    std::vector<std::uint8_t> active(k);
    EpisodeResult* out = totals.data() + static_cast<std::size_t>(b) * k;
    for (Index e = lo; e < hi; ++e) {
      const Index begin = e * length;
      const Index end = std::min(n, begin + length);
      std::fill(budget_left.begin(), budget_left.end(), params.budget);
      std::fill(cost.begin(), cost.end(), 0);
      std::fill(active.begin(), active.end(), 1);
      AuctionState state;
      state.episode = e;
      const Index nominal_end = begin + length;  // as in replay_episode
      for (Index i = begin; i < end; ++i) {
        state.auctions_left = nominal_end - i;
        state.auction = i;
        const std::int64_t m = price[i];
        const double theta = pctr[i];
        for (std::size_t j = 0; j < k; ++j) {
          if (!active[j]) continue;
          state.budget_left = budget_left[j];
          std::int64_t bid = static_cast<std::int64_t>(bidders[j](theta, state));
          bid = std::min(bid, max_bid);
          if (params.cap_at_budget) bid = std::min(bid, budget_left[j]);
          const bool win = params.ties_win ? bid >= m : bid > m;
          ++out[j].auctions;
          if (win) {
            ++out[j].impressions;
            out[j].clicks += click[i];
            out[j].cost += m;
            cost[j] += m;
            budget_left[j] -= m;
            if (params.stop_when_over_budget && cost[j] > params.budget) active[j] = 0;
          }
        }
      }
    }
  });
  std::vector<ReplayResult> results(k);
  for (Index b = 0; b < blocks; ++b) {
    for (std::size_t j = 0; j < k; ++j) results[j].add(totals[static_cast<std::size_t>(b) * k + j]);
  }
  return results;
}

/// A tuned constant and the clicks each candidate earned on the tuning stream.
struct TuningResult {
  double best = 0.0;
  std::vector<double> candidates;
  std::vector<std::int64_t> clicks;
};

namespace detail {

/// The candidate with the most clicks; ties go to the later candidate (rlb-dp's `perf >= obj`).
inline TuningResult pick_most_clicks(std::vector<double> candidates,
                                     const std::vector<ReplayResult>& results) {
  TuningResult t;
  t.candidates = std::move(candidates);
  t.clicks.reserve(results.size());
  std::int64_t best_clicks = -1;
  for (std::size_t j = 0; j < results.size(); ++j) {
    t.clicks.push_back(results[j].clicks);
    if (results[j].clicks >= best_clicks) {
      best_clicks = results[j].clicks;
      t.best = t.candidates[j];
    }
  }
  return t;
}

inline void check_candidates(std::string_view context, std::span<const double> candidates) {
  check_param(!candidates.empty(), context, "candidates size", candidates.size(), "at least 1");
  for (std::size_t j = 0; j < candidates.size(); ++j) {
    if (!(std::isfinite(candidates[j]) && candidates[j] > 0.0)) {
      raise<InvalidArgument>("{}: candidates[{}] = {}, expected a finite value > 0", context, j,
                             candidates[j]);
    }
  }
}

}  // namespace detail

/// Tunes the linear bidder's base bid b0 on a training stream: the candidate that wins the most
/// clicks under `params` (one sweep over the stream).
inline TuningResult tune_linear_b0(const AuctionLog& train, double theta_avg,
                                   std::span<const double> candidates, const ReplayParams& params) {
  detail::check_candidates("tune_linear_b0", candidates);
  std::vector<LinearBidder> bidders;
  bidders.reserve(candidates.size());
  for (const double b0 : candidates) bidders.emplace_back(b0, theta_avg);
  const auto results = sweep(train, std::span<const LinearBidder>(bidders), params);
  return detail::pick_most_clicks({candidates.begin(), candidates.end()}, results);
}

/// Tunes ORTB's λ on a training stream: the candidate that wins the most clicks under `params`.
inline TuningResult tune_ortb_lambda(const AuctionLog& train, WinningFunction kind, double c,
                                     std::span<const double> candidates,
                                     const ReplayParams& params) {
  detail::check_candidates("tune_ortb_lambda", candidates);
  std::vector<OrtbBidder> bidders;
  bidders.reserve(candidates.size());
  for (const double lambda : candidates) bidders.emplace_back(kind, c, lambda);
  const auto results = sweep(train, std::span<const OrtbBidder>(bidders), params);
  return detail::pick_most_clicks({candidates.begin(), candidates.end()}, results);
}

/// `count` values spaced evenly in log scale from `lo` to `hi` (candidate λ grids).
inline std::vector<double> log_grid(double lo, double hi, Index count) {
  check_param(std::isfinite(lo) && lo > 0.0, "log_grid", "lo", lo, "a finite value > 0");
  check_param(std::isfinite(hi) && hi >= lo, "log_grid", "hi", hi, "a finite value >= lo");
  check_param(count >= 1 && count <= 1'000'000, "log_grid", "count", count,
              "between 1 and 1000000");
  std::vector<double> grid(static_cast<std::size_t>(count));
  for (Index i = 0; i < count; ++i) {
    const double t = count == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(count - 1);
    grid[static_cast<std::size_t>(i)] = std::exp(std::log(lo) + t * (std::log(hi) - std::log(lo)));
  }
  return grid;
}

}  // namespace tailor::bidding
