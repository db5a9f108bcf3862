// tailor/io/synthetic.hpp — synthetic retail and real-time-bidding data with planted, documented
// structure, written in the public schemas of two datasets tailor's examples use:
//
//  * Dunnhumby "The Complete Journey" (original CSV release: transaction_data.csv, product.csv,
//    hh_demographic.csv, campaign_table.csv, campaign_desc.csv, coupon.csv, coupon_redempt.csv),
//    with K = 6 household segments, a TypeA campaign targeted at heavy spenders (poor overlap,
//    propensity AUC ≈ 0.95 as in the real data) whose effect on campaign-window spend differs by
//    segment (negative for "premium": sleeping dogs), and the true per-household propensity and
//    effect written to truth_households.csv.
//  * iPinYou RTB impression logs (make-ipinyou-data train.log.txt / test.log.txt, tab-separated
//    with a header), with a known logistic CTR function and a documented log-normal market-price
//    (payprice) model; the true pCTR per impression goes to truth_impressions.csv and the
//    coefficients to truth_ctr_model.csv.
//
// The generative models (formulas and every parameter value) are documented next to the code
// below and in examples/data/README.md. All randomness comes from tailor::Rng streams derived
// per household / per impression from the seed, so output is identical for every num_threads.
// Complexity: O(rows) time; memory O(rows) (the tables are materialized, ~48 bytes per
// transaction row and ~150 bytes per impression).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"

namespace tailor::io::synthetic {

// =================================================================================================
// Output helpers
// =================================================================================================
namespace detail {

/// A buffered text file written through fmt; throws tailor::Error when the file cannot be
/// opened or written.
class TextFile {
 public:
  explicit TextFile(const std::filesystem::path& path) : path_(path) {
    file_ = std::fopen(path.string().c_str(), "wb");
    if (file_ == nullptr) {
      raise<Error>("synthetic: cannot open '{}' for writing", path.string());
    }
  }
  TextFile(const TextFile&) = delete;
  TextFile& operator=(const TextFile&) = delete;
  ~TextFile() {
    if (file_ != nullptr) std::fclose(file_);
  }

  fmt::memory_buffer& buffer() { return buffer_; }

  /// Flushes the buffer when it holds more than 1 MiB (call after each row).
  void maybe_flush() {
    if (buffer_.size() > (std::size_t{1} << 20)) flush();
  }

  void close() {
    flush();
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) raise<Error>("synthetic: cannot close '{}'", path_.string());
  }

 private:
  void flush() {
    if (buffer_.size() == 0) return;
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
      raise<Error>("synthetic: cannot write '{}'", path_.string());
    }
    buffer_.clear();
  }

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  fmt::memory_buffer buffer_;
};

/// Appends an amount in cents the way the original Dunnhumby CSVs print money: shortest
/// decimal form, no trailing zeros (139 → "1.39", -60 → "-0.6", 200 → "2", 0 → "0").
inline void append_cents(fmt::memory_buffer& out, std::int64_t cents) {
  if (cents < 0) {
    out.push_back('-');
    cents = -cents;
  }
  const std::int64_t whole = cents / 100;
  const std::int64_t frac = cents % 100;
  if (frac == 0) {
    fmt::format_to(std::back_inserter(out), "{}", whole);
  } else if (frac % 10 == 0) {
    fmt::format_to(std::back_inserter(out), "{}.{}", whole, frac / 10);
  } else {
    fmt::format_to(std::back_inserter(out), "{}.{:02}", whole, frac);
  }
}

inline void create_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    raise<Error>("synthetic: cannot create directory '{}'", dir.string());
  }
}

inline double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

/// Stream ids: (purpose << 40) | index, so each purpose has its own family of streams.
inline constexpr std::uint64_t stream_id(std::uint64_t purpose, std::uint64_t index) {
  return (purpose << 40) | index;
}

}  // namespace detail

// =================================================================================================
// Dunnhumby "The Complete Journey"
// =================================================================================================

inline constexpr int kNumDepartments = 12;
/// The departments products belong to (the twelve largest of the real product.csv).
inline constexpr std::array<std::string_view, kNumDepartments> kDepartments = {
    "GROCERY", "DRUG GM",   "PRODUCE",   "MEAT",          "MEAT-PCKGD", "DELI",
    "PASTRY",  "NUTRITION", "COSMETICS", "SEAFOOD-PCKGD", "SPIRITS",    "FLORAL"};

inline constexpr std::array<std::string_view, 6> kAgeDesc = {"19-24", "25-34", "35-44",
                                                             "45-54", "55-64", "65+"};
inline constexpr std::array<std::string_view, 12> kIncomeDesc = {
    "Under 15K", "15-24K",   "25-34K",   "35-49K",   "50-74K",   "75-99K",
    "100-124K",  "125-149K", "150-174K", "175-199K", "200-249K", "250K+"};
inline constexpr std::array<std::string_view, 3> kMaritalStatus = {"A", "B", "U"};
inline constexpr std::array<std::string_view, 5> kHomeownerDesc = {
    "Homeowner", "Renter", "Probable Owner", "Probable Renter", "Unknown"};
inline constexpr std::array<std::string_view, 6> kHouseholdComposition = {
    "1 Adult Kids", "2 Adults Kids", "2 Adults No Kids", "Single Female", "Single Male", "Unknown"};
inline constexpr std::array<std::string_view, 5> kHouseholdSize = {"1", "2", "3", "4", "5+"};
inline constexpr std::array<std::string_view, 4> kKidCategory = {"1", "2", "3+", "None/Unknown"};

/// One planted household segment: behaviour, demographics and TypeA-campaign effect.
struct SegmentProfile {
  std::string_view name;
  double share;              ///< share of households
  double visits_per_week;    ///< mean shopping trips per week (before visit_scale)
  double items_per_basket;   ///< mean basket lines; lines = 1 + Poisson(items − 1)
  double price_level;        ///< multiplies every product's base price
  double quantity_extra;     ///< QUANTITY = 1 + Poisson(quantity_extra)
  double promo_share;        ///< P(a line is on retail promotion: RETAIL_DISC < 0)
  double coupon_propensity;  ///< P(redeeming an applicable campaign coupon, per line)
  double visit_lift;         ///< TypeA effect on the visit rate in the campaign window
  double basket_lift;        ///< TypeA effect on the mean lines per basket in the window
  std::array<double, kNumDepartments> department_mix;  ///< line shares by department
  std::array<double, 6> age_weights;                   ///< over kAgeDesc
  std::array<double, 12> income_weights;               ///< over kIncomeDesc
  std::array<double, 6> composition_weights;           ///< over kHouseholdComposition
};

/// The K = 6 planted segments (the table is documented in examples/data/README.md).
inline const std::array<SegmentProfile, 6>& dunnhumby_segments() {
  //  GROCERY DRUG_GM PRODUCE MEAT MEAT-PCKGD DELI PASTRY NUTRITION COSMETICS SEAFOOD SPIRITS FLORAL
  static const std::array<SegmentProfile, 6> segments = {{
      {"budget_families",
       0.20,
       1.5,
       13.0,
       0.85,
       0.45,
       0.30,
       0.05,
       0.10,
       0.05,
       {0.66, 0.10, 0.07, 0.03, 0.07, 0.015, 0.02, 0.005, 0.003, 0.004, 0.001, 0.001},
       {0.03, 0.25, 0.35, 0.25, 0.08, 0.04},
       {0.08, 0.10, 0.15, 0.25, 0.25, 0.10, 0.04, 0.015, 0.01, 0.005, 0.0, 0.0},
       {0.12, 0.55, 0.12, 0.08, 0.05, 0.08}},
      {"fresh_food",
       0.17,
       1.3,
       9.0,
       1.05,
       0.25,
       0.15,
       0.02,
       0.05,
       0.02,
       {0.40, 0.05, 0.25, 0.10, 0.03, 0.07, 0.04, 0.03, 0.004, 0.02, 0.002, 0.004},
       {0.04, 0.15, 0.22, 0.32, 0.15, 0.12},
       {0.04, 0.06, 0.08, 0.20, 0.26, 0.16, 0.08, 0.05, 0.04, 0.015, 0.01, 0.005},
       {0.05, 0.20, 0.40, 0.17, 0.10, 0.08}},
      {"premium",
       0.13,
       1.1,
       10.0,
       1.45,
       0.25,
       0.08,
       0.01,
       -0.10,
       -0.05,
       {0.48, 0.07, 0.12, 0.09, 0.03, 0.07, 0.03, 0.03, 0.02, 0.02, 0.03, 0.012},
       {0.01, 0.10, 0.22, 0.40, 0.15, 0.12},
       {0.01, 0.02, 0.04, 0.10, 0.20, 0.18, 0.14, 0.12, 0.09, 0.04, 0.03, 0.03},
       {0.03, 0.25, 0.45, 0.10, 0.10, 0.07}},
      {"deal_seekers",
       0.16,
       1.2,
       9.0,
       0.95,
       0.35,
       0.55,
       0.12,
       0.25,
       0.10,
       {0.62, 0.15, 0.07, 0.035, 0.06, 0.015, 0.015, 0.01, 0.012, 0.006, 0.001, 0.001},
       {0.05, 0.18, 0.25, 0.30, 0.10, 0.12},
       {0.10, 0.12, 0.14, 0.25, 0.22, 0.10, 0.04, 0.02, 0.01, 0.0, 0.0, 0.0},
       {0.08, 0.25, 0.30, 0.18, 0.10, 0.09}},
      {"occasional",
       0.22,
       0.35,
       6.0,
       1.0,
       0.20,
       0.18,
       0.01,
       0.30,
       0.0,
       {0.58, 0.14, 0.09, 0.03, 0.05, 0.03, 0.02, 0.01, 0.005, 0.004, 0.006, 0.004},
       {0.12, 0.28, 0.22, 0.22, 0.08, 0.08},
       {0.10, 0.10, 0.12, 0.22, 0.24, 0.12, 0.05, 0.03, 0.01, 0.005, 0.005, 0.0},
       {0.04, 0.12, 0.25, 0.22, 0.27, 0.10}},
      {"health_beauty",
       0.12,
       0.8,
       6.0,
       1.10,
       0.20,
       0.20,
       0.03,
       -0.05,
       0.0,
       {0.42, 0.28, 0.08, 0.015, 0.02, 0.02, 0.01, 0.08, 0.06, 0.004, 0.002, 0.008},
       {0.08, 0.20, 0.22, 0.30, 0.10, 0.10},
       {0.08, 0.10, 0.10, 0.22, 0.24, 0.14, 0.06, 0.03, 0.02, 0.005, 0.005, 0.0},
       {0.08, 0.15, 0.25, 0.35, 0.08, 0.09}},
  }};
  return segments;
}

/// Settings of the Dunnhumby-like generator. Defaults give the size of the real release
/// (2,500 households, 102 weeks, ≈ 2.6 M transaction rows).
struct DunnhumbyParams {
  Index num_households = 2500;  ///< households (household_key 1..N)
  int num_weeks = 102;          ///< DAY runs 1..7·num_weeks, WEEK_NO = (DAY − 1) / 7 + 1
  Index num_products = 5000;    ///< catalogue size (product.csv rows)
  Index num_stores = 40;        ///< distinct STORE_IDs
  double visit_scale = 1.0;     ///< multiplies every visit rate (shrinks the file, not the model)
  double demographics_share = 0.32;  ///< households with an hh_demographic row (801/2500 real)
  std::uint64_t seed = 42;
  Index num_threads = 0;  ///< 0 = all cores; output is identical for every value
};

