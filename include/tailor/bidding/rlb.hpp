// tailor/bidding/rlb.hpp — Real-time bidding by reinforcement learning (RLB; Cai, Ren, Zhang,
// Malialis, Wang, Yu & Guo, WSDM 2017): the bidding MDP's value function by dynamic programming,
// and the RLB and SS-MDP bidders that act on it.
//
// State: n auctions left in the episode and budget b left. With the market-price density
// m(δ), δ = 0..P (Laplace-smoothed training prices, BidLandscape::market_price_pdf) and the
// average CTR θ_avg as the expected value of an impression, V_0 ≡ 0 and for n = 1..N−1
//   a_n(b) = min(P, the largest δ with θ_avg + V_{n−1}(b−δ) − V_{n−1}(b) >= 0),
//   V_n(b) = V_{n−1}(b) + Σ_{δ=0}^{a_n(b)} m(δ)·(θ_avg + V_{n−1}(b−δ) − V_{n−1}(b)),
// the sum accumulated in δ order. This follows the published code (rlb_dp_i.py) operation for
// operation, so V and every bid are bit-identical to it: a_n(b) is found by its two-pointer scan
// from b = B down (the pointer never moves back up), each product is rounded before it is added
// (no fused multiply-add, whatever the compiler flags), and a row stops early where V_n(b) comes
// within 1e−10 of V_max(n) = n·Σ_δ m(δ)·θ_avg (the value of winning every auction), filling the
// larger budgets with V_max(n).
//
// The RLB bid with n auctions left, budget b and pCTR θ is the largest δ <= min(b, P) such that
// θ + V_{n−1}(b−δ) − V_{n−1}(b) >= 0 for every δ' = 1..δ (rlb-dp scans δ = 1, 2, … and stops at
// the first failure). tailor scans the first 64 steps the same way; beyond them, when the row
// V_{n−1} is non-decreasing in b (checked once per row at solve time) the predicate is monotone
// in δ, so a bisection returns exactly the scan's answer; otherwise the scan goes on. SS-MDP is
// the same bidder with θ replaced by θ_avg.
//
// Complexity: the solve is O(N · B · P) in the worst case and far less in practice (the early
// stop), one row of B + 1 doubles per n: N·(B+1)·8 bytes (15.8 MB for N = 1000, B = 1969); a bid
// is O(min(bid, 64) + log P).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/bidding/bidders.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"

namespace tailor::bidding {

namespace detail {

/// a · b rounded to double before any later addition: an empty asm ties the product to a
/// register so the compiler cannot fuse it into an FMA (which -march=native and
/// -ffp-contract=fast would do), keeping the DP bit-identical to the published code.
inline double unfused_product(double a, double b) {
  double p = a * b;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  asm("" : "+x"(p));
#elif defined(__GNUC__) && defined(__aarch64__)
  asm("" : "+w"(p));
#else
  volatile double barrier = p;
  p = barrier;
#endif
  return p;
}

}  // namespace detail

/// The RLB value function V_n(b) for n = 0..N−1 auctions left and budgets b = 0..B.
class RlbValueFunction {
 public:
  static constexpr std::string_view kTypeTag = "bidding::RlbValueFunction";
  /// Largest table solve() accepts: N·(B+1) values (2 GiB of doubles).
  static constexpr std::int64_t kMaxValues = std::int64_t{1} << 28;

  /// Solves the DP for episodes of `episode_length` (N) auctions with budget `budget` (B),
  /// impression value `theta_avg` and market-price density `market_price_pdf` over prices
  /// 0..P (P = its size − 1 is also the largest bid). Reports progress per round ("rounds").
  static RlbValueFunction solve(Index episode_length, std::int64_t budget, double theta_avg,
                                std::span<const double> market_price_pdf,
                                const ProgressCallback& progress = {}) {
    constexpr std::string_view kContext = "RlbValueFunction::solve";
    check_param(episode_length >= 1, kContext, "episode_length", episode_length, "at least 1");
    check_param(budget >= 0, kContext, "budget", budget, "at least 0");
    check_param(theta_avg >= 0.0 && theta_avg <= 1.0, kContext, "theta_avg", theta_avg,
                "a probability in [0, 1]");
    check_param(!market_price_pdf.empty() && market_price_pdf.size() <= 1'000'000, kContext,
                "market_price_pdf size", market_price_pdf.size(), "between 1 and 1000000");
    for (std::size_t d = 0; d < market_price_pdf.size(); ++d) {
      if (!(std::isfinite(market_price_pdf[d]) && market_price_pdf[d] >= 0.0)) {
        raise<InvalidArgument>("{}: market_price_pdf[{}] = {}, expected a finite value >= 0",
                               kContext, d, market_price_pdf[d]);
      }
    }
    check_param(budget + 1 <= kMaxValues / episode_length, kContext,
                "episode_length x (budget + 1)", fmt::format("{} x {}", episode_length, budget + 1),
                fmt::format("at most {} values", kMaxValues));

    RlbValueFunction v;
    v.episode_length_ = episode_length;
    v.budget_ = budget;
    v.theta_avg_ = theta_avg;
    v.pdf_.assign(market_price_pdf.begin(), market_price_pdf.end());
    v.values_.assign(static_cast<std::size_t>(episode_length * (budget + 1)), 0.0);
    v.solve_rows(progress);
    v.find_monotone_rows();
    return v;
  }

