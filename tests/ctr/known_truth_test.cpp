// Known-truth validation of the click models on datasets::CtrWorld (a hidden factorization-
// machine logit, true P(click) for every row): FM learns interactions that LR cannot, and the
// negative down-sampling correction (ctr/calibration.hpp) restores the click rate.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tailor/core/metrics.hpp"
#include "tailor/ctr/calibration.hpp"
#include "tailor/ctr/fm.hpp"
#include "tailor/ctr/linear.hpp"
#include "tailor/datasets/ctr_worlds.hpp"

namespace ctr = tailor::ctr;
namespace datasets = tailor::datasets;
using tailor::Index;

namespace {

struct World {
  ctr::FeatureSpace space;
  datasets::CtrSample train;
  datasets::CtrSample test;
};

World make_world(const datasets::CtrWorldSetup& setup, Index n_train, Index n_test) {
  const datasets::CtrWorld world(setup);
  std::vector<std::string> names;
  for (Index f = 0; f < setup.num_fields; ++f) names.push_back(fmt::format("f{}", f));
  return {ctr::integer_space(names, world.cardinalities()), world.sample(n_train, 1),
          world.sample(n_test, 2)};
}

double auc(const Eigen::VectorXf& y, const Eigen::VectorXf& p) {
  return tailor::metrics::roc_auc(y.cast<double>(), p.cast<double>());
}

}  // namespace

TEST_CASE("FM recovers an interaction-only world that LR cannot", "[ctr][fm][truth]") {
  // The research notes' world (a): 8 fields with 10 … 200 ids, no first-order weights, hidden
  // rank-8 factors with sd 0.4, CTR 3%; 100k training and 50k test rows.
  const World w = make_world({.num_fields = 8,
                              .min_cardinality = 10,
                              .max_cardinality = 200,
                              .rank = 8,
                              .first_order_scale = 0.0,
                              .factor_scale = 0.4,
                              .click_rate = 0.03,
                              .seed = 0},
                             100000, 50000);
  const ctr::CtrData train(w.space, ctr::encode_ids(w.space, w.train.ids), w.train.click);
  const ctr::CtrData test(w.space, ctr::encode_ids(w.space, w.test.ids), w.test.click);
  const double oracle = tailor::metrics::roc_auc(w.test.click.cast<double>(), w.test.p_click);
  const auto fm =
      ctr::FactorizationMachine({.embedding_dim = 8,
                                 .training = {.epochs = 4,
                                              .batch_size = 1024,
                                              .optimizer = {.learning_rate = 1e-2f, .l2 = 1e-4f},
                                              .seed = 1}})
          .fit(train, {.validation = &test});
  const auto lr =
      ctr::SparseLogisticRegression({.solver = ctr::LogisticSolver::lbfgs, .lbfgs = {.l2 = 1.0}})
          .fit(train);
  const double fm_auc = auc(test.click(), fm.predict(test));
  const double lr_auc = auc(test.click(), lr.predict(test));
  INFO("oracle " << oracle << ", FM " << fm_auc << ", LR " << lr_auc);
  // numpy's draw of this world: oracle 0.966, FM 0.933–0.935 (gap 0.033), LR 0.75. tailor's
  // seed-0 draw is a weaker world (oracle 0.922; across seeds both generators average
  // 0.94–0.95). Measured here: FM 0.877 (gap 0.045; 0.871 without L2, overfitting after 4
  // epochs), LR 0.662. The bounds leave room for the platform's float rounding only.
  CHECK(oracle > 0.9);
  CHECK(fm_auc > oracle - 0.06);
  CHECK(fm_auc > lr_auc + 0.15);
  CHECK(lr_auc < oracle - 0.2);
  CHECK(fm.history().epochs.back().validation_auc == Approx(fm_auc).epsilon(1e-6));
  // FM's mean prediction tracks the click rate: its calibration ratio Σp/Σy is within 0.15 of
  // the true probabilities' own ratio on these test rows (measured: 1.123 against 1.024; the
  // overfitted interactions inflate it).
  const double oracle_ratio = w.test.p_click.sum() / w.test.click.cast<double>().sum();
  INFO("calibration ratio: FM " << fm.history().epochs.back().validation_calibration_ratio
                                << ", true probabilities " << oracle_ratio);
  CHECK(fm.history().epochs.back().validation_calibration_ratio ==
        Approx(oracle_ratio).margin(0.15));
}

TEST_CASE("The down-sampling correction restores the click rate after keeping 10% of negatives",
          "[ctr][calibration][truth]") {
  const datasets::CtrWorldSetup setup{.num_fields = 6,
                                      .min_cardinality = 5,
                                      .max_cardinality = 100,
                                      .first_order_scale = 0.5,
                                      .factor_scale = 0.1,
                                      .click_rate = 0.03,
                                      .seed = 4};
  const World w = make_world(setup, 200000, 50000);
  // Keep every click and a fixed 10% of the non-clicks (row-hashed, deterministic).
  const double keep = 0.1;
  std::vector<Index> kept;
  tailor::Rng rng(5, 0);
  for (Index i = 0; i < w.train.click.size(); ++i) {
    const bool keep_row = w.train.click[i] == 1.0f || rng.uniform() < keep;
    if (keep_row) kept.push_back(i);
  }
  Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> ids(
      static_cast<Index>(kept.size()), setup.num_fields);
  Eigen::VectorXf click(static_cast<Index>(kept.size()));
  for (std::size_t r = 0; r < kept.size(); ++r) {
    ids.row(static_cast<Index>(r)) = w.train.ids.row(kept[r]);
    click[static_cast<Index>(r)] = w.train.click[kept[r]];
  }
  const ctr::CtrData sampled(w.space, ctr::encode_ids(w.space, ids), click);
  const auto model =
      ctr::SparseLogisticRegression({.solver = ctr::LogisticSolver::lbfgs, .lbfgs = {.l2 = 1.0}})
          .fit(sampled);
  const Eigen::VectorXf raw = model.predict(ctr::encode_ids(w.space, w.test.ids));
  const Eigen::VectorXf corrected = ctr::correct_negative_downsampling(raw, keep);
  const double true_ctr = w.test.p_click.mean();
  INFO("true CTR " << true_ctr << ", raw " << raw.mean() << ", corrected " << corrected.mean());
  CHECK(raw.mean() > 3.0 * true_ctr);  // the down-sampled model overstates the rate
  CHECK(corrected.cast<double>().mean() == Approx(true_ctr).epsilon(0.05));
  // Ranking is unchanged by the monotone correction.
  CHECK(auc(w.test.click, corrected) == Approx(auc(w.test.click, raw)).epsilon(1e-9));
  CHECK_THROWS_WITH(ctr::correct_negative_downsampling(raw, 0.0),
                    Catch::Contains("keep_rate = 0, expected in (0, 1]"));
  CHECK_THROWS_WITH(ctr::correct_negative_downsampling(Eigen::Vector2f(0.5f, 1.5f), 0.5),
                    Catch::Contains("p[1] = 1.5"));
}
