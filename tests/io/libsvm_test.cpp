// Tests for io/libsvm.hpp: exact parsing of small featindex / libFM / libSVM files written to a
// temporary directory, the "other" OOV rule, non-contiguous field indices, values != 1, every
// documented error with its file:line message, and the iPinYou FM sample ([realdata], skipped
// without TAILOR_DATA_DIR).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "tailor/ctr/sparse_features.hpp"
#include "tailor/io/libsvm.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace tailor;

namespace {

using tailor::test::TempDir;

/// "name:line: " as the readers print it.
std::string at(const fs::path& path, int line) {
  return fmt::format("{}:{}: ", path.string(), line);
}

std::vector<std::uint32_t> row_indices(const ctr::SparseFeatures& x, Index i) {
  const auto b = static_cast<std::size_t>(x.row_ptr[static_cast<std::size_t>(i)]);
  const auto e = static_cast<std::size_t>(x.row_ptr[static_cast<std::size_t>(i) + 1]);
  return {x.index.begin() + static_cast<std::ptrdiff_t>(b),
          x.index.begin() + static_cast<std::ptrdiff_t>(e)};
}

std::vector<std::uint16_t> row_fields(const ctr::SparseFeatures& x, Index i) {
  const auto b = static_cast<std::size_t>(x.row_ptr[static_cast<std::size_t>(i)]);
  const auto e = static_cast<std::size_t>(x.row_ptr[static_cast<std::size_t>(i) + 1]);
  return {x.field.begin() + static_cast<std::ptrdiff_t>(b),
          x.field.begin() + static_cast<std::ptrdiff_t>(e)};
}

// Three fields in make-ipinyou-data's layout: weekday (with "other" at index 0), hour (no
// "other"), domain (a value containing ':').
const char* const kFeatindex =
    "weekday:other\t0\n"
    "weekday:2\t1\n"
    "weekday:3\t2\n"
    "hour:07\t3\n"
    "hour:12\t4\n"
    "domain:other\t5\n"
    "domain:http://a.com\t6\n";

}  // namespace

TEST_CASE("read_featindex: fields, values, OOV rows and table rows", "[io][libsvm]") {
  TempDir dir("featindex");
  const auto index = io::read_featindex(dir.write("featindex.txt", kFeatindex));
  const ctr::FeatureSpace& space = index.space;
  REQUIRE(space.num_fields() == 3);
  CHECK(space.field(0).name == "weekday");
  CHECK(space.field(1).name == "hour");
  CHECK(space.field(2).name == "domain");
  for (Index f = 0; f < 3; ++f) CHECK(space.field(f).kind == ctr::FieldKind::vocabulary);

  // "other" present: it is the OOV row, no extra row.
  CHECK(space.field(0).values == std::vector<std::string>{"other", "2", "3"});
  CHECK(space.field(0).oov == 0);
  CHECK(space.field(0).rows == 3);
  // No "other": an extra "<oov>" row, last.
  CHECK(space.field(1).values == std::vector<std::string>{"07", "12", "<oov>"});
  CHECK(space.field(1).oov == 2);
  CHECK(space.field(1).rows == 3);
  // The value is everything after the FIRST ':'.
  CHECK(space.field(2).values == std::vector<std::string>{"other", "http://a.com"});
  CHECK(space.field(2).oov == 0);
  CHECK(space.num_rows() == 8);

  CHECK(index.table_row == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 6, 7});
  // The space encodes raw strings to the rows the file's indices map to.
  CHECK(space.encode(0, "3") == index.table_row[2]);
  CHECK(space.encode(0, "7") == 0);  // unseen weekday -> "other"
  CHECK(space.encode(1, "12") == index.table_row[4]);
  CHECK(space.encode(1, "23") == 5);  // unseen hour -> "<oov>"
  CHECK(space.encode(2, "http://a.com") == index.table_row[6]);
}

