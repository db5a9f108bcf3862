// Tests of the multi-task and conversion models (ctr/multitask.hpp on
// ctr/detail/multitask_network.hpp, ctr/detail/multitask_objectives.hpp and
// ctr/multitask_data.hpp): loss gradients (product BCE, IPS and DR risks with their stop-gradients
// and the propensity clipping region) against central differences of independent formulas, network
// gradients (experts, gates, towers, embeddings) against central differences, pCTCVR = pCTR·pCVR
// exactly, determinism for 1 vs 2 threads, save/load, warm start, gate reports and bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "ctr_test_data.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/multitask.hpp"

namespace ctr = tailor::ctr;
using tailor::Index;

namespace {

double sp(double z) {
  return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z)));
}
double sig(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}
double bce(double z, double y) {
  return sp(z) - y * z;
}

// Funnel data: random fields, click from a logit, conversion only after clicks.
ctr::MultiTaskData funnel_data(Index n, std::uint64_t seed) {
  const ctr::CtrData base = ctr::test::random_click_data(n, 4, 6, seed, true);
  tailor::Rng rng(seed, 9);
  Eigen::VectorXf conversion(n);
  for (Index i = 0; i < n; ++i)
    conversion[i] = base.click()[i] == 1.0f && rng.uniform() < 0.4 ? 1.0f : 0.0f;
  conversion[0] = 1.0f;  // at least one conversion
  Eigen::VectorXf click = base.click();
  click[0] = 1.0f;
  return ctr::MultiTaskData::funnel(base.space(), base.features(), click, conversion);
}

// Two binary tasks, with the second task's label missing on a third of the rows.
ctr::MultiTaskData two_task_data(Index n, std::uint64_t seed) {
  const ctr::CtrData base = ctr::test::random_click_data(n, 4, 6, seed, true);
  tailor::Rng rng(seed, 7);
  ctr::RowMatrixXf labels(n, 2), mask = ctr::RowMatrixXf::Ones(n, 2);
  for (Index i = 0; i < n; ++i) {
    labels(i, 0) = base.click()[i];
    labels(i, 1) = rng.uniform() < 0.3 + 0.4 * base.click()[i] ? 1.0f : 0.0f;
    if (i % 3 == 2) mask(i, 1) = 0.0f;
  }
  return ctr::MultiTaskData(base.space(), base.features(), labels,
                            {{"a", ctr::TaskKind::binary}, {"b", ctr::TaskKind::binary}}, mask);
}

// Σ over rows of the objective's loss, and its gradients by the objective.
template <class Obj>
double objective_sum(const Obj& objective, const std::vector<float>& labels, std::vector<float>& z,
                     std::vector<float>* dz = nullptr) {
  const Index T = objective.num_outputs();
  const Index rows = static_cast<Index>(z.size()) / T;
  const Index L = static_cast<Index>(labels.size()) / rows;
  std::vector<float> mask(labels.size(), 1.0f), weight(static_cast<std::size_t>(rows), 1.0f);
  const ctr::BatchLabels b{labels.data(), mask.data(), weight.data(), rows, L};
  std::vector<float> scratch(z.size());
  // Constants that make dz the plain derivative of the returned sum.
  typename Obj::Constants unit{};
  if constexpr (std::is_same_v<typename Obj::Constants, float>) {
    unit = 1.0f;
  } else {
    for (double w : objective.task_weight) unit.push_back(static_cast<float>(w));
  }
  return objective.block(unit, b, z.data(), dz != nullptr ? dz->data() : scratch.data());
}

}  // namespace

