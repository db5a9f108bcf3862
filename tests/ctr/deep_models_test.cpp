// Tests of the deep click models (ctr/deepfm.hpp, ctr/wide_deep.hpp, ctr/pnn.hpp on
// ctr/detail/deep_network.hpp and ctr/layers.hpp): forward against an independent
// double-precision implementation, gradients against its central differences, determinism across
// threads, save/load, single-row serving, known truth on an interaction-only world, bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "ctr_test_data.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/deepfm.hpp"
#include "tailor/ctr/fm.hpp"
#include "tailor/ctr/linear.hpp"
#include "tailor/ctr/pnn.hpp"
#include "tailor/ctr/wide_deep.hpp"
#include "tailor/datasets/ctr_worlds.hpp"

namespace ctr = tailor::ctr;
using tailor::Index;

namespace {

// The network's logit for row i, recomputed in double from its parameters with plain loops.
double reference_logit(const ctr::DeepNetwork& net, const ctr::SparseFeatures& x, Index i,
                       const ctr::DropoutContext* training = nullptr) {
  const Index k = net.dim();
  const Index F = net.num_fields;
  const auto begin = x.row_ptr[static_cast<std::size_t>(i)];
  const auto end = x.row_ptr[static_cast<std::size_t>(i) + 1];
  std::vector<double> count(static_cast<std::size_t>(F), 0.0);
  for (auto a = begin; a < end; ++a) count[x.field[static_cast<std::size_t>(a)]] += 1.0;
  Eigen::VectorXd e = Eigen::VectorXd::Zero(F * k);
  double z = net.bias.value(0, 0);
  for (auto a = begin; a < end; ++a) {
    const auto u = static_cast<std::size_t>(a);
    const Index f = x.field[u];
    const double c = count[static_cast<std::size_t>(f)];
    const auto pool = net.pooling[static_cast<std::size_t>(f)];
    const double scale = c <= 1.0 || pool == ctr::Pooling::sum ? 1.0
                         : pool == ctr::Pooling::mean          ? 1.0 / c
                                                               : 1.0 / std::sqrt(c);
    for (Index d = 0; d < k; ++d)
      e[f * k + d] += scale * x.value_at(a) * net.embedding.value(x.index[u], d);
    if (net.config.linear)
      z += static_cast<double>(net.linear.value(x.index[u], 0)) * x.value_at(a);
    if (net.config.fm) {
      for (auto b = a + 1; b < end; ++b) {
        double dot = 0.0;
        for (Index d = 0; d < k; ++d) {
          dot += static_cast<double>(net.embedding.value(x.index[u], d)) *
                 net.embedding.value(x.index[static_cast<std::size_t>(b)], d);
        }
        z += dot * x.value_at(a) * x.value_at(b);
      }
    }
  }
  std::vector<double> input(e.data(), e.data() + e.size());
  if (net.config.products) {
    if (ctr::uses_inner(net.config.product)) {
      for (Index f = 0; f < F; ++f) {
        for (Index g = f + 1; g < F; ++g)
          input.push_back(e.segment(f * k, k).dot(e.segment(g * k, k)));
      }
    }
    if (ctr::uses_outer(net.config.product)) {
      Eigen::VectorXd sum = Eigen::VectorXd::Zero(k);
      for (Index f = 0; f < F; ++f) sum += e.segment(f * k, k);
      for (Index a = 0; a < k; ++a) {
        for (Index b = 0; b < k; ++b) input.push_back(sum[a] * sum[b]);
      }
    }
  }
  Eigen::VectorXd h = Eigen::Map<Eigen::VectorXd>(input.data(), static_cast<Index>(input.size()));
  for (Index l = 0; l < net.mlp.num_layers(); ++l) {
    Eigen::VectorXd next =
        net.mlp.weight(l).cast<double>() * h + net.mlp.bias(l).cast<double>().col(0);
    if (l + 1 < net.mlp.num_layers()) {
      next = next.cwiseMax(0.0);
      if (training != nullptr && net.dropout > 0.0f) {
        // The same masks as the network's (they depend on seed, epoch and row only).
        ctr::Mlp::Workspace ws;
        net.make_masks(*training, i, i + 1, ws);
        next = next.cwiseProduct(ws.masks[static_cast<std::size_t>(l)].col(0).cast<double>());
      }
    }
    h = next;
  }
  return z + h[0];
}

double mean_loss(const ctr::DeepNetwork& net, const ctr::CtrData& data,
                 const ctr::DropoutContext* training = nullptr) {
  double total = 0.0;
  for (Index i = 0; i < data.num_rows(); ++i) {
    total +=
        ctr::bce_with_logits(reference_logit(net, data.features(), i, training), data.click()[i]);
  }
  return total / static_cast<double>(data.num_rows());
}

template <class Model>
std::string bytes_of(const Model& model) {
  std::ostringstream out;
  tailor::save(model, out);
  return out.str();
}

// A small random network of the given configuration on `data` (large init so every term matters).
ctr::DeepNetwork small_network(const ctr::CtrData& data, ctr::DeepConfig config,
                               std::uint64_t seed) {
  auto net = ctr::detail::make_deep_network(data.space(), config, 3, {5, 4}, 0.5f, true,
                                            data.base_rate(), {.seed = seed});
  tailor::Rng rng(seed, 3);
  if (config.linear) {
    for (Index r = 0; r < net.linear.rows(); ++r)
      net.linear.value(r, 0) = static_cast<float>(0.3 * rng.normal());
  }
  return net;
}

}  // namespace

