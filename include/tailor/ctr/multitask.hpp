// tailor/ctr/multitask.hpp — conversion and multi-task models on the one CTR trainer:
//
//   Funnel models (data: MultiTaskData::funnel, tasks click and conversion), two MLP towers on
//   shared field embeddings, pCTR = σ(z_c), pCVR = σ(z_v), pCTCVR = pCTR·pCVR exactly:
//     ClickedCvr  the naive baseline: the CVR tower learns from clicked rows only;
//     Esmm        Entire Space Multi-task Model (Ma et al., SIGIR 2018): CTR and CTCVR losses
//                 over all impressions, the CVR tower only through the product;
//     Escm2       ESCM² (Wang et al., SIGIR 2022): ESMM plus a counterfactual CVR risk over the
//                 entire space, inverse-propensity (IPS) or doubly robust (DR, with a third,
//                 imputation tower).
//   (The losses, and which gradients pass through p̂CTR, are in detail/multitask_objectives.hpp.)
//
//   Multi-task models (data: any MultiTaskData; binary and continuous tasks, masks), one tower
//   per task on expert levels (detail/multitask_network.hpp):
//     SharedBottom  one shared expert MLP under the towers (Caruana 1997);
//     Mmoe          Multi-gate Mixture-of-Experts (Ma et al., KDD 2018): K experts, one softmax
//                   gate per task;
//     Ple           Progressive Layered Extraction (Tang et al., RecSys 2020): CGC levels of
//                   task-specific and shared experts.
//   MultiTaskModel::gate_report reports each gate's expert utilisation and entropy (a collapsed
//   gate is the common failure of MMoE/PLE).
//
// Every model: embeddings N(0, init_scale²), PyTorch's nn.Linear initialisation of the MLPs, each
// tower's output bias shifted so its mean logit on the first 4096 training rows is the logit of
// its task's rate (the mean label for continuous tasks); Adam (lazy on the embeddings) by
// default; bit-identical for any num_threads; saved with its feature space.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/calibration.hpp"
#include "tailor/ctr/detail/click_model.hpp"
#include "tailor/ctr/detail/multitask_network.hpp"
#include "tailor/ctr/detail/multitask_objectives.hpp"
#include "tailor/ctr/detail/trainer.hpp"
#include "tailor/ctr/multitask_data.hpp"

namespace tailor::ctr {

/// Optional inputs of a multi-task fit: a validation set (per-epoch metrics, early stopping) and
/// a fitted model to warm-start from.
template <class Model>
struct MultiTaskFitOptions {
  const MultiTaskData* validation = nullptr;
  const Model* initial = nullptr;
};

/// pCTR, pCVR = P(conversion | click, x) and pCTCVR = pCTR·pCVR of every row.
struct FunnelPrediction {
  Eigen::VectorXf pctr;
  Eigen::VectorXf pcvr;
  Eigen::VectorXf pctcvr;