/// One transaction_data.csv row. Money is in integer cents (discounts ≤ 0, as in the release).
struct Transaction {
  std::int64_t basket_id = 0;
  std::int32_t household_key = 0;
  std::int32_t product_id = 0;
  std::int32_t sales_value_cents = 0;  ///< what the retailer receives (after RETAIL_DISC)
  std::int32_t store_id = 0;
  std::int32_t retail_disc_cents = 0;        ///< ≤ 0
  std::int32_t coupon_disc_cents = 0;        ///< ≤ 0
  std::int32_t coupon_match_disc_cents = 0;  ///< ≤ 0
  std::int16_t day = 0;
  std::int16_t quantity = 0;
  std::int16_t trans_time = 0;  ///< HHMM as an integer (1631 = 16:31)
  std::int16_t week_no = 0;
};

struct Product {
  std::int32_t product_id = 0;
  std::int32_t manufacturer = 0;
  int department = 0;  ///< index into kDepartments
  bool private_brand = false;
  std::string_view commodity;
  std::string_view sub_commodity;
  std::string_view size;  ///< CURR_SIZE_OF_PRODUCT, may be empty
  double base_price = 0;  ///< shelf price per unit at price level 1 (not written)
  double popularity = 0;  ///< relative choice weight within its department (not written)
};

struct Demographics {
  std::int32_t household_key = 0;
  int age = 0, marital_status = 0, income = 0, homeowner = 0, composition = 0, size = 0, kids = 0;
};

struct Campaign {
  std::string_view description;  ///< "TypeA", "TypeB" or "TypeC"
  std::int32_t campaign = 0;
  std::int32_t start_day = 0;
  std::int32_t end_day = 0;
};

struct CampaignMember {
  std::int32_t household_key = 0;
  std::int32_t campaign = 0;
};

struct Coupon {
  std::int64_t coupon_upc = 0;
  std::int32_t product_id = 0;
  std::int32_t campaign = 0;
};

struct Redemption {
  std::int32_t household_key = 0;
  std::int32_t day = 0;
  std::int64_t coupon_upc = 0;
  std::int32_t campaign = 0;
};

/// The planted truth for one household (truth_households.csv).
struct HouseholdTruth {
  std::int32_t household_key = 0;
  int segment = 0;
  double visit_rate = 0;          ///< expected visits per week (after visit_scale)
  double items_per_basket = 0;    ///< expected lines per basket
  double item_value = 0;          ///< expected SALES_VALUE per line in dollars
  double pre_spend_per_week = 0;  ///< observed SALES_VALUE per week before the TypeA window
  double propensity = 0;          ///< P(TypeA | pre-period behaviour)
  bool treated = false;
  double visit_lift = 0, basket_lift = 0;
  double mu0 = 0;  ///< E[SALES_VALUE over the TypeA window | not treated], dollars
  double mu1 = 0;  ///< E[SALES_VALUE over the TypeA window | treated], dollars
  double tau = 0;  ///< mu1 − mu0
};

struct DunnhumbyData {
  DunnhumbyParams params;
  std::vector<Transaction> transactions;  ///< in BASKET_ID order
  std::vector<Product> products;          ///< in PRODUCT_ID order
  std::vector<Demographics> demographics;
  std::vector<Campaign> campaigns;  ///< in CAMPAIGN order
  std::vector<CampaignMember> campaign_members;
  std::vector<Coupon> coupons;
  std::vector<Redemption> redemptions;
  std::vector<HouseholdTruth> households;  ///< household_key = index + 1
  Campaign focal_campaign;                 ///< the TypeA campaign with the planted effect
};