TEST_CASE("read_featindex: non-contiguous field indices, any line order, CRLF", "[io][libsvm]") {
  TempDir dir("noncontiguous");
  // Fields interleave in index space and lines are not in index order.
  const auto path = dir.write("featindex.txt",
                              "b:y\t4\r\n"
                              "a:p\t0\r\n"
                              "b:x\t1\r\n"
                              "\r\n"
                              "a:other\t3\r\n"
                              "a:q\t2\r\n");
  const auto index = io::read_featindex(path);
  const ctr::FeatureSpace& space = index.space;
  REQUIRE(space.num_fields() == 2);
  CHECK(space.field(0).name == "b");  // first appearance in the file
  CHECK(space.field(1).name == "a");
  // b: indices 1 (x), 4 (y) in increasing index order, then "<oov>".
  CHECK(space.field(0).values == std::vector<std::string>{"x", "y", "<oov>"});
  CHECK(space.field(0).oov == 2);
  // a: indices 0 (p), 2 (q), 3 (other); "other" is the OOV row.
  CHECK(space.field(1).values == std::vector<std::string>{"p", "q", "other"});
  CHECK(space.field(1).oov == 2);
  CHECK(space.offset(1) == 3);
  CHECK(index.table_row == std::vector<std::uint32_t>{3, 0, 4, 5, 1});

  // Rows mapped through it come out sorted by field, then table row.
  const auto data = io::read_libfm(dir.write("rows.txt",
                                             "1 0:1 4:1\n"
                                             "0 3:1 1:1\n"),
                                   index);
  REQUIRE(data.features.num_rows() == 2);
  CHECK(row_indices(data.features, 0) == std::vector<std::uint32_t>{1, 3});
  CHECK(row_fields(data.features, 0) == std::vector<std::uint16_t>{0, 1});
  CHECK(row_indices(data.features, 1) == std::vector<std::uint32_t>{0, 5});
  const ctr::CtrData ctr_data(space, data.features, data.click);
  CHECK(ctr_data.fixed_fields());
}

TEST_CASE("read_featindex: errors name file:line and the reason", "[io][libsvm]") {
  TempDir dir("featindex_errors");
  const auto check = [&](const std::string& text, int line, const std::string& reason) {
    const auto path = dir.write("bad.txt", text);
    INFO(text);
    REQUIRE_THROWS_AS(io::read_featindex(path), FormatError);
    REQUIRE_THROWS_WITH(io::read_featindex(path),
                        Catch::Contains(at(path, line)) && Catch::Contains(reason));
  };
  check("a:x\t0\na:y 1\n", 2, "no tab in 'a:y 1', expected field:value<TAB>index");
  check("a:x\t0\nay\t1\n", 2, "no ':' in 'ay', expected field:value<TAB>index");
  check("a:x\t0\n:y\t1\n", 2, "empty field name in ':y'");
  check("a:x\t0\na:y\tone\n", 2, "index 'one' of 'a:y', expected a non-negative integer");
  check("a:x\t0\na:y\t-1\n", 2, "index '-1' of 'a:y', expected a non-negative integer");
  check("a:x\t0\na:y\t1.0\n", 2, "index '1.0' of 'a:y'");
  check("a:x\t0\na:y\t\n", 2, "index '' of 'a:y'");
  check("a:x\t0\na:y\t3000000000\n", 2, "index 3000000000 of 'a:y', expected an index below 2^31");
  check("a:x\t0\na:y\t1\nb:z\t0\n", 3,
        "index 0 is listed twice (also on line 1), expected each index once");
  check("a:x\t0\na:y\t1\na:x\t2\n", 3,
        "feature 'a:x' is listed twice (also on line 1), expected each feature once");

  // A gap has no line of its own: the message names the missing index and the largest.
  const auto gap = dir.write("gap.txt", "a:x\t0\na:y\t1\nb:z\t3\n");
  REQUIRE_THROWS_AS(io::read_featindex(gap), FormatError);
  REQUIRE_THROWS_WITH(io::read_featindex(gap),
                      Catch::Contains(gap.string() + ": index 2 is never listed, expected every "
                                                     "index from 0 to 3 (the largest, on line 3)"));
  const auto far = dir.write("far.txt", "a:x\t0\na:y\t100\n");
  REQUIRE_THROWS_WITH(io::read_featindex(far), Catch::Contains("index 1 is never listed"));

  const auto empty = dir.write("empty.txt", "\n\n");
  REQUIRE_THROWS_AS(io::read_featindex(empty), DataError);
  REQUIRE_THROWS_WITH(io::read_featindex(empty), Catch::Contains(empty.string() + ": no entries"));
  const auto missing = dir.path() / "no_such_file.txt";
  REQUIRE_THROWS_AS(io::read_featindex(missing), Error);
  REQUIRE_THROWS_WITH(io::read_featindex(missing),
                      Catch::Contains("cannot open '" + missing.string() + "'"));
}

