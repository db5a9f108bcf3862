// tailor/io/table.hpp — Table: named, typed columns of equal length (numeric as Eigen vectors,
// or strings), what read_csv returns and write_csv writes (io/csv.hpp), and what the data set
// loaders build on. Column access names the table's source and the column in its errors.
// Complexity: O(1) column lookup by index, O(columns) by name; to_matrix O(rows · columns).
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <Eigen/Core>

#include "tailor/core/errors.hpp"

namespace tailor::io {

/// The type of a Table column.
enum class ColumnType { numeric, string };

/// Named, typed columns of equal length: numeric (Eigen::VectorXd) or string.
class Table {
 public:
  Table() = default;
  /// `source` names the table's origin (a file name) in error messages.
  explicit Table(std::string source) : source_(std::move(source)) {}

  std::size_t num_rows() const { return num_rows_; }
  std::size_t num_columns() const { return names_.size(); }
  const std::vector<std::string>& column_names() const { return names_; }
  const std::string& source() const { return source_; }

  bool has_column(std::string_view name) const { return find(name) != npos; }

  ColumnType column_type(std::string_view name) const { return columns_[index_of(name)].type; }

  /// The numeric column `name`; InvalidArgument naming the table's source when it is absent or
  /// a string column.
  const Eigen::VectorXd& numeric(std::string_view name) const {
    const Column& column = columns_[index_of(name)];
    if (column.type != ColumnType::numeric) {
      raise<InvalidArgument>("{}: column '{}' is a string column, expected numeric", source_, name);
    }
    return column.numbers;
  }

  /// The string column `name`; InvalidArgument naming the source when absent or numeric.
  const std::vector<std::string>& strings(std::string_view name) const {
    const Column& column = columns_[index_of(name)];
    if (column.type != ColumnType::string) {
      raise<InvalidArgument>("{}: column '{}' is a numeric column, expected string", source_, name);
    }
    return column.texts;
  }

  /// Names of the numeric columns, in table order.
  std::vector<std::string> numeric_column_names() const {
    std::vector<std::string> result;
    for (std::size_t j = 0; j < names_.size(); ++j) {
      if (columns_[j].type == ColumnType::numeric) result.push_back(names_[j]);
    }
    return result;
  }

  /// num_rows x names.size() column-major matrix of the named numeric columns, in that order.
  Eigen::MatrixXd to_matrix(const std::vector<std::string>& names) const {
    Eigen::MatrixXd result(static_cast<Eigen::Index>(num_rows_),
                           static_cast<Eigen::Index>(names.size()));
    for (std::size_t j = 0; j < names.size(); ++j) {
      result.col(static_cast<Eigen::Index>(j)) = numeric(names[j]);
    }
    return result;
  }

  /// Appends a numeric column. InvalidArgument when the name exists, ShapeMismatch when its
  /// length differs from num_rows() (the first column sets num_rows()).
  void add_numeric(std::string name, Eigen::VectorXd values) {
    check_new_column(name, static_cast<std::size_t>(values.size()));
    Column column;
    column.type = ColumnType::numeric;
    column.numbers = std::move(values);
    push(std::move(name), std::move(column));
  }

  /// Appends a string column (same checks as add_numeric).
  void add_strings(std::string name, std::vector<std::string> values) {
    check_new_column(name, values.size());
    Column column;
    column.type = ColumnType::string;
    column.texts = std::move(values);
    push(std::move(name), std::move(column));
  }

  /// Same names, types and values in the same order; NaN equals NaN. The source is ignored.
  friend bool operator==(const Table& a, const Table& b) {
    if (a.names_ != b.names_ || a.num_rows_ != b.num_rows_) return false;
    for (std::size_t j = 0; j < a.columns_.size(); ++j) {
      const Column& x = a.columns_[j];
      const Column& y = b.columns_[j];
      if (x.type != y.type) return false;
      if (x.type == ColumnType::string) {
        if (x.texts != y.texts) return false;
        continue;
      }
      for (Eigen::Index i = 0; i < x.numbers.size(); ++i) {
        const double u = x.numbers[i];
        const double v = y.numbers[i];
        if (!(u == v || (std::isnan(u) && std::isnan(v)))) return false;
      }
    }
    return true;
  }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  struct Column {
    ColumnType type = ColumnType::numeric;
    Eigen::VectorXd numbers;
    std::vector<std::string> texts;
  };

  std::size_t find(std::string_view name) const {
    for (std::size_t j = 0; j < names_.size(); ++j) {
      if (names_[j] == name) return j;
    }
    return npos;
  }

  std::size_t index_of(std::string_view name) const {
    const std::size_t j = find(name);
    if (j == npos) {
      raise<InvalidArgument>("{}: no column '{}' (columns: {})", source_, name,
                             fmt::join(names_, ", "));
    }
    return j;
  }

  void check_new_column(const std::string& name, std::size_t length) const {
    if (find(name) != npos) {
      raise<InvalidArgument>("{}: column '{}' already exists", source_, name);
    }
    if (!names_.empty() && length != num_rows_) {
      raise<ShapeMismatch>("{}: column '{}' has {} rows, expected {} (the table's rows)", source_,
                           name, length, num_rows_);
    }
  }

  void push(std::string name, Column column) {
    num_rows_ = column.type == ColumnType::numeric ? static_cast<std::size_t>(column.numbers.size())
                                                   : column.texts.size();
    names_.push_back(std::move(name));
    columns_.push_back(std::move(column));
  }

  std::string source_ = "<table>";
  std::vector<std::string> names_;
  std::vector<Column> columns_;
  std::size_t num_rows_ = 0;
};

}  // namespace tailor::io
