// Tests for tailor/core/folds.hpp: partitions, balance, stratification, determinism, errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "tailor/core/folds.hpp"

using tailor::Folds;
using tailor::Index;

namespace {
// Checks that train_rows(k) and test_rows(k) split 0..n-1 exactly, for every fold.
void check_partition(const Folds& folds, Index n) {
  REQUIRE(folds.num_rows() == n);
  std::vector<int> times_tested(static_cast<std::size_t>(n), 0);
  for (Index k = 0; k < folds.num_folds; ++k) {
    const auto test = folds.test_rows(k);
    const auto train = folds.train_rows(k);
    CHECK(static_cast<Index>(test.size()) == folds.fold_size(k));
    CHECK(static_cast<Index>(test.size() + train.size()) == n);
    CHECK(std::is_sorted(test.begin(), test.end()));
    CHECK(std::is_sorted(train.begin(), train.end()));
    std::vector<Index> all = test;
    all.insert(all.end(), train.begin(), train.end());
    std::sort(all.begin(), all.end());
    for (Index i = 0; i < n; ++i) REQUIRE(all[static_cast<std::size_t>(i)] == i);
    for (Index i : test) {
      CHECK(folds.fold[static_cast<std::size_t>(i)] == k);
      ++times_tested[static_cast<std::size_t>(i)];
    }
    for (Index i : train) CHECK(folds.fold[static_cast<std::size_t>(i)] != k);
  }
  // Each row is held out exactly once.
  CHECK(std::all_of(times_tested.begin(), times_tested.end(), [](int t) { return t == 1; }));
  CHECK_NOTHROW(folds.validate("test", n));
}
}  // namespace

TEST_CASE("kfold makes a balanced random partition", "[folds]") {
  const Folds folds = tailor::kfold(10, 3, 7);
  CHECK(folds.num_folds == 3);
  check_partition(folds, 10);
  // 10 = 3 + 3 + 4: sizes are ⌊10/3⌋ or ⌈10/3⌉.
  std::vector<Index> sizes = {folds.fold_size(0), folds.fold_size(1), folds.fold_size(2)};
  std::sort(sizes.begin(), sizes.end());
  CHECK(sizes == std::vector<Index>{3, 3, 4});

  const Folds loo = tailor::kfold(5, 5, 1);  // leave-one-out
  check_partition(loo, 5);
  for (Index k = 0; k < 5; ++k) CHECK(loo.fold_size(k) == 1);

  for (Index n : {2, 7, 100, 101}) {
    for (Index k : {2, 5}) {
      if (k > n) continue;
      const Folds f = tailor::kfold(n, k, static_cast<std::uint64_t>(n * 31 + k));
      check_partition(f, n);
      for (Index j = 0; j < k; ++j) {
        CHECK(f.fold_size(j) >= n / k);
        CHECK(f.fold_size(j) <= (n + k - 1) / k);
      }
    }
  }
}

TEST_CASE("kfold is reproducible and uniform over seeds", "[folds]") {
  CHECK(tailor::kfold(50, 5, 42).fold == tailor::kfold(50, 5, 42).fold);
  CHECK(tailor::kfold(50, 5, 42).fold != tailor::kfold(50, 5, 43).fold);
  // Row 0 lands in each of 4 folds with probability 1/4 over seeds: 4000 draws,
  // sd of a count = √(4000·¼·¾) ≈ 27.4, so ±140 is a > 5 sd bound.
  std::vector<int> counts(4, 0);
  for (std::uint64_t seed = 0; seed < 4000; ++seed) ++counts[tailor::kfold(12, 4, seed).fold[0]];
  for (int c : counts) CHECK(std::abs(c - 1000) < 140);
}

