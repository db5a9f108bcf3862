// tailor/ctr/detail/trainer.hpp — THE mini-batch engine of the CTR models (one trainer; every
// model plugs a network into it, as every forest plugs a splitting rule into learn/tree).
//
// Per epoch: a permutation from Rng(seed, epoch); batches of `batch_size` consecutive permuted
// rows, gathered into one contiguous CSR block; each batch cut into `block_size` rows whose
// boundaries do not depend on the thread count. Blocks run forward + backward in parallel, each
// writing its own dense-gradient copy and one gradient row per entry and table. Reductions are
// ordered: dense gradients are summed in block order; each table row touched by the batch sums
// its entries' gradients in entry order (a stable counting sort by row) and receives ONE
// optimizer update. Hence results are bit-identical for every num_threads (no Hogwild).
// Loss: an Objective maps the network's outputs (T per row) and the rows' labels to a loss and
// its gradient; the single-task models use BinaryObjective, the weighted mean BCE of the batch
// (PyTorch's mean reduction); the multi-task models (ctr/multitask.hpp) plug in their own.
// Cost per batch: O(nnz) gather + network work + O(touched rows x dim) updates; memory
// O(batch nnz x table dims) for entry gradients.
#pragma once

#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/losses.hpp"
#include "tailor/ctr/optimizers.hpp"
#include "tailor/ctr/sparse_features.hpp"

namespace tailor::ctr {

/// What early stopping watches on the validation set.
enum class StoppingMetric : std::uint8_t { log_loss = 0, auc = 1 };

/// Settings of the one trainer, composed into every model's Params as `.training`.
struct TrainingParams {
  Index epochs = 1;
  Index batch_size = 4096;
  /// Rows per parallel task. Part of the result (it fixes the summation order), not of speed
  /// alone: keep it when comparing runs. Threads never change it.
  Index block_size = 256;
  OptimizerParams optimizer = {};
  std::uint64_t seed = 0;
  Index num_threads = 0;  ///< 0 = all cores
  bool shuffle = true;    ///< false: every epoch visits rows in order
  /// Early stopping with a validation set: stop after `patience` epochs without improvement and
  /// keep the best epoch's parameters (0 = train all epochs, keep the last).
  Index patience = 0;
  StoppingMetric stopping_metric = StoppingMetric::log_loss;
  ProgressCallback progress = {};  ///< ("epochs", e, epochs) and ("batches", b, batches)
  /// Keep the optimizer state (Adam moments, Adagrad/FTRL accumulators, the step count) in the
  /// fitted model and its file, so a warm start from it resumes training exactly: 2 epochs equal
  /// 1 epoch plus 1 warm-started epoch. Costs 1–2 more copies of the parameters.
  bool keep_optimizer_state = false;
};

/// Throws InvalidArgument naming `context`.training.<field>.
inline void validate(const TrainingParams& p, std::string_view context) {
  const auto name = [](std::string_view field) { return fmt::format("training.{}", field); };
  check_param(p.epochs >= 1 && p.epochs <= 100000, context, name("epochs"), p.epochs,
              "between 1 and 100000");
  check_param(p.batch_size >= 1 && p.batch_size <= (Index{1} << 24), context, name("batch_size"),
              p.batch_size, "between 1 and 2^24");
  check_param(p.block_size >= 1 && p.block_size <= (Index{1} << 24), context, name("block_size"),
              p.block_size, "between 1 and 2^24");
  check_param(p.num_threads >= 0 && p.num_threads <= 4096, context, name("num_threads"),
              p.num_threads, "between 0 (all cores) and 4096");
  check_param(p.patience >= 0, context, name("patience"), p.patience, "a value >= 0");
  const auto metric = static_cast<unsigned>(p.stopping_metric);
  check_param(metric <= 1, context, name("stopping_metric"), metric, "log_loss or auc");
  validate(p.optimizer, fmt::format("{}: training", context));
}

/// One epoch of training, as recorded on the model.
struct EpochRecord {
  Index epoch = 0;
  double train_loss = 0.0;  ///< weighted mean BCE over the epoch's batches (before each step)
  double validation_log_loss = std::numeric_limits<double>::quiet_NaN();
  double validation_auc = std::numeric_limits<double>::quiet_NaN();
  /// Σ p / Σ y on the validation set (1 = calibrated on average).
  double validation_calibration_ratio = std::numeric_limits<double>::quiet_NaN();
  double seconds = 0.0;             ///< wall time (not saved: files stay deterministic)
  double samples_per_second = 0.0;  ///< training rows / seconds (not saved)
};

/// The training history of a fitted model.
struct TrainingHistory {
  std::vector<EpochRecord> epochs;
  Index best_epoch = -1;         ///< the epoch whose parameters the model keeps (-1: the last)
  Index steps = 0;               ///< optimizer steps taken, resumed ones included
  Index first_epoch = 0;         ///< global index of epochs[0] (> 0 when training resumed)
  bool optimizer_state = false;  ///< the model keeps its optimizer state (keep_optimizer_state)