TEST_CASE(
    "Deep networks: forward equals the double reference; gradients equal its central "
    "differences",
    "[ctr][deep][gradient]") {
  auto data = ctr::test::random_click_data(24, 3, 4, 5, /*multi=*/true);
  const std::vector<std::pair<std::string, ctr::DeepConfig>> configs = {
      {"Wide&Deep", {.linear = true}},
      {"DeepFM", {.linear = true, .fm = true}},
      {"IPNN", {.linear = false, .products = true, .product = ctr::Product::inner}},
      {"OPNN", {.linear = false, .products = true, .product = ctr::Product::outer}},
      {"PNN*", {.linear = false, .products = true, .product = ctr::Product::both}},
      {"DeepFM with dropout 0.4", {.linear = true, .fm = true}}};
  std::vector<Index> row_ids(static_cast<std::size_t>(data.num_rows()));
  for (Index i = 0; i < data.num_rows(); ++i) row_ids[static_cast<std::size_t>(i)] = 100 + i;
  for (const auto& [name, config] : configs) {
    INFO(name);
    auto net = small_network(data, config, 7);
    const bool with_dropout = name.find("dropout") != std::string::npos;
    if (with_dropout) net.dropout = 0.4f;
    const ctr::DropoutContext context{.seed = 5, .epoch = 2, .rows = row_ids.data()};
    const ctr::DropoutContext* training = with_dropout ? &context : nullptr;
    net.pooling.back() = ctr::Pooling::sqrtn;  // the multi-valued field pools by 1/√n
    const auto& x = data.features();
    const Index n = x.num_rows();
    auto ws = net.make_workspace(n);
    std::vector<float> z(static_cast<std::size_t>(n));
    auto view = ctr::RowsView::of(x);
    view.training = training;
    net.forward(view, 0, n, ws, z.data());
    for (Index i = 0; i < n; ++i) {
      CHECK(z[static_cast<std::size_t>(i)] ==
            Approx(reference_logit(net, x, i, training)).epsilon(1e-5).margin(1e-5));
    }
    std::vector<float> dz(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) {
      dz[static_cast<std::size_t>(i)] = static_cast<float>(
          ctr::bce_with_logits_gradient(z[static_cast<std::size_t>(i)], data.click()[i]) /
          static_cast<double>(n));
    }
    ctr::BlockGradient g;
    for (Index d = 0; d < net.num_dense(); ++d) {
      g.dense.emplace_back(
          Eigen::MatrixXf::Zero(net.dense(d).value.rows(), net.dense(d).value.cols()));
    }
    std::vector<std::vector<float>> entry(static_cast<std::size_t>(net.num_tables()));
    for (Index t = 0; t < net.num_tables(); ++t) {
      entry[static_cast<std::size_t>(t)].assign(
          x.index.size() * static_cast<std::size_t>(net.table(t).dim()), 0.0f);
      g.entry.push_back(entry[static_cast<std::size_t>(t)].data());
    }
    net.backward(view, 0, n, ws, dz.data(), g);
    // The reference loss is double, so a small step works; divide by the step the float
    // parameter actually took. Small steps also rarely cross a ReLU kink.
    const float h = 1e-4f;
    auto numeric = [&](float& parameter) {
      const float saved = parameter;
      const float plus = saved + h;
      const float minus = saved - h;
      parameter = plus;
      const double up = mean_loss(net, data, training);
      parameter = minus;
      const double down = mean_loss(net, data, training);
      parameter = saved;
      return (up - down) / (static_cast<double>(plus) - static_cast<double>(minus));
    };
    // Dense parameters (bias and every MLP weight and bias).
    double max_error = 0.0;
    for (Index d = 0; d < net.num_dense(); ++d) {
      auto& value = net.dense(d).value;
      for (Index j = 0; j < value.size(); ++j) {
        max_error = std::max(max_error, std::abs(numeric(value.data()[j]) -
                                                 g.dense[static_cast<std::size_t>(d)].data()[j]));
      }
    }
    // Table rows: entry gradients summed per row.
    for (Index t = 0; t < net.num_tables(); ++t) {
      auto& table = net.table(t);
      Eigen::MatrixXd analytic = Eigen::MatrixXd::Zero(table.rows(), table.dim());
      for (std::size_t e = 0; e < x.index.size(); ++e) {
        for (Index d = 0; d < table.dim(); ++d) {
          analytic(x.index[e], d) +=
              entry[static_cast<std::size_t>(t)]
                   [e * static_cast<std::size_t>(table.dim()) + static_cast<std::size_t>(d)];
        }
      }
      for (Index r = 0; r < table.rows(); ++r) {
        for (Index d = 0; d < table.dim(); ++d) {
          max_error = std::max(max_error, std::abs(numeric(table.value(r, d)) - analytic(r, d)));
        }
      }
    }
    INFO("max |analytic - numeric| = " << max_error);
    CHECK(max_error < 1e-7);
  }
}