namespace detail {

struct CommoditySpec {
  int department;
  std::string_view commodity;
  std::array<std::string_view, 3> sub_commodities;  // empty entries unused
  double mean_price;
  std::array<std::string_view, 3> sizes;  // empty entries = blank size
};

/// Commodity list per department, names as in the real product.csv.
inline std::span<const CommoditySpec> commodities() {
  static const CommoditySpec table[] = {
      {0,
       "SOFT DRINKS",
       {"SOFT DRINKS 12/18&15PK CAN CAR", "SFT DRNK 2 LITER BTL CARB INCL",
        "SFT DRNK SNGL SRV BTL CARB (EXC)"},
       3.2,
       {"12 OZ", "2 LTR", "20 OZ"}},
      {0,
       "FLUID MILK PRODUCTS",
       {"FLUID MILK WHITE ONLY", "FLUID MILK FLAVORED", ""},
       2.4,
       {"1 GA", "64 OZ", "1/2 GA"}},
      {0,
       "BAKED BREAD/BUNS/ROLLS",
       {"MAINSTREAM WHITE BREAD", "MAINSTREAM VARIETY BREADS", "HAMBURGER BUNS"},
       2.1,
       {"20 OZ", "24 OZ", "12 OZ"}},
      {0,
       "CHEESE",
       {"SHREDDED CHEESE", "STRING CHEESE", "AMERICAN SINGLES"},
       2.6,
       {"8 OZ", "12 OZ", "16 OZ"}},
      {0,
       "BAG SNACKS",
       {"POTATO CHIPS", "TORTILLA/NACHO CHIPS", "PRETZELS"},
       2.7,
       {"10 OZ", "13 OZ", "16 OZ"}},
      {0,
       "COLD CEREAL",
       {"ALL FAMILY CEREAL", "KIDS CEREAL", "ADULT CEREAL"},
       3.1,
       {"12 OZ", "15 OZ", "18 OZ"}},
      {0,
       "YOGURT",
       {"YOGURT NOT MULTI-PACKS", "YOGURT MULTI-PACKS", ""},
       1.2,
       {"6 OZ", "32 OZ", ""}},
      {0,
       "FROZEN PIZZA",
       {"PIZZA/PREMIUM", "PIZZA/ECONOMY SIZE", ""},
       4.5,
       {"23 OZ", "12.5 OZ", ""}},
      {0,
       "BEERS/ALES",
       {"BEERALEMALT LIQUORS", "PREMIUM BEER/ALE", ""},
       8.5,
       {"12 OZ", "6/12 OZ", ""}},
      {0, "SPICES & EXTRACTS", {"SPICES & SEASONINGS", "", ""}, 3.0, {"2 OZ", "", ""}},
      {0, "SOUP", {"CONDENSED SOUP", "READY TO SERVE SOUP", ""}, 1.4, {"10.75 OZ", "18.6 OZ", ""}},
      {0, "EGGS", {"EGGS - LARGE", "EGGS - X-LARGE", ""}, 1.9, {"1 DZ", "", ""}},
      {1, "CIGARETTES", {"CIGARETTES", "", ""}, 7.5, {"20 CT", "", ""}},
      {1,
       "GREETING CARDS/WRAP/PARTY SPLY",
       {"CARDS EVERYDAY", "GIFT-WRAP EVERYDAY", "CARDS SEASONAL"},
       3.3,
       {"", "", ""}},
      {1,
       "HAIR CARE PRODUCTS",
       {"SHAMPOO", "CONDITIONERS AND CREME RINSES", ""},
       4.2,
       {"12.6 OZ", "25.4 OZ", ""}},
      {1,
       "CANDY - PACKAGED",
       {"CANDY BAGS-CHOCOLATE", "SEASONAL CANDY BAGS-CHOCOLATE", ""},
       2.9,
       {"11 OZ", "", ""}},
      {1,
       "VITAMINS",
       {"VITAMIN - MINERALS", "VITAMIN - MULTIPLE", ""},
       8.0,
       {"100 CT", "60 CT", ""}},
      {1, "COLD AND FLU", {"COLD/FLU ADULT", "COUGH DROPS", ""}, 5.5, {"24 CT", "", ""}},
      {1,
       "DIAPERS & DISPOSABLES",
       {"BABY DIAPERS", "BABY WIPES", ""},
       11.0,
       {"40 CT", "72 CT", ""}},
      {2, "TROPICAL FRUIT", {"BANANAS", "", ""}, 1.0, {"40 LB", "", ""}},
      {2, "VEGETABLES - ALL OTHERS", {"CELERY", "VEGETABLES ALL OTHER", ""}, 1.5, {"", "", ""}},
      {2, "BERRIES", {"STRAWBERRIES", "BLUEBERRIES", ""}, 3.2, {"16 OZ", "6 OZ", ""}},
      {2, "SALAD MIX", {"BLENDS", "", ""}, 2.8, {"10 OZ", "8 OZ", ""}},
      {2, "POTATOES", {"POTATOES RUSSET (BULK&BAG)", "", ""}, 2.9, {"10 LB", "5 LB", ""}},
      {2, "CITRUS", {"ORANGES NAVELS ALL", "GRAPEFRUIT", ""}, 2.0, {"", "", ""}},
      {2,
       "APPLES",
       {"APPLES GALA (BULK&BAG)", "APPLES RED DELICIOUS (BULK&BAG)", ""},
       2.6,
       {"3 LB", "", ""}},
      {3, "BEEF", {"CHOICE BEEF", "PRIMAL", "LEAN"}, 7.5, {"", "", ""}},
      {3,
       "CHICKEN",
       {"CHICKEN BREAST BONELESS", "CHICKEN LEGS/THIGHS/DRUMS", ""},
       6.0,
       {"", "", ""}},
      {3, "PORK", {"ENHANCED", "RIBS", ""}, 5.5, {"", "", ""}},
      {4, "LUNCHMEAT", {"POULTRY", "HAM", "BOLOGNA"}, 3.0, {"16 OZ", "9 OZ", ""}},
      {4, "DINNER SAUSAGE", {"SMOKED/COOKED", "FRESH", ""}, 3.5, {"14 OZ", "16 OZ", ""}},
      {4, "BACON", {"BACON - TRADITIONAL 16OZ OR LESS", "", ""}, 4.5, {"16 OZ", "12 OZ", ""}},
      {4, "HOT DOGS", {"HOT DOGS - REGULAR", "", ""}, 2.8, {"16 OZ", "", ""}},
      {5, "CHEESES", {"CHEESE:SPECIALTY PREPACK", "CHEESE: NATURAL BULK", ""}, 4.5, {"", "", ""}},
      {5, "DELI MEATS", {"MEAT:HAM BULK", "MEAT: TURKEY BULK", ""}, 4.8, {"", "", ""}},
      {5, "SUSHI", {"SUSHI - IN STORE PREPARED", "", ""}, 6.5, {"", "", ""}},
      {6, "COOKIES", {"COOKIES: REGULAR", "COOKIES: HOLIDAY/SPECIAL OCCAS", ""}, 3.0, {"", "", ""}},
      {6, "CAKES", {"CAKES: LAYERS", "CAKES: NOVELTIES", ""}, 6.0, {"", "", ""}},
      {6, "BREAD", {"BREAD:ITALIAN/FRENCH", "", ""}, 2.4, {"", "", ""}},
      {6, "BREAKFAST SWEETS", {"SW GDS:DONUTS", "", ""}, 3.0, {"", "", ""}},
      {7, "FITNESS&DIET", {"FITNESS&DIET - BARS", "", ""}, 3.5, {"", "", ""}},
      {7, "CEREAL/BREAKFAST", {"CEREAL - COLD", "", ""}, 3.8, {"", "", ""}},
      {7, "DRIED FRUIT", {"DRIED FRUIT - OTHER", "", ""}, 3.2, {"", "", ""}},
      {7, "REFRIGERATED", {"JUICE", "YOGURT", ""}, 3.0, {"", "", ""}},
      {8, "MAKEUP AND TREATMENT", {"MAYBELLINE", "COVERGIRL", "REVLON"}, 5.5, {"", "", ""}},
      {9,
       "SEAFOOD - FROZEN",
       {"FRZN BRD STICK/PORTON", "SEAFOOD-FRZ-RAW FILLETS", "SEAFOOD-FRZ-IQF RAW SHRIMP RW"},
       6.0,
       {"", "", ""}},
      {9, "SEAFOOD-FRESH", {"SEAFOOD-FRE-NON RW-ALL", "", ""}, 7.0, {"", "", ""}},
      {10,
       "LIQUOR",
       {"TRADITIONAL VODKA", "BOURBON/TN WHISKEY", "LIQUEURS/SPECIALTIES (42 UNDER"},
       13.0,
       {"750 ML", "1.75 LTR", ""}},
      {11, "FLORAL-FRESH CUT", {"MUMS", "ENHANCED FLOWER DISPLAY", ""}, 8.0, {"", "", ""}},
      {11, "ROSES", {"ROSE CONSUMER BUNCH", "", ""}, 10.0, {"", "", ""}},
      {11, "FLORAL BALLOONS", {"BALLOONS 18IN PKG NON LICENSED", "", ""}, 3.0, {"", "", ""}},
  };
  return table;
}

/// Share of the catalogue per department (approximately the real product.csv).
inline constexpr std::array<double, kNumDepartments> kCatalogShare = {
    0.42, 0.30, 0.04, 0.03, 0.03, 0.03, 0.025, 0.035, 0.035, 0.008, 0.005, 0.012};

/// Day-of-week weights (day 1 is weekday 0); they sum to 7 so the weekly rate is kept.
inline constexpr std::array<double, 7> kDayOfWeekWeight = {1.25, 0.85, 0.80, 0.85,
                                                           0.95, 1.10, 1.20};

/// Shopping hour profile (relative weights for hours 0..23).
inline constexpr std::array<double, 24> kHourWeight = {
    0.05, 0.03, 0.02, 0.02, 0.02, 0.05, 0.2, 0.5, 0.9, 1.2, 1.4, 1.5,
    1.6,  1.5,  1.4,  1.5,  1.7,  1.9,  1.8, 1.4, 1.0, 0.6, 0.3, 0.1};

/// Retail promotion depth: RETAIL_DISC = −U(kPromoDepthLow, kPromoDepthHigh) · shelf value.
inline constexpr double kPromoDepthLow = 0.10;
inline constexpr double kPromoDepthHigh = 0.45;

/// Real campaign_desc.csv rows (DESCRIPTION, CAMPAIGN, START_DAY, END_DAY, households reached
/// of 2,500). Only one TypeA campaign (8) is kept so the treatment is unambiguous.
struct CampaignTemplate {
  std::string_view description;
  int campaign, start_day, end_day, reach;
};
inline constexpr std::array<CampaignTemplate, 26> kCampaignTemplates = {{
    {"TypeB", 1, 346, 383, 13},   {"TypeB", 2, 351, 383, 48},   {"TypeC", 3, 356, 412, 12},
    {"TypeB", 4, 372, 404, 81},   {"TypeB", 5, 377, 411, 166},  {"TypeC", 6, 393, 425, 65},
    {"TypeB", 7, 398, 432, 198},  {"TypeA", 8, 412, 460, 1076}, {"TypeB", 9, 435, 467, 176},
    {"TypeB", 10, 463, 495, 123}, {"TypeB", 11, 477, 523, 214}, {"TypeB", 12, 477, 509, 170},
    {"TypeC", 14, 531, 596, 224}, {"TypeC", 15, 547, 708, 17},  {"TypeB", 16, 561, 593, 188},
    {"TypeB", 17, 575, 607, 202}, {"TypeB", 19, 603, 635, 130}, {"TypeC", 20, 615, 685, 244},
    {"TypeB", 21, 624, 656, 65},  {"TypeB", 22, 624, 656, 276}, {"TypeB", 23, 646, 684, 183},
    {"TypeB", 24, 659, 719, 100}, {"TypeB", 25, 659, 691, 187}, {"TypeC", 27, 237, 300, 12},
    {"TypeB", 28, 259, 320, 17},  {"TypeB", 29, 281, 334, 118},
}};
inline constexpr int kFocalCampaign = 8;

/// TypeA assignment (propensity) model:
///   e_i = clip( σ(kAssignSlope · (log1p(s_i / visit_scale) − kAssignCenter)), 0.01, 0.99 ),
/// s_i = the household's observed SALES_VALUE per week before the TypeA window.
inline constexpr double kAssignSlope = 7.0;
inline constexpr double kAssignCenter = 3.5;
inline constexpr double kPropensityClip = 0.01;

/// Stream purposes.
inline constexpr std::uint64_t kStreamCatalog = 1, kStreamHousehold = 2, kStreamAssign = 3,
                               kStreamBaskets = 4, kStreamCampaigns = 5;

struct Line {
  std::int32_t product = 0;  // index into products
  std::int16_t quantity = 0;
  std::int32_t sales = 0, retail = 0, coupon = 0, match = 0;
};

struct Basket {
  std::int32_t household = 0;  // index
  std::int16_t day = 0;
  std::int16_t time = 0;
  std::int32_t store = 0;
  std::int32_t first_line = 0, num_lines = 0;
};

struct HouseholdState {
  Rng rng{0};
  int segment = 0;
  double visit_rate = 0, items = 0, price_level = 0, quantity_extra = 0, promo = 0, coupon = 0;
  double visit_lift = 0, basket_lift = 0;
  std::array<double, kNumDepartments> mix{};
  std::int32_t home_store = 0;
  std::vector<int> campaigns;  // indices into the campaign list the household is a member of
  std::vector<Basket> baskets;
  std::vector<Line> lines;
  std::vector<std::int64_t> redeemed;  // coupon UPCs already redeemed
  std::vector<Redemption> redemptions;
};

struct CatalogIndex {
  // per department: product indices and the cumulative popularity for inverse-CDF draws
  std::array<std::vector<std::int32_t>, kNumDepartments> products;
  std::array<std::vector<double>, kNumDepartments> cumulative;
  std::array<double, kNumDepartments> mean_price{};  // popularity-weighted base price
  // coupons per product: (campaign index, coupon UPC)
  std::vector<std::vector<std::pair<int, std::int64_t>>> product_coupons;
};

inline int draw_index(Rng& rng, std::span<const double> weights) {
  return static_cast<int>(rng.categorical(weights));
}

inline double lognormal_mean_one(Rng& rng, double sd) {
  return std::exp(sd * rng.normal() - 0.5 * sd * sd);
}

/// A draw from Dirichlet(concentration · mean).
inline std::array<double, kNumDepartments> dirichlet(
    Rng& rng, const std::array<double, kNumDepartments>& mean, double concentration) {
  std::array<double, kNumDepartments> out{};
  double total = 0;
  for (int d = 0; d < kNumDepartments; ++d) {
    out[d] = mean[d] > 0 ? rng.gamma(concentration * mean[d]) : 0.0;
    total += out[d];
  }
  for (auto& v : out) v /= total;
  return out;
}

inline std::vector<Product> make_catalog(const DunnhumbyParams& params, Rng& rng) {
  const auto specs = commodities();
  std::array<std::vector<int>, kNumDepartments> specs_of;
  for (int c = 0; c < static_cast<int>(specs.size()); ++c)
    specs_of[specs[c].department].push_back(c);
  // Product count per department: at least 3 each, the rest by catalogue share.
  std::array<Index, kNumDepartments> count{};
  Index assigned = 0;
  for (int d = 0; d < kNumDepartments; ++d) {
    count[d] = std::max<Index>(
        3, static_cast<Index>(
               std::floor(kCatalogShare[d] * static_cast<double>(params.num_products))));
    assigned += count[d];
  }
  count[0] += std::max<Index>(0, params.num_products - assigned);  // remainder to GROCERY
  std::vector<Product> products;
  for (int d = 0; d < kNumDepartments; ++d) {
    for (Index k = 0; k < count[d]; ++k) {
      const CommoditySpec& spec =
          specs[static_cast<std::size_t>(specs_of[d][rng.uniform_index(specs_of[d].size())])];
      Product p;
      p.department = d;
      p.commodity = spec.commodity;
      int num_subs = 0;
      while (num_subs < 3 && !spec.sub_commodities[num_subs].empty()) ++num_subs;
      p.sub_commodity =
          spec.sub_commodities[rng.uniform_index(static_cast<std::uint64_t>(num_subs))];
      p.size = spec.sizes[rng.uniform_index(3)];
      p.private_brand = rng.uniform() < 0.3;
      // Private label is made by manufacturer 69 in the real release.
      p.manufacturer =
          p.private_brand ? 69 : static_cast<std::int32_t>(1 + rng.uniform_index(6476));
      const double brand_factor = p.private_brand ? 0.55 : 0.8;
      p.base_price = std::max(0.25, spec.mean_price * brand_factor * lognormal_mean_one(rng, 0.35));
      // Zipf-like popularity: a few best sellers per department.
      p.popularity = 1.0 / std::pow(1.0 + static_cast<double>(k), 0.8);
      products.push_back(p);
    }
  }
  // Shuffle so PRODUCT_ID order does not reveal the department, then assign increasing ids
  // spread over the real range (25,671 .. ≈ 18 M).
  shuffle(products, rng);
  const double gap = 18.0e6 / static_cast<double>(products.size());
  std::int64_t id = 25671;
  for (auto& p : products) {
    p.product_id = static_cast<std::int32_t>(id);
    id += 1 + static_cast<std::int64_t>(rng.uniform_index(static_cast<std::uint64_t>(2.0 * gap)));
  }
  return products;
}

/// Expected lines per basket and visit probability bookkeeping for the effect model.
inline double visit_probability(double weekly_rate, int day) {
  return std::min(1.0,
                  weekly_rate * kDayOfWeekWeight[static_cast<std::size_t>((day - 1) % 7)] / 7.0);
}

/// Simulates days [first_day, last_day] for one household, appending baskets and lines.
inline void simulate_days(HouseholdState& h, std::int32_t household_index, int first_day,
                          int last_day, const std::vector<Product>& products,
                          const CatalogIndex& catalog, const std::vector<Campaign>& campaigns,
                          const Campaign& focal, bool treated,
                          const std::vector<std::int32_t>& store_ids) {
  Rng& rng = h.rng;
  const std::int32_t household_key = household_index + 1;
  for (int day = first_day; day <= last_day; ++day) {
    const bool in_window = treated && day >= focal.start_day && day <= focal.end_day;
    const double rate = h.visit_rate * (in_window ? 1.0 + h.visit_lift : 1.0);
    if (!(rng.uniform() < visit_probability(rate, day))) continue;
    Basket b;
    b.household = household_index;
    b.day = static_cast<std::int16_t>(day);
    const int hour = draw_index(rng, kHourWeight);
    b.time = static_cast<std::int16_t>(hour * 100 + static_cast<int>(rng.uniform_index(60)));
    b.store = rng.uniform() < 0.85 ? h.home_store : store_ids[rng.uniform_index(store_ids.size())];
    const double mean_lines = h.items * (in_window ? 1.0 + h.basket_lift : 1.0);
    const auto num_lines =
        1 + static_cast<std::int32_t>(rng.poisson(std::max(0.0, mean_lines - 1.0)));
    b.first_line = static_cast<std::int32_t>(h.lines.size());
    b.num_lines = num_lines;
    for (std::int32_t l = 0; l < num_lines; ++l) {
      const int d = draw_index(rng, h.mix);
      const auto& cum = catalog.cumulative[d];
      const double target = rng.uniform() * cum.back();
      const auto pos =
          static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), target) - cum.begin());
      const std::int32_t pi = catalog.products[d][std::min(pos, cum.size() - 1)];
      const Product& p = products[static_cast<std::size_t>(pi)];
      Line line;
      line.product = pi;
      line.quantity =
          static_cast<std::int16_t>(1 + std::min<std::uint64_t>(rng.poisson(h.quantity_extra), 30));
      const auto shelf = static_cast<std::int32_t>(
          std::lround(100.0 * p.base_price * h.price_level * line.quantity));
      std::int32_t disc = 0;
      if (rng.uniform() < h.promo) {
        disc = static_cast<std::int32_t>(
            std::lround(shelf * rng.uniform(kPromoDepthLow, kPromoDepthHigh)));
      }
      line.sales = shelf - disc;
      line.retail = -disc;
      // Campaign coupons the household holds for this product, redeemed at most once each.
      for (const auto& [ci, upc] : catalog.product_coupons[static_cast<std::size_t>(pi)]) {
        const Campaign& c = campaigns[static_cast<std::size_t>(ci)];
        if (day < c.start_day || day > c.end_day) continue;
        if (std::find(h.campaigns.begin(), h.campaigns.end(), ci) == h.campaigns.end()) continue;
        if (std::find(h.redeemed.begin(), h.redeemed.end(), upc) != h.redeemed.end()) continue;
        if (!(rng.uniform() < h.coupon)) continue;
        static constexpr std::array<std::int32_t, 5> kValues = {50, 55, 75, 100, 150};
        const std::int32_t value =
            std::min(kValues[rng.uniform_index(kValues.size())], std::max(1, line.sales - 1));
        line.coupon = -value;
        if (rng.uniform() < 0.35) line.match = -std::min(value, 40);
        h.redeemed.push_back(upc);
        h.redemptions.push_back({household_key, day, upc, c.campaign});
        break;
      }
      // Manufacturer coupons outside campaigns (no coupon_redempt row, as in the release).
      if (line.coupon == 0 && rng.uniform() < 0.25 * h.coupon) {
        static constexpr std::array<std::int32_t, 5> kValues = {25, 50, 55, 75, 100};
        line.coupon =
            -std::min(kValues[rng.uniform_index(kValues.size())], std::max(1, line.sales - 1));
      }
      h.lines.push_back(line);
    }
    h.baskets.push_back(b);
  }
}

}  // namespace detail

