// tailor/ctr/optimizers.hpp — the parameter blocks of the CTR models and the first-order updates
// that move them: SGD, Adagrad (Duchi, Hazan & Singer 2011), Adam (Kingma & Ba 2015, in
// PyTorch's form), lazy Adam (only embedding rows present in the batch move, with the global
// step count, as PyTorch's SparseAdam and TensorFlow's LazyAdam) and FTRL-Proximal (McMahan et
// al., KDD 2013, Algorithm 1, per coordinate, with L1 sparsity).
//
// Two kinds of parameter: a DenseParameter (biases, MLP weights) gets a full gradient every step;
// an EmbeddingTable (rows x dim, one row per feature of the shared table) gets gradients only for
// the rows a batch touches. Optimizer state lives beside the values (state1/state2: Adam's m and
// v, Adagrad's accumulator, FTRL's z and n) and is allocated on first use.
// Cost: O(parameters) per dense step, O(touched rows x dim) per lazy table step.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"

namespace tailor::ctr {

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class OptimizerKind : std::uint8_t { sgd = 0, adagrad = 1, adam = 2, ftrl = 3 };

/// The update rule and its settings. Defaults: Adam, lr 1e-3, lazy on embedding tables.
struct OptimizerParams {
  OptimizerKind kind = OptimizerKind::adam;
  float learning_rate = 1e-3f;  ///< FTRL: alpha
  float beta1 = 0.9f;           ///< Adam
  float beta2 = 0.999f;         ///< Adam
  float epsilon = 1e-8f;        ///< Adam, Adagrad
  /// Adam on embedding tables: true = only rows in the batch move (lazy); false = every row
  /// moves every step (dense Adam, decaying moments of absent rows; costs O(table) per step).
  bool lazy = true;
  float initial_accumulator = 0.0f;  ///< Adagrad's starting sum of squares
  float ftrl_beta = 1.0f;            ///< FTRL's beta (learning-rate smoothing)
  float l1 = 0.0f;                   ///< FTRL's L1 strength (zeroes coordinates)
  /// L2 strength: added to the gradient as l2 * w for dense parameters marked `decay` and for
  /// the embedding rows a batch touches (FTRL: its own proximal L2 term instead).
  float l2 = 0.0f;
};

/// Throws InvalidArgument naming `context`.optimizer.<field> for out-of-domain settings.
inline void validate(const OptimizerParams& p, std::string_view context) {
  const auto name = [&](std::string_view field) { return fmt::format("optimizer.{}", field); };
  const auto kind = static_cast<unsigned>(p.kind);
  check_param(kind <= 3, context, name("kind"), kind, "sgd, adagrad, adam or ftrl");
  check_param(std::isfinite(p.learning_rate) && p.learning_rate >= 0.0f, context,
              name("learning_rate"), p.learning_rate, "a finite value >= 0");
  check_param(p.beta1 >= 0.0f && p.beta1 < 1.0f, context, name("beta1"), p.beta1, "in [0, 1)");
  check_param(p.beta2 >= 0.0f && p.beta2 < 1.0f, context, name("beta2"), p.beta2, "in [0, 1)");
  check_param(std::isfinite(p.epsilon) && p.epsilon > 0.0f, context, name("epsilon"), p.epsilon,
              "a finite value > 0");
  check_param(std::isfinite(p.initial_accumulator) && p.initial_accumulator >= 0.0f, context,
              name("initial_accumulator"), p.initial_accumulator, "a finite value >= 0");
  check_param(std::isfinite(p.ftrl_beta) && p.ftrl_beta >= 0.0f, context, name("ftrl_beta"),
              p.ftrl_beta, "a finite value >= 0");
  check_param(std::isfinite(p.l1) && p.l1 >= 0.0f, context, name("l1"), p.l1,
              "a finite value >= 0");
  check_param(std::isfinite(p.l2) && p.l2 >= 0.0f, context, name("l2"), p.l2,
              "a finite value >= 0");
  if (p.kind == OptimizerKind::ftrl) {
    check_param(p.learning_rate > 0.0f, context, name("learning_rate"), p.learning_rate,
                "a value > 0 for FTRL (its alpha)");
  }
}

/// A dense parameter block (column-major matrix) with its optimizer state.
struct DenseParameter {
  Eigen::MatrixXf value;
  Eigen::MatrixXf state1;  ///< Adam m, Adagrad G, FTRL z (empty until the first step)
  Eigen::MatrixXf state2;  ///< Adam v, FTRL n
  bool decay = true;       ///< receives L2 (biases usually do not)
};

/// An embedding table: one row of `dim` floats per row of the shared feature table.
struct EmbeddingTable {
  RowMatrixXf value;
  RowMatrixXf state1;
  RowMatrixXf state2;
  Index rows() const { return value.rows(); }
  Index dim() const { return value.cols(); }
};

namespace detail {

/// One coordinate's update. `t` is the 1-based global step (Adam's bias correction).
struct StepConstants {
  float learning_rate;
  float adam_step;   ///< lr / (1 - beta1^t)
  float adam_scale;  ///< 1 / sqrt(1 - beta2^t)
};

inline StepConstants step_constants(const OptimizerParams& p, std::int64_t t) {
  const double bc1 = 1.0 - std::pow(static_cast<double>(p.beta1), static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(static_cast<double>(p.beta2), static_cast<double>(t));
  return {p.learning_rate, static_cast<float>(p.learning_rate / bc1),
          static_cast<float>(1.0 / std::sqrt(bc2))};
}

/// Updates `n` coordinates w[0..n) with gradient g (state arrays s1, s2 of the same length).
/// The loop bodies are written per coordinate so the compiler vectorises them.
inline void update(const OptimizerParams& p, const StepConstants& c, float* __restrict w,
                   float* __restrict s1, float* __restrict s2, const float* __restrict g, Index n) {
  switch (p.kind) {
    case OptimizerKind::sgd:
      for (Index j = 0; j < n; ++j) w[j] -= c.learning_rate * g[j];
      break;
    case OptimizerKind::adagrad:
      for (Index j = 0; j < n; ++j) {
        s1[j] += g[j] * g[j];
        w[j] -= c.learning_rate * g[j] / (std::sqrt(s1[j]) + p.epsilon);
      }
      break;
    case OptimizerKind::adam:
      // PyTorch's Adam: m̂/(sqrt(v̂) + eps) with the bias corrections folded into the step.
      for (Index j = 0; j < n; ++j) {
        s1[j] = p.beta1 * s1[j] + (1.0f - p.beta1) * g[j];
        s2[j] = p.beta2 * s2[j] + (1.0f - p.beta2) * g[j] * g[j];
        w[j] -= c.adam_step * s1[j] / (std::sqrt(s2[j]) * c.adam_scale + p.epsilon);
      }
      break;
    case OptimizerKind::ftrl:
      // McMahan et al. (2013), Algorithm 1: z accumulates g - sigma * w, n the squared
      // gradients; w is the closed-form minimiser of the L1/L2-regularised proximal problem.
      for (Index j = 0; j < n; ++j) {
        const float n_new = s2[j] + g[j] * g[j];
        const float sigma = (std::sqrt(n_new) - std::sqrt(s2[j])) / p.learning_rate;
        s1[j] += g[j] - sigma * w[j];
        s2[j] = n_new;
        const float z = s1[j];
        if (std::abs(z) <= p.l1) {
          w[j] = 0.0f;
        } else {
          const float sign = z < 0.0f ? -1.0f : 1.0f;
          w[j] = -(z - sign * p.l1) / ((p.ftrl_beta + std::sqrt(n_new)) / p.learning_rate + p.l2);
        }
      }
      break;
  }
}

inline bool needs_state1(const OptimizerParams& p) {
  return p.kind != OptimizerKind::sgd;
}
inline bool needs_state2(const OptimizerParams& p) {
  return p.kind == OptimizerKind::adam || p.kind == OptimizerKind::ftrl;
}

template <class M>
void ensure_state(const OptimizerParams& p, const M& value, M& s1, M& s2) {
  if (needs_state1(p) && (s1.rows() != value.rows() || s1.cols() != value.cols())) {
    const float start = p.kind == OptimizerKind::adagrad ? p.initial_accumulator : 0.0f;
    s1.setConstant(value.rows(), value.cols(), start);
  }
  if (needs_state2(p) && (s2.rows() != value.rows() || s2.cols() != value.cols())) {
    s2.setZero(value.rows(), value.cols());
  }
}

}  // namespace detail

/// One optimizer step on a dense block with gradient `gradient` (same shape; modified: L2 added).
inline void dense_step(const OptimizerParams& p, std::int64_t t, DenseParameter& param,
                       Eigen::MatrixXf& gradient) {
  detail::ensure_state(p, param.value, param.state1, param.state2);
  if (param.decay && p.l2 > 0.0f && p.kind != OptimizerKind::ftrl) {
    gradient += p.l2 * param.value;
  }
  const auto c = detail::step_constants(p, t);
  detail::update(p, c, param.value.data(), param.state1.data(), param.state2.data(),
                 gradient.data(), param.value.size());
}

/// One optimizer step on table row `row` with gradient `g` (dim floats; modified: L2 added).
inline void row_step(const OptimizerParams& p, const detail::StepConstants& c,
                     EmbeddingTable& table, Index row, float* g) {
  float* w = table.value.row(row).data();
  if (p.l2 > 0.0f && p.kind != OptimizerKind::ftrl) {
    for (Index j = 0; j < table.dim(); ++j) g[j] += p.l2 * w[j];
  }
  float* s1 = table.state1.size() > 0 ? table.state1.row(row).data() : nullptr;
  float* s2 = table.state2.size() > 0 ? table.state2.row(row).data() : nullptr;
  detail::update(p, c, w, s1, s2, g, table.dim());
}

}  // namespace tailor::ctr
