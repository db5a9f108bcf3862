// tailor/bidding/auction_log.hpp — a replayable log of second-price auctions and a campaign's
// training statistics.
//
// An AuctionLog holds, per auction in time order, whether the impression was clicked, the market
// price (the highest competing bid, which the winner pays; integer CPM units as in iPinYou) and
// a predicted CTR from any model. It is validated once (prices non-negative integers, pCTR in
// [0, 1], clicks 0/1, optional timestamps finite and non-decreasing) so replay and bidders never
// re-check. Columns are stored separately (struct of arrays): replay streams them at memory
// speed, 13 bytes per auction.
//
// CampaignInfo is what rlb-dp's `info.json` holds (Cai et al., WSDM 2017; Zhang et al., KDD
// 2014): training impressions, clicks, cost and the histogram of training market prices. Every
// bidder's constant comes from it: CPM_train = cost/imp, θ_avg = clk/imp, eCPC_train = cost/clk.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::bidding {

/// Auctions in time order: click (0/1), market price (integer >= 0), pCTR in [0, 1], and
/// optional timestamps (any unit, non-decreasing; pacing uses them, replay does not).
class AuctionLog {
 public:
  /// Validates and takes the columns; throws ShapeMismatch on different lengths and DataError
  /// naming the first bad row ("AuctionLog: price[12] = -3, expected a non-negative integer").
  AuctionLog(std::vector<std::uint8_t> click, std::vector<std::int32_t> price,
             std::vector<double> pctr, std::vector<double> time = {})
      : click_(std::move(click)),
        price_(std::move(price)),
        pctr_(std::move(pctr)),
        time_(std::move(time)) {
    validate();
  }

  /// From Eigen columns (for example a model's predictions): clicks must be exactly 0 or 1 and
  /// prices non-negative integers representable as int32.
  static AuctionLog from_columns(const Eigen::Ref<const Eigen::VectorXd>& click,
                                 const Eigen::Ref<const Eigen::VectorXd>& price,
                                 const Eigen::Ref<const Eigen::VectorXd>& pctr) {
    check_rows("AuctionLog", "price", price.size(), click.size(), "the rows of click");
    check_rows("AuctionLog", "pctr", pctr.size(), click.size(), "the rows of click");
    const auto n = static_cast<std::size_t>(click.size());
    std::vector<std::uint8_t> c(n);
    std::vector<std::int32_t> p(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double ci = click[static_cast<Index>(i)];
      if (!(ci == 0.0 || ci == 1.0)) {
        raise<DataError>("AuctionLog: click[{}] = {}, expected 0 or 1", i, ci);
      }
      c[i] = ci == 1.0 ? 1 : 0;
      const double pi = price[static_cast<Index>(i)];
      if (!(pi >= 0.0 && pi <= std::numeric_limits<std::int32_t>::max() && pi == std::floor(pi))) {
        raise<DataError>("AuctionLog: price[{}] = {}, expected a non-negative integer", i, pi);
      }
      p[i] = static_cast<std::int32_t>(pi);
    }
    return AuctionLog(std::move(c), std::move(p), std::vector<double>(pctr.begin(), pctr.end()));
  }

  /// The same auctions with another pCTR column (for example the true CTR, for an oracle).
  AuctionLog with_pctr(std::vector<double> pctr) const {
    return AuctionLog(click_, price_, std::move(pctr), time_);
  }

  /// Auctions [begin, begin + count) as a new log.
  AuctionLog slice(Index begin, Index count) const {
    check_param(begin >= 0 && begin <= size(), "AuctionLog::slice", "begin", begin,
                fmt::format("between 0 and {}", size()));
    check_param(count >= 1 && count <= size() - begin, "AuctionLog::slice", "count", count,
                fmt::format("between 1 and {}", size() - begin));
    const auto b = static_cast<std::ptrdiff_t>(begin);
    const auto e = b + static_cast<std::ptrdiff_t>(count);
    return AuctionLog({click_.begin() + b, click_.begin() + e},
                      {price_.begin() + b, price_.begin() + e},
                      {pctr_.begin() + b, pctr_.begin() + e},
                      time_.empty() ? std::vector<double>{}
                                    : std::vector<double>(time_.begin() + b, time_.begin() + e));
  }

  Index size() const { return static_cast<Index>(click_.size()); }
  std::span<const std::uint8_t> click() const { return click_; }
  std::span<const std::int32_t> price() const { return price_; }
  std::span<const double> pctr() const { return pctr_; }
  /// Empty when the log has no timestamps.
  std::span<const double> time() const { return time_; }
  bool has_time() const { return !time_.empty(); }

  std::int64_t total_clicks() const {
    std::int64_t s = 0;
    for (const auto c : click_) s += c;
    return s;
  }
  std::int64_t total_cost() const {
    std::int64_t s = 0;
    for (const auto p : price_) s += p;
    return s;
  }
  std::int32_t max_price() const {
    std::int32_t m = 0;
    for (const auto p : price_) m = p > m ? p : m;
    return m;
  }

