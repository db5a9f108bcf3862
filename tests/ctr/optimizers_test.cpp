// Tests of ctr/optimizers.hpp: single updates against hand-computed values (Adam with its bias
// corrections, Adagrad, FTRL-Proximal's Algorithm 1 with an L1-zeroed coordinate) and parameter
// validation.
#include <catch2/catch.hpp>

#include <cmath>

#include "tailor/ctr/optimizers.hpp"

namespace ctr = tailor::ctr;

TEST_CASE("Adam steps equal the hand-computed update with bias corrections", "[ctr][optimizers]") {
  const ctr::OptimizerParams p{.kind = ctr::OptimizerKind::adam, .learning_rate = 0.1f};
  float w = 1.0f, m = 0.0f, v = 0.0f;
  float g = 2.0f;
  ctr::detail::update(p, ctr::detail::step_constants(p, 1), &w, &m, &v, &g, 1);
  // t = 1: m = 0.2, v = 0.004, m̂ = 2, v̂ = 4: w = 1 − 0.1 · 2 / (2 + 1e-8).
  CHECK(m == Approx(0.2f));
  CHECK(v == Approx(0.004f).epsilon(1e-4));
  CHECK(w == Approx(1.0 - 0.1 * 2.0 / (2.0 + 1e-8)).epsilon(1e-6));
  g = -1.0f;
  const float w1 = w;
  ctr::detail::update(p, ctr::detail::step_constants(p, 2), &w, &m, &v, &g, 1);
  // t = 2: m = 0.9·0.2 − 0.1 = 0.08, v = 0.999·0.004 + 0.001 = 0.004996;
  // m̂ = 0.08 / 0.19, v̂ = 0.004996 / (1 − 0.999²).
  const double m_hat = 0.08 / (1.0 - 0.81);
  const double v_hat = 0.004996 / (1.0 - 0.999 * 0.999);
  CHECK(w == Approx(w1 - 0.1 * m_hat / (std::sqrt(v_hat) + 1e-8)).epsilon(1e-5));
}

TEST_CASE("Adagrad and SGD steps", "[ctr][optimizers]") {
  const ctr::OptimizerParams adagrad{
      .kind = ctr::OptimizerKind::adagrad, .learning_rate = 0.5f, .initial_accumulator = 0.1f};
  float w = 0.0f, s = 0.1f, unused = 0.0f, g = 3.0f;
  ctr::detail::update(adagrad, ctr::detail::step_constants(adagrad, 1), &w, &s, &unused, &g, 1);
  CHECK(s == Approx(9.1f));
  CHECK(w == Approx(-0.5 * 3.0 / (std::sqrt(9.1) + 1e-8)).epsilon(1e-6));
  const ctr::OptimizerParams sgd{.kind = ctr::OptimizerKind::sgd, .learning_rate = 0.25f};
  w = 1.0f;
  ctr::detail::update(sgd, ctr::detail::step_constants(sgd, 1), &w, nullptr, nullptr, &g, 1);
  CHECK(w == Approx(0.25f));
}

TEST_CASE("FTRL-Proximal's first two steps equal Algorithm 1 by hand; L1 zeroes the weight",
          "[ctr][optimizers]") {
  const ctr::OptimizerParams p{
      .kind = ctr::OptimizerKind::ftrl, .learning_rate = 0.1f, .ftrl_beta = 1.0f, .l1 = 0.5f};
  float w = 0.0f, z = 0.0f, n = 0.0f;
  float g = 2.0f;
  ctr::detail::update(p, ctr::detail::step_constants(p, 1), &w, &z, &n, &g, 1);
  // n = 4, sigma = (2 − 0)/0.1 = 20, z = 2 − 20·0 = 2 > l1: w = −(2 − 0.5)/((1 + 2)/0.1) = −0.05.
  CHECK(n == Approx(4.0f));
  CHECK(z == Approx(2.0f));
  CHECK(w == Approx(-0.05f));
  g = -3.0f;
  ctr::detail::update(p, ctr::detail::step_constants(p, 2), &w, &z, &n, &g, 1);
  // n = 13, sigma = (√13 − 2)/0.1, z = 2 − 3 − sigma·(−0.05) = −0.19722 : |z| ≤ l1 → w = 0.
  CHECK(n == Approx(13.0f));
  CHECK(z == Approx(-1.0 + (std::sqrt(13.0) - 2.0) / 0.1 * 0.05).epsilon(1e-5));
  CHECK(w == 0.0f);
}

TEST_CASE("Optimizer parameters are validated with their names", "[ctr][optimizers][errors]") {
  CHECK_THROWS_WITH(ctr::validate(ctr::OptimizerParams{.learning_rate = -0.1f}, "Model"),
                    Catch::Contains("Model: optimizer.learning_rate = -0.1"));
  CHECK_THROWS_WITH(ctr::validate(ctr::OptimizerParams{.beta1 = 1.0f}, "Model"),
                    Catch::Contains("optimizer.beta1 = 1, expected in [0, 1)"));
  CHECK_THROWS_WITH(ctr::validate(ctr::OptimizerParams{.epsilon = 0.0f}, "Model"),
                    Catch::Contains("optimizer.epsilon = 0"));
  CHECK_THROWS_WITH(ctr::validate(ctr::OptimizerParams{.l1 = -1.0f}, "Model"),
                    Catch::Contains("optimizer.l1 = -1"));
  CHECK_THROWS_WITH(
      ctr::validate(ctr::OptimizerParams{.kind = ctr::OptimizerKind::ftrl, .learning_rate = 0.0f},
                    "Model"),
      Catch::Contains("for FTRL"));
  CHECK_THROWS_WITH(
      ctr::validate(ctr::OptimizerParams{.kind = static_cast<ctr::OptimizerKind>(9)}, "Model"),
      Catch::Contains("optimizer.kind = 9"));
}
