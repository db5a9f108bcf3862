// tailor/io/panel_csv.hpp — panels and per-unit tables from CSV for pricing/: a long table
// (unit, period, outcome, treated) as a pricing::Panel, and a table with one row per unit
// (predictors such as ADH's) as a k × units matrix in the panel's unit order.
// Errors: read_csv's (file:line:column), Panel's (unit and period), and DataError naming a unit
// the per-unit table lacks or repeats. O(bytes).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

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

/// A long table as a validated Panel.
inline pricing::Panel read_panel_csv(const std::filesystem::path& path,
                                     const PanelColumns& columns = {}) {
  CsvOptions options;
  options.separator = columns.separator;
  options.string_columns = {columns.unit};
  const Table table = read_csv(path, options);
  return pricing::Panel::from_long(table.strings(columns.unit), table.numeric(columns.period),
                                   table.numeric(columns.outcome), table.numeric(columns.treated));
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
