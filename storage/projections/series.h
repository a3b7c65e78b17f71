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
      it = std::lower_bound(rows_.begin(), rows_.end(), day,
                            [](const Row<K>& r, Day d) { return r.day < d; });
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

  bool empty() const { return rows_.empty(); }
  Day last_day() const { return rows_.empty() ? -kForever : rows_.back().day; }
  const std::vector<Row<K>>& rows() const { return rows_; }

 private:
  std::vector<Row<K>> rows_;
};

}  // namespace nenep::projections
