// tailor/io/dunnhumby.hpp — household × feature tables from Dunnhumby "The Complete Journey".
//
// Reads either download of the data and gives the same features:
//  * the original CSV release (Complete Journey 1.0, dunnhumby / Kaggle): transaction_data.csv,
//    product.csv, and when present hh_demographic.csv, coupon_redempt.csv, campaign_table.csv,
//    campaign_desc.csv. Column names are matched case-insensitively (copies exist with
//    upper-case and with lower-case headers). Time is DAY (integer, 1..711) and WEEK_NO.
//    Discounts are stored as negative numbers.
//  * the R package `completejourney` (84.51° Complete Journey 2.0) written as CSV:
//    transactions.csv or transactions_sample.csv, products.csv, demographics.csv,
//    coupon_redemptions.csv, campaigns.csv, campaign_descriptions.csv, with lower-case columns
//    (household_id, basket_id, product_id, sales_value, retail_disc, coupon_disc,
//    coupon_match_disc, week, transaction_timestamp, ...). Time is a timestamp
//    "YYYY-MM-DD hh:mm:ss" (local time; also "YYYY-MM-DD", "hh:mm" without seconds, ISO 8601's
//    'T', a fraction of a second and "Z" or a UTC offset; the whole text is checked) and `week`;
//    it is mapped to a day number
//    day = (date − origin_date) + 1 with origin_date = 2017-01-01 by default, so the first day of
//    the data is day 1 in both flavours (only the calendar date is used; the time of day is
//    ignored, as DAY ignores TRANS_TIME). Dates of campaigns and redemptions map the same way.
//    Discounts are stored as positive numbers.
//  Column map (original → completejourney): household_key → household_id, BASKET_ID →
//  basket_id, PRODUCT_ID → product_id, SALES_VALUE → sales_value, RETAIL_DISC → retail_disc,
//  COUPON_DISC → coupon_disc, COUPON_MATCH_DISC → coupon_match_disc, WEEK_NO → week, DAY →
//  date(transaction_timestamp); product DEPARTMENT → department, COMMODITY_DESC →
//  product_category; coupon_redempt (household_key, DAY, CAMPAIGN) → coupon_redemptions
//  (household_id, redemption_date, campaign_id); campaign_table (household_key, CAMPAIGN) →
//  campaigns (household_id, campaign_id); campaign_desc (DESCRIPTION, CAMPAIGN, START_DAY,
//  END_DAY) → campaign_descriptions (campaign_type, campaign_id, start_date, end_date).
//  Gzipped files (the package samples ship as .csv.gz) are not read: tailor does not link zlib,
//  so decompress them first (`gzip -dk products.csv.gz`); a directory holding only the .gz copy
//  gets an error that says so.
//
// Features (one row per household that appears anywhere in the transaction file, ascending
// household key; all computed over the transactions whose day lies in FeatureOptions::window;
// "spend" is SALES_VALUE; discounts enter by magnitude |x|, so the sign convention of either
// flavour gives the same numbers):
//   recency_days          reference_day − last day with a basket (reference_day = the last day of
//                         the window that has data); no basket in the window: window length
//   frequency_baskets     number of distinct baskets
//   monetary_spend        max(0, Σ spend)
//   basket_spend_mean     monetary_spend / baskets (0 without baskets)
//   basket_lines_mean     transaction lines per basket (lines, not QUANTITY: QUANTITY of fuel
//                         and some weighed items is in gallons/miles/ounces and not comparable)
//   discount_share        D / (Σ spend + D), D = Σ |RETAIL_DISC| + |COUPON_DISC| +
//                         |COUPON_MATCH_DISC|: the share of the undiscounted value given away
//   coupon_discount_share (Σ |COUPON_DISC| + |COUPON_MATCH_DISC|) / (Σ spend + D)
//   coupon_basket_share   share of baskets with a non-zero coupon or coupon-match discount
//   weeks_active          distinct weeks with a basket
//   active_week_share     weeks_active / S, S = weeks spanned by the window's data (global
//                         first to last week, inclusive)
//   weekly_spend_cv       coefficient of variation (population sd / mean) of the household's
//                         weekly spend over those S weeks, zero weeks included; 0 when the mean
//                         is ≤ 0. Low = regular shopper
//   coupons_redeemed      redemptions in the window           (when the redemption file exists)
//   campaigns_received    campaigns the household was sent that overlap the window (all of them
//                         when the campaign-description file is absent) (when the campaign
//                         membership file exists)
//   coupon_redemption_rate  distinct campaigns with a redemption in the window / campaigns
//                         received (0 when none received) (when both files exist)
//   dept:<DEPARTMENT>     share of the household's spend in each department (departments ordered
//                         by total spend; those below min_department_share of all spend pooled
//                         into dept:OTHER; products missing from the product file or with a blank
//                         department count as UNKNOWN)
//   commodity:<COMMODITY> share of spend in each of the top_commodities commodities
//                         (COMMODITY_DESC / product_category) by total spend
// Shares use the household's spend floored at zero per department (returns can make a
// department's net negative), so all features are ≥ 0 and the department shares sum to 1 for
// every household with positive spend — the table can go straight into NMF.
//
// Validation: errors are FormatErrors naming file:line (and the column where one is at fault):
// a field that is not an integer/number/date, WEEK_NO outside [0, kMaxWeek = 100000], a DAY or
// date more than 10^7 days from day 1, a money value (SALES_VALUE, the discounts) of magnitude
// above kMaxMoney = 10^9 per line (so no sum or square of the features can overflow: they are
// finite), a PRODUCT_ID listed twice in the product file, a household listed twice in the
// demographics, a campaign described twice or ending before it starts.
//
// Complexity: one streaming pass over the transaction file (CsvReader, O(1 MiB) buffer; no row is
// kept as text), O(rows) time with hash lookups per row; memory O(households × (departments +
// commodities) + (household, week) pairs with a line + baskets + products) — independent of the
// week and day numbers themselves.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"
#include "tailor/io/csv.hpp"

