// tailor/learn/tree/forest_params.hpp — the tree settings every forest shares, in one struct
// (ForestParams), validated and mapped to the engine's TrainerOptions in one place, plus the
// checks of y and sample weights.
//
// Every forest's Params composes one ForestParams: RegressionForest's Params is a ForestParams;
// ClassificationForest, CausalForest and UpliftForest hold one as `.forest`:
//   CausalForest({.forest = {.num_trees = 4000, .seed = 7}, .alpha = 0.05})
// The forests differ in some defaults (grf's causal forest grows 2000 trees, CausalML's uplift
// forest 100 shallow, dishonest trees), so those fields are std::optional: a field left unset
// takes the default of the forest it is given to (ForestDefaults, listed in each forest's
// header), and setting one field never resets another to a different forest's default.
// Complexity: O(1) for the options, O(n) for the checks.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "tailor/core/errors.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/binning.hpp"
#include "tailor/learn/tree/trainer.hpp"

namespace tailor::learn {

/// The tree settings shared by every forest (RegressionForest, ClassificationForest,
/// CausalForest, UpliftForest). Unset optional fields take the forest's default (ForestDefaults).
struct ForestParams {
  /// Trees; default 500 (regression, classification), 2000 (causal), 100 (uplift).
  std::optional<Index> num_trees = std::nullopt;
  /// Features tried per split; 0 = the forest's default: grf's min(⌈√p + 20⌉, p) (regression,
  /// classification, causal), CausalML's min(10, p) (uplift). scikit-learn's regressor default
  /// is p, its classifier's √p; set e.g. p/3 for Breiman's regression choice.
  Index mtry = 0;
  /// Rows drawn per tree as a fraction of n, in (0, 1]: without replacement (grf, default 0.5)
  /// or, with bootstrap = true, with replacement (scikit-learn: bootstrap, 1.0). The causal
  /// forest's little bags need sample_fraction ≤ 0.5 and no bootstrap.
  double sample_fraction = 0.5;
  bool bootstrap = false;
  /// Minimum number of splitting rows in each child of a split (grf / scikit-learn's
  /// min_samples_leaf); default 5 (uplift: 100).
  std::optional<Index> min_node_size = std::nullopt;
  /// Maximum depth, 0 = unlimited (the root has depth 0); default 0 (uplift: 10).
  std::optional<Index> max_depth = std::nullopt;
  /// Honest trees: splits from a ⌊honesty_fraction·m⌋ part of each tree's sample, leaf values
  /// from the rest; leaves without estimation rows are pruned as in grf. Default true (uplift:
  /// false, as CausalML).
  std::optional<bool> honesty = std::nullopt;
  double honesty_fraction = 0.5;
  /// Quantile bins per feature, 2..4096 (learn/binning.hpp); default 256. The causal forest's
  /// default (also max_bins = 0) is ⌊n/100⌋ rounded up to a power of two, clamped to [256, 1024].
  std::optional<Index> max_bins = std::nullopt;
  /// Out-of-bag predictions for the training rows (the causal forest always needs them).
  bool compute_oob = true;
  /// grf's TreeTrainer: each split tries min(max(Poisson(mtry), 1), p) features instead of
  /// exactly mtry (more diverse trees when mtry is close to p). Default false (causal: true, as
  /// grf's causal trees).
  std::optional<bool> poisson_mtry = std::nullopt;
  std::uint64_t seed = 0;               ///< tree t uses Rng(seed, t): identical for any num_threads
  Index num_threads = 0;                ///< 0 = all cores (fit and predict)
  ProgressCallback progress = nullptr;  ///< optional, stage "trees"
};

/// How a forest chooses mtry when ForestParams::mtry is 0.
enum class DefaultMtry : std::uint8_t {
  grf,       ///< min(⌈√p + 20⌉, p)
  causalml,  ///< min(10, p)
};

/// A forest's defaults for the unset fields of ForestParams.
struct ForestDefaults {
  Index num_trees = 500;
  Index min_node_size = 5;
  Index max_depth = 0;
  bool honesty = true;
  Index max_bins = 256;  ///< 0 = by n (the causal forest's rule, see ForestParams::max_bins)
  bool poisson_mtry = false;
  DefaultMtry mtry = DefaultMtry::grf;
};

/// ForestParams with every default applied (what the forests read after construction).
struct ResolvedForestParams {
  Index num_trees = 0;
  Index mtry = 0;  ///< 0 = by p (resolve_mtry)
  double sample_fraction = 0.5;
  bool bootstrap = false;
  Index min_node_size = 0;
  Index max_depth = 0;
  bool honesty = true;
  double honesty_fraction = 0.5;
  Index max_bins = 0;  ///< 0 = by n (resolve_max_bins)
  bool compute_oob = true;
  bool poisson_mtry = false;
  DefaultMtry default_mtry = DefaultMtry::grf;
  std::uint64_t seed = 0;
  Index num_threads = 0;
  ProgressCallback progress = nullptr;

