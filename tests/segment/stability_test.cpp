#include <catch2/catch.hpp>

#include "tailor/segment/stability.hpp"

using namespace tailor;
using segment::bootstrap_stability;
using segment::KMeans;
using segment::StabilityParams;
using segment::StabilityReference;

namespace {

Matrix blobs(Index n, Index k, double spread, std::uint64_t seed) {
  Rng rng(seed);
  Matrix X(n, 2);
  for (Index i = 0; i < n; ++i) {
    const double angle =
        2.0 * 3.141592653589793 * static_cast<double>(i % k) / static_cast<double>(k);
    X(i, 0) = spread * std::cos(angle) + rng.normal();
    X(i, 1) = spread * std::sin(angle) + rng.normal();
  }
  return X;
}

// Splits on the sign of column 0 whatever data it sees: perfectly stable.
struct SignModel {
  std::vector<Index> predict(const MatrixRef& X) const {
    std::vector<Index> out(static_cast<std::size_t>(X.rows()));
    for (Index i = 0; i < X.rows(); ++i) out[static_cast<std::size_t>(i)] = X(i, 0) > 0 ? 1 : 0;
    return out;
  }
};
struct SignClusterer {
  SignModel fit(const MatrixRef&) const { return {}; }
};

// Labels rows by a hash of (row content, training-set sum): a new partition per resample.
struct NoiseModel {
  std::uint64_t salt;
  std::vector<Index> predict(const MatrixRef& X) const {
    std::vector<Index> out(static_cast<std::size_t>(X.rows()));
    for (Index i = 0; i < X.rows(); ++i) {
      std::uint64_t h = std::bit_cast<std::uint64_t>(X(i, 0)) ^ salt;
      out[static_cast<std::size_t>(i)] = static_cast<Index>(tailor::detail::splitmix64(h) % 3);
    }
    return out;
  }
};
struct NoiseClusterer {
  NoiseModel fit(const MatrixRef& X) const { return {std::bit_cast<std::uint64_t>(X.sum())}; }
};

}  // namespace

TEST_CASE("Bootstrap stability of known-stable and known-unstable clusterers",
          "[segment][stability]") {
  const Matrix X = blobs(400, 2, 3.0, 1);
  const auto stable = bootstrap_stability(SignClusterer{}, X, {.num_bootstrap = 10});
  REQUIRE(stable.ari.size() == 10);
  for (double a : stable.ari) CHECK(a == 1.0);
  CHECK(stable.mean_ari == 1.0);
  CHECK(stable.interval.lower == 1.0);
  const auto noise = bootstrap_stability(NoiseClusterer{}, X, {.num_bootstrap = 20, .seed = 2});
  CHECK(std::abs(noise.mean_ari) < 0.05);
  CHECK(noise.interval.lower <= noise.mean_ari);
  CHECK(noise.interval.upper >= noise.mean_ari);
  const auto pairs = bootstrap_stability(
      NoiseClusterer{}, X, {.num_bootstrap = 5, .reference = StabilityReference::pairs});
  CHECK(pairs.ari.size() == 5);
  CHECK(std::abs(pairs.mean_ari) < 0.1);
}

TEST_CASE("K-Means on planted clusters is stable; the interval is a percentile interval",
          "[segment][stability]") {
  const Matrix X = blobs(600, 4, 8.0, 3);
  const KMeans kmeans({.num_clusters = 4, .n_init = 2, .seed = 1});
  const auto report =
      bootstrap_stability(kmeans, X, {.num_bootstrap = 12, .level = 0.9, .seed = 5});
  CHECK(report.mean_ari >= 0.95);
  CHECK(report.interval.lower >= 0.9);
  CHECK(report.interval.upper <= 1.0);
  std::vector<double> sorted = report.ari;
  std::sort(sorted.begin(), sorted.end());
  // Type-7 quantile at 0.05 of 12 values: h = 11·0.05 = 0.55.
  CHECK(report.interval.lower == Approx(sorted[0] + 0.55 * (sorted[1] - sorted[0])));
  CHECK(report.level == 0.9);
  // Thread-count invariant and seeded.
  auto run = [&](Index threads, StabilityReference ref) {
    return bootstrap_stability(
        kmeans, X, {.num_bootstrap = 6, .reference = ref, .seed = 5, .num_threads = threads});
  };
  for (auto ref : {StabilityReference::full_fit, StabilityReference::pairs}) {
    CHECK(run(1, ref).ari == run(2, ref).ari);
    CHECK(run(1, ref).ari == run(4, ref).ari);
  }
  // Progress reports every resample, in increasing order.
  std::vector<Index> seen;
  bootstrap_stability(kmeans, X, {.num_bootstrap = 4, .progress = [&](const Progress& p) {
                                    CHECK(p.stage == "bootstrap");
                                    CHECK(p.total == 4);
                                    seen.push_back(p.done);
                                  }});
  CHECK(seen == std::vector<Index>{0, 1, 2, 3, 4});
}

