// Tests of the profile-gated mixture of experts over DeepFM (ctr/profile_moe.hpp): gradients
// against central differences, determinism, save/load, bad input, and a planted world of three
// user types (each an attribute cluster in a weighted multi-valued profile field, each with its
// own item × context click weights) where the model must beat DeepFM and its argmax gate must
// recover the types.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "tailor/core/metrics.hpp"
#include "tailor/core/random.hpp"
#include "tailor/ctr/deepfm.hpp"
#include "tailor/ctr/profile_moe.hpp"

namespace ctr = tailor::ctr;
using tailor::Index;

namespace {

struct PlantedWorld {
  ctr::FeatureSpace space;
  ctr::CtrData train;
  ctr::SparseFeatures test_x;
  Eigen::VectorXf test_click;
  std::vector<Index> test_type;
  Eigen::VectorXd test_p;  ///< true P(click)
};

// Users of type τ ∈ {0, 1, 2} carry 3 interests drawn from cluster τ (ids 10τ … 10τ + 9, weights
// U(0.5, 1.5)) and one from anywhere; items (40) and contexts (8) are uniform; the click logit is
// −1.5 + w[item] + W_τ[item, context] with W_τ ~ N(0, 1.2²): the types disagree on what to click.
PlantedWorld planted_world(Index n_train, Index n_test, std::uint64_t seed) {
  std::vector<ctr::FieldSpec> specs = {
      {.name = "item", .kind = ctr::FieldKind::integer, .cardinality = 40},
      {.name = "context", .kind = ctr::FieldKind::integer, .cardinality = 8},
      {.name = "interests",
       .kind = ctr::FieldKind::integer,
       .cardinality = 30,
       .multi_valued = true,
       .pooling = ctr::Pooling::mean}};
  ctr::FeatureSpace space = ctr::FeatureSpaceBuilder(specs).build();
  tailor::Rng world(seed, 0);
  std::vector<double> w(40);
  for (auto& v : w) v = 0.5 * world.normal();
  std::vector<double> W(3 * 40 * 8);
  for (auto& v : W) v = 1.2 * world.normal();
  auto draw = [&](Index n, std::uint64_t stream, ctr::SparseFeatures& x, Eigen::VectorXf& click,
                  std::vector<Index>& type, Eigen::VectorXd& p) {
    tailor::Rng rng(seed, stream);
    click.resize(n);
    p.resize(n);
    type.resize(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) {
      const Index t = static_cast<Index>(rng.uniform_index(3));
      const Index item = static_cast<Index>(rng.uniform_index(40));
      const Index context = static_cast<Index>(rng.uniform_index(8));
      x.push(0, static_cast<std::uint32_t>(space.offset(0) + item));
      x.push(1, static_cast<std::uint32_t>(space.offset(1) + context));
      std::vector<Index> interests;
      for (int a = 0; a < 3; ++a)
        interests.push_back(10 * t + static_cast<Index>(rng.uniform_index(10)));
      interests.push_back(static_cast<Index>(rng.uniform_index(30)));
      std::sort(interests.begin(), interests.end());
      for (Index a : interests)
        x.push(2, static_cast<std::uint32_t>(space.offset(2) + a),
               static_cast<float>(0.5 + rng.uniform()));
      x.end_row();
      const double z = -1.5 + w[static_cast<std::size_t>(item)] +
                       W[static_cast<std::size_t>((t * 40 + item) * 8 + context)];
      p[i] = 1.0 / (1.0 + std::exp(-z));
      click[i] = rng.uniform() < p[i] ? 1.0f : 0.0f;
      type[static_cast<std::size_t>(i)] = t;
    }
  };
  ctr::SparseFeatures train_x, test_x;
  Eigen::VectorXf train_click, test_click;
  std::vector<Index> train_type, test_type;
  Eigen::VectorXd train_p, test_p;
  draw(n_train, 1, train_x, train_click, train_type, train_p);
  draw(n_test, 2, test_x, test_click, test_type, test_p);
  return {space,
          ctr::CtrData(space, std::move(train_x), std::move(train_click)),
          std::move(test_x),
          std::move(test_click),
          std::move(test_type),
          std::move(test_p)};
}

}  // namespace

