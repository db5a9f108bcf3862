// tailor/ctr/ffm.hpp — field-aware factorization machines (Juan, Zhuang, Chin & Lin, "Field-aware
// Factorization Machines for CTR Prediction", RecSys 2016) for click prediction.
//
//   z(x) = b + Σ_a w_{j_a} x_a + Σ_{a<b} <v_{j_a, f_b}, v_{j_b, f_a}> x_a x_b
// over the entries a, b of a row (entry a: table row j_a of field f_a, value x_a). Every table
// row keeps one k-vector per field, and a pair uses the vector of each side that faces the other
// side's field. Entries of the same field interact too (a multi-valued field, a ≠ b).
//   ∂z/∂w_{j_a} = x_a,   ∂z/∂v_{j_a, f_b} += x_a x_b v_{j_b, f_a} (for every b ≠ a).
// The paper's model is this one without the linear term and with per-row normalisation; we keep
// the linear term and the output bias of the FM (ctr/fm.hpp) so the two compare like for like.
// Trained with the one mini-batch trainer (ctr/detail/trainer.hpp) on mean BCE: the bias starts at
// the logit of the training click rate, the factors at N(0, init_scale²), linear weights at 0.
// Cost: O(nnz² · k) per row for prediction and for the gradient (pairs of entries; no
// Rendle-style identity exists, since each pair reads different vectors), plus O(nnz · F · k)
// per row to write the entry gradients. Memory: rows × (F · k + 1) floats of parameters, times
// 1 + the optimizer's state copies while training (Adam: 3) — F times an FM's, which is why fit
// checks it against Params::max_table_bytes before allocating anything.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>
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

/// The FFM's parameters and its forward/backward (a Network for the trainer).
class FfmNetwork {
 public:
  EmbeddingTable linear;   ///< rows × 1: w
  EmbeddingTable factors;  ///< rows × (F·k): v_{j, f} at columns [f·k, (f + 1)·k) of row j
  DenseParameter bias;     ///< 1 × 1: b
  Index num_fields = 1;    ///< F (the feature space's fields)

  /// Nothing to keep between forward and backward: backward re-reads the factors.
  struct Workspace {};

  Index num_tables() const { return 2; }
  EmbeddingTable& table(Index t) { return t == 0 ? linear : factors; }
  const EmbeddingTable& table(Index t) const { return t == 0 ? linear : factors; }
  Index num_dense() const { return 1; }
  DenseParameter& dense(Index) { return bias; }
  const DenseParameter& dense(Index) const { return bias; }
  /// k, the length of one field-facing vector.
  Index dim() const { return factors.dim() / num_fields; }

  Workspace make_workspace(Index) const { return {}; }

  void forward(const RowsView& x, Index lo, Index hi, Workspace&, float* out) const {
    with_dim([&](auto k) {
      for (Index i = lo; i < hi; ++i) {
        const auto begin = x.row_ptr[i];
        out[i - lo] = logit(
            k, static_cast<std::size_t>(x.row_ptr[i + 1] - begin),
            [&](std::size_t a) { return x.index[begin + static_cast<std::int64_t>(a)]; },
            [&](std::size_t a) {
              return static_cast<Index>(x.field[begin + static_cast<std::int64_t>(a)]);
            },
            [&](std::size_t a) { return x.value_at(begin + static_cast<std::int64_t>(a)); });
      }
    });
  }

