// tailor/ctr/detail/click_model.hpp — what every fitted click model shares: the feature space it
// was trained on (saved with it, so serving encodes raw values as training did), its network,
// the training history, batch prediction with the feature-space check, and table initialisation.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/random.hpp"
#include "tailor/ctr/detail/trainer.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/losses.hpp"
#include "tailor/ctr/sparse_features.hpp"

namespace tailor::ctr {

/// Optional inputs of fit: a validation set (per-epoch AUC/log-loss, early stopping) and a
/// fitted model to start from (warm start: its parameters, fresh optimizer state).
template <class Model>
struct FitOptions {
  const CtrData* validation = nullptr;
  const Model* initial = nullptr;
};

namespace detail {

/// Fills `table` with N(0, scale²) draws. Row r of table `table_id` uses its own stream, so a
/// row's initial value depends only on (seed, table_id, r): not on threads, batches or the
/// other rows (a vocabulary that grows keeps the old rows' draws).
inline void init_normal(EmbeddingTable& table, std::uint64_t seed, std::uint64_t table_id,
                        float scale, Index num_threads) {
  const std::uint64_t table_seed = mix64(seed ^ (table_id * 0x9E3779B97F4A7C15ULL));
  parallel_for_blocks(0, table.rows(), 4096, num_threads, [&](Index, Index lo, Index hi) {
    for (Index r = lo; r < hi; ++r) {
      Rng rng(table_seed + static_cast<std::uint64_t>(r), stream::embedding_init);
      for (Index j = 0; j < table.dim(); ++j) {
        table.value(r, j) = static_cast<float>(scale * rng.normal());
      }
    }
  });
}

/// Base of the fitted click models: space, network, history. `Net` meets Network.
template <Network Net>
class ClickModel {
 public:
  const FeatureSpace& space() const { return space_; }
  const TrainingHistory& history() const { return history_; }
  /// The weighted click rate of the training data (the output bias starts at its logit).
  double train_base_rate() const { return base_rate_; }

  /// P(click) of every row of `x`, encoded with this model's feature space (rows are checked
  /// against it: a table row outside its field's range throws DataError).
  Eigen::VectorXf predict(const SparseFeatures& x, Index num_threads = 0) const {
    detail::validate_features(context_, space_, x);
    Eigen::VectorXf p = detail::predict_logits(net_, x, num_threads);
    for (Index i = 0; i < p.size(); ++i) p[i] = static_cast<float>(sigmoid(p[i]));
    return p;
  }
  /// Same, for a data set: its feature space must equal the model's (ShapeMismatch otherwise).
  Eigen::VectorXf predict(const CtrData& data, Index num_threads = 0) const {
    check_space(data.space());
    return predict(data.features(), num_threads);
  }
  /// Logits (log-odds) instead of probabilities.
  Eigen::VectorXf predict_logit(const SparseFeatures& x, Index num_threads = 0) const {
    detail::validate_features(context_, space_, x);
    return detail::predict_logits(net_, x, num_threads);
  }

  const Net& network() const { return net_; }

  /// Bytes of parameters and encoder (optimizer state is not kept by a fitted model).
  std::size_t memory_bytes() const {
    std::size_t bytes = space_.memory_bytes();
    for (Index t = 0; t < net_.num_tables(); ++t) {
      bytes += static_cast<std::size_t>(net_.table(t).value.size()) * sizeof(float);
    }
    for (Index d = 0; d < net_.num_dense(); ++d) {
      bytes += static_cast<std::size_t>(net_.dense(d).value.size()) * sizeof(float);
    }
    return bytes;
  }

 protected:
  ClickModel(std::string_view context, FeatureSpace space, Net net, TrainingHistory history,
             double base_rate)
      : context_(context),
        space_(std::move(space)),
        net_(std::move(net)),
        history_(std::move(history)),
        base_rate_(base_rate) {
    // A fitted model keeps parameters only, unless asked to keep the optimizer state.
    if (history_.optimizer_state) return;
    for (Index t = 0; t < net_.num_tables(); ++t) {
      net_.table(t).state1.resize(0, 0);
      net_.table(t).state2.resize(0, 0);
    }
    for (Index d = 0; d < net_.num_dense(); ++d) {
      net_.dense(d).state1.resize(0, 0);
      net_.dense(d).state2.resize(0, 0);
    }
  }