  /// mtry for p features; InvalidArgument when a set mtry exceeds p.
  Index resolve_mtry(Index num_features, std::string_view context) const {
    Index m = mtry;
    if (m == 0) {
      m = default_mtry == DefaultMtry::causalml
              ? std::min<Index>(10, num_features)
              : std::min<Index>(static_cast<Index>(
                                    std::ceil(std::sqrt(static_cast<double>(num_features)) + 20.0)),
                                num_features);
    }
    if (m > num_features) {
      raise<InvalidArgument>("{}: mtry = {}, expected at most the {} features of X", context, m,
                             num_features);
    }
    return m;
  }

  /// Bins per feature for n rows (0 = ⌊n/100⌋ rounded up to a power of two in [256, 1024]).
  Index resolve_max_bins(Index n) const {
    if (max_bins > 0) return max_bins;
    return std::clamp<Index>(
        static_cast<Index>(std::bit_ceil(static_cast<std::uint64_t>(std::max<Index>(n / 100, 1)))),
        256, 1024);
  }

  /// The binning settings of this forest for n rows.
  BinningParams binning(Index n) const {
    return {.max_bins = resolve_max_bins(n), .seed = seed, .num_threads = num_threads};
  }

  /// The engine's options for p features (ci_group_size and histogram_subtraction at their
  /// defaults; the causal forest sets its little bags itself).
  tree::TrainerOptions trainer_options(Index num_features, std::string_view context) const {
    return {.num_trees = num_trees,
            .mtry = resolve_mtry(num_features, context),
            .sample_fraction = sample_fraction,
            .bootstrap = bootstrap,
            .min_node_size = min_node_size,
            .max_depth = max_depth,
            .honesty = honesty,
            .honesty_fraction = honesty_fraction,
            .compute_oob = compute_oob,
            .poisson_mtry = poisson_mtry,
            .seed = seed,
            .num_threads = num_threads,
            .progress = progress};
  }
};

/// Applies `defaults` to the unset fields of `p` and validates every field (InvalidArgument
/// naming `context` and the field, prefixed with `prefix`, e.g. "forest."). The one validation of
/// the shared tree settings.
inline ResolvedForestParams resolve_forest_params(const ForestParams& p,
                                                  const ForestDefaults& defaults,
                                                  std::string_view context,
                                                  std::string_view prefix = "") {
  const auto name = [&](std::string_view field) { return fmt::format("{}{}", prefix, field); };
  ResolvedForestParams r{.num_trees = p.num_trees.value_or(defaults.num_trees),
                         .mtry = p.mtry,
                         .sample_fraction = p.sample_fraction,
                         .bootstrap = p.bootstrap,
                         .min_node_size = p.min_node_size.value_or(defaults.min_node_size),
                         .max_depth = p.max_depth.value_or(defaults.max_depth),
                         .honesty = p.honesty.value_or(defaults.honesty),
                         .honesty_fraction = p.honesty_fraction,
                         .max_bins = p.max_bins.value_or(defaults.max_bins),
                         .compute_oob = p.compute_oob,
                         .poisson_mtry = p.poisson_mtry.value_or(defaults.poisson_mtry),
                         .default_mtry = defaults.mtry,
                         .seed = p.seed,
                         .num_threads = p.num_threads,
                         .progress = p.progress};
  check_param(r.num_trees >= 1 && r.num_trees <= tree::kMaxTrees, context, name("num_trees"),
              r.num_trees, "between 1 and 1000000");
  check_param(r.mtry >= 0, context, name("mtry"), r.mtry, "0 (default) or a positive count");
  check_param(r.sample_fraction > 0.0 && r.sample_fraction <= 1.0, context, name("sample_fraction"),
              r.sample_fraction, "a value in (0, 1]");
  check_count(context, name("min_node_size"), r.min_node_size, 1, limits::kMaxRowCount);
  check_param(r.max_depth >= 0, context, name("max_depth"), r.max_depth,
              "0 (unlimited) or positive");
  check_param(r.honesty_fraction > 0.0 && r.honesty_fraction < 1.0, context,
              name("honesty_fraction"), r.honesty_fraction, "a value in (0, 1)");
  if (defaults.max_bins == 0) {  // 0 = by n is a value this forest accepts
    check_param(r.max_bins == 0 || (r.max_bins >= 2 && r.max_bins <= kMaxBins), context,
                name("max_bins"), r.max_bins, "0 (auto) or a value in [2, 4096]");
  } else {
    check_max_bins(context, r.max_bins, name("max_bins"));
  }
  check_param(r.num_threads >= 0, context, name("num_threads"), r.num_threads,
              "0 (all cores) or a positive count");
  return r;
}

namespace detail {

/// Checks y (finite, n rows) and weights (empty or n finite values >= 0 with a positive sum).
inline void check_forest_targets(std::string_view context, Index n, const VectorRef& y,
                                 const VectorRef& weights) {
  check_nonempty(context, "X", n);
  check_rows(context, "y", y.size(), n, "the rows of X");
  check_finite(context, "y", y);
  check_weights(context, "weights", weights, n);
}

}  // namespace detail

}  // namespace tailor::learn
