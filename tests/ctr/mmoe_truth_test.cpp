// Known-truth validation of the multi-task models on the synthetic design of Ma et al. (KDD
// 2018, §3.2; datasets/multitask_designs.hpp): two regression tasks whose weight vectors have
// cosine ρ. Every model gets close to the noise floor σ²; MMoE and PLE beat Shared-Bottom when
// the tasks differ (ρ = 0.5) and tie with it when they are the same function (ρ = 1).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "tailor/ctr/multitask.hpp"
#include "tailor/datasets/multitask_designs.hpp"

namespace ctr = tailor::ctr;
namespace datasets = tailor::datasets;
using tailor::Index;

namespace {

// d numeric fields (one table row each, the value x_j): field f's embedding is x_f·v_f.
ctr::SparseFeatures numeric_rows(const ctr::FeatureSpace& space, const Eigen::MatrixXd& x) {
  ctr::SparseFeatures rows;
  for (Index i = 0; i < x.rows(); ++i) {
    for (Index f = 0; f < x.cols(); ++f)
      rows.push(f, static_cast<std::uint32_t>(space.offset(f)), static_cast<float>(x(i, f)));
    rows.end_row();
  }
  return rows;
}

struct Result {
  double shared_bottom, mmoe, ple;  // mean test MSE over the two tasks (against noisy labels)
};

Result run(double rho, const datasets::MmoeDesign& base, Index n) {
  datasets::MmoeDesign design = base;
  design.correlation = rho;
  const auto train = datasets::mmoe_sample(design, n, 1);
  const auto test = datasets::mmoe_sample(design, 20000, 2);
  std::vector<std::string> names;
  std::vector<Index> cards;
  for (Index f = 0; f < design.dim; ++f) {
    names.push_back(fmt::format("x{}", f));
    cards.push_back(1);
  }
  const auto space = ctr::integer_space(names, cards);
  const ctr::MultiTaskData data(
      space, numeric_rows(space, train.x), train.y.cast<float>(),
      {{"y1", ctr::TaskKind::continuous}, {"y2", ctr::TaskKind::continuous}});
  const auto test_x = numeric_rows(space, test.x);
  const ctr::TrainingParams training{.epochs = 20,
                                     .batch_size = 128,
                                     .block_size = 64,
                                     .optimizer = {.learning_rate = 3e-3f},
                                     .seed = 3};
  auto mse = [&](const ctr::MultiTaskModel& model) {
    const ctr::RowMatrixXf p = model.predict(test_x);
    return (p.cast<double>() - test.y).array().square().mean();
  };
  Result r{};
  r.shared_bottom = mse(ctr::SharedBottom({.embedding_dim = 4,
                                           .bottom_hidden = {64},
                                           .tower_hidden = {8},
                                           .init_scale = 0.3f,
                                           .training = training})
                            .fit(data));
  r.mmoe = mse(ctr::Mmoe({.embedding_dim = 4,
                          .num_experts = 8,
                          .expert_hidden = {16},
                          .tower_hidden = {8},
                          .init_scale = 0.3f,
                          .training = training})
                   .fit(data));
  r.ple = mse(ctr::Ple({.embedding_dim = 4,
                        .levels = 1,
                        .shared_experts = 4,
                        .task_experts = 2,
                        .expert_hidden = {16},
                        .tower_hidden = {8},
                        .init_scale = 0.3f,
                        .training = training})
                  .fit(data));
  return r;
}

}  // namespace

TEST_CASE("MMoE design: task correlation, Shared-Bottom vs MMoE and PLE",
          "[ctr][multitask][truth]") {
  // d = 16 numeric inputs (k = 4), σ = 0.1 (noise floor 0.01), 20,000 training rows, 20 epochs.
  // Shared-Bottom: a 64-unit bottom; MMoE: 8 experts of 16 units; PLE: one CGC level of 4 shared
  // and 2 per-task experts of 16 units; towers of 8 units.
  const datasets::MmoeDesign design{.dim = 16, .noise_sd = 0.1, .seed = 11};
  const double floor = design.noise_sd * design.noise_sd;
  const Result differ = run(0.5, design, 20000);
  const Result same = run(1.0, design, 20000);
  INFO("rho 0.5: test MSE shared-bottom " << differ.shared_bottom << ", MMoE " << differ.mmoe
                                          << ", PLE " << differ.ple);
  INFO("rho 1: test MSE shared-bottom " << same.shared_bottom << ", MMoE " << same.mmoe << ", PLE "
                                        << same.ple);
  // Different tasks: the gated models beat the shared bottom.
  CHECK(differ.mmoe < differ.shared_bottom);
  CHECK(differ.ple < differ.shared_bottom);
  // The same task twice: nothing to separate, the three tie (within 2%).
  CHECK(std::abs(same.mmoe - same.shared_bottom) <= 0.02 * same.shared_bottom);
  CHECK(std::abs(same.ple - same.shared_bottom) <= 0.02 * same.shared_bottom);
  // Every model explains the signal (label variance ≈ 1.5) down to within 2x the noise floor at
  // this size (1.2–1.4x with 80,000 rows); the "within 10% of the floor" needs more data
  // or training than a unit test affords.
  for (const Result& r : {differ, same}) {
    CHECK(r.shared_bottom < 2.0 * floor);
    CHECK(r.mmoe < 2.0 * floor);
    CHECK(r.ple < 2.0 * floor);
  }
}