  void backward(const RowsView& x, Index lo, Index hi, Workspace&, const float* dlogits,
                BlockGradient& g) const {
    const Index width = factors.dim();
    float& db = g.dense[0](0, 0);
    with_dim([&](auto k) {
      for (Index i = lo; i < hi; ++i) {
        const float gi = dlogits[i - lo];
        db += gi;
        const auto begin = x.row_ptr[i];
        const auto end = x.row_ptr[i + 1];
        for (auto a = begin; a < end; ++a) {
          const float gx = gi * x.value_at(a);
          *g.row(0, a, 1) = gx;
          // The trainer sums whole rows, so every field slot of the F·k-wide row is written:
          // slots [0, filled) hold their sums so far, later ones are untouched. A partner in a
          // new slot zeroes the gap and stores (no read-modify-write on a fresh slot); a partner
          // in a written slot (a multi-valued field, or rows not sorted by field) adds.
          float* __restrict out = g.row(1, a, width);
          const Index fa = x.field[a];
          Index filled = 0;
          for (auto b = begin; b < end; ++b) {
            if (b == a) continue;
            // ∂z/∂v_{j_a, f_b} = x_a x_b v_{j_b, f_a}
            const float scale = gx * x.value_at(b);
            const Index fb = x.field[b];
            const float* __restrict src = factors.value.row(x.index[b]).data() + fa * k;
            float* dst = out + fb * k;
            if (fb >= filled) {
              for (Index c = filled * k; c < fb * k; ++c) out[c] = 0.0f;
              for (Index d = 0; d < k; ++d) dst[d] = scale * src[d];
              filled = fb + 1;
            } else {
              for (Index d = 0; d < k; ++d) dst[d] += scale * src[d];
            }
          }
          for (Index c = filled * k; c < width; ++c) out[c] = 0.0f;
        }
      }
    });
  }

  /// Logit of one encoded row, without allocating. `field_of(e)` gives entry e's field.
  template <class FieldOf>
  float logit_one(std::span<const std::uint32_t> index, std::span<const float> value,
                  FieldOf&& field_of) const {
    return with_dim([&](auto k) {
      return logit(
          k, index.size(), [&](std::size_t a) { return index[a]; },
          [&](std::size_t a) { return static_cast<Index>(field_of(a)); },
          [&](std::size_t a) { return value.empty() ? 1.0f : value[a]; });
    });
  }

 private:
  /// Calls body(k) with k as a compile-time constant for the common sizes (4, 8, 16: the k-long
  /// loops of the pair kernels unroll; at k = 4, F = 10 forward takes 94 instead of 136 ns a
  /// row, backward 193 instead of 302), else as a run-time Index. Same arithmetic either way.
  template <class Body>
  auto with_dim(Body&& body) const -> decltype(body(Index{})) {
    switch (dim()) {
      case 4:
        return body(std::integral_constant<Index, 4>{});
      case 8:
        return body(std::integral_constant<Index, 8>{});
      case 16:
        return body(std::integral_constant<Index, 16>{});
      default:
        return body(dim());
    }
  }

  /// b + Σ_a w_{j_a} x_a + Σ_{a<b} <v_{j_a, f_b}, v_{j_b, f_a}> x_a x_b over `count` entries.
  template <class Dim, class IndexAt, class FieldAt, class ValueAt>
  float logit(Dim k, std::size_t count, IndexAt&& index_at, FieldAt&& field_at,
              ValueAt&& value_at) const {
    float lin = 0.0f;
    float pairs = 0.0f;
    for (std::size_t a = 0; a < count; ++a) {
      const auto ja = static_cast<Index>(index_at(a));
      const Index fa = field_at(a);
      const float xa = value_at(a);
      lin += linear.value(ja, 0) * xa;
      const float* va = factors.value.row(ja).data();
      for (std::size_t b = a + 1; b < count; ++b) {
        const float* __restrict p = va + field_at(b) * k;
        const float* __restrict q =
            factors.value.row(static_cast<Index>(index_at(b))).data() + fa * k;
        float dot = 0.0f;
        for (Index d = 0; d < k; ++d) dot += p[d] * q[d];
        pairs += dot * xa * value_at(b);
      }
    }
    return bias.value(0, 0) + lin + pairs;
  }
};

class FieldAwareFactorizationMachineModel;