TEST_CASE("read_libfm: labels, entries, values and blank lines", "[io][libsvm]") {
  TempDir dir("libfm");
  const auto index = io::read_featindex(dir.write("featindex.txt", kFeatindex));

  SECTION("one-hot rows keep no values; entries sorted by field") {
    const auto path = dir.write("train.txt",
                                "0 1:1 3:1 6:1\n"
                                "1 5:1 4:1 0:1\r\n"
                                "\n"
                                "0\t2:1  3:1\t5:1  \n"
                                "\n\n");
    const auto data = io::read_libfm(path, index);
    REQUIRE(data.features.num_rows() == 3);
    CHECK_FALSE(data.features.has_values());
    CHECK(data.click.size() == 3);
    CHECK(data.click[0] == 0.0f);
    CHECK(data.click[1] == 1.0f);
    CHECK(data.click[2] == 0.0f);
    CHECK(row_indices(data.features, 0) == std::vector<std::uint32_t>{1, 3, 7});
    CHECK(row_indices(data.features, 1) == std::vector<std::uint32_t>{0, 4, 6});
    CHECK(row_fields(data.features, 1) == std::vector<std::uint16_t>{0, 1, 2});
    CHECK(row_indices(data.features, 2) == std::vector<std::uint32_t>{2, 3, 6});
    const ctr::CtrData ctr_data(index.space, data.features, data.click);
    CHECK(ctr_data.fixed_fields());
    CHECK(ctr_data.num_clicks() == 1);
  }

  SECTION("a value != 1 in the very first entry is kept") {
    const auto data = io::read_libfm(dir.write("first.txt", "1 1:0.25 3:1\n0 2:1\n"), index);
    CHECK(data.features.value == std::vector<float>{0.25f, 1.0f, 1.0f});
  }

  SECTION("values other than 1 are stored, the rest filled with 1") {
    const auto path = dir.write("values.txt",
                                "1 1:1 3:1\n"
                                "0 6:0.5 0:2e-1 3:-3\n"
                                "0 2:1.000\n"
                                "1\n");  // a label without entries: an empty row
    const auto data = io::read_libfm(path, index);
    REQUIRE(data.features.num_rows() == 4);
    REQUIRE(data.features.has_values());
    CHECK(data.features.value == std::vector<float>{1.0f, 1.0f, 0.2f, -3.0f, 0.5f, 1.0f});
    CHECK(data.features.index == std::vector<std::uint32_t>{1, 3, 0, 3, 7, 2});
    CHECK(data.features.row_ptr == std::vector<std::int64_t>{0, 2, 5, 6, 6});
    const ctr::CtrData ctr_data(index.space, data.features, data.click);
    CHECK_FALSE(ctr_data.fixed_fields());
  }
}

