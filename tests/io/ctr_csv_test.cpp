// Tests for io/ctr_csv.hpp: exact small click logs written to a temporary directory (vocabulary
// fields with min_count and OOV, hashed fields, the Criteo numeric rule, Avazu's hour/weekday, a
// header-less raw Criteo TSV), encoding another file with a fitted space, every documented error
// with its message, and DeepCTR's Criteo and Avazu samples ([realdata], skipped without
// TAILOR_DATA_DIR) with an FM smoke fit.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "tailor/ctr/fm.hpp"
#include "tailor/ctr/sparse_features.hpp"
#include "tailor/io/ctr_csv.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace tailor;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

namespace {

using tailor::test::TempDir;

/// Local id (table row - field offset) of field f in row i of fixed-field rows.
Index local_id(const ctr::FeatureSpace& space, const ctr::SparseFeatures& x, Index i, Index f) {
  const auto e = static_cast<std::size_t>(i * space.num_fields() + f);
  REQUIRE(x.field[e] == f);
  return static_cast<Index>(x.index[e]) - space.offset(f);
}

/// The vocabulary value that field f of row i encodes to.
std::string value_of(const ctr::FeatureSpace& space, const ctr::SparseFeatures& x, Index i,
                     Index f) {
  return space.field(f).values[static_cast<std::size_t>(local_id(space, x, i, f))];
}

/// Whether every row has exactly one entry per field, in field order.
bool one_entry_per_field(const ctr::FeatureSpace& space, const ctr::SparseFeatures& x) {
  const Index num_fields = space.num_fields();
  for (Index i = 0; i <= x.num_rows(); ++i) {
    if (x.row_ptr[static_cast<std::size_t>(i)] != i * num_fields) return false;
  }
  for (Index e = 0; e < x.nnz(); ++e) {
    if (x.field[static_cast<std::size_t>(e)] != e % num_fields) return false;
  }
  return true;
}

std::vector<std::string> field_names(const ctr::FeatureSpace& space) {
  std::vector<std::string> names;
  for (const auto& field : space.fields()) names.push_back(field.name);
  return names;
}

io::CtrColumns small_columns() {
  io::CtrColumns columns;
  columns.label = "click";
  columns.categorical = {{.name = "user"}, {.name = "ad", .min_count = 2}};
  columns.numeric = {"I1"};
  return columns;
}

const char* const kSmallTrain =
    "click,user,ad,I1\n"
    "1,u1,a1,3\n"
    "0,u2,a1,\n"
    "0,u1,a2,1\n";

fs::path data_dir() {
  const char* dir = std::getenv("TAILOR_DATA_DIR");
  return dir ? fs::path(dir) : fs::path();
}

}  // namespace

TEST_CASE("read_ctr_csv fits vocabularies with min_count and encodes rows exactly", "[ctr_csv]") {
  TempDir dir("vocabulary");
  const fs::path train = dir.write("train.csv", kSmallTrain);
  const auto [space, table] = io::read_ctr_csv(train, small_columns());

  // Fields: numeric first, then categorical, each named after its column.
  CHECK(field_names(space) == std::vector<std::string>{"I1", "user", "ad"});
  // Values by decreasing count, ties by value, then the OOV row.
  CHECK(space.field(0).values == std::vector<std::string>{"", "1", "b1", "<oov>"});
  CHECK(space.field(1).values == std::vector<std::string>{"u1", "u2", "<oov>"});
  CHECK(space.field(2).values == std::vector<std::string>{"a1", "<oov>"});  // a2 seen once < 2

  const ctr::SparseFeatures& x = table.features;
  REQUIRE(x.num_rows() == 3);
  CHECK(one_entry_per_field(space, x));
  CHECK_FALSE(x.has_values());
  const std::vector<std::vector<Index>> expected = {{2, 0, 0}, {0, 1, 0}, {1, 0, 1}};
  for (Index i = 0; i < 3; ++i) {
    for (Index f = 0; f < 3; ++f) {
      CHECK(local_id(space, x, i, f) ==
            expected[static_cast<std::size_t>(i)][static_cast<std::size_t>(f)]);
    }
  }
  CHECK(table.click == Eigen::Vector3f(1.0f, 0.0f, 0.0f));

  ctr::CtrData data(space, x, table.click);
  CHECK(data.fixed_fields());
  CHECK(data.num_clicks() == 1);
}

