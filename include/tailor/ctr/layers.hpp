// tailor/ctr/layers.hpp — the dense layers of the deep click models, forward and backward by
// hand on Eigen (float): a multi-layer perceptron (Dense = GEMM + bias, ReLU between layers) and
// the product layers of PNN (Qu et al., ICDM 2016).
//
// Activations are column-major `width × rows` blocks (one column per sample), so a layer is one
// GEMM per block: Y = W X + b; backward dW += dY Xᵀ, db += Σ_cols dY, dX = Wᵀ dY.
// Inner products (IPNN): p_ij = <e_i, e_j> for the F(F−1)/2 field pairs i < j.
// Outer products (OPNN with the paper's sum pooling, §3.3): P = f fᵀ with f = Σ_i e_i, k² values.
// Cost per sample: 2 Σ_l in_l · out_l flops forward, twice that backward; inner products
// F²k/2, outer products k² + Fk.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/optimizers.hpp"

namespace tailor::ctr {

/// A ReLU multi-layer perceptron ending in one linear output unit (the logit contribution).
/// Parameters: layer l has weight `dense[2l]` (out × in) and bias `dense[2l + 1]` (out × 1).
class Mlp {
 public:
  Mlp() = default;

  /// Layers of widths hidden…, 1 on `input` features, initialised as PyTorch's nn.Linear:
  /// W, b ~ U(−1/√in, 1/√in), from stream (seed, layer) of stream::dense_init.
  Mlp(Index input, const std::vector<Index>& hidden, std::uint64_t seed) {
    std::vector<Index> widths = hidden;
    widths.push_back(1);
    init(input, widths, seed);
  }

  /// A multi-task expert: ReLU after every layer, the last included (widths = its layers, the
  /// last width its output), initialised as above.
  static Mlp expert(Index input, const std::vector<Index>& widths, std::uint64_t seed) {
    Mlp mlp;
    mlp.init(input, widths, seed);
    mlp.relu_output_ = true;
    return mlp;
  }

  /// From parameter matrices in param() order (W_0, b_0, W_1, b_1, …), as a model file stores them.
  static Mlp from_params(std::vector<Eigen::MatrixXf> values, bool relu_output = false) {
    Mlp mlp;
    for (std::size_t i = 0; i < values.size(); ++i) {
      DenseParameter p;
      p.value = std::move(values[i]);
      p.decay = i % 2 == 0;
      mlp.params_.push_back(std::move(p));
    }
    mlp.relu_output_ = relu_output;
    return mlp;
  }

  /// Writes the parameter count and the matrices in param() order (an MLP in a model file).
  void save(BinaryWriter& out) const {
    out.write(static_cast<std::uint64_t>(num_params()));
    for (const auto& p : params_) out.write(p.value);
  }

  /// Reads what save wrote for an MLP on `input` features. Empty when the count is not an even
  /// number in [2, 130] or the shapes do not chain (W_l: out × in with in the previous out, at
  /// most 65536 wide; b_l: out × 1): the caller names its model in the FormatError.
  static std::optional<Mlp> load(BinaryReader& in, Index input, bool relu_output) {
    const auto count = in.read<std::uint64_t>("number of MLP parameters");
    if (count < 2 || count % 2 != 0 || count > 130) return std::nullopt;
    std::vector<Eigen::MatrixXf> params;
    Index width = input;
    for (std::uint64_t i = 0; i < count; i += 2) {
      params.push_back(in.read<Eigen::MatrixXf>("MLP weight"));
      params.push_back(in.read<Eigen::MatrixXf>("MLP bias"));
      const auto& w = params[params.size() - 2];
      const auto& b = params.back();
      if (w.cols() != width || w.rows() < 1 || w.rows() > 65536 || b.rows() != w.rows() ||
          b.cols() != 1) {
        return std::nullopt;
      }
      width = w.rows();
    }
    return from_params(std::move(params), relu_output);
  }

  /// ReLU on the output layer too (experts); false for the logit MLPs.
  bool relu_output() const { return relu_output_; }
  Index output_width() const { return params_.empty() ? 0 : params_.back().value.rows(); }

 private:
  void init(Index input, const std::vector<Index>& widths, std::uint64_t seed) {
    Index in = input;
    for (std::size_t l = 0; l < widths.size(); ++l) {
      const Index out = widths[l];
      Rng rng(detail::mix64(seed + l), stream::dense_init);
      const double bound = 1.0 / std::sqrt(static_cast<double>(in));
      DenseParameter w;
      DenseParameter b;  // biases get no L2, as weight decay usually spares them
      w.value.resize(out, in);
      b.value.resize(out, 1);
      b.decay = false;
      for (Index j = 0; j < in; ++j) {
        for (Index i = 0; i < out; ++i)
          w.value(i, j) = static_cast<float>(bound * (2.0 * rng.uniform() - 1.0));
      }
      for (Index i = 0; i < out; ++i)
        b.value(i, 0) = static_cast<float>(bound * (2.0 * rng.uniform() - 1.0));
      params_.push_back(std::move(w));
      params_.push_back(std::move(b));
      in = out;
    }
  }

