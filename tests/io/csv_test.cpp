// Tests for tailor/io/csv.hpp: RFC 4180 parsing, type inference, missing values, every
// documented error with its message, write/read round trips, the streaming CsvReader (with tiny
// buffers so records straddle chunk boundaries), and real files from TAILOR_DATA_DIR.
#include "tailor/io/csv.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "tailor/core/random.hpp"

namespace {

using tailor::io::ColumnType;
using tailor::io::CsvOptions;
using tailor::io::CsvReader;
using tailor::io::CsvRow;
using tailor::io::MissingPolicy;
using tailor::io::read_csv_string;
using tailor::io::Table;

CsvOptions nan_policy() {
  CsvOptions options;
  options.missing = MissingPolicy::nan;
  return options;
}

std::filesystem::path temp_file(const std::string& name, const std::string& contents) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  return path;
}

std::string write_to_string(const Table& table, char separator = ',') {
  std::ostringstream out;
  tailor::io::write_csv(table, out, separator);
  return out.str();
}

bool same_bits(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

}  // namespace

TEST_CASE("csv: header, inferred types and values", "[io]") {
  const Table t = read_csv_string("id,name,price\n1,apple,0.5\n2,pear,1.25\n3,fig,-3e2\n");
  CHECK(t.num_rows() == 3);
  CHECK(t.num_columns() == 3);
  CHECK(t.column_names() == std::vector<std::string>{"id", "name", "price"});
  CHECK(t.has_column("price"));
  CHECK_FALSE(t.has_column("Price"));
  CHECK(t.column_type("id") == ColumnType::numeric);
  CHECK(t.column_type("name") == ColumnType::string);
  CHECK(t.numeric("id") == Eigen::Vector3d(1, 2, 3));
  CHECK(t.numeric("price") == Eigen::Vector3d(0.5, 1.25, -300));
  CHECK(t.strings("name") == std::vector<std::string>{"apple", "pear", "fig"});
  CHECK(t.numeric_column_names() == std::vector<std::string>{"id", "price"});
  const Eigen::MatrixXd m = t.to_matrix({"price", "id"});
  CHECK(m.rows() == 3);
  CHECK(m.cols() == 2);
  CHECK(m(2, 0) == -300);
  CHECK(m(2, 1) == 3);
}

TEST_CASE("csv: RFC 4180 quoting, embedded separators, quotes and line breaks", "[io]") {
  const std::string text =
      "a,b,c\n"
      "\"x, y\",\"say \"\"hi\"\"\",1\n"
      "\"two\nlines\",\"crlf\r\ninside\",2\n"
      "\"\",plain \"quote,3\n";
  const Table t = read_csv_string(text);
  CHECK(t.strings("a") == std::vector<std::string>{"x, y", "two\nlines", ""});
  CHECK(t.strings("b") ==
        std::vector<std::string>{"say \"hi\"", "crlf\r\ninside", "plain \"quote"});
  CHECK(t.numeric("c") == Eigen::Vector3d(1, 2, 3));
  // Quoted numbers are numbers.
  const Table q = read_csv_string("x\n\"1.5\"\n\"-2\"\n");
  CHECK(q.numeric("x") == Eigen::Vector2d(1.5, -2));
}

TEST_CASE("csv: line ends LF, CRLF, lone CR; optional final line end; empty lines", "[io]") {
  const Table lf = read_csv_string("a,b\n1,2\n3,4\n");
  CHECK(read_csv_string("a,b\r\n1,2\r\n3,4\r\n") == lf);
  CHECK(read_csv_string("a,b\r1,2\r3,4") == lf);
  CHECK(read_csv_string("a,b\n1,2\n3,4") == lf);
  CHECK(read_csv_string("\n\na,b\n\n1,2\r\n\r\n3,4\n\n") == lf);
  CHECK(lf.numeric("b") == Eigen::Vector2d(2, 4));
  // A final empty field before the end of input is a field.
  const Table trailing = read_csv_string("a,b\n1,2\n3,", nan_policy());
  CHECK(trailing.num_rows() == 2);
  CHECK(trailing.numeric("b")[0] == 2.0);
  CHECK(std::isnan(trailing.numeric("b")[1]));
}

