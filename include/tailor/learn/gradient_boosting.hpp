// tailor/learn/gradient_boosting.hpp — histogram gradient boosting for regression (squared
// error) and binary classification (log-loss).
//
// Gradient boosting (Friedman, "Greedy function approximation", Ann. Statist. 2001) fits an
// additive model F(x) = F₀ + Σₘ fₘ(x): F₀ minimizes the loss with a constant (the weighted mean
// of y, or the log-odds of the weighted prevalence), and each fₘ is a regression tree fitted to
// the per-row gradients gᵢ = wᵢ ∂ℓ/∂F and hessians hᵢ = wᵢ ∂²ℓ/∂F² at the current F, with Newton
// leaf values −ν·G/(H + λ) (detail/boosting_tree.hpp):
//   squared error  ℓ = ½(y − F)²,            g = w(F − y),  h = w
//   log-loss       ℓ = log(1 + eᶠ) − yF,     g = w(p − y),  h = w·p(1 − p),  p = σ(F)
// Design (mirrors scikit-learn's HistGradientBoosting, whose defaults are the defaults here):
//  * Features are binned once into ≤ 256 quantile bins (learn/binning.hpp, fitted on the
//    training part); trees are grown best-first on per-node histograms with the
//    sibling-subtraction trick. Split thresholds are the bin upper bounds, so prediction
//    compares raw x with them and reproduces the binned training path exactly.
//  * Stochastic parts, each its own stream of tailor::Rng(seed, ·): the validation split
//    (stratified by class for log-loss), and per iteration m the row subsample (`subsample`,
//    without replacement; stream 2m) and the feature subsample (`feature_fraction`, per tree;
//    stream 2m + 1).
//  * Early stopping (scikit-learn's rule with scoring = "loss"): hold out validation_fraction of
//    the rows; after each iteration compute the weighted validation loss Lₘ (L₀ for F₀); stop at
//    iteration m when none of L_{m−k+1..m} is below L_{m−k} − tol, k = n_iter_no_change. The
//    trees fitted so far are all kept. `automatic` turns it on when n > 10,000 rows.
//  * Threads: every parallel reduction is ordered by fixed row blocks or by the node's size
//    (detail/boosting_tree.hpp), never by the thread count, so the fitted model is
//    bit-identical for every num_threads.
// One implementation (detail::fit_boosting) serves both learners; GradientBoostingRegressor
// returns a GradientBoostingRegressionModel (predict), GradientBoostingClassifier a
// GradientBoostingClassificationModel (predict_proba n × 2, predict = P(y = 1)).
// Complexity: binning O(n·p·log B); per iteration O(n) for gradients plus the tree
// (detail/boosting_tree.hpp: ≈ O(n·p·depth/2)); prediction O(n·trees·depth).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <limits>
#include <memory>
#include <ostream>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/binning.hpp"
#include "tailor/learn/detail/boosting_tree.hpp"
#include "tailor/learn/detail/supervised_input.hpp"
#include "tailor/learn/logistic_regression.hpp"