/// Throws InvalidArgument naming the first bad field of `params`.
inline void validate(const DunnhumbyParams& params) {
  check_param(params.num_households >= 1 && params.num_households <= 10'000'000, "DunnhumbyParams",
              "num_households", params.num_households, "a value in [1, 10000000]");
  check_param(params.num_weeks >= 12 && params.num_weeks <= 520, "DunnhumbyParams", "num_weeks",
              params.num_weeks, "a value in [12, 520]");
  check_param(params.num_products >= 100 && params.num_products <= 1'000'000, "DunnhumbyParams",
              "num_products", params.num_products, "a value in [100, 1000000]");
  check_param(params.num_stores >= 1 && params.num_stores <= 10'000, "DunnhumbyParams",
              "num_stores", params.num_stores, "a value in [1, 10000]");
  check_param(params.visit_scale > 0.0 && params.visit_scale <= 4.0, "DunnhumbyParams",
              "visit_scale", params.visit_scale, "a value in (0, 4]");
  check_param(params.demographics_share >= 0.0 && params.demographics_share <= 1.0,
              "DunnhumbyParams", "demographics_share", params.demographics_share,
              "a value in [0, 1]");
  check_param(params.num_threads >= 0, "DunnhumbyParams", "num_threads", params.num_threads,
              "0 (all cores) or a positive count");
}

