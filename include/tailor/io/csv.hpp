// tailor/io/csv.hpp — RFC 4180 CSV reading (whole-file and streaming) and writing of typed tables.
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
// parsing so each chunk is scanned while in cache. A column that turns out to be a string
// column is re-scanned once from the start. (io_benchmark: ~200+ MB/s on one core.)
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

namespace tailor::io {

namespace detail {}  // namespace detail

/// What read_csv does with a missing value in a numeric column.
enum class MissingPolicy {
  error,  ///< throw FormatError naming file:line:field and the column
  nan,    ///< store NaN
};

/// The type of a Table column.
enum class ColumnType { numeric, string };

/// Options of read_csv / CsvReader. Defaults read a comma-separated file with a header.
struct CsvOptions {
  char separator = ',';  ///< field separator: ',' ';' '\t' '|' ...
  char quote = '"';      ///< quote character of quoted fields
  bool header = true;    ///< first record holds column names; else names are column_1, column_2..
  MissingPolicy missing = MissingPolicy::error;
  /// Texts that mean "missing" in a numeric column, besides blank fields and NaN spellings.
  std::vector<std::string> missing_values = {"NA", "N/A", "NULL", "null"};
  std::vector<std::string> string_columns{};   ///< forced string (read_csv only)
  std::vector<std::string> numeric_columns{};  ///< forced numeric (read_csv only)
  /// Columns to keep, in this order (read_csv only); empty keeps all, in file order.
  std::vector<std::string> columns{};
};

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

namespace detail {

/// One field of a scanned record, pointing into the scanned buffer. For a quoted field the view
/// excludes the enclosing quotes; `escaped` means it still contains doubled quotes.
struct CsvField {
  const char* begin = nullptr;
  std::size_t size = 0;
  bool quoted = false;
  bool escaped = false;
  std::string_view raw() const { return {begin, size}; }
};

enum class CsvScanStatus { record, end_of_input, need_more };

/// Resolves doubled quotes: appends the unescaped text of `field` to `out`.
inline void csv_unescape_append(const CsvField& field, char quote, std::string& out) {
  const char* p = field.begin;
  const char* end = field.begin + field.size;
  while (p < end) {
    const char* q =
        static_cast<const char*>(std::memchr(p, quote, static_cast<std::size_t>(end - p)));
    if (q == nullptr) {
      out.append(p, end);
      break;
    }
    out.append(p, q + 1);  // keep one quote of the pair
    p = q + 2;
  }
}

inline std::string csv_field_text(const CsvField& field, char quote) {
  if (!field.escaped) return std::string(field.raw());
  std::string text;
  csv_unescape_append(field, quote, text);
  return text;
}

/// The record scanner shared by read_csv and CsvReader. It scans one record at a time from a
/// buffer; with `at_eof == false` a record that reaches the end of the buffer is reported as
/// need_more (nothing consumed) so the caller can append data and scan again.
class CsvScanner {
 public:
  CsvScanner(std::string source, char separator, char quote, std::size_t first_line = 1)
      : source_(std::move(source)), separator_(separator), quote_(quote), line_(first_line) {
    special_.fill(false);
    special_[static_cast<unsigned char>(separator)] = true;
    special_[static_cast<unsigned char>('\n')] = true;
    special_[static_cast<unsigned char>('\r')] = true;
  }

  const std::string& source() const { return source_; }
  /// Physical line of the next unread byte.
  std::size_t line() const { return line_; }
  void set_line(std::size_t line) { line_ = line; }
  /// Physical line on which the last scanned record started.
  std::size_t record_line() const { return record_line_; }

