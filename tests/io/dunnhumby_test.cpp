// Tests for io/dunnhumby.hpp: features of a tiny hand-made dataset against hand-computed values,
// the same data in the completejourney flavour, day windows, schema errors, and an end-to-end run
// on the real completejourney sample ([realdata], skipped without TAILOR_DATA_DIR).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "tailor/io/dunnhumby.hpp"

namespace fs = std::filesystem;
namespace dh = tailor::io::dunnhumby;

namespace {

/// A fresh temporary directory, removed at scope exit.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            fmt::format("tailor_dunnhumby_{}_{}_{}", tag, ::getpid(), counter++);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Three households. Product 5 is missing from the product file (department UNKNOWN).
//  hh 1: basket 100 (day 1, week 1): p1 2.00 (retail −0.50), p3 3.00
//        basket 101 (day 3, week 1): p2 1.00 (coupon −0.25, match −0.25)
//        basket 102 (day 15, week 3): p4 10.00 (retail −1.00)
//  hh 2: basket 200 (day 8, week 2): p1 4.00, p5 1.00;  basket 201 (day 9, week 2): p3 2.00
//  hh 3: basket 300 (day 20, week 3): p2 5.00
void write_original(const fs::path& dir) {
  write_file(dir / "transaction_data.csv",
             "household_key,BASKET_ID,DAY,PRODUCT_ID,QUANTITY,SALES_VALUE,STORE_ID,RETAIL_DISC,"
             "TRANS_TIME,WEEK_NO,COUPON_DISC,COUPON_MATCH_DISC\n"
             "1,100,1,1,1,2,364,-0.5,1631,1,0,0\n"
             "1,100,1,3,2,3,364,0,1631,1,0,0\n"
             "1,101,3,2,1,1,364,0,0900,1,-0.25,-0.25\n"
             "2,200,8,1,1,4,31,0,1200,2,0,0\n"
             "2,200,8,5,1,1,31,0,1200,2,0,0\n"
             "2,201,9,3,1,2,31,0,1300,2,0,0\n"
             "1,102,15,4,1,10,364,-1,1000,3,0,0\n"
             "3,300,20,2,5,5,12,0,0800,3,0,0\n");
  write_file(dir / "product.csv",
             "PRODUCT_ID,MANUFACTURER,DEPARTMENT,BRAND,COMMODITY_DESC,SUB_COMMODITY_DESC,"
             "CURR_SIZE_OF_PRODUCT\n"
             "1,10,GROCERY,National,SOFT DRINKS,COLA,12 OZ\n"
             "2,10,GROCERY,Private,BAG SNACKS,CHIPS,\n"
             "3,11,PRODUCE,National,VEGETABLES,CARROTS,1 LB\n"
             "4,12,MEAT,National,BEEF,STEAK,\n");
  write_file(dir / "coupon_redempt.csv",
             "household_key,DAY,COUPON_UPC,CAMPAIGN\n"
             "1,3,555,8\n"
             "1,3,556,8\n"
             "2,40,557,9\n");
  write_file(dir / "campaign_table.csv",
             "DESCRIPTION,household_key,CAMPAIGN\n"
             "TypeA,1,8\n"
             "TypeB,1,9\n"
             "TypeB,2,9\n");
  write_file(dir / "campaign_desc.csv",
             "DESCRIPTION,CAMPAIGN,START_DAY,END_DAY\n"
             "TypeA,8,1,10\n"
             "TypeB,9,12,45\n");
  write_file(dir / "hh_demographic.csv",
             "AGE_DESC,MARITAL_STATUS_CODE,INCOME_DESC,HOMEOWNER_DESC,HH_COMP_DESC,"
             "HOUSEHOLD_SIZE_DESC,KID_CATEGORY_DESC,household_key\n"
             "45-54,A,50-74K,Homeowner,2 Adults Kids,4,2,2\n"
             "25-34,U,Under 15K,Renter,Single Female,1,None/Unknown,99\n");
}

// The same data as the R package writes it: lower-case names, another column order, positive
// discounts, dates instead of DAY (2017-01-01 is day 1), rows shuffled.
void write_completejourney(const fs::path& dir) {
  write_file(dir / "transactions.csv",
             "household_id,store_id,basket_id,product_id,quantity,sales_value,retail_disc,"
             "coupon_disc,coupon_match_disc,week,transaction_timestamp\n"
             "3,12,300,2,5,5,0,0,0,3,2017-01-20 08:00:00\n"
             "2,31,201,3,1,2,0,0,0,2,2017-01-09 13:00:00\n"
             "1,364,100,1,1,2,0.5,0,0,1,2017-01-01 16:31:00\n"
             "1,364,102,4,1,10,1,0,0,3,2017-01-15 10:00:00\n"
             "2,31,200,1,1,4,0,0,0,2,2017-01-08 12:00:00\n"
             "1,364,101,2,1,1,0,0.25,0.25,1,2017-01-03 09:00:00\n"
             "2,31,200,5,1,1,0,0,0,2,2017-01-08 12:00:00\n"
             "1,364,100,3,2,3,0,0,0,1,2017-01-01 16:31:00\n");
  write_file(dir / "products.csv",
             "product_id,manufacturer_id,department,brand,product_category,product_type,"
             "package_size\n"
             "4,12,MEAT,National,BEEF,STEAK,\n"
             "1,10,GROCERY,National,SOFT DRINKS,COLA,12 OZ\n"
             "3,11,PRODUCE,National,VEGETABLES,CARROTS,1 LB\n"
             "2,10,GROCERY,Private,BAG SNACKS,CHIPS,\n");
  write_file(dir / "coupon_redemptions.csv",
             "household_id,coupon_upc,campaign_id,redemption_date\n"
             "1,555,8,2017-01-03\n"
             "2,557,9,2017-02-09\n"
             "1,556,8,2017-01-03\n");
  write_file(dir / "campaigns.csv",
             "campaign_id,household_id\n"
             "9,2\n"
             "8,1\n"
             "9,1\n");
  write_file(dir / "campaign_descriptions.csv",
             "campaign_id,campaign_type,start_date,end_date\n"
             "8,Type A,2017-01-01,2017-01-10\n"
             "9,Type B,2017-01-12,2017-02-14\n");
  write_file(dir / "demographics.csv",
             "household_id,age,income,home_ownership,marital_status,household_size,"
             "household_comp,kids_count\n"
             "2,45-54,50-74K,Homeowner,Married,4,2 Adults Kids,2\n");
}

double feature(const dh::HouseholdFeatures& f, std::int64_t household, std::string_view name) {
  return f.values(f.row(household), f.column(name));
}

}  // namespace