  /// One raw row (one cell per field) encoded with the model's space into per-thread buffers
  /// (reused, so steady-state serving does not allocate): each entry's table row and field.
  struct EncodedRow {
    const std::vector<std::uint32_t>& rows;
    const std::vector<std::uint16_t>& fields;
  };
  EncodedRow encode_raw(std::span<const std::string_view> cells) const {
    if (static_cast<Index>(cells.size()) != space_.num_fields()) {
      raise<ShapeMismatch>("{}: predict_one got {} cells, expected {} (one per field)", context_,
                           cells.size(), space_.num_fields());
    }
    thread_local std::vector<std::uint32_t> rows;
    thread_local std::vector<std::uint16_t> fields;
    rows.clear();
    fields.clear();
    for (std::size_t f = 0; f < cells.size(); ++f) {
      space_.encode_cell(static_cast<Index>(f), cells[f], [&](std::uint32_t r) {
        rows.push_back(r);
        fields.push_back(static_cast<std::uint16_t>(f));
      });
    }
    return {rows, fields};
  }

  /// One encoded row (table rows of this model's space) as a RowsView over per-thread buffers,
  /// each entry's field found from its table row: what predict_one feeds the network without
  /// allocating in steady-state serving. A table row outside the space is a DataError.
  RowsView view_one(SparseRow row) const {
    thread_local std::vector<std::uint16_t> fields;
    thread_local std::int64_t row_ptr[2];
    fields.resize(row.index.size());
    for (std::size_t a = 0; a < row.index.size(); ++a) {
      if (static_cast<Index>(row.index[a]) >= space_.num_rows()) {
        raise<DataError>("{}: predict_one: entry {} has table row {}, expected a row below {}",
                         context_, a, row.index[a], space_.num_rows());
      }
      fields[a] = static_cast<std::uint16_t>(space_.field_of_row(row.index[a]));
    }
    if (!row.value.empty() && row.value.size() != row.index.size()) {
      raise<ShapeMismatch>("{}: predict_one: {} values for {} entries", context_, row.value.size(),
                           row.index.size());
    }
    row_ptr[0] = 0;
    row_ptr[1] = static_cast<std::int64_t>(row.index.size());
    return {row_ptr, fields.data(), row.index.data(),
            row.value.empty() ? nullptr : row.value.data()};
  }

  void check_space(const FeatureSpace& other) const {
    if (!(other == space_)) {
      raise<ShapeMismatch>(
          "{}: the data's feature space ({} fields, {} table rows) differs from the model's ({} "
          "fields, {} table rows); encode the data with model.space()",
          context_, other.num_fields(), other.num_rows(), space_.num_fields(), space_.num_rows());
    }
  }

  /// Writes the optimizer state of every table and dense parameter when the model keeps it
  /// (after the parameters; load_state reads it back).
  void save_state(BinaryWriter& out) const {
    if (!history_.optimizer_state) return;
    for (Index t = 0; t < net_.num_tables(); ++t) {
      out.write(net_.table(t).state1);
      out.write(net_.table(t).state2);
    }
    for (Index d = 0; d < net_.num_dense(); ++d) {
      out.write(net_.dense(d).state1);
      out.write(net_.dense(d).state2);
    }
  }

  /// Reads what save_state wrote into `net` (whose parameters are already loaded); every state
  /// must be empty or shaped like its parameter.
  static void load_state(BinaryReader& in, const TrainingHistory& history, Net& net) {
    if (!history.optimizer_state) return;
    auto check = [](const auto& state, const auto& value) {
      if (state.size() != 0 && (state.rows() != value.rows() || state.cols() != value.cols())) {
        raise<FormatError>(
            "model file: optimizer state of shape {} x {} for a parameter of {} x {}", state.rows(),
            state.cols(), value.rows(), value.cols());
      }
    };
    for (Index t = 0; t < net.num_tables(); ++t) {
      auto& table = net.table(t);
      table.state1 = in.read<RowMatrixXf>("optimizer state");
      table.state2 = in.read<RowMatrixXf>("optimizer state");
      check(table.state1, table.value);
      check(table.state2, table.value);
    }
    for (Index d = 0; d < net.num_dense(); ++d) {
      auto& param = net.dense(d);
      param.state1 = in.read<Eigen::MatrixXf>("optimizer state");
      param.state2 = in.read<Eigen::MatrixXf>("optimizer state");
      check(param.state1, param.value);
      check(param.state2, param.value);
    }
  }

  void save_common(BinaryWriter& out) const {
    space_.save(out);
    out.write(base_rate_);
    history_.save(out);
  }

  std::string_view context_;
  FeatureSpace space_;
  Net net_;
  TrainingHistory history_;
  double base_rate_ = 0.0;
};

}  // namespace detail
}  // namespace tailor::ctr