/// Configuration of FieldAwareFactorizationMachine. Defaults: k = 4 (libffm's default), the
/// trainer's defaults (batch 4096, lazy Adam lr 1e-3, 1 epoch).
struct FieldAwareFactorizationMachineParams {
  Index embedding_dim = 4;  ///< k, per field-facing vector (each row holds F of them)
  /// sd of the factors' initial values: 0.05 = 0.1/√k at the default k = 4 (libffm draws
  /// U[0, 1/√k]; a smaller zero-mean start keeps the O(nnz²) pair sum near 0 at step 0).
  float init_scale = 0.05f;
  /// Start the output bias at logit(training click rate); false: at 0 (p = 0.5, slow to leave).
  bool base_rate_bias = true;
  /// Ceiling on the parameters and optimizer state fit may allocate (rows × (F·k + 1) × 4 bytes
  /// × (1 + state copies)); fit throws InvalidArgument above it instead of running out of memory.
  std::size_t max_table_bytes = std::size_t{4} << 30;
  TrainingParams training = {};
};

/// Field-aware factorization machine: Params → const fit → immutable model.
class FieldAwareFactorizationMachine {
 public:
  using Params = FieldAwareFactorizationMachineParams;
  using Model = FieldAwareFactorizationMachineModel;
  static constexpr std::string_view kContext = "FieldAwareFactorizationMachine";

  explicit FieldAwareFactorizationMachine(Params params = {}) : params_(std::move(params)) {
    check_param(params_.embedding_dim >= 1 && params_.embedding_dim <= 4096, kContext,
                "embedding_dim", params_.embedding_dim, "between 1 and 4096");
    check_param(std::isfinite(params_.init_scale) && params_.init_scale >= 0.0f, kContext,
                "init_scale", params_.init_scale, "a finite value >= 0");
    check_param(params_.max_table_bytes >= 1, kContext, "max_table_bytes", params_.max_table_bytes,
                "at least 1");
    validate(params_.training, kContext);
  }

  const Params& params() const { return params_; }

  /// Copies of every table while training: the values plus the optimizer's state arrays.
  std::uint64_t state_copies() const {
    return 1 + (detail::needs_state1(params_.training.optimizer) ? 1 : 0) +
           (detail::needs_state2(params_.training.optimizer) ? 1 : 0);
  }

  /// Bytes of the parameters and the optimizer state that training `space` needs:
  /// rows × (F·k + 1) × 4 × state_copies(). Cannot overflow: rows ≤ 2^31, F < 2^16 and
  /// k ≤ 2^12 bound it below 2^63.
  std::uint64_t training_bytes(const FeatureSpace& space) const {
    const auto rows = static_cast<std::uint64_t>(space.num_rows());
    const auto width = static_cast<std::uint64_t>(space.num_fields()) *
                           static_cast<std::uint64_t>(params_.embedding_dim) +
                       1;
    return rows * width * sizeof(float) * state_copies();
  }

  Model fit(const CtrData& train, FitOptions<Model> options = {}) const;

 private:
  Params params_;
};

/// A fitted FFM. Immutable; predict and predict_one are const and thread-safe.
class FieldAwareFactorizationMachineModel : public detail::ClickModel<FfmNetwork> {
 public:
  static constexpr std::string_view kTypeTag = "ctr::FieldAwareFactorizationMachine";

  Index embedding_dim() const { return net_.dim(); }
  Index num_fields() const { return net_.num_fields; }

  /// P(click) of one encoded row, allocation-free (serving): each entry's field is its table
  /// row's field in the model's space. Table rows are not range-checked: rows must come from
  /// this model's space (or use the raw-value overload).
  float predict_one(SparseRow row) const {
    return static_cast<float>(sigmoid(net_.logit_one(
        row.index, row.value, [&](std::size_t e) { return row_field_[row.index[e]]; })));
  }

