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
// Shalit, Johansson & Sontag 2017). Cost: O(n·p) to read (streamed through CsvReader), O(n·m) to
// split. Errors: FormatError naming file:line:column for a field that is not a finite number
// (text, a missing value, inf, 1e999) or a treatment other than 0/1.
#pragma once

#include <cmath>
#include <cstddef>
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

/// The 30 value columns of a replication, in file order.
inline const std::vector<std::string>& replication_columns() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out{"t", "y_factual", "y_cfactual", "mu0", "mu1"};
    for (int j = 1; j <= 25; ++j) out.push_back(fmt::format("x{}", j));
    return out;
  }();
  return names;
}

/// Reads the rows of `reader` whose `keep(row)` is true into a Replication; the values are the
/// fields `columns` (30: t, yf, ycf, mu0, mu1, x1..x25); `names[j]` names field j in messages.
/// Every field of every row is checked, kept or not: a non-number is CsvRow::number's FormatError
/// (file:line:column), a non-finite number or a t other than 0/1 a FormatError naming file, line,
/// column and name.
template <class Keep>
Replication read_rows(CsvReader& reader, const std::vector<std::size_t>& columns,
                      const std::vector<std::string>& names, Keep&& keep) {
  std::vector<double> values;  // row-major, 30 per kept row
  CsvRow row;
  while (reader.next_row(row)) {
    for (std::size_t j = 0; j < row.size(); ++j) {
      const double value = row.number(j);
      if (!std::isfinite(value)) {
        raise<FormatError>("{}:{}:{} ({}): '{}', expected a finite number", reader.source(),
                           row.line(), j + 1, names[j], row.text(j));
      }
    }
    const double t = row.number(columns[0]);
    if (t != 0.0 && t != 1.0) {
      raise<FormatError>("{}:{}:{} ({}): {}, expected 0 or 1", reader.source(), row.line(),
                         columns[0] + 1, names[columns[0]], t);
    }
    if (!keep(row)) continue;
    for (const std::size_t j : columns) values.push_back(row.number(j));
  }
  const auto n = static_cast<Index>(values.size() / 30);
  const Matrix m = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, 30, Eigen::RowMajor>>(
      values.data(), n, 30);
  Replication r;
  r.t = m.col(0);
  r.y = m.col(1);
  r.y_cf = m.col(2);
  r.mu0 = m.col(3);
  r.mu1 = m.col(4);
  r.X = m.rightCols(25);
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

/// Reads a CEVAE replication CSV (ihdp_npci_<k>.csv, no header, 30 columns). FormatError naming
/// file:line:column for a field that is not a finite number, a t other than 0/1 or a width other
/// than 30; DataError for a file without rows; a missing file is a tailor::Error.
inline Replication read_replication(const std::filesystem::path& path) {
  CsvOptions options;
  options.header = false;
  CsvReader reader(path, options);
  if (reader.num_columns() == 0) {
    raise<DataError>("{}: no rows, expected rows of 30 values (t, yf, ycf, mu0, mu1, x1..x25)",
                     path.string());
  }
  if (reader.num_columns() != 30) {
    raise<FormatError>("{}: {} columns, expected 30 (t, yf, ycf, mu0, mu1, x1..x25)", path.string(),
                       reader.num_columns());
  }
  std::vector<std::size_t> columns(30);
  for (std::size_t j = 0; j < 30; ++j) columns[j] = j;
  return detail::read_rows(reader, columns, detail::replication_columns(),
                           [](const CsvRow&) { return true; });
}

/// Reads the CFRNet test units of replication `rep` (1-based) from the long CSV (header rep, unit,
/// t, yf, ycf, mu0, mu1, x1..x25). Every row is checked as read_replication does; FormatError
/// when a column is missing or no row has rep = `rep`.
inline Replication read_test_units(const std::filesystem::path& long_csv, int rep) {
  CsvReader reader(long_csv);
  std::vector<std::string> names{"t", "yf", "ycf", "mu0", "mu1"};
  for (int j = 1; j <= 25; ++j) names.push_back(fmt::format("x{}", j));
  std::vector<std::size_t> columns;
  for (const std::string& name : names) columns.push_back(reader.column_index(name));
  const std::size_t rep_column = reader.column_index("rep");
  Replication r = detail::read_rows(reader, columns, reader.column_names(), [&](const CsvRow& row) {
    return row.number(rep_column) == static_cast<double>(rep);
  });
  if (r.num_rows() == 0) {
    raise<FormatError>("{}: no rows for rep = {}", long_csv.string(), rep);
  }
  return r;
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