TEST_CASE("funnel losses: gradients and stop-gradients against central differences",
          "[ctr][multitask]") {
  // Rows (click, conversion, z_c, z_v, z_i): unclicked, clicked, converted, and a clicked row
  // whose p̂CTR = σ(−6) is below the propensity floor 0.01 (the clipped region).
  const std::vector<std::array<double, 5>> rows = {{0, 0, -1.2, 0.4, -0.3},
                                                   {1, 0, 0.3, -0.8, 0.5},
                                                   {1, 1, 1.1, 0.9, -1.4},
                                                   {1, 1, -6.0, 0.2, 0.7}};
  const double floor = 0.01, lc = 0.7, lg = 1.3;
  for (auto loss : {ctr::FunnelLoss::clicked_only, ctr::FunnelLoss::esmm, ctr::FunnelLoss::ips,
                    ctr::FunnelLoss::doubly_robust}) {
    const ctr::FunnelObjective objective{loss, lc, lg, floor};
    const Index T = objective.num_outputs();
    for (const auto& r : rows) {
      std::vector<float> labels = {static_cast<float>(r[0]), static_cast<float>(r[1])};
      std::vector<float> z = {static_cast<float>(r[2]), static_cast<float>(r[3])};
      if (T == 3) z.push_back(static_cast<float>(r[4]));
      std::vector<float> dz(z.size());
      objective_sum(objective, labels, z, &dz);
      // Independent formulas; `fixed` = the stop-gradient values (p̂, r̂, z_v) at the point.
      const double c = r[0], y = r[1];
      const double p_fixed = sig(r[2]), rhat_fixed = sig(r[4]), zv_fixed = r[3];
      auto total = [&](double zc, double zv, double zi, int which) {
        // which: 0 = the loss whose z_c-gradient the trainer uses, 1 = for z_v, 2 = for z_i.
        double l = bce(zc, c);
        if (loss == ctr::FunnelLoss::clicked_only) return l + c * bce(zv, y);
        const double pq = sig(zc) * sig(zv);
        l += lg * -(y * std::log(pq) + (1 - y) * std::log(1 - pq));
        if (loss == ctr::FunnelLoss::esmm) return l;
        const double inv = c / std::max(p_fixed, floor);
        if (loss == ctr::FunnelLoss::ips) return l + lc * inv * bce(zv, y);
        // ê uses the fixed r̂; the imputation loss moves r̂ only (z_v held fixed).
        const double rhat = which == 2 ? sig(zi) : rhat_fixed;
        const double e = bce(zv, y), e_hat = bce(zv, rhat_fixed);
        return l + lc * (e_hat + inv * (e - e_hat)) + inv * std::pow((rhat - y) * zv_fixed, 2);
      };
      const double h = 1e-5;
      const double zc = r[2], zv = r[3], zi = r[4];
      const double gc = (total(zc + h, zv, zi, 0) - total(zc - h, zv, zi, 0)) / (2 * h);
      const double gv = (total(zc, zv + h, zi, 1) - total(zc, zv - h, zi, 1)) / (2 * h);
      INFO("loss " << static_cast<int>(loss) << " row c=" << c << " y=" << y << " zc=" << zc);
      CHECK(dz[0] == Approx(gc).margin(1e-4).epsilon(1e-3));
      CHECK(dz[1] == Approx(gv).margin(1e-4).epsilon(1e-3));
      if (T == 3) {
        const double gi = (total(zc, zv, zi + h, 2) - total(zc, zv, zi - h, 2)) / (2 * h);
        CHECK(dz[2] == Approx(gi).margin(1e-4).epsilon(1e-3));
      }
    }
  }
  // In the clipped region the IPS weight is 1/floor and does not move with z_c: the CVR risk
  // adds nothing to the CTR gradient, which therefore equals ESMM's.
  std::vector<float> labels = {1, 1}, z = {-6.0f, 0.2f}, d_ips(2), d_esmm(2);
  objective_sum(ctr::FunnelObjective{ctr::FunnelLoss::ips, 1.0, 1.0, 0.01}, labels, z, &d_ips);
  objective_sum(ctr::FunnelObjective{ctr::FunnelLoss::esmm, 1.0, 1.0, 0.01}, labels, z, &d_esmm);
  CHECK(d_ips[0] == d_esmm[0]);
  CHECK(d_ips[1] != d_esmm[1]);
  // The product BCE stays finite where p·q → 1 and where it → 0.
  std::vector<float> extreme = {30.0f, 30.0f};
  std::vector<float> d(2);
  labels = {1, 0};
  const double big = objective_sum(ctr::FunnelObjective{}, labels, extreme, &d);
  CHECK(std::isfinite(big));
  CHECK(std::isfinite(d[0]));
  CHECK(std::isfinite(d[1]));
}

