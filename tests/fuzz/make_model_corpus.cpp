// make_model_corpus OUTDIR — writes one small, deterministic model file per entry of
// tailor_fuzz::model_loaders() (tests/fuzz/model_loaders.hpp) as OUTDIR/<name>.bin: the seed
// corpus of the model-file hardening tests. Each model is fitted on a few hundred simulated rows
// with fixed seeds and one thread (2–4 shallow trees, tiny vocabularies, embedding dimension 2–3,
// one-layer MLPs), so files stay near 1–8 KB. Every written file is read back through the
// registry's round_trip and must re-save to the same bytes.
// Exit status 1 when a registry entry has no generator (or a generator no entry), a fit, load or
// re-save fails, the re-saved bytes differ, or a file exceeds kMaxBytes.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model_loaders.hpp"
#include "tailor/bidding/rlb.hpp"
#include "tailor/cate/causal_forest.hpp"
#include "tailor/cate/dr_learner.hpp"
#include "tailor/cate/r_learner.hpp"
#include "tailor/cate/s_learner.hpp"
#include "tailor/cate/t_learner.hpp"
#include "tailor/cate/x_learner.hpp"
#include "tailor/core/data.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/calibration.hpp"
#include "tailor/ctr/deepfm.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/ffm.hpp"
#include "tailor/ctr/fm.hpp"
#include "tailor/ctr/linear.hpp"
#include "tailor/ctr/multitask.hpp"
#include "tailor/ctr/pnn.hpp"
#include "tailor/ctr/profile_moe.hpp"
#include "tailor/ctr/sparse_features.hpp"
#include "tailor/ctr/wide_deep.hpp"
#include "tailor/datasets/causal_designs.hpp"
#include "tailor/learn/binning.hpp"
#include "tailor/learn/classification_forest.hpp"
#include "tailor/learn/gradient_boosting.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/regression_forest.hpp"
#include "tailor/learn/ridge.hpp"
#include "tailor/policy/policy_tree.hpp"
#include "tailor/segment/kmeans.hpp"
#include "tailor/segment/nmf.hpp"
#include "tailor/segment/segmenter.hpp"
#include "tailor/uplift/uplift_forest.hpp"

namespace {

using tailor::Index;
using tailor::Matrix;
using tailor::Rng;
using tailor::Vector;
namespace cate = tailor::cate;
namespace ctr = tailor::ctr;
namespace learn = tailor::learn;
namespace segment = tailor::segment;

/// Files above this many bytes fail the run (the corpus aims at <= kTargetBytes each).
constexpr std::size_t kMaxBytes = 32 * 1024;
constexpr std::size_t kTargetBytes = 8 * 1024;

template <class M>
std::string bytes_of(const M& model) {
  std::ostringstream out(std::ios::binary);
  tailor::save(model, out);
  return out.str();
}

double logistic(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

// ---------------------------------------------------------------------------------------------
// Simulated data

struct Supervised {
  Matrix X;
  Vector y;
};

/// X ~ N(0, 1)^p; y = x0 + 0.5 x1 + N(0, 0.5²).
Supervised regression_data(Index n, Index p, std::uint64_t seed) {
  Rng rng(seed);
  Supervised d{Matrix(n, p), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) d.X(i, j) = rng.normal();
    d.y[i] = d.X(i, 0) + 0.5 * d.X(i, 1) + 0.5 * rng.normal();
  }
  return d;
}

/// X ~ N(0, 1)^p; y ∈ {0, .., classes − 1} from thresholds on x0 + x1 + noise.
Supervised classification_data(Index n, Index p, Index classes, std::uint64_t seed) {
  Rng rng(seed);
  Supervised d{Matrix(n, p), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) d.X(i, j) = rng.normal();
    const double z = d.X(i, 0) + d.X(i, 1) + 0.5 * rng.normal();
    if (classes == 2) {
      d.y[i] = rng.bernoulli(logistic(z)) ? 1.0 : 0.0;
    } else {
      d.y[i] = z < -0.5 ? 0.0 : (z < 0.5 ? 1.0 : 2.0);
    }
  }
  return d;
}

