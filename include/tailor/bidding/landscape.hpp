// tailor/bidding/landscape.hpp — the bid landscape: win probability and expected cost by bid,
// from a histogram of market prices, and the winning functions of optimal RTB.
//
// With integer market prices p and counts n_p (a campaign's training prices), a bid b wins
// when b >= p (second-price auctions with ties won, rlb-dp's protocol) with probability
// W(b) = Σ_{p <= b} n_p / Σ n_p, and pays the market price: the expected cost per auction is
// C(b) = Σ_{p <= b} p·n_p / Σ n_p. RLB's market-price density uses Laplace smoothing,
// m(δ) = (n_δ + 1) / (Σ n + (P + 1)) over prices 0..P (Cai et al., WSDM 2017, utility.calc_m_pdf).
//
// ORTB (Zhang, Yuan & Wang, KDD 2014) models the winning function as
//   w₁(b) = b / (c + b)           (ORTB1)      w₂(b) = b² / (c² + b²)      (ORTB2)
// with c fitted here by least squares to the empirical W over the integer bids 0..P (a golden-
// section search on log c; the loss is smooth and, over the range searched, unimodal).
// Complexity: O(P) to build, O(1) per query (prefix sums), O(P · 120) to fit c.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "tailor/bidding/auction_log.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::bidding {

/// ORTB1's winning function w(b) = b / (c + b) and its derivative c / (c + b)².
inline double ortb1_win_rate(double bid, double c) {
  return bid / (c + bid);
}
inline double ortb1_win_rate_derivative(double bid, double c) {
  return c / ((c + bid) * (c + bid));
}
/// ORTB2's winning function w(b) = b² / (c² + b²) and its derivative 2bc² / (c² + b²)².
inline double ortb2_win_rate(double bid, double c) {
  return bid * bid / (c * c + bid * bid);
}
inline double ortb2_win_rate_derivative(double bid, double c) {
  const double d = c * c + bid * bid;
  return 2.0 * bid * c * c / (d * d);
}

/// Which parametric winning function an ORTB bidder assumes.
enum class WinningFunction { ortb1, ortb2 };

/// Win probability and expected cost by bid from a histogram of integer market prices.
class BidLandscape {
 public:
  /// counts[p] = auctions whose market price was p, for p = 0..P. Throws InvalidArgument on an
  /// empty histogram, a negative count or a zero total.
  explicit BidLandscape(std::vector<std::int64_t> counts) : counts_(std::move(counts)) {
    check_param(!counts_.empty(), "BidLandscape", "counts size", counts_.size(), "at least 1");
    cumulative_.resize(counts_.size());
    cost_cumulative_.resize(counts_.size());
    std::int64_t total = 0;
    double cost = 0.0;
    for (std::size_t p = 0; p < counts_.size(); ++p) {
      if (counts_[p] < 0) {
        raise<InvalidArgument>("BidLandscape: counts[{}] = {}, expected a count >= 0", p,
                               counts_[p]);
      }
      total += counts_[p];
      cost += static_cast<double>(p) * static_cast<double>(counts_[p]);
      cumulative_[p] = total;
      cost_cumulative_[p] = cost;
    }
    check_param(total > 0, "BidLandscape", "total count", total, "at least 1");
    total_ = total;
  }

  /// The training prices of a campaign (CampaignInfo::price_counter_train).
  static BidLandscape from(const CampaignInfo& info) {
    return BidLandscape(info.price_counter_train);
  }

  /// Number of prices counted.
  std::int64_t total() const { return total_; }
  /// Largest price in the histogram (its size - 1).
  Index max_price() const { return static_cast<Index>(counts_.size()) - 1; }
  std::span<const std::int64_t> counts() const { return counts_; }

  /// Empirical W(b): the share of prices <= b (ties_win) or < b (ties lose). Prices are
  /// integers, so a fractional bid counts as its floor (ties_win) or ceiling (ties lose).
  double win_probability(double bid, bool ties_win = true) const {
    check_param(std::isfinite(bid), "BidLandscape::win_probability", "bid", bid, "a finite value");
    const double cut = ties_win ? std::floor(bid) : std::ceil(bid) - 1.0;
    return static_cast<double>(count_at_most(cut)) / static_cast<double>(total_);
  }

  /// Expected cost per auction of bidding b: Σ_{p won} p · n_p / Σ n_p.
  double expected_cost(double bid, bool ties_win = true) const {
    check_param(std::isfinite(bid), "BidLandscape::expected_cost", "bid", bid, "a finite value");
    const double cut = ties_win ? std::floor(bid) : std::ceil(bid) - 1.0;
    if (cut < 0.0) return 0.0;
    const auto p = cut >= static_cast<double>(max_price()) ? counts_.size() - 1
                                                           : static_cast<std::size_t>(cut);
    return cost_cumulative_[p] / static_cast<double>(total_);
  }

  /// The Laplace-smoothed market-price density over 0..P: (n_p + laplace) / (Σ n + (P+1)·laplace),
  /// computed as rlb-dp does (one division of exact integers-as-doubles per price).
  std::vector<double> market_price_pdf(double laplace = 1.0) const {
    check_param(laplace >= 0.0 && std::isfinite(laplace), "BidLandscape::market_price_pdf",
                "laplace", laplace, "a finite value >= 0");
    std::vector<double> pdf(counts_.size());
    const double denominator =
        static_cast<double>(total_) + static_cast<double>(counts_.size()) * laplace;
    for (std::size_t p = 0; p < counts_.size(); ++p) {
      pdf[p] = (static_cast<double>(counts_[p]) + laplace) / denominator;
    }
    return pdf;
  }

  /// The constant c of a winning function fitted by least squares to W(b), b = 0..P.
  double fit_winning_function(WinningFunction kind) const {
    const auto loss = [&](double log_c) {
      const double c = std::exp(log_c);
      double sum = 0.0;
      for (Index b = 0; b <= max_price(); ++b) {
        const double w = kind == WinningFunction::ortb1 ? ortb1_win_rate(static_cast<double>(b), c)
                                                        : ortb2_win_rate(static_cast<double>(b), c);
        const double r = win_probability(static_cast<double>(b)) - w;
        sum += r * r;
      }
      return sum;
    };
    // Golden-section search over log c in [log 1e-3, log(100 · (P + 1))].
    double lo = std::log(1e-3);
    double hi = std::log(100.0 * static_cast<double>(counts_.size()));
    const double ratio = (std::sqrt(5.0) - 1.0) / 2.0;
    double x1 = hi - ratio * (hi - lo);
    double x2 = lo + ratio * (hi - lo);
    double f1 = loss(x1);
    double f2 = loss(x2);
    for (int it = 0; it < 120; ++it) {
      if (f1 <= f2) {
        hi = x2;
        x2 = x1;
        f2 = f1;
        x1 = hi - ratio * (hi - lo);
        f1 = loss(x1);
      } else {
        lo = x1;
        x1 = x2;
        f1 = f2;
        x2 = lo + ratio * (hi - lo);
        f2 = loss(x2);
      }
    }
    return std::exp(0.5 * (lo + hi));
  }

 private:
  std::int64_t count_at_most(double cut) const {
    if (cut < 0.0) return 0;
    if (cut >= static_cast<double>(max_price())) return total_;
    return cumulative_[static_cast<std::size_t>(cut)];
  }

  std::vector<std::int64_t> counts_;
  std::vector<std::int64_t> cumulative_;
  std::vector<double> cost_cumulative_;
  std::int64_t total_ = 0;
};

}  // namespace tailor::bidding