  /// The prediction of a model trained after negative down-sampling (non-click impressions kept
  /// with probability keep_rate): pCTR corrected as q = p / (p + (1 − p)/keep_rate) (He et al.
  /// 2014), pCVR unchanged (dropping non-clicks leaves P(conversion | click, x) as it was),
  /// pCTCVR = q·pCVR. For ESMM, whose CTCVR loss also saw the down-sampled impressions, this is
  /// the correction to apply before using pCTR or pCTCVR.
  FunnelPrediction corrected_for_negative_downsampling(double keep_rate) const {
    FunnelPrediction out;
    out.pctr = correct_negative_downsampling(pctr, keep_rate);
    out.pcvr = pcvr;
    out.pctcvr = out.pctr.cwiseProduct(pcvr);
    return out;
  }
};

/// One row's funnel prediction (FunnelModel::predict_one).
struct FunnelScore {
  float pctr = 0.0f;
  float pcvr = 0.0f;
  float pctcvr = 0.0f;  ///< pctr · pcvr
};

/// What catches a collapsed CVR tower: the spread of pCVR over all rows and its AUC against the
/// conversions of clicked rows.
struct FunnelDiagnostics {
  double pcvr_mean = 0.0;
  double pcvr_sd = 0.0;
  double cvr_auc_clicked = std::numeric_limits<double>::quiet_NaN();
  /// sd(pCVR) < 1e-3 or |AUC − 0.5| < 0.01 on clicked rows: the tower predicts a constant.
  bool collapsed = false;
};

namespace detail {

/// Shared settings of the funnel models.
struct FunnelConfig {
  FunnelLoss loss = FunnelLoss::esmm;
  double counterfactual_weight = 1.0;
  double ctcvr_weight = 1.0;
  double propensity_floor = 0.01;
};

inline void validate_towers(std::string_view context, Index embedding_dim,
                            const std::vector<Index>& hidden, std::string_view name,
                            float init_scale, const TrainingParams& training) {
  check_param(embedding_dim >= 1 && embedding_dim <= 1024, context, "embedding_dim", embedding_dim,
              "between 1 and 1024");
  check_param(hidden.size() <= 64, context, fmt::format("number of {} layers", name), hidden.size(),
              "at most 64");
  for (std::size_t l = 0; l < hidden.size(); ++l) {
    check_param(hidden[l] >= 1 && hidden[l] <= 65536, context, fmt::format("{}[{}]", name, l),
                hidden[l], "between 1 and 65536");
  }
  check_param(std::isfinite(init_scale) && init_scale >= 0.0f, context, "init_scale", init_scale,
              "a finite value >= 0");
  validate(training, context);
}

/// Seeds of the parts of a network (each part its own stream of the training seed).
inline std::uint64_t part_seed(std::uint64_t seed, std::uint64_t part) {
  return mix64(seed ^ (part * 0xA24BAED4963EE407ULL));
}

/// Embeddings and pooling for `space`, N(0, init_scale²) as the deep click models'.
inline MultiTaskNetwork make_embedding_network(const FeatureSpace& space, Index k, float init_scale,
                                               const TrainingParams& training) {
  MultiTaskNetwork net;
  net.num_fields = space.num_fields();
  for (const auto& field : space.fields()) net.pooling.push_back(field.pooling);
  net.embedding.value.resize(space.num_rows(), k);
  init_normal(net.embedding, training.seed, 1, init_scale, training.num_threads);
  return net;
}

/// Shifts each tower's output bias so its mean output over the first (up to) 4096 rows of
/// `features` equals target[t].
inline void center_towers(MultiTaskNetwork& net, const SparseFeatures& features,
                          const std::vector<double>& target, Index num_threads) {
  const Eigen::VectorXd mean = mean_initial_outputs(net, features, num_threads);
  for (Index t = 0; t < net.num_outputs(); ++t) {
    auto& tower = net.towers[static_cast<std::size_t>(t)];
    auto& bias = tower.param(tower.num_params() - 1).value;
    bias(0, 0) -= static_cast<float>(mean[t] - target[static_cast<std::size_t>(t)]);
  }
}

/// Throws ShapeMismatch unless the validation set has the training set's space and tasks.
inline void check_validation_tasks(std::string_view context, const MultiTaskData& train,
                                   const MultiTaskData* validation) {
  if (validation == nullptr) return;
  bool same = validation->num_tasks() == train.num_tasks();
  for (Index t = 0; same && t < train.num_tasks(); ++t) {
    same = validation->task(t).name == train.task(t).name &&
           validation->task(t).kind == train.task(t).kind;
  }
  if (!same) {
    raise<ShapeMismatch>("{}: the validation data has different tasks than the training data",
                         context);
  }
}

inline void check_funnel(std::string_view context, const MultiTaskData& data,
                         std::string_view name) {
  if (!data.is_funnel()) {
    raise<InvalidArgument>(
        "{}: the {} data is not a funnel, expected MultiTaskData::funnel(click, conversion)",
        context, name);
  }
}

/// Base of the fitted multi-task models: the feature space, network, history, task rates.
class MultiTaskModelBase : public ClickModel<MultiTaskNetwork> {
 public:
  /// The target each tower's output bias was centred on (logit of its rate, or mean label).
  const std::vector<double>& tower_targets() const { return targets_; }
  Index embedding_dim() const { return net_.dim(); }

 protected:
  MultiTaskModelBase(std::string_view context, FeatureSpace space, MultiTaskNetwork net,
                     TrainingHistory history, std::vector<double> targets)
      : ClickModel(context, std::move(space), std::move(net), std::move(history),
                   targets.empty() ? 0.0 : targets.front()),
        targets_(std::move(targets)) {}

  /// Outputs (n × towers) of encoded rows after the feature-space check.
  RowMatrixXf outputs(const SparseFeatures& x, Index num_threads) const {
    validate_features(context_, space_, x);
    return predict_outputs(net_, x, num_threads);
  }

  /// The towers' outputs of one encoded row into out[0 .. towers): per-thread buffers, so
  /// steady-state serving does not allocate. A table row outside the space is a DataError.
  void outputs_one(SparseRow row, float* out) const {
    thread_local MultiTaskNetwork::Workspace ws;
    thread_local std::uint64_t shape = 0;
    // Rebuild the buffers when this thread last served a network of another shape.
    const std::uint64_t key = shape_key();
    if (key != shape) {
      ws = net_.make_workspace(1);
      shape = key;
    }
    const RowsView view = view_one(row);
    net_.forward(view, 0, 1, ws, out);
  }

  /// A hash of the network's shape (levels, experts, layers, towers, k).
  std::uint64_t shape_key() const {
    std::uint64_t h = mix64(static_cast<std::uint64_t>(net_.dim()) + 1);
    auto add = [&](Index v) { h = mix64(h ^ (static_cast<std::uint64_t>(v) + 0x9E37U)); };
    add(static_cast<Index>(net_.levels.size()));
    for (const auto& level : net_.levels) {
      add(level.num_branches());
      for (const auto& e : level.experts) add(e.num_layers());
    }
    add(net_.num_outputs());
    for (const auto& t : net_.towers) add(t.num_layers());
    return h;
  }

  void save_base(BinaryWriter& out) const {
    save_common(out);
    out.write(targets_);
    net_.save(out);
    save_state(out);
  }

  struct Loaded {
    FeatureSpace space;
    TrainingHistory history;
    std::vector<double> targets;
    MultiTaskNetwork net;
  };
  static Loaded load_base(BinaryReader& in, std::string_view context) {
    Loaded l{FeatureSpace::load(in), {}, {}, {}};
    in.read<double>("base_rate");
    l.history = TrainingHistory::load(in);
    l.targets = in.read<std::vector<double>>("tower targets");
    l.net = MultiTaskNetwork::load(in, l.space, context);
    if (static_cast<Index>(l.targets.size()) != l.net.num_outputs()) {
      raise<FormatError>("model file: {} has {} tower targets for {} towers", context,
                         l.targets.size(), l.net.num_outputs());
    }
    load_state(in, l.history, l.net);
    return l;
  }

