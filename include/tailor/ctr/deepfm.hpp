// tailor/ctr/deepfm.hpp — DeepFM (Guo, Tang, Ye, Li & He, IJCAI 2017): a factorization machine and
// an MLP that share one embedding table,
//   z = b + Σ_j w_j x_j + ½ Σ_d [(Σ_j v_jd x_j)² − Σ_j v_jd² x_j²] + MLP(e_1 … e_F),
// trained end to end by the one trainer. Defaults are the PyTorch peer's: k = 16, hidden
// 400-400-400 with ReLU, Adam lr 1e-3 (lazy on the tables), batch 4096, 1 epoch, the output bias
// at logit(click rate). Cost per row: O(nnz·k) + 2·(F·k·400 + 2·400² + 400) flops forward.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "tailor/ctr/detail/deep_network.hpp"

namespace tailor::ctr {

struct DeepFMTag {
  static constexpr std::string_view kTypeTag = "ctr::DeepFM";
  static constexpr std::string_view kContext = "DeepFM";
};
using DeepFMModel = DeepClickModel<DeepFMTag>;

struct DeepFMParams {
  Index embedding_dim = 16;
  std::vector<Index> hidden = {400, 400, 400};
  float init_scale = 0.01f;  ///< sd of the embeddings' initial values
  /// Dropout rate of the hidden layers while training (Srivastava et al. 2014; 0 = none).
  float dropout = 0.0f;
  bool base_rate_bias = true;  ///< output bias at logit(click rate)
  TrainingParams training = {};
};

/// DeepFM: Params → const fit → immutable DeepFMModel.
class DeepFM {
 public:
  using Params = DeepFMParams;
  using Model = DeepFMModel;

  explicit DeepFM(Params params = {}) : params_(std::move(params)) {
    detail::validate_deep(DeepFMTag::kContext, params_.embedding_dim, params_.hidden,
                          params_.init_scale, params_.dropout, params_.training);
  }
  const Params& params() const { return params_; }

  Model fit(const CtrData& train, FitOptions<Model> options = {}) const {
    return detail::fit_deep<DeepFMTag>({.linear = true, .fm = true}, params_.embedding_dim,
                                       params_.hidden, params_.init_scale, params_.dropout,
                                       params_.base_rate_bias, params_.training, train, options);
  }

 private:
  Params params_;
};

}  // namespace tailor::ctr
