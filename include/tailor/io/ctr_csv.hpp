// tailor/io/ctr_csv.hpp — delimited click logs (Criteo, Avazu and any CSV/TSV of a 0/1 label plus
// categorical and count columns) as CTR data: a ctr::FeatureSpace fitted on the training file and
// the rows one-hot encoded into ctr::SparseFeatures.
//
// Input: any file CsvReader reads (io/csv.hpp: separator, quote, header from CsvOptions). Columns
// are found by name, in any order; columns CtrColumns does not name are ignored. A file without a
// header (CsvOptions::header = false) is named by CtrColumns::column_names (its columns are
// otherwise column_1, column_2, ...); with a header, column_names is ignored. The raw Criteo Kaggle
// file (train.txt: tab-separated, no header, label, I1..I13, C1..C26) reads with
// criteo_columns() and criteo_raw_options(); DeepCTR's criteo_sample.txt (comma-separated with
// that header) and Avazu's train (id, click, hour, C1, banner_pos, ..., C21, with a header) read
// with the presets and default CsvOptions.
//
// Fields, in this order (field names are the column names, except the two time fields):
//  * numeric columns (CtrColumns::numeric), turned into categorical values by the rule of the
//    Criteo winners (Juan, Zhuang, Chin & Lin 2014, "3 Idiots' approach for display advertising
//    challenge", the libffm solution; ycjuan/kaggle-2014-criteo, converters/common.py gen_feats):
//      empty (blank, a CsvOptions::missing_values token or NaN)  -> ""  (its own value)
//      n = the number truncated toward zero (Python's int()), then
//      n > 2   -> "b" + floor(ln(n)²)        (3 -> "b1", 260.0 -> "b30", 1000 -> "b47")
//      n <= 2  -> n as integer text          (2 -> "2", 0 -> "0", -1 -> "-1", -0.5 -> "0")
//    The original writes the buckets bare ("47") and the small values as "SP" + n ("SP-1"); the
//    texts here are a renaming of the same classes. Negative counts (Criteo's I2 has a few)
//    are all "small" and each keeps its own value. The original reads integers only; a real value
//    ("260.0", as in DeepCTR's sample) is truncated first, as int(float(v)) would. Anything else
//    that is not a number (and infinity) is a FormatError. Each numeric column is one field of
//    kind numeric_kind (vocabulary with numeric_min_count, or hashed into numeric_buckets rows);
//  * the time fields of CtrColumns::hour_column (Avazu's "hour", YYMMDDHH, e.g. 14102100 =
//    2014-10-21 00h), when set: "hour" = the hour of day, an integer field of 24 ids (00..23), and
//    "weekday" = the day of week of the date 20YY-MM-DD, an integer field of 7 ids, 0 = Monday ..
//    6 = Sunday (the proleptic Gregorian calendar, Hinnant's days_from_civil). The date alone is
//    dropped: train and test days differ, so it would be out of vocabulary at test time. A value
//    that is not 8 digits of a valid date and hour is a FormatError;
//  * categorical columns (CtrColumns::categorical), each cell verbatim (the empty cell is a value
//    like any other), encoded as its FieldSpec says (vocabulary with min_count, hashed, integer,
//    or multi-valued).
// Vocabulary fields are fitted on the training file only (ctr::FeatureSpaceBuilder: values seen
// fewer than min_count times, and values never seen, share the field's OOV row); hashed and
// integer fields need no fitting. Every single-valued field gives each row exactly one entry, so
// the rows have fixed fields (CtrData::fixed_fields()).
//
// Labels: the label column holds 0 or 1 ("0.0" and "1.0" also read); CtrColumns::label = ""
// reads a file without labels and leaves CtrTable::click empty (Criteo's test.txt: the preset
// with label = "" and "label" removed from column_names).
//
// Errors: FormatError naming file:line:column (1-based; line = physical line of the record):
//   "train.csv:17:1 (column 'click'): '2', expected 0 or 1"
//   "train.csv:9:4 (column 'I3'): 'abc' is not a number, expected a count or an empty field"
//   "train.csv:5:3 (column 'hour'): '14132100', expected YYMMDDHH (a valid date and hour 00-23)"
//   "train.csv: no column 'C27' (CtrColumns::categorical); the file's columns: label, I1, ..."
// plus CsvReader's own (a record with the wrong number of fields, an unterminated quote). A file
// without rows is a DataError; a missing file is a tailor::Error naming the path; CtrColumns that
// name a column twice, use the label as a feature or give no field are InvalidArgument.
//
// Complexity: O(bytes) time per pass, streamed through CsvReader (one 1 MiB buffer; no row is
// kept as strings). Fitting reads the training file twice when some field is a vocabulary (count,
// then encode) and once otherwise; encoding a file with a fitted space reads it once. Per cell:
// one hash lookup (vocabulary) or one hash_bytes (hashed); a numeric cell also costs one number
// parse and one log. Memory: the CSR arrays (6 bytes per entry, one entry per field and row, + 8
// bytes per row), the labels and the vocabulary counts while fitting.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/sparse_features.hpp"
#include "tailor/io/csv.hpp"