  void save(BinaryWriter& out) const {
    out.write(static_cast<std::uint64_t>(epochs.size()));
    for (const auto& e : epochs) {
      out.write(static_cast<std::int64_t>(e.epoch));
      out.write(e.train_loss);
      out.write(e.validation_log_loss);
      out.write(e.validation_auc);
      out.write(e.validation_calibration_ratio);
    }
    out.write(static_cast<std::int64_t>(best_epoch));
    out.write(static_cast<std::int64_t>(steps));
    out.write(static_cast<std::int64_t>(first_epoch));
    out.write(optimizer_state);
  }
  static TrainingHistory load(BinaryReader& in) {
    TrainingHistory h;
    const auto count = in.read<std::uint64_t>("number of epochs");
    if (count > 100000) raise<FormatError>("model file: {} epochs, expected at most 100000", count);
    for (std::uint64_t i = 0; i < count; ++i) {
      EpochRecord e;
      e.epoch = static_cast<Index>(in.read<std::int64_t>("epoch"));
      e.train_loss = in.read<double>("train_loss");
      e.validation_log_loss = in.read<double>("validation_log_loss");
      e.validation_auc = in.read<double>("validation_auc");
      e.validation_calibration_ratio = in.read<double>("validation_calibration_ratio");
      h.epochs.push_back(e);
    }
    h.best_epoch = static_cast<Index>(in.read<std::int64_t>("best_epoch"));
    h.steps = static_cast<Index>(in.read<std::int64_t>("steps"));
    h.first_epoch = static_cast<Index>(in.read<std::int64_t>("first_epoch"));
    h.optimizer_state = in.read<bool>("optimizer_state");
    if (h.steps < 0 || h.first_epoch < 0 || h.best_epoch < -1 ||
        h.best_epoch >= static_cast<Index>(h.epochs.size())) {
      raise<FormatError>(
          "model file: corrupt training history (steps {}, first epoch {}, best "
          "epoch {} of {})",
          h.steps, h.first_epoch, h.best_epoch, h.epochs.size());
    }
    return h;
  }
};

/// While training, what makes a row's random dropout mask reproducible: the seed, the global
/// epoch, and the training-set row of each view row (masks depend on these only, never on threads
/// or blocks).
struct DropoutContext {
  std::uint64_t seed = 0;
  Index epoch = 0;
  const Index* rows = nullptr;
};

/// Read-only view of CSR rows (the gathered batch or a caller's SparseFeatures).
struct RowsView {
  const std::int64_t* row_ptr = nullptr;
  const std::uint16_t* field = nullptr;
  const std::uint32_t* index = nullptr;
  const float* value = nullptr;              ///< nullptr: every value is 1
  const DropoutContext* training = nullptr;  ///< set by the trainer; nullptr when predicting
  float value_at(std::int64_t e) const { return value ? value[e] : 1.0f; }

