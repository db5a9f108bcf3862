// Tests for tailor/io/synthetic.hpp: exact schemas (column names and order), sizes, value
// conventions of the original releases, determinism (same seed → identical bytes for every
// num_threads), and that the planted truth is in the data: TypeA assignment driven by pre-period
// spend, realized window spend matching the documented potential outcomes, segment department
// mixes, coupon redemptions consistent with coupon.csv, empirical CTR tracking the true CTR
// function, and the market-price model.
#include "tailor/io/synthetic.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tailor/core/metrics.hpp"

namespace synthetic = tailor::io::synthetic;
namespace fs = std::filesystem;
using tailor::Index;

namespace {

/// A fresh directory under the system temp dir, removed on destruction.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    tailor::Rng rng(reinterpret_cast<std::uintptr_t>(this));
    path = fs::temp_directory_path() / fmt::format("tailor_synthetic_{}_{:x}", tag, rng());
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream s(line);
  while (std::getline(s, field, sep)) out.push_back(field);
  if (!line.empty() && line.back() == sep) out.emplace_back();
  return out;
}

synthetic::DunnhumbyParams small_dunnhumby(Index threads = 0) {
  return {.num_households = 400,
          .num_weeks = 102,
          .num_products = 600,
          .num_stores = 12,
          .visit_scale = 1.0,
          .demographics_share = 0.32,
          .seed = 7,
          .num_threads = threads};
}

const synthetic::DunnhumbyData& shared_dunnhumby() {
  static const synthetic::DunnhumbyData data = synthetic::generate_dunnhumby(small_dunnhumby());
  return data;
}

const synthetic::IpinyouData& shared_ipinyou() {
  static const synthetic::IpinyouData data =
      synthetic::generate_ipinyou({.num_impressions = 60000, .seed = 11});
  return data;
}

/// SALES_VALUE per household over [first_day, last_day], dollars.
std::vector<double> spend_between(const synthetic::DunnhumbyData& data, int first_day,
                                  int last_day) {
  std::vector<double> spend(data.households.size(), 0.0);
  for (const auto& t : data.transactions) {
    if (t.day >= first_day && t.day <= last_day) {
      spend[static_cast<std::size_t>(t.household_key - 1)] += t.sales_value_cents / 100.0;
    }
  }
  return spend;
}

struct MeanSe {
  double mean = 0, se = 0;
};
MeanSe mean_se(const std::vector<double>& x) {
  double m = 0;
  for (double v : x) m += v;
  m /= static_cast<double>(x.size());
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return {m, std::sqrt(ss / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()))};
}

}  // namespace