  std::vector<double> targets_;
};

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Funnel models
// ---------------------------------------------------------------------------------------------

/// A fitted funnel model (ClickedCvr, Esmm or Escm2).
class FunnelModel : public detail::MultiTaskModelBase {
 public:
  static constexpr std::string_view kTypeTag = "ctr::FunnelModel";

  FunnelLoss loss() const { return config_.loss; }
  const detail::FunnelConfig& config() const { return config_; }

  /// pCTR, pCVR and pCTCVR (= pCTR·pCVR in float) of encoded rows.
  FunnelPrediction predict(const SparseFeatures& x, Index num_threads = 0) const {
    const RowMatrixXf z = outputs(x, num_threads);
    FunnelPrediction p;
    p.pctr.resize(z.rows());
    p.pcvr.resize(z.rows());
    p.pctcvr.resize(z.rows());
    for (Index i = 0; i < z.rows(); ++i) {
      p.pctr[i] = static_cast<float>(sigmoid(z(i, 0)));
      p.pcvr[i] = static_cast<float>(sigmoid(z(i, 1)));
      p.pctcvr[i] = p.pctr[i] * p.pcvr[i];
    }
    return p;
  }
  FunnelPrediction predict(const MultiTaskData& data, Index num_threads = 0) const {
    check_space(data.space());
    return predict(data.features(), num_threads);
  }

  /// pCTR, pCVR, pCTCVR of one encoded row (table rows of this model's space), without
  /// allocating in steady-state serving.
  FunnelScore predict_one(SparseRow row) const {
    float z[3];
    outputs_one(row, z);
    FunnelScore score;
    score.pctr = static_cast<float>(sigmoid(z[0]));
    score.pcvr = static_cast<float>(sigmoid(z[1]));
    score.pctcvr = score.pctr * score.pcvr;
    return score;
  }
  /// Same, for one raw row (one cell per field, encoded with the model's space).
  FunnelScore predict_one(std::span<const std::string_view> cells) const {
    return predict_one(SparseRow{this->encode_raw(cells).rows, {}});
  }

  /// The DR model's imputed conversion probability r̂ (InvalidArgument for other losses).
  Eigen::VectorXf predict_imputed_cvr(const SparseFeatures& x, Index num_threads = 0) const {
    if (config_.loss != FunnelLoss::doubly_robust) {
      raise<InvalidArgument>("{}: predict_imputed_cvr needs a doubly robust ESCM² model", context_);
    }
    const RowMatrixXf z = outputs(x, num_threads);
    Eigen::VectorXf r(z.rows());
    for (Index i = 0; i < z.rows(); ++i) r[i] = static_cast<float>(sigmoid(z(i, 2)));
    return r;
  }

  /// Collapse diagnostics of the CVR tower on `data` (a funnel).
  FunnelDiagnostics diagnose(const MultiTaskData& data, Index num_threads = 0) const {
    detail::check_funnel(context_, data, "diagnosed");
    const FunnelPrediction p = predict(data, num_threads);
    FunnelDiagnostics d;
    const Eigen::VectorXd q = p.pcvr.cast<double>();
    d.pcvr_mean = q.mean();
    d.pcvr_sd = std::sqrt((q.array() - d.pcvr_mean).square().mean());
    std::vector<double> score, label, w;
    for (Index i = 0; i < data.num_rows(); ++i) {
      if (data.labels()(i, 0) != 1.0f) continue;
      score.push_back(q[i]);
      label.push_back(data.labels()(i, 1));
      w.push_back(data.weight(i));
    }
    d.cvr_auc_clicked = detail::score_binary(score, label, w).auc;
    d.collapsed = d.pcvr_sd < 1e-3 ||
                  (std::isfinite(d.cvr_auc_clicked) && std::abs(d.cvr_auc_clicked - 0.5) < 0.01);
    return d;
  }

  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, 1);
    out.write(config_.loss);
    out.write(config_.counterfactual_weight);
    out.write(config_.ctcvr_weight);
    out.write(config_.propensity_floor);
    save_base(out);
  }

  static FunnelModel load(BinaryReader& in) {
    in.read_header(kTypeTag, 1);
    detail::FunnelConfig config;
    config.loss = in.read<FunnelLoss>("loss");
    config.counterfactual_weight = in.read<double>("counterfactual_weight");
    config.ctcvr_weight = in.read<double>("ctcvr_weight");
    config.propensity_floor = in.read<double>("propensity_floor");
    if (static_cast<unsigned>(config.loss) > 3) {
      raise<FormatError>("model file: {} loss = {}, expected 0 to 3", kTypeTag,
                         static_cast<unsigned>(config.loss));
    }
    auto l = load_base(in, kTypeTag);
    const Index towers = config.loss == FunnelLoss::doubly_robust ? 3 : 2;
    if (!l.net.levels.empty() || l.net.num_outputs() != towers) {
      raise<FormatError>(
          "model file: {} has {} towers and {} levels, expected {} towers on the "
          "embeddings",
          kTypeTag, l.net.num_outputs(), l.net.levels.size(), towers);
    }
    return FunnelModel(std::move(l.space), std::move(l.net), std::move(l.history),
                       std::move(l.targets), config);
  }

