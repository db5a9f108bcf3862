// tailor/learn/classification_forest.hpp — class-probability forest (binary and multi-class) on
// the histogram tree engine.
//
// grf's probability_forest: Gini splits (or entropy) on the channels [w, w·1{y = k}], leaves
// keeping [n, Σw, Σ_k w·1{y = k}], and forest-weighted class frequencies
//   p̂_k(x) = Σ_i α_i(x) w_i 1{y_i = k} / Σ_i α_i(x) w_i,   α_i(x) as in regression_forest.hpp,
// which sum to 1 over k. With honesty (the default) the leaf frequencies come from rows that did
// not choose the splits, which keeps the probabilities calibrated (Wager & Athey 2018).
// predict(X) returns the most probable class (lowest label on ties).
// Complexity: fit O(T · m · depth · (mtry + K)); predict O(n · T · (depth + K)).
#pragma once

#include <cmath>
#include <cstdint>
#include <istream>
#include <ostream>
#include <string_view>
#include <utility>

#include "tailor/core/errors.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/binning.hpp"
#include "tailor/learn/detail/forest_model.hpp"
#include "tailor/learn/tree/forest.hpp"
#include "tailor/learn/tree/forest_params.hpp"
#include "tailor/learn/tree/splitting_rule.hpp"
#include "tailor/learn/tree/trainer.hpp"

namespace tailor::learn {

/// A fitted classification forest (immutable; predictions are const and thread-safe).
/// Accessors and save/load ("learn::ClassificationForest" v1) come from
/// learn/detail/forest_model.hpp.
class ClassificationForestModel
    : public detail::ForestModelBase<ClassificationForestModel, Matrix> {
 public:
  static constexpr std::string_view kTypeTag = "learn::ClassificationForest";

  ClassificationForestModel(tree::Forest forest, Matrix oob_proba, Index num_threads)
      : ForestModelBase(std::move(forest), std::move(oob_proba), num_threads) {}

  Index num_classes() const { return forest_.num_channels() - 1; }

  /// p̂_k(x): n × K, rows sum to 1.
  Matrix predict_proba(const MatrixRef& X) const {
    return to_proba(forest_.predict(X, tree::MeanLeafStatistics{forest_.num_channels()},
                                    num_threads_, "ClassificationForestModel::predict_proba"));
  }

  /// The most probable label (as a double) for every row.
  Vector predict(const MatrixRef& X) const { return argmax(predict_proba(X)); }

  /// Out-of-bag class probabilities (n × K; NaN rows for rows every tree sampled); empty when
  /// fitted with compute_oob = false.
  const Matrix& oob_proba() const { return oob_; }

  /// A loaded forest must carry [Σw, Σw·1{y=k}] for K ≥ 2 classes, and the out-of-bag
  /// probabilities (if any) one column per class.
  static void check_loaded(const tree::Forest& forest, const Matrix& oob, const BinaryReader& in) {
    if (forest.num_channels() < 3) {
      raise<FormatError>("{}: classification forest has {} channels, expected at least 3",
                         in.context(), forest.num_channels());
    }
    if (oob.size() != 0 && oob.cols() != forest.num_channels() - 1) {
      raise<FormatError>("{}: oob_proba has {} columns, expected {}", in.context(), oob.cols(),
                         forest.num_channels() - 1);
    }
  }

  /// Leaf means [Σw, Σ w·1{y=k}] → probabilities.
  static Matrix to_proba(const Matrix& mean) {
    Matrix proba = mean.rightCols(mean.cols() - 1);
    for (Index i = 0; i < proba.rows(); ++i) proba.row(i) /= mean(i, 0);
    return proba;
  }
  static Vector argmax(const Matrix& proba) {
    Vector labels(proba.rows());
    for (Index i = 0; i < proba.rows(); ++i) {
      Index best = 0;
      for (Index k = 1; k < proba.cols(); ++k) {
        if (proba(i, k) > proba(i, best)) best = k;
      }
      labels[i] = static_cast<double>(best);
    }
    return labels;
  }
};

/// The shared tree settings (grf's defaults: 500 honest trees, min_node_size 5, 256 bins) plus
/// the class options.
struct ClassificationForestParams {
  ForestParams forest = {};
  Index num_classes = 0;  ///< 0 = max label + 1 (at least 2)
  tree::ClassSplittingRule::Criterion criterion =
      tree::ClassSplittingRule::Criterion::gini;  ///< gini (grf, CART) or entropy
};

/// Class-probability forest (meets tailor::learn::Classifier). Labels are 0..K−1 as doubles.
class ClassificationForest {
 public:
  using Criterion = tree::ClassSplittingRule::Criterion;
  using Model = ClassificationForestModel;
  using Params = ClassificationForestParams;
  static constexpr ForestDefaults kDefaults{};

  explicit ClassificationForest(Params params = {})
      : params_(std::move(params)),
        forest_(
            resolve_forest_params(params_.forest, kDefaults, "ClassificationForest", "forest.")) {
    check_param(
        params_.num_classes == 0 || (params_.num_classes >= 2 && params_.num_classes <= 1'000'001),
        "ClassificationForest", "num_classes", params_.num_classes,
        "0 (from the labels) or 2 to 1000001");
  }

  /// Bins X and fits. y: labels 0..K−1 (as doubles); weights: length 0 (unit) or n values >= 0.
  Model fit(const MatrixRef& X, const VectorRef& y, const VectorRef& weights = Vector()) const {
    check_nonempty("ClassificationForest", "X", X.rows());
    check_finite("ClassificationForest", "X", X);
    detail::check_forest_targets("ClassificationForest", X.rows(), y, weights);
    const BinnedMatrix binned =
        BinMapper::fit(X, forest_.binning(X.rows())).transform(X, forest_.num_threads);
    return fit(binned, y, weights);
  }

  /// Fits on already binned features.
  Model fit(const BinnedMatrix& X, const VectorRef& y, const VectorRef& weights = Vector()) const {
    detail::check_forest_targets("ClassificationForest", X.rows(), y, weights);
    const Index K = num_classes_of(y);
    const tree::TrainerOptions options = forest_.trainer_options(X.cols(), "ClassificationForest");
    tree::TrainedForest trained =
        tree::train_forest(X, tree::ClassRelabeling{y, weights, K},
                           tree::ClassSplittingRule{K, params_.criterion}, weights, options);
    Matrix oob;
    if (forest_.compute_oob) oob = Model::to_proba(trained.oob_mean);
    return Model(std::move(trained.forest), std::move(oob), forest_.num_threads);
  }

  /// The parameters as given (unset forest fields: see ForestParams).
  const Params& params() const { return params_; }
  /// The tree settings with the defaults applied.
  const ResolvedForestParams& forest_params() const { return forest_; }

 private:
  /// Checks that labels are integers in [0, K) and returns K.
  Index num_classes_of(const VectorRef& y) const {
    double largest = 0.0;
    for (Index i = 0; i < y.size(); ++i) {
      const double v = y[i];
      if (v < 0.0 || v != std::floor(v) ||
          (params_.num_classes > 0 && v >= static_cast<double>(params_.num_classes)) || v > 1e6) {
        const Index upper = params_.num_classes > 0 ? params_.num_classes - 1 : 1'000'000;
        raise<DataError>("ClassificationForest: y[{}] = {}, expected an integer label 0..{}", i, v,
                         upper);
      }
      largest = std::max(largest, v);
    }
    if (params_.num_classes > 0) return params_.num_classes;
    return std::max<Index>(2, static_cast<Index>(largest) + 1);
  }

  Params params_;
  ResolvedForestParams forest_;
};

}  // namespace tailor::learn
