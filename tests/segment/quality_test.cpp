#include <catch2/catch.hpp>

#include "tailor/segment/quality.hpp"

using namespace tailor;
using segment::calinski_harabasz_score;
using segment::davies_bouldin_score;
using segment::silhouette_samples;
using segment::silhouette_score;

TEST_CASE("Quality indices match hand-computed values", "[segment][quality]") {
  // Rows 0, 2 | 10, 12 on a line.
  Matrix X(4, 1);
  X << 0, 2, 10, 12;
  const std::vector<Index> labels = {5, 5, 9, 9};  // arbitrary label values
  // s(0): a = 2, b = (10 + 12)/2 = 11 → 9/11; s(2): a = 2, b = (8 + 10)/2 = 9 → 7/9; symmetric.
  const Vector s = silhouette_samples(X, labels);
  CHECK(s[0] == Approx(9.0 / 11.0));
  CHECK(s[1] == Approx(7.0 / 9.0));
  CHECK(s[2] == Approx(7.0 / 9.0));
  CHECK(s[3] == Approx(9.0 / 11.0));
  CHECK(silhouette_score(X, labels) == Approx((9.0 / 11.0 + 7.0 / 9.0) / 2.0));
  // CH: x̄ = 6, centroids 1 and 11: B = 2·25 + 2·25 = 100, W = 4·1 = 4, (100/1)/(4/2) = 50.
  CHECK(calinski_harabasz_score(X, labels) == Approx(50.0));
  // DB: S = 1 for both, centroid gap 10: (1 + 1)/10 = 0.2.
  CHECK(davies_bouldin_score(X, labels) == Approx(0.2));
}

TEST_CASE("Quality indices in two dimensions with a singleton", "[segment][quality]") {
  // Cluster A = {(0,0), (0,2)}, cluster B = {(3,0)} (a singleton: s = 0).
  Matrix X(3, 2);
  X << 0, 0, 0, 2, 3, 0;
  const std::vector<Index> labels = {0, 0, 1};
  const Vector s = silhouette_samples(X, labels);
  // (0,0): a = 2, b = 3 → 1/3. (0,2): a = 2, b = √13 → (√13 − 2)/√13.
  CHECK(s[0] == Approx(1.0 / 3.0));
  CHECK(s[1] == Approx((std::sqrt(13.0) - 2.0) / std::sqrt(13.0)));
  CHECK(s[2] == 0.0);
  // CH: x̄ = (1, 2/3); centroid A (0,1), B (3,0). B = 2·(1 + 1/9) + (4 + 4/9) = 6.666…,
  // W = 1 + 1 = 2, (B/1)/(W/1).
  CHECK(calinski_harabasz_score(X, labels) == Approx(20.0 / 3.0 / 2.0));
  // DB: S_A = 1, S_B = 0, gap √10: 1/√10 for both clusters.
  CHECK(davies_bouldin_score(X, labels) == Approx(1.0 / std::sqrt(10.0)));
}

TEST_CASE("Sampled silhouette estimates the exact score", "[segment][quality]") {
  Rng rng(3);
  const Index n = 3000;
  Matrix X(n, 3);
  std::vector<Index> labels(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    labels[static_cast<std::size_t>(i)] = i % 3;
    for (Index j = 0; j < 3; ++j) X(i, j) = 2.0 * static_cast<double>((i % 3) == j) + rng.normal();
  }
  const double exact = silhouette_score(X, labels, {.max_exact_rows = n});
  CHECK(exact == Approx(silhouette_samples(X, labels).mean()));
  const segment::SilhouetteParams sampled{.max_exact_rows = 500, .sample_size = 600, .seed = 1};
  const double estimate = silhouette_score(X, labels, sampled);
  CHECK(estimate != exact);
  CHECK(std::abs(estimate - exact) < 0.03);
  // Seeded and thread-count invariant.
  auto with_threads = [&](Index t) {
    auto p = sampled;
    p.num_threads = t;
    return silhouette_score(X, labels, p);
  };
  CHECK(with_threads(1) == with_threads(2));
  CHECK(with_threads(1) == with_threads(4));
  auto other = sampled;
  other.seed = 2;
  CHECK(silhouette_score(X, labels, other) != estimate);
}

TEST_CASE("Quality indices reject bad labels", "[segment][quality]") {
  Matrix X(4, 1);
  X << 0, 1, 2, 3;
  CHECK_THROWS_WITH(silhouette_score(X, std::vector<Index>{0, 0, 0, 0}),
                    Catch::Contains("labels have 1 distinct values, expected between 2 and n - 1"));
  CHECK_THROWS_WITH(calinski_harabasz_score(X, std::vector<Index>{0, 1, 2, 3}),
                    Catch::Contains("4 distinct values"));
  CHECK_THROWS_WITH(davies_bouldin_score(X, std::vector<Index>{0, 1}),
                    Catch::Contains("labels has 2 entries, expected 4"));
  CHECK_THROWS_WITH(davies_bouldin_score(X, std::vector<Index>{0, 1, -1, 0}),
                    Catch::Contains("labels[2] = -1, expected a label >= 0"));
  Matrix nan = X;
  nan(1, 0) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(calinski_harabasz_score(nan, std::vector<Index>{0, 1, 1, 0}), DataError);
  CHECK_THROWS_WITH(silhouette_score(X, std::vector<Index>{0, 1, 1, 0}, {.sample_size = 0}),
                    Catch::Contains("sample_size = 0"));
  // Degenerate but valid: zero within-cluster spread.
  Matrix twins(4, 1);
  twins << 1, 1, 5, 5;
  const std::vector<Index> pairs = {0, 0, 1, 1};
  CHECK(calinski_harabasz_score(twins, pairs) == 1.0);
  CHECK(davies_bouldin_score(twins, pairs) == 0.0);
  CHECK(silhouette_score(twins, pairs) == Approx(1.0));
}
