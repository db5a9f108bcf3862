// Tests for datasets/ctr_worlds.hpp: geomspace cardinalities, calibrated rates, conversions only
// after clicks, the FM identity against a brute-force pairwise loop, Zipf popularity, the CTR/CVR
// weight correlation, a high oracle AUC in the interaction-only world, determinism (seed, stream,
// threads, prefixes) and bad parameters.
#include "tailor/datasets/ctr_worlds.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "tailor/core/metrics.hpp"

using namespace tailor;
using datasets::CtrOutcome;
using datasets::CtrWorld;
using datasets::CtrWorldSetup;

namespace {

// A small world that builds fast: 8 fields of 10..1000 ids, the default rates.
CtrWorldSetup small_setup() {
  return {.num_fields = 8, .min_cardinality = 10, .max_cardinality = 1000, .seed = 7};
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const auto n = static_cast<double>(a.size());
  double ma = 0.0, mb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  double sab = 0.0, saa = 0.0, sbb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

}  // namespace

TEST_CASE("CtrWorld: cardinalities are numpy's round(geomspace(min, max, F))", "[datasets]") {
  const CtrWorld three(
      {.num_fields = 3, .min_cardinality = 10, .max_cardinality = 1000, .calibration_rows = 1000});
  CHECK(three.cardinalities() == std::vector<Index>{10, 100, 1000});
  const CtrWorld eight(
      {.num_fields = 8, .min_cardinality = 10, .max_cardinality = 200, .calibration_rows = 1000});
  CHECK(eight.cardinalities() == std::vector<Index>{10, 15, 24, 36, 55, 85, 130, 200});
  const CtrWorld one(
      {.num_fields = 1, .min_cardinality = 5, .max_cardinality = 50, .calibration_rows = 1000});
  CHECK(one.cardinalities() == std::vector<Index>{5});
  // The default 20-field world (values printed by numpy 1.x for gen_data.py's defaults).
  const CtrWorld defaults({.calibration_rows = 1000});
  CHECK(defaults.cardinalities() ==
        std::vector<Index>{10,   16,   26,   43,   70,   113,   183,   298,   483,   785,
                           1274, 2069, 3360, 5456, 8859, 14384, 23357, 37927, 61585, 100000});
}

TEST_CASE("CtrWorld: calibrated click and conversion rates, conversions only after clicks",
          "[datasets]") {
  const CtrWorld world(small_setup());
  const auto s = world.sample(100000, 1);
  REQUIRE(s.ids.rows() == 100000);
  REQUIRE(s.ids.cols() == 8);
  for (Index f = 0; f < 8; ++f) {
    CHECK(s.ids.col(f).minCoeff() >= 0);
    CHECK(s.ids.col(f).maxCoeff() < world.cardinalities()[static_cast<std::size_t>(f)]);
  }
  const double ctr = s.click.cast<double>().mean();
  CHECK(std::abs(ctr - 0.03) < 0.003);
  CHECK(std::abs(s.p_click.mean() - 0.03) < 0.0015);
  CHECK(((s.conversion.array() == 1.0f) <= (s.click.array() == 1.0f)).all());
  CHECK(((s.click.array() == 0.0f) || (s.click.array() == 1.0f)).all());
  double p_conversion_clicked = 0.0, conversions = 0.0, clicks = 0.0;
  for (Index i = 0; i < s.click.size(); ++i) {
    if (s.click[i] == 1.0f) {
      p_conversion_clicked += s.p_conversion[i];
      conversions += s.conversion[i];
      clicks += 1.0;
    }
  }
  CHECK(std::abs(p_conversion_clicked / clicks - 0.10) < 0.015);
  CHECK(std::abs(conversions / clicks - 0.10) < 0.025);
  // p_conversion is given for every row, not only the clicked ones.
  CHECK(s.p_conversion.minCoeff() > 0.0);
  CHECK(s.p_conversion.maxCoeff() < 1.0);
}

TEST_CASE("CtrWorld: intercepts solve the calibration equations on the documented stream",
          "[datasets]") {
  CtrWorldSetup setup = small_setup();
  setup.calibration_rows = 20000;
  setup.click_rate = 0.05;
  setup.conversion_rate = 0.2;
  const CtrWorld world(setup);
  // The calibration rows are sample(calibration_rows, kCtrCalibrationStream).
  const auto s = world.sample(setup.calibration_rows, datasets::kCtrCalibrationStream);
  CHECK(s.p_click.mean() == Approx(0.05).epsilon(1e-10));
  CHECK(s.p_click.dot(s.p_conversion) / s.p_click.sum() == Approx(0.2).epsilon(1e-10));
  for (Index i = 0; i < 10; ++i) {
    const std::span<const std::int32_t> row(s.ids.row(i).data(), 8);
    CHECK(1.0 / (1.0 + std::exp(-world.logit_click(row))) == Approx(s.p_click[i]).epsilon(1e-12));
    CHECK(1.0 / (1.0 + std::exp(-world.logit_conversion(row))) ==
          Approx(s.p_conversion[i]).epsilon(1e-12));
  }
}

TEST_CASE("CtrWorld: logits equal a brute-force pairwise FM", "[datasets]") {
  const CtrWorld world(small_setup());
  const auto s = world.sample(5, 3);
  const Index num_fields = world.num_fields();
  for (const CtrOutcome outcome : {CtrOutcome::click, CtrOutcome::conversion}) {
    for (Index i = 0; i < 5; ++i) {
      double brute =
          outcome == CtrOutcome::click ? world.click_intercept() : world.conversion_intercept();
      for (Index f = 0; f < num_fields; ++f) brute += world.weight(outcome, f, s.ids(i, f));
      for (Index f = 0; f < num_fields; ++f) {
        for (Index g = f + 1; g < num_fields; ++g) {
          const auto vf = world.factors(outcome, f, s.ids(i, f));
          const auto vg = world.factors(outcome, g, s.ids(i, g));
          for (std::size_t j = 0; j < vf.size(); ++j) brute += vf[j] * vg[j];
        }
      }
      const std::span<const std::int32_t> row(s.ids.row(i).data(),
                                              static_cast<std::size_t>(num_fields));
      const double logit =
          outcome == CtrOutcome::click ? world.logit_click(row) : world.logit_conversion(row);
      CHECK(std::abs(logit - brute) < 1e-12);
    }
  }
}

TEST_CASE("CtrWorld: ids follow the Zipf popularity; CVR weights correlate with CTR weights",
          "[datasets]") {
  const CtrWorld world(small_setup());  // field 0 has 10 ids
  double total = 0.0, top = 0.0;
  for (Index id = 0; id < 10; ++id) {
    total += world.popularity(0, id);
    top = std::max(top, world.popularity(0, id));
  }
  CHECK(total == Approx(1.0).epsilon(1e-12));
  double harmonic = 0.0;  // Σ_r 1/r^1.1
  for (int r = 1; r <= 10; ++r) harmonic += std::pow(r, -1.1);
  CHECK(top == Approx(1.0 / harmonic).epsilon(1e-12));
  const Index n = 100000;
  const auto s = world.sample(n, 4);
  std::vector<double> counts(10, 0.0);
  for (Index i = 0; i < n; ++i) counts[static_cast<std::size_t>(s.ids(i, 0))] += 1.0;
  for (Index id = 0; id < 10; ++id) {
    const double p = world.popularity(0, id);
    const double sd = std::sqrt(static_cast<double>(n) * p * (1.0 - p));
    CHECK(std::abs(counts[static_cast<std::size_t>(id)] - static_cast<double>(n) * p) < 5.0 * sd);
  }

  // One field of 20,000 ids: corr(w, w') and corr(V, V') estimate ρ.
  const CtrWorld wide({.num_fields = 1,
                       .min_cardinality = 20000,
                       .max_cardinality = 20000,
                       .rank = 4,
                       .correlation = 0.5,
                       .calibration_rows = 1000});
  std::vector<double> w, w_prime, v, v_prime;
  for (Index id = 0; id < 20000; ++id) {
    w.push_back(wide.weight(CtrOutcome::click, 0, id));
    w_prime.push_back(wide.weight(CtrOutcome::conversion, 0, id));
    const auto a = wide.factors(CtrOutcome::click, 0, id);
    const auto b = wide.factors(CtrOutcome::conversion, 0, id);
    v.insert(v.end(), a.begin(), a.end());
    v_prime.insert(v_prime.end(), b.begin(), b.end());
  }
  CHECK(std::abs(pearson(w, w_prime) - 0.5) < 0.03);
  CHECK(std::abs(pearson(v, v_prime) - 0.5) < 0.02);
}

// The oracle AUC varies a lot from world to world (a few popular ids per field carry most rows):
// over seeds 0..29 at 50,000 rows numpy's worlds give 0.861..0.975 (mean 0.943; seed 0: 0.970 at
// 100,000 rows, the research notes' ≈ 0.966) and tailor's 0.890..0.977 (mean 0.946). tailor's
// seed-0 world draws 0.918, so the bound is 0.90, not a numpy-specific number.
TEST_CASE("CtrWorld: the interaction-only world has a high oracle AUC", "[datasets]") {
  const CtrWorld world({.num_fields = 8,
                        .min_cardinality = 10,
                        .max_cardinality = 200,
                        .rank = 8,
                        .first_order_scale = 0.0,
                        .factor_scale = 0.4,
                        .click_rate = 0.03,
                        .seed = 0});
  for (Index f = 0; f < 8; ++f) CHECK(world.weight(CtrOutcome::click, f, 0) == 0.0);
  const auto s = world.sample(100000, 1);
  const double auc = metrics::roc_auc(s.click.cast<double>(), s.p_click);
  INFO("oracle AUC " << auc);
  CHECK(auc > 0.90);
  CHECK(std::abs(s.click.cast<double>().mean() - 0.03) < 0.003);
}

TEST_CASE("CtrWorld: determinism over seeds, streams, threads and prefixes", "[datasets]") {
  CtrWorldSetup setup = small_setup();
  setup.num_threads = 1;
  const CtrWorld serial(setup);
  setup.num_threads = 2;
  const CtrWorld threaded(setup);
  CHECK(serial.click_intercept() == threaded.click_intercept());
  CHECK(serial.conversion_intercept() == threaded.conversion_intercept());
  const auto a = serial.sample(10000, 1);
  const auto b = threaded.sample(10000, 1);
  CHECK(a.ids == b.ids);
  CHECK(a.click == b.click);
  CHECK(a.conversion == b.conversion);
  CHECK(a.p_click == b.p_click);
  CHECK(a.p_conversion == b.p_conversion);

  // The first m rows of a larger sample are the smaller sample (blocks of kCtrBlockRows).
  const auto prefix = threaded.sample(5000, 1);
  CHECK(prefix.ids == a.ids.topRows(5000));
  CHECK(prefix.click == a.click.head(5000));

  const auto test = serial.sample(10000, 2);
  CHECK(test.ids != a.ids);
  CHECK(test.click != a.click);

  CtrWorldSetup other = small_setup();
  other.seed = 8;
  const CtrWorld reseeded(other);
  CHECK(reseeded.click_intercept() != serial.click_intercept());
  CHECK(reseeded.sample(10000, 1).ids != a.ids);
}

TEST_CASE("CtrWorld: bad parameters and arguments", "[datasets]") {
  const auto make = [](auto edit) {
    CtrWorldSetup setup = small_setup();
    setup.calibration_rows = 100;
    edit(setup);
    return CtrWorld(setup);
  };
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.num_fields = 0; }),
                    Catch::Contains("CtrWorld: num_fields = 0"));
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.min_cardinality = 0; }),
                    Catch::Contains("CtrWorld: min_cardinality = 0"));
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.max_cardinality = 5; }),
                    Catch::Contains("CtrWorld: max_cardinality = 5, expected a count in "
                                    "[min_cardinality = 10"));
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.zipf = -0.5; }),
                    Catch::Contains("CtrWorld: zipf = -0.5"));
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.rank = 0; }),
                    Catch::Contains("CtrWorld: rank = 0"));
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.first_order_scale = -1.0; }),
                    Catch::Contains("CtrWorld: first_order_scale = -1"));
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.factor_scale = std::nan(""); }),
                    Catch::Contains("CtrWorld: factor_scale = nan"));
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.correlation = 1.5; }),
                    Catch::Contains("CtrWorld: correlation = 1.5"));
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.click_rate = 0.0; }),
                    Catch::Contains("CtrWorld: click_rate = 0"));
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.conversion_rate = 1.0; }),
                    Catch::Contains("CtrWorld: conversion_rate = 1"));
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.calibration_rows = 0; }),
                    Catch::Contains("CtrWorld: calibration_rows = 0"));
  CHECK_THROWS_WITH(make([](CtrWorldSetup& s) { s.num_threads = -1; }),
                    Catch::Contains("CtrWorld: num_threads = -1"));
  CHECK_THROWS_AS(make([](CtrWorldSetup& s) { s.rank = 0; }), InvalidArgument);

  const CtrWorld world(small_setup());
  CHECK_THROWS_WITH(world.sample(0, 1), Catch::Contains("CtrWorld::sample: n = 0"));
  const std::vector<std::int32_t> short_row(3, 0);
  CHECK_THROWS_AS(world.logit_click(short_row), ShapeMismatch);
  std::vector<std::int32_t> row(8, 0);
  row[0] = 10;  // field 0 has ids 0..9
  CHECK_THROWS_WITH(world.logit_click(row),
                    Catch::Contains("CtrWorld::logit_click: ids[0] = 10, expected a value in "
                                    "[0, 10)"));
  CHECK_THROWS_WITH(world.popularity(8, 0), Catch::Contains("field = 8"));
  CHECK_THROWS_WITH(world.weight(CtrOutcome::click, 1, -1), Catch::Contains("id = -1"));
}
