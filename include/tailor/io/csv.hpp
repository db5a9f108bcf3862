// tailor/io/csv.hpp — RFC 4180 CSV reading (whole-file and streaming) and writing of typed tables
// (io/table.hpp); the scanner and parser live in io/detail/csv_scanner.hpp.
//
// Format (RFC 4180, with the usual relaxations): fields separated by `separator` (',' or ';'
// or any other single character), records ended by LF, CRLF or a lone CR; the last record
// may lack its line end; a field that starts with `quote` is quoted: it may contain
// separators, line breaks and doubled quotes ("" -> "); a quote inside an unquoted field is an
// ordinary character. Empty lines are skipped. A UTF-8 byte order mark at the start is skipped.
//
// Column types (read_csv): a column is numeric when every non-missing field parses as a
// number (std::from_chars, "general" format: 12, -3.5, 1e-7, inf; surrounding spaces and a
// leading '+' allowed; quoted numbers count too) and at least one field is not missing;
// otherwise it is a string column, holding every field's text verbatim (unescaped). Options
// force a type: `string_columns` (never parsed) and `numeric_columns` (a non-number is an error).
// Missing values, in numeric columns only: an empty (or all-blank) field, any text in
// `CsvOptions::missing_values` (default "NA", "N/A", "NULL", "null"), or anything from_chars
// reads as NaN ("nan", "NaN", "NAN"). Policy `error` (default) throws FormatError at the first
// one; policy `nan` stores NaN. In a string column these fields are kept as their text.
//
// Errors are FormatError with file:line:field positions (1-based; `line` is the physical line,
// counting line breaks inside quoted fields): "data.csv:17:5: expected 5 fields, found 4",
// "data.csv:9:2 (column 'SALES_VALUE'): 'abc' is not a number". A missing file is a
// tailor::Error naming the path.
//
// Writing quotes a field only when it has to (separator, quote, CR or LF inside) and prints
// doubles in the shortest form that reads back bit-identically (fmt "{}"); NaN is written as an
// empty field. read_csv(write_csv(t)) == t for tables whose string columns do not all look like
// numbers (force those with `string_columns`).
//
// Complexity: O(bytes) time. read_csv holds the file plus the parsed columns in memory (8 bytes
// per numeric cell); CsvReader holds one buffer (1 MiB by default, grown to the longest record).
// Speed: a hand-written scanner that finds field ends 8 bytes at a time (SWAR), numbers parsed
// in place without allocation — plain decimals of <= 15 digits by the exact Clinger fast path,
// everything else by std::from_chars — and the file loaded in 1 MiB chunks interleaved with
// parsing so each chunk is scanned while in cache. Columns that turn out to be string (or
// all-missing) columns collect texts from then on; their earlier rows come from one shared
// re-scan of the records before, however many such columns there are. (io_benchmark: ~200+
// MB/s on one core.)
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/io/detail/csv_scanner.hpp"
#include "tailor/io/table.hpp"

namespace tailor::io {

/// Reads a whole CSV file into a Table (see the header comment for format, types and errors).
inline Table read_csv(const std::filesystem::path& path, const CsvOptions& options = {}) {
  detail::CsvWholeInput input(path);
  return detail::csv_parse_table(input, options, path.string());
}

/// Reads CSV text; `source_name` stands for the file name in error messages.
inline Table read_csv_string(std::string_view text, const CsvOptions& options = {},
                             std::string_view source_name = "<string>") {
  detail::CsvWholeInput input(text);
  return detail::csv_parse_table(input, options, std::string(source_name));
}

/// One record of a CsvReader. Its views stay valid until the next call to next_row.
class CsvRow {
 public:
  /// Number of fields (always the header's field count).
  std::size_t size() const { return fields_.size(); }
  /// Physical line (1-based) on which the record starts.
  std::size_t line() const { return line_; }

  /// Unescaped text of field `index` (0-based).
  std::string_view text(std::size_t index) const { return field(index).raw(); }

