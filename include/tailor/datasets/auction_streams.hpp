// tailor/datasets/auction_streams.hpp — simulated auction streams with known truth, for testing
// and benchmarking bidders (bidding/).
//
// Each auction draws, independently: a market price from a given density over 0..P (inverse
// CDF by binary search), a true CTR θ = clamp(mean_ctr · exp(σ·Z − σ²/2), 0, max_ctr) with
// Z ~ N(0, 1) (σ = 0: every auction has θ = mean_ctr, the setting of RLB's MDP), and a click
// ~ Bernoulli(θ). A model's pCTR is simulated as θ · exp(τ·Z' − τ²/2) (τ = pctr_noise, clamped to
// [0, 1]); τ = 0 gives the oracle.
// Streams are drawn in blocks of 65,536 auctions, block b from Rng(seed, b): identical for any
// num_threads. Complexity O(n log P).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"

namespace tailor::datasets {

struct AuctionStreamParams {
  Index num_auctions = 100'000;
  /// Market-price density over 0..P (need not be normalised).
  std::vector<double> price_pdf;
  double mean_ctr = 0.001;
  /// Log-normal spread of the true CTR (0 = constant).
  double ctr_sigma = 0.0;
  double max_ctr = 1.0;
  /// Log-normal noise of the simulated pCTR around the true CTR (0 = oracle).
  double pctr_noise = 0.0;
  std::uint64_t seed = 0;
  Index num_threads = 0;
};

/// Columns of a simulated stream (feed them to bidding::AuctionLog).
struct AuctionStream {
  std::vector<std::uint8_t> click;
  std::vector<std::int32_t> price;
  std::vector<double> true_ctr;
  std::vector<double> pctr;
};

inline AuctionStream draw_auction_stream(const AuctionStreamParams& p) {
  constexpr std::string_view c = "draw_auction_stream";
  check_param(p.num_auctions >= 1 && p.num_auctions <= (Index{1} << 34), c, "num_auctions",
              p.num_auctions, "between 1 and 2^34");
  check_param(!p.price_pdf.empty() && p.price_pdf.size() <= 1'000'000, c, "price_pdf size",
              p.price_pdf.size(), "between 1 and 1000000");
  check_param(std::isfinite(p.mean_ctr) && p.mean_ctr >= 0.0 && p.mean_ctr <= 1.0, c, "mean_ctr",
              p.mean_ctr, "a probability in [0, 1]");
  check_param(std::isfinite(p.ctr_sigma) && p.ctr_sigma >= 0.0, c, "ctr_sigma", p.ctr_sigma,
              "a finite value >= 0");
  check_param(std::isfinite(p.max_ctr) && p.max_ctr > 0.0 && p.max_ctr <= 1.0, c, "max_ctr",
              p.max_ctr, "a value in (0, 1]");
  check_param(std::isfinite(p.pctr_noise) && p.pctr_noise >= 0.0, c, "pctr_noise", p.pctr_noise,
              "a finite value >= 0");
  std::vector<double> cdf(p.price_pdf.size());
  double total = 0.0;
  for (std::size_t d = 0; d < p.price_pdf.size(); ++d) {
    if (!(std::isfinite(p.price_pdf[d]) && p.price_pdf[d] >= 0.0)) {
      raise<InvalidArgument>("{}: price_pdf[{}] = {}, expected a finite value >= 0", c, d,
                             p.price_pdf[d]);
    }
    total += p.price_pdf[d];
    cdf[d] = total;
  }
  check_param(total > 0.0, c, "price_pdf total", total, "a positive total");

  const auto n = static_cast<std::size_t>(p.num_auctions);
  AuctionStream s;
  s.click.resize(n);
  s.price.resize(n);
  s.true_ctr.resize(n);
  s.pctr.resize(n);
  constexpr Index kBlock = 65'536;
  parallel_for_blocks(0, p.num_auctions, kBlock, p.num_threads, [&](Index b, Index lo, Index hi) {
    Rng rng(p.seed, static_cast<std::uint64_t>(b));
    for (Index i = lo; i < hi; ++i) {
      const auto k = static_cast<std::size_t>(i);
      const double u = rng.uniform() * total;
      s.price[k] =
          static_cast<std::int32_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
      if (s.price[k] >= static_cast<std::int32_t>(cdf.size())) {
        s.price[k] = static_cast<std::int32_t>(cdf.size()) - 1;  // u rounded up to total
      }
      double theta = p.mean_ctr;
      if (p.ctr_sigma > 0.0) {
        theta = p.mean_ctr * std::exp(p.ctr_sigma * rng.normal() - 0.5 * p.ctr_sigma * p.ctr_sigma);
      }
      theta = std::min(theta, p.max_ctr);
      s.true_ctr[k] = theta;
      s.click[k] = rng.uniform() < theta ? 1 : 0;
      double pctr = theta;
      if (p.pctr_noise > 0.0) {
        pctr = theta * std::exp(p.pctr_noise * rng.normal() - 0.5 * p.pctr_noise * p.pctr_noise);
      }
      s.pctr[k] = std::min(pctr, 1.0);
    }
  });
  return s;
}

}  // namespace tailor::datasets
