// tailor/ctr/linear.hpp — sparse logistic regression over multi-field features, the CTR
// baseline: z(x) = b + Σ_j w_j x_j.
//
// Two solvers:
//  * stochastic (default): the one mini-batch trainer with FTRL-Proximal (McMahan et al., KDD
//    2013; per-coordinate rates, L1 sparsity), Adagrad, Adam or SGD; loss = mean BCE;
//  * lbfgs: the exact minimiser of the penalised objective
//      f(w, b) = Σ_i s_i [softplus(z_i) − y_i z_i] + ½ l2 ‖w‖²     (intercept not penalised,
//    s_i the sample weights), by full-batch L-BFGS (Nocedal & Wright, Numerical Optimization,
//    2nd ed., Algorithms 7.4–7.5) with a backtracking Armijo line search, in double precision.
//    Its gradient sums rows in 16 fixed chunks, so it is bit-identical for every num_threads.
// Cost: O(nnz) per epoch or per L-BFGS gradient; memory O(table rows).
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/detail/click_model.hpp"
#include "tailor/ctr/detail/trainer.hpp"
#include "tailor/ctr/losses.hpp"
#include "tailor/ctr/sparse_features.hpp"

namespace tailor::ctr {

/// The linear model's parameters and its forward/backward (a Network for the trainer).
class LinearNetwork {
 public:
  EmbeddingTable weights;  ///< rows × 1: w
  DenseParameter bias;     ///< 1 × 1: b

  struct Workspace {};

  Index num_tables() const { return 1; }
  EmbeddingTable& table(Index) { return weights; }
  const EmbeddingTable& table(Index) const { return weights; }
  Index num_dense() const { return 1; }
  DenseParameter& dense(Index) { return bias; }
  const DenseParameter& dense(Index) const { return bias; }
  Workspace make_workspace(Index) const { return {}; }

  void forward(const RowsView& x, Index lo, Index hi, Workspace&, float* out) const {
    const float b = bias.value(0, 0);
    for (Index i = lo; i < hi; ++i) {
      float z = b;
      for (auto e = x.row_ptr[i]; e < x.row_ptr[i + 1]; ++e) {
        z += weights.value(static_cast<Index>(x.index[e]), 0) * x.value_at(e);
      }
      out[i - lo] = z;
    }
  }

  void backward(const RowsView& x, Index lo, Index hi, Workspace&, const float* dlogits,
                BlockGradient& g) const {
    float& db = g.dense[0](0, 0);
    for (Index i = lo; i < hi; ++i) {
      const float gi = dlogits[i - lo];
      db += gi;
      for (auto e = x.row_ptr[i]; e < x.row_ptr[i + 1]; ++e) *g.row(0, e, 1) = gi * x.value_at(e);
    }
  }

  float logit_one(std::span<const std::uint32_t> index, std::span<const float> value) const {
    float z = bias.value(0, 0);
    for (std::size_t e = 0; e < index.size(); ++e) {
      z += weights.value(index[e], 0) * (value.empty() ? 1.0f : value[e]);
    }
    return z;
  }
};

enum class LogisticSolver : std::uint8_t { stochastic = 0, lbfgs = 1 };

/// Settings of the exact (L-BFGS) solver.
struct LbfgsParams {
  double l2 = 1.0;  ///< ½ l2 ‖w‖² on the weights (not the intercept)
  Index max_iterations = 1000;
  Index memory = 10;                 ///< (s, y) pairs kept
  double gradient_tolerance = 1e-8;  ///< stop when ‖∇f‖∞ ≤ tol · max(1, |f|)
};

class SparseLogisticRegressionModel;

/// Configuration of SparseLogisticRegression. The stochastic solver defaults to FTRL-Proximal
/// (alpha 0.05, beta 1, no L1) over 1 epoch in batches of 4096.
struct SparseLogisticRegressionParams {
  LogisticSolver solver = LogisticSolver::stochastic;
  TrainingParams training = {.optimizer = {.kind = OptimizerKind::ftrl, .learning_rate = 0.05f}};
  LbfgsParams lbfgs = {};
  bool base_rate_bias = true;  ///< start the bias at logit(click rate)
};

/// Sparse logistic regression: Params → const fit → immutable model.
class SparseLogisticRegression {
 public:
  using Params = SparseLogisticRegressionParams;
  using Model = SparseLogisticRegressionModel;
  static constexpr std::string_view kContext = "SparseLogisticRegression";

