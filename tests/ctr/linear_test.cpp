// Tests of ctr/linear.hpp: the exact (L-BFGS) solver against an independent convex reference on
// the real iPinYou sample ([realdata]) and against learn::LogisticRegression's Newton solver on
// the dense one-hot design; the stochastic solver (FTRL sparsity, lazy vs dense Adam through the
// trainer); determinism, save/load and bad input.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <string>

#include "ctr_test_data.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/linear.hpp"
#include "tailor/io/libsvm.hpp"
#include "tailor/learn/logistic_regression.hpp"

namespace ctr = tailor::ctr;
namespace fs = std::filesystem;
using tailor::Index;

namespace {

fs::path sample_dir() {
  const char* dir = std::getenv("TAILOR_DATA_DIR");
  return dir ? fs::path(dir) / "ipinyou_fm_sample" : fs::path();
}

std::string bytes_of(const ctr::SparseLogisticRegressionModel& model) {
  std::ostringstream out;
  tailor::save(model, out);
  return out.str();
}

Eigen::VectorXd as_double(const Eigen::VectorXf& v) {
  return v.cast<double>();
}

}  // namespace

TEST_CASE("L-BFGS logistic regression matches the convex reference on the iPinYou sample",
          "[ctr][linear][realdata]") {
  const fs::path dir = sample_dir();
  if (dir.empty() || !fs::exists(dir / "featindex.fm.txt")) {
    WARN("TAILOR_DATA_DIR/ipinyou_fm_sample not found; skipping the convex reference");
    return;
  }
  const auto index = tailor::io::read_featindex(dir / "featindex.fm.txt");
  auto train_rows = tailor::io::read_libfm(dir / "train.fm.txt", index);
  auto test_rows = tailor::io::read_libfm(dir / "test.fm.txt", index);
  const ctr::CtrData train(index.space, std::move(train_rows.features),
                           std::move(train_rows.click));
  const ctr::CtrData test(index.space, std::move(test_rows.features), std::move(test_rows.click));
  // References: the (scikit-learn 1.2.1 LogisticRegression, lbfgs, tol 1e-10) objective
  // Σ softplus(η) − yη + ½α‖β‖² with an unpenalized intercept — 1252.8915 at α = 1 and 1387.1015
  // at α = 10 — to 1e-5 relative. scikit-learn stops on its relative-decrease rule with
  // ‖∇f‖∞ ≈ 0.008 (intercept −6.6370 / −5.4789), so the intercept and the objective's last
  // digits come from SciPy's L-BFGS-B run to ‖∇f‖∞ < 1e-5 (gtol 1e-12, ftol 0, 20 pairs):
  // objective 1252.8914592 / 1387.1014987, intercept −6.65810 / −5.47768.
  struct Case {
    double alpha, objective, tight_objective, intercept, auc, log_loss;
  };
  for (const Case c : {Case{1.0, 1252.8915, 1252.8914592, -6.65810, 0.5778, 0.01948},
                       Case{10.0, 1387.1015, 1387.1014987, -5.47768, 0.5886, 0.01935}}) {
    ctr::SparseLogisticRegression lr(
        {.solver = ctr::LogisticSolver::lbfgs, .lbfgs = {.l2 = c.alpha, .max_iterations = 2000}});
    const auto model = lr.fit(train, {.validation = &test});
    const auto& report = model.solver_report();
    INFO("alpha = " << c.alpha << ", objective = " << std::setprecision(10) << report.objective
                    << ", iterations = " << report.iterations
                    << ", gradient = " << report.gradient_norm);
    CHECK(report.converged);
    CHECK(report.objective == Approx(c.objective).epsilon(1e-5));
    CHECK(report.objective == Approx(c.tight_objective).epsilon(1e-9));
    CHECK(model.intercept() == Approx(c.intercept).margin(1e-3));
    const Eigen::VectorXd p = as_double(model.predict(test));
    const Eigen::VectorXd y = as_double(test.click());
    CHECK(tailor::metrics::roc_auc(y, p) == Approx(c.auc).margin(1e-3));
    CHECK(tailor::metrics::log_loss(y, p) == Approx(c.log_loss).margin(1e-4));
    CHECK(model.history().epochs.front().validation_auc == Approx(tailor::metrics::roc_auc(y, p)));
  }
}

TEST_CASE("L-BFGS equals learn::LogisticRegression's Newton solution on the one-hot design",
          "[ctr][linear]") {
  const auto data = ctr::test::random_click_data(2000, 3, 8, 17, /*multi=*/true);
  const auto model =
      ctr::SparseLogisticRegression({.solver = ctr::LogisticSolver::lbfgs, .lbfgs = {.l2 = 2.0}})
          .fit(data);
  // Dense design: one column per table row, entries' values summed.
  const Index n = data.num_rows();
  const Index p = data.space().num_rows();
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(n, p);
  const auto& x = data.features();
  for (Index i = 0; i < n; ++i) {
    for (auto e = x.row_ptr[static_cast<std::size_t>(i)];
         e < x.row_ptr[static_cast<std::size_t>(i) + 1]; ++e) {
      X(i, x.index[static_cast<std::size_t>(e)]) += x.value_at(e);
    }
  }
  const auto newton =
      tailor::learn::LogisticRegression({.alpha = 2.0}).fit(X, as_double(data.click()));
  CHECK(model.intercept() == Approx(newton.intercept()).margin(1e-5));
  CHECK((model.weights().cast<double>() - newton.coefficients()).lpNorm<Eigen::Infinity>() < 1e-5);
  // Bit-identical for any thread count.
  auto threaded = [&](Index threads) {
    return bytes_of(ctr::SparseLogisticRegression({.solver = ctr::LogisticSolver::lbfgs,
                                                   .training = {.num_threads = threads},
                                                   .lbfgs = {.l2 = 2.0}})
                        .fit(data));
  };
  CHECK(threaded(1) == threaded(2));
  CHECK(threaded(1) == threaded(7));
}