  /// Whether field `index` is missing under the numeric-column rules (blank, missing_values,
  /// NaN spelling).
  bool is_missing(std::size_t index) const {
    double value = 0.0;
    return detail::csv_classify(text(index), info_->options.missing_values, value) ==
           detail::CsvFieldKind::missing;
  }

  /// Field `index` as a number. A missing value gives NaN under MissingPolicy::nan and a
  /// FormatError under MissingPolicy::error; a non-number is a FormatError:
  /// "data.csv:9:2 (column 'SALES_VALUE'): 'abc' is not a number".
  double number(std::size_t index) const {
    const std::string_view value_text = text(index);
    double value = 0.0;
    // Fast path: a plain number needs no further checks.
    if (detail::csv_parse_number(value_text, value) && !std::isnan(value)) return value;
    switch (detail::csv_classify(value_text, info_->options.missing_values, value)) {
      case detail::CsvFieldKind::number:
        return value;
      case detail::CsvFieldKind::missing:
        if (info_->options.missing == MissingPolicy::nan) {
          return std::numeric_limits<double>::quiet_NaN();
        }
        raise<FormatError>(
            "{}:{}:{} (column '{}'): {}; set CsvOptions::missing = MissingPolicy::nan to read "
            "it as NaN",
            info_->source, line_, index + 1, info_->names[index],
            detail::csv_describe_missing(value_text));
      case detail::CsvFieldKind::text:
        break;
    }
    raise<FormatError>("{}:{}:{} (column '{}'): '{}' is not a number", info_->source, line_,
                       index + 1, info_->names[index], value_text);
  }

 private:
  friend class CsvReader;

  const detail::CsvField& field(std::size_t index) const {
    if (index >= fields_.size()) {
      raise<InvalidArgument>("{}:{}: field index {} out of range, the row has {} fields",
                             info_ == nullptr ? std::string("<no row>") : info_->source, line_,
                             index, fields_.size());
    }
    return fields_[index];
  }