 public:
  Index num_layers() const { return static_cast<Index>(params_.size()) / 2; }
  Index input_width() const { return params_.empty() ? 0 : params_[0].value.cols(); }
  Index num_params() const { return static_cast<Index>(params_.size()); }
  DenseParameter& param(Index i) { return params_[static_cast<std::size_t>(i)]; }
  const DenseParameter& param(Index i) const { return params_[static_cast<std::size_t>(i)]; }
  const Eigen::MatrixXf& weight(Index l) const {
    return params_[static_cast<std::size_t>(2 * l)].value;
  }
  const Eigen::MatrixXf& bias(Index l) const {
    return params_[static_cast<std::size_t>(2 * l + 1)].value;
  }

  /// Per-block buffers: post-activation outputs of each layer (width × rows), the dropout masks
  /// of the hidden layers while training (empty: no dropout), and a gradient.
  struct Workspace {
    std::vector<Eigen::MatrixXf> outputs;
    std::vector<Eigen::MatrixXf> masks;
    Eigen::MatrixXf delta;
    Eigen::MatrixXf delta_next;
  };

  Workspace make_workspace(Index rows) const {
    Workspace ws;
    for (Index l = 0; l < num_layers(); ++l) ws.outputs.emplace_back(weight(l).rows(), rows);
    return ws;
  }

  /// Forward on `input` (in × m): returns the output row (1 × m) kept in the workspace.
  const Eigen::MatrixXf& forward(const Eigen::Ref<const Eigen::MatrixXf>& input,
                                 Workspace& ws) const {
    const Index m = input.cols();
    for (Index l = 0; l < num_layers(); ++l) {
      auto& out = ws.outputs[static_cast<std::size_t>(l)];
      out.resize(weight(l).rows(), m);
      if (l == 0) {
        out.noalias() = weight(l) * input;
      } else {
        out.noalias() = weight(l) * ws.outputs[static_cast<std::size_t>(l - 1)];
      }
      out.colwise() += bias(l).col(0);
      if (l + 1 < num_layers()) {
        out = out.cwiseMax(0.0f);  // ReLU
        if (!ws.masks.empty()) out.array() *= ws.masks[static_cast<std::size_t>(l)].array();
      } else if (relu_output_) {
        out = out.cwiseMax(0.0f);
      }
    }
    return ws.outputs.back();
  }

  /// Backward from dOutput (1 × m) after forward on the same workspace: adds the parameter
  /// gradients to grads[offset + i] (same order as param(i)) and writes dInput (in × m).
  void backward(const Eigen::Ref<const Eigen::MatrixXf>& input, Workspace& ws,
                const Eigen::Ref<const Eigen::MatrixXf>& d_output,
                std::vector<Eigen::MatrixXf>& grads, Index offset, Eigen::MatrixXf& d_input) const {
    if (relu_output_) {
      ws.delta = (ws.outputs.back().array() > 0.0f).select(d_output, 0.0f);
    } else {
      ws.delta = d_output;
    }
    for (Index l = num_layers() - 1; l >= 0; --l) {
      auto& dw = grads[static_cast<std::size_t>(offset + 2 * l)];
      auto& db = grads[static_cast<std::size_t>(offset + 2 * l + 1)];
      if (l == 0) {
        dw.noalias() += ws.delta * input.transpose();
      } else {
        dw.noalias() += ws.delta * ws.outputs[static_cast<std::size_t>(l - 1)].transpose();
      }
      db.col(0) += ws.delta.rowwise().sum();
      if (l == 0) {
        d_input.resize(input.rows(), input.cols());
        d_input.noalias() = weight(0).transpose() * ws.delta;
      } else {
        ws.delta_next.resize(weight(l).cols(), ws.delta.cols());
        ws.delta_next.noalias() = weight(l).transpose() * ws.delta;
        // ReLU (and dropout): the gradient passes where the layer's output was positive, scaled
        // by the dropout mask (0 or 1/(1 − rate)) where there is one.
        if (!ws.masks.empty()) {
          ws.delta_next.array() *= ws.masks[static_cast<std::size_t>(l - 1)].array();
        }
        ws.delta_next = (ws.outputs[static_cast<std::size_t>(l - 1)].array() > 0.0f)
                            .select(ws.delta_next, 0.0f);
        ws.delta.swap(ws.delta_next);
      }
    }
  }