TEST_CASE("Dunnhumby files have the original column names, order and value conventions",
          "[io][synthetic]") {
  const auto& data = shared_dunnhumby();
  TempDir dir("schema");
  synthetic::write_dunnhumby(data, dir.path);
  const std::map<std::string, std::string> headers = {
      {"transaction_data.csv",
       "household_key,BASKET_ID,DAY,PRODUCT_ID,QUANTITY,SALES_VALUE,STORE_ID,RETAIL_DISC,"
       "TRANS_TIME,WEEK_NO,COUPON_DISC,COUPON_MATCH_DISC"},
      {"product.csv",
       "PRODUCT_ID,MANUFACTURER,DEPARTMENT,BRAND,COMMODITY_DESC,SUB_COMMODITY_DESC,"
       "CURR_SIZE_OF_PRODUCT"},
      {"hh_demographic.csv",
       "AGE_DESC,MARITAL_STATUS_CODE,INCOME_DESC,HOMEOWNER_DESC,HH_COMP_DESC,"
       "HOUSEHOLD_SIZE_DESC,KID_CATEGORY_DESC,household_key"},
      {"campaign_table.csv", "DESCRIPTION,household_key,CAMPAIGN"},
      {"campaign_desc.csv", "DESCRIPTION,CAMPAIGN,START_DAY,END_DAY"},
      {"coupon.csv", "COUPON_UPC,PRODUCT_ID,CAMPAIGN"},
      {"coupon_redempt.csv", "household_key,DAY,COUPON_UPC,CAMPAIGN"},
      {"truth_households.csv",
       "household_key,segment,segment_name,pre_spend_per_week,propensity,treated,mu0,mu1,tau,"
       "visit_rate,items_per_basket,item_value,visit_lift,basket_lift"}};
  std::map<std::string, std::vector<std::string>> files;
  for (const auto& [name, header] : headers) {
    INFO(name);
    files[name] = read_lines(dir.path / name);
    REQUIRE(!files[name].empty());
    CHECK(files[name][0] == header);
    const auto columns = split(header, ',').size();
    // Field counts on the first lines (the rest is the same code path).
    for (std::size_t i = 1; i < std::min<std::size_t>(files[name].size(), 3000); ++i) {
      if (split(files[name][i], ',').size() != columns)
        FAIL("line " << i << ": " << files[name][i]);
    }
  }
  CHECK(files["transaction_data.csv"].size() == data.transactions.size() + 1);
  CHECK(files["product.csv"].size() == data.products.size() + 1);
  CHECK(files["truth_households.csv"].size() == data.households.size() + 1);
  CHECK(files["coupon_redempt.csv"].size() == data.redemptions.size() + 1);

  // Money as in the release: shortest decimals, discounts negative.
  fmt::memory_buffer b;
  for (std::int64_t cents : {139, -60, 200, 0, -5, 1234567, -100}) {
    synthetic::detail::append_cents(b, cents);
    b.push_back(' ');
  }
  CHECK(fmt::to_string(b) == "1.39 -0.6 2 0 -0.05 12345.67 -1 ");
  const auto first = split(files["transaction_data.csv"][1], ',');
  const auto& t0 = data.transactions.front();
  CHECK(first[1] == std::to_string(t0.basket_id));
  CHECK(std::stod(first[5]) == Approx(t0.sales_value_cents / 100.0));

  // Campaign descriptions are TypeA/B/C with exactly one TypeA (the planted one).
  int type_a = 0;
  for (std::size_t i = 1; i < files["campaign_desc.csv"].size(); ++i) {
    const auto f = split(files["campaign_desc.csv"][i], ',');
    CHECK((f[0] == "TypeA" || f[0] == "TypeB" || f[0] == "TypeC"));
    type_a += f[0] == "TypeA";
  }
  CHECK(type_a == 1);
  // Demographic values come from the release's vocabularies.
  const std::set<std::string> ages = {"19-24", "25-34", "35-44", "45-54", "55-64", "65+"};
  for (std::size_t i = 1; i < files["hh_demographic.csv"].size(); ++i) {
    const auto f = split(files["hh_demographic.csv"][i], ',');
    CHECK(ages.count(f[0]) == 1);
    CHECK((f[1] == "A" || f[1] == "B" || f[1] == "U"));
    CHECK(std::find(synthetic::kIncomeDesc.begin(), synthetic::kIncomeDesc.end(), f[2]) !=
          synthetic::kIncomeDesc.end());
  }
}