  static RowsView of(const SparseFeatures& x) {
    return {x.row_ptr.data(), x.field.data(), x.index.data(),
            x.value.empty() ? nullptr : x.value.data()};
  }
};

/// What the trainer reads of a training set: encoded rows, an n × T row-major label array, an
/// optional n × T mask (1 = the label is present, 0 = missing) and optional row weights. Views
/// into a CtrData (T = 1) or a MultiTaskData; they must outlive the training.
struct TrainingSet {
  const FeatureSpace* space = nullptr;
  const SparseFeatures* features = nullptr;
  const float* labels = nullptr;
  Index num_labels = 1;
  const float* mask = nullptr;     ///< nullptr: every label present
  const float* weights = nullptr;  ///< nullptr: unit weights
  Index num_rows() const { return features->num_rows(); }

  static TrainingSet of(const CtrData& data) {
    return {&data.space(),
            &data.features(),
            data.click().data(),
            1,
            nullptr,
            data.has_weights() ? data.weights().data() : nullptr};
  }
};

/// The labels of the rows [lo, hi) of a gathered batch, as an Objective reads them: row-major
/// `num_labels` per row, the mask (all ones when the data has none) and the row weights.
struct BatchLabels {
  const float* label = nullptr;
  const float* mask = nullptr;
  const float* weight = nullptr;
  Index rows = 0;
  Index num_labels = 1;
  BatchLabels slice(Index lo, Index hi) const {
    return {label + lo * num_labels, mask + lo * num_labels, weight + lo, hi - lo, num_labels};
  }
};

/// A training loss over T network outputs per row. `batch_constants` is called once per batch
/// (serially) with the whole batch; `block` then runs in parallel on row blocks: it writes the
/// loss gradient w.r.t. each output (row-major m × T, already divided by the batch
/// normalisation) and returns the block's weighted loss sum (the trainer reports Σ block sums /
/// Σ weights). `evaluate` fills an epoch record from the outputs on a validation set.
template <class O>
concept Objective = requires(const O& o, const BatchLabels& labels,
                             const typename O::Constants& constants, const float* z, float* dz,
                             const Eigen::Ref<const RowMatrixXf>& outputs, const TrainingSet& set,
                             EpochRecord& record) {
  { o.num_outputs() } -> std::convertible_to<Index>;
  { o.batch_constants(labels) } -> std::same_as<typename O::Constants>;
  { o.block(constants, labels, z, dz) } -> std::convertible_to<double>;
  o.evaluate(outputs, set, record);
};

/// Binary cross-entropy of one logit per row against a 0/1 label (a soft label in [0, 1] also
/// works), weighted mean over the batch: the loss of every single-task click model.
struct BinaryObjective {
  using Constants = float;  ///< 1 / Σ batch weights
  Index num_outputs() const { return 1; }
  float batch_constants(const BatchLabels& b) const {
    double total = 0.0;
    for (Index i = 0; i < b.rows; ++i) total += b.weight[i];
    return total > 0.0 ? static_cast<float>(1.0 / total) : 0.0f;
  }
  double block(float scale, const BatchLabels& b, const float* z, float* dz) const {
    double loss = 0.0;
    for (Index i = 0; i < b.rows; ++i) {
      const double w = b.weight[i];
      loss += w * bce_with_logits(z[i], b.label[i]);
      dz[i] = static_cast<float>(w * bce_with_logits_gradient(z[i], b.label[i])) * scale;
    }
    return loss;
  }
  void evaluate(const Eigen::Ref<const RowMatrixXf>& logits, const TrainingSet& set,
                EpochRecord& record) const;
};

/// Gradients one block writes: a zeroed copy of every dense parameter's shape, and for each
/// table t the gradient of entry e (an index into the view's entry arrays): dim floats at
/// row(t, e, dim). The trainer places them grouped by table row (`position`), so its per-row
/// sums read contiguous memory.
struct BlockGradient {
  std::vector<Eigen::MatrixXf> dense;
  std::vector<float*> entry;
  const std::int64_t* position = nullptr;  ///< entry e's slot in the buffers (nullptr: e)

