// Real-data smoke of the conversion and multi-task models on the samples in TAILOR_DATA_DIR:
// Ali-CCP (click, purchase), AliExpress and FuxiCTR's tiny_mtl (click, conversion), and UCI
// census-income (MMoE's task pair: income > 50,000 and never married). Each funnel file
// parses (io::read_ctr_csv for the features and the click, io::read_csv for the conversion
// column), the conversion ⇒ click invariant is checked by MultiTaskData::funnel, and every model
// fits and predicts with the right shapes. (Published Ali-CCP figures disagree between
// reproductions, so no accuracy is asserted on these few hundred rows.)
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tailor/ctr/multitask.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/io/ctr_csv.hpp"

namespace ctr = tailor::ctr;
namespace fs = std::filesystem;
using tailor::Index;

namespace {

struct Sample {
  std::string name;
  fs::path train;
  std::string conversion;  ///< the conversion column
  std::vector<std::string> categorical;
  std::vector<std::string> numeric;
};

}  // namespace

TEST_CASE("multi-task models on the real funnel samples", "[ctr][multitask][realdata]") {
  const char* dir = std::getenv("TAILOR_DATA_DIR");
  if (dir == nullptr || !fs::is_directory(dir)) {
    WARN("TAILOR_DATA_DIR not set or not a directory; skipping the real funnel samples");
    return;
  }
  const fs::path root(dir);
  std::vector<Sample> samples;
  {
    Sample ali{"ali_ccp", root / "ali_ccp_sample/ali_ccp_train_sample.csv", "purchase", {}, {}};
    for (const char* c : {"101", "121", "122", "124", "125", "126", "127", "128", "129", "205",
                          "206", "207", "210", "216", "508", "509", "702", "853", "301"})
      ali.categorical.emplace_back(c);
    for (const char* c :
         {"D109_14", "D110_14", "D127_14", "D150_14", "D508", "D509", "D702", "D853"})
      ali.numeric.emplace_back(c);
    samples.push_back(ali);
  }
  for (const auto& [name, path, numerics] :
       {std::tuple{"aliexpress", root / "aliexpress_sample/aliexpress_train_sample.csv", 63},
        std::tuple{"fuxictr_tiny_mtl", root / "fuxictr_tiny/tiny_mtl/train.csv", 63}}) {
    Sample s{name, path, "conversion", {}, {}};
    for (int c = 1; c <= 16; ++c) s.categorical.push_back(fmt::format("categorical_{}", c));
    for (int c = 1; c <= numerics; ++c) s.numeric.push_back(fmt::format("numerical_{}", c));
    samples.push_back(s);
  }
  for (const auto& s : samples) {
    INFO(s.name);
    if (!fs::exists(s.train)) {
      WARN(s.train.string() << " not found; skipping");
      continue;
    }
    tailor::io::CtrColumns columns;
    columns.label = "click";
    for (const auto& c : s.categorical) columns.categorical.push_back({.name = c});
    columns.numeric = s.numeric;
    auto [space, table] = tailor::io::read_ctr_csv(s.train, columns);
    const tailor::io::Table raw = tailor::io::read_csv(s.train);
    const Eigen::VectorXf conversion = raw.numeric(s.conversion).cast<float>();
    const Index n = table.features.num_rows();
    REQUIRE(n == static_cast<Index>(raw.num_rows()));
    REQUIRE(space.num_fields() == static_cast<Index>(s.categorical.size() + s.numeric.size()));
    if (conversion.sum() == 0.0f) {
      WARN(s.name << ": no conversion in the sample; only the multi-task models are fitted");
    }
    // The invariant holds in every sample: no conversion without a click.
    for (Index i = 0; i < n; ++i) REQUIRE((conversion[i] == 0.0f || table.click[i] == 1.0f));
    const ctr::TrainingParams training{.epochs = 2, .batch_size = 32, .seed = 1};
    if (conversion.sum() > 0.0f) {
      const auto data = ctr::MultiTaskData::funnel(space, table.features, table.click, conversion);
      const ctr::EsmmParams small{.embedding_dim = 4, .tower_hidden = {8}, .training = training};
      for (const auto& model : {ctr::ClickedCvr(small).fit(data), ctr::Esmm(small).fit(data),
                                ctr::Escm2({.embedding_dim = 4,
                                .tower_hidden = {8},
                                .counterfactual = ctr::Counterfactual::doubly_robust,
                                .training = training})
                                    .fit(data)}) {
        const auto p = model.predict(data);
        CHECK(p.pctr.size() == n);
        CHECK(p.pcvr.size() == n);
        CHECK(p.pctcvr.allFinite());
        CHECK(p.pctcvr.maxCoeff() <= 1.0f);
      }
      const auto mmoe = ctr::Mmoe({.embedding_dim = 4,
                                   .num_experts = 2,
                                   .expert_hidden = {8},
                                   .tower_hidden = {4},
                                   .training = training})
                            .fit(data);
      const ctr::RowMatrixXf q = mmoe.predict(data);
      CHECK(q.rows() == n);
      CHECK(q.cols() == 2);
      const auto ple = ctr::Ple({.embedding_dim = 4,
                                 .levels = 2,
                                 .shared_experts = 1,
                                 .task_experts = 1,
                                 .expert_hidden = {8},
                                 .tower_hidden = {4},
                                 .training = training})
                           .fit(data);
      CHECK(ple.predict(data).allFinite());
      CHECK(ple.gate_report(data.features()).size() == 5u);
    }
  }
}