TEST_CASE("task objective: binary and continuous tasks, masks and task weights",
          "[ctr][multitask]") {
  ctr::TaskObjective objective{{1, 0}, {2.0, 0.5}};
  std::vector<float> labels = {1, 0.5f, 0, -1.0f, 1, 2.0f};
  std::vector<float> mask = {1, 1, 1, 0, 1, 1};
  std::vector<float> weight = {1, 2, 0.5f};
  std::vector<float> z = {0.3f, 0.1f, -0.4f, 7.0f, 1.2f, 1.5f};
  const ctr::BatchLabels b{labels.data(), mask.data(), weight.data(), 3, 2};
  const auto scale = objective.batch_constants(b);
  REQUIRE(scale[0] == Approx(2.0 / 3.5));
  REQUIRE(scale[1] == Approx(0.5 / 1.5));
  std::vector<float> dz(6);
  const double loss = objective.block(scale, b, z.data(), dz.data());
  const double expected = 2.0 * (bce(0.3, 1) + 2 * bce(-0.4, 0) + 0.5 * bce(1.2, 1)) +
                          0.5 * (std::pow(0.1 - 0.5, 2) + 0.5 * std::pow(1.5 - 2.0, 2));
  CHECK(loss == Approx(expected));
  CHECK(dz[3] == 0.0f);  // masked
  CHECK(dz[0] == Approx((sig(0.3) - 1) * 2.0 / 3.5));
  CHECK(dz[5] == Approx(0.5 * 2 * (1.5 - 2.0) * 0.5 / 1.5));
}

TEST_CASE("multi-task network: backward matches central differences", "[ctr][multitask]") {
  // A two-level PLE (one expert per task, one shared, shared gate at level 0) and ESCM²-DR's
  // three towers on the embeddings, on a few rows of a multi-valued funnel.
  const ctr::MultiTaskData data = funnel_data(40, 3);
  for (int variant = 0; variant < 2; ++variant) {
    ctr::TrainingParams training{.epochs = 1, .batch_size = 16, .seed = 5, .num_threads = 1};
    ctr::MultiTaskNetwork net;
    std::vector<float> labels;
    // Independent BCEs on every output: the objective whose dz is the exact derivative of its
    // loss (the counterfactual risks hold values fixed on purpose; they are checked above).
    ctr::TaskObjective tasks;
    if (variant == 0) {
      const auto model = ctr::Ple({.embedding_dim = 3,
                                   .levels = 2,
                                   .shared_experts = 1,
                                   .task_experts = 1,
                                   .expert_hidden = {5, 4},
                                   .tower_hidden = {3},
                                   .init_scale = 0.3f,
                                   .training = training})
                             .fit(data);
      net = model.network();
      tasks = {{1, 1}, {1.0, 0.7}};
    } else {
      const auto model = ctr::Escm2({.embedding_dim = 3,
                                     .tower_hidden = {4, 3},
                                     .init_scale = 0.3f,
                                     .counterfactual = ctr::Counterfactual::doubly_robust,
                                     .training = training})
                             .fit(data);
      net = model.network();
      tasks = {{1, 1, 1}, {1.0, 0.7, 0.4}};
    }
    const Index T = net.num_outputs();
    const Index lo = 3, hi = 11, m = hi - lo;
    const auto view = ctr::RowsView::of(data.features());
    for (Index i = lo; i < hi; ++i)
      for (Index t = 0; t < T; ++t) labels.push_back(data.labels()(i, std::min<Index>(t, 1)));
    auto loss = [&](const ctr::MultiTaskNetwork& n, std::vector<float>* dz) {
      auto ws = n.make_workspace(m);
      std::vector<float> z(static_cast<std::size_t>(m * T));
      n.forward(view, lo, hi, ws, z.data());
      return objective_sum(tasks, labels, z, dz);
    };
    // Analytic gradients.
    std::vector<float> dz(static_cast<std::size_t>(m * T));
    loss(net, &dz);
    auto ws = net.make_workspace(m);
    std::vector<float> z(dz.size());
    net.forward(view, lo, hi, ws, z.data());
    ctr::BlockGradient g;
    for (Index d = 0; d < net.num_dense(); ++d)
      g.dense.push_back(
          Eigen::MatrixXf::Zero(net.dense(d).value.rows(), net.dense(d).value.cols()));
    const auto nnz = static_cast<std::size_t>(data.features().row_ptr[hi]);
    std::vector<float> entry(nnz * static_cast<std::size_t>(net.dim()), 0.0f);
    g.entry = {entry.data()};
    net.backward(view, lo, hi, ws, dz.data(), g);
    // Numeric gradients of a sample of coordinates of every dense parameter.
    const float h = 2e-3f;
    Index checked = 0;
    for (Index d = 0; d < net.num_dense(); ++d) {
      const Index size = net.dense(d).value.size();
      for (Index q = 0; q < size; q += std::max<Index>(1, size / 5)) {
        auto plus = net, minus = net;
        plus.dense(d).value.data()[q] += h;
        minus.dense(d).value.data()[q] -= h;
        const double numeric = (loss(plus, nullptr) - loss(minus, nullptr)) / (2.0 * h);
        INFO("variant " << variant << " dense " << d << " coordinate " << q);
        CHECK(g.dense[static_cast<std::size_t>(d)].data()[q] ==
              Approx(numeric).margin(2e-3).epsilon(3e-2));
        ++checked;
      }
    }
    CHECK(checked > 20);
    // Embedding rows: the entry gradients of a row summed over its entries in the block.
    for (auto e = data.features().row_ptr[lo]; e < data.features().row_ptr[lo] + 6; ++e) {
      const auto row = data.features().index[static_cast<std::size_t>(e)];
      for (Index d = 0; d < net.dim(); ++d) {
        double analytic = 0.0;
        for (auto a = data.features().row_ptr[lo]; a < data.features().row_ptr[hi]; ++a) {
          if (data.features().index[static_cast<std::size_t>(a)] == row)
            analytic += entry[static_cast<std::size_t>(a * net.dim() + d)];
        }
        auto plus = net, minus = net;
        plus.embedding.value(row, d) += h;
        minus.embedding.value(row, d) -= h;
        const double numeric = (loss(plus, nullptr) - loss(minus, nullptr)) / (2.0 * h);
        CHECK(analytic == Approx(numeric).margin(2e-3).epsilon(3e-2));
      }
    }
  }
}

