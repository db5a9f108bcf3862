// tailor/dtr/q_learning.hpp — Q-learning for dynamic treatment regimes by backward induction
// (Watkins 1989; Murphy 2005; Chakraborty & Moodie 2013, ch. 3).
//
// Stage K: Q_K(h, a) fitted to the last reward R_K. Stage k < K: Q_k fitted to the pseudo-outcome
// R_k + max_a Q̂_{k+1}(H_{k+1}, a) (the value of acting optimally from stage k + 1 on). The
// learned regime takes argmax_a Q̂_k(H_k, a) at each stage (ties to the lowest action).
//  * LinearQLearning: linear working models with action interactions (detail/linear_stage.hpp),
//    least squares or ridge (learn::Ridge's estimator), with coefficients and sandwich standard
//    errors per stage. The
//    earlier stages' errors treat the pseudo-outcome as given (they omit the variability of the
//    later stages' fits, as DTRreg's default does; under non-regularity — a contrast near zero
//    for many units — no simple interval is valid, Chakraborty, Laber & Zhao 2013).
//  * QLearning<R>: any regressor per stage and action (forests, boosting) for nonparametric
//    Q-functions; Q̂_k(·, a) is fitted on the rows that took action a.
// The same backward induction with the pseudo-outcome R_k + Q̂_{k+1}(H_{k+1}, d_{k+1}(H_{k+1}))
// evaluates a given regime d (fit_regime_q_functions): its Q-functions augment the AIPW value.
// Complexity (linear): O(n · p_d²) per stage, p_d = (1 + p_main) + (m − 1)(1 + p_contrast).
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/sample_mean.hpp"
#include "tailor/core/types.hpp"
#include "tailor/dtr/detail/linear_stage.hpp"
#include "tailor/dtr/sequential_data.hpp"
#include "tailor/learn/concepts.hpp"
#include "tailor/learn/regression_forest.hpp"

namespace tailor::dtr {

namespace detail {

/// argmax per row of an n × m matrix (ties to the lowest column).
inline Eigen::VectorXi row_argmax(const Matrix& q) {
  Eigen::VectorXi a(q.rows());
  for (Index i = 0; i < q.rows(); ++i) {
    Index best = 0;
    for (Index j = 1; j < q.cols(); ++j) {
      if (q(i, j) > q(i, best)) best = j;
    }
    a[i] = static_cast<int>(best);
  }
  return a;
}

/// Q-values of `q` (n × m) at the actions `a`.
inline Vector pick(const Matrix& q, const Eigen::VectorXi& a) {
  Vector v(q.rows());
  for (Index i = 0; i < q.rows(); ++i) v[i] = q(i, a[i]);
  return v;
}

/// Backward induction: fit_stage(k, target) returns a stage model with q_values(H) (n × m);
/// the next stage's target is R_{k−1} + next_value(k, q_values(H_k)).
template <class FitStage, class NextValue>
auto backward_induction(const SequentialData& data, FitStage&& fit_stage, NextValue&& next_value) {
  const Index K = data.num_stages();
  using StageModel = decltype(fit_stage(Index{0}, Vector()));
  std::vector<StageModel> stages;
  stages.reserve(static_cast<std::size_t>(K));
  Vector target = data.rewards().col(K - 1);
  std::vector<StageModel> reversed;
  for (Index k = K - 1; k >= 0; --k) {
    reversed.push_back(fit_stage(k, target));
    if (k > 0) {
      const Matrix q = reversed.back().q_values(data.stage(k).history);
      target = data.rewards().col(k - 1) + next_value(k, q);
    }
  }
  for (auto it = reversed.rbegin(); it != reversed.rend(); ++it) stages.push_back(std::move(*it));
  return stages;
}

}  // namespace detail

/// A fitted linear Q-function of one stage.
class LinearQStage {
 public:
  LinearQStage(detail::StageColumns columns, Index num_actions, Vector coefficients,
               Matrix covariance)
      : columns_(std::move(columns)),
        num_actions_(num_actions),
        coefficients_(std::move(coefficients)),
        covariance_(std::move(covariance)) {}