TEST_CASE("Dunnhumby tables have the requested sizes and valid values", "[io][synthetic]") {
  const auto& data = shared_dunnhumby();
  const auto p = small_dunnhumby();
  REQUIRE(static_cast<Index>(data.households.size()) == p.num_households);
  CHECK(static_cast<Index>(data.products.size()) == p.num_products);
  const int num_days = 7 * p.num_weeks;
  // About 10 lines per household-week at visit_scale 1 (the release: 2.6 M / 2500 / 102).
  const double lines_per_week = static_cast<double>(data.transactions.size()) /
                                static_cast<double>(p.num_households * p.num_weeks);
  CHECK(lines_per_week > 7.0);
  CHECK(lines_per_week < 14.0);
  std::set<std::int32_t> product_ids, stores;
  for (const auto& pr : data.products) product_ids.insert(pr.product_id);
  CHECK(product_ids.size() == data.products.size());
  std::int64_t previous_basket = 0;
  Index bad = 0;  // rows breaking a convention (counted, so the loop stays cheap)
  for (const auto& t : data.transactions) {
    const bool ok = t.day >= 1 && t.day <= num_days && t.week_no == (t.day - 1) / 7 + 1 &&
                    t.trans_time / 100 < 24 && t.trans_time % 100 < 60 && t.quantity >= 1 &&
                    t.sales_value_cents >= 0 && t.retail_disc_cents <= 0 &&
                    t.coupon_disc_cents <= 0 && t.coupon_match_disc_cents <= 0 &&
                    t.basket_id >= previous_basket && product_ids.count(t.product_id) == 1;
    bad += ok ? 0 : 1;
    previous_basket = t.basket_id;
    stores.insert(t.store_id);
  }
  CHECK(bad == 0);
  CHECK(static_cast<Index>(stores.size()) <= p.num_stores);
  // hh_demographic covers demographics_share of households (binomial, 4 SE).
  const double share = static_cast<double>(data.demographics.size()) / 400.0;
  CHECK(std::abs(share - 0.32) < 4.0 * std::sqrt(0.32 * 0.68 / 400.0));

  // Fewer weeks → shorter horizon, campaign windows rescaled inside it.
  auto q = small_dunnhumby();
  q.num_households = 30;
  q.num_weeks = 20;
  const auto short_data = synthetic::generate_dunnhumby(q);
  CHECK(short_data.households.size() == 30);
  for (const auto& c : short_data.campaigns) {
    CHECK(c.start_day >= 1);
    CHECK(c.end_day <= 140);
    CHECK(c.start_day <= c.end_day);
  }
  CHECK(std::all_of(short_data.transactions.begin(), short_data.transactions.end(),
                    [](const synthetic::Transaction& t) { return t.day <= 140; }));
}

TEST_CASE("Same seed gives identical files for every thread count; another seed differs",
          "[io][synthetic]") {
  auto p = small_dunnhumby(1);
  p.num_households = 80;
  p.num_weeks = 30;
  TempDir a("det_a"), b("det_b"), c("det_c");
  synthetic::write_dunnhumby(synthetic::generate_dunnhumby(p), a.path / "dunnhumby");
  synthetic::write_ipinyou(
      synthetic::generate_ipinyou({.num_impressions = 5000, .seed = 3, .num_threads = 1}),
      a.path / "ipinyou");
  p.num_threads = 4;
  synthetic::write_dunnhumby(synthetic::generate_dunnhumby(p), b.path / "dunnhumby");
  synthetic::write_ipinyou(
      synthetic::generate_ipinyou({.num_impressions = 5000, .seed = 3, .num_threads = 4}),
      b.path / "ipinyou");
  int compared = 0;
  for (const auto& entry : fs::recursive_directory_iterator(a.path)) {
    if (!entry.is_regular_file()) continue;
    const fs::path rel = fs::relative(entry.path(), a.path);
    INFO(rel.string());
    CHECK(read_all(entry.path()) == read_all(b.path / rel));
    ++compared;
  }
  CHECK(compared == 12);

  p.seed = 8;
  synthetic::write_dunnhumby(synthetic::generate_dunnhumby(p), c.path / "dunnhumby");
  CHECK(read_all(a.path / "dunnhumby" / "transaction_data.csv") !=
        read_all(c.path / "dunnhumby" / "transaction_data.csv"));
}

