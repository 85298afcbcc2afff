#include "search_index.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace pavilion::catalog {
namespace {

using events::svc_errc;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x80) c = static_cast<char>(std::tolower(c));
  }
  return out;
}

// Sorted a ∩ b.
std::vector<uint32_t> Intersect(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// Calls fn(gram, is_pair) with each character and each pair of adjacent characters of `text`
// (lower-cased already; characters are UTF-8, ASCII non-alphanumerics separate), repeats
// included, without allocating.
template <typename Fn>
void ForEachGram(std::string_view text, Fn fn) {
  auto width = [&](size_t i) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return std::min(n, text.size() - i);
  };
  auto separator = [&](size_t i, size_t n) {
    return n == 1 && !std::isalnum(static_cast<unsigned char>(text[i]));
  };
  for (size_t i = 0; i < text.size();) {
    size_t n = width(i);
    if (!separator(i, n)) {
      fn(text.substr(i, n), false);
      size_t j = i + n;
      if (j < text.size()) {
        size_t m = width(j);
        if (!separator(j, m)) fn(text.substr(i, n + m), true);
      }
    }
    i += n;
  }
}

// A gram's bytes as one word: ≤ 8 bytes without NUL, so distinct grams give distinct words.
uint64_t GramKey(std::string_view gram) {
  uint64_t key = 0;
  std::memcpy(&key, gram.data(), std::min(gram.size(), sizeof key));
  return key;
}

}  // namespace

template <typename P>
void SearchIndex::PutDoc(P&& p, std::vector<int64_t> prices) {
  auto [it, fresh] = doc_of_.emplace(p.id, static_cast<uint32_t>(docs_.size()));
  const uint32_t doc = it->second;
  if (fresh) {
    docs_.emplace_back();
    by_seller_[p.seller_id].push_back(doc);  // A product never changes its seller.
  }
  Doc& d = docs_[doc];
  std::string title = Lower(p.title);
  if (!fresh && title != d.title) d.retitled = true;
  if (fresh || title != d.title) {
    // Old grams keep pointing here; Query checks the title itself, so they only cost a look.
    ForEachGram(title, [&](std::string_view gram, bool) {
      auto& list = postings_[GramKey(gram)];
      if (list.empty() || list.back() < doc) {
        list.push_back(doc);
      } else if (auto at = std::lower_bound(list.begin(), list.end(), doc); *at != doc) {
        list.insert(at, doc);
      }
    });
  }
  d.id = std::forward<P>(p).id;
  d.seller_id = std::forward<P>(p).seller_id;
  d.place_code = std::forward<P>(p).place_code;
  d.brand = std::forward<P>(p).brand;
  d.category = std::forward<P>(p).category;
  d.title = std::move(title);
  d.certifications = std::forward<P>(p).certifications;
  d.poverty_zone = p.poverty_zone;
  d.prices = std::move(prices);
  d.min_price = d.prices.empty() ? 0 : *std::min_element(d.prices.begin(), d.prices.end());
  if (is_changed_.size() < docs_.size()) is_changed_.resize(docs_.size(), false);
  if (!is_changed_[doc]) {
    is_changed_[doc] = true;
    changed_.push_back(doc);
  }
}

template void SearchIndex::PutDoc<const Product&>(const Product&, std::vector<int64_t>);
template void SearchIndex::PutDoc<Product>(Product&&, std::vector<int64_t>);

std::vector<std::string> SearchIndex::ProductsOf(const std::string& seller_id) const {
  std::vector<std::string> ids;
  if (auto it = by_seller_.find(seller_id); it != by_seller_.end()) {
    ids.reserve(it->second.size());
    for (uint32_t doc : it->second) ids.push_back(docs_[doc].id);
  }
  return ids;
}