TEST_CASE("read_ctr_csv with a fitted space maps unseen values to OOV rows", "[ctr_csv]") {
  TempDir dir("test_file");
  const fs::path train = dir.write("train.csv", kSmallTrain);
  const auto [space, train_table] = io::read_ctr_csv(train, small_columns());
  // Other column order, an extra column, a quoted cell and labels as "0.0"/"1.0".
  const fs::path test = dir.write("test.csv",
                                  "ad,extra,I1,click,user\n"
                                  "a1,x,1000,0,u3\n"
                                  "a2,y,1,1.0,u2\n"
                                  "\"a1\",z,,0.0,u1\n");
  const io::CtrTable table = io::read_ctr_csv(test, space, small_columns());
  const ctr::SparseFeatures& x = table.features;
  REQUIRE(x.num_rows() == 3);
  CHECK(one_entry_per_field(space, x));
  // Fields I1, user, ad; OOV rows are 3, 2 and 1.
  const std::vector<std::vector<Index>> expected = {{3, 2, 0}, {1, 1, 1}, {0, 0, 0}};
  for (Index i = 0; i < 3; ++i) {
    for (Index f = 0; f < 3; ++f) {
      CHECK(local_id(space, x, i, f) ==
            expected[static_cast<std::size_t>(i)][static_cast<std::size_t>(f)]);
    }
  }
  CHECK(table.click == Eigen::Vector3f(0.0f, 1.0f, 0.0f));

  // The training file encoded with its own space gives the training encoding.
  const io::CtrTable again = io::read_ctr_csv(train, space, small_columns());
  CHECK(again.features.index == train_table.features.index);
  CHECK(again.features.field == train_table.features.field);
  CHECK(again.click == train_table.click);
}

TEST_CASE("criteo_numeric_value follows the Criteo winners' rule", "[ctr_csv]") {
  // n > 2: "b" + floor(ln(n)^2); ln(3)^2 = 1.21, ln(7)^2 = 3.79, ln(260)^2 = 30.9,
  // ln(1000)^2 = 47.7, ln(1e6)^2 = 190.9, ln(1e300)^2 = 477170.3.
  CHECK(io::criteo_numeric_value(3) == "b1");
  CHECK(io::criteo_numeric_value(7) == "b3");
  CHECK(io::criteo_numeric_value(260.0) == "b30");
  CHECK(io::criteo_numeric_value(1000) == "b47");
  CHECK(io::criteo_numeric_value(1e6) == "b190");
  CHECK(io::criteo_numeric_value(1e300) == "b477170");
  // n <= 2 (negatives included): the integer itself.
  CHECK(io::criteo_numeric_value(0) == "0");
  CHECK(io::criteo_numeric_value(1) == "1");
  CHECK(io::criteo_numeric_value(2) == "2");
  CHECK(io::criteo_numeric_value(-1) == "-1");
  CHECK(io::criteo_numeric_value(-5) == "-5");
  // Real values are truncated toward zero first (Python's int()).
  CHECK(io::criteo_numeric_value(2.5) == "2");
  CHECK(io::criteo_numeric_value(2.999) == "2");
  CHECK(io::criteo_numeric_value(3.7) == "b1");
  CHECK(io::criteo_numeric_value(-0.5) == "0");
  CHECK(io::criteo_numeric_value(-2.7) == "-2");
  CHECK(io::criteo_numeric_value(-1e20) == "-100000000000000000000");
  CHECK_THROWS_WITH(io::criteo_numeric_value(std::nan("")),
                    "criteo_numeric_value: value = nan, expected a finite number");
}