TEST_CASE("csv: semicolon-separated files (Prop-99 style)", "[io]") {
  CsvOptions options;
  options.separator = ';';
  const Table t = read_csv_string(
      "State;Year;PacksPerCapita;treated\nAlabama;1970;89.80000305;0\n"
      "California;1989;82.40000153;1\n",
      options);
  CHECK(t.strings("State") == std::vector<std::string>{"Alabama", "California"});
  CHECK(t.numeric("Year") == Eigen::Vector2d(1970, 1989));
  CHECK(t.numeric("PacksPerCapita")[0] == 89.80000305);
  CHECK(t.numeric("treated")[1] == 1.0);
  // With ';' as separator a comma is ordinary text.
  const Table commas = read_csv_string("a;b\n1,5;2\n", options);
  CHECK(commas.strings("a") == std::vector<std::string>{"1,5"});
}

TEST_CASE("csv: UTF-8 byte order mark at file start is skipped", "[io]") {
  const Table t = read_csv_string("\xEF\xBB\xBFid,v\n1,2\n");
  CHECK(t.column_names() == std::vector<std::string>{"id", "v"});
  CHECK(t.numeric("id")[0] == 1.0);
  auto reader = CsvReader::from_string("\xEF\xBB\xBFid,v\n1,2\n");
  CHECK(reader.header() == std::vector<std::string>{"id", "v"});
}

TEST_CASE("csv: number syntax", "[io]") {
  const Table t = read_csv_string(
      "x\n+1.5\n 2 \n1e3\n-0\ninf\n-inf\n1e400\n0.1\n123456789012345678\n.5\n7.\n"
      "2.2250738585072014e-308\n-1e-400\n-1e99999\n");
  const Eigen::VectorXd& x = t.numeric("x");
  REQUIRE(x.size() == 14);
  CHECK(x[0] == 1.5);
  CHECK(x[1] == 2.0);
  CHECK(x[2] == 1000.0);
  CHECK(same_bits(x[3], -0.0));
  CHECK(x[4] == std::numeric_limits<double>::infinity());
  CHECK(x[5] == -std::numeric_limits<double>::infinity());
  CHECK(x[6] == std::numeric_limits<double>::infinity());  // overflow reads as inf
  CHECK(same_bits(x[7], 0.1));
  CHECK(x[8] == 123456789012345678.0);
  CHECK(x[9] == 0.5);
  CHECK(x[10] == 7.0);
  CHECK(x[11] == std::numeric_limits<double>::min());
  CHECK(same_bits(x[12], -0.0));  // underflow reads as a signed zero
  CHECK(x[13] == -std::numeric_limits<double>::infinity());
  // Not numbers: the column becomes a string column with the texts verbatim.
  for (const char* text : {"1,5", "0x10", "1e", "--1", "+-1", "1 2", "12abc"}) {
    CsvOptions options;
    options.separator = ';';
    const Table s = read_csv_string(std::string("x\n") + text + "\n", options);
    INFO(text);
    CHECK(s.column_type("x") == ColumnType::string);
    CHECK(s.strings("x")[0] == text);
  }
}

