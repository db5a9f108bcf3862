// tailor/io/panel_csv.hpp — panels and per-unit tables from CSV for pricing/: a long table
// (unit, period, outcome, treated) as a pricing::Panel, and a table with one row per unit
// (predictors such as ADH's) as a k × units matrix in the panel's unit order.
// Errors: FormatError naming file:line:column for a field that is not what the panel needs
// (read_panel_csv streams the file with CsvReader), DataError naming the file for Panel's checks
// (unit and period), and DataError naming a unit the per-unit table lacks or repeats. O(bytes).
#pragma once

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/pricing/panel.hpp"

namespace tailor::io {

/// Column names and separator of a long panel table (defaults: shared/data/prop99's).
struct PanelColumns {
  std::string unit = "State";
  std::string period = "Year";
  std::string outcome = "PacksPerCapita";
  std::string treated = "treated";
  char separator = ';';
};

/// A long table as a validated Panel. Streams the file (CsvReader): a missing column, a period,
/// outcome or treated field that is not a finite number, or a treated value other than 0/1 is a
/// FormatError naming file:line:column; a file without rows, and Panel's own checks (a unit with
/// a period twice, an unbalanced panel, too few donors), are DataErrors naming the file.
inline pricing::Panel read_panel_csv(const std::filesystem::path& path,
                                     const PanelColumns& columns = {}) {
  CsvOptions options;
  options.separator = columns.separator;
  CsvReader reader(path, options);
  const std::string& source = reader.source();
  const auto find = [&](const std::string& name, std::string_view role) {
    const std::vector<std::string>& names = reader.column_names();
    for (std::size_t j = 0; j < names.size(); ++j) {
      if (names[j] == name) return j;
    }
    raise<FormatError>("{}: no column '{}' (PanelColumns::{}); columns: {}", source, name, role,
                       fmt::join(names, ", "));
  };
  const std::size_t c_unit = find(columns.unit, "unit");
  const std::size_t c_period = find(columns.period, "period");
  const std::size_t c_outcome = find(columns.outcome, "outcome");
  const std::size_t c_treated = find(columns.treated, "treated");
  std::vector<std::string> units;
  std::vector<double> period, outcome, treated;
  CsvRow row;
  // CsvRow::number: FormatError file:line:column for a non-number or a missing value.
  const auto finite = [&](std::size_t j) {
    const double value = row.number(j);
    if (!std::isfinite(value)) {
      raise<FormatError>("{}:{}:{} (column '{}'): '{}', expected a finite number", source,
                         row.line(), j + 1, reader.column_names()[j], row.text(j));
    }
    return value;
  };
  while (reader.next_row(row)) {
    units.emplace_back(row.text(c_unit));
    period.push_back(finite(c_period));
    outcome.push_back(finite(c_outcome));
    const double d = finite(c_treated);
    if (d != 0.0 && d != 1.0) {
      raise<FormatError>("{}:{}:{} (column '{}'): '{}', expected 0 or 1", source, row.line(),
                         c_treated + 1, columns.treated, row.text(c_treated));
    }
    treated.push_back(d);
  }
  if (units.empty()) raise<DataError>("{}: no rows, expected a long panel table", source);
  const auto vector = [](const std::vector<double>& values) {
    return Vector(Eigen::Map<const Vector>(values.data(), static_cast<Index>(values.size())));
  };
  try {
    return pricing::Panel::from_long(units, vector(period), vector(outcome), vector(treated));
  } catch (const Error& e) {
    raise<DataError>("{}: {}", source, e.what());
  }
}

/// A table with one row per unit: its numeric columns (or `names`, in that order) as a k × units
/// matrix in `panel`'s unit order. Every unit of the panel must appear exactly once; rows of
/// other units are ignored.
struct UnitTable {
  std::vector<std::string> names;
  Matrix values;
};

inline UnitTable read_unit_table(const std::filesystem::path& path, const pricing::Panel& panel,
                                 const std::string& unit_column = "State", char separator = ';',
                                 std::vector<std::string> names = {}) {
  CsvOptions options;
  options.separator = separator;
  options.string_columns = {unit_column};
  const Table table = read_csv(path, options);
  if (names.empty()) names = table.numeric_column_names();
  const auto& units = table.strings(unit_column);
  UnitTable out{names, Matrix(static_cast<Index>(names.size()), panel.num_units())};
  std::vector<int> seen(static_cast<std::size_t>(panel.num_units()), 0);
  for (std::size_t r = 0; r < units.size(); ++r) {
    Index u = -1;
    for (Index v = 0; v < panel.num_units(); ++v) {
      if (panel.units()[static_cast<std::size_t>(v)] == units[r]) u = v;
    }
    if (u < 0) continue;
    if (seen[static_cast<std::size_t>(u)]++ > 0) {
      raise<DataError>("{}: unit '{}' appears twice, expected one row per unit", path.string(),
                       units[r]);
    }
    for (std::size_t k = 0; k < names.size(); ++k) {
      out.values(static_cast<Index>(k), u) = table.numeric(names[k])[static_cast<Index>(r)];
    }
  }
  for (Index u = 0; u < panel.num_units(); ++u) {
    if (seen[static_cast<std::size_t>(u)] == 0) {
      raise<DataError>("{}: no row for unit '{}', expected one row per unit of the panel",
                       path.string(), panel.units()[static_cast<std::size_t>(u)]);
    }
  }
  return out;
}

}  // namespace tailor::io