  const detail::CsvReaderInfo* info_ = nullptr;
  std::vector<detail::CsvField> fields_;
  std::string scratch_;  // unescaped text of fields with doubled quotes
  std::vector<std::size_t> scratch_offsets_;
  std::size_t line_ = 0;
};

/// Streaming CSV reader for files too large to hold: reads fixed-size chunks and hands out one
/// record at a time as field views, with the same scanner and errors as read_csv.
///
///   tailor::io::CsvReader reader("transactions.csv");
///   const std::size_t sales = reader.column_index("sales_value");
///   tailor::io::CsvRow row;
///   while (reader.next_row(row)) total += row.number(sales);
///
/// Uses CsvOptions::separator, quote, header, missing and missing_values; the column options
/// (columns, string_columns, numeric_columns) apply to read_csv only — a row gives each field as
/// text() or number() on request.
class CsvReader {
 public:
  /// Opens `path` and reads the header (with header = false: peeks at the first record to learn
  /// the field count). `buffer_size` is the initial chunk size; it grows for longer records.
  explicit CsvReader(const std::filesystem::path& path, CsvOptions options = {},
                     std::size_t buffer_size = std::size_t{1} << 20)
      : info_(std::make_unique<detail::CsvReaderInfo>()),
        scanner_(path.string(), options.separator, options.quote) {
    detail::csv_validate_options(options, "CsvReader");
    info_->source = path.string();
    info_->options = std::move(options);
    // Streaming may read a pipe, but a directory opens "successfully" and then fails every read.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      raise<InvalidArgument>("'{}' is a directory, expected a CSV file", path.string());
    }
    file_ = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!*file_) {
      raise<Error>("cannot open '{}': {}", path.string(), std::generic_category().message(errno));
    }
    buffer_.resize(std::max<std::size_t>(buffer_size, 64));
    start();
  }

  /// A reader over in-memory text (tests, small inputs); `source_name` appears in errors.
  static CsvReader from_string(std::string text, CsvOptions options = {},
                               std::string source_name = "<string>") {
    return CsvReader(FromText{}, std::move(text), std::move(options), std::move(source_name));
  }

  CsvReader(CsvReader&&) noexcept = default;
  CsvReader& operator=(CsvReader&&) noexcept = default;

  /// Column names: the header record, or column_1..column_n without a header.
  const std::vector<std::string>& header() const { return info_->names; }
  const std::vector<std::string>& column_names() const { return info_->names; }
  std::size_t num_columns() const { return info_->names.size(); }
  const std::string& source() const { return info_->source; }

  /// 0-based field index of column `name`; FormatError naming the file when it is absent.
  std::size_t column_index(std::string_view name) const {
    return detail::csv_find_column(info_->names, name, "header", info_->source);
  }

  /// Reads the next record into `row`; false at the end of the input. Throws FormatError for a
  /// record with the wrong number of fields or a malformed quoted field.
  bool next_row(CsvRow& row) {
    row.info_ = info_.get();
    while (true) {
      const char* p = buffer_.data() + begin_;
      const detail::CsvScanStatus status =
          scanner_.scan(p, buffer_.data() + end_, eof_, row.fields_);
      if (status == detail::CsvScanStatus::record) {
        begin_ = static_cast<std::size_t>(p - buffer_.data());
        break;
      }
      if (status == detail::CsvScanStatus::end_of_input) {
        row.fields_.clear();
        return false;
      }
      refill();
    }
    row.line_ = scanner_.record_line();
    if (row.fields_.size() != info_->names.size()) {
      raise<FormatError>("{}:{}:{}: expected {} fields, found {}", info_->source, row.line_,
                         std::min(row.fields_.size(), info_->names.size()) + 1, info_->names.size(),
                         row.fields_.size());
    }
    // Resolve doubled quotes into the row's scratch buffer (rare), then repoint the views.
    row.scratch_.clear();
    row.scratch_offsets_.clear();
    for (const detail::CsvField& field : row.fields_) {
      row.scratch_offsets_.push_back(row.scratch_.size());
      if (field.escaped) detail::csv_unescape_append(field, info_->options.quote, row.scratch_);
    }
    for (std::size_t k = 0; k < row.fields_.size(); ++k) {
      detail::CsvField& field = row.fields_[k];
      if (!field.escaped) continue;
      const std::size_t stop =
          k + 1 < row.fields_.size() ? row.scratch_offsets_[k + 1] : row.scratch_.size();
      field.begin = row.scratch_.data() + row.scratch_offsets_[k];
      field.size = stop - row.scratch_offsets_[k];
      field.escaped = false;
    }
    ++rows_read_;
    return true;
  }

  /// Records returned by next_row so far.
  std::size_t rows_read() const { return rows_read_; }

 private:
  struct FromText {};

  CsvReader(FromText, std::string text, CsvOptions options, std::string source_name)
      : info_(std::make_unique<detail::CsvReaderInfo>()),
        scanner_(source_name, options.separator, options.quote) {
    detail::csv_validate_options(options, "CsvReader");
    info_->source = std::move(source_name);
    info_->options = std::move(options);
    buffer_.assign(text.begin(), text.end());
    end_ = buffer_.size();
    eof_ = true;
    start();
  }

  void start() {
    while (!eof_ && end_ < 3) refill();
    begin_ = detail::csv_bom_length(std::string_view(buffer_.data(), end_));
    std::vector<detail::CsvField> fields;
    while (true) {
      const char* p = buffer_.data() + begin_;
      const detail::CsvScanStatus status = scanner_.scan(p, buffer_.data() + end_, eof_, fields);
      if (status == detail::CsvScanStatus::need_more) {
        refill();
        continue;
      }
      if (status == detail::CsvScanStatus::end_of_input) break;  // empty input: no columns
      info_->names = detail::csv_column_names(fields, info_->options.header, info_->options.quote,
                                              info_->source, scanner_.record_line());
      if (info_->options.header) {
        begin_ = static_cast<std::size_t>(p - buffer_.data());
      } else {
        scanner_.set_line(1);  // leave the first record to next_row
      }
      break;
    }
  }

  /// Moves the unread tail to the front, grows the buffer when one record fills it, and appends
  /// the next chunk of the file.
  void refill() {
    if (eof_) return;
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    file_->read(buffer_.data() + end_, static_cast<std::streamsize>(buffer_.size() - end_));
    end_ += static_cast<std::size_t>(file_->gcount());
    if (file_->eof()) {
      eof_ = true;
    } else if (!*file_) {
      raise<Error>("{}: read failed", info_->source);
    }
  }

  std::unique_ptr<detail::CsvReaderInfo> info_;
  detail::CsvScanner scanner_;
  std::unique_ptr<std::ifstream> file_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  std::size_t rows_read_ = 0;
};