TEST_CASE("numeric columns become the rule's values in the file", "[ctr_csv]") {
  TempDir dir("numeric");
  const std::vector<std::pair<std::string, std::string>> cells = {
      {"", ""},        {"0", "0"},   {"1", "1"},     {"2", "2"},       {"3", "b1"},
      {"1000", "b47"}, {"-1", "-1"}, {"-5", "-5"},   {"260.0", "b30"}, {" 7 ", "b3"},
      {"NA", ""},      {"2.5", "2"}, {"1e3", "b47"}, {"-0.5", "0"}};
  std::string text = "click,I1\n";
  for (std::size_t k = 0; k < cells.size(); ++k) {
    text += fmt::format("{},{}\n", k % 2, cells[k].first);
  }
  const fs::path path = dir.write("numeric.csv", text);
  io::CtrColumns columns;
  columns.numeric = {"I1"};
  const auto [space, table] = io::read_ctr_csv(path, columns);
  REQUIRE(table.features.num_rows() == static_cast<Index>(cells.size()));
  for (std::size_t k = 0; k < cells.size(); ++k) {
    INFO("cell '" << cells[k].first << "'");
    CHECK(value_of(space, table.features, static_cast<Index>(k), 0) == cells[k].second);
  }
  // Empty is its own value, distinct from 0.
  CHECK(space.encode(0, "") != space.encode(0, "0"));
}

TEST_CASE("hashed fields need no fitting and stay in their ranges", "[ctr_csv]") {
  TempDir dir("hashed");
  const fs::path path = dir.write("hashed.csv",
                                  "click,user,I1\n"
                                  "1,u1,5\n"
                                  "0,u2,\n"
                                  "0,u3,-1\n"
                                  "1,u1,100\n");
  io::CtrColumns columns;
  columns.categorical = {{.name = "user", .kind = ctr::FieldKind::hashed, .hash_buckets = 8}};
  columns.numeric = {"I1"};
  columns.numeric_kind = ctr::FieldKind::hashed;
  columns.numeric_buckets = 16;
  const auto [space, table] = io::read_ctr_csv(path, columns);
  CHECK(field_names(space) == std::vector<std::string>{"I1", "user"});
  CHECK(space.field(0).rows == 16);
  CHECK(space.field(1).rows == 8);
  const ctr::SparseFeatures& x = table.features;
  REQUIRE(x.num_rows() == 4);
  CHECK(one_entry_per_field(space, x));
  const std::vector<std::string> numeric = {"b2", "", "-1", "b21"};  // ln(5)²=2.6, ln(100)²=21.2
  const std::vector<std::string> users = {"u1", "u2", "u3", "u1"};
  for (Index i = 0; i < 4; ++i) {
    const auto u = static_cast<std::size_t>(i);
    CHECK(x.index[u * 2] == space.encode(0, numeric[u]));
    CHECK(x.index[u * 2 + 1] == space.encode(1, users[u]));
    CHECK(local_id(space, x, i, 0) >= 0);
    CHECK(local_id(space, x, i, 0) < 16);
    CHECK(local_id(space, x, i, 1) >= 0);
    CHECK(local_id(space, x, i, 1) < 8);
  }
  CHECK(x.index[1] == x.index[7]);  // u1 in rows 1 and 4
  // A hashed space encodes another file with never-seen values without OOV rows.
  const fs::path test = dir.write("test.csv", "click,user,I1\n0,u99,123456\n");
  const io::CtrTable other = io::read_ctr_csv(test, space, columns);
  CHECK(other.features.index[0] == space.encode(0, io::criteo_numeric_value(123456)));
  CHECK(other.features.index[1] == space.encode(1, "u99"));
}