TEST_CASE("TypeA assignment is driven by pre-period spend (poor overlap)", "[io][synthetic]") {
  const auto& data = shared_dunnhumby();
  const auto focal = data.focal_campaign;
  CHECK(focal.description == "TypeA");
  const auto pre = spend_between(data, 1, focal.start_day - 1);
  const double pre_weeks = (focal.start_day - 1) / 7.0;
  Eigen::VectorXd treated(static_cast<Index>(data.households.size()));
  Eigen::VectorXd pre_spend(treated.size()), propensity(treated.size());
  double spend_treated = 0, spend_control = 0, n_treated = 0;
  for (std::size_t i = 0; i < data.households.size(); ++i) {
    const auto& h = data.households[i];
    // The truth file's pre-period spend is the one in transaction_data.csv.
    REQUIRE(h.pre_spend_per_week == Approx(pre[i] / pre_weeks).margin(1e-9));
    treated(static_cast<Index>(i)) = h.treated ? 1.0 : 0.0;
    pre_spend(static_cast<Index>(i)) = pre[i];
    propensity(static_cast<Index>(i)) = h.propensity;
    CHECK(h.propensity >= 0.01);
    CHECK(h.propensity <= 0.99);
    (h.treated ? spend_treated : spend_control) += pre[i];
    n_treated += h.treated;
  }
  const double share = n_treated / static_cast<double>(data.households.size());
  CHECK(share > 0.3);
  CHECK(share < 0.6);
  const double ratio = (spend_treated / n_treated) /
                       (spend_control / (static_cast<double>(data.households.size()) - n_treated));
  CHECK(ratio > 2.5);
  // Observed pre-period spend alone separates treated from control (real data: AUC ≈ 0.95).
  CHECK(tailor::metrics::roc_auc(treated, pre_spend) > 0.9);
  CHECK(tailor::metrics::roc_auc(treated, propensity) > 0.9);
}

TEST_CASE("Realized campaign-window spend matches the documented potential outcomes",
          "[io][synthetic]") {
  const auto& data = shared_dunnhumby();
  const auto focal = data.focal_campaign;
  const auto window = spend_between(data, focal.start_day, focal.end_day);
  std::vector<double> treated_residual, control_residual, treated_lift;
  for (std::size_t i = 0; i < data.households.size(); ++i) {
    const auto& h = data.households[i];
    REQUIRE(h.tau == Approx(h.mu1 - h.mu0));
    if (h.treated) {
      treated_residual.push_back(window[i] - h.mu1);
      treated_lift.push_back(window[i] - h.mu0);
    } else {
      control_residual.push_back(window[i] - h.mu0);
    }
  }
  const auto t = mean_se(treated_residual);
  const auto c = mean_se(control_residual);
  CHECK(std::abs(t.mean) < 4.0 * t.se);
  CHECK(std::abs(c.mean) < 4.0 * c.se);
  // Effect model per segment: premium (index 2) shoppers react negatively, deal seekers (3)
  // and budget families (0) positively.
  std::map<int, std::vector<double>> tau_by_segment;
  for (const auto& h : data.households) tau_by_segment[h.segment].push_back(h.tau);
  CHECK(mean_se(tau_by_segment[2]).mean < 0.0);
  CHECK(mean_se(tau_by_segment[5]).mean < 0.0);
  CHECK(mean_se(tau_by_segment[3]).mean > 0.0);
  CHECK(mean_se(tau_by_segment[0]).mean > 0.0);
  for (const auto& h : data.households) {
    if (h.segment == 2) CHECK(h.tau < 0.0);
  }
}

