// Tests of ctr/calibration.hpp: Platt scaling recovers a known distortion of the logit, isotonic
// calibration equals pool-adjacent-violators by hand, both save/load, and bad input.
// (The down-sampling correction is validated on a known-truth world in known_truth_test.cpp.)
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "tailor/core/random.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/calibration.hpp"

namespace ctr = tailor::ctr;
using tailor::Index;

TEST_CASE("Platt scaling recovers a known distortion of the logit", "[ctr][calibration]") {
  // Truth: logit(p_true) ~ N(−3, 1); the model reports p = σ(2·logit(p_true) − 1), so the
  // calibrated map is q = σ(0.5·logit(p) + 0.5).
  const Index n = 200000;
  tailor::Rng rng(3, 0);
  Eigen::VectorXf p(n), y(n), p_true(n);
  for (Index i = 0; i < n; ++i) {
    const double z = -3.0 + rng.normal();
    p_true[i] = static_cast<float>(ctr::sigmoid(z));
    p[i] = static_cast<float>(ctr::sigmoid(2.0 * z - 1.0));
    y[i] = rng.uniform() < p_true[i] ? 1.0f : 0.0f;
  }
  const auto platt = ctr::PlattCalibrator::fit(p, y);
  CHECK(platt.slope() == Approx(0.5).margin(0.03));
  CHECK(platt.intercept() == Approx(0.5).margin(0.1));
  const Eigen::VectorXf q = platt.predict(p);
  CHECK(q.cast<double>().mean() == Approx(y.cast<double>().mean()).epsilon(1e-3));
  CHECK((q - p_true).cwiseAbs().maxCoeff() < 0.02);
  std::ostringstream out;
  tailor::save(platt, out);
  std::istringstream in(out.str());
  const auto loaded = tailor::load<ctr::PlattCalibrator>(in);
  CHECK(loaded.predict_one(0.01f) == platt.predict_one(0.01f));
}

TEST_CASE("Isotonic calibration equals pool-adjacent-violators by hand", "[ctr][calibration]") {
  // Sorted p: 0.1 (y 0), 0.2 (1), 0.3 (0), 0.4 (1), 0.4 (1): 0.2 and 0.3 pool to 0.5; the tie at
  // 0.4 is one block of mean 1. Knots: (0.1, 0), (0.2, 0.5), (0.3, 0.5), (0.4, 1).
  Eigen::VectorXf p(5), y(5);
  p << 0.3f, 0.1f, 0.4f, 0.2f, 0.4f;
  y << 0.0f, 0.0f, 1.0f, 1.0f, 1.0f;
  const auto iso = ctr::IsotonicCalibrator::fit(p, y);
  REQUIRE(iso.knots_x().size() == 4);
  CHECK(iso.knots_y() == std::vector<double>{0.0, 0.5, 0.5, 1.0});
  CHECK(iso.predict_one(0.05f) == 0.0f);
  CHECK(iso.predict_one(0.15f) == Approx(0.25f));
  CHECK(iso.predict_one(0.25f) == Approx(0.5f));
  CHECK(iso.predict_one(0.35f) == Approx(0.75f));
  CHECK(iso.predict_one(0.9f) == 1.0f);
  // Weights act as repeated rows: weight 3 on (0.3, 0) pulls the pooled block to 0.25.
  Eigen::VectorXf w(5);
  w << 3.0f, 1.0f, 1.0f, 1.0f, 1.0f;
  const auto weighted = ctr::IsotonicCalibrator::fit(p, y, w);
  CHECK(weighted.predict_one(0.25f) == Approx(0.25f));
  std::ostringstream out;
  tailor::save(iso, out);
  std::istringstream in(out.str());
  const auto loaded = tailor::load<ctr::IsotonicCalibrator>(in);
  CHECK(loaded.knots_y() == iso.knots_y());
}

TEST_CASE("Calibrators reject bad input", "[ctr][calibration][errors]") {
  Eigen::VectorXf p(3), y(3);
  p << 0.1f, 0.5f, 0.9f;
  y << 0.0f, 1.0f, 1.0f;
  Eigen::VectorXf bad_p = p;
  bad_p[1] = 1.5f;
  CHECK_THROWS_WITH(ctr::PlattCalibrator::fit(bad_p, y), Catch::Contains("p[1] = 1.5"));
  Eigen::VectorXf bad_y = y;
  bad_y[2] = 2.0f;
  CHECK_THROWS_WITH(ctr::IsotonicCalibrator::fit(p, bad_y), Catch::Contains("click[2] = 2"));
  CHECK_THROWS_WITH(ctr::IsotonicCalibrator::fit(p, Eigen::VectorXf::Ones(3)),
                    Catch::Contains("one class"));
  CHECK_THROWS_AS(ctr::PlattCalibrator::fit(p, Eigen::VectorXf::Zero(2)), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(ctr::PlattCalibrator::fit(Eigen::VectorXf(), Eigen::VectorXf()),
                    Catch::Contains("no rows"));
}
