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
#include "tailor/learn/detail/forest_model.hpp"
#include "tailor/learn/tree/forest.hpp"
#include "tailor/learn/tree/forest_params.hpp"
#include "tailor/learn/tree/splitting_rule.hpp"
#include "tailor/learn/tree/trainer.hpp"

namespace tailor::learn {

/// A fitted regression forest (immutable; predict is const and thread-safe). Accessors
/// (num_trees, variable_importance, ...) and save/load ("learn::RegressionForest" v1) come from
/// learn/detail/forest_model.hpp.
class RegressionForestModel : public detail::ForestModelBase<RegressionForestModel, Vector> {
 public:
  static constexpr std::string_view kTypeTag = "learn::RegressionForest";

  RegressionForestModel(tree::Forest forest, Vector oob_predictions, Index num_threads)
      : ForestModelBase(std::move(forest), std::move(oob_predictions), num_threads) {}

  /// μ̂(x) for every row of X.
  Vector predict(const MatrixRef& X) const {
    const Matrix mean = forest_.predict(X, tree::MeanLeafStatistics{forest_.num_channels()},
                                        num_threads_, "RegressionForestModel::predict");
    return (mean.col(1).array() / mean.col(0).array()).matrix();
  }

  /// Out-of-bag predictions for the training rows (NaN for a row that every tree sampled);
  /// empty when fitted with compute_oob = false.
  const Vector& oob_predictions() const { return oob_; }
  const Vector& predict_oob() const { return oob_; }

  /// A loaded forest must carry the two regression channels [Σw, Σwy].
  static void check_loaded(const tree::Forest& forest, const Vector&, const BinaryReader& in) {
    if (forest.num_channels() != 2) {
      raise<FormatError>("{}: regression forest has {} channels, expected 2", in.context(),
                         forest.num_channels());
    }
  }
};

/// Random forest regression (meets tailor::learn::Regressor). Params is the shared
/// ForestParams with grf's regression defaults: 500 honest trees, min_node_size 5, 256 bins.
class RegressionForest {
 public:
  using Params = ForestParams;
  using Model = RegressionForestModel;
  static constexpr ForestDefaults kDefaults{};

  explicit RegressionForest(Params params = {})
      : params_(std::move(params)),
        forest_(resolve_forest_params(params_, kDefaults, "RegressionForest")) {}

  /// Bins X (params.max_bins) and fits. weights: length 0 (unit) or n values >= 0.
  Model fit(const MatrixRef& X, const VectorRef& y, const VectorRef& weights = Vector()) const {
    check_nonempty("RegressionForest", "X", X.rows());
    check_finite("RegressionForest", "X", X);
    detail::check_forest_targets("RegressionForest", X.rows(), y, weights);
    const BinnedMatrix binned =
        BinMapper::fit(X, forest_.binning(X.rows())).transform(X, forest_.num_threads);
    return fit(binned, y, weights);
  }

  /// Fits on already binned features (one BinnedMatrix can serve several forests).
  Model fit(const BinnedMatrix& X, const VectorRef& y, const VectorRef& weights = Vector()) const {
    detail::check_forest_targets("RegressionForest", X.rows(), y, weights);
    const tree::TrainerOptions options = forest_.trainer_options(X.cols(), "RegressionForest");
    tree::TrainedForest trained =
        tree::train_forest(X, tree::RegressionRelabeling{y, weights},
                           tree::RegressionSplittingRule{}, weights, options);
    Vector oob;
    if (forest_.compute_oob) {
      oob = (trained.oob_mean.col(1).array() / trained.oob_mean.col(0).array()).matrix();
    }
    return Model(std::move(trained.forest), std::move(oob), forest_.num_threads);
  }

  /// The parameters as given (unset fields: see ForestParams).
  const Params& params() const { return params_; }
  /// The parameters with the defaults applied (num_trees, max_bins, ... as used).
  const ResolvedForestParams& forest_params() const { return forest_; }

 private:
  Params params_;
  ResolvedForestParams forest_;
};

}  // namespace tailor::learn
