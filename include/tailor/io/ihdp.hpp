// tailor/io/ihdp.hpp — the IHDP semi-synthetic benchmark (Hill, JCGS 2011; "setting B" as used by
// CEVAE and CFRNet): loaders for the CEVAE per-replication CSVs and the CFRNet test split.
//
// A replication holds n units with binary treatment t, factual and counterfactual outcomes, the
// noiseless potential-outcome surfaces μ₀, μ₁ (so τᵢ = μ₁ᵢ − μ₀ᵢ is known exactly) and 25
// covariates. Files:
//  * ihdp_npci_<k>.csv — 747 rows, no header: t, y_factual, y_cfactual, mu0, mu1, x1..x25;
//  * ihdp_npci_1-100.test.long.csv — header rep, unit, t, yf, ycf, mu0, mu1, x1..x25; 75 test
//    units per replication. For k ≤ 10 those 75 rows also appear verbatim in ihdp_npci_<k>.csv,
//    so the CFRNet train split is the CSV minus them (split_replication does that).
// Evaluation metrics: √PEHE = √(mean (τ̂ᵢ − τᵢ)²) and ε_ATE = |mean τ̂ − mean τ| (Hill 2011;
// Shalit, Johansson & Sontag 2017). Cost: O(n·p) to read, O(n·m) to split.
#pragma once

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"
#include "tailor/io/csv.hpp"

namespace tailor::io::ihdp {

/// One IHDP replication (or a subset of its rows).
struct Replication {
  Matrix X;         ///< n × 25 covariates as stored (x14 coded {1, 2} in these files)
  Vector t;         ///< treatment 0/1
  Vector y;         ///< factual outcome
  Vector y_cf;      ///< counterfactual outcome
  Vector mu0, mu1;  ///< noiseless potential outcomes
  Vector tau() const { return mu1 - mu0; }
  Index num_rows() const { return X.rows(); }
};

namespace detail {
inline Replication from_matrix(const Matrix& m, Index first_column, const std::string& source) {
  if (m.cols() != first_column + 30) {
    raise<FormatError>("{}: {} columns, expected {} (t, yf, ycf, mu0, mu1, x1..x25)",
                                       source, m.cols(), first_column + 30);
  }
  Replication r;
  r.t = m.col(first_column + 0);
  r.y = m.col(first_column + 1);
  r.y_cf = m.col(first_column + 2);
  r.mu0 = m.col(first_column + 3);
  r.mu1 = m.col(first_column + 4);
  r.X = m.rightCols(25);
  for (Index i = 0; i < r.t.size(); ++i) {
    if (r.t[i] != 0.0 && r.t[i] != 1.0) {
      raise<FormatError>("{}: row {}: t = {}, expected 0 or 1", source, i + 1,
                                         r.t[i]);
    }
  }
  return r;
}

inline Replication select_rows(const Replication& r, const std::vector<Index>& rows) {
  Replication out;
  out.X = r.X(rows, Eigen::all);
  out.t = r.t(rows);
  out.y = r.y(rows);
  out.y_cf = r.y_cf(rows);
  out.mu0 = r.mu0(rows);
  out.mu1 = r.mu1(rows);
  return out;
}
}  // namespace detail

/// Reads a CEVAE replication CSV (ihdp_npci_<k>.csv, no header, 30 columns).
inline Replication read_replication(const std::filesystem::path& path) {
  const Table table = read_csv(path, CsvOptions{.header = false});
  std::vector<std::string> names = table.column_names();
  return detail::from_matrix(table.to_matrix(names), 0, path.string());
}

/// Reads the CFRNet test units of replication `rep` (1-based) from the long CSV.
inline Replication read_test_units(const std::filesystem::path& long_csv, int rep) {
  const Table table = read_csv(long_csv);
  const Eigen::VectorXd& reps = table.numeric("rep");
  std::vector<Index> rows;
  for (Index i = 0; i < reps.size(); ++i) {
    if (reps[i] == rep) rows.push_back(i);
  }
  if (rows.empty()) {
    raise<FormatError>("{}: no rows for rep = {}", long_csv.string(), rep);
  }
  std::vector<std::string> names{"t", "yf", "ycf", "mu0", "mu1"};
  for (int j = 1; j <= 25; ++j) names.push_back(fmt::format("x{}", j));
  const Matrix all = table.to_matrix(names);
  return detail::from_matrix(all(rows, Eigen::all), 0, long_csv.string());
}

/// The train/test split of a replication: test = the rows of `full` that equal a row of `test`
/// (all 30 values within 1e-9 relative), train = the rest. Throws FormatError when a test unit is
/// not found.
struct Split {
  Replication train, test;
};
inline Split split_replication(const Replication& full, const Replication& test) {
  std::vector<bool> is_test(static_cast<std::size_t>(full.num_rows()), false);
  auto close = [](double a, double b) { return std::abs(a - b) <= 1e-9 * (1.0 + std::abs(b)); };
  for (Index u = 0; u < test.num_rows(); ++u) {
    Index match = -1;
    for (Index i = 0; i < full.num_rows() && match < 0; ++i) {
      if (is_test[static_cast<std::size_t>(i)]) continue;
      bool same = close(full.t[i], test.t[u]) && close(full.y[i], test.y[u]) &&
                  close(full.mu0[i], test.mu0[u]) && close(full.mu1[i], test.mu1[u]);
      for (Index j = 0; same && j < full.X.cols(); ++j) same = close(full.X(i, j), test.X(u, j));
      if (same) match = i;
    }
    if (match < 0) {
      raise<FormatError>("ihdp: test unit {} not found in the replication", u + 1);
    }
    is_test[static_cast<std::size_t>(match)] = true;
  }
  std::vector<Index> train_rows, test_rows;
  for (Index i = 0; i < full.num_rows(); ++i) {
    (is_test[static_cast<std::size_t>(i)] ? test_rows : train_rows).push_back(i);
  }
  return {detail::select_rows(full, train_rows), detail::select_rows(full, test_rows)};
}

/// √PEHE = √(mean (τ̂ᵢ − τᵢ)²).
inline double sqrt_pehe(const VectorRef& tau_hat, const VectorRef& tau) {
  check_rows("sqrt_pehe", "tau_hat", tau_hat.size(), tau.size(), "the length of tau");
  return std::sqrt((tau_hat - tau).squaredNorm() / static_cast<double>(tau.size()));
}

/// ε_ATE = |mean τ̂ − mean τ|.
inline double ate_error(const VectorRef& tau_hat, const VectorRef& tau) {
  check_rows("ate_error", "tau_hat", tau_hat.size(), tau.size(), "the length of tau");
  return std::abs(tau_hat.mean() - tau.mean());
}

}  // namespace tailor::io::ihdp
