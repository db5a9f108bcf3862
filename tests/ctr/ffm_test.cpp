// Tests of ctr/ffm.hpp: the forward pass against a brute-force double loop over entry pairs,
// gradients against central differences of an independent double-precision loss, determinism
// across threads, save/load (and corrupt files), learning a planted signal, the memory check and
// bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "ctr_test_data.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/ffm.hpp"
#include "tailor/ctr/fm.hpp"

namespace ctr = tailor::ctr;
using tailor::Index;

namespace {

// Brute-force FFM logit in double, written from the paper's formula:
// b + Σ_a w_{j_a} x_a + Σ_{a<b} <v_{j_a, f_b}, v_{j_b, f_a}> x_a x_b.
double brute_force_logit(const ctr::FfmNetwork& net, const ctr::SparseFeatures& x, Index i) {
  const Index k = net.dim();
  double z = net.bias.value(0, 0);
  const auto begin = static_cast<std::size_t>(x.row_ptr[static_cast<std::size_t>(i)]);
  const auto end = static_cast<std::size_t>(x.row_ptr[static_cast<std::size_t>(i) + 1]);
  for (std::size_t a = begin; a < end; ++a) {
    const double xa = x.value_at(static_cast<std::int64_t>(a));
    z += static_cast<double>(net.linear.value(x.index[a], 0)) * xa;
    for (std::size_t b = a + 1; b < end; ++b) {
      const double xb = x.value_at(static_cast<std::int64_t>(b));
      double dot = 0.0;
      for (Index d = 0; d < k; ++d) {
        dot += static_cast<double>(net.factors.value(x.index[a], x.field[b] * k + d)) *
               net.factors.value(x.index[b], x.field[a] * k + d);
      }
      z += dot * xa * xb;
    }
  }
  return z;
}

ctr::FfmNetwork random_network(Index rows, Index fields, Index k, std::uint64_t seed) {
  ctr::FfmNetwork net;
  tailor::Rng rng(seed, 7);
  net.num_fields = fields;
  net.linear.value.resize(rows, 1);
  net.factors.value.resize(rows, fields * k);
  for (Index r = 0; r < rows; ++r) {
    net.linear.value(r, 0) = static_cast<float>(0.3 * rng.normal());
    for (Index c = 0; c < fields * k; ++c)
      net.factors.value(r, c) = static_cast<float>(0.5 * rng.normal());
  }
  net.bias.value.setConstant(1, 1, -0.7f);
  return net;
}

// Mean BCE of the brute-force logits over all rows, in double.
double mean_loss(const ctr::FfmNetwork& net, const ctr::CtrData& data) {
  double total = 0.0;
  for (Index i = 0; i < data.num_rows(); ++i) {
    total += ctr::bce_with_logits(brute_force_logit(net, data.features(), i), data.click()[i]);
  }
  return total / static_cast<double>(data.num_rows());
}

std::string bytes_of(const ctr::FieldAwareFactorizationMachineModel& model) {
  std::ostringstream out;
  tailor::save(model, out);
  return out.str();
}

ctr::SparseRow row_of(const ctr::SparseFeatures& x, Index i) {
  const auto begin = x.row_ptr[static_cast<std::size_t>(i)];
  const auto count = static_cast<std::size_t>(x.row_ptr[static_cast<std::size_t>(i) + 1] - begin);
  return {std::span<const std::uint32_t>(x.index.data() + begin, count),
          x.has_values() ? std::span<const float>(x.value.data() + begin, count)
                         : std::span<const float>()};
}

}  // namespace