TEST_CASE("multi-task models on the census-income sample (income, marital status)",
          "[ctr][multitask][realdata]") {
  const char* dir = std::getenv("TAILOR_DATA_DIR");
  const fs::path path =
      dir != nullptr ? fs::path(dir) / "census_income_sample/census-income.sample" : fs::path();
  if (dir == nullptr || !fs::exists(path)) {
    WARN("census-income sample not found; skipping");
    return;
  }
  // No header, 43 columns: an id, 41 features with the marital status among them (column_9),
  // and the income class last (column_43). Every feature column is a categorical field (the
  // marital status and the income are the labels, so they are left out of the features).
  tailor::io::CsvOptions options;
  options.header = false;
  const tailor::io::Table raw = tailor::io::read_csv(path, options);
  const Index n = static_cast<Index>(raw.num_rows());
  REQUIRE(raw.column_names().size() == 43u);
  tailor::io::CtrColumns columns;
  columns.label = "";
  for (std::size_t c = 2; c <= 42; ++c) {
    if (c == 9) continue;
    columns.categorical.push_back({.name = fmt::format("column_{}", c)});
  }
  auto [space, table] = tailor::io::read_ctr_csv(path, columns, options);
  REQUIRE(table.features.num_rows() == n);
  auto text = [&](std::size_t column, Index i) {
    const auto& name = raw.column_names()[column - 1];
    const auto& values = raw.strings(name);
    return values[static_cast<std::size_t>(i)];
  };
  ctr::RowMatrixXf labels(n, 2);
  for (Index i = 0; i < n; ++i) {
    labels(i, 0) = text(43, i).find("50000+") != std::string::npos ? 1.0f : 0.0f;
    labels(i, 1) = text(9, i).find("Never married") != std::string::npos ? 1.0f : 0.0f;
  }
  const ctr::MultiTaskData data(space, table.features, labels, {{"income"}, {"never_married"}});
  const ctr::TrainingParams training{.epochs = 3, .batch_size = 32, .seed = 1};
  const auto sb =
      ctr::SharedBottom(
          {.embedding_dim = 4, .bottom_hidden = {8}, .tower_hidden = {4}, .training = training})
          .fit(data);
  const auto mmoe = ctr::Mmoe({.embedding_dim = 4,
                               .num_experts = 3,
                               .expert_hidden = {8},
                               .tower_hidden = {4},
                               .training = training})
                        .fit(data);
  for (const auto* model : {&sb, &mmoe}) {
    const ctr::RowMatrixXf p = model->predict(data);
    CHECK(p.rows() == n);
    CHECK(p.cols() == 2);
    CHECK(p.allFinite());
  }
  CHECK(mmoe.gate_report(data.features()).size() == 2u);
}