  /// For the estimators: wraps a trained network.
  static FunnelModel from_training(FeatureSpace space, MultiTaskNetwork net,
                                   TrainingHistory history, std::vector<double> targets,
                                   const detail::FunnelConfig& config) {
    return FunnelModel(std::move(space), std::move(net), std::move(history), std::move(targets),
                       config);
  }

 private:
  FunnelModel(FeatureSpace space, MultiTaskNetwork net, TrainingHistory history,
              std::vector<double> targets, const detail::FunnelConfig& config)
      : MultiTaskModelBase(context_of(config.loss), std::move(space), std::move(net),
                           std::move(history), std::move(targets)),
        config_(config) {}

  static std::string_view context_of(FunnelLoss loss) {
    switch (loss) {
      case FunnelLoss::clicked_only:
        return "ClickedCvr";
      case FunnelLoss::esmm:
        return "Esmm";
      default:
        return "Escm2";
    }
  }

  detail::FunnelConfig config_;
};

namespace detail {

/// The fit shared by the funnel estimators.
inline FunnelModel fit_funnel(std::string_view context, const FunnelConfig& config, Index k,
                              const std::vector<Index>& hidden, float init_scale,
                              const TrainingParams& training, const MultiTaskData& train,
                              MultiTaskFitOptions<FunnelModel> options) {
  check_funnel(context, train, "training");
  if (options.validation != nullptr) check_funnel(context, *options.validation, "validation");
  const FeatureSpace& space = train.space();
  // Tower targets: logit(click rate), logit(conversions / clicks) (also the imputation tower's).
  double clicks = 0.0, conversions = 0.0, total = 0.0;
  for (Index i = 0; i < train.num_rows(); ++i) {
    const double w = train.weight(i);
    clicks += w * train.labels()(i, 0);
    conversions += w * train.labels()(i, 1);
    total += w;
  }
  const double cvr = std::clamp(conversions / clicks, 1e-6, 1.0 - 1e-6);
  std::vector<double> targets = {logit(clicks / total), logit(cvr)};
  if (config.loss == FunnelLoss::doubly_robust) targets.push_back(logit(cvr));
  const auto towers = static_cast<Index>(targets.size());

  MultiTaskNetwork net;
  if (options.initial != nullptr) {
    const auto& initial = *options.initial;
    bool same = initial.space() == space && initial.embedding_dim() == k &&
                initial.config().loss == config.loss && initial.network().num_outputs() == towers;
    for (Index t = 0; same && t < towers; ++t) {
      const auto& tower = initial.network().towers[static_cast<std::size_t>(t)];
      same = tower.num_layers() == static_cast<Index>(hidden.size()) + 1;
      for (std::size_t l = 0; same && l < hidden.size(); ++l)
        same = tower.weight(static_cast<Index>(l)).rows() == hidden[l];
    }
    if (!same) {
      raise<ShapeMismatch>(
          "{}: the initial model has a different feature space or architecture than this fit",
          context);
    }
    net = initial.network();
  } else {
    net = make_embedding_network(space, k, init_scale, training);
    for (Index t = 0; t < towers; ++t) {
      net.towers.emplace_back(space.num_fields() * k, hidden,
                              part_seed(training.seed, 0x300 + static_cast<std::uint64_t>(t)));
    }
    net.finalize();
    center_towers(net, train.features(), targets, training.num_threads);
  }
  const FunnelObjective objective{config.loss, config.counterfactual_weight, config.ctcvr_weight,
                                  config.propensity_floor};
  std::optional<TrainingSet> validation;
  if (options.validation != nullptr) validation = options.validation->training_set();
  TrainingHistory history = train_network(
      net, train.training_set(), validation ? &*validation : nullptr, training, context, objective,
      options.initial != nullptr ? &options.initial->history() : nullptr);
  return FunnelModel::from_training(space, std::move(net), std::move(history), std::move(targets),
                                    config);
}

}  // namespace detail

namespace detail {

/// The estimator shared by ClickedCvr, Esmm and Escm2; `Tag` names the model, checks its own
/// settings and maps its Params to a FunnelConfig (as MultiTaskEstimator<Tag> for the
/// multi-task models).
template <class Tag>
class FunnelEstimator {
 public:
  using Params = typename Tag::Params;
  using Model = FunnelModel;
  static constexpr std::string_view kContext = Tag::kContext;

  explicit FunnelEstimator(Params params = {}) : params_(std::move(params)) {
    validate_towers(kContext, params_.embedding_dim, params_.tower_hidden, "tower_hidden",
                    params_.init_scale, params_.training);
    Tag::check(params_);
  }
  const Params& params() const { return params_; }

  Model fit(const MultiTaskData& train, MultiTaskFitOptions<Model> options = {}) const {
    return fit_funnel(kContext, Tag::config(params_), params_.embedding_dim, params_.tower_hidden,
                      params_.init_scale, params_.training, train, options);
  }

 private:
  Params params_;
};

}  // namespace detail