namespace tailor::learn {

/// When to hold out a validation split and stop early.
enum class EarlyStopping : std::uint8_t {
  automatic,  ///< on when the data have more than 10,000 rows (scikit-learn's "auto")
  enabled,
  disabled,
};

/// The loss a boosted ensemble minimizes.
enum class BoostingLoss : std::uint8_t { squared_error = 0, log_loss = 1 };

/// Settings shared by GradientBoostingRegressor and GradientBoostingClassifier. Defaults are
/// scikit-learn's HistGradientBoosting defaults (1.2), except max_bins (256 here: no bin is kept
/// for missing values, which tailor rejects).
struct GradientBoostingParams {
  double learning_rate = 0.1;     ///< shrinkage ν > 0
  Index max_iter = 100;           ///< boosting iterations (trees), ≥ 1
  Index max_leaf_nodes = 31;      ///< leaves per tree, ≥ 2; 0 = unlimited (then set max_depth)
  Index max_depth = 0;            ///< 0 = unlimited; depth 1 = stumps
  Index min_samples_leaf = 20;    ///< rows per leaf, ≥ 1
  double l2_regularization = 0;   ///< λ ≥ 0 in the leaf values −G/(H + λ)
  Index max_bins = 256;           ///< quantile bins per feature, 2..256
  double subsample = 1.0;         ///< fraction of training rows per iteration, (0, 1]
  double feature_fraction = 1.0;  ///< fraction of features per tree, (0, 1]
  EarlyStopping early_stopping = EarlyStopping::automatic;
  double validation_fraction = 0.1;  ///< held-out share when early stopping, (0, 1)
  Index n_iter_no_change = 10;       ///< patience of early stopping, ≥ 1
  double tol = 1e-7;                 ///< improvement needed to reset the patience, ≥ 0
  std::uint64_t seed = 0;
  Index num_threads = 0;           ///< 0 = all cores; results are identical for every value
  ProgressCallback progress = {};  ///< called with ("iterations", m, max_iter)
};

namespace detail {

inline void validate_boosting_params(const GradientBoostingParams& p, std::string_view context) {
  check_param(p.learning_rate > 0.0 && std::isfinite(p.learning_rate), context, "learning_rate",
              p.learning_rate, "a finite value > 0");
  check_count(context, "max_iter", p.max_iter, 1, limits::kMaxIterations);
  check_param(p.max_leaf_nodes == 0 || (p.max_leaf_nodes >= 2 && p.max_leaf_nodes <= (1 << 20)),
              context, "max_leaf_nodes", p.max_leaf_nodes, "0 (unlimited) or 2 to 1048576");
  check_count(context, "max_depth", p.max_depth, 0, 1024, "0 (unlimited) or 1 to 1024");
  check_param(p.max_leaf_nodes > 0 || p.max_depth > 0, context, "max_leaf_nodes", p.max_leaf_nodes,
              "at least 2 when max_depth is 0 (unlimited)");
  check_count(context, "min_samples_leaf", p.min_samples_leaf, 1, limits::kMaxRowCount);
  check_param(p.l2_regularization >= 0.0 && std::isfinite(p.l2_regularization), context,
              "l2_regularization", p.l2_regularization, "a finite value >= 0");
  check_param(p.max_bins >= 2 && p.max_bins <= 256, context, "max_bins", p.max_bins,
              "a value in [2, 256]");
  check_param(p.subsample > 0.0 && p.subsample <= 1.0, context, "subsample", p.subsample,
              "a value in (0, 1]");
  check_param(p.feature_fraction > 0.0 && p.feature_fraction <= 1.0, context, "feature_fraction",
              p.feature_fraction, "a value in (0, 1]");
  check_param(p.validation_fraction > 0.0 && p.validation_fraction < 1.0, context,
              "validation_fraction", p.validation_fraction, "a value in (0, 1)");
  check_count(context, "n_iter_no_change", p.n_iter_no_change, 1, limits::kMaxIterations);
  check_param(p.tol >= 0.0 && std::isfinite(p.tol), context, "tol", p.tol, "a finite value >= 0");
  check_param(p.num_threads >= 0, context, "num_threads", p.num_threads,
              "0 (all cores) or a positive count");
}

/// The fitted ensemble both model types wrap: F(x) = baseline + Σ trees.
class BoostedEnsemble {
 public:
  BoostedEnsemble() = default;
  BoostedEnsemble(BoostingLoss loss, Index num_features, double baseline,
                  std::vector<BoostingTree> trees, std::vector<double> validation_loss,
                  Index num_threads)
      : loss_(loss),
        num_features_(num_features),
        baseline_(baseline),
        trees_(std::move(trees)),
        validation_loss_(std::move(validation_loss)),
        num_threads_(num_threads) {}

  BoostingLoss loss() const { return loss_; }
  Index num_features() const { return num_features_; }
  double baseline() const { return baseline_; }
  Index num_iterations() const { return static_cast<Index>(trees_.size()); }
  const std::vector<BoostingTree>& trees() const { return trees_; }
  const std::vector<double>& validation_loss() const { return validation_loss_; }

  /// F(x) for each row of X (parallel over blocks of rows; each row's sum runs tree by tree in
  /// order, so the result does not depend on num_threads).
  Vector predict_raw(const MatrixRef& X, std::string_view context) const {
    check_num_features(context, X, num_features_);
    check_finite(context, "X", X);
    const Index n = X.rows();
    Vector out = Vector::Constant(n, baseline_);
    constexpr Index kBlock = 256;
    parallel_for_blocks(0, n, kBlock, num_threads_, [&](Index, Index lo, Index hi) {
      for (const BoostingTree& tree : trees_) {
        for (Index i = lo; i < hi; ++i) {
          out[i] += tree.predict_raw_row([&](std::int32_t j) { return X(i, j); });
        }
      }
    });
    return out;
  }