 private:
  std::vector<DenseParameter> params_;
  bool relu_output_ = false;
};

/// The softmax of every column of `z`, in place (shifted by the column's maximum): the gates of
/// the mixture-of-experts models.
inline void softmax_columns(Eigen::MatrixXf& z) {
  for (Index c = 0; c < z.cols(); ++c) {
    const float top = z.col(c).maxCoeff();
    z.col(c) = (z.col(c).array() - top).exp().matrix();
    z.col(c) /= z.col(c).sum();
  }
}

/// The backward of softmax_columns: given the probabilities p and s(q, c) = ⟨dOutput_c, E_q⟩
/// (the output a gate mixes, Σ_q p_q E_q), writes the logits' gradient
/// d(:, c) = p(:, c) ⊙ (s(:, c) − p(:, c)ᵀ s(:, c)), times scale[c] when `scale` is given.
inline void softmax_backward(const Eigen::MatrixXf& p, const Eigen::MatrixXf& s, const float* scale,
                             Eigen::MatrixXf& d) {
  d.resize(p.rows(), p.cols());
  for (Index c = 0; c < p.cols(); ++c) {
    const float mean = p.col(c).dot(s.col(c));
    if (scale != nullptr) {
      d.col(c) = (p.col(c).array() * (s.col(c).array() - mean) * scale[c]).matrix();
    } else {
      d.col(c) = (p.col(c).array() * (s.col(c).array() - mean)).matrix();
    }
  }
}

/// PNN's product signals of one block of field embeddings E ((F·k) × m, field f at rows
/// [f·k, (f+1)·k)).
enum class Product : std::uint8_t { inner = 0, outer = 1, both = 2 };

inline bool uses_inner(Product p) {
  return p == Product::inner || p == Product::both;
}
inline bool uses_outer(Product p) {
  return p == Product::outer || p == Product::both;
}

/// Number of product features for F fields of dimension k.
inline Index product_width(Product product, Index num_fields, Index k) {
  return (uses_inner(product) ? num_fields * (num_fields - 1) / 2 : 0) +
         (uses_outer(product) ? k * k : 0);
}

/// Writes the product features of one sample's field embeddings e (F·k floats) to p.
inline void product_forward(Product product, Index num_fields, Index k, const float* e, float* p) {
  Index row = 0;
  if (uses_inner(product)) {
    for (Index i = 0; i < num_fields; ++i) {
      for (Index j = i + 1; j < num_fields; ++j) {
        float dot = 0.0f;
        for (Index d = 0; d < k; ++d) dot += e[i * k + d] * e[j * k + d];
        p[row++] = dot;
      }
    }
  }
  if (uses_outer(product)) {
    // f = Σ_i e_i; P = f fᵀ (row-major k × k).
    float f[1024];
    for (Index d = 0; d < k; ++d) {
      f[d] = 0.0f;
      for (Index i = 0; i < num_fields; ++i) f[d] += e[i * k + d];
    }
    for (Index a = 0; a < k; ++a) {
      for (Index b = 0; b < k; ++b) p[row++] = f[a] * f[b];
    }
  }
}

/// Adds to de (F·k floats) the gradient of the products given their gradient dp (the backward).
inline void product_backward(Product product, Index num_fields, Index k, const float* e,
                             const float* dp, float* de) {
  Index row = 0;
  if (uses_inner(product)) {
    for (Index i = 0; i < num_fields; ++i) {
      for (Index j = i + 1; j < num_fields; ++j) {
        const float g = dp[row++];
        for (Index d = 0; d < k; ++d) {
          de[i * k + d] += g * e[j * k + d];
          de[j * k + d] += g * e[i * k + d];
        }
      }
    }
  }
  if (uses_outer(product)) {
    // dL/df = (dP + dPᵀ) f; every e_i receives dL/df.
    float f[1024];
    float df[1024];
    for (Index d = 0; d < k; ++d) {
      f[d] = 0.0f;
      for (Index i = 0; i < num_fields; ++i) f[d] += e[i * k + d];
    }
    for (Index a = 0; a < k; ++a) {
      float sum = 0.0f;
      for (Index b = 0; b < k; ++b) sum += (dp[row + a * k + b] + dp[row + b * k + a]) * f[b];
      df[a] = sum;
    }
    for (Index i = 0; i < num_fields; ++i) {
      for (Index d = 0; d < k; ++d) de[i * k + d] += df[d];
    }
  }
}

}  // namespace tailor::ctr
