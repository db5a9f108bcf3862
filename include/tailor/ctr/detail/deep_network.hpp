// tailor/ctr/detail/deep_network.hpp — the one network behind the deep click models (Wide&Deep,
// DeepFM, PNN): shared field embeddings feeding an MLP, plus optional first-order weights, an FM
// term and PNN product signals. Each model is a configuration of it:
//   Wide&Deep (Cheng et al. 2016):  z = b + Σ_j w_j x_j + MLP(e_1 … e_F)
//   DeepFM    (Guo et al. 2017):    z = b + Σ_j w_j x_j + FM(entries) + MLP(e_1 … e_F)
//   PNN       (Qu et al. 2016):     z = b + MLP(e_1 … e_F, products(e))
// A field's embedding e_f pools the row's entries of field f: Σ value·v_j, divided by n (mean) or
// √n (sqrtn) for multi-valued fields; a field without entries contributes zeros.
// Cost per row: O(nnz·k) for embeddings and FM, plus the MLP's GEMMs (see layers.hpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/detail/click_model.hpp"
#include "tailor/ctr/detail/field_embeddings.hpp"
#include "tailor/ctr/detail/trainer.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/layers.hpp"
#include "tailor/ctr/sparse_features.hpp"

namespace tailor::ctr {

/// Which terms the deep network has (set by each model).
struct DeepConfig {
  bool linear = true;  ///< first-order weights Σ w_j x_j (the "wide" part)
  bool fm = false;     ///< DeepFM's pairwise term on the shared embeddings
  bool products = false;
  Product product = Product::inner;
};

class DeepNetwork {
 public:
  DeepConfig config;
  Index num_fields = 0;
  std::vector<Pooling> pooling;  ///< per field
  EmbeddingTable embedding;      ///< table 0: rows × k
  EmbeddingTable linear;         ///< table 1 (when config.linear): rows × 1
  DenseParameter bias;           ///< dense 0: 1 × 1
  Mlp mlp;                       ///< dense 1 …
  /// Dropout rate of the hidden layers while training (inverted dropout: kept units are scaled
  /// by 1/(1 − rate), so prediction uses the weights as they are). Set by fit, not saved.
  float dropout = 0.0f;

  /// Fills the hidden layers' masks for training rows [lo, hi) of a view: unit j of layer l of
  /// row r is kept (1/(1 − rate)) or dropped (0) by its own stream of (seed, epoch, r).
  void make_masks(const DropoutContext& context, Index lo, Index hi, Mlp::Workspace& ws) const {
    const Index m = hi - lo;
    const Index hidden_layers = mlp.num_layers() - 1;
    ws.masks.resize(static_cast<std::size_t>(hidden_layers));
    for (Index l = 0; l < hidden_layers; ++l)
      ws.masks[static_cast<std::size_t>(l)].resize(mlp.weight(l).rows(), m);
    const float keep_scale = 1.0f / (1.0f - dropout);
    const std::uint64_t epoch_seed = detail::mix64(
        context.seed ^ (static_cast<std::uint64_t>(context.epoch + 1) * 0x9E3779B97F4A7C15ULL));
    for (Index c = 0; c < m; ++c) {
      Rng rng(epoch_seed + static_cast<std::uint64_t>(context.rows[lo + c]), stream::dropout);
      for (Index l = 0; l < hidden_layers; ++l) {
        float* mask = ws.masks[static_cast<std::size_t>(l)].col(c).data();
        for (Index j = 0; j < ws.masks[static_cast<std::size_t>(l)].rows(); ++j) {
          mask[j] = rng.uniform() < static_cast<double>(dropout) ? 0.0f : keep_scale;
        }
      }
    }
  }

  Index dim() const { return embedding.dim(); }
  Index embedding_width() const { return num_fields * dim(); }
  Index product_features() const {
    return config.products ? product_width(config.product, num_fields, dim()) : 0;
  }

  Index num_tables() const { return config.linear ? 2 : 1; }
  EmbeddingTable& table(Index t) { return t == 0 ? embedding : linear; }
  const EmbeddingTable& table(Index t) const { return t == 0 ? embedding : linear; }
  Index num_dense() const { return 1 + mlp.num_params(); }
  DenseParameter& dense(Index i) { return i == 0 ? bias : mlp.param(i - 1); }
  const DenseParameter& dense(Index i) const { return i == 0 ? bias : mlp.param(i - 1); }

  struct Workspace {
    Eigen::MatrixXf input;  ///< (F·k + products) × m: pooled embeddings, then products
    Eigen::MatrixXf scale;  ///< F × m: the pooling factor of each field in each row
    Eigen::MatrixXf sums;   ///< k × m: FM's Σ v x per row
    Eigen::MatrixXf d_input;
    Mlp::Workspace mlp;
  };

