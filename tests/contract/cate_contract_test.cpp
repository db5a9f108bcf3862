// Contract suite for the effect estimators (tests/contract/contract.hpp): CausalForest, the
// S/T/X/R/DR meta-learners with forest nuisances, and the uplift forest.
#include "contract.hpp"

#include "tailor/cate/causal_forest.hpp"
#include "tailor/cate/dr_learner.hpp"
#include "tailor/cate/r_learner.hpp"
#include "tailor/cate/s_learner.hpp"
#include "tailor/cate/t_learner.hpp"
#include "tailor/cate/x_learner.hpp"
#include "tailor/learn/classification_forest.hpp"
#include "tailor/learn/regression_forest.hpp"
#include "tailor/uplift/uplift_forest.hpp"

namespace {

using namespace tailor;
using contract::CountParameter;

learn::ForestParams forest(Index threads, Index trees = 8) {
  learn::ForestParams p;
  p.num_trees = trees;
  p.seed = 5;
  p.num_threads = threads;
  return p;
}

const CausalData& data() {
  static const contract::Causal d = contract::make_causal(120, 4);
  static const CausalData causal(d.X, d.w, d.y);
  return causal;
}

std::vector<CountParameter> meta_counts(auto build) {
  return {
      {"num_folds",
       [=](std::int64_t v) {
         cate::MetaLearnerParams p;
         p.num_folds = v;
         (void)build(p).fit(data());
       }},
      {"num_threads",
       [=](std::int64_t v) {
         cate::MetaLearnerParams p;
         p.num_threads = v;
         (void)build(p).fit(data());
       },
       false},
  };
}

using RF = learn::RegressionForest;
using CF = learn::ClassificationForest;

cate::MetaLearnerParams meta(Index threads) {
  cate::MetaLearnerParams p;
  p.num_folds = 2;
  p.num_threads = threads;
  return p;
}

CF propensity(Index threads) {
  learn::ClassificationForestParams c;
  c.forest = forest(threads);
  return CF(c);
}

}  // namespace

TEST_CASE("contract: CausalForest", "[contract]") {
  const auto make = [](Index threads) {
    cate::CausalForestParams p;
    p.forest = forest(threads);
    p.nuisance_num_trees = 8;
    return cate::CausalForest(p);
  };
  const auto with = [](auto set) {
    return [=](std::int64_t v) {
      cate::CausalForestParams p;
      p.forest = forest(1);
      set(p, v);
      (void)cate::CausalForest(p).fit(data());
    };
  };
  contract::check_effect(
      "CausalForest", make,
      {{"num_trees",
        with([](cate::CausalForestParams& p, std::int64_t v) { p.forest.num_trees = v; })},
       {"ci_group_size",
        with([](cate::CausalForestParams& p, std::int64_t v) { p.ci_group_size = v; })},
       {"nuisance_num_trees",
        with([](cate::CausalForestParams& p, std::int64_t v) { p.nuisance_num_trees = v; }), false},
       {"min_node_size",
        with([](cate::CausalForestParams& p, std::int64_t v) { p.forest.min_node_size = v; })}});
}

TEST_CASE("contract: TLearner", "[contract]") {
  using L = cate::TLearner<learn::RegressionForest, learn::ClassificationForest>;
  contract::check_effect(
      "TLearner",
      [](Index t) { return cate::TLearner<RF, CF>(meta(t), RF(forest(t)), propensity(t)); },
      meta_counts([](const cate::MetaLearnerParams& p) { return L(p); }));
}

TEST_CASE("contract: SLearner", "[contract]") {
  using L = cate::SLearner<learn::RegressionForest, learn::ClassificationForest>;
  contract::check_effect(
      "SLearner",
      [](Index t) { return cate::SLearner<RF, CF>(meta(t), RF(forest(t)), propensity(t)); },
      meta_counts([](const cate::MetaLearnerParams& p) { return L(p); }));
}

TEST_CASE("contract: XLearner", "[contract]") {
  using L =
      cate::XLearner<learn::RegressionForest, learn::ClassificationForest, learn::RegressionForest>;
  contract::check_effect(
      "XLearner",
      [](Index t) { return cate::XLearner<RF, CF, RF>(meta(t), RF(forest(t)), propensity(t)); },
      meta_counts([](const cate::MetaLearnerParams& p) { return L(p); }));
}

TEST_CASE("contract: RLearner", "[contract]") {
  using L =
      cate::RLearner<learn::RegressionForest, learn::ClassificationForest, learn::RegressionForest>;
  contract::check_effect(
      "RLearner",
      [](Index t) { return cate::RLearner<RF, CF, RF>(meta(t), RF(forest(t)), propensity(t)); },
      meta_counts([](const cate::MetaLearnerParams& p) { return L(p); }));
}

TEST_CASE("contract: DRLearner", "[contract]") {
  using L = cate::DRLearner<learn::RegressionForest, learn::ClassificationForest,
                            learn::RegressionForest>;
  contract::check_effect(
      "DRLearner",
      [](Index t) { return cate::DRLearner<RF, CF, RF>(meta(t), RF(forest(t)), propensity(t)); },
      meta_counts([](const cate::MetaLearnerParams& p) { return L(p); }));
}

TEST_CASE("contract: UpliftForest", "[contract]") {
  const auto with = [](auto set) {
    return [=](std::int64_t v) {
      uplift::UpliftForestParams p;
      p.forest = forest(1);
      p.criterion = uplift::UpliftCriterion::ED;  // continuous outcomes
      set(p, v);
      (void)uplift::UpliftForest(p).fit(data());
    };
  };
  contract::check_effect(
      "UpliftForest",
      [](Index threads) {
        uplift::UpliftForestParams p;
        p.forest = forest(threads);
        p.criterion = uplift::UpliftCriterion::ED;
        return uplift::UpliftForest(p);
      },
      {{"num_trees",
        with([](uplift::UpliftForestParams& p, std::int64_t v) { p.forest.num_trees = v; })},
       {"min_node_size",
        with([](uplift::UpliftForestParams& p, std::int64_t v) { p.forest.min_node_size = v; })}});
}