  /// Q̂(h, a) for every row and action: n × m.
  Matrix q_values(const Matrix& history) const {
    const Index pm = static_cast<Index>(columns_.main.size()) + 1;
    const Index pc = static_cast<Index>(columns_.contrast.size()) + 1;
    Matrix q(history.rows(), num_actions_);
    q.col(0) = detail::linear_predictor(history, columns_.main, coefficients_.head(pm));
    for (Index a = 1; a < num_actions_; ++a) {
      q.col(a) = q.col(0) + detail::linear_predictor(history, columns_.contrast,
                                                     coefficients_.segment(pm + (a - 1) * pc, pc));
    }
    return q;
  }
  /// Q̂(h_i, a_i) per row, in one pass over the history (no n × m matrix).
  Vector q_at(const Matrix& history, const Eigen::VectorXi& action) const {
    const Index pm = static_cast<Index>(columns_.main.size()) + 1;
    const Index pc = static_cast<Index>(columns_.contrast.size()) + 1;
    const Index n = history.rows();
    Vector out(n);
    for (Index i = 0; i < n; ++i) {
      double v = coefficients_[0];
      for (Index j = 1; j < pm; ++j) {
        v += coefficients_[j] * history(i, columns_.main[static_cast<std::size_t>(j - 1)]);
      }
      const int a = action[i];
      if (a >= 1) {
        const Index o = pm + (a - 1) * pc;
        v += coefficients_[o];
        for (Index j = 1; j < pc; ++j) {
          v +=
              coefficients_[o + j] * history(i, columns_.contrast[static_cast<std::size_t>(j - 1)]);
        }
      }
      out[i] = v;
    }
    return out;
  }
  /// (β, ψ_1, …, ψ_{m−1}): main effect on [1, h_main], then each action's contrast on
  /// [1, h_contrast].
  const Vector& coefficients() const { return coefficients_; }
  const Matrix& covariance() const { return covariance_; }
  Estimate coefficient(Index j) const {
    check_param(j >= 0 && j < coefficients_.size(), "LinearQStage::coefficient", "j", j,
                fmt::format("between 0 and {}", coefficients_.size() - 1));
    return {coefficients_[j], std::sqrt(std::max(0.0, covariance_(j, j)))};
  }
  Index num_actions() const { return num_actions_; }
  const detail::StageColumns& columns() const { return columns_; }

 private:
  detail::StageColumns columns_;
  Index num_actions_ = 2;
  Vector coefficients_;
  Matrix covariance_;
};

/// Fitted Q-functions of every stage (linear or nonparametric), the regime they define and its
/// plug-in value.
template <class StageModel>
class QModel {
 public:
  QModel(std::vector<StageModel> stages, Estimate value)
      : stages_(std::make_shared<const std::vector<StageModel>>(std::move(stages))),
        value_(value) {}

  Index num_stages() const { return static_cast<Index>(stages_->size()); }
  const StageModel& stage(Index k) const {
    check_param(k >= 0 && k < num_stages(), "QModel::stage", "k", k,
                fmt::format("between 0 and {}", num_stages() - 1));
    return (*stages_)[static_cast<std::size_t>(k)];
  }
  /// Q̂_k(h, a), n × m.
  Matrix q_values(Index k, const Matrix& history) const { return stage(k).q_values(history); }
  /// Q̂_k(h_i, a_i) per row (one pass when the stage model offers q_at).
  Vector q_at(Index k, const Matrix& history, const Eigen::VectorXi& action) const {
    if constexpr (requires(const StageModel& m) { m.q_at(history, action); }) {
      return stage(k).q_at(history, action);
    } else {
      return detail::pick(stage(k).q_values(history), action);
    }
  }
  /// argmax_a Q̂_k(h, a).
  Eigen::VectorXi decide(Index k, const Matrix& history) const {
    return detail::row_argmax(q_values(k, history));
  }
  /// The learned regime (shares the fitted stages).
  Regime regime() const {
    std::vector<StageRule> rules;
    for (Index k = 0; k < num_stages(); ++k) {
      rules.emplace_back([stages = stages_, k](const Matrix& h) {
        return detail::row_argmax((*stages)[static_cast<std::size_t>(k)].q_values(h));
      });
    }
    return Regime(std::move(rules));
  }
  /// Plug-in value: the training mean of max_a Q̂_1(H_1, a) (optimistic in-sample; its standard
  /// error ignores the fit).
  Estimate value() const { return value_; }