void SearchIndex::WalkByPrice(bool ascending, const std::function<bool(uint32_t)>& fn) const {
  if (changed_.size() > 4096 || changed_.size() > by_price_.size()) {  // Sort everything again.
    by_price_.clear();
    by_price_.reserve(docs_.size());
    for (uint32_t doc = 0; doc < docs_.size(); ++doc)
      by_price_.emplace_back(docs_[doc].min_price, doc);
    std::sort(by_price_.begin(), by_price_.end());
    for (uint32_t doc : changed_) is_changed_[doc] = false;
    changed_.clear();
  }
  std::vector<std::pair<int64_t, uint32_t>> fresh;
  fresh.reserve(changed_.size());
  for (uint32_t doc : changed_) fresh.emplace_back(docs_[doc].min_price, doc);
  std::sort(fresh.begin(), fresh.end());
  // Merge the two sorted lists, skipping sorted entries of changed documents.
  auto visit = [&](auto sorted_begin, auto sorted_end, auto fresh_begin, auto fresh_end,
                   auto before) {
    auto a = sorted_begin;
    auto b = fresh_begin;
    while (a != sorted_end || b != fresh_end) {
      if (a != sorted_end && is_changed_[a->second]) {
        ++a;
        continue;
      }
      const bool take_fresh = a == sorted_end || (b != fresh_end && before(*b, *a));
      const uint32_t doc = take_fresh ? (b++)->second : (a++)->second;
      if (!fn(doc)) return;
    }
  };
  if (ascending) {
    visit(by_price_.begin(), by_price_.end(), fresh.begin(), fresh.end(),
          [](const auto& x, const auto& y) { return x < y; });
  } else {
    visit(by_price_.rbegin(), by_price_.rend(), fresh.rbegin(), fresh.rend(),
          [](const auto& x, const auto& y) { return x > y; });
  }
}

bool SearchIndex::Matches(const Doc& d, const ProductQuery& q,
                          const std::vector<std::string>& words, bool words_indexed,
                          const std::string& today) const {
  if (!words_indexed || d.retitled) {
    for (const auto& w : words) {
      if (d.title.find(w) == std::string::npos) return false;
    }
  }
  if (!q.seller_id.empty() && d.seller_id != q.seller_id) return false;
  if (!q.brand.empty() && d.brand != q.brand) return false;
  if (!q.category.empty() && d.category != q.category) return false;
  if (q.poverty_zone && !d.poverty_zone) return false;
  if (d.place_code.compare(0, q.place_code.size(), q.place_code) != 0) return false;
  if (!q.certification.empty() &&
      std::none_of(d.certifications.begin(), d.certifications.end(), [&](const auto& c) {
        return c.type == q.certification && CertificationValid(c, today);
      })) {
    return false;
  }
  if (q.min_price_fen >= 0 || q.max_price_fen >= 0) {
    return std::any_of(d.prices.begin(), d.prices.end(), [&](int64_t price) {
      return (q.min_price_fen < 0 || price >= q.min_price_fen) &&
             (q.max_price_fen < 0 || price <= q.max_price_fen);
    });
  }
  return true;
}