TEST_CASE(
    "DeepFM, Wide&Deep and PNN are bit-identical for 1, 2 and 7 threads; save/load round "
    "trips; predict_one equals predict",
    "[ctr][deep][determinism][save]") {
  const auto data = ctr::test::random_click_data(1500, 4, 12, 6, /*multi=*/true);
  const ctr::TrainingParams base{.epochs = 2,
                                 .batch_size = 256,
                                 .block_size = 32,
                                 .optimizer = {.learning_rate = 0.01f},
                                 .seed = 3};
  auto with_threads = [&](Index threads) {
    auto t = base;
    t.num_threads = threads;
    return t;
  };
  auto check_model = [&](const auto& make) {
    const auto one = make(with_threads(1)).fit(data);
    const auto two = make(with_threads(2)).fit(data);
    const auto seven = make(with_threads(7)).fit(data);
    const std::string bytes = bytes_of(one);
    CHECK(bytes == bytes_of(two));
    CHECK(bytes == bytes_of(seven));
    using Model = std::decay_t<decltype(one)>;
    std::istringstream in(bytes);
    const auto loaded = tailor::load<Model>(in);
    CHECK(bytes_of(loaded) == bytes);
    const Eigen::VectorXf p = one.predict(data);
    CHECK(loaded.predict(data) == p);
    const auto& x = data.features();
    for (Index i : {Index{0}, Index{17}, Index{1499}}) {
      REQUIRE(x.has_values());
      CHECK(loaded.predict_one(x.row(i)) == Approx(p[i]).epsilon(1e-6));
    }
    // Raw cells through the saved encoder (integer fields: the ids as text) give the same.
    const std::vector<std::string_view> cells = {"3", "7", "1", "11", "2,5"};
    ctr::SparseFeatures one_row;
    one_row.append_raw_row(loaded.space(), cells);
    CHECK(loaded.predict_one(std::span<const std::string_view>(cells)) ==
          Approx(loaded.predict(one_row)[0]).epsilon(1e-6));
    for (std::size_t cut : {std::size_t{12}, bytes.size() / 3, bytes.size() - 2}) {
      std::istringstream truncated(bytes.substr(0, cut));
      CHECK_THROWS_AS(tailor::load<Model>(truncated), tailor::FormatError);
    }
    // Another model type's file is rejected by its tag.
    return bytes;
  };
  const auto deepfm = check_model([](ctr::TrainingParams t) {
    return ctr::DeepFM({.embedding_dim = 4, .hidden = {16, 8}, .training = t});
  });
  check_model([](ctr::TrainingParams t) {
    return ctr::WideDeep({.embedding_dim = 4, .hidden = {16}, .training = t});
  });
  check_model([](ctr::TrainingParams t) {
    return ctr::PNN(
        {.product = ctr::Product::both, .embedding_dim = 4, .hidden = {16, 8}, .training = t});
  });
  std::istringstream wrong(deepfm);
  CHECK_THROWS_WITH(tailor::load<ctr::PNNModel>(wrong),
                    Catch::Contains("expected type tag 'ctr::PNN'"));
}