  void save_payload(BinaryWriter& out) const {
    out.write(static_cast<std::uint8_t>(loss_));
    out.write(static_cast<std::int64_t>(num_features_));
    out.write(baseline_);
    out.write(validation_loss_);
    out.write(static_cast<std::uint64_t>(trees_.size()));
    for (const BoostingTree& tree : trees_) {
      out.write(tree.feature);
      out.write(tree.split_bin);
      out.write(tree.threshold);
      out.write(tree.left_child);
      out.write(tree.value);
    }
  }

  /// Version 1 files also stored num_threads, a runtime setting: it is read and dropped (a loaded
  /// model predicts on all cores; predictions are identical for any thread count).
  static BoostedEnsemble load_payload(BinaryReader& in, BoostingLoss expected_loss,
                                      std::uint32_t version) {
    const auto corrupt = [&](std::string_view what) {
      raise<FormatError>("{}: corrupt gradient boosting model ({})", in.context(), what);
    };
    BoostedEnsemble model;
    const auto loss = in.read<std::uint8_t>("loss");
    if (loss != static_cast<std::uint8_t>(expected_loss)) corrupt("unexpected loss");
    model.loss_ = expected_loss;
    model.num_features_ = in.read<std::int64_t>("num_features");
    model.baseline_ = in.read<double>("baseline");
    if (version == 1 && in.read<std::int64_t>("num_threads") < 0) corrupt("num_threads");
    model.num_threads_ = 0;
    model.validation_loss_ = in.read<std::vector<double>>("validation_loss");
    if (model.num_features_ < 1 || !std::isfinite(model.baseline_)) {
      corrupt("header values");
    }
    const auto num_trees = in.read<std::uint64_t>("num_trees");
    if (num_trees > in.bytes_left()) corrupt("tree count");
    for (std::uint64_t m = 0; m < num_trees; ++m) {
      BoostingTree tree;
      tree.feature = in.read<std::vector<std::int32_t>>("tree features");
      tree.split_bin = in.read<std::vector<std::uint8_t>>("tree split bins");
      tree.threshold = in.read<std::vector<double>>("tree thresholds");
      tree.left_child = in.read<std::vector<std::int32_t>>("tree children");
      tree.value = in.read<std::vector<double>>("tree values");
      const std::size_t nodes = tree.feature.size();
      if (nodes == 0 || tree.split_bin.size() != nodes || tree.threshold.size() != nodes ||
          tree.left_child.size() != nodes || tree.value.size() != nodes) {
        corrupt("tree node arrays");
      }
      // Children always come after their parent, so traversal terminates.
      for (std::size_t k = 0; k < nodes; ++k) {
        if (tree.feature[k] >= 0) {
          const auto child = static_cast<std::size_t>(tree.left_child[k]);
          if (tree.feature[k] >= model.num_features_ || tree.left_child[k] <= 0 || child <= k ||
              child + 1 >= nodes || std::isnan(tree.threshold[k])) {
            corrupt("tree structure");
          }
        } else if (tree.feature[k] != -1 || !std::isfinite(tree.value[k])) {
          corrupt("tree leaves");
        }
      }
      model.trees_.push_back(std::move(tree));
    }
    return model;
  }

