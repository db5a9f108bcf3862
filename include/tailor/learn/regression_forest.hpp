// tailor/learn/regression_forest.hpp — random forest regression on the histogram tree engine.
//
// Breiman's random forest (Machine Learning 45, 2001) with grf's defaults and honesty (Athey,
// Tibshirani & Wager, Ann. Statist. 2019): variance-reduction splits on binned features
// (learn/tree/trainer.hpp), leaves keeping [n, Σw, Σwy], and the forest-weighted prediction
//   μ̂(x) = Σ_i α_i(x) w_i y_i / Σ_i α_i(x) w_i,   α_i(x) = (1/T) Σ_t 1{i ∈ L_t(x)} / |L_t(x)|,
// i.e. the ratio of tree-averaged leaf sums (equal to the mean of leaf means for unit weights).
// Out-of-bag predictions use only trees that did not sample the row. Importance is grf's
// depth-weighted split frequency.
// Complexity: fit O(T · m · depth · (mtry + C)) with m = sample_fraction·n; predict
// O(n · T · depth); memory 16 bytes per node + 24 bytes per leaf, plus n·p bytes of bins.
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
#include "tailor/learn/tree/forest.hpp"
#include "tailor/learn/tree/forest_params.hpp"
#include "tailor/learn/tree/splitting_rule.hpp"
#include "tailor/learn/tree/trainer.hpp"

namespace tailor::learn {

/// A fitted regression forest (immutable; predict is const and thread-safe).
class RegressionForestModel {
 public:
  RegressionForestModel(tree::Forest forest, Vector oob_predictions, Index num_threads)
      : forest_(std::move(forest)),
        oob_predictions_(std::move(oob_predictions)),
        num_threads_(num_threads) {}

  /// μ̂(x) for every row of X.
  Vector predict(const MatrixRef& X) const {
    const Matrix mean =
        forest_.mean_leaf_statistics(X, num_threads_, nullptr, "RegressionForestModel::predict");
    return (mean.col(1).array() / mean.col(0).array()).matrix();
  }

  /// Out-of-bag predictions for the training rows (NaN for a row that every tree sampled);
  /// empty when fitted with compute_oob = false.
  const Vector& oob_predictions() const { return oob_predictions_; }
  const Vector& predict_oob() const { return oob_predictions_; }

  /// grf-style split-frequency importance (depths 1..max_depth weighted by d^−decay).
  Vector variable_importance(double decay_exponent = 2.0, Index max_depth = 4) const {
    return forest_.variable_importance(decay_exponent, max_depth);
  }

  const tree::Forest& forest() const { return forest_; }
  Index num_trees() const { return forest_.num_trees(); }
  Index num_features() const { return forest_.num_features(); }

  /// Versioned binary save (header "learn::RegressionForest" v1; core/serialization.hpp).
  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, kVersion);
    forest_.save(out);
    out.write(oob_predictions_);
  }
  void save(std::ostream& out) const {
    BinaryWriter writer(out);
    save(writer);
  }
  /// Loads what save wrote; corrupt or foreign data throws FormatError. Predictions use all
  /// cores (num_threads = 0); they are identical for any thread count.
  static RegressionForestModel load(BinaryReader& in) {
    in.read_header(kTypeTag, kVersion);
    tree::Forest forest = tree::Forest::load(in);
    if (forest.num_channels() != 2) {
      tailor::detail::raise<FormatError>("{}: regression forest has {} channels, expected 2",
                                         in.context(), forest.num_channels());
    }
    Vector oob = in.read<Vector>("oob_predictions");
    return RegressionForestModel(std::move(forest), std::move(oob), 0);
  }
  static RegressionForestModel load(std::istream& in) {
    BinaryReader reader(in);
    auto model = load(reader);
    reader.expect_end();
    return model;
  }

 private:
  static constexpr std::string_view kTypeTag = "learn::RegressionForest";
  static constexpr std::uint32_t kVersion = 1;
  tree::Forest forest_;
  Vector oob_predictions_;
  Index num_threads_ = 0;
};

/// Random forest regression (meets tailor::learn::Regressor).
class RegressionForest {
 public:
  using Params = ForestParams;
  using Model = RegressionForestModel;

  explicit RegressionForest(Params params = {}) : params_(std::move(params)) {
    detail::validate_forest_params(params_, "RegressionForest");
  }

  /// Bins X (params.max_bins) and fits. weights: length 0 (unit) or n values >= 0.
  Model fit(const MatrixRef& X, const VectorRef& y, const VectorRef& weights = Vector()) const {
    check_nonempty("RegressionForest", "X", X.rows());
    check_finite("RegressionForest", "X", X);
    detail::check_forest_targets("RegressionForest", X.rows(), y, weights);
    const BinnedMatrix binned =
        BinMapper::fit(X, {.max_bins = params_.max_bins, .seed = params_.seed})
            .transform(X, params_.num_threads);
    return fit(binned, y, weights);
  }

  /// Fits on already binned features (one BinnedMatrix can serve several forests).
  Model fit(const BinnedMatrix& X, const VectorRef& y, const VectorRef& weights = Vector()) const {
    detail::check_forest_targets("RegressionForest", X.rows(), y, weights);
    const tree::TrainerOptions options =
        detail::trainer_options(params_, X.cols(), "RegressionForest");
    tree::TrainedForest trained =
        tree::train_forest(X, tree::RegressionRelabeling{y, weights},
                           tree::RegressionSplittingRule{}, weights, options);
    Vector oob;
    if (params_.compute_oob) {
      oob = (trained.oob_mean.col(1).array() / trained.oob_mean.col(0).array()).matrix();
    }
    return Model(std::move(trained.forest), std::move(oob), params_.num_threads);
  }

  const Params& params() const { return params_; }

 private:
  Params params_;
};

}  // namespace tailor::learn