TEST_CASE("dunnhumby: dates map to day numbers", "[io][dunnhumby]") {
  CHECK(dh::date_to_day("2017-01-01") == 1);
  CHECK(dh::date_to_day("2017-05-08") == 128);
  CHECK(dh::date_to_day("2016-12-31") == 0);
  CHECK(dh::date_to_day("2018-01-01") == 366);
  CHECK(dh::date_to_day("2016-03-01", "2016-02-28") == 3);  // leap year
  CHECK(dh::date_to_day("2017-01-02 08:15:00") == 2);
  CHECK_THROWS_WITH(dh::date_to_day("2017-02-29"), Catch::Contains("date = '2017-02-29'"));
  CHECK_THROWS_AS(dh::date_to_day("2017-01-01", "yesterday"), tailor::InvalidArgument);
  CHECK(dh::parse_flavour("original") == dh::Flavour::original);
  CHECK_THROWS_WITH(dh::parse_flavour("kaggle"), Catch::Contains("flavour = 'kaggle'"));
}

TEST_CASE("dunnhumby: features of a hand-made dataset", "[io][dunnhumby]") {
  TempDir dir("original");
  write_original(dir.path());
  REQUIRE(dh::detect_flavour(dir.path()) == dh::Flavour::original);
  const dh::HouseholdFeatures f = dh::build_features(dir.path(), {.top_commodities = 2});

  REQUIRE(f.household_keys == std::vector<std::int64_t>{1, 2, 3});
  CHECK(f.rows_read == 8);
  CHECK(f.rows_in_window == 8);
  CHECK(f.num_baskets == 6);
  CHECK(f.first_day == 1);
  CHECK(f.reference_day == 20);
  CHECK(f.first_week == 1);
  CHECK(f.last_week == 3);
  // Departments by total spend: GROCERY 12, MEAT 10, PRODUCE 5, UNKNOWN 1; commodities: BEEF 10,
  // then BAG SNACKS 6 and SOFT DRINKS 6 tie and go by name.
  const std::vector<std::string> expected_names = {
      "recency_days",          "frequency_baskets",
      "monetary_spend",        "basket_spend_mean",
      "basket_lines_mean",     "discount_share",
      "coupon_discount_share", "coupon_basket_share",
      "weeks_active",          "active_week_share",
      "weekly_spend_cv",       "coupons_redeemed",
      "campaigns_received",    "coupon_redemption_rate",
      "dept:GROCERY",          "dept:MEAT",
      "dept:PRODUCE",          "dept:UNKNOWN",
      "commodity:BEEF",        "commodity:BAG SNACKS"};
  CHECK(f.feature_names == expected_names);
  CHECK(f.behaviour_columns.size() == 14);
  CHECK(f.department_columns == std::vector<tailor::Index>{14, 15, 16, 17});
  CHECK(f.commodity_columns == std::vector<tailor::Index>{18, 19});

  // Household 1: spend 16, discounts 0.5 + 0.25 + 0.25 + 1 = 2, weekly spend (6, 0, 10).
  CHECK(feature(f, 1, "recency_days") == 5.0);
  CHECK(feature(f, 1, "frequency_baskets") == 3.0);
  CHECK(feature(f, 1, "monetary_spend") == Approx(16.0));
  CHECK(feature(f, 1, "basket_spend_mean") == Approx(16.0 / 3));
  CHECK(feature(f, 1, "basket_lines_mean") == Approx(4.0 / 3));
  CHECK(feature(f, 1, "discount_share") == Approx(2.0 / 18));
  CHECK(feature(f, 1, "coupon_discount_share") == Approx(0.5 / 18));
  CHECK(feature(f, 1, "coupon_basket_share") == Approx(1.0 / 3));
  CHECK(feature(f, 1, "weeks_active") == 2.0);
  CHECK(feature(f, 1, "active_week_share") == Approx(2.0 / 3));
  const double mean1 = 16.0 / 3;
  const double sd1 = std::sqrt((36.0 + 0.0 + 100.0) / 3 - mean1 * mean1);
  CHECK(feature(f, 1, "weekly_spend_cv") == Approx(sd1 / mean1));
  CHECK(feature(f, 1, "coupons_redeemed") == 2.0);
  CHECK(feature(f, 1, "campaigns_received") == 2.0);
  CHECK(feature(f, 1, "coupon_redemption_rate") == Approx(0.5));  // campaign 8 of {8, 9}
  CHECK(feature(f, 1, "dept:GROCERY") == Approx(3.0 / 16));
  CHECK(feature(f, 1, "dept:MEAT") == Approx(10.0 / 16));
  CHECK(feature(f, 1, "dept:PRODUCE") == Approx(3.0 / 16));
  CHECK(feature(f, 1, "dept:UNKNOWN") == 0.0);
  CHECK(feature(f, 1, "commodity:BEEF") == Approx(10.0 / 16));
  CHECK(feature(f, 1, "commodity:BAG SNACKS") == Approx(1.0 / 16));

  // Household 2: spend 7 in week 2 only: weekly (0, 7, 0), cv = √2.
  CHECK(feature(f, 2, "recency_days") == 11.0);
  CHECK(feature(f, 2, "frequency_baskets") == 2.0);
  CHECK(feature(f, 2, "basket_lines_mean") == Approx(1.5));
  CHECK(feature(f, 2, "discount_share") == 0.0);
  CHECK(feature(f, 2, "weeks_active") == 1.0);
  CHECK(feature(f, 2, "weekly_spend_cv") == Approx(std::sqrt(2.0)));
  CHECK(feature(f, 2, "coupons_redeemed") == 1.0);
  CHECK(feature(f, 2, "coupon_redemption_rate") == 1.0);
  CHECK(feature(f, 2, "dept:GROCERY") == Approx(4.0 / 7));
  CHECK(feature(f, 2, "dept:UNKNOWN") == Approx(1.0 / 7));
  CHECK(feature(f, 2, "commodity:BEEF") == 0.0);

  // Household 3: one basket on the reference day.
  CHECK(feature(f, 3, "recency_days") == 0.0);
  CHECK(feature(f, 3, "basket_lines_mean") == 1.0);
  CHECK(feature(f, 3, "campaigns_received") == 0.0);
  CHECK(feature(f, 3, "coupon_redemption_rate") == 0.0);
  CHECK(feature(f, 3, "commodity:BAG SNACKS") == 1.0);

  // Every value is finite and ≥ 0; department shares sum to 1.
  CHECK(f.values.allFinite());
  CHECK(f.values.minCoeff() >= 0.0);
  for (tailor::Index i = 0; i < f.num_households(); ++i) {
    double total = 0.0;
    for (const tailor::Index j : f.department_columns) total += f.values(i, j);
    CHECK(total == Approx(1.0));
  }

  // Demographics are aligned with the households ("" without a row; household 99 is ignored).
  REQUIRE(f.demographics.num_rows() == 3);
  CHECK(f.demographics.strings("age") == std::vector<std::string>{"", "45-54", ""});
  CHECK(f.demographics.strings("kids") == std::vector<std::string>{"", "2", ""});

  // to_table: household_key then every feature.
  const tailor::io::Table table = f.to_table();
  CHECK(table.num_columns() == f.feature_names.size() + 1);
  CHECK(table.numeric("household_key")[2] == 3.0);
  CHECK(table.numeric("dept:MEAT")[0] == Approx(10.0 / 16));

  // Campaigns and members.
  const auto campaigns = dh::read_campaigns(dh::locate_files(dir.path()));
  REQUIRE(campaigns.size() == 2);
  CHECK(campaigns[0].id == 8);
  CHECK(campaigns[0].type == "TypeA");
  CHECK(campaigns[1].start_day == 12);
  CHECK(campaigns[1].end_day == 45);
  CHECK(dh::read_campaign_members(dh::locate_files(dir.path())).size() == 3);
}

