// Tests of ctr/fm.hpp (and, through it, the one trainer): Rendle's identity against brute force,
// gradients against central differences of an independent double-precision loss, one SGD step
// of the trainer against the full-batch gradient, determinism across threads, save/load,
// warm start and bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "ctr_test_data.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/fm.hpp"

namespace ctr = tailor::ctr;
using tailor::Index;

namespace {

// Brute-force FM logit in double: b + Σ w_j x_j + Σ_{i<j} <v_i, v_j> x_i x_j over the entries.
double brute_force_logit(const ctr::FmNetwork& net, const ctr::SparseFeatures& x, Index i) {
  double z = net.bias.value(0, 0);
  const auto begin = x.row_ptr[static_cast<std::size_t>(i)];
  const auto end = x.row_ptr[static_cast<std::size_t>(i) + 1];
  for (auto a = begin; a < end; ++a) {
    z += static_cast<double>(net.linear.value(x.index[static_cast<std::size_t>(a)], 0)) *
         x.value_at(a);
    for (auto b = a + 1; b < end; ++b) {
      double dot = 0.0;
      for (Index d = 0; d < net.dim(); ++d) {
        dot += static_cast<double>(net.factors.value(x.index[static_cast<std::size_t>(a)], d)) *
               net.factors.value(x.index[static_cast<std::size_t>(b)], d);
      }
      z += dot * x.value_at(a) * x.value_at(b);
    }
  }
  return z;
}

ctr::FmNetwork random_network(Index rows, Index k, std::uint64_t seed) {
  ctr::FmNetwork net;
  tailor::Rng rng(seed, 7);
  net.linear.value.resize(rows, 1);
  net.factors.value.resize(rows, k);
  for (Index r = 0; r < rows; ++r) {
    net.linear.value(r, 0) = static_cast<float>(0.3 * rng.normal());
    for (Index d = 0; d < k; ++d) net.factors.value(r, d) = static_cast<float>(0.5 * rng.normal());
  }
  net.bias.value.setConstant(1, 1, -0.7f);
  return net;
}

// Mean BCE of the brute-force logits over all rows, in double.
double mean_loss(const ctr::FmNetwork& net, const ctr::CtrData& data) {
  double total = 0.0;
  for (Index i = 0; i < data.num_rows(); ++i) {
    total += ctr::bce_with_logits(brute_force_logit(net, data.features(), i), data.click()[i]);
  }
  return total / static_cast<double>(data.num_rows());
}

std::string bytes_of(const ctr::FactorizationMachineModel& model) {
  std::ostringstream out;
  tailor::save(model, out);
  return out.str();
}

}  // namespace

TEST_CASE("FM forward equals the brute-force pairwise sum with repeated fields and values",
          "[ctr][fm]") {
  const auto data = ctr::test::random_click_data(40, 3, 6, 11, /*multi=*/true);
  const auto net = random_network(data.space().num_rows(), 5, 3);
  const auto& x = data.features();
  REQUIRE(x.has_values());
  auto ws = net.make_workspace(x.num_rows());
  std::vector<float> z(static_cast<std::size_t>(x.num_rows()));
  net.forward(ctr::RowsView::of(x), 0, x.num_rows(), ws, z.data());
  for (Index i = 0; i < x.num_rows(); ++i) {
    CHECK(z[static_cast<std::size_t>(i)] ==
          Approx(brute_force_logit(net, x, i)).epsilon(1e-5).margin(1e-5));
    const ctr::SparseRow row = x.row(i);
    CHECK(net.logit_one(row.index, row.value) ==
          Approx(brute_force_logit(net, x, i)).epsilon(1e-5).margin(1e-5));
  }
}

