// Tests for tailor/core/random.hpp: the generator against its published algorithms,
// reproducibility, stream independence, distribution moments and goodness of fit, sampling
// helpers and parameter checks. Statistical bounds are ≥ 5 standard errors (or chi-square at
// α = 1e-6), so they are tight enough to catch a wrong constant yet never flaky at fixed seeds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <vector>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/poisson.hpp>

#include "tailor/core/random.hpp"

using tailor::Index;
using tailor::Rng;

namespace {

constexpr int kDraws = 200000;

// Sample mean, variance, skewness and excess kurtosis.
struct Moments {
  double mean = 0, variance = 0, skewness = 0, excess_kurtosis = 0;
};
template <class Draw>
Moments moments(int n, Draw&& draw) {
  std::vector<double> x(static_cast<std::size_t>(n));
  double sum = 0;
  for (auto& v : x) {
    v = static_cast<double>(draw());
    sum += v;
  }
  Moments m;
  m.mean = sum / n;
  double m2 = 0, m3 = 0, m4 = 0;
  for (double v : x) {
    const double d = v - m.mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  m.variance = m2;
  m.skewness = m3 / std::pow(m2, 1.5);
  m.excess_kurtosis = m4 / (m2 * m2) - 3.0;
  return m;
}

// Pearson chi-square statistic of observed counts against expected probabilities, compared
// with the 1 − 1e-6 quantile of χ²(k − 1).
bool chi_square_ok(const std::vector<double>& observed, const std::vector<double>& probability) {
  double total = 0;
  for (double o : observed) total += o;
  double stat = 0;
  for (std::size_t k = 0; k < observed.size(); ++k) {
    const double expected = total * probability[k];
    stat += (observed[k] - expected) * (observed[k] - expected) / expected;
  }
  const boost::math::chi_squared dist(static_cast<double>(observed.size() - 1));
  const double critical = boost::math::quantile(boost::math::complement(dist, 1e-6));
  INFO("chi-square = " << stat << ", critical = " << critical);
  return stat < critical;
}

// The published xoshiro256** step (Blackman & Vigna 2021), written independently of Rng.
std::uint64_t reference_xoshiro(std::array<std::uint64_t, 4>& s) {
  auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
  const std::uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const auto n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

}  // namespace

static_assert(std::uniform_random_bit_generator<Rng>);

TEST_CASE("splitmix64 and xoshiro256** match their published algorithms", "[random]") {
  // Reference outputs of splitmix64 seeded with 1234567 (Vigna's splitmix64.c).
  std::uint64_t state = 1234567;
  CHECK(tailor::detail::splitmix64(state) == 6457827717110365317ULL);
  CHECK(tailor::detail::splitmix64(state) == 3203168211198807973ULL);
  CHECK(tailor::detail::splitmix64(state) == 9817491932198370423ULL);
  CHECK(tailor::detail::splitmix64(state) == 4593380528125082431ULL);
  CHECK(tailor::detail::splitmix64(state) == 16408922859458223821ULL);

  Rng rng(2024, 7);
  std::array<std::uint64_t, 4> s;
  std::copy(rng.state(), rng.state() + 4, s.begin());
  for (int i = 0; i < 1000; ++i) REQUIRE(rng() == reference_xoshiro(s));
}

TEST_CASE("Rng is reproducible for a fixed seed and stream", "[random]") {
  Rng a(42), b(42), c(42, 0), d(42, 3), e(42, 3);
  for (int i = 0; i < 1000; ++i) {
    const auto x = a();
    REQUIRE(x == b());
    REQUIRE(x == c());  // stream 0 is the default
    REQUIRE(d() == e());
  }
  // Copies stay in sync through every distribution (no cached normal).
  Rng f(9);
  f.normal();
  Rng g = f;
  for (int i = 0; i < 100; ++i) {
    REQUIRE(f.normal() == g.normal());
    REQUIRE(f.gamma(0.7) == g.gamma(0.7));
    REQUIRE(f.poisson(25.0) == g.poisson(25.0));
    REQUIRE(f.uniform_index(13) == g.uniform_index(13));
  }
  // split() is deterministic too.
  Rng h(5), k(5);
  Rng h1 = h.split(1), k1 = k.split(1);
  for (int i = 0; i < 100; ++i) REQUIRE(h1() == k1());

  // jump() is deterministic and moves far away from the un-jumped sequence.
  Rng j1(77), j2(77), plain(77);
  j1.jump();
  j2.jump();
  std::set<std::uint64_t> plain_outputs;
  for (int i = 0; i < 1000; ++i) plain_outputs.insert(plain());
  for (int i = 0; i < 1000; ++i) {
    const auto x = j1();
    REQUIRE(x == j2());
    REQUIRE(plain_outputs.count(x) == 0);
  }
}

TEST_CASE("streams and seeds give independent sequences", "[random]") {
  // Different streams, seeds, and a swapped (seed, stream) pair all differ.
  CHECK(Rng(1, 0)() != Rng(1, 1)());
  CHECK(Rng(1, 0)() != Rng(2, 0)());
  CHECK(Rng(0, 1)() != Rng(1, 0)());

  // The first outputs of 10000 consecutive streams (and seeds) are distinct and uniform.
  std::set<std::uint64_t> firsts;
  std::vector<double> stream_bins(10, 0.0), seed_bins(10, 0.0);
  for (std::uint64_t k = 0; k < 10000; ++k) {
    Rng by_stream(123, k);
    firsts.insert(by_stream());
    ++stream_bins[static_cast<std::size_t>(Rng(123, k).uniform() * 10)];
    ++seed_bins[static_cast<std::size_t>(Rng(k).uniform() * 10)];
  }
  CHECK(firsts.size() == 10000);
  const std::vector<double> tenth(10, 0.1);
  CHECK(chi_square_ok(stream_bins, tenth));
  CHECK(chi_square_ok(seed_bins, tenth));

  // Neighbouring streams and seeds are uncorrelated: |r| < 5/√n.
  const int n = 100000;
  auto draws = [&](Rng rng) {
    std::vector<double> u(n);
    for (auto& x : u) x = rng.uniform();
    return u;
  };
  const auto s0 = draws(Rng(7, 0));
  const auto s1 = draws(Rng(7, 1));
  const auto t0 = draws(Rng(8, 0));
  const double bound = 5.0 / std::sqrt(static_cast<double>(n));
  CHECK(std::abs(correlation(s0, s1)) < bound);
  CHECK(std::abs(correlation(s0, t0)) < bound);
  CHECK(std::abs(correlation(s1, t0)) < bound);
  // A split child is uncorrelated with its parent's continuation.
  Rng parent(3);
  const Rng child = parent.split(0);
  CHECK(std::abs(correlation(draws(parent), draws(child))) < bound);

  // Every output bit is 1 half the time: sd of a count = √(n/4) ≈ 158, bound 5 sd.
  Rng bits(99, 4);
  std::array<int, 64> ones{};
  for (int i = 0; i < n; ++i) {
    const auto x = bits();
    for (int b = 0; b < 64; ++b) ones[static_cast<std::size_t>(b)] += (x >> b) & 1U;
  }
  for (int c : ones) CHECK(std::abs(c - n / 2) < 800);
}

TEST_CASE("uniform draws have the right range and moments", "[random]") {
  Rng rng(1);
  // U(0,1): mean ½ (se √(1/12/n) = 6.5e-4), variance 1/12 (se √((1/80 − 1/144)/n) = 1.7e-4).
  const Moments u = moments(kDraws, [&] { return rng.uniform(); });
  CHECK(std::abs(u.mean - 0.5) < 5 * 6.5e-4);
  CHECK(std::abs(u.variance - 1.0 / 12.0) < 5 * 1.7e-4);
  double lo = 1, hi = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double x = rng.uniform();
    const double open = rng.uniform_open();
    const double ab = rng.uniform(-3.0, 5.0);
    REQUIRE(x >= 0.0);
    REQUIRE(x < 1.0);
    REQUIRE(open > 0.0);
    REQUIRE(open < 1.0);
    REQUIRE(ab >= -3.0);
    REQUIRE(ab < 5.0);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  CHECK(lo < 1e-4);
  CHECK(hi > 1 - 1e-4);
  // U(−3, 5): mean 1, variance 64/12.
  const Moments ab = moments(kDraws, [&] { return rng.uniform(-3.0, 5.0); });
  CHECK(std::abs(ab.mean - 1.0) < 5 * 8 * 6.5e-4);
  CHECK(std::abs(ab.variance - 64.0 / 12.0) < 5 * 64 * 1.7e-4);
}

TEST_CASE("normal draws have N(0,1) moments", "[random]") {
  Rng rng(2);
  // se: mean 1/√n = 2.2e-3, variance √(2/n) = 3.2e-3, skewness √(6/n) = 5.5e-3,
  // excess kurtosis √(24/n) = 1.1e-2.
  const Moments z = moments(kDraws, [&] { return rng.normal(); });
  CHECK(std::abs(z.mean) < 5 * 2.3e-3);
  CHECK(std::abs(z.variance - 1.0) < 5 * 3.2e-3);
  CHECK(std::abs(z.skewness) < 5 * 5.5e-3);
  CHECK(std::abs(z.excess_kurtosis) < 5 * 1.1e-2);
  // P(|Z| < 1) = 0.682689, se √(p(1−p)/n) = 1.04e-3.
  int inside = 0;
  for (int i = 0; i < kDraws; ++i) inside += std::abs(rng.normal()) < 1.0 ? 1 : 0;
  CHECK(std::abs(inside / double(kDraws) - 0.682689) < 5 * 1.04e-3);
  const Moments scaled = moments(kDraws, [&] { return rng.normal(10.0, 3.0); });
  CHECK(std::abs(scaled.mean - 10.0) < 5 * 3 * 2.3e-3);
  CHECK(std::abs(scaled.variance - 9.0) < 5 * 9 * 3.2e-3);
}

TEST_CASE("bernoulli and exponential draws", "[random]") {
  Rng rng(3);
  // Bernoulli(0.3): se √(0.21/n) = 1.02e-3.
  int successes = 0;
  for (int i = 0; i < kDraws; ++i) successes += rng.bernoulli(0.3) ? 1 : 0;
  CHECK(std::abs(successes / double(kDraws) - 0.3) < 5 * 1.03e-3);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE_FALSE(rng.bernoulli(0.0));
    REQUIRE(rng.bernoulli(1.0));
  }
  // Exponential(rate 2): mean ½ (se ½/√n = 1.1e-3), variance ¼ (se √(μ₄ − σ⁴)/√n with
  // μ₄ = 9/16 → √(0.5/n) = 1.6e-3).
  const Moments e = moments(kDraws, [&] { return rng.exponential(2.0); });
  CHECK(std::abs(e.mean - 0.5) < 5 * 1.2e-3);
  CHECK(std::abs(e.variance - 0.25) < 5 * 1.6e-3);
}

TEST_CASE("poisson draws match the Poisson law for small and large lambda", "[random]") {
  Rng rng(4);
  // Mean λ (se √(λ/n)) and variance λ (se √((λ(1+3λ) − λ²)/n) = √((λ + 2λ²)/n)).
  for (double lambda : {0.3, 3.5, 9.99, 10.0, 50.0, 1000.0}) {
    INFO("lambda = " << lambda);
    const Moments p = moments(kDraws, [&] { return rng.poisson(lambda); });
    CHECK(std::abs(p.mean - lambda) < 5 * std::sqrt(lambda / kDraws));
    CHECK(std::abs(p.variance - lambda) < 5 * std::sqrt((lambda + 2 * lambda * lambda) / kDraws));
  }
  // Goodness of fit of the whole pmf, both algorithms: multiplication (λ = 3.5) and PTRS
  // (λ = 50). Cells k with expected count ≥ 20, tails pooled.
  for (double lambda : {3.5, 50.0}) {
    INFO("lambda = " << lambda);
    const boost::math::poisson law(lambda);
    const auto lo = static_cast<std::uint64_t>(std::max(0.0, lambda - 4 * std::sqrt(lambda)));
    const auto hi = static_cast<std::uint64_t>(lambda + 4 * std::sqrt(lambda));
    std::vector<double> observed(hi - lo + 3, 0.0), probability(hi - lo + 3, 0.0);
    for (int i = 0; i < kDraws; ++i) {
      const std::uint64_t k = rng.poisson(lambda);
      const std::size_t cell = k < lo ? 0 : (k > hi ? observed.size() - 1 : k - lo + 1);
      ++observed[cell];
    }
    probability[0] = lo == 0 ? 0.0 : boost::math::cdf(law, static_cast<double>(lo - 1));
    for (std::uint64_t k = lo; k <= hi; ++k) {
      probability[k - lo + 1] = boost::math::pdf(law, static_cast<double>(k));
    }
    probability.back() = boost::math::cdf(boost::math::complement(law, static_cast<double>(hi)));
    if (probability[0] == 0.0) {  // no lower tail cell
      CHECK(observed[0] == 0.0);
      observed.erase(observed.begin());
      probability.erase(probability.begin());
    }
    CHECK(chi_square_ok(observed, probability));
  }
  CHECK(rng.poisson(0.0) == 0);
}

TEST_CASE("gamma and beta draws have the right moments", "[random]") {
  Rng rng(5);
  // Gamma(k, 1): mean k (se √(k/n)), variance k (μ₄ = 3k² + 6k → se √((2k² + 6k)/n)).
  for (double shape : {0.2, 0.5, 1.0, 2.5, 20.0}) {
    INFO("shape = " << shape);
    const Moments g = moments(kDraws, [&] { return rng.gamma(shape); });
    CHECK(std::abs(g.mean - shape) < 5 * std::sqrt(shape / kDraws));
    CHECK(std::abs(g.variance - shape) < 5 * std::sqrt((2 * shape * shape + 6 * shape) / kDraws));
  }
  // Beta(2, 5): mean 2/7, variance ab/((a+b)²(a+b+1)) = 10/392 = 0.0255102; se of the mean
  // √(0.0255/n) = 3.6e-4, of the variance √((μ₄ − σ⁴)/n) with μ₄ = 1.8742e-3 → 7.8e-5.
  const Moments b = moments(kDraws, [&] { return rng.beta(2.0, 5.0); });
  CHECK(std::abs(b.mean - 2.0 / 7.0) < 5 * 3.6e-4);
  CHECK(std::abs(b.variance - 10.0 / 392.0) < 5 * 7.9e-5);
  // Beta(0.5, 0.5) (arcsine law): mean ½, variance 1/8.
  const Moments arcsine = moments(kDraws, [&] { return rng.beta(0.5, 0.5); });
  CHECK(std::abs(arcsine.mean - 0.5) < 5 * std::sqrt(0.125 / kDraws));
  CHECK(std::abs(arcsine.variance - 0.125) < 0.002);
  // Beta(0.3, 3) mixes both code paths' shapes: mean 0.3/3.3, variance 0.9/(3.3²·4.3).
  const Moments skewed = moments(kDraws, [&] { return rng.beta(0.3, 3.0); });
  CHECK(std::abs(skewed.mean - 0.3 / 3.3) < 5 * std::sqrt(0.9 / (3.3 * 3.3 * 4.3) / kDraws));
  CHECK(std::abs(skewed.variance - 0.9 / (3.3 * 3.3 * 4.3)) < 0.001);
  // Tiny shapes put almost all mass at 0 and 1 (Beta(a, a) → Bernoulli(½) as a → 0); the draw
  // must stay a number in [0, 1] even when both gamma draws underflow.
  int near_one = 0;
  for (int i = 0; i < 20000; ++i) {
    const double x = rng.beta(0.001, 0.001);
    REQUIRE(x >= 0.0);
    REQUIRE(x <= 1.0);
    near_one += x > 0.5 ? 1 : 0;
  }
  CHECK(std::abs(near_one - 10000) < 5 * 71);  // sd √(20000/4) ≈ 71
}

TEST_CASE("categorical draws follow the weights", "[random]") {
  Rng rng(6);
  const std::vector<double> weights = {1.0, 0.0, 3.0, 6.0};
  std::vector<double> counts(4, 0.0);
  for (int i = 0; i < kDraws; ++i) ++counts[static_cast<std::size_t>(rng.categorical(weights))];
  CHECK(counts[1] == 0.0);  // zero weight never drawn
  counts.erase(counts.begin() + 1);
  CHECK(chi_square_ok(counts, {0.1, 0.3, 0.6}));
  const std::vector<double> single = {0.0, 2.5, 0.0};
  for (int i = 0; i < 100; ++i) REQUIRE(rng.categorical(single) == 1);
}

TEST_CASE("uniform_index is unbiased", "[random]") {
  Rng rng(7);
  std::vector<double> counts(7, 0.0);
  for (int i = 0; i < 70000; ++i) ++counts[rng.uniform_index(7)];
  CHECK(chi_square_ok(counts, std::vector<double>(7, 1.0 / 7.0)));
  for (int i = 0; i < 100; ++i) REQUIRE(rng.uniform_index(1) == 0);
  // For n ≈ ⅔·2⁶⁴, "x mod n" would land in [0, n/2) with probability ⅔; unbiased draws ½.
  const std::uint64_t n = 0xAAAAAAAAAAAAAAAAULL;
  int low_half = 0;
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t x = rng.uniform_index(n);
    REQUIRE(x < n);
    low_half += x < n / 2 ? 1 : 0;
  }
  CHECK(std::abs(low_half - 50000) < 5 * 159);  // sd √(100000/4) ≈ 158
}

