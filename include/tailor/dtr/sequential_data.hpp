// tailor/dtr/sequential_data.hpp — data of a K-stage decision problem and the regimes that act on
// it.
//
// For each of n units and stages k = 1..K: a history matrix H_k (n × p_k, built by the user, for
// example [X1] at stage 1 and [X1, A1, X2] at stage 2), the action A_k ∈ {0, …, m_k − 1} taken,
// optionally the known probability of that action given H_k (randomised designs, logged
// policies), and the rewards: either one final outcome Y or a reward per stage (Y = Σ_k R_k,
// with R_k observed after A_k). Validated once: equal row counts, finite values, actions in
// range with at least two actions observed per stage, propensities in (0, 1).
//
// A Regime is a rule per stage, H_k ↦ action (a learned one, a fixed rule, a user's lambda);
// evaluating it on the observed histories gives the actions the regime would have taken.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::dtr {

/// One decision point.
struct Stage {
  Matrix history;          ///< H_k, n × p_k (may have 0 columns)
  Eigen::VectorXi action;  ///< A_k in {0, …, num_actions − 1}
  Index num_actions = 2;   ///< m_k
  Vector propensity = {};  ///< P(A_k = observed action | H_k), known; empty = estimate it
};

/// K stages and the rewards of n units.
class SequentialData {
 public:
  /// Final outcome only: R_K = outcome, earlier rewards 0.
  SequentialData(std::vector<Stage> stages, const Vector& outcome)
      : SequentialData(std::move(stages), Matrix(outcome)) {}

  /// Rewards per stage: `rewards` is n × K, column k observed after action k.
  SequentialData(std::vector<Stage> stages, Matrix rewards)
      : stages_(std::move(stages)), rewards_(std::move(rewards)) {
    validate();
  }

  Index num_stages() const { return static_cast<Index>(stages_.size()); }
  Index num_rows() const { return rewards_.rows(); }
  const Stage& stage(Index k) const {
    check_param(k >= 0 && k < num_stages(), "SequentialData::stage", "k", k,
                fmt::format("between 0 and {}", num_stages() - 1));
    return stages_[static_cast<std::size_t>(k)];
  }
  const std::vector<Stage>& stages() const { return stages_; }
  /// n × K rewards (a final outcome is the last column, earlier columns 0).
  const Matrix& rewards() const { return rewards_; }
  /// Y = Σ_k R_k.
  Vector outcome() const { return rewards_.rowwise().sum(); }

 private:
  void validate() {
    constexpr std::string_view c = "SequentialData";
    const Index K = num_stages();
    check_param(K >= 1, c, "stages", K, "at least 1 stage");
    const Index n = rewards_.rows();
    check_nonempty(c, "rewards", n);
    if (rewards_.cols() == 1 && K > 1) {
      // A final outcome: pad the earlier stages with zero rewards.
      Matrix padded = Matrix::Zero(n, K);
      padded.col(K - 1) = rewards_.col(0);
      rewards_ = std::move(padded);
    }
    if (rewards_.cols() != K) {
      raise<ShapeMismatch>(
          "{}: rewards has {} columns, expected {} (one per stage) or 1 (a final "
          "outcome)",
          c, rewards_.cols(), K);
    }
    check_finite(c, "rewards", rewards_);
    for (Index k = 0; k < K; ++k) {
      const Stage& s = stages_[static_cast<std::size_t>(k)];
      const std::string h = fmt::format("stage {} history", k + 1);
      check_rows(c, h, s.history.rows(), n, "the rows of the rewards");
      check_finite(c, h, s.history);
      const std::string a = fmt::format("stage {} action", k + 1);
      check_rows(c, a, s.action.size(), n, "the rows of the rewards");
      check_param(s.num_actions >= 2 && s.num_actions <= 1'000'000, c,
                  fmt::format("stage {} num_actions", k + 1), s.num_actions,
                  "between 2 and 1000000");
      std::vector<Index> seen(static_cast<std::size_t>(s.num_actions), 0);
      for (Index i = 0; i < n; ++i) {
        const int ai = s.action[i];
        if (ai < 0 || ai >= s.num_actions) {
          raise<DataError>("{}: {}[{}] = {}, expected an action in 0..{}", c, a, i, ai,
                           s.num_actions - 1);
        }
        ++seen[static_cast<std::size_t>(ai)];
      }
      Index observed = 0;
      for (const Index count : seen) observed += count > 0 ? 1 : 0;
      if (observed < 2) {
        raise<DataError>("{}: {} takes only one value, expected at least two actions observed", c,
                         a);
      }
      if (s.propensity.size() > 0) {
        const std::string p = fmt::format("stage {} propensity", k + 1);
        check_rows(c, p, s.propensity.size(), n, "the rows of the rewards, or 0 to estimate it");
        for (Index i = 0; i < n; ++i) {
          if (!(s.propensity[i] > 0.0 && s.propensity[i] < 1.0)) {
            raise<DataError>("{}: {}[{}] = {}, expected a probability in (0, 1)", c, p, i,
                             s.propensity[i]);
          }
        }
      }
    }
  }

  std::vector<Stage> stages_;
  Matrix rewards_;
};

/// A rule for one stage: the histories H_k (n × p_k) ↦ an action per row.
using StageRule = std::function<Eigen::VectorXi(const Matrix& history)>;

/// A dynamic treatment regime: one rule per stage.
class Regime {
 public:
  Regime() = default;
  explicit Regime(std::vector<StageRule> rules) : rules_(std::move(rules)) {
    for (std::size_t k = 0; k < rules_.size(); ++k) {
      if (!rules_[k]) raise<InvalidArgument>("Regime: rule of stage {} is empty", k + 1);
    }
  }

  /// A regime that takes `action` at every stage, whatever the history.
  static Regime constant(Index num_stages, int action) {
    std::vector<StageRule> rules(static_cast<std::size_t>(num_stages), [action](const Matrix& h) {
      return Eigen::VectorXi::Constant(h.rows(), action).eval();
    });
    return Regime(std::move(rules));
  }

  Index num_stages() const { return static_cast<Index>(rules_.size()); }

  /// The actions the regime takes at stage k on the stage's own histories, checked against its
  /// actions: InvalidArgument naming the first row out of 0..m_k − 1.
  Eigen::VectorXi actions(Index k, const Stage& stage, std::string_view context) const {
    Eigen::VectorXi a = actions(k, stage.history);
    for (Index i = 0; i < a.size(); ++i) {
      if (a[i] < 0 || a[i] >= stage.num_actions) {
        raise<InvalidArgument>("{}: the regime's stage {} action at row {} is {}, expected 0..{}",
                               context, k + 1, i, a[i], stage.num_actions - 1);
      }
    }
    return a;
  }

  /// The actions the regime takes at stage k (0-based) on the histories `history`.
  Eigen::VectorXi actions(Index k, const Matrix& history) const {
    check_param(k >= 0 && k < num_stages(), "Regime::actions", "k", k,
                fmt::format("between 0 and {}", num_stages() - 1));
    Eigen::VectorXi a = rules_[static_cast<std::size_t>(k)](history);
    check_rows("Regime::actions", fmt::format("the actions of stage {}", k + 1), a.size(),
               history.rows(), "the rows of the history");
    return a;
  }

 private:
  std::vector<StageRule> rules_;
};

}  // namespace tailor::dtr