namespace tailor::io::dunnhumby {

/// Which download the files come from.
enum class Flavour {
  original,         ///< dunnhumby's CSV release (transaction_data.csv, product.csv, DAY)
  completejourney,  ///< the R package's tables as CSV (transactions.csv, timestamps)
};

inline std::string_view to_string(Flavour flavour) {
  return flavour == Flavour::original ? "original" : "completejourney";
}

/// "original" or "completejourney"; InvalidArgument otherwise.
inline Flavour parse_flavour(std::string_view text) {
  if (text == "original") return Flavour::original;
  if (text == "completejourney") return Flavour::completejourney;
  raise<InvalidArgument>("dunnhumby: flavour = '{}', expected 'original' or 'completejourney'",
                         text);
}

/// The files of one download. Optional files are empty paths when absent.
struct Files {
  Flavour flavour = Flavour::original;
  std::filesystem::path transactions;           ///< required
  std::filesystem::path products;               ///< required
  std::filesystem::path demographics;           ///< hh_demographic.csv / demographics.csv
  std::filesystem::path coupon_redemptions;     ///< coupon_redempt.csv / coupon_redemptions.csv
  std::filesystem::path campaign_members;       ///< campaign_table.csv / campaigns.csv
  std::filesystem::path campaign_descriptions;  ///< campaign_desc.csv / campaign_descriptions.csv
};

/// An inclusive range of day numbers [first_day, last_day]; the default takes every day.
struct DayWindow {
  int first_day = std::numeric_limits<int>::min();
  int last_day = std::numeric_limits<int>::max();
  bool contains(int day) const { return first_day <= day && day <= last_day; }
};

/// Options of build_features. Defaults: all days, top 20 commodities, departments under 0.1 % of
/// all spend pooled, completejourney day 1 = 2017-01-01.
struct FeatureOptions {
  DayWindow window{};                      ///< only transactions with day in the window count
  int top_commodities = 20;                ///< commodity:<name> columns (0 = none)
  double min_department_share = 0.001;     ///< smaller departments pooled into dept:OTHER
  std::string origin_date = "2017-01-01";  ///< completejourney: this date is day 1
};

/// The household × feature table (see the header comment for the feature definitions).
struct HouseholdFeatures {
  std::vector<std::int64_t> household_keys;  ///< row i's household, ascending
  std::vector<std::string> feature_names;    ///< column j's name
  Matrix values;                             ///< households × features, all finite and ≥ 0
  std::vector<Index> behaviour_columns;      ///< RFM, basket, discount, regularity, coupons
  std::vector<Index> department_columns;     ///< dept:<name>
  std::vector<Index> commodity_columns;      ///< commodity:<name>
  /// household_key plus age, income, homeowner, marital_status, household_size,
  /// household_comp, kids (strings as in the file, "" for households without a row), aligned
  /// with household_keys; no columns when the demographics file is absent.
  Table demographics{"demographics"};
  Flavour flavour = Flavour::original;
  int first_day = 0;      ///< first day of the window that has data
  int reference_day = 0;  ///< last day of the window that has data (recency is measured to it)
  int first_week = 0;     ///< first and last week with data in the window
  int last_week = 0;
  std::size_t rows_read = 0;       ///< transaction rows in the file
  std::size_t rows_in_window = 0;  ///< of which inside the window
  std::size_t num_baskets = 0;     ///< distinct baskets in the window

  Index num_households() const { return values.rows(); }
  Index num_features() const { return values.cols(); }

  /// Column index of feature `name`; InvalidArgument listing the features when absent.
  Index column(std::string_view name) const {
    for (std::size_t j = 0; j < feature_names.size(); ++j) {
      if (feature_names[j] == name) return static_cast<Index>(j);
    }
    raise<InvalidArgument>("HouseholdFeatures: no feature '{}' (features: {})", name,
                           fmt::join(feature_names, ", "));
  }

  /// Row index of household `key`; InvalidArgument when absent.
  Index row(std::int64_t key) const {
    const auto it = std::lower_bound(household_keys.begin(), household_keys.end(), key);
    if (it == household_keys.end() || *it != key) {
      raise<InvalidArgument>("HouseholdFeatures: no household {}", key);
    }
    return static_cast<Index>(it - household_keys.begin());
  }

  /// household_key followed by every feature, as a Table (write it with write_csv).
  Table to_table() const {
    Table table("household_features");
    Vector keys(static_cast<Index>(household_keys.size()));
    for (std::size_t i = 0; i < household_keys.size(); ++i) {
      keys[static_cast<Index>(i)] = static_cast<double>(household_keys[i]);
    }
    table.add_numeric("household_key", std::move(keys));
    for (std::size_t j = 0; j < feature_names.size(); ++j) {
      table.add_numeric(feature_names[j], values.col(static_cast<Index>(j)));
    }
    return table;
  }
};

/// Spend per household in a day window (one row per household of the transaction file).
struct HouseholdSpend {
  std::vector<std::int64_t> household_keys;  ///< ascending
  Vector spend;    ///< Σ SALES_VALUE of the household's transactions in the window (may be 0)
  Vector baskets;  ///< distinct baskets in the window
};

/// One campaign (campaign_desc.csv / campaign_descriptions.csv).
struct Campaign {
  std::int64_t id = 0;
  std::string type;  ///< "TypeA", "TypeB", "TypeC" (completejourney's "Type A" loses the space)
  int start_day = 0;
  int end_day = 0;
};

/// One (household, campaign) row of campaign_table.csv / campaigns.csv.
struct CampaignMember {
  std::int64_t household_key = 0;
  std::int64_t campaign = 0;
};

/// The largest magnitude of a money value (SALES_VALUE and the discounts) on one transaction line,
/// 10^9: far beyond any real line, and small enough that no sum, square or ratio of the features
/// can overflow (the documented features stay finite). A larger value is a FormatError.
inline constexpr double kMaxMoney = 1e9;

/// The largest WEEK_NO / week accepted (a FormatError beyond it; memory does not depend on the
/// week numbers).
inline constexpr std::int64_t kMaxWeek = 100'000;

namespace detail {

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

inline std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

/// Index of column `name` in the reader's header, ignoring case; FormatError naming the file and
/// the column otherwise.
inline std::size_t find_column(const CsvReader& reader, std::string_view name,
                               std::string_view what) {
  const auto& names = reader.column_names();
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (iequals(trim(names[j]), name)) return j;
  }
  raise<FormatError>("{}: missing column '{}' ({}); columns: {}", reader.source(), name, what,
                     fmt::join(names, ", "));
}

inline std::optional<std::size_t> find_optional_column(const CsvReader& reader,
                                                       std::string_view name) {
  const auto& names = reader.column_names();
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (iequals(trim(names[j]), name)) return j;
  }
  return std::nullopt;
}