 private:
  std::shared_ptr<const std::vector<StageModel>> stages_;
  Estimate value_;
};

using LinearQModel = QModel<LinearQStage>;

namespace detail {

/// Linear Q-functions by backward induction. next_action(k, Q̂_k(H_k, ·)) picks the action whose
/// value is carried back from stage k (argmax, or the regime's action): the pseudo-outcome of
/// stage k − 1 is R_{k−1} + Q̂_k(H_k, a*), and at k = 0 the plug-in value is the mean of
/// Q̂_1(H_1, a*).
///
/// Covariance: the stages' least-squares equations stacked, U_k = D_kᵀ(Y_k(θ_{k+1}) − D_kθ_k),
/// where the pseudo-outcome depends on the next stage's coefficients through
/// ∂Y_k/∂θ_{k+1} = G_{k+1} (the next stage's design at a*). The summed Jacobian is block upper
/// bidiagonal (−(D_kᵀD_k + αI) on the diagonal, D_kᵀG_{k+1} above it), so each stage's errors
/// include the variability of the later fits. The derivative exists where a* is unique: under
/// exact ties (non-regularity) the errors are not valid.
template <class NextAction>
LinearQModel fit_linear_q(const SequentialData& data, const std::vector<StageDesign>& designs,
                          double ridge, NextAction&& next_action, std::string_view context) {
  const Index K = data.num_stages();
  std::vector<StageColumns> cols(static_cast<std::size_t>(K));
  std::vector<Matrix> design(static_cast<std::size_t>(K)), next_design(static_cast<std::size_t>(K));
  std::vector<Vector> coefficients(static_cast<std::size_t>(K)),
      residual(static_cast<std::size_t>(K));
  std::vector<Matrix> gram(static_cast<std::size_t>(K));
  Vector target = data.rewards().col(K - 1);
  Vector first_value;
  for (Index k = K - 1; k >= 0; --k) {
    const auto u = static_cast<std::size_t>(k);
    const Stage& s = data.stage(k);
    cols[u] = resolve_design(designs, K, k, s.history.cols(), context);
    design[u] = q_design(s.history, s.action, s.num_actions, cols[u]);
    coefficients[u] = least_squares(design[u], target, ridge, gram[u]);
    residual[u] = target - design[u] * coefficients[u];
    const LinearQStage stage(cols[u], s.num_actions, coefficients[u], Matrix());
    const Matrix q = stage.q_values(s.history);
    const Eigen::VectorXi chosen = next_action(k, q);
    const Vector carried = pick(q, chosen);
    if (k > 0) {
      // G_k, the design at the carried actions, for the previous stage's Jacobian block.
      next_design[u] = q_design(s.history, chosen, s.num_actions, cols[u]);
      target = data.rewards().col(k - 1) + carried;
    } else {
      first_value = carried;
    }
  }
  // The stacked sandwich.
  std::vector<Index> offset(static_cast<std::size_t>(K) + 1, 0);
  for (Index k = 0; k < K; ++k) {
    offset[static_cast<std::size_t>(k) + 1] =
        offset[static_cast<std::size_t>(k)] + design[static_cast<std::size_t>(k)].cols();
  }
  const Index total = offset.back();
  Matrix jacobian = Matrix::Zero(total, total);
  for (Index k = 0; k < K; ++k) {
    const auto u = static_cast<std::size_t>(k);
    const Index o = offset[u], p = design[u].cols();
    jacobian.block(o, o, p, p) = -gram[u];
    if (k + 1 < K) {
      jacobian.block(o, offset[u + 1], p, design[u + 1].cols()) =
          design[u].transpose() * next_design[u + 1];
    }
  }
  // Meat Σ_i U_i U_iᵀ from the stages' scores D_k ∘ e_k (the designs scaled in place).
  for (Index k = 0; k < K; ++k) {
    const auto u = static_cast<std::size_t>(k);
    design[u].array().colwise() *= residual[u].array();
  }
  Matrix meat(total, total);
  for (Index k = 0; k < K; ++k) {
    const auto u = static_cast<std::size_t>(k);
    for (Index l = 0; l <= k; ++l) {
      const auto v = static_cast<std::size_t>(l);
      meat.block(offset[u], offset[v], design[u].cols(), design[v].cols()).noalias() =
          design[u].transpose() * design[v];
      if (l != k) {
        meat.block(offset[v], offset[u], design[v].cols(), design[u].cols()) =
            meat.block(offset[u], offset[v], design[u].cols(), design[v].cols()).transpose();
      }
    }
  }
  const Matrix covariance = sandwich(jacobian, meat, context);
  std::vector<LinearQStage> stages;
  for (Index k = 0; k < K; ++k) {
    const auto u = static_cast<std::size_t>(k);
    stages.emplace_back(std::move(cols[u]), data.stage(k).num_actions, std::move(coefficients[u]),
                        covariance.block(offset[u], offset[u], design[u].cols(), design[u].cols()));
  }
  return LinearQModel(std::move(stages), tailor::mean_estimate(first_value));
}

}  // namespace detail

/// Q-learning with linear working models.
class LinearQLearning {
 public:
  struct Params {
    /// Columns per stage (empty: every column of H_k in the main effect and the contrasts).
    std::vector<StageDesign> stages = {};
    /// Ridge penalty on the non-intercept coefficients (0 = least squares).
    double ridge = 0.0;
  };

