// tailor/datasets/causal_designs.hpp — simulated heterogeneous-effect designs with known truth
// (τ(x) and e(x) for every row), the one home of the designs that tests, benchmarks and examples
// use (DESIGN §1: datasets/, no copies).
//
//   nie_wager(A|B|C|D)  Nie & Wager, "Quasi-oracle estimation of heterogeneous treatment
//                       effects", Biometrika 2021, §6 (p ≥ 5 features, noise σ):
//     A  X ~ U[0,1]^p, e = clamp(sin(πx₁x₂), 0.1, 0.9), b = sin(πx₁x₂) + 2(x₃ − 0.5)² + x₄ + 0.5x₅,
//        τ = (x₁ + x₂)/2                                 (confounded, smooth easy τ)
//     B  X ~ N(0, I_p), e = 1/2, b = max(x₁ + x₂, x₃, 0) + max(x₄ + x₅, 0),
//        τ = x₁ + log(1 + e^{x₂})                        (randomized, complicated b)
//     C  X ~ N(0, I_p), e = 1/(1 + e^{x₂ + x₃}), b = 2 log(1 + e^{x₁ + x₂ + x₃}), τ = 1
//                                                        (strong confounding, constant τ)
//     D  X ~ N(0, I_p), e = 1/(1 + e^{−x₁} + e^{−x₂}), b = (max(x₁ + x₂ + x₃, 0) +
//        max(x₄ + x₅, 0))/2, τ = max(x₁ + x₂ + x₃, 0) − max(x₄ + x₅, 0)
//   wager_athey         Wager & Athey, JASA 2018, §5.2 (p ≥ 2): X ~ U[0,1]^p, e = 1/2, b = 0,
//                       τ = ξ(x₁)ξ(x₂), ξ(x) = 1 + 1/(1 + e^{−20(x − 1/3)}).
// In every design Y = b(X) + (W − 0.5)τ(X) + σε, ε ~ N(0, 1), W ~ Bernoulli(e(X)).
// Row i draws its p features, then W, then ε from Rng(seed) in that order, so a design is the same
// for a given (n, p, σ, seed) on every platform. benchmarks/peers/make_nie_wager_a.py writes
// setup A for the scikit-learn peer. Cost O(n·p).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "tailor/core/errors.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"

namespace tailor::datasets {

/// A simulated data set with its truth: the effect τ(xᵢ) and the propensity e(xᵢ) of every row.
struct CausalDesign {
  Matrix X;
  Vector w, y;
  Vector tau;         ///< τ(xᵢ)
  Vector propensity;  ///< e(xᵢ) = P(W = 1 | xᵢ)
};

/// The setups of Nie & Wager (2021, §6); see the header comment.
enum class NieWagerSetup : char { A = 'A', B = 'B', C = 'C', D = 'D' };

namespace detail {
inline double softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
inline void check_design(std::string_view context, Index n, Index p, Index min_p, double sigma) {
  check_param(n >= 1, context, "n", n, "at least 1");
  check_param(p >= min_p, context, "p", p, fmt::format("at least {}", min_p));
  check_param(std::isfinite(sigma) && sigma >= 0.0, context, "sigma", sigma, "a finite value >= 0");
}
}  // namespace detail

/// Nie & Wager's setup A, B, C or D with n rows, p ≥ 5 features and noise σ. InvalidArgument for
/// n < 1, p < 5 or a negative / non-finite σ.
inline CausalDesign nie_wager(NieWagerSetup setup, Index n, Index p = 6, double sigma = 1.0,
                              std::uint64_t seed = 0) {
  detail::check_design("nie_wager", n, p, 5, sigma);
  check_param(setup == NieWagerSetup::A || setup == NieWagerSetup::B || setup == NieWagerSetup::C ||
                  setup == NieWagerSetup::D,
              "nie_wager", "setup", static_cast<int>(setup), "A, B, C or D");
  Rng rng(seed);
  CausalDesign s{Matrix(n, p), Vector(n), Vector(n), Vector(n), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) {
      s.X(i, j) = setup == NieWagerSetup::A ? rng.uniform() : rng.normal();
    }
    const double x1 = s.X(i, 0), x2 = s.X(i, 1), x3 = s.X(i, 2), x4 = s.X(i, 3), x5 = s.X(i, 4);
    double b = 0.0;
    switch (setup) {
      case NieWagerSetup::A:
        b = std::sin(std::numbers::pi * x1 * x2) + 2.0 * (x3 - 0.5) * (x3 - 0.5) + x4 + 0.5 * x5;
        s.propensity[i] = std::clamp(std::sin(std::numbers::pi * x1 * x2), 0.1, 0.9);
        s.tau[i] = 0.5 * (x1 + x2);
        break;
      case NieWagerSetup::B:
        b = std::max({x1 + x2, x3, 0.0}) + std::max(x4 + x5, 0.0);
        s.propensity[i] = 0.5;
        s.tau[i] = x1 + detail::softplus(x2);
        break;
      case NieWagerSetup::C:
        b = 2.0 * detail::softplus(x1 + x2 + x3);
        s.propensity[i] = 1.0 / (1.0 + std::exp(x2 + x3));
        s.tau[i] = 1.0;
        break;
      case NieWagerSetup::D:
        b = 0.5 * (std::max(x1 + x2 + x3, 0.0) + std::max(x4 + x5, 0.0));
        s.propensity[i] = 1.0 / (1.0 + std::exp(-x1) + std::exp(-x2));
        s.tau[i] = std::max(x1 + x2 + x3, 0.0) - std::max(x4 + x5, 0.0);
        break;
    }
    s.w[i] = rng.bernoulli(s.propensity[i]) ? 1.0 : 0.0;
    s.y[i] = b + (s.w[i] - 0.5) * s.tau[i] + sigma * rng.normal();
  }
  return s;
}

/// Wager & Athey's §5.2 design with n rows and p ≥ 2 features (σ = 1 in the paper).
inline CausalDesign wager_athey(Index n, Index p = 10, double sigma = 1.0, std::uint64_t seed = 0) {
  detail::check_design("wager_athey", n, p, 2, sigma);
  Rng rng(seed);
  CausalDesign s{Matrix(n, p), Vector(n), Vector(n), Vector(n), Vector::Constant(n, 0.5)};
  const auto xi = [](double x) { return 1.0 + 1.0 / (1.0 + std::exp(-20.0 * (x - 1.0 / 3.0))); };
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) s.X(i, j) = rng.uniform();
    s.tau[i] = xi(s.X(i, 0)) * xi(s.X(i, 1));
    s.w[i] = rng.bernoulli(0.5) ? 1.0 : 0.0;
    s.y[i] = (s.w[i] - 0.5) * s.tau[i] + sigma * rng.normal();
  }
  return s;
}

}  // namespace tailor::datasets