TEST_CASE("profile MoE: planted user types, AUC over DeepFM and gate segments",
          "[ctr][profile_moe][truth]") {
  const PlantedWorld world = planted_world(100000, 30000, 5);
  // 100,000 training rows, 12 epochs, batch 512, Adam lr 3e-3; DeepFM and the backbone k = 8
  // with a 32-unit MLP; three experts of 64 units.
  const ctr::TrainingParams training{
      .epochs = 12, .batch_size = 512, .optimizer = {.learning_rate = 3e-3f}, .seed = 2};
  const auto deepfm =
      ctr::DeepFM({.embedding_dim = 8, .hidden = {32}, .training = training}).fit(world.train);
  const auto moe = ctr::ProfileMoe({.profile_field = "interests",
                                    .num_experts = 3,
                                    .expert_hidden = {64},
                                    .embedding_dim = 8,
                                    .hidden = {32},
                                    .training = training})
                       .fit(world.train);
  const Eigen::VectorXd y = world.test_click.cast<double>();
  const double auc_deepfm =
      tailor::metrics::roc_auc(y, deepfm.predict(world.test_x).cast<double>());
  const double auc_moe = tailor::metrics::roc_auc(y, moe.predict(world.test_x).cast<double>());
  const ctr::RowMatrixXf g = moe.gate_weights(world.test_x);
  std::vector<Index> argmax(static_cast<std::size_t>(g.rows()));
  for (Index i = 0; i < g.rows(); ++i) g.row(i).maxCoeff(&argmax[static_cast<std::size_t>(i)]);
  const double ari = tailor::metrics::adjusted_rand_index(argmax, world.test_type);
  INFO("oracle AUC " << tailor::metrics::roc_auc(y, world.test_p) << ", AUC DeepFM " << auc_deepfm
                     << ", profile MoE " << auc_moe << ", ARI " << ari);
  CHECK(auc_moe >= auc_deepfm + 0.01);
  CHECK(ari >= 0.8);
}