  CsvScanStatus scan(const char*& cursor, const char* end, bool at_eof,
                     std::vector<CsvField>& fields) {
    const char* p = cursor;
    std::size_t line = line_;
    // Skip empty lines (a record needs at least one character).
    while (true) {
      if (p == end) {
        if (!at_eof) return CsvScanStatus::need_more;
        cursor = p;
        line_ = line;
        return CsvScanStatus::end_of_input;
      }
      if (*p == '\n') {
        ++p;
        ++line;
      } else if (*p == '\r') {
        if (p + 1 == end && !at_eof) return CsvScanStatus::need_more;
        ++p;
        if (p < end && *p == '\n') ++p;
        ++line;
      } else {
        break;
      }
    }
    const std::size_t start_line = line;
    // Fields are stored by index into a vector that only grows, so the hot loop does no
    // push_back bookkeeping.
    std::size_t n = 0;
    if (fields.size() < 8) fields.resize(8);
    CsvField* out = fields.data();
    while (true) {
      if (p == end) {
        // The record ended with a separator at the end of the input: one last empty field.
        if (!at_eof) return CsvScanStatus::need_more;
        store_field(fields, out, n, p, 0, false, false);
        break;
      }
      if (*p == quote_) {
        const char* content = p + 1;
        const char* q = content;
        bool escaped = false;
        while (true) {
          q = static_cast<const char*>(std::memchr(q, quote_, static_cast<std::size_t>(end - q)));
          if (q == nullptr) {
            if (!at_eof) return CsvScanStatus::need_more;
            fail_unterminated(line, n + 1);
          }
          if (q + 1 == end && !at_eof) return CsvScanStatus::need_more;
          if (q + 1 < end && q[1] == quote_) {
            escaped = true;
            q += 2;
            continue;
          }
          break;
        }
        store_field(fields, out, n, content, static_cast<std::size_t>(q - content), true, escaped);
        line += count_line_breaks(content, q);
        p = q + 1;
        if (p == end) break;
        if (*p == separator_) {
          ++p;
          continue;
        }
        if (*p != '\n' && *p != '\r') {
          fail_after_quote(line, n, *p);
        }
      } else {
        const char* q = find_special(p, end);
        if (q == end && !at_eof) return CsvScanStatus::need_more;
        store_field(fields, out, n, p, static_cast<std::size_t>(q - p), false, false);
        p = q;
        if (p == end) break;
        if (*p == separator_) {
          ++p;
          continue;
        }
      }
      // At a line end: consume LF, CRLF or a lone CR.
      if (*p == '\r') {
        if (p + 1 == end && !at_eof) return CsvScanStatus::need_more;
        ++p;
        if (p < end && *p == '\n') ++p;
      } else {
        ++p;
      }
      ++line;
      break;
    }
    if (fields.size() != n) fields.resize(n);
    cursor = p;
    line_ = line;
    record_line_ = start_line;
    return CsvScanStatus::record;
  }

 private:
  /// First separator, CR or LF in [p, end), or end. Eight bytes at a time where they are
  /// available (SWAR: a byte of x is zero iff it is flagged in (x - 0x01..) & ~x & 0x80..; the
  /// lowest flag is exact, so on a little-endian host countr_zero finds the first match).
  [[gnu::always_inline]] inline const char* find_special(const char* p, const char* end) const {
    if constexpr (std::endian::native == std::endian::little) {
      constexpr std::uint64_t kOnes = 0x0101010101010101ull;
      constexpr std::uint64_t kHighs = 0x8080808080808080ull;
      const std::uint64_t separators = kOnes * static_cast<unsigned char>(separator_);
      constexpr std::uint64_t kLineFeeds = kOnes * static_cast<unsigned char>('\n');
      constexpr std::uint64_t kReturns = kOnes * static_cast<unsigned char>('\r');
      const auto zero_bytes = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighs; };
      while (end - p >= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        const std::uint64_t hits = zero_bytes(word ^ separators) | zero_bytes(word ^ kLineFeeds) |
                                   zero_bytes(word ^ kReturns);
        if (hits != 0) return p + std::countr_zero(hits) / 8;
        p += 8;
      }
    }
    while (p < end && !special_[static_cast<unsigned char>(*p)]) ++p;
    return p;
  }

  // Members are written one by one: copying a freshly built CsvField as a whole stalls on
  // store-to-load forwarding. Always inlined: this runs once per field.
  [[gnu::always_inline]] static inline void store_field(std::vector<CsvField>& fields,
                                                        CsvField*& out, std::size_t& n,
                                                        const char* begin, std::size_t size,
                                                        bool quoted, bool escaped) {
    if (n == fields.size()) [[unlikely]] {
      fields.resize(2 * n);
      out = fields.data();
    }
    CsvField& field = out[n++];
    field.begin = begin;
    field.size = size;
    field.quoted = quoted;
    field.escaped = escaped;
  }