TEST_CASE("raw Criteo TSV without a header reads with the preset's column names", "[ctr_csv]") {
  TempDir dir("criteo_raw");
  // label, I1..I13, C1..C26; row r has I_j = j * r - 2 (one empty) and C_j = "c<j>_<r % 2>".
  std::string text;
  for (int r = 0; r < 3; ++r) {
    std::vector<std::string> cells;
    cells.push_back(r == 1 ? "1" : "0");
    for (int j = 1; j <= 13; ++j)
      cells.push_back(r == 2 && j == 4 ? "" : fmt::format("{}", j * r - 2));
    for (int j = 1; j <= 26; ++j) cells.push_back(fmt::format("c{}_{}", j, r % 2));
    text += fmt::format("{}\n", fmt::join(cells, "\t"));
  }
  const fs::path path = dir.write("train.txt", text);
  io::CtrColumns columns = io::criteo_columns(1 << 10);
  columns.numeric_min_count = 1;
  const auto check = [&](const ctr::FeatureSpace& space, const io::CtrTable& table) {
    REQUIRE(space.num_fields() == 39);
    CHECK(space.field(0).name == "I1");
    CHECK(space.field(13).name == "C1");
    CHECK(space.field(13).kind == ctr::FieldKind::hashed);
    CHECK(space.field(13).rows == 1024);
    REQUIRE(table.features.num_rows() == 3);
    CHECK(one_entry_per_field(space, table.features));
    CHECK(table.click == Eigen::Vector3f(0.0f, 1.0f, 0.0f));
    for (Index r = 0; r < 3; ++r) {
      for (Index j = 1; j <= 13; ++j) {
        const std::string want =
            r == 2 && j == 4 ? "" : io::criteo_numeric_value(static_cast<double>(j * r - 2));
        CHECK(value_of(space, table.features, r, j - 1) == want);
      }
      for (Index j = 1; j <= 26; ++j) {
        CHECK(table.features.index[static_cast<std::size_t>(r * 39 + 12 + j)] ==
              space.encode(12 + j, fmt::format("c{}_{}", j, r % 2)));
      }
    }
  };
  {
    const auto [space, table] = io::read_ctr_csv(path, columns, io::criteo_raw_options());
    check(space, table);
  }
  {
    io::CsvOptions options;  // tab, no header, default quoting
    options.separator = '\t';
    options.header = false;
    const auto [space, table] = io::read_ctr_csv(path, columns, options);
    check(space, table);
  }
  // Without the names the columns are column_1..column_40.
  io::CtrColumns unnamed = columns;
  unnamed.column_names.clear();
  CHECK_THROWS_MATCHES(
      io::read_ctr_csv(path, unnamed, io::criteo_raw_options()), FormatError,
      Catch::Matchers::Message(fmt::format(
          "{}: no column 'label' (CtrColumns::label); the file's columns: column_1, column_2, "
          "column_3, column_4, column_5, column_6, column_7, column_8, column_9, column_10, "
          "column_11, column_12, column_13, column_14, column_15, column_16, column_17, column_18, "
          "column_19, column_20, column_21, column_22, column_23, column_24, column_25, column_26, "
          "column_27, column_28, column_29, column_30, column_31, column_32, column_33, column_34, "
          "column_35, column_36, column_37, column_38, column_39, column_40 (a file without a "
          "header: name its columns in CtrColumns::column_names)",
          path.string())));
  // The wrong number of names.
  io::CtrColumns short_names = columns;
  short_names.column_names.pop_back();
  CHECK_THROWS_MATCHES(io::read_ctr_csv(path, short_names, io::criteo_raw_options()), FormatError,
                       Catch::Matchers::Message(fmt::format(
                           "{}:1: the first record has 40 fields, expected 39 (the names in "
                           "CtrColumns::column_names)",
                           path.string())));
}