TEST_CASE("funnel models: pCTCVR is pCTR x pCVR, determinism, save/load, warm start",
          "[ctr][multitask]") {
  const ctr::MultiTaskData data = funnel_data(600, 11);
  ctr::TrainingParams training{.epochs = 2, .batch_size = 128, .block_size = 32, .seed = 7};
  for (int kind = 0; kind < 4; ++kind) {
    auto fit = [&](Index threads) {
      training.num_threads = threads;
      if (kind == 0)
        return ctr::ClickedCvr({.embedding_dim = 4, .tower_hidden = {8}, .training = training})
            .fit(data);
      if (kind == 1)
        return ctr::Esmm({.embedding_dim = 4, .tower_hidden = {8}, .training = training}).fit(data);
      return ctr::Escm2({.embedding_dim = 4,
                         .tower_hidden = {8},
                         .counterfactual = kind == 2 ? ctr::Counterfactual::ips
                                                     : ctr::Counterfactual::doubly_robust,
                         .training = training})
          .fit(data);
    };
    const auto one = fit(1);
    const auto two = fit(2);
    const auto p1 = one.predict(data, 1);
    const auto p2 = two.predict(data, 2);
    CHECK(p1.pctr == p2.pctr);
    CHECK(p1.pcvr == p2.pcvr);
    for (Index i = 0; i < data.num_rows(); ++i) REQUIRE(p1.pctcvr[i] == p1.pctr[i] * p1.pcvr[i]);
    CHECK(one.history().epochs.size() == 2);
    CHECK(one.history().epochs[1].train_loss < one.history().epochs[0].train_loss + 1e-3);

    std::stringstream buffer;
    tailor::BinaryWriter out(buffer);
    one.save(out);
    tailor::BinaryReader in(buffer);
    const auto loaded = ctr::FunnelModel::load(in);
    CHECK(loaded.loss() == one.loss());
    CHECK(loaded.predict(data, 1).pcvr == p1.pcvr);
    // Single-row serving equals batch prediction.
    for (Index i = 0; i < 20; ++i) {
      const auto score = loaded.predict_one(data.features().row(i));
      CHECK(score.pctr == Approx(p1.pctr[i]).epsilon(1e-5));
      CHECK(score.pcvr == Approx(p1.pcvr[i]).epsilon(1e-5));
      CHECK(score.pctcvr == score.pctr * score.pcvr);
    }
    const std::vector<std::uint32_t> bad_row = {
        static_cast<std::uint32_t>(data.space().num_rows())};
    CHECK_THROWS_AS(loaded.predict_one(ctr::SparseRow{bad_row}), tailor::DataError);
    if (kind == 3) {
      CHECK(one.predict_imputed_cvr(data.features()).size() == data.num_rows());
    } else {
      CHECK_THROWS_AS(one.predict_imputed_cvr(data.features()), tailor::InvalidArgument);
    }
    const auto diagnostics = one.diagnose(data);
    CHECK(diagnostics.pcvr_sd > 0.0);
    // Negative down-sampling: pCTR corrected as q = p / (p + (1 − p)/r), pCVR unchanged,
    // pCTCVR = q·pCVR; keep_rate 1 changes nothing.
    const auto same = p1.corrected_for_negative_downsampling(1.0);
    CHECK(same.pctr.isApprox(p1.pctr));
    const auto corrected = p1.corrected_for_negative_downsampling(0.25);
    for (Index i = 0; i < 5; ++i) {
      const double p = p1.pctr[i];
      CHECK(corrected.pctr[i] == Approx(p / (p + (1.0 - p) / 0.25)).epsilon(1e-5));
      CHECK(corrected.pcvr[i] == p1.pcvr[i]);
      CHECK(corrected.pctcvr[i] == corrected.pctr[i] * p1.pcvr[i]);
    }
    CHECK_THROWS_AS(p1.corrected_for_negative_downsampling(0.0), tailor::InvalidArgument);

    // Warm start: 1 epoch + 1 warm-started epoch with kept optimizer state = 2 epochs.
    if (kind == 1) {
      auto warm = training;
      warm.num_threads = 1;
      warm.keep_optimizer_state = true;
      warm.epochs = 1;
      const auto first =
          ctr::Esmm({.embedding_dim = 4, .tower_hidden = {8}, .training = warm}).fit(data);
      const auto second = ctr::Esmm({.embedding_dim = 4, .tower_hidden = {8}, .training = warm})
                              .fit(data, {.initial = &first});
      CHECK(second.predict(data, 1).pcvr == p1.pcvr);
    }
  }
}