TEST_CASE("csv: decimal fast path agrees bit for bit with strtod", "[io]") {
  // Plain decimals with up to 15 digits take the exact Clinger fast path; longer ones fall back
  // to std::from_chars. Both must equal the correctly rounded strtod result.
  tailor::Rng rng(17);
  std::string text = "x\n";
  std::vector<std::string> literals;
  for (int i = 0; i < 4000; ++i) {
    const int digits = 1 + static_cast<int>(rng.uniform_index(19));
    const int point = static_cast<int>(rng.uniform_index(static_cast<std::uint64_t>(digits + 1)));
    std::string literal = rng.bernoulli(0.5) ? "-" : "";
    for (int d = 0; d < digits; ++d) {
      if (d == point && d > 0) literal.push_back('.');
      literal.push_back(static_cast<char>('0' + rng.uniform_index(10)));
    }
    literals.push_back(literal);
    text += literal + "\n";
  }
  const Table table = read_csv_string(text);
  const Eigen::VectorXd& x = table.numeric("x");
  REQUIRE(x.size() == static_cast<Eigen::Index>(literals.size()));
  for (std::size_t i = 0; i < literals.size(); ++i) {
    INFO(literals[i]);
    REQUIRE(same_bits(x[static_cast<Eigen::Index>(i)], std::strtod(literals[i].c_str(), nullptr)));
  }
}

TEST_CASE("csv: missing values", "[io]") {
  const std::string text = "a,b,c\n1,x,\n,NA,2\nNA,y,nan\n N/A ,z,4\n";
  SECTION("policy nan: blanks, missing_values and NaN spellings read as NaN") {
    const Table t = read_csv_string(text, nan_policy());
    const Eigen::VectorXd& a = t.numeric("a");
    CHECK(a[0] == 1.0);
    CHECK(std::isnan(a[1]));
    CHECK(std::isnan(a[2]));
    CHECK(std::isnan(a[3]));
    const Eigen::VectorXd& c = t.numeric("c");
    CHECK(std::isnan(c[0]));
    CHECK(c[1] == 2.0);
    CHECK(std::isnan(c[2]));
    CHECK(c[3] == 4.0);
    // In a string column the text is kept.
    CHECK(t.strings("b") == std::vector<std::string>{"x", "NA", "y", "z"});
  }
  SECTION("policy error names the first missing value by line, field and column") {
    CHECK_THROWS_AS(read_csv_string(text, {}, "data.csv"), tailor::FormatError);
    CHECK_THROWS_WITH(read_csv_string(text, {}, "data.csv"),
                      "data.csv:2:3 (column 'c'): missing value (empty field); set "
                      "CsvOptions::missing = MissingPolicy::nan to read it as NaN");
    CHECK_THROWS_WITH(read_csv_string("a\n1\nNA\n", {}, "d.csv"),
                      Catch::StartsWith("d.csv:3:1 (column 'a'): missing value 'NA';"));
  }
  SECTION("custom missing_values") {
    CsvOptions options = nan_policy();
    options.missing_values = {"?"};
    const Table t = read_csv_string("a\n1\n?\n", options);
    CHECK(std::isnan(t.numeric("a")[1]));
    const Table s = read_csv_string("a\n1\nNA\n", options);
    CHECK(s.column_type("a") == ColumnType::string);
  }
}