TEST_CASE("dunnhumby: pooling small departments and the day window", "[io][dunnhumby]") {
  TempDir dir("window");
  write_original(dir.path());
  const dh::Files files = dh::locate_files(dir.path());

  SECTION("departments under min_department_share go to dept:OTHER") {
    // UNKNOWN has 1 of 28 (3.6 %) of all spend.
    const auto f = dh::build_features(files, {.top_commodities = 0, .min_department_share = 0.05});
    CHECK(f.department_columns.size() == 4);
    CHECK(f.feature_names.back() == "dept:OTHER");
    CHECK(f.commodity_columns.empty());
    CHECK(feature(f, 2, "dept:OTHER") == Approx(1.0 / 7));
  }

  SECTION("only days in the window count; households keep their rows") {
    const auto f = dh::build_features(files, {.window = {.first_day = 1, .last_day = 10}});
    REQUIRE(f.household_keys == std::vector<std::int64_t>{1, 2, 3});
    CHECK(f.rows_in_window == 6);
    CHECK(f.num_baskets == 4);
    CHECK(f.reference_day == 9);
    CHECK(f.last_week == 2);
    CHECK(feature(f, 1, "recency_days") == 6.0);
    CHECK(feature(f, 1, "monetary_spend") == Approx(6.0));
    CHECK(feature(f, 1, "weeks_active") == 1.0);
    CHECK(feature(f, 1, "active_week_share") == Approx(0.5));
    CHECK(feature(f, 1, "weekly_spend_cv") == Approx(1.0));  // (6, 0): sd 3, mean 3
    CHECK(feature(f, 1, "campaigns_received") == 1.0);       // campaign 9 starts on day 12
    CHECK(feature(f, 1, "coupon_redemption_rate") == 1.0);
    CHECK(feature(f, 2, "recency_days") == 0.0);
    CHECK(feature(f, 2, "coupons_redeemed") == 0.0);  // redeemed on day 40
    CHECK(feature(f, 2, "campaigns_received") == 0.0);
    // Household 3 has no basket in the window: zeros, recency = window length (days 1..9).
    CHECK(feature(f, 3, "recency_days") == 9.0);
    CHECK(feature(f, 3, "frequency_baskets") == 0.0);
    CHECK(feature(f, 3, "monetary_spend") == 0.0);
    CHECK(feature(f, 3, "weekly_spend_cv") == 0.0);
    CHECK(feature(f, 3, "dept:GROCERY") == 0.0);
  }

  SECTION("spend_in_window") {
    const dh::HouseholdSpend s = dh::spend_in_window(files, {.first_day = 8, .last_day = 20});
    REQUIRE(s.household_keys == std::vector<std::int64_t>{1, 2, 3});
    CHECK(s.spend[0] == Approx(10.0));
    CHECK(s.spend[1] == Approx(7.0));
    CHECK(s.spend[2] == Approx(5.0));
    CHECK(s.baskets[0] == 1.0);
    CHECK(s.baskets[1] == 2.0);
    CHECK(s.baskets[2] == 1.0);
    const dh::HouseholdSpend none = dh::spend_in_window(files, {.first_day = 2, .last_day = 2});
    CHECK(none.spend.isZero());
    CHECK(none.household_keys.size() == 3);
  }
}