TEST_CASE("FM gradients match central differences of the double-precision loss",
          "[ctr][fm][gradient]") {
  const auto data = ctr::test::random_click_data(24, 3, 4, 5, /*multi=*/true);
  auto net = random_network(data.space().num_rows(), 3, 9);
  const auto& x = data.features();
  const Index n = x.num_rows();
  // Analytic gradient of the mean loss through forward/backward.
  auto ws = net.make_workspace(n);
  std::vector<float> z(static_cast<std::size_t>(n));
  const auto view = ctr::RowsView::of(x);
  net.forward(view, 0, n, ws, z.data());
  std::vector<float> dz(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    dz[static_cast<std::size_t>(i)] = static_cast<float>(
        ctr::bce_with_logits_gradient(z[static_cast<std::size_t>(i)], data.click()[i]) /
        static_cast<double>(n));
  }
  std::vector<float> dw(x.index.size());
  std::vector<float> dv(x.index.size() * 3);
  ctr::BlockGradient g;
  g.dense.emplace_back(Eigen::MatrixXf::Zero(1, 1));
  g.entry = {dw.data(), dv.data()};
  net.backward(view, 0, n, ws, dz.data(), g);
  // Reduce entry gradients to table rows.
  const Index rows = data.space().num_rows();
  Eigen::MatrixXd grad_w = Eigen::MatrixXd::Zero(rows, 1);
  Eigen::MatrixXd grad_v = Eigen::MatrixXd::Zero(rows, 3);
  for (std::size_t e = 0; e < x.index.size(); ++e) {
    grad_w(x.index[e], 0) += dw[e];
    for (Index d = 0; d < 3; ++d) grad_v(x.index[e], d) += dv[e * 3 + static_cast<std::size_t>(d)];
  }
  // The reference loss is double: central differences with a small step, divided by the step
  // the float parameter actually took.
  const float h = 1e-4f;
  auto numeric = [&](float& parameter) {
    const float saved = parameter;
    const float plus = saved + h;
    const float minus = saved - h;
    parameter = plus;
    const double up = mean_loss(net, data);
    parameter = minus;
    const double down = mean_loss(net, data);
    parameter = saved;
    return (up - down) / (static_cast<double>(plus) - static_cast<double>(minus));
  };
  double max_error = 0.0;
  for (Index r = 0; r < rows; ++r) {
    max_error = std::max(max_error, std::abs(numeric(net.linear.value(r, 0)) - grad_w(r, 0)));
    for (Index d = 0; d < 3; ++d) {
      max_error = std::max(max_error, std::abs(numeric(net.factors.value(r, d)) - grad_v(r, d)));
    }
  }
  const double db_numeric = numeric(net.bias.value(0, 0));
  CHECK(g.dense[0](0, 0) == Approx(db_numeric).margin(1e-7));
  CHECK(max_error < 1e-7);
}

TEST_CASE("One SGD step of the trainer moves every parameter by -lr times the batch gradient",
          "[ctr][fm][trainer]") {
  const auto data = ctr::test::random_click_data(300, 4, 5, 21, /*multi=*/true);
  const float lr = 0.5f;
  ctr::FactorizationMachine fm(
      {.embedding_dim = 4,
       .init_scale = 0.3f,
       .training = {.batch_size = 300,
                    .block_size = 37,
                    .optimizer = {.kind = ctr::OptimizerKind::sgd, .learning_rate = lr},
                    .seed = 3,
                    .num_threads = 2}});
  // The model after 0 steps: same initialisation, learning rate 0.
  auto frozen_params = fm.params();
  frozen_params.training.optimizer.learning_rate = 0.0f;
  const auto start = ctr::FactorizationMachine(frozen_params).fit(data);
  const auto stepped = fm.fit(data);
  const auto& net0 = start.network();
  const auto& net1 = stepped.network();
  // Full-batch gradient of the mean loss at the start, by central differences in double.
  auto net = net0;
  const float h = 1e-4f;
  auto numeric = [&](float& parameter) {
    const float saved = parameter;
    const float plus = saved + h;
    const float minus = saved - h;
    parameter = plus;
    const double up = mean_loss(net, data);
    parameter = minus;
    const double down = mean_loss(net, data);
    parameter = saved;
    return (up - down) / (static_cast<double>(plus) - static_cast<double>(minus));
  };
  CHECK((net1.bias.value(0, 0) - net0.bias.value(0, 0)) / -lr ==
        Approx(numeric(net.bias.value(0, 0))).margin(1e-6));
  double max_error = 0.0;
  for (Index r = 0; r < data.space().num_rows(); ++r) {
    max_error =
        std::max(max_error, std::abs((net1.linear.value(r, 0) - net0.linear.value(r, 0)) / -lr -
                                     numeric(net.linear.value(r, 0))));
    for (Index d = 0; d < 4; ++d) {
      max_error =
          std::max(max_error, std::abs((net1.factors.value(r, d) - net0.factors.value(r, d)) / -lr -
                                       numeric(net.factors.value(r, d))));
    }
  }
  // The step itself is float: (w1 − w0)/lr carries the parameters' rounding (~1e-7).
  CHECK(max_error < 1e-6);
}

TEST_CASE("FM training is bit-identical for 1, 2 and 7 threads and for repeated runs",
          "[ctr][fm][determinism]") {
  const auto data = ctr::test::random_click_data(3000, 5, 30, 4, /*multi=*/true);
  auto make = [](Index threads) {
    return ctr::FactorizationMachine({.embedding_dim = 8,
                                      .training = {.epochs = 2,
                                                   .batch_size = 512,
                                                   .block_size = 64,
                                                   .optimizer = {.learning_rate = 0.01f},
                                                   .seed = 9,
                                                   .num_threads = threads}});
  };
  const auto one = make(1).fit(data);
  const auto two = make(2).fit(data);
  const auto seven = make(7).fit(data);
  const auto again = make(2).fit(data);
  CHECK(bytes_of(one) == bytes_of(two));
  CHECK(bytes_of(one) == bytes_of(seven));
  CHECK(bytes_of(one) == bytes_of(again));
  const Eigen::VectorXf p1 = one.predict(data, 1);
  const Eigen::VectorXf p7 = seven.predict(data, 7);
  CHECK(p1 == p7);
  // A different seed gives a different model.
  auto other = make(2).params();
  other.training.seed = 10;
  CHECK(bytes_of(ctr::FactorizationMachine(other).fit(data)) != bytes_of(one));
}