/// Generates all seven Dunnhumby tables plus the household truth.
///
/// Model (per household i, all draws from stream (seed, household i)):
///   segment g ~ Categorical(share); visit rate r_i = visits_g · LN₁(0.35) · visit_scale;
///   lines per basket λ_i = max(1.2, items_g · LN₁(0.25)); department mix ~ Dirichlet(40·mix_g);
///   price level = price_level_g · LN₁(0.10); promo share = min(0.9, promo_g · LN₁(0.3));
///   coupon propensity = min(0.5, coupon_g · LN₁(0.4)); lifts = lift_g + N(0, 0.04²) (visits),
///   lift_g + N(0, 0.02²) (basket)  [LN₁(s) = exp(s·Z − s²/2), mean 1].
///   Day d is a trip with probability min(1, r_i · w_dow(d) / 7), at most one basket a day.
///   TypeA (campaign 8) assignment: treated_i ~ Bernoulli(e_i), e_i as in kAssignSlope's comment.
///   In the TypeA window a treated household's r_i and λ_i are multiplied by (1 + lift).
///   mu0/mu1 sum, over the window's days, P(trip) · E[lines] · E[SALES_VALUE per line].
inline DunnhumbyData generate_dunnhumby(const DunnhumbyParams& params) {
  using namespace detail;
  validate(params);
  DunnhumbyData data;
  data.params = params;
  const auto& segments = dunnhumby_segments();
  const int num_days = 7 * params.num_weeks;
  const double day_scale = static_cast<double>(num_days) / 714.0;

  // Campaigns: the real windows, rescaled to the simulated horizon.
  for (const auto& t : kCampaignTemplates) {
    Campaign c;
    c.description = t.description;
    c.campaign = t.campaign;
    c.start_day = std::max(1, static_cast<int>(std::lround(t.start_day * day_scale)));
    c.end_day = std::min(
        num_days, std::max(c.start_day, static_cast<int>(std::lround(t.end_day * day_scale))));
    data.campaigns.push_back(c);
  }
  std::sort(data.campaigns.begin(), data.campaigns.end(),
            [](const Campaign& a, const Campaign& b) { return a.campaign < b.campaign; });
  int focal_index = 0;
  for (std::size_t c = 0; c < data.campaigns.size(); ++c) {
    if (data.campaigns[c].campaign == kFocalCampaign) focal_index = static_cast<int>(c);
  }
  data.focal_campaign = data.campaigns[static_cast<std::size_t>(focal_index)];
  const Campaign focal = data.focal_campaign;

  // Catalogue, stores and campaign coupons.
  Rng catalog_rng(params.seed, stream_id(kStreamCatalog, 0));
  data.products = make_catalog(params, catalog_rng);
  std::vector<std::int32_t> store_ids;
  {
    std::vector<Index> picks = sample_without_replacement(34000, params.num_stores, catalog_rng);
    std::sort(picks.begin(), picks.end());
    for (Index s : picks) store_ids.push_back(static_cast<std::int32_t>(s + 2));
  }
  CatalogIndex catalog;
  catalog.product_coupons.resize(data.products.size());
  for (std::size_t k = 0; k < data.products.size(); ++k) {
    const Product& p = data.products[k];
    catalog.products[p.department].push_back(static_cast<std::int32_t>(k));
    const double previous =
        catalog.cumulative[p.department].empty() ? 0.0 : catalog.cumulative[p.department].back();
    catalog.cumulative[p.department].push_back(previous + p.popularity);
    catalog.mean_price[p.department] += p.popularity * p.base_price;
  }
  for (int d = 0; d < kNumDepartments; ++d) catalog.mean_price[d] /= catalog.cumulative[d].back();
  {
    Rng coupon_rng(params.seed, stream_id(kStreamCatalog, 1));
    std::vector<std::int64_t> used_upcs;
    for (std::size_t ci = 0; ci < data.campaigns.size(); ++ci) {
      const Campaign& c = data.campaigns[ci];
      const int num_coupons = c.description == "TypeA" ? 30 : (c.description == "TypeB" ? 12 : 6);
      for (int k = 0; k < num_coupons; ++k) {
        std::int64_t upc = 0;
        do {
          upc = 10'000'000'000LL +
                static_cast<std::int64_t>(coupon_rng.uniform_index(50'000'000'000ULL));
        } while (std::find(used_upcs.begin(), used_upcs.end(), upc) != used_upcs.end());
        used_upcs.push_back(upc);
        // A coupon covers up to 25 products of one commodity (a brand family).
        const auto anchor = coupon_rng.uniform_index(data.products.size());
        const std::string_view commodity = data.products[anchor].commodity;
        int covered = 0;
        for (std::size_t j = 0; j < data.products.size() && covered < 25; ++j) {
          const std::size_t pj = (anchor + j) % data.products.size();
          if (data.products[pj].commodity != commodity) continue;
          if (j > 0 && coupon_rng.uniform() < 0.5) continue;
          data.coupons.push_back({upc, data.products[pj].product_id, c.campaign});
          catalog.product_coupons[pj].emplace_back(static_cast<int>(ci), upc);
          ++covered;
        }
      }
    }
  }

  // Households, pass 1: latent traits, demographics, campaign membership, pre-period trips.
  const auto n = static_cast<std::size_t>(params.num_households);
  std::vector<HouseholdState> states(n);
  std::vector<Demographics> demo(n);
  std::vector<char> has_demo(n, 0);
  data.households.resize(n);
  std::array<double, 6> segment_shares{};
  for (std::size_t g = 0; g < segments.size(); ++g) segment_shares[g] = segments[g].share;
  parallel_for(0, params.num_households, params.num_threads, [&](Index i) {
    const auto ui = static_cast<std::size_t>(i);
    HouseholdState& h = states[ui];
    Rng rng(params.seed, stream_id(kStreamHousehold, static_cast<std::uint64_t>(i)));
    h.segment = draw_index(rng, segment_shares);
    const SegmentProfile& s = segments[static_cast<std::size_t>(h.segment)];
    h.visit_rate = s.visits_per_week * lognormal_mean_one(rng, 0.35) * params.visit_scale;
    h.items = std::max(1.2, s.items_per_basket * lognormal_mean_one(rng, 0.25));
    h.mix = dirichlet(rng, s.department_mix, 40.0);
    h.price_level = s.price_level * lognormal_mean_one(rng, 0.10);
    h.quantity_extra = s.quantity_extra;
    h.promo = std::min(0.9, s.promo_share * lognormal_mean_one(rng, 0.3));
    h.coupon = std::min(0.5, s.coupon_propensity * lognormal_mean_one(rng, 0.4));
    h.visit_lift = std::max(-0.9, s.visit_lift + 0.04 * rng.normal());
    h.basket_lift = std::max(-0.9, s.basket_lift + 0.02 * rng.normal());
    h.home_store = store_ids[rng.uniform_index(store_ids.size())];
    // Demographics: composition first, then size, kids and marital status consistent with it.
    Demographics& dm = demo[ui];
    dm.household_key = static_cast<std::int32_t>(i + 1);
    dm.age = draw_index(rng, s.age_weights);
    dm.income = draw_index(rng, s.income_weights);
    dm.composition = draw_index(rng, s.composition_weights);
    static constexpr std::array<double, 5> kHomeowner = {0.63, 0.05, 0.015, 0.015, 0.29};
    std::array<double, 5> homeowner = kHomeowner;
    if (dm.income >= 5) homeowner[0] *= 1.5;  // higher income, more homeowners
    dm.homeowner = draw_index(rng, homeowner);
    int kids = 0, adults = 1;
    switch (dm.composition) {
      case 0:
        kids = 1 + draw_index(rng, std::array<double, 3>{0.6, 0.3, 0.1});
        break;
      case 1:
        adults = 2;
        kids = 1 + draw_index(rng, std::array<double, 3>{0.45, 0.35, 0.2});
        break;
      case 2:
        adults = 2;
        break;
      case 3:
      case 4:
        adults = rng.uniform() < 0.9 ? 1 : 2;
        break;
      default:
        adults = 1 + draw_index(rng, std::array<double, 3>{0.4, 0.4, 0.2});
        break;
    }
    dm.size = std::min(4, adults + kids - 1);
    dm.kids = kids == 0 ? 3 : std::min(2, kids - 1);
    if (dm.composition == 1 || dm.composition == 2) {
      dm.marital_status = draw_index(rng, std::array<double, 3>{0.70, 0.05, 0.25});
    } else if (dm.composition == 5) {
      dm.marital_status = 2;
    } else {
      dm.marital_status = draw_index(rng, std::array<double, 3>{0.0, 0.6, 0.4});
    }
    has_demo[ui] = rng.uniform() < params.demographics_share ? 1 : 0;
    // TypeB/TypeC membership: random at the real campaign's reach (no spend effect).
    Rng campaign_rng(params.seed, stream_id(kStreamCampaigns, static_cast<std::uint64_t>(i)));
    for (std::size_t c = 0; c < data.campaigns.size(); ++c) {
      if (static_cast<int>(c) == focal_index) continue;
      const auto& tmpl = *std::find_if(
          kCampaignTemplates.begin(), kCampaignTemplates.end(),
          [&](const CampaignTemplate& t) { return t.campaign == data.campaigns[c].campaign; });
      if (campaign_rng.uniform() < tmpl.reach / 2500.0) h.campaigns.push_back(static_cast<int>(c));
    }
    h.rng = Rng(params.seed, stream_id(kStreamBaskets, static_cast<std::uint64_t>(i)));
    simulate_days(h, static_cast<std::int32_t>(i), 1, focal.start_day - 1, data.products, catalog,
                  data.campaigns, focal, false, store_ids);
  });

  // TypeA assignment from pre-period behaviour, and the analytic potential outcomes.
  const double pre_weeks = static_cast<double>(focal.start_day - 1) / 7.0;
  for (std::size_t i = 0; i < n; ++i) {
    HouseholdState& h = states[i];
    HouseholdTruth& t = data.households[i];
    t.household_key = static_cast<std::int32_t>(i + 1);
    t.segment = h.segment;
    t.visit_rate = h.visit_rate;
    t.items_per_basket = h.items;
    t.visit_lift = h.visit_lift;
    t.basket_lift = h.basket_lift;
    std::int64_t pre_cents = 0;
    for (const Line& l : h.lines) pre_cents += l.sales;
    t.pre_spend_per_week = static_cast<double>(pre_cents) / 100.0 / pre_weeks;
    const double z = std::log1p(t.pre_spend_per_week / params.visit_scale) - kAssignCenter;
    t.propensity = std::clamp(sigmoid(kAssignSlope * z), kPropensityClip, 1.0 - kPropensityClip);
    Rng assign_rng(params.seed, stream_id(kStreamAssign, i));
    t.treated = assign_rng.uniform() < t.propensity;
    if (t.treated) h.campaigns.push_back(focal_index);
    // E[SALES_VALUE per line] = Σ_d mix_d · mean_price_d · level · E[qty] · (1 − promo · E[depth]).
    double value = 0;
    for (int d = 0; d < kNumDepartments; ++d) value += h.mix[d] * catalog.mean_price[d];
    value *= h.price_level * (1.0 + h.quantity_extra) *
             (1.0 - h.promo * 0.5 * (kPromoDepthLow + kPromoDepthHigh));
    t.item_value = value;
    double trips0 = 0, trips1 = 0;
    for (int day = focal.start_day; day <= focal.end_day; ++day) {
      trips0 += visit_probability(h.visit_rate, day);
      trips1 += visit_probability(h.visit_rate * (1.0 + h.visit_lift), day);
    }
    t.mu0 = trips0 * h.items * value;
    t.mu1 = trips1 * std::max(1.0, h.items * (1.0 + h.basket_lift)) * value;
    t.tau = t.mu1 - t.mu0;
  }

  // Pass 2: the TypeA window and the rest of the horizon.
  parallel_for(0, params.num_households, params.num_threads, [&](Index i) {
    const auto ui = static_cast<std::size_t>(i);
    simulate_days(states[ui], static_cast<std::int32_t>(i), focal.start_day, num_days,
                  data.products, catalog, data.campaigns, focal, data.households[ui].treated,
                  store_ids);
  });

  // Global basket order (DAY, TRANS_TIME, household), increasing BASKET_IDs as in the release.
  std::vector<std::pair<std::int32_t, std::int32_t>> order;  // (household, basket index)
  std::size_t total_lines = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t b = 0; b < states[i].baskets.size(); ++b) {
      order.emplace_back(static_cast<std::int32_t>(i), static_cast<std::int32_t>(b));
    }
    total_lines += states[i].lines.size();
  }
  auto basket_of = [&](const std::pair<std::int32_t, std::int32_t>& o) -> const Basket& {
    return states[static_cast<std::size_t>(o.first)].baskets[static_cast<std::size_t>(o.second)];
  };
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    const Basket& x = basket_of(a);
    const Basket& y = basket_of(b);
    if (x.day != y.day) return x.day < y.day;
    if (x.time != y.time) return x.time < y.time;
    return a.first < b.first;
  });
  data.transactions.reserve(total_lines);
  Rng basket_rng(params.seed, stream_id(kStreamCatalog, 2));
  std::int64_t basket_id = 26984851472LL;
  for (const auto& o : order) {
    const Basket& b = basket_of(o);
    const HouseholdState& h = states[static_cast<std::size_t>(o.first)];
    for (std::int32_t l = 0; l < b.num_lines; ++l) {
      const Line& line = h.lines[static_cast<std::size_t>(b.first_line + l)];
      Transaction t;
      t.household_key = o.first + 1;
      t.basket_id = basket_id;
      t.day = b.day;
      t.product_id = data.products[static_cast<std::size_t>(line.product)].product_id;
      t.quantity = line.quantity;
      t.sales_value_cents = line.sales;
      t.store_id = b.store;
      t.retail_disc_cents = line.retail;
      t.trans_time = b.time;
      t.week_no = static_cast<std::int16_t>((b.day - 1) / 7 + 1);
      t.coupon_disc_cents = line.coupon;
      t.coupon_match_disc_cents = line.match;
      data.transactions.push_back(t);
    }
    basket_id += 1 + static_cast<std::int64_t>(basket_rng.uniform_index(110'000));
  }

  // Remaining tables.
  for (std::size_t i = 0; i < n; ++i) {
    if (has_demo[i]) data.demographics.push_back(demo[i]);
    for (const Redemption& r : states[i].redemptions) data.redemptions.push_back(r);
  }
  std::stable_sort(data.redemptions.begin(), data.redemptions.end(),
                   [](const Redemption& a, const Redemption& b) {
                     return a.household_key != b.household_key ? a.household_key < b.household_key
                                                               : a.day < b.day;
                   });
  for (std::size_t c = 0; c < data.campaigns.size(); ++c) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto& cs = states[i].campaigns;
      if (std::find(cs.begin(), cs.end(), static_cast<int>(c)) != cs.end()) {
        data.campaign_members.push_back(
            {static_cast<std::int32_t>(i + 1), data.campaigns[c].campaign});
      }
    }
  }
  return data;
}

/// Finds the campaign description of a CampaignMember's campaign.
inline std::string_view campaign_description(const DunnhumbyData& data, std::int32_t campaign) {
  for (const auto& c : data.campaigns) {
    if (c.campaign == campaign) return c.description;
  }
  return {};
}