/// Settings of the naive CVR baseline and ESMM (defaults: the PyTorch peer's, k = 16, two
/// 400-400-400 towers, Adam lr 1e-3 lazy on the embeddings, batch 4096, 1 epoch).
struct EsmmParams {
  Index embedding_dim = 16;
  std::vector<Index> tower_hidden = {400, 400, 400};
  float init_scale = 0.01f;
  float ctcvr_weight = 1.0f;  ///< weight of the CTCVR loss (ESMM: 1); unused by ClickedCvr
  TrainingParams training = {};
};

/// The naive CVR model: CTR tower on all impressions, CVR tower on clicked rows only (shared
/// embeddings). Its pCVR over all impressions inherits the sample selection bias ESMM removes.
struct ClickedCvrTag {
  using Params = EsmmParams;
  static constexpr std::string_view kContext = "ClickedCvr";
  static void check(const Params&) {}
  static detail::FunnelConfig config(const Params&) { return {.loss = FunnelLoss::clicked_only}; }
};
using ClickedCvr = detail::FunnelEstimator<ClickedCvrTag>;

/// ESMM (Ma et al., SIGIR 2018): Params → const fit → immutable FunnelModel.
struct EsmmTag {
  using Params = EsmmParams;
  static constexpr std::string_view kContext = "Esmm";
  static void check(const Params& p) {
    check_param(std::isfinite(p.ctcvr_weight) && p.ctcvr_weight > 0.0f, kContext, "ctcvr_weight",
                p.ctcvr_weight, "a finite value > 0");
  }
  static detail::FunnelConfig config(const Params& p) {
    return {.loss = FunnelLoss::esmm, .ctcvr_weight = p.ctcvr_weight};
  }
};
using Esmm = detail::FunnelEstimator<EsmmTag>;

/// ESCM²'s counterfactual CVR risk.
enum class Counterfactual : std::uint8_t { ips = 0, doubly_robust = 1 };

struct Escm2Params {
  Index embedding_dim = 16;
  std::vector<Index> tower_hidden = {400, 400, 400};  ///< CTR, CVR (and imputation) towers
  float init_scale = 0.01f;
  Counterfactual counterfactual = Counterfactual::ips;
  float counterfactual_weight = 1.0f;  ///< λ_c
  float ctcvr_weight = 1.0f;           ///< λ_g
  /// p̂CTR is clipped below at this value in the inverse-propensity weights (1/p̂ ≤ 1/floor).
  float propensity_floor = 0.01f;
  TrainingParams training = {};
};

/// ESCM² (Wang et al., SIGIR 2022): Params → const fit → immutable FunnelModel.
struct Escm2Tag {
  using Params = Escm2Params;
  static constexpr std::string_view kContext = "Escm2";
  static void check(const Params& p) {
    const auto kind = static_cast<unsigned>(p.counterfactual);
    check_param(kind <= 1, kContext, "counterfactual", kind, "ips or doubly_robust");
    check_param(std::isfinite(p.counterfactual_weight) && p.counterfactual_weight >= 0.0f, kContext,
                "counterfactual_weight", p.counterfactual_weight, "a finite value >= 0");
    check_param(std::isfinite(p.ctcvr_weight) && p.ctcvr_weight >= 0.0f, kContext, "ctcvr_weight",
                p.ctcvr_weight, "a finite value >= 0");
    check_param(p.propensity_floor > 0.0f && p.propensity_floor <= 1.0f, kContext,
                "propensity_floor", p.propensity_floor, "in (0, 1]");
  }
  static detail::FunnelConfig config(const Params& p) {
    return {p.counterfactual == Counterfactual::ips ? FunnelLoss::ips : FunnelLoss::doubly_robust,
            p.counterfactual_weight, p.ctcvr_weight, p.propensity_floor};
  }
};
using Escm2 = detail::FunnelEstimator<Escm2Tag>;

// ---------------------------------------------------------------------------------------------
// Multi-task models
// ---------------------------------------------------------------------------------------------

/// One gate's behaviour over a data set.
struct GateReport {
  Index level = 0;
  std::string branch;               ///< the task's name, or "shared"
  std::vector<double> utilisation;  ///< mean weight of each expert it mixes (sums to 1)
  double mean_entropy = 0.0;        ///< mean over rows of −Σ g log g
  double normalised_entropy = 0.0;  ///< mean_entropy / log(number of experts)
  /// One expert takes ≥ 95% of the gate's weight on average: the gate has collapsed.
  bool collapsed = false;
};

/// A fitted Shared-Bottom, MMoE or PLE model.
class MultiTaskModel : public detail::MultiTaskModelBase {
 public:
  static constexpr std::string_view kTypeTag = "ctr::MultiTaskModel";

  const std::vector<TaskSpec>& tasks() const { return tasks_; }
  Index num_tasks() const { return static_cast<Index>(tasks_.size()); }

  /// n × T predictions: probabilities for binary tasks, values for continuous ones.
  RowMatrixXf predict(const SparseFeatures& x, Index num_threads = 0) const {
    RowMatrixXf z = outputs(x, num_threads);
    for (Index t = 0; t < num_tasks(); ++t) {
      if (tasks_[static_cast<std::size_t>(t)].kind != TaskKind::binary) continue;
      for (Index i = 0; i < z.rows(); ++i) z(i, t) = static_cast<float>(sigmoid(z(i, t)));
    }
    return z;
  }
  RowMatrixXf predict(const MultiTaskData& data, Index num_threads = 0) const {
    check_space(data.space());
    return predict(data.features(), num_threads);
  }