TEST_CASE("Avazu's hour becomes hour of day and weekday", "[ctr_csv]") {
  int hour = -1;
  int weekday = -1;
  REQUIRE(io::detail::ctr_parse_yymmddhh("14102100", hour, weekday));
  CHECK((hour == 0 && weekday == 1));  // 2014-10-21 was a Tuesday
  REQUIRE(io::detail::ctr_parse_yymmddhh("14102623", hour, weekday));
  CHECK((hour == 23 && weekday == 6));  // Sunday
  REQUIRE(io::detail::ctr_parse_yymmddhh("00030107", hour, weekday));
  CHECK((hour == 7 && weekday == 2));  // 2000-03-01, Wednesday
  REQUIRE(io::detail::ctr_parse_yymmddhh("16022912", hour, weekday));
  CHECK((hour == 12 && weekday == 0));  // 2016-02-29 (leap), Monday
  CHECK_FALSE(io::detail::ctr_parse_yymmddhh("14022900", hour, weekday));  // 2014: no Feb 29
  CHECK_FALSE(io::detail::ctr_parse_yymmddhh("14132100", hour, weekday));
  CHECK_FALSE(io::detail::ctr_parse_yymmddhh("14103200", hour, weekday));
  CHECK_FALSE(io::detail::ctr_parse_yymmddhh("14102124", hour, weekday));
  CHECK_FALSE(io::detail::ctr_parse_yymmddhh("1410210", hour, weekday));
  CHECK_FALSE(io::detail::ctr_parse_yymmddhh("1410210a", hour, weekday));

  TempDir dir("avazu");
  const std::string header =
      "id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,"
      "app_category,device_id,device_ip,device_model,device_type,device_conn_type,C14,C15,C16,"
      "C17,C18,C19,C20,C21\n";
  const std::string rest = ",1005,0,s,d,c,a,ad,ac,di,ip,m,1,0,15706,320,50,1722,0,35,-1,79\n";
  const fs::path path = dir.write(
      "avazu.csv", header + "1,0,14102100" + rest + "2,1,14102623" + rest + "3,0,14102912" + rest);
  const auto [space, table] = io::read_ctr_csv(path, io::avazu_columns(64));
  REQUIRE(space.num_fields() == 23);
  CHECK(space.field(0).name == "hour");
  CHECK(space.field(0).kind == ctr::FieldKind::integer);
  CHECK(space.field(0).rows == 25);  // 24 hours + OOV
  CHECK(space.field(1).name == "weekday");
  CHECK(space.field(1).rows == 8);
  CHECK(space.field(2).name == "C1");
  CHECK(space.field(22).name == "C21");
  CHECK(space.field(2).kind == ctr::FieldKind::hashed);
  REQUIRE(table.features.num_rows() == 3);
  CHECK(one_entry_per_field(space, table.features));
  CHECK(local_id(space, table.features, 0, 0) == 0);
  CHECK(local_id(space, table.features, 0, 1) == 1);
  CHECK(local_id(space, table.features, 1, 0) == 23);
  CHECK(local_id(space, table.features, 1, 1) == 6);
  CHECK(local_id(space, table.features, 2, 0) == 12);
  CHECK(local_id(space, table.features, 2, 1) == 2);  // 2014-10-29, Wednesday
  CHECK(table.click == Eigen::Vector3f(0.0f, 1.0f, 0.0f));

  // The vocabulary preset: min_count 2, so values seen once are OOV.
  const auto [vocabulary_space, vocabulary_table] = io::read_ctr_csv(path, io::avazu_columns());
  CHECK(vocabulary_space.field(2).kind == ctr::FieldKind::vocabulary);
  CHECK(vocabulary_space.field(2).values == std::vector<std::string>{"1005", "<oov>"});
  CHECK(one_entry_per_field(vocabulary_space, vocabulary_table.features));
}

TEST_CASE("a file without labels leaves click empty", "[ctr_csv]") {
  TempDir dir("no_label");
  const fs::path path = dir.write("test.csv", "user,I1\nu1,4\nu2,\n");
  io::CtrColumns columns = small_columns();
  columns.label = "";
  columns.categorical.pop_back();
  const auto [space, table] = io::read_ctr_csv(path, columns);
  CHECK(table.features.num_rows() == 2);
  CHECK(table.click.size() == 0);
}

