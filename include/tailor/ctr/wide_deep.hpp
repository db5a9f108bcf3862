// tailor/ctr/wide_deep.hpp — Wide & Deep (Cheng et al., DLRS 2016): a linear ("wide") model over
// the sparse features plus an MLP over the field embeddings,
//   z = b + Σ_j w_j x_j + MLP(e_1 … e_F),
// trained jointly by the one trainer with one optimizer for both parts (the paper used FTRL with
// L1 for the wide part and AdaGrad for the deep part; cross-product features are the user's to
// add as fields). Defaults as DeepFM's. Cost per row: O(nnz·k) + the MLP's GEMMs.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "tailor/ctr/detail/deep_network.hpp"

namespace tailor::ctr {

struct WideDeepTag {
  static constexpr std::string_view kTypeTag = "ctr::WideDeep";
  static constexpr std::string_view kContext = "WideDeep";
};
using WideDeepModel = DeepClickModel<WideDeepTag>;

struct WideDeepParams {
  Index embedding_dim = 16;
  std::vector<Index> hidden = {400, 400, 400};
  float init_scale = 0.01f;
  /// Dropout rate of the hidden layers while training (Srivastava et al. 2014; 0 = none).
  float dropout = 0.0f;
  bool base_rate_bias = true;
  TrainingParams training = {};
};

/// Wide & Deep: Params → const fit → immutable WideDeepModel.
class WideDeep {
 public:
  using Params = WideDeepParams;
  using Model = WideDeepModel;

  explicit WideDeep(Params params = {}) : params_(std::move(params)) {
    detail::validate_deep(WideDeepTag::kContext, params_.embedding_dim, params_.hidden,
                          params_.init_scale, params_.dropout, params_.training);
  }
  const Params& params() const { return params_; }

  Model fit(const CtrData& train, FitOptions<Model> options = {}) const {
    return detail::fit_deep<WideDeepTag>({.linear = true}, params_.embedding_dim, params_.hidden,
                                         params_.init_scale, params_.dropout,
                                         params_.base_rate_bias, params_.training, train, options);
  }

 private:
  Params params_;
};

}  // namespace tailor::ctr