  LinearQLearning() : LinearQLearning(Params{}) {}
  explicit LinearQLearning(Params params) : params_(std::move(params)) {
    check_param(params_.ridge >= 0.0 && std::isfinite(params_.ridge), "LinearQLearning", "ridge",
                params_.ridge, "a finite value >= 0");
  }

  LinearQModel fit(const SequentialData& data) const {
    return detail::fit_linear_q(
        data, params_.stages, params_.ridge,
        [](Index, const Matrix& q) { return detail::row_argmax(q); }, "LinearQLearning");
  }

 private:
  Params params_;
};

/// Linear Q-functions of a given regime d (policy evaluation): pseudo-outcome
/// R_k + Q̂_{k+1}(H_{k+1}, d_{k+1}(H_{k+1})); value() is the mean of Q̂_1(H_1, d_1(H_1)).
inline LinearQModel fit_regime_q_functions(const SequentialData& data, const Regime& regime,
                                           const std::vector<StageDesign>& designs = {},
                                           double ridge = 0.0) {
  check_param(regime.num_stages() == data.num_stages(), "fit_regime_q_functions", "regime stages",
              regime.num_stages(), fmt::format("{} (the data's stages)", data.num_stages()));
  return detail::fit_linear_q(
      data, designs, ridge,
      [&](Index k, const Matrix&) {
        return regime.actions(k, data.stage(k), "fit_regime_q_functions");
      },
      "fit_regime_q_functions");
}

/// A stage of nonparametric Q-functions: one fitted regressor per action.
template <class Model>
class NonparametricQStage {
 public:
  explicit NonparametricQStage(std::vector<Model> models) : models_(std::move(models)) {}
  Matrix q_values(const Matrix& history) const {
    Matrix q(history.rows(), static_cast<Index>(models_.size()));
    for (std::size_t a = 0; a < models_.size(); ++a) {
      q.col(static_cast<Index>(a)) = models_[a].predict(history);
    }
    return q;
  }
  const std::vector<Model>& models() const { return models_; }

 private:
  std::vector<Model> models_;
};

/// Q-learning with any regressor per stage and action (default: regression forests).
template <learn::Regressor R = learn::RegressionForest>
class QLearning {
 public:
  using Model = std::decay_t<decltype(std::declval<const R&>().fit(
      std::declval<const MatrixRef&>(), std::declval<const VectorRef&>(),
      std::declval<const VectorRef&>()))>;
  using Stage = NonparametricQStage<Model>;

  struct Params {
    R learner = R{};
    /// Fewest rows an action needs at a stage to fit its Q-function.
    Index min_rows_per_action = 10;
  };

  QLearning() : QLearning(Params{}) {}
  explicit QLearning(Params params) : params_(std::move(params)) {
    check_param(params_.min_rows_per_action >= 1, "QLearning", "min_rows_per_action",
                params_.min_rows_per_action, "at least 1");
  }

  QModel<Stage> fit(const SequentialData& data) const {
    auto stages = detail::backward_induction(
        data,
        [&](Index k, const Vector& target) {
          const dtr::Stage& s = data.stage(k);
          std::vector<Model> models;
          for (Index a = 0; a < s.num_actions; ++a) {
            std::vector<Index> rows;
            for (Index i = 0; i < s.action.size(); ++i) {
              if (s.action[i] == a) rows.push_back(i);
            }
            if (static_cast<Index>(rows.size()) < params_.min_rows_per_action) {
              raise<DataError>(
                  "QLearning: stage {} action {} has {} rows, expected at least {} "
                  "(min_rows_per_action)",
                  k + 1, a, rows.size(), params_.min_rows_per_action);
            }
            Matrix x(static_cast<Index>(rows.size()), s.history.cols());
            Vector y(static_cast<Index>(rows.size()));
            for (std::size_t r = 0; r < rows.size(); ++r) {
              x.row(static_cast<Index>(r)) = s.history.row(rows[r]);
              y[static_cast<Index>(r)] = target[rows[r]];
            }
            models.push_back(params_.learner.fit(x, y, Vector()));
          }
          return Stage(std::move(models));
        },
        [](Index, const Matrix& q) -> Vector { return q.rowwise().maxCoeff(); });
    const Matrix q1 = stages.front().q_values(data.stage(0).history);
    return QModel<Stage>(std::move(stages), tailor::mean_estimate(q1.rowwise().maxCoeff()));
  }

 private:
  Params params_;
};

}  // namespace tailor::dtr