TEST_CASE("Segments differ in department mix, discounts and visit frequency", "[io][synthetic]") {
  const auto& data = shared_dunnhumby();
  std::map<std::int32_t, int> department;
  for (const auto& p : data.products) department[p.product_id] = p.department;
  const std::size_t n = data.households.size();
  std::vector<std::array<double, synthetic::kNumDepartments>> spend(n);
  std::vector<double> lines(n, 0.0), promo_lines(n, 0.0);
  for (const auto& t : data.transactions) {
    const auto i = static_cast<std::size_t>(t.household_key - 1);
    spend[i][static_cast<std::size_t>(department[t.product_id])] += t.sales_value_cents;
    lines[i] += 1;
    promo_lines[i] += t.retail_disc_cents < 0;
  }
  constexpr int kSegments = 6;
  std::array<std::array<double, synthetic::kNumDepartments>, kSegments> share{};
  std::array<double, kSegments> count{}, promo{}, lines_per_week{};
  for (std::size_t i = 0; i < n; ++i) {
    const int g = data.households[i].segment;
    double total = 0;
    for (double v : spend[i]) total += v;
    if (total <= 0) continue;
    for (int d = 0; d < synthetic::kNumDepartments; ++d) share[g][d] += spend[i][d] / total;
    promo[g] += promo_lines[i] / lines[i];
    lines_per_week[g] += lines[i] / 102.0;
    count[g] += 1;
  }
  for (int g = 0; g < kSegments; ++g) {
    REQUIRE(count[g] >= 10);
    for (auto& v : share[g]) v /= count[g];
    promo[g] /= count[g];
    lines_per_week[g] /= count[g];
  }
  auto argmax = [&](int department_index) {
    int best = 0;
    for (int g = 1; g < kSegments; ++g) {
      if (share[g][department_index] > share[best][department_index]) best = g;
    }
    return best;
  };
  CHECK(argmax(2) == 1);   // PRODUCE: fresh_food
  CHECK(argmax(1) == 5);   // DRUG GM: health_beauty
  CHECK(argmax(10) == 2);  // SPIRITS: premium
  CHECK(share[1][2] > 2.0 * share[0][2]);
  CHECK(std::max_element(promo.begin(), promo.end()) - promo.begin() == 3);  // deal_seekers
  CHECK(std::min_element(lines_per_week.begin(), lines_per_week.end()) - lines_per_week.begin() ==
        4);  // occasional
}

TEST_CASE("Coupon redemptions are consistent with coupon.csv, campaigns and transactions",
          "[io][synthetic]") {
  const auto& data = shared_dunnhumby();
  REQUIRE(!data.redemptions.empty());
  std::set<std::tuple<std::int64_t, std::int32_t, std::int32_t>> coupon_rows;  // upc, product, camp
  for (const auto& c : data.coupons) coupon_rows.insert({c.coupon_upc, c.product_id, c.campaign});
  std::set<std::pair<std::int32_t, std::int32_t>> members;
  for (const auto& m : data.campaign_members) members.insert({m.household_key, m.campaign});
  std::map<std::int32_t, synthetic::Campaign> campaigns;
  for (const auto& c : data.campaigns) campaigns[c.campaign] = c;
  // Treated households are exactly the TypeA campaign's members.
  for (const auto& h : data.households) {
    CHECK(members.count({h.household_key, data.focal_campaign.campaign}) == (h.treated ? 1u : 0u));
  }
  std::set<std::tuple<std::int32_t, std::int32_t, std::int32_t>> coupon_lines;  // hh, day, product
  for (const auto& t : data.transactions) {
    if (t.coupon_disc_cents < 0) coupon_lines.insert({t.household_key, t.day, t.product_id});
  }
  std::map<std::int64_t, std::vector<std::int32_t>> products_of_upc;
  for (const auto& c : data.coupons) products_of_upc[c.coupon_upc].push_back(c.product_id);
  std::set<std::tuple<std::int32_t, std::int64_t>> seen;
  for (const auto& r : data.redemptions) {
    CHECK(members.count({r.household_key, r.campaign}) == 1);
    const auto& c = campaigns.at(r.campaign);
    CHECK(r.day >= c.start_day);
    CHECK(r.day <= c.end_day);
    CHECK(seen.insert({r.household_key, r.coupon_upc}).second);  // at most once each
    // A line that day, by that household, with a coupon discount, on a product the coupon covers.
    bool found = false;
    for (std::int32_t product : products_of_upc[r.coupon_upc]) {
      found = found || (coupon_lines.count({r.household_key, r.day, product}) == 1 &&
                        coupon_rows.count({r.coupon_upc, product, r.campaign}) == 1);
    }
    CHECK(found);
  }
}

