#include <catch2/catch.hpp>

#include "tailor/segment/profiles.hpp"

using namespace tailor;
using segment::profile_segments;

TEST_CASE("Segment profiles match hand-computed values", "[segment][profiles]") {
  // Segment 3: rows 0-2, segment 7: rows 3-5.
  Matrix X(6, 3);
  X << 1, 5, 0,  //
      2, 5, 0,   //
      3, 5, 0,   //
      10, 5, 0,  //
      11, 5, 0,  //
      12, 5, 0;
  const std::vector<std::string> names = {"spend", "visits", "returns"};
  const std::vector<Index> labels = {3, 3, 3, 7, 7, 7};
  Matrix factors(6, 1);
  factors << 0, 0, 0, 1, 2, 3;
  const std::vector<std::string> factor_names = {"factor_0"};
  const auto prof = profile_segments(X, names, labels, factors, factor_names, {.top_k = 2});
  REQUIRE(prof.segments.size() == 2);
  CHECK(prof.column_names == std::vector<std::string>{"spend", "visits", "returns", "factor_0"});
  CHECK(prof.num_features == 3);
  CHECK(prof.population_mean[0] == Approx(6.5));
  CHECK(prof.population_mean[3] == Approx(1.0));
  const auto& a = prof.segments[0];
  const auto& b = prof.segments[1];
  CHECK(a.label == 3);
  CHECK(b.label == 7);
  CHECK(a.size == 3);
  CHECK(a.share == Approx(0.5));
  CHECK(a.mean[0] == Approx(2.0));
  CHECK(b.mean[0] == Approx(11.0));
  CHECK(a.lift[0] == Approx(2.0 / 6.5));
  CHECK(b.lift[1] == Approx(1.0));
  CHECK(std::isnan(a.lift[2]));  // population mean 0
  // Both segments have sample variance 1 in "spend": pooled SD 1, SMD = (2 − 11)/1.
  CHECK(a.smd[0] == Approx(-9.0));
  CHECK(b.smd[0] == Approx(9.0));
  CHECK(a.smd[1] == 0.0);  // constant column
  // Factor: segment 7 has variance 1, segment 3 variance 0: pooled SD √(2/4), diff 2.
  CHECK(b.smd[3] == Approx(2.0 / std::sqrt(0.5)));
  CHECK(a.top_features == std::vector<Index>{0, 1});  // |−9| first, then ties by index
}

TEST_CASE("Profiles of one segment and zero-variance columns", "[segment][profiles]") {
  Matrix X(3, 1);
  X << 1, 2, 3;
  const std::vector<std::string> names = {"x"};
  const auto one = profile_segments(X, names, std::vector<Index>{0, 0, 0});
  REQUIRE(one.segments.size() == 1);
  CHECK(one.segments[0].share == 1.0);
  CHECK(std::isnan(one.segments[0].smd[0]));  // no other segment
  Matrix Y(4, 1);
  Y << 1, 1, 2, 2;
  const auto split = profile_segments(Y, names, std::vector<Index>{0, 0, 1, 1});
  CHECK(split.segments[0].smd[0] == -std::numeric_limits<double>::infinity());
  CHECK(split.segments[1].smd[0] == std::numeric_limits<double>::infinity());
}

TEST_CASE("Profiles reject bad input", "[segment][profiles]") {
  const Matrix X = Matrix::Ones(3, 2);
  const std::vector<std::string> names = {"a", "b"};
  CHECK_THROWS_WITH(profile_segments(X, std::vector<std::string>{"a"}, std::vector<Index>{0, 1, 0}),
                    Catch::Contains("X names has 1 entries, expected 2"));
  CHECK_THROWS_WITH(profile_segments(X, names, std::vector<Index>{0, 1}),
                    Catch::Contains("X has 3 rows, expected 2"));
  CHECK_THROWS_WITH(profile_segments(X, names, std::vector<Index>{0, -2, 0}),
                    Catch::Contains("labels[1] = -2, expected a label >= 0"));
  CHECK_THROWS_WITH(profile_segments(X, names, std::vector<Index>{0, 1, 0}, {.top_k = -1}),
                    Catch::Contains("top_k = -1"));
  Matrix nan = X;
  nan(0, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(profile_segments(nan, names, std::vector<Index>{0, 1, 0}), DataError);
  CHECK_THROWS_AS(profile_segments(X, names, std::vector<Index>{}), DataError);
}