  explicit SparseLogisticRegression(Params params = {}) : params_(std::move(params)) {
    const auto solver = static_cast<unsigned>(params_.solver);
    check_param(solver <= 1, kContext, "solver", solver, "stochastic or lbfgs");
    validate(params_.training, kContext);
    check_param(std::isfinite(params_.lbfgs.l2) && params_.lbfgs.l2 >= 0.0, kContext, "lbfgs.l2",
                params_.lbfgs.l2, "a finite value >= 0");
    check_param(params_.lbfgs.max_iterations >= 1 && params_.lbfgs.max_iterations <= 1000000,
                kContext, "lbfgs.max_iterations", params_.lbfgs.max_iterations,
                "between 1 and 1000000");
    check_param(params_.lbfgs.memory >= 1 && params_.lbfgs.memory <= 1000, kContext, "lbfgs.memory",
                params_.lbfgs.memory, "between 1 and 1000");
    check_param(
        std::isfinite(params_.lbfgs.gradient_tolerance) && params_.lbfgs.gradient_tolerance > 0.0,
        kContext, "lbfgs.gradient_tolerance", params_.lbfgs.gradient_tolerance,
        "a finite value > 0");
  }

  const Params& params() const { return params_; }

  Model fit(const CtrData& train, FitOptions<Model> options = {}) const;

 private:
  Params params_;
};

/// What the L-BFGS solver reports.
struct LbfgsReport {
  double objective = 0.0;      ///< f at the solution
  double gradient_norm = 0.0;  ///< ‖∇f‖∞ at the solution
  Index iterations = 0;
  bool converged = false;
};

/// A fitted sparse logistic regression. Immutable; predict and predict_one are const.
class SparseLogisticRegressionModel : public detail::ClickModel<LinearNetwork> {
 public:
  static constexpr std::string_view kTypeTag = "ctr::SparseLogisticRegression";

  float intercept() const { return net_.bias.value(0, 0); }
  /// One weight per table row.
  Eigen::Map<const Eigen::VectorXf> weights() const {
    return {net_.weights.value.data(), net_.weights.value.rows()};
  }
  /// Table rows whose weight is exactly 0 (FTRL with L1 zeroes coordinates).
  Index num_zero_weights() const {
    return static_cast<Index>((net_.weights.value.array() == 0.0f).count());
  }
  /// The L-BFGS solver's report (zeros for the stochastic solver).
  const LbfgsReport& solver_report() const { return report_; }

  float predict_one(SparseRow row) const {
    return static_cast<float>(sigmoid(net_.logit_one(row.index, row.value)));
  }

  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, 1);
    save_common(out);
    out.write(net_.bias.value);
    out.write(net_.weights.value);
    out.write(report_.objective);
    out.write(report_.gradient_norm);
    out.write(static_cast<std::int64_t>(report_.iterations));
    out.write(report_.converged);
    save_state(out);
  }

  static SparseLogisticRegressionModel load(BinaryReader& in) {
    in.read_header(kTypeTag, 1);
    FeatureSpace space = FeatureSpace::load(in);
    const auto base_rate = in.read<double>("base_rate");
    TrainingHistory history = TrainingHistory::load(in);
    LinearNetwork net;
    net.bias.value = in.read<Eigen::MatrixXf>("bias");
    net.bias.decay = false;
    net.weights.value = in.read<RowMatrixXf>("weights");
    if (net.bias.value.size() != 1 || net.weights.value.rows() != space.num_rows() ||
        net.weights.value.cols() != 1) {
      raise<FormatError>("model file: {} parameter shapes do not match its feature space ({} rows)",
                         kTypeTag, space.num_rows());
    }
    LbfgsReport report;
    report.objective = in.read<double>("objective");
    report.gradient_norm = in.read<double>("gradient_norm");
    report.iterations = static_cast<Index>(in.read<std::int64_t>("iterations"));
    report.converged = in.read<bool>("converged");
    load_state(in, history, net);
    return SparseLogisticRegressionModel(std::move(space), std::move(net), std::move(history),
                                         base_rate, report);
  }

 private:
  friend class SparseLogisticRegression;
  static constexpr std::string_view kContext = "SparseLogisticRegressionModel";
  SparseLogisticRegressionModel(FeatureSpace space, LinearNetwork net, TrainingHistory history,
                                double base_rate, LbfgsReport report)
      : ClickModel(kContext, std::move(space), std::move(net), std::move(history), base_rate),
        report_(report) {}

  LbfgsReport report_;
};