TEST_CASE("multi-task models: determinism, masks, gate reports, save/load", "[ctr][multitask]") {
  const ctr::MultiTaskData data = two_task_data(500, 4);
  const ctr::TrainingParams training{.epochs = 2, .batch_size = 100, .block_size = 32, .seed = 3};
  auto with_threads = [&](ctr::TrainingParams t, Index threads) {
    t.num_threads = threads;
    return t;
  };
  const auto sb =
      ctr::SharedBottom(
          {.embedding_dim = 4, .bottom_hidden = {8}, .tower_hidden = {4}, .training = training})
          .fit(data);
  CHECK(sb.gate_report(data.features()).empty());
  CHECK_THROWS_AS(sb.gate_weights(data.features(), 0, 0), tailor::InvalidArgument);
  for (int kind = 0; kind < 2; ++kind) {
    auto fit = [&](Index threads) {
      if (kind == 0)
        return ctr::Mmoe({.embedding_dim = 4,
                          .num_experts = 3,
                          .expert_hidden = {8, 6},
                          .tower_hidden = {4},
                          .training = with_threads(training, threads)})
            .fit(data);
      return ctr::Ple({.embedding_dim = 4,
                       .levels = 2,
                       .shared_experts = 2,
                       .task_experts = 1,
                       .expert_hidden = {8},
                       .tower_hidden = {4},
                       .training = with_threads(training, threads)})
          .fit(data);
    };
    const auto one = fit(1);
    const auto two = fit(2);
    const ctr::RowMatrixXf p = one.predict(data, 1);
    CHECK(p == two.predict(data, 2));
    CHECK(p.rows() == data.num_rows());
    CHECK(p.cols() == 2);
    CHECK(p.minCoeff() > 0.0f);
    CHECK(p.maxCoeff() < 1.0f);
    const auto reports = one.gate_report(data.features());
    CHECK(reports.size() == (kind == 0 ? 2u : 5u));  // PLE: 2 + shared at level 0, 2 at level 1
    for (const auto& r : reports) {
      double total = 0.0;
      for (double u : r.utilisation) total += u;
      CHECK(total == Approx(1.0));
      CHECK(r.normalised_entropy >= 0.0);
      CHECK(r.normalised_entropy <= 1.0 + 1e-9);
    }
    const ctr::RowMatrixXf g = one.gate_weights(data.features(), 0, 1);
    CHECK(g.rows() == data.num_rows());
    CHECK((g.rowwise().sum().array() - 1.0f).abs().maxCoeff() < 1e-5f);

    std::stringstream buffer;
    tailor::BinaryWriter out(buffer);
    one.save(out);
    tailor::BinaryReader in(buffer);
    const auto loaded = ctr::MultiTaskModel::load(in);
    CHECK(loaded.predict(data, 1) == p);
    CHECK(loaded.tasks()[1].name == "b");
    float scores[2];
    for (Index i = 0; i < 20; ++i) {
      loaded.predict_one(data.features().row(i), scores);
      CHECK(scores[0] == Approx(p(i, 0)).epsilon(1e-5));
      CHECK(scores[1] == Approx(p(i, 1)).epsilon(1e-5));
    }
    float three[3];
    CHECK_THROWS_AS(loaded.predict_one(data.features().row(0), three), tailor::ShapeMismatch);
  }
  // A continuous task: squared error, predictions are values.
  ctr::RowMatrixXf labels(data.num_rows(), 2);
  labels.col(0) = data.labels().col(0);
  for (Index i = 0; i < data.num_rows(); ++i) labels(i, 1) = 3.0f + 2.0f * data.labels()(i, 1);
  const ctr::MultiTaskData mixed(
      data.space(), data.features(), labels,
      {{"click", ctr::TaskKind::binary}, {"spend", ctr::TaskKind::continuous}});
  const auto model = ctr::Mmoe({.embedding_dim = 4,
                                .num_experts = 2,
                                .expert_hidden = {8},
                                .tower_hidden = {4},
                                .training = training})
                         .fit(mixed);
  const ctr::RowMatrixXf q = model.predict(mixed);
  CHECK(q.col(1).mean() == Approx(labels.col(1).mean()).epsilon(0.1));
}