TEST_CASE("csv: type inference and forced column types", "[io]") {
  SECTION("a late non-number turns the column into strings with the original texts") {
    const Table t = read_csv_string("code,v\n1.50,1\n007,2\n,3\nB12,4\n");
    CHECK(t.column_type("code") == ColumnType::string);
    CHECK(t.strings("code") == std::vector<std::string>{"1.50", "007", "", "B12"});
    CHECK(t.numeric("v") == Eigen::Vector4d(1, 2, 3, 4));
  }
  SECTION("a column with no number at all is a string column") {
    const Table t = read_csv_string("a,b\n,1\nNA,2\n");
    CHECK(t.column_type("a") == ColumnType::string);
    CHECK(t.strings("a") == std::vector<std::string>{"", "NA"});
  }
  SECTION("string_columns keeps numeric-looking text verbatim") {
    CsvOptions options;
    options.string_columns = {"zip"};
    const Table t = read_csv_string("zip,n\n02134,1\n90210,2\n", options);
    CHECK(t.strings("zip") == std::vector<std::string>{"02134", "90210"});
  }
  SECTION("numeric_columns forces numbers and reports text as an error") {
    CsvOptions options = nan_policy();
    options.numeric_columns = {"x"};
    const Table t = read_csv_string("x\n\n\"\"\nNA\n", options);
    CHECK(t.column_type("x") == ColumnType::numeric);
    CHECK(t.num_rows() == 2);
    CHECK(std::isnan(t.numeric("x")[0]));
    options.numeric_columns = {"SALES_VALUE"};
    CHECK_THROWS_WITH(read_csv_string("id,SALES_VALUE\n1,2\n2,3\n3,4\n4,5\n5,6\n6,7\n7,8\n8,abc\n",
                                      options, "data.csv"),
                      "data.csv:9:2 (column 'SALES_VALUE'): 'abc' is not a number");
  }
  SECTION("column subset in the requested order") {
    CsvOptions options;
    options.columns = {"c", "a"};
    const Table t = read_csv_string("a,b,c\n1,x,3\n", options);
    CHECK(t.column_names() == std::vector<std::string>{"c", "a"});
    CHECK(t.to_matrix({"c", "a"}) == Eigen::RowVector2d(3, 1));
  }
  SECTION("no header: columns are named column_1 ...") {
    CsvOptions options;
    options.header = false;
    const Table t = read_csv_string("1,a\n2,b\n", options);
    CHECK(t.column_names() == std::vector<std::string>{"column_1", "column_2"});
    CHECK(t.numeric("column_1") == Eigen::Vector2d(1, 2));
  }
  SECTION("an empty header name becomes column_<k>") {
    const Table t = read_csv_string(",x\n0,5\n");
    CHECK(t.column_names() == std::vector<std::string>{"column_1", "x"});
  }
  SECTION("empty input and header-only input") {
    CHECK(read_csv_string("").num_columns() == 0);
    const Table header_only = read_csv_string("a,b\n");
    CHECK(header_only.num_columns() == 2);
    CHECK(header_only.num_rows() == 0);
  }
}

TEST_CASE("csv: format errors carry file:line:field", "[io]") {
  SECTION("too few and too many fields") {
    CHECK_THROWS_AS(read_csv_string("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4\n", {}, "data.csv"),
                    tailor::FormatError);
    CHECK_THROWS_WITH(read_csv_string("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4\n", {}, "data.csv"),
                      "data.csv:3:5: expected 5 fields, found 4");
    CHECK_THROWS_WITH(read_csv_string("a,b\n1,2,3\n", {}, "data.csv"),
                      "data.csv:2:3: expected 2 fields, found 3");
  }
  SECTION("line numbers count line breaks inside quoted fields") {
    CHECK_THROWS_WITH(read_csv_string("a,b\n\"x\ny\nz\",1\n2\n", {}, "q.csv"),
                      "q.csv:5:2: expected 2 fields, found 1");
  }
  SECTION("unterminated quote") {
    CHECK_THROWS_WITH(read_csv_string("a,b\n1,\"open\n2,3\n", {}, "u.csv"),
                      "u.csv:2:2: unterminated quoted field (opened here, never closed)");
  }
  SECTION("text after a closing quote") {
    CHECK_THROWS_WITH(read_csv_string("a,b\n\"x\"y,1\n", {}, "c.csv"),
                      "c.csv:2:1: unexpected character 'y' after a closing quote, expected ',' "
                      "or a line end");
  }
  SECTION("duplicate column names") {
    CHECK_THROWS_WITH(read_csv_string("a,b,a\n1,2,3\n", {}, "h.csv"),
                      "h.csv:1:3: duplicate column name 'a' (also field 1)");
  }
  SECTION("unknown columns in options") {
    CsvOptions options;
    options.columns = {"a", "zz"};
    CHECK_THROWS_WITH(read_csv_string("a,b\n1,2\n", options, "o.csv"),
                      "o.csv: no column 'zz' (named in CsvOptions::columns); columns: a, b");
    CsvOptions forced;
    forced.string_columns = {"B"};
    CHECK_THROWS_AS(read_csv_string("a,b\n1,2\n", forced), tailor::FormatError);
    forced.string_columns = {"a"};
    forced.numeric_columns = {"a"};
    CHECK_THROWS_AS(read_csv_string("a,b\n1,2\n", forced), tailor::InvalidArgument);
  }
  SECTION("invalid options") {
    CsvOptions options;
    options.separator = '"';
    CHECK_THROWS_WITH(read_csv_string("a\n", options),
                      "read_csv: separator and quote are both '\"', expected different characters");
    options.separator = '\n';
    CHECK_THROWS_AS(read_csv_string("a\n", options), tailor::InvalidArgument);
  }
  SECTION("missing file names the path") {
    const auto path = std::filesystem::temp_directory_path() / "tailor_no_such_file.csv";
    CHECK_THROWS_AS(tailor::io::read_csv(path), tailor::Error);
    CHECK_THROWS_WITH(tailor::io::read_csv(path),
                      Catch::StartsWith("cannot open '" + path.string() + "'"));
    CHECK_THROWS_WITH(CsvReader(path), Catch::StartsWith("cannot open '" + path.string() + "'"));
  }
  SECTION("a directory is rejected by path, before any read (it used to ask for 2^63 bytes)") {
    const auto dir = std::filesystem::temp_directory_path();
    CHECK_THROWS_AS(tailor::io::read_csv(dir), tailor::InvalidArgument);
    CHECK_THROWS_WITH(tailor::io::read_csv(dir),
                      "'" + dir.string() + "' is a directory, expected a regular file");
    CHECK_THROWS_WITH(CsvReader(dir), "'" + dir.string() + "' is a directory, expected a CSV file");
  }
}

