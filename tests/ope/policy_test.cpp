// Tests for ope/policy.hpp: deterministic and stochastic target policies, the binary helpers,
// and the validation messages.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "tailor/ope/policy.hpp"

using namespace tailor;
namespace ope = tailor::ope;
using tailor::ope::TargetPolicy;

TEST_CASE("deterministic policies give probability 1 to their action", "[ope]") {
  const IndexVector actions = (IndexVector(4) << 2, 0, 1, 2).finished();
  const auto policy = TargetPolicy::deterministic(actions, 3);
  CHECK(policy.is_deterministic());
  CHECK(policy.num_rows() == 4);
  CHECK(policy.num_actions() == 3);
  CHECK(policy.probability(0, 2) == 1.0);
  CHECK(policy.probability(0, 1) == 0.0);
  CHECK(policy.probability(2, 1) == 1.0);
  const Eigen::MatrixXd p = policy.to_probabilities();
  CHECK(p.rowwise().sum().isOnes());
  CHECK(p(3, 2) == 1.0);
  const Eigen::MatrixXd q =
      (Eigen::MatrixXd(4, 3) << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12).finished();
  const Eigen::VectorXd expected = policy.expected_under(q);
  CHECK(expected[0] == 3.0);
  CHECK(expected[1] == 4.0);
  CHECK(expected[2] == 8.0);
  CHECK(expected[3] == 12.0);
  const Eigen::VectorXd shares = policy.action_shares();
  CHECK(shares[0] == 0.25);
  CHECK(shares[1] == 0.25);
  CHECK(shares[2] == 0.5);
}

TEST_CASE("stochastic policies keep their probability matrix", "[ope]") {
  const Eigen::MatrixXd p = (Eigen::MatrixXd(2, 3) << 0.2, 0.3, 0.5, 1.0, 0.0, 0.0).finished();
  const auto policy = TargetPolicy::stochastic(p);
  CHECK_FALSE(policy.is_deterministic());
  CHECK(policy.probability(0, 1) == 0.3);
  CHECK(policy.to_probabilities() == p);
  const Eigen::MatrixXd q = (Eigen::MatrixXd(2, 3) << 1, 2, 3, 4, 5, 6).finished();
  const Eigen::VectorXd expected = policy.expected_under(q);
  CHECK(expected[0] == Approx(0.2 + 0.6 + 1.5));
  CHECK(expected[1] == 4.0);
  CHECK(policy.action_shares()[0] == Approx(0.6));
}

TEST_CASE("binary helpers: treat-all, treat-none, constant, score threshold", "[ope]") {
  const auto all = TargetPolicy::treat_all(3);
  const auto none = TargetPolicy::treat_none(3);
  CHECK(all.num_actions() == 2);
  CHECK(all.actions() == IndexVector::Ones(3));
  CHECK(none.actions() == IndexVector::Zero(3));
  CHECK(TargetPolicy::constant(2, 4, 5).probability(1, 4) == 1.0);
  const Eigen::VectorXd scores = (Eigen::VectorXd(4) << -1.0, 0.5, 0.2, 0.2).finished();
  const auto rule = TargetPolicy::from_score_threshold(scores, 0.2);
  CHECK(rule.actions() == (IndexVector(4) << 0, 1, 0, 0).finished());  // strictly above
  CHECK(TargetPolicy::from_score_threshold(scores).actions() ==
        (IndexVector(4) << 0, 1, 1, 1).finished());
}