  /// The T predictions of one encoded row into `out` (size num_tasks()), without allocating in
  /// steady-state serving.
  void predict_one(SparseRow row, std::span<float> out) const {
    if (static_cast<Index>(out.size()) != num_tasks()) {
      raise<ShapeMismatch>("{}: predict_one: out has {} values, expected {} (one per task)",
                           context_, out.size(), num_tasks());
    }
    outputs_one(row, out.data());
    for (Index t = 0; t < num_tasks(); ++t) {
      if (tasks_[static_cast<std::size_t>(t)].kind == TaskKind::binary)
        out[static_cast<std::size_t>(t)] =
            static_cast<float>(sigmoid(out[static_cast<std::size_t>(t)]));
    }
  }
  /// Same, for one raw row (one cell per field).
  void predict_one(std::span<const std::string_view> cells, std::span<float> out) const {
    predict_one(SparseRow{this->encode_raw(cells).rows, {}}, out);
  }

  /// Every row's weights of gate `branch` (a task index, or num_tasks() for the shared gate) of
  /// `level`: n × (experts it mixes), in ExpertLevel::members order. InvalidArgument when that
  /// gate does not exist (Shared-Bottom has none).
  RowMatrixXf gate_weights(const SparseFeatures& x, Index level, Index branch,
                           Index num_threads = 0) const {
    const auto& levels = net_.levels;
    if (level < 0 || level >= static_cast<Index>(levels.size()) || branch < 0 ||
        branch >= levels[static_cast<std::size_t>(level)].num_branches() ||
        !levels[static_cast<std::size_t>(level)].has_gate(branch)) {
      raise<InvalidArgument>("{}: no gate at level {}, branch {}", context_, level, branch);
    }
    detail::validate_features(context_, space_, x);
    const auto count =
        static_cast<Index>(levels[static_cast<std::size_t>(level)].members(branch).size());
    RowMatrixXf out(x.num_rows(), count);
    const RowsView view = RowsView::of(x);
    parallel_for_blocks(0, x.num_rows(), 1024, num_threads, [&](Index, Index lo, Index hi) {
      auto ws = net_.make_workspace(hi - lo);
      std::vector<float> z(static_cast<std::size_t>((hi - lo) * net_.num_outputs()));
      net_.forward(view, lo, hi, ws, z.data());
      out.middleRows(lo, hi - lo) = net_.gate_weights(ws, level, branch).transpose();
    });
    return out;
  }

  /// Utilisation and entropy of every gate on `x`.
  std::vector<GateReport> gate_report(const SparseFeatures& x, Index num_threads = 0) const {
    std::vector<GateReport> reports;
    for (Index l = 0; l < static_cast<Index>(net_.levels.size()); ++l) {
      const auto& level = net_.levels[static_cast<std::size_t>(l)];
      for (Index b = 0; b < level.num_branches(); ++b) {
        if (!level.has_gate(b)) continue;
        const RowMatrixXf g = gate_weights(x, l, b, num_threads);
        GateReport r;
        r.level = l;
        r.branch = b < num_tasks() ? tasks_[static_cast<std::size_t>(b)].name : "shared";
        r.utilisation.assign(static_cast<std::size_t>(g.cols()), 0.0);
        double entropy = 0.0;
        for (Index i = 0; i < g.rows(); ++i) {
          for (Index j = 0; j < g.cols(); ++j) {
            const double p = g(i, j);
            r.utilisation[static_cast<std::size_t>(j)] += p;
            if (p > 0.0) entropy -= p * std::log(p);
          }
        }
        const auto n = static_cast<double>(std::max<Index>(g.rows(), 1));
        for (auto& u : r.utilisation) u /= n;
        r.mean_entropy = entropy / n;
        r.normalised_entropy = r.mean_entropy / std::log(static_cast<double>(g.cols()));
        r.collapsed = *std::max_element(r.utilisation.begin(), r.utilisation.end()) >= 0.95;
        reports.push_back(std::move(r));
      }
    }
    return reports;
  }

  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, 1);
    out.write(context_);
    out.write(static_cast<std::uint64_t>(tasks_.size()));
    for (const auto& t : tasks_) {
      out.write(t.name);
      out.write(t.kind);
    }
    save_base(out);
  }

  static MultiTaskModel load(BinaryReader& in) {
    in.read_header(kTypeTag, 1);
    const auto context = in.read<std::string>("model kind");
    std::string_view kind = context == "SharedBottom" ? "SharedBottom"
                            : context == "Mmoe"       ? "Mmoe"
                            : context == "Ple"        ? "Ple"
                                                      : "";
    if (kind.empty()) raise<FormatError>("model file: {} kind '{}' is unknown", kTypeTag, context);
    const auto count = in.read<std::uint64_t>("number of tasks");
    if (count < 1 || count > 64) {
      raise<FormatError>("model file: {} has {} tasks, expected 1 to 64", kTypeTag, count);
    }
    std::vector<TaskSpec> tasks;
    for (std::uint64_t t = 0; t < count; ++t) {
      TaskSpec spec;
      spec.name = in.read<std::string>("task name");
      spec.kind = in.read<TaskKind>("task kind");
      if (static_cast<unsigned>(spec.kind) > 1) {
        raise<FormatError>("model file: {} task kind {}, expected 0 or 1", kTypeTag,
                           static_cast<unsigned>(spec.kind));
      }
      tasks.push_back(std::move(spec));
    }
    auto l = load_base(in, kTypeTag);
    if (l.net.levels.empty() || l.net.num_outputs() != static_cast<Index>(count)) {
      raise<FormatError>("model file: {} has {} towers for {} tasks", kTypeTag, l.net.num_outputs(),
                         count);
    }
    return MultiTaskModel(kind, std::move(l.space), std::move(l.net), std::move(l.history),
                          std::move(l.targets), std::move(tasks));
  }

  static MultiTaskModel from_training(std::string_view context, FeatureSpace space,
                                      MultiTaskNetwork net, TrainingHistory history,
                                      std::vector<double> targets, std::vector<TaskSpec> tasks) {
    return MultiTaskModel(context, std::move(space), std::move(net), std::move(history),
                          std::move(targets), std::move(tasks));
  }

 private:
  MultiTaskModel(std::string_view context, FeatureSpace space, MultiTaskNetwork net,
                 TrainingHistory history, std::vector<double> targets, std::vector<TaskSpec> tasks)
      : MultiTaskModelBase(context, std::move(space), std::move(net), std::move(history),
                           std::move(targets)),
        tasks_(std::move(tasks)) {}

  std::vector<TaskSpec> tasks_;
};