TEST_CASE("iPinYou log has the make-ipinyou-data schema and conventions", "[io][synthetic]") {
  const auto data = synthetic::generate_ipinyou({.num_impressions = 3000, .seed = 5});
  TempDir dir("ipinyou");
  synthetic::write_ipinyou(data, dir.path);
  const std::string header =
      "click\tweekday\thour\tbidid\ttimestamp\tlogtype\tipinyouid\tuseragent\tIP\tregion\tcity\t"
      "adexchange\tdomain\turl\turlid\tslotid\tslotwidth\tslotheight\tslotvisibility\tslotformat\t"
      "slotprice\tcreative\tbidprice\tpayprice\tkeypage\tadvertiser\tusertag";
  const auto train = read_lines(dir.path / "train.log.txt");
  const auto test = read_lines(dir.path / "test.log.txt");
  REQUIRE(!train.empty());
  REQUIRE(!test.empty());
  CHECK(train[0] == header);
  CHECK(test[0] == header);
  CHECK(train.size() - 1 == static_cast<std::size_t>(data.num_train));
  CHECK(train.size() + test.size() - 2 == 3000);
  // Days 2013-10-19..25: train = first five, test = last two.
  const std::set<std::string> train_days = {"20131019", "20131020", "20131021", "20131022",
                                            "20131023"};
  const std::set<std::string> visibility = {"FirstView", "SecondView", "OtherView", "Na"};
  for (int part = 0; part < 2; ++part) {
    const auto& lines = part == 0 ? train : test;
    for (std::size_t i = 1; i < lines.size(); ++i) {
      const auto f = split(lines[i], '\t');
      REQUIRE(f.size() == 27);
      REQUIRE((f[0] == "0" || f[0] == "1"));
      REQUIRE(f[3].size() == 32);  // bidid
      REQUIRE(f[4].size() == 17);  // yyyyMMddHHmmssSSS
      CHECK(train_days.count(f[4].substr(0, 8)) == (part == 0 ? 1u : 0u));
      CHECK(f[2] == f[4].substr(8, 2));  // hour
      CHECK(f[5] == "1");                // logtype: impression
      CHECK(f[8].substr(f[8].size() - 2) == ".*");
      CHECK(visibility.count(f[18]) == 1);
      CHECK(std::stoi(f[23]) <= std::stoi(f[22]));  // payprice <= bidprice
      CHECK(std::stoi(f[23]) >= std::stoi(f[20]));  // payprice >= slotprice (floor)
      if (f[26] != "null") {
        for (const auto& tag : split(f[26], ',')) CHECK(tag.size() == 5);
      }
    }
  }
  // 2013-10-19 was a Saturday (weekday 6 with Sunday = 0).
  CHECK(split(train[1], '\t')[1] == "6");
  const auto truth = read_lines(dir.path / "truth_impressions.csv");
  CHECK(truth[0] == "bidid,pctr_true,market_price_mu");
  CHECK(truth.size() == 3001);
  const auto model = read_lines(dir.path / "truth_ctr_model.csv");
  CHECK(model[0] == "term,value");
  CHECK(std::find(model.begin(), model.end(), "ctr:usertag=13866,0.8") != model.end());
}

