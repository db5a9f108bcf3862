// tailor/bidding/bidders.hpp — bidding functions: pCTR (and the auction state) → an integer bid.
//
// A bidder is any callable `int(double pctr, const AuctionState&)` (the Bidder concept), so a
// user's lambda plugs into replay() like the built-in value types:
//  * ConstantBidder   b = const
//  * McpcBidder       b = ⌊θ · eCPC_train⌋, eCPC_train = cost_train / clk_train (bid the
//                     training cost of a click times its probability; Zhang et al. 2014 "Mcpc")
//  * LinearBidder     b = ⌊θ · b0 / θ_avg⌋ (Perlich et al., KDD 2012), b0 tuned on a training
//                     stream (tune_linear_b0 in replay.hpp)
//  * OrtbBidder       optimal RTB (Zhang, Yuan & Wang, KDD 2014): maximise Σ θ·w(b) subject to
//                     Σ b·w(b) ≤ budget; the Lagrangian's first-order condition
//                     θ·w′(b) = λ·(w(b) + b·w′(b)) has the closed forms
//                       ORTB1, w = b/(c+b):      b = √(cθ/λ + c²) − c
//                       ORTB2, w = b²/(c²+b²):   b = c·[((θ+√(c²λ²+θ²))/(cλ))^⅓ −
//                       (cλ/(θ+√(c²λ²+θ²)))^⅓]
//                     with c fitted to the landscape and λ tuned on a training stream.
//  * RlbBidder        the MDP bidder of Cai et al. 2017 (rlb.hpp).
// Truncation follows the published code: a real-valued bid is truncated toward zero (Python's
// int()), then replay caps it (at 300 and the remaining budget under the rlb_dp protocol).
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>

#include "tailor/bidding/auction_log.hpp"
#include "tailor/bidding/landscape.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::bidding {

/// What a bidder may look at besides the pCTR: the auctions left in the episode (this one
/// included; rlb-dp's n, counted from the episode length N even in a last, partial episode),
/// the budget left, the episode and the auction's row in the log.
struct AuctionState {
  Index auctions_left = 0;
  std::int64_t budget_left = 0;
  Index episode = 0;
  Index auction = 0;
};

/// A bidding function: `bidder(pctr, state)` returns an integer bid.
template <class B>
concept Bidder = requires(const B& bidder, double pctr, const AuctionState& state) {
  { bidder(pctr, state) } -> std::integral;
};

/// Truncates a real-valued bid toward zero like Python's int(), saturating at the int range
/// (a bid that large is capped by replay anyway). NaN bids become 0.
inline int truncate_bid(double bid) {
  if (!(bid == bid)) return 0;
  if (bid >= static_cast<double>(std::numeric_limits<int>::max())) {
    return std::numeric_limits<int>::max();
  }
  if (bid <= static_cast<double>(std::numeric_limits<int>::min())) {
    return std::numeric_limits<int>::min();
  }
  return static_cast<int>(bid);
}

/// Bids the same amount in every auction.
struct ConstantBidder {
  int bid = 0;
  int operator()(double, const AuctionState&) const { return bid; }
};

/// Mcpc: ⌊θ · cpc⌋, bidding the training cost per click times the click probability.
struct McpcBidder {
  double cpc = 0.0;

  explicit McpcBidder(double cost_per_click) : cpc(cost_per_click) {
    check_param(std::isfinite(cpc) && cpc >= 0.0, "McpcBidder", "cpc", cpc, "a finite value >= 0");
  }
  /// cpc = cost_train / clk_train, as rlb-dp's Mcpc.
  static McpcBidder from(const CampaignInfo& info) { return McpcBidder(info.cpc_train()); }

  int operator()(double pctr, const AuctionState&) const { return truncate_bid(pctr * cpc); }
};

/// Linear bidding: ⌊θ · b0 / θ_avg⌋ (the product first, then the division, as in rlb-dp).
struct LinearBidder {
  double b0 = 0.0;
  double theta_avg = 0.0;

  LinearBidder(double base_bid, double average_ctr) : b0(base_bid), theta_avg(average_ctr) {
    check_param(std::isfinite(b0) && b0 >= 0.0, "LinearBidder", "b0", b0, "a finite value >= 0");
    check_param(std::isfinite(theta_avg) && theta_avg > 0.0, "LinearBidder", "theta_avg", theta_avg,
                "a finite value > 0 (the average CTR)");
  }
  /// θ_avg = clk_train / imp_train.
  static LinearBidder from(const CampaignInfo& info, double b0) {
    return LinearBidder(b0, info.ctr_train());
  }

  int operator()(double pctr, const AuctionState&) const {
    return truncate_bid(pctr * b0 / theta_avg);
  }
};

/// ORTB1's optimal bid √(cθ/λ + c²) − c (real-valued).
inline double ortb1_bid(double pctr, double c, double lambda) {
  return std::sqrt(c * pctr / lambda + c * c) - c;
}

/// ORTB2's optimal bid c·[((θ + √(c²λ² + θ²))/(cλ))^⅓ − (cλ/(θ + √(c²λ² + θ²)))^⅓].
inline double ortb2_bid(double pctr, double c, double lambda) {
  const double s = pctr + std::sqrt(c * c * lambda * lambda + pctr * pctr);
  const double ratio = s / (c * lambda);
  return c * (std::cbrt(ratio) - std::cbrt(1.0 / ratio));
}

/// Optimal RTB bidder (ORTB1 or ORTB2) with winning-function constant c and Lagrange
/// multiplier λ (larger λ = tighter budget = lower bids).
struct OrtbBidder {
  WinningFunction kind = WinningFunction::ortb1;
  double c = 0.0;
  double lambda = 0.0;

  OrtbBidder(WinningFunction winning_function, double c_value, double lambda_value)
      : kind(winning_function), c(c_value), lambda(lambda_value) {
    check_param(std::isfinite(c) && c > 0.0, "OrtbBidder", "c", c, "a finite value > 0");
    check_param(std::isfinite(lambda) && lambda > 0.0, "OrtbBidder", "lambda", lambda,
                "a finite value > 0");
  }

  double real_bid(double pctr) const {
    return kind == WinningFunction::ortb1 ? ortb1_bid(pctr, c, lambda) : ortb2_bid(pctr, c, lambda);
  }
  int operator()(double pctr, const AuctionState&) const { return truncate_bid(real_bid(pctr)); }
};

}  // namespace tailor::bidding