TEST_CASE("Warm-started stability: resample fits start from the full-data centers",
          "[segment][stability]") {
  const Matrix X = blobs(600, 4, 8.0, 3);
  const KMeans kmeans({.num_clusters = 4, .n_init = 2, .seed = 1});
  auto run = [&](Index threads, bool warm, const KMeans& clusterer) {
    return bootstrap_stability(
        clusterer, X, {.num_bootstrap = 8, .seed = 5, .num_threads = threads, .warm_start = warm});
  };
  const auto warm = run(1, true, kmeans);
  CHECK(warm.mean_ari >= 0.95);
  CHECK(warm.ari == run(3, true, kmeans).ari);
  // Too many clusters for the data: cold refits split the blobs differently each time, while
  // warm starts stay in the full-data solution's basin and agree more.
  const KMeans over({.num_clusters = 9, .n_init = 1, .seed = 1});
  const auto cold_over = run(2, false, over);
  const auto warm_over = run(2, true, over);
  INFO("cold " << cold_over.mean_ari << " warm " << warm_over.mean_ari);
  CHECK(warm_over.mean_ari > cold_over.mean_ari);
  // The warm-started clusterer is one run from the given centers.
  const auto model = kmeans.fit(X);
  const KMeans started = kmeans.warm_started(model);
  CHECK(started.params().n_init == 1);
  CHECK(started.params().initial_centers == model.centers());
  // Only clusterers with warm_started() can do it.
  CHECK_THROWS_WITH(
      bootstrap_stability(SignClusterer{}, X, {.num_bootstrap = 2, .warm_start = true}),
      Catch::Contains("warm_start = true, expected a clusterer with warm_started(model)"));
}

TEST_CASE("k-selection singles out the planted number of clusters", "[segment][stability]") {
  const Matrix X = blobs(450, 3, 8.0, 7);
  segment::KSelectionParams params;
  params.stability.num_bootstrap = 6;
  const auto rows = segment::k_selection(X, 2, 5, segment::KMeansParams{.n_init = 3}, params);
  REQUIRE(rows.size() == 4);
  std::size_t best_silhouette = 0, best_ch = 0, best_db = 0;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    CHECK(rows[r].num_clusters == static_cast<Index>(r) + 2);
    if (rows[r].silhouette > rows[best_silhouette].silhouette) best_silhouette = r;
    if (rows[r].calinski_harabasz > rows[best_ch].calinski_harabasz) best_ch = r;
    if (rows[r].davies_bouldin < rows[best_db].davies_bouldin) best_db = r;
    if (r > 0) CHECK(rows[r].inertia < rows[r - 1].inertia);
  }
  CHECK(best_silhouette == 1);
  CHECK(best_ch == 1);
  CHECK(best_db == 1);
  CHECK(rows[1].stability_mean >= 0.95);
  const auto direct = KMeans({.num_clusters = 3, .n_init = 3}).fit(X);
  CHECK(rows[1].inertia == direct.inertia());
  CHECK(rows[1].silhouette == segment::silhouette_score(X, direct.labels()));
}

TEST_CASE("Stability rejects bad parameters", "[segment][stability]") {
  const Matrix X = blobs(20, 2, 3.0, 1);
  CHECK_THROWS_WITH(bootstrap_stability(SignClusterer{}, X, {.num_bootstrap = 0}),
                    Catch::Contains("num_bootstrap = 0, expected 1 to 1000000"));
  CHECK_THROWS_WITH(bootstrap_stability(SignClusterer{}, X, {.level = 1.0}),
                    Catch::Contains("level = 1, expected a value in (0, 1)"));
  CHECK_THROWS_WITH(
      bootstrap_stability(SignClusterer{}, X,
                          {.num_bootstrap = 1, .reference = StabilityReference::pairs}),
      Catch::Contains("expected at least 2 for reference = pairs"));
  CHECK_THROWS_WITH(segment::k_selection(X, 1, 3, segment::KMeansParams{}),
                    Catch::Contains("k_min = 1, expected at least 2"));
  CHECK_THROWS_WITH(segment::k_selection(X, 4, 3, segment::KMeansParams{}),
                    Catch::Contains("k_max = 3, expected >= k_min = 4"));
  CHECK_THROWS_AS(bootstrap_stability(SignClusterer{}, Matrix(0, 2)), DataError);
}