  Workspace make_workspace(Index rows) const {
    Workspace ws;
    ws.input.resize(embedding_width() + product_features(), rows);
    ws.scale.resize(num_fields, rows);
    ws.sums.resize(config.fm ? dim() : 0, rows);
    ws.mlp = mlp.make_workspace(rows);
    return ws;
  }

  void forward(const RowsView& x, Index lo, Index hi, Workspace& ws, float* out) const {
    const Index m = hi - lo;
    const Index k = dim();
    const Index width = embedding_width();
    detail::pool_field_embeddings(x, lo, hi, pooling, embedding, ws.input, ws.scale,
                                  product_features());
    ws.sums.resize(config.fm ? k : 0, m);
    for (Index c = 0; c < m; ++c) {
      const Index i = lo + c;
      float lin = 0.0f;
      float fm = 0.0f;
      float* s = config.fm ? ws.sums.col(c).data() : nullptr;
      if (s)
        for (Index d = 0; d < k; ++d) s[d] = 0.0f;
      float squares = 0.0f;
      if (config.linear || s) {
        for (auto a = x.row_ptr[i]; a < x.row_ptr[i + 1]; ++a) {
          const Index row = x.index[a];
          const float value = x.value_at(a);
          if (config.linear) lin += linear.value(row, 0) * value;
          if (s) {
            const float* v = embedding.value.row(row).data();
            for (Index d = 0; d < k; ++d) {
              const float vx = v[d] * value;
              s[d] += vx;
              squares += vx * vx;
            }
          }
        }
      }
      if (s) {
        float ss = 0.0f;
        for (Index d = 0; d < k; ++d) ss += s[d] * s[d];
        fm = 0.5f * (ss - squares);
      }
      out[c] = bias.value(0, 0) + lin + fm;
      if (config.products) {
        float* e = ws.input.col(c).data();
        product_forward(config.product, num_fields, k, e, e + width);
      }
    }
    if (x.training != nullptr && dropout > 0.0f) {
      make_masks(*x.training, lo, hi, ws.mlp);
    } else {
      ws.mlp.masks.clear();
    }
    const Eigen::MatrixXf& deep = mlp.forward(ws.input, ws.mlp);
    for (Index c = 0; c < m; ++c) out[c] += deep(0, c);
  }

  void backward(const RowsView& x, Index lo, Index hi, Workspace& ws, const float* dlogits,
                BlockGradient& g) const {
    backward_with(x, lo, hi, ws, dlogits, g, nullptr);
  }

  /// backward, with `extra` (embedding_width() × m, or nullptr) added to the gradient of the
  /// pooled field embeddings: what a model stacked on this network (ctr/profile_moe.hpp) sends
  /// back through the shared embeddings.
  void backward_with(const RowsView& x, Index lo, Index hi, Workspace& ws, const float* dlogits,
                     BlockGradient& g, const Eigen::MatrixXf* extra) const {
    const Index m = hi - lo;
    const Index k = dim();
    const Eigen::Map<const Eigen::RowVectorXf> d_out(dlogits, m);
    g.dense[0](0, 0) += d_out.sum();
    mlp.backward(ws.input, ws.mlp, d_out, g.dense, 1, ws.d_input);
    if (config.products) {
      const Index width = embedding_width();
      for (Index c = 0; c < m; ++c) {
        float* de = ws.d_input.col(c).data();
        product_backward(config.product, num_fields, k, ws.input.col(c).data(), de + width, de);
      }
    }
    if (extra != nullptr) ws.d_input.topRows(embedding_width()) += *extra;
    detail::scatter_field_gradients(x, lo, hi, k, ws.d_input, ws.scale, g, 0);
    if (!config.fm && !config.linear) return;
    for (Index c = 0; c < m; ++c) {
      const Index i = lo + c;
      const float gi = dlogits[c];
      const float* s = config.fm ? ws.sums.col(c).data() : nullptr;
      for (auto a = x.row_ptr[i]; a < x.row_ptr[i + 1]; ++a) {
        const float value = x.value_at(a);
        if (s) {
          float* out = g.row(0, a, k);
          const float* v = embedding.value.row(static_cast<Index>(x.index[a])).data();
          const float gx = gi * value;
          for (Index d = 0; d < k; ++d) out[d] += gx * (s[d] - v[d] * value);
        }
        if (config.linear) *g.row(1, a, 1) = gi * value;
      }
    }
  }
};

namespace detail {

/// Checks the settings every deep model shares.
inline void validate_deep(std::string_view context, Index embedding_dim,
                          const std::vector<Index>& hidden, float init_scale, float dropout,
                          const TrainingParams& training) {
  check_param(std::isfinite(dropout) && dropout >= 0.0f && dropout < 1.0f, context, "dropout",
              dropout, "in [0, 1)");
  check_param(embedding_dim >= 1 && embedding_dim <= 1024, context, "embedding_dim", embedding_dim,
              "between 1 and 1024");
  check_param(hidden.size() <= 64, context, "number of hidden layers", hidden.size(), "at most 64");
  for (std::size_t l = 0; l < hidden.size(); ++l) {
    check_param(hidden[l] >= 1 && hidden[l] <= 65536, context, fmt::format("hidden[{}]", l),
                hidden[l], "between 1 and 65536");
  }
  check_param(std::isfinite(init_scale) && init_scale >= 0.0f, context, "init_scale", init_scale,
              "a finite value >= 0");
  validate(training, context);
}

/// A fresh network for `space` (embeddings N(0, init_scale²), linear 0, bias at the base rate).
inline DeepNetwork make_deep_network(const FeatureSpace& space, const DeepConfig& config, Index k,
                                     const std::vector<Index>& hidden, float init_scale,
                                     bool base_rate_bias, double base_rate,
                                     const TrainingParams& training) {
  DeepNetwork net;
  net.config = config;
  net.num_fields = space.num_fields();
  for (const auto& field : space.fields()) net.pooling.push_back(field.pooling);
  net.embedding.value.resize(space.num_rows(), k);
  init_normal(net.embedding, training.seed, 1, init_scale, training.num_threads);
  if (config.linear) net.linear.value.setZero(space.num_rows(), 1);
  net.bias.value.setConstant(1, 1, base_rate_bias ? static_cast<float>(logit(base_rate)) : 0.0f);
  net.bias.decay = false;
  const Index input = space.num_fields() * k +
                      (config.products ? product_width(config.product, space.num_fields(), k) : 0);
  net.mlp = Mlp(input, hidden, training.seed);
  return net;
}

}  // namespace detail

/// A fitted deep click model (Wide&Deep, DeepFM or PNN, told apart by Tag's type tag).
template <class Tag>
class DeepClickModel : public detail::ClickModel<DeepNetwork> {
 public:
  static constexpr std::string_view kTypeTag = Tag::kTypeTag;