TEST_CASE("read_ctr_csv errors name the file, line and column", "[ctr_csv]") {
  TempDir dir("errors");
  const auto message = [](const std::string& text) { return Catch::Matchers::Message(text); };
  const io::CtrColumns columns = small_columns();

  SECTION("a label other than 0 or 1") {
    const fs::path path = dir.write("label.csv", "click,user,ad,I1\n1,u,a,1\n2,u,a,1\n");
    CHECK_THROWS_MATCHES(
        io::read_ctr_csv(path, columns), FormatError,
        message(fmt::format("{}:3:1 (column 'click'): '2', expected 0 or 1", path.string())));
    const fs::path empty = dir.write("empty_label.csv", "user,ad,I1,click\nu,a,1,\n");
    CHECK_THROWS_MATCHES(
        io::read_ctr_csv(empty, columns), FormatError,
        message(fmt::format("{}:2:4 (column 'click'): '', expected 0 or 1", empty.string())));
    // The same check when encoding with a fitted space.
    const fs::path train = dir.write("train.csv", kSmallTrain);
    const auto fitted = io::read_ctr_csv(train, columns);
    CHECK_THROWS_MATCHES(
        io::read_ctr_csv(path, fitted.first, columns), FormatError,
        message(fmt::format("{}:3:1 (column 'click'): '2', expected 0 or 1", path.string())));
  }
  SECTION("a missing column") {
    const fs::path path = dir.write("columns.csv", "click,user,I1\n1,u,1\n");
    CHECK_THROWS_MATCHES(io::read_ctr_csv(path, columns), FormatError,
                         message(fmt::format("{}: no column 'ad' (CtrColumns::categorical); the "
                                             "file's columns: click, user, I1",
                                             path.string())));
    const fs::path no_label = dir.write("no_label.csv", "user,ad,I1\nu,a,1\n");
    CHECK_THROWS_MATCHES(io::read_ctr_csv(no_label, columns), FormatError,
                         message(fmt::format("{}: no column 'click' (CtrColumns::label); the "
                                             "file's columns: user, ad, I1",
                                             no_label.string())));
    const fs::path no_numeric = dir.write("no_numeric.csv", "click,user,ad\n1,u,a\n");
    CHECK_THROWS_MATCHES(io::read_ctr_csv(no_numeric, columns), FormatError,
                         message(fmt::format("{}: no column 'I1' (CtrColumns::numeric); the "
                                             "file's columns: click, user, ad",
                                             no_numeric.string())));
    io::CtrColumns with_hour = columns;
    with_hour.hour_column = "time";
    const fs::path train = dir.write("train.csv", kSmallTrain);
    CHECK_THROWS_MATCHES(io::read_ctr_csv(train, with_hour), FormatError,
                         message(fmt::format("{}: no column 'time' (CtrColumns::hour_column); "
                                             "the file's columns: click, user, ad, I1",
                                             train.string())));
  }
  SECTION("a numeric column with a non-number") {
    const fs::path path = dir.write("numeric.csv", "click,user,ad,I1\n1,u,a,5\n0,u,a,abc\n");
    CHECK_THROWS_MATCHES(
        io::read_ctr_csv(path, columns), FormatError,
        message(fmt::format(
            "{}:3:4 (column 'I1'): 'abc' is not a number, expected a count or an empty field",
            path.string())));
    const fs::path infinite = dir.write("inf.csv", "click,user,ad,I1\n1,u,a,inf\n");
    CHECK_THROWS_MATCHES(
        io::read_ctr_csv(infinite, columns), FormatError,
        message(fmt::format("{}:2:4 (column 'I1'): 'inf', expected a finite number",
                            infinite.string())));
  }
  SECTION("a bad YYMMDDHH time") {
    io::CtrColumns with_hour;
    with_hour.hour_column = "hour";
    const fs::path path = dir.write("hour.csv", "click,hour\n1,14102100\n0,14132100\n");
    CHECK_THROWS_MATCHES(
        io::read_ctr_csv(path, with_hour), FormatError,
        message(fmt::format(
            "{}:3:2 (column 'hour'): '14132100', expected YYMMDDHH (a valid date and hour 00-23)",
            path.string())));
  }
  SECTION("CsvReader's own errors pass through") {
    const fs::path path = dir.write("fields.csv", "click,user,ad,I1\n1,u,a,1\n0,u,a\n");
    CHECK_THROWS_MATCHES(io::read_ctr_csv(path, columns), FormatError,
                         message(fmt::format("{}:3:4: expected 4 fields, found 3", path.string())));
  }
  SECTION("no rows, an empty file, a missing file") {
    const fs::path header_only = dir.write("header.csv", "click,user,ad,I1\n");
    CHECK_THROWS_MATCHES(
        io::read_ctr_csv(header_only, columns), DataError,
        message(fmt::format("{}: no rows, expected at least one row of a click log",
                            header_only.string())));
    io::CtrColumns hashed;
    hashed.categorical = {{.name = "user", .kind = ctr::FieldKind::hashed, .hash_buckets = 4}};
    CHECK_THROWS_MATCHES(
        io::read_ctr_csv(header_only, hashed), DataError,
        message(fmt::format("{}: no rows, expected at least one row of a click log",
                            header_only.string())));
    const fs::path empty = dir.write("empty.csv", "");
    CHECK_THROWS_MATCHES(io::read_ctr_csv(empty, columns), DataError,
                         message(fmt::format("{}: empty file, expected a header and rows of a "
                                             "click log",
                                             empty.string())));
    const fs::path missing = empty.parent_path() / "no_such_file.csv";
    CHECK_THROWS_WITH(io::read_ctr_csv(missing, columns), Contains(missing.string()));
    CHECK_THROWS_AS(io::read_ctr_csv(missing, columns), Error);
  }
}