TEST_CASE("FTRL with L1 zeroes weights; the stochastic solver learns the planted model",
          "[ctr][linear]") {
  const auto train = ctr::test::random_click_data(20000, 4, 30, 3);
  const auto dense =
      ctr::SparseLogisticRegression({.training = {.epochs = 2, .batch_size = 64}}).fit(train);
  CHECK(dense.num_zero_weights() < 10);
  const Eigen::VectorXd y = as_double(train.click());
  const double auc = tailor::metrics::roc_auc(y, as_double(dense.predict(train)));
  CHECK(auc > 0.75);
  const auto sparse =
      ctr::SparseLogisticRegression({.training = {.epochs = 2,
                                                  .batch_size = 64,
                                                  .optimizer = {.kind = ctr::OptimizerKind::ftrl,
                                                                .learning_rate = 0.05f,
                                                                .l1 = 2.0f}}})
          .fit(train);
  CHECK(sparse.num_zero_weights() > dense.num_zero_weights() + 20);
  CHECK(tailor::metrics::roc_auc(y, as_double(sparse.predict(train))) > auc - 0.1);
  // Save → load → identical predictions and bytes.
  const std::string bytes = bytes_of(sparse);
  std::istringstream in(bytes);
  const auto loaded = tailor::load<ctr::SparseLogisticRegressionModel>(in);
  CHECK(loaded.predict(train) == sparse.predict(train));
  CHECK(bytes_of(loaded) == bytes);
}

TEST_CASE("Lazy Adam moves only the rows a batch touches; dense Adam moves every row",
          "[ctr][linear][trainer]") {
  // Four rows, batches of two, no shuffling: table row 'a=0' appears in the first batch only.
  const ctr::FeatureSpace space =
      ctr::FeatureSpaceBuilder({{.name = "a", .kind = ctr::FieldKind::integer, .cardinality = 4}})
          .build();
  ctr::SparseFeatures x;
  for (std::uint32_t r : {0u, 1u, 2u, 3u}) {
    x.push(0, r);
    x.end_row();
  }
  const ctr::CtrData data(space, x, Eigen::Vector4f(1.0f, 0.0f, 1.0f, 0.0f));
  auto fit = [&](bool lazy, Index epochs) {
    return ctr::SparseLogisticRegression(
               {.training = {.epochs = epochs,
                             .batch_size = 2,
                             .optimizer = {.kind = ctr::OptimizerKind::adam,
                                           .learning_rate = 0.1f,
                                           .lazy = lazy},
                             .shuffle = false}})
        .fit(data);
  };
  const auto lazy = fit(true, 1);
  const auto dense = fit(false, 1);
  // Step 1 (rows 0, 1): the bias gradient is the batch mean of σ(b) − y = 0.5 − 0.5 = 0 at the
  // base rate 0.5, and row 0's gradient is (0.5 − 1)/2 = −0.25: Adam's first step moves it by
  // lr · m̂/(√v̂ + ε) = 0.1 · 0.25/(0.25 + 1e-8) ≈ 0.1.
  // Step 2 (rows 2, 3): lazy leaves row 0 alone; dense Adam moves it again with its decayed
  // moments: m = 0.9 · 0.1 · (−0.25), v = 0.999 · 0.001 · 0.0625.
  CHECK(lazy.weights()[0] == Approx(0.1f).epsilon(1e-5));
  const double m = 0.9 * 0.1 * -0.25;
  const double v = 0.999 * 0.001 * 0.0625;
  const double step = 0.1 / (1.0 - 0.81) * m / (std::sqrt(v / (1.0 - 0.999 * 0.999)) + 1e-8);
  CHECK(dense.weights()[0] == Approx(0.1 - step).epsilon(1e-4));
  CHECK(lazy.weights()[2] == Approx(dense.weights()[2]));
  CHECK(lazy.weights()[4] == 0.0f);   // the OOV row is never touched
  CHECK(dense.weights()[4] == 0.0f);  // ... and dense Adam gives it zero moments
}

TEST_CASE("SparseLogisticRegression rejects bad parameters", "[ctr][linear][errors]") {
  CHECK_THROWS_WITH(ctr::SparseLogisticRegression({.lbfgs = {.l2 = -1.0}}),
                    Catch::Contains("SparseLogisticRegression: lbfgs.l2 = -1"));
  CHECK_THROWS_WITH(ctr::SparseLogisticRegression({.lbfgs = {.max_iterations = 0}}),
                    Catch::Contains("lbfgs.max_iterations = 0"));
  CHECK_THROWS_WITH(ctr::SparseLogisticRegression({.training = {.epochs = 0}}),
                    Catch::Contains("training.epochs = 0"));
  CHECK_THROWS_WITH(ctr::SparseLogisticRegression({.solver = static_cast<ctr::LogisticSolver>(3)}),
                    Catch::Contains("solver = 3"));
}