  Index embedding_dim() const { return net_.dim(); }
  /// Widths of the hidden layers.
  std::vector<Index> hidden() const {
    std::vector<Index> widths;
    for (Index l = 0; l + 1 < net_.mlp.num_layers(); ++l)
      widths.push_back(net_.mlp.weight(l).rows());
    return widths;
  }

  /// P(click) of one encoded row (table rows of this model's space; each entry's field is found
  /// from its row). Per-thread buffers: no allocation in steady-state serving.
  float predict_one(SparseRow row) const {
    thread_local DeepNetwork::Workspace ws;
    // forward() resizes every buffer it uses except the per-layer list: rebuild it when the
    // depth differs (another model served on this thread).
    if (static_cast<Index>(ws.mlp.outputs.size()) != net_.mlp.num_layers())
      ws = net_.make_workspace(1);
    const RowsView view = this->view_one(row);
    float z = 0.0f;
    net_.forward(view, 0, 1, ws, &z);
    return static_cast<float>(sigmoid(z));
  }

  /// P(click) of one raw row (one cell per field, encoded with the model's space), per-thread
  /// buffers as above.
  float predict_one(std::span<const std::string_view> cells) const {
    return predict_one(SparseRow{this->encode_raw(cells).rows, {}});
  }

  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, 1);
    save_common(out);
    out.write(net_.config.linear);
    out.write(net_.config.fm);
    out.write(net_.config.products);
    out.write(net_.config.product);
    out.write(net_.bias.value);
    out.write(net_.embedding.value);
    if (net_.config.linear) out.write(net_.linear.value);
    net_.mlp.save(out);
    save_state(out);
  }

  static DeepClickModel load(BinaryReader& in) {
    in.read_header(kTypeTag, 1);
    FeatureSpace space = FeatureSpace::load(in);
    const auto base_rate = in.read<double>("base_rate");
    TrainingHistory history = TrainingHistory::load(in);
    DeepNetwork net;
    net.config.linear = in.read<bool>("linear");
    net.config.fm = in.read<bool>("fm");
    net.config.products = in.read<bool>("products");
    net.config.product = in.read<Product>("product");
    if (static_cast<unsigned>(net.config.product) > 2) {
      raise<FormatError>("model file: {} product = {}, expected 0, 1 or 2", kTypeTag,
                         static_cast<unsigned>(net.config.product));
    }
    net.num_fields = space.num_fields();
    for (const auto& field : space.fields()) net.pooling.push_back(field.pooling);
    net.bias.value = in.read<Eigen::MatrixXf>("bias");
    net.bias.decay = false;
    net.embedding.value = in.read<RowMatrixXf>("embedding");
    if (net.config.linear) net.linear.value = in.read<RowMatrixXf>("linear");
    const auto num_params = in.read<std::uint64_t>("number of MLP parameters");
    const Index k = net.embedding.value.cols();
    const Index rows = space.num_rows();
    bool ok =
        net.bias.value.size() == 1 && net.embedding.value.rows() == rows && k >= 1 && k <= 1024 &&
        (!net.config.linear || (net.linear.value.rows() == rows && net.linear.value.cols() == 1)) &&
        num_params >= 2 && num_params % 2 == 0 && num_params <= 130;
    std::vector<Eigen::MatrixXf> params;
    for (std::uint64_t i = 0; ok && i < num_params; ++i) {
      params.push_back(in.read<Eigen::MatrixXf>("MLP parameter"));
    }
    // Shapes chain: W_l is out × in with in = the previous out; b_l is out × 1; the last out is 1.
    // Only once k is known to be in [1, 1024]: a corrupt embedding width overflowed here (UB
    // found by fuzz_models).
    Index width =
        !ok ? 0
            : net.num_fields * k +
                  (net.config.products ? product_width(net.config.product, net.num_fields, k) : 0);
    for (std::size_t l = 0; ok && l < params.size(); l += 2) {
      ok = params[l].cols() == width && params[l + 1].rows() == params[l].rows() &&
           params[l + 1].cols() == 1 && params[l].rows() >= 1;
      width = params[l].rows();
    }
    if (!ok || width != 1) {
      raise<FormatError>(
          "model file: {} parameter shapes do not match its feature space ({} rows, "
          "{} fields)",
          kTypeTag, rows, net.num_fields);
    }
    net.mlp = Mlp::from_params(std::move(params));
    load_state(in, history, net);
    return DeepClickModel(std::move(space), std::move(net), std::move(history), base_rate);
  }

  /// For the estimators: wraps a trained network.
  static DeepClickModel from_training(FeatureSpace space, DeepNetwork net, TrainingHistory history,
                                      double base_rate) {
    return DeepClickModel(std::move(space), std::move(net), std::move(history), base_rate);
  }

 private:
  DeepClickModel(FeatureSpace space, DeepNetwork net, TrainingHistory history, double base_rate)
      : ClickModel(Tag::kContext, std::move(space), std::move(net), std::move(history), base_rate) {
  }
};

}  // namespace tailor::ctr