TEST_CASE("read_ctr_csv rejects inconsistent CtrColumns and spaces", "[ctr_csv]") {
  TempDir dir("invalid");
  const fs::path train = dir.write("train.csv", kSmallTrain);
  const auto message = [](const std::string& text) { return Catch::Matchers::Message(text); };

  io::CtrColumns label_feature = small_columns();
  label_feature.categorical.push_back({.name = "click"});
  CHECK_THROWS_MATCHES(io::read_ctr_csv(train, label_feature), InvalidArgument,
                       message("read_ctr_csv: column 'click' is the label and also in "
                               "CtrColumns::categorical, expected the label apart from the "
                               "features"));
  io::CtrColumns twice = small_columns();
  twice.numeric.push_back("user");
  CHECK_THROWS_MATCHES(io::read_ctr_csv(train, twice), InvalidArgument,
                       message("read_ctr_csv: column 'user' is in CtrColumns::numeric and "
                               "CtrColumns::categorical, expected each column once"));
  io::CtrColumns integer_numeric = small_columns();
  integer_numeric.numeric_kind = ctr::FieldKind::integer;
  CHECK_THROWS_MATCHES(io::read_ctr_csv(train, integer_numeric), InvalidArgument,
                       message("read_ctr_csv: CtrColumns::numeric_kind = integer, expected "
                               "vocabulary or hashed (numeric values become text like \"b47\", "
                               "not ids)"));
  io::CtrColumns no_buckets = small_columns();
  no_buckets.numeric_kind = ctr::FieldKind::hashed;
  CHECK_THROWS_MATCHES(io::read_ctr_csv(train, no_buckets), InvalidArgument,
                       message("read_ctr_csv: CtrColumns::numeric_buckets = 0, expected between "
                               "1 and 2^31 - 1 with numeric_kind = hashed"));
  io::CtrColumns no_fields;
  CHECK_THROWS_MATCHES(io::read_ctr_csv(train, no_fields), InvalidArgument,
                       message("read_ctr_csv: CtrColumns names no feature column, expected at "
                               "least one categorical or numeric column or an hour_column"));
  io::CtrColumns clash;
  clash.hour_column = "time";
  clash.categorical = {{.name = "weekday"}};
  CHECK_THROWS_MATCHES(io::read_ctr_csv(train, clash), InvalidArgument,
                       message("read_ctr_csv: two fields are named 'weekday' (the hour_column's "
                               "fields are 'hour' and 'weekday'), expected distinct names"));
  CHECK_THROWS_AS(io::criteo_columns(-1), InvalidArgument);
  CHECK_THROWS_AS(io::avazu_columns(-1), InvalidArgument);

  // A space fitted for other columns.
  const auto [space, table] = io::read_ctr_csv(train, small_columns());
  io::CtrColumns other = small_columns();
  other.numeric.clear();
  CHECK_THROWS_MATCHES(io::read_ctr_csv(train, space, other), InvalidArgument,
                       message("read_ctr_csv: field 0 of the feature space is 'I1', expected "
                               "'user' (the fields of these CtrColumns: user, ad)"));
}

