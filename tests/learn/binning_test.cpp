#include "tailor/learn/binning.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "tailor/core/random.hpp"

using tailor::Index;
using tailor::Matrix;
using tailor::learn::BinMapper;
using tailor::learn::BinnedMatrix;
using tailor::learn::BinningParams;

TEST_CASE("BinMapper: few distinct values get one bin each, bounds at midpoints", "[binning]") {
  Matrix X(6, 2);
  X << 3.0, 5.0,  //
      1.0, 5.0,   //
      2.0, 5.0,   //
      3.0, 5.0,   //
      1.0, 5.0,   //
      4.0, 5.0;
  const BinMapper mapper = BinMapper::fit(X);
  REQUIRE(mapper.num_features() == 2);
  REQUIRE(mapper.num_bins(0) == 4);
  CHECK(mapper.upper_bound(0, 0) == 1.5);
  CHECK(mapper.upper_bound(0, 1) == 2.5);
  CHECK(mapper.upper_bound(0, 2) == 3.5);
  CHECK(mapper.upper_bound(0, 3) == std::numeric_limits<double>::infinity());
  CHECK(mapper.num_bins(1) == 1);  // constant feature
  CHECK(mapper.bin_of(0, 1.0) == 0);
  CHECK(mapper.bin_of(0, 1.5) == 0);  // v <= u(0) is bin 0
  CHECK(mapper.bin_of(0, 1.50001) == 1);
  CHECK(mapper.bin_of(0, -100.0) == 0);
  CHECK(mapper.bin_of(0, 100.0) == 3);
  CHECK(mapper.bin_of(1, 7.0) == 0);

  const BinnedMatrix binned = mapper.transform(X, 1);
  REQUIRE(binned.rows() == 6);
  REQUIRE(binned.cols() == 2);
  const std::uint8_t expected[] = {2, 0, 1, 2, 0, 3};
  for (Index i = 0; i < 6; ++i) {
    CHECK(binned(i, 0) == expected[i]);
    CHECK(binned.column(0)[i] == expected[i]);
    CHECK(binned(i, 1) == 0);
  }
  CHECK(binned.mapper().num_bins(0) == 4);
}

TEST_CASE("BinMapper: continuous feature gets equal-frequency bins", "[binning]") {
  const Index n = 10'000;
  tailor::Rng rng(7);
  Matrix X(n, 1);
  for (Index i = 0; i < n; ++i) X(i, 0) = rng.normal();
  const BinMapper mapper = BinMapper::fit(X, {.max_bins = 16});
  REQUIRE(mapper.num_bins(0) == 16);
  const BinnedMatrix binned = mapper.transform(X);
  std::vector<Index> counts(16, 0);
  for (Index i = 0; i < n; ++i) {
    const auto b = binned(i, 0);
    ++counts[b];
    // The definition: u(b-1) < x <= u(b).
    CHECK(X(i, 0) <= mapper.upper_bound(0, b));
    if (b > 0) CHECK(X(i, 0) > mapper.upper_bound(0, b - 1));
  }
  for (Index c : counts) CHECK(std::abs(static_cast<double>(c) - n / 16.0) <= 2.0);
  // Bounds increase strictly.
  for (Index b = 1; b < 16; ++b) CHECK(mapper.upper_bound(0, b - 1) < mapper.upper_bound(0, b));
}

TEST_CASE("BinMapper: heavy ties and subsampling", "[binning]") {
  const Index n = 5'000;
  tailor::Rng rng(3);
  Matrix X(n, 2);
  for (Index i = 0; i < n; ++i) {
    X(i, 0) = rng.uniform() < 0.6 ? 0.0 : rng.uniform();  // a point mass of 60%
    X(i, 1) = rng.uniform();
  }
  const BinMapper mapper = BinMapper::fit(X, {.max_bins = 32});
  CHECK(mapper.num_bins(0) <= 32);
  CHECK(mapper.num_bins(0) >= 10);
  CHECK(mapper.bin_of(0, 0.0) == 0);
  CHECK(mapper.upper_bound(0, 0) > 0.0);
  // The zeros fill bin 0 alone.
  CHECK(mapper.upper_bound(0, 0) < 0.01);

  // Quantiles on a seeded subsample: same seed -> same bounds; close to the full-data ones.
  const BinMapper a = BinMapper::fit(X, {.max_bins = 8, .max_sample_rows = 1000, .seed = 5});
  const BinMapper b = BinMapper::fit(X, {.max_bins = 8, .max_sample_rows = 1000, .seed = 5});
  const BinMapper full = BinMapper::fit(X, {.max_bins = 8});
  REQUIRE(a.num_bins(1) == 8);
  for (Index k = 0; k < 7; ++k) {
    CHECK(a.upper_bound(1, k) == b.upper_bound(1, k));
    CHECK(a.upper_bound(1, k) == Approx(full.upper_bound(1, k)).margin(0.05));
  }
}