 private:
  void validate() const {
    const auto n = static_cast<Index>(click_.size());
    check_nonempty("AuctionLog", "click", n);
    check_rows("AuctionLog", "price", static_cast<Index>(price_.size()), n, "the rows of click");
    check_rows("AuctionLog", "pctr", static_cast<Index>(pctr_.size()), n, "the rows of click");
    if (!time_.empty()) {
      check_rows("AuctionLog", "time", static_cast<Index>(time_.size()), n,
                 "the rows of click, or 0 for no timestamps");
    }
    for (std::size_t i = 0; i < click_.size(); ++i) {
      if (click_[i] > 1) {
        raise<DataError>("AuctionLog: click[{}] = {}, expected 0 or 1", i, int{click_[i]});
      }
      if (price_[i] < 0) {
        raise<DataError>("AuctionLog: price[{}] = {}, expected a non-negative integer", i,
                         price_[i]);
      }
      if (!(pctr_[i] >= 0.0 && pctr_[i] <= 1.0)) {
        raise<DataError>("AuctionLog: pctr[{}] = {}, expected a probability in [0, 1]", i,
                         pctr_[i]);
      }
    }
    for (std::size_t i = 0; i < time_.size(); ++i) {
      if (!std::isfinite(time_[i])) {
        raise<DataError>("AuctionLog: time[{}] = {}, expected a finite value", i, time_[i]);
      }
      if (i > 0 && time_[i] < time_[i - 1]) {
        raise<DataError>(
            "AuctionLog: time[{}] = {} < time[{}] = {}, expected non-decreasing "
            "timestamps (auctions in time order)",
            i, time_[i], i - 1, time_[i - 1]);
      }
    }
  }

  std::vector<std::uint8_t> click_;
  std::vector<std::int32_t> price_;
  std::vector<double> pctr_;
  std::vector<double> time_;
};

/// A campaign's training statistics (rlb-dp's info.json): impressions, clicks and cost of the
/// training period and the histogram of its market prices (price_counter[p] = impressions won at
/// price p). Test statistics are optional (0 = unknown).
struct CampaignInfo {
  std::int64_t imp_train = 0;
  std::int64_t clk_train = 0;
  std::int64_t cost_train = 0;
  std::vector<std::int64_t> price_counter_train;
  std::int64_t imp_test = 0;
  std::int64_t clk_test = 0;
  std::int64_t cost_test = 0;

  /// Training CPM per impression (cost_train / imp_train; rlb-dp's `cpm`).
  double cpm_train() const {
    validate();
    return static_cast<double>(cost_train) / static_cast<double>(imp_train);
  }
  /// Training CTR θ_avg = clk_train / imp_train.
  double ctr_train() const {
    validate();
    return static_cast<double>(clk_train) / static_cast<double>(imp_train);
  }
  /// Training cost per click = cost_train / clk_train (Mcpc's value of a click).
  double cpc_train() const {
    validate();
    check_param(clk_train > 0, "CampaignInfo", "clk_train", clk_train,
                "at least 1 (the cost per click is undefined without clicks)");
    return static_cast<double>(cost_train) / static_cast<double>(clk_train);
  }

  /// Throws InvalidArgument naming the first inconsistent field.
  void validate() const {
    check_param(imp_train >= 1, "CampaignInfo", "imp_train", imp_train, "at least 1");
    check_param(clk_train >= 0 && clk_train <= imp_train, "CampaignInfo", "clk_train", clk_train,
                fmt::format("between 0 and imp_train = {}", imp_train));
    check_param(cost_train >= 0, "CampaignInfo", "cost_train", cost_train, "at least 0");
    for (std::size_t p = 0; p < price_counter_train.size(); ++p) {
      if (price_counter_train[p] < 0) {
        raise<InvalidArgument>("CampaignInfo: price_counter_train[{}] = {}, expected a count >= 0",
                               p, price_counter_train[p]);
      }
    }
  }

  /// Statistics of a training stream: every auction of `log` counted as a won impression at its
  /// market price (the rlb-dp convention: the training logs hold won impressions only); the
  /// histogram has max(max_price, the log's largest price) + 1 bins.
  static CampaignInfo from_log(const AuctionLog& log, std::int32_t max_price = 300) {
    CampaignInfo info;
    info.imp_train = log.size();
    info.clk_train = log.total_clicks();
    info.cost_train = log.total_cost();
    const std::int32_t top = std::max(max_price, log.max_price());
    info.price_counter_train.assign(static_cast<std::size_t>(top) + 1, 0);
    for (const auto p : log.price()) ++info.price_counter_train[static_cast<std::size_t>(p)];
    return info;
  }
};

}  // namespace tailor::bidding