namespace detail {

/// The expert layout of a multi-task model.
struct ExpertLayout {
  Index levels = 1;
  Index shared_experts = 1;
  Index task_experts = 0;
  std::vector<Index> expert_hidden;
};

inline void validate_layout(std::string_view context, const ExpertLayout& layout,
                            const std::vector<double>& task_weights) {
  check_param(layout.levels >= 1 && layout.levels <= 16, context, "levels", layout.levels,
              "between 1 and 16");
  check_param(layout.shared_experts >= 0 && layout.shared_experts <= 64, context, "shared_experts",
              layout.shared_experts, "between 0 and 64");
  check_param(layout.task_experts >= 0 && layout.task_experts <= 64, context, "task_experts",
              layout.task_experts, "between 0 and 64");
  check_param(layout.shared_experts + layout.task_experts >= 1, context,
              "shared_experts + task_experts", layout.shared_experts + layout.task_experts,
              "at least 1");
  check_param(!layout.expert_hidden.empty() && layout.expert_hidden.size() <= 64, context,
              "number of expert layers", layout.expert_hidden.size(), "between 1 and 64");
  for (std::size_t l = 0; l < layout.expert_hidden.size(); ++l) {
    check_param(layout.expert_hidden[l] >= 1 && layout.expert_hidden[l] <= 65536, context,
                fmt::format("expert_hidden[{}]", l), layout.expert_hidden[l],
                "between 1 and 65536");
  }
  for (std::size_t t = 0; t < task_weights.size(); ++t) {
    check_param(std::isfinite(task_weights[t]) && task_weights[t] >= 0.0, context,
                fmt::format("task_weights[{}]", t), task_weights[t], "a finite value >= 0");
  }
}

/// The fit shared by Shared-Bottom, MMoE and PLE.
inline MultiTaskModel fit_multitask(std::string_view context, const ExpertLayout& layout, Index k,
                                    const std::vector<Index>& tower_hidden, float init_scale,
                                    const std::vector<double>& task_weights,
                                    const TrainingParams& training, const MultiTaskData& train,
                                    MultiTaskFitOptions<MultiTaskModel> options) {
  check_validation_tasks(context, train, options.validation);
  const Index T = train.num_tasks();
  if (!task_weights.empty() && static_cast<Index>(task_weights.size()) != T) {
    raise<InvalidArgument>("{}: task_weights has {} values, expected {} (one per task) or none",
                           context, task_weights.size(), T);
  }
  TaskObjective objective;
  std::vector<double> targets;
  for (Index t = 0; t < T; ++t) {
    const bool binary = train.task(t).kind == TaskKind::binary;
    objective.binary.push_back(binary ? 1 : 0);
    objective.task_weight.push_back(
        task_weights.empty() ? 1.0 : task_weights[static_cast<std::size_t>(t)]);
    const double mean = train.mean_label(t);
    targets.push_back(binary ? logit(std::clamp(mean, 1e-6, 1.0 - 1e-6)) : mean);
  }
  const FeatureSpace& space = train.space();
  MultiTaskNetwork net;
  if (options.initial != nullptr) {
    const auto& initial = *options.initial;
    bool same = initial.space() == space && initial.embedding_dim() == k &&
                initial.num_tasks() == T &&
                static_cast<Index>(initial.network().levels.size()) == layout.levels;
    for (Index t = 0; same && t < T; ++t)
      same = initial.tasks()[static_cast<std::size_t>(t)].name == train.task(t).name;
    if (!same) {
      raise<ShapeMismatch>(
          "{}: the initial model has a different feature space, tasks or architecture than this "
          "fit",
          context);
    }
    net = initial.network();
  } else {
    net = make_embedding_network(space, k, init_scale, training);
    Index width = space.num_fields() * k;
    for (Index l = 0; l < layout.levels; ++l) {
      ExpertLevel level;
      level.first = l == 0;
      level.num_tasks = T;
      level.task_experts = layout.task_experts;
      level.shared_experts = layout.shared_experts;
      level.shared_output = l + 1 < layout.levels && layout.shared_experts > 0;
      for (Index j = 0; j < level.num_experts(); ++j) {
        level.experts.push_back(Mlp::expert(
            width, layout.expert_hidden,
            part_seed(training.seed, 0x1000 + static_cast<std::uint64_t>(l * 256 + j))));
      }
      for (Index b = 0; b < level.num_branches(); ++b) {
        DenseParameter gate;
        gate.decay = false;
        const auto count = static_cast<Index>(level.members(b).size());
        if (count > 1) {
          // nn.Linear(width, count, bias=False): U(−1/√width, 1/√width).
          Rng rng(part_seed(training.seed, 0x2000 + static_cast<std::uint64_t>(l * 256 + b)),
                  stream::dense_init);
          const double bound = 1.0 / std::sqrt(static_cast<double>(width));
          gate.value.resize(count, width);
          for (Index j = 0; j < width; ++j)
            for (Index i = 0; i < count; ++i)
              gate.value(i, j) = static_cast<float>(bound * (2.0 * rng.uniform() - 1.0));
        }
        level.gates.push_back(std::move(gate));
      }
      width = layout.expert_hidden.back();
      net.levels.push_back(std::move(level));
    }
    for (Index t = 0; t < T; ++t) {
      net.towers.emplace_back(width, tower_hidden,
                              part_seed(training.seed, 0x300 + static_cast<std::uint64_t>(t)));
    }
    net.finalize();
    center_towers(net, train.features(), targets, training.num_threads);
  }
  std::optional<TrainingSet> validation;
  if (options.validation != nullptr) validation = options.validation->training_set();
  TrainingHistory history = train_network(
      net, train.training_set(), validation ? &*validation : nullptr, training, context, objective,
      options.initial != nullptr ? &options.initial->history() : nullptr);
  return MultiTaskModel::from_training(context, space, std::move(net), std::move(history),
                                       std::move(targets), train.tasks());
}

}  // namespace detail

