// tailor/ctr/fm.hpp — factorization machines (Rendle, ICDM 2010) for click prediction.
//
//   z(x) = b + Σ_j w_j x_j + Σ_{i<j} <v_i, v_j> x_i x_j
//        = b + Σ_j w_j x_j + ½ Σ_d [(Σ_j v_jd x_j)² − Σ_j v_jd² x_j²]     (Rendle's O(k·nnz)
//        identity)
//   ∂z/∂w_j = x_j,   ∂z/∂v_jd = x_j (s_d − v_jd x_j) with s_d = Σ_i v_id x_i,
// over the entries j of a row (repeated fields and non-unit values included). Trained with the
// one mini-batch trainer (ctr/detail/trainer.hpp) on mean BCE; the output bias starts at the
// logit of the training click rate, factors at N(0, init_scale²), linear weights at 0.
// Cost: O(k·nnz) per row for prediction and for the gradient; memory rows × (k + 1) floats.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/detail/click_model.hpp"
#include "tailor/ctr/detail/trainer.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/losses.hpp"
#include "tailor/ctr/sparse_features.hpp"

namespace tailor::ctr {

/// The FM's parameters and its forward/backward (a Network for the trainer).
class FmNetwork {
 public:
  EmbeddingTable linear;   ///< rows × 1: w
  EmbeddingTable factors;  ///< rows × k: v
  DenseParameter bias;     ///< 1 × 1: b

  struct Workspace {
    Eigen::MatrixXf sums;  ///< k × rows: s of each row of the block
  };

  Index num_tables() const { return 2; }
  EmbeddingTable& table(Index t) { return t == 0 ? linear : factors; }
  const EmbeddingTable& table(Index t) const { return t == 0 ? linear : factors; }
  Index num_dense() const { return 1; }
  DenseParameter& dense(Index) { return bias; }
  const DenseParameter& dense(Index) const { return bias; }
  Index dim() const { return factors.dim(); }

  Workspace make_workspace(Index rows) const { return {Eigen::MatrixXf(dim(), rows)}; }

  void forward(const RowsView& x, Index lo, Index hi, Workspace& ws, float* out) const {
    const Index k = dim();
    const float b = bias.value(0, 0);
    for (Index i = lo; i < hi; ++i) {
      float* s = ws.sums.col(i - lo).data();
      for (Index d = 0; d < k; ++d) s[d] = 0.0f;
      float lin = 0.0f;
      float squares = 0.0f;
      for (auto e = x.row_ptr[i]; e < x.row_ptr[i + 1]; ++e) {
        const auto r = static_cast<Index>(x.index[e]);
        const float value = x.value_at(e);
        lin += linear.value(r, 0) * value;
        const float* v = factors.value.row(r).data();
        float sq = 0.0f;
        for (Index d = 0; d < k; ++d) {
          const float vx = v[d] * value;
          s[d] += vx;
          sq += vx * vx;
        }
        squares += sq;
      }
      float ss = 0.0f;
      for (Index d = 0; d < k; ++d) ss += s[d] * s[d];
      out[i - lo] = b + lin + 0.5f * (ss - squares);
    }
  }

  void backward(const RowsView& x, Index lo, Index hi, Workspace& ws, const float* dlogits,
                BlockGradient& g) const {
    const Index k = dim();
    float& db = g.dense[0](0, 0);
    for (Index i = lo; i < hi; ++i) {
      const float gi = dlogits[i - lo];
      db += gi;
      const float* s = ws.sums.col(i - lo).data();
      for (auto e = x.row_ptr[i]; e < x.row_ptr[i + 1]; ++e) {
        const float value = x.value_at(e);
        const float gx = gi * value;
        *g.row(0, e, 1) = gx;
        const float* v = factors.value.row(static_cast<Index>(x.index[e])).data();
        float* out = g.row(1, e, k);
        for (Index d = 0; d < k; ++d) out[d] = gx * (s[d] - v[d] * value);
      }
    }
  }

  /// Logit of one encoded row, without allocating: for k ≤ 64 one pass over the row's entries
  /// with s on the stack (contiguous rows, vectorised), else k passes over the entries.
  float logit_one(std::span<const std::uint32_t> index, std::span<const float> value) const {
    const Index k = dim();
    float z = bias.value(0, 0);
    for (std::size_t e = 0; e < index.size(); ++e) {
      z += linear.value(index[e], 0) * (value.empty() ? 1.0f : value[e]);
    }
    constexpr Index kStack = 64;
    if (k <= kStack) {
      float s[kStack] = {};
      float squares = 0.0f;
      for (std::size_t e = 0; e < index.size(); ++e) {
        const float x = value.empty() ? 1.0f : value[e];
        const float* v = factors.value.row(index[e]).data();
        for (Index d = 0; d < k; ++d) {
          const float vx = v[d] * x;
          s[d] += vx;
          squares += vx * vx;
        }
      }
      float ss = 0.0f;
      for (Index d = 0; d < k; ++d) ss += s[d] * s[d];
      return z + 0.5f * (ss - squares);
    }
    for (Index d = 0; d < k; ++d) {
      float s = 0.0f;
      float sq = 0.0f;
      for (std::size_t e = 0; e < index.size(); ++e) {
        const float vx = factors.value(index[e], d) * (value.empty() ? 1.0f : value[e]);
        s += vx;
        sq += vx * vx;
      }
      z += 0.5f * (s * s - sq);
    }
    return z;
  }
};

class FactorizationMachineModel;

/// Configuration of FactorizationMachine. Defaults follow the PyTorch peer's settings
/// (k = 16, batch 4096, Adam lr 1e-3, lazy on the tables, 1 epoch).
struct FactorizationMachineParams {
  Index embedding_dim = 16;  ///< k
  float init_scale = 0.01f;  ///< sd of the factors' initial values
  /// Start the output bias at logit(training click rate); false: at 0 (p = 0.5, slow to leave).
  bool base_rate_bias = true;
  TrainingParams training = {};
};

/// Factorization machine: Params → const fit → immutable FactorizationMachineModel.
class FactorizationMachine {
 public:
  using Params = FactorizationMachineParams;
  using Model = FactorizationMachineModel;
  static constexpr std::string_view kContext = "FactorizationMachine";

