// tailor/dtr/a_learning.hpp — A-learning (g-estimation of optimal regimes) for binary actions
// (Robins 2004; Murphy 2003; Schulte, Tsiatis, Laber & Davidian, Stat. Sci. 2014, §4).
//
// At each stage, backward from K, the outcome model is Y_k = m(h; β) + A·hᵀψ + ε with a main-
// effect working model m(h; β) = [1, h_main]ᵀβ and the contrast (blip) [1, h_contrast]ᵀψ. With
// the propensity π(h) = P(A = 1 | h) (known, or a logistic model on [1, h_propensity]), (β, ψ)
// solve the stacked estimating equations
//   Σ x_m (Y_k − x_mᵀβ − A·hᵀψ) = 0,   Σ h (A − π(h)) (Y_k − x_mᵀβ − A·hᵀψ) = 0,
// a linear system. The ψ equation has mean zero when either the propensity model or the main-
// effect model is correct (doubly robust): a misspecified main effect costs efficiency, not
// consistency, where Q-learning's contrast would be biased. The pseudo-outcome for stage k − 1 is
// Y_{k−1} = R_{k−1} + Y_k + max(0, hᵀψ̂_k) − A_k·hᵀψ̂_k (the outcome had the optimal action
// been taken at stage k). Standard errors: the sandwich of the stacked M-estimator including the
// logistic score when π is estimated (Stefanski & Boos 2002), per stage, with the later stages'
// estimates held fixed. The regime: A_k = 1 where hᵀψ̂_k > 0.
// Complexity: O(n · (p_m + p_c + p_π)²) per stage plus the logistic fit.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <Eigen/LU>

#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/types.hpp"
#include "tailor/dtr/detail/linear_stage.hpp"
#include "tailor/dtr/sequential_data.hpp"
#include "tailor/learn/logistic_regression.hpp"

namespace tailor::dtr {

/// One stage of A-learning: the contrast ψ (on [1, h_contrast]) with its sandwich covariance,
/// the main-effect coefficients β, and the propensity model used.
struct ALearningStage {
  detail::StageColumns columns;
  Vector psi;
  Matrix psi_covariance;
  Vector beta;
  bool propensity_known = false;
  Vector propensity_coefficients;  ///< logistic model on [1, h_propensity] (empty when known)

  Estimate contrast(Index j) const {
    check_param(j >= 0 && j < psi.size(), "ALearningStage::contrast", "j", j,
                fmt::format("between 0 and {}", psi.size() - 1));
    return {psi[j], std::sqrt(std::max(0.0, psi_covariance(j, j)))};
  }
  /// hᵀψ̂ per row.
  Vector blip(const Matrix& history) const {
    return detail::with_intercept(history, columns.contrast) * psi;
  }
};

/// Fitted A-learning: contrasts per stage and the regime 1{hᵀψ̂_k > 0}.
class ALearningModel {
 public:
  explicit ALearningModel(std::vector<ALearningStage> stages)
      : stages_(std::make_shared<const std::vector<ALearningStage>>(std::move(stages))) {}

  Index num_stages() const { return static_cast<Index>(stages_->size()); }
  const ALearningStage& stage(Index k) const {
    check_param(k >= 0 && k < num_stages(), "ALearningModel::stage", "k", k,
                fmt::format("between 0 and {}", num_stages() - 1));
    return (*stages_)[static_cast<std::size_t>(k)];
  }
  Estimate contrast(Index k, Index j) const { return stage(k).contrast(j); }
  Eigen::VectorXi decide(Index k, const Matrix& history) const {
    return (stage(k).blip(history).array() > 0.0).cast<int>();
  }
  Regime regime() const {
    std::vector<StageRule> rules;
    for (Index k = 0; k < num_stages(); ++k) {
      rules.emplace_back([stages = stages_, k](const Matrix& h) {
        return ((*stages)[static_cast<std::size_t>(k)].blip(h).array() > 0.0).cast<int>().eval();
      });
    }
    return Regime(std::move(rules));
  }

 private:
  std::shared_ptr<const std::vector<ALearningStage>> stages_;
};

namespace detail {

/// P(A = 1 | h) per row: from the known observed-action probabilities, or a logistic model on
/// [1, h_propensity] (intercept only: the share treated). Returns π and the model's coefficients
/// (empty when known).
inline std::pair<Vector, Vector> binary_propensity(const Stage& s, const Matrix& xp,
                                                   std::string_view context, Index k) {
  const Index n = s.action.size();
  Vector pi(n);
  if (s.propensity.size() > 0) {
    for (Index i = 0; i < n; ++i)
      pi[i] = s.action[i] == 1 ? s.propensity[i] : 1.0 - s.propensity[i];
    return {pi, Vector()};
  }
  const Vector a = s.action.cast<double>();
  Vector gamma(xp.cols());
  if (xp.cols() == 1) {
    const double share = a.mean();
    gamma[0] = std::log(share / (1.0 - share));
    pi.setConstant(share);
  } else {
    const auto model =
        learn::LogisticRegression({.alpha = 0.0}).fit(xp.rightCols(xp.cols() - 1), a);
    gamma[0] = model.intercept();
    gamma.tail(xp.cols() - 1) = model.coefficients();
    pi = model.predict(xp.rightCols(xp.cols() - 1));
  }
  for (Index i = 0; i < n; ++i) {
    if (!(pi[i] > 1e-12 && pi[i] < 1.0 - 1e-12)) {
      raise<DataError>(
          "{}: stage {} estimated propensity {} at row {} is 0 or 1 (no overlap), "
          "expected a probability in (0, 1)",
          context, k + 1, pi[i], i);
    }
  }
  return {pi, gamma};
}

}  // namespace detail

/// A-learning for binary actions.
class ALearning {
 public:
  struct Params {
    /// Columns per stage for the main effect, the contrast and the propensity model (empty:
    /// every column of H_k in each).
    std::vector<StageDesign> stages = {};
  };