/// Fits `learner` on Wager & Athey's design (datasets/causal_designs.hpp) with n rows and three
/// features, and returns the saved model (CausalData views the design, which lives until then).
template <class Learner>
std::string fit_causal(const Learner& learner, Index n, std::uint64_t seed,
                       tailor::CausalDataOptions options = {}) {
  const auto s = tailor::datasets::wager_athey(n, 3, 1.0, seed);
  return bytes_of(learner.fit(tailor::CausalData(s.X, s.w, s.y, std::move(options))));
}

/// Non-negative data with two planted parts: X = W H + |noise|.
Matrix nonnegative_data(Index n, Index p, std::uint64_t seed) {
  Rng rng(seed);
  Matrix X(n, p);
  for (Index i = 0; i < n; ++i) {
    const double a = rng.uniform(), b = rng.uniform();
    for (Index j = 0; j < p; ++j) {
      const double h0 = j % 2 == 0 ? 1.0 : 0.1, h1 = j % 2 == 0 ? 0.1 : 1.0;
      X(i, j) = a * h0 + b * h1 + 0.05 * rng.uniform();
    }
  }
  return X;
}

/// Raw click rows over one field of each kind (vocabulary, hashed, integer, multi-valued
/// vocabulary), encoded with a space fitted on them; clicks from a planted logit.
struct RawClicks {
  std::vector<std::vector<std::string>> rows;
  std::vector<float> click;
};

RawClicks raw_clicks(Index n, std::uint64_t seed) {
  static const std::vector<std::string> kCities = {"paris", "rome", "oslo", "lima", "kyiv"};
  static const std::vector<std::string> kTags = {"a", "b", "c", "d"};
  Rng rng(seed);
  RawClicks d;
  for (Index i = 0; i < n; ++i) {
    const auto city = rng.uniform_index(kCities.size());
    const auto user = rng.uniform_index(12);
    const auto hour = rng.uniform_index(6);
    std::string tags;
    double z = -1.0 + 0.4 * static_cast<double>(city) - 0.3 * static_cast<double>(hour);
    const auto count = rng.uniform_index(3);
    for (std::uint64_t t = 0; t < count; ++t) {
      const auto tag = rng.uniform_index(kTags.size());
      if (!tags.empty()) tags += ',';
      tags += kTags[tag];
      z += tag == 0 ? 0.8 : -0.2;
    }
    d.rows.push_back({kCities[city], "u" + std::to_string(user), std::to_string(hour), tags});
    d.click.push_back(rng.bernoulli(logistic(z)) ? 1.0f : 0.0f);
  }
  return d;
}

ctr::FeatureSpace click_space(const RawClicks& raw) {
  ctr::FeatureSpaceBuilder builder(
      {{.name = "city", .kind = ctr::FieldKind::vocabulary, .min_count = 2},
       {.name = "user", .kind = ctr::FieldKind::hashed, .hash_buckets = 6},
       {.name = "hour", .kind = ctr::FieldKind::integer, .cardinality = 6},
       {.name = "tags",
        .kind = ctr::FieldKind::vocabulary,
        .multi_valued = true,
        .pooling = ctr::Pooling::mean}});
  for (const auto& row : raw.rows) {
    const std::vector<std::string_view> cells(row.begin(), row.end());
    builder.add_row(cells);
  }
  return builder.build();
}

ctr::SparseFeatures encode(const ctr::FeatureSpace& space, const RawClicks& raw) {
  ctr::SparseFeatures x;
  for (const auto& row : raw.rows) {
    const std::vector<std::string_view> cells(row.begin(), row.end());
    x.append_raw_row(space, cells);
  }
  return x;
}

Eigen::VectorXf to_vector(const std::vector<float>& values) {
  return Eigen::Map<const Eigen::VectorXf>(values.data(), static_cast<Index>(values.size()));
}

/// Training and validation click data on one feature space (fitted on the training rows).
struct ClickSets {
  ctr::CtrData train;
  ctr::CtrData validation;
};