TEST_CASE("dunnhumby: both flavours give the same features", "[io][dunnhumby]") {
  TempDir original("flavour_a");
  TempDir package("flavour_b");
  write_original(original.path());
  write_completejourney(package.path());
  REQUIRE(dh::detect_flavour(package.path()) == dh::Flavour::completejourney);
  for (const dh::DayWindow window : {dh::DayWindow{}, dh::DayWindow{1, 10}, dh::DayWindow{8, 16}}) {
    const dh::FeatureOptions options{.window = window, .top_commodities = 3};
    const auto a = dh::build_features(original.path(), options);
    const auto b = dh::build_features(package.path(), options);
    CHECK(b.flavour == dh::Flavour::completejourney);
    CHECK(a.household_keys == b.household_keys);
    CHECK(a.feature_names == b.feature_names);
    CHECK(a.reference_day == b.reference_day);
    REQUIRE(a.values.rows() == b.values.rows());
    REQUIRE(a.values.cols() == b.values.cols());
    // Row order of the file changes the order of floating-point sums only.
    CHECK(a.values.isApprox(b.values, 1e-12));
    const auto sa = dh::spend_in_window(dh::locate_files(original.path()), window);
    const auto sb = dh::spend_in_window(dh::locate_files(package.path()), window);
    CHECK(sa.spend.isApprox(sb.spend, 1e-12));
    CHECK(sa.baskets == sb.baskets);
  }
  const auto a = dh::build_features(original.path());
  const auto b = dh::build_features(package.path());
  CHECK(a.demographics.strings("age") == b.demographics.strings("age"));
  CHECK(a.demographics.strings("household_size") == b.demographics.strings("household_size"));
  const auto ca = dh::read_campaigns(dh::locate_files(original.path()));
  const auto cb = dh::read_campaigns(dh::locate_files(package.path()));
  REQUIRE(ca.size() == cb.size());
  for (std::size_t k = 0; k < ca.size(); ++k) {
    CHECK(ca[k].id == cb[k].id);
    CHECK(ca[k].type == cb[k].type);
    CHECK(ca[k].start_day == cb[k].start_day);
    CHECK(ca[k].end_day == cb[k].end_day);
  }
}

TEST_CASE("dunnhumby: column names match case-insensitively", "[io][dunnhumby]") {
  TempDir dir("case");
  write_original(dir.path());
  const auto reference = dh::build_features(dir.path());
  // Copies of the original release exist with all-lower-case headers.
  write_file(dir.path() / "product.csv",
             "product_id,manufacturer,department,brand,commodity_desc,sub_commodity_desc,"
             "curr_size_of_product\n"
             "1,10,GROCERY,National,SOFT DRINKS,COLA,12 OZ\n"
             "2,10,GROCERY,Private,BAG SNACKS,CHIPS,\n"
             "3,11,PRODUCE,National,VEGETABLES,CARROTS,1 LB\n"
             "4,12,MEAT,National,BEEF,STEAK,\n");
  const auto lower = dh::build_features(dir.path());
  CHECK(lower.feature_names == reference.feature_names);
  CHECK(lower.values == reference.values);
}

