#include "storage/projections/series.h"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "storage/projections/projection_state.h"
#include "storage/projections/stable_vector.h"

#include "gtest/gtest.h"

namespace nenep::projections {
namespace {

// Adds random deltas on days drawn from `day_of` and compares the series,
// row by row and in sums over random ranges, with a map after every add.
template <typename DayOf>
void CompareWithAMap(DayOf day_of, int adds, uint32_t seed) {
  std::mt19937 rng(seed);
  Series<2> series;
  std::map<Day, std::array<int32_t, 2>> model;
  for (int n = 0; n < adds; ++n) {
    const Day day = day_of(rng);
    // Deltas of both signs, never all zero (no event adds nothing), so
    // that rows also go back to zero.
    const int32_t sign = rng() % 2 == 0 ? 1 : -1;
    const std::array<int32_t, 2> delta = {
        sign, sign * static_cast<int32_t>(rng() % 2)};
    series.Add(day, delta);
    std::array<int32_t, 2>& row = model[day];
    row[0] += delta[0];
    row[1] += delta[1];
    if (row[0] == 0 && row[1] == 0) model.erase(day);

    ASSERT_EQ(series.rows().size(), model.size()) << "after add " << n;
    auto it = model.begin();
    for (const Row<2>& r : series.rows()) {
      ASSERT_EQ(r.day, it->first);
      ASSERT_EQ(r.v, it->second);
      ++it;
    }
    const Day from = day_of(rng);
    const Day to = from + static_cast<Day>(rng() % 100);
    Counts<2> want{};
    for (auto m = model.lower_bound(from); m != model.end() && m->first <= to;
         ++m) {
      want[0] += m->second[0];
      want[1] += m->second[1];
    }
    ASSERT_EQ(series.Sum(from, to), want);
  }
}

TEST(SeriesTest, DenseDaysOfAYear) {
  constexpr Day start = DayNumber(2024, 1, 1);
  CompareWithAMap(
      [](std::mt19937& rng) { return start + static_cast<Day>(rng() % 366); },
      4000, 1);
}

TEST(SeriesTest, SparseAndClusteredDays) {
  constexpr Day start = DayNumber(2020, 1, 1);
  // Mostly the first days of a few months, sometimes anywhere in 5 years.
  CompareWithAMap(
      [](std::mt19937& rng) {
        if (rng() % 8 == 0) return start + static_cast<Day>(rng() % 1826);
        return start + static_cast<Day>(rng() % 6) * 91 +
               static_cast<Day>(rng() % 3);
      },
      4000, 2);
}

TEST(SeriesTest, DaysInOrderAndBackwards) {
  Series<1> series;
  constexpr Day start = DayNumber(2023, 6, 1);
  for (Day d = 0; d < 300; ++d) series.Add(start + d, {1});
  for (Day d = 299; d >= 0; --d) series.Add(start + d, {1});
  ASSERT_EQ(series.rows().size(), 300u);
  for (const Row<1>& r : series.rows()) EXPECT_EQ(r.v[0], 2);
  // Every row back to zero: the series is empty again.
  for (Day d = 0; d < 300; d += 2) series.Add(start + d, {-2});
  for (Day d = 299; d > 0; d -= 2) series.Add(start + d, {-2});
  EXPECT_TRUE(series.empty());
}

// The projection's units, members and commitments: elements never move as
// the vector grows past many chunks, pop_back destroys exactly the last one,
// iteration visits all in order.
TEST(StableVectorTest, ElementsStayPutAndAreDestroyedOnce) {
  struct Counted {
    explicit Counted(int v, int* live) : value(v), live(live) { ++*live; }
    Counted(Counted&& o) : value(o.value), live(o.live) { ++*live; }
    ~Counted() { --*live; }
    int value;
    int* live;
    std::unique_ptr<std::string> text = std::make_unique<std::string>("x");
  };
  int live = 0;
  {
    StableVector<Counted> v;
    EXPECT_TRUE(v.empty());
    const int n = 3 * 4096 + 17;  // past three chunks
    std::vector<const Counted*> where;
    for (int i = 0; i < n; ++i) {
      where.push_back(&v.emplace_back(i, &live));
    }
    EXPECT_EQ(v.size(), static_cast<size_t>(n));
    EXPECT_EQ(live, n);
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(&v[i], where[i]) << i;
      ASSERT_EQ(v[i].value, i);
    }
    int expected = 0;
    for (const Counted& c : v) ASSERT_EQ(c.value, expected++);
    EXPECT_EQ(expected, n);
    for (int i = 0; i < 4096 + 1; ++i) v.pop_back();
    EXPECT_EQ(live, n - 4097);
    EXPECT_EQ(v.back().value, n - 4098);
    // Grows again into the chunks kept: the same places.
    v.push_back(Counted(-1, &live));
    EXPECT_EQ(&v.back(), where[n - 4097]);
    EXPECT_EQ(v.back().value, -1);
    EXPECT_EQ(live, n - 4096);
  }
  EXPECT_EQ(live, 0);
}

// The member and commitment indexes' keys: short ids inside the key, long
// ones as views of the caller's bytes, found by any string equal to them.
TEST(IdKeyTest, ShortIdsAreHeldLongOnesViewed) {
  for (size_t n : {0, 1, 22, 23, 24, 25, 100}) {
    const std::string id(n, 'x');
    const IdKey key(id);
    EXPECT_EQ(key.view(), id) << n;
    if (n <= 23) {
      EXPECT_NE(key.view().data(), id.data()) << n;
    } else {
      EXPECT_EQ(key.view().data(), id.data()) << n;
    }
  }
}

TEST(IdKeyTest, AMapFindsEveryIdByAnEqualString) {
  // Ids on both sides of the inline limit, some sharing 23-byte prefixes.
  std::vector<std::string> ids;
  for (int i = 0; i < 2000; ++i) {
    std::string id = "dv" + std::to_string(i);
    ids.push_back(id);
    ids.push_back("cm.12345678901234567890" + std::to_string(i % 10));
    ids.push_back(id.append(14 + i % 12, '.'));  // 17 to 29 bytes
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  IdMap<int32_t> map;
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_TRUE(map.emplace(IdKey(ids[i]), static_cast<int32_t>(i)).second);
  }
  ASSERT_EQ(map.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string copy = ids[i];  // other bytes, equal text
    auto it = map.find(copy);
    ASSERT_NE(it, map.end()) << copy;
    EXPECT_EQ(it->second, static_cast<int32_t>(i));
    EXPECT_EQ(it->first.view(), copy);
    EXPECT_FALSE(map.contains(copy + "x"));
    const std::string shorter = copy.substr(0, copy.size() - 1);
    EXPECT_EQ(map.contains(shorter),
              std::binary_search(ids.begin(), ids.end(), shorter));
  }
  for (size_t i = 0; i < ids.size(); i += 2) {
    EXPECT_EQ(map.erase(absl::string_view(ids[i])), 1u);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(map.contains(ids[i]), i % 2 == 1) << ids[i];
  }
}

}  // namespace
}  // namespace nenep::projections
