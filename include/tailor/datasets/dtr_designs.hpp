// tailor/datasets/dtr_designs.hpp — sequential-decision designs with exact truths for testing and
// demonstrating dtr/ (expit(t) = 1 / (1 + e^{−t}), φ/Φ the standard normal density/cdf).
//
// Design A (one decision, a main effect that linear Q-learning misspecifies when β₂ ≠ 0):
//   X ~ N(0, 1); P(A = 1 | X) = expit(X); Y = 1 + X + β₂X² + A·(0.5 − X) + N(0, 1).
//   Optimal rule 1{X < 0.5}, V* = 1 + β₂ + 0.5·Φ(0.5) + φ(0.5) = 1.697796557401 + β₂.
//   History H₁ = [X].
// Design B (two decisions):
//   X1 ~ N(0, 1); P(A1 = 1 | X1) = expit(0.3 − 0.5·X1); X2 = 0.5·X1 + 0.5·A1 + N(0, 1);
//   P(A2 = 1 | H2) = expit(−0.2 + 0.5·X2);
//   Y = 1 + X1 + 0.5·X2 + A1·(0.25 − 0.5·X1) + A2·(ψ20 + ψ21·X2 + ψ22·A1) + N(0, 1).
//   Histories H₁ = [X1], H₂ = [X1, X2, A1, A1·X1]. With ψ2 = (0.5, 0, −1): V* = 1.5 + 0.5·φ(0).
// Values of arbitrary regimes are computed by quadrature over the normal variables (midpoint
// rule on [−8, 8] with an even number of nodes, so a threshold at 0 falls between nodes; a rule's
// discontinuities cost O(h) accuracy, about 1e−4 at the default 2000 points), closed forms where
// the rule is a threshold.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"
#include "tailor/dtr/sequential_data.hpp"

namespace tailor::datasets {

namespace detail {

inline double expit(double t) {
  return 1.0 / (1.0 + std::exp(-t));
}
inline double std_normal_pdf(double x) {
  return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi);
}
inline double std_normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}

/// Midpoint nodes on [−8, 8] with normal-density weights summing to 1.
inline void normal_grid(Index points, Vector& nodes, Vector& weights) {
  check_param(points >= 11 && points <= 100'000, "normal_grid", "points", points,
              "between 11 and 100000");
  nodes.resize(points);
  weights.resize(points);
  const double h = 16.0 / static_cast<double>(points);
  for (Index i = 0; i < points; ++i) {
    nodes[i] = -8.0 + h * (static_cast<double>(i) + 0.5);
    weights[i] = std_normal_pdf(nodes[i]);
  }
  weights /= weights.sum();
}

}  // namespace detail

/// A draw of a design: the data, its covariates and the true propensities of the observed
/// actions (n × K), for oracle comparisons.
struct DtrSample {
  dtr::SequentialData data;
  Matrix true_propensity;
};

/// Design A with n units.
inline DtrSample dtr_design_a(Index n, double beta2, std::uint64_t seed) {
  check_param(n >= 10, "dtr_design_a", "n", n, "at least 10");
  Rng rng(seed);
  Matrix x(n, 1);
  Eigen::VectorXi a(n);
  Vector y(n);
  Matrix p(n, 1);
  for (Index i = 0; i < n; ++i) {
    const double xi = rng.normal();
    const double pi = detail::expit(xi);
    const int ai = rng.uniform() < pi ? 1 : 0;
    x(i, 0) = xi;
    a[i] = ai;
    p(i, 0) = ai == 1 ? pi : 1.0 - pi;
    y[i] = 1.0 + xi + beta2 * xi * xi + ai * (0.5 - xi) + rng.normal();
  }
  std::vector<dtr::Stage> stages{{.history = x, .action = a, .num_actions = 2}};
  return {dtr::SequentialData(std::move(stages), y), p};
}

/// V* of design A.
inline double dtr_design_a_optimal_value(double beta2) {
  return 1.0 + beta2 + 0.5 * detail::std_normal_cdf(0.5) + detail::std_normal_pdf(0.5);
}

/// Exact value in design A of the linear rule 1{ψ0 + ψ1·x > 0}.
inline double dtr_design_a_linear_rule_value(double beta2, double psi0, double psi1) {
  // E[(0.5 − X)·1{rule}]: 1{X < t} gives 0.5Φ(t) + φ(t); 1{X > t} gives 0.5(1 − Φ(t)) − φ(t).
  double gain = 0.0;
  if (psi1 == 0.0) {
    gain = psi0 > 0.0 ? 0.5 : 0.0;
  } else {
    const double t = -psi0 / psi1;
    gain = psi1 < 0.0 ? 0.5 * detail::std_normal_cdf(t) + detail::std_normal_pdf(t)
                      : 0.5 * (1.0 - detail::std_normal_cdf(t)) - detail::std_normal_pdf(t);
  }
  return 1.0 + beta2 + gain;
}

/// ψ2 = (ψ20, ψ21, ψ22) of design B.
struct DesignBParams {
  double psi20 = 0.5;
  double psi21 = 0.0;
  double psi22 = -1.0;
};