TEST_CASE("DeepFM and PNN learn an interaction-only world as well as FM", "[ctr][deep][truth]") {
  namespace datasets = tailor::datasets;
  const datasets::CtrWorld world({.num_fields = 8,
                                  .min_cardinality = 10,
                                  .max_cardinality = 200,
                                  .rank = 8,
                                  .first_order_scale = 0.0,
                                  .factor_scale = 0.4,
                                  .click_rate = 0.03,
                                  .seed = 0});
  std::vector<std::string> names;
  for (Index f = 0; f < 8; ++f) names.push_back(fmt::format("f{}", f));
  const auto space = ctr::integer_space(names, world.cardinalities());
  auto a = world.sample(100000, 1);
  auto b = world.sample(50000, 2);
  const ctr::CtrData train(space, ctr::encode_ids(space, a.ids), a.click);
  const ctr::CtrData test(space, ctr::encode_ids(space, b.ids), b.click);
  const ctr::TrainingParams training{.epochs = 4,
                                     .batch_size = 1024,
                                     .optimizer = {.learning_rate = 1e-2f, .l2 = 1e-4f},
                                     .seed = 1};
  auto auc = [&](const Eigen::VectorXf& p) {
    return tailor::metrics::roc_auc(test.click().cast<double>(), p.cast<double>());
  };
  const double fm = auc(ctr::FactorizationMachine({.embedding_dim = 8, .training = training})
                            .fit(train)
                            .predict(test));
  const double deepfm =
      auc(ctr::DeepFM({.embedding_dim = 8, .hidden = {64, 32}, .training = training})
              .fit(train)
              .predict(test));
  // IPNN's products of two small embeddings start with tiny gradients (init 0.01: 0.77 after 4
  // epochs); from init 0.1 it reaches 0.868 after 6 epochs.
  auto pnn_training = training;
  pnn_training.epochs = 6;
  const double pnn = auc(
      ctr::PNN(
          {.embedding_dim = 8, .hidden = {64, 32}, .init_scale = 0.1f, .training = pnn_training})
          .fit(train)
          .predict(test));
  const double wide_deep =
      auc(ctr::WideDeep({.embedding_dim = 8, .hidden = {64, 32}, .training = training})
              .fit(train)
              .predict(test));
  const double lr = auc(ctr::SparseLogisticRegression({.solver = ctr::LogisticSolver::lbfgs})
                            .fit(train)
                            .predict(test));
  INFO("FM " << fm << ", DeepFM " << deepfm << ", IPNN " << pnn << ", Wide&Deep " << wide_deep
             << ", LR " << lr);
  // Measured: FM 0.877, DeepFM 0.878, IPNN 0.868, Wide&Deep 0.774, LR 0.662 (oracle 0.922).
  CHECK(deepfm > fm - 0.01);
  CHECK(pnn > fm - 0.01);
  // Wide&Deep's MLP must learn the products itself: it lies between LR and FM.
  CHECK(wide_deep > lr + 0.05);
  CHECK(wide_deep < fm);
}