TEST_CASE("dunnhumby: schema and option errors", "[io][dunnhumby]") {
  TempDir dir("errors");
  write_original(dir.path());

  SECTION("a missing transaction column names the file and the column") {
    write_file(dir.path() / "transaction_data.csv",
               "household_key,BASKET_ID,DAY,PRODUCT_ID,QUANTITY,STORE_ID,RETAIL_DISC,TRANS_TIME,"
               "WEEK_NO,COUPON_DISC,COUPON_MATCH_DISC\n"
               "1,100,1,1,1,364,-0.5,1631,1,0,0\n");
    CHECK_THROWS_AS(dh::build_features(dir.path()), tailor::FormatError);
    CHECK_THROWS_WITH(dh::build_features(dir.path()),
                      Catch::Contains("transaction_data.csv: missing column 'SALES_VALUE'"));
  }
  SECTION("a missing product column names the file and the column") {
    write_file(dir.path() / "product.csv", "PRODUCT_ID,COMMODITY_DESC\n1,SOFT DRINKS\n");
    CHECK_THROWS_WITH(dh::build_features(dir.path()),
                      Catch::Contains("product.csv: missing column 'DEPARTMENT'"));
  }
  SECTION("a missing optional-file column names the file and the column") {
    write_file(dir.path() / "coupon_redempt.csv", "household_key,COUPON_UPC,CAMPAIGN\n1,5,8\n");
    CHECK_THROWS_WITH(dh::build_features(dir.path()),
                      Catch::Contains("coupon_redempt.csv: missing column 'DAY'"));
  }
  SECTION("a malformed value names file, line and column") {
    write_file(dir.path() / "transaction_data.csv",
               "household_key,BASKET_ID,DAY,PRODUCT_ID,QUANTITY,SALES_VALUE,STORE_ID,RETAIL_DISC,"
               "TRANS_TIME,WEEK_NO,COUPON_DISC,COUPON_MATCH_DISC\n"
               "1,100,1,1,1,2,364,-0.5,1631,1,0,0\n"
               "1,100,1.5,1,1,2,364,-0.5,1631,1,0,0\n");
    CHECK_THROWS_WITH(dh::build_features(dir.path()),
                      Catch::Contains("transaction_data.csv:3:3 (column 'DAY'): '1.5' is not an "
                                      "integer"));
  }
  SECTION("a bad timestamp names file, line and column") {
    TempDir package("errors_cj");
    write_completejourney(package.path());
    write_file(package.path() / "transactions.csv",
               "household_id,store_id,basket_id,product_id,quantity,sales_value,retail_disc,"
               "coupon_disc,coupon_match_disc,week,transaction_timestamp\n"
               "3,12,300,2,5,5,0,0,0,3,2017-13-20 08:00:00\n");
    CHECK_THROWS_WITH(dh::build_features(package.path()),
                      Catch::Contains("transactions.csv:2:11 (column 'transaction_timestamp'): "
                                      "'2017-13-20 08:00:00' is not a date"));
  }
  SECTION("an empty transaction file") {
    write_file(dir.path() / "transaction_data.csv",
               "household_key,BASKET_ID,DAY,PRODUCT_ID,QUANTITY,SALES_VALUE,STORE_ID,RETAIL_DISC,"
               "TRANS_TIME,WEEK_NO,COUPON_DISC,COUPON_MATCH_DISC\n");
    CHECK_THROWS_AS(dh::build_features(dir.path()), tailor::DataError);
  }
  SECTION("missing and gzipped files") {
    fs::remove(dir.path() / "product.csv");
    CHECK_THROWS_WITH(dh::locate_files(dir.path()), Catch::Contains("no product file"));
    write_file(dir.path() / "product.csv.gz", "not really gzip");
    CHECK_THROWS_WITH(dh::locate_files(dir.path()), Catch::Contains("gzip -dk"));
    TempDir empty("errors_empty");
    CHECK_THROWS_WITH(dh::detect_flavour(empty.path()),
                      Catch::Contains("neither transaction_data.csv"));
  }
  SECTION("bad options") {
    CHECK_THROWS_WITH(dh::build_features(dir.path(), {.top_commodities = -1}),
                      Catch::Contains("top_commodities = -1"));
    CHECK_THROWS_WITH(dh::build_features(dir.path(), {.min_department_share = 1.0}),
                      Catch::Contains("min_department_share = 1"));
    CHECK_THROWS_WITH(dh::build_features(dir.path(), {.window = {.first_day = 5, .last_day = 4}}),
                      Catch::Contains("window.last_day = 4"));
    CHECK_THROWS_AS(dh::spend_in_window(dh::locate_files(dir.path()), {5, 4}),
                    tailor::InvalidArgument);
  }
  SECTION("unknown features and households") {
    const auto f = dh::build_features(dir.path());
    CHECK_THROWS_WITH(f.column("spend"), Catch::Contains("no feature 'spend'"));
    CHECK_THROWS_WITH(f.row(42), Catch::Contains("no household 42"));
  }
}

