// tailor/learn/tree/forest_params.hpp — the options every forest learner shares (grf's
// defaults), their validation, and the checks of y and sample weights.
// Complexity: O(1) for the options, O(n) for the checks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "tailor/core/errors.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/tree/trainer.hpp"

namespace tailor::learn {

/// Options shared by RegressionForest and ClassificationForest (grf's defaults).
struct ForestParams {
  Index num_trees = 500;
  /// Features tried per split; 0 = grf's default min(⌈√p + 20⌉, p) (scikit-learn's regressor
  /// default is p, its classifier's √p; set e.g. p/3 for Breiman's regression choice).
  Index mtry = 0;
  /// Rows drawn per tree as a fraction of n, in (0, 1]: without replacement (grf, default 0.5)
  /// or, with bootstrap = true, with replacement (scikit-learn: bootstrap, 1.0).
  double sample_fraction = 0.5;
  bool bootstrap = false;
  /// Minimum number of splitting rows in each child of a split (grf / scikit-learn's
  /// min_samples_leaf).
  Index min_node_size = 5;
  Index max_depth = 0;  ///< 0 = unlimited; the root has depth 0
  /// Honest trees: splits from a ⌊honesty_fraction·m⌋ part of each tree's sample, leaf values
  /// from the rest; leaves without estimation rows are pruned as in grf.
  bool honesty = true;
  double honesty_fraction = 0.5;
  Index max_bins = 256;     ///< quantile bins per feature, 2..4096 (learn/binning.hpp)
  bool compute_oob = true;  ///< out-of-bag predictions for the training rows
  /// grf's TreeTrainer: each split tries min(max(Poisson(mtry), 1), p) features instead of
  /// exactly mtry (more diverse trees when mtry is close to p; grf's forests all do this).
  bool poisson_mtry = false;
  std::uint64_t seed = 0;               ///< tree t uses Rng(seed, t): identical for any num_threads
  Index num_threads = 0;                ///< 0 = all cores (fit and predict)
  ProgressCallback progress = nullptr;  ///< optional, stage "trees"
};

namespace detail {

inline void validate_forest_params(const ForestParams& p, std::string_view context) {
  check_param(p.num_trees >= 1, context, "num_trees", p.num_trees, "at least 1");
  check_param(p.mtry >= 0, context, "mtry", p.mtry, "0 (default) or a positive count");
  check_param(p.sample_fraction > 0.0 && p.sample_fraction <= 1.0, context, "sample_fraction",
              p.sample_fraction, "a value in (0, 1]");
  check_param(p.min_node_size >= 1, context, "min_node_size", p.min_node_size, "at least 1");
  check_param(p.max_depth >= 0, context, "max_depth", p.max_depth, "0 (unlimited) or positive");
  check_param(p.honesty_fraction > 0.0 && p.honesty_fraction < 1.0, context, "honesty_fraction",
              p.honesty_fraction, "a value in (0, 1)");
  check_max_bins(context, p.max_bins);
  check_param(p.num_threads >= 0, context, "num_threads", p.num_threads,
              "0 (all cores) or a positive count");
}

/// Resolves mtry against p (0 = grf's default) and builds the trainer options.
inline tree::TrainerOptions trainer_options(const ForestParams& p, Index num_features,
                                            std::string_view context) {
  Index mtry = p.mtry;
  if (mtry == 0) {
    mtry = std::min<Index>(
        static_cast<Index>(std::ceil(std::sqrt(static_cast<double>(num_features)) + 20.0)),
        num_features);
  }
  if (mtry > num_features) {
    tailor::detail::raise<InvalidArgument>("{}: mtry = {}, expected at most the {} features of X",
                                           context, mtry, num_features);
  }
  return {.num_trees = p.num_trees,
          .mtry = mtry,
          .sample_fraction = p.sample_fraction,
          .bootstrap = p.bootstrap,
          .min_node_size = p.min_node_size,
          .max_depth = p.max_depth,
          .honesty = p.honesty,
          .honesty_fraction = p.honesty_fraction,
          .compute_oob = p.compute_oob,
          .poisson_mtry = p.poisson_mtry,
          .seed = p.seed,
          .num_threads = p.num_threads,
          .progress = p.progress};
}

/// Checks y (finite, n rows) and weights (empty or n finite values >= 0 with a positive sum).
inline void check_forest_targets(std::string_view context, Index n, const VectorRef& y,
                                 const VectorRef& weights) {
  check_nonempty(context, "X", n);
  check_rows(context, "y", y.size(), n, "the rows of X");
  check_finite(context, "y", y);
  if (weights.size() == 0) return;
  check_rows(context, "weights", weights.size(), n, "the rows of X");
  check_finite(context, "weights", weights);
  for (Index i = 0; i < n; ++i) {
    if (weights[i] < 0.0) {
      tailor::detail::raise<DataError>("{}: weights[{}] = {}, expected a value >= 0", context, i,
                                       weights[i]);
    }
  }
  if (!(weights.sum() > 0.0)) {
    tailor::detail::raise<DataError>("{}: weights sum to 0, expected a positive total", context);
  }
}

}  // namespace detail

}  // namespace tailor::learn
