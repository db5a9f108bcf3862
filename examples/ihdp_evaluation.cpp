// ihdp_evaluation — √PEHE and ATE error of tailor's CATE estimators on the IHDP benchmark
// (Hill 2011, setting B; the 10 CEVAE replications with the CFRNet 672/75 train/test split).
//
// For each replication the estimators are fitted on the 672 training units; √PEHE and
// ε_ATE = |mean τ̂ − mean τ| are computed in-sample (the 672) and out-of-sample (the 75 test
// units), then averaged over replications. Also reports the AIPW ATE error in-sample.
// Usage: ihdp_evaluation [--data DIR] [--reps 10] [--threads 0]
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tailor/cate/causal_forest.hpp"
#include "tailor/cate/dr_learner.hpp"
#include "tailor/cate/r_learner.hpp"
#include "tailor/cate/s_learner.hpp"
#include "tailor/cate/t_learner.hpp"
#include "tailor/cate/x_learner.hpp"
#include "tailor/io/ihdp.hpp"
#include "tailor/learn/gradient_boosting.hpp"
#include "tailor/learn/logistic_regression.hpp"

namespace fs = std::filesystem;
using namespace tailor;

namespace {

struct Scores {
  double pehe_in = 0, pehe_out = 0, ate_in = 0, ate_out = 0, aipw_in = 0;
  int count = 0;
};

template <class Learner>
void evaluate(const Learner& learner, const io::ihdp::Split& split, Scores& s) {
  const CausalData data(split.train.X, split.train.t, split.train.y);
  const auto model = learner.fit(data);
  const Vector tau_in = model.predict(split.train.X);
  const Vector tau_out = model.predict(split.test.X);
  s.pehe_in += io::ihdp::sqrt_pehe(tau_in, split.train.tau());
  s.pehe_out += io::ihdp::sqrt_pehe(tau_out, split.test.tau());
  s.ate_in += io::ihdp::ate_error(tau_in, split.train.tau());
  s.ate_out += io::ihdp::ate_error(tau_out, split.test.tau());
  s.aipw_in += std::abs(model.average_effect().value - split.train.tau().mean());
  s.count += 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"IHDP evaluation of tailor's CATE estimators"};
  std::string data_dir;
  if (const char* env = std::getenv("TAILOR_DATA_DIR")) data_dir = fs::path(env) / "ihdp";
  int reps = 10;
  Index threads = 0;
  app.add_option("--data", data_dir, "directory with ihdp_npci_<k>.csv and the test long CSV");
  app.add_option("--reps", reps, "replications 1..reps (at most 10)")->check(CLI::Range(1, 10));
  app.add_option("--threads", threads, "threads (0 = all cores)");
  CLI11_PARSE(app, argc, argv);
  if (data_dir.empty() || !fs::exists(fs::path(data_dir) / "ihdp_npci_1.csv")) {
    fmt::print(stderr, "ihdp_evaluation: IHDP data not found (use --data or TAILOR_DATA_DIR)\n");
    return 2;
  }
  try {
    const fs::path dir(data_dir);
    const cate::MetaLearnerParams params{.num_folds = 5, .seed = 1, .num_threads = threads};
    const learn::RegressionForest forest({.num_trees = 500, .seed = 7});
    const learn::ClassificationForest forest_cls({.forest = {.num_trees = 500, .seed = 8}});
    const learn::GradientBoostingRegressor boost(
        {.learning_rate = 0.1, .max_iter = 200, .min_samples_leaf = 10, .seed = 9});
    const learn::LogisticRegression logistic{};

    std::vector<std::string> order;
    std::map<std::string, Scores> scores;
    auto run = [&](const std::string& name, auto&& learner, const io::ihdp::Split& split) {
      if (!scores.count(name)) order.push_back(name);
      evaluate(learner, split, scores[name]);
    };
    using RF = learn::RegressionForest;
    using CF = learn::ClassificationForest;
    using GB = learn::GradientBoostingRegressor;
    using LR = learn::LogisticRegression;
    for (int k = 1; k <= reps; ++k) {
      const auto full = io::ihdp::read_replication(dir / fmt::format("ihdp_npci_{}.csv", k));
      const auto test = io::ihdp::read_test_units(dir / "ihdp_npci_1-100.test.long.csv", k);
      const auto split = io::ihdp::split_replication(full, test);
      run("S-learner (forest)", cate::SLearner<RF, CF>(params, forest, forest_cls), split);
      run("T-learner (forest)", cate::TLearner<RF, CF>(params, forest, forest_cls), split);
      run("X-learner (forest)", cate::XLearner<RF, CF>(params, forest, forest_cls), split);
      run("R-learner (forest)", cate::RLearner<RF, CF>(params, forest, forest_cls), split);
      run("DR-learner (forest)", cate::DRLearner<RF, CF>(params, forest, forest_cls), split);
      run("S-learner (boosting)", cate::SLearner<GB, LR>(params, boost, logistic), split);
      run("T-learner (boosting)", cate::TLearner<GB, LR>(params, boost, logistic), split);
      run("X-learner (boosting)", cate::XLearner<GB, LR>(params, boost, logistic), split);
      run("R-learner (boosting)", cate::RLearner<GB, LR>(params, boost, logistic), split);
      run("DR-learner (boosting)", cate::DRLearner<GB, LR>(params, boost, logistic), split);
      run("causal forest",
          cate::CausalForest({.forest = {.num_trees = 2000, .seed = 3, .num_threads = threads}}),
          split);
      fmt::print(stderr, "\rreplication {}/{}", k, reps);
    }
    fmt::print(stderr, "\n");
    fmt::print(
        "IHDP (setting B), replications 1..{}, 672 train / 75 test units, means over "
        "replications\n",
        reps);
    fmt::print("{:<24} {:>12} {:>12} {:>12} {:>12} {:>14}\n", "estimator", "sqrtPEHE in",
               "sqrtPEHE out", "eATE in", "eATE out", "|AIPW-ATE| in");
    for (const auto& name : order) {
      const Scores& s = scores[name];
      const double c = s.count;
      fmt::print("{:<24} {:>12.3f} {:>12.3f} {:>12.3f} {:>12.3f} {:>14.3f}\n", name, s.pehe_in / c,
                 s.pehe_out / c, s.ate_in / c, s.ate_out / c, s.aipw_in / c);
    }
  } catch (const tailor::Error& e) {
    fmt::print(stderr, "ihdp_evaluation: {}\n", e.what());
    return 1;
  }
  return 0;
}