TEST_CASE("stratified_kfold balances every label across folds", "[folds]") {
  // 23 rows of label 5, 7 of label -1 and 10 of label 2, interleaved.
  const Index n = 40;
  Eigen::VectorXd labels(n);
  for (Index i = 0; i < n; ++i) labels[i] = i < 23 ? 5.0 : (i < 30 ? -1.0 : 2.0);
  tailor::Rng rng(3);
  std::vector<double> scrambled(labels.data(), labels.data() + n);
  tailor::shuffle(scrambled, rng);
  labels = Eigen::Map<Eigen::VectorXd>(scrambled.data(), n);

  const Index k = 3;
  const Folds folds = tailor::stratified_kfold(labels, k, 11);
  check_partition(folds, n);
  const std::map<double, Index> stratum_sizes = {{5.0, 23}, {-1.0, 7}, {2.0, 10}};
  for (Index f = 0; f < k; ++f) {
    std::map<double, Index> counts;
    for (Index i : folds.test_rows(f)) ++counts[labels[i]];
    for (const auto& [label, size] : stratum_sizes) {
      // 23/3 → 7 or 8; 7/3 → 2 or 3; 10/3 → 3 or 4.
      CHECK(counts[label] >= size / k);
      CHECK(counts[label] <= (size + k - 1) / k);
    }
    // Totals: 40/3 → 13 or 14.
    CHECK(folds.fold_size(f) >= 13);
    CHECK(folds.fold_size(f) <= 14);
  }
  CHECK(tailor::stratified_kfold(labels, k, 11).fold == folds.fold);
  CHECK(tailor::stratified_kfold(labels, k, 12).fold != folds.fold);

  // A binary treatment with exactly num_folds treated rows puts one in each fold.
  Eigen::VectorXd w = Eigen::VectorXd::Zero(20);
  w.head(4).setOnes();
  const Folds by_arm = tailor::stratified_kfold(w, 4, 0);
  for (Index f = 0; f < 4; ++f) {
    Index treated = 0;
    for (Index i : by_arm.test_rows(f)) treated += w[i] == 1.0 ? 1 : 0;
    CHECK(treated == 1);
  }
}

TEST_CASE("folds reject bad arguments", "[folds]") {
  CHECK_THROWS_WITH(tailor::kfold(10, 1, 0),
                    Catch::Contains("kfold: num_folds = 1, expected 2 to 10000"));
  CHECK_THROWS_AS(tailor::kfold(10, 1, 0), tailor::InvalidArgument);
  CHECK_THROWS_WITH(tailor::kfold(3, 4, 0),
                    Catch::Contains("kfold: num_folds = 4, expected at most n = 3"));
  CHECK_THROWS_AS(tailor::kfold(0, 2, 0), tailor::InvalidArgument);

  const Eigen::VectorXd labels{{0, 0, 0, 0, 0, 1, 1, 1}};
  CHECK_THROWS_WITH(tailor::stratified_kfold(labels, 4, 0),
                    Catch::Contains("stratified_kfold: label 1 has 3 rows, expected at least "
                                    "num_folds = 4"));
  CHECK_THROWS_AS(tailor::stratified_kfold(labels, 4, 0), tailor::DataError);
  CHECK_THROWS_WITH(tailor::stratified_kfold(labels, 9, 0),
                    Catch::Contains("stratified_kfold: num_folds = 9, expected at most n = 8"));
  const Eigen::VectorXd with_nan{{0, 1, NAN, 0}};
  CHECK_THROWS_WITH(tailor::stratified_kfold(with_nan, 2, 0),
                    Catch::Contains("stratified_kfold: labels[2] = nan, expected a finite value"));

  const Folds folds = tailor::kfold(6, 2, 0);
  CHECK_THROWS_WITH(folds.test_rows(2), Catch::Contains("Folds: k = 2, expected a fold in 0..1"));
  CHECK_THROWS_AS(folds.train_rows(-1), tailor::InvalidArgument);

  // validate() for hand-built folds.
  CHECK_THROWS_WITH(folds.validate("cross_fit", 7),
                    Catch::Contains("cross_fit: folds cover 6 rows, expected 7"));
  CHECK_THROWS_AS(folds.validate("cross_fit", 7), tailor::ShapeMismatch);
  const Folds out_of_range{.num_folds = 2, .fold = {0, 1, 2, 0}};
  CHECK_THROWS_WITH(out_of_range.validate("cross_fit", 4),
                    Catch::Contains("cross_fit: folds.fold[2] = 2, expected a fold in 0..1"));
  const Folds empty_fold{.num_folds = 3, .fold = {0, 1, 0, 1}};
  CHECK_THROWS_WITH(empty_fold.validate("cross_fit", 4),
                    Catch::Contains("cross_fit: fold 2 is empty"));
  const Folds one_fold{.num_folds = 1, .fold = {0, 0}};
  CHECK_THROWS_WITH(one_fold.validate("cross_fit", 2),
                    Catch::Contains("cross_fit: folds.num_folds = 1, expected at least 2"));
}