namespace detail {

/// f(β) and ∇f for θ = (w_0 … w_{R−1}, b): rows in 16 fixed chunks, chunk sums added in order.
class LogisticObjective {
 public:
  LogisticObjective(const CtrData& data, double l2, Index num_threads)
      : data_(data), l2_(l2), num_threads_(num_threads) {
    const Index n = data.num_rows();
    chunk_ = std::max<Index>(1, (n + kChunks - 1) / kChunks);
    const Index chunks = num_blocks(0, n, chunk_);
    partial_gradient_.assign(static_cast<std::size_t>(chunks), Eigen::VectorXd());
    partial_value_.assign(static_cast<std::size_t>(chunks), 0.0);
  }

  double operator()(const Eigen::VectorXd& theta, Eigen::VectorXd& gradient) {
    const SparseFeatures& x = data_.features();
    const Index rows = data_.space().num_rows();
    const double b = theta[rows];
    parallel_for_blocks(0, data_.num_rows(), chunk_, num_threads_,
                        [&](Index c, Index lo, Index hi) {
                          auto& g = partial_gradient_[static_cast<std::size_t>(c)];
                          g.setZero(rows + 1);
                          double value = 0.0;
                          for (Index i = lo; i < hi; ++i) {
                            double z = b;
                            for (auto e = x.row_ptr[static_cast<std::size_t>(i)];
                                 e < x.row_ptr[static_cast<std::size_t>(i) + 1]; ++e) {
                              z += theta[x.index[static_cast<std::size_t>(e)]] * x.value_at(e);
                            }
                            const double s = data_.weight(i);
                            const double y = data_.click()[i];
                            value += s * bce_with_logits(z, y);
                            const double dz = s * bce_with_logits_gradient(z, y);
                            g[rows] += dz;
                            for (auto e = x.row_ptr[static_cast<std::size_t>(i)];
                                 e < x.row_ptr[static_cast<std::size_t>(i) + 1]; ++e) {
                              g[x.index[static_cast<std::size_t>(e)]] += dz * x.value_at(e);
                            }
                          }
                          partial_value_[static_cast<std::size_t>(c)] = value;
                        });
    gradient = partial_gradient_[0];
    double f = partial_value_[0];
    for (std::size_t c = 1; c < partial_gradient_.size(); ++c) {
      gradient += partial_gradient_[c];
      f += partial_value_[c];
    }
    const auto w = theta.head(rows);
    gradient.head(rows) += l2_ * w;
    return f + 0.5 * l2_ * w.squaredNorm();
  }