TEST_CASE("profile MoE: gradients, determinism, save/load, bad input", "[ctr][profile_moe]") {
  const PlantedWorld world = planted_world(600, 10, 9);
  ctr::TrainingParams training{.epochs = 1, .batch_size = 128, .block_size = 32, .seed = 4};
  const ctr::ProfileMoe estimator({.profile_field = "interests",
                                   .num_experts = 3,
                                   .expert_hidden = {5},
                                   .embedding_dim = 3,
                                   .hidden = {4},
                                   .init_scale = 0.3f,
                                   .gate_init_scale = 0.5f,
                                   .training = training});
  const auto model = estimator.fit(world.train);
  // Gradients of Σ BCE over a block against central differences.
  const auto& net = model.network();
  const auto& x = world.train.features();
  const auto view = ctr::RowsView::of(x);
  const Index lo = 5, hi = 13, m = hi - lo;
  auto loss = [&](const ctr::ProfileMoeNetwork& n, std::vector<float>* dz) {
    auto ws = n.make_workspace(m);
    std::vector<float> z(static_cast<std::size_t>(m)), d(static_cast<std::size_t>(m));
    n.forward(view, lo, hi, ws, z.data());
    std::vector<float> mask(static_cast<std::size_t>(m), 1.0f), w(mask);
    const ctr::BatchLabels b{world.train.click().data() + lo, mask.data(), w.data(), m, 1};
    const double l = ctr::BinaryObjective().block(1.0f, b, z.data(), d.data());
    if (dz != nullptr) *dz = d;
    return l;
  };
  std::vector<float> dz;
  loss(net, &dz);
  auto ws = net.make_workspace(m);
  std::vector<float> z(static_cast<std::size_t>(m));
  net.forward(view, lo, hi, ws, z.data());
  ctr::BlockGradient g;
  for (Index d = 0; d < net.num_dense(); ++d)
    g.dense.push_back(Eigen::MatrixXf::Zero(net.dense(d).value.rows(), net.dense(d).value.cols()));
  const auto nnz = static_cast<std::size_t>(x.row_ptr[static_cast<std::size_t>(hi)]);
  std::vector<std::vector<float>> entry(static_cast<std::size_t>(net.num_tables()));
  for (Index t = 0; t < net.num_tables(); ++t) {
    entry[static_cast<std::size_t>(t)].assign(nnz * static_cast<std::size_t>(net.table(t).dim()),
                                              0.0f);
    g.entry.push_back(entry[static_cast<std::size_t>(t)].data());
  }
  net.backward(view, lo, hi, ws, dz.data(), g);
  const float h = 2e-3f;
  for (Index d = 0; d < net.num_dense(); ++d) {
    const Index size = net.dense(d).value.size();
    for (Index q = 0; q < size; q += std::max<Index>(1, size / 4)) {
      auto plus = net, minus = net;
      plus.dense(d).value.data()[q] += h;
      minus.dense(d).value.data()[q] -= h;
      const double numeric = (loss(plus, nullptr) - loss(minus, nullptr)) / (2.0 * h);
      INFO("dense " << d << " coordinate " << q);
      CHECK(g.dense[static_cast<std::size_t>(d)].data()[q] ==
            Approx(numeric).margin(2e-3).epsilon(3e-2));
    }
  }
  // Table rows (embedding, linear, gate) of the block's entries: summed entry gradients.
  for (Index t = 0; t < net.num_tables(); ++t) {
    const Index dim = net.table(t).dim();
    for (auto e = x.row_ptr[lo]; e < x.row_ptr[lo] + 7; ++e) {
      const auto row = x.index[static_cast<std::size_t>(e)];
      for (Index d = 0; d < dim; ++d) {
        double analytic = 0.0;
        for (auto a = x.row_ptr[lo]; a < x.row_ptr[hi]; ++a)
          if (x.index[static_cast<std::size_t>(a)] == row)
            analytic += entry[static_cast<std::size_t>(t)][static_cast<std::size_t>(a * dim + d)];
        auto plus = net, minus = net;
        plus.table(t).value(row, d) += h;
        minus.table(t).value(row, d) -= h;
        const double numeric = (loss(plus, nullptr) - loss(minus, nullptr)) / (2.0 * h);
        INFO("table " << t << " row " << row << " d " << d);
        CHECK(analytic == Approx(numeric).margin(2e-3).epsilon(3e-2));
      }
    }
  }
  // Determinism for 1 vs 2 threads, save/load.
  training.num_threads = 1;
  auto p1 = ctr::ProfileMoe({.profile_field = "interests",
                             .expert_hidden = {5},
                             .embedding_dim = 3,
                             .hidden = {4},
                             .training = training})
                .fit(world.train);
  training.num_threads = 2;
  auto p2 = ctr::ProfileMoe({.profile_field = "interests",
                             .expert_hidden = {5},
                             .embedding_dim = 3,
                             .hidden = {4},
                             .training = training})
                .fit(world.train);
  CHECK(p1.predict(world.train) == p2.predict(world.train));
  CHECK(p1.gate_weights(x) == p2.gate_weights(x));
  std::stringstream buffer;
  tailor::BinaryWriter out(buffer);
  p1.save(out);
  tailor::BinaryReader in(buffer);
  const auto loaded = ctr::ProfileMoeModel::load(in);
  CHECK(loaded.predict(world.train) == p1.predict(world.train));
  const Eigen::VectorXf batch = loaded.predict(world.train);
  for (Index i = 0; i < 20; ++i)
    CHECK(loaded.predict_one(x.row(i)) == Approx(batch[i]).epsilon(1e-5));
  CHECK(loaded.profile_field() == "interests");
  CHECK((loaded.gate_weights(x).rowwise().sum().array() - 1.0f).abs().maxCoeff() < 1e-5f);
  // Bad input.
  CHECK_THROWS_AS(ctr::ProfileMoe(ctr::ProfileMoeParams{}), tailor::InvalidArgument);
  CHECK_THROWS_AS(ctr::ProfileMoe({.profile_field = "interests", .num_experts = 0}),
                  tailor::InvalidArgument);
  CHECK_THROWS_WITH(ctr::ProfileMoe({.profile_field = "nope"}).fit(world.train),
                    Catch::Contains("profile_field 'nope' is not a field"));
}