TEST_CASE("FM learns a planted signal and its bias starts at the base rate", "[ctr][fm]") {
  const auto train = ctr::test::random_click_data(20000, 4, 20, 1);
  const auto test = ctr::test::random_click_data(20000, 4, 20, 1);  // same world and rows
  // lr = 0 and no factor noise: predictions equal the training click rate (bias initialisation).
  const auto frozen = ctr::FactorizationMachine(
                          {.init_scale = 0.0f, .training = {.optimizer = {.learning_rate = 0.0f}}})
                          .fit(train);
  const Eigen::VectorXf p0 = frozen.predict(train);
  CHECK(p0.minCoeff() == Approx(train.base_rate()).epsilon(1e-4));
  CHECK(p0.maxCoeff() == Approx(train.base_rate()).epsilon(1e-4));
  const auto model =
      ctr::FactorizationMachine(
          {.embedding_dim = 4,
           .training = {.epochs = 3, .batch_size = 256, .optimizer = {.learning_rate = 0.02f}}})
          .fit(train, {.validation = &test});
  REQUIRE(model.history().epochs.size() == 3);
  const auto& last = model.history().epochs.back();
  CHECK(last.validation_auc > 0.75);
  CHECK(last.train_loss < model.history().epochs.front().train_loss);
  CHECK(last.validation_calibration_ratio == Approx(1.0).margin(0.1));
}

TEST_CASE("FM save -> load gives identical predictions and identical bytes", "[ctr][fm][save]") {
  const auto data = ctr::test::random_click_data(2000, 3, 10, 2, /*multi=*/true);
  const auto model =
      ctr::FactorizationMachine({.embedding_dim = 4}).fit(data, {.validation = &data});
  const std::string bytes = bytes_of(model);
  std::istringstream in(bytes);
  const auto loaded = tailor::load<ctr::FactorizationMachineModel>(in);
  CHECK(loaded.predict(data) == model.predict(data));
  CHECK(bytes_of(loaded) == bytes);
  CHECK(loaded.space() == model.space());
  CHECK(loaded.history().epochs.size() == 1);
  // Raw-string serving through the saved encoder equals batch prediction.
  const std::vector<std::string_view> cells = {"3", "7", "1", "2,5"};
  ctr::SparseFeatures one;
  one.append_raw_row(loaded.space(), cells);
  CHECK(loaded.predict_one(std::span<const std::string_view>(cells)) ==
        Approx(loaded.predict(one)[0]).epsilon(1e-6));
  // Truncated files throw FormatError.
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    std::istringstream truncated(bytes.substr(0, cut));
    CHECK_THROWS_AS(tailor::load<ctr::FactorizationMachineModel>(truncated), tailor::FormatError);
  }
}

TEST_CASE("FM warm start continues from the initial model", "[ctr][fm]") {
  const auto data = ctr::test::random_click_data(2000, 3, 10, 8);
  ctr::FactorizationMachine fm(
      {.embedding_dim = 4,
       .training = {.batch_size = 256,
                    .optimizer = {.kind = ctr::OptimizerKind::sgd, .learning_rate = 0.1f},
                    .shuffle = false}});
  auto two_epochs = fm.params();
  two_epochs.training.epochs = 2;
  const auto once = fm.fit(data);
  const auto twice = fm.fit(data, {.initial = &once});
  // SGD keeps no optimizer state, and unshuffled epochs visit the same batches: a warm-started
  // epoch equals the second epoch of one run.
  CHECK(bytes_of(twice).size() > 0);
  CHECK(twice.predict(data) == ctr::FactorizationMachine(two_epochs).fit(data).predict(data));
  const auto other = ctr::test::random_click_data(100, 2, 10, 8);
  CHECK_THROWS_AS(fm.fit(other, {.initial = &once}), tailor::ShapeMismatch);
}

