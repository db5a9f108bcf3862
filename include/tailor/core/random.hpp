// tailor/core/random.hpp — a seedable generator with independent per-task streams, and the
// library's own distributions, so results are identical with every standard library.
//
// Generator: xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
// ACM TOMS 2021), state seeded by splitmix64 (Steele, Lea & Flood, OOPSLA 2014). A stream for
// task k is derived by hashing (seed, k) through splitmix64, so task k gets the same numbers
// whatever thread runs it (DESIGN §2: "a stream per task, never per thread").
// Distributions are written here, not taken from <random>, whose algorithms differ between
// standard libraries:
//   uniform      53-bit mantissa from the top bits:            u = (x >> 11)·2⁻⁵³ ∈ [0, 1)
//   uniform_index  Lemire's nearly-divisionless bounded integers (ACM TOMACS 2019), unbiased
//   normal       Marsaglia's polar method (no cached second value, so copies stay in sync)
//   poisson      multiplication method for λ < 10; Hörmann's PTRS transformed rejection
//                (Insurance: Mathematics and Economics 12, 1993) for λ ≥ 10
//   gamma        Marsaglia & Tsang (ACM TOMS 2000); beta = G(a)/(G(a)+G(b))
//   categorical  inverse CDF over the (unnormalized) weights, O(K)
//   shuffle      Fisher–Yates; sampling without replacement by a partial Fisher–Yates, O(n)
// All draws are O(1) expected time unless noted.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <span>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor {

namespace detail {
/// One step of splitmix64: advances `state` and returns a well-mixed 64-bit value.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
// 64×64→128-bit product; __extension__ keeps -Wpedantic quiet about the GCC/Clang type.
__extension__ using uint128 = unsigned __int128;
inline constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace detail

/// The stream scheme. A method's `seed` names a family of independent streams Rng(seed, s).
/// Streams below 2⁶³ number the method's repeated tasks (tree t, fold k, restart r, resample b),
/// so a task's draws never depend on the thread that runs it. Every other purpose of the same
/// seed draws from its own reserved stream at or above 2⁶³, listed here, so it never shares a
/// stream with task 0 (before this scheme, a forest's quantile subsample and its tree 0 both
/// drew from stream 0).
namespace stream {
inline constexpr std::uint64_t kReserved = std::uint64_t{1} << 63;
inline constexpr std::uint64_t binning = kReserved | 1;  ///< BinMapper's quantile subsample
inline constexpr std::uint64_t embedding_init = kReserved | 2;  ///< ctr/ table rows' initial values
inline constexpr std::uint64_t ctr_world_calibration = kReserved | 3;  ///< datasets::CtrWorld intercepts
inline constexpr std::uint64_t dense_init = kReserved | 4;  ///< ctr/ dense layers' initial weights
inline constexpr std::uint64_t dropout = kReserved | 5;     ///< ctr/ dropout masks per (epoch, row)
}  // namespace stream

/// xoshiro256** with tailor's distributions. Meets std::uniform_random_bit_generator.
class Rng {
 public:
  using result_type = std::uint64_t;

  /// Generator for `seed`, stream 0.
  explicit Rng(std::uint64_t seed = 0) : Rng(seed, 0) {}

  /// Independent stream `stream` of `seed` (e.g. the tree, fold or restart index).
  Rng(std::uint64_t seed, std::uint64_t stream) {
    std::uint64_t mixer = seed;
    const std::uint64_t a = detail::splitmix64(mixer);
    std::uint64_t stream_mixer = stream ^ 0xD1B54A32D192ED03ULL;
    const std::uint64_t b = detail::splitmix64(stream_mixer);
    std::uint64_t sm = a ^ detail::rotl(b, 17) ^ (b * 0x9E3779B97F4A7C15ULL);
    for (auto& s : state_) s = detail::splitmix64(sm);
    // xoshiro's all-zero state is a fixed point; splitmix64 cannot produce four zeros in a
    // row, but guard anyway.
    if ((state_[0] | state_[1] | state_[2] | state_[3]) == 0) state_[0] = 1;
  }

  /// A child generator for sub-task `stream`, derived from this generator's next output.
  Rng split(std::uint64_t stream) { return Rng((*this)(), stream); }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  /// Next raw 64-bit output.
  result_type operator()() {
    const std::uint64_t result = detail::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = detail::rotl(state_[3], 45);
    return result;
  }

