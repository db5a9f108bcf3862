// Known-truth validation of the conversion models on a generated funnel (datasets::CtrWorld:
// hidden factorization-machine logits, CVR weights correlated with the CTR weights, the true
// pCTR and pCVR of every impression): the naive CVR model (trained on clicks) and ESMM overstate
// the mean pCVR over all impressions; ESCM² (IPS and DR) brings it closer to the truth, ranks
// entire-space conversions better, and keeps ESMM's CTCVR AUC.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "tailor/core/metrics.hpp"
#include "tailor/core/random.hpp"
#include "tailor/ctr/multitask.hpp"
#include "tailor/datasets/ctr_worlds.hpp"

namespace ctr = tailor::ctr;
namespace datasets = tailor::datasets;
using tailor::Index;

namespace {

struct Scores {
  double bias = 0.0;       ///< mean pCVR − mean true pCVR over all test impressions
  double auc_all = 0.0;    ///< pCVR against conversions drawn from the true pCVR on all rows
  double auc_ctcvr = 0.0;  ///< pCTCVR against click ∧ conversion
};

}  // namespace

TEST_CASE("funnel known truth: selection bias of naive CVR and ESMM, ESCM² corrections",
          "[ctr][multitask][truth]") {
  // World: 8 fields (10 … 500 ids), CTR 10%, CVR among clicks 10%, ρ = 0.5; 100,000 training
  // and 100,000 test impressions; towers of 32 units, k = 8, batch 512, 2 epochs. The example
  // `ctr_funnel --rows 100000 --test-rows 100000 --fields 8 --max-cardinality 500
  // --click-rate 0.1 --dim 8 --hidden 32 --batch 512 --epochs 2 --seed S` prints the same models.
  constexpr int kSeeds = 3;
  std::vector<std::vector<Scores>> scores(4);  // naive, esmm, ips, dr
  for (int s = 1; s <= kSeeds; ++s) {
    datasets::CtrWorldSetup setup;
    setup.num_fields = 8;
    setup.max_cardinality = 500;
    setup.click_rate = 0.1;
    setup.seed = static_cast<std::uint64_t>(s);
    const datasets::CtrWorld world(setup);
    const auto train = world.sample(100000, 1);
    const auto test = world.sample(100000, 2);
    std::vector<std::string> names;
    for (Index f = 0; f < setup.num_fields; ++f) names.push_back(fmt::format("f{}", f));
    const auto space = ctr::integer_space(names, world.cardinalities());
    const auto data = ctr::MultiTaskData::funnel(space, ctr::encode_ids(space, train.ids),
                                                 train.click, train.conversion);
    const auto test_x = ctr::encode_ids(space, test.ids);
    Eigen::VectorXd converted_all(test.click.size());
    tailor::Rng rng(static_cast<std::uint64_t>(s), 77);
    for (Index i = 0; i < converted_all.size(); ++i)
      converted_all[i] = rng.uniform() < test.p_conversion[i];
    const double truth = test.p_conversion.mean();
    const ctr::TrainingParams training{
        .epochs = 2, .batch_size = 512, .seed = static_cast<std::uint64_t>(s)};
    const ctr::EsmmParams esmm{.embedding_dim = 8, .tower_hidden = {32}, .training = training};
    auto escm2 = [&](ctr::Counterfactual c) {
      return ctr::Escm2(
          {.embedding_dim = 8, .tower_hidden = {32}, .counterfactual = c, .training = training});
    };
    const std::vector<ctr::FunnelModel> models = {
        ctr::ClickedCvr(esmm).fit(data), ctr::Esmm(esmm).fit(data),
        escm2(ctr::Counterfactual::ips).fit(data),
        escm2(ctr::Counterfactual::doubly_robust).fit(data)};
    for (std::size_t m = 0; m < models.size(); ++m) {
      const auto p = models[m].predict(test_x);
      Scores sc;
      sc.bias = p.pcvr.cast<double>().mean() - truth;
      sc.auc_all = tailor::metrics::roc_auc(converted_all, p.pcvr.cast<double>());
      sc.auc_ctcvr =
          tailor::metrics::roc_auc(test.conversion.cast<double>(), p.pctcvr.cast<double>());
      scores[m].push_back(sc);
      UNSCOPED_INFO("seed " << s << " model " << m << ": bias " << sc.bias << ", CVR AUC (all) "
                            << sc.auc_all << ", CTCVR AUC " << sc.auc_ctcvr);
    }
    // No collapsed CVR tower.
    for (const auto& model : models) CHECK_FALSE(model.diagnose(data).collapsed);
  }
  auto mean_bias = [&](std::size_t m) {
    double sum = 0.0;
    for (const auto& sc : scores[m]) sum += sc.bias;
    return sum / kSeeds;
  };
  // (1) Naive CVR and ESMM overstate the mean pCVR over all impressions (mean over seeds).
  CHECK(mean_bias(0) > 0.0);
  CHECK(mean_bias(1) > 0.0);
  // (2) ESCM² (IPS, DR) brings the mean pCVR closer to the truth than ESMM: the estimator's bias
  // (its mean over the seeds) is smaller in absolute value.
  CHECK(std::abs(mean_bias(2)) < std::abs(mean_bias(1)));
  CHECK(std::abs(mean_bias(3)) < std::abs(mean_bias(1)));
  for (int s = 0; s < kSeeds; ++s) {
    const auto u = static_cast<std::size_t>(s);
    // (3) Entire-space ranking of conversions at least ESMM's.
    CHECK(scores[2][u].auc_all >= scores[1][u].auc_all);
    CHECK(scores[3][u].auc_all >= scores[1][u].auc_all);
    // (4) CTCVR AUC within 0.005 of ESMM's.
    CHECK(std::abs(scores[2][u].auc_ctcvr - scores[1][u].auc_ctcvr) <= 0.005);
    CHECK(std::abs(scores[3][u].auc_ctcvr - scores[1][u].auc_ctcvr) <= 0.005);
  }
}
