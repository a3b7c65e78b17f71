// File: storage/projections/series.h
//
// Sparse day series: what the rollup projections are made of. A Series<K>
// holds, per calendar day that has any, K int32 counters, sorted by day.
// Rows whose counters are all zero are removed, so two series with the same
// content have the same rows (the projection checksum relies on this).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "storage/common/days.h"

namespace nenep::projections {

template <int K>
struct Row {
  Day day;
  std::array<int32_t, K> v;
};
static_assert(sizeof(Row<3>) == 4 * sizeof(int32_t), "rows are unpadded");

template <int K>
using Counts = std::array<int64_t, K>;

template <int K>
class Series {
 public:
  // Adds `delta` to the row of `day`. Appending at the end (events in date
  // order) is the fast path.
  void Add(Day day, const std::array<int32_t, K>& delta) {
    auto it = rows_.end();
    if (!rows_.empty() && rows_.back().day >= day) {
      it = rows_.begin() + LowerBound(day);
    }
    if (it == rows_.end() || it->day != day) {
      rows_.insert(it, Row<K>{day, delta});
      return;
    }
    bool zero = true;
    for (int i = 0; i < K; ++i) {
      it->v[i] += delta[i];
      zero = zero && it->v[i] == 0;
    }
    if (zero) rows_.erase(it);
  }

  // Sums of the rows with from <= day <= to, added to *out.
  void SumInto(Day from, Day to, Counts<K>* out) const {
    auto it =
        std::lower_bound(rows_.begin(), rows_.end(), from,
                         [](const Row<K>& r, Day d) { return r.day < d; });
    for (; it != rows_.end() && it->day <= to; ++it) {
      for (int i = 0; i < K; ++i) (*out)[i] += it->v[i];
    }
  }
  Counts<K> Sum(Day from, Day to) const {
    Counts<K> out{};
    SumInto(from, to, &out);
    return out;
  }

  // Where Add(day) will start looking: the row `day` would be in if the
  // rows were spread evenly over their days (they mostly are: a unit meets
  // through the year). For prefetching; rows must not be empty.
  const Row<K>* Guess(Day day) const { return &rows_[GuessIndex(day)]; }

  bool empty() const { return rows_.empty(); }
  Day last_day() const { return rows_.empty() ? -kForever : rows_.back().day; }
  const std::vector<Row<K>>& rows() const { return rows_; }

 private:
  size_t GuessIndex(Day day) const {
    const Day first = rows_.front().day;
    const Day last = rows_.back().day;
    if (day <= first) return 0;
    if (day >= last) return rows_.size() - 1;
    return static_cast<size_t>(static_cast<int64_t>(day - first) *
                               static_cast<int64_t>(rows_.size() - 1) /
                               (last - first));
  }
  // The first row with a day >= `day`, which must be <= the last row's:
  // galloping out from the guess, then a binary search of the bracket. On
  // days spread evenly it reads a line or two of rows where a binary
  // search of the whole series reads log2(size) lines, each a cache miss
  // in a series not touched lately.
  size_t LowerBound(Day day) const {
    if (day <= rows_.front().day) return 0;
    // Now rows_[0].day < day <= rows_[n - 1].day; find lo < hi with
    // rows_[lo].day < day <= rows_[hi].day.
    const size_t n = rows_.size();
    const size_t at = GuessIndex(day);
    size_t lo, hi;
    if (rows_[at].day < day) {  // then at < n - 1
      lo = at;
      hi = at + 1;
      for (size_t step = 2; hi < n - 1 && rows_[hi].day < day; step *= 2) {
        lo = hi;
        hi = std::min(n - 1, lo + step);
      }
    } else {  // then at > 0
      hi = at;
      lo = at - 1;
      for (size_t step = 2; lo > 0 && rows_[lo].day >= day; step *= 2) {
        hi = lo;
        lo = hi > step ? hi - step : 0;
      }
    }
    return static_cast<size_t>(
        std::lower_bound(rows_.begin() + lo + 1, rows_.begin() + hi, day,
                         [](const Row<K>& r, Day d) { return r.day < d; }) -
        rows_.begin());
  }

  std::vector<Row<K>> rows_;
};

}  // namespace nenep::projections