ClickSets click_sets() {
  const RawClicks train = raw_clicks(300, 11);
  const RawClicks validation = raw_clicks(100, 12);
  const ctr::FeatureSpace space = click_space(train);
  return {ctr::CtrData(space, encode(space, train), to_vector(train.click)),
          ctr::CtrData(space, encode(space, validation), to_vector(validation.click))};
}

/// The conversion funnel over the click data: conversions only after clicks.
ctr::MultiTaskData funnel_data(const ctr::CtrData& clicks, std::uint64_t seed) {
  Rng rng(seed);
  const Index n = clicks.num_rows();
  Eigen::VectorXf click = clicks.click();
  Eigen::VectorXf conversion(n);
  for (Index i = 0; i < n; ++i) {
    conversion[i] = click[i] == 1.0f && rng.bernoulli(0.4) ? 1.0f : 0.0f;
  }
  click[0] = 1.0f;  // at least one conversion
  conversion[0] = 1.0f;
  return ctr::MultiTaskData::funnel(clicks.space(), clicks.features(), click, conversion);
}

/// Two tasks: the click (binary) and a continuous score, missing on every third row.
ctr::MultiTaskData two_task_data(const ctr::CtrData& clicks, std::uint64_t seed) {
  Rng rng(seed);
  const Index n = clicks.num_rows();
  ctr::RowMatrixXf labels(n, 2);
  ctr::RowMatrixXf mask = ctr::RowMatrixXf::Ones(n, 2);
  for (Index i = 0; i < n; ++i) {
    labels(i, 0) = clicks.click()[i];
    labels(i, 1) = static_cast<float>(0.5 * clicks.click()[i] + 0.3 * rng.normal());
    if (i % 3 == 2) mask(i, 1) = 0.0f;
  }
  return ctr::MultiTaskData(
      clicks.space(), clicks.features(), labels,
      {{"click", ctr::TaskKind::binary}, {"score", ctr::TaskKind::continuous}}, mask);
}