/// Writes the seven tables (original column names and order) and truth_households.csv into
/// `dir` (created if needed).
inline void write_dunnhumby(const DunnhumbyData& data, const std::filesystem::path& dir) {
  using detail::append_cents;
  detail::create_directory(dir);
  auto out = [](fmt::memory_buffer& b) { return std::back_inserter(b); };
  {
    detail::TextFile f(dir / "transaction_data.csv");
    auto& b = f.buffer();
    fmt::format_to(out(b),
                   "household_key,BASKET_ID,DAY,PRODUCT_ID,QUANTITY,SALES_VALUE,STORE_ID,"
                   "RETAIL_DISC,TRANS_TIME,WEEK_NO,COUPON_DISC,COUPON_MATCH_DISC\n");
    for (const Transaction& t : data.transactions) {
      fmt::format_to(out(b), "{},{},{},{},{},", t.household_key, t.basket_id, t.day, t.product_id,
                     t.quantity);
      append_cents(b, t.sales_value_cents);
      fmt::format_to(out(b), ",{},", t.store_id);
      append_cents(b, t.retail_disc_cents);
      fmt::format_to(out(b), ",{},{},", t.trans_time, t.week_no);
      append_cents(b, t.coupon_disc_cents);
      b.push_back(',');
      append_cents(b, t.coupon_match_disc_cents);
      b.push_back('\n');
      f.maybe_flush();
    }
    f.close();
  }
  {
    detail::TextFile f(dir / "product.csv");
    auto& b = f.buffer();
    fmt::format_to(out(b),
                   "PRODUCT_ID,MANUFACTURER,DEPARTMENT,BRAND,COMMODITY_DESC,SUB_COMMODITY_DESC,"
                   "CURR_SIZE_OF_PRODUCT\n");
    std::vector<const Product*> sorted;
    for (const auto& p : data.products) sorted.push_back(&p);
    std::sort(sorted.begin(), sorted.end(),
              [](const Product* a, const Product* c) { return a->product_id < c->product_id; });
    for (const Product* p : sorted) {
      fmt::format_to(out(b), "{},{},{},{},{},{},{}\n", p->product_id, p->manufacturer,
                     kDepartments[static_cast<std::size_t>(p->department)],
                     p->private_brand ? "Private" : "National", p->commodity, p->sub_commodity,
                     p->size);
      f.maybe_flush();
    }
    f.close();
  }
  {
    detail::TextFile f(dir / "hh_demographic.csv");
    auto& b = f.buffer();
    fmt::format_to(out(b),
                   "AGE_DESC,MARITAL_STATUS_CODE,INCOME_DESC,HOMEOWNER_DESC,HH_COMP_DESC,"
                   "HOUSEHOLD_SIZE_DESC,KID_CATEGORY_DESC,household_key\n");
    for (const Demographics& d : data.demographics) {
      fmt::format_to(out(b), "{},{},{},{},{},{},{},{}\n", kAgeDesc[d.age],
                     kMaritalStatus[d.marital_status], kIncomeDesc[d.income],
                     kHomeownerDesc[d.homeowner], kHouseholdComposition[d.composition],
                     kHouseholdSize[d.size], kKidCategory[d.kids], d.household_key);
    }
    f.close();
  }
  {
    detail::TextFile f(dir / "campaign_table.csv");
    auto& b = f.buffer();
    fmt::format_to(out(b), "DESCRIPTION,household_key,CAMPAIGN\n");
    for (const CampaignMember& m : data.campaign_members) {
      fmt::format_to(out(b), "{},{},{}\n", campaign_description(data, m.campaign), m.household_key,
                     m.campaign);
    }
    f.close();
  }
  {
    detail::TextFile f(dir / "campaign_desc.csv");
    auto& b = f.buffer();
    fmt::format_to(out(b), "DESCRIPTION,CAMPAIGN,START_DAY,END_DAY\n");
    for (const Campaign& c : data.campaigns) {
      fmt::format_to(out(b), "{},{},{},{}\n", c.description, c.campaign, c.start_day, c.end_day);
    }
    f.close();
  }
  {
    detail::TextFile f(dir / "coupon.csv");
    auto& b = f.buffer();
    fmt::format_to(out(b), "COUPON_UPC,PRODUCT_ID,CAMPAIGN\n");
    for (const Coupon& c : data.coupons) {
      fmt::format_to(out(b), "{},{},{}\n", c.coupon_upc, c.product_id, c.campaign);
      f.maybe_flush();
    }
    f.close();
  }
  {
    detail::TextFile f(dir / "coupon_redempt.csv");
    auto& b = f.buffer();
    fmt::format_to(out(b), "household_key,DAY,COUPON_UPC,CAMPAIGN\n");
    for (const Redemption& r : data.redemptions) {
      fmt::format_to(out(b), "{},{},{},{}\n", r.household_key, r.day, r.coupon_upc, r.campaign);
    }
    f.close();
  }
  {
    detail::TextFile f(dir / "truth_households.csv");
    auto& b = f.buffer();
    fmt::format_to(out(b),
                   "household_key,segment,segment_name,pre_spend_per_week,propensity,treated,"
                   "mu0,mu1,tau,visit_rate,items_per_basket,item_value,visit_lift,basket_lift\n");
    const auto& segments = dunnhumby_segments();
    for (const HouseholdTruth& t : data.households) {
      fmt::format_to(
          out(b),
          "{},{},{},{:.4f},{:.6f},{},{:.4f},{:.4f},{:.4f},{:.5f},{:.4f},{:.5f},{:.5f},{:.5f}\n",
          t.household_key, t.segment, segments[static_cast<std::size_t>(t.segment)].name,
          t.pre_spend_per_week, t.propensity, t.treated ? 1 : 0, t.mu0, t.mu1, t.tau, t.visit_rate,
          t.items_per_basket, t.item_value, t.visit_lift, t.basket_lift);
    }
    f.close();
  }
}

// =================================================================================================
// iPinYou RTB impression logs
// =================================================================================================

inline constexpr std::array<std::string_view, 4> kSlotVisibility = {"FirstView", "SecondView",
                                                                    "OtherView", "Na"};
inline constexpr std::array<std::string_view, 4> kSlotFormat = {"0", "1", "5", "Na"};
inline constexpr std::array<std::string_view, 11> kDesktopUserAgents = {
    "windows_ie",       "windows_chrome",  "windows_maxthon", "windows_sogou",
    "windows_theworld", "windows_firefox", "mac_safari",      "windows_other",
    "linux_chrome",     "other_other",     "windows_opera"};
inline constexpr std::array<std::string_view, 6> kMobileUserAgents = {
    "android_safari", "android_chrome",  "android_other",
    "ios_safari",     "android_maxthon", "android_sogou"};
/// Season-3 advertisers; 2997 buys mobile in-app traffic (320x50, adexchange null).
inline constexpr std::array<int, 4> kAdvertisers = {2259, 2261, 2821, 2997};
inline constexpr std::array<int, 4> kBidPrice = {294, 277, 300, 238};
/// Region ids as in the iPinYou logs (province codes).
inline constexpr std::array<int, 35> kRegions = {
    0,   1,   2,   3,   15,  27,  40,  55,  65,  79,  80,  94,  106, 124, 134, 146, 164, 183,
    201, 216, 238, 253, 275, 298, 308, 325, 333, 344, 359, 368, 374, 393, 394, 395, 3};
inline constexpr std::array<int, 44> kUserTags = {
    10006, 10024, 10031, 10048, 10052, 10057, 10059, 10063, 10067, 10074, 10075,
    10076, 10077, 10079, 10083, 10093, 10102, 10110, 10111, 10684, 11092, 11278,
    11379, 11423, 11512, 11576, 11632, 11680, 11724, 11944, 13042, 13403, 13496,
    13678, 13776, 13800, 13866, 13874, 14273, 16593, 16617, 16661, 16706, 16751};

/// The true CTR model: logit P(click) = Σ of the terms below (documented in
/// examples/data/README.md and written to truth_ctr_model.csv).
struct IpinyouCtrModel {
  double intercept = -5.0;
  double hour_amplitude = 0.35;  ///< + amplitude · cos(2π (hour − hour_peak) / 24)
  int hour_peak = 21;
  /// adexchange 1..4, and "null" (index 0)
  std::array<double, 5> adexchange = {0.10, 0.0, -0.30, 0.25, -0.15};
  std::array<double, 4> visibility = {0.40, 0.0, -0.30, -0.10};  ///< over kSlotVisibility
  std::array<double, 4> format = {0.0, 0.15, -0.20, 0.0};        ///< over kSlotFormat
  double tier1_region = 0.20;                                    ///< regions 1, 79, 80, 94, 216
  std::array<int, 5> tier1_regions = {1, 79, 80, 94, 216};
  std::array<std::pair<int, double>, 5> usertag = {
      {{10006, 0.6}, {10063, 0.4}, {13866, 0.8}, {10110, -0.3}, {16706, 0.5}}};
  std::array<std::pair<int, double>, 4> advertiser = {
      {{2259, -0.2}, {2261, -0.4}, {2821, 0.1}, {2997, 0.3}}};
  /// (width, height, coefficient); other sizes 0
  std::array<std::array<int, 3>, 12> size = {{{300, 250, 20},
                                              {336, 280, 30},
                                              {160, 600, 10},
                                              {728, 90, -10},
                                              {950, 90, -40},
                                              {1000, 90, -40},
                                              {960, 90, -40},
                                              {468, 60, -50},
                                              {250, 250, 0},
                                              {200, 200, 0},
                                              {120, 600, -20},
                                              {320, 50, 50}}};  // hundredths
};

/// The market-price model: payprice = slotprice + ⌊exp(μ + σ·Z)⌋, Z ~ N(0, 1), with
/// μ = base + visibility + adexchange + size_scale·(size coefficient of the CTR model)
///     + ctr_slope · (logit − intercept of the CTR model); auctions with payprice > bidprice are
/// lost and never logged (the logs hold won impressions only).
struct IpinyouPriceModel {
  double base = 3.4;
  double sigma = 0.7;
  std::array<double, 4> visibility = {0.25, 0.0, -0.20, 0.0};
  std::array<double, 5> adexchange = {-0.30, 0.0, 0.10, -0.15, 0.05};  ///< null, 1..4
  double size_scale = 1.0;
  double ctr_slope = 0.3;
};

/// What the CTR and price models read from one impression.
struct IpinyouContext {
  int hour = 0;
  int adexchange = 1;  ///< 1..4, 0 = null
  int slotwidth = 300, slotheight = 250;
  int visibility = 0;  ///< index into kSlotVisibility
  int format = 0;      ///< index into kSlotFormat
  int region = 0;
  int advertiser = 2259;
  std::span<const int> usertags{};  ///< tag ids
};

/// logit P(click | context) of the planted CTR model.
inline double ipinyou_ctr_logit(const IpinyouContext& c, const IpinyouCtrModel& m = {}) {
  double z = m.intercept;
  z += m.hour_amplitude * std::cos(2.0 * std::numbers::pi * (c.hour - m.hour_peak) / 24.0);
  z += m.adexchange[static_cast<std::size_t>(std::clamp(c.adexchange, 0, 4))];
  z += m.visibility[static_cast<std::size_t>(c.visibility)];
  z += m.format[static_cast<std::size_t>(c.format)];
  for (int r : m.tier1_regions) {
    if (c.region == r) z += m.tier1_region;
  }
  for (int tag : c.usertags) {
    for (const auto& [id, beta] : m.usertag) {
      if (tag == id) z += beta;
    }
  }
  for (const auto& [id, beta] : m.advertiser) {
    if (c.advertiser == id) z += beta;
  }
  for (const auto& s : m.size) {
    if (c.slotwidth == s[0] && c.slotheight == s[1]) z += s[2] / 100.0;
  }
  return z;
}

/// μ of the log-normal market-price model (see IpinyouPriceModel).
inline double ipinyou_market_price_mu(const IpinyouContext& c, const IpinyouCtrModel& ctr = {},
                                      const IpinyouPriceModel& m = {}) {
  double mu = m.base + m.visibility[static_cast<std::size_t>(c.visibility)] +
              m.adexchange[static_cast<std::size_t>(std::clamp(c.adexchange, 0, 4))];
  for (const auto& s : ctr.size) {
    if (c.slotwidth == s[0] && c.slotheight == s[1]) mu += m.size_scale * s[2] / 100.0;
  }
  mu += m.ctr_slope * (ipinyou_ctr_logit(c, ctr) - ctr.intercept);
  return mu;
}

struct IpinyouParams {
  Index num_impressions = 100'000;  ///< logged (won) impressions, train + test
  int num_days = 7;                 ///< days from 2013-10-19 (a Saturday)
  int test_days = 2;                ///< the last days go to test.log.txt
  std::uint64_t seed = 42;
  Index num_threads = 0;
};

struct IpinyouUser {
  std::string id;  ///< ipinyouid
  std::string ip;  ///< "a.b.c.*"
  int region = 0, city = 0;
  int useragent = 0;  ///< index into kDesktopUserAgents or kMobileUserAgents
  bool mobile = false;
  std::vector<int> tags;  ///< tag ids, ascending
};