  Index episode_length() const { return episode_length_; }
  std::int64_t budget() const { return budget_; }
  double theta_avg() const { return theta_avg_; }
  /// The largest bid (and market price): the density's size − 1.
  int max_bid() const { return static_cast<int>(pdf_.size()) - 1; }
  std::span<const double> market_price_pdf() const { return pdf_; }

  /// V_n(b), n in [0, N−1], b in [0, B].
  double value(Index n, std::int64_t b) const {
    // row() checks n; the check here names b in its own range (check_state counts auctions
    // left, 1..N, and would report n + 1).
    check_param(b >= 0 && b <= budget_, "RlbValueFunction::value", "b", b,
                fmt::format("between 0 and {}", budget_));
    return row(n)[static_cast<std::size_t>(b)];
  }
  /// V_n(·) as B + 1 values.
  std::span<const double> row(Index n) const {
    check_param(n >= 0 && n < episode_length_, "RlbValueFunction::row", "n", n,
                fmt::format("between 0 and {}", episode_length_ - 1));
    return {values_.data() + static_cast<std::size_t>(n * (budget_ + 1)),
            static_cast<std::size_t>(budget_ + 1)};
  }
  /// Bytes of the table.
  std::size_t memory_bytes() const { return values_.size() * sizeof(double); }