TEST_CASE("The planted CTR function: documented coefficients and empirical CTR tracking",
          "[io][synthetic]") {
  // Hand computation from the README's table: −5 + 0.35 (hour 21) + 0.25 (adexchange 3)
  // + 0.20 (300x250) + 0.40 (FirstView) + 0.15 (format 1) + 0.20 (region 79)
  // + 0.6 + 0.8 (tags 10006, 13866; 12345 has no effect) + 0.1 (advertiser 2821) = −1.95.
  const std::vector<int> tags = {10006, 12345, 13866};
  synthetic::IpinyouContext c{.hour = 21,
                              .adexchange = 3,
                              .slotwidth = 300,
                              .slotheight = 250,
                              .visibility = 0,
                              .format = 1,
                              .region = 79,
                              .advertiser = 2821,
                              .usertags = tags};
  CHECK(synthetic::ipinyou_ctr_logit(c) == Approx(-1.95).margin(1e-12));
  c.hour = 9;  // cos(π) = −1: 0.7 lower
  CHECK(synthetic::ipinyou_ctr_logit(c) == Approx(-2.65).margin(1e-12));
  c.adexchange = 0;  // null: +0.10 instead of +0.25
  CHECK(synthetic::ipinyou_ctr_logit(c) == Approx(-2.80).margin(1e-12));

  const auto& data = shared_ipinyou();
  double clicks = 0, pctr = 0;
  std::map<int, std::array<double, 3>> by_adx, by_hours;
  double max_pctr_error = 0;
  for (const auto& imp : data.impressions) {
    max_pctr_error = std::max(
        max_pctr_error,
        std::abs(imp.pctr_true -
                 1.0 / (1.0 + std::exp(-synthetic::ipinyou_ctr_logit(data.context(imp))))));
    clicks += imp.click;
    pctr += imp.pctr_true;
    auto& a = by_adx[data.domains[static_cast<std::size_t>(imp.domain)].adexchange];
    auto& h = by_hours[imp.hour / 4];
    for (auto* g : {&a, &h}) {
      (*g)[0] += 1;
      (*g)[1] += imp.click;
      (*g)[2] += imp.pctr_true;
    }
  }
  CHECK(max_pctr_error < 1e-15);
  const double n = static_cast<double>(data.impressions.size());
  CHECK(std::abs(clicks - pctr) < 4.0 * std::sqrt(pctr));
  for (const auto* groups : {&by_adx, &by_hours}) {
    std::vector<double> empirical, expected;
    for (const auto& [key, g] : *groups) {
      INFO("group " << key << ": n = " << g[0] << " clicks = " << g[1] << " expected " << g[2]);
      CHECK(std::abs(g[1] - g[2]) < 4.0 * std::sqrt(g[2]));
      empirical.push_back(g[1] / g[0]);
      expected.push_back(g[2] / g[0]);
    }
    CHECK(tailor::metrics::r2(
              Eigen::Map<Eigen::VectorXd>(empirical.data(), static_cast<Index>(empirical.size())),
              Eigen::Map<Eigen::VectorXd>(expected.data(), static_cast<Index>(expected.size()))) >
          0.6);
  }
  // pctr_true ranks clicks better than chance by a clear margin.
  Eigen::VectorXd y(static_cast<Index>(n)), score(static_cast<Index>(n));
  for (Index k = 0; k < y.size(); ++k) {
    y(k) = data.impressions[static_cast<std::size_t>(k)].click;
    score(k) = data.impressions[static_cast<std::size_t>(k)].pctr_true;
  }
  CHECK(tailor::metrics::roc_auc(y, score) > 0.62);
}

TEST_CASE("Market prices follow the documented log-normal model", "[io][synthetic]") {
  const auto& data = shared_ipinyou();
  const double sigma = data.price_model.sigma;
  // Where the bid leaves room for exp(μ + 3σ), truncation is negligible and
  // E[payprice − slotprice] = E⌊exp(μ + σZ)⌋ ≈ exp(μ + σ²/2) − 1/2.
  double observed = 0, expected = 0, count = 0;
  for (const auto& imp : data.impressions) {
    if (std::exp(imp.market_price_mu + 3.0 * sigma) < imp.bidprice - imp.slotprice) {
      observed += imp.payprice - imp.slotprice;
      expected += std::exp(imp.market_price_mu + 0.5 * sigma * sigma) - 0.5;
      count += 1;
    }
  }
  REQUIRE(count > 2000);
  CHECK(observed / count == Approx(expected / count).epsilon(0.03));
  // Valuable (high-pCTR) impressions are pricier: μ rises with the CTR logit.
  synthetic::IpinyouContext c{.hour = 21, .adexchange = 1, .visibility = 1, .format = 0};
  const double mu_low = synthetic::ipinyou_market_price_mu(c);
  const std::vector<int> tags = {13866};
  c.usertags = tags;
  CHECK(synthetic::ipinyou_market_price_mu(c) == Approx(mu_low + 0.3 * 0.8));
  // base 3.4 + SecondView 0 + adexchange 1: 0 + size 300x250: 0.20, plus 0.3 · (logit − intercept)
  // with logit − intercept = 0.35 (hour 21) + 0.20 (300x250) − 0.20 (advertiser 2259).
  CHECK(mu_low == Approx(3.4 + 0.20 + 0.3 * (0.35 + 0.20 - 0.20)));
}