TEST_CASE("FFM forward equals the brute-force pair loop with repeated fields and values",
          "[ctr][ffm]") {
  const auto data = ctr::test::random_click_data(60, 3, 6, 11, /*multi=*/true);
  const auto& space = data.space();
  // k = 4 and 16 run the compile-time-k kernels, k = 5 the run-time one.
  const Index k = GENERATE(4, 5, 16);
  const auto net = random_network(space.num_rows(), space.num_fields(), k, 3);
  const auto& x = data.features();
  REQUIRE(x.has_values());
  // Some rows have two or three entries of the multi-valued field (same-field pairs).
  Index longest = 0;
  for (Index i = 0; i < x.num_rows(); ++i) {
    longest = std::max<Index>(longest, x.row_ptr[static_cast<std::size_t>(i) + 1] -
                                           x.row_ptr[static_cast<std::size_t>(i)]);
  }
  REQUIRE(longest >= 5);
  auto ws = net.make_workspace(x.num_rows());
  std::vector<float> z(static_cast<std::size_t>(x.num_rows()));
  net.forward(ctr::RowsView::of(x), 0, x.num_rows(), ws, z.data());
  for (Index i = 0; i < x.num_rows(); ++i) {
    const double expected = brute_force_logit(net, x, i);
    CHECK(z[static_cast<std::size_t>(i)] == Approx(expected).epsilon(1e-5).margin(1e-5));
    const auto row = row_of(x, i);
    const float one = net.logit_one(
        row.index, row.value, [&](std::size_t e) { return space.field_of_row(row.index[e]); });
    CHECK(one == Approx(expected).epsilon(1e-5).margin(1e-5));
  }
  // A sub-range [lo, hi) writes out[0 .. hi - lo).
  std::vector<float> part(7);
  net.forward(ctr::RowsView::of(x), 10, 17, ws, part.data());
  for (Index i = 10; i < 17; ++i)
    CHECK(part[static_cast<std::size_t>(i - 10)] == z[static_cast<std::size_t>(i)]);
}