TEST_CASE("DeepCTR's Criteo sample reads with the Criteo preset", "[realdata]") {
  const fs::path dir = data_dir();
  const fs::path path = dir / "criteo_sample" / "criteo_sample.txt";
  if (dir.empty() || !fs::exists(path)) {
    WARN("TAILOR_DATA_DIR/criteo_sample not found; skipping the Criteo sample checks");
    return;
  }
  // awk -F, 'NR>1{s+=$1;n++}END{print s,n}' criteo_sample.txt  ->  49 200
  auto [space, table] = io::read_ctr_csv(path, io::criteo_columns());
  REQUIRE(table.features.num_rows() == 200);
  CHECK(space.num_fields() == 39);
  CHECK(one_entry_per_field(space, table.features));
  CHECK(table.click.sum() == 49.0f);
  CHECK(table.click.mean() == Approx(0.245));

  // The same file encoded with its fitted space gives the same rows.
  const io::CtrTable again = io::read_ctr_csv(path, space, io::criteo_columns());
  CHECK(again.features.index == table.features.index);

  // The rule on the sample's first rows (min_count 1 keeps every value): row 1 has I1 = "",
  // I2 = 3, I3 = 260.0, I12 = 0.0; row 2 has I2 = -1, I3 = 19.0 (ln(19)² = 8.7).
  io::CtrColumns all_values = io::criteo_columns();
  all_values.numeric_min_count = 1;
  const auto [full_space, full] = io::read_ctr_csv(path, all_values);
  CHECK(value_of(full_space, full.features, 0, 0) == "");
  CHECK(value_of(full_space, full.features, 0, 1) == "b1");
  CHECK(value_of(full_space, full.features, 0, 2) == "b30");
  CHECK(value_of(full_space, full.features, 0, 11) == "0");
  CHECK(value_of(full_space, full.features, 1, 1) == "-1");
  CHECK(value_of(full_space, full.features, 1, 2) == "b8");

  // Hashed categorical fields.
  const auto [hashed_space, hashed] = io::read_ctr_csv(path, io::criteo_columns(1 << 12));
  CHECK(hashed_space.field(13).rows == 4096);
  CHECK(one_entry_per_field(hashed_space, hashed.features));
  ctr::CtrData hashed_data(hashed_space, hashed.features, hashed.click);
  CHECK(hashed_data.fixed_fields());

  ctr::CtrData data(std::move(space), std::move(table.features), std::move(table.click));
  CHECK(data.num_rows() == 200);
  CHECK(data.num_clicks() == 49);
  CHECK(data.fixed_fields());

  // Smoke fit: an FM trains on it and predicts probabilities.
  const ctr::FactorizationMachine fm(
      {.embedding_dim = 4, .training = {.epochs = 2, .batch_size = 32}});
  const auto model = fm.fit(data);
  const Eigen::VectorXf p = model.predict(data);
  REQUIRE(p.size() == 200);
  CHECK(p.allFinite());
  CHECK(p.minCoeff() > 0.0f);
  CHECK(p.maxCoeff() < 1.0f);
}

TEST_CASE("DeepCTR's Avazu sample reads with the Avazu preset", "[realdata]") {
  const fs::path dir = data_dir();
  const fs::path path = dir / "avazu_sample" / "avazu_sample.txt";
  if (dir.empty() || !fs::exists(path)) {
    WARN("TAILOR_DATA_DIR/avazu_sample not found; skipping the Avazu sample checks");
    return;
  }
  // awk -F, 'NR>1{s+=$2;n++}END{print s,n}' avazu_sample.txt  ->  20 100; every hour is
  // 141021xx with xx = 00 (2014-10-21, a Tuesday).
  for (const Index buckets : {Index{0}, Index{1} << 10}) {
    auto [space, table] = io::read_ctr_csv(path, io::avazu_columns(buckets));
    REQUIRE(table.features.num_rows() == 100);
    CHECK(space.num_fields() == 23);
    CHECK(one_entry_per_field(space, table.features));
    CHECK(table.click.sum() == 20.0f);
    CHECK(table.click.mean() == Approx(0.2));
    for (Index i = 0; i < 100; ++i) {
      CHECK(local_id(space, table.features, i, 0) == 0);  // hour 00
      CHECK(local_id(space, table.features, i, 1) == 1);  // Tuesday
    }
    ctr::CtrData data(std::move(space), std::move(table.features), std::move(table.click));
    CHECK(data.fixed_fields());
    CHECK(data.num_clicks() == 20);
  }
}