TEST_CASE("Bad parameters and unwritable paths throw with clear messages", "[io][synthetic]") {
  using Catch::Contains;
  auto p = small_dunnhumby();
  p.num_households = 0;
  CHECK_THROWS_WITH(synthetic::generate_dunnhumby(p),
                    "DunnhumbyParams: num_households = 0, expected a value in [1, 10000000]");
  p = small_dunnhumby();
  p.num_weeks = 5;
  CHECK_THROWS_AS(synthetic::generate_dunnhumby(p), tailor::InvalidArgument);
  CHECK_THROWS_WITH(synthetic::generate_dunnhumby(p),
                    "DunnhumbyParams: num_weeks = 5, expected a value in [12, 520]");
  p = small_dunnhumby();
  p.visit_scale = 0.0;
  CHECK_THROWS_WITH(synthetic::generate_dunnhumby(p), Contains("visit_scale = 0, expected"));
  p = small_dunnhumby();
  p.demographics_share = 1.5;
  CHECK_THROWS_WITH(synthetic::generate_dunnhumby(p), Contains("demographics_share = 1.5"));
  p = small_dunnhumby();
  p.num_products = 10;
  CHECK_THROWS_WITH(synthetic::generate_dunnhumby(p), Contains("num_products = 10"));
  CHECK_THROWS_WITH(synthetic::generate_ipinyou({.num_impressions = 0}),
                    "IpinyouParams: num_impressions = 0, expected a value in [1, 100000000]");
  CHECK_THROWS_WITH(synthetic::generate_ipinyou({.num_days = 3, .test_days = 3}),
                    "IpinyouParams: test_days = 3, expected a value in [1, num_days - 1]");

  TempDir dir("bad");
  {
    std::ofstream blocker(dir.path / "not_a_dir");
    blocker << "x";
  }
  const auto data = synthetic::generate_ipinyou({.num_impressions = 10});
  CHECK_THROWS_AS(synthetic::write_ipinyou(data, dir.path / "not_a_dir" / "sub"), tailor::Error);
  CHECK_THROWS_WITH(synthetic::write_ipinyou(data, dir.path / "not_a_dir" / "sub"),
                    Contains("cannot create directory") && Contains("not_a_dir"));
}

TEST_CASE("The bundled examples/data sample is what the documented command writes",
          "[io][synthetic]") {
  // examples/data/README.md: generate_data --out examples/data --households 300 --weeks 102
  //   --products 2000 --visit-scale 0.2 --impressions 6000 --seed 2024
  const char* tests_dir = std::getenv("TAILOR_TEST_SOURCE_DIR");  // set by CTest
  const fs::path bundled =
      (tests_dir ? fs::path(tests_dir) : fs::path(__FILE__).parent_path() / "..") / ".." /
      "examples" / "data";
  if (!fs::exists(bundled / "dunnhumby" / "transaction_data.csv")) {
    WARN("bundled sample not found at " << bundled.string() << "; skipped");
    return;
  }
  TempDir dir("bundled");
  synthetic::write_dunnhumby(synthetic::generate_dunnhumby({.num_households = 300,
                                                            .num_weeks = 102,
                                                            .num_products = 2000,
                                                            .visit_scale = 0.2,
                                                            .seed = 2024}),
                             dir.path / "dunnhumby");
  synthetic::write_ipinyou(synthetic::generate_ipinyou({.num_impressions = 6000, .seed = 2024}),
                           dir.path / "ipinyou");
  int compared = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path)) {
    if (!entry.is_regular_file()) continue;
    const fs::path rel = fs::relative(entry.path(), dir.path);
    INFO(rel.string() << " differs: regenerate examples/data with the README's command");
    CHECK(read_all(entry.path()) == read_all(bundled / rel));
    ++compared;
  }
  CHECK(compared == 12);
}
