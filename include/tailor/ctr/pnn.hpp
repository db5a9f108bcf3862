// tailor/ctr/pnn.hpp — product-based neural networks (Qu et al., ICDM 2016): an MLP over the field
// embeddings and their pairwise products,
//   z = b + MLP(e_1 … e_F, p),  p = (<e_i, e_j>)_{i<j}  (inner, IPNN)
//                               or  vec(f fᵀ), f = Σ_i e_i (outer with sum pooling, OPNN §3.3)
//                               or  both (PNN*).
// Defaults as DeepFM's, inner products. Cost per row: O(nnz·k) + F²k/2 (inner) or k² + Fk
// (outer) + the MLP's GEMMs on F·k + |p| inputs.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "tailor/ctr/detail/deep_network.hpp"

namespace tailor::ctr {

struct PNNTag {
  static constexpr std::string_view kTypeTag = "ctr::PNN";
  static constexpr std::string_view kContext = "PNN";
};
using PNNModel = DeepClickModel<PNNTag>;

struct PNNParams {
  Product product = Product::inner;
  Index embedding_dim = 16;
  std::vector<Index> hidden = {400, 400, 400};
  float init_scale = 0.01f;
  /// Dropout rate of the hidden layers while training (Srivastava et al. 2014; 0 = none).
  float dropout = 0.0f;
  bool base_rate_bias = true;
  TrainingParams training = {};
};

/// PNN: Params → const fit → immutable PNNModel.
class PNN {
 public:
  using Params = PNNParams;
  using Model = PNNModel;

  explicit PNN(Params params = {}) : params_(std::move(params)) {
    const auto product = static_cast<unsigned>(params_.product);
    check_param(product <= 2, PNNTag::kContext, "product", product, "inner, outer or both");
    detail::validate_deep(PNNTag::kContext, params_.embedding_dim, params_.hidden,
                          params_.init_scale, params_.dropout, params_.training);
  }
  const Params& params() const { return params_; }

  Model fit(const CtrData& train, FitOptions<Model> options = {}) const {
    return detail::fit_deep<PNNTag>({.linear = false, .products = true, .product = params_.product},
                                    params_.embedding_dim, params_.hidden, params_.init_scale,
                                    params_.dropout, params_.base_rate_bias, params_.training,
                                    train, options);
  }

 private:
  Params params_;
};

}  // namespace tailor::ctr