  // Error paths live out of line so that scan() stays small enough to inline its helpers.
  [[noreturn, gnu::cold, gnu::noinline]] void fail_unterminated(std::size_t line,
                                                                std::size_t field) const {
    raise<FormatError>("{}:{}:{}: unterminated quoted field (opened here, never closed)", source_,
                       line, field);
  }
  [[noreturn, gnu::cold, gnu::noinline]] void fail_after_quote(std::size_t line, std::size_t field,
                                                               char found) const {
    raise<FormatError>(
        "{}:{}:{}: unexpected character '{}' after a closing quote, expected '{}' or a line end",
        source_, line, field, found, separator_);
  }

  static std::size_t count_line_breaks(const char* p, const char* end) {
    std::size_t breaks = 0;
    for (; p < end; ++p) {
      if (*p == '\n') {
        ++breaks;
      } else if (*p == '\r' && (p + 1 == end || p[1] != '\n')) {
        ++breaks;
      }
    }
    return breaks;
  }

  std::string source_;
  char separator_;
  char quote_;
  std::size_t line_;
  std::size_t record_line_ = 0;
  std::array<bool, 256> special_{};
};

/// Fast path for the common plain decimal "[-]ddd[.ddd]" with at most 15 digits: the digits
/// form an integer m < 10^15 < 2^53 and the scale is 10^k with k <= 22, both exact doubles, so
/// m / 10^k is one correctly rounded IEEE division (Clinger 1990, "How to read floating point
/// numbers accurately", the exact fast path) — the same result as from_chars.
inline bool csv_parse_plain_decimal(const char* p, const char* e, double& value) {
  static constexpr double kPowersOfTen[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                            1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const bool negative = p < e && *p == '-';
  if (negative) ++p;
  std::uint64_t mantissa = 0;
  int digits = 0;
  while (p < e && static_cast<unsigned>(*p - '0') < 10u) {
    mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    ++p;
    ++digits;
  }
  int fraction_digits = 0;
  if (p < e && *p == '.') {
    ++p;
    while (p < e && static_cast<unsigned>(*p - '0') < 10u) {
      mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
      ++p;
      ++fraction_digits;
    }
    digits += fraction_digits;
  }
  if (p != e || digits == 0 || digits > 15) return false;
  const double magnitude = static_cast<double>(mantissa) / kPowersOfTen[fraction_digits];
  value = negative ? -magnitude : magnitude;
  return true;
}

/// Parses a whole field as a double: optional blanks around, optional leading '+'.
inline bool csv_parse_number(std::string_view text, double& value) {
  const char* b = text.data();
  const char* e = b + text.size();
  if (csv_parse_plain_decimal(b, e, value)) return true;
  while (b < e && (*b == ' ' || *b == '\t')) ++b;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t')) --e;
  if (b < e && *b == '+') {
    ++b;
    if (b < e && (*b == '-' || *b == '+')) return false;
  }
  if (b == e) return false;
  const auto [ptr, ec] = std::from_chars(b, e, value, std::chars_format::general);
  if (ptr != e) return false;
  if (ec == std::errc::result_out_of_range) {
    // A number beyond double's range (1e400, 1e-400): read it as long double and round (to
    // ±inf or ±0); where long double is no wider, the exponent's sign decides. Locale-free,
    // unlike strtod.
    long double wide = 0.0L;
    const auto [wide_end, wide_ec] = std::from_chars(b, e, wide, std::chars_format::general);
    if (wide_ec == std::errc() && wide_end == e) {
      value = static_cast<double>(wide);
    } else {
      const char* exponent = std::find_if(b, e, [](char c) { return c == 'e' || c == 'E'; });
      const bool tiny = exponent + 1 < e && exponent[1] == '-';
      value = tiny ? 0.0 : std::numeric_limits<double>::infinity();
      if (*b == '-') value = -value;
    }
    return true;
  }
  return ec == std::errc();
}

enum class CsvFieldKind { number, missing, text };

/// Classifies unescaped field text for a numeric column (see the header comment for the rules).
inline CsvFieldKind csv_classify(std::string_view text, const std::vector<std::string>& missing,
                                 double& value) {
  if (csv_parse_number(text, value)) {
    return std::isnan(value) ? CsvFieldKind::missing : CsvFieldKind::number;
  }
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return CsvFieldKind::missing;
  const std::size_t last = text.find_last_not_of(" \t");
  const std::string_view trimmed = text.substr(first, last - first + 1);
  for (const std::string& token : missing) {
    if (trimmed == token) return CsvFieldKind::missing;
  }
  return CsvFieldKind::text;
}

inline std::string csv_describe_missing(std::string_view text) {
  if (text.find_first_not_of(" \t") == std::string_view::npos) return "missing value (empty field)";
  return fmt::format("missing value '{}'", text);
}

inline void csv_validate_options(const CsvOptions& options, std::string_view context) {
  const auto bad = [](char c) { return c == '\n' || c == '\r'; };
  check_param(!bad(options.separator), context, "separator", "a line break",
              "a character other than CR or LF");
  check_param(!bad(options.quote), context, "quote", "a line break",
              "a character other than CR or LF");
  if (options.separator == options.quote) {
    raise<InvalidArgument>("{}: separator and quote are both '{}', expected different characters",
                           context, options.separator);
  }
}

/// Byte offset past a UTF-8 byte order mark, or 0.
inline std::size_t csv_bom_length(std::string_view data) {
  return data.size() >= 3 && data.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
}

/// Column names from a header record (empty names become column_<k>) or column_1..column_n.
inline std::vector<std::string> csv_column_names(const std::vector<CsvField>& fields, bool header,
                                                 char quote, const std::string& source,
                                                 std::size_t line) {
  std::vector<std::string> names;
  names.reserve(fields.size());
  for (std::size_t k = 0; k < fields.size(); ++k) {
    std::string name = header ? csv_field_text(fields[k], quote) : std::string();
    if (name.empty()) name = fmt::format("column_{}", k + 1);
    for (std::size_t j = 0; j < names.size(); ++j) {
      if (names[j] == name) {
        raise<FormatError>("{}:{}:{}: duplicate column name '{}' (also field {})", source, line,
                           k + 1, name, j + 1);
      }
    }
    names.push_back(std::move(name));
  }
  return names;
}

inline std::size_t csv_find_column(const std::vector<std::string>& names, std::string_view name,
                                   std::string_view option, const std::string& source) {
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (names[j] == name) return j;
  }
  raise<FormatError>("{}: no column '{}' (named in CsvOptions::{}); columns: {}", source, name,
                     option, fmt::join(names, ", "));
}

/// The whole input of read_csv in one buffer (kept for re-scans), filled chunk by chunk while
/// parsing so that each chunk is scanned while it is still in cache.
class CsvWholeInput {
 public:
  explicit CsvWholeInput(std::string_view text)
      : data_(text.data()), total_(text.size()), loaded_(text.size()) {}