struct IpinyouDomain {
  std::string id;
  int adexchange = 1;  ///< 0 = null
  bool mobile = false;
  std::vector<std::string> urls;
  std::vector<int> slots;  ///< indices into IpinyouData::slots
  double popularity = 1;
};

struct IpinyouSlot {
  std::string id;
  int domain = 0;
  int width = 0, height = 0, visibility = 0, format = 0, floor_price = 0;
};

struct Impression {
  std::int64_t timestamp = 0;  ///< yyyyMMddHHmmssSSS
  std::uint64_t bidid_high = 0, bidid_low = 0;
  std::int32_t user = 0, domain = 0, url = 0, slot = 0, advertiser = 0;  ///< advertiser index
  std::int16_t weekday = 0;  ///< 0 = Sunday (strftime %w)
  std::int16_t hour = 0;
  std::int16_t slotprice = 0, bidprice = 0, payprice = 0;
  std::int8_t click = 0;
  double pctr_true = 0;
  double market_price_mu = 0;
};

struct IpinyouData {
  IpinyouParams params;
  std::vector<IpinyouUser> users;
  std::vector<IpinyouDomain> domains;
  std::vector<IpinyouSlot> slots;
  std::array<std::array<std::string, 2>, kAdvertisers.size()> creatives;  ///< desktop, mobile
  std::array<std::string, kAdvertisers.size()> keypages;
  std::vector<Impression> impressions;  ///< in timestamp order; the first num_train are train
  Index num_train = 0;
  IpinyouCtrModel ctr_model;
  IpinyouPriceModel price_model;

  /// The model inputs of impression k.
  IpinyouContext context(const Impression& imp) const {
    const IpinyouUser& u = users[static_cast<std::size_t>(imp.user)];
    const IpinyouSlot& s = slots[static_cast<std::size_t>(imp.slot)];
    return {imp.hour,     domains[static_cast<std::size_t>(imp.domain)].adexchange,
            s.width,      s.height,
            s.visibility, s.format,
            u.region,     kAdvertisers[static_cast<std::size_t>(imp.advertiser)],
            u.tags};
  }
};