TEST_CASE("read_libfm: errors name file:line and the reason", "[io][libsvm]") {
  TempDir dir("libfm_errors");
  const auto index = io::read_featindex(dir.write("featindex.txt", kFeatindex));
  const auto check = [&](const std::string& text, int line, const std::string& reason) {
    const auto path = dir.write("bad.txt", text);
    INFO(text);
    REQUIRE_THROWS_AS(io::read_libfm(path, index), FormatError);
    REQUIRE_THROWS_WITH(io::read_libfm(path, index),
                        Catch::Contains(at(path, line)) && Catch::Contains(reason));
  };
  const std::string good = "0 1:1 3:1\n";
  check(good + "2 1:1\n", 2, "label '2', expected 0 or 1");
  check(good + "-1 1:1\n", 2, "label '-1', expected 0 or 1");
  check(good + "+1 1:1\n", 2, "label '+1', expected 0 or 1");
  check(good + "1.0 1:1\n", 2, "label '1.0', expected 0 or 1");
  check(good + "1:1 3:1\n", 2, "label '1:1', expected 0 or 1");
  check(good + "\n1 7:1\n", 3, "index 7 is not in the feature index (indices 0 to 6)");
  check(good + "1 3\n", 2, "'3' is not index:value, expected a non-negative integer index");
  check(good + "1 x:1\n", 2, "'x:1' is not index:value, expected a non-negative integer index");
  check(good + "1 -3:1\n", 2, "'-3:1' is not index:value");
  check(good + "1 :1\n", 2, "':1' is not index:value");
  check(good + "1 3:\n", 2, "'3:' is not index:value, expected a number after ':'");
  check(good + "1 3:abc\n", 2, "'3:abc' is not index:value, expected a number after ':'");
  check(good + "1 3:1x\n", 2, "'3:1x' is not index:value, expected a number after ':'");
  check(good + "1 3:nan\n", 2, "index 3 has value 'nan', expected a finite number");
  check(good + "1 3:inf\n", 2, "index 3 has value 'inf', expected a finite number");
  check(good + "1 3:1e999\n", 2, "index 3 has value '1e999', expected a finite number");
  check(good + "1 3:1 4:1\n", 2,
        "field 'hour' appears twice (indices 3 and 4), expected at most once per row");
  check(good + "1 3:1 3:1\n", 2, "field 'hour' appears twice (indices 3 and 3)");

  const auto empty = dir.write("empty.txt", "\n  \n");
  REQUIRE_THROWS_AS(io::read_libfm(empty, index), DataError);
  REQUIRE_THROWS_WITH(io::read_libfm(empty, index),
                      Catch::Contains(empty.string() + ": no rows, expected at least one"));
  REQUIRE_THROWS_AS(io::read_libfm(dir.path() / "no_such_file.txt", index), Error);
  REQUIRE_THROWS_AS(io::read_libfm(dir.write("ok.txt", good), io::LibfmIndex{}), InvalidArgument);
}

TEST_CASE("read_libsvm: one multi-valued integer field", "[io][libsvm]") {
  TempDir dir("libsvm");
  const auto path = dir.write("a.svm",
                              "1 3:1 1:0.5 10:2\n"
                              "0\n"
                              "0 7:1\n");
  const auto data = io::read_libsvm(path);
  REQUIRE(data.space.num_fields() == 1);
  const ctr::Field& field = data.space.field(0);
  CHECK(field.name == "features");
  CHECK(field.kind == ctr::FieldKind::integer);
  CHECK(field.multi_valued);
  CHECK(field.rows == 12);  // indices 0..10 plus the OOV row
  CHECK(field.oov == 11);
  CHECK(data.features.row_ptr == std::vector<std::int64_t>{0, 3, 3, 4});
  CHECK(data.features.index == std::vector<std::uint32_t>{1, 3, 10, 7});
  CHECK(data.features.field == std::vector<std::uint16_t>{0, 0, 0, 0});
  CHECK(data.features.value == std::vector<float>{0.5f, 1.0f, 2.0f, 1.0f});
  CHECK(data.click.size() == 3);
  CHECK(data.click[0] == 1.0f);
  const ctr::CtrData ctr_data(data.space, data.features, data.click);
  CHECK_FALSE(ctr_data.fixed_fields());
  CHECK(ctr_data.num_clicks() == 1);

  // The same line parser as read_libfm: the same messages.
  const auto bad_label = dir.write("bad_label.svm", "1 1:1\n-1 2:1\n");
  REQUIRE_THROWS_WITH(io::read_libsvm(bad_label),
                      Catch::Contains(at(bad_label, 2) + "label '-1', expected 0 or 1"));
  const auto repeated = dir.write("repeated.svm", "1 4:1 2:1 4:0.5\n");
  REQUIRE_THROWS_AS(io::read_libsvm(repeated), FormatError);
  REQUIRE_THROWS_WITH(
      io::read_libsvm(repeated),
      Catch::Contains(at(repeated, 1) + "index 4 appears twice, expected at most once per row"));
  const auto huge = dir.write("huge.svm", "1 4294967296:1\n");
  REQUIRE_THROWS_WITH(io::read_libsvm(huge),
                      Catch::Contains(at(huge, 1) + "index 4294967296, expected an index of at "
                                                    "most 2147483646"));
  const auto bad_value = dir.write("bad_value.svm", "0 1:1\n1 2:0x1\n");
  REQUIRE_THROWS_WITH(io::read_libsvm(bad_value),
                      Catch::Contains(at(bad_value, 2) + "'2:0x1' is not index:value"));
  const auto empty = dir.write("empty.svm", "");
  REQUIRE_THROWS_AS(io::read_libsvm(empty), DataError);
}