TEST_CASE("csv: string and empty columns found late are filled by one shared re-scan", "[io]") {
  // Columns turn into string columns at different rows (b at row 2, c at row 4, d never has a
  // number, e is all missing) while a stays numeric; every text must be the field verbatim.
  const std::string text =
      "a,b,c,d,e\n"
      "1,10,7,x,\n"
      "2,11,8,y,\n"
      "3,zz,9,,\n"
      "4,12,NA,w,\n"
      "5,13,q,v,\n";
  const Table table = read_csv_string(text, nan_policy());
  CHECK(table.column_type("a") == ColumnType::numeric);
  CHECK(table.strings("b") == std::vector<std::string>{"10", "11", "zz", "12", "13"});
  CHECK(table.strings("c") == std::vector<std::string>{"7", "8", "9", "NA", "q"});
  CHECK(table.strings("d") == std::vector<std::string>{"x", "y", "", "w", "v"});
  CHECK(table.strings("e") == std::vector<std::string>{"", "", "", "", ""});

  // 10 rows x 4,000 empty columns: one extra pass, not one per column (it took minutes at
  // 40,000 columns); every column is an all-empty string column.
  std::string wide;
  for (int j = 0; j < 4000; ++j) wide += (j == 0 ? "c" : ",c") + std::to_string(j);
  wide += '\n';
  for (int r = 0; r < 10; ++r) {
    wide.append(3999, ',');
    wide.push_back('\n');
  }
  const Table empty = read_csv_string(wide, nan_policy());
  REQUIRE(empty.num_columns() == 4000);
  CHECK(empty.strings("c3999") == std::vector<std::string>(10, ""));
}