TEST_CASE("A fresh deep model's mean logit is the logit of the training click rate",
          "[ctr][deep]") {
  const auto data = ctr::test::random_click_data(500, 3, 5, 2);
  const auto model = ctr::DeepFM({.embedding_dim = 4,
                                  .hidden = {8, 4},
                                  .training = {.optimizer = {.learning_rate = 0.0f}}})
                         .fit(data);
  // The output layer's bias is shifted so the MLP adds no offset on average (first 4096 rows:
  // all 500 here).
  const Eigen::VectorXf z = model.predict_logit(data.features());
  CHECK(z.cast<double>().mean() == Approx(ctr::logit(data.base_rate())).epsilon(1e-5));
}

TEST_CASE("Dropout is deterministic for any thread count and off at prediction",
          "[ctr][deep][determinism]") {
  const auto data = ctr::test::random_click_data(2000, 4, 12, 8);
  auto fit = [&](float dropout, Index threads) {
    return ctr::DeepFM({.embedding_dim = 4,
                        .hidden = {32, 16},
                        .dropout = dropout,
                        .training = {.epochs = 2,
                                     .batch_size = 256,
                                     .block_size = 32,
                                     .optimizer = {.learning_rate = 0.01f},
                                     .seed = 4,
                                     .num_threads = threads}})
        .fit(data);
  };
  const auto one = fit(0.3f, 1);
  const auto seven = fit(0.3f, 7);
  CHECK(one.predict(data) == seven.predict(data));
  CHECK(one.predict(data) != fit(0.0f, 1).predict(data));
  // Prediction uses no masks: two calls agree and equal predict_one.
  const Eigen::VectorXf p = one.predict(data);
  CHECK(one.predict(data) == p);
  const auto& x = data.features();
  const ctr::SparseRow row{std::span<const std::uint32_t>(x.index.data(), 4)};
  CHECK(one.predict_one(row) == Approx(p[0]).epsilon(1e-6));
}

TEST_CASE("Deep models reject bad parameters", "[ctr][deep][errors]") {
  CHECK_THROWS_WITH(ctr::DeepFM({.dropout = 1.0f}), Catch::Contains("DeepFM: dropout = 1"));
  CHECK_THROWS_WITH(ctr::DeepFM({.embedding_dim = 0}),
                    Catch::Contains("DeepFM: embedding_dim = 0"));
  CHECK_THROWS_WITH(ctr::WideDeep({.hidden = {400, 0}}),
                    Catch::Contains("WideDeep: hidden[1] = 0"));
  CHECK_THROWS_WITH(ctr::PNN({.product = static_cast<ctr::Product>(5)}),
                    Catch::Contains("PNN: product = 5"));
  CHECK_THROWS_WITH(ctr::DeepFM({.training = {.batch_size = -3}}),
                    Catch::Contains("training.batch_size = -3"));
  const auto data = ctr::test::random_click_data(300, 3, 5, 2);
  const auto model = ctr::DeepFM({.embedding_dim = 2, .hidden = {4}}).fit(data);
  const auto other = ctr::test::random_click_data(300, 3, 6, 2);
  CHECK_THROWS_AS(model.predict(other), tailor::ShapeMismatch);
  CHECK_THROWS_AS(ctr::DeepFM({.embedding_dim = 2, .hidden = {8}}).fit(data, {.initial = &model}),
                  tailor::ShapeMismatch);
}