/// Small-batch single-threaded training (every CTR model): 2 epochs of batches of 64.
ctr::TrainingParams training(std::uint64_t seed, bool keep_optimizer_state = false) {
  ctr::TrainingParams t;
  t.epochs = 2;
  t.batch_size = 64;
  t.block_size = 32;
  t.optimizer.learning_rate = 0.01f;
  t.seed = seed;
  t.num_threads = 1;
  t.keep_optimizer_state = keep_optimizer_state;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Learners (small and single-threaded)

learn::ForestParams forest_params(std::uint64_t seed, Index num_trees = 2) {
  learn::ForestParams f;
  f.num_trees = num_trees;
  f.min_node_size = 15;
  f.max_depth = 3;
  f.max_bins = 32;
  f.seed = seed;
  f.num_threads = 1;
  return f;
}

learn::RegressionForest small_regression_forest(std::uint64_t seed) {
  return learn::RegressionForest(forest_params(seed));
}

learn::ClassificationForest small_classification_forest(std::uint64_t seed) {
  learn::ClassificationForestParams p;
  p.forest = forest_params(seed);
  return learn::ClassificationForest(p);
}

learn::GradientBoostingParams boosting_params(std::uint64_t seed) {
  learn::GradientBoostingParams p;
  p.max_iter = 4;
  p.max_leaf_nodes = 4;
  p.min_samples_leaf = 10;
  p.max_bins = 32;
  p.early_stopping = learn::EarlyStopping::disabled;
  p.seed = seed;
  p.num_threads = 1;
  return p;
}

cate::MetaLearnerParams meta_params(std::uint64_t seed) {
  cate::MetaLearnerParams p;
  p.num_folds = 2;
  p.seed = seed;
  p.num_threads = 1;
  return p;
}

// ---------------------------------------------------------------------------------------------
// One generator per registry name

using Generator = std::function<std::string()>;

std::map<std::string, Generator, std::less<>> generators() {
  std::map<std::string, Generator, std::less<>> g;

  // bidding
  g["bidding_rlb_value_function"] = [] {
    const std::vector<double> pdf = {0.05, 0.2, 0.3, 0.2, 0.15, 0.1};
    return bytes_of(tailor::bidding::RlbValueFunction::solve(12, 20, 0.05, pdf));
  };

  // cate (n = 100 rows: the training summary keeps six vectors of n doubles)
  g["cate_causal_forest"] = [] {
    cate::CausalForestParams p;
    p.forest = forest_params(1, 4);
    p.forest.min_node_size = 10;
    p.nuisance_num_trees = 2;
    return fit_causal(cate::CausalForest(p), 100, 21);
  };
  g["cate_s_learner_forest"] = [] {
    return fit_causal(
        cate::SLearner<learn::RegressionForest, learn::ClassificationForest>(
            meta_params(2), small_regression_forest(3), small_classification_forest(4)),
        100, 22);
  };
  g["cate_s_learner_linear"] = [] {
    return fit_causal(cate::SLearner<learn::Ridge, learn::LogisticRegression>(meta_params(5)), 100,
                      23);
  };
  g["cate_second_stage_model_forest"] = [] {  // from the R-learner
    return fit_causal(
        cate::RLearner<learn::RegressionForest, learn::ClassificationForest>(
            meta_params(6), small_regression_forest(7), small_classification_forest(8)),
        100, 24);
  };
  g["cate_second_stage_model_linear"] = [] {  // from the DR-learner
    return fit_causal(cate::DRLearner<learn::Ridge, learn::LogisticRegression>(meta_params(9)), 100,
                      25);
  };
  g["cate_t_learner_forest"] = [] {
    return fit_causal(
        cate::TLearner<learn::RegressionForest, learn::ClassificationForest>(
            meta_params(10), small_regression_forest(11), small_classification_forest(12)),
        100, 26);
  };
  g["cate_t_learner_linear"] = [] {
    return fit_causal(cate::TLearner<learn::Ridge, learn::LogisticRegression>(meta_params(13)), 100,
                      27);
  };
  g["cate_x_learner_forest"] = [] {
    return fit_causal(
        cate::XLearner<learn::RegressionForest, learn::ClassificationForest>(
            meta_params(14), small_regression_forest(15), small_classification_forest(16)),
        100, 28);
  };
  g["cate_x_learner_linear"] = [] {
    // Sample weights and known propensities: the file has weights and no propensity model.
    Rng rng(29);
    Vector weights(100);
    for (Index i = 0; i < weights.size(); ++i) weights[i] = rng.uniform(0.5, 1.5);
    tailor::CausalDataOptions options;
    options.sample_weights = weights;
    options.propensity = Vector::Constant(100, 0.5);
    return fit_causal(cate::XLearner<learn::Ridge, learn::LogisticRegression>(meta_params(17)), 100,
                      30, options);
  };

  // ctr (one feature space with a field of each kind; 300 training rows)
  g["ctr_deepfm"] = [] {
    const auto sets = click_sets();
    ctr::DeepFMParams p;
    p.embedding_dim = 3;
    p.hidden = {4};
    p.init_scale = 0.1f;
    p.training = training(41);
    return bytes_of(ctr::DeepFM(p).fit(sets.train));
  };
  g["ctr_factorization_machine"] = [] {
    // Validation metrics in the history and the optimizer state kept (warm-start files).
    const auto sets = click_sets();
    ctr::FactorizationMachineParams p;
    p.embedding_dim = 3;
    p.init_scale = 0.1f;
    p.training = training(42, /*keep_optimizer_state=*/true);
    ctr::FitOptions<ctr::FactorizationMachineModel> options;
    options.validation = &sets.validation;
    return bytes_of(ctr::FactorizationMachine(p).fit(sets.train, options));
  };
  g["ctr_feature_space"] = [] { return bytes_of(click_sets().train.space()); };
  g["ctr_field_aware_factorization_machine"] = [] {
    const auto sets = click_sets();
    ctr::FieldAwareFactorizationMachineParams p;
    p.embedding_dim = 2;
    p.training = training(43);
    return bytes_of(ctr::FieldAwareFactorizationMachine(p).fit(sets.train));
  };
  g["ctr_funnel_model_escm2"] = [] {
    const auto sets = click_sets();
    ctr::Escm2Params p;
    p.embedding_dim = 2;
    p.tower_hidden = {3};
    p.init_scale = 0.1f;
    p.counterfactual = ctr::Counterfactual::doubly_robust;
    p.training = training(44);
    return bytes_of(ctr::Escm2(p).fit(funnel_data(sets.train, 45)));
  };
  g["ctr_funnel_model_esmm"] = [] {
    const auto sets = click_sets();
    ctr::EsmmParams p;
    p.embedding_dim = 2;
    p.tower_hidden = {3};
    p.init_scale = 0.1f;
    p.training = training(46);
    return bytes_of(ctr::Esmm(p).fit(funnel_data(sets.train, 47)));
  };
  g["ctr_isotonic_calibrator"] = [] {
    // Predictions on a 0.05 grid, so the map has at most 21 knots.
    Rng rng(48);
    Eigen::VectorXf p(200), y(200);
    for (Index i = 0; i < p.size(); ++i) {
      const double q = std::round(rng.uniform() * 20.0) / 20.0;
      p[i] = static_cast<float>(q);
      y[i] = rng.bernoulli(q * q) ? 1.0f : 0.0f;
    }
    return bytes_of(ctr::IsotonicCalibrator::fit(p, y));
  };
  g["ctr_multi_task_model_mmoe"] = [] {
    const auto sets = click_sets();
    ctr::MmoeParams p;
    p.embedding_dim = 2;
    p.num_experts = 2;
    p.expert_hidden = {3};
    p.tower_hidden = {2};
    p.init_scale = 0.1f;
    p.training = training(49);
    return bytes_of(ctr::Mmoe(p).fit(two_task_data(sets.train, 50)));
  };
  g["ctr_multi_task_model_ple"] = [] {
    const auto sets = click_sets();
    ctr::PleParams p;
    p.embedding_dim = 2;
    p.levels = 2;
    p.shared_experts = 1;
    p.task_experts = 1;
    p.expert_hidden = {3};
    p.tower_hidden = {2};
    p.init_scale = 0.1f;
    p.task_weights = {1.0, 0.5};
    p.training = training(51);
    return bytes_of(ctr::Ple(p).fit(two_task_data(sets.train, 52)));
  };
  g["ctr_platt_calibrator"] = [] {
    Rng rng(53);
    Eigen::VectorXf p(100), y(100);
    for (Index i = 0; i < p.size(); ++i) {
      const double q = 0.05 + 0.9 * rng.uniform();
      p[i] = static_cast<float>(q);
      y[i] = rng.bernoulli(q * q) ? 1.0f : 0.0f;
    }
    return bytes_of(ctr::PlattCalibrator::fit(p, y));
  };
  g["ctr_pnn"] = [] {
    const auto sets = click_sets();
    ctr::PNNParams p;
    p.product = ctr::Product::both;
    p.embedding_dim = 2;
    p.hidden = {3};
    p.init_scale = 0.1f;
    p.training = training(54);
    return bytes_of(ctr::PNN(p).fit(sets.train));
  };
  g["ctr_profile_moe"] = [] {
    const auto sets = click_sets();
    ctr::ProfileMoeParams p;
    p.profile_field = "tags";
    p.num_experts = 2;
    p.expert_hidden = {3};
    p.embedding_dim = 2;
    p.hidden = {3};
    p.init_scale = 0.1f;
    p.gate_init_scale = 0.1f;
    p.training = training(55);
    return bytes_of(ctr::ProfileMoe(p).fit(sets.train));
  };
  g["ctr_sparse_logistic_regression"] = [] {
    const auto sets = click_sets();
    ctr::SparseLogisticRegressionParams p;
    p.training.epochs = 2;
    p.training.batch_size = 64;
    p.training.block_size = 32;
    p.training.seed = 56;
    p.training.num_threads = 1;
    return bytes_of(ctr::SparseLogisticRegression(p).fit(sets.train));
  };
  g["ctr_wide_deep"] = [] {
    const auto sets = click_sets();
    ctr::WideDeepParams p;
    p.embedding_dim = 3;
    p.hidden = {4};
    p.init_scale = 0.1f;
    p.training = training(57);
    return bytes_of(ctr::WideDeep(p).fit(sets.train));
  };

  // learn
  g["learn_bin_mapper"] = [] {
    learn::BinningParams p;
    p.max_bins = 8;
    return bytes_of(learn::BinMapper::fit(regression_data(100, 3, 61).X, p));
  };
  g["learn_classification_forest"] = [] {
    const auto d = classification_data(120, 3, 3, 62);
    return bytes_of(small_classification_forest(63).fit(d.X, d.y));
  };
  g["learn_gradient_boosting_classifier"] = [] {
    const auto d = classification_data(200, 3, 2, 64);
    return bytes_of(learn::GradientBoostingClassifier(boosting_params(65)).fit(d.X, d.y));
  };
  g["learn_gradient_boosting_regressor"] = [] {
    const auto d = regression_data(200, 3, 66);
    return bytes_of(learn::GradientBoostingRegressor(boosting_params(67)).fit(d.X, d.y));
  };
  g["learn_logistic_regression"] = [] {
    const auto d = classification_data(200, 4, 2, 68);
    return bytes_of(learn::LogisticRegression().fit(d.X, d.y));
  };
  g["learn_regression_forest"] = [] {
    const auto d = regression_data(150, 4, 69);
    return bytes_of(learn::RegressionForest(forest_params(70, 3)).fit(d.X, d.y));
  };
  g["learn_ridge"] = [] {
    const auto d = regression_data(100, 4, 71);
    return bytes_of(learn::Ridge().fit(d.X, d.y));
  };
  g["learn_tree_forest"] = [] {
    // The engine's forest alone (what every forest model embeds), without out-of-bag values.
    const auto d = regression_data(150, 4, 72);
    learn::ForestParams f = forest_params(73, 3);
    f.compute_oob = false;
    return bytes_of(learn::RegressionForest(f).fit(d.X, d.y).forest());
  };

  // policy
  g["policy_policy_tree"] = [] {
    // Three actions whose best choice depends on x0 and x1.
    const auto d = regression_data(100, 3, 81);
    Rng rng(82);
    Matrix scores(100, 3);
    for (Index i = 0; i < 100; ++i) {
      scores(i, 0) = 0.2 * rng.normal();
      scores(i, 1) = d.X(i, 0) + 0.2 * rng.normal();
      scores(i, 2) = d.X(i, 1) - 0.5 + 0.2 * rng.normal();
    }
    tailor::policy::PolicyTreeParams p;
    p.depth = 2;
    p.max_bins = 16;
    p.min_node_size = 5;
    p.num_threads = 1;
    return bytes_of(tailor::policy::PolicyTree(p).fit(d.X, scores));
  };

  // segment
  g["segment_kmeans_model"] = [] {
    segment::KMeansParams p;
    p.num_clusters = 3;
    p.n_init = 2;
    p.max_iter = 50;
    p.seed = 91;
    p.num_threads = 1;
    return bytes_of(segment::KMeans(p).fit(regression_data(60, 3, 92).X));
  };
  g["segment_nmf_model"] = [] {
    segment::NmfParams p;
    p.num_components = 2;
    p.max_iter = 30;
    p.seed = 93;
    p.num_threads = 1;
    return bytes_of(segment::Nmf(p).fit(nonnegative_data(40, 5, 94)));
  };
  g["segment_segmenter_model"] = [] {
    segment::SegmenterParams p;
    p.nmf.num_components = 2;
    p.nmf.max_iter = 30;
    p.nmf.num_threads = 1;
    p.kmeans.num_clusters = 3;
    p.kmeans.n_init = 2;
    p.kmeans.max_iter = 50;
    p.kmeans.seed = 95;
    p.kmeans.num_threads = 1;
    return bytes_of(segment::Segmenter(p).fit(nonnegative_data(40, 4, 96)));
  };
  g["segment_segmenter_model_no_nmf"] = [] {
    segment::SegmenterParams p;
    p.scaling = segment::Scaling::standard;
    p.use_nmf = false;
    p.normalize_scores = segment::ScoreNormalization::l2;
    p.kmeans.num_clusters = 3;
    p.kmeans.n_init = 2;
    p.kmeans.max_iter = 50;
    p.kmeans.seed = 97;
    p.kmeans.num_threads = 1;
    return bytes_of(segment::Segmenter(p).fit(regression_data(40, 3, 98).X));
  };

  // uplift
  g["uplift_uplift_forest"] = [] {
    // Binary outcomes, uplift +0.2 for x0 > 0 and −0.1 otherwise (randomized treatment).
    Rng rng(101);
    const Index n = 300;
    Matrix X(n, 3);
    Vector w(n), y(n);
    for (Index i = 0; i < n; ++i) {
      for (Index j = 0; j < 3; ++j) X(i, j) = rng.uniform(-1.0, 1.0);
      w[i] = rng.bernoulli(0.5) ? 1.0 : 0.0;
      const double tau = X(i, 0) > 0.0 ? 0.2 : -0.1;
      y[i] = rng.bernoulli(0.3 + 0.1 * X(i, 1) + w[i] * tau) ? 1.0 : 0.0;
    }
    tailor::uplift::UpliftForestParams p;
    p.forest = forest_params(102, 3);
    p.forest.min_node_size = 30;
    p.min_treated_per_leaf = 5;
    p.min_control_per_leaf = 5;
    return bytes_of(tailor::uplift::UpliftForest(p).fit(tailor::CausalData(X, w, y)));
  };

  return g;
}

bool write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  return static_cast<bool>(out);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argc > 0 ? argv[0] : "make_model_corpus");
    return 2;
  }
  const std::filesystem::path outdir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(outdir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", outdir.string().c_str(), ec.message().c_str());
    return 1;
  }

  auto gens = generators();
  int failures = 0;
  std::size_t total = 0;
  for (const tailor_fuzz::ModelLoader& loader : tailor_fuzz::model_loaders()) {
    const std::string name(loader.name);
    const auto it = gens.find(loader.name);
    if (it == gens.end()) {
      std::fprintf(stderr, "%-40s FAILED: no generator for this registry entry\n", name.c_str());
      ++failures;
      continue;
    }
    const Generator generate = std::move(it->second);
    gens.erase(it);
    const std::filesystem::path path = outdir / (name + ".bin");
    try {
      const std::string bytes = generate();
      if (!write_file(path, bytes)) {
        std::fprintf(stderr, "%-40s FAILED: cannot write %s\n", name.c_str(),
                     path.string().c_str());
        ++failures;
        continue;
      }
      // Read the file back through the registry: load, re-save, compare bytes.
      const std::string on_disk = read_file(path);
      std::istringstream in(on_disk, std::ios::binary);
      std::ostringstream again(std::ios::binary);
      loader.round_trip(in, again);
      if (on_disk != bytes || again.str() != bytes) {
        std::fprintf(stderr, "%-40s FAILED: re-saved %zu bytes differ from the %zu written\n",
                     name.c_str(), again.str().size(), bytes.size());
        ++failures;
        continue;
      }
      total += bytes.size();
      const char* note = bytes.size() > kMaxBytes      ? "  TOO LARGE"
                         : bytes.size() > kTargetBytes ? "  (above the 8 KB target)"
                                                       : "";
      std::printf("%-40s %7zu bytes%s\n", name.c_str(), bytes.size(), note);
      if (bytes.size() > kMaxBytes) ++failures;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%-40s FAILED: %s\n", name.c_str(), e.what());
      ++failures;
    }
  }
  for (const auto& [name, generator] : gens) {
    std::fprintf(stderr, "%-40s FAILED: generator without a registry entry\n", name.c_str());
    ++failures;
  }
  std::printf("%zu models, %zu bytes in %s\n", tailor_fuzz::model_loaders().size(), total,
              outdir.string().c_str());
  if (failures > 0) {
    std::fprintf(stderr, "%d failure(s)\n", failures);
    return 1;
  }
  return 0;
}
