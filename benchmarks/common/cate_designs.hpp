// benchmarks/common/cate_designs.hpp — the simulated CATE designs the benchmarks share (known τ):
//   nie_wager_a   Nie & Wager (2021, Biometrika) setup A: X ~ U[0,1]^6, e = clamp(sin(π x₁x₂),
//                 0.1, 0.9), b = sin(π x₁x₂) + 2(x₃ − 0.5)² + x₄ + 0.5 x₅, τ = (x₁ + x₂)/2, σ = 1;
//   wager_athey   Wager & Athey (2018, JASA) §5.2: X ~ U[0,1]^10, e = 0.5, τ = ξ(x₁)ξ(x₂) with
//                 ξ(x) = 1 + 1/(1 + exp(−20(x − 1/3))), σ = 1.
// Y = b + (W − 0.5)·τ + ε. The peer script benchmarks/peers/make_nie_wager_a.py writes the same
// setup A for the scikit-learn comparison.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"

namespace tailor_benchmarks {

using tailor::Index;

struct Sim {
  tailor::Matrix X;
  tailor::Vector w, y, tau;
};

inline Sim nie_wager_a(Index n, std::uint64_t seed) {
  tailor::Rng rng(seed);
  Sim s{tailor::Matrix(n, 6), tailor::Vector(n), tailor::Vector(n), tailor::Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 6; ++j) s.X(i, j) = rng.uniform();
    const double x1 = s.X(i, 0), x2 = s.X(i, 1), x3 = s.X(i, 2), x4 = s.X(i, 3), x5 = s.X(i, 4);
    const double b =
        std::sin(std::numbers::pi * x1 * x2) + 2.0 * (x3 - 0.5) * (x3 - 0.5) + x4 + 0.5 * x5;
    const double e = std::clamp(std::sin(std::numbers::pi * x1 * x2), 0.1, 0.9);
    s.tau[i] = 0.5 * (x1 + x2);
    s.w[i] = rng.bernoulli(e) ? 1.0 : 0.0;
    s.y[i] = b + (s.w[i] - 0.5) * s.tau[i] + rng.normal();
  }
  return s;
}

inline Sim wager_athey(Index n, std::uint64_t seed) {
  tailor::Rng rng(seed);
  Sim s{tailor::Matrix(n, 10), tailor::Vector(n), tailor::Vector(n), tailor::Vector(n)};
  auto xi = [](double x) { return 1.0 + 1.0 / (1.0 + std::exp(-20.0 * (x - 1.0 / 3.0))); };
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 10; ++j) s.X(i, j) = rng.uniform();
    s.tau[i] = xi(s.X(i, 0)) * xi(s.X(i, 1));
    s.w[i] = rng.bernoulli(0.5) ? 1.0 : 0.0;
    s.y[i] = (s.w[i] - 0.5) * s.tau[i] + rng.normal();
  }
  return s;
}

}  // namespace tailor_benchmarks
