// tailor/bidding/pacing.hpp — budget pacing: spend a campaign's budget evenly over the log's time
// instead of exhausting it on the first auctions.
//
// A bid-modifying pacer (the multiplier form of Agarwal et al., KDD 2014 "Budget pacing for
// targeted online advertisements at LinkedIn"; the PID form of Zhang et al., WSDM 2016
// "Feedback control of real-time display advertising"): the log's time span (its timestamps, or
// the auction index without them) is cut into `num_slots` equal slots; within slot k every bid of
// the base bidder is scaled by a multiplier α_k; after the slot, the spend is compared with the
// target — the budget left spread evenly over the slots left — and α is updated:
//  * multiplicative: α_{k+1} = α_k · clamp((target_k / spend_k)^gain, 1/max_step, max_step),
//    doubling (max_step) when nothing was spent;
//  * pid: e_k = (even-spend line − cumulative spend) / (budget / num_slots), the error in
//    slots' worth of spend; α_{k+1} = α_1 · exp(kp·e_k + ki·Σ_{j<=k} e_j + kd·(e_k − e_{k−1})).
// α stays in [min_multiplier, max_multiplier]. Bids are ⌊α · base bid⌋, capped at max_bid and at
// the budget left (the budget is never overspent). The result carries the spend curve: cumulative
// spend against the even-spend target at each slot's end.
// Complexity: O(auctions), sequential (each slot's multiplier depends on the previous spend).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "tailor/bidding/auction_log.hpp"
#include "tailor/bidding/bidders.hpp"
#include "tailor/bidding/replay.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::bidding {

enum class PacingController { multiplicative, pid };

struct PacingParams {
  /// Budget for the whole log (the "daily budget"), in the log's price units.
  std::int64_t budget = 0;
  /// Control slots over the log's time span.
  Index num_slots = 96;  ///< 15-minute slots over a day
  PacingController controller = PacingController::multiplicative;
  double initial_multiplier = 1.0;
  double min_multiplier = 1e-3;
  double max_multiplier = 100.0;
  /// multiplicative: exponent of the spend ratio and the largest change per slot.
  double gain = 1.0;
  double max_step = 2.0;
  /// pid: gains on the cumulative spend error (in slots' worth of spend).
  double kp = 0.3;
  double ki = 0.05;
  double kd = 0.0;
  int max_bid = 300;
  bool ties_win = true;

  void validate() const {
    constexpr std::string_view c = "PacingParams";
    check_param(budget >= 1, c, "budget", budget, "at least 1");
    check_param(num_slots >= 1 && num_slots <= 10'000'000, c, "num_slots", num_slots,
                "between 1 and 10000000");
    check_param(std::isfinite(min_multiplier) && min_multiplier > 0.0, c, "min_multiplier",
                min_multiplier, "a finite value > 0");
    check_param(std::isfinite(max_multiplier) && max_multiplier >= min_multiplier, c,
                "max_multiplier", max_multiplier, "a finite value >= min_multiplier");
    check_param(std::isfinite(initial_multiplier) && initial_multiplier >= min_multiplier &&
                    initial_multiplier <= max_multiplier,
                c, "initial_multiplier", initial_multiplier,
                "a value in [min_multiplier, max_multiplier]");
    check_param(std::isfinite(gain) && gain > 0.0, c, "gain", gain, "a finite value > 0");
    check_param(std::isfinite(max_step) && max_step > 1.0, c, "max_step", max_step,
                "a finite value > 1");
    check_param(std::isfinite(kp) && std::isfinite(ki) && std::isfinite(kd), c, "kp/ki/kd",
                fmt::format("{}/{}/{}", kp, ki, kd), "finite gains");
    check_param(max_bid >= 0, c, "max_bid", max_bid, "at least 0");
  }
};

/// A paced replay: the totals and, per slot, its end (time or auction index), the multiplier
/// used, the cumulative spend and the even-spend line budget·(k+1)/num_slots.
struct PacingResult {
  ReplayResult totals;
  std::vector<double> slot_end;
  std::vector<double> multiplier;
  std::vector<std::int64_t> cumulative_spend;
  std::vector<double> cumulative_target;
  /// Largest |cumulative spend − target| / budget over the slots.
  double max_deviation(std::int64_t budget) const {
    double worst = 0.0;
    for (std::size_t k = 0; k < cumulative_spend.size(); ++k) {
      worst = std::max(worst,
                       std::fabs(static_cast<double>(cumulative_spend[k]) - cumulative_target[k]) /
                           static_cast<double>(budget));
    }
    return worst;
  }
};