TEST_CASE("shuffle, permutation and sampling helpers", "[random]") {
  Rng rng(8);
  // All 6 orders of 3 elements are equally likely.
  std::map<std::vector<int>, double> orders;
  for (int i = 0; i < 60000; ++i) {
    std::vector<int> v = {0, 1, 2};
    tailor::shuffle(v, rng);
    ++orders[v];
  }
  REQUIRE(orders.size() == 6);
  std::vector<double> order_counts;
  for (const auto& [order, count] : orders) order_counts.push_back(count);
  CHECK(chi_square_ok(order_counts, std::vector<double>(6, 1.0 / 6.0)));

  const std::vector<Index> p = tailor::permutation(100, rng);
  std::vector<Index> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (Index i = 0; i < 100; ++i) REQUIRE(sorted[static_cast<std::size_t>(i)] == i);
  CHECK(tailor::permutation(0, rng).empty());

  // Without replacement: k distinct values in range; each value included with prob k/n
  // (10000 draws of 4 of 10: inclusion count 4000, sd √(10000·0.4·0.6) ≈ 49).
  std::vector<int> included(10, 0);
  for (int i = 0; i < 10000; ++i) {
    const auto s = tailor::sample_without_replacement(10, 4, rng);
    REQUIRE(s.size() == 4);
    REQUIRE(std::set<Index>(s.begin(), s.end()).size() == 4);
    for (Index x : s) {
      REQUIRE(x >= 0);
      REQUIRE(x < 10);
      ++included[static_cast<std::size_t>(x)];
    }
  }
  for (int c : included) CHECK(std::abs(c - 4000) < 5 * 49);
  CHECK(tailor::sample_without_replacement(5, 0, rng).empty());
  auto all = tailor::sample_without_replacement(5, 5, rng);
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<Index>{0, 1, 2, 3, 4});

  // Bootstrap: n draws in range; the share of distinct rows is 1 − (1 − 1/n)ⁿ ≈ 0.632
  // (n = 10000: expected 6321.4 distinct, sd ≈ √(n(e⁻¹ − 2e⁻²)) ≈ 31).
  const auto boot = tailor::bootstrap_indices(10000, rng);
  REQUIRE(boot.size() == 10000);
  for (Index x : boot) REQUIRE((x >= 0 && x < 10000));
  const auto distinct = static_cast<double>(std::set<Index>(boot.begin(), boot.end()).size());
  CHECK(std::abs(distinct - 10000 * (1 - std::pow(1 - 1e-4, 10000))) < 5 * 31);
  const auto with = tailor::sample_with_replacement(3, 50, rng);
  CHECK(with.size() == 50);
  CHECK(std::all_of(with.begin(), with.end(), [](Index x) { return x >= 0 && x < 3; }));
  CHECK(tailor::sample_with_replacement(3, 0, rng).empty());
}