TEST_CASE("ipinyou FM sample: featindex, train and test", "[io][libsvm][realdata]") {
  const char* root = std::getenv("TAILOR_DATA_DIR");
  const fs::path dir = root != nullptr ? fs::path(root) / "ipinyou_fm_sample" : fs::path();
  if (root == nullptr || !fs::exists(dir / "featindex.fm.txt")) {
    WARN("TAILOR_DATA_DIR/ipinyou_fm_sample not found; skipping the iPinYou FM checks");
    return;
  }
  const io::LibfmIndex index = io::read_featindex(dir / "featindex.fm.txt");
  // Figures of the sample from shared/data/README.md (field order as in the file).
  CHECK(index.table_row.size() == 133'465);
  const std::vector<std::string> names = {"weekday",    "hour",      "useragent",  "IP",
                                          "region",     "city",      "adexchange", "domain",
                                          "slotid",     "slotwidth", "slotheight", "slotvisibility",
                                          "slotformat", "creative",  "advertiser", "slotprice"};
  REQUIRE(index.space.num_fields() == 16);
  for (Index f = 0; f < 16; ++f) {
    CHECK(index.space.field(f).name == names[static_cast<std::size_t>(f)]);
    // make-ipinyou-data gives every field a "col:other" entry: no extra OOV rows.
    CHECK(index.space.field(f).values[static_cast<std::size_t>(index.space.field(f).oov)] ==
          "other");
  }
  CHECK(index.space.field(3).rows == 131'235);
  CHECK(index.space.num_rows() == 133'465);
  // Each field owns a contiguous range of file indices here, so table rows equal file indices.
  for (std::size_t k = 0; k < index.table_row.size(); ++k) {
    if (index.table_row[k] != k) FAIL("table_row[" << k << "] = " << index.table_row[k]);
  }

  const auto check_split = [&](const char* file, Index rows, Index clicks) {
    const auto start = std::chrono::steady_clock::now();
    io::LibfmData data = io::read_libfm(dir / file, index);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    INFO(file << " loaded in " << ms << " ms");
    CHECK(data.features.num_rows() == rows);
    CHECK(data.features.nnz() == 16 * rows);
    CHECK_FALSE(data.features.has_values());
    const ctr::CtrData ctr_data(index.space, std::move(data.features), std::move(data.click));
    CHECK(ctr_data.num_rows() == rows);
    CHECK(ctr_data.num_clicks() == clicks);
    CHECK(ctr_data.fixed_fields());  // 16 entries per row, one per field, in field order
  };
  check_split("train.fm.txt", 26'773, 255);
  check_split("test.fm.txt", 21'150, 50);

  // The same file as plain libSVM: one multi-valued field over all indices seen.
  const io::LibsvmData plain = io::read_libsvm(dir / "train.fm.txt");
  CHECK(plain.features.num_rows() == 26'773);
  CHECK(plain.space.num_fields() == 1);
  CHECK(plain.space.field(0).oov + 1 == plain.space.field(0).rows);
  CHECK(plain.space.field(0).oov <= 133'465);
  CHECK(plain.click.sum() == 255.0f);
}