namespace detail {

inline constexpr std::uint64_t kStreamPools = 11, kStreamImpression = 12;

inline std::string random_hex(Rng& rng, int length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(static_cast<std::size_t>(length), '0');
  for (auto& ch : s) ch = kHex[rng.uniform_index(16)];
  return s;
}

inline std::string random_base62(Rng& rng, int length) {
  static constexpr char kChars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string s(static_cast<std::size_t>(length), '0');
  for (auto& ch : s) ch = kChars[rng.uniform_index(62)];
  return s;
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's
/// civil_from_days algorithm, "chrono-Compatible Low-Level Date Algorithms").
inline std::array<int, 3> civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

inline constexpr std::int64_t kIpinyouFirstDay = 15997;  // 2013-10-19 in days since 1970-01-01

/// Hourly traffic profile of the logs (relative impressions per hour).
inline constexpr std::array<double, 24> kTrafficByHour = {0.9, 0.5, 0.3, 0.2, 0.2, 0.3, 0.5, 0.8,
                                                          1.1, 1.3, 1.4, 1.4, 1.3, 1.3, 1.3, 1.3,
                                                          1.3, 1.3, 1.3, 1.4, 1.5, 1.6, 1.5, 1.2};

inline void make_ipinyou_pools(IpinyouData& data, Rng& rng) {
  const Index n = data.params.num_impressions;
  // Users: a pool a quarter the size of the log, so users repeat.
  const Index num_users = std::max<Index>(200, n / 4);
  std::array<double, kRegions.size()> region_weight{};
  for (std::size_t r = 0; r < kRegions.size(); ++r) {
    region_weight[r] = 1.0 / std::pow(1.0 + static_cast<double>((r * 7) % kRegions.size()), 0.7);
  }
  static constexpr std::array<int, 16> kFirstOctet = {58,  59,  60,  61,  101, 110, 111, 112,
                                                      113, 114, 115, 116, 117, 180, 182, 183};
  static constexpr std::array<double, 11> kDesktopUa = {0.45, 0.22, 0.06, 0.06, 0.04, 0.05,
                                                        0.04, 0.04, 0.01, 0.02, 0.01};
  static constexpr std::array<double, 6> kMobileUa = {0.35, 0.10, 0.10, 0.38, 0.03, 0.04};
  std::array<double, kUserTags.size()> tag_rate{};
  for (std::size_t t = 0; t < kUserTags.size(); ++t)
    tag_rate[t] = 0.02 + 0.10 * ((t * 13) % 7) / 6.0;
  for (std::size_t t = 0; t < kUserTags.size(); ++t) {
    switch (kUserTags[t]) {
      case 10006:
        tag_rate[t] = 0.45;
        break;
      case 10063:
        tag_rate[t] = 0.25;
        break;
      case 13866:
        tag_rate[t] = 0.08;
        break;
      case 10110:
        tag_rate[t] = 0.15;
        break;
      case 16706:
        tag_rate[t] = 0.10;
        break;
      default:
        break;
    }
  }
  data.users.resize(static_cast<std::size_t>(num_users));
  for (auto& u : data.users) {
    u.id = "Vh" + random_base62(rng, 13);
    const auto r = static_cast<std::size_t>(rng.categorical(region_weight));
    u.region = kRegions[r];
    u.city = u.region + 1 + static_cast<int>(rng.uniform_index(2 + r % 7));
    u.ip =
        fmt::format("{}.{}.{}.*", kFirstOctet[(r * 5 + rng.uniform_index(2)) % kFirstOctet.size()],
                    rng.uniform_index(256), rng.uniform_index(256));
    u.mobile = rng.uniform() < 0.25;
    u.useragent =
        static_cast<int>(u.mobile ? rng.categorical(kMobileUa) : rng.categorical(kDesktopUa));
    for (std::size_t t = 0; t < kUserTags.size(); ++t) {
      if (rng.uniform() < tag_rate[t]) u.tags.push_back(kUserTags[t]);
    }
  }
  // Domains (sites and apps), each with urls and ad slots of fixed size/visibility/floor.
  static constexpr std::array<std::array<int, 2>, 11> kDesktopSizes = {{{300, 250},
                                                                        {336, 280},
                                                                        {160, 600},
                                                                        {728, 90},
                                                                        {950, 90},
                                                                        {1000, 90},
                                                                        {960, 90},
                                                                        {468, 60},
                                                                        {250, 250},
                                                                        {200, 200},
                                                                        {120, 600}}};
  static constexpr std::array<double, 11> kDesktopSizeWeight = {0.22, 0.05, 0.08, 0.2,  0.08, 0.1,
                                                                0.05, 0.05, 0.07, 0.05, 0.05};
  static constexpr std::array<double, 5> kAdexchangeWeight = {0.0, 0.38, 0.37, 0.17, 0.08};
  const Index num_domains = std::clamp<Index>(n / 50, 60, 800);
  data.domains.resize(static_cast<std::size_t>(num_domains));
  for (std::size_t d = 0; d < data.domains.size(); ++d) {
    IpinyouDomain& dom = data.domains[d];
    dom.mobile = d % 4 == 3;  // a quarter are mobile apps
    dom.id = random_hex(rng, 32);
    dom.adexchange = dom.mobile ? 0 : static_cast<int>(rng.categorical(kAdexchangeWeight));
    dom.popularity = 1.0 / std::pow(1.0 + static_cast<double>(d / 4), 0.9);
    const auto num_urls = 1 + rng.uniform_index(10);
    for (std::uint64_t k = 0; k < num_urls; ++k) dom.urls.push_back(random_hex(rng, 32));
    const auto num_slots = 1 + rng.uniform_index(dom.mobile ? 2 : 4);
    for (std::uint64_t k = 0; k < num_slots; ++k) {
      IpinyouSlot s;
      s.domain = static_cast<int>(d);
      if (dom.mobile) {
        s.id = fmt::format("mm_{}_{}_{}", 10000000 + rng.uniform_index(90000000),
                           100000 + rng.uniform_index(9000000),
                           10000000 + rng.uniform_index(90000000));
        s.width = 320;
        s.height = 50;
        s.visibility = 3;  // Na
        s.format = 3;      // Na
      } else {
        s.id = fmt::format("{}_{}", rng.uniform() < 0.5 ? "Ad" : "mm", random_hex(rng, 16));
        const auto& size =
            kDesktopSizes[static_cast<std::size_t>(rng.categorical(kDesktopSizeWeight))];
        s.width = size[0];
        s.height = size[1];
        s.visibility =
            static_cast<int>(rng.categorical(std::array<double, 4>{0.40, 0.25, 0.30, 0.05}));
        s.format = static_cast<int>(rng.categorical(std::array<double, 3>{0.60, 0.35, 0.05}));
      }
      const int band =
          static_cast<int>(rng.categorical(std::array<double, 5>{0.35, 0.25, 0.20, 0.15, 0.05}));
      static constexpr std::array<std::array<int, 2>, 5> kFloor = {
          {{0, 0}, {1, 10}, {11, 50}, {51, 100}, {101, 200}}};
      s.floor_price = kFloor[static_cast<std::size_t>(band)][0] +
                      static_cast<int>(rng.uniform_index(static_cast<std::uint64_t>(
                          kFloor[static_cast<std::size_t>(band)][1] -
                          kFloor[static_cast<std::size_t>(band)][0] + 1)));
      dom.slots.push_back(static_cast<int>(data.slots.size()));
      data.slots.push_back(std::move(s));
    }
  }
  for (std::size_t a = 0; a < kAdvertisers.size(); ++a) {
    data.creatives[a][0] = random_hex(rng, 32);
    data.creatives[a][1] = random_hex(rng, 32);
    data.keypages[a] = a == 0 ? "null" : random_hex(rng, 32);
  }
}

}  // namespace detail

inline void validate(const IpinyouParams& params) {
  check_param(params.num_impressions >= 1 && params.num_impressions <= 100'000'000, "IpinyouParams",
              "num_impressions", params.num_impressions, "a value in [1, 100000000]");
  check_param(params.num_days >= 2 && params.num_days <= 60, "IpinyouParams", "num_days",
              params.num_days, "a value in [2, 60]");
  check_param(params.test_days >= 1 && params.test_days < params.num_days, "IpinyouParams",
              "test_days", params.test_days, "a value in [1, num_days - 1]");
  check_param(params.num_threads >= 0, "IpinyouParams", "num_threads", params.num_threads,
              "0 (all cores) or a positive count");
}

/// Generates an iPinYou-like impression log with a known CTR and market-price model.
///
/// Impression k (stream (seed, k)): day ~ U{0..num_days−1}, hour ~ kTrafficByHour, a user
/// (uniform over the pool); mobile users see mobile app slots and advertiser 2997, desktop users
/// a desktop slot (domain by Zipf popularity) and one of 2259/2261/2821 (weights 0.3/0.3/0.4).
/// click ~ Bernoulli(σ(ipinyou_ctr_logit)); payprice from IpinyouPriceModel; a lost auction
/// (payprice > bidprice) is redrawn from the same stream, so the log holds num_impressions
/// won impressions.
inline IpinyouData generate_ipinyou(const IpinyouParams& params) {
  using namespace detail;
  validate(params);
  IpinyouData data;
  data.params = params;
  Rng pool_rng(params.seed, stream_id(kStreamPools, 0));
  make_ipinyou_pools(data, pool_rng);
  std::vector<double> desktop_weight, mobile_weight;
  std::vector<int> desktop_domain, mobile_domain;
  for (std::size_t d = 0; d < data.domains.size(); ++d) {
    (data.domains[d].mobile ? mobile_weight : desktop_weight).push_back(data.domains[d].popularity);
    (data.domains[d].mobile ? mobile_domain : desktop_domain).push_back(static_cast<int>(d));
  }
  data.impressions.resize(static_cast<std::size_t>(params.num_impressions));
  parallel_for_blocks(
      0, params.num_impressions, 4096, params.num_threads, [&](Index, Index lo, Index hi) {
        for (Index k = lo; k < hi; ++k) {
          Rng rng(params.seed, stream_id(kStreamImpression, static_cast<std::uint64_t>(k)));
          Impression& imp = data.impressions[static_cast<std::size_t>(k)];
          while (true) {
            const auto day = static_cast<std::int64_t>(
                rng.uniform_index(static_cast<std::uint64_t>(params.num_days)));
            const int hour = static_cast<int>(rng.categorical(kTrafficByHour));
            const auto ms = static_cast<std::int64_t>(rng.uniform_index(3'600'000));
            imp.user = static_cast<std::int32_t>(rng.uniform_index(data.users.size()));
            const IpinyouUser& u = data.users[static_cast<std::size_t>(imp.user)];
            if (u.mobile) {
              imp.domain = mobile_domain[static_cast<std::size_t>(rng.categorical(mobile_weight))];
              imp.advertiser = 3;
            } else {
              imp.domain =
                  desktop_domain[static_cast<std::size_t>(rng.categorical(desktop_weight))];
              imp.advertiser =
                  static_cast<std::int32_t>(rng.categorical(std::array<double, 3>{0.3, 0.3, 0.4}));
            }
            const IpinyouDomain& dom = data.domains[static_cast<std::size_t>(imp.domain)];
            imp.url = static_cast<std::int32_t>(rng.uniform_index(dom.urls.size()));
            imp.slot = dom.slots[rng.uniform_index(dom.slots.size())];
            const auto date = civil_from_days(kIpinyouFirstDay + day);
            imp.timestamp = ((static_cast<std::int64_t>(date[0]) * 100 + date[1]) * 100 + date[2]) *
                                1'000'000'000LL +
                            static_cast<std::int64_t>(hour) * 10'000'000LL +
                            (ms / 60'000) * 100'000LL + (ms / 1000 % 60) * 1000LL + ms % 1000;
            imp.weekday = static_cast<std::int16_t>((kIpinyouFirstDay + day + 4) % 7);
            imp.hour = static_cast<std::int16_t>(hour);
            const IpinyouContext c = data.context(imp);
            const double logit = ipinyou_ctr_logit(c, data.ctr_model);
            imp.pctr_true = sigmoid(logit);
            imp.market_price_mu = ipinyou_market_price_mu(c, data.ctr_model, data.price_model);
            const IpinyouSlot& s = data.slots[static_cast<std::size_t>(imp.slot)];
            imp.slotprice = static_cast<std::int16_t>(s.floor_price);
            imp.bidprice =
                static_cast<std::int16_t>(kBidPrice[static_cast<std::size_t>(imp.advertiser)]);
            const double draw =
                std::floor(std::exp(imp.market_price_mu + data.price_model.sigma * rng.normal()));
            const double price = static_cast<double>(s.floor_price) + std::min(draw, 10000.0);
            if (price > imp.bidprice) continue;  // lost auction: not in the log
            imp.payprice = static_cast<std::int16_t>(price);
            imp.click = rng.uniform() < imp.pctr_true ? 1 : 0;
            imp.bidid_high = rng();
            imp.bidid_low = rng();
            break;
          }
        }
      });
  std::sort(data.impressions.begin(), data.impressions.end(),
            [](const Impression& a, const Impression& b) {
              if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
              return a.bidid_high != b.bidid_high ? a.bidid_high < b.bidid_high
                                                  : a.bidid_low < b.bidid_low;
            });
  // Train: days before the last test_days.
  const auto first_test = civil_from_days(kIpinyouFirstDay + params.num_days - params.test_days);
  const std::int64_t test_start =
      ((static_cast<std::int64_t>(first_test[0]) * 100 + first_test[1]) * 100 + first_test[2]) *
      1'000'000'000LL;
  data.num_train = static_cast<Index>(
      std::lower_bound(data.impressions.begin(), data.impressions.end(), test_start,
                       [](const Impression& a, std::int64_t t) { return a.timestamp < t; }) -
      data.impressions.begin());
  return data;
}

/// Writes train.log.txt and test.log.txt (tab-separated, header line, make-ipinyou-data
/// layout), truth_impressions.csv (bidid, pctr_true, market_price_mu) and truth_ctr_model.csv
/// (term, value) into `dir` (created if needed).
inline void write_ipinyou(const IpinyouData& data, const std::filesystem::path& dir) {
  detail::create_directory(dir);
  auto out = [](fmt::memory_buffer& b) { return std::back_inserter(b); };
  static constexpr std::string_view kHeader =
      "click\tweekday\thour\tbidid\ttimestamp\tlogtype\tipinyouid\tuseragent\tIP\tregion\tcity\t"
      "adexchange\tdomain\turl\turlid\tslotid\tslotwidth\tslotheight\tslotvisibility\tslotformat\t"
      "slotprice\tcreative\tbidprice\tpayprice\tkeypage\tadvertiser\tusertag\n";
  const auto n = static_cast<Index>(data.impressions.size());
  for (int part = 0; part < 2; ++part) {
    detail::TextFile f(dir / (part == 0 ? "train.log.txt" : "test.log.txt"));
    auto& b = f.buffer();
    fmt::format_to(out(b), "{}", kHeader);
    const Index lo = part == 0 ? 0 : data.num_train;
    const Index hi = part == 0 ? data.num_train : n;
    for (Index k = lo; k < hi; ++k) {
      const Impression& imp = data.impressions[static_cast<std::size_t>(k)];
      const IpinyouUser& u = data.users[static_cast<std::size_t>(imp.user)];
      const IpinyouDomain& dom = data.domains[static_cast<std::size_t>(imp.domain)];
      const IpinyouSlot& s = data.slots[static_cast<std::size_t>(imp.slot)];
      const auto a = static_cast<std::size_t>(imp.advertiser);
      fmt::format_to(out(b), "{}\t{}\t{:02}\t{:016x}{:016x}\t{}\t1\t{}\t{}\t{}\t{}\t{}\t",
                     imp.click, imp.weekday, imp.hour, imp.bidid_high, imp.bidid_low, imp.timestamp,
                     u.id,
                     u.mobile ? kMobileUserAgents[static_cast<std::size_t>(u.useragent)]
                              : kDesktopUserAgents[static_cast<std::size_t>(u.useragent)],
                     u.ip, u.region, u.city);
      if (dom.adexchange == 0) {
        fmt::format_to(out(b), "null\t");
      } else {
        fmt::format_to(out(b), "{}\t", dom.adexchange);
      }
      fmt::format_to(out(b), "{}\t{}\tnull\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t", dom.id,
                     dom.urls[static_cast<std::size_t>(imp.url)], s.id, s.width, s.height,
                     kSlotVisibility[static_cast<std::size_t>(s.visibility)],
                     kSlotFormat[static_cast<std::size_t>(s.format)], imp.slotprice,
                     data.creatives[a][u.mobile ? 1 : 0], imp.bidprice, imp.payprice,
                     data.keypages[a], kAdvertisers[a]);
      if (u.tags.empty()) {
        fmt::format_to(out(b), "null\n");
      } else {
        for (std::size_t t = 0; t < u.tags.size(); ++t) {
          fmt::format_to(out(b), "{}{}", t == 0 ? "" : ",", u.tags[t]);
        }
        b.push_back('\n');
      }
      f.maybe_flush();
    }
    f.close();
  }
  {
    detail::TextFile f(dir / "truth_impressions.csv");
    auto& b = f.buffer();
    fmt::format_to(out(b), "bidid,pctr_true,market_price_mu\n");
    for (const Impression& imp : data.impressions) {
      fmt::format_to(out(b), "{:016x}{:016x},{:.8f},{:.6f}\n", imp.bidid_high, imp.bidid_low,
                     imp.pctr_true, imp.market_price_mu);
      f.maybe_flush();
    }
    f.close();
  }
  {
    detail::TextFile f(dir / "truth_ctr_model.csv");
    auto& b = f.buffer();
    const IpinyouCtrModel& m = data.ctr_model;
    const IpinyouPriceModel& p = data.price_model;
    fmt::format_to(out(b), "term,value\n");
    fmt::format_to(out(b), "ctr:intercept,{}\nctr:hour_amplitude,{}\nctr:hour_peak,{}\n",
                   m.intercept, m.hour_amplitude, m.hour_peak);
    fmt::format_to(out(b), "ctr:adexchange=null,{}\n", m.adexchange[0]);
    for (int x = 1; x <= 4; ++x) {
      fmt::format_to(out(b), "ctr:adexchange={},{}\n", x,
                     m.adexchange[static_cast<std::size_t>(x)]);
    }
    for (std::size_t v = 0; v < kSlotVisibility.size(); ++v) {
      fmt::format_to(out(b), "ctr:slotvisibility={},{}\n", kSlotVisibility[v], m.visibility[v]);
    }
    for (std::size_t v = 0; v < kSlotFormat.size(); ++v) {
      fmt::format_to(out(b), "ctr:slotformat={},{}\n", kSlotFormat[v], m.format[v]);
    }
    for (const auto& s : m.size) {
      fmt::format_to(out(b), "ctr:slotsize={}x{},{}\n", s[0], s[1], s[2] / 100.0);
    }
    for (int r : m.tier1_regions) fmt::format_to(out(b), "ctr:region={},{}\n", r, m.tier1_region);
    for (const auto& [id, beta] : m.usertag)
      fmt::format_to(out(b), "ctr:usertag={},{}\n", id, beta);
    for (const auto& [id, beta] : m.advertiser) {
      fmt::format_to(out(b), "ctr:advertiser={},{}\n", id, beta);
    }
    fmt::format_to(out(b),
                   "price:base,{}\nprice:sigma,{}\nprice:size_scale,{}\nprice:ctr_slope,{}\n",
                   p.base, p.sigma, p.size_scale, p.ctr_slope);
    fmt::format_to(out(b), "price:adexchange=null,{}\n", p.adexchange[0]);
    for (int x = 1; x <= 4; ++x) {
      fmt::format_to(out(b), "price:adexchange={},{}\n", x,
                     p.adexchange[static_cast<std::size_t>(x)]);
    }
    for (std::size_t v = 0; v < kSlotVisibility.size(); ++v) {
      fmt::format_to(out(b), "price:slotvisibility={},{}\n", kSlotVisibility[v], p.visibility[v]);
    }
    f.close();
  }
}

}  // namespace tailor::io::synthetic
