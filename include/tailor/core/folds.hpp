// tailor/core/folds.hpp — K-fold partitions for cross-fitting and cross-validation.
//
// kfold: a uniformly random permutation (Fisher–Yates with tailor::Rng) dealt round-robin to
// K folds, so fold sizes differ by at most 1. stratified_kfold: the same within each stratum
// (distinct label value, e.g. treatment arm or class), with each stratum's deal starting where
// the previous one stopped, so every fold gets each label in proportion (per-label counts
// differ by at most 1) and total fold sizes also differ by at most 1. Cross-fitting with such
// folds follows Chernozhukov et al., "Double/debiased machine learning", Econometrics J. 2018.
// Both are O(n) after an O(n log n) grouping of the labels; train_rows/test_rows are O(n).
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"

namespace tailor {

/// A partition of rows 0..n−1 into num_folds folds: fold[i] is the fold of row i.
struct Folds {
  Index num_folds = 0;
  std::vector<Index> fold = {};

  /// Number of rows partitioned.
  Index num_rows() const { return static_cast<Index>(fold.size()); }

  /// Rows in fold k (the held-out rows), increasing.
  std::vector<Index> test_rows(Index k) const {
    check_fold(k);
    std::vector<Index> rows;
    for (Index i = 0; i < num_rows(); ++i) {
      if (fold[static_cast<std::size_t>(i)] == k) rows.push_back(i);
    }
    return rows;
  }

  /// Rows outside fold k (the rows a model for fold k is fitted on), increasing.
  std::vector<Index> train_rows(Index k) const {
    check_fold(k);
    std::vector<Index> rows;
    for (Index i = 0; i < num_rows(); ++i) {
      if (fold[static_cast<std::size_t>(i)] != k) rows.push_back(i);
    }
    return rows;
  }

  /// Number of rows in fold k.
  Index fold_size(Index k) const {
    check_fold(k);
    return static_cast<Index>(std::count(fold.begin(), fold.end(), k));
  }

  /// Throws unless this is a usable partition of `n` rows: num_folds ≥ 2, one entry per row
  /// (ShapeMismatch), every entry in 0..num_folds−1 and every fold non-empty (InvalidArgument).
  /// For hand-built Folds; kfold and stratified_kfold always return valid ones.
  void validate(std::string_view context, Index n) const {
    check_param(num_folds >= 2, context, "folds.num_folds", num_folds, "at least 2");
    if (num_rows() != n) {
      raise<ShapeMismatch>("{}: folds cover {} rows, expected {} (the rows of X)", context,
                           num_rows(), n);
    }
    std::vector<Index> sizes(static_cast<std::size_t>(num_folds), 0);
    for (Index i = 0; i < n; ++i) {
      const Index k = fold[static_cast<std::size_t>(i)];
      if (k < 0 || k >= num_folds) {
        raise<InvalidArgument>("{}: folds.fold[{}] = {}, expected a fold in 0..{}", context, i, k,
                               num_folds - 1);
      }
      ++sizes[static_cast<std::size_t>(k)];
    }
    for (Index k = 0; k < num_folds; ++k) {
      if (sizes[static_cast<std::size_t>(k)] == 0) {
        raise<InvalidArgument>("{}: fold {} is empty, expected at least 1 row", context, k);
      }
    }
  }

 private:
  void check_fold(Index k) const {
    if (k < 0 || k >= num_folds) {
      raise<InvalidArgument>("Folds: k = {}, expected a fold in 0..{}", k, num_folds - 1);
    }
  }
};

namespace detail {
inline void check_num_folds(std::string_view context, Index n, Index num_folds) {
  check_count(context, "num_folds", num_folds, 2, limits::kMaxFolds);
  if (num_folds > n) {
    raise<InvalidArgument>("{}: num_folds = {}, expected at most n = {} (one row per fold)",
                           context, num_folds, n);
  }
}
}  // namespace detail

/// Random K-fold partition of n rows: a random permutation dealt round-robin, so fold sizes
/// are ⌊n/K⌋ or ⌈n/K⌉. Same seed → same folds. Requires 2 ≤ num_folds ≤ n (InvalidArgument).
inline Folds kfold(Index n, Index num_folds, std::uint64_t seed) {
  detail::check_num_folds("kfold", n, num_folds);
  Rng rng(seed);
  const std::vector<Index> order = permutation(n, rng);
  Folds folds{.num_folds = num_folds, .fold = std::vector<Index>(static_cast<std::size_t>(n))};
  for (Index r = 0; r < n; ++r) {
    folds.fold[static_cast<std::size_t>(order[static_cast<std::size_t>(r)])] = r % num_folds;
  }
  return folds;
}

/// Stratified K-fold partition on discrete `labels` (compared by exact value, e.g. treatment
/// 0/1 or class indices). Strata are visited in increasing label order; each stratum's rows are
/// shuffled and dealt round-robin starting at the fold after the previous stratum's last, so
///   * each fold holds ⌊n_c/K⌋ or ⌈n_c/K⌉ rows of every label c, and
///   * each fold holds ⌊n/K⌋ or ⌈n/K⌉ rows in total.
/// Throws InvalidArgument unless 2 ≤ num_folds ≤ n; DataError for non-finite labels and for a
/// label with fewer rows than folds (some fold would miss it entirely, e.g. a treatment arm
/// absent from a fold's test set): "stratified_kfold: label 1 has 3 rows, expected at least
/// num_folds = 5".
inline Folds stratified_kfold(const VectorRef& labels, Index num_folds, std::uint64_t seed) {
  constexpr std::string_view kContext = "stratified_kfold";
  const Index n = labels.size();
  detail::check_num_folds(kContext, n, num_folds);
  check_finite(kContext, "labels", labels);
  // Group rows by label: sort row indices by (label, row), which keeps rows increasing inside
  // each stratum so the result depends only on the data and the seed.
  std::vector<Index> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), Index{0});
  std::stable_sort(rows.begin(), rows.end(),
                   [&](Index a, Index b) { return labels[a] < labels[b]; });
  Rng rng(seed);
  Folds folds{.num_folds = num_folds, .fold = std::vector<Index>(static_cast<std::size_t>(n))};
  Index next_fold = 0;
  for (std::size_t start = 0; start < rows.size();) {
    std::size_t stop = start;
    const double label = labels[rows[start]];
    while (stop < rows.size() && labels[rows[stop]] == label) ++stop;
    const auto stratum_size = static_cast<Index>(stop - start);
    if (stratum_size < num_folds) {
      raise<DataError>("{}: label {} has {} rows, expected at least num_folds = {}", kContext,
                       label, stratum_size, num_folds);
    }
    std::span<Index> stratum(rows.data() + start, stop - start);
    shuffle(stratum, rng);
    for (Index r : stratum) {
      folds.fold[static_cast<std::size_t>(r)] = next_fold;
      next_fold = (next_fold + 1) % num_folds;
    }
    start = stop;
  }
  return folds;
}

}  // namespace tailor