TEST_CASE("FM rejects bad parameters and data from another feature space", "[ctr][fm][errors]") {
  CHECK_THROWS_WITH(ctr::FactorizationMachine({.embedding_dim = 0}),
                    Catch::Contains("FactorizationMachine: embedding_dim = 0"));
  CHECK_THROWS_WITH(ctr::FactorizationMachine({.training = {.batch_size = 0}}),
                    Catch::Contains("training.batch_size = 0"));
  CHECK_THROWS_WITH(
      ctr::FactorizationMachine({.training = {.optimizer = {.learning_rate = -1.0f}}}),
      Catch::Contains("optimizer.learning_rate = -1"));
  CHECK_THROWS_WITH(ctr::FactorizationMachine({.training = {.num_threads = -1}}),
                    Catch::Contains("training.num_threads = -1"));
  const auto data = ctr::test::random_click_data(500, 3, 10, 2);
  const auto model = ctr::FactorizationMachine({.embedding_dim = 2}).fit(data);
  const auto other = ctr::test::random_click_data(500, 3, 11, 2);
  CHECK_THROWS_AS(model.predict(other), tailor::ShapeMismatch);
  CHECK_THROWS_AS(ctr::FactorizationMachine({.embedding_dim = 2}).fit(data, {.validation = &other}),
                  tailor::ShapeMismatch);
  // Encoded rows outside the model's table are rejected at predict.
  ctr::SparseFeatures bad;
  bad.push(0, 0);
  bad.push(1, 12);
  bad.push(2, 999);
  bad.end_row();
  CHECK_THROWS_WITH(model.predict(bad), Catch::Contains("row 0: field 'f2' has table row 999"));
}

TEST_CASE("Early stopping keeps the best validation epoch; progress is reported per epoch",
          "[ctr][fm][trainer]") {
  const auto train = ctr::test::random_click_data(3000, 4, 40, 12);
  const auto valid = ctr::test::random_click_data(3000, 4, 40, 13);  // another world: overfits
  std::vector<std::pair<std::string, Index>> reports;
  const auto model = ctr::FactorizationMachine(
                         {.embedding_dim = 8,
                          .training = {.epochs = 30,
                                       .batch_size = 128,
                                       .optimizer = {.learning_rate = 0.05f},
                                       .patience = 2,
                                       .progress =
                                           [&](const tailor::Progress& p) {
                                             if (p.stage == "epochs")
                                               reports.emplace_back(std::string(p.stage), p.done);
                                           }}})
                         .fit(train, {.validation = &valid});
  const auto& history = model.history();
  REQUIRE(history.best_epoch >= 0);
  // Stopped `patience` epochs after the best one, before the 30 allowed.
  CHECK(static_cast<Index>(history.epochs.size()) == history.best_epoch + 3);
  CHECK(history.epochs.size() < 30);
  double best = history.epochs[0].validation_log_loss;
  for (const auto& e : history.epochs) best = std::min(best, e.validation_log_loss);
  CHECK(history.epochs[static_cast<std::size_t>(history.best_epoch)].validation_log_loss == best);
  // The model holds the best epoch's parameters: its validation log-loss is the best one.
  const Eigen::VectorXd p = model.predict(valid).cast<double>();
  CHECK(tailor::metrics::log_loss(valid.click().cast<double>(), p) == Approx(best).epsilon(1e-6));
  REQUIRE(reports.size() == history.epochs.size());
  CHECK(reports.back().second == static_cast<Index>(history.epochs.size()));
}

TEST_CASE("Kept optimizer state resumes training exactly: 1 + 1 warm-started epochs = 2 epochs",
          "[ctr][fm][trainer][save]") {
  const auto data = ctr::test::random_click_data(3000, 4, 25, 14, /*multi=*/true);
  ctr::FactorizationMachineParams params{.embedding_dim = 4,
                                         .training = {.epochs = 1,
                                                      .batch_size = 256,
                                                      .optimizer = {.learning_rate = 0.01f},
                                                      .seed = 5,
                                                      .keep_optimizer_state = true}};
  const auto first = ctr::FactorizationMachine(params).fit(data);
  CHECK(first.history().optimizer_state);
  // Through a file: the state is saved with the model.
  std::istringstream in(bytes_of(first));
  const auto reloaded = tailor::load<ctr::FactorizationMachineModel>(in);
  const auto resumed = ctr::FactorizationMachine(params).fit(data, {.initial = &reloaded});
  auto two = params;
  two.training.epochs = 2;
  const auto straight = ctr::FactorizationMachine(two).fit(data);
  CHECK(resumed.predict(data) == straight.predict(data));
  CHECK(resumed.history().steps == straight.history().steps);
  CHECK(resumed.history().first_epoch == 1);
  // Without the kept state, a warm start restarts Adam's moments: a different model.
  auto fresh = params;
  fresh.training.keep_optimizer_state = false;
  const auto no_state = ctr::FactorizationMachine(fresh).fit(data);
  CHECK_FALSE(no_state.history().optimizer_state);
  CHECK(ctr::FactorizationMachine(fresh).fit(data, {.initial = &no_state}).predict(data) !=
        straight.predict(data));
  CHECK(bytes_of(first).size() > bytes_of(no_state).size());
}