/// Replays `log` once with `bidder`'s bids scaled by a pacing multiplier (see the file comment).
template <Bidder B>
PacingResult pace(const AuctionLog& log, const B& bidder, const PacingParams& params) {
  params.validate();
  const Index n = log.size();
  const auto slots = static_cast<std::size_t>(params.num_slots);
  // Slot of each auction: by timestamp when present, else by index.
  const bool timed = log.has_time();
  const double t0 = timed ? log.time().front() : 0.0;
  const double t1 = timed ? log.time().back() : static_cast<double>(n);
  const double span = t1 > t0 ? t1 - t0 : 1.0;
  const auto slot_of = [&](Index i) -> std::size_t {
    const double t = timed ? log.time()[static_cast<std::size_t>(i)] : static_cast<double>(i);
    const double k = std::floor((t - t0) / span * static_cast<double>(slots));
    return static_cast<std::size_t>(std::clamp(k, 0.0, static_cast<double>(slots - 1)));
  };

  PacingResult result;
  result.slot_end.resize(slots);
  result.multiplier.resize(slots);
  result.cumulative_spend.resize(slots);
  result.cumulative_target.resize(slots);
  for (std::size_t k = 0; k < slots; ++k) {
    result.slot_end[k] = t0 + span * static_cast<double>(k + 1) / static_cast<double>(slots);
  }

  const std::uint8_t* click = log.click().data();
  const std::int32_t* price = log.price().data();
  const double* pctr = log.pctr().data();
  std::int64_t budget_left = params.budget;
  double alpha = params.initial_multiplier;
  double error_sum = 0.0, last_error = 0.0;
  std::int64_t spent_before_slot = 0;
  ReplayResult& totals = result.totals;
  AuctionState state;
  Index i = 0;
  for (std::size_t k = 0; k < slots; ++k) {
    result.multiplier[k] = alpha;
    // Target for this slot: the budget left spread evenly over the slots left.
    const double slot_target = static_cast<double>(budget_left) / static_cast<double>(slots - k);
    for (; i < n && slot_of(i) == k; ++i) {
      state.auctions_left = n - i;
      state.budget_left = budget_left;
      state.auction = i;
      const double base = static_cast<double>(bidder(pctr[i], state));
      std::int64_t bid = truncate_bid(alpha * base);
      bid = std::min<std::int64_t>(bid, params.max_bid);
      bid = std::min(bid, budget_left);
      const std::int64_t m = price[i];
      ++totals.auctions;
      if (params.ties_win ? bid >= m : bid > m) {
        ++totals.impressions;
        totals.clicks += click[i];
        totals.cost += m;
        budget_left -= m;
      }
    }
    const std::int64_t slot_spend = totals.cost - spent_before_slot;
    spent_before_slot = totals.cost;
    // The even-spend line: the whole budget spread over the slots.
    const double even = static_cast<double>(params.budget) * static_cast<double>(k + 1) /
                        static_cast<double>(slots);
    result.cumulative_spend[k] = totals.cost;
    result.cumulative_target[k] = even;
    if (params.controller == PacingController::multiplicative) {
      const double ratio =
          slot_spend > 0 ? slot_target / static_cast<double>(slot_spend) : params.max_step;
      const double step =
          std::clamp(std::pow(ratio, params.gain), 1.0 / params.max_step, params.max_step);
      alpha = std::clamp(alpha * step, params.min_multiplier, params.max_multiplier);
    } else {
      const double e = (even - static_cast<double>(totals.cost)) * static_cast<double>(slots) /
                       static_cast<double>(params.budget);
      error_sum += e;
      const double u = params.kp * e + params.ki * error_sum + params.kd * (e - last_error);
      last_error = e;
      alpha = std::clamp(params.initial_multiplier * std::exp(std::clamp(u, -50.0, 50.0)),
                         params.min_multiplier, params.max_multiplier);
    }
  }
  return result;
}

}  // namespace tailor::bidding