TEST_CASE("csv: Table accessors and errors", "[io]") {
  const Table t = read_csv_string("n,s\n1,a\n2,b\n", {}, "t.csv");
  CHECK_THROWS_AS(t.numeric("missing"), tailor::Error);
  CHECK_THROWS_WITH(t.numeric("missing"), "t.csv: no column 'missing' (columns: n, s)");
  CHECK_THROWS_WITH(t.strings("n"), "t.csv: column 'n' is a numeric column, expected string");
  CHECK_THROWS_WITH(t.numeric("s"), "t.csv: column 's' is a string column, expected numeric");
  CHECK_THROWS_WITH(t.to_matrix({"n", "s"}),
                    "t.csv: column 's' is a string column, expected numeric");

  Table built("built");
  built.add_numeric("x", Eigen::Vector3d(1, 2, 3));
  built.add_strings("label", {"a", "b", "c"});
  CHECK(built.num_rows() == 3);
  CHECK(built.num_columns() == 2);
  CHECK_THROWS_WITH(built.add_numeric("y", Eigen::Vector2d(1, 2)),
                    "built: column 'y' has 2 rows, expected 3 (the table's rows)");
  CHECK_THROWS_AS(built.add_numeric("y", Eigen::Vector2d(1, 2)), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(built.add_strings("x", {"1", "2", "3"}), "built: column 'x' already exists");
}

TEST_CASE("csv: write_csv then read_csv reproduces the table", "[io]") {
  Table t("original");
  Eigen::VectorXd values(8);
  values << 0.1 + 0.2, -0.0, 1e-300, 123456789012345678.0, std::numeric_limits<double>::quiet_NaN(),
      std::numeric_limits<double>::infinity(), std::numeric_limits<double>::denorm_min(), 1.0 / 3.0;
  t.add_numeric("value", values);
  t.add_strings("text", {"plain", "with,comma", "with \"quotes\"", "two\nlines", "", " padded ",
                         "NA", "crlf\r\nend"});
  t.add_numeric("index", Eigen::VectorXd::LinSpaced(8, 0, 7));
  t.add_strings("odd name, quoted", {"a", "b", "c", "d", "e", "f", "g", "h"});

  const std::string text = write_to_string(t);
  const Table back = read_csv_string(text, nan_policy());
  CHECK(back == t);
  for (Eigen::Index i = 0; i < values.size(); ++i) {
    if (!std::isnan(values[i])) CHECK(same_bits(back.numeric("value")[i], values[i]));
  }
  // The same through a file and with ';' as separator.
  const auto path = std::filesystem::temp_directory_path() / "tailor_csv_round_trip.csv";
  tailor::io::write_csv(t, path, ';');
  CsvOptions options = nan_policy();
  options.separator = ';';
  CHECK(tailor::io::read_csv(path, options) == t);
  std::filesystem::remove(path);

  SECTION("only fields that need it are quoted") {
    Table small;
    small.add_numeric("x", Eigen::Vector2d(1.5, 2));
    small.add_strings("s", {"a,b", "c"});
    CHECK(write_to_string(small) == "x,s\n1.5,\"a,b\"\n2,c\n");
  }
  SECTION("single column with empty values survives (empty lines are skipped on read)") {
    Table one;
    one.add_strings("s", {"", "x", ""});
    CHECK(read_csv_string(write_to_string(one)) == one);
    Table nan_column;
    nan_column.add_numeric("v", Eigen::Vector3d(1, std::nan(""), 3));
    CHECK(read_csv_string(write_to_string(nan_column), nan_policy()) == nan_column);
  }
  SECTION("numeric-looking strings need string_columns to come back as strings") {
    Table codes;
    codes.add_strings("zip", {"02134", "1"});
    CsvOptions forced;
    forced.string_columns = {"zip"};
    CHECK(read_csv_string(write_to_string(codes), forced) == codes);
    CHECK_FALSE(read_csv_string(write_to_string(codes)) == codes);
  }
}

TEST_CASE("csv: streaming CsvReader", "[io]") {
  const std::string text =
      "id,SALES_VALUE,note\n"
      "1,2.5,\"a, \"\"quoted\"\" note\"\n"
      "2,,plain\r\n"
      "3,abc,\"multi\nline\"\n"
      "4,NA,x\n";
  CsvOptions options;
  auto reader = CsvReader::from_string(text, options, "data.csv");
  CHECK(reader.header() == std::vector<std::string>{"id", "SALES_VALUE", "note"});
  CHECK(reader.num_columns() == 3);
  const std::size_t sales = reader.column_index("SALES_VALUE");
  CHECK(sales == 1);
  CHECK_THROWS_WITH(reader.column_index("qty"),
                    "data.csv: no column 'qty' (named in CsvOptions::header); columns: id, "
                    "SALES_VALUE, note");
  CsvRow row;
  REQUIRE(reader.next_row(row));
  CHECK(row.size() == 3);
  CHECK(row.line() == 2);
  CHECK(row.number(0) == 1.0);
  CHECK(row.number(sales) == 2.5);
  CHECK(row.text(2) == "a, \"quoted\" note");
  CHECK_THROWS_WITH(row.text(3), "data.csv:2: field index 3 out of range, the row has 3 fields");
  REQUIRE(reader.next_row(row));
  CHECK(row.line() == 3);
  CHECK(row.is_missing(sales));
  CHECK_THROWS_WITH(row.number(sales),
                    "data.csv:3:2 (column 'SALES_VALUE'): missing value (empty field); set "
                    "CsvOptions::missing = MissingPolicy::nan to read it as NaN");
  REQUIRE(reader.next_row(row));
  CHECK(row.line() == 4);
  CHECK(row.text(2) == "multi\nline");
  CHECK_THROWS_AS(row.number(sales), tailor::FormatError);
  CHECK_THROWS_WITH(row.number(sales),
                    "data.csv:4:2 (column 'SALES_VALUE'): 'abc' is not a number");
  REQUIRE(reader.next_row(row));
  CHECK(row.line() == 6);
  CHECK(row.text(sales) == "NA");
  CHECK_FALSE(reader.next_row(row));
  CHECK_FALSE(reader.next_row(row));
  CHECK(reader.rows_read() == 4);

  SECTION("policy nan gives NaN for missing values") {
    auto lenient = CsvReader::from_string(text, nan_policy(), "data.csv");
    CsvRow r;
    lenient.next_row(r);
    lenient.next_row(r);
    CHECK(std::isnan(r.number(1)));
  }
  SECTION("field count errors") {
    auto bad = CsvReader::from_string("a,b\n1,2\n3\n", {}, "s.csv");
    CsvRow r;
    CHECK(bad.next_row(r));
    CHECK_THROWS_WITH(bad.next_row(r), "s.csv:3:2: expected 2 fields, found 1");
  }
  SECTION("no header: the first record is a row") {
    CsvOptions no_header;
    no_header.header = false;
    auto plain = CsvReader::from_string("5,6\n7,8\n", no_header);
    CHECK(plain.header() == std::vector<std::string>{"column_1", "column_2"});
    CsvRow r;
    REQUIRE(plain.next_row(r));
    CHECK(r.line() == 1);
    CHECK(r.number(1) == 6.0);
    REQUIRE(plain.next_row(r));
    CHECK(r.number(0) == 7.0);
    CHECK_FALSE(plain.next_row(r));
  }
}

TEST_CASE("csv: CsvReader with tiny buffers agrees with read_csv on random tables", "[io]") {
  // Random tables with every awkward kind of field, written with CRLF/LF mixes by write_csv
  // and then read back in chunks as small as 64 bytes: records, quoted line breaks and CRLF
  // pairs straddle the chunk boundaries, and records longer than the buffer force it to grow.
  tailor::Rng rng(2024);
  const std::vector<std::string> pieces = {"a", ",", "\"", "\n", "\r\n", " ", "xyz", "1.5", ";"};
  for (int trial = 0; trial < 6; ++trial) {
    const std::size_t rows = 50 + rng.uniform_index(100);
    Table t("random");
    Eigen::VectorXd numbers(static_cast<Eigen::Index>(rows));
    std::vector<std::string> texts(rows);
    for (std::size_t i = 0; i < rows; ++i) {
      numbers[static_cast<Eigen::Index>(i)] = rng.normal() * std::pow(10.0, rng.uniform(-5, 5));
      const std::size_t length = rng.uniform_index(trial == 5 ? 40 : 6);
      for (std::size_t k = 0; k < length; ++k) texts[i] += pieces[rng.uniform_index(pieces.size())];
      texts[i] += "s";  // never numeric-looking
    }
    t.add_numeric("number", numbers);
    t.add_strings("text", texts);
    const char separator = trial % 2 == 0 ? ',' : ';';
    const std::string text = write_to_string(t, separator);
    // Appended piecewise: GCC 12 misreports `"literal" + std::string&&` (-Warray-bounds, GCC
    // bug 105651) once the surrounding code inlines differently.
    std::string name = "tailor_csv_stream_";
    name += std::to_string(trial);
    name += ".csv";
    std::string content = "\xEF\xBB\xBF";
    content += text;
    const auto path = temp_file(name, content);
    CsvOptions options;
    options.separator = separator;
    CHECK(tailor::io::read_csv(path, options) == t);

    CsvReader reader(path, options, 64);
    CHECK(reader.header() == std::vector<std::string>{"number", "text"});
    CsvRow row;
    std::size_t i = 0;
    while (reader.next_row(row)) {
      REQUIRE(i < rows);
      CHECK(same_bits(row.number(0), numbers[static_cast<Eigen::Index>(i)]));
      CHECK(row.text(1) == texts[i]);
      ++i;
    }
    CHECK(i == rows);
    std::filesystem::remove(path);
  }
}

TEST_CASE("csv: real data files", "[io][realdata]") {
  const char* dir = std::getenv("TAILOR_DATA_DIR");
  if (dir == nullptr || !std::filesystem::is_directory(dir)) {
    WARN("TAILOR_DATA_DIR not set or not a directory; skipping real-data CSV checks");
    return;
  }
  const std::filesystem::path root(dir);
  const auto prop99 = root / "prop99" / "california_prop99.csv";
  const auto hillstrom = root / "hillstrom" / "hillstrom.csv";
  if (!std::filesystem::exists(prop99) || !std::filesystem::exists(hillstrom)) {
    WARN("prop99/hillstrom files absent under " << root << "; skipping");
    return;
  }
  SECTION("prop99: 1,209 rows x 4, 39 states x 31 years, 12 treated rows (README §10)") {
    CsvOptions options;
    options.separator = ';';
    const Table t = tailor::io::read_csv(prop99, options);
    CHECK(t.num_rows() == 1209);
    CHECK(t.column_names() ==
          std::vector<std::string>{"State", "Year", "PacksPerCapita", "treated"});
    CHECK(t.column_type("State") == ColumnType::string);
    CHECK(t.numeric("treated").sum() == 12.0);
    CHECK(t.numeric("Year").minCoeff() == 1970.0);
    CHECK(t.numeric("Year").maxCoeff() == 2000.0);
    std::vector<std::string> states = t.strings("State");
    std::sort(states.begin(), states.end());
    CHECK(std::unique(states.begin(), states.end()) - states.begin() == 39);
  }
  SECTION("hillstrom: 64,000 x 12, CRLF, no final newline; published means (README §4)") {
    const Table t = tailor::io::read_csv(hillstrom);
    CHECK(t.num_rows() == 64000);
    CHECK(t.num_columns() == 12);
    CHECK(t.column_type("segment") == ColumnType::string);
    CHECK(t.column_type("history_segment") == ColumnType::string);
    CHECK(t.numeric("visit").mean() == Approx(0.14678).margin(5e-6));
    CHECK(t.numeric("conversion").mean() == Approx(0.00903).margin(5e-6));
    CHECK(t.numeric("spend").mean() == Approx(1.05091).margin(5e-6));
    const auto& segment = t.strings("segment");
    CHECK(std::count(segment.begin(), segment.end(), "Mens E-Mail") == 21307);
    CHECK(std::count(segment.begin(), segment.end(), "No E-Mail") == 21306);
    // The streaming reader sees the same rows.
    CsvReader reader(hillstrom);
    const std::size_t spend = reader.column_index("spend");
    CsvRow row;
    double total = 0.0;
    while (reader.next_row(row)) total += row.number(spend);
    CHECK(reader.rows_read() == 64000);
    CHECK(total == Approx(t.numeric("spend").sum()).epsilon(1e-12));
  }
}