  explicit FactorizationMachine(Params params = {}) : params_(std::move(params)) {
    check_param(params_.embedding_dim >= 1 && params_.embedding_dim <= 4096, kContext,
                "embedding_dim", params_.embedding_dim, "between 1 and 4096");
    check_param(std::isfinite(params_.init_scale) && params_.init_scale >= 0.0f, kContext,
                "init_scale", params_.init_scale, "a finite value >= 0");
    validate(params_.training, kContext);
  }

  const Params& params() const { return params_; }

  /// Bytes of the parameters and the optimizer state that training `space` needs.
  std::size_t training_bytes(const FeatureSpace& space) const {
    const auto rows = static_cast<std::size_t>(space.num_rows());
    const std::size_t per_row = static_cast<std::size_t>(params_.embedding_dim) + 1;
    const std::size_t states = 1 + (detail::needs_state1(params_.training.optimizer) ? 1 : 0) +
                               (detail::needs_state2(params_.training.optimizer) ? 1 : 0);
    return rows * per_row * sizeof(float) * states;
  }

  Model fit(const CtrData& train, FitOptions<Model> options = {}) const;

 private:
  Params params_;
};

/// A fitted factorization machine. Immutable; predict and predict_one are const and thread-safe.
class FactorizationMachineModel : public detail::ClickModel<FmNetwork> {
 public:
  static constexpr std::string_view kTypeTag = "ctr::FactorizationMachine";

  Index embedding_dim() const { return net_.dim(); }

  /// P(click) of one encoded row, allocation-free (serving). Table rows are not range-checked:
  /// rows must come from this model's space (or use the raw-value overload).
  float predict_one(SparseRow row) const {
    return static_cast<float>(sigmoid(net_.logit_one(row.index, row.value)));
  }

  /// P(click) of one raw row (one cell per field, encoded with the model's space). Reuses a
  /// per-thread buffer, so steady-state serving does not allocate.
  float predict_one(std::span<const std::string_view> cells) const {
    return predict_one(SparseRow{encode_raw(cells).rows, {}});
  }

  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, 1);
    save_common(out);
    out.write(net_.bias.value);
    out.write(net_.linear.value);
    out.write(net_.factors.value);
    save_state(out);
  }

  static FactorizationMachineModel load(BinaryReader& in) {
    in.read_header(kTypeTag, 1);
    FeatureSpace space = FeatureSpace::load(in);
    const auto base_rate = in.read<double>("base_rate");
    TrainingHistory history = TrainingHistory::load(in);
    FmNetwork net;
    net.bias.value = in.read<Eigen::MatrixXf>("bias");
    net.bias.decay = false;
    net.linear.value = in.read<RowMatrixXf>("linear");
    net.factors.value = in.read<RowMatrixXf>("factors");
    const Index rows = space.num_rows();
    if (net.bias.value.rows() != 1 || net.bias.value.cols() != 1 ||
        net.linear.value.rows() != rows || net.linear.value.cols() != 1 ||
        net.factors.value.rows() != rows || net.factors.value.cols() < 1) {
      raise<FormatError>("model file: {} parameter shapes do not match its feature space ({} rows)",
                         kTypeTag, rows);
    }
    load_state(in, history, net);
    return FactorizationMachineModel(std::move(space), std::move(net), std::move(history),
                                     base_rate);
  }

 private:
  friend class FactorizationMachine;
  static constexpr std::string_view kContext = "FactorizationMachineModel";
  FactorizationMachineModel(FeatureSpace space, FmNetwork net, TrainingHistory history,
                            double base_rate)
      : ClickModel(kContext, std::move(space), std::move(net), std::move(history), base_rate) {}
};

inline FactorizationMachineModel FactorizationMachine::fit(const CtrData& train,
                                                           FitOptions<Model> options) const {
  const FeatureSpace& space = train.space();
  const Index rows = space.num_rows();
  const Index k = params_.embedding_dim;
  FmNetwork net;
  if (options.initial != nullptr) {
    const Model& initial = *options.initial;
    if (!(initial.space() == space) || initial.embedding_dim() != k) {
      raise<ShapeMismatch>(
          "{}: the initial model has a different feature space or embedding_dim "
          "({}) than this fit ({})",
          kContext, initial.embedding_dim(), k);
    }
    net = initial.network();
  } else {
    net.linear.value.setZero(rows, 1);
    net.factors.value.resize(rows, k);
    detail::init_normal(net.factors, params_.training.seed, 1, params_.init_scale,
                        params_.training.num_threads);
    net.bias.value.setConstant(
        1, 1, params_.base_rate_bias ? static_cast<float>(logit(train.base_rate())) : 0.0f);
  }
  net.bias.decay = false;
  TrainingHistory history =
      train_network(net, train, options.validation, params_.training, kContext,
                    options.initial != nullptr ? &options.initial->history() : nullptr);
  return Model(space, std::move(net), std::move(history), train.base_rate());
}

}  // namespace tailor::ctr