Result<SearchIndex::Hits> SearchIndex::Query(
    const ProductQuery& q, const std::string& today,
    const std::function<bool(const std::string&)>& in_stock) const {
  const size_t limit = static_cast<size_t>(std::clamp(q.limit, 1, 100));
  if (q.sort != "newest" && q.sort != "price_asc" && q.sort != "price_desc") {
    return {svc_errc::invalid_argument, "sort: use newest, price_asc or price_desc"};
  }
  if (q.q.size() > 100) return {svc_errc::invalid_argument, "q: at most 100 bytes"};
  uint64_t cursor = UINT64_MAX;
  if (!q.cursor.empty()) {
    auto [end, ec] = std::from_chars(q.cursor.data(), q.cursor.data() + q.cursor.size(), cursor);
    if (ec != std::errc() || end != q.cursor.data() + q.cursor.size()) {
      return {svc_errc::invalid_argument, "cursor: pass back next_cursor from the last page"};
    }
  }
  // Words of the query; each must occur in the title. Their grams choose the candidates.
  std::vector<std::string> words;
  const std::string needle = Lower(q.q);
  for (size_t i = 0; i < needle.size();) {
    size_t sp = needle.find(' ', i);
    if (sp == std::string::npos) sp = needle.size();
    if (sp > i) words.push_back(needle.substr(i, sp - i));
    i = sp + 1;
  }
  std::vector<const std::vector<uint32_t>*> lists;
  bool words_indexed = true;
  for (const auto& w : words) {
    // A word's pairs choose its candidates (its characters when it has one); a word that is one
    // gram itself is proven by its postings.
    std::vector<std::string_view> singles, pairs;
    bool whole = false;
    ForEachGram(w, [&](std::string_view gram, bool pair) {
      (pair ? pairs : singles).push_back(gram);
      whole = whole || gram == w;
    });
    words_indexed = words_indexed && whole;
    for (std::string_view gram : pairs.empty() ? singles : pairs) {
      auto it = postings_.find(GramKey(gram));
      if (it == postings_.end()) return Hits{};
      lists.push_back(&it->second);
    }
  }
  std::sort(lists.begin(), lists.end());
  lists.erase(std::unique(lists.begin(), lists.end()), lists.end());
  std::sort(lists.begin(), lists.end(), [](auto* a, auto* b) { return a->size() < b->size(); });
  std::vector<uint32_t> candidates;
  const bool all = lists.empty();
  if (!all) {
    candidates = *lists[0];
    for (size_t i = 1; i < lists.size() && !candidates.empty(); ++i) {
      candidates = Intersect(candidates, *lists[i]);
    }
  }
  const size_t n = all ? docs_.size() : candidates.size();
  auto doc_at = [&](size_t i) { return all ? static_cast<uint32_t>(i) : candidates[i]; };
  auto wanted = [&](uint32_t doc) { return !q.in_stock || in_stock(docs_[doc].id); };

  Hits hits;
  if (q.sort == "newest") {  // Newest first: documents are numbered in creation order.
    for (size_t i = n; i-- > 0;) {
      uint32_t doc = doc_at(i);
      if (doc >= cursor || !Matches(docs_[doc], q, words, words_indexed, today) || !wanted(doc)) {
        continue;
      }
      if (hits.product_ids.size() == limit) {
        hits.next_cursor = std::to_string(
            doc_of_.at(hits.product_ids.back()));  // Continue below the last one shown.
        break;
      }
      hits.product_ids.push_back(docs_[doc].id);
    }
    return hits;
  }
  // By price: matches ordered by their lowest SKU price, ties by document (ascending for
  // price_asc, descending for price_desc); the cursor is an offset into that order.
  const bool asc = q.sort == "price_asc";
  const uint64_t offset = cursor == UINT64_MAX ? 0 : cursor;
  uint64_t seen = 0;
  // Takes matches in order; false once the page and one more (there is a next page) are found.
  auto take = [&](uint32_t doc) {
    if (!wanted(doc)) return true;
    if (seen++ < offset) return true;
    if (hits.product_ids.size() == limit) {
      hits.next_cursor = std::to_string(offset + limit);
      return false;
    }
    hits.product_ids.push_back(docs_[doc].id);
    return true;
  };
  if (n >= walk_threshold_) {
    // Many candidates: walk every document in price order and stop after the page, instead of
    // sorting the candidates (a page of a common word is found after a few hundred documents).
    std::vector<bool> candidate;
    if (!all) {
      candidate.assign(docs_.size(), false);
      for (uint32_t doc : candidates) candidate[doc] = true;
    }
    WalkByPrice(asc, [&](uint32_t doc) {
      if (!all && !candidate[doc]) return true;
      return !Matches(docs_[doc], q, words, words_indexed, today) || take(doc);
    });
    return hits;
  }
  std::vector<std::pair<int64_t, uint32_t>> matched;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t doc = doc_at(i);
    if (Matches(docs_[doc], q, words, words_indexed, today)) {
      matched.emplace_back(docs_[doc].min_price, doc);
    }
  }
  // Without a stock filter only the page (and one more, to know there is a next) need ordering.
  auto order = [asc](const auto& x, const auto& y) { return asc ? x < y : x > y; };
  if (!q.in_stock && offset + limit + 1 < matched.size()) {
    auto end = matched.begin() + static_cast<std::ptrdiff_t>(offset + limit + 1);
    std::partial_sort(matched.begin(), end, matched.end(), order);
    matched.erase(end, matched.end());
  } else {
    std::sort(matched.begin(), matched.end(), order);
  }
  for (const auto& m : matched) {
    if (!take(m.second)) break;
  }
  return hits;
}

}  // namespace pavilion::catalog