TEST_CASE("bad distribution parameters are rejected with their name and value", "[random]") {
  Rng rng(0);
  using Catch::Contains;
  CHECK_THROWS_WITH(rng.uniform_index(0),
                    Contains("Rng::uniform_index: n = 0, expected at least 1"));
  CHECK_THROWS_AS(rng.uniform_index(0), tailor::InvalidArgument);
  CHECK_THROWS_WITH(rng.bernoulli(1.5), Contains("Rng::bernoulli: p = 1.5, expected"));
  CHECK_THROWS_AS(rng.bernoulli(-0.1), tailor::InvalidArgument);
  CHECK_THROWS_AS(rng.bernoulli(std::nan("")), tailor::InvalidArgument);
  CHECK_THROWS_WITH(rng.exponential(0.0), Contains("Rng::exponential: rate = 0"));
  CHECK_THROWS_WITH(rng.poisson(-1.0), Contains("Rng::poisson: lambda = -1"));
  CHECK_THROWS_AS(rng.poisson(std::numeric_limits<double>::infinity()), tailor::InvalidArgument);
  CHECK_THROWS_WITH(rng.gamma(0.0), Contains("Rng::gamma: shape = 0"));
  CHECK_THROWS_AS(rng.gamma(-2.0), tailor::InvalidArgument);
  CHECK_THROWS_WITH(rng.beta(0.0, 1.0), Contains("Rng::beta: a = 0"));
  CHECK_THROWS_WITH(rng.beta(1.0, -1.0), Contains("Rng::beta: b = -1"));
  const std::vector<double> negative = {1.0, -1.0};
  CHECK_THROWS_WITH(rng.categorical(negative),
                    Contains("Rng::categorical: weights[1] = -1, expected a finite value >= 0"));
  const std::vector<double> zeros = {0.0, 0.0};
  CHECK_THROWS_WITH(rng.categorical(zeros), Contains("Rng::categorical: weights sum to 0"));
  CHECK_THROWS_AS(rng.categorical(std::vector<double>{}), tailor::InvalidArgument);
  const std::vector<double> infinite = {1.0, std::numeric_limits<double>::infinity()};
  CHECK_THROWS_AS(rng.categorical(infinite), tailor::InvalidArgument);
  CHECK_THROWS_WITH(tailor::sample_without_replacement(3, 4, rng),
                    Contains("sample_without_replacement: k = 4, expected a value in [0, n = 3]"));
  CHECK_THROWS_AS(tailor::sample_without_replacement(3, -1, rng), tailor::InvalidArgument);
  CHECK_THROWS_AS(tailor::sample_without_replacement(-1, 0, rng), tailor::InvalidArgument);
  CHECK_THROWS_WITH(tailor::bootstrap_indices(0, rng),
                    Contains("bootstrap_indices: n = 0, expected at least 1"));
  CHECK_THROWS_AS(tailor::sample_with_replacement(0, 3, rng), tailor::InvalidArgument);
  CHECK_THROWS_AS(tailor::sample_with_replacement(3, -1, rng), tailor::InvalidArgument);
  CHECK_THROWS_AS(tailor::permutation(-1, rng), tailor::InvalidArgument);
}