TEST_CASE("policies reject bad input with clear messages", "[ope]") {
  CHECK_THROWS_WITH(TargetPolicy::deterministic((IndexVector(3) << 0, 3, 1).finished(), 3),
                    Catch::Contains("TargetPolicy: actions[1] = 3, expected an action in 0..2"));
  CHECK_THROWS_AS(TargetPolicy::deterministic((IndexVector(1) << -1).finished(), 2), DataError);
  CHECK_THROWS_WITH(TargetPolicy::deterministic(IndexVector(0), 2),
                    Catch::Contains("actions has 0 rows"));
  CHECK_THROWS_WITH(TargetPolicy::deterministic(IndexVector::Zero(2), 0),
                    Catch::Contains("num_actions = 0, expected at least 1"));
  CHECK_THROWS_WITH(
      TargetPolicy::stochastic((Eigen::MatrixXd(2, 2) << 0.5, 0.5, 0.6, 0.3).finished()),
      Catch::Contains("row 1 of probabilities sums to 0.9, expected 1"));
  CHECK_THROWS_WITH(
      TargetPolicy::stochastic((Eigen::MatrixXd(2, 2) << 1.5, -0.5, 0.5, 0.5).finished()),
      Catch::Contains("probabilities(0, 0) = 1.5, expected a probability in [0, 1]"));
  CHECK_THROWS_WITH(
      TargetPolicy::stochastic((Eigen::MatrixXd(1, 2) << std::nan(""), 0.5).finished()),
      Catch::Contains("probabilities(0, 0) = nan, expected a finite value"));
  CHECK_THROWS_AS(TargetPolicy::stochastic(Eigen::MatrixXd(0, 2)), DataError);
  CHECK_THROWS_AS(TargetPolicy::stochastic(Eigen::MatrixXd(2, 0)), DataError);
  // Within tolerance is accepted (rounding in user-computed softmax rows).
  CHECK_NOTHROW(TargetPolicy::stochastic((Eigen::MatrixXd(1, 2) << 0.5 + 1e-9, 0.5).finished()));
  CHECK_THROWS_WITH(
      TargetPolicy::from_score_threshold((Eigen::VectorXd(2) << 1.0, std::nan("")).finished()),
      Catch::Contains("scores[1] = nan"));
  CHECK_THROWS_AS(TargetPolicy::constant(0, 1), InvalidArgument);
}

TEST_CASE("cross-fitted policies use only the other folds' rows", "[ope]") {
  // Scores 0..9; the "learned" rule of fold k treats a row when its score exceeds the mean
  // score of the training rows, so each fold's threshold excludes its own rows.
  const Eigen::VectorXd scores = Eigen::VectorXd::LinSpaced(10, 0.0, 9.0);
  const Folds folds = kfold(10, 3, 4);
  std::vector<double> thresholds(3);
  const auto policy = ope::cross_fit_policy(
      folds, 2, [&](Index k, const std::vector<Index>& train, const std::vector<Index>& test) {
        double mean = 0.0;
        for (Index i : train) mean += scores[i];
        mean /= static_cast<double>(train.size());
        thresholds[static_cast<std::size_t>(k)] = mean;
        Eigen::VectorXd test_scores(static_cast<Index>(test.size()));
        for (std::size_t r = 0; r < test.size(); ++r)
          test_scores[static_cast<Index>(r)] = scores[test[r]];
        return TargetPolicy::from_score_threshold(test_scores, mean);
      });
  REQUIRE(policy.is_deterministic());
  for (Index i = 0; i < 10; ++i) {
    const double threshold =
        thresholds[static_cast<std::size_t>(folds.fold[static_cast<std::size_t>(i)])];
    CHECK(policy.actions()[i] == (scores[i] > threshold ? 1 : 0));
  }
  // A stochastic piece makes the whole policy stochastic.
  const auto mixed = ope::cross_fit_policy(
      folds, 2, [&](Index k, const std::vector<Index>&, const std::vector<Index>& test) {
        const auto m = static_cast<Index>(test.size());
        if (k == 0) return TargetPolicy::stochastic(Eigen::MatrixXd::Constant(m, 2, 0.5));
        return TargetPolicy::treat_all(m);
      });
  CHECK_FALSE(mixed.is_deterministic());
  CHECK(mixed.probabilities().rowwise().sum().isOnes());
  CHECK_THROWS_WITH(
      ope::cross_fit_policy(folds, 2,
                            [](Index, const std::vector<Index>&, const std::vector<Index>&) {
                              return TargetPolicy::treat_all(1);
                            }),
      Catch::Contains("the policy of fold 0 has 1 rows, expected"));
  CHECK_THROWS_WITH(
      ope::cross_fit_policy(folds, 3,
                            [](Index, const std::vector<Index>&, const std::vector<Index>& test) {
                              return TargetPolicy::treat_all(static_cast<Index>(test.size()));
                            }),
      Catch::Contains("has 2 actions, expected 3"));
}