  ALearning() : ALearning(Params{}) {}
  explicit ALearning(Params params) : params_(std::move(params)) {}

  ALearningModel fit(const SequentialData& data) const {
    constexpr std::string_view kContext = "ALearning";
    const Index K = data.num_stages();
    const Index n = data.num_rows();
    std::vector<ALearningStage> reversed;
    Vector adjust = Vector::Zero(n);  // Σ_{j>k} [max(0, blip_j) − A_j blip_j]
    Vector future = Vector::Zero(n);  // Σ_{j>=k} R_j
    for (Index k = K - 1; k >= 0; --k) {
      const Stage& s = data.stage(k);
      if (s.num_actions != 2) {
        raise<InvalidArgument>(
            "{}: stage {} has {} actions, expected 2 (A-learning here is for "
            "binary actions; use Q-learning for more)",
            kContext, k + 1, s.num_actions);
      }
      future += data.rewards().col(k);
      const Vector y = future + adjust;
      ALearningStage st;
      st.columns = detail::resolve_design(params_.stages, K, k, s.history.cols(), kContext);
      const Matrix xm = detail::with_intercept(s.history, st.columns.main);
      const Matrix h = detail::with_intercept(s.history, st.columns.contrast);
      const Matrix xp = detail::with_intercept(s.history, st.columns.propensity);
      auto [pi, gamma] = detail::binary_propensity(s, xp, kContext, k);
      st.propensity_known = s.propensity.size() > 0;
      st.propensity_coefficients = gamma;
      const Vector a = s.action.cast<double>();
      const Vector w = a - pi;
      const Index pm = xm.cols(), pc = h.cols();
      // The linear system of the two estimating equations in (β, ψ).
      const Matrix ah = h.array().colwise() * a.array();
      const Matrix wh = h.array().colwise() * w.array();
      Matrix lhs(pm + pc, pm + pc);
      lhs.topLeftCorner(pm, pm) = xm.transpose() * xm;
      lhs.topRightCorner(pm, pc) = xm.transpose() * ah;
      lhs.bottomLeftCorner(pc, pm) = wh.transpose() * xm;
      lhs.bottomRightCorner(pc, pc) = wh.transpose() * ah;
      Vector rhs(pm + pc);
      rhs.head(pm) = xm.transpose() * y;
      rhs.tail(pc) = wh.transpose() * y;
      const Eigen::FullPivLU<Matrix> lu(lhs);
      if (!lu.isInvertible()) {
        raise<NumericalError>(
            "{}: stage {} estimating equations are singular (collinear columns "
            "or no variation in the action given the history)",
            kContext, k + 1);
      }
      const Vector theta = lu.solve(rhs);
      st.beta = theta.head(pm);
      st.psi = theta.tail(pc);
      const Vector r = y - xm * st.beta - ah * st.psi;
      // Stacked sandwich: θ = (γ, β, ψ) (γ only when the propensity is estimated).
      const Index q = st.propensity_known ? 0 : xp.cols();
      const Index dim = q + pm + pc;
      Matrix u(n, dim);
      if (q > 0) u.leftCols(q) = xp.array().colwise() * w.array();
      u.middleCols(q, pm) = xm.array().colwise() * r.array();
      u.rightCols(pc) = wh.array().colwise() * r.array();
      Matrix jac = Matrix::Zero(dim, dim);  // summed derivatives of the estimating functions
      if (q > 0) {
        const Vector v = pi.array() * (1.0 - pi.array());
        const Matrix vxp = xp.array().colwise() * v.array();
        jac.topLeftCorner(q, q) = -(xp.transpose() * vxp);
        const Matrix rh = h.array().colwise() * r.array();
        jac.bottomLeftCorner(pc, q) = -(rh.transpose() * vxp);
      }
      jac.block(q, q, pm + pc, pm + pc) = -lhs;
      const Matrix cov = detail::sandwich(jac, u.transpose() * u, kContext);
      st.psi_covariance = cov.bottomRightCorner(pc, pc);
      // Pseudo-outcome for the previous stage: as if stage k had acted optimally.
      const Vector blip = h * st.psi;
      adjust.array() += blip.array().max(0.0) - a.array() * blip.array();
      reversed.push_back(std::move(st));
    }
    std::vector<ALearningStage> stages(reversed.rbegin(), reversed.rend());
    return ALearningModel(std::move(stages));
  }

 private:
  Params params_;
};

}  // namespace tailor::dtr