  /// The RLB bid with `auctions_left` (n, 1..N) auctions left, budget `budget_left` (0..B) and
  /// impression value `theta`: the largest δ <= min(b, P) whose every step 1..δ satisfies
  /// θ + V_{n−1}(b−δ) − V_{n−1}(b) >= 0.
  int bid(Index auctions_left, std::int64_t budget_left, double theta) const {
    check_state("RlbValueFunction::bid", auctions_left, budget_left);
    const double* v =
        values_.data() + static_cast<std::size_t>((auctions_left - 1) * (budget_ + 1));
    const double vb = v[budget_left];
    const auto top = static_cast<std::int64_t>(std::min<std::int64_t>(budget_left, max_bid()));
    const auto ok = [&](std::int64_t delta) {
      return theta + (v[budget_left - delta] - vb) >= 0.0;
    };
    // The published scan for the first kScanSteps steps (typical bids are 10-50 and the scan's
    // loads are independent, so it runs ahead of its one mispredicted exit) ...
    constexpr std::int64_t kScanSteps = 64;
    std::int64_t delta = 1;
    const std::int64_t scan_end = std::min(top, kScanSteps);
    while (delta <= scan_end && ok(delta)) ++delta;
    if (delta <= scan_end || delta > top) return static_cast<int>(delta - 1);
    if (!monotone_[static_cast<std::size_t>(auctions_left - 1)]) {
      while (delta <= top && ok(delta)) ++delta;
      return static_cast<int>(delta - 1);
    }
    // ... then, on a row non-decreasing in b (ok is true up to the answer and false after
    // it), a bisection of [delta − 1, top] with the invariant: the answer lies in
    // [lo, lo + len − 1] and ok(lo).
    std::int64_t lo = delta - 1;
    std::int64_t len = top - lo + 1;
    while (len > 1) {
      const std::int64_t half = len / 2;
      if (ok(lo + half)) lo += half;
      len -= half;
    }
    return static_cast<int>(lo);
  }

  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, 1);
    out.write(static_cast<std::int64_t>(episode_length_));
    out.write(budget_);
    out.write(theta_avg_);
    out.write(pdf_);
    out.write(values_);
  }

  static RlbValueFunction load(BinaryReader& in) {
    in.read_header(kTypeTag, 1);
    RlbValueFunction v;
    v.episode_length_ = in.read<std::int64_t>("episode_length");
    v.budget_ = in.read<std::int64_t>("budget");
    v.theta_avg_ = in.read<double>("theta_avg");
    if (v.episode_length_ < 1 || v.budget_ < 0 || v.budget_ + 1 > kMaxValues / v.episode_length_ ||
        !(v.theta_avg_ >= 0.0) || !(v.theta_avg_ <= 1.0)) {
      raise<FormatError>(
          "model file: {} has episode_length {}, budget {}, theta_avg {}, expected "
          "N >= 1, B >= 0, N x (B + 1) <= {} and theta_avg in [0, 1]",
          kTypeTag, v.episode_length_, v.budget_, v.theta_avg_, kMaxValues);
    }
    v.pdf_ = in.read<std::vector<double>>("market_price_pdf");
    if (v.pdf_.empty()) raise<FormatError>("model file: {} has an empty price density", kTypeTag);
    v.values_ = in.read<std::vector<double>>("values");
    if (v.values_.size() != static_cast<std::size_t>(v.episode_length_ * (v.budget_ + 1))) {
      raise<FormatError>("model file: {} has {} values, expected N x (B + 1) = {}", kTypeTag,
                         v.values_.size(), v.episode_length_ * (v.budget_ + 1));
    }
    for (const double x : v.values_) {
      if (!std::isfinite(x)) raise<FormatError>("model file: {} has a non-finite value", kTypeTag);
    }
    v.find_monotone_rows();
    return v;
  }

 private:
  RlbValueFunction() = default;

  void check_state(std::string_view context, Index auctions_left, std::int64_t budget_left) const {
    if (auctions_left < 1 || auctions_left > episode_length_ || budget_left < 0 ||
        budget_left > budget_) {
      raise<InvalidArgument>(
          "{}: state (n = {}, b = {}) is outside the solved table (n in 1..{}, "
          "b in 0..{}); replay with the episode length and budget the value "
          "function was solved for",
          context, auctions_left, budget_left, episode_length_, budget_);
    }
  }

  void solve_rows(const ProgressCallback& progress) {
    const std::int64_t B = budget_;
    const std::int64_t P = max_bid();
    const double theta = theta_avg_;
    const double* m = pdf_.data();
    const auto stride = static_cast<std::size_t>(B + 1);
    // V_max(n) grows by the value of winning every auction at any price: Σ_δ m(δ)·θ.
    double v_increment = 0.0;
    for (std::int64_t d = 0; d <= P; ++d) v_increment += detail::unfused_product(m[d], theta);
    double v_max = 0.0;
    constexpr double kUpPrecision = 1e-10;  // rlb-dp's up_precision
    std::vector<std::int64_t> a(stride, 0);
    report(progress, "rounds", 0, episode_length_ - 1);
    for (Index n = 1; n < episode_length_; ++n) {
      const double* v = values_.data() + static_cast<std::size_t>(n - 1) * stride;
      double* next = values_.data() + static_cast<std::size_t>(n) * stride;
      // a_n(b) by the published two-pointer scan: bb only moves down as b decreases.
      std::int64_t bb = B - 1;
      for (std::int64_t b = B; b >= 1; --b) {
        while (bb >= 0 && (v[bb] - v[b]) + theta >= 0.0) --bb;
        a[static_cast<std::size_t>(b)] = bb < 0 ? std::min(P, b) : std::min(P, b - bb - 1);
      }
      v_max = v_max + v_increment;
      next[0] = 0.0;
      for (std::int64_t b = 1; b <= B; ++b) {
        const double vb = v[b];
        double s = vb;
        const std::int64_t top = a[static_cast<std::size_t>(b)];
        for (std::int64_t d = 0; d <= top; ++d) {
          s += detail::unfused_product(m[d], theta + (v[b - d] - vb));
        }
        next[b] = s;
        if (std::fabs(s - v_max) < kUpPrecision) {
          std::fill(next + b + 1, next + B + 1, v_max);
          break;
        }
      }
      report(progress, "rounds", n, episode_length_ - 1);
    }
  }

  void find_monotone_rows() {
    const auto stride = static_cast<std::size_t>(budget_ + 1);
    monotone_.assign(static_cast<std::size_t>(episode_length_), 1);
    for (Index n = 0; n < episode_length_; ++n) {
      const double* v = values_.data() + static_cast<std::size_t>(n) * stride;
      for (std::size_t b = 1; b < stride; ++b) {
        if (!(v[b] >= v[b - 1])) {
          monotone_[static_cast<std::size_t>(n)] = 0;
          break;
        }
      }
    }
  }

  Index episode_length_ = 0;
  std::int64_t budget_ = 0;
  double theta_avg_ = 0.0;
  std::vector<double> pdf_;
  std::vector<double> values_;  ///< row n = V_n(0..B)
  std::vector<std::uint8_t> monotone_;
};

/// The RLB bidder (pCTR as the impression's value) or, with `use_pctr = false`, SS-MDP (θ_avg
/// for every impression). Shares its value function; copies are cheap.
class RlbBidder {
 public:
  explicit RlbBidder(std::shared_ptr<const RlbValueFunction> value_function, bool use_pctr = true)
      : v_(std::move(value_function)), use_pctr_(use_pctr) {
    if (!v_) raise<InvalidArgument>("RlbBidder: value_function is null, expected a solved one");
  }
  /// SS-MDP: the same policy with θ_avg in place of each auction's pCTR.
  static RlbBidder ss_mdp(std::shared_ptr<const RlbValueFunction> value_function) {
    return RlbBidder(std::move(value_function), false);
  }

  int operator()(double pctr, const AuctionState& state) const {
    return v_->bid(state.auctions_left, state.budget_left, use_pctr_ ? pctr : v_->theta_avg());
  }
  const RlbValueFunction& value_function() const { return *v_; }

 private:
  std::shared_ptr<const RlbValueFunction> v_;
  bool use_pctr_ = true;
};

}  // namespace tailor::bidding