/// Field `index` as an integer; FormatError naming file:line and the column when it is not one.
inline std::int64_t integer_field(const CsvReader& reader, const CsvRow& row, std::size_t index) {
  const double value = row.number(index);
  // 2^53: every integer up to it is exact in a double (basket ids have 11 digits).
  if (!(std::abs(value) <= 9007199254740992.0) || value != std::floor(value)) {
    raise<FormatError>("{}:{}:{} (column '{}'): '{}' is not an integer", reader.source(),
                       row.line(), index + 1, reader.column_names()[index], row.text(index));
  }
  return static_cast<std::int64_t>(value);
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the era-based day count: shift the year
/// to start in March so the leap day is last, then 365·y + y/4 − y/100 + y/400 + day of year;
/// see H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
inline std::int64_t days_from_civil(std::int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const std::int64_t year_of_era = year - era * 400;
  const std::int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

/// Two decimal digits at text[at] as a number in [0, max]; -1 otherwise.
inline int two_digits(std::string_view text, std::size_t at, int max) {
  if (at + 2 > text.size()) return -1;
  const char a = text[at], b = text[at + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
  const int value = (a - '0') * 10 + (b - '0');
  return value <= max ? value : -1;
}

/// Whether `text` is a time of day as timestamps write it: "hh:mm", optionally ":ss" (60 for a
/// leap second) and a fraction ".fff", then optionally "Z" or a UTC offset (+hh:mm, +hhmm, +hh,
/// or with '-').
inline bool is_time_of_day(std::string_view text) {
  if (two_digits(text, 0, 23) < 0 || text.size() < 5 || text[2] != ':' ||
      two_digits(text, 3, 59) < 0) {
    return false;
  }
  std::size_t at = 5;
  if (at < text.size() && text[at] == ':') {
    if (two_digits(text, at + 1, 60) < 0) return false;
    at += 3;
    if (at < text.size() && text[at] == '.') {
      const std::size_t digits_start = ++at;
      while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
      if (at == digits_start) return false;
    }
  }
  if (at == text.size()) return true;
  if (text[at] == 'Z') return at + 1 == text.size();
  if (text[at] != '+' && text[at] != '-') return false;
  const std::string_view offset = text.substr(at + 1);
  if (offset.size() == 2) return two_digits(offset, 0, 23) >= 0;
  if (offset.size() == 4) return two_digits(offset, 0, 23) >= 0 && two_digits(offset, 2, 59) >= 0;
  return offset.size() == 5 && offset[2] == ':' && two_digits(offset, 0, 23) >= 0 &&
         two_digits(offset, 3, 59) >= 0;
}

/// Parses "YYYY-MM-DD", alone or followed by ' ' or 'T' and a time of day (is_time_of_day: the
/// time is checked, then ignored), into days since 1970-01-01; nullopt when the whole text is
/// not such a date.
inline std::optional<std::int64_t> parse_date(std::string_view text) {
  text = trim(text);
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (text.size() > 10 &&
      ((text[10] != ' ' && text[10] != 'T') || !is_time_of_day(text.substr(11)))) {
    return std::nullopt;
  }
  int year = 0, month = 0, day = 0;
  const auto parse = [](std::string_view part, int& out) {
    if (part.empty() || part.front() < '0' || part.front() > '9') return false;  // no sign
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && ptr == part.data() + part.size();
  };
  if (!parse(text.substr(0, 4), year) || !parse(text.substr(5, 2), month) ||
      !parse(text.substr(8, 2), day)) {
    return std::nullopt;
  }
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysInMonth[month - 1]) return std::nullopt;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  return days_from_civil(year, month, day);
}

inline std::int64_t origin_days(std::string_view origin_date) {
  const auto days = parse_date(origin_date);
  if (!days) {
    raise<InvalidArgument>("dunnhumby: origin_date = '{}', expected a date YYYY-MM-DD",
                           origin_date);
  }
  return *days;
}

/// A day field: DAY (original) or a date/timestamp (completejourney) mapped to day numbers.
class DayField {
 public:
  DayField(std::size_t index, bool is_date, std::int64_t origin)
      : index_(index), is_date_(is_date), origin_(origin) {}

  int operator()(const CsvReader& reader, const CsvRow& row) {
    if (!is_date_) return checked_int(reader, row, integer_field(reader, row, index_));
    const std::string_view text = trim(row.text(index_));
    // Consecutive rows (the lines of a basket) often share a timestamp: a cache keyed by the
    // exact text, so every distinct text is parsed in full.
    if (has_last_ && text == last_text_) return last_day_;
    const auto days = parse_date(text);
    if (!days) {
      raise<FormatError>("{}:{}:{} (column '{}'): '{}' is not a date YYYY-MM-DD[ hh:mm:ss]",
                         reader.source(), row.line(), index_ + 1, reader.column_names()[index_],
                         row.text(index_));
    }
    last_day_ = checked_int(reader, row, *days - origin_ + 1);
    last_text_.assign(text);
    has_last_ = true;
    return last_day_;
  }

 private:
  int checked_int(const CsvReader& reader, const CsvRow& row, std::int64_t value) const {
    if (value < -10'000'000 || value > 10'000'000) {
      raise<FormatError>("{}:{}:{} (column '{}'): day {} is out of range", reader.source(),
                         row.line(), index_ + 1, reader.column_names()[index_], value);
    }
    return static_cast<int>(value);
  }

  std::size_t index_;
  bool is_date_;
  std::int64_t origin_;
  std::string last_text_;
  bool has_last_ = false;
  int last_day_ = 0;
};

/// Column names of each table in each flavour.
struct TransactionSchema {
  std::string_view household, basket, product, sales, retail_disc, coupon_disc, match_disc, week,
      day;
};

inline TransactionSchema transaction_schema(Flavour flavour) {
  if (flavour == Flavour::original) {
    return {"household_key", "BASKET_ID",         "PRODUCT_ID", "SALES_VALUE", "RETAIL_DISC",
            "COUPON_DISC",   "COUPON_MATCH_DISC", "WEEK_NO",    "DAY"};
  }
  return {"household_id", "basket_id",         "product_id", "sales_value",          "retail_disc",
          "coupon_disc",  "coupon_match_disc", "week",       "transaction_timestamp"};
}

/// Field `index` as a money value with |x| <= kMaxMoney; FormatError naming file:line:column.
inline double money_field(const CsvReader& reader, const CsvRow& row, std::size_t index) {
  const double value = row.number(index);
  if (!(std::abs(value) <= kMaxMoney)) {
    raise<FormatError>(
        "{}:{}:{} (column '{}'): {} is out of range, expected a magnitude of at most "
        "{}",
        reader.source(), row.line(), index + 1, reader.column_names()[index], value, kMaxMoney);
  }
  return value;
}

/// One decoded transaction line.
struct Transaction {
  std::int64_t household = 0;
  std::int64_t basket = 0;
  std::int64_t product = 0;
  double sales = 0.0;
  double retail_disc = 0.0;  ///< magnitudes
  double coupon_disc = 0.0;
  double match_disc = 0.0;
  int day = 0;
  int week = 0;
};

/// Streams the transaction file and calls `visit(const Transaction&)` for every row; returns the
/// number of rows.
template <class Visit>
std::size_t for_each_transaction(const Files& files, std::string_view origin_date, Visit&& visit) {
  const bool original = files.flavour == Flavour::original;
  const std::int64_t origin = original ? 0 : origin_days(origin_date);
  CsvReader reader(files.transactions);
  const TransactionSchema s = transaction_schema(files.flavour);
  const std::string what = fmt::format("Dunnhumby {} transactions", to_string(files.flavour));
  const std::size_t c_household = find_column(reader, s.household, what);
  const std::size_t c_basket = find_column(reader, s.basket, what);
  const std::size_t c_product = find_column(reader, s.product, what);
  const std::size_t c_sales = find_column(reader, s.sales, what);
  const std::size_t c_retail = find_column(reader, s.retail_disc, what);
  const std::size_t c_coupon = find_column(reader, s.coupon_disc, what);
  const std::size_t c_match = find_column(reader, s.match_disc, what);
  const std::size_t c_week = find_column(reader, s.week, what);
  DayField day_field(find_column(reader, s.day, what), !original, origin);
  CsvRow row;
  Transaction t;
  while (reader.next_row(row)) {
    t.household = integer_field(reader, row, c_household);
    t.basket = integer_field(reader, row, c_basket);
    t.product = integer_field(reader, row, c_product);
    t.sales = money_field(reader, row, c_sales);
    t.retail_disc = std::abs(money_field(reader, row, c_retail));
    t.coupon_disc = std::abs(money_field(reader, row, c_coupon));
    t.match_disc = std::abs(money_field(reader, row, c_match));
    const std::int64_t week = integer_field(reader, row, c_week);
    if (week < 0 || week > kMaxWeek) {
      raise<FormatError>("{}:{}:{} (column '{}'): week {} is out of range [0, {}]", reader.source(),
                         row.line(), c_week + 1, reader.column_names()[c_week], week, kMaxWeek);
    }
    t.week = static_cast<int>(week);
    t.day = day_field(reader, row);
    visit(t);
  }
  return reader.rows_read();
}

/// Interns strings to dense indices in first-seen order.
class Interner {
 public:
  int id(std::string_view text) {
    const auto it = ids_.find(std::string(text));
    if (it != ids_.end()) return it->second;
    const int next = static_cast<int>(names_.size());
    names_.emplace_back(text);
    ids_.emplace(names_.back(), next);
    return next;
  }
  const std::vector<std::string>& names() const { return names_; }
  int size() const { return static_cast<int>(names_.size()); }

 private:
  std::unordered_map<std::string, int> ids_;
  std::vector<std::string> names_;
};

struct ProductInfo {
  int department = 0;
  int commodity = -1;    ///< -1: blank
  std::size_t line = 0;  ///< line of the product file (0: not from the file)
};

struct Catalog {
  std::unordered_map<std::int64_t, ProductInfo> products;
  Interner departments;
  Interner commodities;
  int unknown_department = 0;
};

inline Catalog read_catalog(const Files& files) {
  Catalog catalog;
  catalog.unknown_department = catalog.departments.id("UNKNOWN");
  CsvReader reader(files.products);
  const bool original = files.flavour == Flavour::original;
  const std::string what = fmt::format("Dunnhumby {} products", to_string(files.flavour));
  const std::size_t c_product = find_column(reader, original ? "PRODUCT_ID" : "product_id", what);
  const std::size_t c_department =
      find_column(reader, original ? "DEPARTMENT" : "department", what);
  const std::size_t c_commodity =
      find_column(reader, original ? "COMMODITY_DESC" : "product_category", what);
  CsvRow row;
  while (reader.next_row(row)) {
    const std::int64_t id = integer_field(reader, row, c_product);
    const auto [it, added] = catalog.products.try_emplace(id);
    if (!added) {
      raise<FormatError>(
          "{}:{}: {} {} is listed twice (also on line {}), expected one row per "
          "product",
          reader.source(), row.line(), reader.column_names()[c_product], id, it->second.line);
    }
    ProductInfo& info = it->second;
    info.line = row.line();
    const std::string_view department = trim(row.text(c_department));
    info.department =
        department.empty() ? catalog.unknown_department : catalog.departments.id(department);
    const std::string_view commodity = trim(row.text(c_commodity));
    info.commodity = commodity.empty() ? -1 : catalog.commodities.id(commodity);
  }
  return catalog;
}

/// Dense index of household keys in first-seen order, with a one-entry cache (rows of a basket
/// are usually adjacent).
class HouseholdIndex {
 public:
  int index(std::int64_t key) {
    if (key == last_key_ && last_index_ >= 0) return last_index_;
    auto [it, inserted] = ids_.try_emplace(key, static_cast<int>(keys_.size()));
    if (inserted) keys_.push_back(key);
    last_key_ = key;
    last_index_ = it->second;
    return last_index_;
  }
  std::optional<int> find(std::int64_t key) const {
    const auto it = ids_.find(key);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  const std::vector<std::int64_t>& keys() const { return keys_; }
  int size() const { return static_cast<int>(keys_.size()); }
  /// order[r] = the dense index of the r-th smallest key.
  std::vector<int> sorted_order() const {
    std::vector<int> order(keys_.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return keys_[a] < keys_[b]; });
    return order;
  }

 private:
  std::unordered_map<std::int64_t, int> ids_;
  std::vector<std::int64_t> keys_;
  std::int64_t last_key_ = 0;
  int last_index_ = -1;
};

inline std::string normalize_campaign_type(std::string_view text) {
  std::string out;
  for (const char c : trim(text)) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

/// Day of a redemption / campaign date column: integer day (original) or date (completejourney).
inline DayField day_field_for(const Files& files, std::size_t index, std::string_view origin) {
  const bool original = files.flavour == Flavour::original;
  return DayField(index, !original, original ? 0 : origin_days(origin));
}

struct Redemption {
  std::int64_t household_key = 0;
  std::int64_t campaign = 0;
  int day = 0;
};

inline std::vector<Redemption> read_redemptions(const Files& files, std::string_view origin) {
  std::vector<Redemption> result;
  if (files.coupon_redemptions.empty()) return result;
  CsvReader reader(files.coupon_redemptions);
  const bool original = files.flavour == Flavour::original;
  const std::string what = fmt::format("Dunnhumby {} coupon redemptions", to_string(files.flavour));
  const std::size_t c_household =
      find_column(reader, original ? "household_key" : "household_id", what);
  const std::size_t c_campaign = find_column(reader, original ? "CAMPAIGN" : "campaign_id", what);
  DayField day =
      day_field_for(files, find_column(reader, original ? "DAY" : "redemption_date", what), origin);
  CsvRow row;
  while (reader.next_row(row)) {
    result.push_back({integer_field(reader, row, c_household),
                      integer_field(reader, row, c_campaign), day(reader, row)});
  }
  return result;
}

/// The demographics file as a Table aligned with `keys` (ascending): household_key, then the
/// harmonized columns age, income, homeowner, marital_status, household_size, household_comp,
/// kids as text ("" for households without a row). Households of the file that are not in
/// `keys` are ignored.
inline Table read_demographics(const Files& files, const std::vector<std::int64_t>& keys) {
  Table table("demographics");
  if (files.demographics.empty()) return table;
  static constexpr std::array<std::string_view, 7> kNames = {
      "age", "income", "homeowner", "marital_status", "household_size", "household_comp", "kids"};
  static constexpr std::array<std::string_view, 7> kOriginal = {"AGE_DESC",
                                                                "INCOME_DESC",
                                                                "HOMEOWNER_DESC",
                                                                "MARITAL_STATUS_CODE",
                                                                "HOUSEHOLD_SIZE_DESC",
                                                                "HH_COMP_DESC",
                                                                "KID_CATEGORY_DESC"};
  static constexpr std::array<std::string_view, 7> kPackage = {
      "age",       "income", "home_ownership", "marital_status", "household_size", "household_comp",
      "kids_count"};
  const bool original = files.flavour == Flavour::original;
  CsvReader reader(files.demographics);
  const std::string what = fmt::format("Dunnhumby {} demographics", to_string(files.flavour));
  const std::size_t c_household =
      find_column(reader, original ? "household_key" : "household_id", what);
  std::array<std::size_t, 7> columns{};
  for (std::size_t k = 0; k < columns.size(); ++k) {
    columns[k] = find_column(reader, original ? kOriginal[k] : kPackage[k], what);
  }
  std::array<std::vector<std::string>, 7> texts;
  for (auto& column : texts) column.assign(keys.size(), std::string());
  std::unordered_map<std::int64_t, std::size_t> line_of_household;
  CsvRow row;
  while (reader.next_row(row)) {
    const std::int64_t key = integer_field(reader, row, c_household);
    const auto [seen, added] = line_of_household.try_emplace(key, row.line());
    if (!added) {
      raise<FormatError>(
          "{}:{}: household {} is listed twice (also on line {}), expected one row "
          "per household",
          reader.source(), row.line(), key, seen->second);
    }
    const auto it = std::lower_bound(keys.begin(), keys.end(), key);
    if (it == keys.end() || *it != key) continue;
    const auto i = static_cast<std::size_t>(it - keys.begin());
    for (std::size_t k = 0; k < columns.size(); ++k) {
      texts[k][i] = std::string(trim(row.text(columns[k])));
    }
  }
  Vector key_column(static_cast<Index>(keys.size()));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    key_column[static_cast<Index>(i)] = static_cast<double>(keys[i]);
  }
  table.add_numeric("household_key", std::move(key_column));
  for (std::size_t k = 0; k < columns.size(); ++k) {
    table.add_strings(std::string(kNames[k]), std::move(texts[k]));
  }
  return table;
}

}  // namespace detail

/// Converts a date "YYYY-MM-DD" to the day number used for the completejourney flavour
/// (origin_date is day 1). InvalidArgument when either is not a valid date.
inline int date_to_day(std::string_view date, std::string_view origin_date = "2017-01-01") {
  const auto days = detail::parse_date(date);
  if (!days) {
    raise<InvalidArgument>("dunnhumby: date = '{}', expected YYYY-MM-DD", date);
  }
  return static_cast<int>(*days - detail::origin_days(origin_date) + 1);
}

/// The flavour of the files in `dir`: original when transaction_data.csv(.gz) is there,
/// completejourney when transactions.csv or transactions_sample.csv (or .gz) is; Error otherwise.
inline Flavour detect_flavour(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const auto exists = [&](const char* name) {
    return fs::exists(dir / name) || fs::exists(dir / (std::string(name) + ".gz"));
  };
  if (exists("transaction_data.csv")) return Flavour::original;
  if (exists("transactions.csv") || exists("transactions_sample.csv")) {
    return Flavour::completejourney;
  }
  raise<Error>(
      "dunnhumby: '{}' holds neither transaction_data.csv (original release) nor "
      "transactions.csv / transactions_sample.csv (completejourney)",
      dir.string());
}

/// The files of the given flavour in `dir`. Error when a required file is missing, and for any
/// file present only gzipped (FILE.csv.gz without FILE.csv).
inline Files locate_files(const std::filesystem::path& dir, Flavour flavour) {
  namespace fs = std::filesystem;
  // First existing plain file among `names`; "" when none. A lone .gz copy is an error.
  const auto pick = [&](std::initializer_list<const char*> names, bool required,
                        std::string_view role) -> fs::path {
    for (const char* name : names) {
      if (fs::is_regular_file(dir / name)) return dir / name;
    }
    for (const char* name : names) {
      const fs::path gz = dir / (std::string(name) + ".gz");
      if (fs::exists(gz)) {
        raise<Error>(
            "dunnhumby: '{}' is gzip-compressed; tailor reads plain CSV (it does not link zlib): "
            "decompress it first, e.g. gzip -dk '{}'",
            gz.string(), gz.string());
      }
    }
    if (required) {
      std::vector<std::string> list(names.begin(), names.end());
      raise<Error>("dunnhumby: no {} file in '{}' (expected {})", role, dir.string(),
                   fmt::join(list, " or "));
    }
    return {};
  };
  Files files;
  files.flavour = flavour;
  if (flavour == Flavour::original) {
    files.transactions = pick({"transaction_data.csv"}, true, "transaction");
    files.products = pick({"product.csv"}, true, "product");
    files.demographics = pick({"hh_demographic.csv"}, false, "");
    files.coupon_redemptions = pick({"coupon_redempt.csv"}, false, "");
    files.campaign_members = pick({"campaign_table.csv"}, false, "");
    files.campaign_descriptions = pick({"campaign_desc.csv"}, false, "");
  } else {
    files.transactions = pick({"transactions.csv", "transactions_sample.csv"}, true, "transaction");
    files.products = pick({"products.csv"}, true, "product");
    files.demographics = pick({"demographics.csv"}, false, "");
    files.coupon_redemptions = pick({"coupon_redemptions.csv"}, false, "");
    files.campaign_members = pick({"campaigns.csv"}, false, "");
    files.campaign_descriptions = pick({"campaign_descriptions.csv"}, false, "");
  }
  return files;
}

/// locate_files with the flavour detected from the file names.
inline Files locate_files(const std::filesystem::path& dir) {
  return locate_files(dir, detect_flavour(dir));
}

/// The campaigns with their type and day range (empty when the description file is absent).
inline std::vector<Campaign> read_campaigns(const Files& files,
                                            std::string_view origin_date = "2017-01-01") {
  std::vector<Campaign> result;
  if (files.campaign_descriptions.empty()) return result;
  CsvReader reader(files.campaign_descriptions);
  const bool original = files.flavour == Flavour::original;
  const std::string what =
      fmt::format("Dunnhumby {} campaign descriptions", to_string(files.flavour));
  const std::size_t c_id = detail::find_column(reader, original ? "CAMPAIGN" : "campaign_id", what);
  const std::size_t c_type =
      detail::find_column(reader, original ? "DESCRIPTION" : "campaign_type", what);
  auto start = detail::day_field_for(
      files, detail::find_column(reader, original ? "START_DAY" : "start_date", what), origin_date);
  auto end = detail::day_field_for(
      files, detail::find_column(reader, original ? "END_DAY" : "end_date", what), origin_date);
  std::unordered_map<std::int64_t, std::size_t> line_of_campaign;
  CsvRow row;
  while (reader.next_row(row)) {
    Campaign c;
    c.id = detail::integer_field(reader, row, c_id);
    c.type = detail::normalize_campaign_type(row.text(c_type));
    c.start_day = start(reader, row);
    c.end_day = end(reader, row);
    const auto [seen, added] = line_of_campaign.try_emplace(c.id, row.line());
    if (!added) {
      raise<FormatError>(
          "{}:{}: campaign {} is listed twice (also on line {}), expected one row "
          "per campaign",
          reader.source(), row.line(), c.id, seen->second);
    }
    if (c.start_day > c.end_day) {
      raise<FormatError>(
          "{}:{}: campaign {} ends on day {}, before its start day {} (columns '{}' "
          "and '{}')",
          reader.source(), row.line(), c.id, c.end_day, c.start_day,
          original ? "START_DAY" : "start_date", original ? "END_DAY" : "end_date");
    }
    result.push_back(std::move(c));
  }
  std::sort(result.begin(), result.end(),
            [](const Campaign& a, const Campaign& b) { return a.id < b.id; });
  return result;
}

/// Which households each campaign was sent to (empty when the membership file is absent).
inline std::vector<CampaignMember> read_campaign_members(const Files& files) {
  std::vector<CampaignMember> result;
  if (files.campaign_members.empty()) return result;
  CsvReader reader(files.campaign_members);
  const bool original = files.flavour == Flavour::original;
  const std::string what = fmt::format("Dunnhumby {} campaign members", to_string(files.flavour));
  const std::size_t c_household =
      detail::find_column(reader, original ? "household_key" : "household_id", what);
  const std::size_t c_campaign =
      detail::find_column(reader, original ? "CAMPAIGN" : "campaign_id", what);
  CsvRow row;
  while (reader.next_row(row)) {
    result.push_back({detail::integer_field(reader, row, c_household),
                      detail::integer_field(reader, row, c_campaign)});
  }
  return result;
}

/// Total SALES_VALUE and distinct baskets per household over the days in `window`, for every
/// household of the transaction file (e.g. spend in a campaign window as an outcome). One
/// streaming pass; O(rows) time.
inline HouseholdSpend spend_in_window(const Files& files, DayWindow window,
                                      std::string_view origin_date = "2017-01-01") {
  check_param(window.first_day <= window.last_day, "spend_in_window", "window.last_day",
              window.last_day, fmt::format("at least window.first_day = {}", window.first_day));
  detail::HouseholdIndex households;
  std::vector<double> spend;
  std::vector<double> baskets;
  std::unordered_map<std::int64_t, int> seen_baskets;
  detail::for_each_transaction(files, origin_date, [&](const detail::Transaction& t) {
    const int h = households.index(t.household);
    if (h == static_cast<int>(spend.size())) {
      spend.push_back(0.0);
      baskets.push_back(0.0);
    }
    if (!window.contains(t.day)) return;
    spend[static_cast<std::size_t>(h)] += t.sales;
    if (seen_baskets.try_emplace(t.basket, h).second) baskets[static_cast<std::size_t>(h)] += 1.0;
  });
  HouseholdSpend result;
  const std::vector<int> order = households.sorted_order();
  result.spend.resize(static_cast<Index>(order.size()));
  result.baskets.resize(static_cast<Index>(order.size()));
  for (std::size_t r = 0; r < order.size(); ++r) {
    const auto h = static_cast<std::size_t>(order[r]);
    result.household_keys.push_back(households.keys()[h]);
    result.spend[static_cast<Index>(r)] = spend[h];
    result.baskets[static_cast<Index>(r)] = baskets[h];
  }
  return result;
}

/// Builds the household × feature table from `files` (see the header comment for every feature).
/// InvalidArgument for bad options; FormatError (naming file, line and column) for malformed
/// files; DataError when the transaction file has no rows.
inline HouseholdFeatures build_features(const Files& files, const FeatureOptions& options = {}) {
  constexpr std::string_view kContext = "dunnhumby::build_features";
  check_param(options.window.first_day <= options.window.last_day, kContext, "window.last_day",
              options.window.last_day,
              fmt::format("at least window.first_day = {}", options.window.first_day));
  check_param(options.top_commodities >= 0, kContext, "top_commodities", options.top_commodities,
              "at least 0");
  check_param(options.min_department_share >= 0.0 && options.min_department_share < 1.0, kContext,
              "min_department_share", options.min_department_share, "a value in [0, 1)");
  if (files.flavour == Flavour::completejourney) detail::origin_days(options.origin_date);

  detail::Catalog catalog = detail::read_catalog(files);

  // Per-household accumulators (dense household index in first-seen order).
  struct Accumulator {
    double spend = 0.0, discount = 0.0, coupon_discount = 0.0;
    double baskets = 0.0, lines = 0.0, coupon_baskets = 0.0;
    int last_day = std::numeric_limits<int>::min();
    std::vector<double> department_spend;
    std::vector<double> commodity_spend;  // indexed by commodity
    // (week, spend) of each week with a line of this household, by increasing week: memory
    // grows with the household's active weeks, not with the week numbers.
    std::vector<std::pair<int, double>> weekly_spend;
  };
  struct BasketState {
    bool has_coupon = false;
  };
  detail::HouseholdIndex households;
  std::vector<Accumulator> acc;
  std::unordered_map<std::int64_t, BasketState> baskets;
  std::vector<double> department_total;
  std::vector<double> commodity_total;
  int min_day = std::numeric_limits<int>::max(), max_day = std::numeric_limits<int>::min();
  int window_min_day = min_day, window_max_day = max_day;
  int min_week = std::numeric_limits<int>::max(), max_week = std::numeric_limits<int>::min();
  std::size_t rows_in_window = 0;
  std::int64_t last_basket = 0;
  bool has_last_basket = false;
  BasketState* current_basket = nullptr;  // unordered_map nodes are address-stable
  const auto num_commodities = static_cast<std::size_t>(catalog.commodities.size());

  const std::size_t rows_read =
      detail::for_each_transaction(files, options.origin_date, [&](const detail::Transaction& t) {
        const int h = households.index(t.household);
        if (h == static_cast<int>(acc.size())) acc.emplace_back();
        min_day = std::min(min_day, t.day);
        max_day = std::max(max_day, t.day);
        if (!options.window.contains(t.day)) return;
        ++rows_in_window;
        window_min_day = std::min(window_min_day, t.day);
        window_max_day = std::max(window_max_day, t.day);
        min_week = std::min(min_week, t.week);
        max_week = std::max(max_week, t.week);
        Accumulator& a = acc[static_cast<std::size_t>(h)];
        a.spend += t.sales;
        a.discount += t.retail_disc + t.coupon_disc + t.match_disc;
        a.coupon_discount += t.coupon_disc + t.match_disc;
        a.lines += 1.0;
        a.last_day = std::max(a.last_day, t.day);
        // Lines of a basket are usually adjacent: only a new basket id needs the hash map.
        if (t.basket != last_basket || !has_last_basket) {
          auto [basket, is_new] = baskets.try_emplace(t.basket);
          if (is_new) a.baskets += 1.0;
          current_basket = &basket->second;
          last_basket = t.basket;
          has_last_basket = true;
        }
        if ((t.coupon_disc != 0.0 || t.match_disc != 0.0) && !current_basket->has_coupon) {
          current_basket->has_coupon = true;
          a.coupon_baskets += 1.0;
        }
        // Lines come mostly in time order: the week is usually the last one or a new last one.
        auto& weekly = a.weekly_spend;
        if (weekly.empty() || weekly.back().first < t.week) {
          weekly.emplace_back(t.week, t.sales);
        } else if (weekly.back().first == t.week) {
          weekly.back().second += t.sales;
        } else {
          const auto it = std::lower_bound(
              weekly.begin(), weekly.end(), t.week,
              [](const std::pair<int, double>& entry, int week) { return entry.first < week; });
          if (it->first == t.week) {
            it->second += t.sales;
          } else {
            weekly.insert(it, {t.week, t.sales});
          }
        }
        detail::ProductInfo info{catalog.unknown_department, -1, 0};
        if (const auto it = catalog.products.find(t.product); it != catalog.products.end()) {
          info = it->second;
        }
        const auto d = static_cast<std::size_t>(info.department);
        if (a.department_spend.size() <= d) a.department_spend.resize(d + 1, 0.0);
        a.department_spend[d] += t.sales;
        if (info.commodity >= 0) {
          if (a.commodity_spend.empty()) a.commodity_spend.assign(num_commodities, 0.0);
          a.commodity_spend[static_cast<std::size_t>(info.commodity)] += t.sales;
        }
      });
  if (rows_read == 0 || acc.empty()) {
    raise<DataError>("{}: '{}' has no transaction rows", kContext, files.transactions.string());
  }
  const bool any_in_window = rows_in_window > 0;
  const int first_day =
      any_in_window ? window_min_day : std::max(options.window.first_day, min_day);
  const int reference_day =
      any_in_window ? window_max_day : std::min(options.window.last_day, max_day);
  // The window's day span: from the window start (clipped to the data) to the reference day.
  const int window_start = std::max(options.window.first_day, min_day);
  const double window_length =
      std::max(1.0, static_cast<double>(reference_day) - static_cast<double>(window_start) + 1.0);

  // Global totals (positive parts per household and department) decide the column order.
  const int num_departments = catalog.departments.size();
  department_total.assign(static_cast<std::size_t>(num_departments), 0.0);
  commodity_total.assign(static_cast<std::size_t>(catalog.commodities.size()), 0.0);
  for (Accumulator& a : acc) {
    a.department_spend.resize(static_cast<std::size_t>(num_departments), 0.0);
    for (int d = 0; d < num_departments; ++d) {
      department_total[static_cast<std::size_t>(d)] +=
          std::max(0.0, a.department_spend[static_cast<std::size_t>(d)]);
    }
    for (std::size_t c = 0; c < a.commodity_spend.size(); ++c) {
      commodity_total[c] += std::max(0.0, a.commodity_spend[c]);
    }
  }
  const double grand_total = std::accumulate(department_total.begin(), department_total.end(), 0.0);
  const auto by_total = [](const std::vector<double>& total,
                           const std::vector<std::string>& names) {
    std::vector<int> order(total.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
      const auto ua = static_cast<std::size_t>(a), ub = static_cast<std::size_t>(b);
      if (total[ua] != total[ub]) return total[ua] > total[ub];
      return names[ua] < names[ub];
    });
    return order;
  };
  // Department d → output slot; pooled departments share the OTHER slot (last).
  std::vector<int> department_slot(static_cast<std::size_t>(num_departments), -1);
  std::vector<std::string> department_names;
  bool pooled = false;
  for (const int d : by_total(department_total, catalog.departments.names())) {
    const double total = department_total[static_cast<std::size_t>(d)];
    if (total <= 0.0) continue;  // never bought in the window: no column
    if (grand_total > 0.0 && total / grand_total < options.min_department_share) {
      pooled = true;
      continue;
    }
    department_slot[static_cast<std::size_t>(d)] = static_cast<int>(department_names.size());
    department_names.push_back(catalog.departments.names()[static_cast<std::size_t>(d)]);
  }
  if (pooled) {
    const int other = static_cast<int>(department_names.size());
    for (int d = 0; d < num_departments; ++d) {
      if (department_slot[static_cast<std::size_t>(d)] < 0 &&
          department_total[static_cast<std::size_t>(d)] > 0.0) {
        department_slot[static_cast<std::size_t>(d)] = other;
      }
    }
    department_names.emplace_back("OTHER");
  }
  std::vector<int> top_commodities;
  for (const int c : by_total(commodity_total, catalog.commodities.names())) {
    if (static_cast<int>(top_commodities.size()) >= options.top_commodities) break;
    if (commodity_total[static_cast<std::size_t>(c)] <= 0.0) break;
    top_commodities.push_back(c);
  }

  // Coupon redemptions and campaign membership.
  const std::vector<detail::Redemption> redemptions =
      detail::read_redemptions(files, options.origin_date);
  const std::vector<CampaignMember> members = read_campaign_members(files);
  const std::vector<Campaign> campaigns = read_campaigns(files, options.origin_date);
  const bool has_redemptions = !files.coupon_redemptions.empty();
  const bool has_members = !files.campaign_members.empty();
  const auto num_households = static_cast<std::size_t>(households.size());
  std::vector<double> coupons_redeemed(num_households, 0.0);
  std::vector<double> campaigns_received(num_households, 0.0);
  std::vector<double> campaigns_redeemed(num_households, 0.0);
  {
    // Campaigns overlapping the window (all when their days are unknown).
    std::unordered_map<std::int64_t, bool> campaign_in_window;
    for (const Campaign& c : campaigns) {
      campaign_in_window[c.id] =
          c.start_day <= options.window.last_day && c.end_day >= options.window.first_day;
    }
    const auto in_window = [&](std::int64_t campaign) {
      if (campaigns.empty()) return true;
      const auto it = campaign_in_window.find(campaign);
      return it == campaign_in_window.end() ? true : it->second;
    };
    std::vector<std::pair<int, std::int64_t>> received;  // (household, campaign)
    for (const CampaignMember& m : members) {
      const auto h = households.find(m.household_key);
      if (!h || !in_window(m.campaign)) continue;
      received.emplace_back(*h, m.campaign);
    }
    std::sort(received.begin(), received.end());
    received.erase(std::unique(received.begin(), received.end()), received.end());
    for (const auto& [h, campaign] : received) campaigns_received[static_cast<std::size_t>(h)] += 1;
    std::vector<std::pair<int, std::int64_t>> redeemed;
    for (const detail::Redemption& r : redemptions) {
      const auto h = households.find(r.household_key);
      if (!h || !options.window.contains(r.day)) continue;
      coupons_redeemed[static_cast<std::size_t>(*h)] += 1.0;
      if (std::binary_search(received.begin(), received.end(),
                             std::pair<int, std::int64_t>{*h, r.campaign})) {
        redeemed.emplace_back(*h, r.campaign);
      }
    }
    std::sort(redeemed.begin(), redeemed.end());
    redeemed.erase(std::unique(redeemed.begin(), redeemed.end()), redeemed.end());
    for (const auto& [h, campaign] : redeemed) campaigns_redeemed[static_cast<std::size_t>(h)] += 1;
  }

  // Assemble the table.
  HouseholdFeatures out;
  out.flavour = files.flavour;
  out.first_day = first_day;
  out.reference_day = reference_day;
  out.first_week = any_in_window ? min_week : 0;
  out.last_week = any_in_window ? max_week : -1;
  out.rows_read = rows_read;
  out.rows_in_window = rows_in_window;
  out.num_baskets = baskets.size();
  std::vector<std::string> behaviour = {
      "recency_days",      "frequency_baskets", "monetary_spend",        "basket_spend_mean",
      "basket_lines_mean", "discount_share",    "coupon_discount_share", "coupon_basket_share",
      "weeks_active",      "active_week_share", "weekly_spend_cv"};
  if (has_redemptions) behaviour.emplace_back("coupons_redeemed");
  if (has_members) behaviour.emplace_back("campaigns_received");
  if (has_redemptions && has_members) behaviour.emplace_back("coupon_redemption_rate");
  for (std::size_t j = 0; j < behaviour.size(); ++j) {
    out.behaviour_columns.push_back(static_cast<Index>(j));
    out.feature_names.push_back(behaviour[j]);
  }
  const auto first_department = static_cast<Index>(out.feature_names.size());
  for (const std::string& name : department_names) {
    out.department_columns.push_back(static_cast<Index>(out.feature_names.size()));
    out.feature_names.push_back("dept:" + name);
  }
  const auto first_commodity = static_cast<Index>(out.feature_names.size());
  for (const int c : top_commodities) {
    out.commodity_columns.push_back(static_cast<Index>(out.feature_names.size()));
    out.feature_names.push_back("commodity:" +
                                catalog.commodities.names()[static_cast<std::size_t>(c)]);
  }
  const std::vector<int> order = households.sorted_order();
  out.values = Matrix::Zero(static_cast<Index>(num_households),
                            static_cast<Index>(out.feature_names.size()));
  const int span_weeks = any_in_window ? max_week - min_week + 1 : 0;
  std::vector<double> slot_spend(department_names.size());
  for (std::size_t r = 0; r < order.size(); ++r) {
    const auto h = static_cast<std::size_t>(order[r]);
    const Accumulator& a = acc[h];
    const auto i = static_cast<Index>(r);
    out.household_keys.push_back(households.keys()[h]);
    auto x = out.values.row(i);
    const double spend = std::max(0.0, a.spend);
    const double gross = a.spend + a.discount;
    x[0] = a.baskets > 0 ? static_cast<double>(reference_day - a.last_day) : window_length;
    x[1] = a.baskets;
    x[2] = spend;
    x[3] = a.baskets > 0 ? spend / a.baskets : 0.0;
    x[4] = a.baskets > 0 ? a.lines / a.baskets : 0.0;
    x[5] = gross > 0 ? std::min(1.0, a.discount / gross) : 0.0;
    x[6] = gross > 0 ? std::min(1.0, a.coupon_discount / gross) : 0.0;
    x[7] = a.baskets > 0 ? a.coupon_baskets / a.baskets : 0.0;
    // A week is active when the household has a line in it, whatever its net spend; the
    // weeks without a line add zeros to the sums.
    double weeks_active = 0.0, sum = 0.0, sum_sq = 0.0;
    for (const std::pair<int, double>& week : a.weekly_spend) {
      weeks_active += 1.0;
      sum += week.second;
      sum_sq += week.second * week.second;
    }
    x[8] = weeks_active;
    if (span_weeks > 0) {
      x[9] = weeks_active / span_weeks;
      const double mean = sum / span_weeks;
      const double variance = std::max(0.0, sum_sq / span_weeks - mean * mean);
      x[10] = mean > 0 ? std::sqrt(variance) / mean : 0.0;
    }
    Index j = 11;
    if (has_redemptions) x[j++] = coupons_redeemed[h];
    if (has_members) x[j++] = campaigns_received[h];
    if (has_redemptions && has_members) {
      x[j++] = campaigns_received[h] > 0 ? campaigns_redeemed[h] / campaigns_received[h] : 0.0;
    }
    std::fill(slot_spend.begin(), slot_spend.end(), 0.0);
    double positive_total = 0.0;
    for (int d = 0; d < num_departments; ++d) {
      const double value = std::max(0.0, a.department_spend[static_cast<std::size_t>(d)]);
      const int slot = department_slot[static_cast<std::size_t>(d)];
      if (slot >= 0) slot_spend[static_cast<std::size_t>(slot)] += value;
      positive_total += value;
    }
    if (positive_total > 0) {
      for (std::size_t s = 0; s < slot_spend.size(); ++s) {
        x[first_department + static_cast<Index>(s)] = slot_spend[s] / positive_total;
      }
      for (std::size_t s = 0; s < top_commodities.size(); ++s) {
        const auto c = static_cast<std::size_t>(top_commodities[s]);
        if (c < a.commodity_spend.size()) {
          x[first_commodity + static_cast<Index>(s)] =
              std::max(0.0, a.commodity_spend[c]) / positive_total;
        }
      }
    }
  }
  // Every money value is at most kMaxMoney, so this cannot fail; a check, not a hope.
  for (Index i = 0; i < out.values.rows(); ++i) {
    for (Index j = 0; j < out.values.cols(); ++j) {
      if (!std::isfinite(out.values(i, j))) {
        raise<DataError>("{}: household {} of '{}' has {} = {}, expected a finite value", kContext,
                         out.household_keys[static_cast<std::size_t>(i)],
                         files.transactions.string(),
                         out.feature_names[static_cast<std::size_t>(j)], out.values(i, j));
      }
    }
  }
  out.demographics = detail::read_demographics(files, out.household_keys);
  return out;
}

/// build_features on the files found in `dir` (flavour detected from the file names).
inline HouseholdFeatures build_features(const std::filesystem::path& dir,
                                        const FeatureOptions& options = {}) {
  return build_features(locate_files(dir), options);
}

}  // namespace tailor::io::dunnhumby
