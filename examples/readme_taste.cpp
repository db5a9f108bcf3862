// readme_taste — the README's "A taste" program, compiled and run by the test suite so the first
// code a user reads always builds (with -Wall -Wextra -Wpedantic -Werror) and works. A CTest test
// (cmake/check_readme_taste.cmake) checks that every line of the README's block appears here, in
// order. Data: a small randomized design with effect τ(x) = 1 + x₂ (ATE 1).
#include <tailor/cate.hpp>
#include <tailor/learn.hpp>

#include <iostream>

int main() {
  const Eigen::Index n = 1000;
  tailor::Rng rng(7);
  Eigen::MatrixXd X(n, 3), X_new(10, 3);
  Eigen::VectorXd w(n), y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < 3; ++j) X(i, j) = rng.uniform(-1.0, 1.0);
    w[i] = rng.bernoulli(0.5) ? 1.0 : 0.0;
    y[i] = X(i, 0) + w[i] * (1.0 + X(i, 1)) + rng.normal();
  }
  X_new = X.topRows(10);

  // clang-format off
  // X: n×p features, w: 0/1 treatment, y: outcome (Eigen column-major).
  tailor::CausalData data(X, w, y);                              // validated once
  tailor::cate::DRLearner<tailor::learn::RegressionForest,
                          tailor::learn::ClassificationForest> learner({.num_folds = 5, .seed = 42});
  auto model = learner.fit(data);                                // immutable fitted model
  Eigen::VectorXd tau = model.predict(X_new);                    // CATE τ̂(x), const & thread-safe
  tailor::Estimate ate = model.average_effect();                 // AIPW {value, std_error}
  auto ci = ate.confidence_interval(0.95);
  if (model.diagnostics().poor) std::cerr << model.diagnostics().verdict << '\n';  // overlap
  // clang-format on

  std::cout << "ATE " << ate.value << " [" << ci.lower << ", " << ci.upper << "], tau[0] " << tau[0]
            << '\n';
  return ci.contains(1.0) ? 0 : 1;  // the true ATE is 1
}