  explicit CsvWholeInput(const std::filesystem::path& path) : path_(path.string()) {
    file_.open(path, std::ios::binary);
    if (!file_) {
      raise<Error>("cannot open '{}': {}", path_, std::generic_category().message(errno));
    }
    file_.seekg(0, std::ios::end);
    const std::streamoff size = file_.tellg();
    file_.seekg(0, std::ios::beg);
    if (size < 0 || !file_) raise<Error>("{}: cannot determine the file size", path_);
    total_ = static_cast<std::size_t>(size);
    owned_ = std::make_unique_for_overwrite<char[]>(total_ + 1);  // no zero-filling
    data_ = owned_.get();
  }

  const char* begin() const { return data_; }
  const char* loaded_end() const { return data_ + loaded_; }
  std::size_t total_size() const { return total_; }
  bool complete() const { return loaded_ == total_; }

  /// Appends the next chunk of the file to the loaded part.
  void load_more() {
    constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
    const std::size_t step = std::min(kChunkBytes, total_ - loaded_);
    file_.read(owned_.get() + loaded_, static_cast<std::streamsize>(step));
    if (static_cast<std::size_t>(file_.gcount()) != step) {
      raise<Error>("{}: read failed after {} bytes (file changed while reading?)", path_, loaded_);
    }
    loaded_ += step;
  }

