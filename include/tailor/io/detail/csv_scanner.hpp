// tailor/io/detail/csv_scanner.hpp — the CSV options and the machinery behind io/csv.hpp: the
// record scanner shared by read_csv and CsvReader (fields found 8 bytes at a time), in-place
// number parsing, column typing and the whole-file table parser. The format and error rules are
// documented in io/csv.hpp.
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
#include "tailor/io/detail/text_file.hpp"
#include "tailor/io/table.hpp"

namespace tailor::io {

/// What read_csv does with a missing value in a numeric column.
enum class MissingPolicy {
  error,  ///< throw FormatError naming file:line:field and the column
  nan,    ///< store NaN
};

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
    total_ = regular_file_size(path);  // a directory or FIFO is rejected by path
    file_.open(path, std::ios::binary);
    if (!file_) {
      raise<Error>("cannot open '{}': {}", path_, std::generic_category().message(errno));
    }
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
    std::vector<std::string> texts;  // rows [string_from, num_rows) while parsing
    std::size_t string_from = 0;     // rows before this one are filled by the one re-scan
    std::size_t missing_line = 0;    // first missing value (0: none)
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

  // Columns that turn out to be string columns after some rows (a first non-number, or no number
  // at all) keep collecting texts from that row on; their earlier rows come from ONE re-scan of
  // the records before the latest such row, shared by all of them, so a file with many string
  // or empty columns costs one extra pass, not one per column.
  const auto fill_string_prefixes = [&](std::size_t num_records) {
    std::vector<std::size_t> pending;
    std::size_t rows = 0;
    for (std::size_t k = 0; k < slots.size(); ++k) {
      if (slots[k].state == Slot::State::string && slots[k].string_from > 0) {
        pending.push_back(k);
        rows = std::max(rows, slots[k].string_from);
      }
    }
    if (pending.empty()) return;
    rows = std::min(rows, num_records);
    std::vector<std::vector<std::string>> prefixes(pending.size());
    for (std::size_t i = 0; i < pending.size(); ++i) {
      prefixes[i].reserve(slots[pending[i]].string_from + slots[pending[i]].texts.size());
    }
    CsvScanner again(source, options.separator, options.quote, data_line);
    const char* p = data_begin;
    std::vector<CsvField> row_fields;
    for (std::size_t r = 0; r < rows; ++r) {
      again.scan(p, input.loaded_end(), true, row_fields);
      for (std::size_t i = 0; i < pending.size(); ++i) {
        const Slot& slot = slots[pending[i]];
        if (r < slot.string_from) {
          prefixes[i].push_back(csv_field_text(row_fields[slot.field], options.quote));
        }
      }
    }
    for (std::size_t i = 0; i < pending.size(); ++i) {
      Slot& slot = slots[pending[i]];
      for (std::string& text : slot.texts) prefixes[i].push_back(std::move(text));
      slot.texts = std::move(prefixes[i]);
      slot.string_from = 0;
    }
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
          slot.string_from = num_rows;
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
      slot.string_from = num_rows;
      slot.numbers = Eigen::VectorXd();
      slot.count = 0;
      slot.state = Slot::State::string;
    }
  }
  fill_string_prefixes(num_rows);
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

}  // namespace tailor::io