namespace {

const char* const kTransactionHeader =
    "household_key,BASKET_ID,DAY,PRODUCT_ID,QUANTITY,SALES_VALUE,STORE_ID,RETAIL_DISC,TRANS_TIME,"
    "WEEK_NO,COUPON_DISC,COUPON_MATCH_DISC\n";

/// Peak resident memory (VmHWM, KiB) after resetting it to the current use; -1 where /proc does
/// not offer both (non-Linux).
long reset_peak_memory_kib() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  return clear ? 0 : -1;
}
long peak_memory_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}
long current_memory_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

TEST_CASE("dunnhumby: memory does not grow with the week numbers", "[io][dunnhumby]") {
  // 200 households, each with one line in week 100000 (the largest week accepted) and one in
  // week 1: memory used to grow as households × (max week + 1) × 9 bytes (180 MB for this 9 KB
  // file); it now grows with the distinct (household, week) pairs.
  TempDir dir("weeks");
  write_original(dir.path());
  std::string text = kTransactionHeader;
  for (int h = 1; h <= 200; ++h) {
    text += fmt::format("{},{},1,1,1,2,364,0,1631,1,0,0\n", h, 1000 + h);
    text += fmt::format("{},{},700,2,1,3,364,0,1631,100000,0,0\n", h, 5000 + h);
  }
  write_file(dir.path() / "transaction_data.csv", text);
  if (reset_peak_memory_kib() < 0 || peak_memory_kib() < 0) {
    WARN("/proc/self/clear_refs or VmHWM unavailable; skipping the memory check");
    return;
  }
  const long before = current_memory_kib();
  const dh::HouseholdFeatures f = dh::build_features(dir.path());
  const long growth_kib = peak_memory_kib() - before;
  INFO("peak memory growth " << growth_kib << " KiB");
  CHECK(growth_kib < 32 * 1024);
  REQUIRE(f.num_households() == 200);
  CHECK(f.first_week == 1);
  CHECK(f.last_week == 100'000);
  CHECK(feature(f, 7, "weeks_active") == 2.0);
  CHECK(feature(f, 7, "active_week_share") == Approx(2.0 / 100'000));
  // Weekly spend (2, 0, ..., 0, 3) over 100000 weeks.
  const double mean = 5.0 / 100'000;
  const double sd = std::sqrt(13.0 / 100'000 - mean * mean);
  CHECK(feature(f, 7, "weekly_spend_cv") == Approx(sd / mean));
  // A week beyond the documented maximum is a FormatError naming file:line:column.
  write_file(dir.path() / "transaction_data.csv", std::string(kTransactionHeader) +
                                                      "1,100,1,1,1,2,364,0,1631,1,0,0\n" +
                                                      "1,100,1,1,1,2,364,0,1631,100001,0,0\n");
  CHECK_THROWS_AS(dh::build_features(dir.path()), tailor::FormatError);
  CHECK_THROWS_WITH(dh::build_features(dir.path()),
                    Catch::Contains("transaction_data.csv:3:10 (column 'WEEK_NO'): week 100001 "
                                    "is out of range [0, 100000]"));
}

TEST_CASE("dunnhumby: inconsistent rows are FormatErrors naming file and line", "[io][dunnhumby]") {
  TempDir dir("malformed");
  write_original(dir.path());

  SECTION("a product listed twice") {
    write_file(dir.path() / "product.csv",
               "PRODUCT_ID,MANUFACTURER,DEPARTMENT,BRAND,COMMODITY_DESC,SUB_COMMODITY_DESC,"
               "CURR_SIZE_OF_PRODUCT\n"
               "1,10,GROCERY,National,SOFT DRINKS,COLA,12 OZ\n"
               "2,10,GROCERY,Private,BAG SNACKS,CHIPS,\n"
               "1,11,PRODUCE,National,VEGETABLES,CARROTS,1 LB\n");
    CHECK_THROWS_AS(dh::build_features(dir.path()), tailor::FormatError);
    CHECK_THROWS_WITH(dh::build_features(dir.path()),
                      Catch::Contains("product.csv:4: PRODUCT_ID 1 is listed twice (also on line "
                                      "2), expected one row per product"));
  }
  SECTION("a household listed twice in the demographics") {
    // Household 99 has no transactions: a duplicate is still a malformed file.
    write_file(dir.path() / "hh_demographic.csv",
               "AGE_DESC,MARITAL_STATUS_CODE,INCOME_DESC,HOMEOWNER_DESC,HH_COMP_DESC,"
               "HOUSEHOLD_SIZE_DESC,KID_CATEGORY_DESC,household_key\n"
               "45-54,A,50-74K,Homeowner,2 Adults Kids,4,2,2\n"
               "25-34,U,Under 15K,Renter,Single Female,1,None/Unknown,99\n"
               "65+,U,Under 15K,Renter,Single Female,1,None/Unknown,99\n");
    CHECK_THROWS_WITH(dh::build_features(dir.path()),
                      Catch::Contains("hh_demographic.csv:4: household 99 is listed twice (also "
                                      "on line 3), expected one row per household"));
    write_file(dir.path() / "hh_demographic.csv",
               "AGE_DESC,MARITAL_STATUS_CODE,INCOME_DESC,HOMEOWNER_DESC,HH_COMP_DESC,"
               "HOUSEHOLD_SIZE_DESC,KID_CATEGORY_DESC,household_key\n"
               "45-54,A,50-74K,Homeowner,2 Adults Kids,4,2,2\n"
               "65+,U,Under 15K,Renter,Single Female,1,None/Unknown,2\n");
    CHECK_THROWS_AS(dh::build_features(dir.path()), tailor::FormatError);
    CHECK_THROWS_WITH(dh::build_features(dir.path()),
                      Catch::Contains("hh_demographic.csv:3: household 2 is listed twice"));
  }
  SECTION("a campaign that ends before it starts, or is described twice") {
    write_file(dir.path() / "campaign_desc.csv",
               "DESCRIPTION,CAMPAIGN,START_DAY,END_DAY\n"
               "TypeA,8,1,10\n"
               "TypeB,9,45,12\n");
    CHECK_THROWS_AS(dh::read_campaigns(dh::locate_files(dir.path())), tailor::FormatError);
    CHECK_THROWS_WITH(dh::build_features(dir.path()),
                      Catch::Contains("campaign_desc.csv:3: campaign 9 ends on day 12, before its "
                                      "start day 45"));
    write_file(dir.path() / "campaign_desc.csv",
               "DESCRIPTION,CAMPAIGN,START_DAY,END_DAY\n"
               "TypeA,8,1,10\n"
               "TypeB,9,12,45\n"
               "TypeB,8,12,45\n");
    CHECK_THROWS_WITH(dh::read_campaigns(dh::locate_files(dir.path())),
                      Catch::Contains("campaign_desc.csv:4: campaign 8 is listed twice (also on "
                                      "line 2)"));
  }
  SECTION("money values beyond the documented magnitude") {
    // Two finite values whose sum overflows to inf.
    write_file(dir.path() / "transaction_data.csv", std::string(kTransactionHeader) +
                                                        "1,100,1,1,1,1e308,364,0,1631,1,0,0\n" +
                                                        "1,100,1,3,1,1e308,364,0,1631,1,0,0\n");
    CHECK_THROWS_AS(dh::build_features(dir.path()), tailor::FormatError);
    CHECK_THROWS_WITH(dh::build_features(dir.path()),
                      Catch::Contains("transaction_data.csv:2:6 (column 'SALES_VALUE'): 1e+308 is "
                                      "out of range, expected a magnitude of at most 1000000000"));
    CHECK_THROWS_AS(dh::spend_in_window(dh::locate_files(dir.path()), {}), tailor::FormatError);
    write_file(dir.path() / "transaction_data.csv",
               std::string(kTransactionHeader) + "1,100,1,1,1,2,364,-1e200,1631,1,0,0\n");
    CHECK_THROWS_WITH(dh::build_features(dir.path()),
                      Catch::Contains("transaction_data.csv:2:8 (column 'RETAIL_DISC')"));
    // The largest accepted values still give finite features.
    write_file(dir.path() / "transaction_data.csv",
               std::string(kTransactionHeader) + "1,100,1,1,1,1e9,364,-1e9,1631,1,-1e9,-1e9\n" +
                   "1,101,2,1,1,1e9,364,-1e9,1631,1,-1e9,-1e9\n" +
                   "2,200,2,1,1,-1e9,364,0,1631,1,0,0\n");
    const auto f = dh::build_features(dir.path());
    CHECK(f.values.allFinite());
    CHECK(feature(f, 1, "monetary_spend") == 2e9);
  }
}

TEST_CASE("dunnhumby: every date is parsed in full", "[io][dunnhumby]") {
  TempDir package("dates");
  write_completejourney(package.path());
  const std::string header =
      "household_id,store_id,basket_id,product_id,quantity,sales_value,retail_disc,coupon_disc,"
      "coupon_match_disc,week,transaction_timestamp\n";
  const auto with_second_timestamp = [&](const std::string& timestamp) {
    write_file(package.path() / "transactions.csv",
               header + "3,12,300,2,5,5,0,0,0,3,2017-01-28 08:00:00\n" + "3,12,300,2,5,5,0,0,0,3," +
                   timestamp + "\n");
  };
  // Text after a date that matches the previous row's date used to be accepted unread.
  for (const std::string bad : {"2017-01-28garbage", "2017-01-28 garbage", "2017-01-28 08:00:61",
                                "2017-01-28 25:00:00", "2017-01-28 08:00:00 x", "2017-01-28T"}) {
    INFO(bad);
    with_second_timestamp(bad);
    CHECK_THROWS_AS(dh::build_features(package.path()), tailor::FormatError);
    CHECK_THROWS_WITH(dh::build_features(package.path()),
                      Catch::Contains(fmt::format("transactions.csv:3:11 (column "
                                                  "'transaction_timestamp'): '{}' is not a date",
                                                  bad)));
  }
  // The accepted forms: a date, a date and a time (R's write.csv; readr's ISO 8601 with 'T' and
  // 'Z', optional seconds and fraction).
  for (const std::string good :
       {"2017-01-28", "2017-01-28 08:00", "2017-01-28 23:59:59", "2017-01-28T08:00:00Z",
        "2017-01-28T08:00:00.125Z", "2017-01-28 08:00:00+01:00"}) {
    INFO(good);
    with_second_timestamp(good);
    const auto f = dh::build_features(package.path());
    CHECK(f.reference_day == 28);
  }
  CHECK_THROWS_WITH(dh::date_to_day("2017-01-02 8:15"),
                    Catch::Contains("date = '2017-01-02 8:15'"));
  // The campaign and redemption dates are checked the same way.
  write_completejourney(package.path());
  write_file(package.path() / "coupon_redemptions.csv",
             "household_id,coupon_upc,campaign_id,redemption_date\n"
             "1,555,8,2017-01-03\n"
             "1,556,8,2017-01-03x\n");
  CHECK_THROWS_WITH(dh::build_features(package.path()),
                    Catch::Contains("coupon_redemptions.csv:3:4 (column 'redemption_date'): "
                                    "'2017-01-03x' is not a date"));
}

TEST_CASE("dunnhumby: the completejourney sample end to end", "[io][dunnhumby][realdata]") {
  const char* root = std::getenv("TAILOR_DATA_DIR");
  const fs::path source = root != nullptr ? fs::path(root) / "completejourney" : fs::path();
  if (root == nullptr || !fs::exists(source / "transactions_sample.csv.gz")) {
    WARN("TAILOR_DATA_DIR/completejourney not found; skipping the completejourney checks");
    return;
  }
  if (std::system("gzip --version > /dev/null 2>&1") != 0) {
    WARN("the gzip command is not available; skipping the completejourney checks");
    return;
  }
  // tailor reads plain CSV: decompress the two gzipped tables into a scratch copy.
  TempDir dir("realdata");
  for (const char* name : {"transactions_sample.csv", "products.csv"}) {
    const std::string command = fmt::format(
        "gzip -dc '{}' > '{}'", (source / name).string() + ".gz", (dir.path() / name).string());
    REQUIRE(std::system(command.c_str()) == 0);
  }
  for (const char* name : {"demographics.csv", "coupon_redemptions.csv", "campaigns.csv",
                           "campaign_descriptions.csv"}) {
    fs::copy_file(source / name, dir.path() / name);
  }
  const dh::Files files = dh::locate_files(dir.path());
  REQUIRE(files.flavour == dh::Flavour::completejourney);
  const dh::HouseholdFeatures f = dh::build_features(files);
  // Figures of the sample from shared/data/README.md.
  CHECK(f.rows_read == 75'000);
  CHECK(f.num_households() == 2'377);
  CHECK(f.num_baskets == 47'243);
  CHECK(f.first_day == 1);
  CHECK(f.reference_day == 365);
  CHECK(f.first_week == 1);
  CHECK(f.last_week == 53);
  const dh::HouseholdSpend spend = dh::spend_in_window(files, {});
  CHECK(spend.spend.sum() == Approx(233'935.24).epsilon(1e-9));
  CHECK(spend.baskets.sum() == 47'243.0);
  CHECK(f.values.allFinite());
  CHECK(f.values.minCoeff() >= 0.0);
  CHECK(f.commodity_columns.size() == 20);
  CHECK(f.feature_names[f.department_columns.front()] == "dept:GROCERY");
  for (tailor::Index i = 0; i < f.num_households(); ++i) {
    double total = 0.0;
    for (const tailor::Index j : f.department_columns) total += f.values(i, j);
    if (f.values(i, f.column("monetary_spend")) > 0) CHECK(total == Approx(1.0));
  }
  // 801 households have demographics; those without transactions in the sample drop out.
  std::size_t with_demographics = 0;
  for (const auto& age : f.demographics.strings("age")) with_demographics += age.empty() ? 0 : 1;
  CHECK(with_demographics > 700);
  CHECK(with_demographics <= 801);
  const auto campaigns = dh::read_campaigns(files);
  REQUIRE(campaigns.size() == 27);
  CHECK(campaigns[7].id == 8);
  CHECK(campaigns[7].type == "TypeA");
  CHECK(campaigns[7].start_day == dh::date_to_day("2017-05-08"));
  // A pre-period window before campaign 8 and the campaign window itself.
  const auto pre = dh::build_features(files, {.window = {.last_day = campaigns[7].start_day - 1}});
  CHECK(pre.reference_day < campaigns[7].start_day);
  CHECK(pre.num_households() == f.num_households());
  const auto during = dh::spend_in_window(files, {campaigns[7].start_day, campaigns[7].end_day});
  CHECK(during.spend.sum() > 0.0);
  CHECK(during.spend.sum() < spend.spend.sum());

  // The original-release campaign files in the same folder (lower-case headers).
  const fs::path original = source / "original_dunnhumby";
  if (fs::exists(original / "campaign_desc.csv")) {
    dh::Files partial;
    partial.flavour = dh::Flavour::original;
    partial.campaign_descriptions = original / "campaign_desc.csv";
    partial.campaign_members = original / "campaign_table.csv";
    const auto original_campaigns = dh::read_campaigns(partial);
    REQUIRE(original_campaigns.size() == 30);
    CHECK(original_campaigns[7].id == 8);
    CHECK(original_campaigns[7].type == "TypeA");
    CHECK(original_campaigns[7].start_day == 412);
    CHECK(original_campaigns[7].end_day == 460);
    CHECK(dh::read_campaign_members(partial).size() == 7'208);
  }
}