  /// Advances the state by 2^128 steps (the xoshiro256 jump polynomial).
  void jump() {
    static constexpr std::uint64_t kJump[] = {0x180EC6D33CFD0ABAULL, 0xD5A61266F0C9392CULL,
                                              0xA9582618E03FC9AAULL, 0x39ABDC4529B1661CULL};
    std::uint64_t s[4] = {0, 0, 0, 0};
    for (std::uint64_t word : kJump) {
      for (int b = 0; b < 64; ++b) {
        if (word & (std::uint64_t{1} << b)) {
          for (int i = 0; i < 4; ++i) s[i] ^= state_[i];
        }
        (*this)();
      }
    }
    for (int i = 0; i < 4; ++i) state_[i] = s[i];
  }

  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

  /// Uniform double in [a, b).
  double uniform(double a, double b) { return a + (b - a) * uniform(); }

  /// Uniform double in (0, 1), never exactly 0 (for logs).
  double uniform_open() {
    return (static_cast<double>((*this)() >> 12) + 0.5) * 0x1.0p-52;
  }

  /// Uniform integer in [0, n), unbiased (Lemire 2019). Requires n ≥ 1.
  std::uint64_t uniform_index(std::uint64_t n) {
    check_param(n >= 1, "Rng::uniform_index", "n", n, "at least 1");
    detail::uint128 m = static_cast<detail::uint128>((*this)()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<detail::uint128>((*this)()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// Standard normal N(0, 1) by Marsaglia's polar method.
  double normal() {
    while (true) {
      const double u = 2.0 * uniform() - 1.0;
      const double v = 2.0 * uniform() - 1.0;
      const double s = u * u + v * v;
      if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * std::log(s) / s);
    }
  }

  /// N(mean, sd²).
  double normal(double mean, double sd) { return mean + sd * normal(); }

  /// true with probability p ∈ [0, 1].
  bool bernoulli(double p) {
    check_param(p >= 0.0 && p <= 1.0, "Rng::bernoulli", "p", p, "a probability in [0, 1]");
    return uniform() < p;
  }

  /// Exponential with rate λ > 0.
  double exponential(double rate = 1.0) {
    check_param(rate > 0.0, "Rng::exponential", "rate", rate, "a positive value");
    return -std::log(uniform_open()) / rate;
  }

  /// Poisson(λ), λ ≥ 0.
  std::uint64_t poisson(double lambda) {
    check_param(lambda >= 0.0 && std::isfinite(lambda), "Rng::poisson", "lambda", lambda,
                "a finite value >= 0");
    if (lambda == 0.0) return 0;
    if (lambda < 10.0) {
      // Multiply uniforms until the product drops below e^-λ.
      const double limit = std::exp(-lambda);
      std::uint64_t k = 0;
      double product = uniform_open();
      while (product > limit) {
        ++k;
        product *= uniform_open();
      }
      return k;
    }
    // PTRS (Hörmann 1993).
    const double slam = std::sqrt(lambda);
    const double loglam = std::log(lambda);
    const double b = 0.931 + 2.53 * slam;
    const double a = -0.059 + 0.02483 * b;
    const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    const double vr = 0.9277 - 3.6224 / (b - 2.0);
    while (true) {
      const double u = uniform() - 0.5;
      const double v = uniform_open();
      const double us = 0.5 - std::abs(u);
      const double k = std::floor((2.0 * a / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return static_cast<std::uint64_t>(k);
      if (k < 0.0 || (us < 0.013 && v > us)) continue;
      if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
          -lambda + k * loglam - std::lgamma(k + 1.0)) {
        return static_cast<std::uint64_t>(k);
      }
    }
  }

  /// Gamma(shape, scale = 1) by Marsaglia & Tsang; shape > 0.
  double gamma(double shape) {
    check_param(shape > 0.0 && std::isfinite(shape), "Rng::gamma", "shape", shape,
                "a finite positive value");
    if (shape < 1.0) {
      // G(a) = G(a + 1) · U^{1/a}.
      return gamma(shape + 1.0) * std::pow(uniform_open(), 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    while (true) {
      double x = 0.0;
      double v = 0.0;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = uniform_open();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
  }

  /// Beta(a, b), a, b > 0.
  double beta(double a, double b) {
    check_param(a > 0.0 && std::isfinite(a), "Rng::beta", "a", a, "a finite positive value");
    check_param(b > 0.0 && std::isfinite(b), "Rng::beta", "b", b, "a finite positive value");
    if (a >= 1.0 && b >= 1.0) {
      const double x = gamma(a);
      const double y = gamma(b);
      return x / (x + y);
    }
    // G(s) for s < 1 is G(s + 1)·U^{1/s}, which underflows to 0 for tiny s (U^{1000} < 1e-308
    // once U < 0.5), and 0/(0 + 0) is NaN. Work with log G(s) = log G(s + 1) + log(U)/s and
    // return X/(X + Y) = 1/(1 + exp(log Y − log X)); same draws, same order as gamma().
    const double log_x = log_gamma_variate(a);
    const double log_y = log_gamma_variate(b);
    return 1.0 / (1.0 + std::exp(log_y - log_x));
  }

  /// Index k drawn with probability weights[k] / Σ weights. Weights must be finite, ≥ 0 and
  /// not all zero.
  Index categorical(std::span<const double> weights) {
    double total = 0.0;
    for (std::size_t k = 0; k < weights.size(); ++k) {
      if (!(weights[k] >= 0.0) || !std::isfinite(weights[k])) {
        raise<InvalidArgument>(
            "Rng::categorical: weights[{}] = {}, expected a finite value >= 0", k, weights[k]);
      }
      total += weights[k];
    }
    if (!(total > 0.0)) {
      raise<InvalidArgument>(
          "Rng::categorical: weights sum to {}, expected a positive total", total);
    }
    const double target = uniform() * total;
    double cumulative = 0.0;
    Index last_positive = 0;
    for (std::size_t k = 0; k < weights.size(); ++k) {
      if (weights[k] > 0.0) last_positive = static_cast<Index>(k);
      cumulative += weights[k];
      if (target < cumulative) return static_cast<Index>(k);
    }
    return last_positive;  // rounding: target == total
  }

  /// The raw state, for tests and serialization.
  const std::uint64_t* state() const { return state_; }

 private:
  /// log of a Gamma(shape) draw, finite even when the draw itself would underflow.
  double log_gamma_variate(double shape) {
    if (shape < 1.0) return std::log(gamma(shape + 1.0)) + std::log(uniform_open()) / shape;
    return std::log(gamma(shape));
  }

  std::uint64_t state_[4];
};

/// Fisher–Yates shuffle of `values` in place.
template <class T>
void shuffle(std::span<T> values, Rng& rng) {
  for (std::size_t i = values.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng.uniform_index(i));
    std::swap(values[i - 1], values[j]);
  }
}

template <class T>
void shuffle(std::vector<T>& values, Rng& rng) {
  shuffle(std::span<T>(values), rng);
}

/// The identity permutation 0..n-1, shuffled.
inline std::vector<Index> permutation(Index n, Rng& rng) {
  check_param(n >= 0, "permutation", "n", n, "a value >= 0");
  std::vector<Index> p(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) p[static_cast<std::size_t>(i)] = i;
  shuffle(p, rng);
  return p;
}

/// k distinct indices from 0..n-1, uniformly at random, in random order (partial Fisher–Yates).
inline std::vector<Index> sample_without_replacement(Index n, Index k, Rng& rng) {
  check_param(n >= 0, "sample_without_replacement", "n", n, "a value >= 0");
  if (k < 0 || k > n) {
    raise<InvalidArgument>(
        "sample_without_replacement: k = {}, expected a value in [0, n = {}]", k, n);
  }
  std::vector<Index> pool(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) pool[static_cast<std::size_t>(i)] = i;
  for (Index i = 0; i < k; ++i) {
    const Index j = i + static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(n - i)));
    std::swap(pool[static_cast<std::size_t>(i)], pool[static_cast<std::size_t>(j)]);
  }
  pool.resize(static_cast<std::size_t>(k));
  return pool;
}

/// n indices drawn from 0..n-1 with replacement (a bootstrap resample), in draw order.
inline std::vector<Index> bootstrap_indices(Index n, Rng& rng) {
  check_param(n >= 1, "bootstrap_indices", "n", n, "at least 1");
  std::vector<Index> out(static_cast<std::size_t>(n));
  for (auto& i : out) i = static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(n)));
  return out;
}

/// m indices drawn from 0..n-1 with replacement.
inline std::vector<Index> sample_with_replacement(Index n, Index m, Rng& rng) {
  check_param(n >= 1, "sample_with_replacement", "n", n, "at least 1");
  check_param(m >= 0, "sample_with_replacement", "m", m, "a value >= 0");
  std::vector<Index> out(static_cast<std::size_t>(m));
  for (auto& i : out) i = static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(n)));
  return out;
}

}  // namespace tailor