 private:
  BoostingLoss loss_ = BoostingLoss::squared_error;
  Index num_features_ = 0;
  double baseline_ = 0.0;
  std::vector<BoostingTree> trees_;
  std::vector<double> validation_loss_;
  Index num_threads_ = 0;
};

/// Sum over fixed blocks of f(lo, hi), added in block order (identical for every num_threads).
template <class F>
double blocked_sum(Index n, Index num_threads, F&& f) {
  constexpr Index kBlock = 8192;
  std::vector<double> partial(static_cast<std::size_t>(num_blocks(0, n, kBlock)), 0.0);
  parallel_for_blocks(0, n, kBlock, num_threads, [&](Index b, Index lo, Index hi) {
    partial[static_cast<std::size_t>(b)] = f(lo, hi);
  });
  double total = 0.0;
  for (double v : partial) total += v;
  return total;
}

/// Weighted mean loss of raw predictions F against y.
inline double mean_loss(BoostingLoss loss, const Vector& raw, const Vector& y, const Vector& w,
                        Index num_threads) {
  const double total = blocked_sum(raw.size(), num_threads, [&](Index lo, Index hi) {
    double s = 0.0;
    for (Index i = lo; i < hi; ++i) {
      const double l = loss == BoostingLoss::squared_error ? 0.5 * (y[i] - raw[i]) * (y[i] - raw[i])
                                                           : softplus(raw[i]) - y[i] * raw[i];
      s += w[i] * l;
    }
    return s;
  });
  return total / w.sum();
}

/// Rows of one split part: codes (row-major), targets, weights, raw predictions.
struct BoostingPart {
  std::vector<Index> source_rows;          // rows of the caller's X
  std::vector<std::uint8_t> codes;         // row-major (histograms, tree walks)
  std::vector<std::uint8_t> column_codes;  // column-major (partitions); training part only
  Vector y;
  Vector w;
  Vector raw;
  Index rows() const { return static_cast<Index>(source_rows.size()); }
};

/// Fits the ensemble (both learners call this). Inputs are validated by the caller.
inline BoostedEnsemble fit_boosting(const GradientBoostingParams& params, BoostingLoss loss,
                                    const MatrixRef& X, const VectorRef& y,
                                    const VectorRef& weights, std::string_view context) {
  const Index n = X.rows();
  const Index p = X.cols();
  const Index threads = resolve_num_threads(params.num_threads);
  if (n >= static_cast<Index>(std::numeric_limits<std::uint32_t>::max())) {
    raise<InvalidArgument>("{}: X has {} rows, expected fewer than 2^32", context, n);
  }
  // Stream numbers of the seed's Rng: 2m, 2m+1 per iteration m; these two are out of that range.
  constexpr std::uint64_t kValidationStream = ~std::uint64_t{0};
  constexpr std::uint64_t kBinningSeedSalt = 0x9E3779B97F4A7C15ULL;

  const bool stop_early = params.early_stopping == EarlyStopping::enabled ||
                          (params.early_stopping == EarlyStopping::automatic && n > 10'000);

  // Validation split: a seeded shuffle of each stratum (each class for log-loss).
  std::vector<Index> train_rows;
  std::vector<Index> validation_rows;
  if (stop_early) {
    Rng rng(params.seed, kValidationStream);
    const int strata = loss == BoostingLoss::log_loss ? 2 : 1;
    for (int s = 0; s < strata; ++s) {
      std::vector<Index> members;
      for (Index i = 0; i < n; ++i) {
        if (strata == 1 || static_cast<int>(y[i]) == s) members.push_back(i);
      }
      shuffle(members, rng);
      const auto held = static_cast<std::size_t>(
          std::ceil(params.validation_fraction * static_cast<double>(members.size())));
      validation_rows.insert(validation_rows.end(), members.begin(),
                             members.begin() + static_cast<std::ptrdiff_t>(held));
      train_rows.insert(train_rows.end(), members.begin() + static_cast<std::ptrdiff_t>(held),
                        members.end());
    }
    std::sort(train_rows.begin(), train_rows.end());
    std::sort(validation_rows.begin(), validation_rows.end());
    if (train_rows.empty() || validation_rows.empty()) {
      raise<DataError>(
          "{}: {} rows cannot be split into training and validation parts "
          "(validation_fraction = {}), expected more rows or early_stopping disabled",
          context, n, params.validation_fraction);
    }
  } else {
    train_rows.resize(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) train_rows[static_cast<std::size_t>(i)] = i;
  }

  // Bins from the training rows only (as scikit-learn), then row-major codes of both parts.
  Matrix X_train_for_bins;
  const BinningParams binning{.max_bins = params.max_bins,
                              .max_sample_rows = 200'000,
                              .seed = params.seed ^ kBinningSeedSalt,
                              .num_threads = threads};
  const BinMapper mapper = [&] {
    if (!stop_early) return BinMapper::fit(X, binning);
    X_train_for_bins.resize(static_cast<Index>(train_rows.size()), p);
    for (Index k = 0; k < static_cast<Index>(train_rows.size()); ++k) {
      X_train_for_bins.row(k) = X.row(train_rows[static_cast<std::size_t>(k)]);
    }
    return BinMapper::fit(X_train_for_bins, binning);
  }();
  X_train_for_bins.resize(0, 0);

  // Bin codes by a branch-free binary search over each feature's bounds padded to 256 with +inf:
  // the same bin as mapper.bin_of (first b with x <= u(b)), without mispredicted branches.
  std::vector<double> padded_bounds(static_cast<std::size_t>(p * 256),
                                    std::numeric_limits<double>::infinity());
  for (Index j = 0; j < p; ++j) {
    for (Index b = 0; b + 1 < mapper.num_bins(j); ++b) {
      padded_bounds[static_cast<std::size_t>(j * 256 + b)] = mapper.upper_bound(j, b);
    }
  }
  auto bin_of = [&](Index j, double x) {
    const double* bounds = padded_bounds.data() + j * 256;
    std::size_t base = 0;
    for (std::size_t half = 128; half > 0; half /= 2) {
      base = bounds[base + half - 1] < x ? base + half : base;
    }
    return static_cast<std::uint8_t>(base);
  };
  auto make_part = [&](std::vector<Index> rows, bool with_columns) {
    BoostingPart part;
    part.source_rows = std::move(rows);
    const Index m = part.rows();
    part.codes.resize(static_cast<std::size_t>(m * p));
    if (with_columns) part.column_codes.resize(static_cast<std::size_t>(m * p));
    part.y.resize(m);
    part.w.resize(m);
    // Per block of rows, one feature at a time (independent searches over one feature's bounds
    // and one column of X: 3× faster than row by row), into a block buffer that is then copied
    // to the column-major codes and transposed into the row-major ones.
    constexpr Index kCodeBlock = 4096;
    parallel_for_blocks(0, m, kCodeBlock, threads, [&](Index, Index lo, Index hi) {
      std::vector<std::uint8_t> block(static_cast<std::size_t>(kCodeBlock * p));
      const Index rows_here = hi - lo;
      const Index* source = part.source_rows.data();
      for (Index j = 0; j < p; ++j) {
        std::uint8_t* column = block.data() + static_cast<std::size_t>(j * kCodeBlock);
        for (Index k = 0; k < rows_here; ++k) column[k] = bin_of(j, X(source[lo + k], j));
        if (with_columns) {
          std::copy(column, column + rows_here,
                    part.column_codes.data() + static_cast<std::size_t>(j * m + lo));
        }
      }
      for (Index k = 0; k < rows_here; ++k) {
        std::uint8_t* code = part.codes.data() + static_cast<std::size_t>((lo + k) * p);
        for (Index j = 0; j < p; ++j) {
          code[j] = block[static_cast<std::size_t>(j * kCodeBlock + k)];
        }
      }
      for (Index k = lo; k < hi; ++k) {
        const Index i = source[k];
        part.y[k] = y[i];
        part.w[k] = weights.size() == 0 ? 1.0 : weights[i];
      }
    });
    return part;
  };
  BoostingPart train = make_part(std::move(train_rows), true);
  BoostingPart validation = make_part(std::move(validation_rows), false);
  const Index n_train = train.rows();
  const double train_weight = train.w.sum();
  if (!(train_weight > 0.0)) {
    raise<DataError>("{}: the training rows have total weight 0", context);
  }
  if (stop_early && !(validation.w.sum() > 0.0)) {
    raise<DataError>("{}: the validation rows have total weight 0, expected a positive total",
                     context);
  }

  // F₀: the constant minimizing the weighted training loss.
  double baseline = train.w.dot(train.y) / train_weight;
  if (loss == BoostingLoss::log_loss) {
    if (!(baseline > 0.0 && baseline < 1.0)) {
      raise<DataError>("{}: the training rows hold only class {}, expected both classes 0 and 1",
                       context, baseline > 0.0 ? 1 : 0);
    }
    baseline = std::log(baseline / (1.0 - baseline));
  }
  train.raw = Vector::Constant(n_train, baseline);
  validation.raw = Vector::Constant(validation.rows(), baseline);

  std::vector<Index> num_bins(static_cast<std::size_t>(p));
  std::vector<double> bounds;
  std::vector<Index> offsets;
  for (Index j = 0; j < p; ++j) {
    num_bins[static_cast<std::size_t>(j)] = mapper.num_bins(j);
    offsets.push_back(static_cast<Index>(bounds.size()));
    for (Index b = 0; b < mapper.num_bins(j); ++b) bounds.push_back(mapper.upper_bound(j, b));
  }
  const BoostingGrowerParams grower_params{.max_leaf_nodes = params.max_leaf_nodes,
                                           .max_depth = params.max_depth,
                                           .min_samples_leaf = params.min_samples_leaf,
                                           .l2_regularization = params.l2_regularization,
                                           .min_hessian_to_split = 1e-3,
                                           .learning_rate = params.learning_rate,
                                           .num_threads = threads};
  BoostingTreeGrower grower(train.codes.data(), train.column_codes.data(), n_train, p,
                            std::move(num_bins), std::move(bounds), std::move(offsets),
                            grower_params);

  std::vector<GradientPair> gradients(static_cast<std::size_t>(n_train));
  const bool unit_hessian = loss == BoostingLoss::squared_error && weights.size() == 0;
  const Index rows_per_tree = std::max<Index>(
      1, static_cast<Index>(std::llround(params.subsample * static_cast<double>(n_train))));
  const Index features_per_tree = std::max<Index>(
      1, static_cast<Index>(std::llround(params.feature_fraction * static_cast<double>(p))));
  std::vector<std::uint32_t> sample(static_cast<std::size_t>(n_train));
  for (Index i = 0; i < n_train; ++i)
    sample[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>(i);
  std::vector<Index> features(static_cast<std::size_t>(p));
  for (Index j = 0; j < p; ++j) features[static_cast<std::size_t>(j)] = j;
  // Leaf of each training row in the last tree (kNoLeaf: outside its subsample); the leaf
  // values stay in grower.leaf_ranges() until the next tree is grown.
  constexpr std::uint32_t kNoLeaf = std::numeric_limits<std::uint32_t>::max();
  std::vector<std::uint32_t> leaf_of(static_cast<std::size_t>(n_train), kNoLeaf);

  std::vector<BoostingTree> trees;
  std::vector<double> validation_loss;
  if (stop_early) {
    validation_loss.push_back(mean_loss(loss, validation.raw, validation.y, validation.w, threads));
  }
  constexpr Index kBlock = 4096;
  // The last tree's leaf values reach train.raw in the next iteration's gradient pass (one
  // pass over the rows instead of two); `pending` says they are waiting in leaf_of.
  bool pending = false;
  const bool unweighted = weights.size() == 0;
  for (Index m = 0; m < params.max_iter; ++m) {
    parallel_for_blocks(0, n_train, kBlock, threads, [&](Index, Index lo, Index hi) {
      for (Index i = lo; i < hi; ++i) {
        const auto s = static_cast<std::size_t>(i);
        if (pending) {
          const std::uint32_t l = leaf_of[s];
          train.raw[i] += l != kNoLeaf ? grower.leaf_ranges()[l].value
                                       : trees.back().predict_binned_row(
                                             train.codes.data() + static_cast<std::size_t>(i * p));
        }
        if (loss == BoostingLoss::squared_error) {
          // Unit weights: w·(F − y) = F − y exactly, so w is not read.
          gradients[s] =
              unweighted
                  ? GradientPair{static_cast<float>(train.raw[i] - train.y[i]), 1.0f}
                  : GradientPair{static_cast<float>(train.w[i] * (train.raw[i] - train.y[i])),
                                 static_cast<float>(train.w[i])};
        } else {
          const double prob = sigmoid(train.raw[i]);
          gradients[s] = {static_cast<float>(train.w[i] * (prob - train.y[i])),
                          static_cast<float>(train.w[i] * prob * (1.0 - prob))};
        }
      }
    });
    const auto stream = static_cast<std::uint64_t>(m);
    if (rows_per_tree < n_train) {
      Rng rng(params.seed, 2 * stream);
      const auto chosen = sample_without_replacement(n_train, rows_per_tree, rng);
      sample.resize(static_cast<std::size_t>(rows_per_tree));
      for (std::size_t k = 0; k < chosen.size(); ++k)
        sample[k] = static_cast<std::uint32_t>(chosen[k]);
      std::sort(sample.begin(), sample.end());
    }
    if (features_per_tree < p) {
      Rng rng(params.seed, 2 * stream + 1);
      features = sample_without_replacement(p, features_per_tree, rng);
      std::sort(features.begin(), features.end());
    }
    BoostingTree tree = grower.grow(sample, features, gradients.data(), unit_hessian);

    // Training predictions: leaves know their rows; rows outside the subsample walk the tree.
    // The leaves' rows are interleaved in memory, so adding each leaf's value to its rows'
    // predictions in parallel would make threads share cache lines, and serially it is a
    // scattered read-modify-write of n doubles (0.35 s per 100 trees at n = 10⁶). Instead each
    // row's leaf number is scattered into leaf_of, and the next gradient pass, in row order and
    // parallel, adds the leaf values.
    const auto& rows = grower.rows();
    const auto& leaves = grower.leaf_ranges();
    if (rows_per_tree < n_train) std::fill(leaf_of.begin(), leaf_of.end(), kNoLeaf);
    // A leaf's rows are sorted (stable partitions of a sorted sample), so each thread takes
    // the rows of one range of row numbers out of every leaf by binary search: every row is
    // written once, by one thread, and threads write different parts of leaf_of.
    const Index range = (n_train + threads - 1) / threads;
    parallel_for_blocks(0, n_train, range, threads, [&](Index, Index lo, Index hi) {
      for (std::size_t l = 0; l < leaves.size(); ++l) {
        const auto first = rows.begin() + leaves[l].begin;
        const auto last = rows.begin() + leaves[l].end;
        const auto from = std::lower_bound(first, last, static_cast<std::uint32_t>(lo));
        const auto to = std::lower_bound(from, last, static_cast<std::uint32_t>(hi));
        for (auto r = from; r != to; ++r) leaf_of[*r] = static_cast<std::uint32_t>(l);
      }
    });
    pending = true;
    if (stop_early) {
      parallel_for_blocks(0, validation.rows(), kBlock, threads, [&](Index, Index lo, Index hi) {
        for (Index i = lo; i < hi; ++i) {
          validation.raw[i] +=
              tree.predict_binned_row(validation.codes.data() + static_cast<std::size_t>(i * p));
        }
      });
      validation_loss.push_back(
          mean_loss(loss, validation.raw, validation.y, validation.w, threads));
    }
    trees.push_back(std::move(tree));
    report(params.progress, "iterations", m + 1, params.max_iter);
    if (stop_early && static_cast<Index>(validation_loss.size()) > params.n_iter_no_change) {
      const std::size_t last = validation_loss.size() - 1;
      const double reference =
          validation_loss[last - static_cast<std::size_t>(params.n_iter_no_change)] - params.tol;
      bool improved = false;
      for (std::size_t k = last + 1 - static_cast<std::size_t>(params.n_iter_no_change); k <= last;
           ++k) {
        improved = improved || validation_loss[k] < reference;
      }
      if (!improved) break;
    }
  }
  return BoostedEnsemble(loss, p, baseline, std::move(trees), std::move(validation_loss),
                         params.num_threads);
}

}  // namespace detail

namespace detail {

/// What both fitted boosting models share: the ensemble, its accessors and the versioned
/// save/load framing (CRTP: Derived names its type tag kTypeTag and its loss kLoss, and is
/// constructible from a BoostedEnsemble).
template <class Derived>
class BoostingModelBase {
 public:
  Index num_features() const { return ensemble_.num_features(); }
  /// Trees fitted (fewer than max_iter when early stopping stopped).
  Index num_iterations() const { return ensemble_.num_iterations(); }
  /// F₀, the constant the ensemble starts from (mean, or log-odds of the weighted mean).
  double baseline() const { return ensemble_.baseline(); }
  /// Validation loss (½ squared error or log-loss, weighted mean) before the first tree and
  /// after each; empty when early stopping was off.
  const std::vector<double>& validation_loss() const { return ensemble_.validation_loss(); }
  const BoostedEnsemble& ensemble() const { return ensemble_; }

  void save(BinaryWriter& out) const {
    out.write_header(Derived::kTypeTag, kVersion);
    ensemble_.save_payload(out);
  }
  static Derived load(BinaryReader& in) {
    const std::uint32_t version = in.read_header(Derived::kTypeTag, kVersion);
    return Derived(BoostedEnsemble::load_payload(in, Derived::kLoss, version));
  }

 protected:
  explicit BoostingModelBase(BoostedEnsemble ensemble) : ensemble_(std::move(ensemble)) {}
  static constexpr std::uint32_t kVersion = 2;  ///< 2: num_threads no longer stored
  BoostedEnsemble ensemble_;
};

}  // namespace detail

/// A fitted boosted regression ensemble. Immutable; predict is const and thread-safe.
class GradientBoostingRegressionModel
    : public detail::BoostingModelBase<GradientBoostingRegressionModel> {
 public:
  static constexpr std::string_view kTypeTag = "learn::GradientBoostingRegressor";
  static constexpr BoostingLoss kLoss = BoostingLoss::squared_error;

  explicit GradientBoostingRegressionModel(detail::BoostedEnsemble ensemble)
      : BoostingModelBase(std::move(ensemble)) {}

  /// F(x) = F₀ + Σ trees for each row of X (raw feature values, no binning needed).
  Vector predict(const MatrixRef& X) const {
    return ensemble_.predict_raw(X, "GradientBoostingRegressionModel::predict");
  }
};

/// A fitted boosted binary classifier (log-loss). Immutable; predictions are const and
/// thread-safe.
class GradientBoostingClassificationModel
    : public detail::BoostingModelBase<GradientBoostingClassificationModel> {
 public:
  static constexpr std::string_view kTypeTag = "learn::GradientBoostingClassifier";
  static constexpr BoostingLoss kLoss = BoostingLoss::log_loss;

  explicit GradientBoostingClassificationModel(detail::BoostedEnsemble ensemble)
      : BoostingModelBase(std::move(ensemble)) {}

  /// The log-odds F(x) of class 1.
  Vector decision_function(const MatrixRef& X) const {
    return ensemble_.predict_raw(X, "GradientBoostingClassificationModel::predict");
  }
  /// P(y = 1 | x) = σ(F(x)) for each row.
  Vector predict(const MatrixRef& X) const {
    Vector f = decision_function(X);
    for (Index i = 0; i < f.size(); ++i) f[i] = detail::sigmoid(f[i]);
    return f;
  }
  /// n × 2 matrix [P(y = 0), P(y = 1)].
  Matrix predict_proba(const MatrixRef& X) const {
    const Vector p1 = predict(X);
    Matrix out(p1.size(), 2);
    out.col(0) = (1.0 - p1.array()).matrix();
    out.col(1) = p1;
    return out;
  }
  Index num_classes() const { return 2; }
};

/// Gradient boosting with squared error (meets tailor::learn::Regressor).
class GradientBoostingRegressor {
 public:
  using Params = GradientBoostingParams;
  GradientBoostingRegressor() : GradientBoostingRegressor(Params{}) {}
  explicit GradientBoostingRegressor(Params params) : params_(std::move(params)) {
    detail::validate_boosting_params(params_, "GradientBoostingRegressor");
  }
  const Params& params() const { return params_; }

  /// Fits on X (n × p), y (n), weights (n, or empty for unit weights).
  GradientBoostingRegressionModel fit(const MatrixRef& X, const VectorRef& y,
                                      const VectorRef& weights = Vector()) const {
    constexpr std::string_view kContext = "GradientBoostingRegressor::fit";
    detail::check_supervised_input(kContext, X, y, weights);
    // Split gains square sums of residuals: beyond 1e150 they overflow to inf and every split
    // (and prediction) would turn NaN.
    for (Index i = 0; i < y.size(); ++i) {
      if (std::abs(y[i]) > 1e150) {
        raise<DataError>(
            "{}: y[{}] = {}, expected |y| <= 1e150 (squared residuals overflow "
            "beyond it; rescale y)",
            kContext, i, y[i]);
      }
    }
    return GradientBoostingRegressionModel(
        detail::fit_boosting(params_, BoostingLoss::squared_error, X, y, weights, kContext));
  }

 private:
  Params params_;
};

/// Gradient boosting with binary log-loss, labels 0/1 (meets tailor::learn::Classifier).
class GradientBoostingClassifier {
 public:
  using Params = GradientBoostingParams;
  GradientBoostingClassifier() : GradientBoostingClassifier(Params{}) {}
  explicit GradientBoostingClassifier(Params params) : params_(std::move(params)) {
    detail::validate_boosting_params(params_, "GradientBoostingClassifier");
  }
  const Params& params() const { return params_; }

  /// Fits on X (n × p), labels y ∈ {0, 1} (n), weights (n, or empty for unit weights).
  GradientBoostingClassificationModel fit(const MatrixRef& X, const VectorRef& y,
                                          const VectorRef& weights = Vector()) const {
    constexpr std::string_view kContext = "GradientBoostingClassifier::fit";
    detail::check_supervised_input(kContext, X, y, weights);
    detail::check_binary_labels(kContext, y, weights);
    return GradientBoostingClassificationModel(
        detail::fit_boosting(params_, BoostingLoss::log_loss, X, y, weights, kContext));
  }

 private:
  Params params_;
};

}  // namespace tailor::learn