  /// P(click) of one raw row (one cell per field, encoded with the model's space). Reuses
  /// per-thread buffers, so steady-state serving does not allocate.
  float predict_one(std::span<const std::string_view> cells) const {
    const auto row = encode_raw(cells);
    return static_cast<float>(
        sigmoid(net_.logit_one(row.rows, {}, [&](std::size_t e) { return row.fields[e]; })));
  }

  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, 1);
    save_common(out);
    out.write(net_.bias.value);
    out.write(net_.linear.value);
    out.write(net_.factors.value);
    save_state(out);
  }

  static FieldAwareFactorizationMachineModel load(BinaryReader& in) {
    in.read_header(kTypeTag, 1);
    FeatureSpace space = FeatureSpace::load(in);
    const auto base_rate = in.read<double>("base_rate");
    TrainingHistory history = TrainingHistory::load(in);
    FfmNetwork net;
    net.bias.value = in.read<Eigen::MatrixXf>("bias");
    net.bias.decay = false;
    net.linear.value = in.read<RowMatrixXf>("linear");
    net.factors.value = in.read<RowMatrixXf>("factors");
    const Index rows = space.num_rows();
    const Index fields = space.num_fields();
    net.num_fields = fields;
    if (fields < 1 || net.bias.value.rows() != 1 || net.bias.value.cols() != 1 ||
        net.linear.value.rows() != rows || net.linear.value.cols() != 1 ||
        net.factors.value.rows() != rows || net.factors.value.cols() < fields ||
        net.factors.value.cols() % fields != 0) {
      raise<FormatError>(
          "model file: {} parameter shapes do not match its feature space ({} rows, {} fields; "
          "expected factors of {} × a multiple of {})",
          kTypeTag, rows, fields, rows, fields);
    }
    load_state(in, history, net);
    return FieldAwareFactorizationMachineModel(std::move(space), std::move(net), std::move(history),
                                               base_rate);
  }

 private:
  friend class FieldAwareFactorizationMachine;
  static constexpr std::string_view kContext = "FieldAwareFactorizationMachineModel";
  FieldAwareFactorizationMachineModel(FeatureSpace space, FfmNetwork net, TrainingHistory history,
                                      double base_rate)
      : ClickModel(kContext, std::move(space), std::move(net), std::move(history), base_rate) {
    // Field of every table row, for predict_one on encoded rows (2 bytes per row beside the
    // F·k·4 bytes of its factors; an O(1) look-up inside the O(nnz²) pair loop).
    row_field_.resize(static_cast<std::size_t>(space_.num_rows()));
    for (Index f = 0; f < space_.num_fields(); ++f) {
      for (Index r = space_.offset(f); r < space_.offset(f + 1); ++r) {
        row_field_[static_cast<std::size_t>(r)] = static_cast<std::uint16_t>(f);
      }
    }
  }

  std::vector<std::uint16_t> row_field_;
};

inline FieldAwareFactorizationMachineModel FieldAwareFactorizationMachine::fit(
    const CtrData& train, FitOptions<Model> options) const {
  const FeatureSpace& space = train.space();
  const Index rows = space.num_rows();
  const Index fields = space.num_fields();
  const Index k = params_.embedding_dim;
  // Check the memory before allocating any of it (an F·k-wide table grows fast: 10^7 rows ×
  // 40 fields × k = 4 is 6.4 GB of values alone).
  const std::uint64_t bytes = training_bytes(space);
  if (bytes > params_.max_table_bytes) {
    raise<InvalidArgument>(
        "{}: the table needs {} bytes (rows × (fields × k + 1) × 4 bytes × copies = {} × ({} × {} "
        "+ 1) × 4 × {}, the values and the optimizer's state), over max_table_bytes = {}; lower "
        "embedding_dim, hash the fields into fewer rows or raise max_table_bytes",
        kContext, bytes, rows, fields, k, state_copies(), params_.max_table_bytes);
  }
  FfmNetwork net;
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
    net.num_fields = fields;
    net.linear.value.setZero(rows, 1);
    net.factors.value.resize(rows, fields * k);
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