namespace tailor::ctr::detail {

/// Shifts the MLP's output bias so the fresh network's mean logit over the first (up to) 4096
/// training rows equals its output bias, logit(base rate). A random output layer otherwise adds
/// a random offset to every logit that the bias needs many steps to undo (measured: DeepFM's mean
/// pCTR 23% high after one epoch on the 1M-row peer world). (Zero-initialising the output layer
/// instead stalls the layers below under Adam with L2: their only gradient is then l2·w, which
/// Adam normalises into full-size steps towards zero.)
inline void center_output(DeepNetwork& net, const CtrData& train, Index num_threads) {
  const double offset = mean_initial_outputs(net, train.features(), num_threads)[0] -
                        static_cast<double>(net.bias.value(0, 0));
  auto& output_bias = net.mlp.param(net.mlp.num_params() - 1).value;
  output_bias(0, 0) -= static_cast<float>(offset);
}

/// The fit shared by the deep estimators: a fresh network (or the initial model's), the one
/// trainer, the fitted model.
template <class Tag>
DeepClickModel<Tag> fit_deep(const DeepConfig& config, Index k, const std::vector<Index>& hidden,
                             float init_scale, float dropout, bool base_rate_bias,
                             const TrainingParams& training, const CtrData& train,
                             FitOptions<DeepClickModel<Tag>> options) {
  const FeatureSpace& space = train.space();
  DeepNetwork net;
  if (options.initial != nullptr) {
    const auto& initial = *options.initial;
    if (!(initial.space() == space) || initial.embedding_dim() != k || initial.hidden() != hidden ||
        initial.network().config.linear != config.linear ||
        initial.network().config.fm != config.fm ||
        initial.network().config.products != config.products ||
        initial.network().config.product != config.product) {
      raise<ShapeMismatch>(
          "{}: the initial model has a different feature space or architecture "
          "than this fit",
          Tag::kContext);
    }
    net = initial.network();
  } else {
    net = make_deep_network(space, config, k, hidden, init_scale, base_rate_bias, train.base_rate(),
                            training);
    if (base_rate_bias) center_output(net, train, training.num_threads);
  }
  net.dropout = dropout;
  TrainingHistory history =
      train_network(net, train, options.validation, training, Tag::kContext,
                    options.initial != nullptr ? &options.initial->history() : nullptr);
  return DeepClickModel<Tag>::from_training(space, std::move(net), std::move(history),
                                            train.base_rate());
}

}  // namespace tailor::ctr::detail