namespace tailor::io {

/// Which columns of a click log become the label and which fields (see the header comment).
struct CtrColumns {
  /// The 0/1 label column; "" = the file has no labels (CtrTable::click stays empty).
  std::string label = "click";
  /// Categorical columns, by column name (FieldSpec::name = the column): vocabulary, hashed,
  /// integer or multi-valued fields, each cell taken verbatim.
  std::vector<ctr::FieldSpec> categorical = {};
  /// Integer/real columns turned into categorical values by the Criteo winners' rule.
  std::vector<std::string> numeric = {};
  /// Kind of the numeric fields: vocabulary (fitted, numeric_min_count) or hashed
  /// (numeric_buckets rows each).
  ctr::FieldKind numeric_kind = ctr::FieldKind::vocabulary;
  Index numeric_buckets = 0;
  Index numeric_min_count = 1;
  /// An Avazu-style YYMMDDHH column that becomes the fields "hour" (hour of day) and "weekday";
  /// "" = none.
  std::string hour_column = {};
  /// Names of the columns, in file order, of a file without a header (CsvOptions::header =
  /// false); ignored when the file has a header. Empty: such a file's columns are column_1, ...
  std::vector<std::string> column_names = {};
};

/// Encoded rows of one click log (the space is the one read_ctr_csv fitted or was given).
struct CtrTable {
  ctr::SparseFeatures features;
  Eigen::VectorXf click;  ///< 0 or 1 per row; empty when CtrColumns::label is ""
};

namespace detail {

/// Appends the Criteo winners' value of a finite number (see the header comment) to `out`.
/// std::to_chars, not fmt: this runs once per numeric cell.
inline void ctr_append_numeric_value(double value, std::string& out) {
  const double n = std::trunc(value);
  char digits[24];
  char* end = digits;
  if (n > 2.0) {
    // ln(n)² < 710² for any finite double, so the bucket always fits an int64.
    const double log_n = std::log(n);
    *end++ = 'b';
    end = std::to_chars(end, digits + sizeof(digits), static_cast<std::int64_t>(log_n * log_n)).ptr;
  } else if (n >= -9.0e15) {
    // -0.0 (from -0.5) converts to 0 and prints as "0".
    end = std::to_chars(end, digits + sizeof(digits), static_cast<std::int64_t>(n)).ptr;
  } else {
    fmt::format_to(std::back_inserter(out), "{:.0f}", n);  // exact digits beyond int64
    return;
  }
  out.append(digits, end);
}

}  // namespace detail

/// The Criteo winners' categorical value of a finite number: "b" + floor(ln(n)²) for n > 2, else
/// n as integer text, with n = value truncated toward zero (an empty cell is "", which this
/// function never returns). Serving code uses it to build the same cells as training.
/// Throws InvalidArgument for NaN or infinity.
inline std::string criteo_numeric_value(double value) {
  if (!std::isfinite(value)) {
    raise<InvalidArgument>("criteo_numeric_value: value = {}, expected a finite number", value);
  }
  std::string out;
  detail::ctr_append_numeric_value(value, out);
  return out;
}

/// The Criteo Kaggle layout: label "label", numeric I1..I13, categorical C1..C26, and those 40
/// names as column_names for the header-less train.txt (read it with criteo_raw_options()).
/// hash_buckets = 0: every field is a vocabulary with min_count 10 (a common Criteo setting, as
/// FuxiCTR's Criteo_x4 and the winners' "infrequent features" threshold); > 0: C1..C26 are hashed
/// into that many rows each and I1..I13 stay vocabularies (they have few values).
inline CtrColumns criteo_columns(Index hash_buckets = 0) {
  check_param(hash_buckets >= 0 && hash_buckets < ctr::FeatureSpace::kMaxRows, "criteo_columns",
              "hash_buckets", hash_buckets, "0 (vocabularies) or a bucket count below 2^31");
  CtrColumns columns;
  columns.label = "label";
  columns.numeric_kind = ctr::FieldKind::vocabulary;
  columns.numeric_min_count = 10;
  columns.column_names.push_back("label");
  for (int i = 1; i <= 13; ++i) {
    columns.numeric.push_back(fmt::format("I{}", i));
    columns.column_names.push_back(fmt::format("I{}", i));
  }
  for (int i = 1; i <= 26; ++i) {
    ctr::FieldSpec spec;
    spec.name = fmt::format("C{}", i);
    if (hash_buckets > 0) {
      spec.kind = ctr::FieldKind::hashed;
      spec.hash_buckets = hash_buckets;
    } else {
      spec.kind = ctr::FieldKind::vocabulary;
      spec.min_count = 10;
    }
    columns.column_names.push_back(spec.name);
    columns.categorical.push_back(std::move(spec));
  }
  return columns;
}

/// CsvOptions of the raw Criteo Kaggle files (train.txt, test.txt): tab-separated, no header, no
/// quoting (fields are split on tabs only).
inline CsvOptions criteo_raw_options() {
  CsvOptions options;
  options.separator = '\t';
  options.quote = '\0';
  options.header = false;
  return options;
}

/// The Avazu Kaggle layout (id, click, hour, C1, banner_pos, site_id, site_domain, site_category,
/// app_id, app_domain, app_category, device_id, device_ip, device_model, device_type,
/// device_conn_type, C14..C21, with a header): label "click"; "hour" (YYMMDDHH) becomes the
/// fields "hour" (hour of day) and "weekday"; the other 21 columns except id are categorical.
/// Fields: hour, weekday, C1, banner_pos, ..., C21 (23). hash_buckets = 0: vocabularies with
/// min_count 2 (FuxiCTR's Avazu_x4 setting); > 0: the 21 categorical columns are hashed into that
/// many rows each.
inline CtrColumns avazu_columns(Index hash_buckets = 0) {
  check_param(hash_buckets >= 0 && hash_buckets < ctr::FeatureSpace::kMaxRows, "avazu_columns",
              "hash_buckets", hash_buckets, "0 (vocabularies) or a bucket count below 2^31");
  // clang-format off
  static constexpr std::string_view kCategorical[] = {
      "C1",           "banner_pos",  "site_id",          "site_domain", "site_category",
      "app_id",       "app_domain",  "app_category",     "device_id",   "device_ip",
      "device_model", "device_type", "device_conn_type", "C14",         "C15",
      "C16",          "C17",         "C18",              "C19",         "C20",
      "C21"};
  // clang-format on
  CtrColumns columns;
  columns.label = "click";
  columns.hour_column = "hour";
  columns.column_names = {"id", "click", "hour"};
  for (const std::string_view name : kCategorical) {
    ctr::FieldSpec spec;
    spec.name = std::string(name);
    if (hash_buckets > 0) {
      spec.kind = ctr::FieldKind::hashed;
      spec.hash_buckets = hash_buckets;
    } else {
      spec.kind = ctr::FieldKind::vocabulary;
      spec.min_count = 2;
    }
    columns.column_names.push_back(spec.name);
    columns.categorical.push_back(std::move(spec));
  }
  return columns;
}

namespace detail {

/// Where a field's cell comes from.
enum class CtrSource : std::uint8_t { categorical, numeric, hour_of_day, weekday };

/// The fields CtrColumns defines, in field order, with the column each is read from.
struct CtrPlan {
  std::vector<ctr::FieldSpec> specs;
  std::vector<std::string> column;  ///< per field: its source column
  std::vector<CtrSource> source;    ///< per field
};

/// Validates `columns` and lists its fields (numeric, time, categorical). InvalidArgument on a
/// column used twice, the label used as a feature, no fields, or a numeric kind that is neither
/// vocabulary nor hashed.
inline CtrPlan ctr_plan(const CtrColumns& columns, std::string_view context) {
  CtrPlan plan;
  std::vector<std::pair<std::string_view, std::string_view>> used;  // column, role
  const auto use = [&](std::string_view column, std::string_view role) {
    if (column.empty())
      raise<InvalidArgument>("{}: an empty column name in CtrColumns::{}", context, role);
    if (column == columns.label) {
      raise<InvalidArgument>(
          "{}: column '{}' is the label and also in CtrColumns::{}, expected the label apart "
          "from the features",
          context, column, role);
    }
    for (const auto& [name, other] : used) {
      if (name == column) {
        raise<InvalidArgument>(
            "{}: column '{}' is in CtrColumns::{} and CtrColumns::{}, expected each column once",
            context, column, other, role);
      }
    }
    used.emplace_back(column, role);
  };
  const auto add = [&](ctr::FieldSpec spec, std::string column, CtrSource source) {
    plan.specs.push_back(std::move(spec));
    plan.column.push_back(std::move(column));
    plan.source.push_back(source);
  };

  if (columns.numeric_kind != ctr::FieldKind::vocabulary &&
      columns.numeric_kind != ctr::FieldKind::hashed) {
    raise<InvalidArgument>(
        "{}: CtrColumns::numeric_kind = integer, expected vocabulary or hashed (numeric values "
        "become text like \"b47\", not ids)",
        context);
  }
  if (columns.numeric_kind == ctr::FieldKind::hashed && !columns.numeric.empty()) {
    check_param(
        columns.numeric_buckets >= 1 && columns.numeric_buckets < ctr::FeatureSpace::kMaxRows,
        context, "CtrColumns::numeric_buckets", columns.numeric_buckets,
        "between 1 and 2^31 - 1 with numeric_kind = hashed");
  }
  if (columns.numeric_kind == ctr::FieldKind::vocabulary && !columns.numeric.empty()) {
    check_param(columns.numeric_min_count >= 1, context, "CtrColumns::numeric_min_count",
                columns.numeric_min_count, "at least 1");
  }
  for (const std::string& name : columns.numeric) {
    use(name, "numeric");
    ctr::FieldSpec spec;
    spec.name = name;
    spec.kind = columns.numeric_kind;
    spec.hash_buckets = columns.numeric_buckets;
    spec.min_count = columns.numeric_min_count;
    add(std::move(spec), name, CtrSource::numeric);
  }
  if (!columns.hour_column.empty()) {
    use(columns.hour_column, "hour_column");
    add({.name = "hour", .kind = ctr::FieldKind::integer, .cardinality = 24}, columns.hour_column,
        CtrSource::hour_of_day);
    add({.name = "weekday", .kind = ctr::FieldKind::integer, .cardinality = 7}, columns.hour_column,
        CtrSource::weekday);
  }
  for (const ctr::FieldSpec& spec : columns.categorical) {
    use(spec.name, "categorical");
    add(spec, spec.name, CtrSource::categorical);
  }
  if (plan.specs.empty()) {
    raise<InvalidArgument>(
        "{}: CtrColumns names no feature column, expected at least one categorical or numeric "
        "column or an hour_column",
        context);
  }
  // Field names must be unique ("hour"/"weekday" may clash with a categorical column's name).
  for (std::size_t f = 0; f < plan.specs.size(); ++f) {
    for (std::size_t g = 0; g < f; ++g) {
      if (plan.specs[f].name == plan.specs[g].name) {
        raise<InvalidArgument>(
            "{}: two fields are named '{}' (the hour_column's fields are 'hour' and 'weekday'), "
            "expected distinct names",
            context, plan.specs[f].name);
      }
    }
  }
  for (std::size_t j = 0; j < columns.column_names.size(); ++j) {
    for (std::size_t k = 0; k < j; ++k) {
      if (columns.column_names[j] == columns.column_names[k]) {
        raise<InvalidArgument>("{}: CtrColumns::column_names lists '{}' twice (names {} and {})",
                               context, columns.column_names[j], k + 1, j + 1);
      }
    }
  }
  return plan;
}

/// Hour of day and weekday (0 = Monday) of a YYMMDDHH text (year 20YY); false when the text is
/// not 8 digits of a valid date and hour.
inline bool ctr_parse_yymmddhh(std::string_view text, int& hour, int& weekday) {
  if (text.size() != 8) return false;
  int digits[8];
  for (std::size_t k = 0; k < 8; ++k) {
    if (text[k] < '0' || text[k] > '9') return false;
    digits[k] = text[k] - '0';
  }
  const int year = 2000 + digits[0] * 10 + digits[1];
  const int month = digits[2] * 10 + digits[3];
  const int day = digits[4] * 10 + digits[5];
  hour = digits[6] * 10 + digits[7];
  if (month < 1 || month > 12 || hour > 23 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return false;
  // Days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms",
  // days_from_civil), for years >= 2000 so every quantity is non-negative.
  const int y = month <= 2 ? year - 1 : year;
  const int era = y / 400;
  const int year_of_era = y - era * 400;
  const int day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  const long days = static_cast<long>(era) * 146097 + day_of_era - 719468;
  weekday = static_cast<int>((days + 3) % 7);  // 1970-01-01 was a Thursday (3)
  return true;
}

/// A click log opened for CtrColumns: the columns of each field found, and each row turned into
/// one cell per field (views into the row or into per-field buffers, valid until the next row).
class CtrCsvRows {
 public:
  CtrCsvRows(const std::filesystem::path& path, const CtrColumns& columns, const CtrPlan& plan,
             const CsvOptions& options)
      : reader_(path, options), plan_(&plan), missing_values_(options.missing_values) {
    const std::string& source = reader_.source();
    if (reader_.num_columns() == 0) {
      raise<DataError>("{}: empty file, expected {}rows of a click log", source,
                       options.header ? "a header and " : "");
    }
    if (!options.header && !columns.column_names.empty()) {
      if (columns.column_names.size() != reader_.num_columns()) {
        raise<FormatError>(
            "{}:1: the first record has {} fields, expected {} (the names in "
            "CtrColumns::column_names)",
            source, reader_.num_columns(), columns.column_names.size());
      }
      names_ = columns.column_names;
    } else {
      names_ = reader_.column_names();
    }
    const bool unnamed = !options.header && columns.column_names.empty();
    const auto find = [&](std::string_view name, std::string_view role) {
      for (std::size_t j = 0; j < names_.size(); ++j) {
        if (names_[j] == name) return j;
      }
      raise<FormatError>("{}: no column '{}' (CtrColumns::{}); the file's columns: {}{}", source,
                         name, role, fmt::join(names_, ", "),
                         unnamed ? " (a file without a header: name its columns in "
                                   "CtrColumns::column_names)"
                                 : "");
    };
    if (!columns.label.empty()) label_ = find(columns.label, "label");
    const std::size_t num_fields = plan.specs.size();
    field_column_.resize(num_fields);
    for (std::size_t f = 0; f < num_fields; ++f) {
      std::string_view role = "categorical";
      if (plan.source[f] == CtrSource::numeric) role = "numeric";
      if (plan.source[f] == CtrSource::hour_of_day || plan.source[f] == CtrSource::weekday) {
        role = "hour_column";
      }
      field_column_[f] = find(plan.column[f], role);
    }
    numeric_text_.resize(num_fields);
    cells_.resize(num_fields);
  }

  const std::string& source() const { return reader_.source(); }
  bool has_label() const { return label_ != kNoColumn; }
  std::span<const std::string_view> cells() const { return cells_; }
  /// The row's label (0 or 1); meaningful when has_label().
  float click() const { return click_; }

  /// Reads the next row; false at the end of the file. Throws FormatError (file:line:column) for
  /// a bad label, numeric value or time.
  bool next() {
    if (!reader_.next_row(row_)) return false;
    if (label_ != kNoColumn) click_ = read_label();
    const std::size_t num_fields = cells_.size();
    for (std::size_t f = 0; f < num_fields; ++f) {
      const std::size_t column = field_column_[f];
      const std::string_view text = row_.text(column);
      switch (plan_->source[f]) {
        case CtrSource::categorical:
          cells_[f] = text;
          break;
        case CtrSource::numeric:
          cells_[f] = numeric_cell(f, column, text);
          break;
        case CtrSource::hour_of_day:
        case CtrSource::weekday: {
          int hour = 0;
          int weekday = 0;
          if (!ctr_parse_yymmddhh(text, hour, weekday)) {
            raise<FormatError>(
                "{}:{}:{} (column '{}'): '{}', expected YYMMDDHH (a valid date and hour 00-23)",
                source(), row_.line(), column + 1, names_[column], text);
          }
          static constexpr std::string_view kIds[] = {
              "0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9",  "10", "11",
              "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23"};
          cells_[f] = kIds[plan_->source[f] == CtrSource::hour_of_day ? hour : weekday];
          break;
        }
      }
    }
    return true;
  }

 private:
  static constexpr std::size_t kNoColumn = std::numeric_limits<std::size_t>::max();

  float read_label() const {
    const std::string_view text = row_.text(label_);
    if (text == "0") return 0.0f;
    if (text == "1") return 1.0f;
    double value = 0.0;
    if (csv_parse_number(text, value) && (value == 0.0 || value == 1.0)) {
      return static_cast<float>(value);
    }
    raise<FormatError>("{}:{}:{} (column '{}'): '{}', expected 0 or 1", source(), row_.line(),
                       label_ + 1, names_[label_], text);
  }

  std::string_view numeric_cell(std::size_t f, std::size_t column, std::string_view text) {
    double value = 0.0;
    switch (csv_classify(text, missing_values_, value)) {
      case CsvFieldKind::missing:
        return {};
      case CsvFieldKind::number:
        if (std::isfinite(value)) {
          std::string& out = numeric_text_[f];
          out.clear();
          ctr_append_numeric_value(value, out);
          return out;
        }
        raise<FormatError>("{}:{}:{} (column '{}'): '{}', expected a finite number", source(),
                           row_.line(), column + 1, names_[column], text);
      case CsvFieldKind::text:
        break;
    }
    raise<FormatError>(
        "{}:{}:{} (column '{}'): '{}' is not a number, expected a count or an empty field",
        source(), row_.line(), column + 1, names_[column], text);
  }

  CsvReader reader_;
  CsvRow row_;
  const CtrPlan* plan_;
  std::vector<std::string> missing_values_;
  std::vector<std::string> names_;
  std::size_t label_ = kNoColumn;
  std::vector<std::size_t> field_column_;
  std::vector<std::string> numeric_text_;
  std::vector<std::string_view> cells_;
  float click_ = 0.0f;
};

/// Encodes every row of `rows` with `space` (`expected_rows`: a capacity hint, 0 = unknown).
inline CtrTable ctr_encode(CtrCsvRows& rows, const ctr::FeatureSpace& space,
                           std::size_t expected_rows) {
  CtrTable table;
  ctr::SparseFeatures& x = table.features;
  std::vector<float> click;
  const auto num_fields = static_cast<std::size_t>(space.num_fields());
  if (expected_rows > 0) {
    x.row_ptr.reserve(expected_rows + 1);
    x.field.reserve(expected_rows * num_fields);
    x.index.reserve(expected_rows * num_fields);
    if (rows.has_label()) click.reserve(expected_rows);
  }
  while (rows.next()) {
    const std::span<const std::string_view> cells = rows.cells();
    for (std::size_t f = 0; f < num_fields; ++f) {
      // One-hot entries: SparseFeatures::value stays empty.
      space.encode_cell(static_cast<Index>(f), cells[f], [&](std::uint32_t table_row) {
        x.field.push_back(static_cast<std::uint16_t>(f));
        x.index.push_back(table_row);
      });
    }
    x.end_row();
    if (rows.has_label()) click.push_back(rows.click());
  }
  if (x.num_rows() == 0) {
    raise<DataError>("{}: no rows, expected at least one row of a click log", rows.source());
  }
  table.click = Eigen::Map<const Eigen::VectorXf>(click.data(), static_cast<Index>(click.size()));
  return table;
}

/// Throws InvalidArgument unless `space` has the fields `plan` defines (names, in order).
inline void ctr_check_space(const ctr::FeatureSpace& space, const CtrPlan& plan,
                            std::string_view context) {
  std::vector<std::string_view> expected;
  for (const auto& spec : plan.specs) expected.push_back(spec.name);
  const auto num_fields = static_cast<std::size_t>(space.num_fields());
  for (std::size_t f = 0; f < std::max(num_fields, expected.size()); ++f) {
    const std::string_view have =
        f < num_fields ? std::string_view(space.field(static_cast<Index>(f)).name) : "(none)";
    const std::string_view want = f < expected.size() ? expected[f] : "(none)";
    if (have != want) {
      raise<InvalidArgument>(
          "{}: field {} of the feature space is '{}', expected '{}' (the fields of these "
          "CtrColumns: {})",
          context, f, have, want, fmt::join(expected, ", "));
    }
  }
}

}  // namespace detail

/// Fits the feature space on `train` (vocabulary fields with their min_count; hashed and integer
/// fields need no fitting) and encodes `train` with it. See the header comment for formats,
/// fields and errors.
inline std::pair<ctr::FeatureSpace, CtrTable> read_ctr_csv(const std::filesystem::path& train,
                                                           const CtrColumns& columns,
                                                           const CsvOptions& options = {}) {
  const detail::CtrPlan plan = detail::ctr_plan(columns, "read_ctr_csv");
  ctr::FeatureSpaceBuilder builder(plan.specs);
  std::vector<Index> vocabulary_fields;
  for (std::size_t f = 0; f < plan.specs.size(); ++f) {
    if (plan.specs[f].kind == ctr::FieldKind::vocabulary) {
      vocabulary_fields.push_back(static_cast<Index>(f));
    }
  }
  std::size_t num_rows = 0;
  if (!vocabulary_fields.empty()) {
    detail::CtrCsvRows rows(train, columns, plan, options);
    while (rows.next()) {
      const std::span<const std::string_view> cells = rows.cells();
      for (const Index f : vocabulary_fields) builder.add(f, cells[static_cast<std::size_t>(f)]);
      ++num_rows;
    }
    if (num_rows == 0) {
      raise<DataError>("{}: no rows, expected at least one row of a click log", rows.source());
    }
  }
  ctr::FeatureSpace space = builder.build();
  detail::CtrCsvRows rows(train, columns, plan, options);
  CtrTable table = detail::ctr_encode(rows, space, num_rows);
  return {std::move(space), std::move(table)};
}

/// Encodes another file (validation, test, serving logs) with a fitted space: values the space
/// has not seen go to their field's OOV row (hashed fields have none and need none). The space
/// must have the fields of `columns` (names in order; InvalidArgument otherwise).
inline CtrTable read_ctr_csv(const std::filesystem::path& path, const ctr::FeatureSpace& space,
                             const CtrColumns& columns, const CsvOptions& options = {}) {
  const detail::CtrPlan plan = detail::ctr_plan(columns, "read_ctr_csv");
  detail::ctr_check_space(space, plan, "read_ctr_csv");
  detail::CtrCsvRows rows(path, columns, plan, options);
  return detail::ctr_encode(rows, space, 0);
}

}  // namespace tailor::io