TEST_CASE("radix_sort sorts like std::sort, signs, zeros, ties and extremes included",
          "[binning]") {
  tailor::Rng rng(17);
  for (const std::size_t n : {std::size_t{1}, std::size_t{255}, std::size_t{256}, std::size_t{5000},
                              std::size_t{40000}}) {
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i) {
      switch (i % 6) {
        case 0:
          values[i] = rng.normal() * 1e3;
          break;
        case 1:
          values[i] = static_cast<double>(static_cast<int>(rng.uniform() * 7.0) - 3);
          break;
        case 2:
          values[i] = rng.uniform() < 0.5 ? -0.0 : 0.0;
          break;
        case 3:
          values[i] =
              std::ldexp(rng.uniform() - 0.5, static_cast<int>(rng.uniform() * 2000) - 1000);
          break;
        case 4:
          values[i] = rng.uniform() < 0.5 ? std::numeric_limits<double>::max()
                                          : -std::numeric_limits<double>::denorm_min();
          break;
        default:
          values[i] = rng.uniform();
      }
    }
    std::vector<double> expected = values;
    std::sort(expected.begin(), expected.end());
    tailor::learn::detail::radix_sort(values);
    REQUIRE(values.size() == expected.size());
    for (std::size_t i = 0; i < n; ++i) REQUIRE(values[i] == expected[i]);
  }
}

TEST_CASE("BinMapper: the same bins for every num_threads", "[binning]") {
  tailor::Rng rng(18);
  Matrix X(3000, 5);
  for (Index i = 0; i < X.rows(); ++i) {
    X(i, 0) = rng.normal();
    X(i, 1) = std::floor(rng.uniform() * 10.0);           // few distinct values
    X(i, 2) = rng.uniform() < 0.7 ? 0.0 : rng.uniform();  // a heavy tie
    X(i, 3) = -std::exp(rng.normal());
    X(i, 4) = 1.0;  // constant
  }
  const BinMapper one = BinMapper::fit(X, {.max_bins = 64, .num_threads = 1});
  const BinMapper three = BinMapper::fit(X, {.max_bins = 64, .num_threads = 3});
  REQUIRE(one.num_features() == three.num_features());
  for (Index j = 0; j < X.cols(); ++j) {
    REQUIRE(one.num_bins(j) == three.num_bins(j));
    for (Index b = 0; b < one.num_bins(j); ++b)
      CHECK(one.upper_bound(j, b) == three.upper_bound(j, b));
  }
}

TEST_CASE("BinMapper: save and load round trip", "[binning]") {
  tailor::Rng rng(11);
  Matrix X(300, 3);
  for (Index i = 0; i < X.size(); ++i) X.data()[i] = rng.normal();
  const BinMapper mapper = BinMapper::fit(X, {.max_bins = 20});
  std::stringstream stream;
  tailor::BinaryWriter writer(stream);
  mapper.save(writer);
  writer.finish();
  tailor::BinaryReader reader(stream);
  const BinMapper loaded = BinMapper::load(reader);
  reader.expect_end();
  REQUIRE(loaded.num_features() == 3);
  for (Index j = 0; j < 3; ++j) {
    REQUIRE(loaded.num_bins(j) == mapper.num_bins(j));
    for (Index b = 0; b < mapper.num_bins(j); ++b) {
      CHECK(loaded.upper_bound(j, b) == mapper.upper_bound(j, b));
    }
  }
  // Truncation is a FormatError, never a crash.
  const std::string bytes = stream.str();
  std::stringstream cut(bytes.substr(0, bytes.size() - 9));
  tailor::BinaryReader cut_reader(cut);
  CHECK_THROWS_AS(BinMapper::load(cut_reader), tailor::FormatError);
}

TEST_CASE("BinMapper: bad input", "[binning]") {
  Matrix X(4, 2);
  X << 1, 2, 3, 4, 5, 6, 7, 8;
  CHECK_THROWS_WITH(BinMapper::fit(X, {.max_bins = 1}),
                    Catch::Contains("BinMapper: max_bins = 1, expected a value in [2, 4096]"));
  CHECK_THROWS_AS(BinMapper::fit(X, {.max_bins = 4097}), tailor::InvalidArgument);
  CHECK_THROWS_WITH(BinMapper::fit(X, {.max_sample_rows = 0}),
                    Catch::Contains("max_sample_rows = 0, expected at least 1"));
  CHECK_THROWS_AS(BinMapper::fit(Matrix(0, 2)), tailor::DataError);
  Matrix bad = X;
  bad(2, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(BinMapper::fit(bad), Catch::Contains("X(2, 1) = nan"));
  const BinMapper mapper = BinMapper::fit(X);
  CHECK_THROWS_WITH(mapper.transform(Matrix(3, 5)), Catch::Contains("X has 5 columns, expected 2"));
  CHECK_THROWS_AS(mapper.transform(bad), tailor::DataError);
  CHECK_THROWS_WITH(mapper.upper_bound(0, 9), Catch::Contains("bin = 9, expected 0 to 3"));
  CHECK_THROWS_WITH(mapper.num_bins(2), Catch::Contains("feature = 2, expected 0 to 1"));
  CHECK_THROWS_AS(mapper.bin_of(0, std::numeric_limits<double>::quiet_NaN()), tailor::DataError);
}