  float* row(Index t, std::int64_t e, Index dim) const {
    return entry[static_cast<std::size_t>(t)] + (position ? position[e] : e) * dim;
  }
};

/// What a model's network provides to the trainer and to prediction.
template <class N>
concept Network = requires(N& net, const N& cnet, const RowsView& rows, typename N::Workspace& ws,
                           float* out, const float* dlogits, BlockGradient& g, Index i) {
  { cnet.num_tables() } -> std::convertible_to<Index>;
  { net.table(i) } -> std::same_as<EmbeddingTable&>;
  { cnet.table(i) } -> std::same_as<const EmbeddingTable&>;
  { cnet.num_dense() } -> std::convertible_to<Index>;
  { net.dense(i) } -> std::same_as<DenseParameter&>;
  { cnet.dense(i) } -> std::same_as<const DenseParameter&>;
  { cnet.make_workspace(i) } -> std::same_as<typename N::Workspace>;
  // Outputs of rows [lo, hi) into out (row-major (hi − lo) × num_outputs; one logit per row
  // unless the network has num_outputs()); backward after forward on the same rows/workspace.
  cnet.forward(rows, i, i, ws, out);
  cnet.backward(rows, i, i, ws, dlogits, g);
};

/// Outputs per row of a network: its num_outputs() when it has one, else 1.
template <class N>
Index network_outputs(const N& net) {
  if constexpr (requires { net.num_outputs(); }) {
    return net.num_outputs();
  } else {
    return 1;
  }
}

namespace detail {

/// Outputs (n × T, row-major) of every row of `x`, blocks of 1024 rows in parallel.
template <Network Net>
RowMatrixXf predict_outputs(const Net& net, const SparseFeatures& x, Index num_threads) {
  const Index n = x.num_rows();
  RowMatrixXf out(n, network_outputs(net));
  const RowsView view = RowsView::of(x);
  constexpr Index kBlock = 1024;
  parallel_for_blocks(0, n, kBlock, num_threads, [&](Index, Index lo, Index hi) {
    auto ws = net.make_workspace(hi - lo);
    net.forward(view, lo, hi, ws, out.data() + lo * out.cols());
  });
  return out;
}

/// Logits of every row of `x` (networks with one output).
template <Network Net>
Eigen::VectorXf predict_logits(const Net& net, const SparseFeatures& x, Index num_threads) {
  return predict_outputs(net, x, num_threads).col(0);
}

/// The mean of each output over the first (up to) 4096 rows of `x` (in double): what the models
/// centre their fresh output biases on before training.
template <Network Net>
Eigen::VectorXd mean_initial_outputs(const Net& net, const SparseFeatures& x, Index num_threads) {
  const Index rows = std::min<Index>(x.num_rows(), 4096);
  std::vector<Index> first(static_cast<std::size_t>(rows));
  for (Index i = 0; i < rows; ++i) first[static_cast<std::size_t>(i)] = i;
  const RowMatrixXf z = predict_outputs(net, x.select(first), num_threads);
  Eigen::VectorXd mean(z.cols());
  for (Index t = 0; t < z.cols(); ++t) mean[t] = z.col(t).cast<double>().mean();
  return mean;
}

/// The batch gathered into contiguous arrays, and the row -> slot map of the tables.
struct BatchBuffers {
  std::vector<std::int64_t> row_ptr;
  std::vector<std::uint16_t> field;
  std::vector<std::uint32_t> index;
  std::vector<float> value;
  std::vector<float> label;  ///< rows × num_labels
  std::vector<float> mask;   ///< rows × num_labels (ones when the data has no mask)
  std::vector<float> weight;
  // Touched table rows: slot_of_row[r] (-1 when untouched), the rows in order of first
  // appearance, and the batch's entries grouped by slot (stable: entry order within a slot).
  std::vector<std::int32_t> slot_of_row;
  std::vector<std::uint32_t> touched;
  std::vector<std::int32_t> entry_slot;
  std::vector<std::int64_t> slot_start;
  std::vector<std::int64_t> slot_entries;
  std::vector<std::int64_t> position;  ///< inverse of slot_entries
};

inline void gather_batch(const TrainingSet& data, std::span<const Index> rows, BatchBuffers& b) {
  const SparseFeatures& x = *data.features;
  const auto T = static_cast<std::size_t>(data.num_labels);
  b.row_ptr.assign(1, 0);
  b.field.clear();
  b.index.clear();
  b.value.clear();
  b.label.clear();
  b.mask.clear();
  b.weight.clear();
  for (Index r : rows) {
    const auto begin = x.row_ptr[static_cast<std::size_t>(r)];
    const auto end = x.row_ptr[static_cast<std::size_t>(r) + 1];
    b.field.insert(b.field.end(), x.field.begin() + begin, x.field.begin() + end);
    b.index.insert(b.index.end(), x.index.begin() + begin, x.index.begin() + end);
    if (x.has_values())
      b.value.insert(b.value.end(), x.value.begin() + begin, x.value.begin() + end);
    b.row_ptr.push_back(static_cast<std::int64_t>(b.index.size()));
    const auto at = static_cast<std::size_t>(r) * T;
    b.label.insert(b.label.end(), data.labels + at, data.labels + at + T);
    if (data.mask != nullptr) {
      b.mask.insert(b.mask.end(), data.mask + at, data.mask + at + T);
    } else {
      b.mask.insert(b.mask.end(), T, 1.0f);
    }
    b.weight.push_back(data.weights != nullptr ? data.weights[r] : 1.0f);
  }
}

/// Assigns slots to the batch's table rows and sorts entries by slot (counting sort).
inline void group_entries(BatchBuffers& b) {
  const auto nnz = b.index.size();
  b.touched.clear();
  b.entry_slot.resize(nnz);
  for (std::size_t e = 0; e < nnz; ++e) {
    auto& slot = b.slot_of_row[b.index[e]];
    if (slot < 0) {
      slot = static_cast<std::int32_t>(b.touched.size());
      b.touched.push_back(b.index[e]);
    }
    b.entry_slot[e] = slot;
  }
  const std::size_t num_slots = b.touched.size();
  b.slot_start.assign(num_slots + 1, 0);
  for (std::size_t e = 0; e < nnz; ++e)
    ++b.slot_start[static_cast<std::size_t>(b.entry_slot[e]) + 1];
  for (std::size_t s = 0; s < num_slots; ++s) b.slot_start[s + 1] += b.slot_start[s];
  b.slot_entries.resize(nnz);
  std::vector<std::int64_t> cursor(b.slot_start.begin(), b.slot_start.end() - 1);
  for (std::size_t e = 0; e < nnz; ++e) {
    b.slot_entries[static_cast<std::size_t>(cursor[static_cast<std::size_t>(b.entry_slot[e])]++)] =
        static_cast<std::int64_t>(e);
  }
  b.position.resize(nnz);
  for (std::size_t k = 0; k < nnz; ++k) {
    b.position[static_cast<std::size_t>(b.slot_entries[k])] = static_cast<std::int64_t>(k);
  }
}

inline void release_slots(BatchBuffers& b) {
  for (std::uint32_t r : b.touched) b.slot_of_row[r] = -1;
}

/// Throws ShapeMismatch unless `validation` (when given) was encoded like `train`.
inline void check_validation_space(std::string_view context, const FeatureSpace& train,
                                   const FeatureSpace* validation) {
  if (validation != nullptr && !(*validation == train)) {
    raise<ShapeMismatch>(
        "{}: the validation data has a different feature space than the "
        "training data",
        context);
  }
}

/// Validation log-loss, AUC and calibration ratio of one probability column against 0/1 labels.
inline void binary_metrics(const Eigen::VectorXd& p, const Eigen::VectorXd& y,
                           const Eigen::VectorXd& w, double& log_loss, double& auc,
                           double& calibration) {
  log_loss = metrics::log_loss(y, p, w);
  auc = metrics::roc_auc(y, p, w);
  calibration = metrics::calibration_ratio(y, p, w);
}

/// Validation log-loss and AUC of the network on `data`.
template <Network Net>
void evaluate(const Net& net, const CtrData& data, Index num_threads, EpochRecord& record) {
  BinaryObjective().evaluate(predict_outputs(net, data.features(), num_threads),
                             TrainingSet::of(data), record);
}

}  // namespace detail

inline void BinaryObjective::evaluate(const Eigen::Ref<const RowMatrixXf>& logits,
                                      const TrainingSet& set, EpochRecord& record) const {
  const Index n = set.num_rows();
  Eigen::VectorXd p(n), y(n), w(n);
  for (Index i = 0; i < n; ++i) {
    p[i] = sigmoid(logits(i, 0));
    y[i] = set.labels[i];
    w[i] = set.weights != nullptr ? set.weights[i] : 1.0;
  }
  detail::binary_metrics(p, y, w, record.validation_log_loss, record.validation_auc,
                         record.validation_calibration_ratio);
}

/// Trains `net` in place on `train` (validation optional) under `objective` and returns the
/// history. `context` names the model in messages. `resume`: the history of the model `net` was
/// copied from; when that model kept its optimizer state, the step count and epoch numbering
/// continue from it.
template <Network Net, Objective Obj>
TrainingHistory train_network(Net& net, const TrainingSet& train, const TrainingSet* validation,
                              const TrainingParams& params, std::string_view context,
                              const Obj& objective, const TrainingHistory* resume = nullptr) {
  detail::check_validation_space(context, *train.space,
                                 validation != nullptr ? validation->space : nullptr);
  const Index n = train.num_rows();
  const Index T = objective.num_outputs();
  if (T != network_outputs(net)) {
    raise<InvalidArgument>("{}: the network has {} outputs per row, the objective expects {}",
                           context, network_outputs(net), T);
  }
  const Index batch_size = std::min(params.batch_size, n);
  const Index num_batches = (n + batch_size - 1) / batch_size;
  const Index blocks_per_batch = (batch_size + params.block_size - 1) / params.block_size;
  const Index num_tables = net.num_tables();
  const Index num_dense = net.num_dense();
  const OptimizerParams& opt = params.optimizer;

  for (Index t = 0; t < num_tables; ++t) {
    auto& table = net.table(t);
    detail::ensure_state(opt, table.value, table.state1, table.state2);
  }

  detail::BatchBuffers batch;
  batch.slot_of_row.assign(static_cast<std::size_t>(train.space->num_rows()), -1);
  std::vector<typename Net::Workspace> workspaces;
  std::vector<BlockGradient> gradients(static_cast<std::size_t>(blocks_per_batch));
  for (Index b = 0; b < blocks_per_batch; ++b) {
    workspaces.push_back(net.make_workspace(params.block_size));
    auto& g = gradients[static_cast<std::size_t>(b)];
    for (Index d = 0; d < num_dense; ++d) {
      const auto& v = net.dense(d).value;
      g.dense.emplace_back(v.rows(), v.cols());
    }
    g.entry.assign(static_cast<std::size_t>(num_tables), nullptr);
  }
  std::vector<std::vector<float>> entry_gradients(static_cast<std::size_t>(num_tables));
  std::vector<Eigen::MatrixXf> dense_total(static_cast<std::size_t>(num_dense));
  std::vector<float> logits(static_cast<std::size_t>(batch_size * T));
  std::vector<float> dlogits(static_cast<std::size_t>(batch_size * T));
  std::vector<double> block_loss(static_cast<std::size_t>(blocks_per_batch));

  TrainingHistory history;
  std::optional<Net> best;
  double best_score = std::numeric_limits<double>::infinity();
  Index since_best = 0;
  const bool resumed = resume != nullptr && resume->optimizer_state;
  std::int64_t step = resumed ? resume->steps : 0;
  const Index first_epoch =
      resumed ? resume->first_epoch + static_cast<Index>(resume->epochs.size()) : 0;
  history.first_epoch = first_epoch;
  history.optimizer_state = params.keep_optimizer_state;
  std::vector<Index> order(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;

  for (Index epoch = 0; epoch < params.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    if (params.shuffle) {
      Rng rng(params.seed, static_cast<std::uint64_t>(first_epoch + epoch));
      for (Index i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
      shuffle(order, rng);
    }
    double epoch_loss = 0.0;
    double epoch_weight = 0.0;
    for (Index bi = 0; bi < num_batches; ++bi) {
      const Index lo = bi * batch_size;
      const Index hi = std::min(n, lo + batch_size);
      const Index rows = hi - lo;
      detail::gather_batch(
          train, std::span<const Index>(order.data() + lo, static_cast<std::size_t>(rows)), batch);
      detail::group_entries(batch);
      const auto nnz = batch.index.size();
      for (Index t = 0; t < num_tables; ++t) {
        entry_gradients[static_cast<std::size_t>(t)].resize(
            nnz * static_cast<std::size_t>(net.table(t).dim()));
      }
      double batch_weight = 0.0;
      for (float w : batch.weight) batch_weight += w;
      const DropoutContext dropout{params.seed, first_epoch + epoch, order.data() + lo};
      const RowsView view{batch.row_ptr.data(), batch.field.data(), batch.index.data(),
                          batch.value.empty() ? nullptr : batch.value.data(), &dropout};
      const BatchLabels labels{batch.label.data(), batch.mask.data(), batch.weight.data(), rows,
                               train.num_labels};
      const auto constants = objective.batch_constants(labels);

      parallel_for_blocks(
          0, rows, params.block_size, params.num_threads, [&](Index b, Index r0, Index r1) {
            auto& ws = workspaces[static_cast<std::size_t>(b)];
            auto& g = gradients[static_cast<std::size_t>(b)];
            for (auto& m : g.dense) m.setZero();
            for (Index t = 0; t < num_tables; ++t)
              g.entry[static_cast<std::size_t>(t)] =
                  entry_gradients[static_cast<std::size_t>(t)].data();
            g.position = batch.position.data();
            float* z = logits.data() + r0 * T;
            net.forward(view, r0, r1, ws, z);
            block_loss[static_cast<std::size_t>(b)] =
                objective.block(constants, labels.slice(r0, r1), z, dlogits.data() + r0 * T);
            net.backward(view, r0, r1, ws, dlogits.data() + r0 * T, g);
          });
      const Index used_blocks = (rows + params.block_size - 1) / params.block_size;
      for (Index b = 0; b < used_blocks; ++b) epoch_loss += block_loss[static_cast<std::size_t>(b)];
      epoch_weight += batch_weight;

      ++step;
      // Dense parameters: block gradients summed in block order.
      for (Index d = 0; d < num_dense; ++d) {
        auto& total = dense_total[static_cast<std::size_t>(d)];
        total = gradients[0].dense[static_cast<std::size_t>(d)];
        for (Index b = 1; b < used_blocks; ++b)
          total += gradients[static_cast<std::size_t>(b)].dense[static_cast<std::size_t>(d)];
        dense_step(opt, step, net.dense(d), total);
      }
      // Tables: each touched row sums its entries in entry order, then one update.
      const auto step_constants = detail::step_constants(opt, step);
      const auto num_slots = static_cast<Index>(batch.touched.size());
      for (Index t = 0; t < num_tables; ++t) {
        EmbeddingTable& table = net.table(t);
        const Index dim = table.dim();
        const float* eg = entry_gradients[static_cast<std::size_t>(t)].data();
        parallel_for_blocks(0, num_slots, 2048, params.num_threads, [&](Index, Index s0, Index s1) {
          Eigen::VectorXf g(dim);
          // The touched rows are scattered over tables of megabytes: the update is bound by
          // memory latency, so fetch the rows (value and state) a few slots ahead. Their entry
          // gradients are contiguous (grouped by slot).
          constexpr Index kAhead = 8;
          for (Index s = s0; s < s1; ++s) {
            if (s + kAhead < s1) {
              const Index ahead = batch.touched[static_cast<std::size_t>(s + kAhead)];
              __builtin_prefetch(table.value.row(ahead).data(), 1);
              if (table.state1.size() > 0) __builtin_prefetch(table.state1.row(ahead).data(), 1);
              if (table.state2.size() > 0) __builtin_prefetch(table.state2.row(ahead).data(), 1);
            }
            float* __restrict sum = g.data();
            const auto k0 = batch.slot_start[static_cast<std::size_t>(s)];
            const auto k1 = batch.slot_start[static_cast<std::size_t>(s) + 1];
            const float* __restrict src = eg + k0 * dim;
            for (Index j = 0; j < dim; ++j) sum[j] = src[j];
            for (auto k = k0 + 1; k < k1; ++k) {
              src = eg + k * dim;
              for (Index j = 0; j < dim; ++j) sum[j] += src[j];
            }
            row_step(opt, step_constants, table, batch.touched[static_cast<std::size_t>(s)],
                     g.data());
          }
        });
        if (opt.kind == OptimizerKind::adam && !opt.lazy) {
          // Dense Adam: absent rows see a zero gradient (their moments decay, they still move).
          parallel_for_blocks(0, table.rows(), 8192, params.num_threads,
                              [&](Index, Index r0, Index r1) {
                                Eigen::VectorXf zero(dim);
                                for (Index r = r0; r < r1; ++r) {
                                  if (batch.slot_of_row[static_cast<std::size_t>(r)] >= 0) continue;
                                  zero.setZero();
                                  row_step(opt, step_constants, table, r, zero.data());
                                }
                              });
        }
      }
      detail::release_slots(batch);
      report(params.progress, "batches", bi + 1, num_batches);
    }
    EpochRecord record;
    record.epoch = epoch;
    record.train_loss = epoch_weight > 0.0 ? epoch_loss / epoch_weight : 0.0;
    record.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    record.samples_per_second =
        record.seconds > 0.0 ? static_cast<double>(n) / record.seconds : 0.0;
    bool stop = false;
    if (validation != nullptr) {
      objective.evaluate(detail::predict_outputs(net, *validation->features, params.num_threads),
                         *validation, record);
      const double score = params.stopping_metric == StoppingMetric::auc
                               ? -record.validation_auc
                               : record.validation_log_loss;
      if (params.patience > 0) {
        if (score < best_score) {
          best_score = score;
          best = net;
          history.best_epoch = epoch;
          since_best = 0;
        } else if (++since_best >= params.patience) {
          stop = true;
        }
      }
    }
    history.epochs.push_back(record);
    report(params.progress, "epochs", epoch + 1, params.epochs);
    if (stop) break;
  }
  if (best.has_value() && history.best_epoch + 1 != static_cast<Index>(history.epochs.size())) {
    net = std::move(*best);
  }
  history.steps = step;
  return history;
}

/// The single-task form: binary cross-entropy of the network's logit against `train`'s clicks.
template <Network Net>
TrainingHistory train_network(Net& net, const CtrData& train, const CtrData* validation,
                              const TrainingParams& params, std::string_view context,
                              const TrainingHistory* resume = nullptr) {
  const TrainingSet set = TrainingSet::of(train);
  std::optional<TrainingSet> validation_set;
  if (validation != nullptr) validation_set = TrainingSet::of(*validation);
  return train_network(net, set, validation_set ? &*validation_set : nullptr, params, context,
                       BinaryObjective{}, resume);
}

}  // namespace tailor::ctr