/// Design B with n units.
inline DtrSample dtr_design_b(Index n, const DesignBParams& psi, std::uint64_t seed) {
  check_param(n >= 10, "dtr_design_b", "n", n, "at least 10");
  Rng rng(seed);
  Matrix h1(n, 1), h2(n, 4), p(n, 2);
  Eigen::VectorXi a1(n), a2(n);
  Vector y(n);
  for (Index i = 0; i < n; ++i) {
    const double x1 = rng.normal();
    const double p1 = detail::expit(0.3 - 0.5 * x1);
    const int t1 = rng.uniform() < p1 ? 1 : 0;
    const double x2 = 0.5 * x1 + 0.5 * t1 + rng.normal();
    const double p2 = detail::expit(-0.2 + 0.5 * x2);
    const int t2 = rng.uniform() < p2 ? 1 : 0;
    h1(i, 0) = x1;
    h2.row(i) << x1, x2, t1, t1 * x1;
    a1[i] = t1;
    a2[i] = t2;
    p(i, 0) = t1 == 1 ? p1 : 1.0 - p1;
    p(i, 1) = t2 == 1 ? p2 : 1.0 - p2;
    y[i] = 1.0 + x1 + 0.5 * x2 + t1 * (0.25 - 0.5 * x1) +
           t2 * (psi.psi20 + psi.psi21 * x2 + psi.psi22 * t1) + rng.normal();
  }
  std::vector<dtr::Stage> stages{{.history = h1, .action = a1, .num_actions = 2},
                                 {.history = h2, .action = a2, .num_actions = 2}};
  return {dtr::SequentialData(std::move(stages), y), p};
}

/// Exact value (by quadrature, `points` nodes per normal variable) in design B of a regime whose
/// rules see H₁ = [X1] and H₂ = [X1, X2, A1, A1·X1].
inline double dtr_design_b_value(const dtr::Regime& regime, const DesignBParams& psi,
                                 Index points = 2000) {
  check_param(regime.num_stages() == 2, "dtr_design_b_value", "regime stages", regime.num_stages(),
              "2");
  Vector nodes, weights;
  detail::normal_grid(points, nodes, weights);
  Matrix h1(points, 1);
  h1.col(0) = nodes;
  const Eigen::VectorXi d1 = regime.actions(0, h1);
  Matrix h2(points * points, 4);
  for (Index i = 0; i < points; ++i) {
    const double x1 = nodes[i];
    const int t1 = d1[i];
    for (Index j = 0; j < points; ++j) {
      h2.row(i * points + j) << x1, 0.5 * x1 + 0.5 * t1 + nodes[j], t1, t1 * x1;
    }
  }
  const Eigen::VectorXi d2 = regime.actions(1, h2);
  double value = 0.0;
  for (Index i = 0; i < points; ++i) {
    const double x1 = nodes[i];
    const int t1 = d1[i];
    const double mean_x2 = 0.5 * x1 + 0.5 * t1;
    double stage2 = 0.0;
    for (Index j = 0; j < points; ++j) {
      const double x2 = h2(i * points + j, 1);
      stage2 += weights[j] * d2[i * points + j] * (psi.psi20 + psi.psi21 * x2 + psi.psi22 * t1);
    }
    value += weights[i] * (1.0 + x1 + 0.5 * mean_x2 + t1 * (0.25 - 0.5 * x1) + stage2);
  }
  return value;
}

/// The optimal regime of design B (stage 2: 1{ψ20 + ψ21·X2 + ψ22·A1 > 0}; stage 1 by comparing
/// the two actions' values, computed by quadrature over X2).
inline dtr::Regime dtr_design_b_optimal_regime(const DesignBParams& psi, Index points = 401) {
  const auto stage2 = [psi](const Matrix& h) {
    Eigen::VectorXi a(h.rows());
    for (Index i = 0; i < h.rows(); ++i) {
      a[i] = psi.psi20 + psi.psi21 * h(i, 1) + psi.psi22 * h(i, 2) > 0.0 ? 1 : 0;
    }
    return a;
  };
  Vector nodes, weights;
  detail::normal_grid(points, nodes, weights);
  const auto stage1 = [psi, nodes, weights](const Matrix& h) {
    Eigen::VectorXi a(h.rows());
    for (Index i = 0; i < h.rows(); ++i) {
      const double x1 = h(i, 0);
      double q[2];
      for (int t1 = 0; t1 < 2; ++t1) {
        const double m = 0.5 * x1 + 0.5 * t1;
        double best = 0.0;
        for (Index j = 0; j < nodes.size(); ++j) {
          best +=
              weights[j] * std::max(0.0, psi.psi20 + psi.psi21 * (m + nodes[j]) + psi.psi22 * t1);
        }
        q[t1] = 0.5 * m + t1 * (0.25 - 0.5 * x1) + best;
      }
      a[i] = q[1] > q[0] ? 1 : 0;
    }
    return a;
  };
  return dtr::Regime({stage1, stage2});
}

}  // namespace tailor::datasets