namespace detail {

inline void csv_append_text(std::string& out, std::string_view text, char separator,
                            bool single_column) {
  const bool needs_quotes =
      text.find_first_of(std::string_view("\"\r\n")) != std::string_view::npos ||
      text.find(separator) != std::string_view::npos || (single_column && text.empty());
  if (!needs_quotes) {
    out.append(text);
    return;
  }
  out.push_back('"');
  for (const char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace detail

/// Writes `table` as CSV (header + rows, LF line ends) to `out`. Numbers use the shortest
/// representation that reads back exactly; NaN becomes an empty field. Throws tailor::Error when
/// the stream fails.
inline void write_csv(const Table& table, std::ostream& out, char separator = ',') {
  check_param(separator != '"' && separator != '\n' && separator != '\r', "write_csv", "separator",
              separator, "a character other than '\"', CR or LF");
  const std::vector<std::string>& names = table.column_names();
  if (names.empty()) return;
  const bool single = names.size() == 1;
  std::vector<const Eigen::VectorXd*> numbers(names.size(), nullptr);
  std::vector<const std::vector<std::string>*> texts(names.size(), nullptr);
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (table.column_type(names[j]) == ColumnType::numeric) {
      numbers[j] = &table.numeric(names[j]);
    } else {
      texts[j] = &table.strings(names[j]);
    }
  }
  std::string buffer;
  constexpr std::size_t kFlushBytes = std::size_t{1} << 16;
  buffer.reserve(kFlushBytes + 1024);
  const auto flush = [&] {
    out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (!out) raise<Error>("write_csv: writing '{}' failed", table.source());
    buffer.clear();
  };
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (j > 0) buffer.push_back(separator);
    detail::csv_append_text(buffer, names[j], separator, single);
  }
  buffer.push_back('\n');
  for (std::size_t i = 0; i < table.num_rows(); ++i) {
    for (std::size_t j = 0; j < names.size(); ++j) {
      if (j > 0) buffer.push_back(separator);
      if (numbers[j] != nullptr) {
        const double value = (*numbers[j])[static_cast<Eigen::Index>(i)];
        if (std::isnan(value)) {
          if (single) buffer.append("\"\"");
        } else {
          char digits[32];  // the shortest round-trip form has at most 24 characters
          const char* digits_end = fmt::format_to(digits, "{}", value);
          buffer.append(digits, static_cast<std::size_t>(digits_end - digits));
        }
      } else {
        detail::csv_append_text(buffer, (*texts[j])[i], separator, single);
      }
    }
    buffer.push_back('\n');
    if (buffer.size() >= kFlushBytes) flush();
  }
  flush();
}

/// Writes `table` to the file `path`; tailor::Error naming the path when it cannot be written.
inline void write_csv(const Table& table, const std::filesystem::path& path, char separator = ',') {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    raise<Error>("cannot open '{}' for writing: {}", path.string(),
                 std::generic_category().message(errno));
  }
  write_csv(table, out, separator);
  out.flush();
  if (!out) raise<Error>("write_csv: writing '{}' failed", path.string());
}

}  // namespace tailor::io