TEST_CASE("multi-task data and models reject bad input", "[ctr][multitask]") {
  const ctr::CtrData base = ctr::test::random_click_data(50, 3, 5, 2);
  const auto& space = base.space();
  const auto& x = base.features();
  Eigen::VectorXf click = base.click();
  Eigen::VectorXf conversion = Eigen::VectorXf::Zero(50);
  Index unclicked = 0;
  while (click[unclicked] == 1.0f) ++unclicked;
  conversion[unclicked] = 1.0f;
  CHECK_THROWS_WITH(
      ctr::MultiTaskData::funnel(space, x, click, conversion),
      Catch::Contains(fmt::format("conversion[{}] = 1 but click[{}] = 0", unclicked, unclicked)));
  CHECK_THROWS_AS(ctr::MultiTaskData::funnel(space, x, click, Eigen::VectorXf::Zero(49)),
                  tailor::ShapeMismatch);
  ctr::RowMatrixXf labels(50, 2);
  labels.col(0) = click;
  labels.col(1) = click;
  labels(4, 1) = 0.5f;
  CHECK_THROWS_WITH(ctr::MultiTaskData(space, x, labels, {{"a"}, {"b"}}),
                    Catch::Contains("labels(4, 1) (task 'b') = 0.5, expected 0 or 1"));
  labels(4, 1) = std::nanf("");
  CHECK_THROWS_AS(ctr::MultiTaskData(space, x, labels, {{"a"}, {"b", ctr::TaskKind::continuous}}),
                  tailor::DataError);
  labels.col(1).setZero();
  CHECK_THROWS_WITH(ctr::MultiTaskData(space, x, labels, {{"a"}, {"b"}}),
                    Catch::Contains("every label of task 'b' is 0"));
  CHECK_THROWS_AS(ctr::MultiTaskData(space, x, labels, {{"a"}}), tailor::ShapeMismatch);
  CHECK_THROWS_AS(ctr::MultiTaskData(space, x, labels, {{"a"}, {"a"}}), tailor::InvalidArgument);
  labels.col(1) = click;
  CHECK_THROWS_AS(
      ctr::MultiTaskData(space, x, labels, {{"a"}, {"b"}}, ctr::RowMatrixXf::Zero(50, 1)),
      tailor::ShapeMismatch);
  // A label leaked into the features: a field named like a task, or a field whose two ids are
  // the two classes of a task.
  CHECK_THROWS_WITH(ctr::MultiTaskData(space, x, labels, {{"f1"}, {"b"}}),
                    Catch::Contains("field 'f1' has the name of task 'f1'"));
  {
    std::vector<std::string> names = {"f0", "leak"};
    std::vector<Index> cards = {5, 2};
    const auto leak_space = ctr::integer_space(names, cards);
    Eigen::MatrixXi ids(50, 2);
    for (Index i = 0; i < 50; ++i) {
      ids(i, 0) = static_cast<int>(i % 5);
      ids(i, 1) = static_cast<int>(click[i]);
    }
    Eigen::VectorXf converted = Eigen::VectorXf::Zero(50);
    Index first_click = 0;
    while (click[first_click] == 0.0f) ++first_click;
    converted[first_click] = 1.0f;
    CHECK_THROWS_WITH(
        ctr::MultiTaskData::funnel(leak_space, ctr::encode_ids(leak_space, ids), click, converted),
        Catch::Contains("field 'leak' equals the label of task 'click'"));
  }
  // Model settings and data kinds.
  CHECK_THROWS_AS(ctr::Esmm({.embedding_dim = 0}), tailor::InvalidArgument);
  CHECK_THROWS_AS(ctr::Escm2({.propensity_floor = 0.0f}), tailor::InvalidArgument);
  CHECK_THROWS_AS(ctr::Mmoe({.num_experts = 0}), tailor::InvalidArgument);
  CHECK_THROWS_AS(ctr::Ple({.levels = 0}), tailor::InvalidArgument);
  CHECK_THROWS_AS(ctr::Ple({.expert_hidden = {}}), tailor::InvalidArgument);
  CHECK_THROWS_AS(ctr::Mmoe({.task_weights = {1.0, -1.0}}), tailor::InvalidArgument);
  const ctr::MultiTaskData two(space, x, labels, {{"a"}, {"b"}});
  CHECK_THROWS_WITH(ctr::Esmm().fit(two), Catch::Contains("not a funnel"));
  CHECK_THROWS_AS(ctr::Mmoe({.task_weights = {1.0, 1.0, 1.0}}).fit(two), tailor::InvalidArgument);
  // A corrupted model file fails cleanly.
  const auto model = ctr::Mmoe({.embedding_dim = 2,
                                .num_experts = 2,
                                .expert_hidden = {3},
                                .tower_hidden = {2},
                                .training = {.batch_size = 16}})
                         .fit(two);
  std::stringstream buffer;
  tailor::BinaryWriter out(buffer);
  model.save(out);
  std::string bytes = buffer.str();
  for (std::size_t cut : {bytes.size() / 3, bytes.size() / 2, bytes.size() - 3}) {
    std::stringstream truncated(bytes.substr(0, cut));
    tailor::BinaryReader in(truncated);
    CHECK_THROWS_AS(ctr::MultiTaskModel::load(in), tailor::Error);
  }
}