TEST_CASE("FFM gradients match central differences of the double-precision loss",
          "[ctr][ffm][gradient]") {
  const auto data = ctr::test::random_click_data(24, 3, 4, 5, /*multi=*/true);
  const Index fields = data.space().num_fields();
  const Index k = GENERATE(3, 4);
  const Index width = fields * k;
  auto net = random_network(data.space().num_rows(), fields, k, 9);
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
  // Poison the buffers: backward must write every float of every entry row.
  std::vector<float> dw(x.index.size(), 1e30f);
  std::vector<float> dv(x.index.size() * static_cast<std::size_t>(width), 1e30f);
  ctr::BlockGradient g;
  g.dense.emplace_back(Eigen::MatrixXf::Zero(1, 1));
  g.entry = {dw.data(), dv.data()};
  net.backward(view, 0, n, ws, dz.data(), g);
  {
    // Entries in any order within a row (forward/backward do not rely on the field sort):
    // each row reversed gives the same logits and the same per-entry gradients.
    ctr::SparseFeatures reversed;
    std::vector<std::size_t> source;  // reversed entry -> original entry
    for (Index i = 0; i < n; ++i) {
      for (auto e = x.row_ptr[static_cast<std::size_t>(i) + 1];
           e-- > x.row_ptr[static_cast<std::size_t>(i)];) {
        const auto u = static_cast<std::size_t>(e);
        reversed.push(x.field[u], x.index[u], x.value_at(e));
        source.push_back(u);
      }
      reversed.end_row();
    }
    REQUIRE(reversed.has_values());
    const auto rview = ctr::RowsView::of(reversed);
    std::vector<float> rz(static_cast<std::size_t>(n));
    net.forward(rview, 0, n, ws, rz.data());
    for (Index i = 0; i < n; ++i) {
      CHECK(rz[static_cast<std::size_t>(i)] ==
            Approx(z[static_cast<std::size_t>(i)]).epsilon(1e-5).margin(1e-6));
    }
    std::vector<float> rdw(x.index.size(), 1e30f);
    std::vector<float> rdv(x.index.size() * static_cast<std::size_t>(width), 1e30f);
    ctr::BlockGradient rg;
    rg.dense.emplace_back(Eigen::MatrixXf::Zero(1, 1));
    rg.entry = {rdw.data(), rdv.data()};
    net.backward(rview, 0, n, ws, dz.data(), rg);
    double max_difference = 0.0;
    for (std::size_t e = 0; e < source.size(); ++e) {
      max_difference =
          std::max(max_difference, std::abs(static_cast<double>(rdw[e]) - dw[source[e]]));
      for (Index c = 0; c < width; ++c) {
        const auto w = static_cast<std::size_t>(width);
        const auto cc = static_cast<std::size_t>(c);
        max_difference = std::max(max_difference, std::abs(static_cast<double>(rdv[e * w + cc]) -
                                                           dv[source[e] * w + cc]));
      }
    }
    CHECK(max_difference < 1e-7);
  }
  // Reduce entry gradients to table rows.
  const Index rows = data.space().num_rows();
  Eigen::MatrixXd grad_w = Eigen::MatrixXd::Zero(rows, 1);
  Eigen::MatrixXd grad_v = Eigen::MatrixXd::Zero(rows, width);
  for (std::size_t e = 0; e < x.index.size(); ++e) {
    grad_w(x.index[e], 0) += dw[e];
    for (Index c = 0; c < width; ++c)
      grad_v(x.index[e], c) +=
          dv[e * static_cast<std::size_t>(width) + static_cast<std::size_t>(c)];
  }
  const double h = 1e-2;  // float parameters: a step well above their rounding
  auto numeric = [&](float& parameter) {
    const float saved = parameter;
    parameter = saved + static_cast<float>(h);
    const double up = mean_loss(net, data);
    parameter = saved - static_cast<float>(h);
    const double down = mean_loss(net, data);
    parameter = saved;
    return (up - down) / (2.0 * static_cast<double>(static_cast<float>(h)));
  };
  // Each parameter enters a logit at most quadratically (a repeated id of the multi-valued
  // field meets itself), so central differences carry O(h²) error from the BCE's curvature.
  double max_error = 0.0;
  Index nonzero = 0;
  for (Index r = 0; r < rows; ++r) {
    max_error = std::max(max_error, std::abs(numeric(net.linear.value(r, 0)) - grad_w(r, 0)));
    for (Index c = 0; c < width; ++c) {
      max_error = std::max(max_error, std::abs(numeric(net.factors.value(r, c)) - grad_v(r, c)));
      nonzero += grad_v(r, c) != 0.0 ? 1 : 0;
    }
  }
  const double db_numeric = numeric(net.bias.value(0, 0));
  CHECK(g.dense[0](0, 0) == Approx(db_numeric).margin(1e-5));
  CHECK(max_error < 2e-5);
  CHECK(nonzero > rows * k);  // more than one field slot per row receives gradient
}