namespace detail {

/// The estimator shared by Shared-Bottom, MMoE and PLE; `Tag` names the model and maps its
/// Params to an expert layout (as DeepClickModel<Tag> does for the deep click models).
template <class Tag>
class MultiTaskEstimator {
 public:
  using Params = typename Tag::Params;
  using Model = MultiTaskModel;
  static constexpr std::string_view kContext = Tag::kContext;

  explicit MultiTaskEstimator(Params params = {}) : params_(std::move(params)) {
    validate_towers(kContext, params_.embedding_dim, params_.tower_hidden, "tower_hidden",
                    params_.init_scale, params_.training);
    validate_layout(kContext, Tag::layout(params_), params_.task_weights);
  }
  const Params& params() const { return params_; }

  Model fit(const MultiTaskData& train, MultiTaskFitOptions<Model> options = {}) const {
    return fit_multitask(kContext, Tag::layout(params_), params_.embedding_dim,
                         params_.tower_hidden, params_.init_scale, params_.task_weights,
                         params_.training, train, options);
  }

 private:
  Params params_;
};

}  // namespace detail

/// Shared-Bottom: one expert MLP (the bottom) under one tower per task.
struct SharedBottomParams {
  Index embedding_dim = 16;
  std::vector<Index> bottom_hidden = {256, 128};
  std::vector<Index> tower_hidden = {128};
  float init_scale = 0.01f;
  std::vector<double> task_weights = {};  ///< λ_t (empty: 1 each)
  TrainingParams training = {};
};

struct SharedBottomTag {
  using Params = SharedBottomParams;
  static constexpr std::string_view kContext = "SharedBottom";
  static detail::ExpertLayout layout(const Params& p) { return {1, 1, 0, p.bottom_hidden}; }
};
using SharedBottom = detail::MultiTaskEstimator<SharedBottomTag>;

/// MMoE: `num_experts` shared experts (the layout's shared experts), one softmax gate per task.
struct MmoeParams {
  Index embedding_dim = 16;
  Index num_experts = 4;
  std::vector<Index> expert_hidden = {256, 128};
  std::vector<Index> tower_hidden = {128};
  float init_scale = 0.01f;
  std::vector<double> task_weights = {};
  TrainingParams training = {};
};

struct MmoeTag {
  using Params = MmoeParams;
  static constexpr std::string_view kContext = "Mmoe";
  static detail::ExpertLayout layout(const Params& p) {
    check_param(p.num_experts >= 1 && p.num_experts <= 64, kContext, "num_experts", p.num_experts,
                "between 1 and 64");
    return {1, p.num_experts, 0, p.expert_hidden};
  }
};
using Mmoe = detail::MultiTaskEstimator<MmoeTag>;

/// PLE: `levels` CGC levels of `task_experts` experts per task and `shared_experts` shared ones.
struct PleParams {
  Index embedding_dim = 16;
  Index levels = 2;
  Index shared_experts = 2;
  Index task_experts = 2;
  std::vector<Index> expert_hidden = {256, 128};
  std::vector<Index> tower_hidden = {128};
  float init_scale = 0.01f;
  std::vector<double> task_weights = {};
  TrainingParams training = {};
};

struct PleTag {
  using Params = PleParams;
  static constexpr std::string_view kContext = "Ple";
  static detail::ExpertLayout layout(const Params& p) {
    return {p.levels, p.shared_experts, p.task_experts, p.expert_hidden};
  }
};
using Ple = detail::MultiTaskEstimator<PleTag>;

}  // namespace tailor::ctr