  /// Scans one record, loading more of the file whenever the scanner needs it.
  CsvScanStatus scan(CsvScanner& scanner, const char*& cursor, std::vector<CsvField>& fields) {
    while (true) {
      const CsvScanStatus status = scanner.scan(cursor, loaded_end(), complete(), fields);
      if (status != CsvScanStatus::need_more) return status;
      load_more();
    }
  }

 private:
  std::string path_;
  std::ifstream file_;
  std::unique_ptr<char[]> owned_;
  const char* data_ = nullptr;
  std::size_t total_ = 0;
  std::size_t loaded_ = 0;
};

/// The whole-file parser behind read_csv / read_csv_string.
inline Table csv_parse_table(CsvWholeInput& input, const CsvOptions& options,
                             const std::string& source) {
  csv_validate_options(options, "read_csv");
  while (!input.complete() && input.loaded_end() - input.begin() < 3) input.load_more();
  const char* cursor =
      input.begin() +
      csv_bom_length(std::string_view(
          input.begin(), static_cast<std::size_t>(input.loaded_end() - input.begin())));
  CsvScanner scanner(source, options.separator, options.quote);
  std::vector<CsvField> fields;

  // Header (or a peek at the first record for the field count).
  Table table(source);
  {
    const char* peek = cursor;
    if (input.scan(scanner, peek, fields) == CsvScanStatus::end_of_input) return table;
    if (options.header) {
      cursor = peek;
    } else {
      scanner.set_line(1);
    }
  }
  const std::size_t header_line = scanner.record_line();
  const std::vector<std::string> names =
      csv_column_names(fields, options.header, options.quote, source, header_line);
  const std::size_t num_fields = names.size();

  struct Slot {
    std::size_t field = 0;
    enum class State { undecided, numeric, string } state = State::undecided;
    bool forced_numeric = false;
    Eigen::VectorXd numbers;  // numbers[0, count) are filled; parsed straight into the result
    std::size_t count = 0;
    void push(double value) {
      if (count == static_cast<std::size_t>(numbers.size())) {
        numbers.conservativeResize(std::max<Eigen::Index>(16, 2 * numbers.size()));
      }
      numbers[static_cast<Eigen::Index>(count++)] = value;
    }
    std::vector<std::string> texts;
    std::size_t missing_line = 0;  // first missing value (0: none)
    std::string missing_text;
  };
  std::vector<Slot> slots;
  if (options.columns.empty()) {
    slots.resize(num_fields);
    for (std::size_t k = 0; k < num_fields; ++k) slots[k].field = k;
  } else {
    for (const std::string& name : options.columns) {
      Slot slot;
      slot.field = csv_find_column(names, name, "columns", source);
      for (const Slot& other : slots) {
        if (other.field == slot.field) {
          raise<InvalidArgument>("read_csv: column '{}' is listed twice in CsvOptions::columns",
                                 name);
        }
      }
      slots.push_back(std::move(slot));
    }
  }
  std::vector<int> forced(num_fields, 0);  // 1 numeric, 2 string
  for (const std::string& name : options.numeric_columns) {
    forced[csv_find_column(names, name, "numeric_columns", source)] = 1;
  }
  for (const std::string& name : options.string_columns) {
    const std::size_t k = csv_find_column(names, name, "string_columns", source);
    if (forced[k] == 1) {
      raise<InvalidArgument>(
          "read_csv: column '{}' is in both CsvOptions::numeric_columns and string_columns", name);
    }
    forced[k] = 2;
  }
  for (Slot& slot : slots) {
    if (forced[slot.field] == 1) slot.forced_numeric = true;
    if (forced[slot.field] == 2) slot.state = Slot::State::string;
  }

  // Size the numeric columns from the length of the first data record (counting line breaks
  // would cost a full extra pass over memory); growth past the estimate doubles via realloc.
  const char* const data_begin = cursor;
  const std::size_t data_line = scanner.line();
  std::size_t estimated_rows = 16;
  {
    CsvScanner probe(source, options.separator, options.quote, data_line);
    const char* p = data_begin;
    if (input.scan(probe, p, fields) == CsvScanStatus::record && p > data_begin) {
      const auto first_length = static_cast<std::size_t>(p - data_begin);
      const auto data_bytes =
          input.total_size() - static_cast<std::size_t>(data_begin - input.begin());
      estimated_rows += data_bytes / first_length * 9 / 8;
    }
  }
  for (Slot& slot : slots) {
    if (slot.state != Slot::State::string) {
      slot.numbers.resize(static_cast<Eigen::Index>(estimated_rows));
    }
  }

  // Re-scans the first `rows` records (all loaded already) and returns field `field` of each.
  const auto rescan_texts = [&](std::size_t field, std::size_t rows) {
    std::vector<std::string> texts;
    texts.reserve(rows);
    CsvScanner again(source, options.separator, options.quote, data_line);
    const char* p = data_begin;
    std::vector<CsvField> row_fields;
    for (std::size_t r = 0; r < rows; ++r) {
      again.scan(p, input.loaded_end(), true, row_fields);
      texts.push_back(csv_field_text(row_fields[field], options.quote));
    }
    return texts;
  };

  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::size_t num_rows = 0;
  std::string unescaped;
  while (input.scan(scanner, cursor, fields) == CsvScanStatus::record) {
    if (fields.size() != num_fields) {
      raise<FormatError>("{}:{}:{}: expected {} fields, found {}", source, scanner.record_line(),
                         std::min(fields.size(), num_fields) + 1, num_fields, fields.size());
    }
    for (Slot& slot : slots) {
      const CsvField& field = fields[slot.field];
      if (slot.state == Slot::State::string) {
        slot.texts.push_back(csv_field_text(field, options.quote));
        continue;
      }
      std::string_view text = field.raw();
      if (field.escaped) {
        unescaped.clear();
        csv_unescape_append(field, options.quote, unescaped);
        text = unescaped;
      }
      double value = 0.0;
      switch (csv_classify(text, options.missing_values, value)) {
        case CsvFieldKind::number:
          slot.push(value);
          slot.state = Slot::State::numeric;
          break;
        case CsvFieldKind::missing:
          slot.push(nan);
          if (slot.missing_line == 0) {
            slot.missing_line = scanner.record_line();
            slot.missing_text = std::string(text);
          }
          break;
        case CsvFieldKind::text:
          if (slot.forced_numeric) {
            raise<FormatError>("{}:{}:{} (column '{}'): '{}' is not a number", source,
                               scanner.record_line(), slot.field + 1, names[slot.field], text);
          }
          slot.texts = rescan_texts(slot.field, num_rows);
          slot.texts.push_back(std::string(text));
          slot.numbers = Eigen::VectorXd();
          slot.count = 0;
          slot.state = Slot::State::string;
          break;
      }
    }
    ++num_rows;
  }

  // Columns without a single number are string columns unless forced numeric.
  for (Slot& slot : slots) {
    if (slot.state == Slot::State::undecided && !slot.forced_numeric) {
      slot.texts = rescan_texts(slot.field, num_rows);
      slot.numbers = Eigen::VectorXd();
      slot.count = 0;
      slot.state = Slot::State::string;
    }
  }
  if (options.missing == MissingPolicy::error) {
    const Slot* first = nullptr;
    for (const Slot& slot : slots) {
      if (slot.state == Slot::State::string || slot.missing_line == 0) continue;
      if (first == nullptr || slot.missing_line < first->missing_line ||
          (slot.missing_line == first->missing_line && slot.field < first->field)) {
        first = &slot;
      }
    }
    if (first != nullptr) {
      raise<FormatError>(
          "{}:{}:{} (column '{}'): {}; set CsvOptions::missing = MissingPolicy::nan to read it "
          "as NaN",
          source, first->missing_line, first->field + 1, names[first->field],
          csv_describe_missing(first->missing_text));
    }
  }
  for (Slot& slot : slots) {
    if (slot.state == Slot::State::string) {
      table.add_strings(names[slot.field], std::move(slot.texts));
    } else {
      // Shrinking keeps the allocation in place (realloc), so this is no copy of the data.
      slot.numbers.conservativeResize(static_cast<Eigen::Index>(slot.count));
      table.add_numeric(names[slot.field], std::move(slot.numbers));
    }
  }
  return table;
}

/// Shared, address-stable state a CsvRow needs for its error messages.
struct CsvReaderInfo {
  std::string source;
  std::vector<std::string> names;
  CsvOptions options;
};

}  // namespace detail

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
