// tailor/datasets/multitask_designs.hpp — the synthetic multi-task design of Ma, Zhao, Yi, Chen,
// Hong & Chi, "Modeling Task Relationships in Multi-task Learning with Multi-gate
// Mixture-of-Experts" (KDD 2018, §3.2), whose task correlation is a parameter:
//
//   u₁, u₂ ⊥ unit vectors in R^d (Gram–Schmidt on two N(0, I) draws)
//   w₁ = c·u₁,  w₂ = c·(ρ·u₁ + √(1 − ρ²)·u₂)            so cos(w₁, w₂) = ρ
//   x ~ N(0, I_d),  α_i, β_i ~ N(0, 1) (i = 1 … m, shared by both tasks)
//   y_t = w_tᵀx + Σ_i sin(α_i·w_tᵀx + β_i) + ε_t,  ε_t ~ N(0, σ²)
//
// The paper uses d = 100, c = 1, m = 10, σ = 0.1; the noise floor of each task's MSE is σ².
// f_t(x) (the noiseless value) is returned too. Draws: the design from Rng(seed, 0), rows from
// Rng(seed, stream) one after another (x, then ε₁, ε₂), so a sample does not depend on threads.
// Cost O(n·(d + m)).
#pragma once

#include <cmath>
#include <cstdint>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"

namespace tailor::datasets {

struct MmoeDesign {
  Index dim = 100;           ///< d
  double correlation = 0.5;  ///< ρ = cos(w₁, w₂)
  double scale = 1.0;        ///< c
  Index num_sines = 10;      ///< m
  double noise_sd = 0.1;     ///< σ
  std::uint64_t seed = 0;
};

struct MmoeSample {
  Eigen::MatrixXd x;     ///< n × d
  Eigen::MatrixXd y;     ///< n × 2 noisy labels
  Eigen::MatrixXd mean;  ///< n × 2 noiseless f_t(x)
};

/// n rows of the design from row stream `stream` (1 = train, 2 = test by convention).
inline MmoeSample mmoe_sample(const MmoeDesign& design, Index n, std::uint64_t stream) {
  constexpr std::string_view kContext = "mmoe_sample";
  check_param(design.dim >= 2, kContext, "dim", design.dim, "at least 2");
  check_param(design.correlation >= -1.0 && design.correlation <= 1.0, kContext, "correlation",
              design.correlation, "in [-1, 1]");
  check_param(design.num_sines >= 0, kContext, "num_sines", design.num_sines, "a value >= 0");
  check_param(std::isfinite(design.noise_sd) && design.noise_sd >= 0.0, kContext, "noise_sd",
              design.noise_sd, "a finite value >= 0");
  check_param(n >= 1, kContext, "n", n, "at least 1");
  check_param(stream != 0, kContext, "stream", stream, "not 0 (the design's own stream)");
  const Index d = design.dim;
  Rng world(design.seed, 0);
  Eigen::VectorXd u1(d), u2(d);
  for (Index j = 0; j < d; ++j) u1[j] = world.normal();
  for (Index j = 0; j < d; ++j) u2[j] = world.normal();
  u1.normalize();
  u2 -= u1.dot(u2) * u1;
  u2.normalize();
  const double rho = design.correlation;
  const Eigen::VectorXd w1 = design.scale * u1;
  const Eigen::VectorXd w2 = design.scale * (rho * u1 + std::sqrt(1.0 - rho * rho) * u2);
  Eigen::VectorXd alpha(design.num_sines), beta(design.num_sines);
  for (Index i = 0; i < design.num_sines; ++i) {
    alpha[i] = world.normal();
    beta[i] = world.normal();
  }
  auto f = [&](double s) {
    double v = s;
    for (Index i = 0; i < design.num_sines; ++i) v += std::sin(alpha[i] * s + beta[i]);
    return v;
  };
  MmoeSample out{Eigen::MatrixXd(n, d), Eigen::MatrixXd(n, 2), Eigen::MatrixXd(n, 2)};
  Rng rng(design.seed, stream);
  for (Index r = 0; r < n; ++r) {
    for (Index j = 0; j < d; ++j) out.x(r, j) = rng.normal();
    out.mean(r, 0) = f(out.x.row(r).dot(w1));
    out.mean(r, 1) = f(out.x.row(r).dot(w2));
    out.y(r, 0) = out.mean(r, 0) + design.noise_sd * rng.normal();
    out.y(r, 1) = out.mean(r, 1) + design.noise_sd * rng.normal();
  }
  return out;
}

}  // namespace tailor::datasets