TEST_CASE("FFM training is bit-identical for 1, 2 and 7 threads and for repeated runs",
          "[ctr][ffm][determinism]") {
  const auto data = ctr::test::random_click_data(3000, 4, 30, 4, /*multi=*/true);
  auto make = [](Index threads) {
    return ctr::FieldAwareFactorizationMachine({.embedding_dim = 4,
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
  CHECK(bytes_of(ctr::FieldAwareFactorizationMachine(other).fit(data)) != bytes_of(one));
}

TEST_CASE("FFM learns a planted signal and its bias starts at the base rate", "[ctr][ffm]") {
  const auto train = ctr::test::random_click_data(20000, 4, 20, 1);
  const auto test = ctr::test::random_click_data(20000, 4, 20, 1);  // same world and rows
  // lr = 0 and no factor noise: predictions equal the training click rate (bias initialisation).
  const auto frozen = ctr::FieldAwareFactorizationMachine(
                          {.init_scale = 0.0f, .training = {.optimizer = {.learning_rate = 0.0f}}})
                          .fit(train);
  const Eigen::VectorXf p0 = frozen.predict(train);
  CHECK(p0.minCoeff() == Approx(train.base_rate()).epsilon(1e-4));
  CHECK(p0.maxCoeff() == Approx(train.base_rate()).epsilon(1e-4));
  const auto model =
      ctr::FieldAwareFactorizationMachine(
          {.embedding_dim = 4,
           .training = {.epochs = 3, .batch_size = 256, .optimizer = {.learning_rate = 0.02f}}})
          .fit(train, {.validation = &test});
  REQUIRE(model.history().epochs.size() == 3);
  CHECK(model.num_fields() == 4);
  CHECK(model.embedding_dim() == 4);
  CHECK(model.network().factors.value.cols() == 16);
  const auto& last = model.history().epochs.back();
  CHECK(last.validation_auc > 0.75);
  CHECK(last.train_loss < model.history().epochs.front().train_loss);
  CHECK(last.validation_calibration_ratio == Approx(1.0).margin(0.1));
}

TEST_CASE("FFM save -> load gives identical predictions and identical bytes", "[ctr][ffm][save]") {
  const auto data = ctr::test::random_click_data(2000, 3, 10, 2, /*multi=*/true);
  const auto model =
      ctr::FieldAwareFactorizationMachine(
          {.embedding_dim = 3,
           .training = {.epochs = 2, .batch_size = 256, .optimizer = {.learning_rate = 0.01f}}})
          .fit(data, {.validation = &data});
  const std::string bytes = bytes_of(model);
  std::istringstream in(bytes);
  const auto loaded = tailor::load<ctr::FieldAwareFactorizationMachineModel>(in);
  CHECK(loaded.predict(data) == model.predict(data));
  CHECK(bytes_of(loaded) == bytes);
  CHECK(loaded.space() == model.space());
  CHECK(loaded.embedding_dim() == 3);
  CHECK(loaded.num_fields() == 4);
  CHECK(loaded.history().epochs.size() == 2);
  // Single-row serving (encoded rows: each entry's field from its table row) equals batch
  // prediction.
  const Eigen::VectorXf p = loaded.predict(data);
  for (Index i = 0; i < 50; ++i)
    CHECK(loaded.predict_one(row_of(data.features(), i)) == Approx(p[i]).epsilon(1e-6));
  // Raw-string serving through the saved encoder equals batch prediction.
  const std::vector<std::string_view> cells = {"3", "7", "1", "2,5,5"};
  ctr::SparseFeatures one;
  one.append_raw_row(loaded.space(), cells);
  CHECK(loaded.predict_one(std::span<const std::string_view>(cells)) ==
        Approx(loaded.predict(one)[0]).epsilon(1e-6));
  const std::vector<std::string_view> short_row = {"3", "7"};
  CHECK_THROWS_AS(loaded.predict_one(std::span<const std::string_view>(short_row)),
                  tailor::ShapeMismatch);
  // Truncated files throw FormatError.
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    std::istringstream truncated(bytes.substr(0, cut));
    CHECK_THROWS_AS(tailor::load<ctr::FieldAwareFactorizationMachineModel>(truncated),
                    tailor::FormatError);
  }
  // An FM's file is not an FFM's.
  std::ostringstream fm_bytes;
  tailor::save(ctr::FactorizationMachine({.embedding_dim = 3}).fit(data), fm_bytes);
  std::istringstream fm_in(fm_bytes.str());
  CHECK_THROWS_AS(tailor::load<ctr::FieldAwareFactorizationMachineModel>(fm_in),
                  tailor::FormatError);
  // Factors whose width is not a multiple of the number of fields throw FormatError.
  const auto& net = model.network();
  std::ostringstream bad;
  tailor::BinaryWriter out(bad);
  out.write_header(ctr::FieldAwareFactorizationMachineModel::kTypeTag, 1);
  model.space().save(out);
  out.write(model.train_base_rate());
  model.history().save(out);
  out.write(net.bias.value);
  out.write(net.linear.value);
  const ctr::RowMatrixXf narrow = net.factors.value.leftCols(net.factors.value.cols() - 1);
  out.write(narrow);
  std::istringstream bad_in(bad.str());
  CHECK_THROWS_WITH(tailor::load<ctr::FieldAwareFactorizationMachineModel>(bad_in),
                    Catch::Contains("parameter shapes do not match its feature space"));
}

TEST_CASE("FFM checks the table's bytes before allocating it", "[ctr][ffm][errors]") {
  const auto data = ctr::test::random_click_data(500, 3, 10, 2);
  // 3 fields × (10 ids + 1 OOV row) = 33 rows; k = 4: 33 × (3 × 4 + 1) × 4 bytes × 3 (Adam).
  const Index rows = data.space().num_rows();
  REQUIRE(rows == 33);
  ctr::FieldAwareFactorizationMachine ffm({.embedding_dim = 4, .max_table_bytes = 1000});
  CHECK(ffm.training_bytes(data.space()) == 33u * 13u * 4u * 3u);
  CHECK_THROWS_AS(ffm.fit(data), tailor::InvalidArgument);
  CHECK_THROWS_WITH(ffm.fit(data),
                    Catch::Contains("FieldAwareFactorizationMachine: the table needs 5148 bytes") &&
                        Catch::Contains("over max_table_bytes = 1000"));
  // SGD keeps no optimizer state: one copy of the tables, and a ceiling of exactly that fits.
  ctr::FieldAwareFactorizationMachine sgd(
      {.embedding_dim = 4,
       .max_table_bytes = 33 * 13 * 4,
       .training = {.optimizer = {.kind = ctr::OptimizerKind::sgd}}});
  CHECK(sgd.training_bytes(data.space()) == 33u * 13u * 4u);
  CHECK_NOTHROW(sgd.fit(data));
  // The default ceiling (4 GiB) is far above this table.
  CHECK_NOTHROW(ctr::FieldAwareFactorizationMachine({.embedding_dim = 4}).fit(data));
  // The largest k is counted exactly.
  ctr::FieldAwareFactorizationMachine big({.embedding_dim = 4096});
  CHECK(big.training_bytes(data.space()) == 33u * (3u * 4096u + 1u) * 4u * 3u);
}

TEST_CASE("FFM rejects bad parameters and data from another feature space", "[ctr][ffm][errors]") {
  CHECK_THROWS_WITH(ctr::FieldAwareFactorizationMachine({.embedding_dim = 0}),
                    Catch::Contains("FieldAwareFactorizationMachine: embedding_dim = 0"));
  CHECK_THROWS_WITH(ctr::FieldAwareFactorizationMachine({.init_scale = -1.0f}),
                    Catch::Contains("init_scale = -1"));
  CHECK_THROWS_WITH(ctr::FieldAwareFactorizationMachine({.max_table_bytes = 0}),
                    Catch::Contains("max_table_bytes = 0"));
  CHECK_THROWS_WITH(ctr::FieldAwareFactorizationMachine({.training = {.batch_size = 0}}),
                    Catch::Contains("training.batch_size = 0"));
  const auto data = ctr::test::random_click_data(500, 3, 10, 2);
  const auto model = ctr::FieldAwareFactorizationMachine({.embedding_dim = 2}).fit(data);
  const auto other = ctr::test::random_click_data(500, 3, 11, 2);
  CHECK_THROWS_AS(model.predict(other), tailor::ShapeMismatch);
  CHECK_THROWS_AS(
      ctr::FieldAwareFactorizationMachine({.embedding_dim = 2}).fit(data, {.validation = &other}),
      tailor::ShapeMismatch);
  CHECK_THROWS_AS(
      ctr::FieldAwareFactorizationMachine({.embedding_dim = 3}).fit(data, {.initial = &model}),
      tailor::ShapeMismatch);
  // A warm start with the same shape continues from the initial model.
  const auto warm =
      ctr::FieldAwareFactorizationMachine({.embedding_dim = 2}).fit(data, {.initial = &model});
  CHECK(warm.network().factors.value.cols() == 6);
  // Encoded rows outside the model's table are rejected at predict.
  ctr::SparseFeatures bad;
  bad.push(0, 0);
  bad.push(1, 12);
  bad.push(2, 999);
  bad.end_row();
  CHECK_THROWS_WITH(model.predict(bad), Catch::Contains("row 0: field 'f2' has table row 999"));
}
