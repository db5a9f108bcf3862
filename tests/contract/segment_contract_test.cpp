// Contract suite for segmentation (tests/contract/contract.hpp): KMeans, MiniBatchKMeans, Nmf
// and the NMF + K-Means Segmenter.
#include "contract.hpp"

#include "tailor/segment/kmeans.hpp"
#include "tailor/segment/nmf.hpp"
#include "tailor/segment/segmenter.hpp"

namespace {

using namespace tailor;
using namespace tailor::segment;
using contract::CountParameter;
using contract::Matrix;

Matrix small_data() {
  Matrix X(40, 3);
  for (Index i = 0; i < 40; ++i) {
    for (Index j = 0; j < 3; ++j) X(i, j) = static_cast<double>((i * 7 + j * 3) % 11) / 11.0;
  }
  return X;
}

/// Labels and distances to the centres, as one matrix.
const auto kmeans_output = [](const KMeansModel& model, const Matrix& X) {
  const std::vector<Index> labels = model.predict(X);
  Matrix out(X.rows(), 1 + model.centers().rows());
  out.col(0) = Eigen::Map<const Eigen::Matrix<Index, Eigen::Dynamic, 1>>(labels.data(), X.rows())
                   .cast<double>();
  out.rightCols(model.centers().rows()) = model.transform(X);
  return out;
};

KMeansParams kmeans(Index threads) {
  KMeansParams p;
  p.num_clusters = 3;
  p.n_init = 2;
  p.seed = 9;
  p.num_threads = threads;
  return p;
}

MiniBatchKMeansParams minibatch(Index threads) {
  MiniBatchKMeansParams p;
  p.num_clusters = 3;
  p.batch_size = 32;
  p.seed = 9;
  p.num_threads = threads;
  return p;
}

NmfParams nmf(Index threads) {
  NmfParams p;
  p.num_components = 2;
  p.max_iter = 50;
  p.seed = 9;
  p.num_threads = threads;
  return p;
}

template <class Estimator, class Params>
auto counts_for(Params base, auto set) {
  return [=](std::int64_t v) {
    Params p = base;
    set(p, v);
    (void)Estimator(p).fit(small_data());
  };
}

}  // namespace

TEST_CASE("contract: KMeans", "[contract]") {
  const auto c = [](auto set) { return counts_for<KMeans>(kmeans(1), set); };
  contract::check_unsupervised(
      "KMeans", [](Index t) { return KMeans(kmeans(t)); }, kmeans_output,
      {{"num_clusters", c([](KMeansParams& p, std::int64_t v) { p.num_clusters = v; })},
       {"n_init", c([](KMeansParams& p, std::int64_t v) { p.n_init = v; })},
       {"max_iter", c([](KMeansParams& p, std::int64_t v) { p.max_iter = v; })},
       {"num_threads", c([](KMeansParams& p, std::int64_t v) { p.num_threads = v; }), false}});
}

TEST_CASE("contract: MiniBatchKMeans", "[contract]") {
  const auto c = [](auto set) { return counts_for<MiniBatchKMeans>(minibatch(1), set); };
  contract::check_unsupervised(
      "MiniBatchKMeans", [](Index t) { return MiniBatchKMeans(minibatch(t)); }, kmeans_output,
      {{"num_clusters", c([](MiniBatchKMeansParams& p, std::int64_t v) { p.num_clusters = v; })},
       {"batch_size", c([](MiniBatchKMeansParams& p, std::int64_t v) { p.batch_size = v; })},
       {"max_iter", c([](MiniBatchKMeansParams& p, std::int64_t v) { p.max_iter = v; })},
       {"max_no_improvement",
        c([](MiniBatchKMeansParams& p, std::int64_t v) { p.max_no_improvement = v; }), false},
       {"n_init", c([](MiniBatchKMeansParams& p, std::int64_t v) { p.n_init = v; })},
       {"init_size", c([](MiniBatchKMeansParams& p, std::int64_t v) { p.init_size = v; }), false}});
}

TEST_CASE("contract: Nmf", "[contract]") {
  const auto c = [](auto set) { return counts_for<Nmf>(nmf(1), set); };
  contract::check_unsupervised(
      "Nmf", [](Index t) { return Nmf(nmf(t)); },
      [](const NmfModel& model, const Matrix& X) { return model.transform(X); },
      {{"num_components", c([](NmfParams& p, std::int64_t v) { p.num_components = v; })},
       {"max_iter", c([](NmfParams& p, std::int64_t v) { p.max_iter = v; })},
       {"num_threads", c([](NmfParams& p, std::int64_t v) { p.num_threads = v; }), false}});
}

TEST_CASE("contract: Segmenter", "[contract]") {
  const auto make = [](Index t) {
    SegmenterParams p;
    p.nmf = nmf(t);
    p.kmeans = kmeans(t);
    return Segmenter(p);
  };
  contract::check_unsupervised("Segmenter", make,
                               [](const SegmenterModel& model, const Matrix& X) {
                                 const std::vector<Index> labels = model.predict(X);
                                 Matrix out(X.rows(), 1);
                                 for (Index i = 0; i < X.rows(); ++i)
                                   out(i, 0) = static_cast<double>(labels[i]);
                                 return out;
                               },
                               {{"num_clusters", [=](std::int64_t v) {
                                   SegmenterParams p;
                                   p.nmf = nmf(1);
                                   p.kmeans = kmeans(1);
                                   p.kmeans.num_clusters = v;
                                   (void)Segmenter(p).fit(small_data());
                                 }}});
}