 private:
  static constexpr Index kChunks = 16;
  const CtrData& data_;
  double l2_;
  Index num_threads_;
  Index chunk_ = 1;
  std::vector<Eigen::VectorXd> partial_gradient_;
  std::vector<double> partial_value_;
};

/// Minimises `objective` from theta by L-BFGS (two-loop recursion, Armijo backtracking).
template <class Objective>
LbfgsReport minimize_lbfgs(Objective& objective, Eigen::VectorXd& theta, const LbfgsParams& p) {
  LbfgsReport report;
  Eigen::VectorXd gradient;
  double f = objective(theta, gradient);
  std::deque<Eigen::VectorXd> s_history;
  std::deque<Eigen::VectorXd> y_history;
  std::deque<double> rho_history;
  Eigen::VectorXd direction;
  Eigen::VectorXd candidate;
  Eigen::VectorXd candidate_gradient;
  std::vector<double> alpha(static_cast<std::size_t>(p.memory));
  for (Index iter = 0; iter < p.max_iterations; ++iter) {
    report.gradient_norm = gradient.lpNorm<Eigen::Infinity>();
    if (report.gradient_norm <= p.gradient_tolerance * std::max(1.0, std::abs(f))) {
      report.converged = true;
      break;
    }
    // Two-loop recursion: direction = −H ∇f with H₀ = (sᵀy / yᵀy) I.
    direction = -gradient;
    const auto m = s_history.size();
    for (std::size_t j = m; j-- > 0;) {
      alpha[j] = rho_history[j] * s_history[j].dot(direction);
      direction -= alpha[j] * y_history[j];
    }
    if (m > 0) {
      direction *= s_history.back().dot(y_history.back()) / y_history.back().squaredNorm();
    } else {
      direction /= std::max(1.0, gradient.norm());
    }
    for (std::size_t j = 0; j < m; ++j) {
      const double beta = rho_history[j] * y_history[j].dot(direction);
      direction += (alpha[j] - beta) * s_history[j];
    }
    double slope = gradient.dot(direction);
    if (!(slope < 0.0)) {  // not a descent direction: restart from steepest descent
      s_history.clear();
      y_history.clear();
      rho_history.clear();
      direction = -gradient / std::max(1.0, gradient.norm());
      slope = gradient.dot(direction);
    }
    // Backtracking line search with the Armijo condition f(θ + t d) ≤ f + 1e-4 t ∇fᵀd.
    double step = 1.0;
    double f_new = 0.0;
    bool accepted = false;
    for (int tries = 0; tries < 60; ++tries) {
      candidate = theta + step * direction;
      f_new = objective(candidate, candidate_gradient);
      if (std::isfinite(f_new) && f_new <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    report.iterations = iter + 1;
    if (!accepted) break;  // no progress possible at double precision
    Eigen::VectorXd s = candidate - theta;
    Eigen::VectorXd y = candidate_gradient - gradient;
    const double sy = s.dot(y);
    theta.swap(candidate);
    gradient.swap(candidate_gradient);
    const double f_old = f;
    f = f_new;
    if (sy > 1e-12 * s.norm() * y.norm()) {  // keep the curvature pair only when sᵀy > 0
      if (static_cast<Index>(s_history.size()) == p.memory) {
        s_history.pop_front();
        y_history.pop_front();
        rho_history.pop_front();
      }
      s_history.push_back(std::move(s));
      y_history.push_back(std::move(y));
      rho_history.push_back(1.0 / sy);
    }
    if (f_old - f <= 1e-15 * std::max(1.0, std::abs(f))) {
      report.gradient_norm = gradient.lpNorm<Eigen::Infinity>();
      report.converged = report.gradient_norm <= p.gradient_tolerance * std::max(1.0, std::abs(f));
      break;
    }
  }
  report.objective = f;
  report.gradient_norm = gradient.lpNorm<Eigen::Infinity>();
  return report;
}

}  // namespace detail

inline SparseLogisticRegressionModel SparseLogisticRegression::fit(
    const CtrData& train, FitOptions<Model> options) const {
  const FeatureSpace& space = train.space();
  const Index rows = space.num_rows();
  LinearNetwork net;
  if (options.initial != nullptr) {
    if (!(options.initial->space() == space)) {
      raise<ShapeMismatch>("{}: the initial model has a different feature space than this fit",
                           kContext);
    }
    net = options.initial->network();
  } else {
    net.weights.value.setZero(rows, 1);
    net.bias.value.setConstant(
        1, 1, params_.base_rate_bias ? static_cast<float>(logit(train.base_rate())) : 0.0f);
  }
  net.bias.decay = false;
  TrainingHistory history;
  LbfgsReport report;
  if (params_.solver == LogisticSolver::lbfgs) {
    Eigen::VectorXd theta(rows + 1);
    theta.head(rows) = net.weights.value.col(0).cast<double>();
    theta[rows] = net.bias.value(0, 0);
    detail::LogisticObjective objective(train, params_.lbfgs.l2, params_.training.num_threads);
    report = detail::minimize_lbfgs(objective, theta, params_.lbfgs);
    net.weights.value.col(0) = theta.head(rows).cast<float>();
    net.bias.value(0, 0) = static_cast<float>(theta[rows]);
    if (options.validation != nullptr) {
      detail::check_validation_space(kContext, train.space(),
                                     options.validation ? &options.validation->space() : nullptr);
      EpochRecord record;
      record.train_loss = report.objective;
      detail::evaluate(net, *options.validation, params_.training.num_threads, record);
      history.epochs.push_back(record);
    }
  } else {
    history = train_network(net, train, options.validation, params_.training, kContext,
                            options.initial != nullptr ? &options.initial->history() : nullptr);
  }
  return Model(space, std::move(net), std::move(history), train.base_rate(), report);
}

}  // namespace tailor::ctr
