// Tests of io/rlb_dp.hpp: rlb-dp auction lines and info.json, malformed input named by file and
// line, and the real campaign files.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tailor/io/rlb_dp.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace tailor;

TEST_CASE("read_auction_log parses click, price and pCTR lines", "[io][rlb_dp]") {
  const test::TempDir dir("rlb_dp");
  const auto path =
      dir.write("ok.theta.txt", "0 70 0.0021143609192222357\r\n\n1\t6  1e-3\n0 0 0\n");
  const auto log = io::read_auction_log(path);
  REQUIRE(log.size() == 3);
  CHECK(log.click()[1] == 1);
  CHECK(log.price()[0] == 70);
  CHECK(log.pctr()[0] == 0.0021143609192222357);  // correctly rounded, as Python's float()
  CHECK(log.pctr()[1] == 0.001);

  const auto expect_error = [&](const std::string& text, const std::string& message) {
    const auto bad = dir.write("bad.theta.txt", text);
    REQUIRE_THROWS_WITH(io::read_auction_log(bad), Catch::Contains(message));
  };
  expect_error("0 5 0.1\n0 -3 0.1\n",
               "bad.theta.txt:2: market price '-3', expected a non-negative");
  expect_error("2 5 0.1\n", ":1: click '2', expected 0 or 1");
  expect_error("0 5 1.5\n", ":1: pCTR '1.5', expected a number in [0, 1]");
  expect_error("0 5 nan\n", ":1: pCTR 'nan'");
  expect_error("0 5\n", ":1: 2 fields, expected 3");
  expect_error("0 5 0.1 7\n", ":1: more than 3 fields");
  expect_error("0 5.5 0.1\n", "market price '5.5'");
  const auto empty = dir.write("empty.theta.txt", "\n\n");
  REQUIRE_THROWS_AS(io::read_auction_log(empty), DataError);
  REQUIRE_THROWS_AS(io::read_auction_log(dir.path() / "missing.txt"), Error);
}

TEST_CASE("read_campaign_info reads rlb-dp's info.json strictly", "[io][rlb_dp]") {
  const test::TempDir dir("rlb_dp_info");
  const auto path = dir.write("info.json",
                              "{\"clk_train\": 3, \"field\": 60, \"name\": \"a\\\"b\", \"nested\": "
                              "{\"x\": [1.5, true, null]},\n \"price_counter_train\": [0, 2, 5],"
                              " \"imp_train\": 7, \"cost_train\": 12, \"imp_test\": 4}");
  const auto info = io::read_campaign_info(path);
  CHECK(info.clk_train == 3);
  CHECK(info.imp_train == 7);
  CHECK(info.cost_train == 12);
  CHECK(info.imp_test == 4);
  CHECK(info.clk_test == 0);
  CHECK(info.price_counter_train == std::vector<std::int64_t>{0, 2, 5});
  CHECK(info.ctr_train() == 3.0 / 7.0);

  const auto expect_error = [&](const std::string& text, const std::string& message) {
    const auto bad = dir.write("bad.json", text);
    REQUIRE_THROWS_WITH(io::read_campaign_info(bad), Catch::Contains(message));
  };
  const std::string counts = "\"price_counter_train\": [1, 2]";
  expect_error("{\"imp_train\": 5, \"cost_train\": 1, " + counts + "}", "missing key 'clk_train'");
  expect_error("{\"imp_train\": 5, \"clk_train\": 1.5, \"cost_train\": 1, " + counts + "}",
               "'clk_train' is not a non-negative integer");
  expect_error("{\"imp_train\": 5, \"clk_train\": 9, \"cost_train\": 1, " + counts + "}",
               "clk_train = 9, expected between 0 and imp_train = 5");
  expect_error(
      "{\"imp_train\": 5, \"clk_train\": 1, \"cost_train\": 1, "
      "\"price_counter_train\": [1, \"x\"]}",
      "'price_counter_train' is not a non-empty array of integers");
  expect_error("{\"imp_train\": 5,\n \"clk_train\" 1}", "bad.json:2: '1', expected ':'");
  expect_error("{\"imp_train\": 5", "end of file, expected '}'");
  expect_error("{\"imp_train\": 5} x", "unexpected text after the top-level object");
  expect_error(std::string(100, '['), "expected '{'");
  expect_error("{\"a\": " + std::string(100, '[') + std::string(100, ']') + "}",
               "nesting deeper than 64 levels");
  // Found by tests/fuzz/parser_files_test.cpp: a duplicate key used to be read as its first copy
  // (Python's json, rlb-dp's reader, takes the last), counts summing beyond int64 loaded (and
  // overflowed BidLandscape's total), and non-JSON numbers and \u escapes passed.
  expect_error(
      "{\"imp_train\": 5, \"clk_train\": 1, \"cost_train\": 1, " + counts + ",\n\"imp_train\": 50}",
      "bad.json:2: duplicate key 'imp_train', expected each key once");
  expect_error(
      "{\"imp_train\": 5, \"clk_train\": 1, \"cost_train\": 1, "
      "\"price_counter_train\": [9223372036854775807, 1]}",
      "bad.json: 'price_counter_train' holds 1, expected counts >= 0 whose total fits");
  expect_error("{\"imp_train\": 05, \"clk_train\": 1, \"cost_train\": 1, " + counts + "}",
               "invalid number '05'");
  expect_error("{\"a\": 1., \"imp_train\": 5}", "invalid number '1.'");
  expect_error("{\"a\": -, \"imp_train\": 5}", "invalid number '-'");
  expect_error("{\"a\": 1e+, \"imp_train\": 5}", "invalid number '1e+'");
  expect_error("{\"a\": \"\\uZZZZ\", \"imp_train\": 5}", "invalid \\u escape");
  const auto numbers = dir.write("numbers.json",
                                 "{\"imp_train\": 5, \"clk_train\": 0, \"cost_train\": 0, "
                                 "\"x\": [-0, 0.5, -1.25e-3, 1E+2, \"\\u00e9\"], " +
                                     counts + "}");
  CHECK(io::read_campaign_info(numbers).imp_train == 5);
}

TEST_CASE("iPinYou rlb-dp campaign files", "[io][rlb_dp][realdata]") {
  const char* root = std::getenv("TAILOR_DATA_DIR");
  const fs::path dir = root != nullptr ? fs::path(root) / "ipinyou_rlb" : fs::path();
  if (root == nullptr || !fs::exists(dir / "2997" / "test.theta.txt")) {
    WARN("TAILOR_DATA_DIR/ipinyou_rlb not found; skipping the rlb-dp file checks");
    return;
  }
  const auto log = io::read_auction_log(dir / "2997" / "test.theta.txt");
  CHECK(log.size() == 156'063);
  CHECK(log.price()[0] == 70);
  CHECK(log.max_price() <= 300);
  const auto info = io::read_campaign_info(dir / "2997" / "info.json");
  CHECK(info.imp_train == 312'437);
  CHECK(info.clk_train == 1'386);
  CHECK(info.cost_train == 19'689'072);
  CHECK(info.imp_test == 156'063);
  CHECK(log.total_clicks() == info.clk_test);
  CHECK(log.total_cost() == info.cost_test);
  CHECK(info.price_counter_train.size() == 301);
  for (const char* campaign : {"1458", "2259", "2261", "2821", "3358", "3386", "3427", "3476"}) {
    const auto other = io::read_campaign_info(dir / campaign / "info.json");
    CHECK(other.price_counter_train.size() == 301);
    std::int64_t total = 0;
    for (const auto c : other.price_counter_train) total += c;
    CHECK(total == other.imp_train);
  }
}
